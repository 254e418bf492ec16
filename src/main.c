/*
 * main.c - options, then each module's setup and teardown in order.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include "cgroup.h"
#include "config.h"
#include "diag.h"
#include "hist.h"
#include "journal.h"
#include "log.h"
#include "logfile.h"
#include "loop.h"
#include "monitor.h"
#include "netns.h"
#include "procmap.h"
#include "record.h"
#include "sdnotify.h"
#include "snapshot.h"
#include "util.h"

/* Seconds between two warnings about polls that overran their interval. */
#define LATE_WARN_INTERVAL 60

/* A command-line option that overrides a configuration key. */
struct override {
	const char *option;
	const char *section;
	const char *key;
	const char *value; /* NULL: not given */
};

enum { OV_INTERVAL, OV_LOG_FILE, OV_FORMAT, OV_NETNS, OV_MAX };

struct options {
	const char *config_path; /* NULL: the default path, if it exists */
	int once;
	int check_config;
	struct override ov[OV_MAX];
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tcpstated [OPTION]...\n"
		"Watch TCP connections change state and log every transition.\n"
		"\n"
		"  -c, --config FILE      read FILE instead of " CONFIG_DEFAULT_PATH "\n"
		"  -i, --interval-ms N    poll every N milliseconds ([poll] interval_ms)\n"
		"  -l, --log-file PATH    write transitions to PATH, - for stdout ([log] path)\n"
		"  -f, --format FORMAT    text or json ([log] format)\n"
		"      --netns NAME|PATH  watch the network namespace NAME (in /run/netns) or\n"
		"                         PATH (e.g. /proc/PID/ns/net) ([poll] netns)\n"
		"      --once             print the current socket table and exit\n"
		"  -n, --check-config     check the configuration, print it and exit\n"
		"  -V, --version          print the version and exit\n"
		"  -h, --help             print this help and exit\n"
		"\n"
		"Options override the configuration file. tcpstated stays in the foreground;\n"
		"SIGTERM or SIGINT stop it, SIGHUP reloads the configuration and reopens the\n"
		"log file, SIGUSR1 only reopens the log file.\n"
		"See tcpstated(8) and tcpstated.conf(5).\n");
}

static void parse_args(int argc, char **argv, struct options *opt)
{
	enum { OPT_ONCE = 256, OPT_NETNS };
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"interval-ms", required_argument, NULL, 'i'},
		{"log-file", required_argument, NULL, 'l'},
		{"format", required_argument, NULL, 'f'},
		{"netns", required_argument, NULL, OPT_NETNS},
		{"once", no_argument, NULL, OPT_ONCE},
		{"check-config", no_argument, NULL, 'n'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;

	*opt = (struct options){
		.ov = {
			[OV_INTERVAL] = {"--interval-ms", "poll", "interval_ms", NULL},
			[OV_LOG_FILE] = {"--log-file", "log", "path", NULL},
			[OV_FORMAT] = {"--format", "log", "format", NULL},
			[OV_NETNS] = {"--netns", "poll", "netns", NULL},
		},
	};
	/* Our own messages for bad options: getopt's would start with argv[0]. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:i:l:f:nVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opt->config_path = optarg;
			break;
		case 'i':
			opt->ov[OV_INTERVAL].value = optarg;
			break;
		case 'l':
			opt->ov[OV_LOG_FILE].value = optarg;
			break;
		case 'f':
			opt->ov[OV_FORMAT].value = optarg;
			break;
		case OPT_NETNS:
			opt->ov[OV_NETNS].value = optarg;
			break;
		case OPT_ONCE:
			opt->once = 1;
			break;
		case 'n':
			opt->check_config = 1;
			break;
		case 'V':
			printf("tcpstated " TCPSTATED_VERSION "\n");
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			fprintf(stderr, "tcpstated: %s: missing argument\n", argv[optind - 1]);
			usage(stderr);
			exit(EX_USAGE);
		default:
			if (optopt)
				fprintf(stderr, "tcpstated: -%c: unknown option\n", optopt);
			else
				fprintf(stderr, "tcpstated: %s: unknown option\n", argv[optind - 1]);
			usage(stderr);
			exit(EX_USAGE);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tcpstated: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		exit(EX_USAGE);
	}
}

/*
 * Defaults, then the file, then the command line. Used at start and on every
 * reload, so a reload sees the same file and the same overrides. Returns 0,
 * or -errno with the message ("FILE:LINE: ...", "--option: ...") in ERR.
 */
static int build_config(const struct options *opt, struct config *ret_cfg,
			const char **ret_source, char *err, size_t errlen)
{
	const char *path = opt->config_path;
	struct config cfg;
	struct stat st;
	int r;

	config_defaults(&cfg);
	if (!path && stat(CONFIG_DEFAULT_PATH, &st) == 0)
		path = CONFIG_DEFAULT_PATH;
	if (path) {
		r = config_load_file(&cfg, path, err, errlen);
		if (r < 0)
			return r;
	}
	for (int i = 0; i < OV_MAX; i++) {
		const struct override *o = &opt->ov[i];
		char msg[512]; /* no file name in it: the value is cut short */

		if (!o->value)
			continue;
		r = config_set(&cfg, o->section, o->key, o->value, msg, sizeof(msg));
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", o->option, msg);
			return r;
		}
	}
	*ret_cfg = cfg;
	*ret_source = path ? path : "built-in defaults";
	return 0;
}

