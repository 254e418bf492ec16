/* test_config.c - the configuration: defaults, every key, every error, round trip. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

#define MIB (1024ULL * 1024)

static char err[CONFIG_ERR_MAX];
static char tmpdir[] = "/tmp/test_config.XXXXXX";

/* Loads TEXT, named "t.conf", over the defaults into *CFG. */
static int load(struct config *cfg, const char *text)
{
	config_defaults(cfg);
	err[0] = '\0';
	return config_load_string(cfg, "t.conf", text, err, sizeof(err));
}

/* Loads TEXT and expects -EINVAL with exactly the message MSG. */
#define CHECK_LOAD_ERROR(text, msg)                                                                \
	do {                                                                                       \
		struct config c_;                                                                  \
		CHECK_INT(load(&c_, text), -EINVAL);                                               \
		CHECK_STR(err, msg);                                                               \
	} while (0)

/* Sets one key on the defaults and expects success. */
static int set(struct config *cfg, const char *section, const char *key, const char *value)
{
	config_defaults(cfg);
	err[0] = '\0';
	return config_set(cfg, section, key, value, err, sizeof(err));
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void test_defaults(void)
{
	struct config cfg;

	memset(&cfg, 0xa5, sizeof(cfg));
	config_defaults(&cfg);
	CHECK_INT(cfg.interval_ms, 100);
	CHECK_STR(cfg.log_path, "/var/log/tcpstated/transitions.log");
	CHECK_INT(cfg.log.format, RECORD_TEXT);
	CHECK_INT(cfg.log.max_size, 100 * MIB);
	CHECK(cfg.destroy_events);
	CHECK_INT(cfg.event_buffer, 0);
	CHECK_INT(cfg.event_batch_ms, 10);
	CHECK_INT(cfg.log.keep, 10);
	CHECK(!cfg.log.compress);
	CHECK_INT(cfg.log.fsync, LOGFILE_FSYNC_ROTATE);
	CHECK_INT(cfg.log.fsync_interval_ms, 1000);
	CHECK_INT(cfg.log.mode, 0640);
	CHECK(cfg.journal);
	CHECK_INT(cfg.journal_rate, 200);
	CHECK_INT(cfg.journal_burst, 2000);

	/* An empty file, and one of comments only, change nothing. */
	struct config def = cfg;
	CHECK_INT(load(&cfg, ""), 0);
	CHECK(memcmp(&cfg, &def, sizeof(cfg)) == 0);
	CHECK_INT(load(&cfg, "; a comment\n# another\n\n   \n\t\n"), 0);
	CHECK(memcmp(&cfg, &def, sizeof(cfg)) == 0);
}

#define NETNS_EXPECT                                                                               \
	"a name in /run/netns, a path such as /proc/PID/ns/net, all, or a list such as blue "      \
	"web-* "                                                                                   \
	"/run/docker/netns/*"

static void test_netns(void)
{
	struct config cfg;

	config_defaults(&cfg);
	CHECK_STR(cfg.netns, "");
	CHECK_INT(load(&cfg, "[poll]\nnetns = blue\n"), 0);
	CHECK_STR(cfg.netns, "blue");
	CHECK_INT(load(&cfg, "[poll]\nnetns = /proc/1/ns/net\n"), 0);
	CHECK_STR(cfg.netns, "/proc/1/ns/net");
	/* Empty: the namespace tcpstated runs in, as config_print() writes it. */
	CHECK_INT(load(&cfg, "[poll]\nnetns =\n"), 0);
	CHECK_STR(cfg.netns, "");
	CHECK_INT(set(&cfg, "poll", "netns", ".."), -EINVAL);
	CHECK_STR(err, "[poll] netns: \"..\" is not a namespace name, expected " NETNS_EXPECT
	               ", or nothing (the namespace tcpstated runs in)");
	CHECK_LOAD_ERROR("[poll]\nnetns = a\tb\n",
	                 "t.conf:2: [poll] netns: invalid value \"a?b\" (control character), "
	                 "expected " NETNS_EXPECT ", or nothing (the namespace tcpstated runs in)");
}

/* Dynamic mode: "all", or a list of names, paths and globs, kept as written. */
static void test_netns_list(void)
{
	struct config cfg;

	CHECK_INT(load(&cfg, "[poll]\nnetns = all\n"), 0);
	CHECK_STR(cfg.netns, "all");
	CHECK_INT(load(&cfg, "[poll]\nnetns = blue web-*  /run/docker/netns/*\n"), 0);
	CHECK_STR(cfg.netns, "blue web-*  /run/docker/netns/*");
	CHECK_INT(load(&cfg, "[poll]\nnetns = \"c[0-9] /proc/1/ns/net\"\n"), 0);
	CHECK_STR(cfg.netns, "c[0-9] /proc/1/ns/net");
	CHECK_INT(set(&cfg, "poll", "netns", "web-*"), 0);
	CHECK_STR(cfg.netns, "web-*");
	/* Each item is checked; the message names the bad one, with file and line. */
	CHECK_LOAD_ERROR("[poll]\ninterval_ms = 100\nnetns = blue web-[ab\n",
	                 "t.conf:3: [poll] netns: \"web-[ab\" has a \"[\" that no \"]\" closes, "
	                 "expected " NETNS_EXPECT ", or nothing (the namespace tcpstated runs in)");
	CHECK_LOAD_ERROR("[poll]\nnetns = all blue\n",
	                 "t.conf:2: [poll] netns: \"all\" matches every namespace: write it alone, "
	                 "expected " NETNS_EXPECT ", or nothing (the namespace tcpstated runs in)");
	CHECK_INT(set(&cfg, "poll", "netns", "blue run/x"), -EINVAL);
	CHECK_STR(err,
	          "[poll] netns: \"run/x\" is a relative path: in a list, paths begin with "
	          "/, expected " NETNS_EXPECT ", or nothing (the namespace tcpstated runs in)");
	CHECK_INT(set(&cfg, "poll", "netns", "blue ; red"), -EINVAL);
	CHECK_CONTAINS(err, "which begins a comment");
}

static void test_metrics_keys(void)
{
	struct config cfg;

	config_defaults(&cfg);
	CHECK(cfg.metrics);
	CHECK_STR(cfg.metrics_path, "/var/lib/prometheus/node-exporter/tcpstated.prom");
	CHECK_INT(cfg.metrics_interval_s, 15);
	CHECK_INT(cfg.metrics_units, 0);
	CHECK_INT(load(&cfg, "[metrics]\n"
	                     "enabled = no\n"
	                     "path = /run/m.prom\n"
	                     "interval = 60\n"
	                     "units = 20\n"),
	          0);
	CHECK(!cfg.metrics);
	CHECK_STR(cfg.metrics_path, "/run/m.prom");
	CHECK_INT(cfg.metrics_interval_s, 60);
	CHECK_INT(cfg.metrics_units, 20);
	CHECK_LOAD_ERROR("[metrics]\ninterval = 0\n",
	                 "t.conf:2: [metrics] interval: 0 is out of range, expected a whole number "
	                 "from 1 to 3600");
	CHECK_LOAD_ERROR("[metrics]\nunits = 1001\n",
	                 "t.conf:2: [metrics] units: 1001 is out of range, expected a whole number "
	                 "from 0 to 1000");
}

static void test_filter_keys(void)
{
	struct config cfg;

	CHECK_INT(load(&cfg, "[filter]\n"
	                     "ports = 80 443 8000-8100\n"
	                     "local_ports = 22\n"
	                     "remote_ports = 1-1023\n"
	                     "addresses = 10.0.0.0/8, ::1\n"
	                     "states = ESTABLISHED TIME_WAIT\n"),
	          0);
	CHECK_STR(err, "");
	CHECK_INT(cfg.filter.ports.n, 3);
	CHECK_INT(cfg.filter.local_ports.r[0].lo, 22);
	CHECK_INT(cfg.filter.remote_ports.r[0].hi, 1023);
	CHECK_INT(cfg.filter.addrs.n, 2);
	CHECK_INT(cfg.filter.states, (1u << SOCK_ESTABLISHED) | (1u << SOCK_TIME_WAIT));
	/* Empty: no filter, as config_print() writes it. */
	CHECK_INT(load(&cfg, "[filter]\nports =\nstates =\n"), 0);
	CHECK_INT(cfg.filter.ports.n, 0);
	CHECK_INT(cfg.filter.states, 0);
	CHECK_LOAD_ERROR("[filter]\nports = 80 0x50\n",
	                 "t.conf:2: [filter] ports: \"0x50\" is not a port, expected ports or "
	                 "ranges such as 80 443 8000-8100, or nothing (any port)");
	CHECK_LOAD_ERROR("\n[filter]\naddresses = 10.0.0.1/8\n",
	                 "t.conf:3: [filter] addresses: \"10.0.0.1/8\" has bits set past the "
	                 "prefix length, expected addresses or prefixes such as 10.0.0.0/8 ::1, "
	                 "or nothing (any address)");
	CHECK_LOAD_ERROR("[filter]\nstates = ESTABLISHED TIMEWAIT\n",
	                 "t.conf:2: [filter] states: \"TIMEWAIT\" is not a TCP state (LISTEN "
	                 "SYN_SENT SYN_RECV ESTABLISHED FIN_WAIT1 FIN_WAIT2 CLOSE_WAIT CLOSING "
	                 "LAST_ACK TIME_WAIT CLOSE, or as ss spells them), expected TCP states "
	                 "such as ESTABLISHED TIME_WAIT, or nothing (every state)");
	CHECK_LOAD_ERROR("[filter]\nport = 80\n",
	                 "t.conf:2: [filter] port: unknown key (expected ports, local_ports, "
	                 "remote_ports, addresses or states)");
}

static void test_good_file(void)
{
	struct config cfg;

	CHECK_INT(load(&cfg, "# every key\n"
	                     "[poll]\n"
	                     "interval_ms = 250\n"
	                     "\n"
	                     "[log]\n"
	                     "path=/tmp/x.log\n"
	                     "format   =   json   ; inline comment\n"
	                     "max_size = 1G\n"
	                     "keep = 1000\n"
	                     "[journal]\n"
	                     "enabled = No\n"
	                     "rate = 50\n"),
	          0);
	CHECK_STR(err, "");
	CHECK_INT(cfg.interval_ms, 250);
	CHECK_STR(cfg.log_path, "/tmp/x.log");
	CHECK_INT(cfg.log.format, RECORD_JSON);
	CHECK_INT(cfg.log.max_size, 1024 * MIB);
	CHECK_INT(cfg.log.keep, 1000);
	CHECK(!cfg.journal);
	CHECK_INT(cfg.journal_rate, 50);
	CHECK_INT(cfg.journal_burst, 2000);

	/* Keys not in the file keep what CFG held. */
	CHECK_INT(load(&cfg, "[log]\nkeep = 3\n"), 0);
	CHECK_INT(cfg.log.keep, 3);
	CHECK_INT(cfg.interval_ms, 100);

	/* CRLF line ends, a byte order mark, no final newline, a section twice. */
	CHECK_INT(load(&cfg, "\xEF\xBB\xBF[poll]\r\ninterval_ms = 10\r\n[log]\r\n[poll]\r\n"
	                     "[log]\nkeep = 7"),
	          0);
	CHECK_INT(cfg.interval_ms, 10);
	CHECK_INT(cfg.log.keep, 7);

	/* A '#' or ';' inside a value without a blank before it is part of it. */
	CHECK_INT(load(&cfg, "[log]\npath = /tmp/a;b#c\n"), 0);
	CHECK_STR(cfg.log_path, "/tmp/a;b#c");

	/* A relative path is accepted; "-" is standard output. */
	CHECK_INT(load(&cfg, "[log]\npath = -\n"), 0);
	CHECK_STR(cfg.log_path, "-");
	CHECK_INT(load(&cfg, "[log]\npath = logs/x.log\n"), 0);
	CHECK_STR(cfg.log_path, "logs/x.log");

	/* A lone carriage return is part of the line, not its end. */
	CHECK_INT(load(&cfg, "[poll]\ninterval_ms = 20\r0\n"), -EINVAL);
	CHECK_STR(err, "t.conf:2: [poll] interval_ms: invalid value \"20?0\", "
	               "expected a whole number from 10 to 60000");

	/* A section header may carry a comment. */
	CHECK_INT(load(&cfg, "[poll] ; the poller\ninterval_ms = 20\n"), 0);
	CHECK_INT(cfg.interval_ms, 20);
}

static void test_numbers(void)
{
	struct config cfg;

	CHECK_INT(set(&cfg, "poll", "interval_ms", "10"), 0);
	CHECK_INT(cfg.interval_ms, 10);
	CHECK_INT(set(&cfg, "poll", "interval_ms", "60000"), 0);
	CHECK_INT(cfg.interval_ms, 60000);
	CHECK_INT(set(&cfg, "poll", "interval_ms", "0100"), 0);
	CHECK_INT(cfg.interval_ms, 100);
	CHECK_INT(set(&cfg, "log", "keep", "1"), 0);
	CHECK_INT(cfg.log.keep, 1);

	static const char *const bad[] = {"100ms", "10 0", "-5",  "+50", "0x10", "1e3",
	                                  "1.5",   "abc",  " 50", "50 ", "100K"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(set(&cfg, "poll", "interval_ms", bad[i]), -EINVAL);
		CHECK_CONTAINS(err, "[poll] interval_ms: invalid value \"");
		CHECK_CONTAINS(err, "\", expected a whole number from 10 to 60000");
		CHECK_INT(cfg.interval_ms, 100);
	}
	CHECK_INT(set(&cfg, "poll", "interval_ms", "100ms"), -EINVAL);
	CHECK_STR(err, "[poll] interval_ms: invalid value \"100ms\", "
	               "expected a whole number from 10 to 60000");

	CHECK_INT(set(&cfg, "poll", "interval_ms", "9"), -EINVAL);
	CHECK_STR(err, "[poll] interval_ms: 9 is out of range, "
	               "expected a whole number from 10 to 60000");
	CHECK_INT(set(&cfg, "poll", "interval_ms", "60001"), -EINVAL);
	CHECK_CONTAINS(err, "60001 is out of range");
	CHECK_INT(set(&cfg, "poll", "interval_ms", "4294967396"), -EINVAL);
	CHECK_CONTAINS(err, "out of range");
	CHECK_INT(set(&cfg, "poll", "interval_ms", "99999999999999999999999"), -EINVAL);
	CHECK_CONTAINS(err, "99999999999999999999999 is out of range");
	CHECK_INT(set(&cfg, "poll", "interval_ms", ""), -EINVAL);
	CHECK_STR(err, "[poll] interval_ms: empty value, expected a whole number from 10 to 60000");

	CHECK_INT(set(&cfg, "log", "keep", "0"), -EINVAL);
	CHECK_STR(err, "[log] keep: 0 is out of range, expected a whole number from 1 to 1000");
	CHECK_INT(set(&cfg, "log", "keep", "1001"), -EINVAL);
	CHECK_CONTAINS(err, "1001 is out of range");
	CHECK_INT(set(&cfg, "log", "keep", "-1"), -EINVAL);
	CHECK_CONTAINS(err, "[log] keep: invalid value \"-1\"");
}

static void test_sizes(void)
{
	static const struct {
		const char *text;
		unsigned long long bytes;
	} good[] = {
	    {"0", 0},
	    {"4096", 4096},
	    {"4K", 4096},
	    {"4k", 4096},
	    {"4097", 4097},
	    {"100M", 100 * MIB},
	    {"100m", 100 * MIB},
	    {"3G", 3072 * MIB},
	    {"1024G", 1024ULL * 1024 * MIB},
	    {"1048576M", 1024ULL * 1024 * MIB},
	};
	static const char *const junk[] = {"100MB", "100 M", "1T",   "100MiB", "M",
	                                   "-4K",   "4.5M",  "K100", "100KK"};
	static const char *const range[] = {"1",     "4095",         "3K",
	                                    "1025G", "99999999999G", "18446744073709551616"};
	struct config cfg;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK_INT(set(&cfg, "log", "max_size", good[i].text), 0);
		CHECK_INT(cfg.log.max_size, good[i].bytes);
	}
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		CHECK_INT(set(&cfg, "log", "max_size", junk[i]), -EINVAL);
		CHECK_CONTAINS(err, "[log] max_size: invalid value");
		CHECK_INT(cfg.log.max_size, 100 * MIB);
	}
	for (i = 0; i < sizeof(range) / sizeof(range[0]); i++) {
		CHECK_INT(set(&cfg, "log", "max_size", range[i]), -EINVAL);
		CHECK_CONTAINS(err, "is out of range");
		CHECK_INT(cfg.log.max_size, 100 * MIB);
	}
	CHECK_INT(set(&cfg, "log", "max_size", "2K"), -EINVAL);
	CHECK_STR(err, "[log] max_size: 2K is out of range, expected 0 (never rotate) or a size "
	               "from 4K to 1024G (bytes, or with a suffix K, M or G)");
}

