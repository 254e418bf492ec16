/*
 * verb_list.c - list: one line per connection, as it finishes.
 *
 * Connections are listed when they end, like tcplife, so that memory
 * follows the connections open at once; those still open at the end of the
 * input come last, oldest first. The path of states is the last column, as
 * it is the one of no fixed width.
 *
 * The header waits for the first connection: a log of the daemon watching
 * network namespaces says one on every record, and its NETNS column is shown
 * when --netns was given or the first connection listed has one (which is
 * only known once it is read).
 */
#include <stdio.h>

#include "ctl_verbs.h"

#define PATH_MAX_TEXT 512

int verb_selected(const struct verb_ctx *v, const struct conn *c)
{
	return select_conn(v->sel, c, v->now_us) ||
	       (c->peer && select_conn(v->sel, c->peer, v->now_us));
}

/* Width of the NETNS column: "docker-" and a container's short id. */
#define NETNS_COLUMN 20

/* The header, once, before the first line; C: that line's connection (NULL: none). */
static void list_header(struct verb_ctx *v, const struct conn *c)
{
	struct ctl_out *o = v->out;

	if (v->state)
		return;
	v->state = v; /* list keeps no state of its own: non-NULL says "printed" */
	if (c && c->netns_ino)
		o->netns = 1;
	fprintf(o->f, "%s%s%*s%-23s %-21s   %-21s %-20s %9s %9s %8s %8s %-18s %s%s\n",
	        out_color(o, OUT_BOLD), o->hosts ? "HOST             " : "",
	        o->netns ? -(NETNS_COLUMN + 1) : 0, o->netns ? "NETNS" : "", "START", "LOCAL",
	        "REMOTE", "OWNER", "HANDSHAKE", "LIFETIME", "SENT", "RECEIVED", "OUTCOME", "PATH",
	        out_color(o, OUT_RESET));
}

static void list_end(struct verb_ctx *v)
{
	if (v->out->format == OUT_TEXT)
		list_header(v, NULL);
}

/* A byte count, or "-" when the connection had no summary. */
static void bytes(char buf[24], const struct conn *c, uint64_t n)
{
	if (c->flags & CONN_HAS_BYTES)
		snprintf(buf, 24, "%llu", (unsigned long long)n);
	else
		snprintf(buf, 24, "-");
}

static void list_one(struct verb_ctx *v, const struct conn *c)
{
	struct ctl_out *o = v->out;
	char start[OUT_TIME_MAX], l[OUT_ENDPOINT_MAX], r[OUT_ENDPOINT_MAX], owner[OUT_OWNER_MAX];
	char hs[OUT_DURATION_MAX], life[OUT_DURATION_MAX], sent[24], recv[24], path[PATH_MAX_TEXT];

	if (!select_conn(v->sel, c, v->now_us))
		return;
	if (o->format == OUT_JSON) {
		out_json_line(o, out_conn_json(c, v->now_us));
		return;
	}
	list_header(v, c);
	out_time(o, start, conn_start_us(c), 0);
	out_endpoint(l, c->tuple.family, c->tuple.laddr, c->tuple.lport);
	out_endpoint(r, c->tuple.family, c->tuple.raddr, c->tuple.rport);
	out_owner(owner, c);
	out_duration(hs, conn_handshake_us(c));
	out_duration(life, conn_lifetime_us(c, v->now_us));
	bytes(sent, c, c->bytes_sent);
	bytes(recv, c, c->bytes_received);
	out_path(path, sizeof(path), c);
	if (o->hosts)
		fprintf(o->f, "%-16.16s ", c->host[0] ? c->host : "-");
	if (o->netns)
		fprintf(o->f, "%-*.*s ", NETNS_COLUMN, NETNS_COLUMN, c->netns ? c->netns : "-");
	fprintf(o->f, "%-23s %-21s \u2192 %-21s %-20s %9s %9s %8s %8s %s%-18s%s %s\n", start, l, r,
	        owner, hs, life, sent, recv, out_color(o, out_outcome_color(c->outcome)),
	        conn_outcome_name(c->outcome), out_color(o, OUT_RESET), path);
}

static void list_done(const struct conn *c, void *user)
{
	struct verb_ctx *v = user;
	const struct conn *p = c->peer;

	/* The two ends of a local connection, in the order they began. */
	if (p && conn_start_us(p) < conn_start_us(c)) {
		const struct conn *t = c;

		c = p;
		p = t;
	}
	list_one(v, c);
	if (p)
		list_one(v, p);
}

const struct verb verb_list = {
    .name = "list",
    .done = list_done,
    .end = list_end,
};
