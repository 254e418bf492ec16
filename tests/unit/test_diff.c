/*
 * test_diff.c - the transition semantics of diff_run().
 *
 * The tests drive the diff as a poll does: two tables swapped after every
 * successful diff, the next one cleared before it is filled, and its "taken"
 * time set before the diff runs. A dump is put into the table (indexed,
 * repeats folded) or appended unindexed with its repeats left for the diff,
 * then diff_match(); or it goes through the tracker, which adds it to the
 * diff socket by socket, as the daemon does (harness.fill). Each dump here
 * is one second after the previous one, so a record's time says which dump
 * produced it.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "check.h"
#include "socks.h"
#include "diff.h"
#include "snapshot.h"
#include "sock.h"
#include "tracker.h"

/* A copy of one transition: the socket it points to lives in a table that
 * later dumps reuse. */
struct rec {
	struct timespec ts;
	struct sock sk;
	uint8_t from, to, how;
};

#define RECS_MAX 4096

struct harness {
	struct snapshot tables[2];
	struct snapshot *cur, *next;
	struct diff diff;
	struct tracker *t; /* FILL_TRACKER's: it has tables of its own */
	int have_first;
	time_t now; /* seconds; the time of the latest dump */
	struct rec recs[RECS_MAX];
	size_t nrecs; /* records of the latest dump */
	int fail_at;  /* fail the callback on this record (1-based); 0 = never */
	int fail_with;
	int calls; /* callbacks of the latest dump, failed one included */
	enum { FILL_PUT, FILL_APPEND, FILL_TRACKER } fill; /* how a dump fills the table */
};

static int collect(const struct transition *t, void *user)
{
	struct harness *h = user;

	h->calls++;
	if (h->fail_at && h->calls == h->fail_at)
		return h->fail_with;
	if (h->nrecs < RECS_MAX)
		h->recs[h->nrecs++] = (struct rec){
		    .ts = t->ts, .sk = *t->sk, .from = t->from, .to = t->to, .how = t->how};
	return 0;
}

static void h_init(struct harness *h)
{
	memset(h, 0, sizeof(*h));
	snapshot_init(&h->tables[0]);
	snapshot_init(&h->tables[1]);
	h->cur = &h->tables[0];
	h->next = &h->tables[1];
	diff_init(&h->diff);
	CHECK_INT(tracker_new(&h->t, 0), 0);
	h->now = 1000;
}

static void h_release(struct harness *h)
{
	snapshot_release(&h->tables[0]);
	snapshot_release(&h->tables[1]);
	diff_release(&h->diff);
	tracker_free(h->t);
}

static int collect_poll(const struct transition *t, const struct summary *s, void *user)
{
	(void)s; /* none: no notifications */
	return collect(t, user);
}

/* h_dump() through the tracker: h->cur becomes its table, h->next the
 * older table of the diff. */
static int h_poll(struct harness *h, const struct sock *socks, size_t n)
{
	struct snapshot *old = tracker_table(h->t);
	struct test_dump dump = {.socks = socks, .n = n, .now = &h->now};
	int err;

	h->nrecs = 0;
	h->calls = 0;
	err = tracker_poll(h->t, test_dump_fill, &dump, collect_poll, h);
	if (err)
		return err;
	h->next = old;
	h->cur = tracker_table(h->t);
	return 0;
}

/* One poll: the dump returned the N sockets of SOCKS. Returns the diff's value. */
static int h_dump(struct harness *h, const struct sock *socks, size_t n)
{
	struct snapshot *swap;
	int err;

	if (h->fill == FILL_TRACKER)
		return h_poll(h, socks, n);
	snapshot_clear(h->next);
	for (size_t i = 0; i < n; i++) {
		if (h->fill == FILL_APPEND)
			CHECK_INT(snapshot_append(h->next, &socks[i]), 0);
		else
			CHECK(snapshot_put(h->next, &socks[i]) >= 0);
	}
	h->now++;
	h->next->taken = (struct timespec){.tv_sec = h->now, .tv_nsec = 0};
	h->nrecs = 0;
	h->calls = 0;
	err = diff_match(&h->diff, h->cur, h->next);
	if (!err)
		err = diff_report(&h->diff, h->cur, h->next,
		                  h->have_first ? TRANSITION_HOW_POLL : TRANSITION_HOW_INITIAL,
		                  collect, h);
	if (err)
		return err;
	h->have_first = 1;
	swap = h->cur;
	h->cur = h->next;
	h->next = swap;
	return 0;
}

/* A full socket 127.0.0.1:LPORT -> 127.0.0.1:RPORT (RPORT 0: no peer). */
static struct sock mk(uint64_t cookie, unsigned state, uint16_t lport, uint16_t rport)
{
	return test_sock(cookie, state, SOCK_KIND_FULL, lport, rport);
}

/* Checks record I of the latest dump. TS is the dump time (seconds) it must carry. */
#define CHECK_REC(h, i, cookie_, from_, to_, how_, ts_)                                            \
	do {                                                                                       \
		CHECK((size_t)(i) < (h)->nrecs);                                                   \
		if ((size_t)(i) < (h)->nrecs) {                                                    \
			const struct rec *r_ = &(h)->recs[i];                                      \
			CHECK_INT(r_->sk.cookie, cookie_);                                         \
			CHECK_STR(sock_state_name(r_->from), sock_state_name(from_));              \
			CHECK_STR(sock_state_name(r_->to), sock_state_name(to_));                  \
			CHECK_STR(transition_how_name(r_->how), transition_how_name(how_));        \
			CHECK_INT(r_->ts.tv_sec, ts_);                                             \
			CHECK_INT(r_->ts.tv_nsec, 0);                                              \
		}                                                                                  \
	} while (0)

