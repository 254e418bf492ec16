/* test_record.c - the exact text and JSON of a transition, the --once table. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "check.h"
#include "diff.h"
#include "record.h"
#include "sock.h"

/* 2023-11-14T22:13:20.123456Z, with nanoseconds that must be truncated. */
static const struct timespec TS = {.tv_sec = 1700000000, .tv_nsec = 123456789};

static struct sock mk(int family, const char *laddr, uint16_t lport, const char *raddr,
		      uint16_t rport, unsigned state, unsigned kind)
{
	struct sock sk = {.state = (uint8_t)state, .kind = (uint8_t)kind};

	sk.tuple.family = (uint8_t)family;
	sk.tuple.lport = lport;
	sk.tuple.rport = rport;
	CHECK_INT(inet_pton(family, laddr, sk.tuple.laddr), 1);
	CHECK_INT(inet_pton(family, raddr, sk.tuple.raddr), 1);
	return sk;
}

/* Formats T in FMT and checks the line, its length, and the NUL after it. */
static void check_line(const struct transition *t, enum record_format fmt, const char *want)
{
	char buf[RECORD_MAX];
	int n;

	memset(buf, 'x', sizeof(buf));
	n = record_format(buf, sizeof(buf), t, fmt);
	CHECK_INT(n, (long long)strlen(want));
	if (n >= 0 && (size_t)n < sizeof(buf)) {
		CHECK_INT(buf[n], '\0');
		CHECK_STR(buf, want);
	}
}

/*
 * A JSON Lines line as record.c writes it: one flat object of string and
 * integer values, no whitespace, no escapes (nothing it prints needs one),
 * then '\n'. Checks the syntax and that the keys come in the order KEYS,
 * a NULL-terminated list.
 */
static int json_line_ok(const char *s, const char *const *keys)
{
	size_t k = 0;

	if (*s++ != '{')
		return 0;
	for (;;) {
		const char *key = ++s, *end;

		if (s[-1] != '"' || !(end = strchr(s, '"')))
			return 0;
		if (!keys[k] || strlen(keys[k]) != (size_t)(end - key) ||
		    strncmp(key, keys[k], (size_t)(end - key)) != 0)
			return 0;
		k++;
		s = end + 1;
		if (*s++ != ':')
			return 0;
		if (*s == '"') {
			for (s++; *s != '"'; s++)
				if (*s == '\0' || *s == '\\' || (unsigned char)*s < 0x20)
					return 0;
			s++;
		} else {
			const char *digits = s;

			while (*s >= '0' && *s <= '9')
				s++;
			if (s == digits || (*digits == '0' && s - digits > 1))
				return 0;
		}
		if (*s == '}')
			break;
		if (*s++ != ',')
			return 0;
		if (*s != '"')
			return 0;
	}
	return !keys[k] && s[1] == '\n' && s[2] == '\0';
}

static const char *const KEYS_FULL[] = {"ts", "family", "laddr", "lport", "raddr", "rport",
					"from", "to", "how", "cookie", "uid", "inode", NULL};
static const char *const KEYS_UID[] = {"ts", "family", "laddr", "lport", "raddr", "rport",
				       "from", "to", "how", "cookie", "uid", NULL};
static const char *const KEYS_BARE[] = {"ts", "family", "laddr", "lport", "raddr", "rport",
					"from", "to", "how", "cookie", NULL};

static void test_names(void)
{
	CHECK_STR(record_format_name(RECORD_TEXT), "text");
	CHECK_STR(record_format_name(RECORD_JSON), "json");
	CHECK_STR(record_format_name(RECORD_FORMAT_MAX), "unknown");
	CHECK_INT(record_format_from_name("text"), RECORD_TEXT);
	CHECK_INT(record_format_from_name("json"), RECORD_JSON);
	CHECK_INT(record_format_from_name("JSON"), -EINVAL);
	CHECK_INT(record_format_from_name(""), -EINVAL);
}

