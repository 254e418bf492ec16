/*
 * test_reconcile.c - destroy notifications joined with polls (reconcile.c).
 *
 * The harness drives them through the tracker, as monitor.c does:
 * notifications queued between two dumps, then one tracker_poll() whose
 * dump comes from an array. Dumps are one second apart; a notification
 * comes half a second after the latest dump, so a record's time says where
 * it came from.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <sys/socket.h>

#include "check.h"
#include "socks.h"
#include "reconcile.h"
#include "sock.h"
#include "tracker.h"

struct rec {
	struct timespec ts;
	struct sock sk;
	uint8_t from, to, how;
	int summary;
	uint64_t lifetime_us;
	struct sock_info info;
	int has_in_state;
	uint64_t in_state_us;
	struct transition_conn conn;
	uint8_t outcome, closer;
};

#define RECS_MAX 64

struct harness {
	struct tracker *t;
	time_t now;
	struct rec recs[RECS_MAX];
	size_t nrecs;
};

static int collect(const struct transition *t, const struct summary *s, void *user)
{
	struct harness *h = user;
	struct rec *r;

	if (h->nrecs >= RECS_MAX)
		return 0;
	r = &h->recs[h->nrecs++];
	memset(r, 0, sizeof(*r));
	if (s) {
		r->summary = 1;
		r->ts = s->ts;
		r->sk = *s->sk;
		r->lifetime_us = s->lifetime_us;
		r->info = s->info;
		r->outcome = s->outcome;
		r->closer = s->closer;
		if (s->conn)
			r->conn = *s->conn;
	} else {
		r->ts = t->ts;
		r->sk = *t->sk;
		r->from = t->from;
		r->to = t->to;
		r->how = t->how;
		r->has_in_state = t->has_in_state;
		r->in_state_us = t->in_state_us;
		if (t->conn)
			r->conn = *t->conn;
	}
	return 0;
}

static void h_init(struct harness *h, size_t limit)
{
	memset(h, 0, sizeof(*h));
	CHECK_INT(tracker_new(&h->t, limit), 0);
	h->now = 1000;
}

static void h_release(struct harness *h)
{
	tracker_free(h->t);
}

/* A notification about COOKIE (LPORT -> RPORT), half a second after the latest dump. */
static void h_event(struct harness *h, uint64_t cookie, uint16_t lport, uint16_t rport)
{
	struct sock sk = test_sock(cookie, SOCK_CLOSE, SOCK_KIND_GONE, lport, rport);
	struct sock_info info = {
	    .bytes_acked = 10, .bytes_received = 20, .total_retrans = 1, .rtt_us = 30, .has = 7};
	struct timespec ts = {.tv_sec = h->now, .tv_nsec = 500000000};

	CHECK_INT(tracker_add_event(h->t, &sk, &info, &ts), 0);
}

/* One poll whose dump returned the N sockets of SOCKS. */
static void h_dump(struct harness *h, const struct sock *socks, size_t n)
{
	struct test_dump dump = {.socks = socks, .n = n, .now = &h->now};

	h->nrecs = 0;
	CHECK_INT(tracker_poll(h->t, test_dump_fill, &dump, collect, h), 0);
}

/* Record I is a transition of COOKIE FROM -> TO, HOW, at second TS (+ NSEC). */
#define CHECK_REC(h, i, cookie_, from_, to_, how_, ts_, nsec_)                                     \
	do {                                                                                       \
		CHECK((size_t)(i) < (h)->nrecs);                                                   \
		if ((size_t)(i) < (h)->nrecs) {                                                    \
			const struct rec *r_ = &(h)->recs[i];                                      \
			CHECK_INT(r_->summary, 0);                                                 \
			CHECK_INT(r_->sk.cookie, cookie_);                                         \
			CHECK_STR(sock_state_name(r_->from), sock_state_name(from_));              \
			CHECK_STR(sock_state_name(r_->to), sock_state_name(to_));                  \
			CHECK_STR(transition_how_name(r_->how), transition_how_name(how_));        \
			CHECK_INT(r_->ts.tv_sec, ts_);                                             \
			CHECK_INT(r_->ts.tv_nsec, nsec_);                                          \
		}                                                                                  \
	} while (0)

