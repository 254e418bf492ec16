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

/* Wide enough for "255.255.255.255:65535". */
#define ADDR_COLUMN 21
/* Wide enough for "ESTABLISHED". */
#define STATE_COLUMN 11
/* Wide enough for every diff_how name. */
#define HOW_COLUMN 7

/* "[" + IPv6 text + "]:" + port. */
#define ENDPOINT_MAX (INET6_ADDRSTRLEN + 8)

static const char *const format_names[RECORD_FORMAT_MAX] = {
	[RECORD_TEXT] = "text",
	[RECORD_JSON] = "json",
};

const char *record_format_name(unsigned fmt)
{
	return fmt < RECORD_FORMAT_MAX ? format_names[fmt] : "unknown";
}

int record_format_from_name(const char *name)
{
	for (unsigned i = 0; i < RECORD_FORMAT_MAX; i++)
		if (strcmp(name, format_names[i]) == 0)
			return (int)i;
	return -EINVAL;
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

/* "127.0.0.1:80", "[::1]:80"; port 0 (a listener's peer) as "*", like netstat. */
static void format_endpoint(char *buf, size_t size, int family, const uint8_t addr[16],
			    uint16_t port)
{
	char a[INET6_ADDRSTRLEN], p[8] = "*";

	record_format_addr(a, sizeof(a), family, addr);
	if (port)
		snprintf(p, sizeof(p), "%u", port);
	snprintf(buf, size, family == AF_INET6 ? "[%s]:%s" : "%s:%s", a, p);
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
 * The owner's names are bytes the kernel or an administrator chose: a
 * process can name itself anything (prctl PR_SET_NAME), a cgroup directory
 * can hold any byte but '/'. Each value is escaped so that it cannot break
 * the line or its format, and cut to MAX input bytes first.
 */
#define OWNER_FIELD_MAX 1024

/* Text: bytes that would split or hide a field (blanks, controls, DEL, the
 * backslash) as \xNN; everything else, UTF-8 included, as it is. */
static void escape_text(char *out, size_t size, const char *s)
{
	size_t n = 0;

	for (size_t i = 0; s[i] && i < OWNER_FIELD_MAX && n + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == 0x7f || c == '\\')
			n += (size_t)snprintf(out + n, size - n, "\\x%02x", c);
		else
			out[n++] = (char)c;
	}
	out[n] = '\0';
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
 * line stays valid JSON (and UTF-8) whatever the name holds. */
static void escape_json(char *out, size_t size, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0, i = 0;

	while (p[i] && i < OWNER_FIELD_MAX && n + 7 < size) {
		unsigned char c = p[i];
		size_t k = utf8_len(p + i);

		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
			i++;
		} else if (c < 0x20 || c == 0x7f || k == 0) {
			n += (size_t)snprintf(out + n, size - n, "\\u%04x", c);
			i++;
		} else {
			memcpy(out + n, p + i, k);
			n += k;
			i += k;
		}
	}
	out[n] = '\0';
}

/* " unit=nginx.service pid=123 comm=nginx", escaped. */
static void owner_text(char *buf, size_t size, const struct sock_owner *o)
{
	char esc[OWNER_FIELD_MAX * 4 + 1];
	size_t n = 0;

	buf[0] = '\0';
	if (!o)
		return;
	if (o->unit) {
		escape_text(esc, sizeof(esc), o->unit);
		n += (size_t)snprintf(buf + n, size - n, " unit=%s", esc);
	}
	if (o->pid && n < size) {
		escape_text(esc, sizeof(esc), o->comm ? o->comm : "");
		snprintf(buf + n, size - n, " pid=%" PRIu32 " comm=%s", o->pid, esc);
	}
}

/* ,"cgroup":"...","unit":"...","pid":123,"comm":"...", escaped. */
static void owner_json(char *buf, size_t size, const struct sock_owner *o)
{
	char esc[OWNER_FIELD_MAX * 6 + 1];
	size_t n = 0;

	buf[0] = '\0';
	if (!o)
		return;
	if (o->cgroup) {
		escape_json(esc, sizeof(esc), o->cgroup);
		n += (size_t)snprintf(buf + n, size - n, ",\"cgroup\":\"%s\"", esc);
	}
	if (o->unit && n < size) {
		escape_json(esc, sizeof(esc), o->unit);
		n += (size_t)snprintf(buf + n, size - n, ",\"unit\":\"%s\"", esc);
	}
	if (o->pid && n < size) {
		escape_json(esc, sizeof(esc), o->comm ? o->comm : "");
		snprintf(buf + n, size - n, ",\"pid\":%" PRIu32 ",\"comm\":\"%s\"", o->pid, esc);
	}
}

static int format_text(char *buf, size_t size, const struct transition *t, const char *ts)
{
	const struct sock *sk = t->sk;
	const struct sock_tuple *tu = &sk->tuple;
	char local[ENDPOINT_MAX], remote[ENDPOINT_MAX], extra[48] = "";
	char owner[8 * OWNER_FIELD_MAX + 64];
	int n;

	format_endpoint(local, sizeof(local), tu->family, tu->laddr, tu->lport);
	format_endpoint(remote, sizeof(remote), tu->family, tu->raddr, tu->rport);
	if (has_inode(sk))
		snprintf(extra, sizeof(extra), " uid=%" PRIu32 " ino=%" PRIu32, sk->uid, sk->inode);
	else if (has_uid(sk))
		snprintf(extra, sizeof(extra), " uid=%" PRIu32, sk->uid);
	owner_text(owner, sizeof(owner), t->owner);
	n = snprintf(buf, size, "%s %s %-*s \u2192 %-*s %-*s \u2192 %-*s %-*s cookie=%" PRIu64 "%s%s\n",
		     ts, family_name(tu->family), ADDR_COLUMN, local, ADDR_COLUMN, remote,
		     STATE_COLUMN, sock_state_name(t->from), STATE_COLUMN, sock_state_name(t->to),
		     HOW_COLUMN, diff_how_name(t->how), sk->cookie, extra, owner);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

/* Appends the NUL-terminated S at P; returns the end. */
static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/* The longest JSON record: every key, two IPv6 addresses, the largest numbers. */
#define JSON_MAX                                                                       \
	(sizeof("{'ts':'2026-11-24T10:00:00.123456Z','family':'ipv6','laddr':'','lport':65535," \
		"'raddr':'','rport':65535,'from':'ESTABLISHED','to':'ESTABLISHED',"          \
		"'how':'initial','cookie':18446744073709551615,'uid':4294967295,"            \
		"'inode':4294967295}\n") +                                                     \
	 2 * INET6_ADDRSTRLEN)

/* Writes the JSON record's fixed keys, without the closing brace, into BUF,
 * which holds JSON_MAX bytes; returns the end. */
static char *put_json(char *buf, const struct transition *t, const char *ts)
{
	const struct sock *sk = t->sk;
	const struct sock_tuple *tu = &sk->tuple;
	char *p = buf;

	/* Every value is a number or one of our own fixed words or an address
	 * from inet_ntop, so nothing needs JSON escaping. The names are at most
	 * "ESTABLISHED", "UNKNOWN", "initial" long. */
	p = put_str(p, "{\"ts\":\"");
	p = put_str(p, ts);
	p = put_str(p, "\",\"family\":\"");
	p = put_str(p, family_name(tu->family));
	p = put_str(p, "\",\"laddr\":\"");
	p += record_format_addr(p, INET6_ADDRSTRLEN, tu->family, tu->laddr);
	p = put_str(p, "\",\"lport\":");
	p = put_u64(p, tu->lport);
	p = put_str(p, ",\"raddr\":\"");
	p += record_format_addr(p, INET6_ADDRSTRLEN, tu->family, tu->raddr);
	p = put_str(p, "\",\"rport\":");
	p = put_u64(p, tu->rport);
	p = put_str(p, ",\"from\":\"");
	p = put_str(p, sock_state_name(t->from));
	p = put_str(p, "\",\"to\":\"");
	p = put_str(p, sock_state_name(t->to));
	p = put_str(p, "\",\"how\":\"");
	p = put_str(p, diff_how_name(t->how));
	p = put_str(p, "\",\"cookie\":");
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

/* Room for the owner's keys, escaped (owner_json()). */
#define OWNER_JSON_MAX (12 * OWNER_FIELD_MAX + 128)

static int format_json(char *buf, size_t size, const struct transition *t, const char *ts)
{
	char line[JSON_MAX + OWNER_JSON_MAX];
	char *p = put_json(line, t, ts);
	size_t n;

	/* The owner's keys, which need escaping, come after the fixed ones. */
	owner_json(p, OWNER_JSON_MAX, t->owner);
	p = put_str(p + strlen(p), "}\n");
	*p = '\0';
	n = (size_t)(p - line);
	if (n >= size) {
		/* What snprintf() would do: a cut line and -ENOSPC. */
		if (size) {
			memcpy(buf, line, size - 1);
			buf[size - 1] = '\0';
		}
		return -ENOSPC;
	}
	memcpy(buf, line, n + 1);
	return (int)n;
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

	if (record_format_time(t, sizeof(t), ts) < 0 || record_format_time(a, sizeof(a), since) < 0 ||
	    record_format_time(b, sizeof(b), until) < 0)
		return -EOVERFLOW;
	if (fmt == RECORD_JSON)
		n = snprintf(buf, size,
			     "{\"ts\":\"%s\",\"event\":\"lost\",\"lost\":%" PRIu64
			     ",\"since\":\"%s\",\"until\":\"%s\"}\n",
			     t, lost, a, b);
	else
		n = snprintf(buf, size, "%s lost %" PRIu64 " records since=%s until=%s\n", t, lost,
			     a, b);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

const char *record_table_header(void)
{
	return "State       Recv-Q Send-Q Local-Address:Port    Peer-Address:Port     "
	       "Cookie       UID      Inode\n";
}

int record_format_row(char *buf, size_t size, const struct sock *sk)
{
	const struct sock_tuple *tu = &sk->tuple;
	char local[ENDPOINT_MAX], remote[ENDPOINT_MAX], uid[16] = "-", ino[16] = "-";
	int n;

	format_endpoint(local, sizeof(local), tu->family, tu->laddr, tu->lport);
	format_endpoint(remote, sizeof(remote), tu->family, tu->raddr, tu->rport);
	if (has_uid(sk))
		snprintf(uid, sizeof(uid), "%" PRIu32, sk->uid);
	if (has_inode(sk))
		snprintf(ino, sizeof(ino), "%" PRIu32, sk->inode);
	n = snprintf(buf, size, "%-*s %6" PRIu32 " %6" PRIu32 " %-*s %-*s %-12" PRIu64 " %-8s %s\n",
		     STATE_COLUMN, sock_state_name(sk->state), sk->rqueue, sk->wqueue,
		     ADDR_COLUMN, local, ADDR_COLUMN, remote, sk->cookie, uid, ino);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

/* The summary's figures, " key=value" (text) or ",\"key\":value" (JSON),
 * each only when the kernel reported it. */
static void format_figures(char *buf, size_t size, const struct summary *s, int json)
{
	const struct sock_info *in = &s->info;
	size_t n = 0;

#define FIGURE(name, value)                                                                        \
	do {                                                                                       \
		int k_ = json ? snprintf(buf + n, size - n, ",\"%s\":%" PRIu64, name,            \
					 (uint64_t)(value))                                        \
			      : snprintf(buf + n, size - n, " %s=%" PRIu64, name, (uint64_t)(value)); \
		if (k_ > 0 && (size_t)k_ < size - n)                                               \
			n += (size_t)k_;                                                           \
	} while (0)
	buf[0] = '\0';
	FIGURE("lifetime_us", s->lifetime_us);
	if (in->has & SOCK_INFO_HAS_BYTES) {
		FIGURE("bytes_sent", in->bytes_acked);
		FIGURE("bytes_received", in->bytes_received);
	}
	if (in->has & SOCK_INFO_HAS_RETRANS)
		FIGURE("retrans", in->total_retrans);
	if (in->has & SOCK_INFO_HAS_RTT)
		FIGURE("rtt_us", in->rtt_us);
#undef FIGURE
}

int record_format_summary(char *buf, size_t size, const struct summary *s, enum record_format fmt)
{
	const struct sock_tuple *tu = &s->sk->tuple;
	char ts[32], figures[160];
	int n;

	if (record_format_time(ts, sizeof(ts), &s->ts) < 0)
		return -EOVERFLOW;
	format_figures(figures, sizeof(figures), s, fmt == RECORD_JSON);
	if (fmt == RECORD_JSON) {
		char laddr[INET6_ADDRSTRLEN], raddr[INET6_ADDRSTRLEN];

		record_format_addr(laddr, sizeof(laddr), tu->family, tu->laddr);
		record_format_addr(raddr, sizeof(raddr), tu->family, tu->raddr);
		n = snprintf(buf, size,
			     "{\"ts\":\"%s\",\"kind\":\"summary\",\"family\":\"%s\",\"laddr\":\"%s\","
			     "\"lport\":%u,\"raddr\":\"%s\",\"rport\":%u,\"cookie\":%" PRIu64 "%s}\n",
			     ts, family_name(tu->family), laddr, tu->lport, raddr, tu->rport,
			     s->sk->cookie, figures);
	} else {
		char local[ENDPOINT_MAX], remote[ENDPOINT_MAX];

		format_endpoint(local, sizeof(local), tu->family, tu->laddr, tu->lport);
		format_endpoint(remote, sizeof(remote), tu->family, tu->raddr, tu->rport);
		n = snprintf(buf, size, "%s %s %-*s \u2192 %-*s summary cookie=%" PRIu64 "%s\n", ts,
			     family_name(tu->family), ADDR_COLUMN, local, ADDR_COLUMN, remote,
			     s->sk->cookie, figures);
	}
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}