static void check_time(time_t sec, long nsec, const char *want)
{
	struct timespec ts = {.tv_sec = sec, .tv_nsec = nsec};
	char buf[28];

	memset(buf, 'x', sizeof(buf));
	CHECK_INT(record_format_time(buf, sizeof(buf), &ts), 27);
	CHECK_STR(buf, want);
}

static void test_time(void)
{
	struct timespec ts;
	char buf[64];

	check_time(0, 0, "1970-01-01T00:00:00.000000Z");
	check_time(0, 999999999, "1970-01-01T00:00:00.999999Z"); /* truncated, not rounded */
	check_time(0, 999, "1970-01-01T00:00:00.000000Z");
	check_time(0, 1000, "1970-01-01T00:00:00.000001Z");
	check_time(1700000000, 123456789, "2023-11-14T22:13:20.123456Z");
	check_time(951782400, 500000000, "2000-02-29T00:00:00.500000Z");
	check_time(253402300799, 999999000, "9999-12-31T23:59:59.999999Z");
	check_time(-1, 0, "1969-12-31T23:59:59.000000Z");

	/* 28 bytes are needed, 27 are too few. */
	ts = (struct timespec){.tv_sec = 1700000000};
	CHECK_INT(record_format_time(buf, 27, &ts), -EOVERFLOW);
	CHECK_INT(record_format_time(buf, 0, &ts), -EOVERFLOW);

	/* Times RFC 3339 cannot write (years past 9999) or gmtime cannot. */
	ts = (struct timespec){.tv_sec = 253402300800}; /* 10000-01-01 */
	CHECK_INT(record_format_time(buf, sizeof(buf), &ts), -EOVERFLOW);
	ts = (struct timespec){.tv_sec = 67768036191676799}; /* gmtime's last: tm_year INT_MAX */
	CHECK_INT(record_format_time(buf, sizeof(buf), &ts), -EOVERFLOW);
	ts = (struct timespec){.tv_sec = LLONG_MAX};
	CHECK_INT(record_format_time(buf, sizeof(buf), &ts), -EOVERFLOW);
	ts = (struct timespec){.tv_sec = LLONG_MIN};
	CHECK_INT(record_format_time(buf, sizeof(buf), &ts), -EOVERFLOW);
	/* Nanoseconds out of range are no time at all. */
	ts = (struct timespec){.tv_sec = 0, .tv_nsec = -1};
	CHECK_INT(record_format_time(buf, sizeof(buf), &ts), -EOVERFLOW);
	ts = (struct timespec){.tv_sec = 0, .tv_nsec = 1000000000};
	CHECK_INT(record_format_time(buf, sizeof(buf), &ts), -EOVERFLOW);
}

static void test_addr(void)
{
	char buf[INET6_ADDRSTRLEN];
	struct sock sk = mk(AF_INET6, "::ffff:10.1.2.3", 1, "2001:db8::1", 2, 1, 0);
	const uint8_t v4[16] = {192, 168, 0, 1};

	CHECK_INT(record_format_addr(buf, sizeof(buf), AF_INET, v4), 11);
	CHECK_STR(buf, "192.168.0.1");
	CHECK_INT(record_format_addr(buf, sizeof(buf), AF_INET6, sk.tuple.laddr), 15);
	CHECK_STR(buf, "::ffff:10.1.2.3");
	CHECK_INT(record_format_addr(buf, sizeof(buf), AF_INET6, sk.tuple.raddr), 11);
	CHECK_STR(buf, "2001:db8::1");
}

