/*
 * source_follow.c - a log followed like tail -F.
 *
 * The daemon rotates by renaming the log and starting a new one at the same
 * path (built-in rotation, or logrotate and SIGUSR1), and makes it again
 * when it is deleted. So at the end of the open file the path is asked
 * again: another file there means a rotation. The old file is then read to
 * its end once more (the daemon may have written its last batch there after
 * the first end was met), and the new one from its start; the same file,
 * now shorter, was truncated. A small max_size can rotate several times
 * between two reads: the files rotated since, found in the rotated set by
 * their first record's time (no earlier than the last one read) and, among
 * those begun at the same time, by their number, are read in order before
 * the new log, gzipped or not. inotify on the log's
 * directory wakes the reader as soon as anything there changes, so a record
 * is read within milliseconds of its write; without inotify (no directory
 * yet) the path is polled.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "ctl_linebuf.h"
#include "ctl_record.h"
#include "ctl_source.h"

/* How often the path is asked when inotify cannot watch its directory. */
#define POLL_MS 100

/* Rotated files read between two of the log: more are a log rotating
 * faster than anything can follow it. */
#define BACKLOG_MAX 64

struct source_follow {
	char *path;
	char *dir;
	int is_stdin;
	int fd;  /* -1: the log does not exist (yet) */
	int ino; /* inotify, or -1 */
	int watching;
	dev_t dev;
	ino_t inode;
	off_t offset;
	int rotated;      /* a rotation was seen: the old file read to its end once more */
	int64_t last_ts;  /* of the last line returned, or INT64_MIN */
	int64_t first_ts; /* of the open file's first line, or INT64_MIN */
	struct source_file *backlog[BACKLOG_MAX]; /* rotated files to read first */
	size_t nbacklog, ibacklog;
	struct linebuf lb;
};

static void close_log(struct source_follow *f)
{
	if (f->fd >= 0 && !f->is_stdin)
		close(f->fd);
	f->fd = -1;
}

/* Opens PATH as the file followed; nothing when there is none. */
static void open_at(struct source_follow *f, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	f->fd = fd;
	f->dev = st.st_dev;
	f->inode = st.st_ino;
	f->offset = 0;
	f->first_ts = INT64_MIN;
}

/* Opens the file now at the log's path; nothing when there is none. */
static void open_log(struct source_follow *f)
{
	open_at(f, f->path);
}

/* Watches the log's directory, once it exists. */
static void watch(struct source_follow *f)
{
	if (f->watching || f->ino < 0)
		return;
	if (inotify_add_watch(f->ino, f->dir,
	                      IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
	                          IN_CLOSE_WRITE | IN_ATTRIB) >= 0)
		f->watching = 1;
}

