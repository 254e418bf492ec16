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
#include "util.h"

#define DIFF_MIN_SLOTS 64

/* Entries of the older table, from the one after the last match on, where
 * the next socket of a dump is looked for before it is left for later: the
 * ones in between were closed, and more than a few in a row is rare. */
#define DIFF_NEAR 16

/* Entries ahead of the one read that a pass over a table asks for. */
#define DIFF_PREFETCH 8

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
	free(d->pending.v);
	free(d->queries.v);
	free(d->probe);
	free(d->filter);
	free(d->hash);
	diff_init(d);
}

/* Makes room for N indices in L. */
static int list_reserve(struct diff_list *l, size_t n)
{
	return util_grow((void **)&l->v, &l->cap, n, sizeof(*l->v), 0);
}

static int cmp_index(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* list_reserve() for a list of cookies. */
static int list_reserve64(struct diff_list64 *l, size_t n)
{
	return util_grow((void **)&l->v, &l->cap, n, sizeof(*l->v), 0);
}

/* Room was reserved. */
static void list_push(struct diff_list *l, size_t i)
{
	l->v[l->len++] = (uint32_t)i;
}

/* Slots for an open-addressing table of COUNT entries, at most half full. */
static size_t slots_for(size_t count)
{
	size_t slots = DIFF_MIN_SLOTS;

	while (slots < count * 2)
		slots *= 2;
	return slots;
}

/* Makes *V N elements of SIZE bytes, all zero; a new allocation (the old
 * contents not kept) only when it holds fewer (*CAP). */
static int zeroed(void **v, size_t *cap, size_t n, size_t size)
{
	if (n > *cap) {
		void *p = malloc(n * size);

		if (!p)
			return -ENOMEM;
		free(*v);
		*v = p;
		*cap = n;
	}
	memset(*v, 0, n * size);
	return 0;
}

/* Sizes the scratch hash for COUNT entries and empties it: only the slots
 * this count needs, so that a poll with few entries clears little. */
static int hash_reset(struct diff *d, size_t count)
{
	size_t slots = slots_for(count);
	int err = zeroed((void **)&d->hash, &d->hash_cap, slots, sizeof(*d->hash));

	d->hash_mask = err ? 0 : slots - 1;
	return err;
}

/*
 * Only connected sockets own their 4-tuple. Listeners can share one
 * (SO_REUSEPORT) and a socket without a peer has no 4-tuple to lose.
 */
static int owns_tuple(const struct sock *sk)
{
	return sk->state != SOCK_LISTEN && sk->tuple.rport != 0;
}

/* The entry (index + 1) of the socket that appeared in NEW holding the
 * 4-tuple T, or 0. Needs the scratch hash filled by tuple_index(). */
static uint32_t appeared_find(const struct diff *d, const struct snapshot *new,
                              const struct sock_tuple *t)
{
	size_t i = sock_tuple_hash(t) & d->hash_mask;

	for (; d->hash[i]; i = (i + 1) & d->hash_mask)
		if (sock_tuple_equal(&new->entries[d->hash[i] - 1].sk.tuple, t))
			return d->hash[i];
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

/* The entry of OLD with COOKIE among the few from NEXT (the one after the
 * last match) on, or NULL. */
static struct snapshot_entry *find_near(struct snapshot *old, size_t next, uint64_t cookie)
{
	size_t end = next + DIFF_NEAR < old->len ? next + DIFF_NEAR : old->len;

	for (size_t i = next; i < end; i++)
		if (old->entries[i].sk.cookie == cookie)
			return &old->entries[i];
	return NULL;
}

/* Links the entry O of OLD and the entry W of NEW: the same socket. */
static void link_entries(struct diff *d, struct snapshot *old, struct snapshot *new,
                         struct snapshot_entry *o, size_t w)
{
	struct snapshot_entry *e = &new->entries[w];

	o->diff.run = d->run;
	o->diff.next = (uint32_t)w + 1;
	e->diff.prev = (uint32_t)(o - old->entries) + 1;
	e->sk.tuple = o->sk.tuple;
	e->first_seen_ns = o->first_seen_ns;
	e->conn = o->conn;
	/* An accepted socket gets its inode when accept() runs, which is no
	 * change of state: learnt here, so that its orphan's records have it. */
	if (!e->conn.inode && e->sk.inode && e->sk.kind == SOCK_KIND_FULL)
		transition_conn_learn(&e->conn, &e->sk);
	d->matched++;
}

/*
 * The dump returned the socket of O twice, as the entries FIRST and LATER of
 * NEW: the later copy is the fresher, so its data goes into the first entry,
 * which keeps its 4-tuple and first sight and stays; the caller drops the
 * other. If that turns the first into a change, it joins the list of
 * changes, out of dump order.
 */
static void fold_repeat(struct diff *d, struct snapshot *new, const struct snapshot_entry *o,
                        size_t first, size_t later)
{
	struct snapshot_entry *f = &new->entries[first];
	int was_changed = f->sk.state != o->sk.state;

	f->sk = new->entries[later].sk;
	f->sk.tuple = o->sk.tuple;
	new->repeats++;
	if (!was_changed && f->sk.state != o->sk.state) {
		list_push(&d->changed, first);
		d->changed_unsorted = 1;
	}
}

void diff_begin(struct diff *d, struct snapshot *old)
{
	if (++d->run == 0) {
		/* Once in 13 years at 10 polls/s: no old mark may pass for new. */
		for (size_t i = 0; i < old->len; i++)
			old->entries[i].diff.run = 0;
		d->run = 1;
	}
	d->matched = 0;
	d->next = 0;
	d->appeared.len = d->changed.len = d->pending.len = d->queries.len = 0;
	d->changed_unsorted = 0;
	d->unmatched_known = 0;
	d->probe_mask = 0;
	memset(d->listen_ports, 0, sizeof(d->listen_ports));
}

/*
 * Matches the last entry of NEW, whose entries before it have been through
 * here, against the entries of OLD after the last match. One found is
 * linked; one that is not is left pending for diff_end(). Returns 0, or 1
 * when it was a repeat, folded into its first entry: the caller drops it.
 */
static int match_last(struct diff *d, struct snapshot *old, struct snapshot *new)
{
	size_t w = new->len - 1;
	struct snapshot_entry *e = &new->entries[w];
	struct snapshot_entry *o = find_near(old, d->next, e->sk.cookie);

	/* The older table is read in order, but the dump's walk between two
	 * sockets evicts it: ask for the entries a few ahead. */
	if (d->next + DIFF_PREFETCH < old->len) {
		const char *ahead = (const char *)&old->entries[d->next + DIFF_PREFETCH];

		/* Every line of it: an entry spans three or four. */
		__builtin_prefetch(ahead);
		__builtin_prefetch(ahead + 64);
		__builtin_prefetch(ahead + 128);
		__builtin_prefetch(ahead + sizeof(*old->entries) - 1);
	}
	e->diff.prev = 0;
	if (e->sk.state == SOCK_LISTEN)
		d->listen_ports[e->sk.tuple.lport / 64] |= 1ULL << (e->sk.tuple.lport % 64);
	if (!o) {
		list_push(&d->pending, w);
		return 0;
	}
	d->next = (size_t)(o - old->entries) + 1;
	if (o->diff.run == d->run) {
		fold_repeat(d, new, o, o->diff.next - 1, w);
		return 1;
	}
	link_entries(d, old, new, o, w);
	if (e->sk.state != o->sk.state)
		list_push(&d->changed, w);
	return 0;
}

struct sock *diff_slot(struct diff *d, struct snapshot *new)
{
	if (new->len >= d->changed.cap || new->len >= d->pending.cap) {
		if (list_reserve(&d->changed, new->len + 1) < 0 ||
		    list_reserve(&d->pending, new->len + 1) < 0)
			return NULL;
	}
	return snapshot_slot(new);
}

void diff_keep(struct diff *d, struct snapshot *old, struct snapshot *new)
{
	new->len++;
	if (match_last(d, old, new))
		new->len--;
}

int diff_add(struct diff *d, struct snapshot *old, struct snapshot *new, const struct sock *sk)
{
	struct sock *slot = diff_slot(d, new);

	if (!slot)
		return -ENOMEM;
	*slot = *sk;
	diff_keep(d, old, new);
	return 0;
}

int diff_query(struct diff *d, uint64_t cookie)
{
	int err = list_reserve64(&d->queries, d->queries.len + 1);

	if (err < 0)
		return err;
	d->queries.v[d->queries.len++] = cookie;
	return 0;
}

/* The probe for COOKIE, whose hash is H, or the empty one where it would go. */
static struct diff_probe *probe_at(const struct diff *d, uint64_t cookie, uint64_t h)
{
	size_t i = (size_t)h & d->probe_mask;

	while (d->probe[i].cookie && d->probe[i].cookie != cookie)
		i = (i + 1) & d->probe_mask;
	return &d->probe[i];
}

static struct diff_probe *probe_for(const struct diff *d, uint64_t cookie)
{
	return probe_at(d, cookie, snapshot_cookie_hash(cookie));
}

/*
 * The probes' filter: one bit per hash (from its high half, the probe slot
 * coming from the low half), 32 bits per cookie, in a few hundred bytes
 * that stay in the cache, where the probes do not. The pass over the older
 * table probes only the few percent of its cookies the filter lets by.
 */
static void filter_set(struct diff *d, uint64_t h)
{
	size_t bit = (size_t)(h >> 32) & d->filter_mask;

	d->filter[bit / 64] |= 1ULL << (bit % 64);
}

static int filter_has(const struct diff *d, uint64_t h)
{
	size_t bit = (size_t)(h >> 32) & d->filter_mask;

	return (d->filter[bit / 64] >> (bit % 64)) & 1;
}

/* Empties the probes and their filter, sized for COUNT cookies. */
static int probe_reset(struct diff *d, size_t count)
{
	size_t slots = slots_for(count);
	/* 32 bits per cookie: slots * 16 bits, slots / 4 words. */
	int err = zeroed((void **)&d->probe, &d->probe_cap, slots, sizeof(*d->probe));

	if (!err)
		err = zeroed((void **)&d->filter, &d->filter_cap, slots / 4, sizeof(*d->filter));
	d->probe_mask = err ? 0 : slots - 1;
	d->filter_mask = err ? 0 : slots * 16 - 1;
	return err;
}

/* Drops the entries of NEW whose cookie was cleared (folded repeats) and
 * rebuilds the links and lists, in dump order. Rare. */
static void compact(struct diff *d, struct snapshot *old, struct snapshot *new)
{
	size_t w = 0;

	d->appeared.len = d->changed.len = 0;
	d->changed_unsorted = 0;
	for (size_t r = 0; r < new->len; r++) {
		struct snapshot_entry *e = &new->entries[r];

		if (!e->sk.cookie)
			continue;
		if (w != r)
			new->entries[w] = *e;
		e = &new->entries[w];
		if (e->diff.prev) {
			old->entries[e->diff.prev - 1].diff.next = (uint32_t)w + 1;
			if (e->sk.state != old->entries[e->diff.prev - 1].sk.state)
				list_push(&d->changed, w);
		} else {
			list_push(&d->appeared, w);
			list_push(&d->changed, w);
		}
		w++;
	}
	snapshot_truncate(new, w);
}

/*
 * Settles what the walk in dump order left open: the pending entries of NEW
 * (not found near where the last match left off: new sockets, mostly) and
 * the cookies asked about with diff_query(). Rather than index all of OLD
 * for them, which costs a random write per socket, they go into a small hash
 * that one pass over OLD, in order, looks up. The same pass lists the
 * entries of OLD that no socket of NEW matched.
 */
/*
 * Puts the cookies asked about and the pending entries of NEW into the
 * probes. A cookie pending twice was returned twice, and in no near place of
 * OLD either time: the later copy's data goes into the first entry. Returns
 * the number of entries of NEW so dropped.
 */
static size_t probes_fill(struct diff *d, struct snapshot *new)
{
	size_t dropped = 0;

	for (size_t k = 0; k < d->queries.len; k++) {
		uint64_t h = snapshot_cookie_hash(d->queries.v[k]);

		probe_at(d, d->queries.v[k], h)->cookie = d->queries.v[k];
		filter_set(d, h);
	}
	for (size_t k = 0; k < d->pending.len; k++) {
		size_t w = d->pending.v[k];
		struct snapshot_entry *e = &new->entries[w];
		uint64_t h = snapshot_cookie_hash(e->sk.cookie);
		struct diff_probe *p = probe_at(d, e->sk.cookie, h);

		if (p->pend) {
			new->entries[p->pend - 1].sk = e->sk;
			e->sk.cookie = 0;
			new->repeats++;
			dropped++;
			continue;
		}
		p->cookie = e->sk.cookie;
		p->pend = (uint32_t)w + 1;
		filter_set(d, h);
	}
	return dropped;
}

/*
 * The entry I of OLD has the cookie of the probe P: it is the one asked
 * about, the older entry of P's pending entry, or, when the walk in dump
 * order matched it already, the first copy of a repeat, which stays with the
 * later data. Returns 1 when an entry of NEW was dropped, else 0.
 */
static int probe_hit(struct diff *d, struct snapshot *old, struct snapshot *new, size_t i,
                     struct diff_probe *p)
{
	struct snapshot_entry *o = &old->entries[i];

	p->older = (uint32_t)i + 1;
	if (!p->pend)
		return 0;
	if (o->diff.run == d->run) {
		size_t q = o->diff.next - 1, w = p->pend - 1;

		if (w > q) {
			fold_repeat(d, new, o, q, w);
			new->entries[w].sk.cookie = 0;
		} else {
			struct snapshot_entry *e = &new->entries[w];

			e->sk = new->entries[q].sk;
			e->sk.tuple = o->sk.tuple;
			e->first_seen_ns = o->first_seen_ns;
			e->conn = o->conn;
			e->diff.prev = (uint32_t)i + 1;
			new->entries[q].sk.cookie = 0;
			new->repeats++;
		}
		return 1;
	}
	link_entries(d, old, new, o, p->pend - 1);
	if (new->entries[p->pend - 1].sk.state != o->sk.state) {
		list_push(&d->changed, p->pend - 1);
		d->changed_unsorted = 1;
	}
	return 0;
}

/*
 * Settles what the walk in dump order left open: the pending entries of NEW
 * (not found near where the last match left off: new sockets, mostly) and
 * the cookies asked about with diff_query(). Rather than index all of OLD
 * for them, which costs a random write per socket, they go into a small hash
 * that one pass over OLD, in order, looks up. The same pass lists the
 * entries of OLD that no socket of NEW matched.
 */
static int resolve(struct diff *d, struct snapshot *old, struct snapshot *new)
{
	size_t dropped;
	int err;

	if (!d->pending.len && !d->queries.len)
		return 0;
	err = probe_reset(d, d->pending.len + d->queries.len);
	if (!err)
		err = list_reserve(&d->appeared, new->len);
	if (err < 0)
		return err;
	dropped = probes_fill(d, new);

	d->unmatched.len = 0;
	for (size_t i = 0; i < old->len; i++) {
		const struct snapshot_entry *o = &old->entries[i];
		struct diff_probe *p;
		uint64_t h;

		/* A pass over megabytes the dump has evicted: read ahead. */
		if (i + DIFF_PREFETCH < old->len)
			__builtin_prefetch(&old->entries[i + DIFF_PREFETCH].sk.cookie);
		h = snapshot_cookie_hash(o->sk.cookie);
		p = filter_has(d, h) ? probe_at(d, o->sk.cookie, h) : NULL;
		if (p && p->cookie)
			dropped += (size_t)probe_hit(d, old, new, i, p);
		if (o->diff.run != d->run)
			list_push(&d->unmatched, i);
	}
	d->unmatched_known = 1;

	if (dropped) {
		compact(d, old, new);
		return 0;
	}
	/* What is still pending is new. */
	for (size_t k = 0; k < d->pending.len; k++) {
		size_t w = d->pending.v[k];

		if (new->entries[w].diff.prev)
			continue;
		list_push(&d->appeared, w);
		list_push(&d->changed, w);
		d->changed_unsorted = 1;
	}
	return 0;
}

struct snapshot_entry *diff_lookup(const struct diff *d, struct snapshot *old, uint64_t cookie)
{
	if (d->probe_mask) {
		const struct diff_probe *p = probe_for(d, cookie);

		if (p->cookie)
			return p->older ? &old->entries[p->older - 1] : NULL;
	}
	return snapshot_find(old, cookie);
}

int diff_end(struct diff *d, struct snapshot *old, struct snapshot *new)
{
	/* Room for the unmatched, which resolve() or diff_report() lists. */
	int err = list_reserve(&d->unmatched, old->len);

	if (!err)
		err = resolve(d, old, new);
	if (err < 0)
		return err;
	if (d->changed_unsorted) {
		qsort(d->changed.v, d->changed.len, sizeof(*d->changed.v), cmp_index);
		d->changed_unsorted = 0;
	}
	/* The dump's time is known only now, and its listeners. */
	for (size_t k = 0; k < d->appeared.len; k++) {
		struct snapshot_entry *e = &new->entries[d->appeared.v[k]];

		if (!e->first_seen_ns)
			e->first_seen_ns = snapshot_ns(&new->taken);
		/* snapshot_slot() leaves the conn as the slot's last use had it. */
		e->conn = (struct transition_conn){.role = (uint8_t)diff_role(d, &e->sk)};
	}
	return 0;
}

unsigned diff_role(const struct diff *d, const struct sock *sk)
{
	uint16_t port = sk->tuple.lport;

	if (sk->state == SOCK_LISTEN)
		return TRANSITION_ROLE_UNKNOWN;
	if (sk->state == SOCK_SYN_SENT)
		return TRANSITION_ROLE_CLIENT;
	if (sk->state == SOCK_SYN_RECV || (d->listen_ports[port / 64] >> (port % 64) & 1))
		return TRANSITION_ROLE_SERVER;
	/* A full socket that no listener accepted was connected out. */
	return TRANSITION_ROLE_CLIENT;
}

int diff_match(struct diff *d, struct snapshot *old, struct snapshot *new)
{
	const size_t n = new->len;
	int err;

	err = list_reserve(&d->changed, n);
	if (!err)
		err = list_reserve(&d->pending, n);
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
	return o->diff.run == d->run ? &new->entries[o->diff.next - 1] : NULL;
}

struct snapshot_entry *diff_older(struct snapshot *old, const struct snapshot_entry *e)
{
	return e->diff.prev ? &old->entries[e->diff.prev - 1] : NULL;
}

/* Nonzero when the missing entry O may be declared gone at NOW. */
static int missed_enough(const struct diff *d, const struct snapshot_entry *o,
                         const struct timespec *now)
{
	struct timespec since;
	int64_t ms;

	if (!d->hold_full_ms || o->sk.kind != SOCK_KIND_FULL)
		return 1;
	/* Closed while held: its notification comes when its application
	 * lets go of it, however long that takes. */
	if (o->sk.state == SOCK_CLOSE)
		return 0;
	since = snapshot_timespec(o->missing_since_ns);
	ms =
	    ((int64_t)now->tv_sec - since.tv_sec) * 1000 + (now->tv_nsec - since.tv_nsec) / 1000000;
	return ms >= (int64_t)d->hold_full_ms;
}

/* An entry of OLD that NEW lacks is gone now, rather than carried as missing. */
static int gone_now(const struct diff *d, const struct snapshot *new,
                    const struct snapshot_entry *o)
{
	return (o->missing && missed_enough(d, o, &new->taken)) ||
	       (d->appeared.len && owns_tuple(&o->sk) && appeared_find(d, new, &o->sk.tuple));
}

/* T spent IN microseconds in its from state (-1: unknown). */
static void set_in_state(struct transition *t, int64_t in)
{
	t->has_in_state = in >= 0;
	t->in_state_us = in >= 0 ? (uint64_t)in : 0;
}

/* The 4-tuple T seen from its other end. */
static void mirror(struct sock_tuple *ret, const struct sock_tuple *t)
{
	*ret = (struct sock_tuple){.family = t->family, .lport = t->rport, .rport = t->lport};
	memcpy(ret->laddr, t->raddr, sizeof(ret->laddr));
	memcpy(ret->raddr, t->laddr, sizeof(ret->raddr));
}

/*
 * The two ends of a connection inside the namespace hold mirrored 4-tuples,
 * and nearly always appear in the same dump (a connect and its accept are
 * microseconds apart): each is the other's peer. Looked for among the
 * sockets that appeared only, so that it costs nothing in a steady state.
 */
static void link_peers(const struct diff *d, struct snapshot *new)
{
	for (size_t k = 0; k < d->appeared.len; k++) {
		struct snapshot_entry *e = &new->entries[d->appeared.v[k]];
		struct sock_tuple m;
		uint32_t p;

		if (!owns_tuple(&e->sk) || e->conn.peer)
			continue;
		mirror(&m, &e->sk.tuple);
		p = appeared_find(d, new, &m);
		if (p && p - 1 != d->appeared.v[k]) {
			e->conn.peer = new->entries[p - 1].sk.cookie;
			new->entries[p - 1].conn.peer = e->sk.cookie;
		}
	}
}

/* Reports the unmatched entries of OLD that are gone now and were (MISSING)
 * or were not (!MISSING) already missing from OLD's own dump. */
static int report_gone(const struct diff *d, const struct snapshot *old, const struct snapshot *new,
                       int missing, diff_cb cb, void *user)
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
		    .how = TRANSITION_HOW_POLL,
		};
		struct transition_conn c = o->conn;
		int err;

		if (o->rec.settled || !o->missing != !missing || !gone_now(d, new, o))
			continue;
		set_in_state(&t, transition_conn_enter(&c, SOCK_NONE, &t.ts));
		t.conn = &o->conn;
		err = cb(&t, user);
		if (err)
			return err;
	}
	return 0;
}

