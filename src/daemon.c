/*
 * daemon.c - the daemon's life: start, the loop's events, reload, stop.
 *
 * Everything here runs on the polling thread, between two events of the
 * loop. What goes wrong is said through incident.c, once per incident;
 * start-up failures exit with the status README.md lists.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "attrib.h"
#include "daemon.h"
#include "exporter.h"
#include "journal.h"
#include "log.h"
#include "loop.h"
#include "monitor.h"
#include "nsscan.h"
#include "nsset.h"
#include "sdnotify.h"
#include "util.h"

/* Why the log file PATH could not be opened (ERR, -errno), for a message. */
static const char *log_open_problem(int err, const char *path)
{
	static char busy[64];
	int pid;

	if (err == -EBUSY) {
		pid = logfile_holder(path);
		if (pid <= 0)
			return "in use by another process";
		snprintf(busy, sizeof(busy), "in use by pid %d", pid);
		return busy;
	}
	return err == -ELOOP    ? "it is a symbolic link, which tcpstated does not follow"
	       : err == -EINVAL ? "not a regular file"
	                        : strerror(-err);
}

/*
 * Whether the log file at PATH holds records of another format than FMT, by
 * its first byte: a JSON record starts with '{', a text one with a digit.
 * Standard output, and a file that is empty or cannot be read, hold none.
 */
static bool holds_other_format(const char *path, enum record_format fmt)
{
	char c;
	ssize_t n;
	int fd;

	if (strcmp(path, "-") == 0)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return false;
	n = read(fd, &c, 1);
	close(fd);
	return n == 1 && (c == '{') != (fmt == RECORD_JSON);
}

/*
 * A log file holds records of one format, or jq and grep could not read it:
 * when LOG's file holds the other one (the format changed since it was
 * written), it is rotated away first, as max_size would, and a new file is
 * started. Returns 0, or -errno when the rotation failed.
 */
static int start_format(struct logfile *log, enum record_format fmt)
{
	int err;

	if (!holds_other_format(logfile_path(log), fmt))
		return 0;
	err = logfile_rotate(log);
	if (err == 0)
		log_info("%s held records of another format: rotated to %s.1, so that the new "
		         "file holds only %s records",
		         logfile_path(log), logfile_path(log), record_format_name(fmt));
	return err;
}

struct logfile *daemon_open_log(const struct config *cfg)
{
	struct logfile *log;
	int err = logfile_open(&log, cfg->log_path, &cfg->log);

	if (err == 0 && (err = start_format(log, cfg->log.format)) < 0)
		fatal(EX_CANTCREAT,
		      "cannot rotate log file %s, which holds records of another "
		      "format than %s: %s",
		      cfg->log_path, record_format_name(cfg->log.format), strerror(-err));
	if (err < 0)
		fatal(EX_CANTCREAT, "cannot open log file %s: %s", cfg->log_path,
		      log_open_problem(err, cfg->log_path));
	if (logfile_torn(log))
		log_warn("cut %" PRIu64 " bytes of a record torn by a crash off the end of %s",
		         logfile_torn(log), cfg->log_path);
	return log;
}

int daemon_apply_filter(struct diag *diag, const struct config *cfg)
{
	static char bc[FILTER_BC_MAX];
	int len = filter_bytecode(&cfg->filter, bc, sizeof(bc));

	if (len < 0)
		return len;
	len = diag_set_filter(diag, bc, (size_t)len);
	return len < 0 ? len : 0;
}

/* Gives every monitor what it writes with, from CFG and what D holds now.
 * Returns 0, or -errno of a filter the kernel refused. */
static int apply_settings(struct daemon *d, const struct config *cfg)
{
	const struct nsset_settings set = {
	    .log = d->log,
	    .fmt = cfg->log.format,
	    .journal = d->journal,
	    .cgroups = d->attrib.cgroups,
	    .procs = d->attrib.procs,
	    .metrics = exporter_metrics(d->exporter),
	    .filter = cfg->filter,
	};

	return nsset_apply(d->set, &set);
}

/* Records lost to write errors since start, in every log file. */
static uint64_t records_lost(const struct daemon *d)
{
	return d->lost_before + logfile_dropped(d->log);
}

