/*
 * diff.c - old table and new dump in, one callback per transition out.
 *
 * A dump that races with socket churn is not a consistent picture: the
 * kernel resumes it by position in a hash chain, so a socket can be returned
 * twice (snapshot.c keeps one copy) or not at all. A socket missing from one
 * dump is therefore not yet gone: it is carried into the new table as
 * "missing", and declared gone when the next dump misses it too. The record
 * then carries the time of the first dump that missed it, which is when it
 * was first seen gone. The one exception is a 4-tuple taken over by a new
 * socket in the same dump: two sockets cannot hold the same 4-tuple, so the
 * old one is gone for certain, and saying so at once keeps its close before
 * the new connection's open in the log.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"

#define DIFF_MIN_SLOTS 64

static const char *const how_names[DIFF_HOW_MAX] = {
	[DIFF_HOW_INITIAL] = "initial",
	[DIFF_HOW_POLL] = "poll",
	[DIFF_HOW_DESTROY] = "destroy",
};

const char *diff_how_name(unsigned how)
{
	return how < DIFF_HOW_MAX ? how_names[how] : "unknown";
}

void diff_init(struct diff *d)
{
	memset(d, 0, sizeof(*d));
}

void diff_release(struct diff *d)
{
	if (!d)
		return;
	free(d->appeared);
	diff_init(d);
}

/*
 * Only connected sockets own their 4-tuple. Listeners can share one
 * (SO_REUSEPORT) and a socket without a peer has no 4-tuple to lose.
 */
static int owns_tuple(const struct sock *sk)
{
	return sk->state != SOCK_LISTEN && sk->tuple.rport != 0;
}

/* Sizes and empties the index of appeared sockets for COUNT entries. */
static int appeared_reset(struct diff *d, size_t count)
{
	size_t slots = DIFF_MIN_SLOTS;

	while (slots < count * 2)
		slots *= 2;
	if (slots > d->mask + 1 || !d->appeared) {
		uint32_t *a = calloc(slots, sizeof(*a));

		if (!a)
			return -ENOMEM;
		free(d->appeared);
		d->appeared = a;
		d->mask = slots - 1;
	} else {
		memset(d->appeared, 0, (d->mask + 1) * sizeof(*d->appeared));
	}
	return 0;
}

static void appeared_add(struct diff *d, const struct snapshot *new, size_t idx)
{
	size_t i = sock_tuple_hash(&new->entries[idx].sk.tuple) & d->mask;

	while (d->appeared[i])
		i = (i + 1) & d->mask;
	d->appeared[i] = (uint32_t)(idx + 1);
}

/* Nonzero when a socket that appeared in NEW holds the 4-tuple T. */
static int appeared_has(const struct diff *d, const struct snapshot *new,
			const struct sock_tuple *t)
{
	size_t i = sock_tuple_hash(t) & d->mask;

	for (; d->appeared[i]; i = (i + 1) & d->mask)
		if (sock_tuple_equal(&new->entries[d->appeared[i] - 1].sk.tuple, t))
			return 1;
	return 0;
}

/* Nonzero when the missing entry O may be declared gone at NOW. */
static int missed_enough(const struct diff *d, const struct snapshot_entry *o,
			 const struct timespec *now)
{
	int64_t ms;

	if (!d->hold_full_ms || o->sk.kind != SOCK_KIND_FULL)
		return 1;
	ms = ((int64_t)now->tv_sec - o->missing_since.tv_sec) * 1000 +
	     (now->tv_nsec - o->missing_since.tv_nsec) / 1000000;
	return ms >= (int64_t)d->hold_full_ms;
}

/* An entry of OLD that NEW lacks is gone now, rather than carried as missing. */
static int gone_now(const struct diff *d, const struct snapshot *new,
		    const struct snapshot_entry *o)
{
	return (o->missing && missed_enough(d, o, &new->taken)) ||
	       (owns_tuple(&o->sk) && appeared_has(d, new, &o->sk.tuple));
}

/* Reports the entries of OLD that are gone now and were (MISSING) or were
 * not (!MISSING) already missing from OLD's own dump. */
