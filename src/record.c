/*
 * record.c - formats one transition into a caller-owned buffer.
 *
 * Two formats with the same content. Text is for people running tail -f:
 * timestamp first, columns aligned for IPv4, and the same words in the same
 * order on every line so that grep and awk work. JSON Lines is for machines:
 * fixed keys in a fixed order (docs/record-format.md); keys the kernel has no
 * value for are left out rather than faked.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "record.h"
#include "util.h"

/* Wide enough for "255.255.255.255:65535". */
#define ADDR_COLUMN 21
/* Wide enough for "ESTABLISHED". */
#define STATE_COLUMN 11
/* Wide enough for every transition_how name. */
#define HOW_COLUMN 7

/* "[" + IPv6 text + "]:" + port. */
#define ENDPOINT_MAX (INET6_ADDRSTRLEN + 8)

static const char *const format_names[RECORD_FORMAT_MAX] = {
    [RECORD_TEXT] = "text",
    [RECORD_JSON] = "json",
};

const char *record_format_name(unsigned fmt)
{
	return util_name(format_names, RECORD_FORMAT_MAX, fmt, "unknown");
}

int record_format_from_name(const char *name)
{
	return util_from_name(format_names, RECORD_FORMAT_MAX, name);
}

/*
 * A busy poll formats thousands of records, all with the same time and most
 * with IPv4 addresses, and snprintf() made up most of a record's cost. So
 * numbers are written digit by digit here, and the calendar time of the
 * last second seen is kept (a process-wide cache of one entry; the daemon is
 * single-threaded).
 */