/* The status line for systemd. */
static void format_status(const struct daemon *d, char *buf, size_t size)
{
	size_t n;

	incident_format_status(&d->inc, nsset_stats(d->set), records_lost(d),
	                       nsset_event_buffer(d->set), buf, size);
	n = strlen(buf);
	if (d->scan && n < size)
		n += (size_t)snprintf(buf + n, size - n,
		                      ", %zu network namespace%s, each polled every %" PRIu32 " ms",
		                      nsset_count(d->set), nsset_count(d->set) == 1 ? "" : "s",
		                      nsset_spread(d->set) * d->cfg.interval_ms);
	if (d->scan && n < size && nsset_refused(d->set))
		snprintf(buf + n, size - n, ", %zu not entered (see the log)",
		         nsset_refused(d->set));
}

/*
 * The "not sent" entry, when one is due (ALL: whatever was held back, at a
 * stop or when the journal is turned off). One that cannot be sent is tried
 * again at the next poll; the journal's failure is an incident of its own.
 */
static void report_not_sent(struct daemon *d, bool all)
{
	if (d->journal)
		(void)journal_report(d->journal, logfile_path(d->log), all);
}

/* The polls of a TICK (or, without, of the namespaces whose notifications
 * overran), then what they changed: the incidents, the watchdog, systemd's
 * status. */
static void poll_once(struct daemon *d, bool tick)
{
	int err = nsset_poll(d->set, tick);
	const struct monitor_stats *st = nsset_stats(d->set);
	char status[SDNOTIFY_STATUS_MAX];

	if (nsset_with_events(d->set))
		incident_report_overrun(&d->inc, st);
	incident_report_dump(&d->inc, err);
	incident_report_log(&d->inc, d->log, st, d->journal, err == 0);
	incident_report_journal(&d->inc, st, logfile_path(d->log), err == 0);
	report_not_sent(d, false);

	/*
	 * The watchdog is fed only here, after a poll returned, so a poll that
	 * hangs (in the dump, or writing the log) lets it fire. A failed dump
	 * still counts as a live loop: it is logged and retried.
	 */
	sdnotify_watchdog();
	if (!d->ready && (st->polls > 0 || nsset_count(d->set) == 0)) {
		/* The log is open and the first snapshot is in the table (or
		 * no namespace is there to take one of yet). */
		format_status(d, status, sizeof(status));
		err = sdnotify_ready(status);
		if (err < 0)
			log_warn("cannot notify systemd: %s", strerror(-err));
		d->ready = true;
	} else if (d->ready && sdnotify_status_due()) {
		/* Formatted only when it can be sent: once a second at most. */
		format_status(d, status, sizeof(status));
		sdnotify_status(status);
	}
}

/*
 * With [poll] netns = all, when a search is due: the namespaces found now
 * become the ones watched (nsset_update()). A search that fails keeps the
 * set as it is.
 */
static void rescan(struct daemon *d, uint64_t now)
{
	const struct nsscan_ns *found;
	size_t n, unreadable;
	int err;

	if (!d->scan || now < d->rescan_due_ns)
		return;
	d->rescan_due_ns = now + (uint64_t)d->cfg.netns_rescan_ms * 1000000ULL;
	err = nsscan_run(d->scan, &found, &n);
	if (err < 0) {
		if (incident_begin(&d->inc.rescan, err, 1))
			log_err("cannot search for network namespaces: %s; watching the %zu found "
			        "before",
			        strerror(-err), nsset_count(d->set));
		return;
	}
	if (incident_end(&d->inc.rescan, NULL))
		log_info("searching for network namespaces works again");
	nsset_update(d->set, found, n, d->scan);
	unreadable = nsscan_stats(d->scan)->unreadable;
	if (unreadable && !d->unreadable_said) {
		d->unreadable_said = true;
		log_warn("the network namespace of %zu process%s cannot be read (another "
		         "user's takes CAP_SYS_PTRACE: see the drop-in netns.conf in "
		         "docs/systemd.md; one of a parent user namespace cannot be read at all); "
		         "a namespace that only such processes hold is not watched",
		         unreadable, unreadable == 1 ? "" : "es");
	}
}

