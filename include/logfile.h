/* logfile.h - the transition log: append-only, whole lines, batched writes. */
#ifndef TCPSTATED_LOGFILE_H
#define TCPSTATED_LOGFILE_H

#include <stddef.h>
#include <stdint.h>

struct logfile;

/*
 * Opens PATH for appending (O_APPEND, created with mode 0640, and its missing
 * parent directories with 0750); "-" means standard output. Refuses a path
 * that is a symlink or not a regular file. Returns 0 and *ret, or -errno.
 */
int logfile_open(struct logfile **ret, const char *path);

/* Flushes and closes LF. Accepts NULL. */
void logfile_close(struct logfile *lf);

/*
 * Queues one whole line (LINE of LEN bytes, ending in '\n'). Lines are written
 * by logfile_flush(), or earlier when the batch buffer is full; a line is
 * never split between two writes. Returns 0 or the -errno of a flush that
 * failed (the lines it held are counted in logfile_dropped()).
 */
int logfile_append(struct logfile *lf, const char *line, size_t len);

/* Writes every queued line. Returns 0 or -errno (lines counted as dropped). */
int logfile_flush(struct logfile *lf);

/* Flushes, then closes and reopens the path (after external rotation).
 * Returns 0 or -errno; on error the old file stays open. */
int logfile_reopen(struct logfile *lf);

/* The path LF was opened with. */
const char *logfile_path(const struct logfile *lf);

/* Records written to the file, and records lost to write errors. */
uint64_t logfile_written(const struct logfile *lf);
uint64_t logfile_dropped(const struct logfile *lf);

#endif
