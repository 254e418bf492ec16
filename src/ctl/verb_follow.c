/*
 * verb_follow.c - follow: connections live, as the daemon logs them.
 *
 * Each transition of a selected connection is one line as it is read, with
 * the time spent in the state it left (with -o json, the connection so far,
 * "done": false); when the connection is finished, its whole timeline follows (both ends side by
 * side when both are local), as show prints it. What was in the log before following began is read
 * quietly, only to know the connections already open.
 */
#include <string.h>

#include "ctl_verbs.h"

/* The filters that a connection still open can be held to already. */
static int may_match(const struct verb_ctx *v, const struct conn *c)
{
	const struct ctl_select *s = v->sel;

	if (s->unit && c->unit && strcmp(s->unit, c->unit) != 0)
		return 0;
	if (s->comm && c->comm && strcmp(s->comm, c->comm) != 0)
		return 0;
	return !conn_passed(c, SOCK_LISTEN) || s->state == SOCK_LISTEN;
}

/* C as far as it went, "done": false, or finished, "done": true. */
static void follow_json(struct verb_ctx *v, const struct conn *c, int done)
{
	struct json_object *o = out_conn_json(c, v->now_us);

	if (o)
		json_object_object_add(o, "done", json_object_new_boolean(done));
	out_json_line(v->out, o);
	fflush(v->out->f);
}

static void follow_step(const struct conn *c, void *user)
{
	struct verb_ctx *v = user;
	struct ctl_out *o = v->out;
	const struct conn_step *to = &c->steps[c->nsteps - 1];
	char ts[OUT_TIME_MAX], l[OUT_ENDPOINT_MAX], r[OUT_ENDPOINT_MAX], d[OUT_DURATION_MAX];
	char ns[OUT_NETNS_MAX];
	unsigned from = c->nsteps >= 2 ? c->steps[c->nsteps - 2].state : SOCK_NONE;

	if (!v->live || !may_match(v, c))
		return;
	if (o->format == OUT_JSON) {
		follow_json(v, c, 0);
		return;
	}
	out_time(o, ts, to->ts_us, 1);
	out_endpoint(l, c->tuple.family, c->tuple.laddr, c->tuple.lport);
	out_endpoint(r, c->tuple.family, c->tuple.raddr, c->tuple.rport);
	out_netns(ns, c);
	fprintf(o->f, "%s %s%s%s%s \u2192 %s cookie %llu%s  %s%s%s \u2192 %s%s%s", ts,
	        c->host[0] ? c->host : "", c->host[0] ? ": " : "", out_color(o, OUT_BOLD), l, r,
	        (unsigned long long)c->cookie, ns, out_color(o, out_state_color(from)),
	        sock_state_name(from), out_color(o, OUT_RESET),
	        out_color(o, out_state_color(to->state)), sock_state_name(to->state),
	        out_color(o, OUT_RESET));
	if (c->nsteps >= 2 && from != SOCK_NONE && !(c->nsteps == 2 && (c->flags & CONN_PARTIAL))) {
		out_duration(d, conn_step_us(c, c->nsteps - 2, INT64_MIN));
		fprintf(o->f, "  (%s in %s)", d, sock_state_name(from));
	}
	fputc('\n', o->f);
	fflush(o->f);
}

static void follow_done(const struct conn *c, void *user)
{
	struct verb_ctx *v = user;

	if (!v->live || !verb_selected(v, c))
		return;
	if (v->out->format == OUT_JSON) {
		follow_json(v, c, 1);
		if (c->peer)
			follow_json(v, c->peer, 1);
	} else {
		show_conn_text(v, c);
	}
	fflush(v->out->f);
}

const struct verb verb_follow = {
    .name = "follow",
    .step = follow_step,
    .done = follow_done,
};
