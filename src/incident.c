/*
 * incident.c - what the daemon says about its own health.
 *
 * A failure that lasts (dumps failing, a full disk, a journal that is gone,
 * a receive buffer overrun) happens on every poll until it ends, ten times a
 * second: each kind is an incident that incident_begin() and incident_end()
 * turn into one message as it begins and one as it ends, with what it cost.
 * The counts and timings go into the status line for systemd, at most once a
 * second, and into the last message at exit.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "incident.h"
#include "journal.h"
#include "log.h"
#include "record.h"

/* Seconds between two warnings about polls that overran their interval. */
#define LATE_WARN_INTERVAL 60

bool incident_begin(struct incident *in, int err, uint64_t n)
{
	in->count += n;
	if (in->err)
		return false;
	in->err = err;
	return true;
}

bool incident_end(struct incident *in, uint64_t *ret_count)
{
	bool was = in->err != 0;

	if (was && ret_count)
		*ret_count = in->count;
	*in = (struct incident){0};
	return was;
}

void incident_report_dump(struct incidents *inc, int err)
{
	uint64_t failed;

	if (err < 0 && incident_begin(&inc->dump, err, 1))
		log_warn("socket dump failed: %s; skipping this poll, retrying at the next",
		         strerror(-err));
	else if (err == 0 && incident_end(&inc->dump, &failed))
		log_info("socket dumps work again after %" PRIu64 " failed", failed);
}

/* The loss record is in LOG: the records lost, and when, also to the journal when JOURNAL. */
static void report_loss(struct logfile *log, const struct logfile_loss *loss, bool journal)
{
	char a[32], b[32];
	int err;

	record_format_time(a, sizeof(a), &loss->since);
	record_format_time(b, sizeof(b), &loss->until);
	log_info("writing %s again; %" PRIu64 " records were lost between %s and %s",
	         logfile_path(log), loss->lost, a, b);
	if (!journal)
		return;
	err = journal_send_loss(logfile_path(log), loss->lost, &loss->since, &loss->until);
	if (err < 0)
		log_warn("cannot send the loss entry to the journal: %s", strerror(-err));
}

void incident_report_log(struct incidents *inc, struct logfile *log, const struct monitor_stats *st,
                         bool journal, bool dumped)
{
	struct logfile_loss loss;
	const char *what;
	int err;

	if (logfile_take_loss(log, &loss)) {
		incident_end(&inc->write, NULL);
		report_loss(log, &loss, journal);
	} else if (st->write_error && incident_begin(&inc->write, st->write_error, 1)) {
		log_err("cannot write %s: %s; dropping records until it works again",
		        logfile_path(log), strerror(-st->write_error));
	} else if (!st->write_error && dumped && logfile_dropped(log) == 0 &&
	           incident_end(&inc->write, NULL)) {
		/* Failed without losing a record (nothing was due then). */
		log_info("writing %s again", logfile_path(log));
	}

	err = logfile_problem(log, &what);
	if (err == inc->logfile.err)
		return;
	/* Over, or another problem, which is another incident. */
	if (incident_end(&inc->logfile, NULL) && !err)
		log_info("%s: working again", logfile_path(log));
	if (err && incident_begin(&inc->logfile, err, 1))
		log_err("cannot %s (%s): %s; trying again every second", what, logfile_path(log),
		        strerror(-err));
}

void incident_report_journal(struct incidents *inc, const struct monitor_stats *st,
                             const char *log_path, bool dumped)
{
	uint64_t failed = st->journal_failed - inc->journal_failed, missed;

	inc->journal_failed = st->journal_failed;
	if (st->journal_error && incident_begin(&inc->journal, st->journal_error, failed))
		log_err("cannot send records to the journal: %s; still writing them to %s",
		        strerror(-st->journal_error), log_path);
	else if (!st->journal_error && dumped && incident_end(&inc->journal, &missed))
		log_info("sending records to the journal again; it missed %" PRIu64, missed);
}

/*
 * A connection whose notification was lost is then reported by the diff if a
 * poll had seen it, and missed if none had; the count says how many.
 */
void incident_note_overrun(struct incidents *inc, const struct monitor_stats *st)
{
	if (st->overruns == inc->overruns)
		return;
	if (incident_begin(&inc->overrun, -ENOBUFS, st->overruns - inc->overruns))
		log_warn("destroy notifications lost (receive buffer overrun, %" PRIu64
		         " lost since start); resynchronising with a full dump",
		         st->events_lost);
	inc->overruns = st->overruns;
}

