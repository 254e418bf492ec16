/*
 * test_ctl_source.c - files as the tool reads them: a rotated set oldest
 * first with its .gz members, a truncated .gz, a torn last line, an
 * over-long line, and a followed log across a rotation and a truncation,
 * and across several files begun at the same time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "check.h"
#include "ctl_source.h"

static char dir[] = "/tmp/test_ctl_source.XXXXXX";

static void put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	fputs(text, f);
	fclose(f);
}

/* Writes TEXT gzipped, cut to KEEP bytes of the compressed file (0: whole). */
static void put_gz(const char *name, const char *text, long keep)
{
	char path[256];
	gzFile g;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	g = gzopen(path, "wb");
	CHECK(g != NULL);
	gzputs(g, text);
	gzclose(g);
	if (keep)
		CHECK_INT(truncate(path, keep), 0);
}

/* All the lines of PATH, joined with '|', and what was reported. */
static void read_all(const char *name, char *out, size_t size, struct source_report *rep)
{
	char path[256];
	struct source_file *f;
	const char *line;
	size_t len, n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	out[0] = '\0';
	CHECK_INT(source_file_open(path, &f), 0);
	while (source_file_next(f, rep, &line, &len) > 0)
		n += (size_t)snprintf(out + n, size - n, "%.*s|", (int)len, line);
	source_file_close(f);
}

static void test_rotated(void)
{
	char path[256], **paths;
	size_t n;

	put("log", "c\n");
	put("log.1", "b\n");
	put_gz("log.2.gz", "a\n", 0);
	put_gz("log.10.gz", "0\n", 0);
	put("log.x", "not a generation\n");
	put("logfile.3", "not this log's\n");
	snprintf(path, sizeof(path), "%s/log", dir);
	CHECK_INT(source_rotated(path, &paths, &n), 0);
	CHECK_INT(n, 4);
	if (n == 4) {
		CHECK(strstr(paths[0], "/log.10.gz") != NULL);
		CHECK(strstr(paths[1], "/log.2.gz") != NULL);
		CHECK(strstr(paths[2], "/log.1") != NULL);
		CHECK(strstr(paths[3], "/log") != NULL && !strstr(paths[3], "/log."));
	}
	source_paths_free(paths, n);
	snprintf(path, sizeof(path), "%s/none", dir);
	CHECK_INT(source_rotated(path, &paths, &n), -ENOENT);
}

static void test_files(void)
{
	struct source_report rep = {0};
	char out[4096], *big = malloc(SOURCE_LINE_MAX * 5);
	char text[8192];

	put("plain", "one\ntwo\r\nthree\n");
	read_all("plain", out, sizeof(out), &rep);
	CHECK_STR(out, "one|two\r|three|");
	CHECK_INT(rep.bad_lines + rep.bad_files, 0);

	put("torn", "one\ntw");
	read_all("torn", out, sizeof(out), &rep);
	CHECK_STR(out, "one|");
	CHECK_INT(rep.bad_lines, 1);
	CHECK_CONTAINS(rep.first[0], "torn:2: torn line");

	/* A .gz cut short: the lines before the break, then one report. */
	text[0] = '\0';
	for (int i = 0; i < 400; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "line %d of many\n", i);
	put_gz("cut.gz", text, 200);
	read_all("cut.gz", out, sizeof(out), &rep);
	CHECK(strncmp(out, "line 0 of many|", 15) == 0);
	CHECK_INT(rep.bad_files, 1);
	CHECK_CONTAINS(rep.first[1], "gzip data broke off");

	/* A line longer than any record is skipped, and the next one read. */
	memset(big, 'x', SOURCE_LINE_MAX * 5);
	strcpy(big + SOURCE_LINE_MAX * 5 - 10, "\nafter\n");
	put("long", big);
	read_all("long", out, sizeof(out), &rep);
	CHECK_STR(out, "after|");
	CHECK_INT(rep.bad_lines, 2);
	CHECK_INT(rep.nfirst, 3);
	free(big);
}

/* Lines a follower gets within TIMEOUT_MS, joined with '|'. */
static void follow_some(struct source_follow *f, char *out, size_t size)
{
	struct source_report rep = {0};
	const char *line;
	size_t len, n = 0;

	out[0] = '\0';
	while (source_follow_next(f, &rep, 50, &line, &len) > 0)
		n += (size_t)snprintf(out + n, size - n, "%.*s|", (int)len, line);
}

