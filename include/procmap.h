/* procmap.h - socket inode to the process holding it (pid, comm), like netstat -p, cached. */
#ifndef TCPSTATED_PROCMAP_H
#define TCPSTATED_PROCMAP_H

#include <stddef.h>
#include <stdint.h>

/* Least time between the starts of two scans of /proc, in milliseconds. */
#define PROCMAP_RESCAN_MS 1000

/* A scan takes at most PROCMAP_BUDGET_US of every PROCMAP_WINDOW_MS (one
 * poll at the default interval); a longer one goes on at the next lookups. */
#define PROCMAP_WINDOW_MS 100
#define PROCMAP_BUDGET_US 10000

/* Most socket inodes one scan keeps. */
#define PROCMAP_MAX 1048576

/* A command name, as /proc/PID/comm has it (at most 15 bytes), NUL-terminated. */
#define PROCMAP_COMM_MAX 16

struct procmap;

/* A map of the sockets under the proc file system at PROC (normally "/proc"),
 * empty until the first lookup. Returns 0 and *ret, or -ENOMEM. */
int procmap_new(struct procmap **ret, const char *proc);

/* Frees M. Accepts NULL. */
void procmap_free(struct procmap *m);

/*
 * The process that holds the socket with inode INODE open: its pid and comm
 * (the lowest pid when several share it, as after fork()). Returns 0 and
 * fills *RET_PID and RET_COMM (PROCMAP_COMM_MAX bytes), or -ENOENT.
 * On a miss, /proc is scanned again (every process's fd directory): a scan
 * begins at most once per PROCMAP_RESCAN_MS of NOW_MS (a monotonic clock),
 * and, but for the first, works at most PROCMAP_BUDGET_US per
 * PROCMAP_WINDOW_MS, going on at the next misses when it needs longer. The sockets of the scan
 * before the last are still known, so a socket closed since it was last seen is found for its final
 * record.
 */
int procmap_lookup(struct procmap *m, uint32_t inode, uint64_t now_ms, uint32_t *ret_pid,
                   char ret_comm[PROCMAP_COMM_MAX]);

/* Scans of /proc so far, and how long the last one took (microseconds),
 * how many processes and socket descriptors it read. */
struct procmap_stats {
	uint64_t scans;
	uint64_t last_us;
	size_t last_procs;
	size_t last_sockets;
};
const struct procmap_stats *procmap_stats(const struct procmap *m);

/* Scans /proc now, to the end, whatever the limits say (for benchmarks).
 * Returns 0 or -errno when PROC cannot be read. */
int procmap_scan(struct procmap *m);

#endif
