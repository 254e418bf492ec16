/*
 * procmap.c - socket inode to the process that holds it.
 *
 * The kernel's socket dump says which socket (inode), not which process:
 * that link exists only as /proc/PID/fd/N -> "socket:[INODE]". Reading it
 * means one readlink per open file descriptor of every process, which is what
 * makes `netstat -p` slow, so it is done only when a record needs an inode
 * the map does not know, at most once per PROCMAP_RESCAN_MS, and spread over
 * several polls when it is long. The previous scan's table is kept beside the
 * current one, so a socket that was closed after a scan saw it still has its
 * process in its last record.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "procmap.h"
#include "util.h"

struct proc_entry {
	uint32_t inode; /* 0: empty */
	uint32_t pid;
	uint32_t comm; /* index into the table's comm list */
};

struct proc_table {
	struct proc_entry *slots;
	size_t mask; /* slots - 1, or 0 when there are none */
	size_t len;
	char (*comms)[PROCMAP_COMM_MAX];
	size_t ncomms, comms_cap;
};

struct procmap {
	char *proc;
	struct proc_table tables[3];
	struct proc_table *cur, *prev; /* the last two complete scans */
	struct proc_table *next;       /* filled by the scan in progress */
	DIR *scan;                     /* the scan in progress, or NULL */
	uint64_t scan_us;              /* time it has taken so far */
	size_t scan_procs, scan_socks;
	bool started;
	uint64_t started_ms; /* when the last scan began */
	uint64_t window;     /* now_ms / PROCMAP_WINDOW_MS when window_us began */
	uint64_t window_us;  /* time spent scanning in that window */
	struct procmap_stats stats;
};

int procmap_new(struct procmap **ret, const char *proc)
{
	struct procmap *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->proc = strdup(proc);
	if (!m->proc) {
		free(m);
		return -ENOMEM;
	}
	m->cur = &m->tables[0];
	m->prev = &m->tables[1];
	m->next = &m->tables[2];
	*ret = m;
	return 0;
}

static void table_clear(struct proc_table *t)
{
	if (t->slots)
		memset(t->slots, 0, (t->mask + 1) * sizeof(*t->slots));
	t->len = 0;
	t->ncomms = 0;
}

void procmap_free(struct procmap *m)
{
	if (!m)
		return;
	if (m->scan)
		closedir(m->scan);
	for (int i = 0; i < 3; i++) {
		free(m->tables[i].slots);
		free(m->tables[i].comms);
	}
	free(m->proc);
	free(m);
}

static size_t slot_of(const struct proc_table *t, uint32_t inode)
{
	return (size_t)((inode * 0x9e3779b1u) >> 8) & t->mask;
}

static const struct proc_entry *table_find(const struct proc_table *t, uint32_t inode)
{
	if (!t->slots)
		return NULL;
	for (size_t i = slot_of(t, inode);; i = (i + 1) & t->mask) {
		if (t->slots[i].inode == inode)
			return &t->slots[i];
		if (t->slots[i].inode == 0)
			return NULL;
	}
}

static int table_grow(struct proc_table *t)
{
	size_t n = t->slots ? 2 * (t->mask + 1) : 1024, oldn = t->slots ? t->mask + 1 : 0;
	struct proc_entry *old = t->slots, *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	t->slots = slots;
	t->mask = n - 1;
	for (size_t i = 0; i < oldn; i++) {
		size_t j;

		if (!old[i].inode)
			continue;
		for (j = slot_of(t, old[i].inode); slots[j].inode; j = (j + 1) & t->mask)
			;
		slots[j] = old[i];
	}
	free(old);
	return 0;
}

/* Keeps the lowest pid that holds INODE (a listener shared by a server's
 * workers: their parent, as a rule). */
