/* socks.h - sockets for the unit tests of the diff and the reconciliation. */
#ifndef TCPSTATED_TEST_SOCKS_H
#define TCPSTATED_TEST_SOCKS_H

#include <string.h>

#include <sys/socket.h>

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

#endif
