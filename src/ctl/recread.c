/*
 * recread.c - one record in, one parsed record out: the inverse of record.c.
 *
 * A line is told apart by its first byte: '{' is JSON, a digit is text. Both
 * go through the same field table (record_fields.h) and the same setter, so
 * the two formats cannot drift apart here. JSON lines as the daemon writes
 * them (a flat object of unescaped strings and unsigned integers, no blanks)
 * take a fast path that reads keys in place; anything else it meets (an
 * escape, a blank, a nested value, a negative or fractional number) hands
 * the whole line to json-c, which decides. Journal entries come field by
 * field through recread_field(), under the names src/journal.c sends.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include <arpa/inet.h>
#include <json-c/json.h>
#include <sys/socket.h>

#include "ctl_record.h"
#include "journal_ids.h"
#include "util.h"

static const char *const how_names[CTL_HOW_MAX] = {
    [CTL_HOW_INITIAL] = "initial",
    [CTL_HOW_POLL] = "poll",
    [CTL_HOW_DESTROY] = "destroy",
    [CTL_HOW_NETNS] = "netns",
};

const char *ctl_how_name(unsigned how)
{
	return util_name(how_names, CTL_HOW_MAX, how, "unknown");
}

#define FIELD_JSON(id, json, text, journal)    json,
#define FIELD_TEXT(id, json, text, journal)    text,
#define FIELD_JOURNAL(id, json, text, journal) journal,
static const char *const json_keys[RECORD_FIELD_MAX] = {RECORD_FIELDS(FIELD_JSON)};
static const char *const text_keys[RECORD_FIELD_MAX] = {RECORD_FIELDS(FIELD_TEXT)};
static const char *const journal_keys[RECORD_FIELD_MAX] = {RECORD_FIELDS(FIELD_JOURNAL)};

/* The fields whose value is a number; the others are strings. */
#define NUMERIC_FIELDS                                                                             \
	((1ull << RECORD_FIELD_LPORT) | (1ull << RECORD_FIELD_RPORT) |                             \
	 (1ull << RECORD_FIELD_COOKIE) | (1ull << RECORD_FIELD_UID) |                              \
	 (1ull << RECORD_FIELD_INODE) | (1ull << RECORD_FIELD_PID) |                               \
	 (1ull << RECORD_FIELD_LIFETIME_US) | (1ull << RECORD_FIELD_BYTES_SENT) |                  \
	 (1ull << RECORD_FIELD_BYTES_RECEIVED) | (1ull << RECORD_FIELD_RETRANS) |                  \
	 (1ull << RECORD_FIELD_RTT_US) | (1ull << RECORD_FIELD_LOST) |                             \
	 (1ull << RECORD_FIELD_IN_STATE_US) | (1ull << RECORD_FIELD_PEER) |                        \
	 (1ull << RECORD_FIELD_NETNS_INO))

/* The fields without which a record means nothing: a bad value for one of
 * them makes the line bad; a bad value for any other field only drops that
 * field (a later version may give it another type). */
#define CORE_FIELDS                                                                                \
	((1ull << RECORD_FIELD_TS) | (1ull << RECORD_FIELD_FAMILY) |                               \
	 (1ull << RECORD_FIELD_LADDR) | (1ull << RECORD_FIELD_LPORT) |                             \
	 (1ull << RECORD_FIELD_RADDR) | (1ull << RECORD_FIELD_RPORT) |                             \
	 (1ull << RECORD_FIELD_FROM) | (1ull << RECORD_FIELD_TO) | (1ull << RECORD_FIELD_COOKIE) | \
	 (1ull << RECORD_FIELD_LOST))

#define TUPLE_FIELDS                                                                               \
	((1ull << RECORD_FIELD_TS) | (1ull << RECORD_FIELD_FAMILY) |                               \
	 (1ull << RECORD_FIELD_LADDR) | (1ull << RECORD_FIELD_LPORT) |                             \
	 (1ull << RECORD_FIELD_RADDR) | (1ull << RECORD_FIELD_RPORT) |                             \
	 (1ull << RECORD_FIELD_COOKIE))
#define TRANSITION_FIELDS (TUPLE_FIELDS | (1ull << RECORD_FIELD_FROM) | (1ull << RECORD_FIELD_TO))

/* Nonzero when the N bytes at S are WORD. One pass, and never past WORD's
 * end, whatever S holds (a NUL byte, say): it is called for every key. */