/* Record I is a summary of COOKIE with LIFETIME_US. */
#define CHECK_SUM(h, i, cookie_, lifetime_)                                                        \
	do {                                                                                       \
		CHECK((size_t)(i) < (h)->nrecs);                                                   \
		if ((size_t)(i) < (h)->nrecs) {                                                    \
			const struct rec *r_ = &(h)->recs[i];                                      \
			CHECK_INT(r_->summary, 1);                                                 \
			CHECK_INT(r_->sk.cookie, cookie_);                                         \
			CHECK_INT(r_->lifetime_us, lifetime_);                                     \
			CHECK_INT(r_->info.bytes_acked, 10);                                       \
			CHECK_INT(r_->ts.tv_nsec, 500000000);                                      \
		}                                                                                  \
	} while (0)

#define HALF 500000000

/* A tracked connection destroyed: its vanish at the notification's time, once. */
static void test_tracked_close(void)
{
	struct harness h;
	struct sock est = test_sock(7, SOCK_ESTABLISHED, SOCK_KIND_FULL, 40000, 80);

	h_init(&h, 100);
	h_dump(&h, &est, 1); /* 1001: initial */
	h_dump(&h, &est, 1); /* 1002 */
	h_event(&h, 7, 40000, 80);
	h_dump(&h, NULL, 0); /* 1003 */
	CHECK_INT(h.nrecs, 2);
	CHECK_REC(&h, 0, 7, SOCK_ESTABLISHED, SOCK_NONE, TRANSITION_HOW_DESTROY, 1002, HALF);
	CHECK_SUM(&h, 1, 7, 1500000); /* first seen at 1001 */
	h_dump(&h, NULL, 0);
	CHECK_INT(h.nrecs, 0);
	h_release(&h);
}

/* Missing from one dump, then the notification settles it at its time. */
static void test_missing_then_event(void)
{
	struct harness h;
	struct sock est = test_sock(7, SOCK_ESTABLISHED, SOCK_KIND_FULL, 40000, 80);

	h_init(&h, 100);
	h_dump(&h, &est, 1);
	h_dump(&h, NULL, 0); /* 1002: missing once, nothing said */
	CHECK_INT(h.nrecs, 0);
	h_event(&h, 7, 40000, 80);
	h_dump(&h, NULL, 0);
	CHECK_INT(h.nrecs, 2);
	CHECK_REC(&h, 0, 7, SOCK_ESTABLISHED, SOCK_NONE, TRANSITION_HOW_DESTROY, 1002, HALF);
	h_dump(&h, NULL, 0);
	CHECK_INT(h.nrecs, 0);
	h_release(&h);
}

/* A poll reported it gone already: the late notification says nothing. */
static void test_duplicate(void)
{
	struct harness h;
	struct sock est = test_sock(7, SOCK_ESTABLISHED, SOCK_KIND_FULL, 40000, 80);

	h_init(&h, 100);
	h_dump(&h, &est, 1);
	h_dump(&h, NULL, 0);
	h_dump(&h, NULL, 0); /* 1003: gone, at 1002's time */
	CHECK_INT(h.nrecs, 1);
	CHECK_REC(&h, 0, 7, SOCK_ESTABLISHED, SOCK_NONE, TRANSITION_HOW_POLL, 1002, 0);
	h_event(&h, 7, 40000, 80);
	h_dump(&h, NULL, 0);
	CHECK_INT(h.nrecs, 0);
	CHECK_INT(tracker_stats(h.t)->duplicates, 1);
	h_release(&h);
}

