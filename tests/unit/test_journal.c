/* test_journal.c - the journal entries: each kind's fields, the catalog, the budget's sends. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "config.h"
#include "journal.h"

/* The value of FIELD in E, NUL-terminated in the entry's buffer, or NULL. */
static const char *field(const struct journal_entry *e, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < e->n; i++) {
		const char *f = e->iov[i].iov_base;

		if (e->iov[i].iov_len > n && strncmp(f, name, n) == 0 && f[n] == '=')
			return f + n + 1;
	}
	return NULL;
}

static struct sock make_sock(int family, const char *laddr, uint16_t lport, const char *raddr,
                             uint16_t rport)
{
	struct sock sk = {
	    .cookie = 4104,
	    .tuple = {.family = (uint8_t)family, .lport = lport, .rport = rport},
	    .kind = SOCK_KIND_FULL,
	    .uid = 1000,
	    .inode = 10826,
	};

	inet_pton(family, laddr, sk.tuple.laddr);
	inet_pton(family, raddr, sk.tuple.raddr);
	return sk;
}

static void test_appeared_ipv4(void)
{
	struct sock sk = make_sock(AF_INET, "127.0.0.1", 54328, "127.0.0.1", 8080);
	struct transition t = {
	    .ts = {.tv_sec = 1795521898, .tv_nsec = 844212000},
	    .sk = &sk,
	    .from = SOCK_NONE,
	    .to = SOCK_ESTABLISHED,
	    .how = TRANSITION_HOW_POLL,
	};
	struct journal_entry e;

	CHECK_INT(journal_entry_build(&e, &t), 0);
	CHECK_INT(e.n, 16);
	CHECK_STR(field(&e, "MESSAGE"), "ipv4 127.0.0.1:54328 \u2192 127.0.0.1:8080 NONE \u2192 "
	                                "ESTABLISHED poll cookie=4104 uid=1000 ino=10826");
	CHECK_STR(field(&e, "MESSAGE_ID"), journal_message_id(JOURNAL_APPEARED));
	CHECK_STR(field(&e, "PRIORITY"), "6");
	CHECK_STR(field(&e, "SYSLOG_IDENTIFIER"), "tcpstated");
	CHECK_STR(field(&e, "TCPSTATE_FAMILY"), "ipv4");
	CHECK_STR(field(&e, "TCPSTATE_LADDR"), "127.0.0.1");
	CHECK_STR(field(&e, "TCPSTATE_LPORT"), "54328");
	CHECK_STR(field(&e, "TCPSTATE_RADDR"), "127.0.0.1");
	CHECK_STR(field(&e, "TCPSTATE_RPORT"), "8080");
	CHECK_STR(field(&e, "TCPSTATE_FROM"), "NONE");
	CHECK_STR(field(&e, "TCPSTATE_TO"), "ESTABLISHED");
	CHECK_STR(field(&e, "TCPSTATE_HOW"), "poll");
	CHECK_STR(field(&e, "TCPSTATE_COOKIE"), "4104");
	CHECK_STR(field(&e, "TCPSTATE_TS"), "2026-11-24T12:04:58.844212Z");
	CHECK_STR(field(&e, "TCPSTATE_UID"), "1000");
	CHECK_STR(field(&e, "TCPSTATE_INODE"), "10826");
	/* The iovecs carry the length without the NUL. */
	CHECK_INT(e.iov[0].iov_len, strlen(e.iov[0].iov_base));
}

static void test_minisocket_ipv6(void)
{
	struct sock sk = make_sock(AF_INET6, "::1", 443, "::1", 40000);
	struct transition t = {.sk = &sk, .from = SOCK_FIN_WAIT2, .to = SOCK_TIME_WAIT};
	struct journal_entry e;

	sk.kind = SOCK_KIND_TIMEWAIT;
	sk.inode = 0;
	CHECK_INT(journal_entry_build(&e, &t), 0);
	CHECK_STR(field(&e, "MESSAGE_ID"), journal_message_id(JOURNAL_CHANGED));
	CHECK_STR(field(&e, "TCPSTATE_FAMILY"), "ipv6");
	CHECK_STR(field(&e, "TCPSTATE_LADDR"), "::1");
	CHECK_STR(field(&e, "TCPSTATE_HOW"), "initial");
	CHECK_CONTAINS(field(&e, "MESSAGE"),
	               "[::1]:443 \u2192 [::1]:40000 FIN_WAIT2 \u2192 TIME_WAIT");
	/* As in the log file: no uid or inode for a minisocket. */
	CHECK(field(&e, "TCPSTATE_UID") == NULL);
	CHECK(field(&e, "TCPSTATE_INODE") == NULL);
}