/* Carries the unmatched entries of OLD that are not gone yet into NEW, as
 * missing. Returns 0 or -ENOMEM. */
static int carry_missing(const struct diff *d, const struct snapshot *old, struct snapshot *new)
{
	for (size_t k = 0; k < d->unmatched.len; k++) {
		const struct snapshot_entry *o = &old->entries[d->unmatched.v[k]];
		struct snapshot_entry *e;
		int err;

		if (o->rec.settled || gone_now(d, new, o))
			continue;
		err = snapshot_put_missing(
		    new, &o->sk, o->missing ? o->missing_since_ns : snapshot_ns(&new->taken), &e);
		if (err < 0)
			return err;
		e->first_seen_ns = o->first_seen_ns;
		e->conn = o->conn;
		if (o->diff.closed) {
			e->sk.state = SOCK_CLOSE;
			(void)transition_conn_enter(&e->conn, SOCK_CLOSE, &new->taken);
		}
	}
	return 0;
}

/* Lists the entries of OLD that no socket of the newer dump matched, unless
 * diff_end()'s pass did. */
static void list_unmatched(struct diff *d, const struct snapshot *old)
{
	if (d->unmatched_known)
		return;
	d->unmatched.len = 0;
	if (d->matched < old->len)
		for (size_t i = 0; i < old->len; i++)
			if (old->entries[i].diff.run != d->run)
				list_push(&d->unmatched, i);
	d->unmatched_known = 1;
}

