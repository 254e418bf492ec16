/*
 * test_ctl_recread.c - the reader is the inverse of the writer: every line
 * record.c writes (text and JSON, transitions, summaries, loss records, odd
 * names) reads back to the same fields; journal entries as journal.c builds
 * them too; and lines that are no record are refused.
 */
#include <errno.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "check.h"
#include "ctl_record.h"
#include "transition.h"
#include "journal.h"
#include "record.h"
#include "sock.h"
#include "util.h"

/* 2023-11-14T22:13:20.123456Z */
static const struct timespec TS = {.tv_sec = 1700000000, .tv_nsec = 123456789};
static const int64_t TS_US = 1700000000123456;

static struct sock mk(int family, const char *laddr, uint16_t lport, const char *raddr,
                      uint16_t rport, unsigned kind)
{
	struct sock sk = {.kind = (uint8_t)kind, .cookie = 4104, .uid = 33, .inode = 10826};

	sk.tuple.family = (uint8_t)family;
	sk.tuple.lport = lport;
	sk.tuple.rport = rport;
	CHECK_INT(inet_pton(family, laddr, sk.tuple.laddr), 1);
	CHECK_INT(inet_pton(family, raddr, sk.tuple.raddr), 1);
	return sk;
}

/* Writes T in FMT with record.c, reads it back, checks every field. */
static void round_trip(const struct transition *t, enum record_format fmt)
{
	char line[RECORD_MAX];
	struct ctl_record r;
	int n = record_format(line, sizeof(line), t, fmt);
	const struct sock *sk = t->sk;

	CHECK(n > 0);
	CHECK_INT(recread_line(line, (size_t)n - 1, &r), 0);
	CHECK_INT(r.kind, CTL_RECORD_TRANSITION);
	CHECK_INT(r.ts_us, TS_US);
	CHECK(sock_tuple_equal(&r.tuple, &sk->tuple));
	CHECK_INT(r.from, t->from);
	CHECK_INT(r.to, t->to);
	CHECK_INT(r.how, t->how);
	CHECK_INT(r.cookie, sk->cookie);
	CHECK_INT(CTL_HAS(&r, UID), sk->kind == SOCK_KIND_FULL);
	CHECK_INT(CTL_HAS(&r, INODE), sk->kind == SOCK_KIND_FULL && sk->inode);
	if (CTL_HAS(&r, UID))
		CHECK_INT(r.uid, sk->uid);
	if (CTL_HAS(&r, INODE))
		CHECK_INT(r.inode, sk->inode);
	CHECK_INT(CTL_HAS(&r, UNIT), t->owner && t->owner->unit);
	CHECK_INT(CTL_HAS(&r, PID), t->owner && t->owner->pid);
	if (t->owner && t->owner->unit)
		CHECK_STR(r.unit, t->owner->unit);
	if (t->owner && t->owner->pid) {
		CHECK_INT(r.pid, t->owner->pid);
		CHECK_STR(r.comm, t->owner->comm);
	}
}

static void test_transitions(void)
{
	struct sock v4 = mk(AF_INET, "127.0.0.1", 54328, "127.0.0.1", 8080, SOCK_KIND_FULL);
	struct sock v6 = mk(AF_INET6, "::1", 443, "2001:db8::7", 50000, SOCK_KIND_TIMEWAIT);
	struct sock mapped =
	    mk(AF_INET6, "::ffff:10.0.0.1", 80, "::ffff:10.0.0.2", 1, SOCK_KIND_FULL);
	struct sock listener = mk(AF_INET, "0.0.0.0", 22, "0.0.0.0", 0, SOCK_KIND_FULL);
	/* Names with blanks, a backslash, quotes, UTF-8 and a byte that is
	 * not: each format escapes them its own way. */
	struct sock_owner odd = {.cgroup = "/system.slice/a b.service",
	                         .unit = "a b\\c\"d.service",
	                         .pid = 812,
	                         .comm = "x\ty\xc3\xa9z"};
	struct sock_owner plain = {.unit = "nginx.service", .pid = 1, .comm = "nginx"};
	struct transition ts[] = {
	    {.ts = TS,
	     .sk = &v4,
	     .from = SOCK_NONE,
	     .to = SOCK_SYN_SENT,
	     .how = TRANSITION_HOW_POLL},
	    {.ts = TS,
	     .sk = &v4,
	     .from = SOCK_ESTABLISHED,
	     .to = SOCK_NONE,
	     .how = TRANSITION_HOW_DESTROY,
	     .owner = &odd},
	    {.ts = TS,
	     .sk = &v6,
	     .from = SOCK_FIN_WAIT2,
	     .to = SOCK_TIME_WAIT,
	     .how = TRANSITION_HOW_INITIAL},
	    {.ts = TS,
	     .sk = &mapped,
	     .from = SOCK_NONE,
	     .to = SOCK_CLOSE_WAIT,
	     .how = TRANSITION_HOW_POLL,
	     .owner = &plain},
	    {.ts = TS,
	     .sk = &listener,
	     .from = SOCK_NONE,
	     .to = SOCK_LISTEN,
	     .how = TRANSITION_HOW_INITIAL},
	};

	v4.inode = 0; /* an orphan: uid, no inode */
	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		round_trip(&ts[i], RECORD_TEXT);
		round_trip(&ts[i], RECORD_JSON);
	}
}