/* An IPv4 full socket with uid and inode, in each direction and each how. */
static void test_ipv4(void)
{
	struct sock sk = mk(AF_INET, "127.0.0.1", 40000, "127.0.0.1", 9000, SOCK_ESTABLISHED,
			    SOCK_KIND_FULL);
	struct transition t = {.ts = TS, .sk = &sk, .from = SOCK_NONE, .to = SOCK_ESTABLISHED,
			       .how = DIFF_HOW_POLL};

	sk.cookie = 4097;
	sk.uid = 1000;
	sk.inode = 12345;
	check_line(&t, RECORD_TEXT,
		   "2023-11-14T22:13:20.123456Z ipv4 127.0.0.1:40000       \u2192 127.0.0.1:9000"
		   "        NONE        \u2192 ESTABLISHED poll    cookie=4097"
		   " uid=1000 ino=12345\n");
	check_line(&t, RECORD_JSON,
		   "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"family\":\"ipv4\","
		   "\"laddr\":\"127.0.0.1\",\"lport\":40000,\"raddr\":\"127.0.0.1\",\"rport\":9000,"
		   "\"from\":\"NONE\",\"to\":\"ESTABLISHED\",\"how\":\"poll\",\"cookie\":4097,"
		   "\"uid\":1000,\"inode\":12345}\n");

	t.how = DIFF_HOW_INITIAL;
	check_line(&t, RECORD_TEXT,
		   "2023-11-14T22:13:20.123456Z ipv4 127.0.0.1:40000       \u2192 127.0.0.1:9000"
		   "        NONE        \u2192 ESTABLISHED initial cookie=4097"
		   " uid=1000 ino=12345\n");
	check_line(&t, RECORD_JSON,
		   "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"family\":\"ipv4\","
		   "\"laddr\":\"127.0.0.1\",\"lport\":40000,\"raddr\":\"127.0.0.1\",\"rport\":9000,"
		   "\"from\":\"NONE\",\"to\":\"ESTABLISHED\",\"how\":\"initial\",\"cookie\":4097,"
		   "\"uid\":1000,\"inode\":12345}\n");

	/* Vanished: to NONE; the record describes the socket as it was. */
	t.how = DIFF_HOW_POLL;
	t.from = SOCK_CLOSE_WAIT;
	t.to = SOCK_NONE;
	sk.tuple.laddr[3] = 2;
	sk.tuple.raddr[0] = 10;
	check_line(&t, RECORD_TEXT,
		   "2023-11-14T22:13:20.123456Z ipv4 127.0.0.2:40000       \u2192 10.0.0.1:9000"
		   "         CLOSE_WAIT  \u2192 NONE        poll    cookie=4097"
		   " uid=1000 ino=12345\n");
	check_line(&t, RECORD_JSON,
		   "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"family\":\"ipv4\","
		   "\"laddr\":\"127.0.0.2\",\"lport\":40000,\"raddr\":\"10.0.0.1\",\"rport\":9000,"
		   "\"from\":\"CLOSE_WAIT\",\"to\":\"NONE\",\"how\":\"poll\",\"cookie\":4097,"
		   "\"uid\":1000,\"inode\":12345}\n");
}

/* A listener: no peer port, "*" in text and 0 in JSON. */
static void test_listen(void)
{
	struct sock sk = mk(AF_INET, "0.0.0.0", 22, "0.0.0.0", 0, SOCK_LISTEN, SOCK_KIND_FULL);
	struct sock sk6 = mk(AF_INET6, "::", 443, "::", 0, SOCK_LISTEN, SOCK_KIND_FULL);
	struct transition t = {.ts = TS, .sk = &sk, .from = SOCK_NONE, .to = SOCK_LISTEN,
			       .how = DIFF_HOW_INITIAL};

	sk.cookie = 1;
	sk.inode = 777;
	check_line(&t, RECORD_TEXT,
		   "2023-11-14T22:13:20.123456Z ipv4 0.0.0.0:22            \u2192 0.0.0.0:*"
		   "             NONE        \u2192 LISTEN      initial cookie=1 uid=0 ino=777\n");
	check_line(&t, RECORD_JSON,
		   "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"family\":\"ipv4\","
		   "\"laddr\":\"0.0.0.0\",\"lport\":22,\"raddr\":\"0.0.0.0\",\"rport\":0,"
		   "\"from\":\"NONE\",\"to\":\"LISTEN\",\"how\":\"initial\",\"cookie\":1,"
		   "\"uid\":0,\"inode\":777}\n");

	t.sk = &sk6;
	sk6.cookie = 2;
	sk6.uid = 33;
	sk6.inode = 778;
	check_line(&t, RECORD_TEXT,
		   "2023-11-14T22:13:20.123456Z ipv6 [::]:443              \u2192 [::]:*"
		   "                NONE        \u2192 LISTEN      initial cookie=2"
		   " uid=33 ino=778\n");
	check_line(&t, RECORD_JSON,
		   "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"family\":\"ipv6\","
		   "\"laddr\":\"::\",\"lport\":443,\"raddr\":\"::\",\"rport\":0,"
		   "\"from\":\"NONE\",\"to\":\"LISTEN\",\"how\":\"initial\",\"cookie\":2,"
		   "\"uid\":33,\"inode\":778}\n");
}

