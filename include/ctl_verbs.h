/* ctl_verbs.h - the verbs of tcpstatectl, each over the reader and the assembly. */
#ifndef TCPSTATED_CTL_VERBS_H
#define TCPSTATED_CTL_VERBS_H

#include "ctl_conn.h"
#include "ctl_out.h"
#include "ctl_select.h"

/* What a verb gets: where to write, what to select; NOW_US is updated by
 * the caller to the last record's time (the end of the input at flush). */
struct verb_ctx {
	struct ctl_out *out;
	const struct ctl_select *sel;
	int64_t now_us;
	const char *by; /* stats: "port", "rport", "rhost", "unit", "netns" */
	int live;       /* follow: past what the log held when it began */
	void *state;    /* the verb's own */
};

/* A verb: BEGIN before the input (may be NULL), STEP per transition (may be
 * NULL), DONE per finished connection, END after the flush. BEGIN returns
 * 0 or -errno. */
struct verb {
	const char *name;
	int (*begin)(struct verb_ctx *v);
	conn_step_cb step;
	conn_done_cb done;
	void (*end)(struct verb_ctx *v);
};

extern const struct verb verb_list;
extern const struct verb verb_show;
extern const struct verb verb_follow;
extern const struct verb verb_stats;

/* show's text view of C (and its peer side by side), also used by follow. */
void show_conn_text(struct verb_ctx *v, const struct conn *c);

/* Nonzero when C or its peer is selected: a pair is shown whole. */
int verb_selected(const struct verb_ctx *v, const struct conn *c);

#endif
