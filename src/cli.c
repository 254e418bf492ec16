/*
 * cli.c - the command line, and the configuration it assembles.
 *
 * Its messages go straight to standard error, not through log.c: they are
 * for the person at the terminal, before there is a daemon.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdnoreturn.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "cli.h"
#include "log.h"

/* getopt_long()'s values for the options that have no short form. */
enum { OPT_ONCE = 256, OPT_NETNS };

/* The option, [section] and key of each override. */
static const struct {
	int opt; /* as getopt_long() returns it */
	const char *name;
	const char *section;
	const char *key;
} overrides[CLI_OVERRIDE_MAX] = {
    [CLI_INTERVAL] = {'i', "--interval-ms", "poll", "interval_ms"},
    [CLI_LOG_FILE] = {'l', "--log-file", "log", "path"},
    [CLI_FORMAT] = {'f', "--format", "log", "format"},
    [CLI_NETNS] = {OPT_NETNS, "--netns", "poll", "netns"},
};

#define SHORTOPTS ":c:i:l:f:nVh"

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

static void usage(FILE *f)
{
	fprintf(f, "Usage: tcpstated [OPTION]...\n"
	           "Watch TCP connections change state and log every transition.\n"
	           "\n"
	           "  -c, --config FILE      read FILE instead of " CONFIG_DEFAULT_PATH "\n"
	           "  -i, --interval-ms N    poll every N milliseconds ([poll] interval_ms)\n"
	           "  -l, --log-file PATH    write transitions to PATH, - for stdout ([log] path)\n"
	           "  -f, --format FORMAT    text or json ([log] format)\n"
	           "      --netns NAME|PATH  watch the network namespace NAME (in /run/netns) or\n"
	           "                         PATH (e.g. /proc/PID/ns/net) ([poll] netns); all,\n"
	           "                         or a list of names, paths and globs such as\n"
	           "                         \"blue web-* /run/docker/netns/*\", watches every\n"
	           "                         namespace that matches, as they come and go\n"
	           "      --once             print the current socket table (like ss -tan, or\n"
	           "                         JSON with --format json) to standard output and\n"
	           "                         exit; it uses [filter] and [attribution], no log\n"
	           "                         file (--log-file), journal or interval\n"
	           "  -n, --check-config     check the configuration, print it and exit\n"
	           "  -V, --version          print the version and exit\n"
	           "  -h, --help             print this help and exit\n"
	           "\n"
	           "Options override the configuration file. tcpstated stays in the foreground;\n"
	           "SIGTERM or SIGINT stop it, SIGHUP reloads the configuration and reopens the\n"
	           "log file, SIGUSR1 only reopens the log file.\n"
	           "See tcpstated(8) and tcpstated.conf(5).\n");
}

/* "tcpstated: PROBLEM" and the usage on standard error; exits 64. */
static noreturn __attribute__((format(printf, 1, 2))) void bad_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("tcpstated: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	exit(EX_USAGE);
}

/* Takes OPTARG as the override that getopt_long() returned as OPT; false if none is. */
static bool take_override(struct cli_options *o, int opt)
{
	for (int i = 0; i < CLI_OVERRIDE_MAX; i++) {
		if (overrides[i].opt == opt) {
			o->override[i] = optarg;
			return true;
		}
	}
	return false;
}

/*
 * The option that getopt_long() just refused, as the user wrote it, into BUF:
 * "--once" of "--once=yes", "-x" of "-nx". getopt's own optopt is no help
 * for a long option: it holds the option's value, which is a short option's
 * letter ('h' for --help=x) or a number past any letter (a NUL byte for
 * --once=yes). A long option is always consumed whole, so it is the element
 * before optind, when optind moved past it; a short one may sit in the middle
 * of a group that optind has not left yet.
 */