/* IPv6 and v4-mapped: brackets in text, plain addresses in JSON. */
static void test_ipv6(void)
{
	struct sock sk = mk(AF_INET6, "2001:db8::10", 8080, "fe80::1:2", 51000,
			    SOCK_FIN_WAIT1, SOCK_KIND_FULL);
	struct sock mapped = mk(AF_INET6, "::ffff:127.0.0.1", 9001, "::ffff:127.0.0.1", 40003,
				SOCK_ESTABLISHED, SOCK_KIND_FULL);
	struct transition t = {.ts = TS, .sk = &sk, .from = SOCK_ESTABLISHED,
			       .to = SOCK_FIN_WAIT1, .how = DIFF_HOW_POLL};

	sk.cookie = 18446744073709551615ULL;
	sk.uid = 4294967295u;
	sk.inode = 4294967295u;
	check_line(&t, RECORD_TEXT,
		   "2023-11-14T22:13:20.123456Z ipv6 [2001:db8::10]:8080   \u2192 [fe80::1:2]:51000"
		   "     ESTABLISHED \u2192 FIN_WAIT1   poll    cookie=18446744073709551615"
		   " uid=4294967295 ino=4294967295\n");
	check_line(&t, RECORD_JSON,
		   "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"family\":\"ipv6\","
		   "\"laddr\":\"2001:db8::10\",\"lport\":8080,"
		   "\"raddr\":\"fe80::1:2\",\"rport\":51000,"
		   "\"from\":\"ESTABLISHED\",\"to\":\"FIN_WAIT1\",\"how\":\"poll\","
		   "\"cookie\":18446744073709551615,\"uid\":4294967295,\"inode\":4294967295}\n");

	t.sk = &mapped;
	t.from = SOCK_NONE;
	t.to = SOCK_ESTABLISHED;
	mapped.cookie = 55;
	mapped.inode = 9;
	check_line(&t, RECORD_TEXT,
		   "2023-11-14T22:13:20.123456Z ipv6 [::ffff:127.0.0.1]:9001 \u2192 "
		   "[::ffff:127.0.0.1]:40003 NONE        \u2192 ESTABLISHED poll    cookie=55 uid=0"
		   " ino=9\n");
	check_line(&t, RECORD_JSON,
		   "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"family\":\"ipv6\","
		   "\"laddr\":\"::ffff:127.0.0.1\",\"lport\":9001,\"raddr\":\"::ffff:127.0.0.1\","
		   "\"rport\":40003,\"from\":\"NONE\",\"to\":\"ESTABLISHED\",\"how\":\"poll\","
		   "\"cookie\":55,\"uid\":0,\"inode\":9}\n");
}

/* What the kernel has no value for is left out: an orphan has a uid but no
 * inode, request and TIME_WAIT minisockets have neither. */