/* Writes V as exactly WIDTH digits, zero-padded, at P; returns the end. */
static char *put_digits(char *p, unsigned long v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

/* Writes V in decimal at P, which has room for 20 digits; returns the end. */
static char *put_u64(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static int utc_time(time_t sec, struct tm *ret)
{
	static time_t cached_sec;
	static struct tm cached_tm;
	static int cached;

	if (!cached || sec != cached_sec) {
		if (!gmtime_r(&sec, &cached_tm)) {
			cached = 0;
			return -EOVERFLOW;
		}
		cached_sec = sec;
		cached = 1;
	}
	*ret = cached_tm;
	return 0;
}

int record_format_time(char *buf, size_t size, const struct timespec *ts)
{
	struct tm tm;
	char *p = buf;

	/* RFC 3339 has four-digit years, and a tv_nsec out of range is no time. */
	if (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000 || utc_time(ts->tv_sec, &tm) < 0 ||
	    tm.tm_year < 0 - 1900 || tm.tm_year > 9999 - 1900)
		return -EOVERFLOW;
	/* "2026-11-24T10:00:00.123456Z" */
	if (size < 28)
		return -EOVERFLOW;
	p = put_digits(p, (unsigned long)tm.tm_year + 1900, 4);
	*p++ = '-';
	p = put_digits(p, (unsigned long)tm.tm_mon + 1, 2);
	*p++ = '-';
	p = put_digits(p, (unsigned long)tm.tm_mday, 2);
	*p++ = 'T';
	p = put_digits(p, (unsigned long)tm.tm_hour, 2);
	*p++ = ':';
	p = put_digits(p, (unsigned long)tm.tm_min, 2);
	*p++ = ':';
	p = put_digits(p, (unsigned long)tm.tm_sec, 2);
	*p++ = '.';
	p = put_digits(p, (unsigned long)ts->tv_nsec / 1000, 6);
	*p++ = 'Z';
	*p = '\0';
	return (int)(p - buf);
}

int record_format_addr(char *buf, size_t size, int family, const uint8_t addr[16])
{
	if (family == AF_INET && size >= INET_ADDRSTRLEN) {
		char *p = buf;

		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = put_u64(p, addr[i]);
		}
		*p = '\0';
		return (int)(p - buf);
	}
	if (!inet_ntop(family, addr, buf, (socklen_t)size))
		return snprintf(buf, size, "?");
	return (int)strlen(buf);
}

static const char *family_name(int family)
{
	return family == AF_INET6 ? "ipv6" : "ipv4";
}

/* Appends the NUL-terminated S at P; returns the end. */
static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/* Pads the column that starts at START and ends at END with blanks to WIDTH
 * bytes, as printf's "%-*s" does (a longer one is left as it is); returns
 * its end. */
static char *pad_column(char *start, char *end, int width)
{
	if (end - start < width) {
		memset(end, ' ', (size_t)(width - (end - start)));
		end = start + width;
	}
	return end;
}

/* "127.0.0.1:80", "[::1]:80"; port 0 as "*" when ANY_PORT, else as "0".
 * Writes at most ENDPOINT_MAX - 1 bytes at P; returns the end. */
static char *put_endpoint(char *p, int family, const uint8_t addr[16], uint16_t port, int any_port)
{
	if (family == AF_INET6)
		*p++ = '[';
	p += record_format_addr(p, INET6_ADDRSTRLEN, family, addr);
	if (family == AF_INET6)
		*p++ = ']';
	*p++ = ':';
	if (port || !any_port)
		p = put_u64(p, port);
	else
		*p++ = '*';
	return p;
}

/* The same, padded to the address column. */
static char *put_endpoint_column(char *p, int family, const uint8_t addr[16], uint16_t port,
                                 int any_port)
{
	return pad_column(p, put_endpoint(p, family, addr, port, any_port), ADDR_COLUMN);
}

/* The same as a string in BUF, which holds ENDPOINT_MAX bytes. */
static void format_endpoint(char *buf, int family, const uint8_t addr[16], uint16_t port,
                            int any_port)
{
	*put_endpoint(buf, family, addr, port, any_port) = '\0';
}

/*
 * Only a listener's peer is "any port", written "*" as netstat does. Every
 * other port 0 is a real value and is written as a number, so that a grep
 * for a port finds it: a connect() refused or aborted (tcp_disconnect()
 * clears the remote port) reads "127.0.0.1:0", not "127.0.0.1:*".
 */
static int is_listener(const struct sock *sk)
{
	return sk->state == SOCK_LISTEN;
}

static int transition_is_listener(const struct transition *t)
{
	return is_listener(t->sk) || t->from == SOCK_LISTEN || t->to == SOCK_LISTEN;
}

/* Copies LINE, N bytes and a NUL, into BUF of SIZE bytes as snprintf() would
 * have written it: when it does not fit, the line cut to SIZE - 1 bytes and
 * a NUL, and -ENOSPC. Returns N otherwise. */
static int put_line(char *buf, size_t size, const char *line, size_t n)
{
	if (n >= size) {
		if (size) {
			memcpy(buf, line, size - 1);
			buf[size - 1] = '\0';
		}
		return -ENOSPC;
	}
	memcpy(buf, line, n + 1);
	return (int)n;
}

static int has_uid(const struct sock *sk)
{
	return sk->kind == SOCK_KIND_FULL;
}

static int has_inode(const struct sock *sk)
{
	return sk->kind == SOCK_KIND_FULL && sk->inode != 0;
}

/*
 * Writes US as a compact duration that loses nothing: "850us" below a
 * millisecond, "12.345ms" below a second, "3.204581s" above. Returns the end.
 */
static char *put_duration(char *p, uint64_t us)
{
	if (us < 1000) {
		p = put_u64(p, us);
		return put_str(p, "us");
	}
	if (us < 1000000) {
		p = put_u64(p, us / 1000);
		*p++ = '.';
		p = put_digits(p, (unsigned long)(us % 1000), 3);
		return put_str(p, "ms");
	}
	p = put_u64(p, us / 1000000);
	*p++ = '.';
	p = put_digits(p, (unsigned long)(us % 1000000), 6);
	*p++ = 's';
	return p;
}

/* " in_state=12.345ms role=client peer=N uid=N ino=N", each when known, at
 * P; or the same as JSON keys (",\"in_state_us\":12345,..."). Returns the end. */
static char *put_about(char *p, const struct transition_about *a, int json)
{
	if (a->has_in_state) {
		if (json) {
			p = put_str(p, ",\"in_state_us\":");
			p = put_u64(p, a->in_state_us);
		} else {
			p = put_str(p, " in_state=");
			p = put_duration(p, a->in_state_us);
		}
	}
	if (a->role) {
		p = put_str(p, json ? ",\"role\":\"" : " role=");
		p = put_str(p, a->role);
		if (json)
			*p++ = '"';
	}
	if (a->peer) {
		p = put_str(p, json ? ",\"peer\":" : " peer=");
		p = put_u64(p, a->peer);
	}
	if (a->has_uid) {
		p = put_str(p, json ? ",\"uid\":" : " uid=");
		p = put_u64(p, a->uid);
	}
	if (a->inode) {
		p = put_str(p, json ? ",\"inode\":" : " ino=");
		p = put_u64(p, a->inode);
	}
	return p;
}

/* The longest put_about(): JSON's keys are the longer. */
#define ABOUT_MAX                                                                                  \
	sizeof(",'in_state_us':18446744073709551615,'role':'server',"                              \
	       "'peer':18446744073709551615,'uid':4294967295,'inode':4294967295")

/*
 * The owner's names are bytes the kernel or an administrator chose: a
 * process can name itself anything (prctl PR_SET_NAME), a cgroup directory
 * can hold any byte but '/'. Each value is escaped so that it cannot break
 * the line or its format, and cut to MAX input bytes first.
 *
 * Every record under the default configuration carries them, so they are
 * written in place like the rest of the record. Each was once escaped into a
 * buffer of its own of ESCAPED_*_ROOM bytes, and an escape stopped when that
 * buffer could no longer hold the longest escape and its NUL: a name of 1,024
 * bytes that all need escaping loses its last one. The limits are kept so
 * that the same name still gives the same line.
 */
#define OWNER_FIELD_MAX   1024
#define ESCAPED_TEXT_ROOM (OWNER_FIELD_MAX * 4 + 1)
#define ESCAPED_JSON_ROOM (OWNER_FIELD_MAX * 6 + 1)

static const char hex_digits[] = "0123456789abcdef";

/* Text: bytes that would split or hide a field (blanks, controls, DEL, the
 * backslash) as \xNN; everything else, UTF-8 included, as it is. Writes less
 * than ESCAPED_TEXT_ROOM bytes at P; returns the end. */
static char *put_escaped_text(char *p, const char *s)
{
	const char *start = p;
	size_t i = 0;

	for (;;) {
		unsigned char c;

		/* Before the last byte the room cannot run out (each takes at
		 * most 4), so a run of bytes kept as they are, nearly all of a
		 * real name, is copied without asking. */
		for (; i < OWNER_FIELD_MAX - 1; i++) {
			c = (unsigned char)s[i];
			if (c <= ' ' || c == 0x7f || c == '\\')
				break;
			*p++ = (char)c;
		}
		c = (unsigned char)s[i];
		if (!c || i >= OWNER_FIELD_MAX || (size_t)(p - start) + 5 >= ESCAPED_TEXT_ROOM)
			break;
		if (c <= ' ' || c == 0x7f || c == '\\') {
			*p++ = '\\';
			*p++ = 'x';
			*p++ = hex_digits[c >> 4];
			*p++ = hex_digits[c & 0xf];
		} else {
			*p++ = (char)c;
		}
		i++;
	}
	return p;
}

/* The length of the valid UTF-8 sequence at S (1 to 4), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	/* No overlong forms, surrogates or code points past U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	for (i = 1; i < n; i++) {
		if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
			return 0;
	}
	return n;
}

/* JSON: '"', '\\' and controls escaped; valid UTF-8 kept; a byte that is not
 * part of valid UTF-8 as the code point of the same number (\u00NN), so the
 * line stays valid JSON (and UTF-8) whatever the name holds. Writes less
 * than ESCAPED_JSON_ROOM bytes at P; returns the end. */
static char *put_escaped_json(char *p, const char *s)
{
	const unsigned char *in = (const unsigned char *)s;
	const char *start = p;
	size_t i = 0;

	for (;;) {
		unsigned char c;
		size_t k;

		/* Before the last byte the room cannot run out (each takes at
		 * most 6), so a run of printable ASCII, nearly all of a real
		 * name, is copied without asking. */
		for (; i < OWNER_FIELD_MAX - 1; i++) {
			c = in[i];
			if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
				break;
			*p++ = (char)c;
		}
		c = in[i];
		if (!c || i >= OWNER_FIELD_MAX || (size_t)(p - start) + 7 >= ESCAPED_JSON_ROOM)
			break;
		k = utf8_len(in + i);
		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
			i++;
		} else if (c < 0x20 || c == 0x7f || k == 0) {
			p = put_str(p, "\\u00");
			*p++ = hex_digits[c >> 4];
			*p++ = hex_digits[c & 0xf];
			i++;
		} else {
			memcpy(p, in + i, k);
			p += k;
			i += k;
		}
	}
	return p;
}

