/*
 * daemon.c - the daemon's life: start, the loop's events, reload, stop.
 *
 * Everything here runs on the polling thread, between two events of the
 * loop. What goes wrong is said through incident.c, once per incident;
 * start-up failures exit with the status README.md lists.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cgroup.h"
#include "daemon.h"
#include "exporter.h"
#include "log.h"
#include "loop.h"
#include "monitor.h"
#include "procmap.h"
#include "sdnotify.h"
#include "util.h"

/* Why the log file could not be opened (ERR, -errno), for a message. */
static const char *log_open_problem(int err)
{
	return err == -ELOOP    ? "it is a symbolic link, which tcpstated does not follow"
	       : err == -EINVAL ? "not a regular file"
	                        : strerror(-err);
}

struct logfile *daemon_open_log(const struct config *cfg)
{
	struct logfile *log;
	int err = logfile_open(&log, cfg->log_path, &cfg->log);

	if (err < 0)
		fatal(EX_CANTCREAT, "cannot open log file %s: %s", cfg->log_path,
		      log_open_problem(err));
	if (logfile_torn(log))
		log_warn("cut %" PRIu64 " bytes of a record torn by a crash off the end of %s",
		         logfile_torn(log), cfg->log_path);
	return log;
}

int daemon_apply_filter(struct diag *diag, struct monitor *mon, const struct config *cfg)
{
	static char bc[FILTER_BC_MAX];
	int len = filter_bytecode(&cfg->filter, bc, sizeof(bc));

	if (len < 0)
		return len;
	len = diag_set_filter(diag, bc, (size_t)len);
	if (len < 0)
		return len;
	if (mon)
		monitor_set_filter(mon, &cfg->filter);
	return 0;
}

/* Records lost to write errors since start, in every log file. */
static uint64_t records_lost(const struct daemon *d)
{
	return d->lost_before + logfile_dropped(d->log);
}

/* The status line for systemd. */
static void format_status(const struct daemon *d, char *buf, size_t size)
{
	incident_format_status(&d->inc, monitor_stats(d->mon), records_lost(d), d->events != NULL,
	                       buf, size);
}

