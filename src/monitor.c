/*
 * monitor.c - one poll: dump the sockets, diff against the last dump, log.
 *
 * Two socket tables are swapped every poll: the current one (what we know)
 * and the next one (being filled by the dump). Both keep their memory, so a
 * steady state allocates nothing. A dump that fails is never diffed: a lost
 * dump must not read as closed sockets.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "cgroup.h"
#include "diff.h"
#include "journal.h"
#include "monitor.h"
#include "procmap.h"
#include "reconcile.h"
#include "snapshot.h"
#include "util.h"

/* How long a full socket may be missing from dumps, with notifications on,
 * before its absence alone makes it gone. */
#define MONITOR_HOLD_FULL_MS 1000

/* One record of a poll, held until the poll's records are sorted by time. */
struct item {
	struct sock sk; /* a copy: the tables change before the records are written */
	struct transition t;
	struct summary s;
	uint8_t is_summary;
	size_t seq;
};

struct monitor {
	struct diag *diag;
	struct logfile *log;
	enum record_format fmt;
	bool journal; /* also send each transition to the journal */
	struct filter filter; /* which records to write */
	struct cgroup_map *cgroups; /* NULL: no cgroup attribution */
	struct procmap *procs;	    /* NULL: no process attribution */
	struct snapshot tables[2];
	struct snapshot *cur, *next;
	struct diff diff;
	int have_first; /* a dump has been diffed: later appearances are "poll" */
	struct diag_events *events; /* NULL: polling alone */
	struct reconcile rec;
	uint64_t drops_base; /* the kernel's drop count when events were set */
	int resync_polls;    /* polls left that count absence without a hold */
	struct item *items;  /* this poll's records */
	size_t items_len, items_cap;
	struct monitor_stats stats;
};

int monitor_new(struct monitor **ret, struct diag *diag, struct logfile *log,
		enum record_format fmt)
{
	struct monitor *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->diag = diag;
	m->log = log;
	m->fmt = fmt;
	snapshot_init(&m->tables[0]);
	snapshot_init(&m->tables[1]);
	m->cur = &m->tables[0];
	m->next = &m->tables[1];
	diff_init(&m->diff);
	reconcile_init(&m->rec, MONITOR_EVENTS_MAX);
	*ret = m;
	return 0;
}

void monitor_free(struct monitor *m)
{
	if (!m)
		return;
	snapshot_release(&m->tables[0]);
	snapshot_release(&m->tables[1]);
	diff_release(&m->diff);
	reconcile_release(&m->rec);
	free(m->items);
	free(m);
}

void monitor_set_format(struct monitor *m, enum record_format fmt)
{
	m->fmt = fmt;
}

void monitor_set_journal(struct monitor *m, bool on)
{
	m->journal = on;
}

void monitor_set_filter(struct monitor *m, const struct filter *f)
{
	m->filter = *f;
}

void monitor_set_cgroups(struct monitor *m, struct cgroup_map *cgroups)
{
	m->cgroups = cgroups;
}

void monitor_set_procs(struct monitor *m, struct procmap *procs)
{
	m->procs = procs;
}

void monitor_set_log(struct monitor *m, struct logfile *log)
{
	m->log = log;
}

/* Who owns T's socket: looked up only for a record that is written, so the
 * cost follows the number of transitions, not of sockets. */
static const struct sock_owner *find_owner(struct monitor *m, const struct transition *t,
					   struct sock_owner *o, char *unit, size_t unitlen,
					   char comm[PROCMAP_COMM_MAX])
{
	*o = (struct sock_owner){0};
	if (m->procs && t->sk->kind == SOCK_KIND_FULL && t->sk->inode &&
	    procmap_lookup(m->procs, t->sk->inode, (util_mono_ns() / 1000000), &o->pid, comm) == 0)
		o->comm = comm;
	if (m->cgroups && t->sk->cgroup_id) {
		o->cgroup = cgroup_map_lookup(m->cgroups, t->sk->cgroup_id, (util_mono_ns() / 1000000));
		if (o->cgroup && cgroup_unit(o->cgroup, unit, unitlen) > 0)
			o->unit = unit;
	}
	return o->cgroup || o->pid ? o : NULL;
}