static void test_summary(void)
{
	struct sock sk = mk(AF_INET, "127.0.0.1", 41291, "127.0.0.1", 58134, SOCK_KIND_GONE);
	struct summary s = {
	    .ts = TS,
	    .sk = &sk,
	    .lifetime_us = 37969,
	    .info = {
	        .bytes_acked = 1, .bytes_received = 2, .total_retrans = 3, .rtt_us = 18, .has = 7}};

	for (int fmt = 0; fmt < RECORD_FORMAT_MAX; fmt++) {
		char line[RECORD_MAX];
		struct ctl_record r;
		int n = record_format_summary(line, sizeof(line), &s, fmt);

		CHECK_INT(recread_line(line, (size_t)n, &r), 0); /* '\n' included: trimmed */
		CHECK_INT(r.kind, CTL_RECORD_SUMMARY);
		CHECK_INT(r.cookie, 4104);
		CHECK_INT(r.lifetime_us, 37969);
		CHECK_INT(r.bytes_sent, 1);
		CHECK_INT(r.bytes_received, 2);
		CHECK_INT(r.retrans, 3);
		CHECK_INT(r.rtt_us, 18);
		CHECK(sock_tuple_equal(&r.tuple, &sk.tuple));
	}
}

static void test_loss(void)
{
	for (int fmt = 0; fmt < RECORD_FORMAT_MAX; fmt++) {
		char line[RECORD_MAX];
		struct ctl_record r;
		int n = record_format_loss(line, sizeof(line), fmt, 123, &TS, &TS, &TS);

		CHECK_INT(recread_line(line, (size_t)n - 1, &r), 0);
		CHECK_INT(r.kind, CTL_RECORD_LOSS);
		CHECK_INT(r.lost, 123);
		CHECK_INT(r.ts_us, TS_US);
	}
}

/* The time in the previous state, as record.c writes it in each format
 * (text in its compact form: us, ms with three decimals, s with six), read
 * back to the microsecond; a malformed duration is not taken. */
static void test_in_state(void)
{
	static const uint64_t us[] = {0, 999, 1000, 12345, 999999, 1000000, 3204581, 86400000001};
	struct sock sk = mk(AF_INET, "10.0.0.1", 40000, "10.0.0.2", 443, SOCK_KIND_FULL);
	struct transition t = {.ts = TS,
	                       .sk = &sk,
	                       .from = SOCK_ESTABLISHED,
	                       .to = SOCK_FIN_WAIT1,
	                       .how = TRANSITION_HOW_POLL,
	                       .has_in_state = 1};
	const char *bad[] = {"in_state=12.34ms", "in_state=1.5s", "in_state=12.345us",
	                     "in_state=ms",      "in_state=s",    "in_state=x",
	                     "in_state=1.000000"};
	char line[RECORD_MAX], odd[RECORD_MAX];
	struct ctl_record r;

	for (size_t i = 0; i < UTIL_LEN(us); i++) {
		t.in_state_us = us[i];
		for (int fmt = 0; fmt < RECORD_FORMAT_MAX; fmt++) {
			int n = record_format(line, sizeof(line), &t, fmt);

			CHECK_INT(recread_line(line, (size_t)n - 1, &r), 0);
			CHECK(CTL_HAS(&r, IN_STATE_US));
			CHECK_INT(r.in_state_us, us[i]);
		}
	}
	t.in_state_us = 850;
	record_format(line, sizeof(line), &t, RECORD_TEXT);
	for (size_t i = 0; i < UTIL_LEN(bad); i++) {
		char *at = strstr(line, "in_state=");

		snprintf(odd, sizeof(odd), "%.*s%s\n", (int)(at - line), line, bad[i]);
		CHECK_INT(recread_line(odd, strlen(odd) - 1, &r), 0);
		CHECK(!CTL_HAS(&r, IN_STATE_US));
	}
}