static void test_vanished_orphan(void)
{
	struct sock sk = make_sock(AF_INET, "10.0.0.1", 80, "10.0.0.2", 5555);
	struct transition t = {
	    .sk = &sk, .from = SOCK_LAST_ACK, .to = SOCK_NONE, .how = TRANSITION_HOW_POLL};
	struct journal_entry e;

	sk.inode = 0; /* orphaned: a uid, no inode */
	CHECK_INT(journal_entry_build(&e, &t), 0);
	CHECK_STR(field(&e, "MESSAGE_ID"), journal_message_id(JOURNAL_VANISHED));
	CHECK_STR(field(&e, "TCPSTATE_TO"), "NONE");
	CHECK_STR(field(&e, "TCPSTATE_UID"), "1000");
	CHECK(field(&e, "TCPSTATE_INODE") == NULL);
	CHECK(strstr(field(&e, "MESSAGE"), "  ") == NULL); /* padding squeezed */
}

static void test_owner(void)
{
	struct sock sk = make_sock(AF_INET, "127.0.0.1", 54328, "127.0.0.1", 8080);
	struct sock_owner o = {.cgroup = "/system.slice/nginx.service",
	                       .unit = "nginx.service",
	                       .pid = 123,
	                       .comm = "ngin x"};
	struct transition t = {
	    .ts = {.tv_sec = 1795521898, .tv_nsec = 844212000},
	    .sk = &sk,
	    .from = SOCK_NONE,
	    .to = SOCK_ESTABLISHED,
	    .how = TRANSITION_HOW_POLL,
	    .owner = &o,
	};
	struct journal_entry e;

	CHECK_INT(journal_entry_build(&e, &t), 0);
	CHECK_INT(e.n, 20);
	CHECK_STR(field(&e, "TCPSTATE_CGROUP"), "/system.slice/nginx.service");
	CHECK_STR(field(&e, "TCPSTATE_UNIT"), "nginx.service");
	CHECK_STR(field(&e, "TCPSTATE_PID"), "123");
	CHECK_STR(field(&e, "TCPSTATE_COMM"), "ngin x"); /* raw: journal fields take any byte */
	CHECK_CONTAINS(field(&e, "MESSAGE"), " unit=nginx.service pid=123 comm=ngin\\x20x");

	/* A cgroup without a unit, no process. */
	o = (struct sock_owner){.cgroup = "/"};
	CHECK_INT(journal_entry_build(&e, &t), 0);
	CHECK_STR(field(&e, "TCPSTATE_CGROUP"), "/");
	CHECK(field(&e, "TCPSTATE_UNIT") == NULL);
	CHECK(field(&e, "TCPSTATE_PID") == NULL);
	CHECK(field(&e, "TCPSTATE_COMM") == NULL);
}

static void test_summary(void)
{
	struct sock sk = make_sock(AF_INET, "127.0.0.1", 54328, "127.0.0.1", 8080);
	struct summary s = {
	    .ts = {.tv_sec = 1795521898, .tv_nsec = 844212000},
	    .sk = &sk,
	    .lifetime_us = 1234,
	    .info = {.bytes_acked = 5,
	             .bytes_received = 6,
	             .total_retrans = 1,
	             .rtt_us = 42,
	             .has = SOCK_INFO_HAS_BYTES | SOCK_INFO_HAS_RETRANS | SOCK_INFO_HAS_RTT},
	};
	struct journal_entry e;

	sk.kind = SOCK_KIND_GONE;
	CHECK_INT(journal_summary_build(&e, &s), 0);
	CHECK_INT(e.n, 16);
	CHECK_STR(field(&e, "MESSAGE"),
	          "ipv4 127.0.0.1:54328 \u2192 127.0.0.1:8080 summary "
	          "cookie=4104 lifetime_us=1234 bytes_sent=5 bytes_received=6 "
	          "retrans=1 rtt_us=42");
	CHECK_STR(field(&e, "MESSAGE_ID"), journal_message_id(JOURNAL_SUMMARY));
	CHECK_STR(field(&e, "TCPSTATE_LIFETIME_US"), "1234");
	CHECK_STR(field(&e, "TCPSTATE_BYTES_SENT"), "5");
	CHECK_STR(field(&e, "TCPSTATE_BYTES_RECEIVED"), "6");
	CHECK_STR(field(&e, "TCPSTATE_RETRANS"), "1");
	CHECK_STR(field(&e, "TCPSTATE_RTT_US"), "42");
	CHECK_STR(field(&e, "TCPSTATE_TS"), "2026-11-24T12:04:58.844212Z");
	CHECK(field(&e, "TCPSTATE_FROM") == NULL);
	/* Figures the kernel did not give are left out. */
	s.info.has = SOCK_INFO_HAS_RTT;
	CHECK_INT(journal_summary_build(&e, &s), 0);
	CHECK_INT(e.n, 13);
	CHECK(field(&e, "TCPSTATE_BYTES_SENT") == NULL);
}

