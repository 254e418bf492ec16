/*
 * diff.c - old table and new dump in, one callback per transition out.
 *
 * A dump that races with socket churn is not a consistent picture: the
 * kernel resumes it by position in a hash chain, so a socket can be returned
 * twice (diff_match() keeps one copy) or not at all. A socket missing from
 * one dump is therefore not yet gone: it is carried into the new table as
 * "missing", and declared gone when the next dump misses it too. The record
 * then carries the time of the first dump that missed it, which is when it
 * was first seen gone. The one exception is a 4-tuple taken over by a new
 * socket in the same dump: two sockets cannot hold the same 4-tuple, so the
 * old one is gone for certain, and saying so at once keeps its close before
 * the new connection's open in the log.
 *
 * This runs on every poll over every socket, so it reads each table as few
 * times as it can. The kernel walks its hash tables in the same order every
 * time, and a table holds its dump in dump order, so the socket after the
 * last match (or the one after that, when the socket in between is gone) is
 * almost always the next one: diff_match() reads both tables in sequence and
 * probes the older table's index, built then, only for the rest. It lists
 * what it found, so that reporting reads no table again, and the older table
 * is read a second time only when some of its sockets were not matched. In a
 * steady state that is one pass over each table and no index at all.
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
	free(d->appeared.v);
	free(d->changed.v);
	free(d->unmatched.v);
	free(d->hash);
	diff_init(d);
}

/* Makes room for N indices in L; growth at least doubles. */
static int list_reserve(struct diff_list *l, size_t n)
{
	size_t cap = l->cap * 2 > n ? l->cap * 2 : n;
	uint32_t *v;

	if (n <= l->cap)
		return 0;
	v = realloc(l->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	l->cap = cap;
	return 0;
}

/* Room was reserved. */
static void list_push(struct diff_list *l, size_t i)
{
	l->v[l->len++] = (uint32_t)i;
}

/* Sizes the scratch hash for COUNT entries and empties it: only the slots
 * this count needs, so that a poll with few entries clears little. */
static int hash_reset(struct diff *d, size_t count)
{
	size_t slots = DIFF_MIN_SLOTS;

	while (slots < count * 2)
		slots *= 2;
	if (slots > d->hash_cap) {
		uint32_t *h = malloc(slots * sizeof(*h));

		if (!h)
			return -ENOMEM;
		free(d->hash);
		d->hash = h;
		d->hash_cap = slots;
	}
	memset(d->hash, 0, slots * sizeof(*d->hash));
	d->hash_mask = slots - 1;
	return 0;
}

/*
 * Only connected sockets own their 4-tuple. Listeners can share one
 * (SO_REUSEPORT) and a socket without a peer has no 4-tuple to lose.
 */
static int owns_tuple(const struct sock *sk)
{
	return sk->state != SOCK_LISTEN && sk->tuple.rport != 0;
}

/* Nonzero when a socket that appeared in NEW holds the 4-tuple T. Needs
 * the scratch hash filled by tuple_index(). */
static int appeared_has(const struct diff *d, const struct snapshot *new,
			const struct sock_tuple *t)
{
	size_t i = sock_tuple_hash(t) & d->hash_mask;

	for (; d->hash[i]; i = (i + 1) & d->hash_mask)
		if (sock_tuple_equal(&new->entries[d->hash[i] - 1].sk.tuple, t))
			return 1;
	return 0;
}

/* Fills the scratch hash with the 4-tuples of the sockets that appeared. */
static int tuple_index(struct diff *d, const struct snapshot *new)
{
	int err = hash_reset(d, d->appeared.len);

	if (err < 0)
		return err;
	for (size_t k = 0; k < d->appeared.len; k++) {
		const struct sock *sk = &new->entries[d->appeared.v[k]].sk;
		size_t i;

		if (!owns_tuple(sk))
			continue;
		for (i = sock_tuple_hash(&sk->tuple) & d->hash_mask; d->hash[i];
		     i = (i + 1) & d->hash_mask)
			;
		d->hash[i] = d->appeared.v[k] + 1;
	}
	return 0;
}

/* The entry of OLD with COOKIE: NEXT (the one after the last match) or the
 * one after it when they hold it, else the index (built on first use). */
static struct snapshot_entry *find_older(struct snapshot *old, size_t next, uint64_t cookie)
{
	if (next < old->len && old->entries[next].sk.cookie == cookie)
		return &old->entries[next];
	if (next + 1 < old->len && old->entries[next + 1].sk.cookie == cookie)
		return &old->entries[next + 1];
	return snapshot_find(old, cookie);
}

/*
 * The dump returned the socket of O again, as E: the later copy is the
 * fresher, so it replaces the data of the first (which keeps its 4-tuple and
 * first sight). If that turns the first into a change, it joins the list of
 * changes out of dump order.
 */
static void fold_repeat(struct diff *d, struct snapshot *new, const struct snapshot_entry *o,
			const struct snapshot_entry *e)
{
	struct snapshot_entry *first = &new->entries[o->next - 1];
	int was_changed = first->sk.state != o->sk.state;

	first->sk = e->sk;
	first->sk.tuple = o->sk.tuple;
	new->repeats++;
	if (!was_changed && first->sk.state != o->sk.state) {
		list_push(&d->changed, o->next - 1);
		d->changed_unsorted = 1;
	}
}

/*
 * A socket that appeared twice in one dump (in no older table, so no link
 * caught it): fold the later copies into the first, drop them, and rebuild
 * the links and lists. Rare, so it may take its time; the hash costs only
 * what appeared. Returns 0 or -ENOMEM.
 */
static int fold_appeared(struct diff *d, struct snapshot *old, struct snapshot *new)
{
	size_t folded = 0, w = 0;
	int err;

	if (d->appeared.len < 2)
		return 0;
	err = hash_reset(d, d->appeared.len);
	if (err < 0)
		return err;
	for (size_t k = 0; k < d->appeared.len; k++) {
		struct snapshot_entry *e = &new->entries[d->appeared.v[k]];
		size_t i = snapshot_cookie_hash(e->sk.cookie) & d->hash_mask;

		for (; d->hash[i]; i = (i + 1) & d->hash_mask)
			if (new->entries[d->hash[i] - 1].sk.cookie == e->sk.cookie)
				break;
		if (!d->hash[i]) {
			d->hash[i] = d->appeared.v[k] + 1;
			continue;
		}
		new->entries[d->hash[i] - 1].sk = e->sk;
		e->sk.cookie = 0; /* dropped below: no socket has cookie 0 */
		new->repeats++;
		folded++;
	}
	if (!folded)
		return 0;

	d->appeared.len = d->changed.len = 0;
	d->changed_unsorted = 0;
	for (size_t r = 0; r < new->len; r++) {
		struct snapshot_entry *e = &new->entries[r];

		if (!e->sk.cookie)
			continue;
		if (w != r)
			new->entries[w] = *e;
		e = &new->entries[w];
		if (e->prev) {
			old->entries[e->prev - 1].next = (uint32_t)w + 1;
			if (e->sk.state != old->entries[e->prev - 1].sk.state)
				list_push(&d->changed, w);
		} else {
			list_push(&d->appeared, w);
			list_push(&d->changed, w);
		}
		w++;
	}
	snapshot_truncate(new, w);
	return 0;
}

void diff_begin(struct diff *d, struct snapshot *old)
{
	if (++d->run == 0) {
		/* Once in 13 years at 10 polls/s: no old mark may pass for new. */
		for (size_t i = 0; i < old->len; i++)
			old->entries[i].mark = 0;
		d->run = 1;
	}
	d->matched = 0;
	d->next = 0;
	d->appeared.len = d->changed.len = 0;
	d->changed_unsorted = 0;
}

/*
 * Matches the last entry of NEW, which the entries before it have been
 * matched, and the lists have room for. Returns 0, or 1 when it was a
 * repeat, folded into its first entry: the caller drops it.
 */
static int match_last(struct diff *d, struct snapshot *old, struct snapshot *new)
{
	size_t w = new->len - 1;
	struct snapshot_entry *e = &new->entries[w];
	struct snapshot_entry *o = find_older(old, d->next, e->sk.cookie);

	if (o) {
		d->next = (size_t)(o - old->entries) + 1;
		if (o->mark == d->run) {
			fold_repeat(d, new, o, e);
			return 1;
		}
		o->mark = d->run;
		o->next = (uint32_t)w + 1;
		e->prev = (uint32_t)(o - old->entries) + 1;
		e->sk.tuple = o->sk.tuple;
		e->first_seen = o->first_seen;
		d->matched++;
		if (e->sk.state != o->sk.state)
			list_push(&d->changed, w);
	} else {
		e->prev = 0;
		list_push(&d->appeared, w);
		list_push(&d->changed, w);
	}
	return 0;
}

int diff_add(struct diff *d, struct snapshot *old, struct snapshot *new, const struct sock *sk)
{
	int err;

	if (new->len >= d->appeared.cap || new->len >= d->changed.cap) {
		err = list_reserve(&d->appeared, new->len + 1);
		if (!err)
			err = list_reserve(&d->changed, new->len + 1);
		if (err < 0)
			return err;
	}
	err = snapshot_append(new, sk);
	if (err < 0)
		return err;
	if (match_last(d, old, new))
		new->len--;
	return 0;
}

int diff_add_cb(const struct sock *sk, void *user)
{
	struct diff_add_ctx *ctx = user;

	return diff_add(ctx->d, ctx->old, ctx->new, sk);
}

int diff_end(struct diff *d, struct snapshot *old, struct snapshot *new)
{
	int err = fold_appeared(d, old, new);

	if (err < 0)
		return err;
	/* The dump's time is known only now. */
	for (size_t k = 0; k < d->appeared.len; k++) {
		struct snapshot_entry *e = &new->entries[d->appeared.v[k]];

		if (!e->first_seen.tv_sec && !e->first_seen.tv_nsec)
			e->first_seen = new->taken;
	}
	d->fresh = new->len;
	return list_reserve(&d->unmatched, old->len);
}

int diff_match(struct diff *d, struct snapshot *old, struct snapshot *new)
{
	const size_t n = new->len;
	int err;

	err = list_reserve(&d->appeared, n);
	if (!err)
		err = list_reserve(&d->changed, n);
	if (err < 0)
		return err;
	diff_begin(d, old);
	/* The entries are there already: each is matched as if just added. */
	new->len = 0;
	for (size_t r = 0; r < n; r++) {
		if (new->len != r)
			new->entries[new->len] = new->entries[r];
		new->len++;
		if (match_last(d, old, new))
			new->len--;
	}
	if (new->len != n)
		snapshot_truncate(new, new->len);
	return diff_end(d, old, new);
}

struct snapshot_entry *diff_newer(const struct diff *d, struct snapshot *new,
				  const struct snapshot_entry *o)
{
	return o->mark == d->run ? &new->entries[o->next - 1] : NULL;
}

struct snapshot_entry *diff_older(struct snapshot *old, const struct snapshot_entry *e)
{
	return e->prev ? &old->entries[e->prev - 1] : NULL;
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
	       (d->appeared.len && owns_tuple(&o->sk) && appeared_has(d, new, &o->sk.tuple));
}

/* Reports the unmatched entries of OLD that are gone now and were (MISSING)
 * or were not (!MISSING) already missing from OLD's own dump. */
static int report_gone(const struct diff *d, const struct snapshot *old,
		       const struct snapshot *new, int missing, diff_cb cb, void *user)
{
	for (size_t k = 0; k < d->unmatched.len; k++) {
		const struct snapshot_entry *o = &old->entries[d->unmatched.v[k]];
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

		if (o->settled || !o->missing != !missing || !gone_now(d, new, o))
			continue;
		err = cb(&t, user);
		if (err)
			return err;
	}
	return 0;
}

static int cmp_index(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int diff_report(struct diff *d, struct snapshot *old, struct snapshot *new, enum diff_how how,
		diff_cb cb, void *user)
{
	int err;

	d->unmatched.len = 0;
	if (d->matched < old->len)
		for (size_t i = 0; i < old->len; i++)
			if (old->entries[i].mark != d->run)
				list_push(&d->unmatched, i);
	if (d->unmatched.len && d->appeared.len) {
		err = tuple_index(d, new);
		if (err < 0)
			return err;
	}

	/* Carry the missing into NEW before any callback runs, so
	 * that running out of memory leaves nothing half reported. */
	for (size_t k = 0; k < d->unmatched.len; k++) {
		const struct snapshot_entry *o = &old->entries[d->unmatched.v[k]];
		struct snapshot_entry *e;

		if (o->settled || gone_now(d, new, o))
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

	if (d->changed_unsorted) {
		qsort(d->changed.v, d->changed.len, sizeof(*d->changed.v), cmp_index);
		d->changed_unsorted = 0;
	}
	for (size_t k = 0; k < d->changed.len; k++) {
		const struct snapshot_entry *e = &new->entries[d->changed.v[k]];
		const struct snapshot_entry *o = diff_older(old, e);
		struct transition t = {
			.ts = e->by_event ? e->changed_at : new->taken,
			.sk = &e->sk,
			.from = o ? o->sk.state : SOCK_NONE,
			.to = e->sk.state,
			.how = e->by_event ? DIFF_HOW_DESTROY
			       : o	   ? DIFF_HOW_POLL
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

int diff_run(struct diff *d, struct snapshot *old, struct snapshot *new, enum diff_how how,
	     diff_cb cb, void *user)
{
	int err = diff_match(d, old, new);

	return err ? err : diff_report(d, old, new, how, cb, user);
}
