/*
 * logfile.c - the transition log.
 *
 * Records of one poll are queued in a buffer and written together, so a
 * busy poll costs one write() rather than one per record. Only whole lines
 * are ever queued, and the buffer is flushed before a line that would not
 * fit, so a write never ends in the middle of a record. The file is opened
 * O_APPEND, so nothing is ever written at a stale offset, even after an
 * external program truncated the file (logrotate's copytruncate).
 *
 * Rotation happens between two writes, never inside one: before a line that
 * would take the file past max_size is queued, the queued lines are written,
 * PATH.k is renamed PATH.(k+1), PATH becomes PATH.1 and a new PATH is
 * created. A record is therefore never split between two files.
 *
 * The file is opened by logopen.c, which refuses symlinks; the renames of a
 * rotation are loggen.c's. What may take long, the gzip of rotated files and
 * the fsync()s of the flush policy, is handed to logworker.c's thread, so
 * that the poll never waits for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "logfile.h"
#include "loggen.h"
#include "loglock.h"
#include "logloss.h"
#include "logopen.h"
#include "logworker.h"
#include "util.h"

#define LOGFILE_BUF_SIZE 65536
/* Room for the loss record, which is added after a full batch. */
#define LOSS_MAX 256
/* How often the file's name is checked and a failed rotation retried. */
#define CHECK_INTERVAL_NS 1000000000ULL

struct logfile {
	int fd;     /* -1 while the file cannot be reopened */
	int dirfd;  /* the log's directory; -1 for standard output */
	int lockfd; /* holds the log's lock (loglock.c); -1 for standard output */
	bool is_stdout;
	char path[PATH_MAX];
	char base[NAME_MAX + 1]; /* the file's name in its directory */
	struct logfile_options opt;
	uint64_t size;       /* of the file, as far as this process knows */
	bool dirty;          /* written since the last fsync */
	bool rotate_blocked; /* a rotation failed: retry at the next check */
	bool reopen_due;     /* a rotation could not create the new file */
	int open_err;        /* why fd is -1 */
	int rotate_err;      /* of the last rotation, 0 once one worked */
	int compress_err;    /* of the worker's last pass */
	uint64_t written;    /* records */
	uint64_t rotations;
	uint64_t torn;                   /* bytes of torn records cut off when opening */
	uint64_t next_check, next_fsync; /* CLOCK_MONOTONIC, ns */
	struct logloss loss;
	struct logworker *w; /* NULL with fsync = never and no compression */
	size_t queued;       /* records in buf */
	size_t len;          /* bytes in buf */
	char buf[LOGFILE_BUF_SIZE + LOSS_MAX];
};

static const char *const fsync_names[LOGFILE_FSYNC_MAX] = {
    [LOGFILE_FSYNC_NEVER] = "never",
    [LOGFILE_FSYNC_ROTATE] = "rotate",
    [LOGFILE_FSYNC_INTERVAL] = "interval",
};

const char *logfile_fsync_name(unsigned policy)
{
	return util_name(fsync_names, LOGFILE_FSYNC_MAX, policy, "unknown");
}

int logfile_fsync_from_name(const char *name)
{
	return util_from_name(fsync_names, LOGFILE_FSYNC_MAX, name);
}

void logfile_options_default(struct logfile_options *o)
{
	*o = (struct logfile_options){
	    .max_size = 0,
	    .keep = 10,
	    .compress = false,
	    .fsync = LOGFILE_FSYNC_ROTATE,
	    .fsync_interval_ms = 1000,
	    .mode = 0640,
	    .format = RECORD_TEXT,
	};
}

/* ------------------------------------------------------------------------ */
/* Opening */

/*
 * Holds the log's lock in DIRFD: keeps the one LF holds while its lock file
 * is still there, else takes it anew (at open, or after the directory was
 * deleted and made again, when another daemon may have taken it meanwhile).
 */
static int lock_log(struct logfile *lf, int dirfd)
{
	char name[LOGGEN_NAME_MAX];
	int fd;

	if (lf->lockfd >= 0 && loggen_same_file(dirfd, loglock_name(name, lf->base), lf->lockfd))
		return 0;
	fd = loglock_take(dirfd, lf->base, lf->opt.mode);
	if (fd < 0)
		return fd;
	if (lf->lockfd >= 0)
		close(lf->lockfd);
	lf->lockfd = fd;
	return 0;
}

