/* exporter.h - the daemon's metrics textfile: on or off as configured, written every interval. */
#ifndef TCPSTATED_EXPORTER_H
#define TCPSTATED_EXPORTER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "incident.h"
#include "monitor.h"
#include "nsset.h"

struct cgroup_map;
struct exporter;

/* What a write of the file reads its figures from; all owned by the daemon. */
struct exporter_sources {
	struct nsset *set; /* the namespaces' tables and counters */
	bool many_netns;   /* [poll] netns = all or a list: a series per namespace */
	uint32_t interval_ms;
	const struct incidents *inc;
	uint64_t records_lost;      /* in every log file since start */
	struct cgroup_map *cgroups; /* NULL: no per-unit socket counts */
};

/*
 * Turns the textfile on, off or to other settings as CFG's [metrics] says
 * (at start, *E NULL, and on reload). The counters survive a reload unless
 * [metrics] units changed: the monitors must then be given
 * exporter_metrics() again. When the file's directory does not exist, says
 * so once and stays off (*E NULL). Never fails: out of memory, it logs and
 * stays off.
 */
void exporter_apply(struct exporter **e, const struct config *cfg);

/* The counters the monitors keep for E's file; NULL for none (E NULL). */
struct metrics *exporter_metrics(const struct exporter *e);

/* A ticked poll took USEC µs and its log write failed when WRITE_ERROR. */
void exporter_note_poll(struct exporter *e, uint64_t usec, int write_error);

/* After a poll at NOW_NS (CLOCK_MONOTONIC): writes the file when it is due,
 * from SRC. A write that fails is logged once until one works. */
void exporter_tick(struct exporter *e, const struct exporter_sources *src, uint64_t now_ns);

/* Frees E. Accepts NULL. The last file stays for node_exporter. */
void exporter_free(struct exporter *e);

#endif
