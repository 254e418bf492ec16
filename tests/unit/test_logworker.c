/* test_logworker.c - the log's worker: gzip of rotated files, the shift under its lock, fsyncs. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <zlib.h>

#include "check.h"
#include "loggen.h"
#include "logworker.h"

static char tmpdir[] = "/tmp/test_logworker.XXXXXX";
static int dirfd_;

/* Writes TEXT to NAME in tmpdir. */
static void put(const char *name, const char *text)
{
	int fd = openat(dirfd_, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_INT(write(fd, text, strlen(text)), strlen(text));
	close(fd);
}

/* Whether NAME exists in tmpdir, as anything. */
static bool exists(const char *name)
{
	struct stat st;

	return fstatat(dirfd_, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The gunzipped contents of NAME, or "" when it cannot be read (static). */
static const char *gunzip(const char *name)
{
	static char buf[4096];
	char p[512];
	gzFile g;
	int n;

	buf[0] = '\0';
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	g = gzopen(p, "rb");
	if (!g)
		return buf;
	n = gzread(g, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	gzclose(g);
	return buf;
}

static void remove_all(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'/* '%s'/.[!.]*", tmpdir, tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot clean %s\n", tmpdir);
}

static struct logworker *start(bool compress, unsigned keep)
{
	struct logfile_options o;
	struct logworker *w = NULL;

	logfile_options_default(&o);
	o.compress = compress;
	o.keep = keep;
	CHECK_INT(logworker_new(&w, dirfd_, "t.log", &o), 0);
	return w;
}

/* What an earlier run left uncompressed is gzipped at the start, and only
 * with compress on; a symlink is never read. */
static void test_compress_at_start(void)
{
	struct logfile_options o;
	struct logworker *w;

	put("t.log.1", "one\n");
	put("t.log.3", "three\n");
	put("victim", "precious\n");
	CHECK_INT(symlinkat("victim", dirfd_, "t.log.2"), 0);
	w = start(false, 3);
	logworker_drain(w);
	CHECK(exists("t.log.1") && !exists("t.log.1.gz"));

	logfile_options_default(&o);
	o.compress = true;
	o.keep = 3;
	logworker_set_options(w, &o);
	logworker_drain(w);
	CHECK(!exists("t.log.1") && !exists("t.log.3"));
	CHECK_STR(gunzip("t.log.1.gz"), "one\n");
	CHECK_STR(gunzip("t.log.3.gz"), "three\n");
	CHECK(exists("t.log.2") && !exists("t.log.2.gz"));
	CHECK(!exists(".t.log.gz.tmp"));
	CHECK_INT(logworker_error(w), 0);
	logworker_free(w);
	remove_all();
}

/* A rotation through the worker shifts plain and .gz names alike; the file
 * it rotated is then compressed under its new name. */
static void test_shift_then_compress(void)
{
	struct logworker *w;
	int fd;

	put("t.log.1.gz", "not really gzip");
	put("t.log", "current\n");
	fd = openat(dirfd_, "t.log", O_WRONLY | O_APPEND | O_CLOEXEC);
	CHECK(fd >= 0);
	w = start(true, 3);
	logworker_drain(w);
	CHECK_INT(logworker_shift(w, dirfd_, "t.log", 3, fd), 0);
	CHECK(!exists("t.log") && exists("t.log.1") && exists("t.log.2.gz"));
	logworker_compress(w);
	logworker_drain(w);
	CHECK(!exists("t.log.1"));
	CHECK_STR(gunzip("t.log.1.gz"), "current\n");
	close(fd);
	logworker_free(w);
	remove_all();
}

/* A compression that cannot make its temporary file says why, and leaves the
 * rotated file as it was. */
static void test_compress_error(void)
{
	struct logworker *w;

	put("t.log.1", "one\n");
	CHECK_INT(mkdirat(dirfd_, ".t.log.gz.tmp", 0700), 0);
	w = start(true, 2);
	logworker_drain(w);
	CHECK_INT(logworker_error(w), -EEXIST);
	CHECK(exists("t.log.1") && !exists("t.log.1.gz"));
	logworker_free(w);
	remove_all();
}

/* A descriptor handed over is synced and closed by the worker; without
 * compression the worker still syncs. */
static void test_fsync(void)
{
	struct logworker *w = start(false, 2);
	int fd;

	put("t.log", "x\n");
	fd = openat(dirfd_, "t.log", O_WRONLY | O_APPEND | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_INT(logworker_fsync(w, fd, true), 0);
	logworker_drain(w);
	CHECK_INT(fcntl(fd, F_GETFD), -1);
	CHECK_INT(errno, EBADF);
	logworker_free(w);
	logworker_free(NULL);
	remove_all();
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	dirfd_ = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd_ < 0) {
		perror(tmpdir);
		return 1;
	}
	test_compress_at_start();
	test_shift_then_compress();
	test_compress_error();
	test_fsync();
	close(dirfd_);
	rmdir(tmpdir);
	return CHECK_DONE();
}
