/* snapshot.h - a socket table keyed by kernel cookie. No I/O. */
#ifndef TCPSTATED_SNAPSHOT_H
#define TCPSTATED_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "diff_mark.h"
#include "reconcile_mark.h"
#include "sock.h"
#include "transition.h"

/*
 * One tracked socket: what the last dump said of it, what is remembered
 * across dumps, and the marks of the modules that compare two tables, each
 * in a block its owner declares.
 *
 * Every poll writes one entry per socket and the diff reads two tables in
 * turn, so the entry's size is what a poll costs in memory traffic: times
 * are kept as nanoseconds (a timespec takes twice the room), the byte-sized
 * fields fill the hole after the diff's mark, and two times that are never
 * wanted at once share their place (below). SNAPSHOT_ENTRY_SIZE holds it.
 */
struct snapshot_entry {
	struct sock sk;
	struct diff_mark diff; /* diff.c's links to the other table */
	/* Set while the socket is absent from the latest dump but not yet
	 * declared gone: a dump that raced with socket churn can miss a socket,
	 * so absence counts only once it is seen twice (see diff.c). */
	uint8_t missing;
	struct reconcile_mark rec; /* what reconcile.c settled, for the diff */
	int64_t first_seen_ns;     /* when tcpstated first saw the connection (snapshot_ns()) */
	/*
	 * One place for two times, which one told by missing, as no entry
	 * needs both: missing_since_ns is written (snapshot_put_missing()) and
	 * read only on an entry carried as missing; changed_at_ns is written by
	 * reconcile.c only on an entry the latest dump returned (join_tracked()
	 * and tw_find() pass the missing by) and read by the diff only on such
	 * an entry, one the dump listed as changed.
	 */
	union {
		int64_t missing_since_ns; /* missing: when the first dump missed it */
		/* !missing, rec.by_event: when its latest change happened, where a
		 * notification told it better than the dump's time. */
		int64_t changed_at_ns;
	};
	/* What is remembered of its connection, carried from table to table
	 * like first_seen_ns and given to each of its records. */
	struct transition_conn conn;
};

/* The entry's size on an LP64 target, asserted where it is known. */
#define SNAPSHOT_ENTRY_SIZE 144

#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(struct snapshot_entry) == SNAPSHOT_ENTRY_SIZE,
               "struct snapshot_entry grew: see the comment above it");
#endif

/* TS (CLOCK_REALTIME) as the nanoseconds an entry keeps; 0 stands for unset. */
static inline int64_t snapshot_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* The timespec of NS, a time snapshot_ns() gave. */
static inline struct timespec snapshot_timespec(int64_t ns)
{
	return (struct timespec){.tv_sec = (time_t)(ns / 1000000000),
	                         .tv_nsec = (long)(ns % 1000000000)};
}

/* One slot of the index: which entry, and a tag from its cookie's hash. */
struct snapshot_slot {
	uint32_t entry; /* entry index + 1, 0 = empty */
	uint32_t tag;   /* the high half of the cookie's hash */
};

/*
 * Entries live in one array (dense, in insertion order) with an
 * open-addressing index on the cookie. Memory grows to the largest table
 * seen and is then reused: snapshot_clear() keeps it.
 */
struct snapshot {
	struct snapshot_entry *entries;
	size_t len;
	size_t cap;
	struct snapshot_slot *slots;
	size_t slot_mask;
	size_t indexed;        /* entries[0..indexed) are in the index */
	int slots_dirty;       /* the index holds stale slots (indexed is 0) */
	size_t repeats;        /* sockets the dump returned more than once */
	size_t missing;        /* entries carried in as missing (snapshot_put_missing()) */
	struct timespec taken; /* CLOCK_REALTIME when the dump completed */
};

/* Initialises an empty table. Never fails: memory comes on first insert. */
void snapshot_init(struct snapshot *s);

/* Frees the table's memory and leaves it empty and usable. Accepts NULL. */
void snapshot_release(struct snapshot *s);

/* Empties the table, keeping its memory. */
void snapshot_clear(struct snapshot *s);

/*
 * Adds SK. A cookie already in the table (a dump that resumed before a socket
 * it had already returned) replaces that entry's socket data, counts in
 * repeats, and returns 1. Returns 0 for a new entry, -ENOMEM.
 */
int snapshot_put(struct snapshot *s, const struct sock *sk);

/*
 * Adds SK at the end as missing from the latest dump since SINCE_NS
 * (snapshot_ns()), a socket carried over from the previous table, counted in
 * snapshot_present(), and unindexed like snapshot_append(). SK's cookie must
 * not be in the table. Returns 0 and *ret (valid until the next insert), or
 * -ENOMEM.
 */
int snapshot_put_missing(struct snapshot *s, const struct sock *sk, int64_t since_ns,
                         struct snapshot_entry **ret);

/* snapshot_put() as a diag_sock_cb: USER is the table. Returns 0 or -ENOMEM. */
int snapshot_put_cb(const struct sock *sk, void *user);

/*
 * Adds SK at the end without indexing it, for a dump: cheaper per socket
 * than snapshot_put(); it is indexed, and a repeat folded, by the next
 * snapshot_index() or snapshot_find(). Returns 0 or -ENOMEM.
 */
int snapshot_append(struct snapshot *s, const struct sock *sk);

/*
 * The place of the next entry's socket, the rest of the entry cleared, for a
 * caller that fills it there and then appends it by incrementing len (as
 * snapshot_append() does). NULL when out of memory.
 */
struct sock *snapshot_slot(struct snapshot *s);

/*
 * Indexes the entries appended since the last index, folding repeated
 * cookies into their first entry as snapshot_put() would (counted in
 * repeats), which moves the entries after them. Never fails: the index was
 * sized when the entries were appended. snapshot_put() and snapshot_find()
 * call it first.
 */
void snapshot_index(struct snapshot *s);

/* The entry with COOKIE, or NULL. Indexes the table first if entries were
 * appended since the last index (see snapshot_index()). */
struct snapshot_entry *snapshot_find(struct snapshot *s, uint64_t cookie);

/* Keeps the first LEN entries, after the caller moved entries about, and
 * drops the index: a lookup rebuilds it. */
void snapshot_truncate(struct snapshot *s, size_t len);

/* The hash the index uses for COOKIE. Cookies are sequential, so they are
 * mixed before masking (the splitmix64 finaliser). Inline: the diff hashes
 * every cookie of a table in some polls. */
static inline uint64_t snapshot_cookie_hash(uint64_t c)
{
	c ^= c >> 30;
	c *= 0xbf58476d1ce4e5b9ULL;
	c ^= c >> 27;
	c *= 0x94d049bb133111ebULL;
	c ^= c >> 31;
	return c;
}

/* Sockets present in the latest dump (entries minus the ones missing);
 * kept as a count, so that asking costs no pass over the table. */
size_t snapshot_present(const struct snapshot *s);

#endif
