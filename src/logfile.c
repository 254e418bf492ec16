/*
 * logfile.c - the transition log.
 *
 * Records of one poll are queued in a buffer and written together, so a
 * busy poll costs one write() rather than one per record. Only whole lines
 * are ever queued, and the buffer is flushed before a line that would not
 * fit, so a write never ends in the middle of a record. The file is opened
 * O_APPEND: an external rotation that renames it is noticed at the next
 * reopen (SIGHUP/SIGUSR1), and nothing is ever written at a stale offset.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "logfile.h"

#define LOGFILE_BUF_SIZE 65536
#define LOGFILE_MODE 0640
#define LOGFILE_DIR_MODE 0750

struct logfile {
	int fd;
	char path[PATH_MAX];
	uint64_t written; /* records */
	uint64_t dropped; /* records */
	size_t queued;	  /* records in buf */
	size_t len;	  /* bytes in buf */
	char buf[LOGFILE_BUF_SIZE];
};

/* Creates the missing parent directories of PATH. */
static int make_parents(const char *path)
{
	char dir[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, n + 1);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, LOGFILE_DIR_MODE) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

/* Opens PATH for appending; -ELOOP for a symlink, -EINVAL for a file that is
 * not a regular file (O_NONBLOCK so that a FIFO cannot block the open). */
static int open_path(const char *path)
{
	const int flags = O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
			  O_NOCTTY;
	struct stat st;
	int fd, err;

	if (strcmp(path, "-") == 0) {
		fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		return fd < 0 ? -errno : fd;
	}
	fd = open(path, flags, LOGFILE_MODE);
	if (fd < 0 && errno == ENOENT) {
		err = make_parents(path);
		if (err < 0)
			return err;
		fd = open(path, flags, LOGFILE_MODE);
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int logfile_open(struct logfile **ret, const char *path)
{
	struct logfile *lf;
	int fd;

	if (strlen(path) >= sizeof(lf->path))
		return -ENAMETOOLONG;
	fd = open_path(path);
	if (fd < 0)
		return fd;
	lf = calloc(1, sizeof(*lf));
	if (!lf) {
		close(fd);
		return -ENOMEM;
	}
	lf->fd = fd;
	strcpy(lf->path, path);
	*ret = lf;
	return 0;
}

void logfile_close(struct logfile *lf)
{
	if (!lf)
		return;
	(void)logfile_flush(lf);
	close(lf->fd);
	free(lf);
}

int logfile_flush(struct logfile *lf)
{
	size_t off = 0;
	int err = 0;

	while (off < lf->len) {
		ssize_t n = write(lf->fd, lf->buf + off, lf->len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (err < 0) {
		/* Count the records that did not make it whole. */
		size_t whole = 0;

		for (size_t i = 0; i < off; i++)
			whole += lf->buf[i] == '\n';
		lf->written += whole;
		lf->dropped += lf->queued - whole;
	} else {
		lf->written += lf->queued;
	}
	lf->len = 0;
	lf->queued = 0;
	return err;
}

int logfile_append(struct logfile *lf, const char *line, size_t len)
{
	int err = 0;

	if (len > sizeof(lf->buf))
		return -EMSGSIZE;
	if (lf->len + len > sizeof(lf->buf))
		err = logfile_flush(lf);
	memcpy(lf->buf + lf->len, line, len);
	lf->len += len;
	lf->queued++;
	return err;
}

int logfile_reopen(struct logfile *lf)
{
	int fd, err;

	err = logfile_flush(lf);
	fd = open_path(lf->path);
	if (fd < 0)
		return fd;
	close(lf->fd);
	lf->fd = fd;
	return err;
}

const char *logfile_path(const struct logfile *lf)
{
	return lf->path;
}

uint64_t logfile_written(const struct logfile *lf)
{
	return lf->written;
}

uint64_t logfile_dropped(const struct logfile *lf)
{
	return lf->dropped;
}
