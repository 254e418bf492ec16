/*
 * ctl_main.c - tcpstatectl: options, then the sources read through the
 * verb's table of connections, then the report on bad input.
 *
 * Exit status as sysexits(3): 0 when input was read, 64 for a bad command
 * line, 66 when no source could be opened, 70 when memory ran out.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ctl_feed.h"
#include "ctl_verbs.h"
#include "inifile.h"

#define EXIT_USAGE    64
#define EXIT_NOINPUT  66
#define EXIT_SOFTWARE 70
#define FILES_MAX     64

struct options {
	const struct verb *verb;
	const char *files[FILES_MAX];
	size_t nfiles;
	const char *config;
	const char *journal_dir;
	int journal;
	struct ctl_select sel;
	struct ctl_out out;
	const char *by;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fputs("usage: tcpstatectl [list|show|follow|stats] [OPTIONS]\n"
	      "Sources (default: the log of /etc/tcpstated/tcpstated.conf and its rotated files):\n"
	      "  -f, --file FILE       a log file, text or JSON, plain or .gz (repeatable; - is "
	      "stdin)\n"
	      "  -c, --config FILE     the daemon's configuration naming the log\n"
	      "      --journal         the local journal\n"
	      "  -D, --directory DIR   a journal directory (each connection shows its host)\n"
	      "Filters:\n"
	      "      --port N  --host ADDR[/LEN]  --unit UNIT  --comm NAME  --cookie N\n"
	      "      --netns NAME|GLOB|INODE\n"
	      "      --state STATE  --outcome OUTCOME  --open\n"
	      "  -S, --since TIME  -U, --until TIME   (journalctl's syntax: \"2026-12-04 10:00\", "
	      "-10min, today)\n"
	      "Output:\n"
	      "  -o, --output text|json  --by port|rport|rhost|unit|netns (stats)  --utc\n"
	      "  -h, --help  --version\n",
	      f);
}

static int bad_usage(const char *what, const char *arg)
{
	fprintf(stderr, "tcpstatectl: %s: %s\n", what, arg);
	usage(stderr);
	return -EINVAL;
}

static int64_t realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A number in [MIN, MAX]. Returns 0 or -EINVAL. */
static int parse_number(const char *s, unsigned long long min, unsigned long long max,
                        unsigned long long *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

enum {
	OPT_JOURNAL = 256,
	OPT_PORT,
	OPT_HOST,
	OPT_UNIT,
	OPT_COMM,
	OPT_COOKIE,
	OPT_NETNS,
	OPT_STATE,
	OPT_OUTCOME,
	OPT_OPEN,
	OPT_BY,
	OPT_UTC,
	OPT_VERSION,
};

static const struct option long_options[] = {
    {"file", required_argument, NULL, 'f'},
    {"config", required_argument, NULL, 'c'},
    {"journal", no_argument, NULL, OPT_JOURNAL},
    {"directory", required_argument, NULL, 'D'},
    {"port", required_argument, NULL, OPT_PORT},
    {"host", required_argument, NULL, OPT_HOST},
    {"unit", required_argument, NULL, OPT_UNIT},
    {"comm", required_argument, NULL, OPT_COMM},
    {"cookie", required_argument, NULL, OPT_COOKIE},
    {"netns", required_argument, NULL, OPT_NETNS},
    {"state", required_argument, NULL, OPT_STATE},
    {"outcome", required_argument, NULL, OPT_OUTCOME},
    {"open", no_argument, NULL, OPT_OPEN},
    {"since", required_argument, NULL, 'S'},
    {"until", required_argument, NULL, 'U'},
    {"output", required_argument, NULL, 'o'},
    {"by", required_argument, NULL, OPT_BY},
    {"utc", no_argument, NULL, OPT_UTC},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* One filter option. Returns 0 or -EINVAL (reported). */
static int filter_option(struct options *o, int c, const char *arg)
{
	struct ctl_select *s = &o->sel;
	unsigned long long v;
	int i;

	switch (c) {
	case OPT_PORT:
		if (parse_number(arg, 0, 65535, &v) < 0)
			return bad_usage("--port wants a port number", arg);
		s->port = (int)v;
		return 0;
	case OPT_HOST:
		return select_set_host(s, arg) < 0 ? bad_usage("--host wants ADDR[/LEN]", arg) : 0;
	case OPT_UNIT:
		s->unit = arg;
		return 0;
	case OPT_COMM:
		s->comm = arg;
		return 0;
	case OPT_COOKIE:
		if (parse_number(arg, 1, UINT64_MAX, &v) < 0)
			return bad_usage("--cookie wants a socket cookie", arg);
		s->cookie = v;
		return 0;
	case OPT_NETNS:
		if (select_set_netns(s, arg) < 0)
			return bad_usage("--netns wants a namespace's name, a glob or an inode",
			                 arg);
		o->out.netns = 1;
		return 0;
	case OPT_STATE:
		i = sock_state_from_name(arg);
		if (i <= 0)
			return bad_usage("--state wants a TCP state (ESTABLISHED, TIME_WAIT, ...)",
			                 arg);
		s->state = i;
		return 0;
	case OPT_OUTCOME:
		i = strcmp(arg, "fin") == 0 ? CONN_OUTCOME_FIN : conn_outcome_from_name(arg);
		if (i < 0 && i != CONN_OUTCOME_FIN)
			return bad_usage(
			    "--outcome wants fin (local-close, remote-close, simultaneous-close), "
			    "closed, reset, refused, timeout, handshake-failed, short, open, ...",
			    arg);
		s->outcome = i;
		return 0;
	case OPT_OPEN:
		s->open_only = 1;
		return 0;
	case 'S':
	case 'U':
		if (select_parse_time(arg, realtime_us(), c == 'S' ? &s->since_us : &s->until_us) <
		    0)
			return bad_usage(c == 'S' ? "--since: not a time" : "--until: not a time",
			                 arg);
		return 0;
	default:
		return 1;
	}
}

/* The other options. Returns 0, 1 to exit 0 (--help), or -EINVAL. */
static int other_option(struct options *o, int c, const char *arg)
{
	switch (c) {
	case 'f':
		if (o->nfiles == FILES_MAX)
			return bad_usage("too many files", arg);
		o->files[o->nfiles++] = arg;
		return 0;
	case 'c':
		o->config = arg;
		return 0;
	case OPT_JOURNAL:
		o->journal = 1;
		return 0;
	case 'D':
		o->journal_dir = arg;
		o->out.hosts = 1;
		return 0;
	case 'o':
		if (strcmp(arg, "text") && strcmp(arg, "json"))
			return bad_usage("--output wants text or json", arg);
		o->out.format = arg[0] == 'j' ? OUT_JSON : OUT_TEXT;
		return 0;
	case OPT_BY:
		if (strcmp(arg, "port") && strcmp(arg, "rport") && strcmp(arg, "rhost") &&
		    strcmp(arg, "unit") && strcmp(arg, "netns"))
			return bad_usage("--by wants port, rport, rhost, unit or netns", arg);
		o->by = arg;
		return 0;
	case OPT_UTC:
		o->out.utc = 1;
		return 0;
	case 'h':
		usage(stdout);
		return 1;
	case OPT_VERSION:
		puts("tcpstatectl " TCPSTATED_VERSION);
		return 1;
	default:
		usage(stderr);
		return -EINVAL;
	}
}

static const struct verb *verb_named(const char *name)
{
	static const struct verb *const verbs[] = {&verb_list, &verb_show, &verb_follow,
	                                           &verb_stats};

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i]->name, name) == 0)
			return verbs[i];
	return NULL;
}