static void test_destroy_events(void)
{
	struct config cfg;

	CHECK_INT(set(&cfg, "poll", "destroy_events", "no"), 0);
	CHECK(!cfg.destroy_events);
	CHECK_INT(set(&cfg, "poll", "destroy_events", "maybe"), -EINVAL);
	CHECK_CONTAINS(err, "[poll] destroy_events: invalid value \"maybe\"");
	CHECK_INT(set(&cfg, "poll", "event_buffer", "64K"), 0);
	CHECK_INT(cfg.event_buffer, 64 * 1024);
	CHECK_INT(set(&cfg, "poll", "event_buffer", "1G"), 0);
	CHECK_INT(cfg.event_buffer, 1024 * MIB);
	/* 0, the default: what the system allows (a size is the admin's, and
	 * getting less is then worth a warning). */
	CHECK_INT(set(&cfg, "poll", "event_buffer", "0"), 0);
	CHECK_INT(cfg.event_buffer, 0);
	CHECK_INT(set(&cfg, "poll", "event_buffer", "1K"), -EINVAL);
	CHECK_STR(err, "[poll] event_buffer: 1K is out of range, expected 0 (as much as the "
	               "system allows, up to 16M) or a size from 4K to 1G (bytes, or with a "
	               "suffix K, M or G)");
	CHECK_INT(set(&cfg, "poll", "event_buffer", "2G"), -EINVAL);
	CHECK_CONTAINS(err, "is out of range");
	CHECK_INT(cfg.event_buffer, 0);
}

