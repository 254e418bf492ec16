/*
 * verb_stats.c - stats: counts and distributions over the selected
 * connections: handshake time and lifetime per group (--by), time in each
 * state, outcomes, and the sockets that sat longest in CLOSE_WAIT (an
 * application that does not close what its peer closed) with their owners.
 *
 * Distributions are fixed histograms (hist.c: within 12.5 %), so memory
 * follows the number of groups, not of connections; groups are capped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "ctl_verbs.h"
#include "hist.h"
#include "util.h"

/* More groups than this go to one "(other)" group. */
#define GROUPS_MAX 4096
/* How many CLOSE_WAIT sockets are named. */
#define CLOSE_WAIT_TOP 10

struct group {
	char key[CTL_NAME_MAX]; /* a unit's or a namespace's name is the longest */
	uint64_t count;
	uint64_t outcomes[CONN_OUTCOME_MAX];
	struct hist handshake, lifetime;
};

struct close_waiter {
	int64_t us;
	struct conn c; /* a copy without its names, which are below */
	char owner[OUT_OWNER_MAX];
	char netns[CTL_NAME_MAX]; /* "": none said */
};

struct stats {
	struct group *groups;
	size_t ngroups, cap;
	uint64_t total, open;
	uint64_t outcomes[CONN_OUTCOME_MAX];
	struct hist states[SOCK_STATE_MAX];
	struct close_waiter top[CLOSE_WAIT_TOP];
	size_t ntop;
};

static int stats_begin(struct verb_ctx *v)
{
	struct stats *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	v->state = s;
	return 0;
}

/* The group key of C under --by. */
static void group_key(const struct verb_ctx *v, const struct conn *c, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (strcmp(v->by, "unit") == 0) {
		snprintf(buf, size, "%s", c->unit ? c->unit : "-");
	} else if (strcmp(v->by, "netns") == 0) {
		/* The name, which the records say with the inode; "-" for
		 * records of a daemon that said none. */
		if (c->netns_ino)
			snprintf(buf, size, "%s", c->netns ? c->netns : "-");
		else
			snprintf(buf, size, "-");
	} else if (strcmp(v->by, "rhost") == 0) {
		inet_ntop(c->tuple.family, c->tuple.raddr, a, sizeof(a));
		snprintf(buf, size, "%s", a);
	} else if (strcmp(v->by, "rport") == 0) {
		snprintf(buf, size, "%u", c->tuple.rport);
	} else {
		/* "port": the service's port, remote for a client, local for a
		 * server (whose remote port is the client's ephemeral one). */
		snprintf(buf, size, "%u",
		         c->role == CONN_ROLE_SERVER ? c->tuple.lport : c->tuple.rport);
	}
}

static struct group *group_of(struct stats *s, const char *key)
{
	struct group *g;

	for (size_t i = 0; i < s->ngroups; i++)
		if (strcmp(s->groups[i].key, key) == 0)
			return &s->groups[i];
	if (s->ngroups >= GROUPS_MAX)
		key = "(other)";
	for (size_t i = 0; i < s->ngroups; i++)
		if (strcmp(s->groups[i].key, key) == 0)
			return &s->groups[i];
	if (util_grow((void **)&s->groups, &s->cap, s->ngroups + 1, sizeof(*s->groups), 16) < 0)
		return NULL;
	g = &s->groups[s->ngroups++];
	memset(g, 0, sizeof(*g));
	snprintf(g->key, sizeof(g->key), "%s", key);
	return g;
}

/* Keeps C among the CLOSE_WAIT_TOP longest in CLOSE_WAIT. */
static void note_close_wait(struct stats *s, const struct conn *c, int64_t us)
{
	size_t i = s->ntop < CLOSE_WAIT_TOP ? s->ntop++ : CLOSE_WAIT_TOP - 1;

	if (i == CLOSE_WAIT_TOP - 1 && s->ntop == CLOSE_WAIT_TOP && s->top[i].us >= us)
		return;
	while (i > 0 && s->top[i - 1].us < us) {
		s->top[i] = s->top[i - 1];
		i--;
	}
	s->top[i].us = us;
	s->top[i].c = *c;
	s->top[i].c.unit = s->top[i].c.comm = s->top[i].c.netns = NULL;
	s->top[i].c.peer = NULL;
	snprintf(s->top[i].netns, sizeof(s->top[i].netns), "%s", c->netns ? c->netns : "");
	out_owner(s->top[i].owner, c);
}