static void test_how_names(void)
{
	CHECK_STR(transition_how_name(TRANSITION_HOW_INITIAL), "initial");
	CHECK_STR(transition_how_name(TRANSITION_HOW_POLL), "poll");
	CHECK_STR(transition_how_name(TRANSITION_HOW_MAX), "unknown");
	CHECK_STR(transition_how_name(1000), "unknown");
}

/* The first dump reports every socket as "initial"; the next one only changes. */
static void test_initial(void)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct sock d1[] = {mk(1, SOCK_LISTEN, 9000, 0), mk(2, SOCK_ESTABLISHED, 40000, 9000),
	                    mk(3, SOCK_TIME_WAIT, 40001, 9000)};
	struct sock d2[] = {d1[0], d1[1], d1[2], mk(4, SOCK_SYN_SENT, 40002, 9000)};

	h_init(h);
	CHECK_INT(h_dump(h, NULL, 0), 0); /* an empty first dump: nothing to say */
	CHECK_INT(h->nrecs, 0);

	h_release(h);
	h_init(h);
	CHECK_INT(h_dump(h, d1, 3), 0);
	CHECK_INT(h->nrecs, 3);
	CHECK_REC(h, 0, 1, SOCK_NONE, SOCK_LISTEN, TRANSITION_HOW_INITIAL, 1001);
	CHECK_REC(h, 1, 2, SOCK_NONE, SOCK_ESTABLISHED, TRANSITION_HOW_INITIAL, 1001);
	CHECK_REC(h, 2, 3, SOCK_NONE, SOCK_TIME_WAIT, TRANSITION_HOW_INITIAL, 1001);
	CHECK_INT(snapshot_present(h->cur), 3);

	/* Unchanged sockets say nothing; a new one appears by poll. */
	CHECK_INT(h_dump(h, d2, 4), 0);
	CHECK_INT(h->nrecs, 1);
	CHECK_REC(h, 0, 4, SOCK_NONE, SOCK_SYN_SENT, TRANSITION_HOW_POLL, 1002);
	CHECK_INT(h_dump(h, d2, 4), 0);
	CHECK_INT(h->nrecs, 0);
	h_release(h);
	free(h);
}

/* Appear, change, and vanish after two dumps that missed it. */
static void test_lifecycle(void)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct sock l = mk(1, SOCK_LISTEN, 9000, 0);
	struct sock d_syn[] = {l, mk(7, SOCK_SYN_SENT, 40000, 9000)};
	struct sock d_est[] = {l, mk(7, SOCK_ESTABLISHED, 40000, 9000)};
	struct sock d_fin[] = {mk(7, SOCK_FIN_WAIT1, 40000, 9000), l};

	h_init(h);
	CHECK_INT(h_dump(h, &l, 1), 0);    /* 1001 */
	CHECK_INT(h_dump(h, d_syn, 2), 0); /* 1002 */
	CHECK_INT(h->nrecs, 1);
	CHECK_REC(h, 0, 7, SOCK_NONE, SOCK_SYN_SENT, TRANSITION_HOW_POLL, 1002);
	CHECK_INT(h_dump(h, d_est, 2), 0); /* 1003 */
	CHECK_INT(h->nrecs, 1);
	CHECK_REC(h, 0, 7, SOCK_SYN_SENT, SOCK_ESTABLISHED, TRANSITION_HOW_POLL, 1003);
	CHECK_INT(h_dump(h, d_fin, 2), 0); /* 1004: order in the dump does not matter */
	CHECK_INT(h->nrecs, 1);
	CHECK_REC(h, 0, 7, SOCK_ESTABLISHED, SOCK_FIN_WAIT1, TRANSITION_HOW_POLL, 1004);

	/* Missed once: carried, no record. */
	CHECK_INT(h_dump(h, &l, 1), 0); /* 1005 */
	CHECK_INT(h->nrecs, 0);
	CHECK_INT(h->cur->len, 2);
	CHECK_INT(snapshot_present(h->cur), 1);
	CHECK(snapshot_find(h->cur, 7) != NULL && snapshot_find(h->cur, 7)->missing);

	/* Missed twice: one record, stamped with the first dump that missed it. */
	CHECK_INT(h_dump(h, &l, 1), 0); /* 1006 */
	CHECK_INT(h->nrecs, 1);
	CHECK_REC(h, 0, 7, SOCK_FIN_WAIT1, SOCK_NONE, TRANSITION_HOW_POLL, 1005);
	CHECK(snapshot_find(h->cur, 7) == NULL);
	CHECK_INT(h->cur->len, 1);

	/* And never again. */
	CHECK_INT(h_dump(h, &l, 1), 0);
	CHECK_INT(h_dump(h, &l, 1), 0);
	CHECK_INT(h->nrecs, 0);

	/* The listener goes: the same rule. */
	CHECK_INT(h_dump(h, NULL, 0), 0); /* 1009 */
	CHECK_INT(h->nrecs, 0);
	CHECK_INT(h_dump(h, NULL, 0), 0); /* 1010 */
	CHECK_INT(h->nrecs, 1);
	CHECK_REC(h, 0, 1, SOCK_LISTEN, SOCK_NONE, TRANSITION_HOW_POLL, 1009);
	CHECK_INT(h->cur->len, 0);
	h_release(h);
	free(h);
}