void monitor_set_events(struct monitor *m, struct diag_events *ev)
{
	m->events = ev;
	m->drops_base = 0;
	if (ev)
		(void)diag_events_drops(ev, &m->drops_base);
}

static int queue_event(const struct sock *sk, const struct sock_info *info, void *user)
{
	struct monitor *m = user;
	struct timespec now;
	int err;

	if (clock_gettime(CLOCK_REALTIME, &now) < 0)
		return -errno;
	err = reconcile_add(&m->rec, sk, info, &now);
	if (err == -ENOBUFS) {
		m->stats.events_lost++;
		m->stats.events_overrun = 1;
		return 0;
	}
	if (err == 0)
		m->stats.events++;
	return err;
}

int monitor_read_events(struct monitor *m)
{
	int err, overrun = 0;

	if (!m->events)
		return 0;
	m->stats.events_overrun = 0;
	do {
		err = diag_events_read(m->events, queue_event, m);
		if (err == -ENOBUFS)
			overrun = 1;
	} while (err == -ENOBUFS);
	if (overrun || m->stats.events_overrun) {
		m->stats.overruns++;
		m->resync_polls = 2; /* the resync dump, and the one that confirms */
	}
	if (overrun) {
		uint64_t drops;

		/* The kernel counts every notification it could not queue. */
		if (diag_events_drops(m->events, &drops) == 0 && drops >= m->drops_base) {
			m->stats.events_lost += drops - m->drops_base;
			m->drops_base = drops;
		}
	}
	if (err < 0)
		return err;
	return overrun || m->stats.events_overrun ? -ENOBUFS : 0;
}

/* Adds a transition (T) or a summary (S) to this poll's records. */
static int add_item(const struct transition *t, const struct summary *s, void *user)
{
	struct monitor *m = user;
	struct item *it;

	if (util_grow((void **)&m->items, &m->items_cap, m->items_len + 1, sizeof(*m->items), 256) < 0)
		return -ENOMEM;
	it = &m->items[m->items_len];
	*it = (struct item){.is_summary = s != NULL, .seq = m->items_len};
	if (s) {
		it->s = *s;
		it->sk = *s->sk;
	} else {
		it->t = *t;
		it->sk = *t->sk;
	}
	m->items_len++;
	return 0;
}

static int add_transition(const struct transition *t, void *user)
{
	return add_item(t, NULL, user);
}

static const struct timespec *item_ts(const struct item *it)
{
	return it->is_summary ? &it->s.ts : &it->t.ts;
}

