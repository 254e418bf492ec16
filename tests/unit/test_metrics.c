/* test_metrics.c - the metrics' counters, histograms and socket gauges, and their text. */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "metrics.h"
#include "metrics_text.h"
#include "snapshot.h"
#include "socks.h"
#include "util.h"

/* M as exposition text, to be freed. */
static char *render(const struct metrics *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(f != NULL);
	CHECK_INT(metrics_text_write(m, "1.2.3", f), 0);
	fclose(f);
	return buf;
}

static struct transition tr(unsigned from, unsigned to, unsigned how, const struct sock *sk)
{
	return (struct transition){
	    .sk = sk, .from = (uint8_t)from, .to = (uint8_t)to, .how = (uint8_t)how};
}

/* Each value in the first bucket whose bound is at least it; above all, +Inf. */
static void test_hist_buckets(void)
{
	static const uint64_t bounds[] = {10, 100, 1000};
	struct metrics_hist h = {.bounds = bounds, .n = 3};

	metrics_hist_add(&h, 0);
	metrics_hist_add(&h, 10);
	metrics_hist_add(&h, 11);
	metrics_hist_add(&h, 1000);
	metrics_hist_add(&h, 1001);
	metrics_hist_add(&h, UINT32_MAX);
	CHECK_INT(h.counts[0], 2);
	CHECK_INT(h.counts[1], 1);
	CHECK_INT(h.counts[2], 1);
	CHECK_INT(h.counts[3], 2);
	CHECK_INT(h.count, 6);
	CHECK_INT(h.sum_us, 0 + 10 + 11 + 1000 + 1001 + (uint64_t)UINT32_MAX);
}

static void test_transitions(void)
{
	struct sock sk = test_sock(1, SOCK_ESTABLISHED, SOCK_KIND_FULL, 40000, 80);
	struct metrics *m;
	struct transition t;
	char *text;

	CHECK_INT(metrics_new(&m, 0), 0);
	t = tr(SOCK_NONE, SOCK_LISTEN, TRANSITION_HOW_INITIAL, &sk);
	metrics_note_transition(m, &t, METRICS_DURATION_UNKNOWN);
	CHECK_INT(m->transitions[SOCK_NONE][SOCK_LISTEN], 0); /* there before us */
	t = tr(SOCK_SYN_SENT, SOCK_ESTABLISHED, TRANSITION_HOW_POLL, &sk);
	metrics_note_transition(m, &t, 1500);
	metrics_note_transition(m, &t, METRICS_DURATION_UNKNOWN);
	t = tr(SOCK_ESTABLISHED, SOCK_FIN_WAIT1, TRANSITION_HOW_POLL, &sk);
	metrics_note_transition(m, &t, 7200000000ULL);
	CHECK_INT(m->transitions[SOCK_SYN_SENT][SOCK_ESTABLISHED], 2);
	CHECK_INT(m->handshake.count, 1);
	CHECK_INT(m->handshake.sum_us, 1500);
	CHECK_INT(m->state[SOCK_SYN_SENT].count, 1);
	CHECK_INT(m->state[SOCK_ESTABLISHED].count, 1);
	CHECK_INT(m->handshake.count, 1); /* only SYN_SENT -> ESTABLISHED */

	text = render(m);
	CHECK_CONTAINS(text,
	               "\ntcpstated_transitions_total{from=\"syn_sent\",to=\"established\"} 2\n");
	CHECK_CONTAINS(text,
	               "\ntcpstated_transitions_total{from=\"established\",to=\"fin_wait1\"} 1\n");
	CHECK(!strstr(text, "from=\"none\"")); /* never counted: not written */
	/* 1.5 ms: above 1 ms, within 2.5 ms. */
	CHECK_CONTAINS(text, "\ntcpstated_handshake_duration_seconds_bucket{le=\"0.001\"} 0\n");
	CHECK_CONTAINS(text, "\ntcpstated_handshake_duration_seconds_bucket{le=\"0.0025\"} 1\n");
	CHECK_CONTAINS(text, "\ntcpstated_handshake_duration_seconds_bucket{le=\"10\"} 1\n");
	CHECK_CONTAINS(text, "\ntcpstated_handshake_duration_seconds_bucket{le=\"+Inf\"} 1\n");
	CHECK_CONTAINS(text, "\ntcpstated_handshake_duration_seconds_sum 0.001500\n");
	CHECK_CONTAINS(text, "\ntcpstated_handshake_duration_seconds_count 1\n");
	/* Two hours in ESTABLISHED: past one hour, within four. */
	CHECK_CONTAINS(
	    text,
	    "\ntcpstated_state_duration_seconds_bucket{state=\"established\",le=\"3600\"} 0\n");
	CHECK_CONTAINS(
	    text,
	    "\ntcpstated_state_duration_seconds_bucket{state=\"established\",le=\"14400\"} 1\n");
	CHECK_CONTAINS(
	    text, "\ntcpstated_state_duration_seconds_sum{state=\"established\"} 7200.000000\n");
	CHECK_CONTAINS(text, "\ntcpstated_state_duration_seconds_count{state=\"time_wait\"} 0\n");
	free(text);
	metrics_free(m);
}