/* What a later version may write: more keys, "kind" on a loss record, a
 * kind this reader does not know, other JSON layouts. */
static void test_later_versions(void)
{
	struct ctl_record r;
	const char *more = "{\"ts\":\"2026-11-24T12:04:58.844212Z\",\"family\":\"ipv4\",\"laddr\":"
	                   "\"127.0.0.1\",\"lport\":1,\"raddr\":\"127.0.0.1\",\"rport\":2,\"from\":"
	                   "\"ESTABLISHED\",\"to\":\"FIN_WAIT1\",\"how\":\"poll\",\"cookie\":9,"
	                   "\"in_state_us\":1500,\"outcome\":\"local-close\",\"role\":\"client\","
	                   "\"peer\":\"x\",\"new\":{\"a\":[1,2.5,null]}}";
	const char *spaced =
	    "{ \"cookie\" : 9 , \"ts\":\"2026-11-24T12:04:58.844212Z\","
	    "\"family\":\"ipv6\",\"laddr\":\"::1\",\"lport\":1,\"raddr\":\"::1\","
	    "\"rport\":2,\"from\":\"NONE\",\"to\":\"SYN_SENT\",\"unit\":\"a\\u0041\"}";
	const char *lost = "{\"ts\":\"2026-11-24T12:04:58.844212Z\",\"kind\":\"lost\",\"lost\":4}";
	const char *later = "{\"ts\":\"2026-11-24T12:04:58.844212Z\",\"kind\":\"later\"}";

	CHECK_INT(recread_line(more, strlen(more), &r), 0);
	CHECK_INT(r.in_state_us, 1500);
	CHECK_STR(r.outcome, "local-close");
	CHECK_STR(r.role, "client");
	CHECK(!CTL_HAS(&r, PEER)); /* a type this reader does not expect: dropped */
	CHECK_INT(recread_line(spaced, strlen(spaced), &r), 0);
	CHECK_INT(r.tuple.family, AF_INET6);
	CHECK_STR(r.unit, "aA");
	CHECK_INT(recread_line(lost, strlen(lost), &r), 0);
	CHECK_INT(r.kind, CTL_RECORD_LOSS);
	CHECK_INT(recread_line(later, strlen(later), &r), 0);
	CHECK_INT(r.kind, CTL_RECORD_OTHER);
}

static void check_bad(const char *line)
{
	struct ctl_record r;
	int err = recread_line(line, strlen(line), &r);

	if (err != -EINVAL)
		fprintf(stderr, "accepted: %s\n", line);
	CHECK_INT(err, -EINVAL);
}

