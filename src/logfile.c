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
 * The file is opened by logopen.c, which refuses symlinks, and the renames of
 * a rotation are loggen.c's.
 *
 * A worker thread does what may take long: it gzips rotated files, and it
 * runs the fsync()s of the flush policy, so that neither delays a poll (an
 * fdatasync() of a 100 MiB file just written takes ~60 ms, longer than some
 * poll intervals). It and the rotation share one mutex, held by the rotation
 * only for its renames and by the worker only for its final rename: the poll
 * never waits for the compression itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/resource.h>
#include <sys/stat.h>

#include <zlib.h>

#include "logfile.h"
#include "loggen.h"
#include "logopen.h"
#include "util.h"

#define LOGFILE_BUF_SIZE 65536
/* Room for the loss record, which is added after a full batch. */
#define LOSS_MAX 256
/* How often the file's name is checked and a failed rotation retried. */
#define CHECK_INTERVAL_NS 1000000000LL

/* Descriptors waiting for the worker's fdatasync(). */
#define SYNC_MAX 8

/* The worker: state shared with the thread, all under lock. */
struct compressor {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	atomic_bool stop;
	bool wake;
	int dirfd; /* a copy of the log's directory descriptor */
	char base[NAME_MAX + 1];
	uint32_t keep;
	unsigned mode;
	uint64_t rotations;     /* bumped by every rotation: how far names shifted */
	int err;                /* of the last pass, 0 when it succeeded */
	bool compress;          /* gzip rotated files (else the worker only syncs) */
	int sync_fds[SYNC_MAX]; /* to fdatasync() and close */
	unsigned nsync;
	bool sync_dir; /* fsync() the directory after them (renames) */
};

struct logfile {
	int fd;    /* -1 while the file cannot be reopened */
	int dirfd; /* the log's directory; -1 for standard output */
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
	uint64_t dropped;    /* records */
	uint64_t rotations;
	uint64_t torn;                          /* bytes of torn records cut off when opening */
	struct timespec next_check, next_fsync; /* CLOCK_MONOTONIC */
	struct logfile_loss loss;               /* pending while loss.lost > 0 */
	struct logfile_loss taken;              /* the last loss record written */
	bool have_taken;
	struct compressor *z; /* the worker; NULL with fsync = never, no compress */
	size_t queued;        /* records in buf */
	size_t len;           /* bytes in buf */
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

static struct timespec ts_add_ns(struct timespec ts, long long ns)
{
	long long t = (long long)ts.tv_nsec + ns % 1000000000LL;