/* The hold-off between reads of the notification socket: 0 (read each one at
 * once) up to a second. */
static void test_event_batch(void)
{
	struct config cfg;

	CHECK_INT(set(&cfg, "poll", "event_batch_ms", "0"), 0);
	CHECK_INT(cfg.event_batch_ms, 0);
	CHECK_INT(set(&cfg, "poll", "event_batch_ms", "1000"), 0);
	CHECK_INT(cfg.event_batch_ms, 1000);
	CHECK_INT(set(&cfg, "poll", "event_batch_ms", "1001"), -EINVAL);
	CHECK_STR(err, "[poll] event_batch_ms: 1001 is out of range, "
	               "expected a whole number from 0 to 1000");
	CHECK_INT(set(&cfg, "poll", "event_batch_ms", "-1"), -EINVAL);
	CHECK_CONTAINS(err, "[poll] event_batch_ms: invalid value \"-1\"");
	CHECK_INT(set(&cfg, "poll", "event_batch_ms", "10ms"), -EINVAL);
	CHECK_CONTAINS(err, "[poll] event_batch_ms: invalid value \"10ms\"");
	CHECK_INT(cfg.event_batch_ms, 10);

	/* From a file: the value, and the line of a bad one. */
	CHECK_INT(load(&cfg, "[poll]\nevent_batch_ms = 25\n"), 0);
	CHECK_INT(cfg.event_batch_ms, 25);
	CHECK_INT(load(&cfg, "[poll]\ninterval_ms = 100\nevent_batch_ms = 5000\n"), -EINVAL);
	CHECK_STR(err, "t.conf:3: [poll] event_batch_ms: 5000 is out of range, "
	               "expected a whole number from 0 to 1000");
	CHECK_INT(load(&cfg, "[poll]\nevent_batch_ms =\n"), -EINVAL);
	CHECK_STR(err, "t.conf:2: [poll] event_batch_ms: empty value, "
	               "expected a whole number from 0 to 1000");
}