/* The most put_owner_text() writes: " unit=", " pid=4294967295 comm=", two
 * escaped names. */
#define OWNER_TEXT_MAX (2 * ESCAPED_TEXT_ROOM + 32)

/* " unit=nginx.service pid=123 comm=nginx", escaped, at P; returns the end. */
static char *put_owner_text(char *p, const struct sock_owner *o)
{
	if (!o)
		return p;
	if (o->unit) {
		p = put_str(p, " unit=");
		p = put_escaped_text(p, o->unit);
	}
	if (o->pid) {
		p = put_str(p, " pid=");
		p = put_u64(p, o->pid);
		p = put_str(p, " comm=");
		p = put_escaped_text(p, o->comm ? o->comm : "");
	}
	return p;
}

/*
 * The network namespace a record happened in, when the daemon says it
 * ([poll] netns set): " netns=NAME netns_ino=INO", or the same as JSON keys.
 *
 * In text they come after what the record says of its connection and
 * before its owner's keys. The fixed columns and the short key=value pairs
 * keep the places they have in a log of one namespace, so tail -f reads the
 * same; the name is bounded (below) and the same on every line of a
 * container, and the owner's names, which can be far longer, stay last,
 * where a long one pushes nothing after it. Next to each other, netns= and
 * unit= read as one "where": for a container they often name the same
 * scope. JSON is read by key, not by eye, and docs/record-format.md
 * promises that keys are only ever added after the existing ones: there
 * they are the last keys.
 *
 * A name is a file name (an `ip netns` name, a runtime's file) or a
 * systemd unit's, both at most RECORD_NETNS_NAME_MAX bytes; a longer one is
 * cut there so that RECORD_MAX still holds every record.
 */
