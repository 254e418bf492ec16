/*
 * feed.c - moves records from where they are to the assembly.
 *
 * Each source gives lines (files, a followed log) or entries (the journal);
 * each becomes a record (recread.c), a bad one is counted with its place,
 * the record filters drop what no selected connection can hold, and the rest
 * go to the connection table, whose verb prints what finishes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl_feed.h"

/* How often a follower wakes when nothing is written: to hand over
 * connections whose summary did not come. */
#define FOLLOW_TICK_MS 500

int feed_record(struct feed *fd, const struct ctl_record *r)
{
	if (r->kind == CTL_RECORD_LOSS) {
		fd->rep.losses += r->lost;
		return 0;
	}
	if (!select_record(fd->sel, r))
		return 0;
	if (r->ts_us > fd->verb->now_us)
		fd->verb->now_us = r->ts_us;
	return conn_table_add(fd->table, r);
}

/* Parses LINE (line LINENO of NAME) and feeds it; a bad one is counted. */
static int feed_line(struct feed *fd, const char *name, uint64_t lineno, const char *line,
                     size_t len)
{
	struct ctl_record r;
	int err = recread_line(line, len, &r);

	if (err == -ENODATA)
		return 0;
	if (err < 0) {
		source_report_bad(&fd->rep, name, lineno,
		                  err == -ENOMEM ? "out of memory" : "not a record");
		return 0;
	}
	if (r.kind == CTL_RECORD_OTHER)
		return 0;
	return feed_record(fd, &r);
}

int feed_file(struct feed *fd, const char *path, int vanished_ok)
{
	struct source_file *f;
	const char *line;
	size_t len;
	int err = source_file_open(path, &f);

	if (err < 0) {
		if (vanished_ok && err == -ENOENT)
			source_report_bad(&fd->rep, path, 0, "vanished (rotated away while read)");
		else
			fprintf(stderr, "tcpstatectl: %s: %s\n", path, strerror(-err));
		return 0;
	}
	fd->opened++;
	while ((err = source_file_next(f, &fd->rep, &line, &len)) > 0) {
		err = feed_line(fd, source_file_name(f), source_file_lineno(f), line, len);
		if (err < 0)
			break;
	}
	source_file_close(f);
	return err == -ENOMEM ? err : 0;
}

static int64_t realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Nothing came for a while: connections that ended without a summary go. */
static void idle(struct feed *fd)
{
	int64_t now = realtime_us();

	conn_table_expire(fd->table, now);
}

int feed_journal(struct feed *fd, const char *dir, int follow)
{
	struct source_journal *j;
	struct ctl_record r;
	int err = source_journal_open(dir, &j);

	if (err < 0) {
		fprintf(stderr, "tcpstatectl: journal%s%s: %s\n", dir ? " " : "", dir ? dir : "",
		        strerror(-err));
		return 0;
	}
	fd->opened++;
	for (;;) {
		int live = fd->verb->live;

		err = source_journal_next(j, &fd->rep, live ? FOLLOW_TICK_MS : 0, &r);
		if (err == -EINVAL)
			continue;
		if (err < 0 || (err == 0 && !follow) || (fd->stop && *fd->stop))
			break;
		if (err == 0) {
			fd->verb->live = 1;
			idle(fd);
			continue;
		}
		err = feed_record(fd, &r);
		if (err < 0)
			break;
	}
	source_journal_close(j);
	return err < 0 && err != -EINTR ? err : 0;
}

int feed_follow(struct feed *fd, const char *path)
{
	struct source_follow *f;
	const char *line;
	size_t len;
	int err = source_follow_open(path, &f);

	if (err < 0) {
		fprintf(stderr, "tcpstatectl: %s: %s\n", path, strerror(-err));
		return 0;
	}
	fd->opened++;
	while (!(fd->stop && *fd->stop)) {
		err = source_follow_next(f, &fd->rep, fd->verb->live ? FOLLOW_TICK_MS : 0, &line,
		                         &len);
		if (err == 0) {
			fd->verb->live = 1;
			idle(fd);
			continue;
		}
		if (err < 0)
			break;
		err = feed_line(fd, source_follow_name(f), source_follow_lineno(f), line, len);
		if (err < 0)
			break;
	}
	source_follow_close(f);
	return err < 0 && err != -EINTR ? err : 0;
}
