/*
 * main.c - options, then each module's setup and teardown in order.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include "config.h"
#include "diag.h"
#include "log.h"
#include "logfile.h"
#include "loop.h"
#include "monitor.h"
#include "record.h"
#include "snapshot.h"

/* Seconds between two warnings about polls that overran their interval. */
#define LATE_WARN_INTERVAL 60

/* A command-line option that overrides a configuration key. */
struct override {
	const char *option;
	const char *section;
	const char *key;
	const char *value; /* NULL: not given */
};

enum { OV_INTERVAL, OV_LOG_FILE, OV_FORMAT, OV_MAX };

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
		"      --once             print the current socket table and exit\n"
		"  -n, --check-config     check the configuration, print it and exit\n"
		"  -V, --version          print the version and exit\n"
		"  -h, --help             print this help and exit\n"
		"\n"
		"Options override the configuration file. tcpstated stays in the foreground;\n"
		"SIGTERM or SIGINT stop it, SIGHUP or SIGUSR1 reopen the log file.\n"
		"See tcpstated(8) and tcpstated.conf(5).\n");
}

static void parse_args(int argc, char **argv, struct options *opt)
{
	enum { OPT_ONCE = 256 };
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"interval-ms", required_argument, NULL, 'i'},
		{"log-file", required_argument, NULL, 'l'},
		{"format", required_argument, NULL, 'f'},
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
		},
	};
	while ((c = getopt_long(argc, argv, "c:i:l:f:nVh", longopts, NULL)) != -1) {
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
		default:
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

/* Defaults, then the file, then the command line; exits 78 on any error. */
static void load_config(const struct options *opt, struct config *cfg, const char **ret_source)
{
	const char *path = opt->config_path;
	char err[CONFIG_ERR_MAX];
	struct stat st;

	config_defaults(cfg);
	if (!path && stat(CONFIG_DEFAULT_PATH, &st) == 0)
		path = CONFIG_DEFAULT_PATH;
	if (path && config_load_file(cfg, path, err, sizeof(err)) < 0)
		fatal(CONFIG_EXIT, "%s", err);
	for (int i = 0; i < OV_MAX; i++) {
		const struct override *o = &opt->ov[i];

		if (o->value && config_set(cfg, o->section, o->key, o->value, err, sizeof(err)) < 0)
			fatal(CONFIG_EXIT, "%s: %s", o->option, err);
	}
	*ret_source = path ? path : "built-in defaults";
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
	uint64_t dropped_before; /* logfile_dropped() when the incident began */
	uint64_t missed;	/* ticks missed since the last warning */
	uint64_t missed_total;	/* ticks missed since start */
	time_t late_warned;	/* when that warning was given */
};

static void poll_once(struct monitor *mon, struct logfile *log, struct incidents *inc)
{
	const struct monitor_stats *st = monitor_stats(mon);
	int err = monitor_poll(mon);

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

	if (st->write_error && !inc->write_err) {
		log_err("cannot write %s: %s; dropping records until it works again",
			logfile_path(log), strerror(-st->write_error));
		inc->write_err = st->write_error;
		inc->dropped_before = logfile_dropped(log) - 1;
	} else if (!st->write_error && inc->write_err && err == 0) {
		log_info("writing %s again; %" PRIu64 " records were lost", logfile_path(log),
			 logfile_dropped(log) - inc->dropped_before);
		inc->write_err = 0;
	}
}

static void note_missed(struct incidents *inc, uint64_t missed, uint32_t interval_ms)
{
	time_t now = time(NULL);

	inc->missed += missed;
	inc->missed_total += missed;
	if (!inc->missed || now - inc->late_warned < LATE_WARN_INTERVAL)
		return;
	log_warn("polls overran the %" PRIu32 " ms interval: %" PRIu64
		 " polls skipped in the last %d s",
		 interval_ms, inc->missed, LATE_WARN_INTERVAL);
	inc->late_warned = now;
	inc->missed = 0;
}

/* Opens the transition log; exits 73 when it cannot. */
static struct logfile *open_log(const struct config *cfg)
{
	struct logfile *log;
	int err = logfile_open(&log, cfg->log_path);

	if (err < 0)
		fatal(EX_CANTCREAT, "cannot open log file %s: %s", cfg->log_path,
		      err == -ELOOP    ? "it is a symbolic link, which tcpstated does not follow"
		      : err == -EINVAL ? "not a regular file"
				       : strerror(-err));
	return log;
}

static int run(const struct config *cfg, struct diag *diag, struct logfile *log)
{
	struct monitor *mon = NULL;
	struct loop *loop = NULL;
	struct incidents inc = {0};
	int err, status = 0;

	err = monitor_new(&mon, diag, log, cfg->format);
	if (err == 0)
		err = loop_new(&loop, cfg->interval_ms);
	if (err < 0)
		fatal(EX_OSERR, "cannot start: %s", strerror(-err));

	log_info("watching TCP sockets every %" PRIu32 " ms, logging %s records to %s",
		 cfg->interval_ms, record_format_name(cfg->format), cfg->log_path);
	poll_once(mon, log, &inc);

	for (;;) {
		struct loop_event ev;

		err = loop_wait(loop, &ev);
		if (err < 0) {
			log_err("event loop failed: %s; exiting", strerror(-err));
			status = EX_OSERR;
			break;
		}
		if (ev.type == LOOP_TICK) {
			note_missed(&inc, ev.missed, cfg->interval_ms);
			poll_once(mon, log, &inc);
			continue;
		}
		if (ev.signo == SIGTERM || ev.signo == SIGINT) {
			log_info("stopping on %s", strsignal(ev.signo));
			break;
		}
		/* SIGHUP, SIGUSR1: the log was rotated by someone else. */
		err = logfile_reopen(log);
		if (err < 0)
			log_err("cannot reopen %s: %s; still writing to the old file",
				cfg->log_path, strerror(-err));
	}

	const struct monitor_stats *st = monitor_stats(mon);
	log_info("stopped after %" PRIu64 " polls: %" PRIu64 " transitions, %" PRIu64
		 " records lost, %" PRIu64 " dumps failed, %" PRIu64 " polls skipped",
		 st->polls, st->transitions, logfile_dropped(log), st->dumps_failed,
		 inc.missed_total);
	loop_free(loop);
	monitor_free(mon);
	return status;
}

int main(int argc, char **argv)
{
	struct options opt;
	struct config cfg;
	struct diag *diag = NULL;
	struct logfile *log = NULL;
	const char *source;
	int err, status;

	parse_args(argc, argv, &opt);
	load_config(&opt, &cfg, &source);
	if (opt.check_config) {
		printf("# %s: configuration OK\n", source);
		config_print(&cfg, stdout);
		return 0;
	}

	if (!opt.once)
		log = open_log(&cfg);
	err = diag_new(&diag);
	if (err < 0)
		fatal(EX_OSERR, "cannot open a NETLINK_SOCK_DIAG socket: %s", strerror(-err));
	if (opt.once) {
		err = print_table(diag);
		if (err < 0)
			log_err("socket dump failed: %s", strerror(-err));
		status = err < 0 ? EX_OSERR : 0;
	} else {
		status = run(&cfg, diag, log);
	}
	diag_free(diag);
	logfile_close(log);
	return status;
}
