/*
 * tracker.c - one poll's middle: a dump matched with the last, joined with
 * destroy notifications, transitions out.
 *
 * Two socket tables are swapped every poll: the current one (what is known)
 * and the next one (being filled by the dump). Both keep their memory, so a
 * steady state allocates nothing. The order of the steps is what makes the
 * records right, so it lives here alone: each socket of the dump is matched
 * against the current table as it arrives (diff.c); once the dump is
 * complete, the notifications queued since the last poll are joined with
 * the matched tables (reconcile.c), which marks what they settled; only
 * then does the diff report, leaving those out. A dump that fails is never
 * compared: a lost dump must not read as closed sockets.
 */
#include <errno.h>
#include <stdlib.h>

#include "diag.h"
#include "diff.h"
#include "reconcile.h"
#include "snapshot.h"
#include "tracker.h"

struct tracker {
	struct snapshot tables[2];
	struct snapshot *cur, *next;
	struct diff diff;
	struct reconcile rec;
	int have_first;         /* a dump has been compared: later appearances are "poll" */
	uint32_t hold_full_ms;  /* 0: no notifications */
	int resync_polls;       /* polls left that count absence without the hold */
	tracker_probe_fn probe; /* NULL: none */
	void *probe_user;
	tracker_cb cb; /* this poll's */
	void *user;
	struct tracker_stats stats;
};

int tracker_new(struct tracker **ret, size_t events_max)
{
	struct tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	snapshot_init(&t->tables[0]);
	snapshot_init(&t->tables[1]);
	t->cur = &t->tables[0];
	t->next = &t->tables[1];
	diff_init(&t->diff);
	reconcile_init(&t->rec, events_max);
	*ret = t;
	return 0;
}

void tracker_free(struct tracker *t)
{
	if (!t)
		return;
	snapshot_release(&t->tables[0]);
	snapshot_release(&t->tables[1]);
	diff_release(&t->diff);
	reconcile_release(&t->rec);
	free(t);
}

void tracker_set_hold(struct tracker *t, uint32_t hold_full_ms)
{
	t->hold_full_ms = hold_full_ms;
}

int tracker_add_event(struct tracker *t, const struct sock *sk, const struct sock_info *info,
                      const struct timespec *ts)
{
	return reconcile_add(&t->rec, sk, info, ts);
}

void tracker_set_probe(struct tracker *t, tracker_probe_fn probe, void *user)
{
	t->probe = probe;
	t->probe_user = user;
}

void tracker_resync(struct tracker *t)
{
	t->resync_polls = 2;
}

/* The dump parses each socket straight into the next table, where it is
 * matched while its entry is still in the cache. */
static struct sock *sink_slot(void *user)
{
	struct tracker *t = user;

	return diff_slot(&t->diff, t->next);
}

static int sink_keep(void *user)
{
	struct tracker *t = user;

	diff_keep(&t->diff, t->cur, t->next);
	return 0;
}

/*
 * The diff's records on their way out. A full socket declared gone by its
 * absence is noted, whether or not its record is written later, so that a
 * notification that still comes is known as no second close. A minisocket
 * sends no notification.
 */
static int report(const struct transition *tr, void *user)
{
	struct tracker *t = user;

	if (tr->to == SOCK_NONE && tr->how == TRANSITION_HOW_POLL &&
	    tr->sk->kind != SOCK_KIND_TIMEWAIT)
		(void)reconcile_note_gone(&t->rec, tr->sk->cookie);
	return t->cb(tr, NULL, t->user);
}

/*
 * With notifications flowing, a full socket's end is told by its
 * notification; absence from dumps (which race with churn) only counts
 * after a while. Right after notifications were lost, absence counts as it
 * does without them, so that the resync settles their sockets.
 */
static void set_hold(struct tracker *t)
{
	t->diff.hold_full_ms = t->resync_polls ? 0 : t->hold_full_ms;
	if (t->resync_polls)
		t->resync_polls--;
}

/*
 * A socket the dump missed and the kernel no longer has was closed, or was
 * freed while the dump ran: then its notification is on its way, and the
 * probe reads what has come (see tracker_set_probe()). One queued settles it
 * at the next poll, at its own time, and needs no question: under churn,
 * most sockets a long dump misses were freed while it ran.
 */
static int present(void *user, const struct sock *sk)
{
	struct tracker *t = user;
	int ret;

	if (reconcile_queued(&t->rec, sk->cookie))
		return 1;
	ret = t->probe(t->probe_user, sk);
	return ret == 0 && reconcile_queued(&t->rec, sk->cookie) ? 1 : ret;
}

int tracker_poll(struct tracker *t, tracker_dump_fn dump, void *dump_user, tracker_cb cb,
                 void *user)
{
	const struct diag_sink sink = {.slot = sink_slot, .keep = sink_keep, .user = t};
	struct snapshot *swap;
	int err;

	snapshot_clear(t->next);
	diff_begin(&t->diff, t->cur);
	err = dump(dump_user, &sink, &t->next->taken);
	set_hold(t);
	/* Matched first, so that the notifications join the matched tables;
	 * then reported. */
	if (err == 0)
		err = reconcile_query(&t->rec, &t->diff);
	if (err == 0)
		err = diff_end(&t->diff, t->cur, t->next);
	if (err == 0)
		err = reconcile_run(&t->rec, &t->diff, t->cur, t->next, cb, user);
	/* What notifications did not settle, the kernel is asked about. */
	if (err == 0 && t->probe && t->diff.hold_full_ms)
		(void)diff_check_missing(&t->diff, t->cur, present, t, TRACKER_PROBES_MAX);
	if (err == 0) {
		t->cb = cb;
		t->user = user;
		err = diff_report(&t->diff, t->cur, t->next,
		                  t->have_first ? TRANSITION_HOW_POLL : TRANSITION_HOW_INITIAL,
		                  report, t);
	}
	if (err)
		return err;

	reconcile_end(&t->rec, &t->next->taken);
	t->have_first = 1;
	t->stats.sockets = snapshot_present(t->next);
	t->stats.duplicates = t->rec.stats.duplicates;
	swap = t->cur;
	t->cur = t->next;
	t->next = swap;
	return 0;
}

int tracker_end(struct tracker *t, const struct timespec *ts, tracker_cb cb, void *user)
{
	struct snapshot *s = t->cur;

	for (size_t i = 0; i < s->len; i++) {
		const struct snapshot_entry *e = &s->entries[i];
		struct transition_conn c = e->conn;
		struct transition tr = {
		    .ts = *ts,
		    .sk = &e->sk,
		    .from = e->sk.state,
		    .to = SOCK_NONE,
		    .how = TRANSITION_HOW_NETNS,
		    .conn = &e->conn,
		};
		int64_t in = transition_conn_enter(&c, SOCK_NONE, ts);
		int err;

		if (in >= 0) {
			tr.has_in_state = 1;
			tr.in_state_us = (uint64_t)in;
		}
		err = cb(&tr, NULL, user);
		if (err)
			return err;
	}
	snapshot_clear(t->cur);
	t->have_first = 0;
	t->stats.sockets = 0;
	return 0;
}

struct snapshot *tracker_table(struct tracker *t)
{
	return t->cur;
}

const struct tracker_stats *tracker_stats(const struct tracker *t)
{
	return &t->stats;
}
