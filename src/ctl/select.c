/*
 * select.c - the filters of every verb, and the times they take.
 *
 * Filters that every record answers (port, host, cookie) are applied to
 * records, before assembly, so that a selective query holds and assembles
 * only the connections it wants; the rest need the whole connection and are
 * applied to it when it is finished. Times follow journalctl, so that
 * "--since -10min" means the same in both programs.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "ctl_select.h"
#include "util.h"

void select_init(struct ctl_select *s)
{
	memset(s, 0, sizeof(*s));
	s->port = -1;
	s->state = -1;
	s->outcome = -1;
	s->since_us = INT64_MIN;
	s->until_us = INT64_MAX;
}

int select_set_host(struct ctl_select *s, const char *text)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	int family;
	unsigned max;
	long len;

	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	max = family == AF_INET6 ? 128 : 32;
	memset(s->host_addr, 0, sizeof(s->host_addr));
	if (inet_pton(family, buf, s->host_addr) != 1)
		return -EINVAL;
	len = max;
	if (slash) {
		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || len < 0 || len > (long)max)
			return -EINVAL;
	}
	for (unsigned bit = (unsigned)len; bit < 128; bit++)
		s->host_addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	s->host_family = (uint8_t)family;
	s->host_len = (unsigned)len;
	return 0;
}

int select_set_netns(struct ctl_select *s, const char *pattern)
{
	const char *p = pattern;
	uint64_t ino = 0;

	if (!*pattern)
		return -EINVAL;
	for (; *p >= '0' && *p <= '9' && ino <= (UINT64_MAX - 9) / 10; p++)
		ino = ino * 10 + (uint64_t)(*p - '0');
	s->netns = pattern;
	s->netns_ino = *p ? 0 : ino;
	return 0;
}

/* Nonzero when the namespace NAME (NULL: not said), of inode INO, is the
 * one --netns asked for. */
