/*
 * config.c - the configuration: one table of keys (section, name, type,
 * bounds, field, default) and one of what each type of key does (parse,
 * print, describe, empty), an inih-driven file parser that refuses anything
 * it does not fully understand, and a printer whose output the parser reads
 * back unchanged.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <ini.h>

#include "config.h"
#include "util.h"

#define PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/*
 * inih reads each line into a buffer of INI_MAX_LINE bytes, which must also
 * hold the line's '\r', '\n' and NUL. inih 55 (Debian 12) cuts a longer line in
 * two and parses the second half as a line of its own, so the reader below
 * refuses such a line instead of handing it over.
 */
#define CONFIG_LINE_MAX (INI_MAX_LINE - 3)

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
	KEY_NETNS,  /* char[PATH_MAX]: a name in /run/netns or a path; empty = our own */
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
    {"poll", "destroy_events", KEY_BOOL, 0, 0, NULL, FIELD(destroy_events), "yes"},
    {"poll", "event_buffer", KEY_SIZE, 4 * KIB, 1 * GIB, NULL, FIELD(event_buffer), "16M"},
    {"poll", "event_batch_ms", KEY_UINT, 0, 1000, NULL, FIELD(event_batch_ms), "10"},
    {"log", "path", KEY_PATH, 0, 0, NULL, FIELD(log_path), "/var/log/tcpstated/transitions.log"},
    {"log", "format", KEY_FORMAT, 0, 0, NULL, FIELD(log.format), "text"},
    {"log", "max_size", KEY_SIZE, 4 * KIB, 1024 * GIB, "never rotate", FIELD(log.max_size), "100M"},
    {"log", "keep", KEY_UINT, 1, 1000, NULL, FIELD(log.keep), "10"},
    {"log", "compress", KEY_BOOL, 0, 0, NULL, FIELD(log.compress), "no"},
    {"log", "fsync", KEY_FSYNC, 0, 0, NULL, FIELD(log.fsync), "rotate"},
    {"log", "fsync_interval_ms", KEY_UINT, 10, 3600000, NULL, FIELD(log.fsync_interval_ms), "1000"},
    {"log", "mode", KEY_MODE, 0, 0, NULL, FIELD(log.mode), "0640"},
    {"journal", "enabled", KEY_BOOL, 0, 0, NULL, FIELD(journal), "no"},
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
 * ';' at the start or after a blank begins a comment, and a control byte
 * (a newline above all) would break the line. Returns what is wrong, or NULL.
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
		if (value[i] == ';' && (i == 0 || isspace((unsigned char)value[i - 1])))
			return "\";\" at the start or after a blank, which begins a comment";
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
	char why[160];
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