static void test_summary_and_poll(void)
{
	struct sock sk = test_sock(1, SOCK_CLOSE, SOCK_KIND_GONE, 40000, 80);
	struct summary s = {.sk = &sk, .lifetime_us = 250000};
	struct metrics *m;
	char *text;

	CHECK_INT(metrics_new(&m, 0), 0);
	metrics_note_summary(m, &s);
	metrics_note_poll(m, 900);
	metrics_note_poll(m, 30000);
	m->health = (struct metrics_health){.polls = 7,
	                                    .polls_skipped = 1,
	                                    .dumps_failed = 2,
	                                    .events = 3,
	                                    .events_lost = 4,
	                                    .records_written = 5,
	                                    .records_lost = 6,
	                                    .journal_not_sent = 8};
	m->log_write_errors = 9;
	text = render(m);
	CHECK_CONTAINS(text, "\ntcpstated_connection_duration_seconds_bucket{le=\"0.1\"} 0\n");
	CHECK_CONTAINS(text, "\ntcpstated_connection_duration_seconds_bucket{le=\"1\"} 1\n");
	CHECK_CONTAINS(text, "\ntcpstated_connection_duration_seconds_count 1\n");
	CHECK_CONTAINS(text, "\ntcpstated_poll_duration_seconds_bucket{le=\"0.001\"} 1\n");
	CHECK_CONTAINS(text, "\ntcpstated_poll_duration_seconds_bucket{le=\"0.025\"} 1\n");
	CHECK_CONTAINS(text, "\ntcpstated_poll_duration_seconds_bucket{le=\"0.05\"} 2\n");
	CHECK_CONTAINS(text, "\ntcpstated_poll_duration_seconds_sum 0.030900\n");
	CHECK_CONTAINS(text, "\ntcpstated_polls_total 7\n");
	CHECK_CONTAINS(text, "\ntcpstated_polls_skipped_total 1\n");
	CHECK_CONTAINS(text, "\ntcpstated_dumps_failed_total 2\n");
	CHECK_CONTAINS(text, "\ntcpstated_notifications_received_total 3\n");
	CHECK_CONTAINS(text, "\ntcpstated_notifications_lost_total 4\n");
	CHECK_CONTAINS(text, "\ntcpstated_records_written_total 5\n");
	CHECK_CONTAINS(text, "\ntcpstated_records_lost_total 6\n");
	CHECK_CONTAINS(text, "\ntcpstated_journal_entries_not_sent_total 8\n");
	CHECK_CONTAINS(text, "\ntcpstated_log_write_errors_total 9\n");
	CHECK_CONTAINS(text, "\ntcpstated_build_info{version=\"1.2.3\"} 1\n");
	CHECK(!strstr(text, "unit_sockets")); /* no per-unit series unless asked */
	free(text);
	metrics_free(m);
}