#define NETNS_NAME_MAX RECORD_NETNS_NAME_MAX

/* The most put_netns() writes: JSON's keys, every byte escaped to 6. */
#define NETNS_MAX (sizeof(",'netns':'','netns_ino':18446744073709551615") + 6 * NETNS_NAME_MAX)

static char *put_netns(char *p, const struct transition_netns *ns, int json)
{
	char cut[NETNS_NAME_MAX + 1];
	const char *name;

	if (!ns)
		return p;
	name = ns->name ? ns->name : "";
	if (strnlen(name, NETNS_NAME_MAX + 1) > NETNS_NAME_MAX) {
		memcpy(cut, name, NETNS_NAME_MAX);
		cut[NETNS_NAME_MAX] = '\0';
		name = cut;
	}
	if (json) {
		p = put_str(p, ",\"netns\":\"");
		p = put_escaped_json(p, name);
		p = put_str(p, "\",\"netns_ino\":");
	} else {
		p = put_str(p, " netns=");
		p = put_escaped_text(p, name);
		p = put_str(p, " netns_ino=");
	}
	return put_u64(p, ns->ino);
}

/* The owner's JSON keys were written into a buffer of OWNER_JSON_MAX bytes,
 * which three names of 1,024 bytes that all need escaping overflow (a comm
 * that long cannot come from the kernel): they are still cut where that
 * buffer ended. OWNER_JSON_ROOM holds them uncut. */
#define OWNER_JSON_MAX  (12 * OWNER_FIELD_MAX + 128)
#define OWNER_JSON_ROOM (3 * ESCAPED_JSON_ROOM + 64)

/* ,"cgroup":"...","unit":"...","pid":123,"comm":"...", escaped, at P, which
 * holds OWNER_JSON_ROOM bytes; returns the end, at most OWNER_JSON_MAX - 1
 * bytes on. */
static char *put_owner_json(char *p, const struct sock_owner *o)
{
	char *start = p;

	if (!o)
		return p;
	if (o->cgroup) {
		p = put_str(p, ",\"cgroup\":\"");
		p = put_escaped_json(p, o->cgroup);
		*p++ = '"';
	}
	if (o->unit) {
		p = put_str(p, ",\"unit\":\"");
		p = put_escaped_json(p, o->unit);
		*p++ = '"';
	}
	if (o->pid) {
		p = put_str(p, ",\"pid\":");
		p = put_u64(p, o->pid);
		p = put_str(p, ",\"comm\":\"");
		p = put_escaped_json(p, o->comm ? o->comm : "");
		*p++ = '"';
	}
	if (p - start >= OWNER_JSON_MAX)
		p = start + OWNER_JSON_MAX - 1;
	return p;
}

/* The longest text record: two IPv6 endpoints, the largest numbers, a
 * namespace, an owner. */