static int word_is(const char *s, size_t n, const char *word)
{
	for (size_t i = 0; i < n; i++)
		if (word[i] != s[i] || !word[i])
			return 0;
	return word[n] == '\0';
}

/* The field named NAME (N bytes) in TABLE, trying HINT first: the daemon
 * writes keys in table order, so the one after the last is nearly always it. */
static int field_of(const char *const *table, const char *name, size_t n, unsigned *hint)
{
	for (unsigned k = 0; k < RECORD_FIELD_MAX; k++) {
		unsigned i = (*hint + k) % RECORD_FIELD_MAX;

		if (table[i] && word_is(name, n, table[i])) {
			*hint = i + 1;
			return (int)i;
		}
	}
	return -1;
}

/* Decimal digits only, no sign, at most MAX. Returns 0 or -EINVAL. */
static int parse_u64(const char *s, size_t n, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/*
 * The text record's compact duration (record.c): "850us", "12.345ms" (three
 * decimals) or "3.204581s" (six), into microseconds. Returns 0 or -EINVAL.
 */
static int parse_duration(const char *s, size_t n, uint64_t *ret_us)
{
	size_t unit, decimals;
	const char *dot;
	uint64_t whole, frac = 0;

	if (n >= 2 && (s[n - 2] == 'u' || s[n - 2] == 'm') && s[n - 1] == 's')
		unit = 2, decimals = s[n - 2] == 'm' ? 3 : 0;
	else if (n >= 1 && s[n - 1] == 's')
		unit = 1, decimals = 6;
	else
		return -EINVAL;
	n -= unit;
	dot = memchr(s, '.', n);
	if (decimals == 0)
		return dot ? -EINVAL : parse_u64(s, n, UINT64_MAX, ret_us);
	if (!dot || (size_t)(s + n - dot - 1) != decimals ||
	    parse_u64(s, (size_t)(dot - s), UINT64_MAX / 1000000 - 1, &whole) < 0 ||
	    parse_u64(dot + 1, decimals, UINT64_MAX, &frac) < 0)
		return -EINVAL;
	*ret_us = decimals == 6 ? whole * 1000000 + frac : whole * 1000 + frac;
	return 0;
}

/* "a.b.c.d" as inet_pton() takes it (no leading zeros), without its cost:
 * every record has two. Returns 0 or -EINVAL. */
static int parse_ipv4(const char *s, size_t n, uint8_t out[4])
{
	unsigned part = 0, v = 0, digits = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (!digits || part > 3 || (i < n && part == 3))
				return -EINVAL;
			out[part++] = (uint8_t)v;
			v = digits = 0;
		} else if (s[i] >= '0' && s[i] <= '9' && !(digits == 1 && v == 0)) {
			v = v * 10 + (unsigned)(s[i] - '0');
			if (v > 255)
				return -EINVAL;
			digits++;
		} else {
			return -EINVAL;
		}
	}
	return part == 4 ? 0 : -EINVAL;
}

/* An address as inet_ntop writes it; its family is AF_INET6 when it has a ':'. */
static int parse_addr(const char *s, size_t n, uint8_t out[16], uint8_t *ret_family)
{
	char buf[INET6_ADDRSTRLEN];

	memset(out, 0, 16);
	if (!memchr(s, ':', n)) {
		*ret_family = AF_INET;
		return parse_ipv4(s, n, out);
	}
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET6, buf, out) != 1)
		return -EINVAL;
	*ret_family = AF_INET6;
	return 0;
}

