/*
 * reconcile.c - destroy notifications joined with the polls' socket tables.
 *
 * A notification says that a full socket is gone, when, and with which
 * final figures; a poll says which sockets exist. Neither alone tells a
 * connection's story: a socket that became a TIME_WAIT minisocket is
 * destroyed too, and its minisocket shows only in the next dump; a socket
 * never dumped may have no cookie until its notification gives it one,
 * which its minisocket then does not share. So notifications wait for the
 * next poll and are joined with its dump, by cookie and then by 4-tuple.
 * That costs at most one interval of delay and no extra request to the
 * kernel, and the records keep the notification's time.
 *
 * The order of events makes the joins exact. A notification read before a
 * dump began is about a socket destroyed before it, so the dump cannot show
 * that full socket; one that came in while a dump ran is read after it and
 * joined at the next poll, when the socket is at worst "missing" once, or
 * already reported gone by the diff: the cookies the last poll reported gone
 * are kept for that.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile.h"
#include "util.h"

#define RECONCILE_MIN 64

/* Notifications on either side of one, in the order they came, looked
 * through for the other end of a connection no poll saw. The kernel frees
 * both ends of a loopback connection microseconds apart, so they are close
 * in a batch; a window keeps the work per notification bounded under churn,
 * where batches hold thousands. */
#define RECONCILE_PEER_SCAN 16

void reconcile_init(struct reconcile *r, size_t limit)
{
	memset(r, 0, sizeof(*r));
	r->limit = limit;
}

void reconcile_release(struct reconcile *r)
{
	if (!r)
		return;
	free(r->ev);
	free(r->gone);
	free(r->gone_next);
	free(r->tw);
	reconcile_init(r, r->limit);
}

/* Makes room for one more element of SIZE bytes in *P of *CAP. */
static int reserve(void **p, size_t *cap, size_t len, size_t size)
{
	return util_grow(p, cap, len + 1, size, RECONCILE_MIN);
}

int reconcile_add(struct reconcile *r, const struct sock *sk, const struct sock_info *info,
                  const struct timespec *ts)
{
	int err;

	if (r->len >= r->limit) {
		r->stats.overflow++;
		return -ENOBUFS;
	}
	err = reserve((void **)&r->ev, &r->cap, r->len, sizeof(*r->ev));
	if (err < 0)
		return err;
	r->ev[r->len++] = (struct reconcile_event){.ts = *ts, .sk = *sk, .info = *info};
	r->stats.events++;
	return 0;
}

int reconcile_queued(const struct reconcile *r, uint64_t cookie)
{
	for (size_t i = 0; i < r->len; i++)
		if (r->ev[i].sk.cookie == cookie)
			return 1;
	return 0;
}

void reconcile_discard(struct reconcile *r)
{
	r->len = 0;
}

int reconcile_note_gone(struct reconcile *r, uint64_t cookie)
{
	int err = reserve((void **)&r->gone_next, &r->gone_next_cap, r->gone_next_len,
	                  sizeof(*r->gone_next));

	if (err < 0)
		return err;
	r->gone_next[r->gone_next_len++] = cookie;
	return 0;
}