int source_follow_open(const char *path, struct source_follow **ret)
{
	struct source_follow *f = calloc(1, sizeof(*f));
	char *slash;
	int err;

	if (!f)
		return -ENOMEM;
	f->fd = f->ino = -1;
	f->last_ts = f->first_ts = INT64_MIN;
	f->is_stdin = strcmp(path, "-") == 0;
	f->path = strdup(f->is_stdin ? "(stdin)" : path);
	f->dir = strdup(path);
	err = f->path && f->dir ? linebuf_init(&f->lb, 256 * 1024) : -ENOMEM;
	if (err < 0) {
		source_follow_close(f);
		return err;
	}
	slash = strrchr(f->dir, '/');
	if (!slash)
		strcpy(f->dir, ".");
	else if (slash == f->dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (f->is_stdin) {
		f->fd = STDIN_FILENO;
	} else {
		f->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		watch(f);
		open_log(f);
	}
	*ret = f;
	return 0;
}

void source_follow_close(struct source_follow *f)
{
	if (!f)
		return;
	close_log(f);
	while (f->ibacklog < f->nbacklog)
		source_file_close(f->backlog[f->ibacklog++]);
	if (f->ino >= 0)
		close(f->ino);
	linebuf_release(&f->lb);
	free(f->path);
	free(f->dir);
	free(f);
}

/* The time of the record LINE (text or JSON), or INT64_MIN. */
static int64_t line_time(const char *line, size_t len)
{
	int64_t ts;

	if (len >= 34 && memcmp(line, "{\"ts\":\"", 7) == 0 && recread_time(line + 7, 27, &ts) == 0)
		return ts;
	if (len >= 27 && recread_time(line, 27, &ts) == 0)
		return ts;
	return INT64_MIN;
}

/* The time of the first record of the file at PATH, plain or gzip, or INT64_MIN. */
static int64_t first_time(const char *path)
{
	char line[256];
	gzFile g = gzopen(path, "rb");
	int64_t ts = INT64_MIN;

	if (!g)
		return ts;
	if (gzgets(g, line, sizeof(line)))
		ts = line_time(line, strlen(line));
	gzclose_r(g);
	return ts;
}

/* A rotated file to read, by the time of its first record. */
struct candidate {
	struct source_file *file;
	ino_t ino;
	int64_t first;
	unsigned gen; /* the generation it was met at */
};

/* Earlier first record first; of two that begin at the same time, the
 * higher generation, the older file. */
static int by_first(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return x->gen > y->gen ? -1 : x->gen < y->gen;
}

/* The files met by switch_files(), and the file followed until then. */
struct scan {
	struct candidate c[BACKLOG_MAX];
	size_t nc;
	dev_t old_dev;
	ino_t old_ino;
	int64_t old_first; /* of the file followed, or INT64_MIN */
	unsigned old_gen;  /* where that file was met, or UINT_MAX */
};

/*
 * After the file followed (OLD) was read to its end: the files that began
 * after it, the log's rotated set and the log itself, in the order of their
 * first records. All but the newest are queued, to be read whole; the
 * newest is followed. The records of one poll's batch all bear about the
 * same time, and a batch that takes the log past max_size goes on in the
 * next file; so with a small max_size several files in a row begin at the
 * same microsecond, the one followed among them. Which of those came after
 * it is told by the generation: a file met at a lower number than OLD is
 * newer. Else each batch's first record is later than the one before's
 * (only within a batch are records sorted: a destroy notification read
 * during one poll's dump is written with the next, so a file's last record
 * can be later than the next file's first).
 *
 * The names shift while the daemon rotates: a file is known by what its
 * descriptor is, not by its name, and the generations are opened by number,
 * from the newest (the log, .1, .2, ... until three in a row are missing),
 * not from a listing of the directory, which a rotation under way can leave
 * without a file (between its renames). A rename moves a file to a higher
 * number, which is still to be opened, so none is missed (one met twice is
 * known by its inode, at the first number it was met at); only a log made
 * after it was opened is, and the next rotation check finds that one.
 */
/* Opens generation GEN of the log (0: the log itself, else PATH.GEN or
 * PATH.GEN.gz) into *RET. Returns 0 or -errno. */
static int open_generation(const struct source_follow *f, unsigned gen, struct source_file **ret)
{
	char name[PATH_MAX];

	if (!gen)
		return source_file_open(f->path, ret);
	snprintf(name, sizeof(name), "%s.%u", f->path, gen);
	if (source_file_open(name, ret) == 0)
		return 0;
	snprintf(name, sizeof(name), "%s.%u.gz", f->path, gen);
	return source_file_open(name, ret);
}

/* Keeps SF, generation GEN, among the files to read after the one followed
 * (see switch_files()), or closes it: one met before, the one followed
 * itself, or one begun before it. Those begun at the same time as it are
 * sorted out once its generation is known (drop_older()). */
static void consider(const struct source_follow *f, struct scan *s, struct source_file *sf,
                     unsigned gen)
{
	struct candidate *c = &s->c[s->nc];
	struct stat st;
	char again[64];
	size_t k;

	fstat(source_file_fd(sf), &st);
	if (st.st_dev == s->old_dev && st.st_ino == s->old_ino && s->old_gen == UINT_MAX)
		s->old_gen = gen;
	for (k = 0; k < s->nc && s->c[k].ino != st.st_ino; k++)
		;
	snprintf(again, sizeof(again), "/proc/self/fd/%d", source_file_fd(sf));
	c->first = first_time(again);
	/* The log itself, made again and still empty, is the newest. */
	if (c->first == INT64_MIN && gen == 0)
		c->first = INT64_MAX;
	if (k < s->nc || (st.st_dev == s->old_dev && st.st_ino == s->old_ino) ||
	    c->first == INT64_MIN ||
	    (s->old_first != INT64_MIN ? c->first < s->old_first : c->first < f->last_ts)) {
		source_file_close(sf);
		return;
	}
	c->ino = st.st_ino;
	c->gen = gen;
	c->file = sf;
	s->nc++;
}

/* Closes the files begun at the same time as the one followed but met at a
 * higher number: older than it. When it was not met (deleted, as are all
 * older than it then), they are all newer. */
static void drop_older(struct scan *s)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->nc; i++) {
		if (s->c[i].first == s->old_first && s->old_gen != UINT_MAX &&
		    s->c[i].gen > s->old_gen)
			source_file_close(s->c[i].file);
		else
			s->c[kept++] = s->c[i];
	}
	s->nc = kept;
}

