/*
 * metrics.c - the counters and histograms behind the Prometheus textfile.
 *
 * Everything is counted as records are written, a few additions each, so
 * that the poll's cost does not grow with the metrics; only the socket
 * gauges need the table, and they are counted when the file is written,
 * every [metrics] interval, not every poll. Histograms have fixed buckets
 * chosen for TCP: a handshake takes from tens of µs on a LAN to seconds
 * with SYN retransmits; a state or a connection lasts from a millisecond
 * to days (TIME_WAIT is 60 s on Linux, an idle ESTABLISHED lasts hours).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "metrics.h"
#include "snapshot.h"
#include "util.h"

#define MS 1000ULL
#define S  (1000ULL * MS)

static const uint64_t handshake_bounds[] = {
    100,     250,      500,      1 * MS,   2500,  5 * MS,    10 * MS, 25 * MS,
    50 * MS, 100 * MS, 250 * MS, 500 * MS, 1 * S, 2500 * MS, 5 * S,   10 * S,
};

static const uint64_t duration_bounds[] = {
    1 * MS,  10 * MS,  100 * MS, 1 * S,     10 * S,    60 * S,
    300 * S, 1800 * S, 3600 * S, 14400 * S, 86400 * S,
};

static const uint64_t poll_bounds[] = {
    100, 250, 500, 1 * MS, 2500, 5 * MS, 10 * MS, 25 * MS, 50 * MS, 100 * MS, 250 * MS, 1 * S,
};

_Static_assert(UTIL_LEN(handshake_bounds) <= METRICS_BUCKETS_MAX, "handshake buckets fit");
_Static_assert(UTIL_LEN(duration_bounds) <= METRICS_BUCKETS_MAX, "duration buckets fit");
_Static_assert(UTIL_LEN(poll_bounds) <= METRICS_BUCKETS_MAX, "poll buckets fit");

void metrics_hist_add(struct metrics_hist *h, uint64_t usec)
{
	size_t b = 0;

	/* At most 16 bounds: a scan is as fast as a search. */
	while (b < h->n && usec > h->bounds[b])
		b++;
	h->counts[b]++;
	h->sum_us += usec;
	h->count++;
}

static void hist_init(struct metrics_hist *h, const uint64_t *bounds, size_t n)
{
	*h = (struct metrics_hist){.bounds = bounds, .n = n};
}

int metrics_new(struct metrics **ret, size_t units_cap)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	if (units_cap) {
		m->units = calloc(units_cap + 1, sizeof(*m->units));
		if (!m->units) {
			free(m);
			return -ENOMEM;
		}
		m->units_cap = units_cap;
		strcpy(m->units[units_cap].name, "other");
	}
	hist_init(&m->handshake, handshake_bounds, UTIL_LEN(handshake_bounds));
	for (size_t s = 0; s < SOCK_STATE_MAX; s++)
		hist_init(&m->state[s], duration_bounds, UTIL_LEN(duration_bounds));
	hist_init(&m->connection, duration_bounds, UTIL_LEN(duration_bounds));
	hist_init(&m->poll, poll_bounds, UTIL_LEN(poll_bounds));
	*ret = m;
	return 0;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	free(m->units);
	free(m->netns);
	free(m);
}

struct metrics_netns *metrics_set_netns(struct metrics *m, size_t n)
{
	if (util_grow((void **)&m->netns, &m->netns_cap, n, sizeof(*m->netns), 16) < 0)
		return NULL;
	m->netns_on = 1;
	m->netns_len = n;
	return m->netns;
}

void metrics_note_transition(struct metrics *m, const struct transition *t, uint64_t in_state_us)
{
	/* The first poll's sockets were there before tcpstated: no transitions. */
	if (t->how == TRANSITION_HOW_INITIAL || t->from >= SOCK_STATE_MAX ||
	    t->to >= SOCK_STATE_MAX)
		return;
	m->transitions[t->from][t->to]++;
	if (in_state_us == METRICS_DURATION_UNKNOWN || t->from == SOCK_NONE)
		return;
	metrics_hist_add(&m->state[t->from], in_state_us);
	if (t->from == SOCK_SYN_SENT && t->to == SOCK_ESTABLISHED)
		metrics_hist_add(&m->handshake, in_state_us);
}

void metrics_note_summary(struct metrics *m, const struct summary *s)
{
	metrics_hist_add(&m->connection, s->lifetime_us);
}

void metrics_note_close(struct metrics *m, unsigned outcome, const char *unit)
{
	struct metrics_unit *u = metrics_unit(m, unit);

	if (outcome >= TRANSITION_OUTCOME_MAX)
		outcome = TRANSITION_OUTCOME_UNKNOWN;
	m->closed[outcome]++;
	if (u)
		u->closed[outcome]++;
}

void metrics_note_poll(struct metrics *m, uint64_t usec)
{
	metrics_hist_add(&m->poll, usec);
}

/*
 * A linear search: the cap is small (a label per unit is a series per
 * unit and state in Prometheus, which is what the cap protects), and this
 * runs once a close or once a socket per file written.
 */
struct metrics_unit *metrics_unit(struct metrics *m, const char *unit)
{
	size_t i;

	if (!m->units_cap || !unit)
		return NULL;
	for (i = 0; i < m->units_len; i++)
		if (strcmp(m->units[i].name, unit) == 0)
			return &m->units[i];
	if (m->units_len == m->units_cap || strlen(unit) >= METRICS_UNIT_MAX ||
	    strcmp(unit, "other") == 0)
		return &m->units[m->units_cap];
	strcpy(m->units[m->units_len].name, unit);
	return &m->units[m->units_len++];
}

void metrics_clear_sockets(struct metrics *m)
{
	memset(m->sockets, 0, sizeof(m->sockets));
	for (size_t i = 0; i <= m->units_cap && m->units; i++)
		memset(m->units[i].sockets, 0, sizeof(m->units[i].sockets));
}

void metrics_count_sockets(struct metrics *m, struct snapshot *table, metrics_unit_fn unit_of,
                           void *user)
{
	char buf[METRICS_UNIT_MAX];
	for (size_t i = 0; i < table->len; i++) {
		const struct sock *sk = &table->entries[i].sk;
		struct metrics_unit *u;

		if (table->entries[i].missing || sk->state >= SOCK_STATE_MAX)
			continue;
		m->sockets[sk->tuple.family == AF_INET6][sk->state]++;
		if (!unit_of || !m->units_cap)
			continue;
		u = metrics_unit(m, unit_of(sk, buf, sizeof(buf), user));
		if (u)
			u->sockets[sk->state]++;
	}
}