/* A tracked socket that became a TIME_WAIT minisocket with its cookie. */
static void test_tracked_time_wait(void)
{
	struct harness h;
	struct sock est = test_sock(7, SOCK_FIN_WAIT1, SOCK_KIND_FULL, 40000, 80);
	struct sock tw = test_sock(7, SOCK_TIME_WAIT, SOCK_KIND_TIMEWAIT, 40000, 80);

	h_init(&h, 100);
	h_dump(&h, &est, 1);
	h_event(&h, 7, 40000, 80);
	h_dump(&h, &tw, 1);
	CHECK_INT(h.nrecs, 2);
	/* Summary first as produced; monitor.c sorts transitions first at one time. */
	CHECK_SUM(&h, 0, 7, 500000);
	CHECK_REC(&h, 1, 7, SOCK_FIN_WAIT1, SOCK_TIME_WAIT, TRANSITION_HOW_DESTROY, 1001, HALF);
	h_release(&h);
}

/* Never dumped, reached TIME_WAIT: the minisocket's cookie is the identity,
 * to the end of the minisocket. */
static void test_untracked_time_wait(void)
{
	struct harness h;
	struct sock tw = test_sock(9, SOCK_TIME_WAIT, SOCK_KIND_TIMEWAIT, 40000, 80);

	h_init(&h, 100);
	h_dump(&h, NULL, 0);
	h_event(&h, 8, 40000, 80);
	h_dump(&h, &tw, 1);
	CHECK_INT(h.nrecs, 2);
	CHECK_SUM(&h, 0, 9, 500000); /* at most since the poll before */
	CHECK_REC(&h, 1, 9, SOCK_NONE, SOCK_TIME_WAIT, TRANSITION_HOW_DESTROY, 1001, HALF);
	h_dump(&h, &tw, 1);
	CHECK_INT(h.nrecs, 0);
	h_dump(&h, NULL, 0);
	h_dump(&h, NULL, 0);
	CHECK_INT(h.nrecs, 1);
	CHECK_REC(&h, 0, 9, SOCK_TIME_WAIT, SOCK_NONE, TRANSITION_HOW_POLL, 1004, 0);
	h_release(&h);
}

/* The minisocket was dumped before the notification arrived: summary only. */
static void test_late_event_time_wait(void)
{
	struct harness h;
	struct sock tw = test_sock(9, SOCK_TIME_WAIT, SOCK_KIND_TIMEWAIT, 40000, 80);

	h_init(&h, 100);
	h_dump(&h, NULL, 0);
	h_dump(&h, &tw, 1); /* 1002 */
	CHECK_INT(h.nrecs, 1);
	CHECK_REC(&h, 0, 9, SOCK_NONE, SOCK_TIME_WAIT, TRANSITION_HOW_POLL, 1002, 0);
	h_event(&h, 8, 40000, 80);
	h_dump(&h, &tw, 1);
	CHECK_INT(h.nrecs, 1);
	CHECK_SUM(&h, 0, 9, 1500000);
	/* A second notification for that 4-tuple is another connection. */
	h_event(&h, 10, 40000, 80);
	h_dump(&h, &tw, 1);
	CHECK_INT(h.nrecs, 3);
	CHECK_REC(&h, 0, 10, SOCK_NONE, SOCK_CLOSE, TRANSITION_HOW_DESTROY, 1003, HALF);
	CHECK_REC(&h, 1, 10, SOCK_CLOSE, SOCK_NONE, TRANSITION_HOW_DESTROY, 1003, HALF);
	CHECK_SUM(&h, 2, 10, 500000);
	h_release(&h);
}

/* Lived and died between two polls. */
static void test_between_polls(void)
{
	struct harness h;

	h_init(&h, 100);
	h_dump(&h, NULL, 0);
	h_event(&h, 5, 40000, 80);
	h_event(&h, 6, 80, 40000);
	h_dump(&h, NULL, 0);
	CHECK_INT(h.nrecs, 6);
	CHECK_REC(&h, 0, 5, SOCK_NONE, SOCK_CLOSE, TRANSITION_HOW_DESTROY, 1001, HALF);
	CHECK_REC(&h, 1, 5, SOCK_CLOSE, SOCK_NONE, TRANSITION_HOW_DESTROY, 1001, HALF);
	CHECK_SUM(&h, 2, 5, 500000);
	CHECK_REC(&h, 3, 6, SOCK_NONE, SOCK_CLOSE, TRANSITION_HOW_DESTROY, 1001, HALF);
	CHECK_INT(h.recs[3].sk.kind, SOCK_KIND_GONE);
	h_release(&h);
}

