/*
 * source.c - records from files: one file, plain or gzip, or a log's
 * rotated set read oldest first.
 *
 * The tool only ever reads: a file the daemon rotates away while it is read
 * goes on being read through its descriptor, and one that is gone by the
 * time its turn comes is counted as bad input, not fatal. Compressed files
 * are told by their first bytes, not their names, and read through zlib; one
 * that breaks off (a rotation's gzip worker killed midway) gives its lines
 * up to the break.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "ctl_linebuf.h"
#include "ctl_source.h"
#include "util.h"

/* Read in chunks of this much: large enough that a read costs little per
 * line, small enough to stay in the cache. */
#define SOURCE_BUF (256 * 1024)

void source_report_bad(struct source_report *rep, const char *name, uint64_t line, const char *why)
{
	if (line)
		rep->bad_lines++;
	else
		rep->bad_files++;
	if (rep->nfirst == SOURCE_REPORT_FIRST)
		return;
	if (line)
		snprintf(rep->first[rep->nfirst++], sizeof(rep->first[0]), "%s:%llu: %s", name,
		         (unsigned long long)line, why);
	else
		snprintf(rep->first[rep->nfirst++], sizeof(rep->first[0]), "%s: %s", name, why);
}

void source_report_print(const struct source_report *rep, const char *prog)
{
	if (rep->losses)
		fprintf(stderr,
		        "%s: the daemon could not write %llu records (loss records in the input)\n",
		        prog, (unsigned long long)rep->losses);
	if (!rep->bad_lines && !rep->bad_files)
		return;
	fprintf(stderr, "%s: skipped %llu bad line(s) and %llu bad file(s):\n", prog,
	        (unsigned long long)rep->bad_lines, (unsigned long long)rep->bad_files);
	for (size_t i = 0; i < rep->nfirst; i++)
		fprintf(stderr, "  %s\n", rep->first[i]);
	if (rep->bad_lines + rep->bad_files > rep->nfirst)
		fprintf(stderr, "  ...\n");
}

/* --- The rotated set ----------------------------------------------------- */

struct generation {
	unsigned long n;
	char *path;
};

static int newest_last(const void *a, const void *b)
{
	const struct generation *x = a, *y = b;

	return x->n > y->n ? -1 : x->n < y->n;
}

/* The N of NAME when it is BASE.N or BASE.N.gz; 0 otherwise. */
static unsigned long generation_of(const char *name, const char *base)
{
	size_t bn = strlen(base);
	unsigned long n = 0;
	const char *p;

	if (strncmp(name, base, bn) != 0 || name[bn] != '.')
		return 0;
	for (p = name + bn + 1; *p >= '0' && *p <= '9' && n < 1000000; p++)
		n = n * 10 + (unsigned long)(*p - '0');
	if (p == name + bn + 1 || (*p && strcmp(p, ".gz") != 0))
		return 0;
	return n;
}

/* Adds DIR/NAME to *V as generation N. Returns 0 or -ENOMEM. */
static int add_generation(struct generation **v, size_t *n, size_t *cap, const char *dir,
                          const char *name, unsigned long gen)
{
	char *path;

	if (util_grow((void **)v, cap, *n + 1, sizeof(**v), 16) < 0 ||
	    asprintf(&path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	(*v)[*n].n = gen;
	(*v)[(*n)++].path = path;
	return 0;
}

int source_rotated(const char *path, char ***ret_paths, size_t *ret_n)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	struct generation *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	struct stat st;
	char **paths;
	int err = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	if (slash == path)
		strcpy(dir, "/");
	d = opendir(dir);
	if (!d)
		return -errno;
	while (!err && (de = readdir(d))) {
		unsigned long gen = generation_of(de->d_name, base);

		if (gen)
			err = add_generation(&v, &n, &cap, dir, de->d_name, gen);
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), newest_last);
	if (!err && stat(path, &st) == 0)
		err = add_generation(&v, &n, &cap, dir, base, 0);
	paths = err ? NULL : calloc(n ? n : 1, sizeof(*paths));
	for (size_t i = 0; i < n; i++) {
		if (paths)
			paths[i] = v[i].path;
		else
			free(v[i].path);
	}
	free(v);
	if (!paths)
		return err ? err : -ENOMEM;
	if (!n) {
		free(paths);
		return -ENOENT;
	}
	*ret_paths = paths;
	*ret_n = n;
	return 0;
}