static void test_kinds(void)
{
	struct sock orphan = mk(AF_INET, "127.0.0.1", 9000, "127.0.0.1", 40007, SOCK_LAST_ACK,
				SOCK_KIND_FULL);
	struct sock req = mk(AF_INET, "127.0.0.1", 9002, "127.0.0.1", 40008, SOCK_SYN_RECV,
			     SOCK_KIND_REQUEST);
	struct sock tw = mk(AF_INET6, "::1", 40005, "::1", 9000, SOCK_TIME_WAIT,
			    SOCK_KIND_TIMEWAIT);
	struct transition t = {.ts = TS, .sk = &orphan, .from = SOCK_CLOSE_WAIT,
			       .to = SOCK_LAST_ACK, .how = DIFF_HOW_POLL};

	orphan.cookie = 10;
	orphan.uid = 1000;
	check_line(&t, RECORD_TEXT,
		   "2023-11-14T22:13:20.123456Z ipv4 127.0.0.1:9000        \u2192 127.0.0.1:40007"
		   "       CLOSE_WAIT  \u2192 LAST_ACK    poll    cookie=10 uid=1000\n");
	check_line(&t, RECORD_JSON,
		   "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"family\":\"ipv4\","
		   "\"laddr\":\"127.0.0.1\",\"lport\":9000,\"raddr\":\"127.0.0.1\",\"rport\":40007,"
		   "\"from\":\"CLOSE_WAIT\",\"to\":\"LAST_ACK\",\"how\":\"poll\",\"cookie\":10,"
		   "\"uid\":1000}\n");

	/* Whatever a minisocket's uid and inode fields hold, they are not shown. */
	req.cookie = 11;
	req.uid = 5;
	req.inode = 6;
	t.sk = &req;
	t.from = SOCK_NONE;
	t.to = SOCK_SYN_RECV;
	check_line(&t, RECORD_TEXT,
		   "2023-11-14T22:13:20.123456Z ipv4 127.0.0.1:9002        \u2192 127.0.0.1:40008"
		   "       NONE        \u2192 SYN_RECV    poll    cookie=11\n");
	check_line(&t, RECORD_JSON,
		   "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"family\":\"ipv4\","
		   "\"laddr\":\"127.0.0.1\",\"lport\":9002,\"raddr\":\"127.0.0.1\",\"rport\":40008,"
		   "\"from\":\"NONE\",\"to\":\"SYN_RECV\",\"how\":\"poll\",\"cookie\":11}\n");

	tw.cookie = 12;
	t.sk = &tw;
	t.from = SOCK_TIME_WAIT;
	t.to = SOCK_NONE;
	check_line(&t, RECORD_TEXT,
		   "2023-11-14T22:13:20.123456Z ipv6 [::1]:40005           \u2192 [::1]:9000"
		   "            TIME_WAIT   \u2192 NONE        poll    cookie=12\n");
	check_line(&t, RECORD_JSON,
		   "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"family\":\"ipv6\","
		   "\"laddr\":\"::1\",\"lport\":40005,\"raddr\":\"::1\",\"rport\":9000,"
		   "\"from\":\"TIME_WAIT\",\"to\":\"NONE\",\"how\":\"poll\",\"cookie\":12}\n");
}