static void test_booleans(void)
{
	static const char *const yes[] = {"yes", "YES", "Yes", "true", "TRUE", "on", "On", "1"};
	static const char *const no[] = {"no", "NO", "false", "False", "off", "OFF", "0"};
	static const char *const bad[] = {"2", "yess", "y", "n", "enabled", "01", "yes no"};
	struct config cfg;
	size_t i;

	config_defaults(&cfg);
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		cfg.journal = false;
		CHECK_INT(config_set(&cfg, "journal", "enabled", yes[i], err, sizeof(err)), 0);
		CHECK(cfg.journal);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		cfg.journal = true;
		CHECK_INT(config_set(&cfg, "journal", "enabled", no[i], err, sizeof(err)), 0);
		CHECK(!cfg.journal);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(set(&cfg, "journal", "enabled", bad[i]), -EINVAL);
		CHECK_CONTAINS(err, "[journal] enabled: invalid value \"");
		CHECK_CONTAINS(err, "expected yes or no");
	}
	CHECK_INT(set(&cfg, "journal", "rate", "0"), -EINVAL);
	CHECK_INT(set(&cfg, "journal", "burst", "10000001"), -EINVAL);
	CHECK_INT(set(&cfg, "journal", "enabled", ""), -EINVAL);
	CHECK_CONTAINS(err, "[journal] enabled: empty value, expected yes or no");
}

static void test_format_and_path(void)
{
	struct config cfg;
	char *longpath;

	CHECK_INT(set(&cfg, "log", "format", "json"), 0);
	CHECK_INT(cfg.log.format, RECORD_JSON);
	CHECK_INT(set(&cfg, "log", "format", "text"), 0);
	CHECK_INT(cfg.log.format, RECORD_TEXT);
	CHECK_INT(set(&cfg, "log", "format", "xml"), -EINVAL);
	CHECK_STR(err, "[log] format: invalid value \"xml\", expected text or json");
	CHECK_INT(set(&cfg, "log", "format", "JSON"), -EINVAL);
	CHECK_INT(set(&cfg, "log", "format", ""), -EINVAL);
	CHECK_STR(err, "[log] format: empty value, expected text or json");

	CHECK_INT(set(&cfg, "log", "path", "/srv/t.log"), 0);
	CHECK_STR(cfg.log_path, "/srv/t.log");
	CHECK_INT(set(&cfg, "log", "path", ""), -EINVAL);
	CHECK_STR(err, "[log] path: empty value, expected a file name, or - for standard output");

	/* Paths config_print() could not write back faithfully. */
	CHECK_INT(set(&cfg, "log", "path", " /x"), -EINVAL);
	CHECK_CONTAINS(err, "leading or trailing whitespace");
	CHECK_INT(set(&cfg, "log", "path", "/x "), -EINVAL);
	CHECK_INT(set(&cfg, "log", "path", "/x\n[poll]"), -EINVAL);
	CHECK_STR(err, "[log] path: invalid value \"/x?[poll]\" (control character), "
	               "expected a file name, or - for standard output");
	CHECK_INT(set(&cfg, "log", "path", "/x ;y"), -EINVAL);
	CHECK_CONTAINS(err, "begins a comment");
	CHECK_INT(set(&cfg, "log", "path", ";x"), -EINVAL);
	CHECK_STR(cfg.log_path, "/var/log/tcpstated/transitions.log");

	longpath = malloc(PATH_MAX + 1);
	memset(longpath, 'a', PATH_MAX);
	longpath[0] = '/';
	longpath[PATH_MAX - 1] = '\0';
	CHECK_INT(set(&cfg, "log", "path", longpath), 0);
	CHECK_INT(strlen(cfg.log_path), PATH_MAX - 1);
	longpath[PATH_MAX - 1] = 'a';
	longpath[PATH_MAX] = '\0';
	CHECK_INT(set(&cfg, "log", "path", longpath), -EINVAL);
	CHECK_CONTAINS(err, "longer than PATH_MAX");
	/* The value is quoted cut short, not whole. */
	CHECK(strlen(err) < 300);
	CHECK_CONTAINS(err, "aaa...\" (value longer than PATH_MAX)");
	free(longpath);
}

