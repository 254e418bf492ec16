/*
 * test_loop.c - ticks on an absolute schedule, missed ticks counted, signals
 * as events, the watched descriptor reported at most once per hold-off.
 */
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "loop.h"

#define INTERVAL_MS 20

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0)
		;
}

/* Work that outlasts the interval makes the next event report the ticks it
 * swallowed, once, instead of queueing them. */
static void test_missed_ticks(void)
{
	struct loop *l;
	struct loop_event ev;

	CHECK_INT(loop_new(&l, INTERVAL_MS), 0);
	CHECK_INT(loop_wait(l, &ev), 0);
	CHECK_INT(ev.type, LOOP_TICK);
	sleep_ms(3 * INTERVAL_MS + INTERVAL_MS / 2); /* at least 3 expirations */
	CHECK_INT(loop_wait(l, &ev), 0);
	CHECK_INT(ev.type, LOOP_TICK);
	CHECK(ev.missed >= 2);
	loop_free(l);
}

/* Busy ticks do not stretch the period: over a run, served plus missed ticks
 * match the time that passed, whatever the work took. */
static void test_absolute_schedule(void)
{
	struct loop *l;
	struct loop_event ev;
	uint64_t ticks = 0;
	double t0, elapsed;

	CHECK_INT(loop_new(&l, INTERVAL_MS), 0);
	t0 = now_ms();
	for (int i = 0; i < 20; i++) {
		CHECK_INT(loop_wait(l, &ev), 0);
		CHECK_INT(ev.type, LOOP_TICK);
		ticks += 1 + ev.missed;
		sleep_ms(INTERVAL_MS * 3 / 4); /* the poll's work */
	}
	elapsed = now_ms() - t0;
	/* The last tick came at most one interval before now, plus the work. */
	CHECK(ticks * INTERVAL_MS <= elapsed + INTERVAL_MS);
	CHECK(ticks * INTERVAL_MS >= elapsed - 2 * INTERVAL_MS);
	loop_free(l);
}

/* A pending signal is delivered as an event before a pending tick, and the
 * signal mask is restored by loop_free(). */
static void test_signals(void)
{
	struct loop *l;
	struct loop_event ev;
	sigset_t mask;

	CHECK_INT(loop_new(&l, INTERVAL_MS), 0);
	sleep_ms(2 * INTERVAL_MS);
	raise(SIGUSR1);
	CHECK_INT(loop_wait(l, &ev), 0);
	CHECK_INT(ev.type, LOOP_SIGNAL);
	CHECK_INT(ev.signo, SIGUSR1);
	CHECK_INT(loop_wait(l, &ev), 0);
	CHECK_INT(ev.type, LOOP_TICK);
	loop_free(l);
	sigprocmask(SIG_SETMASK, NULL, &mask);
	CHECK(!sigismember(&mask, SIGUSR1));
	CHECK(!sigismember(&mask, SIGTERM));
}

/* Makes the pipe P readable, as a notification makes the socket. */
static void poke(const int p[2])
{
	CHECK_INT(write(p[1], "x", 1), 1);
}

/* Reads everything in the pipe P, as the owner drains the socket. */
static void drain(const int p[2])
{
	char buf[256];

	while (read(p[0], buf, sizeof(buf)) == sizeof(buf))
		;
}

/* Waits for LOOP_READABLE, counting the ticks (served and missed) that come
 * first into *TICKS. */
static void wait_readable(struct loop *l, const int p[2], uint64_t *ticks)
{
	struct loop_event ev;

	for (;;) {
		CHECK_INT(loop_wait(l, &ev), 0);
		if (ev.type == LOOP_READABLE)
			break;
		CHECK_INT(ev.type, LOOP_TICK);
		*ticks += 1 + ev.missed;
	}
	CHECK_INT(ev.fd, p[0]);
}

#define BATCH_MS 100

/*
 * Under a stream of data the descriptor is reported at most once per
 * hold-off, and ticks keep coming meanwhile. A report k+1 comes at least
 * BATCH_MS after report k, which came after the call that returned it began:
 * that bound holds however loaded the machine is; only the upper ones need
 * margins.
 */