/* [poll] netns changed from one list to another SPEC on a reload: the
 * namespaces SPEC finds, at once. Returns false, having said why, when
 * nsscan refuses SPEC: the old one is kept. */
static bool rescan_with(struct daemon *d, const char *spec)
{
	struct nsscan *scan;
	char err[CONFIG_ERR_MAX];

	if (nsscan_new(&scan, spec, err, sizeof(err)) < 0) {
		log_err("[poll] netns: %s; keeping %s", err, d->cfg.netns);
		return false;
	}
	nsscan_free(d->scan);
	d->scan = scan;
	d->rescan_due_ns = 0;
	rescan(d, util_mono_ns());
	return true;
}

/*
 * A poll on a tick: how late it started after the tick was due (the loop's
 * own delay, and the previous poll running over) and how long it took. The
 * poll first, so that a warning about skipped polls includes its timing.
 */
static void poll_on_tick(struct daemon *d, const struct loop_event *ev)
{
	uint64_t start = util_mono_ns(), end;

	rescan(d, start);
	start = util_mono_ns();
	incident_poll_started(&d->inc, ev->due_ns, start);
	poll_once(d, true);
	end = util_mono_ns();
	incident_poll_ended(&d->inc, start, end);
	incident_report_missed(&d->inc, ev->missed, d->cfg.interval_ms);
	exporter_note_poll(d->exporter, (end - start) / 1000, nsset_stats(d->set)->write_error);
	exporter_tick(d->exporter,
	              &(struct exporter_sources){.set = d->set,
	                                         .many_netns = d->scan != NULL,
	                                         .interval_ms = d->cfg.interval_ms,
	                                         .inc = &d->inc,
	                                         .records_lost = records_lost(d),
	                                         .cgroups = d->attrib.cgroups},
	              end);
}

/* Tells systemd's watchdog about INTERVAL_MS; logs, never fails. */
static void fit_watchdog(uint32_t interval_ms)
{
	uint64_t usec;
	int err = sdnotify_watchdog_fit(interval_ms, &usec);

	if (err < 0)
		log_warn("cannot change the watchdog interval: %s", strerror(-err));
}

/*
 * "WHAT SOURCE: polling every ...": the settings in force, at start and after
 * a reload, as they are rather than as asked for (a journal that is not
 * there is off, attribution that cannot be had is not named). Under systemd
 * it is a journal entry of its own, with its MESSAGE_ID and the settings as
 * fields; elsewhere a line on standard error.
 */
static void log_settings(const struct daemon *d, const char *what)
{
	char events[64] = "off", journal_budget[80], filter[256], attrib[64];
	char netns[PATH_MAX + 160] = "";
	char msg[2 * PATH_MAX + 800];

	if (nsset_with_events(d->set) && d->cfg.event_batch_ms > 0)
		snprintf(events, sizeof(events),
		         "on (read in batches, at most %" PRIu32 " ms late)",
		         d->cfg.event_batch_ms);
	else if (nsset_with_events(d->set))
		snprintf(events, sizeof(events), "on (read as they come)");
	snprintf(journal_budget, sizeof(journal_budget),
	         "on (at most %" PRIu32 " entries a second, %" PRIu32 " at once)",
	         d->cfg.journal_rate, d->cfg.journal_burst);
	filter_describe(&d->cfg.filter, filter, sizeof(filter));
	attrib_describe(&d->attrib, attrib, sizeof(attrib));
	if (d->scan)
		snprintf(netns, sizeof(netns),
		         " network namespaces %s (%zu now, searched every %" PRIu32
		         " ms, polls within %" PRIu32 " %% of a CPU%s),",
		         d->cfg.netns, nsset_count(d->set), d->cfg.netns_rescan_ms,
		         d->cfg.netns_budget, d->cfg.netns_budget ? "" : ": no limit");
	else if (d->here.name)
		snprintf(netns, sizeof(netns), " network namespace %s,", d->here.name);
	snprintf(msg, sizeof(msg),
	         "%s %s:%s polling every %" PRIu32 " ms, %s records to %s, journal %s, "
	         "destroy events %s, filter %s, attribution %s",
	         what, d->source, netns, d->cfg.interval_ms, record_format_name(d->cfg.log.format),
	         d->cfg.log_path,
	         d->journal       ? journal_budget
	         : d->cfg.journal ? "off (no journald)"
	                          : "off",
	         events, filter, attrib);
	if (!log_to_journal() ||
	    journal_send_settings(strcmp(what, "reloaded") == 0, msg, &d->cfg, d->source) < 0)
		log_info("%s", msg);
}

