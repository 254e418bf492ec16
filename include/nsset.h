/* nsset.h - the network namespaces watched: one monitor each, polled on a shared schedule. */
#ifndef TCPSTATED_NSSET_H
#define TCPSTATED_NSSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "filter.h"
#include "monitor.h"
#include "record.h"

struct cgroup_map;
struct diag;
struct journal;
struct logfile;
struct loop;
struct metrics;
struct nsscan;
struct nsscan_ns;
struct nsset;
struct procmap;
struct transition_netns;

/* What every watched namespace's monitor writes with, now and when it is
 * added later. Pointers are owned by the daemon. */
struct nsset_settings {
	struct logfile *log;
	enum record_format fmt;
	struct journal *journal;    /* NULL: none */
	struct cgroup_map *cgroups; /* NULL: no cgroup attribution */
	struct procmap *procs;      /* NULL: no process attribution */
	struct metrics *metrics;    /* NULL: no metrics */
	struct filter filter;
};

/* How the namespaces' polls share the ticks (docs/performance.md). */
struct nsset_schedule {
	uint32_t interval_ms; /* the tick */
	uint32_t budget_pct;  /* of one CPU, for all polls; 0 = none */
};

/*
 * Creates an empty set whose notification sockets LOOP watches (owned by the
 * caller, outliving the set); nsset_apply() gives it its settings before the
 * first namespace. EVENT_BUFFER is the receive buffer asked for each
 * notification socket; 0 opens none (polling alone). Returns 0 and *ret, or
 * -ENOMEM.
 */
int nsset_new(struct nsset **ret, struct loop *loop, int event_buffer);

/* Ends nothing, writes nothing: closes every socket and frees S. Accepts NULL. */
void nsset_free(struct nsset *s);

/*
 * Watches the namespace the caller is in through DIAG (owned by the caller),
 * its records saying TAG (NULL: they do not say; owned by the caller). The
 * one namespace of a daemon started without `[poll] netns = all`. Returns 0
 * or -errno; a notification socket that cannot be opened only leaves it
 * polling alone, said through nsset_events_problem().
 */
int nsset_add_here(struct nsset *s, struct diag *diag, const struct transition_netns *tag);

/*
 * Makes the watched set FOUND (N namespaces, sorted by inode, from
 * nsscan_run() of SCAN): a namespace new to the set is entered, its sockets
 * opened and polled at the next tick; one that two updates in a row did not
 * find, or that SCAN found but no longer matches (a reload changed the list),
 * is polled a last time and its sockets still known are ended
 * (monitor_end()). Says what it does
 * (log.h). Never fails: a namespace that cannot be entered is said once and
 * tried again at the next rescan.
 */
void nsset_update(struct nsset *s, const struct nsscan_ns *found, size_t n,
                  const struct nsscan *scan);

/* Applies SETTINGS to every monitor and remembers them for later ones;
 * the filter goes to each kernel socket too. Returns 0, or the first
 * -errno of a filter the kernel refused. */
int nsset_apply(struct nsset *s, const struct nsset_settings *settings);

/* Sets how polls share the ticks. */
void nsset_set_schedule(struct nsset *s, const struct nsset_schedule *sched);

/*
 * On a TICK, polls every namespace due at it (all of them, unless the budget
 * spreads them over several ticks); in any case, those whose notifications
 * overran. Returns 0, or the -errno of the first dump that failed.
 */
int nsset_poll(struct nsset *s, bool tick);

/*
 * The notification socket FD is readable: reads it. Returns 0, -ENOBUFS
 * when notifications were lost (that namespace is due at the next
 * nsset_poll(), which the caller should call at once), -ENOENT for an FD
 * that is no longer watched, or -errno of a read that failed (that
 * namespace then polls alone).
 */
int nsset_read_events(struct nsset *s, int fd);

/* The counters of every monitor since the start, summed, including those of
 * namespaces no longer watched; write_error and journal_error are the latest
 * poll's first. Valid until the next call. */
const struct monitor_stats *nsset_stats(struct nsset *s);

/* Namespaces watched, and how many of them have notifications; namespaces
 * found that could not be entered. */
size_t nsset_count(const struct nsset *s);
size_t nsset_refused(const struct nsset *s);
size_t nsset_with_events(const struct nsset *s);

/* The receive buffer granted to the notification sockets (the smallest), 0 without. */
uint64_t nsset_event_buffer(const struct nsset *s);

/* The ticks between two polls of each namespace: 1 unless the budget spreads them. */
uint32_t nsset_spread(const struct nsset *s);

/* The largest spread: even a host whose rounds cost 100 times the budget
 * polls each namespace every 100 ticks, not never. */
#define NSSET_SPREAD_MAX 100

/*
 * The spread after a round of polls that cost ROUND_NS of CPU, against
 * BUDGET_NS a tick (0: none), from SPREAD: grows as soon as the round is
 * over the budget, shrinks only once it fits in 80 % of it, so that a cost
 * near the line does not flip it at every tick. Pure, for the tests.
 */
uint32_t nsset_spread_next(uint32_t spread, uint64_t round_ns, uint64_t budget_ns);

/* The I-th watched namespace (I < nsset_count()): its tag (NULL when records do
 * not say), its table and its polls so far. */
struct nsset_view {
	const struct transition_netns *tag;
	struct snapshot *table;
	uint64_t polls;
	uint64_t sockets;
};
void nsset_view(struct nsset *s, size_t i, struct nsset_view *ret);

#endif