static void switch_files(struct source_follow *f, dev_t old_dev, ino_t old_ino, int64_t old_first)
{
	struct scan s = {
	    .old_dev = old_dev, .old_ino = old_ino, .old_first = old_first, .old_gen = UINT_MAX};
	unsigned missing = 0;

	for (unsigned gen = 0; missing < 3 && s.nc < BACKLOG_MAX && gen < 1000000; gen++) {
		struct source_file *sf;

		if (open_generation(f, gen, &sf) < 0) {
			missing++;
			continue;
		}
		missing = 0;
		consider(f, &s, sf, gen);
	}
	drop_older(&s);
	qsort(s.c, s.nc, sizeof(s.c[0]), by_first);
	for (size_t i = 0; i + 1 < s.nc; i++)
		f->backlog[f->nbacklog++] = s.c[i].file;
	if (s.nc) {
		char again[64];

		snprintf(again, sizeof(again), "/proc/self/fd/%d",
		         source_file_fd(s.c[s.nc - 1].file));
		open_at(f, again);
		source_file_close(s.c[s.nc - 1].file);
	} else {
		open_log(f);
	}
}

/* At the end of the open file: a rotation or truncation to act on? Returns
 * 1 when there may be more to read now, 0 when not. */
static int check_path(struct source_follow *f, struct source_report *rep)
{
	struct stat st;

	watch(f);
	if (stat(f->path, &st) < 0)
		return 0; /* deleted: the daemon makes it again */
	if (f->fd >= 0 && st.st_dev == f->dev && st.st_ino == f->inode) {
		if (st.st_size >= f->offset)
			return 0;
		/* Truncated (copytruncate): start again from the top. */
		lseek(f->fd, 0, SEEK_SET);
		f->offset = 0;
		linebuf_clear(&f->lb);
		return 1;
	}
	if (f->fd >= 0 && !f->rotated) {
		f->rotated = 1;
		return 1;
	}
	f->rotated = 0;
	if (linebuf_pending(&f->lb))
		source_report_bad(rep, f->path, f->lb.lineno + 1, "torn line before a rotation");
	linebuf_clear(&f->lb);
	if (f->fd >= 0) {
		dev_t dev = f->dev;
		ino_t inode = f->inode;

		close_log(f);
		switch_files(f, dev, inode, f->first_ts);
	} else {
		open_log(f);
	}
	return f->fd >= 0 || f->nbacklog;
}

