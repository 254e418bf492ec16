/* incident.h - the daemon's health: each incident logged as it begins and ends; the status line. */
#ifndef TCPSTATED_INCIDENT_H
#define TCPSTATED_INCIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "hist.h"
#include "logfile.h"
#include "monitor.h"

/* One kind of failure that can last: under way from its first occurrence until it ends. */
struct incident {
	int err;        /* the error that began it (-errno, or 1); 0: none under way */
	uint64_t count; /* occurrences since it began */
};

/*
 * Notes N more occurrences of a failure with error ERR (non-zero). Returns
 * true when they begin an incident, which the caller then logs: once.
 */
bool incident_begin(struct incident *in, int err, uint64_t n);

/*
 * The failure is over. Returns true when an incident was under way, which
 * the caller then logs, once, with its *RET_COUNT occurrences (RET_COUNT may
 * be NULL); the incident is forgotten either way.
 */
bool incident_end(struct incident *in, uint64_t *ret_count);

/* The daemon's incidents, and the counts and timings its reports quote. Zeroed at start. */
struct incidents {
	struct incident dump;    /* socket dumps failing */
	struct incident write;   /* records not reaching the log file */
	struct incident logfile; /* a problem of the log file that outlasts a write */
	struct incident journal; /* records the journal did not take */
	struct incident overrun; /* destroy notifications lost */
	struct incident late;    /* polls skipped since the last warning about them */
	struct incident rescan;  /* searches for network namespaces failing */
	uint64_t journal_failed; /* the monitor's journal_failed at the last poll */
	uint64_t overruns;       /* the monitor's overruns already noted */
	uint64_t missed_total;   /* ticks missed since start */
	time_t late_warned;      /* when skipped polls were last reported */
	struct hist late_us;     /* µs from a tick's due time to its poll's start */
	struct hist took_us;     /* µs a ticked poll took, logging included */
};

/* After a poll that returned ERR (0 or -errno): failing dumps begin or end. */
void incident_report_dump(struct incidents *inc, int err);

/*
 * After a poll: the troubles of LOG, the transition log. Records that could
 * not be written, from the first failure until the loss record is in the
 * file (also sent to the journal when JOURNAL), or until a poll that DUMPED
 * wrote without losing any; and problems that outlast a write (a rotation,
 * a reopen, compression). ST is the monitor's.
 */
void incident_report_log(struct incidents *inc, struct logfile *log, const struct monitor_stats *st,
                         bool journal, bool dumped);

/* After a poll: records the journal did not take, until a poll that DUMPED
 * sent them all. LOG_PATH is where they still went. */
void incident_report_journal(struct incidents *inc, const struct monitor_stats *st,
                             const char *log_path, bool dumped);

/*
 * Destroy notifications were lost (a read found the receive buffer overrun):
 * logged once per incident; the caller resyncs with a full dump at once.
 */
void incident_note_overrun(struct incidents *inc, const struct monitor_stats *st);

/* After a poll, with notifications on: a new overrun is noted, a poll without
 * one ends the incident. */
void incident_report_overrun(struct incidents *inc, const struct monitor_stats *st);

/*
 * After a tick whose poll ran: MISSED ticks passed unserved before it. Polls
 * that overrun INTERVAL_MS come in bursts, so they are reported at most once
 * a minute, with how many were skipped since the last report.
 */
void incident_report_missed(struct incidents *inc, uint64_t missed, uint32_t interval_ms);

/* A poll on a tick due at DUE_NS started at START_NS (CLOCK_MONOTONIC), for
 * the timings the reports quote. */
void incident_poll_started(struct incidents *inc, uint64_t due_ns, uint64_t start_ns);

/* That poll ended at END_NS. */
void incident_poll_ended(struct incidents *inc, uint64_t start_ns, uint64_t end_ns);

/* "polls late p50/p99 0.041/0.210 ms, took p50/p99 1.120/1.870 ms" into BUF. */
void incident_format_timing(const struct incidents *inc, char *buf, size_t size);

/*
 * The status line for systemd into BUF: "tracking 12 sockets, 345 transitions
 * logged, 0 polls skipped, 0 dumps failed", then ", N records lost" when LOST
 * is not 0, ", N not sent to the journal" when the budget held back or the
 * journal refused any, the destroy events and their receive buffer when
 * EVENT_BUFFER (its size in bytes; 0: notifications off), and the timings.
 */
void incident_format_status(const struct incidents *inc, const struct monitor_stats *st,
                            uint64_t lost, uint64_t event_buffer, char *buf, size_t size);

/* The last word, at a clean stop: what was done and lost since start. With
 * many namespaces ([poll] netns a list or all; NAMESPACES watched at the end,
 * 0 otherwise), each namespace's polls count. */
void incident_log_stopped(const struct incidents *inc, const struct monitor_stats *st,
                          uint64_t lost, size_t namespaces);

#endif