/* build_config(), exiting 78 on any error: start-up only. */
static void load_config(const struct options *opt, struct config *cfg, const char **ret_source)
{
	char err[CONFIG_ERR_MAX];

	if (build_config(opt, cfg, ret_source, err, sizeof(err)) < 0)
		fatal(CONFIG_EXIT, "%s", err);
}

/* The log file's settings out of CFG. */
static void log_options(const struct config *cfg, struct logfile_options *o)
{
	logfile_options_default(o);
	o->max_size = cfg->max_size;
	o->keep = cfg->keep;
	o->compress = cfg->compress;
	o->fsync = cfg->fsync;
	o->fsync_interval_ms = cfg->fsync_interval_ms;
	o->mode = cfg->mode;
	o->format = cfg->format;
}

/* Why the log file PATH could not be opened, for a message. */
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
	return err == -ELOOP	? "it is a symbolic link, which tcpstated does not follow"
	       : err == -EINVAL ? "not a regular file"
				: strerror(-err);
}

/* --once: one dump, printed as a table, like `ss -tan`. */
static int print_table(struct diag *diag)
{
	struct snapshot s;
	char row[RECORD_MAX];
	int err;

	snapshot_init(&s);
	err = diag_dump(diag, snapshot_put_cb, &s);
	if (err < 0) {
		snapshot_release(&s);
		return err;
	}
	fputs(record_table_header(), stdout);
	for (size_t i = 0; i < s.len; i++)
		if (record_format_row(row, sizeof(row), &s.entries[i].sk) > 0)
			fputs(row, stdout);
	snapshot_release(&s);
	return fflush(stdout) == 0 ? 0 : -errno;
}

/* What the daemon has reported, so that each incident is logged once. */
struct incidents {
	int dump_err;		/* error of the failing dumps, 0 while they work */
	uint64_t dumps_failed;	/* failed dumps in the current incident */
	int write_err;		/* error of the failing writes, 0 while they work */
	int log_problem;	/* logfile_problem(), 0 while there is none */
	int journal_err;	/* error of the failing journal sends, 0 while they work */
	uint64_t journal_failed_before; /* journal_failed when the incident began */
	uint64_t missed;	/* ticks missed since the last warning */
	uint64_t missed_total;	/* ticks missed since start */
	uint64_t overruns;	/* destroy-notification overruns already noted */
	bool overrun_active;	/* in an overrun incident, logged */
	time_t late_warned;	/* when that warning was given */
};

/* The running daemon: what a reload replaces and what it keeps. */
struct daemon {
	const struct options *opt;
	struct config cfg;
	const char *source;
	struct diag *diag;
	struct diag_events *events; /* NULL: polling alone */
	struct logfile *log;
	struct monitor *mon; /* keeps the socket table across reloads */
	struct cgroup_map *cgroups; /* NULL: no cgroup attribution */
	struct procmap *procs;	    /* NULL: no process attribution */
	struct loop *loop;
	struct incidents inc;
	uint64_t lost_before; /* records lost in log files closed by a reload */
	bool ready;	      /* READY=1 sent */
	struct hist late;     /* us from a tick's due time to its poll's start */
	struct hist took;     /* us a ticked poll took, logging included */
};