static void test_follow(void)
{
	struct source_follow *f;
	char path[256], moved[256], out[256];
	FILE *w;

	snprintf(path, sizeof(path), "%s/followed", dir);
	snprintf(moved, sizeof(moved), "%s/followed.1", dir);
	CHECK_INT(source_follow_open(path, &f), 0); /* need not exist yet */
	follow_some(f, out, sizeof(out));
	CHECK_STR(out, "");
	put("followed", "a\nb\n");
	follow_some(f, out, sizeof(out));
	CHECK_STR(out, "a|b|");
	/* Rotation: more lines in the old file, then a new one. */
	w = fopen(path, "a");
	CHECK_INT(rename(path, moved), 0);
	fputs("c\n", w);
	fclose(w);
	put("followed", "d\n");
	follow_some(f, out, sizeof(out));
	CHECK_STR(out, "c|d|");
	/* Truncation: read again from the top. */
	CHECK_INT(truncate(path, 0), 0);
	follow_some(f, out, sizeof(out));
	put("followed", "e\n");
	follow_some(f, out, sizeof(out));
	CHECK_STR(out, "e|");
	source_follow_close(f);
}

/* Rotates BASE in DIR as the daemon does: BASE.1 becomes BASE.2, BASE BASE.1. */
static void shift(const char *base)
{
	char from[256], to[256];

	snprintf(from, sizeof(from), "%s/%s.1", dir, base);
	snprintf(to, sizeof(to), "%s/%s.2", dir, base);
	CHECK(rename(from, to) == 0 || errno == ENOENT);
	snprintf(to, sizeof(to), "%s/%s", dir, base);
	CHECK_INT(rename(to, from), 0);
}

/* Two rotations between two reads: the file between them, which the reader
 * never had open, is found by its first record's time and read in order. */
static void test_follow_fast_rotation(void)
{
	struct source_follow *f;
	char path[256], p1[256], out[512];

	snprintf(path, sizeof(path), "%s/fast", dir);
	snprintf(p1, sizeof(p1), "%s/fast.1", dir);
	put("fast.5", "2026-01-01T00:00:00.000000Z older\n");
	put("fast", "2026-01-01T00:00:01.000000Z a\n");
	CHECK_INT(source_follow_open(path, &f), 0);
	follow_some(f, out, sizeof(out));
	CHECK_STR(out, "2026-01-01T00:00:01.000000Z a|");
	shift("fast");
	put("fast", "2026-01-01T00:00:02.000000Z b\n");
	shift("fast");
	put_gz("fast.1.gz", "2026-01-01T00:00:02.000000Z b\n", 0); /* compressed meanwhile */
	CHECK_INT(unlink(p1), 0);
	put("fast", "2026-01-01T00:00:03.000000Z c\n");
	follow_some(f, out, sizeof(out));
	CHECK_STR(out, "2026-01-01T00:00:02.000000Z b|2026-01-01T00:00:03.000000Z c|");
	source_follow_close(f);
}

/* A poll's batch bigger than max_size: the files it spans all begin at the
 * same time. Those after the one followed are read, in order; one before
 * it, at a higher number, is not read again. */
static void test_follow_same_time(void)
{
	struct source_follow *f;
	char path[256], out[512];

	snprintf(path, sizeof(path), "%s/batch", dir);
	put("batch.3", "2026-01-01T00:00:01.000000Z older\n");
	put("batch", "2026-01-01T00:00:01.000000Z a\n");
	CHECK_INT(source_follow_open(path, &f), 0);
	follow_some(f, out, sizeof(out));
	CHECK_STR(out, "2026-01-01T00:00:01.000000Z a|");
	shift("batch");
	put("batch", "2026-01-01T00:00:01.000000Z b\n");
	shift("batch");
	put("batch", "2026-01-01T00:00:01.000000Z c\n");
	follow_some(f, out, sizeof(out));
	CHECK_STR(out, "2026-01-01T00:00:01.000000Z b|2026-01-01T00:00:01.000000Z c|");
	source_follow_close(f);
}

int main(void)
{
	char cmd[300];

	CHECK(mkdtemp(dir) != NULL);
	test_rotated();
	test_files();
	test_follow();
	test_follow_fast_rotation();
	test_follow_same_time();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_INT(system(cmd), 0);
	return CHECK_DONE();
}
