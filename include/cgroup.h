/* cgroup.h - cgroup v2 ids to paths (cached), and the systemd unit a path belongs to. */
#ifndef TCPSTATED_CGROUP_H
#define TCPSTATED_CGROUP_H

#include <stddef.h>
#include <stdint.h>

/* Where cgroup2 is mounted on systemd hosts. */
#define CGROUP_ROOT "/sys/fs/cgroup"

/* Most cgroups the map holds; a larger tree is cut off (and counted). */
#define CGROUP_MAP_MAX 65536

/* The longest cgroup path kept; deeper cgroups stay unknown. */
#define CGROUP_PATH_MAX 1024

/* Least time between two walks of the tree, in milliseconds: for an id newer
 * than every cgroup the last walk saw (a cgroup created since), and for any
 * other unknown id. */
#define CGROUP_RESCAN_NEW_MS 10
#define CGROUP_RESCAN_MS     1000

struct cgroup_map;

/*
 * Finds where cgroup2 is mounted: CGROUP_ROOT on unified hosts, or
 * CGROUP_ROOT/unified on hybrid ones (cgroup v1 controllers beside it).
 * Writes it to BUF of SIZE bytes. Returns 0, or -ENOENT when neither is
 * cgroup2 (then sockets are not attributed).
 */
int cgroup_find_root(char *buf, size_t size);

/* A map of the cgroup2 tree mounted at ROOT, empty until the first lookup.
 * Returns 0 and *ret, or -ENOMEM. */
int cgroup_map_new(struct cgroup_map **ret, const char *root);

/* Frees M. Accepts NULL. */
void cgroup_map_free(struct cgroup_map *m);

/*
 * The path of the cgroup with id ID (the inode number of its directory),
 * relative to the root and starting with '/' ("/" for the root itself,
 * "/system.slice/nginx.service"), or NULL when it is unknown. On a miss the
 * tree is walked again: at once for an id newer than every cgroup seen (one
 * created since the last walk; at most one walk per CGROUP_RESCAN_NEW_MS),
 * else at most once per CGROUP_RESCAN_MS (ids no walk can find: a cgroup
 * outside our cgroup namespace, or already removed). NOW_MS is a monotonic
 * clock. The string lives until the next lookup.
 */
const char *cgroup_map_lookup(struct cgroup_map *m, uint64_t id, uint64_t now_ms);

/* Walks of the tree so far, and cgroups left out of the last one (over
 * CGROUP_MAP_MAX or CGROUP_PATH_MAX). */
uint64_t cgroup_map_walks(const struct cgroup_map *m);
size_t cgroup_map_skipped(const struct cgroup_map *m);

/*
 * The systemd unit that PATH belongs to: its last component that ends in
 * ".service" or ".scope" ("/system.slice/nginx.service/worker" gives
 * "nginx.service"; "/machine.slice/systemd-nspawn@web.service" the container's
 * unit; "/system.slice/docker-0123abcd.scope" a Docker container), written to
 * BUF of SIZE bytes. Returns its length, 0 when PATH has no such component,
 * or -ENOSPC. No I/O.
 */
int cgroup_unit(const char *path, char *buf, size_t size);

#endif