static int netns_match(const struct ctl_select *s, const char *name, uint64_t ino)
{
	if (!s->netns)
		return 1;
	if (s->netns_ino && ino == s->netns_ino)
		return 1;
	return name && fnmatch(s->netns, name, 0) == 0;
}

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Nonzero when ADDR of FAMILY is in the --host prefix; an IPv4 prefix also
 * takes IPv4-mapped IPv6 addresses (an IPv6 socket's IPv4 peer). */
static int host_match(const struct ctl_select *s, int family, const uint8_t addr[16])
{
	const uint8_t *a = addr;
	unsigned full, rest;

	if (family != s->host_family) {
		if (s->host_family != AF_INET || family != AF_INET6 ||
		    memcmp(addr, v4mapped, sizeof(v4mapped)) != 0)
			return 0;
		a = addr + 12;
	}
	full = s->host_len / 8;
	rest = s->host_len % 8;
	if (memcmp(a, s->host_addr, full) != 0)
		return 0;
	return !rest || ((a[full] ^ s->host_addr[full]) & (0xff00u >> rest)) == 0;
}

static int tuple_match(const struct ctl_select *s, const struct sock_tuple *tu, uint64_t cookie)
{
	if (s->port >= 0 && tu->lport != s->port && tu->rport != s->port)
		return 0;
	if (s->host_family && !host_match(s, tu->family, tu->laddr) &&
	    !host_match(s, tu->family, tu->raddr))
		return 0;
	return !s->cookie || cookie == s->cookie;
}

int select_record(const struct ctl_select *s, const struct ctl_record *r)
{
	if (r->kind != CTL_RECORD_TRANSITION && r->kind != CTL_RECORD_SUMMARY)
		return 1;
	return tuple_match(s, &r->tuple, r->cookie) &&
	       netns_match(s, CTL_HAS(r, NETNS) ? r->netns : NULL, r->netns_ino);
}

int select_conn(const struct ctl_select *s, const struct conn *c, int64_t now_us)
{
	int listener = c->outcome == CONN_LISTENER;

	if (!tuple_match(s, &c->tuple, c->cookie) || !netns_match(s, c->netns, c->netns_ino))
		return 0;
	if (listener && s->state != SOCK_LISTEN && s->outcome != CONN_LISTENER)
		return 0;
	if (s->unit && (!c->unit || strcmp(c->unit, s->unit) != 0))
		return 0;
	if (s->comm && (!c->comm || strcmp(c->comm, s->comm) != 0))
		return 0;
	if (s->state >= 0 && !conn_passed(c, (unsigned)s->state))
		return 0;
	if (s->outcome == CONN_OUTCOME_FIN ? !conn_outcome_is_fin(c->outcome)
	                                   : s->outcome >= 0 && c->outcome != s->outcome)
		return 0;
	if (s->open_only && (c->flags & CONN_ENDED))
		return 0;
	return conn_start_us(c) <= s->until_us && conn_end_us(c, now_us) >= s->since_us;
}

/* --- Times --------------------------------------------------------------- */

struct time_unit {
	const char *name;
	int64_t us;
};

/* systemd.time(7)'s units; longer names first where one is a prefix. */
static const struct time_unit units[] = {
    {"usec", 1},
    {"us", 1},
    {"\u00b5s", 1},
    {"msec", 1000},
    {"ms", 1000},
    {"seconds", 1000000},
    {"second", 1000000},
    {"sec", 1000000},
    {"s", 1000000},
    {"minutes", 60000000},
    {"minute", 60000000},
    {"min", 60000000},
    {"months", 2629800000000},
    {"month", 2629800000000},
    {"M", 2629800000000},
    {"m", 60000000},
    {"hours", 3600000000},
    {"hour", 3600000000},
    {"hr", 3600000000},
    {"h", 3600000000},
    {"days", 86400000000},
    {"day", 86400000000},
    {"d", 86400000000},
    {"weeks", 604800000000},
    {"week", 604800000000},
    {"w", 604800000000},
    {"years", 31557600000000},
    {"year", 31557600000000},
    {"y", 31557600000000},
};

/* "1h 30min", "10min", "5" (seconds): a sum of numbers with units. */
static int parse_span(const char *p, int64_t *ret_us)
{
	int64_t total = 0;
	int any = 0;

	for (;;) {
		char *end;
		double v;
		size_t best = 0;
		int64_t mult = 1000000;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (!isdigit((unsigned char)*p) && *p != '.')
			return -EINVAL;
		v = strtod(p, &end);
		p = end;
		while (*p == ' ')
			p++;
		for (size_t i = 0; i < UTIL_LEN(units); i++) {
			size_t n = strlen(units[i].name);

			if (n > best && strncmp(p, units[i].name, n) == 0 &&
			    !isalpha((unsigned char)p[n])) {
				best = n;
				mult = units[i].us;
			}
		}
		if (!best && isalpha((unsigned char)*p))
			return -EINVAL;
		p += best;
		if (v < 0 || v * (double)mult > 9e18)
			return -EINVAL;
		total += (int64_t)(v * (double)mult);
		any = 1;
	}
	if (!any)
		return -EINVAL;
	*ret_us = total;
	return 0;
}

/* Midnight of the day of NOW_US plus DAYS, local or UTC. */
static int day_start(int64_t now_us, int days, int utc, int64_t *ret_us)
{
	time_t t = (time_t)(now_us / 1000000);
	struct tm tm;

	if (!(utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)))
		return -EINVAL;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday += days;
	tm.tm_isdst = -1;
	t = utc ? timegm(&tm) : mktime(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*ret_us = (int64_t)t * 1000000;
	return 0;
}

/* "2026-12-04 10:00:00.5", "2026-12-04T10:00", "2026-12-04", "10:00[:00]". */
static int parse_calendar(const char *p, int64_t now_us, int utc, int64_t *ret_us)
{
	struct tm tm = {0};
	int n = 0, date = 0;
	double sec = 0;
	time_t t;

	if (sscanf(p, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) == 3) {
		date = 1;
		p += n;
		if (*p == ' ' || *p == 'T')
			p++;
	} else {
		time_t now = (time_t)(now_us / 1000000);

		if (!(utc ? gmtime_r(&now, &tm) : localtime_r(&now, &tm)))
			return -EINVAL;
		tm.tm_year += 1900;
		tm.tm_mon += 1;
	}
	n = 0;
	if (*p && sscanf(p, "%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &n) >= 2) {
		p += n;
		if (*p == ':') {
			char *end;

			sec = strtod(p + 1, &end);
			if (end == p + 1 || sec < 0 || sec >= 61)
				return -EINVAL;
			p = end;
		}
	} else if (!date) {
		return -EINVAL;
	} else {
		tm.tm_hour = tm.tm_min = 0;
	}
	if (*p || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	t = utc ? timegm(&tm) : mktime(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*ret_us = (int64_t)t * 1000000 + (int64_t)(sec * 1e6 + 0.5);
	return 0;
}

int select_parse_time(const char *text, int64_t now_us, int64_t *ret_us)
{
	char buf[128];
	size_t n = strlen(text);
	int utc = 0;
	int64_t span;

	while (n && text[n - 1] == ' ')
		n--;
	while (n && *text == ' ')
		text++, n--;
	if (n >= sizeof(buf) || n == 0)
		return -EINVAL;
	memcpy(buf, text, n);
	buf[n] = '\0';
	if (n > 4 && strcmp(buf + n - 4, " UTC") == 0) {
		utc = 1;
		buf[n -= 4] = '\0';
	}
	if (strcmp(buf, "now") == 0) {
		*ret_us = now_us;
		return 0;
	}
	if (strcmp(buf, "today") == 0 || strcmp(buf, "yesterday") == 0 ||
	    strcmp(buf, "tomorrow") == 0)
		return day_start(now_us, buf[0] == 'y' ? -1 : buf[2] == 'm' ? 1 : 0, utc, ret_us);
	if (buf[0] == '@')
		return parse_span(buf + 1, ret_us);
	if ((buf[0] == '-' || buf[0] == '+') && parse_span(buf + 1, &span) == 0) {
		*ret_us = buf[0] == '-' ? now_us - span : now_us + span;
		return 0;
	}
	if (n > 4 && strcmp(buf + n - 4, " ago") == 0) {
		buf[n - 4] = '\0';
		if (parse_span(buf, &span) < 0)
			return -EINVAL;
		*ret_us = now_us - span;
		return 0;
	}
	return parse_calendar(buf, now_us, utc, ret_us);
}
