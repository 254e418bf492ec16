/*
 * logworker.c - the log's worker thread: gzip of rotated files, and fsyncs.
 *
 * What may take long is done here, so that it never delays a poll: gzipping
 * a rotated file, and the fsync()s of the flush policy (an fdatasync() of a
 * 100 MiB file just written takes ~60 ms, longer than some poll intervals).
 *
 * The lock guards the state below and the rotated files' names: a rotation
 * shifts them through logworker_shift(), and the worker holds the lock
 * whenever it opens, renames or deletes by such a name, never while it
 * compresses. The rotation count tells it how far the names moved in
 * between. No other file sees the lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/resource.h>
#include <sys/stat.h>

#include <zlib.h>

#include "loggen.h"
#include "logworker.h"

/* Descriptors waiting for fdatasync(). */
#define SYNC_MAX 8

/* The size of gzip's input and output chunks. */
#define GZIP_CHUNK 65536

struct logworker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* work for the thread */
	pthread_cond_t idle; /* the thread has none (logworker_drain()) */
	atomic_bool stop;    /* also read, unlocked, between two chunks of gzip */
	bool wake;           /* look for files to compress */
	bool busy;           /* the thread is at work */
	int dirfd;           /* a copy of the log's directory descriptor */
	char base[NAME_MAX + 1];
	uint32_t keep;
	unsigned mode;
	bool compress;          /* gzip rotated files (else the thread only syncs) */
	uint64_t rotations;     /* bumped by every rotation: how far names shifted */
	int err;                /* of the last compression pass, 0 when it succeeded */
	int sync_fds[SYNC_MAX]; /* to fdatasync() and close */
	unsigned nsync;
	bool sync_dir; /* fsync() the directory after them (renames) */
};

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
	unsigned char *ibuf = malloc(2 * GZIP_CHUNK), *obuf;
	z_stream s;
	int flush = Z_NO_FLUSH, err = 0;

	memset(&s, 0, sizeof(s));
	if (!ibuf)
		return -ENOMEM;
	obuf = ibuf + GZIP_CHUNK;
	if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK) {
		free(ibuf);
		return -ENOMEM;
	}
	do {
		ssize_t n = read(in, ibuf, GZIP_CHUNK);

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
			s.avail_out = GZIP_CHUNK;
			deflate(&s, flush); /* cannot fail with these buffers */
			err = write_all(out, obuf, GZIP_CHUNK - s.avail_out);
		} while (err == 0 && s.avail_out == 0);
	} while (err == 0 && flush != Z_FINISH);
	deflateEnd(&s);
	free(ibuf);
	return err;
}

/* Gzips IN into a new file TMP in DFD, created with MODE and synced. */
static int gzip_into(int dfd, const char *tmp, unsigned mode, int in, atomic_bool *stop)
{
	int out, err;

	unlinkat(dfd, tmp, 0); /* left by a crash */
	out = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (out < 0)
		return -errno;
	err = gzip_fd(in, out, stop);
	if (err == 0 && fsync(out) < 0)
		err = -errno;
	close(out);
	return err;
}

/* Under the lock: opens the rotated file with the smallest number K that is
 * a regular file not compressed yet. Returns its descriptor and *ret_k, or -1
 * when there is none. */
static int open_next(struct logworker *w, int dfd, unsigned *ret_k)
{
	char name[LOGGEN_NAME_MAX];
	struct stat st;
	int fd;

	for (unsigned k = 1; k <= w->keep; k++) {
		fd = openat(dfd, loggen_name(name, w->base, k, false),
		            O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			*ret_k = k;
			return fd;
		}
		close(fd);
	}
	return -1;
}

/* Under the lock: the number that the file numbered K at rotation count GEN
 * has now, written as a plain name into NAME, if it is still FD and kept;
 * else 0. */
static unsigned number_now(struct logworker *w, int dfd, unsigned k, uint64_t gen, int fd,
                           char *name)
{
	unsigned now = k + (unsigned)(w->rotations - gen);

	if (now > w->keep || !loggen_same_file(dfd, loggen_name(name, w->base, now, false), fd))
		return 0;
	return now;
}

/*
 * Compresses the rotated file with the smallest number that is not
 * compressed yet, PATH.k -> PATH.k.gz: into a temporary file, fsync, rename,
 * then the plain file is deleted, so that a crash leaves either file whole.
 * Returns 1 after one file, 0 when there was none, or -errno.
 */
static int compress_next(struct logworker *w)
{
	char name[LOGGEN_NAME_MAX], tmp[LOGGEN_NAME_MAX];
	unsigned k = 0, now, mode;
	uint64_t gen;
	int dfd, fd = -1, err;

	pthread_mutex_lock(&w->lock);
	dfd = fcntl(w->dirfd, F_DUPFD_CLOEXEC, 3);
	err = dfd < 0 ? -errno : 0;
	if (dfd >= 0)
		fd = open_next(w, dfd, &k);
	gen = w->rotations;
	mode = w->mode;
	pthread_mutex_unlock(&w->lock);
	if (dfd < 0 || fd < 0) {
		if (dfd >= 0)
			close(dfd);
		return err;
	}

	snprintf(tmp, sizeof(tmp), ".%s.gz.tmp", w->base);
	err = gzip_into(dfd, tmp, mode, fd, &w->stop);
	pthread_mutex_lock(&w->lock);
	now = err == 0 ? number_now(w, dfd, k, gen, fd, name) : 0;
	if (now == 0)
		unlinkat(dfd, tmp, 0); /* failed, or the file was dropped meanwhile */
	else if (renameat(dfd, tmp, dfd, loggen_name(name, w->base, now, true)) < 0)
		err = -errno;
	pthread_mutex_unlock(&w->lock);

	if (err == 0 && now > 0) {
		/* The .gz is durable before the plain file goes. */
		fsync(dfd);
		pthread_mutex_lock(&w->lock);
		if (number_now(w, dfd, k, gen, fd, name) > 0)
			unlinkat(dfd, name, 0);
		pthread_mutex_unlock(&w->lock);
	}
	close(fd);
	close(dfd);
	return err < 0 ? err : 1;
}