/* A socket one dump missed and the next one has again: nothing happened to
 * it, unless it came back in another state. */
static void test_missing_once(void)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct sock a = mk(5, SOCK_ESTABLISHED, 40000, 9000);
	struct sock b = mk(6, SOCK_ESTABLISHED, 40001, 9000);
	struct sock b_cw = mk(6, SOCK_CLOSE_WAIT, 40001, 9000);
	struct sock both[] = {a, b};
	struct sock both2[] = {b_cw, a};

	h_init(h);
	CHECK_INT(h_dump(h, both, 2), 0); /* 1001 */
	CHECK_INT(h->nrecs, 2);
	CHECK_INT(h_dump(h, NULL, 0), 0); /* 1002: both missing */
	CHECK_INT(h->nrecs, 0);
	CHECK_INT(snapshot_present(h->cur), 0);
	CHECK_INT(h->cur->len, 2);
	CHECK_INT(h_dump(h, both2, 2), 0); /* 1003: back, one in another state */
	CHECK_INT(h->nrecs, 1);
	CHECK_REC(h, 0, 6, SOCK_ESTABLISHED, SOCK_CLOSE_WAIT, TRANSITION_HOW_POLL, 1003);
	CHECK_INT(snapshot_present(h->cur), 2);
	CHECK(snapshot_find(h->cur, 5) && !snapshot_find(h->cur, 5)->missing);

	/* Missing every other dump never reads as gone. */
	for (int i = 0; i < 6; i++) {
		CHECK_INT(h_dump(h, i % 2 ? both2 : &b_cw, i % 2 ? 2 : 1), 0);
		CHECK_INT(h->nrecs, 0);
	}
	h_release(h);
	free(h);
}

/* Vanishes come first in a diff, before appearances and changes. */
static void test_vanish_first(void)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct sock d1[] = {mk(1, SOCK_ESTABLISHED, 40001, 9000),
	                    mk(2, SOCK_ESTABLISHED, 40002, 9000)};
	struct sock d2[] = {mk(1, SOCK_ESTABLISHED, 40001, 9000)};
	struct sock d3[] = {mk(3, SOCK_SYN_SENT, 40003, 9000), mk(1, SOCK_FIN_WAIT1, 40001, 9000)};

	h_init(h);
	CHECK_INT(h_dump(h, d1, 2), 0); /* 1001 */
	CHECK_INT(h_dump(h, d2, 1), 0); /* 1002: 2 missing */
	CHECK_INT(h->nrecs, 0);
	CHECK_INT(h_dump(h, d3, 2), 0); /* 1003: 2 gone, 3 appears, 1 changes */
	CHECK_INT(h->nrecs, 3);
	CHECK_REC(h, 0, 2, SOCK_ESTABLISHED, SOCK_NONE, TRANSITION_HOW_POLL, 1002);
	CHECK_REC(h, 1, 3, SOCK_NONE, SOCK_SYN_SENT, TRANSITION_HOW_POLL, 1003);
	CHECK_REC(h, 2, 1, SOCK_ESTABLISHED, SOCK_FIN_WAIT1, TRANSITION_HOW_POLL, 1003);
	h_release(h);
	free(h);
}

/*
 * A new socket with the 4-tuple of a tracked one that the dump lacks: the old
 * one is gone for certain, and said so in the same diff, before the new one.
 */
static void test_tuple_reuse(void)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct sock old_tw = mk(10, SOCK_TIME_WAIT, 40000, 9000);
	struct sock new_syn = mk(11, SOCK_SYN_SENT, 40000, 9000);
	struct sock new_est = mk(11, SOCK_ESTABLISHED, 40000, 9000);

	old_tw.kind = SOCK_KIND_TIMEWAIT;
	h_init(h);
	CHECK_INT(h_dump(h, &old_tw, 1), 0);  /* 1001 */
	CHECK_INT(h_dump(h, &new_syn, 1), 0); /* 1002 */
	CHECK_INT(h->nrecs, 2);
	CHECK_REC(h, 0, 10, SOCK_TIME_WAIT, SOCK_NONE, TRANSITION_HOW_POLL, 1002);
	CHECK_REC(h, 1, 11, SOCK_NONE, SOCK_SYN_SENT, TRANSITION_HOW_POLL, 1002);
	if (h->nrecs == 2) {
		CHECK(h->recs[0].sk.cookie != h->recs[1].sk.cookie);
		CHECK(sock_tuple_equal(&h->recs[0].sk.tuple, &h->recs[1].sk.tuple));
	}
	CHECK(snapshot_find(h->cur, 10) == NULL); /* not carried as missing */
	CHECK_INT(h->cur->len, 1);
	CHECK_INT(h_dump(h, &new_est, 1), 0); /* 1003: no second vanish of 10 */
	CHECK_INT(h->nrecs, 1);
	CHECK_REC(h, 0, 11, SOCK_SYN_SENT, SOCK_ESTABLISHED, TRANSITION_HOW_POLL, 1003);
	CHECK_INT(h_dump(h, &new_est, 1), 0);
	CHECK_INT(h->nrecs, 0);

	/* The old socket was already missing: gone now, at its first-missed time. */
	h_release(h);
	h_init(h);
	CHECK_INT(h_dump(h, &old_tw, 1), 0); /* 1001 */
	CHECK_INT(h_dump(h, NULL, 0), 0);    /* 1002 */
	CHECK_INT(h->nrecs, 0);
	CHECK_INT(h_dump(h, &new_syn, 1), 0); /* 1003 */
	CHECK_INT(h->nrecs, 2);
	CHECK_REC(h, 0, 10, SOCK_TIME_WAIT, SOCK_NONE, TRANSITION_HOW_POLL, 1002);
	CHECK_REC(h, 1, 11, SOCK_NONE, SOCK_SYN_SENT, TRANSITION_HOW_POLL, 1003);
	CHECK_INT(h_dump(h, &new_syn, 1), 0);
	CHECK_INT(h->nrecs, 0);

	/* The same 4-tuple in another family is another 4-tuple. */
	h_release(h);
	h_init(h);
	new_syn.tuple.family = AF_INET6;
	CHECK_INT(h_dump(h, &old_tw, 1), 0);  /* 1001 */
	CHECK_INT(h_dump(h, &new_syn, 1), 0); /* 1002 */
	CHECK_INT(h->nrecs, 1);
	CHECK_REC(h, 0, 11, SOCK_NONE, SOCK_SYN_SENT, TRANSITION_HOW_POLL, 1002);
	h_release(h);
	free(h);
}