#define TEXT_MAX                                                                                   \
	(sizeof("2026-11-24T10:00:00.123456Z ipv6  \u2192  ESTABLISHED \u2192 ESTABLISHED "        \
	        "initial cookie=18446744073709551615\n") +                                         \
	 ABOUT_MAX + 2 * ENDPOINT_MAX + NETNS_MAX + OWNER_TEXT_MAX)

static int format_text(char *buf, size_t size, const struct transition *t, const char *ts)
{
	const struct sock *sk = t->sk;
	const struct sock_tuple *tu = &sk->tuple;
	struct transition_about about;
	char line[TEXT_MAX];
	char *p = line;

	/* The names are at most "ESTABLISHED", "UNKNOWN", "initial" long, no
	 * wider than their columns. */
	p = put_str(p, ts);
	*p++ = ' ';
	p = put_str(p, family_name(tu->family));
	*p++ = ' ';
	p = put_endpoint_column(p, tu->family, tu->laddr, tu->lport, 0);
	p = put_str(p, " \u2192 ");
	p = put_endpoint_column(p, tu->family, tu->raddr, tu->rport, transition_is_listener(t));
	*p++ = ' ';
	p = pad_column(p, put_str(p, sock_state_name(t->from)), STATE_COLUMN);
	p = put_str(p, " \u2192 ");
	p = pad_column(p, put_str(p, sock_state_name(t->to)), STATE_COLUMN);
	*p++ = ' ';
	p = pad_column(p, put_str(p, transition_how_name(t->how)), HOW_COLUMN);
	p = put_str(p, " cookie=");
	p = put_u64(p, sk->cookie);
	about = transition_about_of(sk, t->conn, t);
	p = put_about(p, &about, 0);
	p = put_netns(p, t->netns, 0);
	p = put_owner_text(p, t->owner);
	*p++ = '\n';
	*p = '\0';
	return put_line(buf, size, line, (size_t)(p - line));
}

/* The longest JSON record: every key, two IPv6 addresses, the largest numbers. */
#define JSON_MAX                                                                                   \
	(sizeof("{'ts':'2026-11-24T10:00:00.123456Z','family':'ipv6','laddr':'','lport':65535,"    \
	        "'raddr':'','rport':65535,'from':'ESTABLISHED','to':'ESTABLISHED',"                \
	        "'how':'initial','cookie':18446744073709551615}\n") +                              \
	 ABOUT_MAX + 2 * INET6_ADDRSTRLEN)

/* "family":"ipv4","laddr":"...","lport":N,"raddr":"...","rport":N: the
 * 4-tuple's keys, which transitions and summaries share. */
static char *put_json_tuple(char *p, const struct sock_tuple *tu)
{
	p = put_str(p, "\"family\":\"");
	p = put_str(p, family_name(tu->family));
	p = put_str(p, "\",\"laddr\":\"");
	p += record_format_addr(p, INET6_ADDRSTRLEN, tu->family, tu->laddr);
	p = put_str(p, "\",\"lport\":");
	p = put_u64(p, tu->lport);
	p = put_str(p, ",\"raddr\":\"");
	p += record_format_addr(p, INET6_ADDRSTRLEN, tu->family, tu->raddr);
	p = put_str(p, "\",\"rport\":");
	return put_u64(p, tu->rport);
}

/* ,"cookie":N, then "uid" and "inode" where SK has them: the socket's
 * identity, which transitions and --once's sockets share. */
static char *put_json_ids(char *p, const struct sock *sk)
{
	p = put_str(p, ",\"cookie\":");
	p = put_u64(p, sk->cookie);
	if (has_uid(sk)) {
		p = put_str(p, ",\"uid\":");
		p = put_u64(p, sk->uid);
	}
	if (has_inode(sk)) {
		p = put_str(p, ",\"inode\":");
		p = put_u64(p, sk->inode);
	}
	return p;
}

/* Writes the JSON record's fixed keys, without the closing brace, into BUF,
 * which holds JSON_MAX bytes; returns the end. */
