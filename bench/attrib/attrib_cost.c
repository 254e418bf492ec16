/*
 * attrib_cost.c - what attribution and filters cost, measured in the
 * current network and pid namespaces (run by attrib_cost.py, which fills
 * them with processes and sockets).
 *
 * Prints, as "name value" lines: the median time of a full /proc scan
 * (process attribution, procmap_scan()) with the processes and socket
 * descriptors it read; a walk of the cgroup tree (or of the directory tree
 * given as the second argument); and the median time of a socket dump
 * without a filter and with a [filter] that matches one port.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgroup.h"
#include "diag.h"
#include "filter.h"
#include "procmap.h"

#define RUNS 21

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v)
{
	qsort(v, RUNS, sizeof(*v), cmp);
	return v[RUNS / 2];
}

static int count_cb(const struct sock *sk, void *user)
{
	(void)sk;
	(*(size_t *)user)++;
	return 0;
}

static void dump_cost(const char *name, const struct filter *f)
{
	static char bc[FILTER_BC_MAX];
	struct diag *d;
	uint64_t t[RUNS];
	size_t n = 0;
	int len = filter_bytecode(f, bc, sizeof(bc));

	if (len < 0 || diag_new(&d) < 0 || diag_set_filter(d, bc, (size_t)len) < 0) {
		fprintf(stderr, "cannot set up the dump\n");
		exit(1);
	}
	for (int i = 0; i < RUNS; i++) {
		uint64_t t0 = now_us();

		n = 0;
		if (diag_dump(d, count_cb, &n) < 0) {
			fprintf(stderr, "dump failed\n");
			exit(1);
		}
		t[i] = now_us() - t0;
	}
	printf("dump_%s_us %llu\ndump_%s_sockets %zu\n", name, (unsigned long long)median(t), name,
	       n);
	diag_free(d);
}

int main(int argc, char **argv)
{
	struct procmap *pm;
	struct cgroup_map *cg;
	struct filter f = {0};
	uint64_t t[RUNS];
	char root[4096], why[128];
	const char *port = argc > 1 ? argv[1] : "1";

	if (procmap_new(&pm, "/proc") < 0)
		return 1;
	for (int i = 0; i < RUNS; i++) {
		if (procmap_scan(pm) < 0)
			return 1;
		t[i] = procmap_stats(pm)->last_us;
	}
	printf("proc_scan_us %llu\nproc_scan_procs %zu\nproc_scan_sockets %zu\n",
	       (unsigned long long)median(t), procmap_stats(pm)->last_procs,
	       procmap_stats(pm)->last_sockets);
	procmap_free(pm);

	/* A second argument: a directory tree to walk instead of cgroup2. */
	if (argc > 2)
		snprintf(root, sizeof(root), "%s", argv[2]);
	if ((argc > 2 || cgroup_find_root(root, sizeof(root)) == 0) &&
	    cgroup_map_new(&cg, root) == 0) {
		for (int i = 0; i < RUNS; i++) {
			uint64_t t0 = now_us();

			/* An id no walk finds, CGROUP_RESCAN_MS apart: one walk each. */
			(void)cgroup_map_lookup(cg, 1, (uint64_t)(i + 1) * 10 * CGROUP_RESCAN_MS);
			t[i] = now_us() - t0;
		}
		printf("cgroup_walk_us %llu\n", (unsigned long long)median(t));
		cgroup_map_free(cg);
	}

	dump_cost("unfiltered", &f);
	if (filter_parse_ports(port, &f.ports, why, sizeof(why)) < 0) {
		fprintf(stderr, "%s\n", why);
		return 1;
	}
	dump_cost("filtered", &f);
	return 0;
}