static void test_bad(void)
{
	struct ctl_record r;

	CHECK_INT(recread_line("   ", 3, &r), -ENODATA);
	check_bad("junk");
	check_bad("{");
	check_bad("{\"ts\":\"2026-11-24T12:04:58.844212Z\"}");
	check_bad(
	    "{\"ts\":\"2026-11-24T12:04:58.844212Z\",\"family\":\"ipv4\",\"laddr\":\"127.0.0.1\","
	    "\"lport\":1,\"raddr\":\"127.0.0.1\",\"rport\":2,\"from\":\"NONE\",\"to\":\"LISTEN\","
	    "\"how\":\"poll\",\"cookie\":1} trailing");
	/* A torn line: the first half of a record. */
	check_bad(
	    "{\"ts\":\"2026-11-24T12:04:58.844212Z\",\"family\":\"ipv4\",\"laddr\":\"127.0.0.1\","
	    "\"lport\":1,\"raddr\"");
	/* Values out of range or of the wrong type. */
	check_bad(
	    "{\"ts\":\"2026-11-24T12:04:58.844212Z\",\"family\":\"ipv4\",\"laddr\":\"127.0.0.1\","
	    "\"lport\":65536,\"raddr\":\"127.0.0.1\",\"rport\":2,\"from\":\"NONE\",\"to\":"
	    "\"LISTEN\","
	    "\"how\":\"poll\",\"cookie\":1}");
	check_bad(
	    "{\"ts\":\"2026-11-24T12:04:58.844212Z\",\"family\":\"ipv4\",\"laddr\":\"::1\","
	    "\"lport\":1,\"raddr\":\"127.0.0.1\",\"rport\":2,\"from\":\"NONE\",\"to\":\"LISTEN\","
	    "\"how\":\"poll\",\"cookie\":1}");
	check_bad(
	    "{\"ts\":\"2026-11-24T12:04:58.844212Z\",\"family\":\"ipv4\",\"laddr\":\"127.0.0.1\","
	    "\"lport\":1,\"raddr\":\"127.0.0.1\",\"rport\":2,\"from\":\"NONE\",\"to\":\"BOGUS\","
	    "\"how\":\"poll\",\"cookie\":1}");
	check_bad(
	    "{\"ts\":\"2026-11-24T12:04:58.844212Z\",\"family\":\"ipv4\",\"laddr\":\"127.0.0.1\","
	    "\"lport\":1,\"raddr\":\"127.0.0.1\",\"rport\":2,\"from\":\"NONE\",\"to\":\"LISTEN\","
	    "\"how\":\"poll\",\"cookie\":-1}");
	check_bad(
	    "{\"ts\":\"2026-02-30T12:04:58.844212Z\",\"family\":\"ipv4\",\"laddr\":\"127.0.0.1\","
	    "\"lport\":1,\"raddr\":\"127.0.0.1\",\"rport\":2,\"from\":\"NONE\",\"to\":\"LISTEN\","
	    "\"how\":\"poll\",\"cookie\":1}");
	check_bad("2026-11-24T12:04:58.844212Z ipv4 127.0.0.1:1 \u2192 127.0.0.1:2 NONE \u2192");
	check_bad("2026-11-24T12:04:58.844212Z ipv4 127.0.0.1:1 -> 127.0.0.1:2 NONE -> LISTEN poll "
	          "cookie=1");
	check_bad("2026-11-24T12:04:58.844212Z ipv4 127.0.0.1:1 \u2192 127.0.0.1:2 NONE \u2192 "
	          "LISTEN poll");
}

static void test_time(void)
{
	int64_t us;

	CHECK_INT(recread_time("1970-01-01T00:00:00.000000Z", 27, &us), 0);
	CHECK_INT(us, 0);
	CHECK_INT(recread_time("2024-02-29T23:59:59.999999Z", 27, &us), 0);
	CHECK_INT(us, 1709251199999999);
	CHECK_INT(recread_time("2023-02-29T00:00:00.000000Z", 27, &us), -EINVAL);
	CHECK_INT(recread_time("2023-01-01 00:00:00.000000Z", 27, &us), -EINVAL);
	CHECK_INT(recread_time("2023-01-01T00:00:00.000000", 26, &us), -EINVAL);
}

/* Reads the entry E as the journal would hand it over, into *R. Returns
 * recread_end()'s answer. */
static int read_entry(const struct journal_entry *e, struct ctl_record *r)
{
	struct recread_entry re;

	recread_begin(&re, r);
	for (size_t i = 0; i < e->n; i++)
		recread_field(&re, e->iov[i].iov_base, e->iov[i].iov_len);
	return recread_end(&re);
}

/* The journal: the fields journal.c builds read back to the record. */
static void test_journal(void)
{
	struct sock sk = mk(AF_INET, "127.0.0.1", 54328, "127.0.0.1", 8080, SOCK_KIND_FULL);
	struct sock_owner o = {
	    .cgroup = "/system.slice/x.service", .unit = "x.service", .pid = 5, .comm = "curl"};
	struct transition t = {.ts = TS,
	                       .sk = &sk,
	                       .from = SOCK_SYN_SENT,
	                       .to = SOCK_ESTABLISHED,
	                       .how = TRANSITION_HOW_POLL,
	                       .owner = &o};
	struct summary s = {.ts = TS, .sk = &sk, .lifetime_us = 7, .info = {.rtt_us = 9, .has = 4}};
	struct journal_entry e;
	struct recread_entry re;
	struct ctl_record r;

	CHECK_INT(journal_entry_build(&e, &t), 0);
	recread_begin(&re, &r);
	for (size_t i = 0; i < e.n; i++)
		recread_field(&re, e.iov[i].iov_base, e.iov[i].iov_len);
	recread_field(&re, "_HOSTNAME=web1", 14);
	CHECK_INT(recread_end(&re), 0);
	CHECK_INT(r.kind, CTL_RECORD_TRANSITION);
	CHECK_INT(r.ts_us, TS_US);
	CHECK(sock_tuple_equal(&r.tuple, &sk.tuple));
	CHECK_INT(r.from, SOCK_SYN_SENT);
	CHECK_INT(r.to, SOCK_ESTABLISHED);
	CHECK_INT(r.cookie, 4104);
	CHECK_INT(r.uid, 33);
	CHECK_INT(r.inode, 10826);
	CHECK_STR(r.unit, "x.service");
	CHECK_INT(r.pid, 5);
	CHECK_STR(r.comm, "curl");
	CHECK_STR(r.host, "web1");

	CHECK_INT(journal_summary_build(&e, &s), 0);
	recread_begin(&re, &r);
	for (size_t i = 0; i < e.n; i++)
		recread_field(&re, e.iov[i].iov_base, e.iov[i].iov_len);
	CHECK_INT(recread_end(&re), 0);
	CHECK_INT(r.kind, CTL_RECORD_SUMMARY);
	CHECK_INT(r.lifetime_us, 7);
	CHECK_INT(r.rtt_us, 9);
	CHECK(!CTL_HAS(&r, BYTES_SENT));
}

