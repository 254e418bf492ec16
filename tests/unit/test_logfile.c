/* test_logfile.c - the transition log: whole lines, rotation, symlinks, mode, faults. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <zlib.h>

#include "check.h"
#include "logfile.h"
#include "record.h"

static char tmpdir[] = "/tmp/test_logfile.XXXXXX";
static char path[256];

/* A line of exactly 100 bytes holding N: "line 000042 ....\n". */
static void make_line(char *buf, unsigned n)
{
	snprintf(buf, 101, "line %06u %-87s\n", n, "x");
}

/* The contents of NAME in tmpdir (gunzipped if it ends in .gz), or NULL. */
static char *slurp(const char *name, size_t *ret_len)
{
	char p[512];
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	gzFile g;
	int n;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	g = gzopen(p, "rb");
	if (!g) {
		free(buf);
		return NULL;
	}
	while ((n = gzread(g, buf + len, (unsigned)(cap - len - 1))) > 0)
		len += (size_t)n;
	gzclose(g);
	buf[len] = '\0';
	*ret_len = len;
	return buf;
}

static bool exists(const char *name)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return lstat(p, &st) == 0;
}

static off_t size_of(const char *name)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return lstat(p, &st) == 0 ? st.st_size : -1;
}

static void remove_all(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'/* '%s'/.[!.]*", tmpdir, tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot clean %s\n", tmpdir);
}

/*
 * Checks that the lines of BUF (LEN bytes) are whole "line N" records
 * numbered from *NEXT on, one after the other; advances *NEXT.
 */
static void check_lines(const char *what, const char *buf, size_t len, unsigned *next)
{
	char want[128];

	if (len % 100 != 0) {
		fprintf(stderr, "%s: %zu bytes, not whole lines\n", what, len);
		check_failures++;
		return;
	}
	for (size_t off = 0; off < len; off += 100) {
		make_line(want, *next);
		if (memcmp(buf + off, want, 100) != 0) {
			fprintf(stderr, "%s: at %zu: expected line %u, got \"%.11s\"\n", what, off,
			        *next, buf + off);
			check_failures++;
			return;
		}
		(*next)++;
	}
}

/* Checks that NAME holds exactly the lines FIRST ... END - 1. */
static void check_file(const char *name, unsigned first, unsigned end)
{
	unsigned next = first;
	size_t len;
	char *buf = slurp(name, &len);

	CHECK(buf != NULL);
	if (buf)
		check_lines(name, buf, len, &next);
	CHECK_INT(next, end);
	free(buf);
}

static struct logfile *open_with(uint64_t max_size, unsigned keep, bool compress)
{
	struct logfile_options o;
	struct logfile *lf = NULL;

	logfile_options_default(&o);
	o.max_size = max_size;
	o.keep = keep;
	o.compress = compress;
	CHECK_INT(logfile_open(&lf, path, &o), 0);
	return lf;
}

static void test_whole_batches(void)
{
	struct logfile *lf = open_with(0, 10, false);
	char line[128];

	/* More than the 64 KiB batch: written in whole lines, in order. */
	for (unsigned i = 0; i < 1000; i++) {
		make_line(line, i);
		CHECK_INT(logfile_append(lf, line, 100), 0);
	}
	CHECK_INT(logfile_flush(lf), 0);
	CHECK_INT(logfile_written(lf), 1000);
	CHECK_INT(logfile_dropped(lf), 0);
	logfile_close(lf);
	check_file("t.log", 0, 1000);
	remove_all();
}

/* Reads PATH.keep ... PATH.1, PATH (each plain or .gz) and checks that they
 * hold lines FIRST ... LAST-1, none across two files, none above max_size. */
static void check_generations(unsigned keep, off_t max_size, unsigned last)
{
	char name[64], gz[64], *buf;
	unsigned next = 0, files = 0;
	size_t len;
	bool started = false;

	for (unsigned k = keep + 1; k > 0; k--) {
		snprintf(name, sizeof(name), k == 1 ? "t.log" : "t.log.%u", k - 1);
		snprintf(gz, sizeof(gz), "t.log.%u.gz", k - 1);
		if (k > 1 && exists(gz))
			strcpy(name, gz);
		buf = slurp(name, &len);
		if (!buf)
			continue;
		files++;
		if (!started && len >= 11) {
			next = (unsigned)atoi(buf + 5);
			started = true;
		}
		CHECK(len <= (size_t)max_size);
		if (!strstr(name, ".gz"))
			CHECK(size_of(name) <= max_size);
		check_lines(name, buf, len, &next);
		free(buf);
	}
	CHECK_INT(next, last);
	CHECK_INT(files, keep + 1);
	snprintf(name, sizeof(name), "t.log.%u", keep + 1);
	CHECK(!exists(name));
	snprintf(name, sizeof(name), "t.log.%u.gz", keep + 1);
	CHECK(!exists(name));
}

