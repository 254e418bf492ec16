/* test_record.c - the exact text and JSON of a transition, the --once table. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "check.h"
#include "transition.h"
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

static const char *const KEYS_FULL[] = {"ts", "family", "laddr",  "lport", "raddr", "rport", "from",
                                        "to", "how",    "cookie", "uid",   "inode", NULL};
static const char *const KEYS_UID[] = {"ts",   "family", "laddr", "lport",  "raddr", "rport",
                                       "from", "to",     "how",   "cookie", "uid",   NULL};
static const char *const KEYS_BARE[] = {"ts",   "family", "laddr", "lport",  "raddr", "rport",
                                        "from", "to",     "how",   "cookie", NULL};

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
	struct sock sk =
	    mk(AF_INET, "127.0.0.1", 40000, "127.0.0.1", 9000, SOCK_ESTABLISHED, SOCK_KIND_FULL);
	struct transition t = {.ts = TS,
	                       .sk = &sk,
	                       .from = SOCK_NONE,
	                       .to = SOCK_ESTABLISHED,
	                       .how = TRANSITION_HOW_POLL};

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

	t.how = TRANSITION_HOW_INITIAL;
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
	t.how = TRANSITION_HOW_POLL;
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
	struct transition t = {.ts = TS,
	                       .sk = &sk,
	                       .from = SOCK_NONE,
	                       .to = SOCK_LISTEN,
	                       .how = TRANSITION_HOW_INITIAL};

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

	/* A listener that closes is still one: its socket may already be
	 * reported in CLOSE, the record's from-state says what it was. */
	sk6.state = SOCK_CLOSE;
	t.from = SOCK_LISTEN;
	t.to = SOCK_NONE;
	t.how = TRANSITION_HOW_DESTROY;
	check_line(&t, RECORD_TEXT,
	           "2023-11-14T22:13:20.123456Z ipv6 [::]:443              \u2192 [::]:*"
	           "                LISTEN      \u2192 NONE        destroy cookie=2"
	           " uid=33 ino=778\n");
}

/* Port 0 anywhere but a listener's peer is a number, so that grep finds it:
 * a refused connect() (the kernel clears the remote port) and a socket
 * whose local port was already released. */
static void test_port_zero(void)
{
	struct sock sk =
	    mk(AF_INET, "127.0.0.1", 40000, "127.0.0.1", 0, SOCK_CLOSE, SOCK_KIND_GONE);
	struct transition t = {.ts = TS,
	                       .sk = &sk,
	                       .from = SOCK_SYN_SENT,
	                       .to = SOCK_NONE,
	                       .how = TRANSITION_HOW_DESTROY};

	sk.cookie = 9;
	check_line(&t, RECORD_TEXT,
	           "2023-11-14T22:13:20.123456Z ipv4 127.0.0.1:40000       \u2192 127.0.0.1:0"
	           "           SYN_SENT    \u2192 NONE        destroy cookie=9\n");
	check_line(&t, RECORD_JSON,
	           "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"family\":\"ipv4\","
	           "\"laddr\":\"127.0.0.1\",\"lport\":40000,\"raddr\":\"127.0.0.1\",\"rport\":0,"
	           "\"from\":\"SYN_SENT\",\"to\":\"NONE\",\"how\":\"destroy\",\"cookie\":9}\n");

	sk.tuple.lport = 0;
	sk.tuple.rport = 9199;
	t.to = SOCK_CLOSE;
	check_line(&t, RECORD_TEXT,
	           "2023-11-14T22:13:20.123456Z ipv4 127.0.0.1:0           \u2192 127.0.0.1:9199"
	           "        SYN_SENT    \u2192 CLOSE       destroy cookie=9\n");
}

/* IPv6 and v4-mapped: brackets in text, plain addresses in JSON. */
static void test_ipv6(void)
{
	struct sock sk =
	    mk(AF_INET6, "2001:db8::10", 8080, "fe80::1:2", 51000, SOCK_FIN_WAIT1, SOCK_KIND_FULL);
	struct sock mapped = mk(AF_INET6, "::ffff:127.0.0.1", 9001, "::ffff:127.0.0.1", 40003,
	                        SOCK_ESTABLISHED, SOCK_KIND_FULL);
	struct transition t = {.ts = TS,
	                       .sk = &sk,
	                       .from = SOCK_ESTABLISHED,
	                       .to = SOCK_FIN_WAIT1,
	                       .how = TRANSITION_HOW_POLL};

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
	struct sock orphan =
	    mk(AF_INET, "127.0.0.1", 9000, "127.0.0.1", 40007, SOCK_LAST_ACK, SOCK_KIND_FULL);
	struct sock req =
	    mk(AF_INET, "127.0.0.1", 9002, "127.0.0.1", 40008, SOCK_SYN_RECV, SOCK_KIND_REQUEST);
	struct sock tw =
	    mk(AF_INET6, "::1", 40005, "::1", 9000, SOCK_TIME_WAIT, SOCK_KIND_TIMEWAIT);
	struct transition t = {.ts = TS,
	                       .sk = &orphan,
	                       .from = SOCK_CLOSE_WAIT,
	                       .to = SOCK_LAST_ACK,
	                       .how = TRANSITION_HOW_POLL};

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
	struct sock sk =
	    mk(AF_INET, "127.0.0.1", 80, "127.0.0.1", 40000, SOCK_ESTABLISHED, SOCK_KIND_FULL);
	struct sock_owner o = {.cgroup = "/system.slice/nginx.service",
	                       .unit = "nginx.service",
	                       .pid = 123,
	                       .comm = "nginx"};
	struct transition t = {.ts = {.tv_sec = 1700000000, .tv_nsec = 123456000},
	                       .sk = &sk,
	                       .from = SOCK_NONE,
	                       .to = SOCK_ESTABLISHED,
	                       .how = TRANSITION_HOW_POLL,
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
		o = (struct sock_owner){
		    .cgroup = path,
		    .unit = unit,
		    .pid = UINT32_MAX,
		    .comm = "\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"};
		for (unsigned fmt = 0; fmt < RECORD_FORMAT_MAX; fmt++) {
			n = record_format(buf, sizeof(buf), &t, fmt);
			CHECK(n > 0 && n < RECORD_MAX);
		}
	}
}

/* The transition of test_owner() with owner O: its line ends in the fixed
 * keys' then JSON_TAIL or TEXT_TAIL. */
static void check_owner(const struct sock_owner *o, const char *json_tail, const char *text_tail)
{
	static char want[RECORD_MAX];
	struct sock sk =
	    mk(AF_INET, "127.0.0.1", 80, "127.0.0.1", 40000, SOCK_ESTABLISHED, SOCK_KIND_FULL);
	struct transition t = {.ts = TS,
	                       .sk = &sk,
	                       .from = SOCK_NONE,
	                       .to = SOCK_ESTABLISHED,
	                       .how = TRANSITION_HOW_POLL,
	                       .owner = o};

	sk.cookie = 7;
	sk.uid = 33;
	sk.inode = 99;
	snprintf(want, sizeof(want), "%s%s}\n",
	         "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"family\":\"ipv4\","
	         "\"laddr\":\"127.0.0.1\",\"lport\":80,\"raddr\":\"127.0.0.1\",\"rport\":40000,"
	         "\"from\":\"NONE\",\"to\":\"ESTABLISHED\",\"how\":\"poll\",\"cookie\":7,"
	         "\"uid\":33,\"inode\":99",
	         json_tail);
	check_line(&t, RECORD_JSON, want);
	snprintf(want, sizeof(want), "%s%s\n",
	         "2023-11-14T22:13:20.123456Z ipv4 127.0.0.1:80          \u2192 127.0.0.1:40000 "
	         "      NONE        \u2192 ESTABLISHED poll    cookie=7 uid=33 ino=99",
	         text_tail);
	check_line(&t, RECORD_TEXT, want);
}