/* Closes by outcome; units past the cap share "other"; label values escaped. */
static void test_closes_and_units(void)
{
	struct metrics *m;
	char *text;

	CHECK_INT(metrics_new(&m, 2), 0);
	metrics_note_close(m, TRANSITION_OUTCOME_FIN, "a.service");
	metrics_note_close(m, TRANSITION_OUTCOME_RESET, "a.service");
	metrics_note_close(m, TRANSITION_OUTCOME_REFUSED, "b\\x2d\"c.service");
	metrics_note_close(m, TRANSITION_OUTCOME_TIMEOUT, "d.service"); /* past the cap */
	metrics_note_close(m, TRANSITION_OUTCOME_FIN, NULL);
	metrics_note_close(m, 99, "a.service");
	CHECK_INT(m->closed[TRANSITION_OUTCOME_FIN], 2);
	CHECK_INT(m->closed[TRANSITION_OUTCOME_UNKNOWN], 1);
	CHECK_INT(m->units_len, 2);
	CHECK(metrics_unit(m, "e.service") == &m->units[2]);
	CHECK(metrics_unit(m, "other") == &m->units[2]); /* no second "other" */
	text = render(m);
	CHECK_CONTAINS(text, "\ntcpstated_connections_closed_total{outcome=\"fin\"} 2\n");
	CHECK_CONTAINS(text, "\ntcpstated_connections_closed_total{outcome=\"timeout\"} 1\n");
	CHECK_CONTAINS(
	    text,
	    "\ntcpstated_unit_connections_closed_total{unit=\"a.service\",outcome=\"reset\"} 1\n");
	CHECK_CONTAINS(text, "\ntcpstated_unit_connections_closed_total{unit=\"a.service\",outcome="
	                     "\"unknown\"} 1\n");
	CHECK_CONTAINS(text, "\ntcpstated_unit_connections_closed_total{unit=\"b\\\\x2d\\\"c."
	                     "service\",outcome=\"refused\"} 1\n");
	CHECK_CONTAINS(
	    text,
	    "\ntcpstated_unit_connections_closed_total{unit=\"other\",outcome=\"timeout\"} 1\n");
	CHECK(!strstr(text, "d.service"));
	free(text);
	metrics_free(m);
}

/* The unit of a test socket: by its local port. */
static const char *unit_by_port(const struct sock *sk, char *buf, size_t len, void *user)
{
	if (sk->tuple.lport == 1)
		return NULL;
	snprintf(buf, len, "p%u.service", (unsigned)sk->tuple.lport);
	return buf;
}