static void test_rotation(void)
{
	struct logfile *lf = open_with(4096, 3, false);
	char line[128];

	/* 40 lines of 100 bytes fill 4000 of 4096 bytes; the 41st rotates. */
	for (unsigned i = 0; i < 500; i++) {
		make_line(line, i);
		CHECK_INT(logfile_append(lf, line, 100), 0);
		if (i % 7 == 0)
			CHECK_INT(logfile_flush(lf), 0);
	}
	CHECK_INT(logfile_flush(lf), 0);
	CHECK_INT(logfile_rotations(lf), 12);
	CHECK_INT(size_of("t.log"), 500 % 40 * 100);
	CHECK_INT(size_of("t.log.1"), 4000);
	check_generations(3, 4096, 500);

	/* An explicit rotation, and one with nothing written since. */
	CHECK_INT(logfile_rotate(lf), 0);
	CHECK_INT(size_of("t.log"), 0);
	CHECK_INT(size_of("t.log.1"), 500 % 40 * 100);
	logfile_close(lf);
	remove_all();
}

static void test_compression(void)
{
	struct logfile *lf = open_with(4096, 4, true);
	char line[128];
	struct timespec pause = {0, 10000000};

	for (unsigned i = 0; i < 200; i++) {
		make_line(line, i);
		CHECK_INT(logfile_append(lf, line, 100), 0);
		CHECK_INT(logfile_flush(lf), 0);
	}
	/* The worker gzips in the background: wait for it (at most 10 s). */
	for (int i = 0; i < 1000; i++) {
		if (exists("t.log.1.gz") && exists("t.log.4.gz") && !exists("t.log.1") &&
		    !exists("t.log.2") && !exists("t.log.3") && !exists("t.log.4"))
			break;
		nanosleep(&pause, NULL);
	}
	CHECK(exists("t.log.1.gz"));
	CHECK(!exists("t.log.1"));
	CHECK(!exists(".t.log.gz.tmp"));
	check_generations(4, 4096, 200);
	logfile_close(lf);

	/* A plain file left by an earlier run is compressed at the next open. */
	{
		char p[512];
		FILE *f;

		snprintf(p, sizeof(p), "%s/t.log.5", tmpdir);
		f = fopen(p, "w");
		fputs("left over\n", f);
		fclose(f);
	}
	lf = open_with(4096, 5, true);
	/* The worker renames the .gz into place, then removes the plain file. */
	for (int i = 0; i < 1000 && !(exists("t.log.5.gz") && !exists("t.log.5")); i++)
		nanosleep(&pause, NULL);
	CHECK(exists("t.log.5.gz"));
	CHECK(!exists("t.log.5"));
	logfile_close(lf);
	remove_all();
}