static void test_batch(void)
{
	struct loop *l;
	int p[2];
	uint64_t ticks = 0;
	double before, after, first;

	CHECK_INT(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	CHECK_INT(loop_new(&l, INTERVAL_MS), 0);
	loop_watch(l, p[0]);
	loop_set_batch(l, BATCH_MS);

	/* Quiet until now, so the first one is reported at once. */
	poke(p);
	before = first = now_ms();
	wait_readable(l, p, &ticks);
	CHECK(now_ms() - before < 1000);
	for (int i = 0; i < 4; i++) {
		drain(p);
		poke(p);
		ticks = 0;
		wait_readable(l, p, &ticks);
		after = now_ms();
		CHECK(after - before >= BATCH_MS);
		CHECK(after - before < BATCH_MS + 1000);
		/* About five ticks fell in the hold-off; served or missed, they were
		 * reported before it ended. */
		CHECK(ticks >= BATCH_MS / INTERVAL_MS - 2);
		before = now_ms();
	}
	CHECK(now_ms() - first >= 4 * BATCH_MS);
	drain(p);
	loop_free(l);
	close(p[0]);
	close(p[1]);
}

/* A signal is served at once during a hold-off, and the descriptor, if
 * readable, is reported when the hold-off is over. */
static void test_batch_signal(void)
{
	struct loop *l;
	struct loop_event ev;
	int p[2];
	uint64_t ticks = 0;
	double t0;

	CHECK_INT(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	CHECK_INT(loop_new(&l, 10000), 0);
	loop_watch(l, p[0]);
	loop_set_batch(l, 1000);
	poke(p);
	wait_readable(l, p, &ticks);
	t0 = now_ms();
	raise(SIGUSR1);
	CHECK_INT(loop_wait(l, &ev), 0);
	CHECK_INT(ev.type, LOOP_SIGNAL);
	CHECK(now_ms() - t0 < 900);
	/* A shorter hold-off applies to the one under way. */
	loop_set_batch(l, 20);
	wait_readable(l, p, &ticks);
	CHECK(now_ms() - t0 < 900);
	CHECK_INT(ticks, 0);
	loop_free(l);
	close(p[0]);
	close(p[1]);
}

/* Without a hold-off (0, the default), each wait reports the descriptor as
 * soon as it is readable; and loop_watch() ends a hold-off. */
static void test_no_batch(void)
{
	struct loop *l;
	int p[2];
	uint64_t ticks = 0;
	double t0;

	CHECK_INT(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	CHECK_INT(loop_new(&l, 10000), 0);
	loop_watch(l, p[0]);
	t0 = now_ms();
	for (int i = 0; i < 100; i++) {
		poke(p);
		wait_readable(l, p, &ticks);
		drain(p);
	}
	/* 100 hold-offs of even 10 ms would take a second. */
	CHECK(now_ms() - t0 < 900);
	loop_set_batch(l, 10000);
	poke(p);
	wait_readable(l, p, &ticks);
	loop_watch(l, p[0]);
	wait_readable(l, p, &ticks);
	CHECK(now_ms() - t0 < 9000);
	CHECK_INT(ticks, 0);
	loop_free(l);
	close(p[0]);
	close(p[1]);
}

/* Several descriptors: each readable one is reported, in turn, so that one
 * that is always readable cannot starve another; one unwatched is not. */
static void test_many(void)
{
	struct loop *l;
	struct loop_event ev;
	int p[3][2], seen[3] = {0};

	CHECK_INT(loop_new(&l, 10000), 0);
	for (int i = 0; i < 3; i++) {
		CHECK_INT(pipe2(p[i], O_NONBLOCK | O_CLOEXEC), 0);
		CHECK_INT(loop_watch(l, p[i][0]), 0);
		poke(p[i]);
	}
	loop_unwatch(l, p[1][0]);
	/* Never drained: without turns, the first would be reported every time. */
	for (int k = 0; k < 10; k++) {
		CHECK_INT(loop_wait(l, &ev), 0);
		CHECK_INT(ev.type, LOOP_READABLE);
		for (int i = 0; i < 3; i++)
			seen[i] += ev.fd == p[i][0];
	}
	CHECK_INT(seen[0], 5);
	CHECK_INT(seen[1], 0);
	CHECK_INT(seen[2], 5);
	loop_free(l);
	for (int i = 0; i < 3; i++) {
		close(p[i][0]);
		close(p[i][1]);
	}
}

int main(void)
{
	test_missed_ticks();
	test_absolute_schedule();
	test_signals();
	test_batch();
	test_batch_signal();
	test_many();
	test_no_batch();
	return CHECK_DONE();
}