static void test_set_unknown(void)
{
	struct config cfg;

	CHECK_INT(set(&cfg, "poll", "interval", "100"), -ENOENT);
	CHECK_STR(err,
	          "[poll] interval: unknown key (expected interval_ms, netns, netns_rescan_ms, "
	          "netns_budget, destroy_events, "
	          "event_buffer or event_batch_ms)");
	CHECK_INT(set(&cfg, "log", "size", "1"), -ENOENT);
	CHECK_STR(err, "[log] size: unknown key (expected path, format, max_size, keep, "
	               "compress, fsync, fsync_interval_ms or mode)");
	CHECK_INT(set(&cfg, "nope", "interval_ms", "100"), -ENOENT);
	CHECK_STR(err, "[nope]: unknown section (expected poll, log, journal, attribution, filter "
	               "or metrics)");

	/* No buffer, or a tiny one, is fine. */
	CHECK_INT(config_set(&cfg, "poll", "interval_ms", "x", NULL, 0), -EINVAL);
	char tiny[8];
	CHECK_INT(config_set(&cfg, "poll", "interval_ms", "x", tiny, sizeof(tiny)), -EINVAL);
	CHECK_STR(tiny, "[poll] ");
	CHECK_INT(config_load_string(&cfg, "t.conf", "[x]\n", NULL, 0), -EINVAL);
	CHECK_INT(config_load_string(&cfg, "t.conf", "[x]\n", tiny, sizeof(tiny)), -EINVAL);
	CHECK_STR(tiny, "t.conf:");
}

static void test_file_errors(void)
{
	CHECK_LOAD_ERROR("[poll]\ninterval_ms = 100\n[nope]\n",
	                 "t.conf:3: [nope]: unknown section (expected poll, log, journal, "
	                 "attribution, filter or metrics)");
	CHECK_LOAD_ERROR("[]\n", "t.conf:1: []: unknown section (expected poll, log, journal, "
	                         "attribution, filter or metrics)");
	CHECK_LOAD_ERROR("[ poll ]\n",
	                 "t.conf:1: [ poll ]: unknown section "
	                 "(expected poll, log, journal, attribution, filter or metrics)");
	CHECK_LOAD_ERROR("[poll]\ninterval = 100\n",
	                 "t.conf:2: [poll] interval: unknown key (expected interval_ms, netns, "
	                 "netns_rescan_ms, netns_budget, "
	                 "destroy_events, event_buffer or event_batch_ms)");
	/* A key in the wrong section is unknown there. */
	CHECK_LOAD_ERROR("[poll]\nkeep = 3\n", "t.conf:2: [poll] keep: unknown key (expected "
	                                       "interval_ms, netns, netns_rescan_ms, netns_budget, "
	                                       "destroy_events, event_buffer or event_batch_ms)");
	CHECK_LOAD_ERROR("interval_ms = 100\n",
	                 "t.conf:1: interval_ms: key before the first [section]");
	CHECK_LOAD_ERROR("[poll]\n\n\ninterval_ms = 100ms\n",
	                 "t.conf:4: [poll] interval_ms: invalid value \"100ms\", "
	                 "expected a whole number from 10 to 60000");
	CHECK_LOAD_ERROR("[poll]\ninterval_ms = 10 0\n",
	                 "t.conf:2: [poll] interval_ms: invalid value \"10 0\", "
	                 "expected a whole number from 10 to 60000");
	CHECK_LOAD_ERROR("[poll]\ninterval_ms = -100\n",
	                 "t.conf:2: [poll] interval_ms: invalid value \"-100\", "
	                 "expected a whole number from 10 to 60000");
	CHECK_LOAD_ERROR("[poll]\ninterval_ms = 5\n",
	                 "t.conf:2: [poll] interval_ms: 5 is out of range, "
	                 "expected a whole number from 10 to 60000");
	CHECK_LOAD_ERROR("[poll]\ninterval_ms =\n", "t.conf:2: [poll] interval_ms: empty value, "
	                                            "expected a whole number from 10 to 60000");
	CHECK_LOAD_ERROR("[poll]\ninterval_ms = ; nothing but a comment\n",
	                 "t.conf:2: [poll] interval_ms: empty value, "
	                 "expected a whole number from 10 to 60000");
	CHECK_LOAD_ERROR("[log]\nkeep = 0\n", "t.conf:2: [log] keep: 0 is out of range, "
	                                      "expected a whole number from 1 to 1000");
	CHECK_LOAD_ERROR("[log]\nformat = xml\n",
	                 "t.conf:2: [log] format: invalid value \"xml\", expected text or json");
	CHECK_LOAD_ERROR("[log]\npath =\n", "t.conf:2: [log] path: empty value, "
	                                    "expected a file name, or - for standard output");
	CHECK_LOAD_ERROR("[log]\nmax_size = 100MB\n",
	                 "t.conf:2: [log] max_size: invalid value \"100MB\", expected 0 (never "
	                 "rotate) or a size from 4K to 1024G (bytes, or with a suffix K, M or G)");
	CHECK_LOAD_ERROR("[journal]\nenabled = maybe\n",
	                 "t.conf:2: [journal] enabled: invalid value \"maybe\", "
	                 "expected yes or no (or true/false, on/off, 1/0)");

	/* Given twice, even with the same value, even in a repeated section. */
	CHECK_LOAD_ERROR("[poll]\n\ninterval_ms = 100\n[log]\n[poll]\ninterval_ms = 100\n",
	                 "t.conf:6: [poll] interval_ms: given twice (first at line 3)");

	/* Lines that are none of "[section]", "key = value" or a comment. */
	static const char *const syntax[] = {
	    "[poll]\ninterval_ms 100\n",     /* no '=' */
	    "[poll]\ninterval_ms: 100\n",    /* inih would take it */
	    "[poll]\n= 100\n",               /* no key */
	    "[poll]\ninterval_ms ; = 100\n", /* the '=' is in a comment */
	    "[poll]\n[log\n",                /* no ']' */
	    "[poll]\n[log ; x]\n",           /* the ']' is in a comment */
	    "[poll]\n[log] keep = 3\n",      /* text after the ']' */
	    "[poll]\nyes\n",
	};
	for (size_t i = 0; i < sizeof(syntax) / sizeof(syntax[0]); i++)
		CHECK_LOAD_ERROR(syntax[i],
		                 "t.conf:2: expected \"key = value\", \"[section]\" or a comment");

	/* Continuation lines, right after the key or after blanks and comments. */
	CHECK_LOAD_ERROR("[log]\npath = /var/log/a\n  b.log\n",
	                 "t.conf:3: [log] path: indented line "
	                 "(values cannot continue onto a second line)");
	CHECK_LOAD_ERROR("[log]\npath = /var/log/a\n\n# c\n\tkeep = 3\n",
	                 "t.conf:5: [log] path: indented line "
	                 "(values cannot continue onto a second line)");
	CHECK_LOAD_ERROR("[log]\npath = /var/log/a\n  [poll]\n",
	                 "t.conf:3: [log] path: indented line "
	                 "(values cannot continue onto a second line)");
	/* Indented lines that inih would take as keys or headers are refused too. */
	CHECK_LOAD_ERROR("[log]\n  keep = 3\n",
	                 "t.conf:2: indented line "
	                 "(keys and [section] headers start in the first column)");
	CHECK_LOAD_ERROR("  [log]\n", "t.conf:1: indented line "
	                              "(keys and [section] headers start in the first column)");
	/* A new section ends the previous key. */
	CHECK_LOAD_ERROR("[log]\nkeep = 3\n[poll]\n  interval_ms = 20\n",
	                 "t.conf:4: indented line "
	                 "(keys and [section] headers start in the first column)");

	/* The first error is the one reported. */
	CHECK_LOAD_ERROR("[poll]\ninterval_ms\n[nope]\n",
	                 "t.conf:2: expected \"key = value\", \"[section]\" or a comment");
	CHECK_LOAD_ERROR("[poll]\ninterval_ms = 1\n[nope]\nx\n",
	                 "t.conf:2: [poll] interval_ms: 1 is out of range, "
	                 "expected a whole number from 10 to 60000");
}