static void test_symlinks(void)
{
	struct logfile *lf = NULL;
	char victim[512], link1[512], link3[512], buf[256];
	FILE *f;
	size_t len;
	char *data;

	/* At open: a symlink is refused, whether or not its target exists. */
	snprintf(victim, sizeof(victim), "%s/victim", tmpdir);
	f = fopen(victim, "w");
	fputs("precious\n", f);
	fclose(f);
	CHECK_INT(symlink(victim, path), 0);
	CHECK_INT(logfile_open(&lf, path, NULL), -ELOOP);
	unlink(path);
	CHECK_INT(symlink("/nonexistent/x", path), 0);
	CHECK_INT(logfile_open(&lf, path, NULL), -ELOOP);
	unlink(path);
	/* Not a regular file. */
	CHECK_INT(mkfifo(path, 0600), 0);
	CHECK_INT(logfile_open(&lf, path, NULL), -EINVAL);
	unlink(path);
	CHECK_INT(mkdir(path, 0700), 0);
	CHECK_INT(logfile_open(&lf, path, NULL), -EINVAL);
	rmdir(path);

	/*
	 * At rotation: links planted at PATH.1 and PATH.3 (= keep) are renamed
	 * and deleted themselves; nothing is written or deleted through them.
	 */
	lf = open_with(4096, 3, true);
	snprintf(link1, sizeof(link1), "%s.1", path);
	snprintf(link3, sizeof(link3), "%s.3", path);
	CHECK_INT(symlink(victim, link1), 0);
	CHECK_INT(symlink(victim, link3), 0);
	snprintf(buf, sizeof(buf), "%-99s\n", "first");
	CHECK_INT(logfile_append(lf, buf, 100), 0);
	CHECK_INT(logfile_rotate(lf), 0);
	CHECK_INT(logfile_rotate(lf), 0);
	/* PATH.1 (the link) became PATH.2, then PATH.3; the old PATH.3 is gone. */
	struct stat st;
	CHECK_INT(lstat(link3, &st), 0);
	CHECK(S_ISLNK(st.st_mode));
	CHECK_INT(logfile_rotate(lf), 0);
	CHECK(!exists("t.log.4"));
	CHECK(lstat(link3, &st) != 0 || !S_ISLNK(st.st_mode));
	logfile_close(lf);
	data = slurp("victim", &len);
	CHECK(data && strcmp(data, "precious\n") == 0);
	free(data);
	remove_all();

	/* A symlink put at PATH after a rotation: the new file is not created
	 * through it; the log goes on in the old file and says why. */
	f = fopen(victim, "w");
	fputs("precious\n", f);
	fclose(f);
	lf = open_with(4096, 3, false);
	CHECK_INT(logfile_append(lf, buf, 100), 0);
	CHECK_INT(logfile_flush(lf), 0);
	CHECK_INT(rename(path, link1), 0);
	CHECK_INT(symlink(victim, path), 0);
	CHECK_INT(logfile_reopen(lf), -ELOOP);
	CHECK_INT(logfile_append(lf, buf, 100), 0);
	CHECK_INT(logfile_flush(lf), 0);
	logfile_close(lf);
	CHECK_INT(size_of("t.log.1"), 200);
	data = slurp("victim", &len);
	CHECK(data && strcmp(data, "precious\n") == 0);
	free(data);
	remove_all();
}

static void test_mode(void)
{
	struct logfile_options o;
	struct logfile *lf;
	struct stat st;
	mode_t old = umask(0);

	logfile_options_default(&o);
	CHECK_INT(o.mode, 0640);
	CHECK_INT(logfile_open(&lf, path, &o), 0);
	logfile_close(lf);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0640);
	unlink(path);

	o.mode = 0600;
	o.max_size = 4096;
	CHECK_INT(logfile_open(&lf, path, &o), 0);
	CHECK_INT(logfile_rotate(lf), 0);
	logfile_close(lf);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);

	/* The umask applies, as for any program (the service's is 0077). */
	umask(0077);
	unlink(path);
	o.mode = 0644;
	CHECK_INT(logfile_open(&lf, path, &o), 0);
	logfile_close(lf);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	umask(old);
	remove_all();
}

/*
 * A write that stops in the middle of a line (here RLIMIT_FSIZE, as a full
 * disk would) leaves only whole lines; the lost ones are counted, and the
 * first write that works again carries the loss record.
 */