static int parse_netns(struct setting *s, void *field)
{
	if (strcmp(s->value, ".") == 0 || strcmp(s->value, "..") == 0)
		return refuse(s, "invalid value \"%s\" (not a namespace name)", s->shown);
	return parse_path(s, field);
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
                   "a name in /run/netns or a path such as /proc/PID/ns/net",
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
	const struct config_key *k;
	const struct config_type *t;
	char names[96], shown[80];
	struct setting s;
	void *field;

	if (!section_known(section)) {
		list_names(names, sizeof(names), NULL);
		set_error(err, errlen, "[%s]: unknown section (expected %s)", section, names);
		return -ENOENT;
	}
	k = key_find(section, key);
	if (!k) {
		list_names(names, sizeof(names), section);
		set_error(err, errlen, "[%s] %s: unknown key (expected %s)", section, key, names);
		return -ENOENT;
	}
	t = &types[k->type];
	field = (char *)cfg + k->offset;
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

/*
 * The state of one parse. inih hides three things a strict parser needs: the
 * line number (Debian builds it without INI_HANDLER_LINENO), section headers
 * (it never reports them), and continuation lines (it hands them to the
 * handler as the previous key again). So inih reads through parse_reader(),
 * which counts lines and looks at each one before inih does; the handler then
 * sees only lines the reader has let through.
 */
struct parse {
	struct config cfg;             /* the copy being filled in */
	const char *name;              /* of the file, for messages */
	FILE *f;                       /* the source: a file, */
	const char *s;                 /* or a string */
	int lineno;                    /* of the line inih is working on */
	const struct config_key *prev; /* the last key since a section header */
	int first_line[KEY_COUNT];     /* where each key was given, 0 if not yet */
	int error;                     /* 0, or the first error as -errno */
	int error_line;                /* where it is, 0 for the whole file */
	char *err;
	size_t errlen;
};

/* Records the first error only: later ones are often its consequences. */
static PRINTF(4, 5) void parse_fail(struct parse *p, int error, int lineno, const char *fmt, ...)
{
	va_list ap;

	if (p->error)
		return;
	p->error = error;
	p->error_line = lineno;
	if (!p->err || p->errlen == 0)
		return;
	if (lineno > 0)
		snprintf(p->err, p->errlen, "%s:%d: ", p->name, lineno);
	else
		snprintf(p->err, p->errlen, "%s: ", p->name);
	va_start(ap, fmt);
	vsnprintf(p->err + strlen(p->err), p->errlen - strlen(p->err), fmt, ap);
	va_end(ap);
}

static void parse_syntax_error(struct parse *p)
{
	parse_fail(p, -EINVAL, p->lineno, "expected \"key = value\", \"[section]\" or a comment");
}

/* The next byte of the source, or EOF at its end or on a read error. */
static int parse_getc(struct parse *p)
{
	int c;

	if (p->s)
		return *p->s ? (unsigned char)*p->s++ : EOF;
	errno = 0;
	c = getc(p->f);
	if (c == EOF && ferror(p->f))
		parse_fail(p, errno ? -errno : -EIO, 0, "%s", strerror(errno ? errno : EIO));
	return c;
}

/*
 * The first of CHARS in S, or the inline comment that inih would see (a ';'
 * after a blank), or the end of S.
 */
static const char *scan(const char *s, const char *chars)
{
	bool blank = false;

	for (; *s; s++) {
		if (strchr(chars, *s) || (blank && *s == ';'))
			break;
		blank = isspace((unsigned char)*s);
	}
	return s;
}

/*
 * Checks a "[section]" line, T at its '[', the way inih is about to read it.
 * Returns false after recording an error.
 */
static bool parse_check_section(struct parse *p, const char *t)
{
	const char *end = scan(t + 1, "]");
	char section[CONFIG_LINE_MAX + 1], names[96];

	if (*end != ']') {
		parse_syntax_error(p);
		return false;
	}
	memcpy(section, t + 1, (size_t)(end - t - 1));
	section[end - t - 1] = '\0';
	/* inih ignores what follows the ']'; only a comment may. */
	for (end++; isspace((unsigned char)*end); end++)
		;
	if (*end != '\0' && *end != ';') {
		parse_syntax_error(p);
		return false;
	}
	if (!section_known(section)) {
		list_names(names, sizeof(names), NULL);
		parse_fail(p, -EINVAL, p->lineno, "[%s]: unknown section (expected %s)", section,
		           names);
		return false;
	}
	p->prev = NULL;
	return true;
}

/*
 * Checks one line (without its newline) the way inih is about to read it.
 * Returns false after recording an error.
 */
static bool parse_check_line(struct parse *p, const char *line)
{
	const char *s = line, *t, *end;

	if (p->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3; /* a UTF-8 byte order mark, which inih skips */
	for (t = s; isspace((unsigned char)*t); t++)
		;
	if (*t == '\0' || *t == ';' || *t == '#')
		return true;

	/*
	 * An indented line right after a key is, for inih, more of that key's
	 * value; anywhere else it is an ordinary line. A file whose meaning
	 * depends on that difference is too easy to misread, so tcpstated has
	 * no multi-line values and takes no indented lines at all.
	 */
	if (t > s) {
		if (p->prev)
			parse_fail(
			    p, -EINVAL, p->lineno,
			    "[%s] %s: indented line (values cannot continue onto a second line)",
			    p->prev->section, p->prev->name);
		else
			parse_fail(
			    p, -EINVAL, p->lineno,
			    "indented line (keys and [section] headers start in the first column)");
		return false;
	}
	if (*t == '[')
		return parse_check_section(p, t);

	/*
	 * inih also takes "key: value", which this file does not, and a line
	 * with nothing before the '='.
	 */
	end = scan(t, "=:");
	if (*end != '=' || end == t) {
		parse_syntax_error(p);
		return false;
	}
	return true;
}

/*
 * An fgets() for inih: reads one line of the source into STR, of NUM bytes,
 * after counting and checking it. Returns NULL at the end of the source and
 * after the first error, which stops inih there.
 */
static char *parse_reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	size_t len = 0, limit = CONFIG_LINE_MAX;
	bool cr = false;
	int c;

	if (p->error)
		return NULL;
	if (num < 2)
		return NULL;
	if (limit > (size_t)num - 2)
		limit = (size_t)num - 2;

	c = parse_getc(p);
	if (c == EOF)
		return NULL;
	p->lineno++;
	for (; c != EOF && c != '\n'; c = parse_getc(p)) {
		/* "\r\n" counts as the end of the line; a lone '\r' is kept. */
		if (cr) {
			cr = false;
			if (len >= limit)
				goto too_long;
			str[len++] = '\r';
		}
		if (c == '\r') {
			cr = true;
			continue;
		}
		if (c == '\0') {
			parse_fail(p, -EINVAL, p->lineno, "NUL byte in line (not a text file?)");
			return NULL;
		}
		if (len >= limit)
			goto too_long;
		str[len++] = (char)c;
	}
	if (p->error) /* a read error */
		return NULL;
	str[len] = '\0';
	if (!parse_check_line(p, str))
		return NULL;
	str[len++] = '\n';
	str[len] = '\0';
	return str;

too_long:
	parse_fail(p, -EINVAL, p->lineno, "line longer than %zu characters", limit);
	return NULL;
}

static int parse_handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	const struct config_key *k;
	char msg[CONFIG_ERR_MAX];
	size_t i;

	if (p->error)
		return 1;
	if (section[0] == '\0') {
		parse_fail(p, -EINVAL, p->lineno, "%s: key before the first [section]", name);
		return 1;
	}
	k = key_find(section, name);
	if (k) {
		i = (size_t)(k - keys);
		if (p->first_line[i]) {
			parse_fail(p, -EINVAL, p->lineno, "[%s] %s: given twice (first at line %d)",
			           section, name, p->first_line[i]);
			return 1;
		}
		p->first_line[i] = p->lineno;
		p->prev = k;
	}
	if (config_set(&p->cfg, section, name, value, msg, sizeof(msg)) < 0)
		parse_fail(p, -EINVAL, p->lineno, "%s", msg);

	/*
	 * Errors are kept in P rather than returned, so that what inih
	 * returns is only ever a line it could not parse itself.
	 */
	return 1;
}