/* By time; at the same time transitions before summaries; then as produced. */
static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	const struct timespec *tx = item_ts(x), *ty = item_ts(y);

	if (tx->tv_sec != ty->tv_sec)
		return tx->tv_sec < ty->tv_sec ? -1 : 1;
	if (tx->tv_nsec != ty->tv_nsec)
		return tx->tv_nsec < ty->tv_nsec ? -1 : 1;
	if (x->is_summary != y->is_summary)
		return x->is_summary ? 1 : -1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void write_item(struct monitor *m, struct item *it)
{
	char line[RECORD_MAX], unit[256], comm[PROCMAP_COMM_MAX];
	struct sock_owner owner;
	int n, err;

	/* The kernel has left out unwatched sockets already; the filter here
	 * catches what it cannot: states, sockets it dumped under an earlier
	 * filter, and notifications, which no filter reaches. */
	if (it->is_summary) {
		it->s.sk = &it->sk;
		if (!filter_match_tuple(&m->filter, &it->sk.tuple))
			return;
		n = record_format_summary(line, sizeof(line), &it->s, m->fmt);
		m->stats.summaries++;
	} else {
		it->t.sk = &it->sk;
		if (it->t.to == SOCK_NONE && it->t.how == DIFF_HOW_POLL &&
		    it->sk.kind != SOCK_KIND_TIMEWAIT)
			(void)reconcile_note_gone(&m->rec, it->sk.cookie);
		if (!filter_match_states(&m->filter, it->t.from, it->t.to) ||
		    !filter_match_tuple(&m->filter, &it->sk.tuple))
			return;
		it->t.owner = find_owner(m, &it->t, &owner, unit, sizeof(unit), comm);
		n = record_format(line, sizeof(line), &it->t, m->fmt);
		m->stats.transitions++;
	}
	if (n < 0)
		return; /* cannot happen: RECORD_MAX fits every record */
	err = logfile_append(m->log, line, (size_t)n);
	if (err < 0 && !m->stats.write_error)
		m->stats.write_error = err;
	if (m->journal) {
		err = it->is_summary ? journal_send_summary(&it->s) : journal_send(&it->t);
		if (err < 0) {
			m->stats.journal_failed++;
			if (!m->stats.journal_error)
				m->stats.journal_error = err;
		}
	}
}

int monitor_poll(struct monitor *m)
{
	struct diff_sink sink;
	struct snapshot *swap;
	int err;

	/* Notifications read now are about sockets destroyed before the dump. */
	(void)monitor_read_events(m);
	snapshot_clear(m->next);
	m->items_len = 0;
	/* Each socket is matched against the last table as it arrives. */
	diff_begin(&m->diff, m->cur);
	diff_sink_init(&sink, &m->diff, m->cur, m->next);
	err = diag_dump_into(m->diag, &sink.sink);
	if (err == 0)
		err = clock_gettime(CLOCK_REALTIME, &m->next->taken) < 0 ? -errno : 0;
	/*
	 * With notifications flowing, a full socket's end is told by its
	 * notification; absence from dumps (which race with churn) only counts
	 * after a while. Right after notifications were lost, absence counts
	 * as it does without them, so that the resync settles their sockets.
	 */
	m->diff.hold_full_ms = m->events && !m->resync_polls ? MONITOR_HOLD_FULL_MS : 0;
	if (m->resync_polls)
		m->resync_polls--;
	/* Matched first, so that the notifications join the matched tables;
	 * then reported. */
	if (err == 0)
		err = reconcile_query(&m->rec, &m->diff);
	if (err == 0)
		err = diff_end(&m->diff, m->cur, m->next);
	if (err == 0)
		err = reconcile_run(&m->rec, &m->diff, m->cur, m->next, add_item, m);
	if (err == 0)
		err = diff_report(&m->diff, m->cur, m->next,
				  m->have_first ? DIFF_HOW_POLL : DIFF_HOW_INITIAL, add_transition, m);
	if (err < 0) {
		m->stats.dumps_failed++;
		return err;
	}

	m->stats.write_error = 0;
	m->stats.journal_error = 0;
	if (m->items_len)
		qsort(m->items, m->items_len, sizeof(*m->items), cmp_item);
	for (size_t i = 0; i < m->items_len; i++)
		write_item(m, &m->items[i]);
	m->items_len = 0;
	reconcile_end(&m->rec, &m->next->taken);

	m->have_first = 1;
	m->stats.polls++;
	m->stats.repeats += m->next->repeats;
	m->stats.sockets = snapshot_present(m->next);
	m->stats.sockets_missing = m->next->len - m->stats.sockets;
	m->stats.duplicates = m->rec.stats.duplicates;
	swap = m->cur;
	m->cur = m->next;
	m->next = swap;

	err = logfile_flush(m->log);
	if (err < 0 && !m->stats.write_error)
		m->stats.write_error = err;
	return 0;
}

const struct monitor_stats *monitor_stats(const struct monitor *m)
{
	return &m->stats;
}