static void count_one(struct verb_ctx *v, const struct conn *c)
{
	struct stats *s = v->state;
	char key[sizeof(s->groups[0].key)];
	int64_t hs = conn_handshake_us(c);
	struct group *g;

	if (!select_conn(v->sel, c, v->now_us))
		return;
	s->total++;
	s->outcomes[c->outcome]++;
	group_key(v, c, key, sizeof(key));
	g = group_of(s, key);
	if (g) {
		g->count++;
		g->outcomes[c->outcome]++;
		if (hs >= 0)
			hist_add(&g->handshake, (uint64_t)hs);
		hist_add(&g->lifetime, (uint64_t)conn_lifetime_us(c, v->now_us));
	}
	for (unsigned i = 0; i < c->nsteps; i++) {
		int64_t us = conn_step_us(c, i, v->now_us);

		if (c->steps[i].state == SOCK_NONE || us < 0 ||
		    (i == 0 && (c->flags & CONN_PARTIAL)))
			continue;
		hist_add(&s->states[c->steps[i].state], (uint64_t)us);
		if (c->steps[i].state == SOCK_CLOSE_WAIT)
			note_close_wait(s, c, us);
	}
}

static void stats_done(const struct conn *c, void *user)
{
	count_one(user, c);
	if (c->peer)
		count_one(user, c->peer);
}

static struct json_object *hist_json(const struct hist *h)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "count", json_object_new_uint64(h->count));
	json_object_object_add(o, "p50_us", json_object_new_uint64(hist_quantile(h, 0.5)));
	json_object_object_add(o, "p90_us", json_object_new_uint64(hist_quantile(h, 0.9)));
	json_object_object_add(o, "p99_us", json_object_new_uint64(hist_quantile(h, 0.99)));
	json_object_object_add(o, "max_us", json_object_new_uint64(h->max));
	return o;
}

static struct json_object *outcomes_json(const uint64_t *counts)
{
	struct json_object *o = json_object_new_object();

	for (unsigned i = 0; i < CONN_OUTCOME_MAX; i++)
		if (counts[i])
			json_object_object_add(o, conn_outcome_name(i),
			                       json_object_new_uint64(counts[i]));
	return o;
}

static void stats_json(struct verb_ctx *v, struct stats *s)
{
	struct json_object *o = json_object_new_object(), *groups = json_object_new_array();
	struct json_object *states = json_object_new_object(), *cw = json_object_new_array();

	json_object_object_add(o, "connections", json_object_new_uint64(s->total));
	json_object_object_add(o, "by", json_object_new_string(v->by));
	json_object_object_add(o, "outcomes", outcomes_json(s->outcomes));
	for (size_t i = 0; i < s->ngroups; i++) {
		struct json_object *g = json_object_new_object();

		json_object_object_add(g, "key", json_object_new_string(s->groups[i].key));
		json_object_object_add(g, "connections",
		                       json_object_new_uint64(s->groups[i].count));
		json_object_object_add(g, "outcomes", outcomes_json(s->groups[i].outcomes));
		json_object_object_add(g, "handshake", hist_json(&s->groups[i].handshake));
		json_object_object_add(g, "lifetime", hist_json(&s->groups[i].lifetime));
		json_object_array_add(groups, g);
	}
	json_object_object_add(o, "groups", groups);
	for (unsigned st = 1; st < SOCK_STATE_MAX; st++)
		if (s->states[st].count)
			json_object_object_add(states, sock_state_name(st),
			                       hist_json(&s->states[st]));
	json_object_object_add(o, "time_in_state", states);
	for (size_t i = 0; i < s->ntop; i++) {
		struct json_object *c;

		/* The copy points at its own name only now: entries move in top. */
		s->top[i].c.netns = s->top[i].netns[0] ? s->top[i].netns : NULL;
		c = out_conn_json(&s->top[i].c, v->now_us);

		json_object_object_add(c, "close_wait_us", json_object_new_int64(s->top[i].us));
		json_object_object_add(c, "owner", json_object_new_string(s->top[i].owner));
		json_object_array_add(cw, c);
	}
	json_object_object_add(o, "longest_close_wait", cw);
	out_json_line(v->out, o);
}