static void test_short_write(void)
{
	struct logfile_options o;
	struct logfile_loss loss;
	struct logfile *lf;
	struct rlimit old, lim;
	char line[128], *buf;
	unsigned next = 0;
	size_t len;

	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	logfile_options_default(&o);
	o.format = RECORD_JSON;
	CHECK_INT(logfile_open(&lf, path, &o), 0);
	lim = old;
	lim.rlim_cur = 1050;
	CHECK_INT(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (unsigned i = 0; i < 20; i++) {
		make_line(line, i);
		CHECK_INT(logfile_append(lf, line, 100), 0);
	}
	CHECK_INT(logfile_flush(lf), -EFBIG);
	CHECK_INT(size_of("t.log"), 1000);
	CHECK_INT(logfile_written(lf), 10);
	CHECK_INT(logfile_dropped(lf), 10);
	/* Nothing to write, but the loss record is due: still failing. */
	CHECK_INT(logfile_flush(lf), -EFBIG);
	CHECK(!logfile_take_loss(lf, &loss));
	CHECK_INT(size_of("t.log"), 1000);

	CHECK_INT(setrlimit(RLIMIT_FSIZE, &old), 0);
	make_line(line, 20);
	CHECK_INT(logfile_append(lf, line, 100), 0);
	CHECK_INT(logfile_flush(lf), 0);
	CHECK(logfile_take_loss(lf, &loss));
	CHECK_INT(loss.lost, 10);
	CHECK(!logfile_take_loss(lf, &loss));
	logfile_close(lf);

	buf = slurp("t.log", &len);
	CHECK(buf && len > 1100);
	if (buf) {
		check_lines("t.log", buf, 1000, &next);
		CHECK(memcmp(buf + 1000, "line 000020", 11) == 0);
		CHECK(strstr(buf + 1100, "\"kind\":\"lost\",\"lost\":10,\"since\":\"") ==
		      buf + 1100 + 36);
		CHECK(buf[len - 1] == '\n');
	}
	free(buf);
	remove_all();
}

/* The directory deleted underneath: recreated at the next check (1 s). */
static void test_directory_deleted(void)
{
	char dir[300], lock[320], line[128];
	struct logfile *lf, *other = NULL;
	struct timespec wait = {1, 100000000};

	snprintf(dir, sizeof(dir), "%s/sub", tmpdir);
	snprintf(path, sizeof(path), "%s/sub/t.log", tmpdir);
	CHECK_INT(logfile_open(&lf, path, NULL), 0);
	make_line(line, 0);
	CHECK_INT(logfile_append(lf, line, 100), 0);
	CHECK_INT(logfile_flush(lf), 0);
	/* As rm -r would: the log, its lock, then the directory. */
	CHECK_INT(unlink(path), 0);
	snprintf(lock, sizeof(lock), "%s/.t.log.lock", dir);
	CHECK_INT(unlink(lock), 0);
	CHECK_INT(rmdir(dir), 0);
	nanosleep(&wait, NULL);
	make_line(line, 1);
	CHECK_INT(logfile_append(lf, line, 100), 0);
	CHECK_INT(logfile_flush(lf), 0);
	/* The lock was taken again in the new directory. */
	CHECK_INT(logfile_open(&other, path, NULL), -EBUSY);
	logfile_close(lf);
	check_file("sub/t.log", 1, 2);
	snprintf(path, sizeof(path), "%s/t.log", tmpdir);
	remove_all();
}

/* Opens the log in a child process, which holds it until told through
 * *RET_GO (closed). Returns the child's pid. */
static pid_t hold_in_child(int *ret_go)
{
	int ready[2], go[2];
	struct logfile *lf;
	pid_t pid;
	char c;

	*ret_go = -1;
	if (pipe(ready) < 0 || pipe(go) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int ok = logfile_open(&lf, path, NULL) == 0;

		close(go[1]);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 0)
			ok = 0;
		if (ok)
			logfile_close(lf);
		_exit(ok ? 0 : 1);
	}
	close(ready[1]);
	close(go[0]);
	if (pid > 0 && read(ready[0], &c, 1) != 1)
		pid = -1;
	close(ready[0]);
	*ret_go = go[1];
	return pid;
}

/*
 * One log, one writer: a second open is refused, with the holder's pid, for
 * as long as the first holds it, across a rename and reopen (logrotate) and
 * a rotation. Standard output is never locked.
 */
static void test_lock(void)
{
	struct logfile *a, *b = NULL;
	char renamed[300];
	int go, status;
	pid_t child;

	CHECK_INT(logfile_holder(path), -ENOENT);
	CHECK_INT(logfile_open(&a, path, NULL), 0);
	CHECK_INT(logfile_open(&b, path, NULL), -EBUSY);
	CHECK(b == NULL);
	CHECK_INT(logfile_holder(path), getpid());
	snprintf(renamed, sizeof(renamed), "%s.1", path);
	CHECK_INT(rename(path, renamed), 0);
	CHECK_INT(logfile_reopen(a), 0);
	CHECK_INT(logfile_open(&b, path, NULL), -EBUSY);
	CHECK_INT(logfile_rotate(a), 0);
	CHECK_INT(logfile_open(&b, path, NULL), -EBUSY);
	logfile_close(a);
	CHECK_INT(logfile_holder(path), 0);
	CHECK_INT(logfile_open(&b, path, NULL), 0);
	logfile_close(b);

	/* Held by another process: its pid. */
	child = hold_in_child(&go);
	CHECK(child > 0);
	CHECK_INT(logfile_open(&b, path, NULL), -EBUSY);
	CHECK_INT(logfile_holder(path), child);
	close(go);
	CHECK_INT(waitpid(child, &status, 0), child);
	CHECK_INT(status, 0);
	CHECK_INT(logfile_open(&b, path, NULL), 0);
	logfile_close(b);

	CHECK_INT(logfile_open(&a, "-", NULL), 0);
	CHECK_INT(logfile_open(&b, "-", NULL), 0);
	logfile_close(a);
	logfile_close(b);
	remove_all();
}