/* Opens the directory, the lock and the file anew and switches LF to them.
 * On error LF is unchanged but for the lock. The lock comes before the file,
 * whose torn tail is cut off: in a file another daemon is writing, that
 * would be a record being written. */
static int reopen_file(struct logfile *lf)
{
	struct stat st;
	uint64_t cut;
	int dirfd, fd, err;

	dirfd = logopen_dir(lf->path, true);
	if (dirfd < 0)
		return dirfd;
	err = lock_log(lf, dirfd);
	fd = err < 0 ? err : logopen_file(dirfd, lf->base, lf->opt.mode);
	if (fd < 0 || fstat(fd, &st) < 0) {
		err = fd < 0 ? fd : -errno;
		if (fd >= 0)
			close(fd);
		close(dirfd);
		return err;
	}
	if (lf->fd >= 0)
		close(lf->fd);
	if (lf->dirfd >= 0)
		close(lf->dirfd);
	lf->fd = fd;
	lf->dirfd = dirfd;
	cut = logopen_cut_torn(dirfd, lf->base, fd, (uint64_t)st.st_size);
	lf->torn += cut;
	lf->size = (uint64_t)st.st_size - cut;
	lf->open_err = 0;
	lf->reopen_due = false;
	lf->dirty = false;
	if (lf->w)
		logworker_set_dir(lf->w, dirfd);
	return 0;
}

/* Whether O gives the worker thread something to do. */
static bool wants_worker(const struct logfile_options *o)
{
	return o->compress || o->fsync != LOGFILE_FSYNC_NEVER;
}

/*
 * Deletes the rotated files numbered above keep, which a larger keep left
 * behind. With a worker, under its lock: it compresses a file unlocked, but
 * renames the result into place under the lock, and only to a number within
 * keep as it stands then. Only while the rotation is built in: with
 * max_size = 0 files such as PATH.11 are logrotate's. A file that cannot be
 * deleted stays; the rotation that would delete it says why.
 */
static void prune(struct logfile *lf)
{
	if (lf->is_stdout || lf->dirfd < 0 || lf->opt.max_size == 0)
		return;
	if (lf->w)
		(void)logworker_prune(lf->w, lf->dirfd, lf->base, lf->opt.keep);
	else
		(void)loggen_prune(lf->dirfd, lf->base, lf->opt.keep);
}

int logfile_open(struct logfile **ret, const char *path, const struct logfile_options *opt)
{
	struct logfile *lf;
	const char *slash;
	int err;

	if (strlen(path) >= sizeof(lf->path))
		return -ENAMETOOLONG;
	slash = strrchr(path, '/');
	slash = slash ? slash + 1 : path;
	if (strlen(slash) > NAME_MAX)
		return -ENAMETOOLONG;
	if (*slash == '\0')
		return -EISDIR;
	lf = calloc(1, sizeof(*lf));
	if (!lf)
		return -ENOMEM;
	if (opt)
		lf->opt = *opt;
	else
		logfile_options_default(&lf->opt);
	lf->fd = -1;
	lf->dirfd = -1;
	lf->lockfd = -1;
	strcpy(lf->path, path);
	strcpy(lf->base, slash);
	lf->next_check = util_mono_ns() + CHECK_INTERVAL_NS;
	lf->next_fsync = util_mono_ns() + (uint64_t)lf->opt.fsync_interval_ms * 1000000;

	if (strcmp(path, "-") == 0) {
		lf->is_stdout = true;
		lf->fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		err = lf->fd < 0 ? -errno : 0;
	} else {
		err = reopen_file(lf);
		if (err == 0)
			prune(lf);
		if (err == 0 && wants_worker(&lf->opt))
			err = logworker_new(&lf->w, lf->dirfd, lf->base, &lf->opt);
	}
	if (err < 0) {
		logfile_close(lf);
		return err;
	}
	*ret = lf;
	return 0;
}