/* Returns 0, 1 to exit 0 at once, or -EINVAL. */
static int parse_options(struct options *o, int argc, char **argv)
{
	const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");
	int c, r;

	memset(o, 0, sizeof(*o));
	select_init(&o->sel);
	o->verb = &verb_list;
	o->config = CONFIG_DEFAULT_PATH;
	o->by = "port";
	o->out.f = stdout;
	o->out.color = isatty(STDOUT_FILENO) && !(no_color && *no_color) &&
	               !(term && strcmp(term, "dumb") == 0);
	while ((c = getopt_long(argc, argv, "f:c:D:S:U:o:h", long_options, NULL)) != -1) {
		r = filter_option(o, c, optarg);
		if (r == 1)
			r = other_option(o, c, optarg);
		if (r != 0)
			return r;
	}
	if (optind < argc) {
		o->verb = verb_named(argv[optind]);
		if (!o->verb)
			return bad_usage("no such verb", argv[optind]);
		optind++;
	}
	if (optind < argc)
		return bad_usage("unexpected argument", argv[optind]);
	if ((o->journal || o->journal_dir) && o->nfiles)
		return bad_usage("files and the journal are two sources", "choose one");
	if (o->verb == &verb_follow && o->nfiles > 1)
		return bad_usage("follow reads one file", o->files[1]);
	return 0;
}

