/* monitor.h - one poll, from the netlink sockets to the log. */
#ifndef TCPSTATED_MONITOR_H
#define TCPSTATED_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "filter.h"
#include "logfile.h"
#include "record.h"

struct monitor;

struct monitor_stats {
	uint64_t polls;          /* dumps diffed */
	uint64_t dumps_failed;   /* dumps that failed and were not diffed */
	uint64_t transitions;    /* records produced */
	size_t sockets;          /* sockets in the latest dump */
	int write_error;         /* -errno of this poll's failed log write, or 0 */
	uint64_t journal_failed; /* records the journal did not take */
	uint64_t journal_over;   /* records over the journal's budget, not sent to it */
	int journal_error;       /* -errno of this poll's first failed journal send, or 0 */
	uint64_t summaries;      /* connection summaries written */
	uint64_t events;         /* destroy notifications read */
	uint64_t events_lost;    /* notifications the kernel dropped or the queue refused */
	uint64_t overruns;       /* reads that found notifications dropped */
};

/* Destroy notifications queued between two polls, at most (a resource
 * limit: beyond it they count as lost, and the next poll resyncs). */
#define MONITOR_EVENTS_MAX (1u << 20)

/*
 * Creates a monitor that dumps through DIAG and writes records in FMT to LOG.
 * Both stay owned by the caller and must outlive the monitor.
 * Returns 0 and *ret, or -ENOMEM.
 */
int monitor_new(struct monitor **ret, struct diag *diag, struct logfile *log,
                enum record_format fmt);

/* Frees M. Accepts NULL. */
void monitor_free(struct monitor *m);

/* Switches the record format for later records. */
void monitor_set_format(struct monitor *m, enum record_format fmt);

/* Also sends every later record to the journal through J (owned by the
 * caller, within its budget), or stops doing so (NULL). */
struct journal;
void monitor_set_journal(struct monitor *m, struct journal *j);

/* Writes later records only for transitions F lets through (its states and
 * the socket's first-seen tuple); the dump's own filter is DIAG's. */
void monitor_set_filter(struct monitor *m, const struct filter *f);

/* Adds the cgroup and unit of each socket (INET_DIAG_CGROUP_ID) to later
 * records, resolved through CGROUPS, which the caller owns; NULL stops it. */
struct cgroup_map;
void monitor_set_cgroups(struct monitor *m, struct cgroup_map *cgroups);

/* Adds the pid and comm of the process holding each socket to later records,
 * found through PROCS, which the caller owns; NULL stops it. */
struct procmap;
void monitor_set_procs(struct monitor *m, struct procmap *procs);

/* Writes later records to LOG, which the caller owns; the monitor holds no
 * queued records between polls, so the old log can be closed right after. */
void monitor_set_log(struct monitor *m, struct logfile *log);

/* Counts every later record written in METRICS (metrics.c), which the
 * caller owns; NULL stops it. */
struct metrics;
void monitor_set_metrics(struct monitor *m, struct metrics *metrics);

/* Says on every later record that it happened in the network namespace NS
 * (owned by the caller, outliving the monitor), or nothing (NULL). */
struct transition_netns;
void monitor_set_netns(struct monitor *m, const struct transition_netns *ns);

/* The socket table of the last poll (tracker_table()), valid until the next. */
struct snapshot;
struct snapshot *monitor_table(struct monitor *m);

/*
 * Reads the queued destroy notifications, takes one snapshot and writes a
 * record for every transition since the previous one (the first snapshot's
 * sockets as "initial"), joined with the notifications (reconcile.c), with a
 * summary for every connection whose socket was destroyed, all in time
 * order; then flushes the log. Returns 0, or the -errno of a dump that failed, in which case
 * nothing was diffed and the next poll compares against the last good snapshot. A log write that
 * fails does not stop the poll: its records are counted in logfile_dropped() and the error is in
 * monitor_stats()->write_error; a journal send that fails is counted likewise (journal_failed,
 * journal_error).
 */
int monitor_poll(struct monitor *m);

/*
 * Writes a record for every socket the monitor knows, moving to NONE
 * because its namespace vanished (TRANSITION_HOW_NETNS), then flushes the
 * log. Returns the number of records, or -errno (-ENOMEM).
 */
int monitor_end(struct monitor *m);

/*
 * Joins later polls with the destroy notifications of EV (owned by the
 * caller, outliving the monitor), or stops doing so (NULL).
 */
void monitor_set_events(struct monitor *m, struct diag_events *ev);

/*
 * Reads every queued destroy notification; they are joined with the next
 * poll. Returns 0, -ENOBUFS when notifications were lost (counted in
 * events_lost): the caller should poll at once, so that the sockets they were
 * about are settled by the dump. Other -errno from the socket.
 */
int monitor_read_events(struct monitor *m);

/* Counters since monitor_new(). */
const struct monitor_stats *monitor_stats(const struct monitor *m);

#endif