/*
 * Sends records to the journal as CFG says, within its budget. Where there
 * is no journal (a run outside systemd), says so once and goes on without
 * it. Never fails.
 */
static void apply_journal(struct daemon *d, const struct config *cfg)
{
	bool absent = cfg->journal && !journal_available();

	if (absent && !d->journal_absent_said)
		log_info("no journal on this host (no " JOURNAL_SOCKET_PATH
		         "); records go to %s only",
		         cfg->log_path);
	d->journal_absent_said |= absent;
	if (!cfg->journal || absent) {
		report_not_sent(d, true);
		journal_free(d->journal);
		d->journal = NULL;
	} else if (d->journal) {
		journal_set_budget(d->journal, cfg->journal_rate, cfg->journal_burst);
	} else if (journal_new(&d->journal, cfg->journal_rate, cfg->journal_burst) < 0) {
		log_warn("out of memory; records go to %s only", cfg->log_path);
	}
}

/* Of a reloaded CFG, what applies only at the next start: the running values are kept. */
static void keep_start_only(const struct daemon *d, struct config *cfg)
{
	if (strcmp(cfg->netns, d->cfg.netns) != 0 && d->scan && nsscan_is_dynamic(cfg->netns)) {
		/* From one list to another: reload_apply() searches again. */
	} else if (strcmp(cfg->netns, d->cfg.netns) != 0) {
		log_warn("[poll] netns changed to \"%s\"; a namespace is entered only at "
		         "start, so this applies at the next start",
		         cfg->netns);
		memcpy(cfg->netns, d->cfg.netns, sizeof(cfg->netns));
	}
	if ((cfg->netns_rescan_ms != d->cfg.netns_rescan_ms ||
	     cfg->netns_budget != d->cfg.netns_budget) &&
	    !d->scan)
		log_warn(
		    "[poll] netns_rescan_ms and netns_budget apply only with [poll] netns = all "
		    "or a list of namespaces");
	if (cfg->destroy_events != d->cfg.destroy_events ||
	    cfg->event_buffer != d->cfg.event_buffer)
		log_warn("[poll] destroy_events and event_buffer take effect at the next "
		         "start; keeping the running ones");
	cfg->destroy_events = d->cfg.destroy_events;
	cfg->event_buffer = d->cfg.event_buffer;
}

/*
 * Applies a reloaded CFG from SOURCE, and NEWLOG when its log path changed
 * (NULL: the same file, with CFG's options). What cannot be changed keeps
 * its running value in CFG, which then becomes the running configuration.
 */
static void reload_apply(struct daemon *d, struct config *cfg, const char *source,
                         struct logfile *newlog)
{
	struct logfile *old = NULL;
	int r;

	keep_start_only(d, cfg);
	if (strcmp(cfg->netns, d->cfg.netns) != 0 && !rescan_with(d, cfg->netns))
		memcpy(cfg->netns, d->cfg.netns, sizeof(cfg->netns));
	if (cfg->interval_ms != d->cfg.interval_ms) {
		r = loop_set_interval(d->loop, cfg->interval_ms);
		if (r < 0) {
			log_err("cannot change the poll interval: %s; keeping %" PRIu32 " ms",
			        strerror(-r), d->cfg.interval_ms);
			cfg->interval_ms = d->cfg.interval_ms;
		}
		fit_watchdog(cfg->interval_ms);
	}
	loop_set_batch(d->loop, cfg->event_batch_ms);
	if (!newlog && (r = start_format(d->log, cfg->log.format)) < 0) {
		log_err("cannot rotate %s to start a file of %s records: %s; keeping %s",
		        logfile_path(d->log), record_format_name(cfg->log.format), strerror(-r),
		        record_format_name(d->cfg.log.format));
		cfg->log.format = d->cfg.log.format;
	}
	apply_journal(d, cfg);
	attrib_apply(&d->attrib, cfg);
	exporter_apply(&d->exporter, cfg);
	if (newlog) {
		old = d->log;
		d->log = newlog;
	} else {
		logfile_set_options(d->log, &cfg->log);
	}
	r = apply_settings(d, cfg);
	if (r < 0) {
		log_err("cannot apply the new [filter]: %s; keeping the old one", strerror(-r));
		cfg->filter = d->cfg.filter;
		(void)apply_settings(d, cfg);
	}
	if (old) {
		/* The monitors write to the new file now: the old one can go. */
		d->lost_before += logfile_dropped(old);
		logfile_close(old);
		incident_end(&d->inc.write, NULL); /* the new file has lost nothing */
	}
	nsset_set_schedule(d->set, &(struct nsset_schedule){.interval_ms = cfg->interval_ms,
	                                                    .budget_pct = cfg->netns_budget});
	d->cfg = *cfg;
	d->source = source;
	log_settings(d, "reloaded");
}

