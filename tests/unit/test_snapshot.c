/* test_snapshot.c - the socket table: insert, find, repeats, growth, reuse. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <sys/socket.h>

#include "check.h"
#include "snapshot.h"
#include "sock.h"

static struct sock mk(uint64_t cookie, unsigned state, uint16_t lport)
{
	struct sock sk = {.cookie = cookie, .state = (uint8_t)state, .kind = SOCK_KIND_FULL};

	sk.tuple.family = AF_INET;
	sk.tuple.lport = lport;
	sk.tuple.rport = 9000;
	sk.tuple.laddr[0] = 127;
	sk.tuple.laddr[3] = 1;
	sk.uid = (uint32_t)cookie * 3;
	return sk;
}

static void test_empty(void)
{
	struct snapshot s;

	snapshot_init(&s);
	CHECK_INT(s.len, 0);
	CHECK(snapshot_find(&s, 1) == NULL);
	CHECK(snapshot_find(&s, 0) == NULL);
	CHECK_INT(snapshot_present(&s), 0);
	snapshot_clear(&s); /* clearing a table that never allocated */
	CHECK_INT(s.len, 0);
	snapshot_release(&s);
	snapshot_release(&s); /* twice is fine: released tables are empty */
	snapshot_release(NULL);
}

static void test_put_find(void)
{
	struct snapshot s;
	struct sock a = mk(0x100000001ULL, SOCK_ESTABLISHED, 40000);
	struct sock b = mk(2, SOCK_LISTEN, 9000);
	struct snapshot_entry *e;

	snapshot_init(&s);
	CHECK_INT(snapshot_put(&s, &a), 0);
	CHECK_INT(snapshot_put(&s, &b), 0);
	CHECK_INT(s.len, 2);
	CHECK_INT(s.repeats, 0);
	e = snapshot_find(&s, a.cookie);
	CHECK(e == &s.entries[0]); /* dense, in insertion order */
	CHECK(e && e->sk.cookie == a.cookie && sock_tuple_equal(&e->sk.tuple, &a.tuple));
	CHECK(e && e->sk.state == a.state && e->sk.uid == a.uid);
	CHECK(e && !e->missing && !e->diff.prev && !e->diff.run);
	e = snapshot_find(&s, b.cookie);
	CHECK(e == &s.entries[1]);
	CHECK(e && e->sk.state == SOCK_LISTEN);
	CHECK(snapshot_find(&s, 1) == NULL); /* a.cookie's low half alone */
	CHECK(snapshot_find(&s, 0x100000000ULL) == NULL);
	CHECK(snapshot_find(&s, 3) == NULL);
	CHECK_INT(snapshot_present(&s), 2);
	snapshot_release(&s);
}

/* A dump that returns a socket twice: one entry, the later data, counted. */
static void test_repeats(void)
{
	struct snapshot s;
	struct sock a = mk(7, SOCK_SYN_SENT, 40000);
	struct sock a2 = mk(7, SOCK_ESTABLISHED, 40000);
	struct sock b = mk(8, SOCK_LISTEN, 9000);
	struct snapshot_entry *e;

	a2.rqueue = 99;
	snapshot_init(&s);
	CHECK_INT(snapshot_put(&s, &a), 0);
	CHECK_INT(snapshot_put(&s, &b), 0);
	CHECK_INT(snapshot_put(&s, &a2), 1);
	CHECK_INT(s.len, 2);
	CHECK_INT(s.repeats, 1);
	e = snapshot_find(&s, 7);
	CHECK(e == &s.entries[0]); /* keeps its place */
	CHECK(e && e->sk.state == SOCK_ESTABLISHED && e->sk.rqueue == 99);
	CHECK_INT(snapshot_put(&s, &a), 1);
	CHECK_INT(snapshot_put(&s, &b), 1);
	CHECK_INT(s.repeats, 3);
	CHECK_INT(s.len, 2);
	CHECK(e && e->sk.state == SOCK_SYN_SENT && e->sk.rqueue == 0);

	/* As a diag callback: the same, but 0 for both. */
	CHECK_INT(snapshot_put_cb(&a2, &s), 0);
	CHECK_INT(snapshot_put_cb(&(struct sock){.cookie = 9, .state = SOCK_CLOSE}, &s), 0);
	CHECK_INT(s.len, 3);
	CHECK_INT(s.repeats, 4);
	CHECK(snapshot_find(&s, 9) != NULL);
	snapshot_release(&s);
}

/*
 * Many more entries than the first allocation holds, with cookies that are
 * sequential (as the kernel's are) and ones that collide in their low bits.
 */
