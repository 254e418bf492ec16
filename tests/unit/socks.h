/* socks.h - sockets, and dumps of them, for the unit tests of the diff and the tracker. */
#ifndef TCPSTATED_TEST_SOCKS_H
#define TCPSTATED_TEST_SOCKS_H

#include <errno.h>
#include <string.h>

#include <sys/socket.h>

#include "diag.h"
#include "sock.h"

/* A socket 127.0.0.1:LPORT -> 127.0.0.1:RPORT (RPORT 0: no peer, 0.0.0.0). */
static inline struct sock test_sock(uint64_t cookie, unsigned state, unsigned kind,
				    uint16_t lport, uint16_t rport)
{
	struct sock sk = {.cookie = cookie, .state = (uint8_t)state, .kind = (uint8_t)kind};
	const uint8_t lo[4] = {127, 0, 0, 1};

	sk.tuple.family = AF_INET;
	sk.tuple.lport = lport;
	sk.tuple.rport = rport;
	memcpy(sk.tuple.laddr, lo, 4);
	if (rport)
		memcpy(sk.tuple.raddr, lo, 4);
	return sk;
}

/* A dump of the N sockets of SOCKS into SINK, as diag_dump_into() parses one:
 * each into the slot the sink gives, then kept. Returns 0, -ENOMEM, or the
 * sink's nonzero value. */
static inline int test_fill_sink(const struct diag_sink *sink, const struct sock *socks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct sock *slot = sink->slot(sink->user);
		int err;

		if (!slot)
			return -ENOMEM;
		*slot = socks[i];
		err = sink->keep(sink->user);
		if (err)
			return err;
	}
	return 0;
}

#endif