static void test_count_sockets(void)
{
	struct sock socks[] = {
	    test_sock(1, SOCK_ESTABLISHED, SOCK_KIND_FULL, 2, 80),
	    test_sock(2, SOCK_ESTABLISHED, SOCK_KIND_FULL, 2, 81),
	    test_sock(3, SOCK_TIME_WAIT, SOCK_KIND_TIMEWAIT, 1, 80),
	    test_sock(4, SOCK_CLOSE_WAIT, SOCK_KIND_FULL, 3, 80),
	    test_sock(5, SOCK_LISTEN, SOCK_KIND_FULL, 4, 0),
	    test_sock(6, SOCK_ESTABLISHED, SOCK_KIND_FULL, 2, 82),
	};
	struct snapshot table;
	struct metrics *m;
	char *text;

	socks[1].tuple.family = AF_INET6;
	snapshot_init(&table);
	for (size_t i = 0; i < UTIL_LEN(socks); i++)
		CHECK_INT(snapshot_put(&table, &socks[i]), 0);
	table.entries[5].missing = 1; /* not in the latest dump: not counted */
	CHECK_INT(metrics_new(&m, 2), 0);
	metrics_clear_sockets(m);
	metrics_count_sockets(m, &table, unit_by_port, NULL);
	metrics_clear_sockets(m); /* counts again, not on top */
	metrics_count_sockets(m, &table, unit_by_port, NULL);

	CHECK_INT(m->sockets[0][SOCK_ESTABLISHED], 1);
	CHECK_INT(m->sockets[1][SOCK_ESTABLISHED], 1);
	CHECK_INT(m->sockets[0][SOCK_TIME_WAIT], 1);
	text = render(m);
	CHECK_CONTAINS(text, "\ntcpstated_sockets{state=\"established\",family=\"ipv4\"} 1\n");
	CHECK_CONTAINS(text, "\ntcpstated_sockets{state=\"established\",family=\"ipv6\"} 1\n");
	CHECK_CONTAINS(text, "\ntcpstated_sockets{state=\"close_wait\",family=\"ipv4\"} 1\n");
	CHECK_CONTAINS(text, "\ntcpstated_sockets{state=\"syn_recv\",family=\"ipv6\"} 0\n");
	CHECK_CONTAINS(text,
	               "\ntcpstated_unit_sockets{unit=\"p2.service\",state=\"established\"} 2\n");
	CHECK_CONTAINS(text,
	               "\ntcpstated_unit_sockets{unit=\"p3.service\",state=\"close_wait\"} 1\n");
	CHECK_CONTAINS(text, "\ntcpstated_unit_sockets{unit=\"other\",state=\"listen\"} 1\n");
	CHECK_CONTAINS(text, "\ntcpstated_unit_sockets{unit=\"other\",state=\"time_wait\"} 0\n");
	free(text);
	metrics_free(m);
	snapshot_release(&table);
}

/* Many namespaces: their tables add up in the gauges, and each has series of
 * its own, only when turned on. */
static void test_netns(void)
{
	struct sock sk = test_sock(1, SOCK_ESTABLISHED, SOCK_KIND_FULL, 2, 80);
	struct snapshot table;
	struct metrics *m;
	struct metrics_netns *v;
	char *text;

	snapshot_init(&table);
	CHECK_INT(snapshot_put(&table, &sk), 0);
	CHECK_INT(metrics_new(&m, 0), 0);
	text = render(m);
	CHECK(!strstr(text, "netns"));
	free(text);
	metrics_clear_sockets(m);
	metrics_count_sockets(m, &table, NULL, NULL); /* one namespace */
	metrics_count_sockets(m, &table, NULL, NULL); /* and another */
	v = metrics_set_netns(m, 2);
	CHECK(v != NULL);
	v[0] = (struct metrics_netns){.name = "blue", .ino = 4026532201, .sockets = 1, .polls = 7};
	v[1] = (struct metrics_netns){.name = "a\"b", .ino = 4026532202, .sockets = 1, .polls = 3};
	m->netns_interval_us = 300000;
	text = render(m);
	CHECK_CONTAINS(text, "\ntcpstated_sockets{state=\"established\",family=\"ipv4\"} 2\n");
	CHECK_CONTAINS(text, "\ntcpstated_netns_watched 2\n");
	CHECK_CONTAINS(text, "\ntcpstated_netns_poll_interval_seconds 0.300000\n");
	CHECK_CONTAINS(text,
	               "\ntcpstated_netns_sockets{netns=\"blue\",netns_ino=\"4026532201\"} 1\n");
	CHECK_CONTAINS(
	    text, "\ntcpstated_netns_polls_total{netns=\"a\\\"b\",netns_ino=\"4026532202\"} 3\n");
	free(text);
	metrics_free(m);
	snapshot_release(&table);
}

int main(void)
{
	test_hist_buckets();
	test_transitions();
	test_summary_and_poll();
	test_closes_and_units();
	test_count_sockets();
	test_netns();
	return CHECK_DONE();
}
