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
	TRANSITION_HOW_NETNS,   /* its network namespace vanished (netns = all) */
	TRANSITION_HOW_MAX
};

/* "initial", "poll", "destroy", "netns"; "unknown" out of range. Never NULL. */
const char *transition_how_name(unsigned how);

/* Which end of its connection a socket is. */
enum transition_role {
	TRANSITION_ROLE_UNKNOWN, /* a listener, or nothing tells */
	TRANSITION_ROLE_CLIENT, /* it connected out (SYN_SENT, or no local listener has its port) */
	TRANSITION_ROLE_SERVER, /* accepted from a listener (SYN_RECV, or a listener has its port)
	                         */
	TRANSITION_ROLE_MAX
};

/* How a connection ended (docs/record-format.md has the rules). */
enum transition_outcome {
	TRANSITION_OUTCOME_UNKNOWN,
	TRANSITION_OUTCOME_FIN,     /* an orderly close */
	TRANSITION_OUTCOME_RESET,   /* a RST, sent or received */
	TRANSITION_OUTCOME_REFUSED, /* a connect answered by a RST */
	TRANSITION_OUTCOME_TIMEOUT, /* retransmissions exhausted */
	TRANSITION_OUTCOME_MAX
};

/* Which end did something first: sent the first FIN, or the RST. */
enum transition_side {
	TRANSITION_SIDE_UNKNOWN,
	TRANSITION_SIDE_LOCAL,
	TRANSITION_SIDE_REMOTE,
	TRANSITION_SIDE_MAX
};

/* "client", "server"; NULL for unknown. */
const char *transition_role_name(unsigned role);

/* "fin", "reset", "refused", "timeout", "unknown". Never NULL. */
const char *transition_outcome_name(unsigned outcome);

/* "local", "remote"; NULL for unknown. */
const char *transition_side_name(unsigned side);

/*
 * What is remembered of a connection from record to record: kept with its
 * socket's entry in the tracker's tables, carried from poll to poll, and
 * given to every record of the connection. Ids only (no names), so that
 * carrying it costs a copy of these bytes.
 */
struct transition_conn {
	int64_t since_us; /* CLOCK_REALTIME µs of the record that entered its state; 0: unknown */
	uint64_t peer;    /* the cookie of its other end, a socket of the same namespace; 0: none */
	uint64_t cgroup_id; /* its owner's cgroup v2 id; 0: unknown */
	uint32_t uid;       /* its owner's uid, when has_uid */
	uint32_t inode;     /* its inode, learnt while a process held it; 0: unknown */
	uint16_t path;      /* bit (1 << state) for each state it was seen in */
	uint8_t role;       /* enum transition_role */
	uint8_t has_uid;
	uint8_t state;   /* the state the last record gave it */
	uint16_t syn_ms; /* milliseconds it spent in SYN_SENT, at most 65535 */
};

/* Learns what the dump tells of SK's owner (a full socket's uid, inode and
 * cgroup), where C does not know it yet: what was learnt once stays. */
void transition_conn_learn(struct transition_conn *c, const struct sock *sk);

/* C enters STATE at TS (the record's time). Returns the microseconds it spent
 * in its previous state, or -1 when the time it entered that one is unknown. */
int64_t transition_conn_enter(struct transition_conn *c, unsigned state, const struct timespec *ts);

/*
 * How a connection ended, from what C says of its path, LAST (the last state
 * a record gave it) and the time spent in it (IN_LAST_US, -1: unknown), whether its destroy
 * notification shows the kernel's tcp_disconnect() (DISCONNECTED: an abortive close or a failed
 * connect cleared its remote port), whether it was seen closed while its application held it
 * (HELD_CLOSED) and its final INFO. Sets *RET_OUTCOME and *RET_CLOSER (enum transition_side).
 */
void transition_outcome(const struct transition_conn *c, unsigned last, int64_t in_last_us,
                        int disconnected, int held_closed, const struct sock_info *info,
                        uint8_t *ret_outcome, uint8_t *ret_closer);

/* The network namespace a record happened in, when the daemon says it ([poll] netns set). */
struct transition_netns {
	uint64_t ino; /* the namespace's inode, as `ls -L -i /proc/PID/ns/net` shows it */
	const char
	    *name; /* readable: the `ip netns` name, a container's unit, "host"; never NULL */
};

struct transition {
	struct timespec ts;                   /* CLOCK_REALTIME */
	const struct sock *sk;                /* the socket, with its first-seen 4-tuple */
	uint8_t from;                         /* enum sock_state; SOCK_NONE = appeared */
	uint8_t to;                           /* enum sock_state; SOCK_NONE = vanished */
	uint8_t how;                          /* enum transition_how */
	uint8_t has_in_state;                 /* in_state_us is known (never when FROM is NONE) */
	uint64_t in_state_us;                 /* microseconds spent in FROM */
	const struct transition_conn *conn;   /* NULL: nothing remembered */
	const struct sock_owner *owner;       /* NULL: not looked up (set by the monitor) */
	const struct transition_netns *netns; /* NULL: not said (set by the monitor) */
};

/*
 * The summary of a connection that ended: its full socket was destroyed.
 * Figures the kernel did not report are flagged off in info.has.
 */
/*
 * What a record says of its connection beyond the move: the owner's ids as
 * the dump gives them, or as they were learnt from an earlier dump of the
 * connection (a minisocket, an orphan and a notification have none of
 * their own), the time in the previous state, which end it is, its peer.
 * The log's records and the journal's entries both say it from here.
 */
struct transition_about {
	int has_in_state;
	uint64_t in_state_us;
	const char *role; /* NULL: none */
	uint64_t peer;    /* 0: none */
	int has_uid;
	uint32_t uid;
	uint32_t inode; /* 0: none */
};

/* What SK's record says (above), from C (NULL: nothing remembered) and, for a
 * transition, T (NULL for a summary). */
struct transition_about transition_about_of(const struct sock *sk, const struct transition_conn *c,
                                            const struct transition *t);

struct summary {
	struct timespec ts;    /* the destroy notification's receive time */
	const struct sock *sk; /* the connection's identity and 4-tuple */
	uint64_t lifetime_us;  /* from first sight (or the poll before) to ts */
	struct sock_info info; /* final tcp_info figures; has 0 when they were not measured */
	uint8_t outcome;       /* enum transition_outcome */
	uint8_t closer;        /* enum transition_side */
	const struct transition_conn *conn;   /* NULL: nothing remembered */
	const struct sock_owner *owner;       /* NULL: not looked up (set by the monitor) */
	const struct transition_netns *netns; /* NULL: not said (set by the monitor) */
};

#endif