/* "polls late p50/p99 0.041/0.210 ms, took p50/p99 1.120/1.870 ms". */
static void format_timing(const struct daemon *d, char *buf, size_t size)
{
	snprintf(buf, size,
		 "polls late p50/p99 %.3f/%.3f ms, took p50/p99 %.3f/%.3f ms",
		 (double)hist_quantile(&d->late, 0.5) / 1000,
		 (double)hist_quantile(&d->late, 0.99) / 1000,
		 (double)hist_quantile(&d->took, 0.5) / 1000,
		 (double)hist_quantile(&d->took, 0.99) / 1000);
}

/* "tracking 12 sockets, 345 transitions logged, 0 polls skipped, 0 dumps failed;
 * polls late p50/p99 ...". */
static void format_status(const struct daemon *d, char *buf, size_t size)
{
	const struct monitor_stats *st = monitor_stats(d->mon);
	uint64_t lost = d->lost_before + logfile_dropped(d->log);
	char timing[128];
	int n;

	format_timing(d, timing, sizeof(timing));
	n = snprintf(buf, size,
		     "tracking %zu sockets, %" PRIu64 " transitions logged, %" PRIu64
		     " polls skipped, %" PRIu64 " dumps failed",
		     st->sockets, st->transitions, d->inc.missed_total, st->dumps_failed);
	if (n > 0 && (size_t)n < size && lost)
		n += snprintf(buf + n, size - (size_t)n, ", %" PRIu64 " records lost", lost);
	if (n > 0 && (size_t)n < size && d->events)
		n += snprintf(buf + n, size - (size_t)n,
			 ", %" PRIu64 " destroy events, %" PRIu64 " destroy events lost", st->events,
			 st->events_lost);
	if (n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, "; %s", timing);
}

/*
 * Reports the log file's troubles, each incident once: records that could not
 * be written (from the first failure until the loss record is in the file),
 * and problems that outlast a write (a rotation, a reopen, compression).
 */
static void report_log(struct daemon *d, bool dumped)
{
	struct incidents *inc = &d->inc;
	struct logfile *log = d->log;
	const struct monitor_stats *st = monitor_stats(d->mon);
	struct logfile_loss loss;
	const char *what;
	char a[32], b[32];
	int err;

	if (logfile_take_loss(log, &loss)) {
		record_format_time(a, sizeof(a), &loss.since);
		record_format_time(b, sizeof(b), &loss.until);
		log_info("writing %s again; %" PRIu64 " records were lost between %s and %s",
			 logfile_path(log), loss.lost, a, b);
		if (d->cfg.journal) {
			err = journal_send_loss(logfile_path(log), loss.lost, &loss.since,
						&loss.until);
			if (err < 0)
				log_warn("cannot send the loss entry to the journal: %s",
					 strerror(-err));
		}
		inc->write_err = 0;
	} else if (st->write_error && !inc->write_err) {
		log_err("cannot write %s: %s; dropping records until it works again",
			logfile_path(log), strerror(-st->write_error));
		inc->write_err = st->write_error;
	} else if (!st->write_error && inc->write_err && dumped && logfile_dropped(log) == 0) {
		/* Failed without losing a record (nothing was due then). */
		log_info("writing %s again", logfile_path(log));
		inc->write_err = 0;
	}

	err = logfile_problem(log, &what);
	if (err && err != inc->log_problem)
		log_err("cannot %s (%s): %s; trying again every second", what, logfile_path(log),
			strerror(-err));
	else if (!err && inc->log_problem)
		log_info("%s: working again", logfile_path(log));
	inc->log_problem = err;
}

/*
 * Notifications were lost: say so once per incident (an incident ends with a
 * poll that found none lost); the caller resyncs with a full dump at once. A
 * connection whose notification was lost is then reported by the diff if a
 * poll had seen it, and missed if none had; the count says how many.
 */
static void note_overrun(struct daemon *d)
{
	const struct monitor_stats *st = monitor_stats(d->mon);

	if (st->overruns == d->inc.overruns)
		return;
	if (!d->inc.overrun_active)
		log_warn("destroy notifications lost (receive buffer overrun, %" PRIu64
			 " lost since start); resynchronising with a full dump",
			 st->events_lost);
	d->inc.overruns = st->overruns;
	d->inc.overrun_active = true;
}

/* After a poll: a new overrun is noted, a poll without one ends the incident. */
static void end_overrun(struct daemon *d)
{
	const struct monitor_stats *st = monitor_stats(d->mon);

	if (st->overruns != d->inc.overruns) {
		note_overrun(d);
	} else if (d->inc.overrun_active) {
		log_info("destroy notifications flow again; %" PRIu64 " lost since start",
			 st->events_lost);
		d->inc.overrun_active = false;
	}
}