/* What the tool takes from the daemon's configuration. */
struct log_setting {
	char path[PATH_MAX]; /* [log] path, unquoted */
	int line;            /* where it was given, 0 if not */
};

/*
 * inifile's handler: keeps [log] path, the one key the tool needs, read by
 * the daemon's own rules. The daemon checks the rest; its key table
 * (config.c) would bring the log writer along.
 */
static int config_key(void *user, const char *section, const char *key, const char *value,
                      int lineno, char *err, size_t errlen)
{
	struct log_setting *s = user;
	char inside[PATH_MAX];
	const char *bare;

	if (!key || strcmp(section, "log") != 0 || strcmp(key, "path") != 0)
		return 0;
	if (s->line) {
		snprintf(err, errlen, "[log] path: given twice (first at line %d)", s->line);
		return -EINVAL;
	}
	bare = inifile_unquote(value, inside, sizeof(inside));
	if (!bare || bare[0] == '\0') {
		snprintf(err, errlen, "[log] path: %s",
		         bare ? "empty value" : "unmatched quote (quotes are optional)");
		return -EINVAL;
	}
	snprintf(s->path, sizeof(s->path), "%s", bare);
	s->line = lineno;
	return 0;
}

/*
 * The log the daemon's configuration CONFIG names, into BUF of PATH_MAX
 * bytes; without the file, the daemon's default. Returns 0 or -errno
 * (reported, with FILE:LINE for a line the daemon would refuse too).
 */
static int configured_log(const char *config, char *buf)
{
	struct log_setting s = {.path = CONFIG_DEFAULT_LOG};
	char err[INIFILE_ERR_MAX];
	int r = inifile_parse_file(config, config_key, &s, err, sizeof(err));

	if (r < 0 && r != -ENOENT) {
		fprintf(stderr, "tcpstatectl: %s\n", err);
		return r;
	}
	if (strcmp(s.path, "-") == 0) {
		fprintf(stderr, "tcpstatectl: %s logs to standard output: use -f\n", config);
		return -ENOENT;
	}
	snprintf(buf, PATH_MAX, "%s", s.path);
	return 0;
}

/* Reads every source the options name. Returns 0 or -errno. */
static int read_sources(struct options *o, struct feed *fd)
{
	int follow = o->verb == &verb_follow, err = 0;
	char log[PATH_MAX];
	char **paths = NULL;
	size_t n = 0;

	if (o->journal || o->journal_dir)
		return feed_journal(fd, o->journal_dir, follow);
	if (follow && o->nfiles)
		return feed_follow(fd, o->files[0]);
	for (size_t i = 0; i < o->nfiles && err == 0; i++)
		err = feed_file(fd, o->files[i], 0);
	if (o->nfiles)
		return err;
	if (configured_log(o->config, log) < 0)
		return 0;
	if (follow)
		return feed_follow(fd, log);
	err = source_rotated(log, &paths, &n);
	if (err < 0) {
		fprintf(stderr, "tcpstatectl: %s: %s\n", log, strerror(-err));
		return 0;
	}
	for (size_t i = 0; i < n && err == 0; i++)
		err = feed_file(fd, paths[i], 1);
	source_paths_free(paths, n);
	return err;
}

int main(int argc, char **argv)
{
	struct options o;
	struct verb_ctx v = {.now_us = INT64_MIN};
	struct feed fd = {.stop = &stop};
	struct sigaction sa = {.sa_handler = on_signal};
	int r = parse_options(&o, argc, argv), err;

	if (r != 0)
		return r > 0 ? 0 : EXIT_USAGE;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_DFL);
	v.out = &o.out;
	v.sel = &o.sel;
	v.by = o.by;
	fd.sel = &o.sel;
	fd.verb = &v;
	fd.table = conn_table_new(o.verb->step, o.verb->done, &v);
	if (!fd.table || (o.verb->begin && o.verb->begin(&v) < 0)) {
		fprintf(stderr, "tcpstatectl: out of memory\n");
		return EXIT_SOFTWARE;
	}
	err = read_sources(&o, &fd);
	/* What follow was stopped in the middle of is not finished. */
	if (err == 0 && o.verb != &verb_follow)
		conn_table_flush(fd.table);
	if (o.verb->end)
		o.verb->end(&v);
	conn_table_free(fd.table);
	fflush(stdout);
	source_report_print(&fd.rep, "tcpstatectl");
	if (err < 0) {
		fprintf(stderr, "tcpstatectl: %s\n", strerror(-err));
		return EXIT_SOFTWARE;
	}
	return fd.opened ? 0 : EXIT_NOINPUT;
}
