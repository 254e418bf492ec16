/*
 * config.c - the configuration: one table of keys, an inih-driven file parser
 * that refuses anything it does not fully understand, and a printer whose
 * output the parser reads back unchanged.
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

#define ARRAY_SIZE(a)     (sizeof(a) / sizeof((a)[0]))
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
	KEY_MODE,   /* uint32_t, octal file mode: owner rw, nothing beyond 0666 */
	KEY_NETNS,  /* char[PATH_MAX]: a name in /run/netns or a path; empty = our own */
	KEY_PORTS,  /* struct filter_ports: "80 443 8000-8100"; empty = any */
	KEY_ADDRS,  /* struct filter_addrs: "10.0.0.0/8 ::1"; empty = any */
	KEY_STATES, /* uint32_t state bits: "ESTABLISHED TIME_WAIT"; empty = all */
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

/*
 * Every key, grouped by section in the order config_print() writes them. The
 * defaults are text run through config_set(), so a default can never be a
 * value that the file itself would refuse.
 */
static const struct config_key keys[] = {
    {"poll", "interval_ms", KEY_UINT, 10, 60000, NULL, offsetof(struct config, interval_ms), "100"},
    {"poll", "netns", KEY_NETNS, 0, 0, NULL, offsetof(struct config, netns), ""},
    {"poll", "destroy_events", KEY_BOOL, 0, 0, NULL, offsetof(struct config, destroy_events), "yes"},
    {"poll", "event_buffer", KEY_SIZE, 4 * KIB, 1 * GIB, NULL, offsetof(struct config, event_buffer),
     "16M"},
    {"poll", "event_batch_ms", KEY_UINT, 0, 1000, NULL, offsetof(struct config, event_batch_ms),
     "10"},
    {"log", "path", KEY_PATH, 0, 0, NULL, offsetof(struct config, log_path),
     "/var/log/tcpstated/transitions.log"},
    {"log", "format", KEY_FORMAT, 0, 0, NULL, offsetof(struct config, format), "text"},
    {"log", "max_size", KEY_SIZE, 4 * KIB, 1024 * GIB, "never rotate",
     offsetof(struct config, max_size), "100M"},
    {"log", "keep", KEY_UINT, 1, 1000, NULL, offsetof(struct config, keep), "10"},
    {"log", "compress", KEY_BOOL, 0, 0, NULL, offsetof(struct config, compress), "no"},
    {"log", "fsync", KEY_FSYNC, 0, 0, NULL, offsetof(struct config, fsync), "rotate"},
    {"log", "fsync_interval_ms", KEY_UINT, 10, 3600000, NULL,
     offsetof(struct config, fsync_interval_ms), "1000"},
    {"log", "mode", KEY_MODE, 0, 0, NULL, offsetof(struct config, mode), "0640"},
    {"journal", "enabled", KEY_BOOL, 0, 0, NULL, offsetof(struct config, journal), "no"},
    {"attribution", "cgroups", KEY_BOOL, 0, 0, NULL, offsetof(struct config, attrib_cgroups),
     "yes"},
    {"attribution", "processes", KEY_BOOL, 0, 0, NULL,
     offsetof(struct config, attrib_processes), "no"},
    {"filter", "ports", KEY_PORTS, 0, 0, NULL, offsetof(struct config, filter.ports), ""},
    {"filter", "local_ports", KEY_PORTS, 0, 0, NULL, offsetof(struct config, filter.local_ports),
     ""},
    {"filter", "remote_ports", KEY_PORTS, 0, 0, NULL,
     offsetof(struct config, filter.remote_ports), ""},
    {"filter", "addresses", KEY_ADDRS, 0, 0, NULL, offsetof(struct config, filter.addrs), ""},
    {"filter", "states", KEY_STATES, 0, 0, NULL, offsetof(struct config, filter.states), ""},
};

#define KEY_COUNT ARRAY_SIZE(keys)

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
static void format_size(char *buf, size_t len, uint64_t size)
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

/* The size of the field of a key of TYPE, for the types that can be empty. */
static size_t key_size(enum key_type type)
{
	switch (type) {
	case KEY_PORTS:
		return sizeof(struct filter_ports);
	case KEY_ADDRS:
		return sizeof(struct filter_addrs);
	case KEY_STATES:
		return sizeof(uint32_t);
	default:
		return 1; /* a string: its NUL */
	}
}

/* What an empty value means for a key of TYPE, or NULL when it is an error. */
static const char *empty_meaning(enum key_type type)
{
	switch (type) {
	case KEY_NETNS:
		return "the namespace tcpstated runs in";
	case KEY_PORTS:
		return "any port";
	case KEY_ADDRS:
		return "any address";
	case KEY_STATES:
		return "every state";
	default:
		return NULL;
	}
}

