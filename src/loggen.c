/*
 * loggen.c - the log's rotated generations: their names and the renames of a
 * rotation.
 *
 * Names are only ever used relative to a descriptor of the log's directory,
 * and never followed when they are symlinks: renameat() and unlinkat() act on
 * a symlink itself, never on what it points to. A symlink planted at PATH.1
 * is thus renamed or deleted like a file. The directories above the log's own
 * are the administrator's business.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "loggen.h"

const char *loggen_name(char *buf, const char *base, unsigned k, bool gz)
{
	snprintf(buf, LOGGEN_NAME_MAX, "%s.%u%s", base, k, gz ? ".gz" : "");
	return buf;
}

bool loggen_same_file(int dirfd, const char *name, int fd)
{
	struct stat a, b;

	return fstatat(dirfd, name, &a, AT_SYMLINK_NOFOLLOW) == 0 && fstat(fd, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Whether BASE.K or BASE.K.gz exists (as anything, links included). */
static bool gen_exists(int dirfd, const char *base, unsigned k)
{
	char name[LOGGEN_NAME_MAX];
	struct stat st;

	return fstatat(dirfd, loggen_name(name, base, k, false), &st, AT_SYMLINK_NOFOLLOW) == 0 ||
	       fstatat(dirfd, loggen_name(name, base, k, true), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/*
 * Shifting stops at the first free number, which keeps a rotation to the
 * renames it needs: renames that fail with ENOENT all the way up to
 * keep = 1000 cost milliseconds. BASE itself is renamed only while it is
 * still FD's file: after an external rotation it may be someone else's.
 */
int loggen_shift(int dirfd, const char *base, unsigned keep, int fd)
{
	char from[LOGGEN_NAME_MAX], to[LOGGEN_NAME_MAX];
	unsigned top = 1;
	int err = 0;

	if (keep == 0)
		keep = 1;
	while (top < keep && gen_exists(dirfd, base, top))
		top++;
	for (int gz = 0; top == keep && gz < 2 && err == 0; gz++)
		if (unlinkat(dirfd, loggen_name(to, base, keep, gz), 0) < 0 && errno != ENOENT)
			err = -errno;
	for (unsigned k = top - 1; k >= 1 && err == 0; k--) {
		for (int gz = 0; gz < 2 && err == 0; gz++) {
			if (renameat(dirfd, loggen_name(from, base, k, gz), dirfd,
			             loggen_name(to, base, k + 1, gz)) < 0 &&
			    errno != ENOENT)
				err = -errno;
		}
	}
	if (err == 0 && loggen_same_file(dirfd, base, fd) &&
	    renameat(dirfd, base, dirfd, loggen_name(to, base, 1, false)) < 0)
		err = -errno;
	return err;
}

/* K when NAME is BASE.K or BASE.K.gz, K written as loggen_name() writes it
 * (no sign, no leading zero); else 0. */
static unsigned gen_number(const char *name, const char *base)
{
	size_t n = strlen(base);
	unsigned long k;
	char *end;

	if (strncmp(name, base, n) != 0 || name[n] != '.' || name[n + 1] < '1' || name[n + 1] > '9')
		return 0;
	errno = 0;
	k = strtoul(name + n + 1, &end, 10);
	if (errno != 0 || k > UINT_MAX || (*end != '\0' && strcmp(end, ".gz") != 0))
		return 0;
	return (unsigned)k;
}

/* The whole directory is read rather than the numbers above keep tried one
 * by one: the files left by an earlier keep of 1000 may have gaps. */
int loggen_prune(int dirfd, const char *base, unsigned keep)
{
	struct dirent *e;
	int fd, err = 0;
	DIR *d;

	if (keep == 0)
		keep = 1;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		err = -errno;
		close(fd);
		return err;
	}
	while ((e = readdir(d)) != NULL) {
		if (gen_number(e->d_name, base) > keep && unlinkat(dirfd, e->d_name, 0) < 0 &&
		    errno != ENOENT && err == 0)
			err = -errno;
	}
	closedir(d);
	return err;
}