static int table_put(struct proc_table *t, uint32_t inode, uint32_t pid, uint32_t comm)
{
	struct proc_entry *e = (struct proc_entry *)table_find(t, inode);
	size_t i;

	if (e) {
		if (pid < e->pid) {
			e->pid = pid;
			e->comm = comm;
		}
		return 0;
	}
	if (t->len >= PROCMAP_MAX)
		return -ENOSPC;
	if (!t->slots || 2 * (t->len + 1) > t->mask + 1) {
		int err = table_grow(t);

		if (err < 0)
			return err;
	}
	for (i = slot_of(t, inode); t->slots[i].inode; i = (i + 1) & t->mask)
		;
	t->slots[i] = (struct proc_entry){.inode = inode, .pid = pid, .comm = comm};
	t->len++;
	return 0;
}

/* Adds COMM to T's list; returns its index, or -ENOMEM. */
static long table_comm(struct proc_table *t, const char *comm)
{
	if (util_grow((void **)&t->comms, &t->comms_cap, t->ncomms + 1, PROCMAP_COMM_MAX, 256) < 0)
		return -ENOMEM;
	memcpy(t->comms[t->ncomms], comm, PROCMAP_COMM_MAX);
	return (long)t->ncomms++;
}

/* Reads /proc/PID/comm at PIDFD into COMM, without its newline; "" if gone. */
static void read_comm(int pidfd, char comm[PROCMAP_COMM_MAX])
{
	int fd = openat(pidfd, "comm", O_RDONLY | O_CLOEXEC);
	ssize_t n = 0;

	memset(comm, 0, PROCMAP_COMM_MAX);
	if (fd < 0)
		return;
	n = read(fd, comm, PROCMAP_COMM_MAX - 1);
	close(fd);
	if (n <= 0) {
		comm[0] = '\0';
		return;
	}
	if (comm[n - 1] == '\n')
		n--;
	comm[n] = '\0';
}

/* Parses "socket:[12345]"; returns the inode or 0. */
static uint32_t socket_inode(const char *link, ssize_t n)
{
	uint64_t v = 0;
	ssize_t i;

	if (n < 10 || memcmp(link, "socket:[", 8) != 0 || link[n - 1] != ']')
		return 0;
	for (i = 8; i < n - 1; i++) {
		if (link[i] < '0' || link[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(link[i] - '0');
		if (v > UINT32_MAX)
			return 0;
	}
	return (uint32_t)v;
}

/* Adds the sockets of process PID (its directory open at PIDFD) to T. */
static int scan_pid(struct proc_table *t, int pidfd, uint32_t pid, size_t *nsock)
{
	char comm[PROCMAP_COMM_MAX], link[64];
	long comm_idx = -1;
	struct dirent *de;
	DIR *dir;
	int fdfd, err = 0;

	fdfd = openat(pidfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fdfd < 0)
		return 0; /* gone, or not ours to read */
	dir = fdopendir(fdfd);
	if (!dir) {
		close(fdfd);
		return 0;
	}
	while (err == 0 && (de = readdir(dir))) {
		ssize_t n;
		uint32_t inode;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(fdfd, de->d_name, link, sizeof(link));
		if (n <= 0 || n >= (ssize_t)sizeof(link))
			continue;
		inode = socket_inode(link, n);
		if (!inode)
			continue;
		(*nsock)++;
		if (comm_idx < 0) {
			read_comm(pidfd, comm);
			comm_idx = table_comm(t, comm);
			if (comm_idx < 0) {
				err = (int)comm_idx;
				break;
			}
		}
		err = table_put(t, inode, pid, (uint32_t)comm_idx);
	}
	closedir(dir);
	return err == -ENOSPC ? 0 : err;
}

static int scan_begin(struct procmap *m)
{
	m->scan = opendir(m->proc);
	if (!m->scan)
		return -errno;
	table_clear(m->next);
	m->scan_us = 0;
	m->scan_procs = 0;
	m->scan_socks = 0;
	return 0;
}

/* The scan is complete: it becomes the current table. */
static void scan_end(struct procmap *m)
{
	struct proc_table *old = m->prev;

	closedir(m->scan);
	m->scan = NULL;
	m->prev = m->cur;
	m->cur = m->next;
	m->next = old;
	m->stats.scans++;
	m->stats.last_us = m->scan_us;
	m->stats.last_procs = m->scan_procs;
	m->stats.last_sockets = m->scan_socks;
}

/*
 * Goes on with the scan in progress until it ends or the clock passes
 * DEADLINE_US (checked after each process). Returns 1 when it ended, 0 when
 * there is more, or -errno (out of memory: the scan ends with what it has).
 */
static int scan_step(struct procmap *m, uint64_t deadline_us)
{
	uint64_t t0 = (util_mono_ns() / 1000), t = t0;
	struct dirent *de;
	int err = 0;

	while (t < deadline_us && (de = readdir(m->scan))) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);
		int pidfd;

		if (*end != '\0' || pid == 0 || pid > UINT32_MAX)
			continue;
		pidfd = openat(dirfd(m->scan), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pidfd < 0)
			continue;
		m->scan_procs++;
		err = scan_pid(m->next, pidfd, (uint32_t)pid, &m->scan_socks);
		close(pidfd);
		t = (util_mono_ns() / 1000);
		if (err < 0)
			break;
	}
	m->scan_us += (util_mono_ns() / 1000) - t0;
	if (t < deadline_us || err < 0) {
		scan_end(m);
		return err < 0 ? err : 1;
	}
	return 0;
}