static char *put_json(char *buf, const struct transition *t, const char *ts)
{
	const struct sock *sk = t->sk;
	const struct sock_tuple *tu = &sk->tuple;
	struct transition_about about;
	char *p = buf;

	/* Every value is a number or one of our own fixed words or an address
	 * from inet_ntop, so nothing needs JSON escaping. The names are at most
	 * "ESTABLISHED", "UNKNOWN", "initial" long. */
	p = put_str(p, "{\"ts\":\"");
	p = put_str(p, ts);
	p = put_str(p, "\",");
	p = put_json_tuple(p, tu);
	p = put_str(p, ",\"from\":\"");
	p = put_str(p, sock_state_name(t->from));
	p = put_str(p, "\",\"to\":\"");
	p = put_str(p, sock_state_name(t->to));
	p = put_str(p, "\",\"how\":\"");
	p = put_str(p, transition_how_name(t->how));
	p = put_str(p, "\",\"cookie\":");
	p = put_u64(p, sk->cookie);
	about = transition_about_of(sk, t->conn, t);
	return put_about(p, &about, 1);
}

static int format_json(char *buf, size_t size, const struct transition *t, const char *ts)
{
	char line[JSON_MAX + NETNS_MAX + OWNER_JSON_ROOM];
	char *p = put_json(line, t, ts);

	/* The owner's and the namespace's keys, which need escaping, come
	 * after the fixed ones. */
	p = put_owner_json(p, t->owner);
	p = put_netns(p, t->netns, 1);
	p = put_str(p, "}\n");
	*p = '\0';
	return put_line(buf, size, line, (size_t)(p - line));
}

int record_format(char *buf, size_t size, const struct transition *t, enum record_format fmt)
{
	char ts[32];

	if (record_format_time(ts, sizeof(ts), &t->ts) < 0)
		return -EOVERFLOW;
	return fmt == RECORD_JSON ? format_json(buf, size, t, ts) : format_text(buf, size, t, ts);
}

