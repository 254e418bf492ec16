/*
 * attrib.c - who owns a socket, as [attribution] asks: the map of cgroups
 * (and so units) and the map of processes, and what each cannot see.
 *
 * Both degrade rather than fail: without cgroup2 there are no units, and
 * without CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH the fds of other users'
 * processes cannot be read (and under the service's ProtectProc=invisible,
 * not even listed), so their sockets have no pid. Each is said once, when the map is made, so that
 * a record without a pid is never a silent surprise.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/capability.h>

#include "attrib.h"
#include "cgroup.h"
#include "log.h"
#include "util.h"

/*
 * Whether this process may read another user's /proc/PID/fd: listing the
 * directory (mode 0500, its owner's) takes CAP_DAC_READ_SEARCH (or
 * CAP_DAC_OVERRIDE, which root has), reading its links CAP_SYS_PTRACE
 * (ptrace read access). Read from /proc/self/status
 * rather than with capget(), which a seccomp filter may refuse; unknown
 * counts as held, so that no warning is a false one.
 */
static bool may_read_other_fds(void)
{
	unsigned long long eff = ~0ULL;
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return true;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return (eff & (1ULL << CAP_SYS_PTRACE)) &&
	       (eff & ((1ULL << CAP_DAC_READ_SEARCH) | (1ULL << CAP_DAC_OVERRIDE)));
}

/* The process map, made or freed as ON says; what it cannot see, said once. */
static void apply_procs(struct attrib *a, bool on)
{
	if (!on) {
		procmap_free(a->procs);
		a->procs = NULL;
		return;
	}
	if (a->procs)
		return;
	if (procmap_new(&a->procs, "/proc") < 0) {
		log_warn("out of memory; records will have no pid or comm");
		return;
	}
	a->procs_own_only = !may_read_other_fds();
	if (a->procs_own_only)
		log_warn("[attribution] processes: without CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH "
		         "only the processes of uid %u are seen; sockets of other users' processes "
		         "get no pid or comm",
		         (unsigned)geteuid());
}

/* The cgroup map, made or freed as ON says; no cgroup2, said once. */
static void apply_cgroups(struct attrib *a, bool on)
{
	char root[PATH_MAX];
	int err;

	if (!on) {
		cgroup_map_free(a->cgroups);
		a->cgroups = NULL;
		return;
	}
	if (a->cgroups)
		return;
	err = cgroup_find_root(root, sizeof(root));
	if (err == 0)
		err = cgroup_map_new(&a->cgroups, root);
	if (err < 0)
		log_warn("no cgroup2 file system at " CGROUP_ROOT " (%s); records will have no "
		         "cgroup or unit",
		         strerror(-err));
}

void attrib_apply(struct attrib *a, const struct config *cfg)
{
	apply_procs(a, cfg->attrib_processes);
	apply_cgroups(a, cfg->attrib_cgroups);
}

void attrib_describe(const struct attrib *a, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s%s", a->cgroups ? "cgroups" : "",
	         a->cgroups && a->procs ? ", " : "", a->procs ? "processes" : "",
	         a->procs && a->procs_own_only ? " (own uid only)"
	         : !a->cgroups && !a->procs    ? "off"
	                                       : "");
}

void attrib_release(struct attrib *a)
{
	cgroup_map_free(a->cgroups);
	procmap_free(a->procs);
	*a = (struct attrib){0};
}

const struct sock_owner *attrib_owner(struct attrib *a, const struct sock *sk, struct sock_owner *o,
                                      char *unit, size_t unitlen, char comm[PROCMAP_COMM_MAX])
{
	uint64_t now_ms = util_mono_ns() / 1000000;

	*o = (struct sock_owner){0};
	if (a->procs && sk->kind == SOCK_KIND_FULL && sk->inode &&
	    procmap_lookup(a->procs, sk->inode, now_ms, &o->pid, comm) == 0)
		o->comm = comm;
	if (a->cgroups && sk->cgroup_id) {
		o->cgroup = cgroup_map_lookup(a->cgroups, sk->cgroup_id, now_ms);
		if (o->cgroup && cgroup_unit(o->cgroup, unit, unitlen) > 0)
			o->unit = unit;
	}
	return o->cgroup || o->pid ? o : NULL;
}
