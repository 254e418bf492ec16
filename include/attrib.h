/* attrib.h - who owns a socket: the cgroup and process maps as [attribution] says, and lookups. */
#ifndef TCPSTATED_ATTRIB_H
#define TCPSTATED_ATTRIB_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "procmap.h"
#include "sock.h"

struct cgroup_map;

/* The maps in use; NULL where that attribution is off or unavailable. Zero it to start. */
struct attrib {
	struct cgroup_map *cgroups;
	struct procmap *procs;
	bool procs_own_only; /* no CAP_SYS_PTRACE: only our own uid's processes are read */
};

/*
 * Makes A's maps what CFG's [attribution] asks for: creates the missing
 * ones, frees those no longer wanted. What cannot be had is said once, as a
 * warning, when the map is created: no cgroup2 file system (no cgroup or
 * unit), or no CAP_SYS_PTRACE (other users' processes unseen). Never fails.
 */
void attrib_apply(struct attrib *a, const struct config *cfg);

/* A's attribution in words, for the start line: "cgroups, processes", or "off". */
void attrib_describe(const struct attrib *a, char *buf, size_t size);

/* Frees A's maps. */
void attrib_release(struct attrib *a);

/*
 * Who owns SK, as far as A's maps know: fills *O (its strings in UNIT, of
 * UNITLEN bytes, and COMM) and returns O, or NULL when nothing is known.
 */
const struct sock_owner *attrib_owner(struct attrib *a, const struct sock *sk, struct sock_owner *o,
                                      char *unit, size_t unitlen, char comm[PROCMAP_COMM_MAX]);

#endif