static void poll_once(struct daemon *d)
{
	struct incidents *inc = &d->inc;
	struct logfile *log = d->log;
	const struct monitor_stats *st = monitor_stats(d->mon);
	char status[SDNOTIFY_STATUS_MAX];
	int err = monitor_poll(d->mon);

	if (d->events)
		end_overrun(d);

	if (err < 0) {
		if (!inc->dump_err)
			log_warn("socket dump failed: %s; skipping this poll, retrying at the next",
				 strerror(-err));
		inc->dump_err = err;
		inc->dumps_failed++;
	} else if (inc->dump_err) {
		log_info("socket dumps work again after %" PRIu64 " failed", inc->dumps_failed);
		inc->dump_err = 0;
		inc->dumps_failed = 0;
	}

	report_log(d, err == 0);

	if (st->journal_error && !inc->journal_err) {
		log_err("cannot send records to the journal: %s; still writing them to %s",
			strerror(-st->journal_error), logfile_path(log));
		inc->journal_err = st->journal_error;
		inc->journal_failed_before = st->journal_failed - 1;
	} else if (!st->journal_error && inc->journal_err && err == 0) {
		log_info("sending records to the journal again; it missed %" PRIu64,
			 st->journal_failed - inc->journal_failed_before);
		inc->journal_err = 0;
	}

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
 * A poll on tick: how late it started after the tick was due (the loop's
 * own delay, and the previous poll running over) and how long it took.
 */
static void poll_on_tick(struct daemon *d, uint64_t due_ns)
{
	uint64_t start = util_mono_ns(), end;

	hist_add(&d->late, start > due_ns ? (start - due_ns) / 1000 : 0);
	poll_once(d);
	end = util_mono_ns();
	hist_add(&d->took, (end - start) / 1000);
}

static void note_missed(const struct daemon *d, struct incidents *inc, uint64_t missed,
			uint32_t interval_ms)
{
	time_t now = time(NULL);
	char timing[128];

	inc->missed += missed;
	inc->missed_total += missed;
	if (!inc->missed || now - inc->late_warned < LATE_WARN_INTERVAL)
		return;
	format_timing(d, timing, sizeof(timing));
	log_warn("polls overran the %" PRIu32 " ms interval: %" PRIu64
		 " polls skipped in the last %d s; %s",
		 interval_ms, inc->missed, LATE_WARN_INTERVAL, timing);
	inc->late_warned = now;
	inc->missed = 0;
}

/* Tells systemd's watchdog about INTERVAL_MS; logs, never fails. */
static void fit_watchdog(uint32_t interval_ms)
{
	uint64_t usec;
	int err = sdnotify_watchdog_fit(interval_ms, &usec);

	if (err < 0)
		log_warn("cannot change the watchdog interval: %s", strerror(-err));
}

static void log_settings(const struct daemon *d, const char *what)
{
	char events[64] = "off";

	if (d->cfg.destroy_events && d->cfg.event_batch_ms > 0)
		snprintf(events, sizeof(events), "on (read in batches, at most %" PRIu32 " ms late)",
			 d->cfg.event_batch_ms);
	else if (d->cfg.destroy_events)
		snprintf(events, sizeof(events), "on (read as they come)");
	log_info("%s %s: polling every %" PRIu32 " ms, %s records to %s, journal %s, "
		 "destroy events %s",
		 what, d->source, d->cfg.interval_ms, record_format_name(d->cfg.format),
		 d->cfg.log_path, d->cfg.journal ? "on" : "off", events);
}

/*
 * Turns cgroup attribution on or off as CFG says. When cgroup2 is not
 * mounted, says so once and goes on without it. Never fails.
 */
static void apply_attribution(struct daemon *d, const struct config *cfg)
{
	char root[PATH_MAX];
	int err;

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

/*
 * Gives CFG's filter to the kernel (bytecode with every dump) and, when MON
 * exists, to the monitor (states, and the same tuples in user space).
 * Returns 0 or -errno.
 */
static int apply_filter(struct diag *diag, struct monitor *mon, const struct config *cfg)
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
	struct logfile_options lo;
	const char *source;
	char err[CONFIG_ERR_MAX], status[SDNOTIFY_STATUS_MAX];
	int r;

	sdnotify_reloading("reloading the configuration");
	r = build_config(d->opt, &cfg, &source, err, sizeof(err));
	if (r == 0)
		log_options(&cfg, &lo);
	if (r < 0) {
		log_err("%s; keeping the running configuration", err);
	} else if (strcmp(cfg.log_path, d->cfg.log_path) != 0 &&
		   (r = logfile_open(&newlog, cfg.log_path, &lo)) < 0) {
		log_err("cannot open log file %s: %s; keeping the running configuration",
			cfg.log_path, log_open_problem(r, cfg.log_path));
	} else {
		if (strcmp(cfg.netns, d->cfg.netns) != 0) {
			log_warn("[poll] netns changed to \"%s\"; a namespace is entered only at "
				 "start, so this applies at the next start",
				 cfg.netns);
			memcpy(cfg.netns, d->cfg.netns, sizeof(cfg.netns));
		}
		if (cfg.interval_ms != d->cfg.interval_ms) {
			r = loop_set_interval(d->loop, cfg.interval_ms);
			if (r < 0) {
				log_err("cannot change the poll interval: %s; keeping %" PRIu32 " ms",
					strerror(-r), d->cfg.interval_ms);
				cfg.interval_ms = d->cfg.interval_ms;
			}
			fit_watchdog(cfg.interval_ms);
		}
		if (cfg.destroy_events != d->cfg.destroy_events ||
		    cfg.event_buffer != d->cfg.event_buffer)
			log_warn("[poll] destroy_events and event_buffer take effect at the next "
				 "start; keeping the running ones");
		cfg.destroy_events = d->cfg.destroy_events;
		cfg.event_buffer = d->cfg.event_buffer;
		loop_set_batch(d->loop, cfg.event_batch_ms);
		monitor_set_format(d->mon, cfg.format);
		monitor_set_journal(d->mon, cfg.journal);
		apply_attribution(d, &cfg);
		if (memcmp(&cfg.filter, &d->cfg.filter, sizeof(cfg.filter)) != 0) {
			r = apply_filter(d->diag, d->mon, &cfg);
			if (r < 0) {
				log_err("cannot apply the new [filter]: %s; keeping the old one",
					strerror(-r));
				cfg.filter = d->cfg.filter;
			}
		}
		if (newlog) {
			/* Open the new file before closing the old one. */
			monitor_set_log(d->mon, newlog);
			d->lost_before += logfile_dropped(d->log);
			logfile_close(d->log);
			d->log = newlog;
			d->inc.write_err = 0;
		} else {
			logfile_set_options(d->log, &lo);
		}
		d->cfg = cfg;
		d->source = source;
		log_settings(d, "reloaded");
	}
	if (!newlog) {
		r = logfile_reopen(d->log);
		if (r < 0)
			log_err("cannot reopen %s: %s; still writing to the old file",
				logfile_path(d->log), strerror(-r));
	}
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

/* Opens the transition log; exits 73 when it cannot. */
static struct logfile *open_log(const struct config *cfg)
{
	struct logfile *log;
	struct logfile_options o;
	int err;

	log_options(cfg, &o);
	err = logfile_open(&log, cfg->log_path, &o);

	if (err < 0)
		fatal(EX_CANTCREAT, "cannot open log file %s: %s", cfg->log_path,
		      log_open_problem(err, cfg->log_path));
	if (logfile_torn(log))
		log_warn("cut %" PRIu64 " bytes of a record torn by a crash off the end of %s",
			 logfile_torn(log), cfg->log_path);
	return log;
}

/*
 * Moves into the network namespace SPEC before any netlink socket exists.
 * Exits 66 when the namespace cannot be opened (it may not exist yet: a
 * container that has not started; systemd retries) and 71 when it cannot be
 * entered (no CAP_SYS_ADMIN, or not a network namespace).
 */
static void enter_netns(const char *spec)
{
	char path[PATH_MAX];
	int fd, err;

	err = netns_path(spec, path, sizeof(path));
	if (err < 0)
		fatal(CONFIG_EXIT, "[poll] netns: invalid namespace \"%s\"", spec);
	fd = netns_open(path);
	if (fd < 0)
		fatal(EX_NOINPUT, "cannot open network namespace %s: %s", path, strerror(-fd));
	err = netns_enter(fd);
	close(fd);
	if (err == -EPERM)
		fatal(EX_OSERR, "cannot enter network namespace %s: %s (it takes CAP_SYS_ADMIN)",
		      path, strerror(-err));
	if (err < 0)
		fatal(EX_OSERR, "cannot enter network namespace %s: %s", path,
		      err == -EINVAL ? "not a network namespace" : strerror(-err));
	log_info("watching network namespace %s", path);
}

/* Polls until SIGTERM or SIGINT, with the log D->log already open. */
static int run(struct daemon *d)
{
	int err, status = 0;

	err = monitor_new(&d->mon, d->diag, d->log, d->cfg.format);
	if (err == 0)
		err = loop_new(&d->loop, d->cfg.interval_ms);
	if (err < 0)
		fatal(EX_OSERR, "cannot start: %s", strerror(-err));
	monitor_set_journal(d->mon, d->cfg.journal);
	monitor_set_filter(d->mon, &d->cfg.filter);
	apply_attribution(d, &d->cfg);
	fit_watchdog(d->cfg.interval_ms);
	loop_set_batch(d->loop, d->cfg.event_batch_ms);
	open_events(d);

	log_settings(d, "started with");
	poll_once(d);

	for (;;) {
		struct loop_event ev;

		err = loop_wait(d->loop, &ev);
		if (err < 0) {
			log_err("event loop failed: %s; exiting", strerror(-err));
			status = EX_OSERR;
			break;
		}
		if (ev.type == LOOP_READABLE) {
			err = monitor_read_events(d->mon);
			if (err == -ENOBUFS) {
				note_overrun(d);
				poll_once(d); /* resync at once */
			} else if (err < 0) {
				log_err("reading destroy notifications failed: %s; polling alone",
					strerror(-err));
				loop_watch(d->loop, -1);
				monitor_set_events(d->mon, NULL);
				diag_events_free(d->events);
				d->events = NULL;
			}
			continue;
		}
		if (ev.type == LOOP_TICK) {
			/* The poll first, so that a warning includes its timing. */
			poll_on_tick(d, ev.due_ns);
			note_missed(d, &d->inc, ev.missed, d->cfg.interval_ms);
			continue;
		}
		if (ev.signo == SIGTERM || ev.signo == SIGINT) {
			log_info("stopping on %s", strsignal(ev.signo));
			sdnotify_stopping("stopping");
			break;
		}
		if (ev.signo == SIGHUP) {
			reload(d);
			continue;
		}
		/* SIGUSR1: the log was rotated by someone else. */
		err = logfile_reopen(d->log);
		if (err < 0)
			log_err("cannot reopen %s: %s; still writing to the old file",
				logfile_path(d->log), strerror(-err));
	}

	const struct monitor_stats *st = monitor_stats(d->mon);
	char timing[128];

	format_timing(d, timing, sizeof(timing));
	log_info("stopped after %" PRIu64 " polls: %" PRIu64 " transitions logged, %" PRIu64
		 " summaries, %" PRIu64 " records lost, %" PRIu64 " dumps failed, %" PRIu64
		 " polls skipped, %" PRIu64 " destroy events, %" PRIu64 " destroy events lost; %s",
		 st->polls, st->transitions, st->summaries, d->lost_before + logfile_dropped(d->log),
		 st->dumps_failed, d->inc.missed_total, st->events, st->events_lost, timing);
	loop_free(d->loop);
	monitor_free(d->mon);
	diag_events_free(d->events);
	cgroup_map_free(d->cgroups);
	procmap_free(d->procs);
	return status;
}

int main(int argc, char **argv)
{
	struct options opt;
	struct daemon d = {.opt = &opt};
	int err, status;

	/* First: it takes the watchdog settings out of the environment. */
	sdnotify_init();
	parse_args(argc, argv, &opt);
	load_config(&opt, &d.cfg, &d.source);
	if (opt.check_config) {
		printf("# %s: configuration OK\n", d.source);
		config_print(&d.cfg, stdout);
		return 0;
	}

	if (!opt.once)
		d.log = open_log(&d.cfg);
	if (d.cfg.netns[0])
		enter_netns(d.cfg.netns);
	err = diag_new(&d.diag);
	if (err < 0)
		fatal(EX_OSERR, "cannot open a NETLINK_SOCK_DIAG socket: %s", strerror(-err));
	err = apply_filter(d.diag, NULL, &d.cfg);
	if (err < 0)
		fatal(EX_SOFTWARE, "cannot compile [filter]: %s", strerror(-err));
	if (opt.once) {
		err = print_table(d.diag);
		if (err < 0)
			log_err("socket dump failed: %s", strerror(-err));
		status = err < 0 ? EX_OSERR : 0;
	} else {
		status = run(&d);
	}
	diag_free(d.diag);
	logfile_close(d.log); /* the one a reload may have switched to */
	return status;
}