void source_paths_free(char **paths, size_t n)
{
	for (size_t i = 0; paths && i < n; i++)
		free(paths[i]);
	free(paths);
}

/* --- One file ------------------------------------------------------------ */

struct source_file {
	char *name;
	int fd;
	gzFile gz; /* NULL: read() the plain file */
	int eof;
	int broken; /* reported as broken off: read no more */
	struct linebuf lb;
};

/* Nonzero when the file FD starts with gzip's magic bytes. */
static int is_gzip(int fd)
{
	unsigned char magic[2];

	return pread(fd, magic, sizeof(magic), 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

int source_file_open(const char *path, struct source_file **ret)
{
	struct source_file *f = calloc(1, sizeof(*f));
	struct stat st;
	int err;

	if (!f)
		return -ENOMEM;
	f->fd = -1;
	f->name = strdup(strcmp(path, "-") == 0 ? "(stdin)" : path);
	err = f->name ? linebuf_init(&f->lb, SOURCE_BUF) : -ENOMEM;
	if (err == 0)
		f->fd =
		    strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	if (err == 0 && f->fd < 0)
		err = -errno;
	if (err == 0 && fstat(f->fd, &st) < 0)
		err = -errno;
	if (err == 0 && S_ISDIR(st.st_mode))
		err = -EISDIR;
	/* A pipe cannot be asked for its first bytes without taking them:
	 * zlib reads it, and passes what is not gzip through as it is. */
	if (err == 0 && (!S_ISREG(st.st_mode) || is_gzip(f->fd))) {
		f->gz = gzdopen(f->fd, "rb");
		if (!f->gz)
			err = -ENOMEM;
		else
			gzbuffer(f->gz, SOURCE_BUF);
	}
	if (err < 0) {
		source_file_close(f);
		return err;
	}
	*ret = f;
	return 0;
}

void source_file_close(struct source_file *f)
{
	if (!f)
		return;
	if (f->gz)
		gzclose_r(f->gz); /* closes fd too */
	else if (f->fd >= 0)
		close(f->fd);
	linebuf_release(&f->lb);
	free(f->name);
	free(f);
}

/* Reads more of F into its buffer. Returns the bytes read, 0 at the end, or -EIO. */
static ssize_t read_more(struct source_file *f, struct source_report *rep)
{
	size_t room;
	char *p = linebuf_room(&f->lb, &room);
	ssize_t n;

	if (f->broken)
		return -EIO;
	if (f->gz) {
		int errnum;
		const char *msg;

		n = gzread(f->gz, p, (unsigned)(room > INT_MAX ? INT_MAX : room));
		msg = gzerror(f->gz, &errnum);
		if (n < 0 || (errnum != Z_OK && errnum != Z_STREAM_END)) {
			char why[128];

			snprintf(why, sizeof(why), "gzip data broke off after line %llu (%s)",
			         (unsigned long long)f->lb.lineno, msg);
			source_report_bad(rep, f->name, 0, why);
			f->broken = 1;
			n = n > 0 ? n : -EIO;
		}
	} else {
		do
			n = read(f->fd, p, room);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			char why[128];

			snprintf(why, sizeof(why), "read error after line %llu: %s",
			         (unsigned long long)f->lb.lineno, strerror(errno));
			source_report_bad(rep, f->name, 0, why);
			f->broken = 1;
			n = -EIO;
		}
	}
	if (n > 0)
		linebuf_fill(&f->lb, (size_t)n);
	return n;
}

int source_file_next(struct source_file *f, struct source_report *rep, const char **ret_line,
                     size_t *ret_len)
{
	for (;;) {
		ssize_t n;
		int r = linebuf_line(&f->lb, ret_line, ret_len);

		if (r == 1)
			return 1;
		if (r == -E2BIG) {
			source_report_bad(rep, f->name, f->lb.lineno, "line too long");
			continue;
		}
		if (f->eof)
			return 0;
		n = read_more(f, rep);
		if (n <= 0) {
			f->eof = 1;
			if (linebuf_pending(&f->lb) && !f->broken)
				source_report_bad(rep, f->name, f->lb.lineno + 1,
				                  "torn line at the end (no newline)");
			linebuf_clear(&f->lb);
			if (n < 0)
				return (int)n;
		}
	}
}

int source_file_fd(const struct source_file *f)
{
	return f->fd;
}

const char *source_file_name(const struct source_file *f)
{
	return f->name;
}

uint64_t source_file_lineno(const struct source_file *f)
{
	return f->lb.lineno;
}
