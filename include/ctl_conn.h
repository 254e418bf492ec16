/* ctl_conn.h - records in, connections out: a cookie's records assembled into one story. No I/O. */
#ifndef TCPSTATED_CTL_CONN_H
#define TCPSTATED_CTL_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "ctl_record.h"
#include "sock.h"

/* The most states a connection keeps: TCP's longest path is 8 records long;
 * more can come only from a log that is not the daemon's, and the rest of
 * them are merged into the last step. */
#define CONN_STEPS_MAX 12

/* One state of a connection, from the record that entered it. */
struct conn_step {
	int64_t ts_us;       /* when it entered STATE (the record's time) */
	int64_t in_state_us; /* time in STATE as a record gave it, or -1: compute it */
	uint8_t state;       /* enum sock_state; SOCK_NONE: the connection is gone */
	uint8_t how;         /* enum ctl_how */
};

/* How a connection ended, read from its states (or from the record's "outcome"). */
enum conn_outcome {
	CONN_OPEN,               /* still open at the end of the input */
	CONN_LOCAL_CLOSE,        /* this end closed first (FIN_WAIT1/2, TIME_WAIT) */
	CONN_REMOTE_CLOSE,       /* the peer closed first (CLOSE_WAIT, LAST_ACK) */
	CONN_SIMULTANEOUS_CLOSE, /* both at once (CLOSING) */
	CONN_CLOSED,  /* gone from ESTABLISHED: a reset, or a passive close between polls */
	CONN_RESET,   /* both local ends went from ESTABLISHED to gone */
	CONN_REFUSED, /* a connect that failed within a second, or never got a byte */
	CONN_TIMEOUT, /* a connect that stayed in SYN_SENT a second or more */
	CONN_HANDSHAKE_FAILED, /* a request socket (SYN_RECV) that never completed */
	CONN_SHORT,            /* opened and closed between two polls (NONE -> CLOSE -> NONE) */
	CONN_LISTENER,         /* a listening socket */
	CONN_UNKNOWN,          /* none of these: the input began after its start */
	CONN_NETNS_GONE,       /* its network namespace vanished while it was open */
	CONN_OUTCOME_MAX
};

/* --outcome fin: any orderly close (the daemon's word for what tcpstatectl
 * splits by who closed first). */
#define CONN_OUTCOME_FIN (-2)

enum conn_role { CONN_ROLE_UNKNOWN, CONN_ROLE_CLIENT, CONN_ROLE_SERVER, CONN_ROLE_MAX };

#define CONN_ENDED       0x01u /* its last record went to NONE */
#define CONN_PARTIAL     0x02u /* its first record did not come from NONE */
#define CONN_SUMMARY     0x04u /* a summary gave the figures below */
#define CONN_HAS_UID     0x08u /* uid is known */
#define CONN_HAS_INODE   0x10u /* inode is known */
#define CONN_HAS_BYTES   0x20u /* bytes_sent and bytes_received */
#define CONN_HAS_RETRANS 0x40u
#define CONN_HAS_RTT     0x80u
#define CONN_DONE        0x100u /* ended, summary or not; held only for its peer */
#define CONN_WAITING     0x200u /* on the queue of ended connections a summary may follow */

struct conn {
	uint64_t cookie;
	struct sock_tuple tuple;
	const char *host; /* journal host; "" from files */
	struct conn_step steps[CONN_STEPS_MAX];
	uint8_t nsteps;
	uint8_t outcome; /* enum conn_outcome, set when the connection is emitted */
	uint8_t role;    /* enum conn_role */
	uint16_t flags;  /* CONN_* */
	uint32_t uid, inode, pid;
	char *unit, *comm;  /* NULL: unknown */
	uint64_t netns_ino; /* its network namespace's inode, from its first record; 0: not said */
	char *netns;        /* that namespace's readable name; NULL: not said */
	uint64_t lifetime_us, bytes_sent, bytes_received;
	uint32_t retrans, rtt_us;
	char given_outcome[CTL_WORD_MAX]; /* a record's own "outcome", if any */
	char given_closer[CTL_WORD_MAX];  /* and its "closer" */
	struct conn *peer;                /* the other end, when both are local */
	/* The table's links. */
	uint64_t seq;
	struct conn *tuple_next;
	struct conn *wait_prev, *wait_next;
	uint32_t host_id;
};

/* Called after each transition is added to C (for a live view). */
typedef void (*conn_step_cb)(const struct conn *c, void *user);
/* Called once per finished connection, or pair of ends (C->peer, which is
 * then finished too); both are freed when it returns. */
typedef void (*conn_done_cb)(const struct conn *c, void *user);

struct conn_table;

/* An empty table that calls STEP (may be NULL) and DONE. Returns NULL on ENOMEM. */
struct conn_table *conn_table_new(conn_step_cb step, conn_done_cb done, void *user);

/* Frees T and the connections still in it, without calling DONE. NULL is fine. */
void conn_table_free(struct conn_table *t);

/* Adds record R (a transition or a summary; others are ignored). Connections
 * it ends may be emitted at once. Returns 0 or -ENOMEM. */
int conn_table_add(struct conn_table *t, const struct ctl_record *r);

/* Emits the ended connections whose summary can no longer come by NOW_US
 * (record time): for a live view when no record comes. */
void conn_table_expire(struct conn_table *t, int64_t now_us);

/* Emits every connection still in T, oldest first: those not ended as
 * CONN_OPEN. For the end of the input. */
void conn_table_flush(struct conn_table *t);

/* Connections in T now (open, or ended and held). */
size_t conn_table_size(const struct conn_table *t);

/* The last record time T has seen, or INT64_MIN. */
int64_t conn_table_now(const struct conn_table *t);

/* "local-close", "refused", ... Never NULL. */
const char *conn_outcome_name(unsigned outcome);

/* The outcome called NAME, or -EINVAL. */
int conn_outcome_from_name(const char *name);

/* Whether OUTCOME is an orderly close (--outcome fin): local-, remote- or
 * simultaneous-close. */
int conn_outcome_is_fin(unsigned outcome);

/* "client", "server", "-". Never NULL. */
const char *conn_role_name(unsigned role);

/* Microseconds C spent in step I, up to NOW_US for its last state if it is
 * still open (-1 when NOW_US is unknown, INT64_MIN). */
int64_t conn_step_us(const struct conn *c, unsigned i, int64_t now_us);

/* The handshake's duration (SYN_SENT or SYN_RECV to ESTABLISHED), or -1. */
int64_t conn_handshake_us(const struct conn *c);

/* The connection's lifetime up to its close, like tcplife's: the summary's,
 * else from its first record to TIME_WAIT or its last record (NOW_US if open). */
int64_t conn_lifetime_us(const struct conn *c, int64_t now_us);

/* Nonzero when C passed through STATE. */
int conn_passed(const struct conn *c, unsigned state);

/* When C began (its first record's time) and ended (its last, or NOW_US). */
int64_t conn_start_us(const struct conn *c);
int64_t conn_end_us(const struct conn *c, int64_t now_us);

#endif
