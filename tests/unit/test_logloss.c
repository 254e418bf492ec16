/* test_logloss.c - lost records counted with their span, and the loss record taken once. */
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "logloss.h"

static bool ts_le(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec <= b.tv_nsec);
}

static void test_count_and_take(void)
{
	struct timespec pause = {0, 2000000};
	struct logloss l = {0};
	struct logfile_loss got;
	char line[256];
	int n;

	CHECK(!logloss_due(&l));
	logloss_count(&l, 3);
	nanosleep(&pause, NULL);
	logloss_count(&l, 2);
	CHECK(logloss_due(&l));
	CHECK_INT(l.due.lost, 5);
	CHECK(ts_le(l.due.since, l.due.until) &&
	      memcmp(&l.due.since, &l.due.until, sizeof(got.since)));
	/* Not written yet: nothing to take. */
	CHECK(!logloss_take(&l, &got));

	n = logloss_format(&l, line, sizeof(line), RECORD_JSON);
	CHECK(n > 0 && line[n - 1] == '\n');
	CHECK(strstr(line, "\"kind\":\"lost\",\"lost\":5,") != NULL);
	logloss_written(&l);
	CHECK(!logloss_due(&l));
	CHECK(logloss_take(&l, &got));
	CHECK_INT(got.lost, 5);
	CHECK(ts_le(got.until, got.logged));
	CHECK(!logloss_take(&l, &got));

	/* A second incident starts its own span; the total goes on. */
	logloss_count(&l, 1);
	CHECK_INT(l.due.lost, 1);
	CHECK(ts_le(got.until, l.due.since));
	CHECK_INT(l.dropped, 6);
}

int main(void)
{
	test_count_and_take();
	return CHECK_DONE();
}
