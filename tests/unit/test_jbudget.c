/* test_jbudget.c - the journal's budget on a fake clock: burst, rate, reports. */
#include "check.h"
#include "jbudget.h"

#define MS 1000000ULL
#define S  1000000000ULL

/* The fake clock starts well above 0, as CLOCK_MONOTONIC does. */
#define T0 (1000 * S)

static struct timespec at(time_t sec, long nsec)
{
	return (struct timespec){.tv_sec = sec, .tv_nsec = nsec};
}

/* Takes N entries at NOW; returns how many the budget let through. */
static unsigned take_n(struct jbudget *b, unsigned n, uint64_t now, const struct timespec *ts)
{
	unsigned sent = 0;

	for (unsigned i = 0; i < n; i++)
		sent += jbudget_take(b, now, ts);
	return sent;
}

static void test_burst_then_rate(void)
{
	struct jbudget b;
	struct timespec ts = at(1700000000, 0);

	jbudget_init(&b, 200, 2000, T0);
	CHECK_INT(take_n(&b, 2500, T0, &ts), 2000);
	CHECK_INT(b.pending.over, 500);
	/* 100 ms later: 20 tokens, not one more. */
	CHECK_INT(take_n(&b, 100, T0 + 100 * MS, &ts), 20);
	/* 4.9 ms: not yet a whole token (one takes 5 ms at 200/s). */
	CHECK_INT(take_n(&b, 1, T0 + 104 * MS + 900000, &ts), 0);
	CHECK_INT(take_n(&b, 1, T0 + 105 * MS, &ts), 1);
	CHECK_INT(b.pending.over, 500 + 80 + 1);
}

/* Over any 30 s the bucket lets through at most burst + rate x 30. */
static void test_worst_window(void)
{
	struct jbudget b;
	struct timespec ts = at(1700000000, 0);
	unsigned sent = 0;

	jbudget_init(&b, 200, 2000, T0);
	for (uint64_t t = 0; t <= 30 * S; t += 10 * MS)
		sent += take_n(&b, 1000, T0 + t, &ts);
	CHECK_INT(sent, 2000 + 200 * 30);
}

/* A long quiet time fills the bucket to the burst, without overflowing. */
static void test_quiet_refills_to_burst(void)
{
	struct jbudget b;
	struct timespec ts = at(1700000000, 0);

	jbudget_init(&b, 1000000, 10000000, T0);
	CHECK_INT(take_n(&b, 10000000, T0, &ts), 10000000);
	CHECK_INT(take_n(&b, 10000001, T0 + 100000 * S, &ts), 10000000);
	jbudget_init(&b, 1, 1, T0);
	CHECK_INT(take_n(&b, 2, T0, &ts), 1);
	CHECK_INT(take_n(&b, 2, UINT64_MAX, &ts), 1);
}

static void test_report_once_per_interval(void)
{
	struct jbudget b;
	struct jbudget_report r;
	struct timespec t1 = at(1700000001, 5), t2 = at(1700000002, 7), t0 = at(1700000000, 9);

	jbudget_init(&b, 1, 1, T0);
	CHECK(!jbudget_report_due(&b, T0, &r)); /* nothing held back */
	CHECK(jbudget_take(&b, T0, &t1));
	CHECK(!jbudget_take(&b, T0, &t1));
	CHECK(!jbudget_take(&b, T0, &t2));
	jbudget_failed(&b, &t0); /* a record sorted earlier, refused by the journal */
	CHECK(jbudget_report_due(&b, T0, &r));
	CHECK_INT(r.over, 2);
	CHECK_INT(r.failed, 1);
	CHECK_INT(r.since.tv_sec, 1700000000);
	CHECK_INT(r.since.tv_nsec, 9);
	CHECK_INT(r.until.tv_sec, 1700000002);
	CHECK_INT(r.until.tv_nsec, 7);
	jbudget_reported(&b, T0);
	CHECK(!jbudget_report_due(&b, T0 + S, &r));

	/* Held back again within the interval: reported when it has passed. */
	CHECK(!jbudget_take(&b, T0 + 100 * MS, &t2));
	CHECK(!jbudget_report_due(&b, T0 + JBUDGET_REPORT_NS - 1, &r));
	CHECK(jbudget_report_due(&b, T0 + JBUDGET_REPORT_NS, &r));
	CHECK_INT(r.over, 1);
	CHECK_INT(r.failed, 0);
	CHECK_INT(r.since.tv_sec, 1700000002);

	/* A report that could not be sent leaves everything pending. */
	CHECK(!jbudget_take(&b, T0 + 200 * MS, &t2));
	CHECK(jbudget_report_due(&b, T0 + JBUDGET_REPORT_NS, &r));
	CHECK_INT(r.over, 2);
}

/* A reload changes the rate and burst, keeps what is pending, caps the credit. */
static void test_set(void)
{
	struct jbudget b;
	struct jbudget_report r;
	struct timespec ts = at(1700000000, 0);

	jbudget_init(&b, 100, 1000, T0);
	CHECK_INT(take_n(&b, 1001, T0, &ts), 1000);
	jbudget_set(&b, 10, 5, T0 + 10 * S);
	CHECK_INT(take_n(&b, 10, T0 + 10 * S, &ts), 5);
	CHECK_INT(take_n(&b, 10, T0 + 11 * S, &ts), 5);
	CHECK(jbudget_report_due(&b, T0 + 11 * S, &r));
	CHECK_INT(r.over, 1 + 5 + 5);
}

int main(void)
{
	test_burst_then_rate();
	test_worst_window();
	test_quiet_refills_to_burst();
	test_report_once_per_interval();
	test_set();
	return CHECK_DONE();
}