/* "  COUNT  p50  p90  p99  max" of H, as durations. */
static void hist_text(FILE *f, const struct hist *h)
{
	char d[4][OUT_DURATION_MAX];

	if (!h->count) {
		fprintf(f, " %8s %8s %8s %8s", "-", "-", "-", "-");
		return;
	}
	out_duration(d[0], (int64_t)hist_quantile(h, 0.5));
	out_duration(d[1], (int64_t)hist_quantile(h, 0.9));
	out_duration(d[2], (int64_t)hist_quantile(h, 0.99));
	out_duration(d[3], (int64_t)h->max);
	fprintf(f, " %8s %8s %8s %8s", d[0], d[1], d[2], d[3]);
}

static void stats_text(struct verb_ctx *v, struct stats *s)
{
	struct ctl_out *o = v->out;
	const char *bold = out_color(o, OUT_BOLD), *reset = out_color(o, OUT_RESET);

	fprintf(o->f, "%sconnections%s %llu\n%soutcomes%s", bold, reset,
	        (unsigned long long)s->total, bold, reset);
	for (unsigned i = 0; i < CONN_OUTCOME_MAX; i++)
		if (s->outcomes[i])
			fprintf(o->f, "  %s %llu", conn_outcome_name(i),
			        (unsigned long long)s->outcomes[i]);
	fprintf(o->f, "\n\n%s%-22s %7s %-35s %-35s%s\n", bold, v->by, "COUNT",
	        "HANDSHAKE p50      p90      p99      max",
	        "LIFETIME p50       p90      p99      max", reset);
	for (size_t i = 0; i < s->ngroups; i++) {
		fprintf(o->f, "%-22s %7llu", s->groups[i].key,
		        (unsigned long long)s->groups[i].count);
		hist_text(o->f, &s->groups[i].handshake);
		hist_text(o->f, &s->groups[i].lifetime);
		fputc('\n', o->f);
	}
	fprintf(o->f, "\n%s%-22s %7s      p50      p90      p99      max%s\n", bold,
	        "TIME IN STATE", "COUNT", reset);
	for (unsigned st = 1; st < SOCK_STATE_MAX; st++) {
		if (!s->states[st].count)
			continue;
		fprintf(o->f, "%-22s %7llu", sock_state_name(st),
		        (unsigned long long)s->states[st].count);
		hist_text(o->f, &s->states[st]);
		fputc('\n', o->f);
	}
	if (!s->ntop)
		return;
	fprintf(o->f, "\n%slongest in CLOSE_WAIT%s\n", bold, reset);
	for (size_t i = 0; i < s->ntop; i++) {
		const struct conn *c = &s->top[i].c;
		char d[OUT_DURATION_MAX], l[OUT_ENDPOINT_MAX], r[OUT_ENDPOINT_MAX],
		    ns[OUT_NETNS_MAX];

		s->top[i].c.netns = s->top[i].netns[0] ? s->top[i].netns : NULL;
		out_duration(d, s->top[i].us);
		out_endpoint(l, c->tuple.family, c->tuple.laddr, c->tuple.lport);
		out_endpoint(r, c->tuple.family, c->tuple.raddr, c->tuple.rport);
		out_netns(ns, c);
		fprintf(o->f, "  %9s%s %s \u2192 %s  cookie %llu%s  %s", d,
		        c->outcome == CONN_OPEN ? "+" : " ", l, r, (unsigned long long)c->cookie,
		        ns, s->top[i].owner);
		if (c->flags & CONN_HAS_INODE)
			fprintf(o->f, " ino=%u", c->inode);
		fputc('\n', o->f);
	}
}

static void stats_end(struct verb_ctx *v)
{
	struct stats *s = v->state;

	if (v->out->format == OUT_JSON)
		stats_json(v, s);
	else
		stats_text(v, s);
	free(s->groups);
	free(s);
	v->state = NULL;
}

const struct verb verb_stats = {
    .name = "stats",
    .begin = stats_begin,
    .done = stats_done,
    .end = stats_end,
};
