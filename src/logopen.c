/*
 * logopen.c - opening the log: its directory, the file, a torn tail cut off.
 *
 * The file is opened relative to a descriptor of its directory, and never
 * through a symlink (O_NOFOLLOW): nothing is ever written through a link
 * planted at PATH. The directories above the log's own are the
 * administrator's business.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "logopen.h"
#include "record.h"

#define LOGOPEN_DIR_MODE 0750

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
		if (mkdir(dir, LOGOPEN_DIR_MODE) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

int logopen_dir(const char *path, bool create)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		int err = make_parents(path);

		if (err < 0)
			return err;
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

/*
 * The umask applies, as for any program: the service's UMask=0077 makes 0640
 * 0600, on purpose. O_NONBLOCK so that a FIFO put there cannot block the open;
 * the fstat() after it catches what replaced a file between the two calls.
 */
int logopen_file(int dirfd, const char *name, unsigned mode)
{
	const int flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	struct stat st;
	int fd, err;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			return -ELOOP;
		if (!S_ISREG(st.st_mode))
			return -EINVAL;
	}
	fd = openat(dirfd, name, flags | O_CREAT, mode);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err = fstat(fd, &st) < 0 ? -errno : -EINVAL;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * Only a crash leaves a torn last line: Linux may end a write() early when
 * SIGKILL arrives (between two pages of it), and a power loss keeps whatever
 * reached the disk. The part of the record that is there is useless, and the
 * next record would be appended to it, so it goes back to the last newline.
 * Only the last 2 * RECORD_MAX bytes are looked at: a file whose last line is
 * longer is not a torn record of ours and is left alone.
 */
uint64_t logopen_cut_torn(int dirfd, const char *name, int fd, uint64_t size)
{
	char buf[2 * RECORD_MAX];
	uint64_t from = size > sizeof(buf) ? size - sizeof(buf) : 0;
	ssize_t n;
	int rfd;

	if (size == 0)
		return 0;
	rfd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (rfd < 0)
		return 0;
	n = pread(rfd, buf, (size_t)(size - from), (off_t)from);
	close(rfd);
	if (n != (ssize_t)(size - from) || buf[n - 1] == '\n')
		return 0;
	while (n > 0 && buf[n - 1] != '\n')
		n--;
	if (n == 0 && from > 0)
		return 0;
	if (ftruncate(fd, (off_t)(from + (uint64_t)n)) < 0)
		return 0;
	return size - from - (uint64_t)n;
}