/* The owner's fields: after the fixed ones, escaped in both formats. */
static void test_owner(void)
{
	struct sock sk = mk(AF_INET, "127.0.0.1", 80, "127.0.0.1", 40000, SOCK_ESTABLISHED,
			    SOCK_KIND_FULL);
	struct sock_owner o = {.cgroup = "/system.slice/nginx.service",
			       .unit = "nginx.service",
			       .pid = 123,
			       .comm = "nginx"};
	struct transition t = {.ts = {.tv_sec = 1700000000, .tv_nsec = 123456000},
			       .sk = &sk,
			       .from = SOCK_NONE,
			       .to = SOCK_ESTABLISHED,
			       .how = DIFF_HOW_POLL,
			       .owner = &o};

	sk.cookie = 7;
	sk.uid = 33;
	sk.inode = 99;
	check_line(&t, RECORD_JSON,
		   "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"family\":\"ipv4\","
		   "\"laddr\":\"127.0.0.1\",\"lport\":80,\"raddr\":\"127.0.0.1\",\"rport\":40000,"
		   "\"from\":\"NONE\",\"to\":\"ESTABLISHED\",\"how\":\"poll\",\"cookie\":7,"
		   "\"uid\":33,\"inode\":99,\"cgroup\":\"/system.slice/nginx.service\","
		   "\"unit\":\"nginx.service\",\"pid\":123,\"comm\":\"nginx\"}\n");
	check_line(&t, RECORD_TEXT,
		   "2023-11-14T22:13:20.123456Z ipv4 127.0.0.1:80          \u2192 127.0.0.1:40000 "
		   "      NONE        \u2192 ESTABLISHED poll    cookie=7 uid=33 ino=99 "
		   "unit=nginx.service pid=123 comm=nginx\n");

	/* A cgroup without a unit; a name with quotes, blanks, controls,
	 * UTF-8 and bytes that are not UTF-8. */
	o = (struct sock_owner){.cgroup = "/", .pid = 5, .comm = "a \"b\"\\\n\xc3\xa9\xff\xc3"};
	check_line(&t, RECORD_JSON,
		   "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"family\":\"ipv4\","
		   "\"laddr\":\"127.0.0.1\",\"lport\":80,\"raddr\":\"127.0.0.1\",\"rport\":40000,"
		   "\"from\":\"NONE\",\"to\":\"ESTABLISHED\",\"how\":\"poll\",\"cookie\":7,"
		   "\"uid\":33,\"inode\":99,\"cgroup\":\"/\",\"pid\":5,"
		   "\"comm\":\"a \\\"b\\\"\\\\\\u000a\xc3\xa9\\u00ff\\u00c3\"}\n");
	check_line(&t, RECORD_TEXT,
		   "2023-11-14T22:13:20.123456Z ipv4 127.0.0.1:80          \u2192 127.0.0.1:40000 "
		   "      NONE        \u2192 ESTABLISHED poll    cookie=7 uid=33 ino=99 "
		   "pid=5 comm=a\\x20\"b\"\\x5c\\x0a\xc3\xa9\xff\xc3\n");

	/* The longest owner fits: 1023 bytes of path and unit that all need
	 * escaping, a 15-byte comm likewise. */
	{
		static char path[1024], unit[1024];
		char buf[RECORD_MAX];
		int n;

		memset(path, 1, sizeof(path) - 1);
		memset(unit, '"', sizeof(unit) - 9);
		strcpy(unit + sizeof(unit) - 9, ".service");
		o = (struct sock_owner){.cgroup = path, .unit = unit, .pid = UINT32_MAX,
					.comm = "\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"};
		for (unsigned fmt = 0; fmt < RECORD_FORMAT_MAX; fmt++) {
			n = record_format(buf, sizeof(buf), &t, fmt);
			CHECK(n > 0 && n < RECORD_MAX);
		}
	}
}

/* The longest record either format can produce fits RECORD_MAX. */
static void test_longest(void)
{
	struct sock sk = mk(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
			    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535, SOCK_ESTABLISHED,
			    SOCK_KIND_FULL);
	struct transition t = {.ts = {.tv_sec = 253402300799, .tv_nsec = 999999999},
			       .sk = &sk,
			       .from = SOCK_ESTABLISHED,
			       .to = SOCK_ESTABLISHED,
			       .how = DIFF_HOW_INITIAL};
	char buf[RECORD_MAX];
	int n;

	sk.cookie = UINT64_MAX;
	sk.uid = UINT32_MAX;
	sk.inode = UINT32_MAX;
	sk.rqueue = UINT32_MAX;
	sk.wqueue = UINT32_MAX;
	for (unsigned fmt = 0; fmt < RECORD_FORMAT_MAX; fmt++) {
		n = record_format(buf, sizeof(buf), &t, fmt);
		CHECK(n > 0 && n < RECORD_MAX);
		if (n > 0)
			CHECK_INT(strlen(buf), n);
		if (fmt == RECORD_JSON)
			CHECK(json_line_ok(buf, KEYS_FULL));
	}
	n = record_format_row(buf, sizeof(buf), &sk);
	CHECK(n > 0 && n < RECORD_MAX);
}

