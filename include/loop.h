/* loop.h - the heartbeat: a timer on an absolute schedule, and signals as events. */
#ifndef TCPSTATED_LOOP_H
#define TCPSTATED_LOOP_H

#include <stdint.h>

struct loop;

enum loop_event_type {
	LOOP_TICK,     /* time to poll */
	LOOP_SIGNAL,   /* a signal arrived */
	LOOP_READABLE, /* a watched descriptor has something to read */
};

struct loop_event {
	enum loop_event_type type;
	uint64_t missed; /* LOOP_TICK: ticks that passed unserved since the last */
	uint64_t due_ns; /* LOOP_TICK: when the latest tick was due, CLOCK_MONOTONIC ns */
	int signo;       /* LOOP_SIGNAL: which */
	int fd;          /* LOOP_READABLE: which */
};

/*
 * Blocks SIGTERM, SIGINT, SIGHUP and SIGUSR1 (they become events) and starts
 * a periodic timer of INTERVAL_MS on CLOCK_MONOTONIC. Ticks fall on an
 * absolute schedule, so time spent working does not make the cadence drift;
 * a tick that finds work still running is counted as missed, never queued.
 * Returns 0 and *ret, or -errno.
 */
int loop_new(struct loop **ret, uint32_t interval_ms);

/* Restores the signal mask and closes the loop's descriptors. Accepts NULL. */
void loop_free(struct loop *l);

/* Changes the interval; the next tick is one new interval from now. */
int loop_set_interval(struct loop *l, uint32_t interval_ms);

/* Also wakes for FD readable (LOOP_READABLE); FD already watched ends its
 * hold-off. The caller keeps FD open and reads it; until it does,
 * loop_wait() reports it again, subject to the hold-off of
 * loop_set_batch(). Returns 0 or -ENOMEM. */
int loop_watch(struct loop *l, int fd);

/* No longer wakes for FD, before the caller closes it. */
void loop_unwatch(struct loop *l, int fd);

/* After reporting a watched descriptor readable, leaves it unwatched for
 * BATCH_MS (0, the default: reports it whenever it is readable), so that what
 * arrives meanwhile is read in one go; ticks and signals are served
 * throughout. A hold-off under way takes the new length at once. */
void loop_set_batch(struct loop *l, uint32_t batch_ms);

/* Waits for the next event; signals come before a pending tick, and that
 * before the watched descriptors, so that a flood on them cannot starve the
 * ticks; the watched ones take turns. Returns 0
 * and *ev, or -errno. */
int loop_wait(struct loop *l, struct loop_event *ev);

#endif