static void test_long_lines(void)
{
	char text[1024], line[300];
	struct config cfg;

	/* 197 characters is the longest line; CRLF does not count against it. */
	memset(line, 'x', 196);
	line[0] = '#';
	line[196] = '\0';
	snprintf(text, sizeof(text), "[poll]\n%sy\r\n%sy\ninterval_ms = 20\n", line, line);
	CHECK_INT(load(&cfg, text), 0);
	CHECK_INT(cfg.interval_ms, 20);

	snprintf(text, sizeof(text), "[poll]\n%sy\n%syz\ninterval_ms = 20\n", line, line);
	CHECK_INT(load(&cfg, text), -EINVAL);
	CHECK_STR(err, "t.conf:3: line longer than 197 characters");
	CHECK_INT(cfg.interval_ms, 100);

	/* A long value is refused, not cut and the rest read as a line of its own. */
	memset(line, '9', 250);
	line[250] = '\0';
	snprintf(text, sizeof(text), "[log]\npath = /%s\n", line);
	CHECK_INT(load(&cfg, text), -EINVAL);
	CHECK_STR(err, "t.conf:2: line longer than 197 characters");
	snprintf(text, sizeof(text), "[log]\n\n\n\npath = /%s", line);
	CHECK_INT(load(&cfg, text), -EINVAL);
	CHECK_STR(err, "t.conf:5: line longer than 197 characters");

	/* Line numbers stay right after long comments. */
	memset(line, 'x', 196);
	line[0] = ';';
	line[196] = '\0';
	snprintf(text, sizeof(text), "%s\n%s\n[poll]\nwhat = 1\n", line, line);
	CHECK_LOAD_ERROR(text, "t.conf:4: [poll] what: unknown key (expected interval_ms, netns, "
	                       "netns_rescan_ms, netns_budget, "
	                       "destroy_events, event_buffer or event_batch_ms)");
}

static void test_unchanged_on_error(void)
{
	struct config cfg, before;
	char path[PATH_MAX];

	config_defaults(&cfg);
	cfg.interval_ms = 1234;
	cfg.log.keep = 99;
	before = cfg;
	/* The error comes after good lines that set keys. */
	CHECK_INT(config_load_string(&cfg, "t.conf",
	                             "[poll]\ninterval_ms = 20\n[log]\nkeep = 5\nformat = xml\n",
	                             err, sizeof(err)),
	          -EINVAL);
	CHECK(memcmp(&cfg, &before, sizeof(cfg)) == 0);

	snprintf(path, sizeof(path), "%s/bad.conf", tmpdir);
	write_file(path, "[log]\nkeep = 5\nkeep = 6\n", 24);
	CHECK_INT(config_load_file(&cfg, path, err, sizeof(err)), -EINVAL);
	CHECK(memcmp(&cfg, &before, sizeof(cfg)) == 0);
	CHECK_CONTAINS(err, path);
	CHECK_CONTAINS(err, "/bad.conf:3: [log] keep: given twice (first at line 2)");

	/* config_set() too leaves the field alone on error. */
	CHECK_INT(config_set(&cfg, "log", "keep", "0", err, sizeof(err)), -EINVAL);
	CHECK_INT(config_set(&cfg, "log", "path", "", err, sizeof(err)), -EINVAL);
	CHECK(memcmp(&cfg, &before, sizeof(cfg)) == 0);
}

/* [log] compress, fsync, fsync_interval_ms and mode. */
static void test_log_keys(void)
{
	struct config cfg;

	CHECK_INT(set(&cfg, "log", "compress", "yes"), 0);
	CHECK(cfg.log.compress);
	CHECK_INT(set(&cfg, "log", "fsync", "never"), 0);
	CHECK_INT(cfg.log.fsync, LOGFILE_FSYNC_NEVER);
	CHECK_INT(set(&cfg, "log", "fsync", "interval"), 0);
	CHECK_INT(cfg.log.fsync, LOGFILE_FSYNC_INTERVAL);
	CHECK_INT(set(&cfg, "log", "fsync", "always"), -EINVAL);
	CHECK_STR(err, "[log] fsync: invalid value \"always\", expected never, rotate or interval");
	CHECK_INT(set(&cfg, "log", "fsync_interval_ms", "10"), 0);
	CHECK_INT(cfg.log.fsync_interval_ms, 10);
	CHECK_INT(set(&cfg, "log", "fsync_interval_ms", "9"), -EINVAL);
	CHECK_STR(err, "[log] fsync_interval_ms: 9 is out of range, expected a whole number "
	               "from 10 to 3600000");

	CHECK_INT(set(&cfg, "log", "mode", "0600"), 0);
	CHECK_INT(cfg.log.mode, 0600);
	CHECK_INT(set(&cfg, "log", "mode", "644"), 0);
	CHECK_INT(cfg.log.mode, 0644);
	CHECK_INT(set(&cfg, "log", "mode", "00660"), 0);
	CHECK_INT(cfg.log.mode, 0660);
	CHECK_INT(set(&cfg, "log", "mode", "0755"), -EINVAL);
	CHECK_STR(err, "[log] mode: 0755 is out of range, expected an octal file mode from 0600 "
	               "to 0666 with owner read and write (0600)");
	CHECK_INT(set(&cfg, "log", "mode", "0400"), -EINVAL);
	CHECK_CONTAINS(err, "0400 is out of range");
	CHECK_INT(set(&cfg, "log", "mode", "4640"), -EINVAL);
	CHECK_CONTAINS(err, "4640 is out of range");
	CHECK_INT(set(&cfg, "log", "mode", "0648"), -EINVAL);
	CHECK_CONTAINS(err, "invalid value \"0648\"");
	CHECK_INT(set(&cfg, "log", "mode", "rw-r-----"), -EINVAL);
	CHECK_INT(set(&cfg, "log", "mode", "0000640"), -EINVAL);
	CHECK_INT(set(&cfg, "log", "mode", "77777777777777777777777"), -EINVAL);
	CHECK_INT(set(&cfg, "log", "mode", " 0640"), -EINVAL);
}