/*
 * Every buffer size too small for the line gives -ENOSPC, and nothing is
 * written past the size given.
 */
static void check_sizes(const struct transition *t, int fmt)
{
	char buf[RECORD_MAX + 16];
	int len, n;

	len = fmt < 0 ? record_format_row(buf, sizeof(buf), t->sk)
		      : record_format(buf, sizeof(buf), t, (enum record_format)fmt);
	CHECK(len > 0);
	for (int size = 0; size <= len + 1; size++) {
		size_t untouched = 0;

		memset(buf, 0x5a, sizeof(buf));
		n = fmt < 0 ? record_format_row(buf, (size_t)size, t->sk)
			    : record_format(buf, (size_t)size, t, (enum record_format)fmt);
		CHECK_INT(n, size > len ? len : -ENOSPC);
		for (size_t i = (size_t)size; i < sizeof(buf); i++)
			untouched += buf[i] == 0x5a;
		CHECK_INT(untouched, sizeof(buf) - (size_t)size);
		if (size > 0)
			CHECK_INT(memchr(buf, '\0', (size_t)size) != NULL, 1);
	}
}

static void test_small_buffer(void)
{
	struct sock sk = mk(AF_INET6, "::ffff:127.0.0.1", 9001, "::1", 40003, SOCK_ESTABLISHED,
			    SOCK_KIND_FULL);
	struct transition t = {.ts = TS, .sk = &sk, .from = SOCK_NONE, .to = SOCK_ESTABLISHED,
			       .how = DIFF_HOW_POLL};

	sk.cookie = 123456789;
	sk.uid = 1000;
	sk.inode = 4242;
	check_sizes(&t, RECORD_TEXT);
	check_sizes(&t, RECORD_JSON);
	check_sizes(&t, -1);
	/* A time record_format_time() refuses is refused whole. */
	t.ts.tv_nsec = -5;
	{
		char buf[RECORD_MAX];

		CHECK(record_format(buf, sizeof(buf), &t, RECORD_TEXT) < 0);
		CHECK(record_format(buf, sizeof(buf), &t, RECORD_JSON) < 0);
	}
}

/* Every combination of kind, state and how: JSON parses, keys are the right
 * ones, text is one line. */