/* One poll, then what it changed: the incidents, the watchdog, systemd's status. */
static void poll_once(struct daemon *d)
{
	const struct monitor_stats *st = monitor_stats(d->mon);
	char status[SDNOTIFY_STATUS_MAX];
	int err = monitor_poll(d->mon);

	if (d->events)
		incident_report_overrun(&d->inc, st);
	incident_report_dump(&d->inc, err);
	incident_report_log(&d->inc, d->log, st, d->cfg.journal, err == 0);
	incident_report_journal(&d->inc, st, logfile_path(d->log), err == 0);

	/*
	 * The watchdog is fed only here, after a poll returned, so a poll that
	 * hangs (in the dump, or writing the log) lets it fire. A failed dump
	 * still counts as a live loop: it is logged and retried.
	 */
	sdnotify_watchdog();
	if (!d->ready && st->polls > 0) {
		/* The log is open and the first snapshot is in the table. */
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
 * A poll on a tick: how late it started after the tick was due (the loop's
 * own delay, and the previous poll running over) and how long it took. The
 * poll first, so that a warning about skipped polls includes its timing.
 */
static void poll_on_tick(struct daemon *d, const struct loop_event *ev)
{
	uint64_t start = util_mono_ns(), end;

	incident_poll_started(&d->inc, ev->due_ns, start);
	poll_once(d);
	end = util_mono_ns();
	incident_poll_ended(&d->inc, start, end);
	incident_report_missed(&d->inc, ev->missed, d->cfg.interval_ms);
	exporter_note_poll(d->exporter, (end - start) / 1000, monitor_stats(d->mon)->write_error);
	exporter_tick(d->exporter,
	              &(struct exporter_sources){.mon = d->mon,
	                                         .inc = &d->inc,
	                                         .records_lost = records_lost(d),
	                                         .cgroups = d->cgroups},
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

/* "WHAT SOURCE: polling every ...": the settings in force, at start and after a reload. */
static void log_settings(const struct daemon *d, const char *what)
{
	char events[64] = "off";

	if (d->cfg.destroy_events && d->cfg.event_batch_ms > 0)
		snprintf(events, sizeof(events),
		         "on (read in batches, at most %" PRIu32 " ms late)",
		         d->cfg.event_batch_ms);
	else if (d->cfg.destroy_events)
		snprintf(events, sizeof(events), "on (read as they come)");
	log_info("%s %s: polling every %" PRIu32 " ms, %s records to %s, journal %s, "
	         "destroy events %s",
	         what, d->source, d->cfg.interval_ms, record_format_name(d->cfg.log.format),
	         d->cfg.log_path, d->cfg.journal ? "on" : "off", events);
}

/* Turns process attribution on or off as CFG says. Never fails. */
static void apply_procs(struct daemon *d, const struct config *cfg)
{
	if (!cfg->attrib_processes) {
		monitor_set_procs(d->mon, NULL);
		procmap_free(d->procs);
		d->procs = NULL;
	} else if (!d->procs) {
		if (procmap_new(&d->procs, "/proc") < 0)
			log_warn("out of memory; records will have no pid or comm");
		else
			monitor_set_procs(d->mon, d->procs);
	}
}

/*
 * Turns cgroup attribution on or off as CFG says. When cgroup2 is not
 * mounted, says so once and goes on without it. Never fails.
 */
static void apply_cgroups(struct daemon *d, const struct config *cfg)
{
	char root[PATH_MAX];
	int err;

	if (!cfg->attrib_cgroups) {
		monitor_set_cgroups(d->mon, NULL);
		cgroup_map_free(d->cgroups);
		d->cgroups = NULL;
		return;
	}
	if (d->cgroups)
		return;
	err = cgroup_find_root(root, sizeof(root));
	if (err == 0)
		err = cgroup_map_new(&d->cgroups, root);
	if (err < 0) {
		log_warn("no cgroup2 file system at " CGROUP_ROOT " (%s); records will have no "
		         "cgroup or unit",
		         strerror(-err));
		return;
	}
	monitor_set_cgroups(d->mon, d->cgroups);
}

/* Of a reloaded CFG, what applies only at the next start: the running values are kept. */
static void keep_start_only(const struct daemon *d, struct config *cfg)
{
	if (strcmp(cfg->netns, d->cfg.netns) != 0) {
		log_warn("[poll] netns changed to \"%s\"; a namespace is entered only at "
		         "start, so this applies at the next start",
		         cfg->netns);
		memcpy(cfg->netns, d->cfg.netns, sizeof(cfg->netns));
	}
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
	int r;

	keep_start_only(d, cfg);
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
	monitor_set_format(d->mon, cfg->log.format);
	monitor_set_journal(d->mon, cfg->journal);
	apply_procs(d, cfg);
	apply_cgroups(d, cfg);
	exporter_apply(&d->exporter, cfg, d->mon);
	if (memcmp(&cfg->filter, &d->cfg.filter, sizeof(cfg->filter)) != 0) {
		r = daemon_apply_filter(d->diag, d->mon, cfg);
		if (r < 0) {
			log_err("cannot apply the new [filter]: %s; keeping the old one",
			        strerror(-r));
			cfg->filter = d->cfg.filter;
		}
	}
	if (newlog) {
		/* The new file was opened before the old one is closed. */
		monitor_set_log(d->mon, newlog);
		d->lost_before += logfile_dropped(d->log);
		logfile_close(d->log);
		d->log = newlog;
		incident_end(&d->inc.write, NULL); /* the new file has lost nothing */
	} else {
		logfile_set_options(d->log, &cfg->log);
	}
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
	         (r = logfile_open(&newlog, cfg.log_path, &cfg.log)) < 0)
		log_err("cannot open log file %s: %s; keeping the running configuration",
		        cfg.log_path, log_open_problem(r));
	else
		reload_apply(d, &cfg, source, newlog);
	if (!newlog)
		reopen_log(d);
	format_status(d, status, sizeof(status));
	sdnotify_ready(status);
}

/*
 * Joins the destroy notification groups, unless the configuration says not
 * to. Where that fails, says so once and polls alone.
 */
static void open_events(struct daemon *d)
{
	int want = (int)d->cfg.event_buffer, got = 0;
	int err;

	if (!d->cfg.destroy_events)
		return;
	err = diag_events_new(&d->events, want, &got);
	if (err < 0) {
		log_warn("cannot subscribe to TCP destroy notifications: %s; polling alone, so "
		         "connections shorter than the poll interval go unseen",
		         strerror(-err));
		d->events = NULL;
		return;
	}
	/* The kernel reports twice what it reserves, for its bookkeeping. */
	if (got / 2 < want)
		log_info("destroy notifications: receive buffer %d bytes, not the %d asked for "
		         "(net.core.rmem_max, or CAP_NET_ADMIN, raises it)",
		         got / 2, want);
	monitor_set_events(d->mon, d->events);
	loop_watch(d->loop, diag_events_fd(d->events));
}

/* The notification socket is readable: reads it; after an overrun, resyncs at once. */
static void read_events(struct daemon *d)
{
	int err = monitor_read_events(d->mon);

	if (err == -ENOBUFS) {
		incident_note_overrun(&d->inc, monitor_stats(d->mon));
		poll_once(d);
	} else if (err < 0) {
		log_err("reading destroy notifications failed: %s; polling alone", strerror(-err));
		loop_watch(d->loop, -1);
		monitor_set_events(d->mon, NULL);
		diag_events_free(d->events);
		d->events = NULL;
	}
}

/* The monitor, the loop and what they use, as D->cfg says; exits 71 when it cannot. */
static void start(struct daemon *d)
{
	int err = monitor_new(&d->mon, d->diag, d->log, d->cfg.log.format);

	if (err == 0)
		err = loop_new(&d->loop, d->cfg.interval_ms);
	if (err < 0)
		fatal(EX_OSERR, "cannot start: %s", strerror(-err));
	monitor_set_journal(d->mon, d->cfg.journal);
	monitor_set_filter(d->mon, &d->cfg.filter);
	apply_procs(d, &d->cfg);
	apply_cgroups(d, &d->cfg);
	exporter_apply(&d->exporter, &d->cfg, d->mon);
	fit_watchdog(d->cfg.interval_ms);
	loop_set_batch(d->loop, d->cfg.event_batch_ms);
	open_events(d);
	log_settings(d, "started with");
}

/* Serves one event of the loop. Returns false on SIGTERM or SIGINT. */
static bool serve(struct daemon *d, const struct loop_event *ev)
{
	switch (ev->type) {
	case LOOP_READABLE:
		read_events(d);
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
	poll_once(d);
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
	incident_log_stopped(&d->inc, monitor_stats(d->mon), records_lost(d));
	loop_free(d->loop);
	exporter_free(d->exporter);
	monitor_free(d->mon);
	diag_events_free(d->events);
	cgroup_map_free(d->cgroups);
	procmap_free(d->procs);
	return status;
}