/* Queues lines FIRST ... FIRST + N - 1. */
static void append_lines(struct logfile *lf, unsigned first, unsigned n)
{
	char line[128];

	for (unsigned i = first; i < first + n; i++) {
		make_line(line, i);
		CHECK_INT(logfile_append(lf, line, 100), 0);
	}
}

/*
 * The log deleted between two polls: the next batch goes to a new file at
 * PATH at once, and none is lost. When the file cannot be made again (here
 * a plain file took the directory's name), the batch is lost and counted,
 * and the loss record follows when the file can be made.
 */
static void test_file_deleted(void)
{
	struct timespec wait = {1, 100000000};
	struct logfile_loss loss = {0};
	char dir[300], cmd[400], *buf;
	struct logfile *lf;
	size_t len;
	FILE *f;

	lf = open_with(0, 10, false);
	append_lines(lf, 0, 1);
	CHECK_INT(logfile_flush(lf), 0);
	CHECK_INT(unlink(path), 0);
	append_lines(lf, 1, 2);
	CHECK_INT(logfile_flush(lf), 0);
	CHECK_INT(logfile_written(lf), 3);
	CHECK_INT(logfile_dropped(lf), 0);
	check_file("t.log", 1, 3);
	logfile_close(lf);
	remove_all();

	snprintf(dir, sizeof(dir), "%s/sub", tmpdir);
	snprintf(path, sizeof(path), "%s/sub/t.log", tmpdir);
	lf = open_with(0, 10, false);
	snprintf(cmd, sizeof(cmd), "rm -r -- '%s'", dir);
	CHECK_INT(system(cmd), 0);
	f = fopen(dir, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	append_lines(lf, 0, 2);
	CHECK_INT(logfile_flush(lf), -ENOTDIR);
	CHECK_INT(logfile_dropped(lf), 2);
	CHECK_INT(unlink(dir), 0);
	nanosleep(&wait, NULL);
	append_lines(lf, 2, 1);
	CHECK_INT(logfile_flush(lf), 0);
	CHECK(logfile_take_loss(lf, &loss));
	CHECK_INT(loss.lost, 2);
	logfile_close(lf);
	buf = slurp("sub/t.log", &len);
	CHECK(buf && len > 100 && memcmp(buf, "line 000002", 11) == 0);
	CHECK(buf && strstr(buf + 100, " lost 2 records since=") != NULL);
	free(buf);
	snprintf(path, sizeof(path), "%s/t.log", tmpdir);
	remove_all();
}

/* Creates NAME in tmpdir holding one line. */
static void touch(const char *name)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	f = fopen(p, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("old\n", f);
		fclose(f);
	}
}

/*
 * A lower keep, on reload or at open, deletes the rotated files above it,
 * gaps and symlinks included (not what they point to), and nothing else;
 * with max_size = 0 nothing at all, as logrotate may own them. With the
 * worker compressing meanwhile, no file above keep comes back.
 */