/* A request socket's connection completed and died between polls. */
static void test_request(void)
{
	struct harness h;
	struct sock req = test_sock(7, SOCK_SYN_RECV, SOCK_KIND_REQUEST, 80, 40000);

	h_init(&h, 100);
	h_dump(&h, &req, 1);
	h_event(&h, 7, 80, 40000);
	h_dump(&h, NULL, 0);
	CHECK_INT(h.nrecs, 3);
	CHECK_REC(&h, 0, 7, SOCK_SYN_RECV, SOCK_ESTABLISHED, TRANSITION_HOW_DESTROY, 1001, HALF);
	CHECK_REC(&h, 1, 7, SOCK_ESTABLISHED, SOCK_NONE, TRANSITION_HOW_DESTROY, 1001, HALF);
	CHECK_SUM(&h, 2, 7, 500000);
	h_release(&h);
}

/* A listener has no summary. */
static void test_listener(void)
{
	struct harness h;
	struct sock lst = test_sock(3, SOCK_LISTEN, SOCK_KIND_FULL, 80, 0);

	h_init(&h, 100);
	h_dump(&h, &lst, 1);
	h_event(&h, 3, 80, 0);
	h_dump(&h, NULL, 0);
	CHECK_INT(h.nrecs, 1);
	CHECK_REC(&h, 0, 3, SOCK_LISTEN, SOCK_NONE, TRANSITION_HOW_DESTROY, 1001, HALF);
	h_release(&h);
}

/* With a hold, a full socket missed by two dumps is not gone yet: its
 * notification settles it; without one, it goes after the hold, at the time
 * of the last dump that missed it. Minisockets are not held. */
static void test_hold(void)
{
	struct harness h;
	struct sock socks[2] = {
	    test_sock(7, SOCK_ESTABLISHED, SOCK_KIND_FULL, 40000, 80),
	    test_sock(8, SOCK_ESTABLISHED, SOCK_KIND_FULL, 40001, 80),
	};
	struct sock tw = test_sock(9, SOCK_TIME_WAIT, SOCK_KIND_TIMEWAIT, 40002, 80);
	struct sock all[3] = {socks[0], socks[1], tw};

	h_init(&h, 100);
	tracker_set_hold(h.t, 1500);
	h_dump(&h, all, 3);  /* 1001 */
	h_dump(&h, NULL, 0); /* 1002: all missing */
	CHECK_INT(h.nrecs, 0);
	h_dump(&h, NULL, 0); /* 1003: the minisocket goes, the others are held */
	CHECK_INT(h.nrecs, 1);
	CHECK_REC(&h, 0, 9, SOCK_TIME_WAIT, SOCK_NONE, TRANSITION_HOW_POLL, 1002, 0);
	h_event(&h, 7, 40000, 80);
	h_dump(&h, NULL, 0); /* 1004: 7 by its notification, 8 after the hold */
	CHECK_INT(h.nrecs, 3);
	CHECK_REC(&h, 0, 7, SOCK_ESTABLISHED, SOCK_NONE, TRANSITION_HOW_DESTROY, 1003, HALF);
	CHECK_SUM(&h, 1, 7, 2500000);
	CHECK_REC(&h, 2, 8, SOCK_ESTABLISHED, SOCK_NONE, TRANSITION_HOW_POLL, 1003, 0);
	/* 8's notification, if it comes now, is no second close. */
	h_event(&h, 8, 40001, 80);
	h_dump(&h, NULL, 0);
	CHECK_INT(h.nrecs, 0);
	h_release(&h);
}