/* SIGUSR1, and SIGHUP: the log file was renamed, by logrotate or by hand. */
static void reopen_log(struct daemon *d)
{
	int err = logfile_reopen(d->log);

	if (err < 0)
		log_err("cannot reopen %s: %s; still writing to the old file", logfile_path(d->log),
		        strerror(-err));
}

/* A reload's new log file, CFG's, in CFG's format from its first line on.
 * Returns 0 and *RET, or -errno. */
static int open_new_log(struct logfile **ret, const struct config *cfg)
{
	struct logfile *log;
	int err = logfile_open(&log, cfg->log_path, &cfg->log);

	if (err == 0 && (err = start_format(log, cfg->log.format)) < 0)
		logfile_close(log);
	if (err == 0)
		*ret = log;
	return err;
}

/*
 * SIGHUP: reads the configuration again and applies it. An invalid file, or a
 * new log path that cannot be opened, is reported and the running
 * configuration kept. The socket table lives in the monitor and is never
 * touched, and the records of the last poll were flushed when it ended, so
 * nothing is lost or reported twice. The log file is reopened in any case,
 * for logrotate's postrotate.
 */
static void reload(struct daemon *d)
{
	struct config cfg;
	struct logfile *newlog = NULL;
	const char *source;
	char err[CONFIG_ERR_MAX], status[SDNOTIFY_STATUS_MAX];
	int r;

	sdnotify_reloading("reloading the configuration");
	r = cli_build_config(d->opt, &cfg, &source, err, sizeof(err));
	if (r < 0)
		log_err("%s; keeping the running configuration", err);
	else if (strcmp(cfg.log_path, d->cfg.log_path) != 0 &&
	         (r = open_new_log(&newlog, &cfg)) < 0)
		log_err("cannot open log file %s: %s; keeping the running configuration",
		        cfg.log_path, log_open_problem(r, cfg.log_path));
	else
		reload_apply(d, &cfg, source, newlog);
	if (!newlog)
		reopen_log(d);
	format_status(d, status, sizeof(status));
	sdnotify_ready(status);
}

/*
 * The receive buffer asked for when [poll] event_buffer is 0: enough for
 * ~25,000 notifications the daemon has not read yet. Without CAP_NET_ADMIN
 * (the service has none) net.core.rmem_max caps it, silently.
 */
#define EVENT_BUFFER_AUTO (16 * 1024 * 1024)

/*
 * Says what the notifications got: a warning only when the administrator
 * asked for a buffer size and got less, since the default takes what the
 * system allows. (A namespace without them was said by the set.)
 */
static void say_events(const struct daemon *d, int want)
{
	uint64_t got = nsset_event_buffer(d->set);

	if (d->cfg.event_buffer && got && got < (uint64_t)want)
		log_warn("[poll] event_buffer: the kernel granted %" PRIu64
		         " KiB of the %d KiB asked "
		         "for; without CAP_NET_ADMIN net.core.rmem_max caps it (sysctl -w "
		         "net.core.rmem_max=%d raises it; event_buffer = 0 takes what it allows "
		         "without this warning)",
		         got / 1024, want / 1024, want);
}

