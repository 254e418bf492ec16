/*
 * source_follow.c - a log followed like tail -F.
 *
 * The daemon rotates by renaming the log and starting a new one at the same
 * path (built-in rotation, or logrotate and SIGUSR1), and makes it again
 * when it is deleted. So at the end of the open file the path is asked
 * again: another file there means a rotation, and the new one is read from
 * its start, the old one having been read to its end; the same file, now
 * shorter, was truncated. inotify on the log's directory wakes the reader as
 * soon as anything there changes, so a record is read within milliseconds
 * of its write; without inotify (no directory yet) the path is polled.
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

#include "ctl_linebuf.h"
#include "ctl_source.h"

/* How often the path is asked when inotify cannot watch its directory. */
#define POLL_MS 100

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
	struct linebuf lb;
};

static void close_log(struct source_follow *f)
{
	if (f->fd >= 0 && !f->is_stdin)
		close(f->fd);
	f->fd = -1;
}

/* Opens the file now at the path; nothing when there is none. */
static void open_log(struct source_follow *f)
{
	struct stat st;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

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
	if (f->ino >= 0)
		close(f->ino);
	linebuf_release(&f->lb);
	free(f->path);
	free(f->dir);
	free(f);
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
	if (linebuf_pending(&f->lb))
		source_report_bad(rep, f->path, f->lb.lineno + 1, "torn line before a rotation");
	linebuf_clear(&f->lb);
	close_log(f);
	open_log(f);
	return f->fd >= 0;
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

int source_follow_next(struct source_follow *f, struct source_report *rep, int timeout_ms,
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
		if (!f->is_stdin && (f->fd < 0 ? (open_log(f), f->fd >= 0) : check_path(f, rep)))
			continue;
		r = wait_change(f, timeout_ms);
		if (r <= 0)
			return r;
	}
}

const char *source_follow_name(const struct source_follow *f)
{
	return f->path;
}

uint64_t source_follow_lineno(const struct source_follow *f)
{
	return f->lb.lineno;
}