/*
 * What people write out of habit from other files: quotes around a value,
 * '#' comments after one, a mode without its leading 0. Each works as they
 * mean it, or fails with what to write instead.
 */
static void test_habits(void)
{
	struct config cfg;

	/* Matching quotes are taken off, of any key; what is inside is the value. */
	CHECK_INT(load(&cfg, "[log]\npath = \"/tmp/q.log\"\nformat = 'json'\n"
	                     "[filter]\nports = \"80 443\"\n[poll]\nnetns = \"\"\n"),
	          0);
	CHECK_STR(cfg.log_path, "/tmp/q.log");
	CHECK_INT(cfg.log.format, RECORD_JSON);
	CHECK_INT(cfg.filter.ports.n, 2);
	CHECK_STR(cfg.netns, "");
	CHECK_INT(set(&cfg, "log", "path", "'/tmp/it is.log'"), 0);
	CHECK_STR(cfg.log_path, "/tmp/it is.log");
	CHECK_INT(set(&cfg, "log", "path", "/tmp/it's.log"), 0);
	CHECK_STR(cfg.log_path, "/tmp/it's.log");
	/* A quote at one end only, or quotes left inside quotes, are refused. */
	CHECK_LOAD_ERROR("[log]\npath = \"/tmp/q.log\n",
	                 "t.conf:2: [log] path: unmatched quote in the value \"/tmp/q.log "
	                 "(quotes are optional: write it without them), expected a file name, "
	                 "or - for standard output");
	CHECK_INT(set(&cfg, "log", "path", "\"/tmp/q.log'"), -EINVAL);
	CHECK_CONTAINS(err, "unmatched quote");
	CHECK_INT(set(&cfg, "log", "path", "\"'/tmp/q.log'\""), -EINVAL);
	CHECK_CONTAINS(err, "unmatched quote");
	CHECK_INT(set(&cfg, "poll", "interval_ms", "\""), -EINVAL);
	CHECK_CONTAINS(err, "unmatched quote");

	/* '#' after a blank begins a comment, as ';' does, on every kind of line. */
	CHECK_INT(load(&cfg, "[poll] # the poller\ninterval_ms = 250 # x\n"
	                     "netns = # none\n[log]\npath = /tmp/a#b # c ; d\n"),
	          0);
	CHECK_INT(cfg.interval_ms, 250);
	CHECK_STR(cfg.netns, "");
	CHECK_STR(cfg.log_path, "/tmp/a#b");
	CHECK_LOAD_ERROR("[log]\nformat = # json\n",
	                 "t.conf:2: [log] format: empty value, expected text or json");
	CHECK_LOAD_ERROR("[poll]\ninterval_ms #= 100\n",
	                 "t.conf:2: expected \"key = value\", \"[section]\" or a comment");
	/* So a path cannot hold one: it would not read back. */
	CHECK_INT(set(&cfg, "log", "path", "/tmp/a #b"), -EINVAL);
	CHECK_CONTAINS(err, "\";\" or \"#\" at the start or after a blank");
	CHECK_INT(set(&cfg, "log", "path", "#b"), -EINVAL);

	/* A mode is octal with or without its leading 0, as chmod(1) reads it. */
	CHECK_INT(load(&cfg, "[log]\nmode = 644\n"), 0);
	CHECK_INT(cfg.log.mode, 0644);
	CHECK_LOAD_ERROR("[log]\nmode = 420\n",
	                 "t.conf:2: [log] mode: 420 is out of range, expected an octal file mode "
	                 "from 0600 to 0666 with owner read and write (0600)");
}