/*
 * A diff where one socket is gone at once (its 4-tuple was reused) and another
 * is gone after two dumps: the latter's record carries the older time and
 * must come first, or record times would go backwards within the diff.
 */
static void test_vanish_order_by_time(void)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct sock d1[] = {mk(1, SOCK_ESTABLISHED, 40001, 9000),
	                    mk(2, SOCK_ESTABLISHED, 40002, 9000)};
	struct sock d2[] = {mk(1, SOCK_ESTABLISHED, 40001, 9000)};
	struct sock d3[] = {mk(3, SOCK_SYN_SENT, 40001, 9000)};

	h_init(h);
	CHECK_INT(h_dump(h, d1, 2), 0); /* 1001 */
	CHECK_INT(h_dump(h, d2, 1), 0); /* 1002: 2 missing */
	CHECK_INT(h_dump(h, d3, 1), 0); /* 1003: 2 gone, 1 replaced by 3 */
	CHECK_INT(h->nrecs, 3);
	CHECK_REC(h, 0, 2, SOCK_ESTABLISHED, SOCK_NONE, TRANSITION_HOW_POLL, 1002);
	CHECK_REC(h, 1, 1, SOCK_ESTABLISHED, SOCK_NONE, TRANSITION_HOW_POLL, 1003);
	CHECK_REC(h, 2, 3, SOCK_NONE, SOCK_SYN_SENT, TRANSITION_HOW_POLL, 1003);
	h_release(h);
	free(h);
}

/* Listeners may share a 4-tuple (SO_REUSEPORT), and sockets without a peer
 * have none to lose: neither is reported gone at once. */
static void test_shared_tuple(void)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct sock l1 = mk(1, SOCK_LISTEN, 9000, 0);
	struct sock l2 = mk(2, SOCK_LISTEN, 9000, 0);
	struct sock both[] = {l1, l2};
	struct sock c1 = mk(3, SOCK_CLOSE, 5000, 0);
	struct sock c2 = mk(4, SOCK_CLOSE, 5000, 0);

	h_init(h);
	CHECK_INT(h_dump(h, both, 2), 0); /* 1001: both listeners, both reported */
	CHECK_INT(h->nrecs, 2);
	CHECK_REC(h, 0, 1, SOCK_NONE, SOCK_LISTEN, TRANSITION_HOW_INITIAL, 1001);
	CHECK_REC(h, 1, 2, SOCK_NONE, SOCK_LISTEN, TRANSITION_HOW_INITIAL, 1001);

	h_release(h);
	h_init(h);
	CHECK_INT(h_dump(h, &l1, 1), 0); /* 1001 */
	CHECK_INT(h_dump(h, &l2, 1), 0); /* 1002: l1 missed once, l2 appears */
	CHECK_INT(h->nrecs, 1);
	CHECK_REC(h, 0, 2, SOCK_NONE, SOCK_LISTEN, TRANSITION_HOW_POLL, 1002);
	CHECK(snapshot_find(h->cur, 1) && snapshot_find(h->cur, 1)->missing);
	CHECK_INT(h_dump(h, both, 2), 0); /* 1003: l1 back */
	CHECK_INT(h->nrecs, 0);
	CHECK_INT(h_dump(h, &l2, 1), 0); /* 1004 */
	CHECK_INT(h->nrecs, 0);
	CHECK_INT(h_dump(h, &l2, 1), 0); /* 1005 */
	CHECK_INT(h->nrecs, 1);
	CHECK_REC(h, 0, 1, SOCK_LISTEN, SOCK_NONE, TRANSITION_HOW_POLL, 1004);

	/* Unconnected sockets bound to the same port. */
	CHECK_INT(h_dump(h, &c1, 1), 0); /* 1006: l2 missed */
	CHECK_INT(h->nrecs, 1);
	CHECK_REC(h, 0, 3, SOCK_NONE, SOCK_CLOSE, TRANSITION_HOW_POLL, 1006);
	CHECK_INT(h_dump(h, &c2, 1), 0); /* 1007 */
	CHECK_INT(h->nrecs, 2);
	CHECK_REC(h, 0, 2, SOCK_LISTEN, SOCK_NONE, TRANSITION_HOW_POLL, 1006);
	CHECK_REC(h, 1, 4, SOCK_NONE, SOCK_CLOSE, TRANSITION_HOW_POLL, 1007);
	CHECK(snapshot_find(h->cur, 3) && snapshot_find(h->cur, 3)->missing);
	h_release(h);
	free(h);
}