static void test_growth(void)
{
	enum { N = 20000 };
	struct snapshot s;
	size_t found = 0, right = 0, dense = 0;

	snapshot_init(&s);
	for (uint64_t i = 0; i < N; i++) {
		uint64_t cookie = i % 2 ? 1000 + i : (i << 32) | 0x1000;
		struct sock sk = mk(cookie, 1 + i % 11, (uint16_t)i);

		CHECK_INT(snapshot_put(&s, &sk), 0);
	}
	CHECK_INT(s.len, N);
	CHECK(s.cap >= N);
	CHECK(s.slot_mask + 1 >= 2 * s.len); /* at most half full */
	CHECK_INT(s.repeats, 0);
	for (uint64_t i = 0; i < N; i++) {
		uint64_t cookie = i % 2 ? 1000 + i : (i << 32) | 0x1000;
		const struct snapshot_entry *e = snapshot_find(&s, cookie);

		found += e != NULL;
		right += e && e->sk.tuple.lport == (uint16_t)i && e->sk.state == 1 + i % 11;
		dense += e == &s.entries[i];
	}
	CHECK_INT(found, N);
	CHECK_INT(right, N);
	CHECK_INT(dense, N);
	CHECK(snapshot_find(&s, 1000) == NULL);
	CHECK(snapshot_find(&s, (uint64_t)N << 32 | 0x1000) == NULL);
	CHECK_INT(snapshot_present(&s), N);

	/* Putting them all again: repeats, no growth. */
	{
		size_t cap = s.cap, reps = 0;

		for (uint64_t i = 0; i < N; i++) {
			uint64_t cookie = i % 2 ? 1000 + i : (i << 32) | 0x1000;
			struct sock sk = mk(cookie, SOCK_CLOSE, (uint16_t)i);

			reps += snapshot_put(&s, &sk) == 1;
		}
		CHECK_INT(reps, N);
		CHECK_INT(s.repeats, N);
		CHECK_INT(s.len, N);
		CHECK_INT(s.cap, cap);
	}
	snapshot_release(&s);
}

/* Clearing empties the table and keeps its memory for the next dump. */
static void test_clear(void)
{
	struct snapshot s;
	struct snapshot_entry *entries;
	struct snapshot_slot *slots;
	size_t cap, n = 0;

	snapshot_init(&s);
	for (uint64_t c = 1; c <= 1000; c++)
		CHECK_INT(snapshot_put(&s, &(struct sock){.cookie = c, .state = 1}), 0);
	CHECK_INT(snapshot_put(&s, &(struct sock){.cookie = 1, .state = 1}), 1);
	s.taken = (struct timespec){.tv_sec = 5};
	entries = s.entries;
	slots = s.slots;
	cap = s.cap;

	snapshot_clear(&s);
	CHECK_INT(s.len, 0);
	CHECK_INT(s.repeats, 0);
	CHECK(s.entries == entries);
	CHECK(s.slots == slots);
	CHECK_INT(s.cap, cap);
	CHECK_INT(snapshot_present(&s), 0);
	for (uint64_t c = 1; c <= 1000; c++)
		n += snapshot_find(&s, c) != NULL;
	CHECK_INT(n, 0);

	/* Refilled with other cookies: old ones stay gone, no allocation. */
	for (uint64_t c = 501; c <= 1500; c++)
		CHECK_INT(snapshot_put(&s, &(struct sock){.cookie = c, .state = 2}), 0);
	CHECK(s.entries == entries);
	CHECK(s.slots == slots);
	CHECK_INT(s.len, 1000);
	n = 0;
	for (uint64_t c = 1; c <= 1500; c++) {
		const struct snapshot_entry *e = snapshot_find(&s, c);

		if (c <= 500)
			CHECK(e == NULL);
		else
			n += e && e->sk.state == 2;
	}
	CHECK_INT(n, 1000);
	snapshot_release(&s);
}

/* snapshot_present() counts the entries not put as missing. */
static void test_present(void)
{
	struct snapshot s;

	struct snapshot_entry *e;
	int64_t since = snapshot_ns(&(struct timespec){.tv_sec = 7});

	snapshot_init(&s);
	for (uint64_t c = 1; c <= 10; c++) {
		struct sock sk = {.cookie = c, .state = 1};

		if (c == 1 || c == 5 || c == 10) {
			CHECK_INT(snapshot_put_missing(&s, &sk, since, &e), 0);
			CHECK(e->missing && e->missing_since_ns == 7000000000);
		} else {
			CHECK_INT(snapshot_put(&s, &sk), 0);
		}
	}
	CHECK_INT(snapshot_present(&s), 7);
	CHECK(snapshot_find(&s, 5) == &s.entries[4]); /* missing ones are still found */
	/* A repeat does not clear or set the flag of another entry. */
	CHECK_INT(snapshot_put(&s, &(struct sock){.cookie = 2, .state = 3}), 1);
	CHECK_INT(snapshot_present(&s), 7);
	snapshot_clear(&s);
	CHECK_INT(snapshot_present(&s), 0);
	CHECK_INT(snapshot_put(&s, &(struct sock){.cookie = 1, .state = 1}), 0);
	CHECK_INT(s.entries[0].missing, 0); /* a new entry starts clean */
	CHECK_INT(snapshot_present(&s), 1);
	snapshot_release(&s);
}

