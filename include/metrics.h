/* metrics.h - what the Prometheus metrics count: counters, histograms, socket gauges. No I/O. */
#ifndef TCPSTATED_METRICS_H
#define TCPSTATED_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "sock.h"
#include "transition.h"

struct snapshot;

/* A duration that was not measured: metrics_note_transition() skips it. */
#define METRICS_DURATION_UNKNOWN UINT64_MAX

/* Most finite buckets a histogram has (+Inf comes on top). */
#define METRICS_BUCKETS_MAX 16

/*
 * A Prometheus histogram: BOUNDS (N ascending upper bounds in µs, static)
 * and +Inf. COUNTS are per bucket, not cumulative; the renderer adds up.
 */
struct metrics_hist {
	const uint64_t *bounds;
	size_t n;
	uint64_t counts[METRICS_BUCKETS_MAX + 1];
	uint64_t sum_us;
	uint64_t count;
};

/* Counts one value of USEC µs in H. */
void metrics_hist_add(struct metrics_hist *h, uint64_t usec);

/* A systemd unit's name, at most, with its NUL (longer ones count as "other"). */
#define METRICS_UNIT_MAX 256

/* The per-unit series: the first CAP units seen get their own label, the rest share "other". */
struct metrics_unit {
	char name[METRICS_UNIT_MAX];
	uint64_t closed[TRANSITION_OUTCOME_MAX];
	uint32_t sockets[SOCK_STATE_MAX]; /* at the last metrics_count_sockets() */
};

/* One watched network namespace's series ([poll] netns = all), copied in
 * before rendering. */
struct metrics_netns {
	char name[METRICS_UNIT_MAX];
	uint64_t ino;
	uint64_t sockets; /* in its latest dump */
	uint64_t polls;   /* since it is watched */
};

/* What the daemon knows about its own health, copied in before rendering. */
struct metrics_health {
	uint64_t polls;            /* dumps diffed */
	uint64_t polls_skipped;    /* ticks that passed without a poll */
	uint64_t dumps_failed;     /* dumps that failed and were not diffed */
	uint64_t events;           /* destroy notifications read */
	uint64_t events_lost;      /* notifications lost (kernel drops, full queue) */
	uint64_t records_written;  /* records that reached the log file */
	uint64_t records_lost;     /* records lost to write errors */
	uint64_t journal_not_sent; /* records not sent to the journal: over budget or refused */
};

/* Family index of the socket gauges: 0 ipv4, 1 ipv6. */
#define METRICS_FAMILIES 2

struct metrics {
	uint64_t transitions[SOCK_STATE_MAX][SOCK_STATE_MAX]; /* [from][to] */
	uint64_t closed[TRANSITION_OUTCOME_MAX];
	uint32_t sockets[METRICS_FAMILIES][SOCK_STATE_MAX]; /* at the last count */
	struct metrics_hist handshake;                      /* SYN_SENT -> ESTABLISHED */
	struct metrics_hist state[SOCK_STATE_MAX];          /* time in a state, on leaving it */
	struct metrics_hist connection;                     /* a connection's lifetime */
	struct metrics_hist poll;                           /* how long a poll took */
	struct metrics_health health;
	uint64_t log_write_errors;  /* polls whose log write failed */
	struct metrics_unit *units; /* [units_cap + 1]: the last is "other" */
	size_t units_cap;           /* units with a label of their own; 0: no per-unit series */
	size_t units_len;           /* of those, taken so far */
	/* The namespaces watched, when the daemon watches many: their series. */
	int netns_on;
	struct metrics_netns *netns;
	size_t netns_len, netns_cap;
	uint64_t netns_interval_us; /* how often each is polled now */
};

/* Creates empty metrics with per-unit series for at most UNITS_CAP units (0: none).
 * Returns 0 and *ret, or -ENOMEM. */
int metrics_new(struct metrics **ret, size_t units_cap);

/* Frees M. Accepts NULL. */
void metrics_free(struct metrics *m);

/*
 * Counts T, a record written (not the first poll's "initial" ones, which
 * are no transitions): its {from,to} counter, and, when IN_STATE_US
 * (how long the socket was in T->from) is not METRICS_DURATION_UNKNOWN, the
 * state's duration and, for SYN_SENT -> ESTABLISHED, the handshake's.
 */
void metrics_note_transition(struct metrics *m, const struct transition *t, uint64_t in_state_us);

/* Counts S, a connection's summary: its lifetime. */
void metrics_note_summary(struct metrics *m, const struct summary *s);

/* Counts a connection closed with OUTCOME (enum transition_outcome), owned by
 * UNIT (NULL: unknown, counted only in the total). */
void metrics_note_close(struct metrics *m, unsigned outcome, const char *unit);

/* Makes room for the series of N namespaces (metrics_netns), turns them
 * on, and returns them to be filled in, or NULL when out of memory. */
struct metrics_netns *metrics_set_netns(struct metrics *m, size_t n);

/* Counts a poll that took USEC µs. */
void metrics_note_poll(struct metrics *m, uint64_t usec);

/*
 * The systemd unit owning SK into BUF (of LEN bytes); returns BUF, or NULL
 * when unknown. For metrics_count_sockets().
 */
typedef const char *(*metrics_unit_fn)(const struct sock *sk, char *buf, size_t len, void *user);

/* Zeroes the socket gauges, before metrics_count_sockets() adds each table. */
void metrics_clear_sockets(struct metrics *m);

/*
 * Adds to the socket gauges from TABLE: every socket present in its latest
 * dump, by state and family, and, with per-unit series and UNIT_OF (may be
 * NULL), by unit. One pass over the table.
 */
void metrics_count_sockets(struct metrics *m, struct snapshot *table, metrics_unit_fn unit_of,
                           void *user);

/* The series of UNIT: its own, "other" once the cap is reached, NULL
 * without per-unit series or for a NULL UNIT. */
struct metrics_unit *metrics_unit(struct metrics *m, const char *unit);

#endif