/* Waits up to TIMEOUT_MS for a change. Returns 1 on one, 0 on none, -EINTR. */
static int wait_change(struct source_follow *f, int timeout_ms)
{
	struct pollfd p = {.fd = f->is_stdin ? f->fd : f->ino, .events = POLLIN};
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int n;

	if (!f->is_stdin && (!f->watching || f->ino < 0)) {
		if (timeout_ms < 0 || timeout_ms > POLL_MS)
			timeout_ms = POLL_MS;
		return poll(NULL, 0, timeout_ms) < 0 ? -EINTR : 1;
	}
	n = poll(&p, 1, timeout_ms);
	if (n < 0)
		return errno == EINTR ? -EINTR : -errno;
	if (n == 0)
		return 0;
	while (!f->is_stdin && read(f->ino, buf, sizeof(buf)) > 0)
		; /* what changed is asked of the path, not of the events */
	return 1;
}

/* Reads more of the log. Returns the bytes read, 0 at its end, -EPIPE at
 * the end of stdin. */
static ssize_t read_more(struct source_follow *f)
{
	size_t room;
	char *p;
	ssize_t n;

	if (f->fd < 0)
		return 0;
	if (f->is_stdin) {
		/* Not made non-blocking: the descriptor is shared with the shell. */
		struct pollfd pfd = {.fd = f->fd, .events = POLLIN};

		if (poll(&pfd, 1, 0) <= 0)
			return 0;
	}
	p = linebuf_room(&f->lb, &room);
	n = read(f->fd, p, room);
	if (n > 0) {
		linebuf_fill(&f->lb, (size_t)n);
		f->offset += n;
		return n;
	}
	if (n == 0 && f->is_stdin)
		return -EPIPE;
	return 0;
}

/* The next line of the rotated files queued, if any. Returns 1 or 0. */
static int next_backlog(struct source_follow *f, struct source_report *rep, const char **ret_line,
                        size_t *ret_len)
{
	while (f->ibacklog < f->nbacklog) {
		struct source_file *b = f->backlog[f->ibacklog];

		if (source_file_next(b, rep, ret_line, ret_len) > 0)
			return 1;
		source_file_close(b);
		f->ibacklog++;
	}
	f->ibacklog = f->nbacklog = 0;
	return 0;
}

/* The next line of the log itself. Returns 1, 0 when none came within
 * TIMEOUT_MS, 2 when rotated files were queued, or -errno. */
static int next_live(struct source_follow *f, struct source_report *rep, int timeout_ms,
                     const char **ret_line, size_t *ret_len)
{
	for (;;) {
		int r = linebuf_line(&f->lb, ret_line, ret_len);
		ssize_t n;

		if (r == 1)
			return 1;
		if (r == -E2BIG) {
			source_report_bad(rep, f->path, f->lb.lineno, "line too long");
			continue;
		}
		n = read_more(f);
		if (n > 0)
			continue;
		if (n < 0) {
			if (linebuf_pending(&f->lb))
				source_report_bad(rep, f->path, f->lb.lineno + 1,
				                  "torn line at the end (no newline)");
			return (int)n;
		}
		if (!f->is_stdin && (f->fd < 0 ? (open_log(f), f->fd >= 0) : check_path(f, rep))) {
			if (f->nbacklog)
				return 2;
			continue;
		}
		r = wait_change(f, timeout_ms);
		if (r <= 0)
			return r;
	}
}

int source_follow_next(struct source_follow *f, struct source_report *rep, int timeout_ms,
                       const char **ret_line, size_t *ret_len)
{
	int r;

	do {
		r = next_backlog(f, rep, ret_line, ret_len);
		if (r == 0)
			r = next_live(f, rep, timeout_ms, ret_line, ret_len);
	} while (r == 2);
	if (r == 1) {
		int64_t ts = line_time(*ret_line, *ret_len);

		if (ts > f->last_ts)
			f->last_ts = ts;
		if (f->ibacklog == f->nbacklog && f->first_ts == INT64_MIN)
			f->first_ts = ts;
	}
	return r;
}

const char *source_follow_name(const struct source_follow *f)
{
	if (f->ibacklog < f->nbacklog)
		return source_file_name(f->backlog[f->ibacklog]);
	return f->path;
}

uint64_t source_follow_lineno(const struct source_follow *f)
{
	if (f->ibacklog < f->nbacklog)
		return source_file_lineno(f->backlog[f->ibacklog]);
	return f->lb.lineno;
}
