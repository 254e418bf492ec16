/* diff.h - old table and new dump in, one callback per transition out. No I/O. */
#ifndef TCPSTATED_DIFF_H
#define TCPSTATED_DIFF_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "snapshot.h"
#include "transition.h"

/* Receives each transition; a nonzero return stops the diff and is returned. */
typedef int (*diff_cb)(const struct transition *t, void *user);

/* A growable array of entry indices, kept between runs. */
struct diff_list {
	uint32_t *v;
	size_t len;
	size_t cap;
};

/* The same for cookies. */
struct diff_list64 {
	uint64_t *v;
	size_t len;
	size_t cap;
};

/* A cookie diff_end() looks for in the older table: pend is the entry of
 * the newer table left pending with it (index + 1, 0: none), older the entry
 * of the older table that has it (index + 1, 0: none). */
struct diff_probe {
	uint64_t cookie; /* 0: an empty slot */
	uint32_t pend;
	uint32_t older;
};

/*
 * Scratch space for a diff, kept between runs so that a steady state
 * allocates nothing.
 */
struct diff {
	uint32_t run;               /* this diff's number: see diff_mark.run */
	size_t matched;             /* entries of OLD found in NEW */
	size_t next;                /* OLD's entry after the last match */
	struct diff_list appeared;  /* entries of NEW not in OLD, in dump order */
	struct diff_list changed;   /* entries of NEW whose state changed */
	struct diff_list unmatched; /* entries of OLD not in NEW */
	int unmatched_known;        /* unmatched is this run's (diff_end() found it) */
	struct diff_list pending;   /* entries of NEW not found in order */
	struct diff_list64 queries; /* cookies asked about (diff_query()) */
	struct diff_probe *probe;   /* pending and queries, by cookie */
	size_t probe_mask;          /* slots in use - 1; 0: none this run */
	size_t probe_cap;           /* slots allocated */
	uint64_t *filter;           /* a bit per cookie hash in probe (see diff.c) */
	size_t filter_mask;         /* bits in use - 1 */
	size_t filter_cap;          /* words allocated */
	int changed_unsorted;       /* a repeat folded in changed an earlier entry */
	uint32_t *hash;             /* scratch hash: index + 1, 0 = empty */
	size_t hash_mask;           /* slots in use - 1 */
	size_t hash_cap;            /* slots allocated */
	/* 0, or how long a full socket must be missing from dumps before it is
	 * declared gone (more than one dump in any case). With destroy
	 * notifications, the notification says when a full socket is gone;
	 * a dump racing with heavy churn can miss a live socket twice. */
	uint32_t hold_full_ms;
	/* A bit per port some listener of the dump has: a socket that
	 * appears on one was accepted from it (its role). */
	uint64_t listen_ports[65536 / 64];
};

/* Initialises D; it owns no memory yet. */
void diff_init(struct diff *d);

/* Frees D's memory. Accepts NULL. */
void diff_release(struct diff *d);

/*
 * Compares the table OLD with the fresh dump NEW, in two steps, so that
 * reconcile.c can join notifications with the matched tables in between.
 *
 * diff_match() finds each socket of NEW in OLD, links the two entries
 * (the entries' diff marks, diff_mark.h) and gives NEW's entries the 4-tuple
 * and first-seen time they had in OLD (a socket keeps the 4-tuple it was
 * first seen with). A socket the dump returned twice (it resumed before a
 * socket it had already returned) is folded into its first entry, the later
 * copy being the fresher, and counted in NEW's repeats. NEW must hold the
 * dump only, with its time (taken) set, and must not be OLD. OLD is only
 * read and marked (never indexed: see diff.c). Returns 0 or -ENOMEM
 * (NEW is then unusable: dump again).
 *
 * diff_report() then reports every change. Sockets in NEW but not OLD
 * appear (HOW is TRANSITION_HOW_INITIAL for the first dump, else TRANSITION_HOW_POLL); a
 * changed state is FROM -> TO. Entries of OLD marked rec.settled are left out
 * (reconcile.c reported them); a change of an entry of NEW marked rec.by_event
 * carries its changed_at_ns and TRANSITION_HOW_DESTROY. Each record carries the
 * entry's transition_conn, updated first (the time it entered its state, the
 * states seen, its owner's ids; the two ends of a connection that appear in
 * the same dump are each other's peer). A socket missing from NEW is
 * carried into NEW as missing and reported gone only when the next dump
 * misses it too (a full socket: and it has been missing for
 * D->hold_full_ms), or at once when a new socket took its 4-tuple; its
 * record carries the time of the last dump that missed it before (the first
 * one, unless it was held). Vanishes are reported before the other changes,
 * so record times never go backwards. On -ENOMEM no callback has run.
 * Returns 0, the callback's nonzero value, or -ENOMEM.
 */
