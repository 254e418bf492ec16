/* ctl_source.h - where records come from: files (a rotated set, .gz, stdin), a followed log, the
 * journal. */
#ifndef TCPSTATED_CTL_SOURCE_H
#define TCPSTATED_CTL_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "ctl_record.h"

/* The longest line read as a record; longer ones are skipped as bad. */
#define SOURCE_LINE_MAX 65536

/* Bad input, counted, with the first few places, for one report at the end. */
#define SOURCE_REPORT_FIRST 5
struct source_report {
	uint64_t bad_lines; /* lines that are no record */
	uint64_t bad_files; /* files that vanished, or broke off (a truncated .gz) */
	uint64_t losses;    /* the daemon's own loss records: records never written */
	size_t nfirst;
	char first[SOURCE_REPORT_FIRST][256]; /* "FILE:LINE: why" */
};

/* Counts one bad line or file (LINE 0) of NAME, keeping the first few. */
void source_report_bad(struct source_report *rep, const char *name, uint64_t line, const char *why);

/* Writes the report to stderr, if there is anything in it. */
void source_report_print(const struct source_report *rep, const char *prog);

/*
 * The rotated set of the log at PATH, oldest first: PATH.N or PATH.N.gz for
 * every N there is, from the highest down, then PATH itself (if it exists).
 * *RET_PATHS is an array of *RET_N strings, freed with source_paths_free().
 * Returns 0 or -errno (-ENOENT: none of them exists).
 */
int source_rotated(const char *path, char ***ret_paths, size_t *ret_n);
void source_paths_free(char **paths, size_t n);

/* One file read line by line: plain or gzip (told by its first bytes); "-" is stdin. */
struct source_file;

/* Opens PATH. Returns 0 or -errno. */
int source_file_open(const char *path, struct source_file **ret);

/* Frees F; NULL is fine. */
void source_file_close(struct source_file *f);

/*
 * The next whole line of F, without its '\n', in *RET_LINE (valid until the
 * next call) and *RET_LEN. Over-long lines and a last line without '\n' (torn)
 * are counted in REP and skipped. Returns 1, 0 at the end, or -EIO when the
 * file broke off (a truncated .gz, a read error: counted in REP).
 */
int source_file_next(struct source_file *f, struct source_report *rep, const char **ret_line,
                     size_t *ret_len);

/* F's descriptor (to fstat() it, or open it again through /proc/self/fd). */
int source_file_fd(const struct source_file *f);

/* F's name as given and the number of the line last returned. */
const char *source_file_name(const struct source_file *f);
uint64_t source_file_lineno(const struct source_file *f);

/* A log followed like tail -F: across rotation (the file renamed or deleted
 * and made again) and truncation; it need not exist yet. */
struct source_follow;

/* Follows PATH from its start. Returns 0 or -errno. */
int source_follow_open(const char *path, struct source_follow **ret);
void source_follow_close(struct source_follow *f);

/*
 * The next whole line, as source_file_next(), waiting up to TIMEOUT_MS for
 * one (-1: for ever). Returns 1, 0 when none came in time, or -errno.
 */
int source_follow_next(struct source_follow *f, struct source_report *rep, int timeout_ms,
                       const char **ret_line, size_t *ret_len);

/* The name and line number of the line last returned. */
const char *source_follow_name(const struct source_follow *f);
uint64_t source_follow_lineno(const struct source_follow *f);

/* The journal's tcpstated entries (TCPSTATE_* fields). */
struct source_journal;

/* The local journal (DIR NULL) or the journal files in DIR. Returns 0 or -errno. */
int source_journal_open(const char *dir, struct source_journal **ret);
void source_journal_close(struct source_journal *j);

/*
 * The next entry as a record in *R, waiting up to TIMEOUT_MS for one when
 * at the end (0: not at all; -1: for ever). Returns 1, 0 at the end (or
 * when none came in time), -EINVAL for an entry that makes no record
 * (counted in REP, then skipped), or another -errno.
 */
int source_journal_next(struct source_journal *j, struct source_report *rep, int timeout_ms,
                        struct ctl_record *r);

#endif
