/*
 * verb_show.c - show: each connection as a timeline, one line per state with
 * the time spent in it; the two ends of a local connection side by side,
 * client on the left, in time order, like a textbook's diagram.
 */
#include <string.h>

#include "ctl_verbs.h"

/* The width of one end's column in the side-by-side view. */
#define COLUMN 30

static void header(struct verb_ctx *v, const struct conn *c)
{
	struct ctl_out *o = v->out;
	char l[OUT_ENDPOINT_MAX], r[OUT_ENDPOINT_MAX], owner[OUT_OWNER_MAX], ns[OUT_NETNS_MAX];

	out_endpoint(l, c->tuple.family, c->tuple.laddr, c->tuple.lport);
	out_endpoint(r, c->tuple.family, c->tuple.raddr, c->tuple.rport);
	out_owner(owner, c);
	out_netns(ns, c);
	fprintf(o->f, "%s%s%s%s \u2192 %s  cookie %llu%s  %s  %s%s\n", out_color(o, OUT_BOLD),
	        c->host[0] ? c->host : "", c->host[0] ? ": " : "", l, r,
	        (unsigned long long)c->cookie, ns, conn_role_name(c->role), owner,
	        out_color(o, OUT_RESET));
}

/* "local-close  handshake 1.2ms  lifetime 60.1s  sent 5  received 5  retrans 0  rtt 18us" */
static void footer(struct verb_ctx *v, const struct conn *c, const char *indent)
{
	struct ctl_out *o = v->out;
	char hs[OUT_DURATION_MAX], life[OUT_DURATION_MAX], rtt[OUT_DURATION_MAX];

	out_duration(hs, conn_handshake_us(c));
	out_duration(life, conn_lifetime_us(c, v->now_us));
	fprintf(o->f, "%s%s%s%s  handshake %s  lifetime %s", indent,
	        out_color(o, out_outcome_color(c->outcome)), conn_outcome_name(c->outcome),
	        out_color(o, OUT_RESET), hs, life);
	if (c->flags & CONN_HAS_BYTES)
		fprintf(o->f, "  sent %llu  received %llu", (unsigned long long)c->bytes_sent,
		        (unsigned long long)c->bytes_received);
	if (c->flags & CONN_HAS_RETRANS)
		fprintf(o->f, "  retrans %u", c->retrans);
	if (c->flags & CONN_HAS_RTT) {
		out_duration(rtt, c->rtt_us);
		fprintf(o->f, "  rtt %s", rtt);
	}
	fputc('\n', o->f);
}

/* "ESTABLISHED  300.2ms" in colour, padded to WIDTH columns (0: not padded). */
static void state_cell(struct verb_ctx *v, const struct conn *c, unsigned i, int width)
{
	struct ctl_out *o = v->out;
	char d[OUT_DURATION_MAX] = "";
	unsigned st = c->steps[i].state;
	int64_t us = conn_step_us(c, i, v->now_us);
	int n;

	if (st != SOCK_NONE)
		out_duration(d, us);
	if (st != SOCK_NONE && i + 1 == c->nsteps)
		strcat(d, "+"); /* still in it at the end of the input */
	if (i == 0 && (c->flags & CONN_PARTIAL))
		strcat(d, "+"); /* in it before the input began */
	n = fprintf(o->f, "%s%-11s%s %9s", out_color(o, out_state_color(st)), sock_state_name(st),
	            out_color(o, OUT_RESET), d) -
	    (int)(strlen(out_color(o, out_state_color(st))) + strlen(out_color(o, OUT_RESET)));
	if (width > n)
		fprintf(o->f, "%*s", width - n, "");
}

static void show_one(struct verb_ctx *v, const struct conn *c)
{
	struct ctl_out *o = v->out;
	char ts[OUT_TIME_MAX];

	header(v, c);
	for (unsigned i = 0; i < c->nsteps; i++) {
		out_time(o, ts, c->steps[i].ts_us, 1);
		fprintf(o->f, "  %s  ", ts);
		state_cell(v, c, i, 0);
		fputc('\n', o->f);
	}
	footer(v, c, "  ");
}

/* Both ends: their steps merged by time, the client's first at a tie. */
static void show_pair(struct verb_ctx *v, const struct conn *cl, const struct conn *sv)
{
	struct ctl_out *o = v->out;
	char ts[OUT_TIME_MAX], l[OUT_ENDPOINT_MAX], r[OUT_ENDPOINT_MAX];
	unsigned i = 0, j = 0;

	/* Left and right, named by role when the records tell it. */
	fputs(cl->role == CONN_ROLE_CLIENT ? "client " : "end ", o->f);
	header(v, cl);
	fputs(sv->role == CONN_ROLE_SERVER ? "server " : "end ", o->f);
	header(v, sv);
	out_endpoint(l, cl->tuple.family, cl->tuple.laddr, cl->tuple.lport);
	out_endpoint(r, sv->tuple.family, sv->tuple.laddr, sv->tuple.lport);
	fprintf(o->f, "  %s%-26s  %-*s \u2502 %s%s\n", out_color(o, OUT_DIM), "", COLUMN, l, r,
	        out_color(o, OUT_RESET));
	while (i < cl->nsteps || j < sv->nsteps) {
		int left =
		    j >= sv->nsteps || (i < cl->nsteps && cl->steps[i].ts_us <= sv->steps[j].ts_us);
		const struct conn *c = left ? cl : sv;
		unsigned k = left ? i++ : j++;

		out_time(o, ts, c->steps[k].ts_us, 1);
		fprintf(o->f, "  %s  ", ts);
		if (left) {
			state_cell(v, c, k, COLUMN);
			fputs(" \u2502\n", o->f);
		} else {
			fprintf(o->f, "%-*s \u2502 ", COLUMN, "");
			state_cell(v, c, k, 0);
			fputc('\n', o->f);
		}
	}
	footer(v, cl, "  client: ");
	footer(v, sv, "  server: ");
}

void show_conn_text(struct verb_ctx *v, const struct conn *c)
{
	const struct conn *p = c->peer;

	if (!p) {
		show_one(v, c);
	} else if (c->role == CONN_ROLE_SERVER || p->role == CONN_ROLE_CLIENT) {
		show_pair(v, p, c);
	} else {
		show_pair(v, c, p);
	}
	fputc('\n', v->out->f);
}

static void show_done(const struct conn *c, void *user)
{
	struct verb_ctx *v = user;

	if (!verb_selected(v, c))
		return;
	if (v->out->format == OUT_JSON) {
		out_json_line(v->out, out_conn_json(c, v->now_us));
		if (c->peer)
			out_json_line(v->out, out_conn_json(c->peer, v->now_us));
		return;
	}
	show_conn_text(v, c);
}

const struct verb verb_show = {
    .name = "show",
    .done = show_done,
};
