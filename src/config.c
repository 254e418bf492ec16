/*
 * config.c - the configuration's keys: one table of them (section, name,
 * type, bounds, field, default) and one of what each type of key does (parse,
 * print, describe, empty), through which a value is set, a file loaded (read
 * by inifile.c) and the effective configuration printed in a form that loads
 * back unchanged.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "config.h"
#include "inifile.h"
#include "nsscan.h"
#include "util.h"

#define PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

#define KIB 1024ULL
#define MIB (1024ULL * KIB)
#define GIB (1024ULL * MIB)

enum key_type {
	KEY_UINT,   /* uint32_t, decimal, within [min, max] */
	KEY_SIZE,   /* uint64_t, decimal with an optional K, M or G suffix */
	KEY_BOOL,   /* bool, yes/no and the usual synonyms */
	KEY_FORMAT, /* enum record_format, by record_format_name() */
	KEY_PATH,   /* char[PATH_MAX], non-empty */
	KEY_FSYNC,  /* enum logfile_fsync, by logfile_fsync_name() */
	KEY_MODE,   /* unsigned, octal file mode: owner rw, nothing beyond 0666 */
	KEY_NETNS,  /* char[PATH_MAX]: one namespace, "all" or a list (nsscan.h); "" = ours */
	KEY_PORTS,  /* struct filter_ports: "80 443 8000-8100"; empty = any */
	KEY_ADDRS,  /* struct filter_addrs: "10.0.0.0/8 ::1"; empty = any */
	KEY_STATES, /* uint32_t state bits: "ESTABLISHED TIME_WAIT"; empty = all */
	KEY_TYPE_MAX
};

struct config_key {
	const char *section;
	const char *name;
	enum key_type type;
	uint64_t min, max; /* KEY_UINT, KEY_SIZE */
	const char *zero;  /* KEY_SIZE: what 0, outside [min, max], means */
	size_t offset;     /* of the field in struct config */
	const char *def;   /* the default, spelled as in the file */
};

#define FIELD(f) offsetof(struct config, f)

/*
 * Every key, grouped by section in the order config_print() writes them. The
 * defaults are text run through config_set(), so a default can never be a
 * value that the file itself would refuse.
 */
static const struct config_key keys[] = {
    {"poll", "interval_ms", KEY_UINT, 10, 60000, NULL, FIELD(interval_ms), "100"},
    {"poll", "netns", KEY_NETNS, 0, 0, NULL, FIELD(netns), ""},
    {"poll", "netns_rescan_ms", KEY_UINT, 100, 60000, NULL, FIELD(netns_rescan_ms), "1000"},
    {"poll", "netns_budget", KEY_UINT, 0, 100, NULL, FIELD(netns_budget), "20"},
    {"poll", "destroy_events", KEY_BOOL, 0, 0, NULL, FIELD(destroy_events), "yes"},
    {"poll", "event_buffer", KEY_SIZE, 4 * KIB, 1 * GIB, "as much as the system allows, up to 16M",
     FIELD(event_buffer), "0"},
    {"poll", "event_batch_ms", KEY_UINT, 0, 1000, NULL, FIELD(event_batch_ms), "10"},
    {"log", "path", KEY_PATH, 0, 0, NULL, FIELD(log_path), CONFIG_DEFAULT_LOG},
    {"log", "format", KEY_FORMAT, 0, 0, NULL, FIELD(log.format), "text"},
    {"log", "max_size", KEY_SIZE, 4 * KIB, 1024 * GIB, "never rotate", FIELD(log.max_size), "100M"},
    {"log", "keep", KEY_UINT, 1, 1000, NULL, FIELD(log.keep), "10"},
    {"log", "compress", KEY_BOOL, 0, 0, NULL, FIELD(log.compress), "no"},
    {"log", "fsync", KEY_FSYNC, 0, 0, NULL, FIELD(log.fsync), "rotate"},
    {"log", "fsync_interval_ms", KEY_UINT, 10, 3600000, NULL, FIELD(log.fsync_interval_ms), "1000"},
    {"log", "mode", KEY_MODE, 0, 0, NULL, FIELD(log.mode), "0640"},
    {"journal", "enabled", KEY_BOOL, 0, 0, NULL, FIELD(journal), "yes"},
    {"journal", "rate", KEY_UINT, 1, 1000000, NULL, FIELD(journal_rate), "200"},
    {"journal", "burst", KEY_UINT, 1, 10000000, NULL, FIELD(journal_burst), "2000"},
    {"attribution", "cgroups", KEY_BOOL, 0, 0, NULL, FIELD(attrib_cgroups), "yes"},
    {"attribution", "processes", KEY_BOOL, 0, 0, NULL, FIELD(attrib_processes), "no"},
    {"filter", "ports", KEY_PORTS, 0, 0, NULL, FIELD(filter.ports), ""},
    {"filter", "local_ports", KEY_PORTS, 0, 0, NULL, FIELD(filter.local_ports), ""},
    {"filter", "remote_ports", KEY_PORTS, 0, 0, NULL, FIELD(filter.remote_ports), ""},
    {"filter", "addresses", KEY_ADDRS, 0, 0, NULL, FIELD(filter.addrs), ""},
    {"filter", "states", KEY_STATES, 0, 0, NULL, FIELD(filter.states), ""},
    {"metrics", "enabled", KEY_BOOL, 0, 0, NULL, FIELD(metrics), "yes"},
    {"metrics", "path", KEY_PATH, 0, 0, NULL, FIELD(metrics_path),
     "/var/lib/prometheus/node-exporter/tcpstated.prom"},
    {"metrics", "interval", KEY_UINT, 1, 3600, NULL, FIELD(metrics_interval_s), "15"},
    {"metrics", "units", KEY_UINT, 0, 1000, NULL, FIELD(metrics_units), "0"},
};