/* What a record says of its connection (issue 11) is in the entries as in the
 * log file: a minisocket's records carry the owner's ids learnt earlier, the
 * time in the previous state, role and peer; a summary how it ended. */
static void test_connection_fields(void)
{
	struct sock sk = make_sock(AF_INET, "127.0.0.1", 54328, "127.0.0.1", 8080);
	struct transition_conn c = {
	    .peer = 4105, .uid = 1000, .has_uid = 1, .inode = 777, .role = TRANSITION_ROLE_CLIENT};
	struct transition t = {.sk = &sk,
	                       .from = SOCK_FIN_WAIT2,
	                       .to = SOCK_TIME_WAIT,
	                       .how = TRANSITION_HOW_POLL,
	                       .has_in_state = 1,
	                       .in_state_us = 850,
	                       .conn = &c};
	struct summary s = {.sk = &sk,
	                    .lifetime_us = 1234,
	                    .outcome = TRANSITION_OUTCOME_FIN,
	                    .closer = TRANSITION_SIDE_LOCAL,
	                    .conn = &c};
	struct journal_entry e;

	sk.kind = SOCK_KIND_TIMEWAIT;
	sk.inode = 0;
	CHECK_INT(journal_entry_build(&e, &t), 0);
	CHECK_STR(field(&e, "TCPSTATE_IN_STATE_US"), "850");
	CHECK_STR(field(&e, "TCPSTATE_ROLE"), "client");
	CHECK_STR(field(&e, "TCPSTATE_PEER"), "4105");
	CHECK_STR(field(&e, "TCPSTATE_UID"), "1000");
	CHECK_STR(field(&e, "TCPSTATE_INODE"), "777");
	CHECK_CONTAINS(field(&e, "MESSAGE"), "in_state=850us role=client peer=4105 uid=1000");

	sk.kind = SOCK_KIND_GONE;
	CHECK_INT(journal_summary_build(&e, &s), 0);
	CHECK_STR(field(&e, "TCPSTATE_OUTCOME"), "fin");
	CHECK_STR(field(&e, "TCPSTATE_CLOSER"), "local");
	CHECK_STR(field(&e, "TCPSTATE_ROLE"), "client");
	CHECK_STR(field(&e, "TCPSTATE_UID"), "1000");
	CHECK(field(&e, "TCPSTATE_IN_STATE_US") == NULL);
	/* Nothing remembered: no outcome, as in the log file. */
	s.conn = NULL;
	CHECK_INT(journal_summary_build(&e, &s), 0);
	CHECK(field(&e, "TCPSTATE_OUTCOME") == NULL);
}

/* The namespace (issue 16) is in the entries as in the log file, raw and cut
 * at the same 255 bytes; and an entry with every field it can have (a
 * summary: all figures, how it ended, the connection, the namespace, the
 * owner) is built whole. */
