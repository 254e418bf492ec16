/* test_loop.c - ticks on an absolute schedule, missed ticks counted, signals as events. */
#include <signal.h>
#include <time.h>

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

int main(void)
{
	test_missed_ticks();
	test_absolute_schedule();
	test_signals();
	return CHECK_DONE();
}