/* The "expected ..." part of a message about K's value. */
static void describe(char *buf, size_t len, const struct config_key *k)
{
	char lo[32], hi[32];
	unsigned i;

	buf[0] = '\0';
	switch (k->type) {
	case KEY_UINT:
		snprintf(buf, len, "a whole number from %llu to %llu", (unsigned long long)k->min,
		         (unsigned long long)k->max);
		break;
	case KEY_SIZE:
		format_size(lo, sizeof(lo), k->min);
		format_size(hi, sizeof(hi), k->max);
		if (k->zero)
			append(buf, len, "0 (%s) or ", k->zero);
		append(buf, len, "a size from %s to %s (bytes, or with a suffix K, M or G)", lo,
		       hi);
		break;
	case KEY_BOOL:
		snprintf(buf, len, "yes or no (or true/false, on/off, 1/0)");
		break;
	case KEY_FORMAT:
		for (i = 0; i < RECORD_FORMAT_MAX; i++)
			append(buf, len, "%s%s", list_sep(i, RECORD_FORMAT_MAX),
			       record_format_name(i));
		break;
	case KEY_PATH:
		snprintf(buf, len, "a file name, or - for standard output");
		break;
	case KEY_FSYNC:
		for (i = 0; i < LOGFILE_FSYNC_MAX; i++)
			append(buf, len, "%s%s", list_sep(i, LOGFILE_FSYNC_MAX),
			       logfile_fsync_name(i));
		break;
	case KEY_MODE:
		snprintf(buf, len,
			 "an octal file mode from 0600 to 0666 with owner read and write (0600)");
		break;
	case KEY_NETNS:
		snprintf(buf, len, "a name in /run/netns or a path such as /proc/PID/ns/net");
		break;
	case KEY_PORTS:
		snprintf(buf, len, "ports or ranges such as 80 443 8000-8100");
		break;
	case KEY_ADDRS:
		snprintf(buf, len, "addresses or prefixes such as 10.0.0.0/8 ::1");
		break;
	case KEY_STATES:
		snprintf(buf, len, "TCP states such as ESTABLISHED TIME_WAIT");
		break;
	}
	if (empty_meaning(k->type))
		append(buf, len, ", or nothing (%s)", empty_meaning(k->type));
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
 * Writes "[section] key: PROBLEM, expected ..." into ERR and returns -EINVAL.
 * The expectation comes from the table, so every message about a key's value
 * states the same rule.
 */
static PRINTF(4, 5) int value_error(const struct config_key *k, char *err, size_t errlen,
                                    const char *fmt, ...)
{
	char problem[256], expect[160];
	va_list ap;

	if (!err || errlen == 0)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(problem, sizeof(problem), fmt, ap);
	va_end(ap);
	describe(expect, sizeof(expect), k);
	set_error(err, errlen, "[%s] %s: %s, expected %s", k->section, k->name, problem, expect);
	return -EINVAL;
}

int config_set(struct config *cfg, const char *section, const char *key, const char *value,
               char *err, size_t errlen)
{
	const struct config_key *k;
	char *field, names[96], shown[80], why[160];
	const char *problem;
	uint64_t n = 0;
	size_t i;
	int r;

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
	if (value[0] == '\0') {
		if (!empty_meaning(k->type))
			return value_error(k, err, errlen, "empty value");
		/* Every such key's empty value is all zero bytes. */
		memset((char *)cfg + k->offset, 0, key_size(k->type));
		return 0;
	}
	quote(shown, sizeof(shown), value);
	field = (char *)cfg + k->offset;

	switch (k->type) {
	case KEY_UINT:
	case KEY_SIZE:
		r = parse_number(value, k->type == KEY_SIZE, &n);
		if (r == -EINVAL)
			return value_error(k, err, errlen, "invalid value \"%s\"", shown);
		if (r < 0 || ((n < k->min || n > k->max) && !(n == 0 && k->zero)))
			return value_error(k, err, errlen, "%s is out of range", shown);
		if (k->type == KEY_UINT)
			*(uint32_t *)(void *)field = (uint32_t)n;
		else
			*(uint64_t *)(void *)field = n;
		return 0;

	case KEY_BOOL:
		for (i = 0; i < ARRAY_SIZE(bool_names); i++) {
			if (strcasecmp(value, bool_names[i].name) == 0) {
				*(bool *)(void *)field = bool_names[i].value;
				return 0;
			}
		}
		break;

	case KEY_FORMAT:
		r = record_format_from_name(value);
		if (r >= 0) {
			*(enum record_format *)(void *)field = (enum record_format)r;
			return 0;
		}
		break;

	case KEY_FSYNC:
		r = logfile_fsync_from_name(value);
		if (r >= 0) {
			*(enum logfile_fsync *)(void *)field = (enum logfile_fsync)r;
			return 0;
		}
		break;

	case KEY_MODE:
		/* Octal digits only; execute, set-id and sticky bits make no sense
		 * for a log, and the daemon must be able to reopen its own file. */
		for (i = 0, n = 0; value[i] >= '0' && value[i] <= '7' && n <= 07777; i++)
			n = n * 8 + (uint64_t)(value[i] - '0');
		if (value[i] != '\0' || i > 5)
			return value_error(k, err, errlen, "invalid value \"%s\"", shown);
		if ((n & ~(uint64_t)0666) || (n & 0600) != 0600)
			return value_error(k, err, errlen, "%s is out of range", shown);
		*(uint32_t *)(void *)field = (uint32_t)n;
		return 0;

	case KEY_PATH:
		problem = path_problem(value);
		if (problem)
			return value_error(k, err, errlen, "invalid value \"%s\" (%s)", shown,
			                   problem);
		memcpy(field, value, strlen(value) + 1);
		return 0;

	case KEY_NETNS:
		problem = path_problem(value);
		if (!problem && (strcmp(value, ".") == 0 || strcmp(value, "..") == 0))
			problem = "not a namespace name";
		if (problem)
			return value_error(k, err, errlen, "invalid value \"%s\" (%s)", shown,
			                   problem);
		memcpy(field, value, strlen(value) + 1);
		return 0;

	case KEY_PORTS:
	case KEY_ADDRS:
	case KEY_STATES:
		r = k->type == KEY_PORTS
			? filter_parse_ports(value, (struct filter_ports *)(void *)field, why,
					     sizeof(why))
		    : k->type == KEY_ADDRS
			? filter_parse_addrs(value, (struct filter_addrs *)(void *)field, why,
					     sizeof(why))
			: filter_parse_states(value, (uint32_t *)(void *)field, why, sizeof(why));
		if (r < 0)
			return value_error(k, err, errlen, "%s", why);
		return 0;
	}
	return value_error(k, err, errlen, "invalid value \"%s\"", shown);
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
	const char *field;
	char size[32], list[FILTER_MAX * (INET6_ADDRSTRLEN + 5) + 1];
	size_t i;

	for (i = 0; i < KEY_COUNT; i++) {
		const struct config_key *k = &keys[i];

		field = (const char *)cfg + k->offset;
		if (i == 0 || strcmp(k->section, keys[i - 1].section) != 0)
			fprintf(f, "%s[%s]\n", i == 0 ? "" : "\n", k->section);
		fprintf(f, "%s =", k->name);
		switch (k->type) {
		case KEY_UINT:
			fprintf(f, " %u\n", (unsigned)*(const uint32_t *)(const void *)field);
			break;
		case KEY_SIZE:
			format_size(size, sizeof(size), *(const uint64_t *)(const void *)field);
			fprintf(f, " %s\n", size);
			break;
		case KEY_BOOL:
			fprintf(f, " %s\n", *(const bool *)(const void *)field ? "yes" : "no");
			break;
		case KEY_FORMAT:
			fprintf(
			    f, " %s\n",
			    record_format_name(*(const enum record_format *)(const void *)field));
			break;
		case KEY_PATH:
		case KEY_NETNS:
			fprintf(f, "%s%s\n", field[0] ? " " : "", field);
			break;
		case KEY_PORTS:
		case KEY_ADDRS:
		case KEY_STATES:
			if (k->type == KEY_PORTS)
				filter_format_ports((const struct filter_ports *)(const void *)field,
						    list, sizeof(list));
			else if (k->type == KEY_ADDRS)
				filter_format_addrs((const struct filter_addrs *)(const void *)field,
						    list, sizeof(list));
			else
				filter_format_states(*(const uint32_t *)(const void *)field, list,
						     sizeof(list));
			fprintf(f, "%s%s\n", list[0] ? " " : "", list);
			break;
		case KEY_FSYNC:
			fprintf(f, " %s\n",
				logfile_fsync_name(*(const enum logfile_fsync *)(const void *)field));
			break;
		case KEY_MODE:
			fprintf(f, " %04o\n", (unsigned)*(const uint32_t *)(const void *)field);
			break;
		}
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
 * Checks one line (without its newline) the way inih is about to read it.
 * Returns false after recording an error.
 */
static bool parse_check_line(struct parse *p, const char *line)
{
	const char *s = line, *t, *end;
	char section[CONFIG_LINE_MAX + 1], names[96];

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

	if (*t == '[') {
		end = scan(t + 1, "]");
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
			parse_fail(p, -EINVAL, p->lineno, "[%s]: unknown section (expected %s)",
			           section, names);
			return false;
		}
		p->prev = NULL;
		return true;
	}

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