int diff_match(struct diff *d, struct snapshot *old, struct snapshot *new);
int diff_report(struct diff *d, struct snapshot *old, struct snapshot *new, enum transition_how how,
                diff_cb cb, void *user);

/*
 * diff_match() as the dump arrives: diff_begin(), then diff_add() for each
 * socket (appended to NEW, which must be empty, and matched while its entry
 * is still in the cache), then, once the dump is complete and NEW's time
 * set, diff_end(). diff_add() returns 0 or -ENOMEM, diff_end() as
 * diff_match().
 */
void diff_begin(struct diff *d, struct snapshot *old);
int diff_add(struct diff *d, struct snapshot *old, struct snapshot *new, const struct sock *sk);
int diff_end(struct diff *d, struct snapshot *old, struct snapshot *new);

/*
 * Between diff_begin() and diff_end(): COOKIE will be looked up in the older
 * table (diff_lookup()), so that diff_end() finds it in the pass it makes
 * anyway rather than in an index of the older table built for it. Returns 0
 * or -ENOMEM.
 */
int diff_query(struct diff *d, uint64_t cookie);

/* After diff_end(): the entry of OLD with COOKIE, or NULL. Cheap for a
 * cookie given to diff_query(); any other indexes OLD (snapshot_find()). */
struct snapshot_entry *diff_lookup(const struct diff *d, struct snapshot *old, uint64_t cookie);

/*
 * diff_add() in two steps, for a dump that parses into the table:
 * diff_slot() gives the place of NEW's next entry's socket (NULL: out of
 * memory), diff_keep() appends and matches what was written there.
 */
struct sock *diff_slot(struct diff *d, struct snapshot *new);
void diff_keep(struct diff *d, struct snapshot *old, struct snapshot *new);

/* After diff_match(): the entry of NEW that is the same socket as the entry
 * O of OLD, or NULL when the dump did not return it. */
struct snapshot_entry *diff_newer(const struct diff *d, struct snapshot *new,
                                  const struct snapshot_entry *o);

/* Tells whether the kernel still has the socket SK: 1 yes, 0 no, -errno. */
typedef int (*diff_present_fn)(void *user, const struct sock *sk);

/*
 * After diff_match(), before diff_report(): asks PRESENT (with USER) about at
 * most MAX entries of OLD that the dump missed and that were in OLD's own
 * dump, full sockets held by a process (an inode): the ones a RST (or a
 * timeout) closes while their application holds them. One the kernel no
 * longer has is marked closed: diff_report() reports its move to CLOSE at
 * once, and carries it in CLOSE until its destroy notification (or a dump
 * without the hold) settles it. Any other answer leaves it to the hold.
 * Returns the number asked about.
 */
size_t diff_check_missing(struct diff *d, struct snapshot *old, diff_present_fn present, void *user,
                          size_t max);

/* After diff_match(): which end a socket SK that no record has placed yet
 * is, from its state and this dump's listeners (enum transition_role). */
unsigned diff_role(const struct diff *d, const struct sock *sk);

/* After diff_match(): the entry of OLD that is the same socket as the entry
 * E of NEW, or NULL when it appeared in this dump. */
struct snapshot_entry *diff_older(struct snapshot *old, const struct snapshot_entry *e);

#endif