static int report_gone(const struct diff *d, const struct snapshot *old,
		       const struct snapshot *new, int missing, diff_cb cb, void *user)
{
	for (size_t i = 0; i < old->len; i++) {
		const struct snapshot_entry *o = &old->entries[i];
		struct transition t = {
			/* The last dump that missed it, which is the first one
			 * unless the socket was held (hold_full_ms): the time
			 * of the records already written, so order holds. */
			.ts = o->missing ? old->taken : new->taken,
			.sk = &o->sk,
			.from = o->sk.state,
			.to = SOCK_NONE,
			.how = DIFF_HOW_POLL,
		};
		int err;

		if (o->seen || o->settled || !o->missing != !missing || !gone_now(d, new, o))
			continue;
		err = cb(&t, user);
		if (err)
			return err;
	}
	return 0;
}

int diff_run(struct diff *d, struct snapshot *old, struct snapshot *new, enum diff_how how,
	     diff_cb cb, void *user)
{
	const size_t fresh = new->len; /* entries that came from the dump */
	size_t appeared = 0;
	int err;

	/*
	 * Match the dump against the table, keeping first-seen 4-tuples. The
	 * kernel walks its hash tables in the same order every time, and the
	 * table holds the last dump in dump order, so the socket after the last
	 * match is almost always the next one: trying it first reads the table
	 * in sequence instead of probing its index at random.
	 */
	for (size_t i = 0; i < old->len; i++)
		old->entries[i].seen = 0;
	size_t next = 0; /* OLD's entry after the last match */
	for (size_t i = 0; i < fresh; i++) {
		struct snapshot_entry *e = &new->entries[i];
		struct snapshot_entry *o;

		if (next < old->len && old->entries[next].sk.cookie == e->sk.cookie)
			o = &old->entries[next];
		else
			o = snapshot_find(old, e->sk.cookie);
		if (o)
			next = (size_t)(o - old->entries) + 1;

		e->seen = o != NULL;
		if (o) {
			o->seen = 1;
			e->prev_state = o->sk.state;
			e->sk.tuple = o->sk.tuple;
			e->first_seen = o->first_seen;
		} else {
			appeared++;
			if (!e->first_seen.tv_sec && !e->first_seen.tv_nsec)
				e->first_seen = new->taken;
		}
	}

	err = appeared_reset(d, appeared);
	if (err < 0)
		return err;
	for (size_t i = 0; i < fresh; i++)
		if (!new->entries[i].seen && owns_tuple(&new->entries[i].sk))
			appeared_add(d, new, i);

	/* Carry the missing into NEW before any callback runs, so
	 * that running out of memory leaves nothing half reported. */
	for (size_t i = 0; i < old->len; i++) {
		const struct snapshot_entry *o = &old->entries[i];
		struct snapshot_entry *e;

		if (o->seen || o->settled || gone_now(d, new, o))
			continue;
		err = snapshot_put_missing(new, &o->sk, o->missing ? &o->missing_since : &new->taken,
					   &e);
		if (err < 0)
			return err;
		e->first_seen = o->first_seen;
	}

	/* The sockets missing since the older dump carry its time, the ones
	 * gone at once the newer one: report them in that order. */
	err = report_gone(d, old, new, 1, cb, user);
	if (!err)
		err = report_gone(d, old, new, 0, cb, user);
	if (err)
		return err;

	for (size_t i = 0; i < fresh; i++) {
		const struct snapshot_entry *e = &new->entries[i];
		struct transition t = {
			.ts = e->by_event ? e->changed_at : new->taken,
			.sk = &e->sk,
			.from = e->seen ? e->prev_state : SOCK_NONE,
			.to = e->sk.state,
			.how = e->by_event ? DIFF_HOW_DESTROY
			       : e->seen   ? DIFF_HOW_POLL
					   : (uint8_t)how,
		};

		if (t.from == t.to)
			continue;
		err = cb(&t, user);
		if (err)
			return err;
	}
	return 0;
}