/* A socket keeps the 4-tuple it was first seen with: a closed socket has
 * given its local port back, and the kernel reports port 0. */
static void test_first_seen_tuple(void)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct sock est = mk(9, SOCK_ESTABLISHED, 40000, 9000);
	struct sock closed = mk(9, SOCK_CLOSE, 0, 9000);
	struct sock other = mk(12, SOCK_SYN_SENT, 0, 9000);
	struct sock d4[] = {closed, other};
	struct snapshot_entry *e;

	h_init(h);
	CHECK_INT(h_dump(h, &est, 1), 0);    /* 1001 */
	CHECK_INT(h_dump(h, &closed, 1), 0); /* 1002 */
	CHECK_INT(h->nrecs, 1);
	CHECK_REC(h, 0, 9, SOCK_ESTABLISHED, SOCK_CLOSE, TRANSITION_HOW_POLL, 1002);
	if (h->nrecs == 1)
		CHECK_INT(h->recs[0].sk.tuple.lport, 40000);
	e = snapshot_find(h->cur, 9);
	CHECK(e && e->sk.tuple.lport == 40000 && e->sk.tuple.rport == 9000);
	CHECK(e && e->sk.state == SOCK_CLOSE);

	/* A new socket with the 4-tuple the dump now reports for the old one
	 * does not make it gone: its own 4-tuple is the first-seen one. */
	CHECK_INT(h_dump(h, d4, 2), 0); /* 1003 */
	CHECK_INT(h->nrecs, 1);
	CHECK_REC(h, 0, 12, SOCK_NONE, SOCK_SYN_SENT, TRANSITION_HOW_POLL, 1003);

	CHECK_INT(h_dump(h, &other, 1), 0); /* 1004: 9 missed */
	CHECK_INT(h->nrecs, 0);
	e = snapshot_find(h->cur, 9);
	CHECK(e && e->missing && e->sk.tuple.lport == 40000);
	CHECK_INT(h_dump(h, &other, 1), 0); /* 1005: 9 gone */
	CHECK_INT(h->nrecs, 1);
	CHECK_REC(h, 0, 9, SOCK_CLOSE, SOCK_NONE, TRANSITION_HOW_POLL, 1004);
	if (h->nrecs == 1)
		CHECK_INT(h->recs[0].sk.tuple.lport, 40000);
	h_release(h);
	free(h);
}

/* A nonzero callback value stops the diff and is returned as it is; the
 * tables are left for the caller to retry the next dump against. */
static void test_callback_error(void)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct sock d1[] = {mk(1, SOCK_ESTABLISHED, 40001, 9000),
	                    mk(2, SOCK_ESTABLISHED, 40002, 9000),
	                    mk(3, SOCK_ESTABLISHED, 40003, 9000)};
	struct sock d2[] = {mk(4, SOCK_ESTABLISHED, 40002, 9000)};

	h_init(h);
	h->fail_at = 2;
	h->fail_with = -EIO;
	CHECK_INT(h_dump(h, d1, 3), -EIO);
	CHECK_INT(h->calls, 2);
	CHECK_INT(h->nrecs, 1);
	CHECK_INT(h->cur->len, 0); /* not swapped: the current table is unchanged */

	h->fail_at = 3;
	h->fail_with = 7; /* any nonzero value, not only -errno */
	CHECK_INT(h_dump(h, d1, 3), 7);
	CHECK_INT(h->calls, 3);

	h->fail_at = 0;
	CHECK_INT(h_dump(h, d1, 3), 0);
	CHECK_INT(h->nrecs, 3);
	CHECK_REC(h, 0, 1, SOCK_NONE, SOCK_ESTABLISHED, TRANSITION_HOW_INITIAL, 1003);

	/* A failing vanish record stops the diff before the appearances. */
	h->fail_at = 1;
	h->fail_with = -ENOSPC;
	CHECK_INT(h_dump(h, d2, 1), -ENOSPC); /* 2 gone at once (tuple reused) */
	CHECK_INT(h->calls, 1);
	CHECK_INT(h->nrecs, 0);
	h->fail_at = 0;
	CHECK_INT(h_dump(h, d2, 1), 0);
	CHECK_INT(h->nrecs, 2);
	CHECK_REC(h, 0, 2, SOCK_ESTABLISHED, SOCK_NONE, TRANSITION_HOW_POLL, 1005);
	CHECK_REC(h, 1, 4, SOCK_NONE, SOCK_ESTABLISHED, TRANSITION_HOW_POLL, 1005);
	h_release(h);
	free(h);
}

/* A dump that returned a socket twice: one entry, no extra record. */
static void test_repeat_in_dump(void)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct sock d1[] = {mk(1, SOCK_SYN_SENT, 40001, 9000), mk(2, SOCK_LISTEN, 9000, 0),
	                    mk(1, SOCK_ESTABLISHED, 40001, 9000)};

	for (int fill = FILL_PUT; fill <= FILL_TRACKER; fill++) {
		h_init(h);
		h->fill = fill;
		CHECK_INT(h_dump(h, d1, 3), 0);
		CHECK_INT(h->nrecs, 2);
		CHECK_REC(h, 0, 1, SOCK_NONE, SOCK_ESTABLISHED, TRANSITION_HOW_INITIAL, 1001);
		CHECK_REC(h, 1, 2, SOCK_NONE, SOCK_LISTEN, TRANSITION_HOW_INITIAL, 1001);
		CHECK_INT(h->cur->repeats, 1);
		CHECK_INT(h->cur->len, 2);
		h_release(h);
	}
	free(h);
}

