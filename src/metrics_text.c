/*
 * metrics_text.c - the metrics as Prometheus text exposition format.
 *
 * Series with a small fixed set of labels (states, families, outcomes) are
 * written even at 0, so that rate() and absent() see them from the start;
 * transitions, up to 144 pairs of which only a few happen, only once
 * counted. Durations are counted in µs and written in seconds, as
 * Prometheus names them.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>

#include "metrics_text.h"

#define PREFIX "tcpstated_"

static const char *const family_names[METRICS_FAMILIES] = {"ipv4", "ipv6"};

const char *metrics_text_state(unsigned state, char *buf)
{
	const char *name = sock_state_name(state);
	size_t i;

	for (i = 0; name[i] && i < 15; i++)
		buf[i] = (char)tolower((unsigned char)name[i]);
	buf[i] = '\0';
	return buf;
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void seconds(FILE *f, uint64_t usec)
{
	fprintf(f, "%" PRIu64 ".%06" PRIu64, usec / 1000000, usec % 1000000);
}

/* One histogram's series; LABELS ("state=\"listen\"" or "") go before le. */
static void hist_series(FILE *f, const char *name, const char *labels, const struct metrics_hist *h)
{
	const char *sep = labels[0] ? "," : "";
	uint64_t cum = 0;

	for (size_t b = 0; b < h->n; b++) {
		cum += h->counts[b];
		fprintf(f, PREFIX "%s_bucket{%s%sle=\"", name, labels, sep);
		/* Bounds are whole µs: %g of the seconds is exact and short (0.0025, 14400). */
		fprintf(f, "%.6g\"} %" PRIu64 "\n", (double)h->bounds[b] / 1e6, cum);
	}
	cum += h->counts[h->n];
	fprintf(f, PREFIX "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name, labels, sep, cum);
	fprintf(f, PREFIX "%s_sum%s%s%s ", name, labels[0] ? "{" : "", labels,
	        labels[0] ? "}" : "");
	seconds(f, h->sum_us);
	fprintf(f, "\n" PREFIX "%s_count%s%s%s %" PRIu64 "\n", name, labels[0] ? "{" : "", labels,
	        labels[0] ? "}" : "", h->count);
}

static void write_sockets(const struct metrics *m, FILE *f)
{
	char st[16];

	header(f, "sockets", "gauge",
	       "TCP sockets by state and address family, at the last count of the socket table.");
	for (unsigned s = SOCK_NONE + 1; s < SOCK_STATE_MAX; s++)
		for (unsigned fam = 0; fam < METRICS_FAMILIES; fam++)
			fprintf(f, PREFIX "sockets{state=\"%s\",family=\"%s\"} %" PRIu32 "\n",
			        metrics_text_state(s, st), family_names[fam], m->sockets[fam][s]);
}

static void write_transitions(const struct metrics *m, FILE *f)
{
	char a[16], b[16];

	header(f, "transitions_total", "counter",
	       "TCP state transitions logged, by the state left and the state entered "
	       "(none: the socket appeared or vanished).");
	for (unsigned from = 0; from < SOCK_STATE_MAX; from++)
		for (unsigned to = 0; to < SOCK_STATE_MAX; to++)
			if (m->transitions[from][to])
				fprintf(f,
				        PREFIX "transitions_total{from=\"%s\",to=\"%s\"} %" PRIu64
				               "\n",
				        metrics_text_state(from, a), metrics_text_state(to, b),
				        m->transitions[from][to]);
}

static void write_closed(const struct metrics *m, FILE *f)
{
	header(f, "connections_closed_total", "counter", "Connections closed, by how they ended.");
	for (unsigned o = 0; o < TRANSITION_OUTCOME_MAX; o++)
		fprintf(f, PREFIX "connections_closed_total{outcome=\"%s\"} %" PRIu64 "\n",
		        transition_outcome_name(o), m->closed[o]);
}

static void write_durations(const struct metrics *m, FILE *f)
{
	char labels[32], st[16];

	header(f, "handshake_duration_seconds", "histogram",
	       "Time from SYN_SENT to ESTABLISHED of the connections this host opened.");
	hist_series(f, "handshake_duration_seconds", "", &m->handshake);
	header(f, "state_duration_seconds", "histogram",
	       "Time a socket spent in a state, counted when it left the state.");
	for (unsigned s = SOCK_NONE + 1; s < SOCK_STATE_MAX; s++) {
		snprintf(labels, sizeof(labels), "state=\"%s\"", metrics_text_state(s, st));
		hist_series(f, "state_duration_seconds", labels, &m->state[s]);
	}
	header(f, "connection_duration_seconds", "histogram",
	       "Lifetime of the connections that ended, from first sight to the destroy.");
	hist_series(f, "connection_duration_seconds", "", &m->connection);
}

static void write_units(const struct metrics *m, FILE *f)
{
	char st[16];
	size_t n = m->units_len;

	if (!m->units_cap)
		return;
	header(f, "unit_sockets", "gauge",
	       "TCP sockets by the systemd unit owning them and state, at the last count "
	       "(unit=\"other\": units past [metrics] units).");
	for (size_t i = 0; i <= n; i++) {
		const struct metrics_unit *u = &m->units[i == n ? m->units_cap : i];

		for (unsigned s = SOCK_NONE + 1; s < SOCK_STATE_MAX; s++) {
			fputs(PREFIX "unit_sockets{unit=\"", f);
			label_value(f, u->name);
			fprintf(f, "\",state=\"%s\"} %" PRIu32 "\n", metrics_text_state(s, st),
			        u->sockets[s]);
		}
	}
	header(f, "unit_connections_closed_total", "counter",
	       "Connections closed, by the systemd unit owning them and how they ended.");
	for (size_t i = 0; i <= n; i++) {
		const struct metrics_unit *u = &m->units[i == n ? m->units_cap : i];

		for (unsigned o = 0; o < TRANSITION_OUTCOME_MAX; o++) {
			fputs(PREFIX "unit_connections_closed_total{unit=\"", f);
			label_value(f, u->name);
			fprintf(f, "\",outcome=\"%s\"} %" PRIu64 "\n", transition_outcome_name(o),
			        u->closed[o]);
		}
	}
}

/* The labels of namespace N: {netns="NAME",netns_ino="INO"}. */
static void netns_labels(FILE *f, const char *series, const struct metrics_netns *n)
{
	fprintf(f, PREFIX "%s{netns=\"", series);
	label_value(f, n->name);
	fprintf(f, "\",netns_ino=\"%" PRIu64 "\"}", n->ino);
}

static void write_netns(const struct metrics *m, FILE *f)
{
	if (!m->netns_on)
		return;
	header(f, "netns_watched", "gauge", "Network namespaces watched ([poll] netns).");
	fprintf(f, PREFIX "netns_watched %zu\n", m->netns_len);
	header(f, "netns_poll_interval_seconds", "gauge",
	       "How often each namespace is polled now: the interval, times the spread "
	       "[poll] netns_budget imposes.");
	fputs(PREFIX "netns_poll_interval_seconds ", f);
	seconds(f, m->netns_interval_us);
	fputc('\n', f);
	header(f, "netns_sockets", "gauge", "TCP sockets in each namespace's latest dump.");
	for (size_t i = 0; i < m->netns_len; i++) {
		netns_labels(f, "netns_sockets", &m->netns[i]);
		fprintf(f, " %" PRIu64 "\n", m->netns[i].sockets);
	}
	header(f, "netns_polls_total", "counter",
	       "Dumps of each namespace taken and compared since it is watched.");
	for (size_t i = 0; i < m->netns_len; i++) {
		netns_labels(f, "netns_polls_total", &m->netns[i]);
		fprintf(f, " %" PRIu64 "\n", m->netns[i].polls);
	}
}

static void counter(FILE *f, const char *name, const char *help, uint64_t value)
{
	header(f, name, "counter", help);
	fprintf(f, PREFIX "%s %" PRIu64 "\n", name, value);
}

static void write_health(const struct metrics *m, const char *version, FILE *f)
{
	const struct metrics_health *h = &m->health;

	counter(f, "polls_total", "Socket table dumps taken and compared.", h->polls);
	counter(f, "polls_skipped_total",
	        "Poll ticks that passed without a poll (the daemon fell behind).",
	        h->polls_skipped);
	counter(f, "dumps_failed_total", "Socket table dumps that failed and were not compared.",
	        h->dumps_failed);
	header(f, "poll_duration_seconds", "histogram",
	       "Time a poll took, from dump to log write.");
	hist_series(f, "poll_duration_seconds", "", &m->poll);
	counter(f, "notifications_received_total", "TCP destroy notifications read.", h->events);
	counter(f, "notifications_lost_total",
	        "TCP destroy notifications lost (the kernel dropped them, or the queue was full).",
	        h->events_lost);
	counter(f, "records_written_total",
	        "Records (transitions and summaries) written to the log.", h->records_written);
	counter(f, "records_lost_total", "Records lost to log write errors.", h->records_lost);
	counter(f, "journal_entries_not_sent_total",
	        "Records not sent to the journal: over its budget, or refused.",
	        h->journal_not_sent);
	counter(f, "log_write_errors_total", "Polls whose write to the log file failed.",
	        m->log_write_errors);
	header(f, "build_info", "gauge", "Always 1; the version of tcpstated as a label.");
	fputs(PREFIX "build_info{version=\"", f);
	label_value(f, version);
	fputs("\"} 1\n", f);
}

int metrics_text_write(const struct metrics *m, const char *version, FILE *f)
{
	write_sockets(m, f);
	write_transitions(m, f);
	write_closed(m, f);
	write_durations(m, f);
	write_units(m, f);
	write_netns(m, f);
	write_health(m, version, f);
	return ferror(f) ? -EIO : 0;
}
