/* reconcile.h - destroy notifications joined with the polls' socket tables. No I/O. */
#ifndef TCPSTATED_RECONCILE_H
#define TCPSTATED_RECONCILE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "diff.h"
#include "snapshot.h"

/* Seconds a generation of gone cookies lasts: a notification about a socket
 * the polls declared gone is recognised for 60 to 120 s after. */
#define RECONCILE_GONE_WINDOW 60

/* One destroy notification, waiting for the next poll. */
struct reconcile_event {
	struct timespec ts; /* CLOCK_REALTIME when it was read */
	struct sock sk;
	struct sock_info info;
};

struct reconcile_stats {
	uint64_t events;     /* notifications queued */
	uint64_t duplicates; /* about a socket the polls had already reported gone */
	uint64_t overflow;   /* refused because the queue was at its limit */
};

/*
 * Notifications queued since the last poll, and what the last poll reported
 * gone. Memory grows to the busiest poll and is reused.
 */
struct reconcile {
	struct reconcile_event *ev;
	size_t len, cap, limit;
	/* Cookies of full sockets the polls declared gone (by absence), in two
	 * generations of RECONCILE_GONE_WINDOW seconds each, each sorted after
	 * every poll: a notification that comes later is no second close. */
	uint64_t *gone; /* the previous generation */
	size_t gone_len, gone_cap;
	uint64_t *gone_next; /* the current one */
	size_t gone_next_len, gone_next_cap;
	time_t window_start;    /* when the current generation began */
	uint32_t *tw;           /* this poll's minisockets by 4-tuple: index into new + 1 */
	size_t tw_mask;         /* slots in use - 1 */
	size_t tw_cap;          /* slots allocated */
	struct timespec last;   /* when the last diffed dump completed; 0 before */
	struct timespec before; /* the one before that */
	struct reconcile_stats stats;
};

/* Receives each record: a transition (S is NULL) or a summary (T is NULL).
 * A nonzero return stops reconcile_run() and is returned. */
typedef int (*reconcile_cb)(const struct transition *t, const struct summary *s, void *user);

/* Initialises R to hold at most LIMIT queued notifications. Owns no memory yet. */
void reconcile_init(struct reconcile *r, size_t limit);

/* Frees R's memory. Accepts NULL. */
void reconcile_release(struct reconcile *r);

/* Queues a notification about SK read at TS. Returns 0, -ENOBUFS when LIMIT
 * notifications are queued already (counted in stats.overflow), -ENOMEM. */
int reconcile_add(struct reconcile *r, const struct sock *sk, const struct sock_info *info,
                  const struct timespec *ts);

/* Nonzero when a notification about the socket COOKIE is queued. */
int reconcile_queued(const struct reconcile *r, uint64_t cookie);

/* Drops every queued notification (after a resync their sockets are known
 * to the dump, or lost). */
void reconcile_discard(struct reconcile *r);

/* Tells D the cookies of the queued notifications, which reconcile_run()
 * will look up (diff_query()). Returns 0 or -ENOMEM. */
int reconcile_query(const struct reconcile *r, struct diff *d);

/*
 * Joins the queued notifications with OLD (the table before this poll) and
 * NEW (this poll's dump), which D matched (diff_match()) and has not
 * reported yet (diff_report()), in the order they came:
 * - about a tracked socket that NEW lacks: its last state -> NONE at the
 *   notification's time (a request socket or a SYN_SENT socket that had
 *   completed its handshake goes through ESTABLISHED first); the entry of OLD
 *   is marked rec.settled, so that the diff leaves it out;
 * - about a tracked socket that NEW has as a TIME_WAIT or FIN_WAIT2
 *   minisocket: its entry in NEW is marked rec.by_event, so that the diff reports
 *   the change at the notification's time;
 * - about a socket never dumped whose 4-tuple a minisocket new in NEW (or
 *   new in the last poll) holds: the same connection, which reached TIME_WAIT;
 *   it takes the minisocket's cookie as its identity, and the minisocket's
 *   appearance is timed by the notification;
 * - about a socket never dumped otherwise: NONE -> CLOSE -> NONE at the
 *   notification's time;
 * - about a socket the polls reported gone (reconcile_note_gone()) in the
 *   last minute or two: nothing (a duplicate).
 * Every notification but a duplicate also gives a summary. Empties the queue.
 * Returns 0, the callback's nonzero value, or -ENOMEM (nothing reported).
 */
int reconcile_run(struct reconcile *r, const struct diff *d, struct snapshot *old,
                  struct snapshot *new, reconcile_cb cb, void *user);

/* Notes that this poll declared the socket COOKIE gone by its absence from
 * dumps, so that its notification, if it still comes, is a duplicate.
 * Returns 0 or -ENOMEM. */
int reconcile_note_gone(struct reconcile *r, uint64_t cookie);

/* Ends a diffed poll whose dump completed at TAKEN. */
void reconcile_end(struct reconcile *r, const struct timespec *taken);

#endif