/* Copies N bytes of S into DST of SIZE bytes, cut if need be, NUL-terminated. */
static void copy_name(char *dst, size_t size, const char *s, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static int set_state(uint8_t *dst, const char *s, size_t n)
{
	for (unsigned st = 0; st < SOCK_STATE_MAX; st++) {
		if (word_is(s, n, sock_state_name(st))) {
			*dst = (uint8_t)st;
			return 0;
		}
	}
	return -EINVAL;
}

/* Sets a string FIELD of P's record to S (N bytes). Returns 0 or -EINVAL. */
static int set_string(struct recread_entry *p, int field, const char *s, size_t n)
{
	struct ctl_record *r = p->r;
	int err = 0;

	switch (field) {
	case RECORD_FIELD_TS:
		return recread_time(s, n, &r->ts_us);
	case RECORD_FIELD_KIND:
	case RECORD_FIELD_EVENT:
		if (word_is(s, n, RECORD_KIND_SUMMARY))
			r->kind = CTL_RECORD_SUMMARY;
		else if (word_is(s, n, RECORD_EVENT_LOST))
			r->kind = CTL_RECORD_LOSS;
		else
			r->kind = CTL_RECORD_OTHER;
		return 0;
	case RECORD_FIELD_FAMILY:
		if (word_is(s, n, "ipv4"))
			r->tuple.family = AF_INET;
		else if (word_is(s, n, "ipv6"))
			r->tuple.family = AF_INET6;
		else
			err = -EINVAL;
		return err;
	case RECORD_FIELD_LADDR:
		return parse_addr(s, n, r->tuple.laddr, &p->laddr_family);
	case RECORD_FIELD_RADDR:
		return parse_addr(s, n, r->tuple.raddr, &p->raddr_family);
	case RECORD_FIELD_FROM:
		return set_state(&r->from, s, n);
	case RECORD_FIELD_TO:
		return set_state(&r->to, s, n);
	case RECORD_FIELD_HOW:
		for (unsigned i = 0; i < CTL_HOW_MAX; i++)
			if (word_is(s, n, how_names[i]))
				r->how = (uint8_t)i;
		return 0;
	case RECORD_FIELD_UNIT:
		copy_name(r->unit, sizeof(r->unit), s, n);
		return 0;
	case RECORD_FIELD_COMM:
		copy_name(r->comm, sizeof(r->comm), s, n);
		return 0;
	case RECORD_FIELD_OUTCOME:
		copy_name(r->outcome, sizeof(r->outcome), s, n);
		return 0;
	case RECORD_FIELD_CLOSER:
		copy_name(r->closer, sizeof(r->closer), s, n);
		return 0;
	case RECORD_FIELD_ROLE:
		copy_name(r->role, sizeof(r->role), s, n);
		return 0;
	case RECORD_FIELD_NETNS:
		copy_name(r->netns, sizeof(r->netns), s, n);
		return 0;
	default:
		return 0; /* cgroup, since, until: not used */
	}
}

/* Sets a numeric FIELD of P's record to V. Returns 0 or -EINVAL. */
static int set_number(struct recread_entry *p, int field, uint64_t v)
{
	struct ctl_record *r = p->r;

	switch (field) {
	case RECORD_FIELD_LPORT:
	case RECORD_FIELD_RPORT:
		if (v > UINT16_MAX)
			return -EINVAL;
		*(field == RECORD_FIELD_LPORT ? &r->tuple.lport : &r->tuple.rport) = (uint16_t)v;
		return 0;
	case RECORD_FIELD_UID:
	case RECORD_FIELD_INODE:
	case RECORD_FIELD_PID:
	case RECORD_FIELD_RETRANS:
	case RECORD_FIELD_RTT_US:
		if (v > UINT32_MAX)
			return -EINVAL;
		*(field == RECORD_FIELD_UID       ? &r->uid
		  : field == RECORD_FIELD_INODE   ? &r->inode
		  : field == RECORD_FIELD_PID     ? &r->pid
		  : field == RECORD_FIELD_RETRANS ? &r->retrans
		                                  : &r->rtt_us) = (uint32_t)v;
		return 0;
	case RECORD_FIELD_COOKIE:
		if (v == 0) /* the kernel never gives 0: it is no socket */
			return -EINVAL;
		r->cookie = v;
		return 0;
	case RECORD_FIELD_LIFETIME_US:
		r->lifetime_us = v;
		return 0;
	case RECORD_FIELD_BYTES_SENT:
		r->bytes_sent = v;
		return 0;
	case RECORD_FIELD_BYTES_RECEIVED:
		r->bytes_received = v;
		return 0;
	case RECORD_FIELD_IN_STATE_US:
		r->in_state_us = v;
		return 0;
	case RECORD_FIELD_LOST:
		r->lost = v;
		return 0;
	case RECORD_FIELD_PEER:
		r->peer = v;
		return 0;
	case RECORD_FIELD_NETNS_INO:
		if (v == 0) /* no namespace has inode 0 */
			return -EINVAL;
		r->netns_ino = v;
		return 0;
	default:
		return -EINVAL;
	}
}

/* Marks FIELD set when ERR is 0; a bad core field makes the record bad. */
static void settle(struct recread_entry *p, int field, int err)
{
	if (err == 0)
		p->r->has |= 1ull << field;
	else if ((CORE_FIELDS >> field) & 1u)
		p->bad = 1;
}

/* FIELD's value as text, whatever its type (text records, the journal). */
static void set_text(struct recread_entry *p, int field, const char *s, size_t n)
{
	uint64_t v;
	int err;

	if ((NUMERIC_FIELDS >> field) & 1u) {
		err = parse_u64(s, n, UINT64_MAX, &v);
		/* The text record writes the time in state compactly. */
		if (err < 0 && field == RECORD_FIELD_IN_STATE_US)
			err = parse_duration(s, n, &v);
		if (err == 0)
			err = set_number(p, field, v);
	} else {
		err = set_string(p, field, s, n);
	}
	settle(p, field, err);
}

static void parse_begin(struct recread_entry *p, struct ctl_record *r)
{
	memset(p, 0, sizeof(*p));
	p->r = r;
	/* Every number zeroed, every name empty: the names (most of the
	 * record's size) need only their first byte cleared. */
	memset(r, 0, offsetof(struct ctl_record, unit));
	r->kind = CTL_RECORD_TRANSITION;
	r->how = CTL_HOW_POLL;
	r->host[0] = r->unit[0] = r->comm[0] = r->netns[0] = '\0';
	r->outcome[0] = r->closer[0] = r->role[0] = '\0';
}

/* Checks that P made a whole record of its kind. Returns 0 or -EINVAL. */
static int parse_end(struct recread_entry *p)
{
	struct ctl_record *r = p->r;
	uint64_t need = r->kind == CTL_RECORD_TRANSITION ? TRANSITION_FIELDS
	                : r->kind == CTL_RECORD_SUMMARY  ? TUPLE_FIELDS
	                : r->kind == CTL_RECORD_LOSS
	                    ? (1ull << RECORD_FIELD_TS) | (1ull << RECORD_FIELD_LOST)
	                    : (1ull << RECORD_FIELD_TS);

	if (p->bad || (r->has & need) != need)
		return -EINVAL;
	if ((need & (1ull << RECORD_FIELD_FAMILY)) &&
	    (p->laddr_family != r->tuple.family || p->raddr_family != r->tuple.family))
		return -EINVAL;
	return 0;
}

/* Days from 1970-01-01 to Y-M-D of the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* The value of the LEN digits at S; -1 when one is not a digit. */
static long digits(const char *s, size_t len)
{
	long v = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int recread_time(const char *s, size_t len, int64_t *ret_us)
{
	static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	long y, mo, d, h, mi, sec, us;

	/* "2026-11-24T12:04:58.844212Z" */
	if (len != 27 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != '.' || s[26] != 'Z')
		return -EINVAL;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	us = digits(s + 20, 6);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || sec < 0 || sec > 59 || us < 0)
		return -EINVAL;
	if (mo == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0)))
		return -EINVAL;
	*ret_us =
	    ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec) *
	     1000000) +
	    us;
	return 0;
}