static void test_netns(void)
{
	static char longname[400];
	struct sock sk = make_sock(AF_INET, "10.0.0.1", 80, "10.0.0.2", 40000);
	struct transition_conn c = {
	    .peer = 4105, .uid = 1000, .has_uid = 1, .inode = 777, .role = TRANSITION_ROLE_SERVER};
	struct transition_netns ns = {.ino = 4026532281, .name = "blue ns"};
	struct sock_owner o = {
	    .cgroup = "/system.slice/web.service", .unit = "web.service", .pid = 9, .comm = "web"};
	struct transition t = {.sk = &sk,
	                       .from = SOCK_ESTABLISHED,
	                       .to = SOCK_NONE,
	                       .how = TRANSITION_HOW_NETNS,
	                       .has_in_state = 1,
	                       .in_state_us = 850,
	                       .conn = &c,
	                       .owner = &o,
	                       .netns = &ns};
	struct summary s = {
	    .sk = &sk,
	    .lifetime_us = 1234,
	    .info = {.has = SOCK_INFO_HAS_BYTES | SOCK_INFO_HAS_RETRANS | SOCK_INFO_HAS_RTT},
	    .outcome = TRANSITION_OUTCOME_FIN,
	    .closer = TRANSITION_SIDE_LOCAL,
	    .conn = &c,
	    .owner = &o,
	    .netns = &ns};
	struct journal_entry e;

	CHECK_INT(journal_entry_build(&e, &t), 0);
	CHECK_STR(field(&e, "TCPSTATE_HOW"), "netns");
	CHECK_STR(field(&e, "TCPSTATE_NETNS"), "blue ns");
	CHECK_STR(field(&e, "TCPSTATE_NETNS_INO"), "4026532281");
	CHECK_CONTAINS(field(&e, "MESSAGE"),
	               "ESTABLISHED \u2192 NONE netns cookie=4104 in_state=850us role=server "
	               "peer=4105 uid=1000 ino=10826 netns=blue\\x20ns netns_ino=4026532281 "
	               "unit=web.service pid=9 comm=web");
	CHECK_INT(e.n, 25);

	CHECK_INT(journal_summary_build(&e, &s), 0);
	CHECK_INT(e.n, 28);
	CHECK_STR(field(&e, "TCPSTATE_NETNS"), "blue ns");
	CHECK_STR(field(&e, "TCPSTATE_NETNS_INO"), "4026532281");
	CHECK_STR(field(&e, "TCPSTATE_COMM"), "web");

	memset(longname, 'n', sizeof(longname) - 1);
	ns.name = longname;
	CHECK_INT(journal_entry_build(&e, &t), 0);
	CHECK_INT(strlen(field(&e, "TCPSTATE_NETNS")), 255);
	/* No namespace said: no fields. */
	t.netns = NULL;
	CHECK_INT(journal_entry_build(&e, &t), 0);
	CHECK(field(&e, "TCPSTATE_NETNS") == NULL);
	CHECK(field(&e, "TCPSTATE_NETNS_INO") == NULL);
}

static void test_message_ids(void)
{
	/* Fixed, distinct, 32 lowercase hex digits. */
	for (unsigned i = 0; i < JOURNAL_KIND_MAX; i++) {
		const char *id = journal_message_id(i);

		CHECK_INT(strlen(id), 32);
		CHECK_INT(strspn(id, "0123456789abcdef"), 32);
		for (unsigned j = 0; j < i; j++)
			CHECK(strcmp(id, journal_message_id(j)) != 0);
	}
	CHECK_STR(journal_message_id(JOURNAL_APPEARED), "47c5afb8f94f4b73b2778622ab66d4a0");
}

static void test_not_sent(void)
{
	struct jbudget_report r = {
	    .over = 1500,
	    .failed = 3,
	    .since = {.tv_sec = 1795521898, .tv_nsec = 844212000},
	    .until = {.tv_sec = 1795521908, .tv_nsec = 1000},
	};
	struct journal_entry e;

	CHECK_INT(journal_not_sent_build(&e, &r, 200, 2000, "/var/log/tcpstated/transitions.log"),
	          0);
	CHECK_INT(e.n, 12);
	CHECK_STR(
	    field(&e, "MESSAGE"),
	    "1503 records between 2026-11-24T12:04:58.844212Z and "
	    "2026-11-24T12:05:08.000001Z not sent to the journal (1500 over the budget of 200 "
	    "a second, burst 2000, 3 refused by the journal); "
	    "/var/log/tcpstated/transitions.log has them all");
	CHECK_STR(field(&e, "MESSAGE_ID"), JOURNAL_ID_NOT_SENT);
	CHECK_STR(field(&e, "PRIORITY"), "4");
	CHECK_STR(field(&e, "SYSLOG_IDENTIFIER"), "tcpstated");
	CHECK_STR(field(&e, "TCPSTATE_NOT_SENT"), "1503");
	CHECK_STR(field(&e, "TCPSTATE_OVER_BUDGET"), "1500");
	CHECK_STR(field(&e, "TCPSTATE_FAILED"), "3");
	CHECK_STR(field(&e, "TCPSTATE_SINCE"), "2026-11-24T12:04:58.844212Z");
	CHECK_STR(field(&e, "TCPSTATE_UNTIL"), "2026-11-24T12:05:08.000001Z");
	CHECK_STR(field(&e, "TCPSTATE_LOG"), "/var/log/tcpstated/transitions.log");
	CHECK_STR(field(&e, "TCPSTATE_RATE"), "200");
	CHECK_STR(field(&e, "TCPSTATE_BURST"), "2000");
}