/* N copies of S, NUL-terminated, into BUF. */
static char *repeat(char *buf, const char *s, size_t n)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < n; i++)
		memcpy(buf + i * len, s, len);
	buf[n * len] = '\0';
	return buf;
}

/* Each of the owner's fields alone, escaping byte by byte, and where a long
 * field is cut. */
static void test_owner_fields(void)
{
	static char in[3][2048], json[32768], text[32768], a[8192], b[8192];
	struct sock_owner o;

	/* Text has no cgroup: the unit names it. */
	o = (struct sock_owner){.cgroup = "/user.slice/user-1000.slice/session-2.scope"};
	check_owner(&o, ",\"cgroup\":\"/user.slice/user-1000.slice/session-2.scope\"", "");
	o = (struct sock_owner){.unit = "a b.service"};
	check_owner(&o, ",\"unit\":\"a b.service\"", " unit=a\\x20b.service");
	o = (struct sock_owner){.pid = 42, .comm = "curl"};
	check_owner(&o, ",\"pid\":42,\"comm\":\"curl\"", " pid=42 comm=curl");
	/* A pid whose name could not be read; a name without a pid is not shown. */
	o = (struct sock_owner){.pid = 1};
	check_owner(&o, ",\"pid\":1,\"comm\":\"\"", " pid=1 comm=");
	o = (struct sock_owner){.comm = "x"};
	check_owner(&o, "", "");
	o = (struct sock_owner){0};
	check_owner(&o, "", "");
	check_owner(NULL, "", "");

	/* Every field, each with bytes to escape: tab, DEL, backslash, ESC. */
	o = (struct sock_owner){.cgroup = "/system.slice/a\tb\x7f\\.service",
	                        .unit = "a\tb\x7f\\.service",
	                        .pid = UINT32_MAX,
	                        .comm = "\x1b[31m"};
	check_owner(&o,
	            ",\"cgroup\":\"/system.slice/a\\u0009b\\u007f\\\\.service\","
	            "\"unit\":\"a\\u0009b\\u007f\\\\.service\",\"pid\":4294967295,"
	            "\"comm\":\"\\u001b[31m\"",
	            " unit=a\\x09b\\x7f\\x5c.service pid=4294967295 comm=\\x1b[31m");

	/* JSON keeps valid UTF-8 (2, 3 and 4 bytes, U+10FFFF) and writes each
	 * byte of anything else on its own: overlong forms, a surrogate, past
	 * U+10FFFF, a cut sequence, bytes that never start one. Text keeps
	 * every byte above DEL. */
	o = (struct sock_owner){.unit = "\xc2\x80|\xe2\x82\xac|\xf0\x9f\x98\x80|\xf4\x8f\xbf\xbf|"
	                                "\xc0\xaf|\xe0\x80\x80|\xed\xa0\x80|\xf4\x90\x80\x80|"
	                                "\xe2\x82|\x80|\xf5|\xff"};
	check_owner(&o,
	            ",\"unit\":\"\xc2\x80|\xe2\x82\xac|\xf0\x9f\x98\x80|\xf4\x8f\xbf\xbf|"
	            "\\u00c0\\u00af|\\u00e0\\u0080\\u0080|\\u00ed\\u00a0\\u0080|"
	            "\\u00f4\\u0090\\u0080\\u0080|\\u00e2\\u0082|\\u0080|\\u00f5|\\u00ff\"",
	            " unit=\xc2\x80|\xe2\x82\xac|\xf0\x9f\x98\x80|\xf4\x8f\xbf\xbf|"
	            "\xc0\xaf|\xe0\x80\x80|\xed\xa0\x80|\xf4\x90\x80\x80|"
	            "\xe2\x82|\x80|\xf5|\xff");
	/* A sequence cut by the end of the name. */
	o = (struct sock_owner){.pid = 9, .comm = "ab\xe2\x82"};
	check_owner(&o, ",\"pid\":9,\"comm\":\"ab\\u00e2\\u0082\"", " pid=9 comm=ab\xe2\x82");

	/* Each field is cut to 1024 bytes of input. */
	memset(in[0], 'a', 2000);
	in[0][2000] = '\0';
	o = (struct sock_owner){.unit = in[0]};
	snprintf(json, sizeof(json), ",\"unit\":\"%s\"", repeat(a, "a", 1024));
	snprintf(text, sizeof(text), " unit=%s", a);
	check_owner(&o, json, text);
	/* Escaped, 1023 bytes fill what the escapes had room for (4 bytes each
	 * of 4,097 in text, 6 of 6,145 in JSON), and the 1024th is left out. */
	memset(in[0], 1, 1023);
	strcpy(in[0] + 1023, "abc");
	snprintf(json, sizeof(json), ",\"unit\":\"%s\"", repeat(a, "\\u0001", 1023));
	snprintf(text, sizeof(text), " unit=%s", repeat(b, "\\x01", 1023));
	check_owner(&o, json, text);
	/* Two bytes per quote in JSON, so all 1024 fit. */
	memset(in[0], '"', 2000);
	in[0][2000] = '\0';
	snprintf(json, sizeof(json), ",\"unit\":\"%s\"", repeat(a, "\\\"", 1024));
	snprintf(text, sizeof(text), " unit=%s", repeat(b, "\"", 1024));
	check_owner(&o, json, text);
	/* A UTF-8 sequence that starts at the 1024th byte is kept whole in
	 * JSON; text cuts it. */
	memset(in[0], 'a', 1023);
	strcpy(in[0] + 1023, "\xc3\xa9z");
	snprintf(json, sizeof(json), ",\"unit\":\"%s\xc3\xa9\"", repeat(a, "a", 1023));
	snprintf(text, sizeof(text), " unit=%s\xc3", a);
	check_owner(&o, json, text);

	/* Three fields of 1023 bytes that all need escaping (a comm that long
	 * cannot come from the kernel, whose names have 15 bytes) overflow the
	 * 12 * 1024 + 128 bytes the JSON owner's keys had: they are cut there,
	 * mid-escape, and the line still ends in "}\n". */
	for (int i = 0; i < 3; i++) {
		memset(in[i], 1, 1023);
		in[i][1023] = '\0';
	}
	o = (struct sock_owner){.cgroup = in[0], .unit = in[1], .pid = UINT32_MAX, .comm = in[2]};
	repeat(a, "\\u0001", 1023);
	repeat(b, "\\x01", 1023);
	snprintf(json, sizeof(json),
	         ",\"cgroup\":\"%s\",\"unit\":\"%s\",\"pid\":4294967295,"
	         "\"comm\":\"%s\"",
	         a, a, a);
	CHECK_INT(strlen(json), 18463);
	json[12 * 1024 + 128 - 1] = '\0';
	snprintf(text, sizeof(text), " unit=%s pid=4294967295 comm=%s", b, b);
	check_owner(&o, json, text);
}

