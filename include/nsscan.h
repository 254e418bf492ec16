/* nsscan.h - the host's network namespaces: found, named, matched against [poll] netns. */
#ifndef TCPSTATED_NSSCAN_H
#define TCPSTATED_NSSCAN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest readable name kept, with its NUL. */
#define NSSCAN_NAME_MAX 256

/* One network namespace a scan found. */
struct nsscan_ns {
	uint64_t ino;               /* nsfs inode */
	char path[PATH_MAX];        /* a file that opens it: /run/netns/NAME first, then a runtime
	                               dir's or a path item's, then /proc/PID/ns/net */
	char name[NSSCAN_NAME_MAX]; /* readable name, by the rules of nsscan.c */
	bool host;                  /* the namespace of PID 1 (or ours) */
};

/* Counters of the latest run. */
struct nsscan_stats {
	size_t procs;      /* /proc/PID looked at */
	size_t files;      /* files in the namespace directories and matched by path items */
	size_t unreadable; /* processes whose ns/net we may not read (no CAP_SYS_PTRACE) */
	uint64_t runs;
};

struct nsscan;

/*
 * Checks SPEC ([poll] netns): "all" alone, or whitespace-separated names, paths
 * and fnmatch(3) globs. Returns 0, or -EINVAL with the bad item and why in WHY
 * of WHYLEN bytes ("\"..\" is not a namespace name"). No allocation.
 */
int nsscan_check(const char *spec, char *why, size_t whylen);

/* Whether SPEC asks for dynamic mode: "all", more than one item, or a glob
 * (one of *?[). An empty spec or a single plain name or path is not. */
bool nsscan_is_dynamic(const char *spec);

/* A scanner for the namespaces SPEC matches, looking under "/". Returns 0, or
 * -EINVAL with the message of nsscan_check() in ERR, or -ENOMEM. */
int nsscan_new(struct nsscan **ret, const char *spec, char *err, size_t errlen);

/* Frees S and what its runs returned. Accepts NULL. */
void nsscan_free(struct nsscan *s);

/* For tests: look under ROOT instead of "/" (ROOT/proc, ROOT/run/netns, ...);
 * the paths returned begin with ROOT, items match them without it. */
void nsscan_set_root(struct nsscan *s, const char *root);

/*
 * Finds every namespace the patterns match; *RET (owned by S, valid until the
 * next run) sorted by ino, *RET_N entries. Names that come from a process's
 * cgroup are kept across runs while the namespace lives. Returns 0, or -errno
 * when /proc cannot be read or memory runs out (a process that vanished or
 * that we may not read is skipped, and counted).
 */
int nsscan_run(struct nsscan *s, const struct nsscan_ns **ret, size_t *ret_n);

/* The counters of the latest run. */
const struct nsscan_stats *nsscan_stats(const struct nsscan *s);

/* Whether the latest run found namespace INO at all, matched or not: one
 * that a list no longer matches still exists. */
bool nsscan_seen(const struct nsscan *s, uint64_t ino);

/* The entry for inode INO among the N sorted by nsscan_run(), or NULL. */
const struct nsscan_ns *nsscan_find(const struct nsscan_ns *v, size_t n, uint64_t ino);

#endif