/*
 * Repeats of known sockets in a dump: the later copy wins, and a
 * change it brings is reported in the first copy's place, after the changes
 * before it in the dump and before the ones after it.
 */
static void test_repeat_of_known(void)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct sock d1[] = {mk(1, SOCK_ESTABLISHED, 40001, 9000), mk(2, SOCK_LISTEN, 9000, 0),
	                    mk(4, SOCK_ESTABLISHED, 40004, 9000)};
	struct sock d2[] = {d1[0],
	                    mk(3, SOCK_SYN_SENT, 40003, 9000),
	                    d1[1],
	                    mk(4, SOCK_CLOSE_WAIT, 40004, 9000),
	                    mk(1, SOCK_FIN_WAIT1, 40001, 9000),
	                    d1[1]};

	for (int fill = FILL_APPEND; fill <= FILL_TRACKER; fill++) {
		h_init(h);
		h->fill = fill;
		CHECK_INT(h_dump(h, d1, 3), 0);
		CHECK_INT(h_dump(h, d2, 6), 0);
		CHECK_INT(h->nrecs, 3);
		CHECK_REC(h, 0, 1, SOCK_ESTABLISHED, SOCK_FIN_WAIT1, TRANSITION_HOW_POLL, 1002);
		CHECK_REC(h, 1, 3, SOCK_NONE, SOCK_SYN_SENT, TRANSITION_HOW_POLL, 1002);
		CHECK_REC(h, 2, 4, SOCK_ESTABLISHED, SOCK_CLOSE_WAIT, TRANSITION_HOW_POLL, 1002);
		CHECK_INT(h->cur->repeats, 2);
		CHECK_INT(h->cur->len, 4);
		CHECK(snapshot_find(h->cur, 1) &&
		      snapshot_find(h->cur, 1)->sk.state == SOCK_FIN_WAIT1);
		/* The next dump without repeats: nothing changed. */
		CHECK_INT(h_dump(h, (struct sock[]){d2[4], d2[1], d2[2], d2[3]}, 4), 0);
		CHECK_INT(h->nrecs, 0);
		h_release(h);
	}
	free(h);
}

/*
 * The diff reads the older table in sequence: a steady state, a socket gone
 * from the middle or one that appeared need no index of it (a new socket is
 * proved new by one pass over the older table, which only a socket out of
 * place or a notification makes).
 */
static void test_sequential_match(void)
{
	enum { N = 300 };
	struct harness *h = calloc(1, sizeof(*h));
	struct sock d[N + 1];

	for (int i = 0; i < N; i++)
		d[i] = mk((uint64_t)i + 1, SOCK_ESTABLISHED, (uint16_t)(40000 + i), 9000);
	h_init(h);
	h->fill = FILL_TRACKER;
	CHECK_INT(h_dump(h, d, N), 0);
	CHECK_INT(h_dump(h, d, N), 0);
	CHECK_INT(h->nrecs, 0);
	CHECK_INT(h->next->indexed, 0); /* the older table of that diff */

	memmove(&d[100], &d[101], (N - 101) * sizeof(*d)); /* cookie 101 closes */
	CHECK_INT(h_dump(h, d, N - 1), 0);
	CHECK_INT(h->nrecs, 0);
	CHECK_INT(h->next->indexed, 0);
	CHECK_INT(h->cur->len, N); /* carried as missing */

	d[N - 1] = mk(1000, SOCK_SYN_SENT, 50000, 9000);
	CHECK_INT(h_dump(h, d, N), 0);
	CHECK_INT(h->nrecs, 2);
	CHECK_REC(h, 0, 101, SOCK_ESTABLISHED, SOCK_NONE, TRANSITION_HOW_POLL, 1003);
	CHECK_REC(h, 1, 1000, SOCK_NONE, SOCK_SYN_SENT, TRANSITION_HOW_POLL, 1004);
	CHECK_INT(h->next->indexed, 0);
	h_release(h);
	free(h);
}

/*
 * A socket far out of its place in the dump is not new, nor is the one it
 * displaced gone; a repeat whose first copy is the one out of place keeps
 * that place, with the later copy's data.
 */