/* The longest record either format can produce fits RECORD_MAX. */
static void test_longest(void)
{
	struct sock sk =
	    mk(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
	       "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535, SOCK_ESTABLISHED, SOCK_KIND_FULL);
	struct transition t = {.ts = {.tv_sec = 253402300799, .tv_nsec = 999999999},
	                       .sk = &sk,
	                       .from = SOCK_ESTABLISHED,
	                       .to = SOCK_ESTABLISHED,
	                       .how = TRANSITION_HOW_INITIAL};
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

/* One of record.c's line writers: a transition's (FMT a record_format) or
 * the --once row's (FMT -1), or a summary's (below). */
typedef int (*line_fn)(char *buf, size_t size, const void *what, int fmt);

static int transition_line(char *buf, size_t size, const void *what, int fmt)
{
	const struct transition *t = what;

	return fmt < 0 ? record_format_row(buf, size, t->sk)
	               : record_format(buf, size, t, (enum record_format)fmt);
}

static int summary_line(char *buf, size_t size, const void *what, int fmt)
{
	return record_format_summary(buf, size, what, (enum record_format)fmt);
}

/*
 * Every buffer size too small for the line gives -ENOSPC, and nothing is
 * written past the size given. What is written is what snprintf() writes:
 * the line cut to SIZE - 1 bytes, then a NUL.
 */
static void check_sizes_of(line_fn fn, const void *what, int fmt)
{
	static char full[RECORD_MAX], buf[RECORD_MAX + 16];
	int len, n;

	len = fn(full, sizeof(full), what, fmt);
	CHECK(len > 0);
	for (int size = 0; len > 0 && size <= len + 1; size++) {
		size_t untouched = 0;

		memset(buf, 0x5a, sizeof(buf));
		n = fn(buf, (size_t)size, what, fmt);
		CHECK_INT(n, size > len ? len : -ENOSPC);
		for (size_t i = (size_t)size; i < sizeof(buf); i++)
			untouched += buf[i] == 0x5a;
		CHECK_INT(untouched, sizeof(buf) - (size_t)size);
		if (size > 0) {
			size_t cut =
			    (size_t)size - 1 < (size_t)len ? (size_t)size - 1 : (size_t)len;

			CHECK_INT(memcmp(buf, full, cut), 0);
			CHECK_INT(buf[cut], '\0');
		}
	}
}

static void check_sizes(const struct transition *t, int fmt)
{
	check_sizes_of(transition_line, t, fmt);
}

static void test_small_buffer(void)
{
	struct sock sk =
	    mk(AF_INET6, "::ffff:127.0.0.1", 9001, "::1", 40003, SOCK_ESTABLISHED, SOCK_KIND_FULL);
	struct transition t = {.ts = TS,
	                       .sk = &sk,
	                       .from = SOCK_NONE,
	                       .to = SOCK_ESTABLISHED,
	                       .how = TRANSITION_HOW_POLL};

	sk.cookie = 123456789;
	sk.uid = 1000;
	sk.inode = 4242;
	check_sizes(&t, RECORD_TEXT);
	check_sizes(&t, RECORD_JSON);
	check_sizes(&t, -1);
	/* And with an owner, whose fields come last. */
	{
		struct sock_owner o = {.cgroup = "/system.slice/a\tb.service",
		                       .unit = "a\tb.service",
		                       .pid = 77,
		                       .comm = "a\"b"};

		t.owner = &o;
		check_sizes(&t, RECORD_TEXT);
		check_sizes(&t, RECORD_JSON);
		t.owner = NULL;
	}
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
	for (unsigned combo = 0; combo < SOCK_KIND_MAX * 2 * SOCK_STATE_MAX * TRANSITION_HOW_MAX;
	     combo++) {
		unsigned how = combo % TRANSITION_HOW_MAX,
		         from = combo / TRANSITION_HOW_MAX % SOCK_STATE_MAX;
		unsigned ino = combo / TRANSITION_HOW_MAX / SOCK_STATE_MAX % 2;
		unsigned kind = combo / TRANSITION_HOW_MAX / SOCK_STATE_MAX / 2;
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
	CHECK_INT(lines, 2 * SOCK_KIND_MAX * 2 * SOCK_STATE_MAX * TRANSITION_HOW_MAX);

	/* And the checker itself can fail. */
	CHECK(!json_line_ok("{\"ts\":\"x}\n", KEYS_BARE));
	CHECK(!json_line_ok("{\"ts\":1,}\n", (const char *const[]){"ts", NULL}));
	CHECK(!json_line_ok("{\"ts\":01}\n", (const char *const[]){"ts", NULL}));
	CHECK(!json_line_ok("{\"ts\":1}", (const char *const[]){"ts", NULL}));
	CHECK(json_line_ok("{\"ts\":1}\n", (const char *const[]){"ts", NULL}));
}

/* Formats S in FMT and checks the line, its length, and the NUL after it. */
static void check_summary(const struct summary *s, enum record_format fmt, const char *want)
{
	char buf[RECORD_MAX];
	int n;

	memset(buf, 'x', sizeof(buf));
	n = record_format_summary(buf, sizeof(buf), s, fmt);
	CHECK_INT(n, (long long)strlen(want));
	if (n >= 0 && (size_t)n < sizeof(buf)) {
		CHECK_INT(buf[n], '\0');
		CHECK_STR(buf, want);
	}
}

/* A connection's summary: the lifetime always, each other figure only when
 * its bit in info.has says the kernel reported it. */
static void test_summary(void)
{
	struct sock sk =
	    mk(AF_INET, "10.0.0.1", 40000, "10.0.0.2", 443, SOCK_CLOSE, SOCK_KIND_GONE);
	struct sock sk6 = mk(AF_INET6, "2001:db8::10", 8080, "::", 0, SOCK_CLOSE, SOCK_KIND_GONE);
	struct summary s = {.ts = TS, .sk = &sk, .lifetime_us = 1500000};
	static const char json[] =
	    "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"kind\":\"summary\",\"family\":\"ipv4\","
	    "\"laddr\":\"10.0.0.1\",\"lport\":40000,\"raddr\":\"10.0.0.2\",\"rport\":443,"
	    "\"cookie\":4097,\"lifetime_us\":1500000";
	static const char text[] =
	    "2023-11-14T22:13:20.123456Z ipv4 10.0.0.1:40000        \u2192 10.0.0.2:443"
	    "          summary cookie=4097 lifetime_us=1500000";
	char buf[RECORD_MAX];

	sk.cookie = 4097;
	/* Figures whose bit is clear are not shown, whatever they hold. */
	s.info = (struct sock_info){
	    .bytes_acked = 1000, .bytes_received = 2000, .total_retrans = 3, .rtt_us = 250};
	check_summary(&s, RECORD_JSON,
	              "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"kind\":\"summary\","
	              "\"family\":\"ipv4\",\"laddr\":\"10.0.0.1\",\"lport\":40000,"
	              "\"raddr\":\"10.0.0.2\",\"rport\":443,\"cookie\":4097,"
	              "\"lifetime_us\":1500000}\n");
	check_summary(&s, RECORD_TEXT,
	              "2023-11-14T22:13:20.123456Z ipv4 10.0.0.1:40000        "
	              "\u2192 10.0.0.2:443          summary cookie=4097"
	              " lifetime_us=1500000\n");

	s.info.has = SOCK_INFO_HAS_BYTES;
	snprintf(buf, sizeof(buf), "%s%s}\n", json, ",\"bytes_sent\":1000,\"bytes_received\":2000");
	check_summary(&s, RECORD_JSON, buf);
	snprintf(buf, sizeof(buf), "%s%s\n", text, " bytes_sent=1000 bytes_received=2000");
	check_summary(&s, RECORD_TEXT, buf);

	s.info.has = SOCK_INFO_HAS_RETRANS;
	snprintf(buf, sizeof(buf), "%s%s}\n", json, ",\"retrans\":3");
	check_summary(&s, RECORD_JSON, buf);
	snprintf(buf, sizeof(buf), "%s%s\n", text, " retrans=3");
	check_summary(&s, RECORD_TEXT, buf);

	s.info.has = SOCK_INFO_HAS_RTT;
	snprintf(buf, sizeof(buf), "%s%s}\n", json, ",\"rtt_us\":250");
	check_summary(&s, RECORD_JSON, buf);
	snprintf(buf, sizeof(buf), "%s%s\n", text, " rtt_us=250");
	check_summary(&s, RECORD_TEXT, buf);

	s.info.has = SOCK_INFO_HAS_BYTES | SOCK_INFO_HAS_RTT;
	snprintf(buf, sizeof(buf), "%s%s}\n", json,
	         ",\"bytes_sent\":1000,\"bytes_received\":2000,\"rtt_us\":250");
	check_summary(&s, RECORD_JSON, buf);
	snprintf(buf, sizeof(buf), "%s%s\n", text,
	         " bytes_sent=1000 bytes_received=2000 rtt_us=250");
	check_summary(&s, RECORD_TEXT, buf);

	/* Zeroes are figures too. */
	s.info = (struct sock_info){.has = SOCK_INFO_HAS_BYTES | SOCK_INFO_HAS_RETRANS |
	                                   SOCK_INFO_HAS_RTT};
	s.lifetime_us = 0;
	check_summary(
	    &s, RECORD_JSON,
	    "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"kind\":\"summary\",\"family\":\"ipv4\","
	    "\"laddr\":\"10.0.0.1\",\"lport\":40000,\"raddr\":\"10.0.0.2\",\"rport\":443,"
	    "\"cookie\":4097,\"lifetime_us\":0,\"bytes_sent\":0,\"bytes_received\":0,"
	    "\"retrans\":0,\"rtt_us\":0}\n");
	check_summary(&s, RECORD_TEXT,
	              "2023-11-14T22:13:20.123456Z ipv4 10.0.0.1:40000        \u2192 10.0.0.2:443"
	              "          summary cookie=4097 lifetime_us=0 bytes_sent=0 bytes_received=0"
	              " retrans=0 rtt_us=0\n");

	/* IPv6, a peer port 0 (an abortive close clears it; no listener, so a
	 * number, not "*"), and every figure at its largest. */
	s.sk = &sk6;
	sk6.cookie = UINT64_MAX;
	s.lifetime_us = UINT64_MAX;
	s.info = (struct sock_info){.bytes_acked = UINT64_MAX,
	                            .bytes_received = UINT64_MAX - 1,
	                            .total_retrans = UINT32_MAX,
	                            .rtt_us = UINT32_MAX - 1,
	                            .has = 7};
	check_summary(
	    &s, RECORD_JSON,
	    "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"kind\":\"summary\",\"family\":\"ipv6\","
	    "\"laddr\":\"2001:db8::10\",\"lport\":8080,\"raddr\":\"::\",\"rport\":0,"
	    "\"cookie\":18446744073709551615,\"lifetime_us\":18446744073709551615,"
	    "\"bytes_sent\":18446744073709551615,\"bytes_received\":18446744073709551614,"
	    "\"retrans\":4294967295,\"rtt_us\":4294967294}\n");
	check_summary(
	    &s, RECORD_TEXT,
	    "2023-11-14T22:13:20.123456Z ipv6 [2001:db8::10]:8080   \u2192 [::]:0"
	    "                summary cookie=18446744073709551615"
	    " lifetime_us=18446744073709551615 bytes_sent=18446744073709551615"
	    " bytes_received=18446744073709551614 retrans=4294967295 rtt_us=4294967294\n");

	/* Addresses wider than their column push the rest right. */
	sk6 = mk(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
	         "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535, SOCK_CLOSE, SOCK_KIND_GONE);
	sk6.cookie = 1;
	s.lifetime_us = 2;
	s.info.has = 0;
	s.ts = (struct timespec){.tv_sec = 253402300799, .tv_nsec = 999999999};
	check_summary(
	    &s, RECORD_TEXT,
	    "9999-12-31T23:59:59.999999Z ipv6 [ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"
	    " \u2192 [ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe]:65535 summary cookie=1"
	    " lifetime_us=2\n");
	check_summary(
	    &s, RECORD_JSON,
	    "{\"ts\":\"9999-12-31T23:59:59.999999Z\",\"kind\":\"summary\",\"family\":\"ipv6\","
	    "\"laddr\":\"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\",\"lport\":65535,"
	    "\"raddr\":\"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe\",\"rport\":65535,"
	    "\"cookie\":1,\"lifetime_us\":2}\n");

	/* Each combination of figures is valid JSON with its keys in order,
	 * and every buffer too small is refused with a cut line. */
	s.sk = &sk;
	s.ts = TS;
	for (unsigned has = 0; has < 8; has++) {
		const char *keys[16] = {"ts",    "kind",  "family", "laddr",      "lport",
		                        "raddr", "rport", "cookie", "lifetime_us"};
		size_t k = 9;

		if (has & SOCK_INFO_HAS_BYTES) {
			keys[k++] = "bytes_sent";
			keys[k++] = "bytes_received";
		}
		if (has & SOCK_INFO_HAS_RETRANS)
			keys[k++] = "retrans";
		if (has & SOCK_INFO_HAS_RTT)
			keys[k++] = "rtt_us";
		s.info.has = (uint8_t)has;
		CHECK(record_format_summary(buf, sizeof(buf), &s, RECORD_JSON) > 0);
		CHECK(json_line_ok(buf, keys));
		check_sizes_of(summary_line, &s, RECORD_JSON);
		check_sizes_of(summary_line, &s, RECORD_TEXT);
	}
	s.sk = &sk6;
	check_sizes_of(summary_line, &s, RECORD_JSON);
	check_sizes_of(summary_line, &s, RECORD_TEXT);

	/* A time record_format_time() refuses is refused whole. */
	s.ts.tv_nsec = -5;
	CHECK_INT(record_format_summary(buf, sizeof(buf), &s, RECORD_JSON), -EOVERFLOW);
	CHECK_INT(record_format_summary(buf, sizeof(buf), &s, RECORD_TEXT), -EOVERFLOW);
}

/* The Nth (from 1) blank-separated field of the text line LINE, into OUT. */
static void text_field(const char *line, int n, char *out, size_t size)
{
	size_t len = 0;

	for (int i = 1; *line; i++) {
		while (*line == ' ')
			line++;
		len = strcspn(line, " \n");
		if (i == n)
			break;
		line += len;
		len = 0;
	}
	snprintf(out, size, "%.*s", (int)len, line);
}

/* The loss record, and the one rule that tells every line that is not a
 * transition: in JSON a "kind" key (second, after "ts"), in text no arrow
 * as the seventh field (where a transition has one between its states). */
static void test_loss(void)
{
	const struct timespec since = {.tv_sec = 1699999990, .tv_nsec = 1000},
	                      until = {.tv_sec = 1699999999, .tv_nsec = 999999999};
	struct sock sk =
	    mk(AF_INET, "10.0.0.1", 40000, "10.0.0.2", 443, SOCK_CLOSE, SOCK_KIND_GONE);
	struct transition t = {.ts = TS,
	                       .sk = &sk,
	                       .from = SOCK_ESTABLISHED,
	                       .to = SOCK_NONE,
	                       .how = TRANSITION_HOW_DESTROY};
	struct summary sum = {.ts = TS, .sk = &sk, .lifetime_us = 5};
	char buf[RECORD_MAX], field[64];

	CHECK_INT(record_format_loss(buf, sizeof(buf), RECORD_JSON, 123, &TS, &since, &until),
	          (long long)strlen(buf));
	CHECK_STR(buf, "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"kind\":\"lost\",\"lost\":123,"
	               "\"since\":\"2023-11-14T22:13:10.000001Z\","
	               "\"until\":\"2023-11-14T22:13:19.999999Z\"}\n");
	CHECK(
	    json_line_ok(buf, (const char *const[]){"ts", "kind", "lost", "since", "until", NULL}));
	CHECK_INT(record_format_loss(buf, sizeof(buf), RECORD_TEXT, 123, &TS, &since, &until),
	          (long long)strlen(buf));
	CHECK_STR(buf, "2023-11-14T22:13:20.123456Z lost 123 records"
	               " since=2023-11-14T22:13:10.000001Z until=2023-11-14T22:13:19.999999Z\n");
	text_field(buf, 7, field, sizeof(field));
	CHECK_STR(field, "");
	CHECK_INT(record_format_loss(buf, 40, RECORD_JSON, 1, &TS, &since, &until), -ENOSPC);

	CHECK(record_format(buf, sizeof(buf), &t, RECORD_JSON) > 0);
	CHECK(!strstr(buf, "\"kind\""));
	CHECK(record_format(buf, sizeof(buf), &t, RECORD_TEXT) > 0);
	text_field(buf, 7, field, sizeof(field));
	CHECK_STR(field, "\u2192");

	CHECK(record_format_summary(buf, sizeof(buf), &sum, RECORD_JSON) > 0);
	CHECK(strncmp(buf + 35, ",\"kind\":\"summary\",", 18) == 0);
	CHECK(record_format_summary(buf, sizeof(buf), &sum, RECORD_TEXT) > 0);
	text_field(buf, 7, field, sizeof(field));
	CHECK_STR(field, "cookie=0");
}

/* The --once table: header and rows share their columns. */
static void test_row(void)
{
	struct sock l = mk(AF_INET, "127.0.0.1", 9000, "0.0.0.0", 0, SOCK_LISTEN, SOCK_KIND_FULL);
	struct sock e6 = mk(AF_INET6, "::1", 40002, "::1", 9001, SOCK_ESTABLISHED, SOCK_KIND_FULL);
	struct sock tw =
	    mk(AF_INET, "127.0.0.1", 40005, "127.0.0.1", 9000, SOCK_TIME_WAIT, SOCK_KIND_TIMEWAIT);
	struct sock orphan =
	    mk(AF_INET, "127.0.0.1", 9000, "127.0.0.1", 40007, SOCK_LAST_ACK, SOCK_KIND_FULL);
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

	/* Only a listener's peer port 0 is "*". */
	orphan.state = SOCK_CLOSE;
	orphan.tuple.rport = 0;
	CHECK(record_format_row(buf, sizeof(buf), &orphan) > 0);
	CHECK_STR(buf, "CLOSE            0      1 127.0.0.1:9000        127.0.0.1:0           "
	               "4            0        -\n");
}

/* --once with [attribution]: unit, pid and command columns, and JSON objects. */
static void test_row_owner(void)
{
	struct sock l = mk(AF_INET, "127.0.0.1", 9000, "0.0.0.0", 0, SOCK_LISTEN, SOCK_KIND_FULL);
	struct sock_owner o = {.cgroup = "/system.slice/nginx.service",
	                       .unit = "nginx.service",
	                       .pid = 812,
	                       .comm = "nginx worker"};
	struct timespec ts = {.tv_sec = 1764000000, .tv_nsec = 123456000};
	char hdr[256], buf[RECORD_MAX];
	unsigned both = RECORD_TABLE_UNIT | RECORD_TABLE_PROCESS;

	l.cookie = 1;
	l.wqueue = 128;
	l.inode = 4242;
	CHECK(record_format_table_header(hdr, sizeof(hdr), both) > 0);
	CHECK_STR(hdr,
	          "State       Recv-Q Send-Q Local-Address:Port    Peer-Address:Port     "
	          "Cookie       UID      Inode      Unit                     PID     Command\n");
	CHECK(record_format_table_row(buf, sizeof(buf), &l, &o, both) > 0);
	CHECK_STR(buf, "LISTEN           0    128 127.0.0.1:9000        0.0.0.0:*             "
	               "1            0        4242       nginx.service            812     "
	               "nginx\\x20worker\n");
	/* The columns line up with the header's. */
	CHECK_INT(strstr(buf, "nginx.service") - buf, strstr(hdr, "Unit") - hdr);
	CHECK_INT(strstr(buf, "812") - buf, strstr(hdr, "PID") - hdr);
	CHECK_INT(strstr(buf, "nginx\\x20") - buf, strstr(hdr, "Command") - hdr);

	/* Unknown: "-"; one kind of column alone ends the line without blanks. */
	CHECK(record_format_table_row(buf, sizeof(buf), &l, NULL, both) > 0);
	CHECK_CONTAINS(buf, "4242       -                        -       -\n");
	CHECK(record_format_table_header(hdr, sizeof(hdr), RECORD_TABLE_UNIT) > 0);
	CHECK_CONTAINS(hdr, "Inode      Unit\n");
	CHECK(record_format_table_row(buf, sizeof(buf), &l, &o, RECORD_TABLE_UNIT) > 0);
	CHECK_CONTAINS(buf, "4242       nginx.service\n");
	CHECK(record_format_table_header(hdr, sizeof(hdr), RECORD_TABLE_PROCESS) > 0);
	CHECK_CONTAINS(hdr, "Inode      PID     Command\n");
	CHECK(record_format_table_row(buf, sizeof(buf), &l, &o, RECORD_TABLE_PROCESS) > 0);
	CHECK_CONTAINS(buf, "4242       812     nginx\\x20worker\n");
	/* Without columns, the ss -tan row of record_format_row(). */
	CHECK(record_format_table_row(buf, sizeof(buf), &l, &o, 0) > 0);
	CHECK_CONTAINS(buf, " 4242\n");

	CHECK(record_format_socket_json(buf, sizeof(buf), &l, &o, &ts) > 0);
	CHECK_STR(buf, "{\"ts\":\"2025-11-24T16:00:00.123456Z\",\"kind\":\"socket\","
	               "\"family\":\"ipv4\",\"laddr\":\"127.0.0.1\",\"lport\":9000,"
	               "\"raddr\":\"0.0.0.0\",\"rport\":0,\"state\":\"LISTEN\",\"rqueue\":0,"
	               "\"wqueue\":128,\"cookie\":1,\"uid\":0,\"inode\":4242,"
	               "\"cgroup\":\"/system.slice/nginx.service\",\"unit\":\"nginx.service\","
	               "\"pid\":812,\"comm\":\"nginx worker\"}\n");
	l.kind = SOCK_KIND_TIMEWAIT;
	CHECK(record_format_socket_json(buf, sizeof(buf), &l, NULL, &ts) > 0);
	CHECK_CONTAINS(buf, "\"cookie\":1}\n");
	CHECK_INT(record_format_socket_json(buf, 20, &l, NULL, &ts), -ENOSPC);
}

/* What a record carries of its connection: the time in the previous state
 * in both forms, role and peer, and the owner's ids learnt earlier on a
 * socket (a minisocket) that has none of its own. */
static void test_conn(void)
{
	struct sock sk =
	    mk(AF_INET, "10.0.0.1", 40000, "10.0.0.2", 443, SOCK_TIME_WAIT, SOCK_KIND_TIMEWAIT);
	struct transition_conn c = {
	    .peer = 4098, .uid = 1000, .has_uid = 1, .inode = 777, .role = TRANSITION_ROLE_CLIENT};
	struct transition t = {.ts = TS,
	                       .sk = &sk,
	                       .from = SOCK_FIN_WAIT2,
	                       .to = SOCK_TIME_WAIT,
	                       .how = TRANSITION_HOW_POLL,
	                       .has_in_state = 1,
	                       .in_state_us = 850,
	                       .conn = &c};
	static const struct {
		uint64_t us;
		const char *text;
	} durations[] = {
	    {0, "0us"},
	    {999, "999us"},
	    {1000, "1.000ms"},
	    {12345, "12.345ms"},
	    {999999, "999.999ms"},
	    {1000000, "1.000000s"},
	    {3204581, "3.204581s"},
	    {86400000001, "86400.000001s"},
	};
	char want[512];

	sk.cookie = 4097;
	check_line(&t, RECORD_TEXT,
	           "2023-11-14T22:13:20.123456Z ipv4 10.0.0.1:40000        \u2192 10.0.0.2:443 "
	           "         FIN_WAIT2   \u2192 TIME_WAIT   poll    cookie=4097 in_state=850us "
	           "role=client peer=4098 uid=1000 ino=777\n");
	check_line(
	    &t, RECORD_JSON,
	    "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"family\":\"ipv4\",\"laddr\":\"10.0.0.1\","
	    "\"lport\":40000,\"raddr\":\"10.0.0.2\",\"rport\":443,\"from\":\"FIN_WAIT2\","
	    "\"to\":\"TIME_WAIT\",\"how\":\"poll\",\"cookie\":4097,\"in_state_us\":850,"
	    "\"role\":\"client\",\"peer\":4098,\"uid\":1000,\"inode\":777}\n");
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		t.in_state_us = durations[i].us;
		snprintf(
		    want, sizeof(want),
		    "2023-11-14T22:13:20.123456Z ipv4 10.0.0.1:40000        \u2192 10.0.0.2:443 "
		    "         FIN_WAIT2   \u2192 TIME_WAIT   poll    cookie=4097 in_state=%s "
		    "role=client peer=4098 uid=1000 ino=777\n",
		    durations[i].text);
		check_line(&t, RECORD_TEXT, want);
	}
	/* The dump's own ids win over the remembered ones; nothing unknown is
	 * written. */
	sk = mk(AF_INET, "10.0.0.1", 40000, "10.0.0.2", 443, SOCK_ESTABLISHED, SOCK_KIND_FULL);
	sk.cookie = 4097;
	sk.uid = 0;
	sk.inode = 5;
	c = (struct transition_conn){.uid = 1000, .has_uid = 1, .inode = 777};
	t.from = SOCK_NONE;
	t.to = SOCK_ESTABLISHED;
	t.has_in_state = 0;
	check_line(&t, RECORD_TEXT,
	           "2023-11-14T22:13:20.123456Z ipv4 10.0.0.1:40000        \u2192 10.0.0.2:443 "
	           "         NONE        \u2192 ESTABLISHED poll    cookie=4097 uid=0 ino=5\n");
}

/* The longest records with all a connection can carry fit, and the JSON
 * one is well-formed, its keys in order. */
static void test_conn_longest(void)
{
	static const char *const keys[] = {
	    "ts",  "family", "laddr",       "lport", "raddr", "rport", "from",  "to",
	    "how", "cookie", "in_state_us", "role",  "peer",  "uid",   "inode", NULL};
	struct sock sk =
	    mk(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
	       "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535, SOCK_ESTABLISHED, SOCK_KIND_FULL);
	struct transition_conn c = {.peer = UINT64_MAX, .role = TRANSITION_ROLE_SERVER};
	struct transition t = {.ts = {.tv_sec = 253402300799, .tv_nsec = 999999999},
	                       .sk = &sk,
	                       .from = SOCK_CLOSE_WAIT,
	                       .to = SOCK_ESTABLISHED,
	                       .how = TRANSITION_HOW_INITIAL,
	                       .has_in_state = 1,
	                       .in_state_us = UINT64_MAX,
	                       .conn = &c};
	struct summary s = {.ts = t.ts,
	                    .sk = &sk,
	                    .lifetime_us = UINT64_MAX,
	                    .conn = &c,
	                    .outcome = TRANSITION_OUTCOME_REFUSED,
	                    .closer = TRANSITION_SIDE_REMOTE};
	char buf[RECORD_MAX];
	int n;

	sk.cookie = UINT64_MAX;
	sk.uid = UINT32_MAX;
	sk.inode = UINT32_MAX;
	for (unsigned fmt = 0; fmt < RECORD_FORMAT_MAX; fmt++) {
		n = record_format(buf, sizeof(buf), &t, fmt);
		CHECK(n > 0 && n < RECORD_MAX);
		if (n > 0 && fmt == RECORD_JSON)
			CHECK(json_line_ok(buf, keys));
		n = record_format_summary(buf, sizeof(buf), &s, fmt);
		CHECK(n > 0 && n < RECORD_MAX);
	}
}

/* The summary's ending and what it carries of the connection, in order. */
static void test_summary_conn(void)
{
	struct sock sk =
	    mk(AF_INET, "10.0.0.1", 40000, "10.0.0.2", 443, SOCK_CLOSE, SOCK_KIND_GONE);
	struct transition_conn c = {
	    .peer = 9, .uid = 1000, .has_uid = 1, .inode = 777, .role = TRANSITION_ROLE_SERVER};
	struct sock_owner o = {.cgroup = "/system.slice/web.service", .unit = "web.service"};
	struct summary s = {.ts = TS,
	                    .sk = &sk,
	                    .lifetime_us = 1500000,
	                    .conn = &c,
	                    .outcome = TRANSITION_OUTCOME_FIN,
	                    .closer = TRANSITION_SIDE_REMOTE,
	                    .owner = &o};

	sk.cookie = 4097;
	check_summary(&s, RECORD_TEXT,
	              "2023-11-14T22:13:20.123456Z ipv4 10.0.0.1:40000        \u2192 10.0.0.2:443 "
	              "         summary cookie=4097 lifetime_us=1500000 outcome=fin closer=remote "
	              "role=server peer=9 uid=1000 ino=777 unit=web.service\n");
	check_summary(
	    &s, RECORD_JSON,
	    "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"kind\":\"summary\",\"family\":\"ipv4\","
	    "\"laddr\":\"10.0.0.1\",\"lport\":40000,\"raddr\":\"10.0.0.2\",\"rport\":443,"
	    "\"cookie\":4097,\"lifetime_us\":1500000,\"outcome\":\"fin\",\"closer\":\"remote\","
	    "\"role\":\"server\",\"peer\":9,\"uid\":1000,\"inode\":777,"
	    "\"cgroup\":\"/system.slice/web.service\",\"unit\":\"web.service\"}\n");
	/* Unknown: no closer, no role. */
	s.outcome = TRANSITION_OUTCOME_UNKNOWN;
	s.closer = TRANSITION_SIDE_UNKNOWN;
	s.owner = NULL;
	c = (struct transition_conn){0};
	check_summary(&s, RECORD_TEXT,
	              "2023-11-14T22:13:20.123456Z ipv4 10.0.0.1:40000        \u2192 10.0.0.2:443 "
	              "         summary cookie=4097 lifetime_us=1500000 outcome=unknown\n");
}

/* The namespace's keys on transitions and summaries: in text after the
 * connection's and before the owner's, in JSON last; none without a
 * namespace (the tests above). */
static void test_netns(void)
{
	static const char *const keys[] = {
	    "ts",  "family", "laddr", "lport", "raddr", "rport", "from",      "to",
	    "how", "cookie", "uid",   "inode", "unit",  "netns", "netns_ino", NULL};
	struct sock sk =
	    mk(AF_INET, "10.0.0.1", 80, "10.0.0.2", 40000, SOCK_ESTABLISHED, SOCK_KIND_FULL);
	struct transition_netns ns = {.ino = 4026532281, .name = "blue"};
	struct sock_owner o = {.unit = "web.service"};
	struct transition t = {.ts = TS,
	                       .sk = &sk,
	                       .from = SOCK_SYN_RECV,
	                       .to = SOCK_ESTABLISHED,
	                       .how = TRANSITION_HOW_POLL,
	                       .owner = &o,
	                       .netns = &ns};
	struct summary s = {.ts = TS, .sk = &sk, .lifetime_us = 1500000, .netns = &ns};
	char buf[RECORD_MAX];

	sk.cookie = 7;
	sk.uid = 33;
	sk.inode = 99;
	check_line(&t, RECORD_TEXT,
	           "2023-11-14T22:13:20.123456Z ipv4 10.0.0.1:80           \u2192 10.0.0.2:40000 "
	           "       SYN_RECV    \u2192 ESTABLISHED poll    cookie=7 uid=33 ino=99 "
	           "netns=blue netns_ino=4026532281 unit=web.service\n");
	check_line(&t, RECORD_JSON,
	           "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"family\":\"ipv4\","
	           "\"laddr\":\"10.0.0.1\",\"lport\":80,\"raddr\":\"10.0.0.2\",\"rport\":40000,"
	           "\"from\":\"SYN_RECV\",\"to\":\"ESTABLISHED\",\"how\":\"poll\",\"cookie\":7,"
	           "\"uid\":33,\"inode\":99,\"unit\":\"web.service\",\"netns\":\"blue\","
	           "\"netns_ino\":4026532281}\n");
	CHECK(record_format(buf, sizeof(buf), &t, RECORD_JSON) > 0 && json_line_ok(buf, keys));
	check_summary(
	    &s, RECORD_TEXT,
	    "2023-11-14T22:13:20.123456Z ipv4 10.0.0.1:80           \u2192 10.0.0.2:40000 "
	    "       summary cookie=7 lifetime_us=1500000 uid=33 ino=99 netns=blue "
	    "netns_ino=4026532281\n");
	check_summary(&s, RECORD_JSON,
	              "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"kind\":\"summary\","
	              "\"family\":\"ipv4\",\"laddr\":\"10.0.0.1\",\"lport\":80,"
	              "\"raddr\":\"10.0.0.2\",\"rport\":40000,\"cookie\":7,"
	              "\"lifetime_us\":1500000,\"uid\":33,\"inode\":99,\"netns\":\"blue\","
	              "\"netns_ino\":4026532281}\n");

	/* The how of a socket whose namespace vanished. */
	t.from = SOCK_ESTABLISHED;
	t.to = SOCK_NONE;
	t.how = TRANSITION_HOW_NETNS;
	t.owner = NULL;
	ns = (struct transition_netns){.ino = UINT64_MAX, .name = "docker-0123abcd.scope"};
	check_line(&t, RECORD_TEXT,
	           "2023-11-14T22:13:20.123456Z ipv4 10.0.0.1:80           \u2192 10.0.0.2:40000 "
	           "       ESTABLISHED \u2192 NONE        netns   cookie=7 uid=33 ino=99 "
	           "netns=docker-0123abcd.scope netns_ino=18446744073709551615\n");

	/* A name is escaped as the owner's are: a blank, a tab, a backslash, a
	 * quote, a byte that is not UTF-8. */
	ns.name = "my ns\t\\\"\xff";
	check_line(&t, RECORD_TEXT,
	           "2023-11-14T22:13:20.123456Z ipv4 10.0.0.1:80           \u2192 10.0.0.2:40000 "
	           "       ESTABLISHED \u2192 NONE        netns   cookie=7 uid=33 ino=99 "
	           "netns=my\\x20ns\\x09\\x5c\"\xff netns_ino=18446744073709551615\n");
	check_line(&t, RECORD_JSON,
	           "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"family\":\"ipv4\","
	           "\"laddr\":\"10.0.0.1\",\"lport\":80,\"raddr\":\"10.0.0.2\",\"rport\":40000,"
	           "\"from\":\"ESTABLISHED\",\"to\":\"NONE\",\"how\":\"netns\",\"cookie\":7,"
	           "\"uid\":33,\"inode\":99,\"netns\":\"my ns\\u0009\\\\\\\"\\u00ff\","
	           "\"netns_ino\":18446744073709551615}\n");
	/* An empty name is still said. */
	ns.name = "";
	s.netns = &ns;
	check_summary(
	    &s, RECORD_TEXT,
	    "2023-11-14T22:13:20.123456Z ipv4 10.0.0.1:80           \u2192 10.0.0.2:40000 "
	    "       summary cookie=7 lifetime_us=1500000 uid=33 ino=99 netns= "
	    "netns_ino=18446744073709551615\n");
}

/* A name is cut to 255 bytes; the longest one, every byte escaped, with the
 * longest owner and connection, still fits RECORD_MAX in both formats. */
static void test_netns_longest(void)
{
	static char name[1024], path[1024], unit[1024], want[RECORD_MAX], a[2048];
	struct sock sk =
	    mk(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
	       "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535, SOCK_ESTABLISHED, SOCK_KIND_FULL);
	struct transition_conn c = {.peer = UINT64_MAX, .role = TRANSITION_ROLE_SERVER};
	struct transition_netns ns = {.ino = UINT64_MAX, .name = name};
	struct sock_owner o = {.cgroup = path,
	                       .unit = unit,
	                       .pid = UINT32_MAX,
	                       .comm =
	                           "\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"};
	struct transition t = {.ts = {.tv_sec = 253402300799, .tv_nsec = 999999999},
	                       .sk = &sk,
	                       .from = SOCK_CLOSE_WAIT,
	                       .to = SOCK_ESTABLISHED,
	                       .how = TRANSITION_HOW_INITIAL,
	                       .has_in_state = 1,
	                       .in_state_us = UINT64_MAX,
	                       .conn = &c,
	                       .netns = &ns};
	struct summary s = {
	    .ts = t.ts,
	    .sk = &sk,
	    .lifetime_us = UINT64_MAX,
	    .info = {.has = SOCK_INFO_HAS_BYTES | SOCK_INFO_HAS_RETRANS | SOCK_INFO_HAS_RTT,
	             .bytes_acked = UINT64_MAX,
	             .bytes_received = UINT64_MAX,
	             .total_retrans = UINT32_MAX,
	             .rtt_us = UINT32_MAX},
	    .conn = &c,
	    .outcome = TRANSITION_OUTCOME_REFUSED,
	    .closer = TRANSITION_SIDE_REMOTE,
	    .netns = &ns};
	char buf[RECORD_MAX];
	int n;

	/* 300 bytes: the 255 kept are what a name that long gives. */
	memset(name, 'n', 300);
	t.owner = NULL;
	snprintf(want, sizeof(want), " netns=%s netns_ino=18446744073709551615\n",
	         repeat(a, "n", 255));
	n = record_format(buf, sizeof(buf), &t, RECORD_TEXT);
	CHECK(n > 0 && strstr(buf, want) && strlen(strstr(buf, want)) == strlen(want));

	memset(name, 1, 1000);
	memset(path, 1, sizeof(path) - 1);
	memset(unit, '"', sizeof(unit) - 9);
	strcpy(unit + sizeof(unit) - 9, ".service");
	t.owner = &o;
	s.owner = &o;
	sk.cookie = UINT64_MAX;
	sk.uid = UINT32_MAX;
	sk.inode = UINT32_MAX;
	snprintf(want, sizeof(want), ",\"netns\":\"%s\",\"netns_ino\":18446744073709551615}\n",
	         repeat(a, "\\u0001", 255));
	for (unsigned fmt = 0; fmt < RECORD_FORMAT_MAX; fmt++) {
		n = record_format(buf, sizeof(buf), &t, fmt);
		CHECK(n > 0 && n < RECORD_MAX);
		if (fmt == RECORD_JSON)
			CHECK(n > 0 && strstr(buf, want));
		n = record_format_summary(buf, sizeof(buf), &s, fmt);
		CHECK(n > 0 && n < RECORD_MAX);
		if (fmt == RECORD_JSON)
			CHECK(n > 0 && strstr(buf, want) && strcmp(buf + n - 2, "}\n") == 0);
	}
}

/* transition_outcome()'s rules, one case each (docs/record-format.md). */
static void test_outcome(void)
{
	static const struct sock_info none = {0};
	static const struct sock_info rto = {.retransmits = 3, .has = SOCK_INFO_HAS_RTO};
	static const struct {
		uint16_t path;
		unsigned last;
		int64_t in_last_us;
		int disconnected, rst_received;
		const struct sock_info *info;
		unsigned outcome, closer;
	} cases[] = {
	    /* A client whose SYN a RST answered, or nothing did. */
	    {1u << SOCK_SYN_SENT, SOCK_SYN_SENT, 2000, 1, 0, &none, TRANSITION_OUTCOME_REFUSED,
	     TRANSITION_SIDE_REMOTE},
	    {1u << SOCK_SYN_SENT, SOCK_SYN_SENT, 3000000, 1, 0, &none, TRANSITION_OUTCOME_TIMEOUT,
	     TRANSITION_SIDE_UNKNOWN},
	    {1u << SOCK_SYN_SENT, SOCK_SYN_SENT, -1, 0, 0, &rto, TRANSITION_OUTCOME_TIMEOUT,
	     TRANSITION_SIDE_UNKNOWN},
	    /* Orderly closes, from each side. */
	    {1u << SOCK_ESTABLISHED | 1u << SOCK_FIN_WAIT1, SOCK_FIN_WAIT2, 10, 0, 0, &none,
	     TRANSITION_OUTCOME_FIN, TRANSITION_SIDE_LOCAL},
	    {1u << SOCK_ESTABLISHED, SOCK_TIME_WAIT, 10, 0, 0, &none, TRANSITION_OUTCOME_FIN,
	     TRANSITION_SIDE_LOCAL},
	    {1u << SOCK_ESTABLISHED | 1u << SOCK_CLOSE_WAIT, SOCK_LAST_ACK, 10, 0, 0, &none,
	     TRANSITION_OUTCOME_FIN, TRANSITION_SIDE_REMOTE},
	    /* Resets: sent (tcp_disconnect()), received (closed while held). */
	    {1u << SOCK_ESTABLISHED, SOCK_ESTABLISHED, 10, 1, 0, &none, TRANSITION_OUTCOME_RESET,
	     TRANSITION_SIDE_LOCAL},
	    {1u << SOCK_ESTABLISHED | 1u << SOCK_CLOSE_WAIT, SOCK_CLOSE_WAIT, 10, 1, 0, &none,
	     TRANSITION_OUTCOME_RESET, TRANSITION_SIDE_LOCAL},
	    {1u << SOCK_ESTABLISHED | 1u << SOCK_CLOSE, SOCK_CLOSE, 10, 0, 1, &none,
	     TRANSITION_OUTCOME_RESET, TRANSITION_SIDE_REMOTE},
	    /* Retransmissions exhausted, held or not. */
	    {1u << SOCK_ESTABLISHED | 1u << SOCK_CLOSE, SOCK_CLOSE, 10, 0, 1, &rto,
	     TRANSITION_OUTCOME_TIMEOUT, TRANSITION_SIDE_UNKNOWN},
	    {1u << SOCK_ESTABLISHED, SOCK_ESTABLISHED, 10, 0, 0, &rto, TRANSITION_OUTCOME_TIMEOUT,
	     TRANSITION_SIDE_UNKNOWN},
	    /* Gone from ESTABLISHED between two polls, nothing else known. */
	    {1u << SOCK_ESTABLISHED, SOCK_ESTABLISHED, 10, 0, 0, &none, TRANSITION_OUTCOME_UNKNOWN,
	     TRANSITION_SIDE_UNKNOWN},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct transition_conn c = {.path = cases[i].path};
		uint8_t outcome = 99, closer = 99;

		transition_outcome(&c, cases[i].last, cases[i].in_last_us, cases[i].disconnected,
		                   cases[i].rst_received, cases[i].info, &outcome, &closer);
		CHECK_INT(outcome, cases[i].outcome);
		CHECK_INT(closer, cases[i].closer);
	}
	/* A connect that failed and was then held closed by its application:
	 * the time it spent in SYN_SENT tells. */
	{
		struct transition_conn c = {.path = 1u << SOCK_SYN_SENT | 1u << SOCK_CLOSE,
		                            .syn_ms = 3000};
		uint8_t outcome, closer;

		transition_outcome(&c, SOCK_CLOSE, 500000, 0, 1, &none, &outcome, &closer);
		CHECK_INT(outcome, TRANSITION_OUTCOME_TIMEOUT);
		c.syn_ms = 2;
		transition_outcome(&c, SOCK_CLOSE, 500000, 0, 1, &none, &outcome, &closer);
		CHECK_INT(outcome, TRANSITION_OUTCOME_REFUSED);
		CHECK_INT(closer, TRANSITION_SIDE_REMOTE);
	}
	CHECK_STR(transition_outcome_name(TRANSITION_OUTCOME_REFUSED), "refused");
	CHECK_STR(transition_outcome_name(99), "unknown");
	CHECK(transition_role_name(TRANSITION_ROLE_UNKNOWN) == NULL);
	CHECK(transition_side_name(TRANSITION_SIDE_UNKNOWN) == NULL);
}

/* transition_conn_enter(): the time in the state left, the path, the role
 * the handshake's states give; transition_conn_learn(): learnt once. */
static void test_conn_enter(void)
{
	struct transition_conn c = {.role = TRANSITION_ROLE_CLIENT};
	struct timespec a = {.tv_sec = 100, .tv_nsec = 500000000}, b = {.tv_sec = 102};
	struct sock full = {.kind = SOCK_KIND_FULL, .uid = 7, .inode = 9, .cgroup_id = 11};
	struct sock orphan = {.kind = SOCK_KIND_FULL, .uid = 8};
	struct sock tw = {.kind = SOCK_KIND_TIMEWAIT};

	CHECK_INT(transition_conn_enter(&c, SOCK_SYN_SENT, &a), -1);
	CHECK_INT(transition_conn_enter(&c, SOCK_SYN_RECV, &a), 0);
	CHECK_INT(c.role, TRANSITION_ROLE_SERVER);
	CHECK_INT(transition_conn_enter(&c, SOCK_ESTABLISHED, &b), 1500000);
	CHECK_INT(c.syn_ms, 0);                                       /* left SYN_SENT at once */
	CHECK_INT(transition_conn_enter(&c, SOCK_CLOSE_WAIT, &a), 0); /* never negative */
	CHECK_INT(c.path, (1u << SOCK_SYN_SENT) | (1u << SOCK_SYN_RECV) | (1u << SOCK_ESTABLISHED) |
	                      (1u << SOCK_CLOSE_WAIT));
	transition_conn_learn(&c, &tw);
	CHECK_INT(c.has_uid, 0);
	transition_conn_learn(&c, &orphan);
	CHECK_INT(c.uid, 8);
	CHECK_INT(c.inode, 0);
	transition_conn_learn(&c, &full);
	CHECK_INT(c.uid, 8); /* learnt once */
	CHECK_INT(c.inode, 9);
	CHECK_INT(c.cgroup_id, 11);
}

int main(void)
{
	test_names();
	test_time();
	test_addr();
	test_ipv4();
	test_listen();
	test_port_zero();
	test_ipv6();
	test_kinds();
	test_longest();
	test_owner();
	test_owner_fields();
	test_small_buffer();
	test_all_json();
	test_summary();
	test_loss();
	test_row();
	test_row_owner();
	test_conn();
	test_conn_longest();
	test_summary_conn();
	test_netns();
	test_netns_longest();
	test_outcome();
	test_conn_enter();
	return CHECK_DONE();
}
