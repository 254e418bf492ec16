/*
 * loglock.c - one daemon per log.
 *
 * Two daemons writing one log would both log their initial records and both
 * rotate it. The lock is an OFD lock (F_OFD_SETLK) on a file of its own
 * beside the log, ".BASE.lock", rather than on the log: every rotation,
 * built-in or logrotate's, renames the log, and a lock on it would leave
 * with the old file while the new one stood unlocked. The lock file is never
 * renamed, and never deleted either: deleting it at exit would let a daemon
 * that had just opened it lock a file that the next one no longer finds.
 * The leading dot keeps it out of shell and logrotate globs.
 *
 * OFD locks rather than classic POSIX ones: they belong to the open file, so
 * closing some other descriptor of the file cannot drop them, and two opens
 * in one process conflict like two processes. F_OFD_GETLK reports no pid
 * (l_pid is -1), so the holder writes its pid into the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "loglock.h"
#include "logopen.h"

/* How long loglock_holder() waits for a holder that has locked but not yet
 * written its pid: tries, 1 ms apart. */
#define HOLDER_TRIES 20

const char *loglock_name(char *buf, const char *base)
{
	snprintf(buf, LOGGEN_NAME_MAX, ".%s.lock", base);
	return buf;
}

int loglock_take(int dirfd, const char *base, unsigned mode)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char name[LOGGEN_NAME_MAX], pid[32];
	ssize_t written;
	int fd, n, err;

	fd = logopen_file(dirfd, loglock_name(name, base), mode);
	if (fd < 0)
		return fd;
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		err = errno == EAGAIN || errno == EACCES ? -EBUSY : -errno;
		close(fd);
		return err;
	}
	/*
	 * The pid only serves a second daemon's message. A disk too full to
	 * take it leaves the lock as good, and that daemon without the pid: a
	 * pid written in part has no newline, and read_pid() ignores it. The
	 * file is O_APPEND, so after the truncation the pid lands at 0.
	 */
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	written = ftruncate(fd, 0) == 0 ? write(fd, pid, (size_t)n) : -1;
	(void)written;
	return fd;
}

/* The pid in the lock file FD, 0 when it holds no whole one. */
static int read_pid(int fd)
{
	char buf[32], *end;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long pid;

	if (n <= 1 || buf[n - 1] != '\n')
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	return *end == '\n' && pid > 0 && pid <= INT_MAX ? (int)pid : 0;
}

int loglock_holder(int dirfd, const char *base)
{
	const struct timespec pause = {0, 1000000};
	char name[LOGGEN_NAME_MAX];
	struct flock fl;
	int fd, pid = 0;

	fd = openat(dirfd, loglock_name(name, base),
	            O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	for (int i = 0; i < HOLDER_TRIES && pid == 0; i++) {
		fl = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET};
		if (fcntl(fd, F_OFD_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
			break;
		pid = read_pid(fd);
		if (pid == 0)
			nanosleep(&pause, NULL);
	}
	close(fd);
	return pid;
}