/* --- JSON ---------------------------------------------------------------- */

/* A JSON value json-c parsed, for FIELD. */
static void set_json(struct recread_entry *p, int field, struct json_object *v)
{
	int err = -EINVAL;

	if (json_object_is_type(v, json_type_string)) {
		if (!((NUMERIC_FIELDS >> field) & 1u))
			err = set_string(p, field, json_object_get_string(v),
			                 (size_t)json_object_get_string_len(v));
	} else if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);

		if (((NUMERIC_FIELDS >> field) & 1u) && i >= 0)
			err = set_number(p, field,
			                 i == INT64_MAX ? json_object_get_uint64(v) : (uint64_t)i);
	}
	settle(p, field, err);
}

/* Any JSON object json-c accepts, with nothing after it. */
static int parse_json_general(const char *line, size_t len, struct ctl_record *ret)
{
	struct json_tokener *tok;
	struct json_object *obj;
	struct recread_entry p;
	unsigned hint = 0;
	int err = -EINVAL;

	if (len > INT_MAX)
		return -EINVAL;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	obj = json_tokener_parse_ex(tok, line, (int)len);
	if (obj && json_object_is_type(obj, json_type_object) &&
	    json_tokener_get_parse_end(tok) == len) {
		parse_begin(&p, ret);
		json_object_object_foreach(obj, key, val)
		{
			int f = field_of(json_keys, key, strlen(key), &hint);

			if (f >= 0)
				set_json(&p, f, val);
		}
		err = parse_end(&p);
	}
	json_object_put(obj);
	json_tokener_free(tok);
	return err;
}