/* The queue's limit. */
static void test_limit(void)
{
	struct reconcile rec;
	struct sock sk = test_sock(1, SOCK_CLOSE, SOCK_KIND_GONE, 1, 2);
	struct sock_info info = {0};
	struct timespec ts = {1, 0};

	reconcile_init(&rec, 2);
	CHECK_INT(reconcile_add(&rec, &sk, &info, &ts), 0);
	CHECK_INT(reconcile_add(&rec, &sk, &info, &ts), 0);
	CHECK_INT(reconcile_add(&rec, &sk, &info, &ts), -ENOBUFS);
	CHECK_INT(rec.stats.overflow, 1);
	CHECK_INT(rec.stats.events, 2);
	reconcile_discard(&rec);
	CHECK_INT(reconcile_add(&rec, &sk, &info, &ts), 0);
	reconcile_release(&rec);
}

/* A notification about SK, half a second after the latest dump. */
static void h_event_sk(struct harness *h, const struct sock *sk, const struct sock_info *info)
{
	struct timespec ts = {.tv_sec = h->now, .tv_nsec = 500000000};

	CHECK_INT(tracker_add_event(h->t, sk, info, &ts), 0);
}

/*
 * One connection's two ends, from the handshake to an orderly close: each
 * record carries the time in the state left, the role, the other end's
 * cookie and the owner learnt once; the summary says who closed first.
 */
static void test_story(void)
{
	struct harness h;
	struct sock lst = test_sock(1, SOCK_LISTEN, SOCK_KIND_FULL, 80, 0);
	struct sock cli = test_sock(7, SOCK_SYN_SENT, SOCK_KIND_FULL, 40000, 80);
	struct sock srv = test_sock(8, SOCK_SYN_RECV, SOCK_KIND_REQUEST, 80, 40000);
	struct sock a[3], gone = test_sock(8, SOCK_CLOSE, SOCK_KIND_GONE, 80, 40000);
	struct sock_info info = {.bytes_acked = 5, .has = SOCK_INFO_HAS_BYTES};

	cli.uid = 1000;
	cli.inode = 77;
	h_init(&h, 100);
	tracker_set_hold(h.t, 1000);
	a[0] = lst, a[1] = cli, a[2] = srv;
	h_dump(&h, a, 3); /* 1001 */
	h_dump(&h, a, 3); /* 1002: no change */
	CHECK_INT(h.nrecs, 0);
	a[1].state = SOCK_ESTABLISHED;
	a[2].state = SOCK_ESTABLISHED;
	a[2].kind = SOCK_KIND_FULL;
	a[2].uid = 1001;
	a[2].inode = 88;
	h_dump(&h, a, 3); /* 1003 */
	CHECK_INT(h.nrecs, 2);
	for (size_t i = 0; i < 2 && i < h.nrecs; i++) {
		const struct rec *r = &h.recs[i];
		int is_cli = r->sk.cookie == 7;

		CHECK_INT(r->has_in_state, 1);
		CHECK_INT(r->in_state_us, 2000000); /* from 1001 to 1003 */
		CHECK_INT(r->conn.role, is_cli ? TRANSITION_ROLE_CLIENT : TRANSITION_ROLE_SERVER);
		CHECK_INT(r->conn.peer, is_cli ? 8 : 7);
		CHECK_INT(r->conn.uid, is_cli ? 1000 : 1001);
	}
	/* The client closes first; the server's end is an orphan in LAST_ACK,
	 * with no inode of its own. */
	a[1].state = SOCK_FIN_WAIT2;
	a[2].state = SOCK_LAST_ACK;
	a[2].inode = 0;
	h_dump(&h, a, 3); /* 1004 */
	CHECK_INT(h.nrecs, 2);
	CHECK_INT(h.recs[1].conn.inode, 88);
	h_event_sk(&h, &gone, &info);
	h_dump(&h, a, 2); /* 1005 */
	CHECK_INT(h.nrecs, 2);
	CHECK_REC(&h, 0, 8, SOCK_LAST_ACK, SOCK_NONE, TRANSITION_HOW_DESTROY, 1004, HALF);
	CHECK_INT(h.recs[0].in_state_us, HALF / 1000);
	CHECK_INT(h.recs[1].summary, 1);
	CHECK_INT(h.recs[1].outcome, TRANSITION_OUTCOME_FIN);
	CHECK_INT(h.recs[1].closer, TRANSITION_SIDE_REMOTE);
	CHECK_INT(h.recs[1].conn.peer, 7);
	CHECK_INT(h.recs[1].conn.inode, 88);
	CHECK_INT(h.recs[1].info.has, SOCK_INFO_HAS_BYTES);
	h_release(&h);
}

