/*
 * logloss.c - the accounting of records lost to write errors.
 *
 * While writes fail (a full disk, EIO, the file's directory deleted), lost
 * records are counted with the times of the first and the last failure. The
 * first write that works again carries one loss record that says so, and the
 * daemon reports it once (logfile_take_loss()).
 */
#include <string.h>
#include <time.h>

#include "logloss.h"

void logloss_count(struct logloss *l, uint64_t n)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (!l->due.lost)
		l->due.since = now;
	l->due.until = now;
	l->due.lost += n;
	l->dropped += n;
}

bool logloss_due(const struct logloss *l)
{
	return l->due.lost > 0;
}

int logloss_format(struct logloss *l, char *buf, size_t size, enum record_format format)
{
	clock_gettime(CLOCK_REALTIME, &l->due.logged);
	return record_format_loss(buf, size, format, l->due.lost, &l->due.logged, &l->due.since,
	                          &l->due.until);
}

void logloss_written(struct logloss *l)
{
	l->taken = l->due;
	l->have_taken = true;
	memset(&l->due, 0, sizeof(l->due));
}

bool logloss_take(struct logloss *l, struct logfile_loss *ret)
{
	if (!l->have_taken)
		return false;
	*ret = l->taken;
	l->have_taken = false;
	return true;
}