static int parse_run(struct parse *p, struct config *cfg)
{
	int r;

	r = ini_parse_stream(parse_reader, p, parse_handler, p);

	/*
	 * The reader stops inih at the first error it or the handler records.
	 * A line inih refused before that is earlier, so it comes first. The
	 * reader checks every line inih could refuse, so this is a safety net.
	 */
	if (r > 0 && (!p->error || r < p->error_line)) {
		p->error = 0;
		parse_fail(p, -EINVAL, r, "expected \"key = value\", \"[section]\" or a comment");
	} else if (r < 0 && !p->error) {
		parse_fail(p, -ENOMEM, 0, "%s", strerror(ENOMEM));
	}
	if (p->error)
		return p->error;
	*cfg = p->cfg;
	return 0;
}

static void parse_init(struct parse *p, const struct config *cfg, const char *name, char *err,
                       size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	p->name = name;
	p->err = err;
	p->errlen = errlen;
}

int config_load_string(struct config *cfg, const char *name, const char *text, char *err,
                       size_t errlen)
{
	struct parse p;

	parse_init(&p, cfg, name, err, errlen);
	p.s = text;
	return parse_run(&p, cfg);
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct parse p;
	struct stat st;
	FILE *f;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		set_error(err, errlen, "%s: is a directory", path);
		return -EISDIR;
	}
	f = fdopen(fd, "r");
	if (!f) {
		r = -errno;
		close(fd);
		goto fail;
	}
	parse_init(&p, cfg, path, err, errlen);
	p.f = f;
	r = parse_run(&p, cfg);
	fclose(f);
	return r;

fail:
	set_error(err, errlen, "%s: %s", path, strerror(-r));
	return r;
}
