/* metrics_file.h - the node_exporter textfile: where it goes, and written whole or not at all. */
#ifndef TCPSTATED_METRICS_FILE_H
#define TCPSTATED_METRICS_FILE_H

#include <limits.h>
#include <stddef.h>

#include "metrics.h"

/*
 * The file to write for the configured PATH into RET_FILE (PATH_MAX bytes):
 * PATH itself, or, when PATH is a symbolic link, the file it names (one
 * level, relative to PATH's directory). Returns 0, -ENOENT when that file's
 * directory does not exist, -ENAMETOOLONG, or another -errno.
 */
int metrics_file_target(const char *path, char ret_file[PATH_MAX]);

/*
 * Writes M (with VERSION) to FILE, a target from metrics_file_target():
 * into FILE.tmp, mode 0644 whatever the umask (node_exporter runs as
 * another user), renamed over FILE, so that a reader sees the previous
 * file or this one, never half of one. Returns 0 or -errno; FILE.tmp is
 * then removed and FILE is left as it was.
 */
int metrics_file_write(const char *file, const struct metrics *m, const char *version);

#endif