static int cmp_cookie(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void reconcile_end(struct reconcile *r, const struct timespec *taken)
{
	if (r->gone_next_len) /* qsort() wants a real array even for none */
		qsort(r->gone_next, r->gone_next_len, sizeof(*r->gone_next), cmp_cookie);
	if (taken->tv_sec - r->window_start >= RECONCILE_GONE_WINDOW) {
		uint64_t *swap = r->gone;
		size_t cap = r->gone_cap;

		r->gone = r->gone_next;
		r->gone_len = r->gone_next_len;
		r->gone_cap = r->gone_next_cap;
		r->gone_next = swap;
		r->gone_next_cap = cap;
		r->gone_next_len = 0;
		r->window_start = taken->tv_sec;
	}
	r->before = r->last;
	r->last = *taken;
}

static int in_set(const uint64_t *set, size_t len, uint64_t cookie)
{
	return len && bsearch(&cookie, set, len, sizeof(*set), cmp_cookie) != NULL;
}

static int was_gone(const struct reconcile *r, uint64_t cookie)
{
	return in_set(r->gone, r->gone_len, cookie) ||
	       in_set(r->gone_next, r->gone_next_len, cookie);
}

static int is_minisocket(const struct sock *sk)
{
	return sk->kind == SOCK_KIND_TIMEWAIT;
}

/*
 * Indexes NEW's minisockets by 4-tuple. Only a notification about a socket
 * no dump showed needs it, so it is built at the first such notification of
 * a poll: under churn a dump holds thousands of TIME_WAIT sockets, and most
 * notifications are about sockets a poll had seen.
 */
static int tw_index(struct reconcile *r, const struct snapshot *new)
{
	size_t count = 0, slots = RECONCILE_MIN;

	for (size_t i = 0; i < new->len; i++)
		count += is_minisocket(&new->entries[i].sk) && !new->entries[i].missing;
	while (slots < count * 2)
		slots *= 2;
	if (slots > r->tw_cap) {
		uint32_t *t = malloc(slots * sizeof(*t));

		if (!t)
			return -ENOMEM;
		free(r->tw);
		r->tw = t;
		r->tw_cap = slots;
	}
	memset(r->tw, 0, slots * sizeof(*r->tw));
	r->tw_mask = slots - 1;
	for (size_t i = 0; i < new->len; i++) {
		size_t h;

		if (!is_minisocket(&new->entries[i].sk) || new->entries[i].missing)
			continue;
		h = sock_tuple_hash(&new->entries[i].sk.tuple) & r->tw_mask;
		while (r->tw[h])
			h = (h + 1) & r->tw_mask;
		r->tw[h] = (uint32_t)(i + 1);
	}
	return 0;
}

/* The minisocket of NEW that holds T and no notification has claimed yet. */
static struct snapshot_entry *tw_find(const struct reconcile *r, const struct snapshot *new,
                                      const struct sock_tuple *t)
{
	for (size_t h = sock_tuple_hash(t) & r->tw_mask; r->tw[h]; h = (h + 1) & r->tw_mask) {
		struct snapshot_entry *e = &new->entries[r->tw[h] - 1];

		if (!e->rec.by_event && sock_tuple_equal(&e->sk.tuple, t))
			return e;
	}
	return NULL;
}

static uint64_t usec_between(const struct timespec *from, const struct timespec *to)
{
	int64_t us =
	    ((int64_t)to->tv_sec - from->tv_sec) * 1000000 + (to->tv_nsec - from->tv_nsec) / 1000;

	return us > 0 && (from->tv_sec || from->tv_nsec) ? (uint64_t)us : 0;
}

/* A socket missing from dumps this long before its notification came was
 * closed while its application held it (a RST received, or a timeout), not
 * destroyed while a dump ran: notifications are read within
 * event_batch_ms of coming. */
#define RECONCILE_HELD_MS 50

static int emit(const struct reconcile_event *ev, const struct sock *sk, struct transition_conn *c,
                unsigned from, unsigned to, reconcile_cb cb, void *user)
{
	struct transition t = {
	    .ts = ev->ts,
	    .sk = sk,
	    .from = (uint8_t)from,
	    .to = (uint8_t)to,
	    .how = TRANSITION_HOW_DESTROY,
	    .conn = c,
	};

	int64_t in = transition_conn_enter(c, to, &ev->ts);

	t.has_in_state = from != SOCK_NONE && in >= 0;
	t.in_state_us = t.has_in_state ? (uint64_t)in : 0;
	return cb(&t, NULL, user);
}

/* What a summary says of how its connection ended, beyond the figures. */
struct ending {
	unsigned last;      /* the last state a record gave it */
	int64_t in_last_us; /* time in it; -1: unknown */
	int disconnected;   /* the notification shows tcp_disconnect() */
	int rst_received;   /* a RST is known to have come */
};

static int summarize(const struct reconcile_event *ev, const struct sock *sk,
                     const struct timespec *since, const struct transition_conn *c,
                     const struct ending *end, reconcile_cb cb, void *user)
{
	struct summary s = {
	    .ts = ev->ts,
	    .sk = sk,
	    .lifetime_us = usec_between(since, &ev->ts),
	    .info = ev->info,
	    .conn = c,
	};

	static const uint8_t zero[16];

	/* A listener, or a socket that never had a peer, was no connection.
	 * (A socket closed with SO_LINGER {1, 0} has its remote port cleared
	 * by then, but its remote address left.) */
	if (sk->state == SOCK_LISTEN ||
	    (ev->sk.tuple.rport == 0 && !memcmp(ev->sk.tuple.raddr, zero, sizeof(zero))))
		return 0;
	transition_outcome(c, end->last, end->in_last_us, end->disconnected, end->rst_received,
	                   &ev->info, &s.outcome, &s.closer);
	/* tcp_disconnect() zeroed the figures: they were not measured. */
	if (end->disconnected)
		s.info.has = 0;
	return cb(NULL, &s, user);
}

/* The notification EV shows tcp_disconnect(): the remote port it had is
 * cleared, its remote address left (KNOWN: the 4-tuple a poll saw). */
static int disconnected(const struct reconcile_event *ev, const struct sock_tuple *known)
{
	static const uint8_t zero[16];

	if (known)
		return known->rport != 0 && ev->sk.tuple.rport == 0;
	return ev->sk.tuple.rport == 0 && memcmp(ev->sk.tuple.raddr, zero, sizeof(zero));
}

/* Microseconds C has been in its state at TS, or -1 when unknown. */
static int64_t in_state(const struct transition_conn *c, const struct timespec *ts)
{
	struct transition_conn copy = *c;

	return transition_conn_enter(&copy, SOCK_NONE, ts);
}

static int64_t ms_between(const struct timespec *from, const struct timespec *to)
{
	return ((int64_t)to->tv_sec - from->tv_sec) * 1000 +
	       (to->tv_nsec - from->tv_nsec) / 1000000;
}

/*
 * A full socket is destroyed only after its handshake completed, unless it
 * was a client whose connect failed: a request socket, or a client that had
 * its SYN acknowledged (bytes_acked counts the SYN), reached ESTABLISHED.
 */
static int reached_established(const struct sock *sk, const struct sock_info *info)
{
	if (sk->kind == SOCK_KIND_REQUEST)
		return 1;
	return sk->state == SOCK_SYN_SENT && (info->has & SOCK_INFO_HAS_BYTES) &&
	       info->bytes_acked > 0;
}

/* How long O, an entry carried as missing, had been missing at TS, in ms
 * (only then is the time in its place missing_since_ns, not changed_at_ns). */
static int64_t missing_ms(const struct snapshot_entry *o, const struct timespec *ts)
{
	struct timespec since = snapshot_timespec(o->missing_since_ns);

	return ms_between(&since, ts);
}

/* A notification about the tracked socket O. */
static int join_tracked(struct reconcile_event *ev, struct snapshot_entry *o, const struct diff *d,
                        struct snapshot *new, reconcile_cb cb, void *user)
{
	struct snapshot_entry *e = diff_newer(d, new, o);
	struct transition_conn c = o->conn;
	struct timespec first = snapshot_timespec(o->first_seen_ns);
	struct ending end = {
	    .last = o->sk.state,
	    .disconnected = disconnected(ev, &o->sk.tuple),
	    .rst_received = o->missing && (o->sk.state == SOCK_CLOSE ||
	                                   missing_ms(o, &ev->ts) >= RECONCILE_HELD_MS),
	};
	unsigned from = o->sk.state;
	int err;

	if (e && !e->missing) {
		/* It lives on as a minisocket: the diff reports the change. */
		e->rec.by_event = 1;
		e->changed_at_ns = snapshot_ns(&ev->ts);
		end.last = e->sk.state;
		return summarize(ev, &o->sk, &first, &c, &end, cb, user);
	}
	o->rec.settled = 1;
	if (reached_established(&o->sk, &ev->info)) {
		err = emit(ev, &o->sk, &c, from, SOCK_ESTABLISHED, cb, user);
		if (err)
			return err;
		/* When it entered ESTABLISHED no record knows. */
		c.since_us = 0;
		from = SOCK_ESTABLISHED;
	}
	end.last = from;
	end.in_last_us = in_state(&c, &ev->ts);
	err = emit(ev, &o->sk, &c, from, SOCK_NONE, cb, user);
	return err ? err : summarize(ev, &o->sk, &first, &c, &end, cb, user);
}

/* The notification near EV in this poll's batch that is the other end of
 * EV's connection: its 4-tuple mirrors EV's, but for what tcp_disconnect()
 * cleared of either (a remote port, an unbound local address). NULL when
 * none. */
static struct reconcile_event *batch_peer(const struct reconcile *r,
                                          const struct reconcile_event *ev)
{
	const struct sock_tuple *t = &ev->sk.tuple;
	size_t at = (size_t)(ev - r->ev);
	size_t lo = at > RECONCILE_PEER_SCAN ? at - RECONCILE_PEER_SCAN : 0;
	size_t hi = at + RECONCILE_PEER_SCAN < r->len ? at + RECONCILE_PEER_SCAN + 1 : r->len;

	for (size_t i = lo; i < hi; i++) {
		const struct sock_tuple *u = &r->ev[i].sk.tuple;

		if (&r->ev[i] == ev || u->family != t->family ||
		    (t->rport && u->lport != t->rport) || (u->rport && u->rport != t->lport) ||
		    (!t->rport && !u->rport))
			continue;
		if (!memcmp(u->laddr, t->raddr, sizeof(u->laddr)) ||
		    !memcmp(t->laddr, u->raddr, sizeof(t->laddr)))
			return &r->ev[i];
	}
	return NULL;
}

/* A notification about a socket no dump has shown under its cookie. */
static int join_untracked(struct reconcile *r, struct reconcile_event *ev, const struct diff *d,
                          struct snapshot *old, struct snapshot *new, reconcile_cb cb, void *user)
{
	struct snapshot_entry *w = tw_find(r, new, &ev->sk.tuple);
	struct transition_conn c = {.cgroup_id = ev->sk.cgroup_id};
	struct ending end = {
	    .last = SOCK_CLOSE, .in_last_us = -1, .disconnected = disconnected(ev, NULL)};
	struct reconcile_event *peer;
	int err;

	if (w) {
		struct snapshot_entry *o = diff_older(old, w);

		end.last = w->sk.state;
		if (!o) {
			/* Its minisocket appears in this dump. */
			w->rec.by_event = 1;
			w->changed_at_ns = snapshot_ns(&ev->ts);
			w->first_seen_ns = snapshot_ns(&r->last);
			if (!w->conn.cgroup_id)
				w->conn.cgroup_id = ev->sk.cgroup_id;
			return summarize(ev, &w->sk, &r->last, &w->conn, &end, cb, user);
		}
		if (!o->rec.by_event && o->first_seen_ns == snapshot_ns(&r->last)) {
			/* Its minisocket appeared in the last dump, which ran
			 * while this notification was on its way. The mark on
			 * the older table's entry claims it (the diff does not
			 * look at it there). */
			o->rec.by_event = 1;
			return summarize(ev, &o->sk, &r->before, &o->conn, &end, cb, user);
		}
	}
	c.role = (uint8_t)diff_role(d, &ev->sk);
	peer = end.disconnected || ev->sk.tuple.rport ? batch_peer(r, ev) : NULL;
	if (peer) {
		c.peer = peer->sk.cookie;
		end.rst_received = !end.disconnected && disconnected(peer, NULL);
	} else if (end.disconnected && c.role == TRANSITION_ROLE_CLIENT) {
		/* A client that tcp_disconnect() cleared, with no local
		 * other end: its connect() failed. */
		end.last = SOCK_SYN_SENT;
		end.disconnected = 0;
		end.in_last_us = (int64_t)usec_between(&r->last, &ev->ts);
	}
	err = emit(ev, &ev->sk, &c, SOCK_NONE, SOCK_CLOSE, cb, user);
	if (!err) {
		c.since_us = 0; /* when it closed no record knows */
		err = emit(ev, &ev->sk, &c, SOCK_CLOSE, SOCK_NONE, cb, user);
	}
	if (end.last == SOCK_SYN_SENT)
		end.disconnected = 1; /* its figures were cleared all the same */
	return err ? err : summarize(ev, &ev->sk, &r->last, &c, &end, cb, user);
}

int reconcile_query(const struct reconcile *r, struct diff *d)
{
	for (size_t i = 0; i < r->len; i++) {
		int err = diff_query(d, r->ev[i].sk.cookie);

		if (err < 0)
			return err;
	}
	return 0;
}

int reconcile_run(struct reconcile *r, const struct diff *d, struct snapshot *old,
                  struct snapshot *new, reconcile_cb cb, void *user)
{
	int err = 0;

	/* The minisockets' index, if a notification needs it, before any
	 * callback runs: running out of memory then reports nothing. */
	for (size_t i = 0; i < r->len; i++) {
		if (!diff_lookup(d, old, r->ev[i].sk.cookie)) {
			err = tw_index(r, new);
			if (err < 0)
				return err;
			break;
		}
	}
	for (size_t i = 0; i < r->len && !err; i++) {
		struct reconcile_event *ev = &r->ev[i];
		struct snapshot_entry *o = diff_lookup(d, old, ev->sk.cookie);

		if (was_gone(r, ev->sk.cookie) || (o && o->rec.settled)) {
			r->stats.duplicates++;
			continue;
		}
		err = o ? join_tracked(ev, o, d, new, cb, user)
		        : join_untracked(r, ev, d, old, new, cb, user);
	}
	/* The by_event marks on entries that do not change are harmless: the
	 * diff reports nothing for them. */
	r->len = 0;
	return err;
}