static void test_all_json(void)
{
	struct sock sk = mk(AF_INET, "127.0.0.1", 1, "127.0.0.1", 2, 0, 0);
	struct transition t = {.ts = TS, .sk = &sk};
	char buf[RECORD_MAX];
	int bad = 0, lines = 0;

	sk.uid = 1;
	for (unsigned combo = 0; combo < SOCK_KIND_MAX * 2 * SOCK_STATE_MAX * DIFF_HOW_MAX;
	     combo++) {
		unsigned how = combo % DIFF_HOW_MAX, from = combo / DIFF_HOW_MAX % SOCK_STATE_MAX;
		unsigned ino = combo / DIFF_HOW_MAX / SOCK_STATE_MAX % 2;
		unsigned kind = combo / DIFF_HOW_MAX / SOCK_STATE_MAX / 2;
		const char *const *keys = KEYS_BARE;

		if (kind == SOCK_KIND_FULL)
			keys = ino ? KEYS_FULL : KEYS_UID;
		sk.kind = (uint8_t)kind;
		sk.inode = ino;
		t.from = (uint8_t)from;
		t.to = (uint8_t)(SOCK_STATE_MAX - 1 - from);
		t.how = (uint8_t)how;
		bad += record_format(buf, sizeof(buf), &t, RECORD_JSON) <= 0 ||
		       !json_line_ok(buf, keys);
		bad += record_format(buf, sizeof(buf), &t, RECORD_TEXT) <= 0 ||
		       strchr(buf, '\n') != buf + strlen(buf) - 1;
		lines += 2;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(lines, 2 * SOCK_KIND_MAX * 2 * SOCK_STATE_MAX * DIFF_HOW_MAX);

	/* And the checker itself can fail. */
	CHECK(!json_line_ok("{\"ts\":\"x}\n", KEYS_BARE));
	CHECK(!json_line_ok("{\"ts\":1,}\n", (const char *const[]){"ts", NULL}));
	CHECK(!json_line_ok("{\"ts\":01}\n", (const char *const[]){"ts", NULL}));
	CHECK(!json_line_ok("{\"ts\":1}", (const char *const[]){"ts", NULL}));
	CHECK(json_line_ok("{\"ts\":1}\n", (const char *const[]){"ts", NULL}));
}

/* The --once table: header and rows share their columns. */
static void test_row(void)
{
	struct sock l = mk(AF_INET, "127.0.0.1", 9000, "0.0.0.0", 0, SOCK_LISTEN, SOCK_KIND_FULL);
	struct sock e6 = mk(AF_INET6, "::1", 40002, "::1", 9001, SOCK_ESTABLISHED,
			    SOCK_KIND_FULL);
	struct sock tw = mk(AF_INET, "127.0.0.1", 40005, "127.0.0.1", 9000, SOCK_TIME_WAIT,
			    SOCK_KIND_TIMEWAIT);
	struct sock orphan = mk(AF_INET, "127.0.0.1", 9000, "127.0.0.1", 40007, SOCK_LAST_ACK,
				SOCK_KIND_FULL);
	const char *hdr = record_table_header();
	char buf[RECORD_MAX];

	CHECK_STR(hdr, "State       Recv-Q Send-Q Local-Address:Port    Peer-Address:Port     "
		       "Cookie       UID      Inode\n");

	l.cookie = 1;
	l.wqueue = 128;
	l.rqueue = 3;
	l.inode = 4242;
	CHECK_INT(record_format_row(buf, sizeof(buf), &l), 97);
	CHECK_STR(buf, "LISTEN           3    128 127.0.0.1:9000        0.0.0.0:*             "
		       "1            0        4242\n");
	/* The columns line up with the header's. */
	CHECK_INT(strstr(buf, "127.0.0.1:9000") - buf, strstr(hdr, "Local-Address") - hdr);
	CHECK_INT(strstr(buf, "0.0.0.0:*") - buf, strstr(hdr, "Peer-Address") - hdr);
	CHECK_INT(strstr(buf, " 1 ") + 1 - buf, strstr(hdr, "Cookie") - hdr);
	CHECK_INT(strstr(buf, "4242") - buf, strstr(hdr, "Inode") - hdr);

	e6.cookie = 18446744073709551615ULL;
	e6.uid = 1000;
	e6.inode = 77;
	e6.rqueue = 5;
	CHECK(record_format_row(buf, sizeof(buf), &e6) > 0);
	CHECK_STR(buf, "ESTABLISHED      5      0 [::1]:40002           [::1]:9001            "
		       "18446744073709551615 1000     77\n");

	tw.cookie = 3;
	tw.uid = 9; /* not shown: a minisocket has no uid */
	CHECK(record_format_row(buf, sizeof(buf), &tw) > 0);
	CHECK_STR(buf, "TIME_WAIT        0      0 127.0.0.1:40005       127.0.0.1:9000        "
		       "3            -        -\n");

	orphan.cookie = 4;
	orphan.wqueue = 1;
	CHECK(record_format_row(buf, sizeof(buf), &orphan) > 0);
	CHECK_STR(buf, "LAST_ACK         0      1 127.0.0.1:9000        127.0.0.1:40007       "
		       "4            0        -\n");
}

int main(void)
{
	test_names();
	test_time();
	test_addr();
	test_ipv4();
	test_listen();
	test_ipv6();
	test_kinds();
	test_longest();
	test_owner();
	test_small_buffer();
	test_all_json();
	test_row();
	return CHECK_DONE();
}