static const char *refused_option(char **argv, int prev_optind, char *buf, size_t size)
{
	const char *arg = optind > prev_optind ? argv[optind - 1] : "";

	if (strncmp(arg, "--", 2) == 0)
		snprintf(buf, size, "%.*s", (int)strcspn(arg, "="), arg);
	else
		snprintf(buf, size, "-%c", optopt);
	return buf;
}

/* The long options whose names begin with NAME (after its "--"), as a list into BUF. */
static size_t long_matches(const char *name, char *buf, size_t size)
{
	size_t n = 0, len = strcspn(name + 2, "=");

	buf[0] = '\0';
	for (const struct option *o = longopts; o->name; o++) {
		if (strncmp(o->name, name + 2, len) != 0)
			continue;
		snprintf(buf + strlen(buf), size - strlen(buf), "%s--%s", n ? " or " : "", o->name);
		n++;
	}
	return n;
}

/* Says what is wrong with the option getopt_long() refused as C; exits 64. */
static noreturn void refuse_option(int c, char **argv, int prev_optind)
{
	char name[64], matches[256];

	refused_option(argv, prev_optind, name, sizeof(name));
	if (c == ':')
		bad_usage("%s: missing argument", name);
	if (name[1] != '-')
		bad_usage("%s: unknown option", name);
	/* A long option that exists: given an argument it takes none. */
	if (optopt)
		bad_usage("%s: takes no argument", name);
	if (long_matches(name, matches, sizeof(matches)) > 1)
		bad_usage("%s: ambiguous option (%s)", name, matches);
	bad_usage("%s: unknown option", name);
}

/*
 * Checks each override's value as the configuration would take it, so that
 * a bad value on the command line is a bad command line (exit 64), named by
 * its option, whatever the file says.
 */
static void check_overrides(const struct cli_options *o)
{
	struct config scratch;
	char msg[512];

	config_defaults(&scratch);
	for (int i = 0; i < CLI_OVERRIDE_MAX; i++) {
		if (o->override[i] && config_set(&scratch, overrides[i].section, overrides[i].key,
		                                 o->override[i], msg, sizeof(msg)) < 0) {
			fprintf(stderr, "tcpstated: %s: %s\n", overrides[i].name, msg);
			exit(EX_USAGE);
		}
	}
}

void cli_parse_args(int argc, char **argv, struct cli_options *ret)
{
	int c, prev = optind;

	*ret = (struct cli_options){0};
	/* Our own messages for bad options: getopt's would start with argv[0]. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, SHORTOPTS, longopts, NULL)) != -1) {
		if (take_override(ret, c)) {
			prev = optind;
			continue;
		}
		switch (c) {
		case 'c':
			ret->config_path = optarg;
			break;
		case OPT_ONCE:
			ret->once = true;
			break;
		case 'n':
			ret->check_config = true;
			break;
		case 'V':
			printf("tcpstated " TCPSTATED_VERSION "\n");
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			refuse_option(c, argv, prev);
		}
		prev = optind;
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);
	check_overrides(ret);
}

int cli_build_config(const struct cli_options *opt, struct config *ret_cfg, const char **ret_source,
                     char *err, size_t errlen)
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
	for (int i = 0; i < CLI_OVERRIDE_MAX; i++) {
		char msg[512]; /* no file name in it: the value is cut short */

		if (!opt->override[i])
			continue;
		r = config_set(&cfg, overrides[i].section, overrides[i].key, opt->override[i], msg,
		               sizeof(msg));
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", overrides[i].name, msg);
			return r;
		}
	}
	*ret_cfg = cfg;
	*ret_source = path ? path : "built-in defaults";
	return 0;
}

void cli_load_config(const struct cli_options *opt, struct config *ret_cfg, const char **ret_source)
{
	char err[CONFIG_ERR_MAX];

	if (cli_build_config(opt, ret_cfg, ret_source, err, sizeof(err)) < 0)
		fatal(CONFIG_EXIT, "%s", err);
}

void cli_print_config(const struct config *cfg, const char *source)
{
	printf("# %s: configuration OK\n", source);
	config_print(cfg, stdout);
}