size_t diff_check_missing(struct diff *d, struct snapshot *old, diff_present_fn present, void *user,
                          size_t max)
{
	size_t n = 0;

	list_unmatched(d, old);
	for (size_t k = 0; k < d->unmatched.len && n < max; k++) {
		struct snapshot_entry *o = &old->entries[d->unmatched.v[k]];

		if (o->missing || o->rec.settled || o->sk.kind != SOCK_KIND_FULL || !o->sk.inode ||
		    o->sk.state == SOCK_LISTEN || o->sk.state == SOCK_CLOSE)
			continue;
		n++;
		o->diff.closed = present(user, &o->sk) == 0;
	}
	return n;
}

/* Reports the entries of OLD marked closed (diff_check_missing()) that are not
 * gone at once: their move to CLOSE, at NEW's time. */
static int report_closed(const struct diff *d, const struct snapshot *old,
                         const struct snapshot *new, diff_cb cb, void *user)
{
	for (size_t k = 0; k < d->unmatched.len; k++) {
		const struct snapshot_entry *o = &old->entries[d->unmatched.v[k]];
		struct transition_conn c = o->conn;
		struct transition t = {
		    .ts = new->taken,
		    .sk = &o->sk,
		    .from = o->sk.state,
		    .to = SOCK_CLOSE,
		    .how = TRANSITION_HOW_POLL,
		    .conn = &o->conn,
		};
		int err;

		if (!o->diff.closed || o->rec.settled || o->missing || gone_now(d, new, o))
			continue;
		set_in_state(&t, transition_conn_enter(&c, SOCK_CLOSE, &t.ts));
		err = cb(&t, user);
		if (err)
			return err;
	}
	return 0;
}