void incident_report_overrun(struct incidents *inc, const struct monitor_stats *st)
{
	if (st->overruns != inc->overruns)
		incident_note_overrun(inc, st);
	else if (incident_end(&inc->overrun, NULL))
		log_info("destroy notifications flow again; %" PRIu64 " lost since start",
		         st->events_lost);
}

/*
 * The incident here is the polls skipped since the last warning: it ends, and
 * is logged, at the first tick a minute or more after that warning.
 */
void incident_report_missed(struct incidents *inc, uint64_t missed, uint32_t interval_ms)
{
	time_t now = time(NULL);
	char timing[128];
	uint64_t skipped;

	inc->missed_total += missed;
	if (missed)
		incident_begin(&inc->late, 1, missed);
	if (now - inc->late_warned < LATE_WARN_INTERVAL || !incident_end(&inc->late, &skipped))
		return;
	incident_format_timing(inc, timing, sizeof(timing));
	log_warn("polls overran the %" PRIu32 " ms interval: %" PRIu64
	         " polls skipped in the last %d s; %s",
	         interval_ms, skipped, LATE_WARN_INTERVAL, timing);
	inc->late_warned = now;
}

void incident_poll_started(struct incidents *inc, uint64_t due_ns, uint64_t start_ns)
{
	hist_add(&inc->late_us, start_ns > due_ns ? (start_ns - due_ns) / 1000 : 0);
}

void incident_poll_ended(struct incidents *inc, uint64_t start_ns, uint64_t end_ns)
{
	hist_add(&inc->took_us, (end_ns - start_ns) / 1000);
}

void incident_format_timing(const struct incidents *inc, char *buf, size_t size)
{
	snprintf(buf, size, "polls late p50/p99 %.3f/%.3f ms, took p50/p99 %.3f/%.3f ms",
	         (double)hist_quantile(&inc->late_us, 0.5) / 1000,
	         (double)hist_quantile(&inc->late_us, 0.99) / 1000,
	         (double)hist_quantile(&inc->took_us, 0.5) / 1000,
	         (double)hist_quantile(&inc->took_us, 0.99) / 1000);
}

void incident_format_status(const struct incidents *inc, const struct monitor_stats *st,
                            uint64_t lost, uint64_t event_buffer, char *buf, size_t size)
{
	char timing[128];
	int n;

	incident_format_timing(inc, timing, sizeof(timing));
	n = snprintf(buf, size,
	             "tracking %zu sockets, %" PRIu64 " transitions logged, %" PRIu64
	             " polls skipped, %" PRIu64 " dumps failed",
	             st->sockets, st->transitions, inc->missed_total, st->dumps_failed);
	if (n > 0 && (size_t)n < size && lost)
		n += snprintf(buf + n, size - (size_t)n, ", %" PRIu64 " records lost", lost);
	if (n > 0 && (size_t)n < size && st->journal_over + st->journal_failed)
		n += snprintf(buf + n, size - (size_t)n, ", %" PRIu64 " not sent to the journal",
		              st->journal_over + st->journal_failed);
	if (n > 0 && (size_t)n < size && event_buffer)
		n += snprintf(buf + n, size - (size_t)n,
		              ", %" PRIu64 " destroy events, %" PRIu64 " destroy events lost "
		              "(buffer %" PRIu64 " KiB)",
		              st->events, st->events_lost, event_buffer / 1024);
	if (n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, "; %s", timing);
}

void incident_log_stopped(const struct incidents *inc, const struct monitor_stats *st,
                          uint64_t lost, size_t namespaces)
{
	char timing[128], many[96] = "";

	incident_format_timing(inc, timing, sizeof(timing));
	if (namespaces)
		snprintf(many, sizeof(many),
		         " (each namespace's, %zu namespace%s watched at the end)", namespaces,
		         namespaces == 1 ? "" : "s");
	log_info("stopped after %" PRIu64 " polls%s: %" PRIu64 " transitions logged, %" PRIu64
	         " summaries, %" PRIu64 " records lost, %" PRIu64 " dumps failed, %" PRIu64
	         " polls skipped, %" PRIu64 " destroy events, %" PRIu64
	         " destroy events lost, %" PRIu64 " not sent to the journal; %s",
	         st->polls, many, st->transitions, st->summaries, lost, st->dumps_failed,
	         inc->missed_total, st->events, st->events_lost,
	         st->journal_over + st->journal_failed, timing);
}
