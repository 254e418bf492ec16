/* logworker.h - the log's worker thread: gzips rotated files and runs fsyncs, off the poll. */
#ifndef TCPSTATED_LOGWORKER_H
#define TCPSTATED_LOGWORKER_H

#include <stdbool.h>

#include "logfile.h"

struct logworker;

/*
 * Starts the worker for the log BASE in the directory DIRFD (duplicated: the
 * caller keeps its own), with OPT's keep, mode and compress; with compress,
 * it first gzips what an earlier run left uncompressed. The thread runs at
 * nice 10 with every signal blocked. Returns 0 and *ret, or -errno.
 */
int logworker_new(struct logworker **ret, int dirfd, const char *base,
                  const struct logfile_options *opt);

/* Stops the worker after the syncs handed to it; a file it was compressing
 * is left uncompressed, to be gzipped by the next run. Accepts NULL. */
void logworker_free(struct logworker *w);

/* Applies OPT's keep, mode and compress, and looks for rotated files to gzip
 * (compress may just have been turned on). */
void logworker_set_options(struct logworker *w, const struct logfile_options *opt);

/* Works in DIRFD (duplicated) from now on: the log's directory was opened
 * anew. */
void logworker_set_dir(struct logworker *w, int dirfd);

/*
 * Runs loggen_shift(DIRFD, BASE, KEEP, FD), the renames of a rotation, so
 * that the worker never renames or deletes by a name that is shifting, and
 * tells it how far the names moved. Returns what loggen_shift() returns.
 */
int logworker_shift(struct logworker *w, int dirfd, const char *base, unsigned keep, int fd);

/* Runs loggen_prune(DIRFD, BASE, KEEP) under the worker's lock, never while
 * the worker renames a file it compressed. Returns what that returns. */
int logworker_prune(struct logworker *w, int dirfd, const char *base, unsigned keep);

/* Has the worker gzip every rotated file that is not compressed yet (when
 * compress is on). */
void logworker_compress(struct logworker *w);

/*
 * Hands FD to the worker to fdatasync() and close, and then, when DIR, has it
 * fsync() the directory. Returns 0, or -EAGAIN when its queue is full: then
 * FD is still the caller's.
 */
int logworker_fsync(struct logworker *w, int fd, bool dir);

/* The -errno of the worker's last compression pass, 0 when it succeeded. */
int logworker_error(struct logworker *w);

/* Waits until the worker is idle: every sync handed to it done, every file
 * due compressed (for tests). */
void logworker_drain(struct logworker *w);

#endif