int diff_report(struct diff *d, struct snapshot *old, struct snapshot *new, enum transition_how how,
                diff_cb cb, void *user)
{
	int err;

	list_unmatched(d, old);
	if ((d->unmatched.len && d->appeared.len) || d->appeared.len > 1) {
		err = tuple_index(d, new);
		if (err < 0)
			return err;
		link_peers(d, new);
	}

	/* Carry the missing into NEW before any callback runs, so
	 * that running out of memory leaves nothing half reported. */
	err = carry_missing(d, old, new);
	if (err < 0)
		return err;

	/* The sockets missing since the older dump carry its time, the ones
	 * gone at once the newer one: report them in that order. */
	err = report_gone(d, old, new, 1, cb, user);
	if (!err)
		err = report_gone(d, old, new, 0, cb, user);
	if (!err)
		err = report_closed(d, old, new, cb, user);
	if (err)
		return err;

	for (size_t k = 0; k < d->changed.len; k++) {
		struct snapshot_entry *e = &new->entries[d->changed.v[k]];
		const struct snapshot_entry *o = diff_older(old, e);
		int64_t in;
		struct transition t = {
		    .ts = e->rec.by_event ? snapshot_timespec(e->changed_at_ns) : new->taken,
		    .sk = &e->sk,
		    .from = o ? o->sk.state : SOCK_NONE,
		    .to = e->sk.state,
		    .how = e->rec.by_event ? TRANSITION_HOW_DESTROY
		           : o             ? TRANSITION_HOW_POLL
		                           : (uint8_t)how,
		};

		if (t.from == t.to)
			continue;
		transition_conn_learn(&e->conn, &e->sk);
		in = transition_conn_enter(&e->conn, t.to, &t.ts);
		if (t.from != SOCK_NONE)
			set_in_state(&t, in);
		t.conn = &e->conn;
		err = cb(&t, user);
		if (err)
			return err;
	}
	return 0;
}