/* The namespace's keys (issue 16) read back from each format and from the
 * journal, the name unescaped; the how "netns"; none when not said. */
static void test_netns(void)
{
	struct sock sk = mk(AF_INET, "10.0.0.1", 80, "10.0.0.2", 40000, SOCK_KIND_FULL);
	struct transition_netns ns = {.ino = 4026532281, .name = "web ns\\\"\xc3\xa9"};
	struct sock_owner o = {.unit = "docker-abc.scope"};
	struct transition t = {.ts = TS,
	                       .sk = &sk,
	                       .from = SOCK_ESTABLISHED,
	                       .to = SOCK_NONE,
	                       .how = TRANSITION_HOW_NETNS,
	                       .owner = &o,
	                       .netns = &ns};
	struct summary s = {.ts = TS, .sk = &sk, .lifetime_us = 7, .netns = &ns};
	char line[RECORD_MAX];
	struct journal_entry e;
	struct ctl_record r;
	int n;

	for (unsigned fmt = 0; fmt < RECORD_FORMAT_MAX; fmt++) {
		round_trip(&t, fmt);
		n = record_format(line, sizeof(line), &t, fmt);
		CHECK_INT(recread_line(line, (size_t)n, &r), 0);
		CHECK_INT(r.how, CTL_HOW_NETNS);
		CHECK_STR(ctl_how_name(r.how), "netns");
		CHECK(CTL_HAS(&r, NETNS) && CTL_HAS(&r, NETNS_INO));
		CHECK_STR(r.netns, ns.name);
		CHECK_INT(r.netns_ino, 4026532281);
		CHECK_STR(r.unit, "docker-abc.scope");
		n = record_format_summary(line, sizeof(line), &s, fmt);
		CHECK_INT(recread_line(line, (size_t)n, &r), 0);
		CHECK_INT(r.kind, CTL_RECORD_SUMMARY);
		CHECK_STR(r.netns, ns.name);
		CHECK_INT(r.netns_ino, 4026532281);
	}
	CHECK_INT(journal_entry_build(&e, &t), 0);
	CHECK_INT(read_entry(&e, &r), 0);
	CHECK_INT(r.how, CTL_HOW_NETNS);
	CHECK_STR(r.netns, ns.name);
	CHECK_INT(r.netns_ino, 4026532281);
	/* Not said: neither key, and a bad inode is dropped, not the line. */
	t.netns = NULL;
	n = record_format(line, sizeof(line), &t, RECORD_JSON);
	CHECK_INT(recread_line(line, (size_t)n, &r), 0);
	CHECK(!CTL_HAS(&r, NETNS) && !CTL_HAS(&r, NETNS_INO) && r.netns_ino == 0);
	CHECK_STR(r.netns, "");
	strcpy(line, "2023-11-14T22:13:20.123456Z ipv4 10.0.0.1:80 \u2192 10.0.0.2:40000 "
	             "NONE \u2192 ESTABLISHED poll cookie=5 netns=x netns_ino=0");
	CHECK_INT(recread_line(line, strlen(line), &r), 0);
	CHECK(CTL_HAS(&r, NETNS) && !CTL_HAS(&r, NETNS_INO));
}

int main(void)
{
	test_transitions();
	test_summary();
	test_loss();
	test_in_state();
	test_later_versions();
	test_bad();
	test_time();
	test_journal();
	test_netns();
	return CHECK_DONE();
}