static void test_round_trip(void)
{
	struct config cfg, back;
	char path[PATH_MAX];
	FILE *f;

	/* The defaults print as the documented file. */
	snprintf(path, sizeof(path), "%s/print.conf", tmpdir);
	config_defaults(&cfg);
	f = fopen(path, "w+");
	CHECK(f != NULL);
	config_print(&cfg, f);
	fflush(f);
	{
		char buf[2048];
		size_t n;

		rewind(f);
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		CHECK_STR(buf, "[poll]\n"
		               "interval_ms = 100\n"
		               "netns =\n"
		               "netns_rescan_ms = 1000\n"
		               "netns_budget = 20\n"
		               "destroy_events = yes\n"
		               "event_buffer = 0\n"
		               "event_batch_ms = 10\n"
		               "\n"
		               "[log]\n"
		               "path = /var/log/tcpstated/transitions.log\n"
		               "format = text\n"
		               "max_size = 100M\n"
		               "keep = 10\n"
		               "compress = no\n"
		               "fsync = rotate\n"
		               "fsync_interval_ms = 1000\n"
		               "mode = 0640\n"
		               "\n"
		               "[journal]\n"
		               "enabled = yes\n"
		               "rate = 200\n"
		               "burst = 2000\n"
		               "\n"
		               "[attribution]\n"
		               "cgroups = yes\n"
		               "processes = no\n"
		               "\n"
		               "[filter]\n"
		               "ports =\n"
		               "local_ports =\n"
		               "remote_ports =\n"
		               "addresses =\n"
		               "states =\n"
		               "\n"
		               "[metrics]\n"
		               "enabled = yes\n"
		               "path = /var/lib/prometheus/node-exporter/tcpstated.prom\n"
		               "interval = 15\n"
		               "units = 0\n");
	}
	fclose(f);

	/* Every key away from its default, sizes in each unit. */
	static const char *const sizes[] = {"0", "4097", "5K", "7M", "3G", "1024G"};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		config_defaults(&cfg);
		CHECK_INT(config_set(&cfg, "poll", "interval_ms", "60000", err, sizeof(err)), 0);
		CHECK_INT(config_set(&cfg, "log", "path", i % 2 ? "-" : "/tmp/a;b c.log", err,
		                     sizeof(err)),
		          0);
		CHECK_INT(config_set(&cfg, "log", "format", "json", err, sizeof(err)), 0);
		CHECK_INT(config_set(&cfg, "log", "max_size", sizes[i], err, sizeof(err)), 0);
		CHECK_INT(config_set(&cfg, "log", "keep", "1", err, sizeof(err)), 0);
		CHECK_INT(config_set(&cfg, "journal", "enabled", "off", err, sizeof(err)), 0);
		CHECK_INT(config_set(&cfg, "journal", "rate", "1", err, sizeof(err)), 0);
		CHECK_INT(config_set(&cfg, "journal", "burst", "10000000", err, sizeof(err)), 0);
		CHECK_INT(config_set(&cfg, "log", "compress", "yes", err, sizeof(err)), 0);
		CHECK_INT(config_set(&cfg, "log", "fsync", i % 2 ? "interval" : "never", err,
		                     sizeof(err)),
		          0);
		CHECK_INT(config_set(&cfg, "log", "fsync_interval_ms", "250", err, sizeof(err)), 0);
		CHECK_INT(config_set(&cfg, "log", "mode", i % 2 ? "600" : "0666", err, sizeof(err)),
		          0);

		f = fopen(path, "w");
		CHECK(f != NULL);
		config_print(&cfg, f);
		CHECK_INT(fclose(f), 0);

		config_defaults(&back);
		err[0] = '\0';
		CHECK_INT(config_load_file(&back, path, err, sizeof(err)), 0);
		CHECK_STR(err, "");
		CHECK_INT(back.interval_ms, cfg.interval_ms);
		CHECK_STR(back.log_path, cfg.log_path);
		CHECK_INT(back.log.format, cfg.log.format);
		CHECK_INT(back.log.max_size, cfg.log.max_size);
		CHECK_INT(back.log.keep, cfg.log.keep);
		CHECK_INT(back.journal, cfg.journal);
		CHECK(memcmp(&back, &cfg, sizeof(cfg)) == 0);
	}
}

/* Tries to read a mode-000 file as an unprivileged user; returns the result. */
static int load_as_nobody(const char *path)
{
	struct config cfg;
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(255);
		config_defaults(&cfg);
		if (config_load_file(&cfg, path, err, sizeof(err)) != -EACCES)
			_exit(1);
		_exit(strstr(err, path) && strstr(err, strerror(EACCES)) ? 0 : 2);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -ECHILD;
	return WEXITSTATUS(status);
}

static void test_load_file(void)
{
	struct config cfg, def;
	char path[PATH_MAX + 32], msg[PATH_MAX + 64];

	config_defaults(&def);

	/* The shipped file sets every key to its built-in default. */
	config_defaults(&cfg);
	cfg.interval_ms = 777;
	err[0] = '\0';
	CHECK_INT(config_load_file(&cfg, SOURCE_DIR "/conf/tcpstated.conf", err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK(memcmp(&cfg, &def, sizeof(cfg)) == 0);

	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	CHECK_INT(config_load_file(&cfg, path, err, sizeof(err)), -ENOENT);
	snprintf(msg, sizeof(msg), "%s: No such file or directory", path);
	CHECK_STR(err, msg);

	CHECK_INT(config_load_file(&cfg, tmpdir, err, sizeof(err)), -EISDIR);
	snprintf(msg, sizeof(msg), "%s: is a directory", tmpdir);
	CHECK_STR(err, msg);

	snprintf(path, sizeof(path), "%s/plain", tmpdir);
	write_file(path, "", 0);
	snprintf(path, sizeof(path), "%s/plain/x.conf", tmpdir);
	CHECK_INT(config_load_file(&cfg, path, err, sizeof(err)), -ENOTDIR);
	snprintf(msg, sizeof(msg), "%s: Not a directory", path);
	CHECK_STR(err, msg);

	/* A binary file stops at the NUL byte. */
	snprintf(path, sizeof(path), "%s/binary.conf", tmpdir);
	write_file(path,
	           "[poll]\ninterval_ms = 1\0"
	           "00\n",
	           26);
	CHECK_INT(config_load_file(&cfg, path, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "/binary.conf:2: NUL byte in line");
	CHECK(memcmp(&cfg, &def, sizeof(cfg)) == 0);

	/* A read error after a successful open: /proc/self/mem has no page 0. */
	CHECK_INT(config_load_file(&cfg, "/proc/self/mem", err, sizeof(err)), -EIO);
	CHECK_STR(err, "/proc/self/mem: Input/output error");

	/*
	 * Unreadable: root reads a mode-000 file anyway, so as root the check
	 * runs in a child that has become nobody. The directory must be
	 * searchable by nobody, or the error would come from it instead.
	 */
	snprintf(path, sizeof(path), "%s/secret.conf", tmpdir);
	write_file(path, "[poll]\n", 7);
	CHECK_INT(chmod(path, 0), 0);
	if (geteuid() != 0) {
		CHECK_INT(config_load_file(&cfg, path, err, sizeof(err)), -EACCES);
		snprintf(msg, sizeof(msg), "%s: Permission denied", path);
		CHECK_STR(err, msg);
	} else {
		CHECK_INT(chmod(tmpdir, 0755), 0);
		int r = load_as_nobody(path);
		if (r == 255)
			fprintf(stderr, "note: cannot become nobody; unreadable file not tested\n");
		else
			CHECK_INT(r, 0);
	}
}

static void remove_tmpdir(void)
{
	static const char *const names[] = {"bad.conf", "print.conf", "plain", "binary.conf",
	                                    "secret.conf"};
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
	rmdir(tmpdir);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_defaults();
	test_good_file();
	test_netns();
	test_netns_list();
	test_filter_keys();
	test_metrics_keys();
	test_numbers();
	test_sizes();
	test_destroy_events();
	test_event_batch();
	test_booleans();
	test_format_and_path();
	test_set_unknown();
	test_file_errors();
	test_long_lines();
	test_unchanged_on_error();
	test_log_keys();
	test_habits();
	test_round_trip();
	test_load_file();
	remove_tmpdir();
	return CHECK_DONE();
}