/*
 * The daemon's own layout: {"key":value,...} with values that are strings
 * without escapes or unsigned integers, no blanks. Returns 0, -EINVAL for a
 * record that is bad in any layout, or -EAGAIN when the line is outside the
 * layout and must go to json-c.
 */
static int parse_json_fast(const char *s, const char *end, struct ctl_record *ret)
{
	struct recread_entry p;
	unsigned hint = 0;

	parse_begin(&p, ret);
	if (*s++ != '{')
		return -EAGAIN;
	for (;;) {
		const char *key, *val;
		int f;

		if (s >= end || *s++ != '"')
			return -EAGAIN;
		key = s;
		while (s < end && *s != '"' && *s != '\\' && (unsigned char)*s >= 0x20)
			s++;
		if (s + 1 >= end || *s != '"' || s[1] != ':')
			return -EAGAIN;
		f = field_of(json_keys, key, (size_t)(s - key), &hint);
		s += 2;
		val = s;
		if (s < end && *s == '"') {
			for (val = ++s; s < end && *s != '"'; s++)
				if (*s == '\\' || (unsigned char)*s < 0x20)
					return -EAGAIN;
			if (s >= end)
				return -EAGAIN;
			if (f >= 0)
				settle(&p, f,
				       (NUMERIC_FIELDS >> f) & 1u
				           ? -EINVAL
				           : set_string(&p, f, val, (size_t)(s - val)));
			s++;
		} else {
			uint64_t v;

			while (s < end && *s >= '0' && *s <= '9')
				s++;
			if (s == val || parse_u64(val, (size_t)(s - val), UINT64_MAX, &v) < 0)
				return -EAGAIN;
			if (f >= 0)
				settle(&p, f,
				       (NUMERIC_FIELDS >> f) & 1u ? set_number(&p, f, v) : -EINVAL);
		}
		if (s < end && *s == ',') {
			s++;
			continue;
		}
		if (s + 1 == end && *s == '}')
			return parse_end(&p);
		return -EAGAIN;
	}
}

/* --- Text ---------------------------------------------------------------- */

/* The next blank-separated word of [*S, END) in *RET_W, *RET_N; 0 at the end. */
static int next_word(const char **s, const char *end, const char **ret_w, size_t *ret_n)
{
	const char *p = *s, *w;

	while (p < end && *p == ' ')
		p++;
	if (p >= end)
		return 0;
	w = p;
	while (p < end && *p != ' ')
		p++;
	*ret_w = w;
	*ret_n = (size_t)(p - w);
	*s = p;
	return 1;
}

/* "127.0.0.1:80", "[::1]:80", a listener's peer "0.0.0.0:*". */
static void set_endpoint(struct recread_entry *p, const char *w, size_t n, int addr_field,
                         int port_field)
{
	const char *colon = NULL, *a = w;
	size_t an;

	for (size_t i = n; i-- > 0;)
		if (w[i] == ':') {
			colon = w + i;
			break;
		}
	if (!colon) {
		p->bad = 1;
		return;
	}
	an = (size_t)(colon - w);
	if (an >= 2 && w[0] == '[' && colon[-1] == ']') {
		a = w + 1;
		an -= 2;
	}
	set_text(p, addr_field, a, an);
	if (word_is(colon + 1, (size_t)(w + n - colon - 1), "*"))
		settle(p, port_field, set_number(p, port_field, 0));
	else
		set_text(p, port_field, colon + 1, (size_t)(w + n - colon - 1));
}

/* The text format's escapes: \xNN is the byte NN. Unescapes in place. */
static size_t unescape_text(char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		const char *hi, *lo;

		if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' &&
		    (hi = memchr(hex, s[i + 2], 16)) && (lo = memchr(hex, s[i + 3], 16))) {
			s[o++] = (char)((hi - hex) << 4 | (lo - hex));
			i += 3;
		} else {
			s[o++] = s[i];
		}
	}
	return o;
}