static void test_keep_lowered(void)
{
	static const char *const mine[] = {"t.log.3", "t.log.4.gz", "t.log.5", "t.log.5.gz",
	                                   "t.log.9"};
	static const char *const others[] = {"t.log.06", "t.log.7x", "t.log.7.bz2",
	                                     "t.log.0",  "u.log.9",  "t.log"};
	struct timespec pause = {0, 10000000};
	struct logfile_options o;
	struct logfile *lf;
	char victim[512], link[512], name[64];

	for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++)
		touch(mine[i]);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		touch(others[i]);
	touch("t.log.1");
	touch("t.log.2.gz");
	touch("victim");
	snprintf(victim, sizeof(victim), "%s/victim", tmpdir);
	snprintf(link, sizeof(link), "%s/t.log.12", tmpdir);
	CHECK_INT(symlink(victim, link), 0);

	logfile_options_default(&o);
	o.max_size = 0;
	o.keep = 10;
	CHECK_INT(logfile_open(&lf, path, &o), 0);
	o.keep = 2;
	logfile_set_options(lf, &o);
	CHECK(exists("t.log.3") && exists("t.log.12"));
	o.max_size = 4096;
	logfile_set_options(lf, &o);
	for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++)
		CHECK(!exists(mine[i]));
	CHECK(!exists("t.log.12"));
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		CHECK(exists(others[i]));
	CHECK(exists("t.log.1") && exists("t.log.2.gz") && exists("victim"));
	logfile_close(lf);

	/* At open. */
	touch("t.log.3");
	o.keep = 2;
	CHECK_INT(logfile_open(&lf, path, &o), 0);
	CHECK(!exists("t.log.3") && exists("t.log.2.gz"));
	logfile_close(lf);
	remove_all();

	/* While the worker gzips: rotate 8 times, then keep 2 at once. */
	lf = open_with(4096, 10, true);
	for (unsigned i = 0; i < 8; i++) {
		append_lines(lf, i, 1);
		CHECK_INT(logfile_rotate(lf), 0);
	}
	logfile_options_default(&o);
	o.max_size = 4096;
	o.keep = 2;
	o.compress = true;
	logfile_set_options(lf, &o);
	for (int i = 0; i < 1000 && (exists("t.log.1") || exists("t.log.2")); i++)
		nanosleep(&pause, NULL);
	logfile_close(lf);
	CHECK(exists("t.log.1.gz") && exists("t.log.2.gz"));
	for (unsigned k = 3; k <= 9; k++) {
		snprintf(name, sizeof(name), "t.log.%u", k);
		CHECK(!exists(name));
		snprintf(name, sizeof(name), "t.log.%u.gz", k);
		CHECK(!exists(name));
	}
	CHECK(!exists(".t.log.gz.tmp"));
	remove_all();
}

/* fsync = interval and never: the same lines, whatever the policy. */
static void test_fsync_policies(void)
{
	struct timespec pause = {0, 5000000};
	struct logfile_options o;
	struct logfile *lf;
	char line[128];

	for (int policy = 0; policy < LOGFILE_FSYNC_MAX; policy++) {
		logfile_options_default(&o);
		o.fsync = (enum logfile_fsync)policy;
		o.fsync_interval_ms = 10;
		o.max_size = 4096;
		CHECK_INT(logfile_open(&lf, path, &o), 0);
		for (unsigned i = 0; i < 60; i++) {
			make_line(line, i);
			CHECK_INT(logfile_append(lf, line, 100), 0);
			CHECK_INT(logfile_flush(lf), 0);
			if (i % 10 == 0)
				nanosleep(&pause, NULL);
		}
		logfile_close(lf);
		CHECK_STR(logfile_fsync_name((unsigned)policy), policy == 0   ? "never"
		                                                : policy == 1 ? "rotate"
		                                                              : "interval");
		CHECK_INT(logfile_fsync_from_name(logfile_fsync_name((unsigned)policy)), policy);
		check_file("t.log", 40, 60);
		remove_all();
	}
	CHECK_INT(logfile_fsync_from_name("always"), -EINVAL);
}

/* A record torn by a crash at the end of the file is cut off at open. */
static void test_torn_tail(void)
{
	struct logfile *lf;
	static char big[2 * RECORD_MAX + 1000];
	FILE *f;

	f = fopen(path, "w");
	fputs("whole\n{\"ts\":\"2026-", f);
	fclose(f);
	CHECK_INT(logfile_open(&lf, path, NULL), 0);
	CHECK_INT(logfile_torn(lf), 12);
	CHECK_INT(logfile_append(lf, "next\n", 5), 0);
	logfile_close(lf);
	CHECK_INT(size_of("t.log"), 11);

	/* A whole file is left alone, and so is a long line that is not ours. */
	CHECK_INT(logfile_open(&lf, path, NULL), 0);
	CHECK_INT(logfile_torn(lf), 0);
	logfile_close(lf);
	memset(big, 'x', sizeof(big));
	f = fopen(path, "w");
	fwrite(big, 1, sizeof(big), f);
	fclose(f);
	CHECK_INT(logfile_open(&lf, path, NULL), 0);
	CHECK_INT(logfile_torn(lf), 0);
	logfile_close(lf);
	CHECK_INT(size_of("t.log"), sizeof(big));
	remove_all();
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/t.log", tmpdir);
	test_whole_batches();
	test_rotation();
	test_compression();
	test_symlinks();
	test_mode();
	test_short_write();
	test_directory_deleted();
	test_torn_tail();
	test_lock();
	test_file_deleted();
	test_keep_lowered();
	test_fsync_policies();
	rmdir(tmpdir);
	return CHECK_DONE();
}