/* Under the lock, which it drops around each call: the syncs handed over,
 * then the directory's. */
static void run_syncs(struct logworker *w)
{
	while (w->nsync > 0) {
		int fd = w->sync_fds[--w->nsync];

		pthread_mutex_unlock(&w->lock);
		fdatasync(fd);
		close(fd);
		pthread_mutex_lock(&w->lock);
	}
	if (w->sync_dir) {
		int dfd = fcntl(w->dirfd, F_DUPFD_CLOEXEC, 3);

		w->sync_dir = false;
		pthread_mutex_unlock(&w->lock);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
		pthread_mutex_lock(&w->lock);
	}
}

static void *worker_main(void *arg)
{
	struct logworker *w = arg;
	int err;

	/*
	 * Nice 10 for this thread only: on a busy machine, compressing gives
	 * way to the polls. Under the shipped unit the system call filter
	 * refuses it (EPERM, @resources), which does no harm.
	 */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!atomic_load(&w->stop) && !w->wake && !w->nsync && !w->sync_dir) {
			w->busy = false;
			pthread_cond_broadcast(&w->idle);
			pthread_cond_wait(&w->cond, &w->lock);
		}
		w->busy = true;
		/* Syncs first, and even when stopping: they were promised. */
		run_syncs(w);
		if (atomic_load(&w->stop))
			break;
		if (!w->wake)
			continue;
		w->wake = false;
		if (!w->compress)
			continue;
		pthread_mutex_unlock(&w->lock);
		while ((err = compress_next(w)) > 0)
			;
		pthread_mutex_lock(&w->lock);
		w->err = err == -ECANCELED ? 0 : err;
	}
	w->busy = false;
	pthread_cond_broadcast(&w->idle);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Frees W, whose thread is not running. */
static void destroy(struct logworker *w)
{
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	pthread_cond_destroy(&w->idle);
	close(w->dirfd);
	free(w);
}

int logworker_new(struct logworker **ret, int dirfd, const char *base,
                  const struct logfile_options *opt)
{
	struct logworker *w;
	sigset_t all, old;
	int err;

	if (strlen(base) > NAME_MAX)
		return -ENAMETOOLONG;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (w->dirfd < 0) {
		err = -errno;
		free(w);
		return err;
	}
	strcpy(w->base, base);
	w->keep = opt->keep;
	w->mode = opt->mode;
	w->compress = opt->compress;
	w->wake = true;
	atomic_init(&w->stop, false);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	pthread_cond_init(&w->idle, NULL);
	/* Signals are for the main thread's signalfd: the worker blocks all. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = -pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err < 0) {
		destroy(w);
		return err;
	}
	*ret = w;
	return 0;
}

void logworker_free(struct logworker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	atomic_store(&w->stop, true);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	destroy(w);
}

void logworker_set_options(struct logworker *w, const struct logfile_options *opt)
{
	pthread_mutex_lock(&w->lock);
	w->keep = opt->keep;
	w->mode = opt->mode;
	w->compress = opt->compress;
	w->wake = true; /* for files left uncompressed */
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void logworker_set_dir(struct logworker *w, int dirfd)
{
	pthread_mutex_lock(&w->lock);
	close(w->dirfd);
	w->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	pthread_mutex_unlock(&w->lock);
}

int logworker_shift(struct logworker *w, int dirfd, const char *base, unsigned keep, int fd)
{
	int err;

	pthread_mutex_lock(&w->lock);
	err = loggen_shift(dirfd, base, keep, fd);
	w->rotations++;
	pthread_mutex_unlock(&w->lock);
	return err;
}

int logworker_prune(struct logworker *w, int dirfd, const char *base, unsigned keep)
{
	int err;

	pthread_mutex_lock(&w->lock);
	err = loggen_prune(dirfd, base, keep);
	pthread_mutex_unlock(&w->lock);
	return err;
}

void logworker_compress(struct logworker *w)
{
	pthread_mutex_lock(&w->lock);
	w->wake = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int logworker_fsync(struct logworker *w, int fd, bool dir)
{
	int err = -EAGAIN;

	pthread_mutex_lock(&w->lock);
	if (w->nsync < SYNC_MAX) {
		w->sync_fds[w->nsync++] = fd;
		w->sync_dir |= dir;
		pthread_cond_signal(&w->cond);
		err = 0;
	}
	pthread_mutex_unlock(&w->lock);
	return err;
}

int logworker_error(struct logworker *w)
{
	int err;

	pthread_mutex_lock(&w->lock);
	err = w->err;
	pthread_mutex_unlock(&w->lock);
	return err;
}

void logworker_drain(struct logworker *w)
{
	pthread_mutex_lock(&w->lock);
	while (!atomic_load(&w->stop) && (w->busy || w->wake || w->nsync || w->sync_dir))
		pthread_cond_wait(&w->idle, &w->lock);
	pthread_mutex_unlock(&w->lock);
}