#define KEY_COUNT UTIL_LEN(keys)

/* The longest value config_print() writes: a path, or a full filter list. */
#define VALUE_MAX PATH_MAX
_Static_assert(FILTER_MAX *(INET6_ADDRSTRLEN + 5) + 1 <= VALUE_MAX, "a [filter] list fits");

static const struct {
	const char *name;
	bool value;
} bool_names[] = {
    {"yes", true}, {"no", false},  {"true", true}, {"false", false},
    {"on", true},  {"off", false}, {"1", true},    {"0", false},
};

/* Appends to BUF (of LEN bytes, NUL-terminated) without overflowing it. */
static PRINTF(3, 4) void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(buf, len);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

static PRINTF(3, 4) void set_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Copies VALUE into BUF for quoting in a message. A value from the command
 * line can be any length and hold any byte, and the message ends up on a
 * terminal or in the journal, so it is cut short and control bytes are shown
 * as '?'.
 */
static const char *quote(char *buf, size_t len, const char *value)
{
	size_t i, n = strlen(value), keep = n < len ? n : len - 1;

	if (n >= len && len > 4)
		keep = len - 4;
	for (i = 0; i < keep; i++)
		buf[i] = iscntrl((unsigned char)value[i]) ? '?' : value[i];
	buf[i] = '\0';
	if (keep < n)
		append(buf, len, "...");
	return buf;
}

/* What goes before the Ith of N names in a list: "", ", " or " or ". */
static const char *list_sep(size_t i, size_t n)
{
	return i == 0 ? "" : i + 1 == n ? " or " : ", ";
}

/* "poll, log or journal": every section (SECTION NULL) or SECTION's keys. */
static void list_names(char *buf, size_t len, const char *section)
{
	const char *names[KEY_COUNT];
	size_t i, n = 0;

	for (i = 0; i < KEY_COUNT; i++) {
		if (section && strcmp(keys[i].section, section) == 0)
			names[n++] = keys[i].name;
		else if (!section && (i == 0 || strcmp(keys[i].section, keys[i - 1].section) != 0))
			names[n++] = keys[i].section;
	}
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		append(buf, len, "%s%s", list_sep(i, n), names[i]);
}

/* "text or json": the N names that NAME_OF gives, as a list. */
static void list_values(char *buf, size_t len, unsigned n, const char *(*name_of)(unsigned))
{
	for (unsigned i = 0; i < n; i++)
		append(buf, len, "%s%s", list_sep(i, n), name_of(i));
}