static void test_far_reorder(void)
{
	enum { N = 40 };
	struct harness *h = calloc(1, sizeof(*h));
	struct sock d[N + 1];

	for (int i = 0; i < N; i++)
		d[i] = mk((uint64_t)i + 1, SOCK_ESTABLISHED, (uint16_t)(40000 + i), 9000);
	for (int fill = FILL_PUT; fill <= FILL_TRACKER; fill++) {
		struct sock moved[N + 1];

		h_init(h);
		h->fill = fill;
		CHECK_INT(h_dump(h, d, N), 0);
		/* The last socket first, changed; then the rest in order. */
		moved[0] = d[N - 1];
		moved[0].state = SOCK_CLOSE_WAIT;
		memcpy(&moved[1], d, (N - 1) * sizeof(*d));
		CHECK_INT(h_dump(h, moved, N), 0);
		CHECK_INT(h->nrecs, 1);
		CHECK_REC(h, 0, N, SOCK_ESTABLISHED, SOCK_CLOSE_WAIT, TRANSITION_HOW_POLL, 1002);
		CHECK_INT(h->cur->len, N);
		CHECK(h->cur->entries[0].sk.cookie == N);
		if (fill != FILL_PUT) {
			/* Out of place, then again where it was, changed again. */
			moved[N] = d[N - 1];
			moved[N].state = SOCK_LAST_ACK;
			CHECK_INT(h_dump(h, moved, N + 1), 0);
			CHECK_INT(h->nrecs, 1);
			CHECK_REC(h, 0, N, SOCK_CLOSE_WAIT, SOCK_LAST_ACK, TRANSITION_HOW_POLL,
			          1003);
			CHECK_INT(h->cur->len, N);
			CHECK_INT(h->cur->repeats, 1);
			CHECK(h->cur->entries[0].sk.cookie == N);
			CHECK_INT(h->cur->entries[0].sk.state, SOCK_LAST_ACK);
		}
		h_release(h);
	}
	free(h);
}

/* Cookies asked about before diff_end() are found in the pass it makes, those
 * not in the older table too (as absent); others through the index. */
static void test_lookup(void)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct sock d1[] = {mk(1, SOCK_ESTABLISHED, 40001, 9000), mk(2, SOCK_LISTEN, 9000, 0),
	                    mk(3, SOCK_ESTABLISHED, 40003, 9000)};
	struct sock d2[] = {d1[0], d1[1], d1[2]};

	h_init(h);
	h->fill = FILL_APPEND; /* the harness's tables, which the steps below drive */
	CHECK_INT(h_dump(h, d1, 3), 0);
	snapshot_clear(h->next);
	diff_begin(&h->diff, h->cur);
	for (size_t i = 0; i < 3; i++)
		CHECK_INT(diff_add(&h->diff, h->cur, h->next, &d2[i]), 0);
	CHECK_INT(diff_query(&h->diff, 3), 0);
	CHECK_INT(diff_query(&h->diff, 77), 0);
	h->next->taken = (struct timespec){.tv_sec = h->now + 1};
	CHECK_INT(diff_end(&h->diff, h->cur, h->next), 0);
	CHECK(diff_lookup(&h->diff, h->cur, 3) == &h->cur->entries[2]);
	CHECK(diff_lookup(&h->diff, h->cur, 77) == NULL);
	CHECK_INT(h->cur->indexed, 0); /* neither needed the index */
	CHECK(diff_lookup(&h->diff, h->cur, 2) == &h->cur->entries[1]); /* not asked: indexed */
	CHECK(h->cur->indexed > 0);
	CHECK(diff_lookup(&h->diff, h->cur, 78) == NULL);
	h_release(h);
	free(h);
}

/* A poll abandoned after diff_match() (a later step failed) leaves marks in
 * the older table; the next attempt must not take them for its own. */
static void test_abandoned_match(void)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct sock d1[] = {mk(1, SOCK_ESTABLISHED, 40001, 9000), mk(2, SOCK_LISTEN, 9000, 0)};
	struct sock d2[] = {mk(1, SOCK_FIN_WAIT1, 40001, 9000), d1[1]};

	h_init(h);
	h->fill = FILL_APPEND;
	CHECK_INT(h_dump(h, d1, 2), 0);
	snapshot_clear(h->next);
	for (size_t i = 0; i < 2; i++)
		CHECK_INT(snapshot_append(h->next, &d2[i]), 0);
	h->next->taken = (struct timespec){.tv_sec = h->now + 1};
	CHECK_INT(diff_match(&h->diff, h->cur, h->next), 0);
	CHECK(diff_newer(&h->diff, h->next, &h->cur->entries[0]) == &h->next->entries[0]);
	CHECK(diff_older(h->cur, &h->next->entries[1]) == &h->cur->entries[1]);

	CHECK_INT(h_dump(h, d2, 2), 0); /* the retry */
	CHECK_INT(h->nrecs, 1);
	CHECK_REC(h, 0, 1, SOCK_ESTABLISHED, SOCK_FIN_WAIT1, TRANSITION_HOW_POLL, 1002);
	CHECK_INT(h->cur->repeats, 0);
	CHECK_INT(h->cur->len, 2);
	h_release(h);
	free(h);
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

static uint32_t rnd2_state = 777;

/* A second stream, for the repeats only one run of random_sequence() has. */
static uint32_t rnd2(uint32_t n)
{
	rnd2_state = rnd2_state * 1103515245u + 12345u;
	return (rnd2_state >> 8) % n;
}

/*
 * Many dumps of churning sockets. Whatever happens, records never go back in
 * time, each socket's records form one chain NONE -> ... -> NONE, a socket is
 * declared gone only after two dumps without it or when its 4-tuple was
 * taken, and once everything is gone every chain has ended. Dumps are at
 * times out of order. Unless FILL is FILL_PUT, some sockets are returned
 * twice. Every record goes to LOG.
 */