void logfile_set_options(struct logfile *lf, const struct logfile_options *opt)
{
	lf->opt = *opt;
	if (lf->w) {
		/* The worker's keep first: it renames only within it from now on. */
		logworker_set_options(lf->w, opt);
		prune(lf);
	} else {
		prune(lf);
		/* Without a thread, syncs happen inline and nothing is gzipped. */
		if (!lf->is_stdout && lf->dirfd >= 0 && wants_worker(opt))
			(void)logworker_new(&lf->w, lf->dirfd, lf->base, &lf->opt);
	}
}

/* ------------------------------------------------------------------------ */
/* Writing */

/* Syncs the file now (at close and reopen). */
static void sync_file(struct logfile *lf)
{
	if (lf->dirty && lf->fd >= 0 && fdatasync(lf->fd) == 0)
		lf->dirty = false;
}

/* Has the worker sync the file (a duplicate of its descriptor), or syncs it
 * now when there is no worker or its queue is full. */
static void sync_file_later(struct logfile *lf)
{
	int fd;

	if (!lf->dirty || lf->fd < 0)
		return;
	fd = lf->w ? fcntl(lf->fd, F_DUPFD_CLOEXEC, 3) : -1;
	if (fd >= 0 && logworker_fsync(lf->w, fd, false) == 0) {
		lf->dirty = false;
		return;
	}
	if (fd >= 0)
		close(fd);
	sync_file(lf);
}

/* Writes the lf->len bytes of lf->buf to the file. Returns 0 or -errno, and
 * in *RET_OFF the bytes written. */
