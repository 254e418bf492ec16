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

int record_format_time(char *buf, size_t size, const struct timespec *ts)
{
	struct tm tm;
	int n;

	/* RFC 3339 has four-digit years, and a tv_nsec out of range is no time. */
	if (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000 || !gmtime_r(&ts->tv_sec, &tm) ||
	    tm.tm_year < 0 - 1900 || tm.tm_year > 9999 - 1900)
		return -EOVERFLOW;
	n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     ts->tv_nsec / 1000);
	return n < 0 || (size_t)n >= size ? -EOVERFLOW : n;
}

int record_format_addr(char *buf, size_t size, int family, const uint8_t addr[16])
{
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

static int format_text(char *buf, size_t size, const struct transition *t, const char *ts)
{
	const struct sock *sk = t->sk;
	const struct sock_tuple *tu = &sk->tuple;
	char local[ENDPOINT_MAX], remote[ENDPOINT_MAX], extra[48] = "";
	int n;

	format_endpoint(local, sizeof(local), tu->family, tu->laddr, tu->lport);
	format_endpoint(remote, sizeof(remote), tu->family, tu->raddr, tu->rport);
	if (has_inode(sk))
		snprintf(extra, sizeof(extra), " uid=%" PRIu32 " ino=%" PRIu32, sk->uid, sk->inode);
	else if (has_uid(sk))
		snprintf(extra, sizeof(extra), " uid=%" PRIu32, sk->uid);
	n = snprintf(buf, size, "%s %s %-*s \u2192 %-*s %-*s \u2192 %-*s %-*s cookie=%" PRIu64 "%s\n",
		     ts, family_name(tu->family), ADDR_COLUMN, local, ADDR_COLUMN, remote,
		     STATE_COLUMN, sock_state_name(t->from), STATE_COLUMN, sock_state_name(t->to),
		     HOW_COLUMN, diff_how_name(t->how), sk->cookie, extra);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

static int format_json(char *buf, size_t size, const struct transition *t, const char *ts)
{
	const struct sock *sk = t->sk;
	const struct sock_tuple *tu = &sk->tuple;
	char laddr[INET6_ADDRSTRLEN], raddr[INET6_ADDRSTRLEN], extra[48] = "";
	int n;

	/* Every value is a number or one of our own fixed words or an address
	 * from inet_ntop, so nothing needs JSON escaping. */
	record_format_addr(laddr, sizeof(laddr), tu->family, tu->laddr);
	record_format_addr(raddr, sizeof(raddr), tu->family, tu->raddr);
	if (has_inode(sk))
		snprintf(extra, sizeof(extra), ",\"uid\":%" PRIu32 ",\"inode\":%" PRIu32, sk->uid,
			 sk->inode);
	else if (has_uid(sk))
		snprintf(extra, sizeof(extra), ",\"uid\":%" PRIu32, sk->uid);
	n = snprintf(buf, size,
		     "{\"ts\":\"%s\",\"family\":\"%s\",\"laddr\":\"%s\",\"lport\":%u,"
		     "\"raddr\":\"%s\",\"rport\":%u,\"from\":\"%s\",\"to\":\"%s\","
		     "\"how\":\"%s\",\"cookie\":%" PRIu64 "%s}\n",
		     ts, family_name(tu->family), laddr, tu->lport, raddr, tu->rport,
		     sock_state_name(t->from), sock_state_name(t->to), diff_how_name(t->how),
		     sk->cookie, extra);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

int record_format(char *buf, size_t size, const struct transition *t, enum record_format fmt)
{
	char ts[32];

	if (record_format_time(ts, sizeof(ts), &t->ts) < 0)
		return -EOVERFLOW;
	return fmt == RECORD_JSON ? format_json(buf, size, t, ts) : format_text(buf, size, t, ts);
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