static void test_settings(void)
{
	struct config cfg;
	struct journal_entry e;

	config_defaults(&cfg);
	CHECK_INT(
	    journal_settings_build(&e, false, "started with /etc/x.conf: ...", &cfg, "/etc/x.conf"),
	    0);
	CHECK_STR(field(&e, "MESSAGE"), "started with /etc/x.conf: ...");
	CHECK_STR(field(&e, "MESSAGE_ID"), JOURNAL_ID_STARTED);
	CHECK_STR(field(&e, "PRIORITY"), "6");
	CHECK_STR(field(&e, "TCPSTATE_VERSION"), TCPSTATED_VERSION);
	CHECK_STR(field(&e, "TCPSTATE_CONFIG"), "/etc/x.conf");
	CHECK_STR(field(&e, "TCPSTATE_INTERVAL_MS"), "100");
	CHECK_STR(field(&e, "TCPSTATE_LOG"), "/var/log/tcpstated/transitions.log");
	CHECK_STR(field(&e, "TCPSTATE_FORMAT"), "text");
	CHECK_STR(field(&e, "TCPSTATE_JOURNAL"), "yes");
	CHECK_STR(field(&e, "TCPSTATE_RATE"), "200");
	CHECK_STR(field(&e, "TCPSTATE_BURST"), "2000");
	cfg.journal = false;
	CHECK_INT(journal_settings_build(&e, true, "reloaded", &cfg, "/etc/x.conf"), 0);
	CHECK_STR(field(&e, "MESSAGE_ID"), JOURNAL_ID_RELOADED);
	CHECK_STR(field(&e, "TCPSTATE_JOURNAL"), "no");
}

/* The catalog has an entry for every MESSAGE_ID, and none for another. */
static void test_catalog(void)
{
	FILE *f = fopen(SOURCE_DIR "/catalog/tcpstated.catalog", "r");
	char line[512];
	unsigned seen[JOURNAL_KIND_MAX] = {0}, entries = 0;

	CHECK(f != NULL);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "-- ", 3) != 0)
			continue;
		entries++;
		for (unsigned i = 0; i < JOURNAL_KIND_MAX; i++)
			if (strncmp(line + 3, journal_message_id(i), 32) == 0 && line[35] == '\n')
				seen[i]++;
	}
	fclose(f);
	CHECK_INT(entries, JOURNAL_KIND_MAX);
	for (unsigned i = 0; i < JOURNAL_KIND_MAX; i++)
		CHECK_INT(seen[i], 1);
}

/*
 * The budget in front of the sends. Without journald (the build machines run
 * none) libsystemd drops entries without an error, which is why the daemon
 * asks journal_available() first; with one, this would write to the host's
 * journal, so it is skipped there.
 */
static void test_budget(void)
{
	struct sock sk = make_sock(AF_INET, "127.0.0.1", 54328, "127.0.0.1", 8080);
	struct transition t = {
	    .ts = {.tv_sec = 1795521898},
	    .sk = &sk,
	    .from = SOCK_NONE,
	    .to = SOCK_ESTABLISHED,
	};
	struct journal *j;

	if (journal_available()) {
		fprintf(stderr, "test_budget: this host has a journal; skipped\n");
		return;
	}
	CHECK_INT(journal_new(&j, 1, 2), 0);
	CHECK_INT(journal_record(j, &t), 0);
	CHECK_INT(journal_record(j, &t), 0);
	CHECK_INT(journal_record(j, &t), JOURNAL_OVER);
	CHECK_INT(journal_report(j, "/tmp/x.log", false), 1); /* the first is due at once */
	CHECK_INT(journal_report(j, "/tmp/x.log", true), 0);  /* nothing left */
	CHECK_INT(journal_record(j, &t), JOURNAL_OVER);
	CHECK_INT(journal_report(j, "/tmp/x.log", false), 0); /* the next only 10 s later */
	CHECK_INT(journal_report(j, "/tmp/x.log", true), 1);  /* or at a stop */
	journal_free(j);
	journal_free(NULL);
}

int main(void)
{
	test_appeared_ipv4();
	test_minisocket_ipv6();
	test_vanished_orphan();
	test_owner();
	test_summary();
	test_connection_fields();
	test_netns();
	test_message_ids();
	test_not_sent();
	test_settings();
	test_catalog();
	test_budget();
	return CHECK_DONE();
}