/* The probe's answers for a held socket a dump missed. */
static int absent(void *user, const struct sock *sk)
{
	(void)user;
	(void)sk;
	return 0;
}

static int present(void *user, const struct sock *sk)
{
	(void)user;
	(void)sk;
	return 1;
}

/* While the probe reads notifications, the one of a socket freed during the
 * dump comes. */
static int absent_freed(void *user, const struct sock *sk)
{
	struct harness *h = user;
	struct sock gone = *sk;
	struct sock_info none = {0};

	gone.kind = SOCK_KIND_GONE;
	h_event_sk(h, &gone, &none);
	return 0;
}

/*
 * A RST closes a socket its application holds: the first dump that misses
 * it moves it to CLOSE, at once, and its notification, when the application
 * lets go, ends it with its figures and no second close. A socket the kernel
 * still has is held as before; one whose notification came while the dump
 * ran is left to it.
 */
static void test_closed_while_held(void)
{
	struct harness h;
	struct sock est = test_sock(7, SOCK_ESTABLISHED, SOCK_KIND_FULL, 40000, 80);
	struct sock gone = test_sock(7, SOCK_CLOSE, SOCK_KIND_GONE, 40000, 80);
	struct sock_info info = {.bytes_acked = 5, .has = SOCK_INFO_HAS_BYTES};

	est.inode = 77;
	h_init(&h, 100);
	tracker_set_hold(h.t, 1000);
	tracker_set_probe(h.t, absent, &h);
	h_dump(&h, &est, 1); /* 1001 */
	h_dump(&h, NULL, 0); /* 1002: the first dump that misses it */
	CHECK_INT(h.nrecs, 1);
	CHECK_REC(&h, 0, 7, SOCK_ESTABLISHED, SOCK_CLOSE, TRANSITION_HOW_POLL, 1002, 0);
	CHECK_INT(h.recs[0].in_state_us, 1000000);
	h_dump(&h, NULL, 0); /* 1003, 1004: held past the hold, in CLOSE */
	h_dump(&h, NULL, 0);
	CHECK_INT(h.nrecs, 0);
	h_event_sk(&h, &gone, &info);
	h_dump(&h, NULL, 0); /* 1005 */
	CHECK_INT(h.nrecs, 2);
	CHECK_REC(&h, 0, 7, SOCK_CLOSE, SOCK_NONE, TRANSITION_HOW_DESTROY, 1004, HALF);
	CHECK_INT(h.recs[0].in_state_us, 2500000);
	CHECK_INT(h.recs[1].summary, 1);
	CHECK_INT(h.recs[1].outcome, TRANSITION_OUTCOME_RESET);
	CHECK_INT(h.recs[1].closer, TRANSITION_SIDE_REMOTE);
	CHECK_INT(h.recs[1].info.bytes_acked, 5);
	h_release(&h);

	h_init(&h, 100);
	tracker_set_hold(h.t, 1500);
	tracker_set_probe(h.t, present, &h);
	h_dump(&h, &est, 1);
	h_dump(&h, NULL, 0); /* still there: a dump that raced */
	CHECK_INT(h.nrecs, 0);
	h_release(&h);

	h_init(&h, 100);
	tracker_set_hold(h.t, 1000);
	tracker_set_probe(h.t, absent_freed, &h);
	h_dump(&h, &est, 1);
	h_dump(&h, NULL, 0); /* 1002: freed during the dump */
	CHECK_INT(h.nrecs, 0);
	h_dump(&h, NULL, 0); /* 1003: its notification ends it */
	CHECK_INT(h.nrecs, 2);
	CHECK_REC(&h, 0, 7, SOCK_ESTABLISHED, SOCK_NONE, TRANSITION_HOW_DESTROY, 1002, HALF);
	h_release(&h);
}

