/*
 * test_ctl_select.c - journalctl's time syntax, --host prefixes (IPv4-mapped
 * addresses included), and which connections each filter selects.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "check.h"
#include "ctl_select.h"

/* 2026-12-04 10:30:15.5 UTC, a Friday. */
#define NOW 1796380215500000ll
#define DAY 86400000000ll

static void check_time(const char *text, int64_t want)
{
	int64_t us = 0;

	CHECK_INT(select_parse_time(text, NOW, &us), 0);
	if (us != want)
		fprintf(stderr, "  for \"%s\"\n", text);
	CHECK_INT(us, want);
}

static void test_times(void)
{
	int64_t us;
	const int64_t midnight = NOW - (NOW % DAY);

	check_time("now", NOW);
	check_time("today", midnight);
	check_time("yesterday", midnight - DAY);
	check_time("tomorrow", midnight + DAY);
	check_time("-10min", NOW - 600000000);
	check_time("+1h 30min", NOW + 5400000000);
	check_time("5min ago", NOW - 300000000);
	check_time("-2d", NOW - 2 * DAY);
	check_time("-500ms", NOW - 500000);
	check_time("@1700000000", 1700000000000000);
	check_time("2026-12-04", midnight);
	check_time("2026-12-04 10:00", midnight + 36000000000);
	check_time("2026-12-04 10:00:05", midnight + 36005000000);
	check_time("2026-12-04T10:00:05.25", midnight + 36005250000);
	check_time("2026-12-04 10:00 UTC", midnight + 36000000000);
	check_time("09:15", midnight + 33300000000);
	CHECK_INT(select_parse_time("", NOW, &us), -EINVAL);
	CHECK_INT(select_parse_time("soon", NOW, &us), -EINVAL);
	CHECK_INT(select_parse_time("-10 parsecs", NOW, &us), -EINVAL);
	CHECK_INT(select_parse_time("2026-13-01", NOW, &us), -EINVAL);
	CHECK_INT(select_parse_time("25:00", NOW, &us), -EINVAL);
	CHECK_INT(select_parse_time("2026-12-04 10:00 junk", NOW, &us), -EINVAL);
}

static struct ctl_record rec(int family, const char *laddr, uint16_t lport, const char *raddr,
                             uint16_t rport)
{
	struct ctl_record r;

	memset(&r, 0, sizeof(r));
	r.kind = CTL_RECORD_TRANSITION;
	r.cookie = 5;
	r.tuple.family = (uint8_t)family;
	r.tuple.lport = lport;
	r.tuple.rport = rport;
	CHECK_INT(inet_pton(family, laddr, r.tuple.laddr), 1);
	CHECK_INT(inet_pton(family, raddr, r.tuple.raddr), 1);
	return r;
}

static void test_records(void)
{
	struct ctl_select s;
	struct ctl_record v4 = rec(AF_INET, "10.1.2.3", 40000, "192.168.7.9", 443);
	struct ctl_record mapped = rec(AF_INET6, "::ffff:10.1.2.3", 80, "::ffff:127.0.0.1", 5000);
	struct ctl_record v6 = rec(AF_INET6, "2001:db8::1", 22, "fe80::1", 6000);

	select_init(&s);
	CHECK(select_record(&s, &v4) && select_record(&s, &v6));
	s.port = 443;
	CHECK(select_record(&s, &v4) && !select_record(&s, &mapped));
	s.port = 5000; /* local or remote */
	CHECK(select_record(&s, &mapped) && !select_record(&s, &v4));
	select_init(&s);
	CHECK_INT(select_set_host(&s, "10.1.0.0/16"), 0);
	CHECK(select_record(&s, &v4) && select_record(&s, &mapped) && !select_record(&s, &v6));
	CHECK_INT(select_set_host(&s, "192.168.7.8/31"), 0);
	CHECK(select_record(&s, &v4) && !select_record(&s, &mapped));
	CHECK_INT(select_set_host(&s, "192.168.7.8"), 0);
	CHECK(!select_record(&s, &v4));
	CHECK_INT(select_set_host(&s, "2001:db8::/32"), 0);
	CHECK(select_record(&s, &v6) && !select_record(&s, &v4));
	CHECK_INT(select_set_host(&s, "10.0.0.0/33"), -EINVAL);
	CHECK_INT(select_set_host(&s, "10.0.0/8"), -EINVAL);
	select_init(&s);
	s.cookie = 6;
	CHECK(!select_record(&s, &v4));
}