	ts.tv_sec += (time_t)(ns / 1000000000LL + t / 1000000000LL);
	ts.tv_nsec = (long)(t % 1000000000LL);
	return ts;
}

static bool ts_reached(struct timespec now, struct timespec when)
{
	return now.tv_sec > when.tv_sec ||
	       (now.tv_sec == when.tv_sec && now.tv_nsec >= when.tv_nsec);
}

/* ------------------------------------------------------------------------ */
/* The gzip worker */

/* Writes all of BUF to FD. */
static int write_all(int fd, const unsigned char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Gzips what IN holds into OUT; -ECANCELED as soon as STOP is set. */
static int gzip_fd(int in, int out, atomic_bool *stop)
{
	enum { CHUNK = 65536 };
	unsigned char *ibuf = malloc(2 * CHUNK), *obuf;
	z_stream s;
	int flush = Z_NO_FLUSH, err = 0;

	memset(&s, 0, sizeof(s));
	if (!ibuf)
		return -ENOMEM;
	obuf = ibuf + CHUNK;
	if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK) {
		free(ibuf);
		return -ENOMEM;
	}
	do {
		ssize_t n = read(in, ibuf, CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (atomic_load(stop)) {
			err = -ECANCELED;
			break;
		}
		flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
		s.next_in = ibuf;
		s.avail_in = (uInt)n;
		do {
			s.next_out = obuf;
			s.avail_out = CHUNK;
			deflate(&s, flush); /* cannot fail with these buffers */
			err = write_all(out, obuf, CHUNK - s.avail_out);
		} while (err == 0 && s.avail_out == 0);
	} while (err == 0 && flush != Z_FINISH);
	deflateEnd(&s);
	free(ibuf);
	return err;
}

/*
 * Compresses the rotated file with the smallest number that is not
 * compressed yet, PATH.k -> PATH.k.gz: into a temporary file, fsync, rename,
 * then the plain file is deleted, so that a crash leaves either file whole.
 * Rotations may shift the names meanwhile; the rotation counter says by how
 * much. Returns 1 after one file, 0 when there was none, or -errno.
 */
static int compress_next(struct compressor *z)
{
	char name[LOGGEN_NAME_MAX], tmp[LOGGEN_NAME_MAX];
	uint64_t gen;
	unsigned k, kk;
	int dfd, fd = -1, out, err;
	struct stat st;

	pthread_mutex_lock(&z->lock);
	dfd = fcntl(z->dirfd, F_DUPFD_CLOEXEC, 3);
	gen = z->rotations;
	for (k = 1; dfd >= 0 && k <= z->keep; k++) {
		fd = openat(dfd, loggen_name(name, z->base, k, false),
		            O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			break;
		close(fd);
		fd = -1;
	}
	pthread_mutex_unlock(&z->lock);
	if (dfd < 0)
		return -errno;
	if (fd < 0) {
		close(dfd);
		return 0;
	}

	snprintf(tmp, sizeof(tmp), ".%s.gz.tmp", z->base);
	unlinkat(dfd, tmp, 0); /* left by a crash */
	out = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, z->mode);
	if (out < 0) {
		err = -errno;
		goto done;
	}
	err = gzip_fd(fd, out, &z->stop);
	if (err == 0 && fsync(out) < 0)
		err = -errno;
	close(out);

	pthread_mutex_lock(&z->lock);
	kk = k + (unsigned)(z->rotations - gen);
	if (err == 0 && kk <= z->keep && loggen_same_file(dfd, loggen_name(name, z->base, kk, false), fd)) {
		loggen_name(name, z->base, kk, true);
		if (renameat(dfd, tmp, dfd, name) < 0)
			err = -errno;
	} else {
		unlinkat(dfd, tmp, 0); /* failed, or the file was dropped meanwhile */
		kk = 0;
	}
	pthread_mutex_unlock(&z->lock);
	if (err < 0 || kk == 0)
		goto done;

	/* The .gz is durable before the plain file goes. */
	fsync(dfd);
	pthread_mutex_lock(&z->lock);
	kk = k + (unsigned)(z->rotations - gen);
	if (kk <= z->keep && loggen_same_file(dfd, loggen_name(name, z->base, kk, false), fd))
		unlinkat(dfd, name, 0);
	pthread_mutex_unlock(&z->lock);
done:
	close(fd);
	close(dfd);
	return err < 0 ? err : 1;
}

static void *compress_worker(void *arg)
{
	struct compressor *z = arg;
	int err;

	/*
	 * Nice 10 for this thread only: on a busy machine, compressing gives
	 * way to the polls. Under the shipped unit the system call filter
	 * refuses it (EPERM, @resources), which does no harm.
	 */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
	pthread_mutex_lock(&z->lock);
	for (;;) {
		while (!atomic_load(&z->stop) && !z->wake && !z->nsync && !z->sync_dir)
			pthread_cond_wait(&z->cond, &z->lock);
		/* Syncs first, and even when stopping: they were promised. */
		while (z->nsync > 0) {
			int fd = z->sync_fds[--z->nsync];

			pthread_mutex_unlock(&z->lock);
			fdatasync(fd);
			close(fd);
			pthread_mutex_lock(&z->lock);
		}
		if (z->sync_dir) {
			int dfd = fcntl(z->dirfd, F_DUPFD_CLOEXEC, 3);

			z->sync_dir = false;
			pthread_mutex_unlock(&z->lock);
			if (dfd >= 0) {
				fsync(dfd);
				close(dfd);
			}
			pthread_mutex_lock(&z->lock);
		}
		if (atomic_load(&z->stop))
			break;
		if (!z->wake)
			continue;
		z->wake = false;
		if (!z->compress)
			continue;
		pthread_mutex_unlock(&z->lock);
		while ((err = compress_next(z)) > 0)
			;
		pthread_mutex_lock(&z->lock);
		z->err = err == -ECANCELED ? 0 : err;
	}
	pthread_mutex_unlock(&z->lock);
	return NULL;
}

static void compressor_wake(struct compressor *z)
{
	pthread_mutex_lock(&z->lock);
	z->wake = true;
	pthread_cond_signal(&z->cond);
	pthread_mutex_unlock(&z->lock);
}

/* Hands FD to the worker to fdatasync() and close, then the directory if
 * DIR. Returns false when the queue is full (the caller syncs itself). */
static bool compressor_sync(struct compressor *z, int fd, bool dir)
{
	bool queued = false;

	pthread_mutex_lock(&z->lock);
	if (z->nsync < SYNC_MAX) {
		z->sync_fds[z->nsync++] = fd;
		z->sync_dir |= dir;
		pthread_cond_signal(&z->cond);
		queued = true;
	}
	pthread_mutex_unlock(&z->lock);
	return queued;
}

static void compressor_free(struct compressor *z)
{
	if (!z)
		return;
	pthread_mutex_lock(&z->lock);
	atomic_store(&z->stop, true);
	pthread_cond_signal(&z->cond);
	pthread_mutex_unlock(&z->lock);
	pthread_join(z->thread, NULL);
	pthread_mutex_destroy(&z->lock);
	pthread_cond_destroy(&z->cond);
	close(z->dirfd);
	free(z);
}

/* Starts the worker for LF's directory; with compression it first looks for
 * files left uncompressed by an earlier run. */
static int compressor_new(struct logfile *lf)
{
	struct compressor *z = calloc(1, sizeof(*z));
	sigset_t all, old;
	int err;

	if (!z)
		return -ENOMEM;
	z->dirfd = fcntl(lf->dirfd, F_DUPFD_CLOEXEC, 3);
	if (z->dirfd < 0) {
		err = -errno;
		free(z);
		return err;
	}
	strcpy(z->base, lf->base);
	z->keep = lf->opt.keep;
	z->mode = lf->opt.mode;
	z->compress = lf->opt.compress;
	z->wake = true;
	atomic_init(&z->stop, false);
	pthread_mutex_init(&z->lock, NULL);
	pthread_cond_init(&z->cond, NULL);
	/* Signals are for the main thread's signalfd: the worker blocks all. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = -pthread_create(&z->thread, NULL, compress_worker, z);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err < 0) {
		pthread_mutex_destroy(&z->lock);
		pthread_cond_destroy(&z->cond);
		close(z->dirfd);
		free(z);
		return err;
	}
	lf->z = z;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Opening */

/* Opens the directory and the file anew and switches LF to them. On error
 * LF is unchanged. */
static int reopen_file(struct logfile *lf)
{
	struct stat st;
	uint64_t cut;
	int dirfd, fd;

	dirfd = logopen_dir(lf->path);
	if (dirfd < 0)
		return dirfd;
	fd = logopen_file(dirfd, lf->base, lf->opt.mode);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = fd < 0 ? fd : -errno;

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
	if (lf->z) {
		pthread_mutex_lock(&lf->z->lock);
		close(lf->z->dirfd);
		lf->z->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
		pthread_mutex_unlock(&lf->z->lock);
	}
	return 0;
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
	strcpy(lf->path, path);
	strcpy(lf->base, slash);
	lf->next_check = ts_add_ns(util_mono_ts(), CHECK_INTERVAL_NS);
	lf->next_fsync = ts_add_ns(util_mono_ts(), (long long)lf->opt.fsync_interval_ms * 1000000);

	if (strcmp(path, "-") == 0) {
		lf->is_stdout = true;
		lf->fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		err = lf->fd < 0 ? -errno : 0;
	} else {
		err = reopen_file(lf);
		if (err == 0 && (lf->opt.compress || lf->opt.fsync != LOGFILE_FSYNC_NEVER))
			err = compressor_new(lf);
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
	if (lf->z) {
		pthread_mutex_lock(&lf->z->lock);
		lf->z->keep = opt->keep;
		lf->z->mode = opt->mode;
		lf->z->compress = opt->compress;
		lf->z->wake = true; /* for files left uncompressed */
		pthread_cond_signal(&lf->z->cond);
		pthread_mutex_unlock(&lf->z->lock);
	} else if (!lf->is_stdout && lf->dirfd >= 0 &&
	           (opt->compress || opt->fsync != LOGFILE_FSYNC_NEVER)) {
		/* Without a thread, syncs happen inline and nothing is gzipped. */
		(void)compressor_new(lf);
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
	fd = lf->z ? fcntl(lf->fd, F_DUPFD_CLOEXEC, 3) : -1;
	if (fd >= 0 && compressor_sync(lf->z, fd, false)) {
		lf->dirty = false;
		return;
	}
	if (fd >= 0)
		close(fd);
	sync_file(lf);
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
	size_t off = 0, lines = 0, whole = 0, records;
	struct timespec now;
	struct stat st;
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
	if (err < 0 && lf->queued > records) {
		clock_gettime(CLOCK_REALTIME, &now);
		if (!lf->loss.lost)
			lf->loss.since = now;
		lf->loss.until = now;
		lf->loss.lost += lf->queued - records;
		lf->dropped += lf->queued - records;
	}
	if (loss && lines == lf->queued + 1) {
		lf->taken = lf->loss;
		lf->have_taken = true;
		memset(&lf->loss, 0, sizeof(lf->loss));
	}
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
static void check_file(struct logfile *lf, struct timespec now)
{
	struct stat st;
	int err;

	lf->next_check = ts_add_ns(now, CHECK_INTERVAL_NS);
	lf->rotate_blocked = false;
	if (lf->z) {
		pthread_mutex_lock(&lf->z->lock);
		lf->compress_err = lf->z->err;
		pthread_mutex_unlock(&lf->z->lock);
	}
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

int logfile_flush(struct logfile *lf)
{
	struct timespec now = util_mono_ts(), real;
	int err, n;

	if (ts_reached(now, lf->next_check))
		check_file(lf, now);
	if (lf->loss.lost && lf->fd >= 0) {
		char line[LOSS_MAX];

		clock_gettime(CLOCK_REALTIME, &real);
		lf->loss.logged = real;
		n = record_format_loss(line, sizeof(line), lf->opt.format, lf->loss.lost, &real,
		                       &lf->loss.since, &lf->loss.until);
		if (n > 0 && too_big(lf, (size_t)n)) {
			err = write_batch(lf, false);
			if (err < 0)
				return err;
			if (lf->size > 0 && too_big(lf, (size_t)n))
				rotate_if_allowed(lf);
		}
		if (n > 0) {
			memcpy(lf->buf + lf->len, line, (size_t)n);
			lf->len += (size_t)n;
			err = write_batch(lf, true);
		} else {
			err = write_batch(lf, false);
		}
	} else if (lf->len > 0) {
		err = write_batch(lf, false);
	} else {
		err = lf->fd < 0 && lf->loss.lost ? lf->open_err : 0;
	}
	if (lf->opt.fsync == LOGFILE_FSYNC_INTERVAL && ts_reached(now, lf->next_fsync)) {
		sync_file_later(lf);
		lf->next_fsync = ts_add_ns(now, (long long)lf->opt.fsync_interval_ms * 1000000);
	}
	return err;
}

/* The renames of a rotation, under the worker's lock so that it never
 * renames or deletes by a name that is shifting. */
static int shift_files(struct logfile *lf)
{
	int err;

	if (lf->z)
		pthread_mutex_lock(&lf->z->lock);
	err = loggen_shift(lf->dirfd, lf->base, lf->opt.keep, lf->fd);
	if (lf->z) {
		lf->z->rotations++;
		pthread_mutex_unlock(&lf->z->lock);
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
	err = shift_files(lf);
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
	} else if (!lf->z || !compressor_sync(lf->z, old, true)) {
		fdatasync(old);
		close(old);
		fsync(lf->dirfd);
	}
	if (lf->z)
		compressor_wake(lf->z);
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
	compressor_free(lf->z);
	if (lf->fd >= 0)
		close(lf->fd);
	if (lf->dirfd >= 0)
		close(lf->dirfd);
	free(lf);
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
	if (!lf->have_taken)
		return false;
	*ret = lf->taken;
	lf->have_taken = false;
	return true;
}