/* A released table is empty and usable again. */
static void test_release_reuse(void)
{
	struct snapshot s;

	snapshot_init(&s);
	for (uint64_t c = 1; c <= 600; c++)
		CHECK_INT(snapshot_put(&s, &(struct sock){.cookie = c, .state = 1}), 0);
	snapshot_release(&s);
	CHECK_INT(s.len, 0);
	CHECK_INT(s.cap, 0);
	CHECK(s.entries == NULL && s.slots == NULL);
	CHECK(snapshot_find(&s, 1) == NULL);
	CHECK_INT(snapshot_present(&s), 0);
	for (uint64_t c = 1; c <= 300; c++)
		CHECK_INT(snapshot_put(&s, &(struct sock){.cookie = c * 7, .state = 10}), 0);
	CHECK_INT(s.len, 300);
	CHECK(snapshot_find(&s, 7 * 300) != NULL);
	CHECK(snapshot_find(&s, 1) == NULL);
	snapshot_release(&s);
}

/* A dump's way in: appended unindexed, indexed once (by hand or by the first
 * lookup), repeats folded as by put. */
static void test_append_index(void)
{
	struct snapshot s;
	struct sock a = mk(11, SOCK_ESTABLISHED, 40000);
	struct sock b = mk(12, SOCK_LISTEN, 9000);
	struct sock a2 = mk(11, SOCK_FIN_WAIT1, 40000);
	struct sock c = mk(13, SOCK_TIME_WAIT, 40001);

	snapshot_init(&s);
	for (int round = 0; round < 2; round++) { /* the second time with memory reused */
		snapshot_clear(&s);
		CHECK_INT(snapshot_append(&s, &a), 0);
		CHECK_INT(snapshot_append(&s, &b), 0);
		CHECK_INT(snapshot_append(&s, &a2), 0);
		CHECK_INT(snapshot_append(&s, &c), 0);
		CHECK_INT(s.len, 4);
		CHECK_INT(s.indexed, 0);
		if (round == 0)
			snapshot_index(&s);
		else
			CHECK(snapshot_find(&s, 12) == &s.entries[1]); /* indexes first */
		CHECK_INT(s.indexed, 3);
		CHECK_INT(s.len, 3);
		CHECK_INT(s.repeats, 1);
		CHECK(snapshot_find(&s, 11) == &s.entries[0]);
		CHECK_INT(s.entries[0].sk.state, SOCK_FIN_WAIT1); /* the later copy */
		CHECK(snapshot_find(&s, 12) == &s.entries[1]);
		CHECK(snapshot_find(&s, 13) == &s.entries[2]); /* moved down over the repeat */
		snapshot_index(&s);                            /* nothing new: no change */
		CHECK_INT(s.len, 3);
		CHECK_INT(s.repeats, 1);
	}
	/* put after append indexes the appended entries first. */
	snapshot_clear(&s);
	CHECK_INT(snapshot_append(&s, &a), 0);
	CHECK_INT(snapshot_put(&s, &a2), 1);
	CHECK_INT(s.len, 1);
	CHECK_INT(s.entries[0].sk.state, SOCK_FIN_WAIT1);
	/* Growth while entries wait unindexed. */
	snapshot_clear(&s);
	for (uint64_t k = 1; k <= 1000; k++)
		CHECK_INT(snapshot_append(&s, &(struct sock){.cookie = k * 3, .state = 1}), 0);
	CHECK_INT(snapshot_append(&s, &(struct sock){.cookie = 3, .state = 2}), 0);
	snapshot_index(&s);
	CHECK_INT(s.len, 1000);
	CHECK_INT(s.repeats, 1);
	for (uint64_t k = 1; k <= 1000; k++)
		CHECK(snapshot_find(&s, k * 3) == &s.entries[k - 1]);
	CHECK_INT(s.entries[0].sk.state, 2);
	snapshot_release(&s);
}

/* An entry's times as nanoseconds: back to the same timespec, 0 for unset,
 * and the diff's closed bit apart from its link. */
static void test_entry_times(void)
{
	struct timespec ts = {.tv_sec = 1796428800, .tv_nsec = 999999999};
	struct timespec back = snapshot_timespec(snapshot_ns(&ts));
	struct snapshot_entry e = {.diff = {.prev = (1u << 30)}};

	CHECK(snapshot_ns(&ts) == 1796428800999999999LL);
	CHECK(back.tv_sec == ts.tv_sec && back.tv_nsec == ts.tv_nsec);
	CHECK(snapshot_ns(&(struct timespec){0}) == 0);
	back = snapshot_timespec(0);
	CHECK(back.tv_sec == 0 && back.tv_nsec == 0);
	e.diff.closed = 1;
	CHECK_INT(e.diff.prev, 1u << 30);
	e.diff.prev = 0;
	CHECK_INT(e.diff.closed, 1);
}

int main(void)
{
	test_entry_times();
	test_append_index();
	test_empty();
	test_put_find();
	test_repeats();
	test_growth();
	test_clear();
	test_present();
	test_release_reuse();
	return CHECK_DONE();
}