int record_format_loss(char *buf, size_t size, enum record_format fmt, uint64_t lost,
                       const struct timespec *ts, const struct timespec *since,
                       const struct timespec *until)
{
	char t[32], a[32], b[32];
	int n;

	if (record_format_time(t, sizeof(t), ts) < 0 ||
	    record_format_time(a, sizeof(a), since) < 0 ||
	    record_format_time(b, sizeof(b), until) < 0)
		return -EOVERFLOW;
	if (fmt == RECORD_JSON)
		n = snprintf(buf, size,
		             "{\"ts\":\"%s\",\"kind\":\"lost\",\"lost\":%" PRIu64
		             ",\"since\":\"%s\",\"until\":\"%s\"}\n",
		             t, lost, a, b);
	else
		n = snprintf(buf, size, "%s lost %" PRIu64 " records since=%s until=%s\n", t, lost,
		             a, b);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

/* Wide enough for a 32-bit inode, when columns follow it. */
#define INODE_COLUMN 10
/* Wide enough for most units ("systemd-resolved.service"). */
#define UNIT_COLUMN 24
/* Wide enough for a pid. */
#define PID_COLUMN 7

/* The longest row: two IPv6 endpoints, the largest numbers, an owner. */
#define ROW_MAX (2 * ENDPOINT_MAX + 128 + 2 * ESCAPED_TEXT_ROOM)

int record_format_table_header(char *buf, size_t size, unsigned columns)
{
	char line[256];
	char *p = put_str(line, "State       Recv-Q Send-Q Local-Address:Port    "
	                        "Peer-Address:Port     Cookie       UID      ");
	char *start = p;

	p = put_str(p, "Inode");
	if (columns)
		p = pad_column(start, p, INODE_COLUMN);
	if (columns & RECORD_TABLE_UNIT) {
		*p++ = ' ';
		start = p;
		p = put_str(p, "Unit");
		if (columns & RECORD_TABLE_PROCESS)
			p = pad_column(start, p, UNIT_COLUMN);
	}
	if (columns & RECORD_TABLE_PROCESS) {
		*p++ = ' ';
		start = p;
		p = pad_column(start, put_str(p, "PID"), PID_COLUMN);
		p = put_str(p, " Command");
	}
	*p++ = '\n';
	*p = '\0';
	return put_line(buf, size, line, (size_t)(p - line));
}

const char *record_table_header(void)
{
	return "State       Recv-Q Send-Q Local-Address:Port    Peer-Address:Port     "
	       "Cookie       UID      Inode\n";
}

/* The owner's columns of a row: the unit, the pid and command, "-" where unknown. */
static char *put_owner_columns(char *p, const struct sock_owner *o, unsigned columns)
{
	char *start;

	if (columns & RECORD_TABLE_UNIT) {
		start = ++p;
		p[-1] = ' ';
		p = o && o->unit ? put_escaped_text(p, o->unit) : put_str(p, "-");
		if (columns & RECORD_TABLE_PROCESS)
			p = pad_column(start, p, UNIT_COLUMN);
	}
	if (columns & RECORD_TABLE_PROCESS) {
		*p++ = ' ';
		start = p;
		p = o && o->pid ? put_u64(p, o->pid) : put_str(p, "-");
		p = pad_column(start, p, PID_COLUMN);
		*p++ = ' ';
		p = o && o->pid ? put_escaped_text(p, o->comm ? o->comm : "") : put_str(p, "-");
	}
	return p;
}

int record_format_table_row(char *buf, size_t size, const struct sock *sk,
                            const struct sock_owner *owner, unsigned columns)
{
	const struct sock_tuple *tu = &sk->tuple;
	char local[ENDPOINT_MAX], remote[ENDPOINT_MAX], uid[16] = "-", ino[16] = "-";
	char line[ROW_MAX];
	char *p;
	int n;

	format_endpoint(local, tu->family, tu->laddr, tu->lport, 0);
	format_endpoint(remote, tu->family, tu->raddr, tu->rport, is_listener(sk));
	if (has_uid(sk))
		snprintf(uid, sizeof(uid), "%" PRIu32, sk->uid);
	if (has_inode(sk))
		snprintf(ino, sizeof(ino), "%" PRIu32, sk->inode);
	n = snprintf(line, sizeof(line),
	             "%-*s %6" PRIu32 " %6" PRIu32 " %-*s %-*s %-12" PRIu64 " %-8s %-*s",
	             STATE_COLUMN, sock_state_name(sk->state), sk->rqueue, sk->wqueue, ADDR_COLUMN,
	             local, ADDR_COLUMN, remote, sk->cookie, uid, columns ? INODE_COLUMN : 0, ino);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -ENOSPC;
	p = put_owner_columns(line + n, owner, columns);
	*p++ = '\n';
	*p = '\0';
	return put_line(buf, size, line, (size_t)(p - line));
}

int record_format_row(char *buf, size_t size, const struct sock *sk)
{
	return record_format_table_row(buf, size, sk, NULL, 0);
}

int record_format_socket_json(char *buf, size_t size, const struct sock *sk,
                              const struct sock_owner *owner, const struct timespec *ts)
{
	char line[JSON_MAX + OWNER_JSON_ROOM];
	char *p = line;

	p = put_str(p, "{\"ts\":\"");
	if (record_format_time(p, 32, ts) < 0)
		return -EOVERFLOW;
	p += strlen(p);
	p = put_str(p, "\",\"kind\":\"socket\",");
	p = put_json_tuple(p, &sk->tuple);
	p = put_str(p, ",\"state\":\"");
	p = put_str(p, sock_state_name(sk->state));
	p = put_str(p, "\",\"rqueue\":");
	p = put_u64(p, sk->rqueue);
	p = put_str(p, ",\"wqueue\":");
	p = put_u64(p, sk->wqueue);
	p = put_json_ids(p, sk);
	p = put_owner_json(p, owner);
	p = put_str(p, "}\n");
	*p = '\0';
	return put_line(buf, size, line, (size_t)(p - line));
}

/* Appends one of the summary's figures, " key=value" (text) or
 * ",\"key\":value" (JSON), at P; returns the end. */
static char *put_figure(char *p, const char *name, uint64_t value, int json)
{
	if (json) {
		*p++ = ',';
		*p++ = '"';
		p = put_str(p, name);
		*p++ = '"';
		*p++ = ':';
	} else {
		*p++ = ' ';
		p = put_str(p, name);
		*p++ = '=';
	}
	return put_u64(p, value);
}

/* The summary's figures, each only when the kernel reported it, at P; returns
 * the end. At most FIGURES_MAX - 1 bytes (the JSON ones are the longer), 148,
 * so they always fit the 160 bytes they were once written into, and no
 * figure is ever left out for want of room. */
#define FIGURES_MAX                                                                                \
	sizeof(",'lifetime_us':18446744073709551615,'bytes_sent':18446744073709551615,"            \
	       "'bytes_received':18446744073709551615,'retrans':4294967295,"                       \
	       "'rtt_us':4294967295")

static char *put_figures(char *p, const struct summary *s, int json)
{
	const struct sock_info *in = &s->info;

	p = put_figure(p, "lifetime_us", s->lifetime_us, json);
	if (in->has & SOCK_INFO_HAS_BYTES) {
		p = put_figure(p, "bytes_sent", in->bytes_acked, json);
		p = put_figure(p, "bytes_received", in->bytes_received, json);
	}
	if (in->has & SOCK_INFO_HAS_RETRANS)
		p = put_figure(p, "retrans", in->total_retrans, json);
	if (in->has & SOCK_INFO_HAS_RTT)
		p = put_figure(p, "rtt_us", in->rtt_us, json);
	return p;
}

/* " outcome=fin closer=local", or as JSON keys, at P; returns the end.
 * Nothing for a summary that knows nothing of its connection (no conn). */
static char *put_outcome(char *p, const struct summary *s, int json)
{
	const char *closer = transition_side_name(s->closer);

	if (!s->conn)
		return p;
	p = put_str(p, json ? ",\"outcome\":\"" : " outcome=");
	p = put_str(p, transition_outcome_name(s->outcome));
	if (json)
		*p++ = '"';
	if (closer) {
		p = put_str(p, json ? ",\"closer\":\"" : " closer=");
		p = put_str(p, closer);
		if (json)
			*p++ = '"';
	}
	return p;
}

/* The longest summary: JSON's keys, which are longer than text's words, two
 * IPv6 endpoints as text writes them (bracketed, with ports: longer than
 * JSON's addresses), the largest numbers, every figure, the namespace and
 * every owner key. */
#define SUMMARY_MAX                                                                                \
	(sizeof("{'ts':'2026-11-24T10:00:00.123456Z','kind':'summary','family':'ipv6',"            \
	        "'laddr':'','lport':65535,'raddr':'','rport':65535,"                               \
	        "'cookie':18446744073709551615,'outcome':'refused','closer':'remote'}\n") +        \
	 2 * ENDPOINT_MAX + FIGURES_MAX + ABOUT_MAX + NETNS_MAX + OWNER_JSON_ROOM)

/* RECORD_MAX holds every record: the owner's JSON keys, cut at
 * OWNER_JSON_MAX, are the largest part, then the namespace's name. */
_Static_assert(JSON_MAX + NETNS_MAX + OWNER_JSON_MAX <= RECORD_MAX, "RECORD_MAX: transitions");
_Static_assert(TEXT_MAX <= RECORD_MAX, "RECORD_MAX: text transitions");
_Static_assert(SUMMARY_MAX - OWNER_JSON_ROOM + OWNER_JSON_MAX <= RECORD_MAX,
               "RECORD_MAX: summaries");

int record_format_summary(char *buf, size_t size, const struct summary *s, enum record_format fmt)
{
	const struct sock_tuple *tu = &s->sk->tuple;
	struct transition_about about = transition_about_of(s->sk, s->conn, NULL);
	char ts[32], line[SUMMARY_MAX];
	char *p = line;

	if (record_format_time(ts, sizeof(ts), &s->ts) < 0)
		return -EOVERFLOW;
	if (fmt == RECORD_JSON) {
		p = put_str(p, "{\"ts\":\"");
		p = put_str(p, ts);
		p = put_str(p, "\",\"kind\":\"summary\",");
		p = put_json_tuple(p, tu);
		p = put_str(p, ",\"cookie\":");
		p = put_u64(p, s->sk->cookie);
		p = put_figures(p, s, 1);
		p = put_outcome(p, s, 1);
		p = put_about(p, &about, 1);
		p = put_owner_json(p, s->owner);
		p = put_netns(p, s->netns, 1);
		*p++ = '}';
	} else {
		p = put_str(p, ts);
		*p++ = ' ';
		p = put_str(p, family_name(tu->family));
		*p++ = ' ';
		p = put_endpoint_column(p, tu->family, tu->laddr, tu->lport, 0);
		p = put_str(p, " \u2192 ");
		p = put_endpoint_column(p, tu->family, tu->raddr, tu->rport, is_listener(s->sk));
		p = put_str(p, " summary cookie=");
		p = put_u64(p, s->sk->cookie);
		p = put_figures(p, s, 0);
		p = put_outcome(p, s, 0);
		p = put_about(p, &about, 0);
		p = put_netns(p, s->netns, 0);
		p = put_owner_text(p, s->owner);
	}
	*p++ = '\n';
	*p = '\0';
	return put_line(buf, size, line, (size_t)(p - line));
}
