/*
 * metrics_file.c - the node_exporter textfile, written through a temporary
 * file and a rename.
 *
 * node_exporter reads every *.prom file of its textfile directory at each
 * scrape, whenever that comes, so the file must always be whole: it is
 * written as FILE.tmp, which node_exporter ignores, and renamed over FILE.
 * No fsync: the metrics describe the running daemon, and a crash that lost
 * the latest file would leave a previous one, which the next write
 * replaces.
 *
 * The configured path may be a symbolic link: the systemd unit does not let
 * the daemon write Debian's textfile directory, /var/lib/prometheus/
 * node-exporter (root's, shared with other collectors), but installs there
 * one link to a file in the daemon's own state directory. Writing where the
 * link points keeps the link, so the daemon changes that one file and
 * nothing else of node_exporter's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics_file.h"
#include "metrics_text.h"

/* PATH's target, when PATH is a symbolic link, into FILE; else PATH. */
static int resolve(const char *path, char file[PATH_MAX])
{
	char link[PATH_MAX];
	const char *slash;
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	int len;

	if (n < 0) {
		if (errno != EINVAL && errno != ENOENT)
			return -errno;
		len = snprintf(file, PATH_MAX, "%s", path); /* not a link, or not there yet */
	} else {
		link[n] = '\0';
		slash = strrchr(path, '/');
		if (link[0] == '/' || !slash)
			len = snprintf(file, PATH_MAX, "%s", link);
		else
			len = snprintf(file, PATH_MAX, "%.*s/%s", (int)(slash - path), path, link);
	}
	return len < 0 || len >= PATH_MAX - 4 ? -ENAMETOOLONG : 0; /* room for ".tmp" */
}

int metrics_file_target(const char *path, char ret_file[PATH_MAX])
{
	char file[PATH_MAX];
	char *slash;
	struct stat st;
	int err = resolve(path, file);

	if (err < 0)
		return err;
	slash = strrchr(file, '/');
	if (slash && slash != file) {
		*slash = '\0';
		err = stat(file, &st) < 0 ? -errno : !S_ISDIR(st.st_mode) ? -ENOTDIR : 0;
		*slash = '/';
		if (err < 0)
			return err;
	}
	memcpy(ret_file, file, strlen(file) + 1);
	return 0;
}

int metrics_file_write(const char *file, const struct metrics *m, const char *version)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", file) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0644) < 0 || !(f = fdopen(fd, "w"))) {
		err = -errno;
		close(fd);
		goto fail;
	}
	err = metrics_text_write(m, version, f);
	if (fclose(f) != 0 && err == 0)
		err = -errno;
	if (err == 0 && rename(tmp, file) < 0)
		err = -errno;
	if (err == 0)
		return 0;
fail:
	unlink(tmp);
	return err;
}
