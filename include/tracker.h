/* tracker.h - one poll's middle: a dump matched with the last, joined with notifications,
 * transitions out. No I/O. */
#ifndef TCPSTATED_TRACKER_H
#define TCPSTATED_TRACKER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sock.h"
#include "transition.h"

struct tracker;
struct diag_sink;
struct snapshot;

/* How long a full socket may be missing from dumps, with notifications on,
 * before its absence alone makes it gone (the daemon's hold). */
#define TRACKER_HOLD_FULL_MS 1000

struct tracker_stats {
	size_t sockets;      /* sockets in the latest dump */
	uint64_t duplicates; /* notifications about sockets a poll had reported gone */
};

/*
 * Fills SINK with one complete dump, socket by socket (diag_dump_into() for
 * the daemon), and sets *RET_TAKEN to the CLOCK_REALTIME time it completed.
 * Returns 0, or -errno: the dump is then not compared.
 */
typedef int (*tracker_dump_fn)(void *user, const struct diag_sink *sink,
                               struct timespec *ret_taken);

/* Receives each record of a poll: a transition (S is NULL) or a summary (T
 * is NULL), valid during the call only. A nonzero return stops the poll and
 * is returned. */
typedef int (*tracker_cb)(const struct transition *t, const struct summary *s, void *user);

/* Creates a tracker that queues at most EVENTS_MAX destroy notifications
 * between two polls. Returns 0 and *ret, or -ENOMEM. */
int tracker_new(struct tracker **ret, size_t events_max);

/* Frees T. Accepts NULL. */
void tracker_free(struct tracker *t);

/*
 * Destroy notifications come (tracker_add_event()): a full socket missing
 * from dumps is declared gone by its absence only after HOLD_FULL_MS
 * (TRACKER_HOLD_FULL_MS for the daemon), its notification normally settling
 * it first. 0: polling alone, absence counts after two dumps.
 */
void tracker_set_hold(struct tracker *t, uint32_t hold_full_ms);

/* Most sockets one poll asks the kernel about (tracker_set_probe()): a
 * bound on the work when a dump misses many at once. */
#define TRACKER_PROBES_MAX 64

/* Tells whether the kernel still has the socket SK: 1 yes, 0 no, -errno
 * (diag_probe() for the daemon). */
typedef int (*tracker_probe_fn)(void *user, const struct sock *sk);

/*
 * While notifications come (the hold is on), a full socket held by a process
 * that a dump misses is asked about through PROBE (with USER) at once: one
 * the kernel no longer has was closed under its application (a RST, a
 * timeout), and is reported going to CLOSE in that poll rather than after
 * the hold; its notification, when the application lets go, ends it. PROBE
 * should first read the notifications that came since the poll began
 * (tracker_add_event()): a socket freed while the dump ran is gone, not
 * closed, and its notification then tells so. NULL: the hold alone.
 */
void tracker_set_probe(struct tracker *t, tracker_probe_fn probe, void *user);

/* Queues a destroy notification about SK, with its final INFO, read at TS,
 * for the next poll. Returns 0, -ENOBUFS when the queue is full, -ENOMEM. */
int tracker_add_event(struct tracker *t, const struct sock *sk, const struct sock_info *info,
                      const struct timespec *ts);

/* Notifications were lost: the next two polls (the resync dump and the one
 * that confirms it) count absence without the hold, so that the sockets
 * they were about are settled by the dumps. */
void tracker_resync(struct tracker *t);

/*
 * One poll: DUMP (called with DUMP_USER) fills the next table; it is matched
 * with the last, the queued notifications are joined with both
 * (reconcile.c), and every record goes to CB (with USER), in the order
 * produced: the notifications' records, then the sockets gone, then the
 * other changes (diff.c). The first poll's sockets appear as "initial",
 * later ones as "poll". A socket declared gone by its absence is noted, so
 * that its late notification is no second close. Then the tables swap.
 * Returns 0; the dump's -errno or -ENOMEM, when nothing was reported and
 * the next poll compares against the same table; or CB's nonzero value.
 */
int tracker_poll(struct tracker *t, tracker_dump_fn dump, void *dump_user, tracker_cb cb,
                 void *user);

/*
 * Ends every socket the tracker knows, because their network namespace
 * vanished: each one's record goes to CB (with USER) as a move to NONE at TS,
 * how TRANSITION_HOW_NETNS; no summary (the kernel gave no final figures).
 * The tracker is then empty, as if new. Returns 0 or CB's nonzero value.
 */
int tracker_end(struct tracker *t, const struct timespec *ts, tracker_cb cb, void *user);

/* The table of the last completed poll: every socket known, present or
 * missing. Valid until the next poll. */
struct snapshot *tracker_table(struct tracker *t);

/* Counters since tracker_new(); sockets is the latest poll's. */
const struct tracker_stats *tracker_stats(const struct tracker *t);

#endif