static int write_buf(const struct logfile *lf, size_t *ret_off)
{
	size_t off = 0;
	int err = 0;

	if (lf->fd < 0)
		err = lf->open_err ? lf->open_err : -EBADF;
	while (err == 0 && off < lf->len) {
		ssize_t n = write(lf->fd, lf->buf + off, lf->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = -errno;
		else if (n == 0)
			err = -EIO;
		else
			off += (size_t)n;
	}
	*ret_off = off;
	return err;
}

/*
 * Writes lf->buf to the file that has the log's name. Writes to a file that
 * lost its last name (deleted, or its directory deleted) succeed, and what
 * they hold is lost unseen, so after each batch one fstat() reads the link
 * count: at 0 the file (and directory) is made again and the batch written
 * there as well. No record is lost to a deletion then, whenever it happens;
 * a batch that reached the file before the deletion is written again, and
 * the first copy went with the deleted file. When the file cannot be made
 * again, the batch is lost and counted. The fstat() costs about 1.5 us a
 * batch, and nothing in a poll that writes nothing (docs/performance.md);
 * leaving deletions to check_file(), once a second, lost up to a second of
 * records unseen.
 */
static int write_named(struct logfile *lf, size_t *ret_off)
{
	struct stat st;
	int err = write_buf(lf, ret_off);

	if (err < 0 || lf->is_stdout || lf->len == 0 || fstat(lf->fd, &st) < 0 || st.st_nlink > 0)
		return err;
	err = reopen_file(lf);
	if (err == 0)
		return write_buf(lf, ret_off);
	close(lf->fd);
	lf->fd = -1;
	lf->open_err = err;
	*ret_off = 0;
	return err;
}

/*
 * Writes the LEN bytes of whole lines in lf->buf: QUEUED records, then the
 * loss record when LOSS. A write that fails can still have written part of
 * the batch, ending in the middle of a line (a full disk takes what fits).
 * That torn line is cut off again with ftruncate() to the end of the last
 * whole line: the file's size after the partial write minus the bytes of the
 * torn line. ftruncate() frees blocks, so it works on a full disk; only if it
 * fails too (EIO) can a torn line stay, and then the next line written starts
 * with its own timestamp after it. The size comes from fstat() rather than
 * from lf->size, which another program may have made stale (copytruncate).
 * Writing every line with its own write() would not help: a line can itself
 * be written in part.
 */
static int write_batch(struct logfile *lf, bool loss)
{
	size_t off, lines = 0, whole = 0, records;
	struct stat st;
	int err = write_named(lf, &off);

	if (off == lf->len) {
		/* All of it, which is whole lines, one per record: no need to
		 * count them (a batch under churn is hundreds of KiB). */
		lines = lf->queued + loss;
		whole = off;
	} else {
		for (size_t i = 0; i < off; i++) {
			if (lf->buf[i] == '\n') {
				lines++;
				whole = i + 1;
			}
		}
	}
	if (off > whole && fstat(lf->fd, &st) == 0 && (uint64_t)st.st_size >= off - whole &&
	    ftruncate(lf->fd, st.st_size - (off_t)(off - whole)) == 0)
		off = whole;
	lf->size += off;
	lf->dirty |= off > 0;

	records = lines < lf->queued ? lines : lf->queued;
	lf->written += records;
	if (err < 0 && lf->queued > records)
		logloss_count(&lf->loss, lf->queued - records);
	if (loss && lines == lf->queued + 1)
		logloss_written(&lf->loss);
	lf->len = 0;
	lf->queued = 0;
	return err;
}

/* Rotates unless a rotation failed less than a second ago; errors are kept
 * for logfile_problem(). */
static void rotate_if_allowed(struct logfile *lf)
{
	if (!lf->rotate_blocked)
		(void)logfile_rotate(lf);
}

/* Whether LEN more bytes would take the file past max_size. */
static bool too_big(const struct logfile *lf, size_t len)
{
	return lf->opt.max_size && !lf->is_stdout && lf->fd >= 0 &&
	       lf->size + lf->len + len > lf->opt.max_size;
}

int logfile_append(struct logfile *lf, const char *line, size_t len)
{
	int err = 0, r;

	if (len > LOGFILE_BUF_SIZE)
		return -EMSGSIZE;
	if (too_big(lf, len)) {
		err = write_batch(lf, false);
		if (lf->size > 0 && too_big(lf, len))
			rotate_if_allowed(lf);
	}
	if (lf->len + len > LOGFILE_BUF_SIZE) {
		r = write_batch(lf, false);
		if (r < 0 && err == 0)
			err = r;
	}
	memcpy(lf->buf + lf->len, line, len);
	lf->len += len;
	lf->queued++;
	return err;
}

/*
 * Once a second: a file whose last name is gone (deleted, or its directory
 * deleted) is replaced by a new one at PATH, and a file that could not be
 * reopened is tried again. Also picks up the size after an external
 * truncation and the worker's state.
 */
static void check_file(struct logfile *lf, uint64_t now)
{
	struct stat st;
	int err;

	lf->next_check = now + CHECK_INTERVAL_NS;
	lf->rotate_blocked = false;
	if (lf->w)
		lf->compress_err = logworker_error(lf->w);
	if (lf->is_stdout)
		return;
	if (lf->fd >= 0 && fstat(lf->fd, &st) == 0 && st.st_nlink > 0 && !lf->reopen_due) {
		lf->size = (uint64_t)st.st_size;
		return;
	}
	err = reopen_file(lf);
	if (err < 0 && lf->fd >= 0 && !lf->reopen_due) {
		/* Deleted: what is written to it now is lost unseen, so count it. */
		close(lf->fd);
		lf->fd = -1;
	}
	if (err < 0)
		lf->open_err = err;
	if (lf->opt.max_size && lf->size > lf->opt.max_size)
		rotate_if_allowed(lf);
}

/* Writes the queued lines and the loss record after them; when the record
 * would take the file past max_size, the lines are written first and the
 * file is rotated. */
static int write_with_loss(struct logfile *lf)
{
	char line[LOSS_MAX];
	int err, n = logloss_format(&lf->loss, line, sizeof(line), lf->opt.format);

	if (n <= 0)
		return write_batch(lf, false);
	if (too_big(lf, (size_t)n)) {
		err = write_batch(lf, false);
		if (err < 0)
			return err;
		if (lf->size > 0 && too_big(lf, (size_t)n))
			rotate_if_allowed(lf);
	}
	memcpy(lf->buf + lf->len, line, (size_t)n);
	lf->len += (size_t)n;
	return write_batch(lf, true);
}

int logfile_flush(struct logfile *lf)
{
	uint64_t now = util_mono_ns();
	int err;

	if (now >= lf->next_check)
		check_file(lf, now);
	if (logloss_due(&lf->loss) && lf->fd >= 0)
		err = write_with_loss(lf);
	else if (lf->len > 0)
		err = write_batch(lf, false);
	else
		err = lf->fd < 0 && logloss_due(&lf->loss) ? lf->open_err : 0;
	if (lf->opt.fsync == LOGFILE_FSYNC_INTERVAL && now >= lf->next_fsync) {
		sync_file_later(lf);
		lf->next_fsync = now + (uint64_t)lf->opt.fsync_interval_ms * 1000000;
	}
	return err;
}

int logfile_rotate(struct logfile *lf)
{
	int err, fd, old = -1;

	if (lf->is_stdout || lf->fd < 0)
		return -EBADF;
	err = write_batch(lf, false);
	if (err < 0)
		return err;
	if (lf->w)
		err = logworker_shift(lf->w, lf->dirfd, lf->base, lf->opt.keep, lf->fd);
	else
		err = loggen_shift(lf->dirfd, lf->base, lf->opt.keep, lf->fd);
	if (err == 0) {
		fd = logopen_file(lf->dirfd, lf->base, lf->opt.mode);
		if (fd < 0) {
			/* Still writing to what is now PATH.1; retried each second. */
			err = fd;
			lf->reopen_due = true;
		} else {
			old = lf->fd;
			lf->fd = fd;
			lf->size = 0;
			lf->dirty = false;
			lf->rotations++;
		}
	}
	lf->rotate_err = err;
	if (err < 0) {
		lf->rotate_blocked = true;
		return err;
	}
	/*
	 * fsync = rotate: the rotated file, then the directory with its new
	 * names, reach the disk; by the worker, so that the poll goes on.
	 */
	if (lf->opt.fsync == LOGFILE_FSYNC_NEVER) {
		close(old);
	} else if (!lf->w || logworker_fsync(lf->w, old, true) < 0) {
		fdatasync(old);
		close(old);
		fsync(lf->dirfd);
	}
	if (lf->w)
		logworker_compress(lf->w);
	return 0;
}

int logfile_reopen(struct logfile *lf)
{
	int err, r;

	err = logfile_flush(lf);
	if (lf->is_stdout)
		return err;
	if (lf->opt.fsync != LOGFILE_FSYNC_NEVER)
		sync_file_later(lf); /* the file logrotate renamed, in the background */
	r = reopen_file(lf);
	return r < 0 ? r : err;
}

void logfile_close(struct logfile *lf)
{
	if (!lf)
		return;
	if (lf->fd >= 0) {
		(void)logfile_flush(lf);
		if (lf->opt.fsync != LOGFILE_FSYNC_NEVER && !lf->is_stdout)
			sync_file(lf);
	}
	logworker_free(lf->w);
	if (lf->fd >= 0)
		close(lf->fd);
	if (lf->dirfd >= 0)
		close(lf->dirfd);
	/* Last: the next daemon starts once this one is done with the file. */
	if (lf->lockfd >= 0)
		close(lf->lockfd);
	free(lf);
}

int logfile_holder(const char *path)
{
	const char *slash = strrchr(path, '/');
	int dirfd, pid;

	dirfd = logopen_dir(path, false);
	if (dirfd < 0)
		return dirfd;
	pid = loglock_holder(dirfd, slash ? slash + 1 : path);
	close(dirfd);
	return pid;
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
	return lf->loss.dropped;
}

uint64_t logfile_rotations(const struct logfile *lf)
{
	return lf->rotations;
}

uint64_t logfile_torn(const struct logfile *lf)
{
	return lf->torn;
}

int logfile_problem(const struct logfile *lf, const char **ret_what)
{
	if (lf->fd < 0 || lf->reopen_due) {
		*ret_what = lf->reopen_due ? "create the new file after rotating" : "reopen";
		return lf->reopen_due ? lf->rotate_err : lf->open_err;
	}
	if (lf->rotate_err) {
		*ret_what = "rotate";
		return lf->rotate_err;
	}
	if (lf->compress_err) {
		*ret_what = "compress a rotated file";
		return lf->compress_err;
	}
	return 0;
}

bool logfile_take_loss(struct logfile *lf, struct logfile_loss *ret)
{
	return logloss_take(&lf->loss, ret);
}