/* The key=value words after the fixed ones. */
static void parse_text_pairs(struct recread_entry *p, const char *s, const char *end)
{
	const char *w;
	size_t n;
	unsigned hint = RECORD_FIELD_COOKIE;

	while (next_word(&s, end, &w, &n)) {
		const char *eq = memchr(w, '=', n);
		char val[CTL_NAME_MAX * 4];
		size_t vn;
		int f;

		if (!eq)
			continue;
		f = field_of(text_keys, w, (size_t)(eq - w), &hint);
		vn = (size_t)(w + n - eq - 1);
		if (f < 0 || vn >= sizeof(val))
			continue;
		memcpy(val, eq + 1, vn);
		set_text(p, f, val, unescape_text(val, vn));
	}
}

#define ARROW "\u2192"

static int parse_text(const char *s, const char *end, struct ctl_record *ret)
{
	struct recread_entry p;
	const char *w;
	size_t n;

	parse_begin(&p, ret);
	if (!next_word(&s, end, &w, &n))
		return -EINVAL;
	set_text(&p, RECORD_FIELD_TS, w, n);
	if (!next_word(&s, end, &w, &n))
		return -EINVAL;
	if (word_is(w, n, RECORD_EVENT_LOST)) {
		/* "TS lost 123 records since=... until=..." */
		ret->kind = CTL_RECORD_LOSS;
		if (next_word(&s, end, &w, &n))
			set_text(&p, RECORD_FIELD_LOST, w, n);
		return parse_end(&p);
	}
	set_text(&p, RECORD_FIELD_FAMILY, w, n);
	if (!next_word(&s, end, &w, &n))
		return -EINVAL;
	set_endpoint(&p, w, n, RECORD_FIELD_LADDR, RECORD_FIELD_LPORT);
	if (!next_word(&s, end, &w, &n) || !word_is(w, n, ARROW) || !next_word(&s, end, &w, &n))
		return -EINVAL;
	set_endpoint(&p, w, n, RECORD_FIELD_RADDR, RECORD_FIELD_RPORT);
	if (!next_word(&s, end, &w, &n))
		return -EINVAL;
	if (word_is(w, n, RECORD_KIND_SUMMARY)) {
		ret->kind = CTL_RECORD_SUMMARY;
	} else {
		set_text(&p, RECORD_FIELD_FROM, w, n);
		if (!next_word(&s, end, &w, &n) || !word_is(w, n, ARROW) ||
		    !next_word(&s, end, &w, &n))
			return -EINVAL;
		set_text(&p, RECORD_FIELD_TO, w, n);
		if (!next_word(&s, end, &w, &n) || memchr(w, '=', n))
			return -EINVAL;
		set_text(&p, RECORD_FIELD_HOW, w, n);
	}
	parse_text_pairs(&p, s, end);
	return parse_end(&p);
}

int recread_line(const char *line, size_t len, struct ctl_record *ret)
{
	const char *end = line + len;
	int err;

	while (end > line &&
	       (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\r' || end[-1] == '\t'))
		end--;
	while (line < end && (*line == ' ' || *line == '\t'))
		line++;
	if (line == end)
		return -ENODATA;
	if (*line == '{') {
		err = parse_json_fast(line, end, ret);
		if (err == -EAGAIN)
			err = parse_json_general(line, (size_t)(end - line), ret);
		return err;
	}
	if (*line >= '0' && *line <= '9')
		return parse_text(line, end, ret);
	return -EINVAL;
}

/* --- Journal ------------------------------------------------------------- */

void recread_begin(struct recread_entry *e, struct ctl_record *r)
{
	parse_begin(e, r);
}

void recread_field(struct recread_entry *e, const char *data, size_t len)
{
	struct ctl_record *r = e->r;
	const char *eq = memchr(data, '=', len);
	const char *v;
	size_t n, kn;
	unsigned hint = 0;
	int f;

	if (!eq)
		return;
	v = eq + 1;
	n = (size_t)(data + len - v);
	kn = (size_t)(eq - data);
	if (word_is(data, kn, "MESSAGE_ID")) {
		if (word_is(v, n, JOURNAL_ID_SUMMARY))
			r->kind = CTL_RECORD_SUMMARY;
		else if (word_is(v, n, JOURNAL_ID_LOST))
			r->kind = CTL_RECORD_LOSS;
		return;
	}
	if (word_is(data, kn, "_HOSTNAME")) {
		copy_name(r->host, sizeof(r->host), v, n);
		return;
	}
	f = field_of(journal_keys, data, kn, &hint);
	if (f >= 0)
		set_text(e, f, v, n);
}

int recread_end(struct recread_entry *e)
{
	return parse_end(e);
}
