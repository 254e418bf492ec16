/* diff.h - old table and new dump in, one callback per transition out. No I/O. */
#ifndef TCPSTATED_DIFF_H
#define TCPSTATED_DIFF_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "snapshot.h"

enum diff_how {
	DIFF_HOW_INITIAL, /* present when tcpstated started */
	DIFF_HOW_POLL,	  /* seen by comparing two dumps */
	DIFF_HOW_DESTROY, /* told, or timed, by a destroy notification */
	DIFF_HOW_MAX
};

/* "initial", "poll", "destroy". Never NULL. */
const char *diff_how_name(unsigned how);

struct transition {
	struct timespec ts;	 /* CLOCK_REALTIME */
	const struct sock *sk; /* the socket, with its first-seen 4-tuple */
	uint8_t from;		 /* enum sock_state; SOCK_NONE = appeared */
	uint8_t to;		 /* enum sock_state; SOCK_NONE = vanished */
	uint8_t how;		 /* enum diff_how */
	const struct sock_owner *owner; /* NULL: not looked up (set by the monitor) */
};

/*
 * The summary of a connection that ended: its full socket was destroyed.
 * Figures the kernel did not report are flagged off in info.has.
 */
struct summary {
	struct timespec ts;	 /* the destroy notification's receive time */
	const struct sock *sk;	 /* the connection's identity and 4-tuple */
	uint64_t lifetime_us;	 /* from first sight (or the poll before) to ts */
	struct sock_info info;	 /* final tcp_info figures */
};

/* Receives each transition; a nonzero return stops the diff and is returned. */
typedef int (*diff_cb)(const struct transition *t, void *user);

/*
 * Scratch space for diff_run(), kept between runs so that a steady state
 * allocates nothing: the sockets that appeared in this dump, hashed by 4-tuple.
 */
struct diff {
	uint32_t *appeared; /* index into NEW + 1, 0 = empty */
	size_t mask;	    /* slots - 1; 0 before the first run */
	/* 0, or how long a full socket must be missing from dumps before it is
	 * declared gone (more than one dump in any case). With destroy
	 * notifications, the notification says when a full socket is gone;
	 * a dump racing with heavy churn can miss a live socket twice. */
	uint32_t hold_full_ms;
};

/* Initialises D; it owns no memory yet. */
void diff_init(struct diff *d);

/* Frees D's memory. Accepts NULL. */
void diff_release(struct diff *d);

/*
 * Compares the table OLD with the fresh dump NEW and reports every change.
 * Sockets in NEW but not OLD appear (HOW is DIFF_HOW_INITIAL for the first
 * dump, else DIFF_HOW_POLL); a changed state is FROM -> TO. A socket keeps the
 * 4-tuple it was first seen with. Entries of OLD marked settled are left out
 * (reconcile.c reported them); a change of an entry of NEW marked by_event
 * carries its changed_at and DIFF_HOW_DESTROY. A socket missing from NEW is carried into
 * NEW as missing and reported gone only when the next dump misses it too (a
 * full socket: and it has been missing for D->hold_full_ms), or at once when
 * a new socket took its 4-tuple; its record carries the time of the last
 * dump that missed it before (the first one, unless it was held). Vanishes
 * are reported before the other changes, so record times never go backwards.
 * OLD is only marked (snapshot_entry.seen). On -ENOMEM no callback has run.
 * NEW must not be OLD. Returns 0, the callback's nonzero value, or -ENOMEM.
 */
int diff_run(struct diff *d, struct snapshot *old, struct snapshot *new,
	     enum diff_how how, diff_cb cb, void *user);

#endif
