/* transition.h - what a record tells: one socket's change of state, or a connection's summary. */
#ifndef TCPSTATED_TRANSITION_H
#define TCPSTATED_TRANSITION_H

#include <stdint.h>
#include <time.h>

#include "sock.h"

/* How tcpstated learnt of a transition. */
enum transition_how {
	TRANSITION_HOW_INITIAL, /* present when tcpstated started */
	TRANSITION_HOW_POLL,    /* seen by comparing two dumps */
	TRANSITION_HOW_DESTROY, /* told, or timed, by a destroy notification */
	TRANSITION_HOW_MAX
};

/* "initial", "poll", "destroy"; "unknown" out of range. Never NULL. */
const char *transition_how_name(unsigned how);

struct transition {
	struct timespec ts;             /* CLOCK_REALTIME */
	const struct sock *sk;          /* the socket, with its first-seen 4-tuple */
	uint8_t from;                   /* enum sock_state; SOCK_NONE = appeared */
	uint8_t to;                     /* enum sock_state; SOCK_NONE = vanished */
	uint8_t how;                    /* enum transition_how */
	const struct sock_owner *owner; /* NULL: not looked up (set by the monitor) */
};

/*
 * The summary of a connection that ended: its full socket was destroyed.
 * Figures the kernel did not report are flagged off in info.has.
 */
struct summary {
	struct timespec ts;    /* the destroy notification's receive time */
	const struct sock *sk; /* the connection's identity and 4-tuple */
	uint64_t lifetime_us;  /* from first sight (or the poll before) to ts */
	struct sock_info info; /* final tcp_info figures */
};

#endif