/* --netns: a glob on the name, or a number that is an inode (or a name). */
static void test_netns(void)
{
	struct ctl_select s;
	struct ctl_record a = rec(AF_INET, "10.0.0.1", 80, "10.0.0.2", 40000);
	struct ctl_record b = a, none = a;
	struct conn c;

	a.netns_ino = 4026532281;
	strcpy(a.netns, "docker-0123.scope");
	a.has |= 1ull << RECORD_FIELD_NETNS | 1ull << RECORD_FIELD_NETNS_INO;
	b.netns_ino = 4026532282;
	strcpy(b.netns, "1234");
	b.has = a.has;
	select_init(&s);
	CHECK(select_record(&s, &a) && select_record(&s, &none));
	CHECK_INT(select_set_netns(&s, "docker-*"), 0);
	CHECK(select_record(&s, &a) && !select_record(&s, &b) && !select_record(&s, &none));
	CHECK_INT(select_set_netns(&s, "4026532281"), 0);
	CHECK(select_record(&s, &a) && !select_record(&s, &b));
	CHECK_INT(select_set_netns(&s, "1234"), 0); /* b's name */
	CHECK(!select_record(&s, &a) && select_record(&s, &b));
	CHECK_INT(select_set_netns(&s, "[0-9]*"), 0);
	CHECK(!select_record(&s, &a) && select_record(&s, &b));
	CHECK_INT(select_set_netns(&s, ""), -EINVAL);
	/* A connection, by its own namespace. */
	memset(&c, 0, sizeof(c));
	c.host = "";
	c.nsteps = 1;
	c.steps[0] = (struct conn_step){.ts_us = 100, .state = SOCK_ESTABLISHED};
	c.netns_ino = 4026532281;
	c.netns = a.netns;
	CHECK_INT(select_set_netns(&s, "docker-0123.scope"), 0);
	CHECK(select_conn(&s, &c, 1000));
	c.netns = NULL;
	CHECK(!select_conn(&s, &c, 1000));
	CHECK_INT(select_set_netns(&s, "4026532281"), 0);
	CHECK(select_conn(&s, &c, 1000));
}

static void test_conns(void)
{
	struct ctl_select s;
	struct conn c;
	char unit[] = "nginx.service", comm[] = "nginx";

	memset(&c, 0, sizeof(c));
	c.cookie = 9;
	c.host = "";
	c.nsteps = 3;
	c.steps[0] = (struct conn_step){.ts_us = 100, .state = SOCK_SYN_RECV};
	c.steps[1] = (struct conn_step){.ts_us = 200, .state = SOCK_ESTABLISHED};
	c.steps[2] = (struct conn_step){.ts_us = 300, .state = SOCK_CLOSE_WAIT};
	c.unit = unit;
	c.comm = comm;
	c.outcome = CONN_OPEN;
	select_init(&s);
	CHECK(select_conn(&s, &c, 1000));
	s.state = SOCK_CLOSE_WAIT;
	s.unit = "nginx.service";
	s.comm = "nginx";
	s.open_only = 1;
	CHECK(select_conn(&s, &c, 1000));
	s.state = SOCK_TIME_WAIT;
	CHECK(!select_conn(&s, &c, 1000));
	select_init(&s);
	s.unit = "other.service";
	CHECK(!select_conn(&s, &c, 1000));
	select_init(&s);
	s.outcome = CONN_REFUSED;
	CHECK(!select_conn(&s, &c, 1000));
	/* Open until 1000: alive at 900, not yet begun at 50. */
	select_init(&s);
	s.since_us = 900;
	CHECK(select_conn(&s, &c, 1000));
	s.since_us = INT64_MIN;
	s.until_us = 50;
	CHECK(!select_conn(&s, &c, 1000));
	/* A listener only when asked for. */
	c.outcome = CONN_LISTENER;
	select_init(&s);
	CHECK(!select_conn(&s, &c, 1000));
	s.outcome = CONN_LISTENER;
	CHECK(select_conn(&s, &c, 1000));
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	test_times();
	test_records();
	test_conns();
	test_netns();
	return CHECK_DONE();
}