static bool section_known(const char *section)
{
	size_t i;

	for (i = 0; i < KEY_COUNT; i++)
		if (strcmp(keys[i].section, section) == 0)
			return true;
	return false;
}

/* Writes "[SECTION]: unknown section (expected ...)" into ERR. Returns -ENOENT. */
static int unknown_section(const char *section, char *err, size_t errlen)
{
	char names[96];

	list_names(names, sizeof(names), NULL);
	set_error(err, errlen, "[%s]: unknown section (expected %s)", section, names);
	return -ENOENT;
}

static const struct config_key *key_find(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < KEY_COUNT; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* Writes SIZE with the largest suffix that divides it exactly. */
static void spell_size(char *buf, size_t len, uint64_t size)
{
	if (size != 0 && size % GIB == 0)
		snprintf(buf, len, "%lluG", (unsigned long long)(size / GIB));
	else if (size != 0 && size % MIB == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(size / MIB));
	else if (size != 0 && size % KIB == 0)
		snprintf(buf, len, "%lluK", (unsigned long long)(size / KIB));
	else
		snprintf(buf, len, "%llu", (unsigned long long)size);
}

/*
 * Reads a decimal number, and with SUFFIX a K, M or G after it. Only digits:
 * strtoul() would take a sign, leading blanks and "0x", none of which belong
 * in this file. Returns 0, -EINVAL for anything else, -ERANGE past 2^64.
 */
static int parse_number(const char *s, bool suffix, uint64_t *ret)
{
	uint64_t n = 0, mult = 1;
	const char *p;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (p = s; isdigit((unsigned char)*p); p++) {
		if (n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (suffix && *p != '\0') {
		switch (*p++) {
		case 'K':
		case 'k':
			mult = KIB;
			break;
		case 'M':
		case 'm':
			mult = MIB;
			break;
		case 'G':
		case 'g':
			mult = GIB;
			break;
		default:
			return -EINVAL;
		}
	}
	if (*p != '\0')
		return -EINVAL;
	if (n > UINT64_MAX / mult)
		return -ERANGE;
	*ret = n * mult;
	return 0;
}

/*
 * A path is written back by config_print() as "path = VALUE", so it must
 * survive that line being parsed again: inih strips blanks at either end, a
 * ';' or '#' at the start or after a blank begins a comment, and a control
 * byte (a newline above all) would break the line. Returns what is wrong, or
 * NULL. (Quotes at its ends are refused for every key, by inifile_unquote().)
 */
static const char *path_problem(const char *value)
{
	size_t n = strlen(value), i;

	if (n >= PATH_MAX)
		return "value longer than PATH_MAX";
	if (isspace((unsigned char)value[0]) || isspace((unsigned char)value[n - 1]))
		return "leading or trailing whitespace";
	for (i = 0; i < n; i++) {
		if (iscntrl((unsigned char)value[i]))
			return "control character";
		if ((value[i] == ';' || value[i] == '#') &&
		    (i == 0 || isspace((unsigned char)value[i - 1])))
			return "\";\" or \"#\" at the start or after a blank, which begins a "
			       "comment";
	}
	return NULL;
}

/*
 * One value being set, as the per-type parsers below see it. A parser that
 * refuses the value says why in WHY, which config_set() turns into
 * "[section] key: WHY, expected ...".
 */
struct setting {
	const struct config_key *key;
	const char *value; /* as the file spells it, never empty */
	const char *shown; /* the same, fit for quoting in a message */
	char why[256];
};

static PRINTF(2, 3) int refuse(struct setting *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int refuse_invalid(struct setting *s)
{
	return refuse(s, "invalid value \"%s\"", s->shown);
}

/* A number of KEY_UINT or KEY_SIZE within the key's bounds (or 0, when that has a meaning). */
static int parse_bounded(struct setting *s, bool suffix, uint64_t *ret)
{
	const struct config_key *k = s->key;
	int r = parse_number(s->value, suffix, ret);

	if (r == -EINVAL)
		return refuse_invalid(s);
	if (r < 0 || ((*ret < k->min || *ret > k->max) && !(*ret == 0 && k->zero)))
		return refuse(s, "%s is out of range", s->shown);
	return 0;
}

static int parse_uint(struct setting *s, void *field)
{
	uint64_t n;
	int r = parse_bounded(s, false, &n);

	if (r == 0)
		*(uint32_t *)field = (uint32_t)n;
	return r;
}

static int parse_size(struct setting *s, void *field)
{
	uint64_t n;
	int r = parse_bounded(s, true, &n);

	if (r == 0)
		*(uint64_t *)field = n;
	return r;
}

static int parse_bool(struct setting *s, void *field)
{
	for (size_t i = 0; i < UTIL_LEN(bool_names); i++) {
		if (strcasecmp(s->value, bool_names[i].name) == 0) {
			*(bool *)field = bool_names[i].value;
			return 0;
		}
	}
	return refuse_invalid(s);
}

static int parse_format(struct setting *s, void *field)
{
	int r = record_format_from_name(s->value);

	if (r < 0)
		return refuse_invalid(s);
	*(enum record_format *)field = (enum record_format)r;
	return 0;
}

static int parse_fsync(struct setting *s, void *field)
{
	int r = logfile_fsync_from_name(s->value);

	if (r < 0)
		return refuse_invalid(s);
	*(enum logfile_fsync *)field = (enum logfile_fsync)r;
	return 0;
}

/*
 * Octal digits only; execute, set-id and sticky bits make no sense for a log,
 * and the daemon must be able to reopen its own file.
 */
static int parse_mode(struct setting *s, void *field)
{
	const char *v = s->value;
	uint64_t n = 0;
	size_t i;

	for (i = 0; v[i] >= '0' && v[i] <= '7' && n <= 07777; i++)
		n = n * 8 + (uint64_t)(v[i] - '0');
	if (v[i] != '\0' || i > 5)
		return refuse_invalid(s);
	if ((n & ~(uint64_t)0666) || (n & 0600) != 0600)
		return refuse(s, "%s is out of range", s->shown);
	*(unsigned *)field = (unsigned)n;
	return 0;
}

static int parse_path(struct setting *s, void *field)
{
	const char *problem = path_problem(s->value);

	if (problem)
		return refuse(s, "invalid value \"%s\" (%s)", s->shown, problem);
	memcpy(field, s->value, strlen(s->value) + 1);
	return 0;
}

/* One namespace, "all", or a list of names, paths and globs: each item is
 * checked by the scanner that will read it. */
static int parse_netns(struct setting *s, void *field)
{
	const char *problem = path_problem(s->value);

	if (problem)
		return refuse(s, "invalid value \"%s\" (%s)", s->shown, problem);
	if (nsscan_check(s->value, s->why, sizeof(s->why)) < 0)
		return -EINVAL;
	memcpy(field, s->value, strlen(s->value) + 1);
	return 0;
}

static int parse_ports(struct setting *s, void *field)
{
	return filter_parse_ports(s->value, field, s->why, sizeof(s->why));
}

static int parse_addrs(struct setting *s, void *field)
{
	return filter_parse_addrs(s->value, field, s->why, sizeof(s->why));
}

static int parse_states(struct setting *s, void *field)
{
	return filter_parse_states(s->value, field, s->why, sizeof(s->why));
}

static void print_uint(const void *field, char *buf, size_t len)
{
	snprintf(buf, len, "%u", (unsigned)*(const uint32_t *)field);
}

static void print_size(const void *field, char *buf, size_t len)
{
	spell_size(buf, len, *(const uint64_t *)field);
}

static void print_bool(const void *field, char *buf, size_t len)
{
	snprintf(buf, len, "%s", *(const bool *)field ? "yes" : "no");
}

static void print_format(const void *field, char *buf, size_t len)
{
	snprintf(buf, len, "%s", record_format_name(*(const enum record_format *)field));
}

static void print_fsync(const void *field, char *buf, size_t len)
{
	snprintf(buf, len, "%s", logfile_fsync_name(*(const enum logfile_fsync *)field));
}

static void print_mode(const void *field, char *buf, size_t len)
{
	snprintf(buf, len, "%04o", *(const unsigned *)field);
}

static void print_string(const void *field, char *buf, size_t len)
{
	snprintf(buf, len, "%s", (const char *)field);
}

static void print_ports(const void *field, char *buf, size_t len)
{
	filter_format_ports(field, buf, len);
}

static void print_addrs(const void *field, char *buf, size_t len)
{
	filter_format_addrs(field, buf, len);
}

static void print_states(const void *field, char *buf, size_t len)
{
	filter_format_states(*(const uint32_t *)field, buf, len);
}

static void expect_uint(const struct config_key *k, char *buf, size_t len)
{
	append(buf, len, "a whole number from %llu to %llu", (unsigned long long)k->min,
	       (unsigned long long)k->max);
}

static void expect_size(const struct config_key *k, char *buf, size_t len)
{
	char lo[32], hi[32];

	spell_size(lo, sizeof(lo), k->min);
	spell_size(hi, sizeof(hi), k->max);
	if (k->zero)
		append(buf, len, "0 (%s) or ", k->zero);
	append(buf, len, "a size from %s to %s (bytes, or with a suffix K, M or G)", lo, hi);
}

static void expect_format(const struct config_key *k, char *buf, size_t len)
{
	list_values(buf, len, RECORD_FORMAT_MAX, record_format_name);
}

static void expect_fsync(const struct config_key *k, char *buf, size_t len)
{
	list_values(buf, len, LOGFILE_FSYNC_MAX, logfile_fsync_name);
}

/* What a key of each type does: one row per enum key_type. */
struct config_type {
	/* Reads S->value into FIELD. Returns 0, or -EINVAL with S->why set. */
	int (*parse)(struct setting *s, void *field);
	/* Writes FIELD into BUF as the file spells it ("" for an empty value). */
	void (*print)(const void *field, char *buf, size_t len);
	/* Appends the "expected ..." part of a message, when it depends on the
	 * key; else it is EXPECT. */
	void (*expect_key)(const struct config_key *k, char *buf, size_t len);
	const char *expect;
	const char *empty; /* what an empty value means; NULL: it is an error */
	size_t empty_size; /* bytes an empty value clears: each is all zero bytes */
};

static const struct config_type types[KEY_TYPE_MAX] = {
    [KEY_UINT] = {parse_uint, print_uint, expect_uint, NULL, NULL, 0},
    [KEY_SIZE] = {parse_size, print_size, expect_size, NULL, NULL, 0},
    [KEY_BOOL] = {parse_bool, print_bool, NULL, "yes or no (or true/false, on/off, 1/0)", NULL, 0},
    [KEY_FORMAT] = {parse_format, print_format, expect_format, NULL, NULL, 0},
    [KEY_PATH] = {parse_path, print_string, NULL, "a file name, or - for standard output", NULL, 0},
    [KEY_FSYNC] = {parse_fsync, print_fsync, expect_fsync, NULL, NULL, 0},
    [KEY_MODE] = {parse_mode, print_mode, NULL,
                  "an octal file mode from 0600 to 0666 with owner read and write (0600)", NULL, 0},
    [KEY_NETNS] = {parse_netns, print_string, NULL,
                   "a name in /run/netns, a path such as /proc/PID/ns/net, all, or a list "
                   "such as blue web-* /run/docker/netns/*",
                   "the namespace tcpstated runs in", 1},
    [KEY_PORTS] = {parse_ports, print_ports, NULL, "ports or ranges such as 80 443 8000-8100",
                   "any port", sizeof(struct filter_ports)},
    [KEY_ADDRS] = {parse_addrs, print_addrs, NULL, "addresses or prefixes such as 10.0.0.0/8 ::1",
                   "any address", sizeof(struct filter_addrs)},
    [KEY_STATES] = {parse_states, print_states, NULL, "TCP states such as ESTABLISHED TIME_WAIT",
                    "every state", sizeof(uint32_t)},
};

/*
 * Writes "[section] key: PROBLEM, expected ..." into ERR and returns -EINVAL.
 * The expectation comes from the tables, so every message about a key's value
 * states the same rule.
 */
static int value_error(const struct config_key *k, const char *problem, char *err, size_t errlen)
{
	const struct config_type *t = &types[k->type];
	char expect[160] = "";

	if (t->expect_key)
		t->expect_key(k, expect, sizeof(expect));
	else
		append(expect, sizeof(expect), "%s", t->expect);
	if (t->empty)
		append(expect, sizeof(expect), ", or nothing (%s)", t->empty);
	set_error(err, errlen, "[%s] %s: %s, expected %s", k->section, k->name, problem, expect);
	return -EINVAL;
}

int config_set(struct config *cfg, const char *section, const char *key, const char *value,
               char *err, size_t errlen)
{
	char inside[VALUE_MAX];
	const char *bare;
	const struct config_key *k;
	const struct config_type *t;
	char names[160], shown[80];
	struct setting s;
	void *field;

	if (!section_known(section))
		return unknown_section(section, err, errlen);
	k = key_find(section, key);
	if (!k) {
		list_names(names, sizeof(names), section);
		set_error(err, errlen, "[%s] %s: unknown key (expected %s)", section, key, names);
		return -ENOENT;
	}
	t = &types[k->type];
	field = (char *)cfg + k->offset;
	/* The file's quote rule, for a value from the command line too. */
	bare = inifile_unquote(value, inside, sizeof(inside));
	if (!bare) {
		snprintf(s.why, sizeof(s.why),
		         "unmatched quote in the value %s (quotes are optional: write it "
		         "without them)",
		         quote(shown, sizeof(shown), value));
		return value_error(k, s.why, err, errlen);
	}
	value = bare;
	if (value[0] == '\0') {
		if (!t->empty)
			return value_error(k, "empty value", err, errlen);
		memset(field, 0, t->empty_size);
		return 0;
	}
	s = (struct setting){.key = k, .value = value, .shown = quote(shown, sizeof(shown), value)};
	if (t->parse(&s, field) < 0)
		return value_error(k, s.why, err, errlen);
	return 0;
}

void config_defaults(struct config *cfg)
{
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < KEY_COUNT; i++) {
		/* A default the parser refuses is a bug in the table above. */
		if (config_set(cfg, keys[i].section, keys[i].name, keys[i].def, NULL, 0) < 0)
			abort();
	}
}

void config_print(const struct config *cfg, FILE *f)
{
	char value[VALUE_MAX];
	size_t i;

	for (i = 0; i < KEY_COUNT; i++) {
		const struct config_key *k = &keys[i];

		if (i == 0 || strcmp(k->section, keys[i - 1].section) != 0)
			fprintf(f, "%s[%s]\n", i == 0 ? "" : "\n", k->section);
		types[k->type].print((const char *)cfg + k->offset, value, sizeof(value));
		fprintf(f, "%s =%s%s\n", k->name, value[0] ? " " : "", value);
	}
}

/* One load: the copy being filled in, and where each key was given. */
struct load {
	struct config cfg;
	int first_line[KEY_COUNT]; /* 0 if not yet */
};

/*
 * inifile's handler: a header must name a known section, and each key is
 * given once and set by config_set().
 */
static int load_line(void *user, const char *section, const char *key, const char *value,
                     int lineno, char *err, size_t errlen)
{
	struct load *l = user;
	const struct config_key *k;
	int *first;

	/* Every error is -EINVAL, whatever config_set() says: the file is wrong. */
	if (!key) {
		if (section_known(section))
			return 0;
		unknown_section(section, err, errlen);
		return -EINVAL;
	}
	k = key_find(section, key);
	if (k) {
		first = &l->first_line[k - keys];
		if (*first) {
			set_error(err, errlen, "[%s] %s: given twice (first at line %d)", section,
			          key, *first);
			return -EINVAL;
		}
		*first = lineno;
	}
	return config_set(&l->cfg, section, key, value, err, errlen) < 0 ? -EINVAL : 0;
}

int config_load_string(struct config *cfg, const char *name, const char *text, char *err,
                       size_t errlen)
{
	struct load l = {.cfg = *cfg};
	int r = inifile_parse_string(name, text, load_line, &l, err, errlen);

	if (r == 0)
		*cfg = l.cfg;
	return r;
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct load l = {.cfg = *cfg};
	int r = inifile_parse_file(path, load_line, &l, err, errlen);

	if (r == 0)
		*cfg = l.cfg;
	return r;
}