int procmap_scan(struct procmap *m)
{
	int err;

	if (!m->scan) {
		err = scan_begin(m);
		if (err < 0)
			return err;
	}
	err = scan_step(m, UINT64_MAX);
	return err < 0 ? err : 0;
}

static int found(const struct procmap *m, const struct proc_table *t, uint32_t inode,
                 uint32_t *ret_pid, char ret_comm[PROCMAP_COMM_MAX])
{
	const struct proc_entry *e = table_find(t, inode);

	(void)m;
	if (!e)
		return -ENOENT;
	*ret_pid = e->pid;
	memcpy(ret_comm, t->comms[e->comm], PROCMAP_COMM_MAX);
	return 0;
}

int procmap_lookup(struct procmap *m, uint32_t inode, uint64_t now_ms, uint32_t *ret_pid,
                   char ret_comm[PROCMAP_COMM_MAX])
{
	uint64_t t;

	if (inode == 0)
		return -ENOENT;
	if (found(m, m->cur, inode, ret_pid, ret_comm) == 0 ||
	    found(m, m->prev, inode, ret_pid, ret_comm) == 0 ||
	    (m->scan && found(m, m->next, inode, ret_pid, ret_comm) == 0))
		return 0;
	if (!m->scan) {
		if (m->started && now_ms - m->started_ms < PROCMAP_RESCAN_MS)
			return -ENOENT;
		m->started = true;
		m->started_ms = now_ms;
		if (scan_begin(m) < 0)
			return -ENOENT;
	}
	/*
	 * The first scan runs to its end: it serves the first snapshot's
	 * records, and there is no earlier snapshot whose changes a long poll
	 * could make us miss. Later scans are spread over several polls: they
	 * may take PROCMAP_BUDGET_US of every PROCMAP_WINDOW_MS, so that a
	 * poll is never held up for long (a scan at 10,000 sockets takes
	 * ~100 ms).
	 */
	if (m->stats.scans == 0) {
		(void)scan_step(m, UINT64_MAX);
		return found(m, m->cur, inode, ret_pid, ret_comm);
	}
	if (now_ms / PROCMAP_WINDOW_MS != m->window) {
		m->window = now_ms / PROCMAP_WINDOW_MS;
		m->window_us = 0;
	}
	if (m->window_us >= PROCMAP_BUDGET_US)
		return -ENOENT;
	t = (util_mono_ns() / 1000);
	(void)scan_step(m, t + PROCMAP_BUDGET_US - m->window_us); /* a failed scan is still good */
	m->window_us += (util_mono_ns() / 1000) - t;
	if (found(m, m->cur, inode, ret_pid, ret_comm) == 0 ||
	    (m->scan && found(m, m->next, inode, ret_pid, ret_comm) == 0))
		return 0;
	return -ENOENT;
}

const struct procmap_stats *procmap_stats(const struct procmap *m)
{
	return &m->stats;
}