/*
 * The aborting end: tcp_disconnect() cleared its remote port and zeroed its
 * figures, which the summary leaves out. Never dumped, a client with no
 * local other end had its connect refused; with one (a neighbour in the
 * batch), the two are each other's peer, the other end reset by it.
 */
static void test_aborts(void)
{
	struct harness h;
	struct sock est = test_sock(7, SOCK_ESTABLISHED, SOCK_KIND_FULL, 40000, 80);
	struct sock ev = test_sock(7, SOCK_CLOSE, SOCK_KIND_GONE, 40000, 80);
	struct sock srv = test_sock(12, SOCK_CLOSE, SOCK_KIND_GONE, 80, 41000);
	struct sock_info zeroed = {.has = SOCK_INFO_HAS_BYTES | SOCK_INFO_HAS_RTT};
	struct sock_info real = {.bytes_acked = 4, .has = SOCK_INFO_HAS_BYTES};

	h_init(&h, 100);
	h_dump(&h, &est, 1);
	ev.tuple.rport = 0;
	h_event_sk(&h, &ev, &zeroed);
	h_dump(&h, NULL, 0);
	CHECK_INT(h.nrecs, 2);
	CHECK_INT(h.recs[1].summary, 1);
	CHECK_INT(h.recs[1].outcome, TRANSITION_OUTCOME_RESET);
	CHECK_INT(h.recs[1].closer, TRANSITION_SIDE_LOCAL);
	CHECK_INT(h.recs[1].info.has, 0);

	/* Never dumped, alone: refused. */
	ev.cookie = 10;
	ev.tuple.lport = 40500;
	h_event_sk(&h, &ev, &zeroed);
	h_dump(&h, NULL, 0);
	CHECK_INT(h.nrecs, 3);
	CHECK_INT(h.recs[2].outcome, TRANSITION_OUTCOME_REFUSED);
	CHECK_INT(h.recs[2].conn.role, TRANSITION_ROLE_CLIENT);

	/* Never dumped, with its other end in the batch. */
	ev.cookie = 11;
	ev.tuple.lport = 41000;
	h_event_sk(&h, &ev, &zeroed);
	h_event_sk(&h, &srv, &real);
	h_dump(&h, NULL, 0);
	CHECK_INT(h.nrecs, 6);
	CHECK_INT(h.recs[2].outcome, TRANSITION_OUTCOME_RESET);
	CHECK_INT(h.recs[2].closer, TRANSITION_SIDE_LOCAL);
	CHECK_INT(h.recs[2].conn.peer, 12);
	CHECK_INT(h.recs[5].outcome, TRANSITION_OUTCOME_RESET);
	CHECK_INT(h.recs[5].closer, TRANSITION_SIDE_REMOTE);
	CHECK_INT(h.recs[5].conn.peer, 11);
	CHECK_INT(h.recs[5].info.bytes_acked, 4);
	h_release(&h);
}

/* An accepted socket gets its inode with no change of state (accept());
 * its orphan's records still carry it. */
static void test_inode_at_accept(void)
{
	struct harness h;
	struct sock srv = test_sock(8, SOCK_ESTABLISHED, SOCK_KIND_FULL, 80, 40000);

	h_init(&h, 100);
	h_dump(&h, &srv, 1); /* 1001: in the accept queue, no inode */
	srv.inode = 88;
	h_dump(&h, &srv, 1); /* 1002: accepted */
	CHECK_INT(h.nrecs, 0);
	srv.state = SOCK_FIN_WAIT1;
	srv.inode = 0;
	h_dump(&h, &srv, 1); /* 1003: closed, an orphan */
	CHECK_INT(h.nrecs, 1);
	CHECK_INT(h.recs[0].conn.inode, 88);
	h_release(&h);
}

int main(void)
{
	test_tracked_close();
	test_missing_then_event();
	test_duplicate();
	test_tracked_time_wait();
	test_untracked_time_wait();
	test_late_event_time_wait();
	test_between_polls();
	test_request();
	test_listener();
	test_hold();
	test_limit();
	test_story();
	test_closed_while_held();
	test_aborts();
	test_inode_at_accept();
	return CHECK_DONE();
}