static void random_sequence(int fill, struct rec *log, size_t *nlog, size_t log_max)
{
	enum { SLOTS = 64, DUMPS = 400 };
	struct harness *h = calloc(1, sizeof(*h));
	struct sock live[SLOTS];       /* the kernel's sockets; cookie 0 = none */
	uint8_t last_state[SLOTS * 8]; /* by cookie: what the records said last */
	int gone_seen = 0, reuse_seen = 0;
	uint64_t next_cookie = 1;
	struct timespec last_ts = {0, 0};
	int backwards = 0;

	rnd_state = 12345;
	rnd2_state = 777;
	*nlog = 0;
	h_init(h);
	h->fill = fill;
	memset(live, 0, sizeof(live));
	memset(last_state, 0, sizeof(last_state));
	for (int dump = 0; dump < DUMPS + 2; dump++) {
		struct sock d[SLOTS * 2];
		size_t n = 0;

		for (int i = 0; i < SLOTS && dump < DUMPS; i++) {
			uint32_t r = rnd(100);

			if (!live[i].cookie) {
				if (r < 30 && next_cookie < SLOTS * 8)
					live[i] = mk(next_cookie++, SOCK_SYN_SENT,
					             (uint16_t)(40000 + i), 9000);
			} else if (r < 10) {
				live[i].cookie = 0; /* closed */
			} else if (r < 15 && next_cookie < SLOTS * 8) {
				/* the 4-tuple goes to a new socket at once */
				live[i] =
				    mk(next_cookie++, SOCK_SYN_SENT, (uint16_t)(40000 + i), 9000);
			} else if (r < 40) {
				live[i].state = (uint8_t)(1 + rnd(SOCK_STATE_MAX - 1));
				if (live[i].state == SOCK_LISTEN)
					live[i].state = SOCK_CLOSING;
			}
		}
		for (int i = 0; i < SLOTS; i++)
			if (live[i].cookie && rnd(100) >= 10) /* a racing dump misses some */
				d[n++] = live[i];
		if (n >= 2 && rnd(100) < 20) { /* the order is not guaranteed */
			size_t a = rnd((uint32_t)n), b = rnd((uint32_t)n);
			struct sock t = d[a];

			d[a] = d[b];
			d[b] = t;
		}
		if (fill != FILL_PUT) { /* a resumed dump repeats some, later on */
			struct sock r[SLOTS * 2];
			size_t after[SLOTS], m = 0; /* copy of K goes after d[after[K]] */

			for (size_t k = 0; k < n; k++)
				after[k] = rnd2(100) < 5 ? k + rnd2((uint32_t)(n - k)) : SIZE_MAX;
			for (size_t i = 0; i < n; i++) {
				r[m++] = d[i];
				for (size_t k = 0; k <= i; k++)
					if (after[k] == i)
						r[m++] = d[k];
			}
			memcpy(d, r, m * sizeof(*d));
			n = m;
		}
		CHECK_INT(h_dump(h, d, n), 0);
		for (size_t k = 0; k < h->nrecs; k++) {
			const struct rec *r = &h->recs[k];
			uint64_t c = r->sk.cookie;

			CHECK(*nlog < log_max);
			if (*nlog < log_max)
				log[(*nlog)++] = *r;
			if (r->ts.tv_sec < last_ts.tv_sec ||
			    (r->ts.tv_sec == last_ts.tv_sec && r->ts.tv_nsec < last_ts.tv_nsec))
				backwards++;
			last_ts = r->ts;
			CHECK(r->from != r->to);
			CHECK(c < SLOTS * 8);
			if (c >= SLOTS * 8)
				continue;
			CHECK_INT(r->from, last_state[c]);
			last_state[c] = r->to;
			if (r->to == SOCK_NONE) {
				gone_seen++;
				if (r->ts.tv_sec == h->now)
					reuse_seen++;
				else
					CHECK_INT(r->ts.tv_sec, h->now - 1);
			}
			CHECK_INT(r->how,
			          (dump == 0 ? TRANSITION_HOW_INITIAL : TRANSITION_HOW_POLL));
		}
	}
	for (uint64_t c = 1; c < next_cookie; c++)
		CHECK_INT(last_state[c], SOCK_NONE);
	CHECK_INT(backwards, 0);
	CHECK(gone_seen > 100);
	CHECK(reuse_seen > 10);
	CHECK_INT(h->cur->len, 0);
	h_release(h);
	free(h);
}

/* The diff says the same however the dump came, repeats and all: they are
 * the same sockets. */
static void test_random_sequence(void)
{
	enum { LOG_MAX = 40000 };
	struct rec *put = calloc(LOG_MAX, sizeof(*put)), *other = calloc(LOG_MAX, sizeof(*other));
	size_t nput, nother;

	random_sequence(FILL_PUT, put, &nput, LOG_MAX);
	for (int fill = FILL_APPEND; fill <= FILL_TRACKER; fill++) {
		random_sequence(fill, other, &nother, LOG_MAX);
		CHECK_INT(nother, nput);
		for (size_t i = 0; i < nput && i < nother; i++) {
			CHECK_INT(other[i].sk.cookie, put[i].sk.cookie);
			CHECK_INT(other[i].from, put[i].from);
			CHECK_INT(other[i].to, put[i].to);
			CHECK_INT(other[i].ts.tv_sec, put[i].ts.tv_sec);
			if (other[i].sk.cookie != put[i].sk.cookie)
				break;
		}
	}
	free(put);
	free(other);
}

int main(void)
{
	test_how_names();
	test_initial();
	test_lifecycle();
	test_missing_once();
	test_vanish_first();
	test_tuple_reuse();
	test_vanish_order_by_time();
	test_shared_tuple();
	test_first_seen_tuple();
	test_callback_error();
	test_repeat_in_dump();
	test_repeat_of_known();
	test_sequential_match();
	test_abandoned_match();
	test_far_reorder();
	test_lookup();
	test_random_sequence();
	return CHECK_DONE();
}