/* A notification socket is readable: reads it; after an overrun, resyncs at once. */
static void read_events(struct daemon *d, int fd)
{
	int err = nsset_read_events(d->set, fd);

	if (err == -ENOBUFS) {
		incident_note_overrun(&d->inc, nsset_stats(d->set));
		poll_once(d, false);
	}
}

/*
 * The namespaces to watch: the one we are in (main() entered the one
 * [poll] netns names, if any), or, with netns = all or a list, those a
 * search finds now and later. Exits 78 for a list nsscan refuses.
 */
static void start_namespaces(struct daemon *d)
{
	char err[CONFIG_ERR_MAX];
	int r;

	nsset_set_schedule(d->set, &(struct nsset_schedule){.interval_ms = d->cfg.interval_ms,
	                                                    .budget_pct = d->cfg.netns_budget});
	if (!nsscan_is_dynamic(d->cfg.netns)) {
		r = nsset_add_here(d->set, d->diag, d->here.name ? &d->here : NULL);
		if (r < 0)
			fatal(EX_OSERR, "cannot start: %s", strerror(-r));
		return;
	}
	r = nsscan_new(&d->scan, d->cfg.netns, err, sizeof(err));
	if (r < 0)
		fatal(CONFIG_EXIT, "[poll] netns: %s", err);
	rescan(d, util_mono_ns());
	if (nsset_count(d->set) == 0)
		log_info(
		    "no network namespace matches [poll] netns = %s yet; searching every %" PRIu32
		    " ms",
		    d->cfg.netns, d->cfg.netns_rescan_ms);
}

/* The monitors, the loop and what they use, as D->cfg says; exits 71 when it cannot. */
static void start(struct daemon *d)
{
	int want = d->cfg.event_buffer ? (int)d->cfg.event_buffer : EVENT_BUFFER_AUTO;
	int err = loop_new(&d->loop, d->cfg.interval_ms);

	if (err < 0)
		fatal(EX_OSERR, "cannot start: %s", strerror(-err));
	apply_journal(d, &d->cfg);
	attrib_apply(&d->attrib, &d->cfg);
	exporter_apply(&d->exporter, &d->cfg);
	err = nsset_new(&d->set, d->loop, d->cfg.destroy_events ? want : 0);
	if (err == 0)
		err = apply_settings(d, &d->cfg);
	if (err < 0)
		fatal(EX_OSERR, "cannot start: %s", strerror(-err));
	fit_watchdog(d->cfg.interval_ms);
	loop_set_batch(d->loop, d->cfg.event_batch_ms);
	start_namespaces(d);
	say_events(d, want);
	log_settings(d, "started with");
}

/* Serves one event of the loop. Returns false on SIGTERM or SIGINT. */
static bool serve(struct daemon *d, const struct loop_event *ev)
{
	switch (ev->type) {
	case LOOP_READABLE:
		read_events(d, ev->fd);
		return true;
	case LOOP_TICK:
		poll_on_tick(d, ev);
		return true;
	case LOOP_SIGNAL:
		break;
	}
	if (ev->signo == SIGTERM || ev->signo == SIGINT) {
		log_info("stopping on %s", strsignal(ev->signo));
		sdnotify_stopping("stopping");
		return false;
	}
	if (ev->signo == SIGHUP)
		reload(d);
	else
		reopen_log(d); /* SIGUSR1: the log was rotated by someone else */
	return true;
}

int daemon_run(struct daemon *d)
{
	struct loop_event ev;
	int err, status = 0;

	start(d);
	poll_once(d, true);
	for (;;) {
		err = loop_wait(d->loop, &ev);
		if (err < 0) {
			log_err("event loop failed: %s; exiting", strerror(-err));
			status = EX_OSERR;
			break;
		}
		if (!serve(d, &ev))
			break;
	}
	incident_log_stopped(&d->inc, nsset_stats(d->set), records_lost(d),
	                     d->scan ? nsset_count(d->set) : 0);
	report_not_sent(d, true);
	nsset_free(d->set);
	nsscan_free(d->scan);
	journal_free(d->journal);
	loop_free(d->loop);
	exporter_free(d->exporter);
	attrib_release(&d->attrib);
	return status;
}
