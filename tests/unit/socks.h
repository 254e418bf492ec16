/* socks.h - sockets, and dumps of them, for the unit tests of the diff and the tracker. */
#ifndef TCPSTATED_TEST_SOCKS_H
#define TCPSTATED_TEST_SOCKS_H

#include <errno.h>
#include <string.h>
#include <time.h>

#include <sys/socket.h>

#include "diag.h"
#include "sock.h"

/* A socket 127.0.0.1:LPORT -> 127.0.0.1:RPORT (RPORT 0: no peer, 0.0.0.0). */
static inline struct sock test_sock(uint64_t cookie, unsigned state, unsigned kind, uint16_t lport,
                                    uint16_t rport)
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

/* A dump for the tracker: the N sockets of SOCKS, at the second after *NOW,
 * which it advances. */
struct test_dump {
	const struct sock *socks;
	size_t n;
	time_t *now;
};

/* A tracker_dump_fn over a struct test_dump, which fills SINK as
 * diag_dump_into() does: each socket into the slot the sink gives, then
 * kept. Returns 0, -ENOMEM, or the sink's nonzero value. */
static inline int test_dump_fill(void *user, const struct diag_sink *sink,
                                 struct timespec *ret_taken)
{
	struct test_dump *d = user;

	for (size_t i = 0; i < d->n; i++) {
		struct sock *slot = sink->slot(sink->user);
		int err;

		if (!slot)
			return -ENOMEM;
		*slot = d->socks[i];
		err = sink->keep(sink->user);
		if (err)
			return err;
	}
	++*d->now;
	*ret_taken = (struct timespec){.tv_sec = *d->now};
	return 0;
}

#endif
