/* logfile.h - the transition log: append-only, whole lines, batched writes, rotation. */
#ifndef TCPSTATED_LOGFILE_H
#define TCPSTATED_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "record.h"

struct logfile;

/* When the log file is fsync()ed (by the worker thread, off the poll). */
enum logfile_fsync {
	LOGFILE_FSYNC_NEVER,    /* never: the kernel writes it back in its own time */
	LOGFILE_FSYNC_ROTATE,   /* a file when it is rotated away, and at close */
	LOGFILE_FSYNC_INTERVAL, /* also every fsync_interval_ms */
	LOGFILE_FSYNC_MAX
};

struct logfile_options {
	uint64_t max_size;          /* rotate before the file would exceed it; 0: never */
	uint32_t keep;              /* rotated files kept (PATH.1 ... PATH.keep), >= 1 */
	bool compress;              /* gzip rotated files (in the worker thread) */
	enum logfile_fsync fsync;   /* flush policy */
	uint32_t fsync_interval_ms; /* LOGFILE_FSYNC_INTERVAL */
	unsigned mode;              /* of the files it creates, e.g. 0640 */
	enum record_format format;  /* of the loss record */
};

/* One incident of lost records, as the loss record reports it. */
struct logfile_loss {
	uint64_t lost;          /* records */
	struct timespec since;  /* first failed write (CLOCK_REALTIME) */
	struct timespec until;  /* last failed write */
	struct timespec logged; /* when the loss record was written */
};

/* "never", "rotate", "interval". Never NULL. */
const char *logfile_fsync_name(unsigned policy);

/* The policy called NAME, or -EINVAL. */
int logfile_fsync_from_name(const char *name);

/* Fills O with the defaults: no rotation, keep 10, no compression, fsync on
 * rotation, 1000 ms, mode 0640, text. */
void logfile_options_default(struct logfile_options *o);

/*
 * Opens PATH for appending (O_APPEND; created with OPT->mode, exactly, and its
 * missing parent directories with 0750); "-" means standard output, which is
 * never rotated nor locked. Refuses a path that is a symlink (-ELOOP) or not
 * a regular file (-EINVAL), and a log that another logfile_open(), in this
 * process or another, holds open (-EBUSY; logfile_holder() says who).
 * With max_size set, deletes the rotated files numbered above keep. Unless
 * OPT says neither compress nor fsync, starts the worker thread that gzips
 * rotated files and syncs. OPT NULL means the defaults. Returns 0 and
 * *ret, or -errno.
 */
int logfile_open(struct logfile **ret, const char *path, const struct logfile_options *opt);

/* Flushes, fsyncs and closes LF; stops the compression worker, which leaves
 * a rotated file it had not finished uncompressed. Accepts NULL. */
void logfile_close(struct logfile *lf);

/* Applies OPT from the next line on (reload). With max_size set, the rotated
 * files numbered above OPT's keep are deleted, as at open. */
void logfile_set_options(struct logfile *lf, const struct logfile_options *opt);

/*
 * Queues one whole line (LINE of LEN bytes, ending in '\n'). Lines are written
 * by logfile_flush(), or earlier when the batch buffer is full; a line is
 * never split between two writes, nor between two files: when it would take
 * the file past max_size, the queued lines are written and the file is
 * rotated first. Returns 0 or the -errno of a flush that failed (the lines it
 * held are counted in logfile_dropped()).
 */
int logfile_append(struct logfile *lf, const char *line, size_t len);

/*
 * Writes every queued line, and after records were lost, the loss record.
 * A write that went to a file deleted meanwhile is written again to the file
 * (and directory) made anew at the path. Once a second, written or not, it
 * also checks that the file still has a name and retries a rotation or a
 * reopen that failed. Returns 0 or -errno; while it fails, lines are counted
 * as dropped and the loss record waits for a write that works.
 */
int logfile_flush(struct logfile *lf);

/* Flushes, then closes and reopens the path (after external rotation).
 * Returns 0 or -errno; on error the old file stays open. */
int logfile_reopen(struct logfile *lf);

/* Rotates now (PATH -> PATH.1, ...), after writing the queued lines.
 * Returns 0 or -errno, in which case the file is still written. */
int logfile_rotate(struct logfile *lf);

/* The pid of the process holding the log PATH open, as it wrote it into the
 * lock: > 0, 0 when unknown (or when nothing holds it), or -errno. */
int logfile_holder(const char *path);

/* The path LF was opened with. */
const char *logfile_path(const struct logfile *lf);

/* Records written to the file, and records lost to write errors. */
uint64_t logfile_written(const struct logfile *lf);
uint64_t logfile_dropped(const struct logfile *lf);

/* Rotations done since logfile_open(). */
uint64_t logfile_rotations(const struct logfile *lf);

/* Bytes of a torn last record (left by a crash) cut off when the file was
 * opened. */
uint64_t logfile_torn(const struct logfile *lf);

/*
 * A problem that outlasts one write: -errno and what failed ("rotate",
 * "reopen", "compress"), or 0 while there is none. For reporting once.
 */
int logfile_problem(const struct logfile *lf, const char **ret_what);

/* Returns true once for each loss record written, with its contents. */
bool logfile_take_loss(struct logfile *lf, struct logfile_loss *ret);

#endif
