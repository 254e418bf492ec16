/*
 * exporter.c - the daemon's metrics textfile, for node_exporter.
 *
 * The counters are kept by metrics.c as the monitor writes records; here
 * they are written out, every [metrics] interval, on the polling thread
 * right after a poll: counting the socket table and writing a few KiB once
 * every few seconds costs less than keeping a thread in step with the
 * table. The daemon opens no socket for Prometheus: node_exporter, which
 * already serves the host's metrics, reads the file.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "exporter.h"
#include "log.h"
#include "metrics.h"
#include "metrics_file.h"
#include "util.h"

struct exporter {
	struct metrics *metrics;
	char path[PATH_MAX]; /* as configured */
	char file[PATH_MAX]; /* what is written: PATH, or where PATH links to */
	uint64_t interval_ns;
	uint64_t due_ns; /* the next write; 0: at the next poll */
	uint32_t units;  /* the metrics' per-unit cap */
	int error;       /* the failure being reported, 0: none */
};

/* Where CFG's file goes, into E; false after saying why it is off. */
static bool find_target(struct exporter *e, const struct config *cfg)
{
	int err = metrics_file_target(cfg->metrics_path, e->file);

	if (err == -ENOENT || err == -ENOTDIR) {
		log_info("metrics off: the directory of %s does not exist (is "
		         "prometheus-node-exporter installed?)",
		         cfg->metrics_path);
		return false;
	}
	if (err < 0) {
		log_warn("metrics off: cannot use %s: %s", cfg->metrics_path, strerror(-err));
		return false;
	}
	return true;
}

static void stop(struct exporter **e)
{
	exporter_free(*e);
	*e = NULL;
}

void exporter_apply(struct exporter **e, const struct config *cfg)
{
	struct exporter *x = *e;

	if (!cfg->metrics) {
		stop(e);
		return;
	}
	if (x && strcmp(x->path, cfg->metrics_path) == 0 && x->units == cfg->metrics_units &&
	    x->interval_ns == cfg->metrics_interval_s * 1000000000ULL)
		return;
	if (!x && !(x = calloc(1, sizeof(*x)))) {
		log_warn("metrics off: out of memory");
		return;
	}
	*e = x;
	if (!find_target(x, cfg)) {
		stop(e);
		return;
	}
	if (!x->metrics || x->units != cfg->metrics_units) {
		metrics_free(x->metrics);
		x->metrics = NULL;
		if (metrics_new(&x->metrics, cfg->metrics_units) < 0) {
			log_warn("metrics off: out of memory");
			stop(e);
			return;
		}
	}
	memcpy(x->path, cfg->metrics_path, sizeof(x->path));
	x->units = cfg->metrics_units;
	x->interval_ns = cfg->metrics_interval_s * 1000000000ULL;
	x->due_ns = 0;
	x->error = 0;
	log_info("metrics to %s every %u s", x->file, (unsigned)cfg->metrics_interval_s);
}

struct metrics *exporter_metrics(const struct exporter *e)
{
	return e ? e->metrics : NULL;
}

void exporter_note_poll(struct exporter *e, uint64_t usec, int write_error)
{
	if (!e)
		return;
	metrics_note_poll(e->metrics, usec);
	if (write_error)
		e->metrics->log_write_errors++;
}

/* metrics_unit_fn over the daemon's cgroup map. */
static const char *unit_of(const struct sock *sk, char *buf, size_t len, void *user)
{
	const char *cg;

	if (!sk->cgroup_id)
		return NULL;
	cg = cgroup_map_lookup(user, sk->cgroup_id, util_mono_ns() / 1000000);
	return cg && cgroup_unit(cg, buf, len) > 0 ? buf : NULL;
}

/* The health figures, from where the daemon keeps them. */
static void fill_health(struct metrics_health *h, const struct exporter_sources *src)
{
	const struct monitor_stats *st = nsset_stats(src->set);
	uint64_t records = st->transitions + st->summaries;

	*h = (struct metrics_health){
	    .polls = st->polls,
	    .polls_skipped = src->inc->missed_total,
	    .dumps_failed = st->dumps_failed,
	    .events = st->events,
	    .events_lost = st->events_lost,
	    /* Every record produced was written or lost, once the poll flushed. */
	    .records_written = records > src->records_lost ? records - src->records_lost : 0,
	    .records_lost = src->records_lost,
	    .journal_not_sent = st->journal_over + st->journal_failed,
	};
}

/* The per-namespace series, from the set; out of memory, they are left as they were. */
static void fill_netns(struct metrics *m, const struct exporter_sources *src)
{
	size_t n = nsset_count(src->set);
	struct metrics_netns *v = metrics_set_netns(m, n);

	if (!v)
		return;
	m->netns_interval_us = (uint64_t)nsset_spread(src->set) * src->interval_ms * 1000;
	for (size_t i = 0; i < n; i++) {
		struct nsset_view w;

		nsset_view(src->set, i, &w);
		v[i] = (struct metrics_netns){
		    .ino = w.tag ? w.tag->ino : 0, .sockets = w.sockets, .polls = w.polls};
		snprintf(v[i].name, sizeof(v[i].name), "%s", w.tag ? w.tag->name : "");
	}
}

void exporter_tick(struct exporter *e, const struct exporter_sources *src, uint64_t now_ns)
{
	int err;

	if (!e || now_ns < e->due_ns)
		return;
	e->due_ns = now_ns + e->interval_ns;
	metrics_clear_sockets(e->metrics);
	for (size_t i = 0; i < nsset_count(src->set); i++) {
		struct nsset_view v;

		nsset_view(src->set, i, &v);
		metrics_count_sockets(e->metrics, v.table, src->cgroups ? unit_of : NULL,
		                      src->cgroups);
	}
	fill_health(&e->metrics->health, src);
	if (src->many_netns)
		fill_netns(e->metrics, src);
	err = metrics_file_write(e->file, e->metrics, TCPSTATED_VERSION);
	if (err < 0 && !e->error)
		log_warn("cannot write metrics to %s: %s; retrying every %llu s", e->file,
		         strerror(-err), (unsigned long long)(e->interval_ns / 1000000000ULL));
	else if (err == 0 && e->error)
		log_info("writing metrics to %s again", e->file);
	e->error = err;
}

void exporter_free(struct exporter *e)
{
	if (!e)
		return;
	metrics_free(e->metrics);
	free(e);
}
