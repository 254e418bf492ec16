/*
 * monitor.c - one poll, from the netlink sockets to the log: destroy
 * notifications read and queued, the dump handed to the tracker
 * (tracker.c), whose records are sorted by time, filtered, given their
 * owner and written.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "cgroup.h"
#include "journal.h"
#include "metrics.h"
#include "monitor.h"
#include "procmap.h"
#include "snapshot.h"
#include "tracker.h"
#include "util.h"

/* One record of a poll, held until the poll's records are sorted by time. */
struct item {
	struct sock sk;              /* a copy: the tables change before the records are written */
	struct transition_conn conn; /* likewise */
	uint8_t has_conn;
	struct transition t;
	struct summary s;
	uint8_t is_summary;
	size_t seq;
};

struct monitor {
	struct diag *diag;
	struct logfile *log;
	enum record_format fmt;
	struct journal *journal;    /* also send each record there; NULL: not */
	struct filter filter;       /* which records to write */
	struct cgroup_map *cgroups; /* NULL: no cgroup attribution */
	/* The last cgroup looked up in this poll, and its unit: the records of
	 * a poll mostly share an owner, and its path lives until the next
	 * lookup (cgroup_map_lookup()), which replaces it here. */
	struct {
		int valid;
		uint64_t id;
		const char *path;
		char unit[256];
		int has_unit;
	} cg;
	struct procmap *procs;                /* NULL: no process attribution */
	struct metrics *metrics;              /* NULL: no metrics */
	const struct transition_netns *netns; /* NULL: records do not say */
	struct tracker *tracker;
	struct diag_events *events; /* NULL: polling alone */
	uint64_t drops_base;        /* the kernel's drop count when events were set */
	int events_refused;         /* this read found the queue full */
	int probed;                 /* this poll asked the kernel about a socket */
	struct item *items;         /* this poll's records */
	size_t items_len, items_cap;
	struct monitor_stats stats;
};

/* The tracker's question about a socket a dump missed. The notifications
 * that came while the dump ran are read first, once a poll: they tell of
 * sockets freed meanwhile, which are gone rather than closed. */
static int probe(void *user, const struct sock *sk)
{
	struct monitor *m = user;

	if (!m->probed) {
		m->probed = 1;
		(void)monitor_read_events(m);
	}
	return diag_probe(m->diag, sk);
}

int monitor_new(struct monitor **ret, struct diag *diag, struct logfile *log,
                enum record_format fmt)
{
	struct monitor *m = calloc(1, sizeof(*m));

	if (!m || tracker_new(&m->tracker, MONITOR_EVENTS_MAX) < 0) {
		free(m);
		return -ENOMEM;
	}
	m->diag = diag;
	tracker_set_probe(m->tracker, probe, m);
	m->log = log;
	m->fmt = fmt;
	*ret = m;
	return 0;
}

void monitor_free(struct monitor *m)
{
	if (!m)
		return;
	tracker_free(m->tracker);
	free(m->items);
	free(m);
}

void monitor_set_format(struct monitor *m, enum record_format fmt)
{
	m->fmt = fmt;
}

void monitor_set_journal(struct monitor *m, struct journal *j)
{
	m->journal = j;
}

void monitor_set_filter(struct monitor *m, const struct filter *f)
{
	m->filter = *f;
}

void monitor_set_cgroups(struct monitor *m, struct cgroup_map *cgroups)
{
	m->cgroups = cgroups;
	m->cg.valid = 0;
}

void monitor_set_procs(struct monitor *m, struct procmap *procs)
{
	m->procs = procs;
}

void monitor_set_log(struct monitor *m, struct logfile *log)
{
	m->log = log;
}

void monitor_set_metrics(struct monitor *m, struct metrics *metrics)
{
	m->metrics = metrics;
}

void monitor_set_netns(struct monitor *m, const struct transition_netns *ns)
{
	m->netns = ns;
}

struct snapshot *monitor_table(struct monitor *m)
{
	return tracker_table(m->tracker);
}

/* Who owns the socket SK of the connection C (NULL: nothing remembered):
 * looked up only for a record that is written, so the cost follows the
 * number of records, not of sockets. The ids come from what was learnt of
 * the connection, so that a minisocket's or a notification's record names
 * the owner its full socket had; names come from the caches. */
static const struct sock_owner *find_owner(struct monitor *m, const struct sock *sk,
                                           const struct transition_conn *c, struct sock_owner *o,
                                           char comm[PROCMAP_COMM_MAX])
{
	uint32_t inode = c && c->inode ? c->inode : sk->kind == SOCK_KIND_FULL ? sk->inode : 0;
	uint64_t cgroup_id = c && c->cgroup_id ? c->cgroup_id : sk->cgroup_id;

	*o = (struct sock_owner){0};
	if (m->procs && inode &&
	    procmap_lookup(m->procs, inode, (util_mono_ns() / 1000000), &o->pid, comm) == 0)
		o->comm = comm;
	if (m->cgroups && cgroup_id && !(m->cg.valid && m->cg.id == cgroup_id)) {
		m->cg.valid = 1;
		m->cg.id = cgroup_id;
		m->cg.path = cgroup_map_lookup(m->cgroups, cgroup_id, (util_mono_ns() / 1000000));
		m->cg.has_unit =
		    m->cg.path && cgroup_unit(m->cg.path, m->cg.unit, sizeof(m->cg.unit)) > 0;
	}
	if (m->cgroups && cgroup_id) {
		o->cgroup = m->cg.path;
		o->unit = m->cg.has_unit ? m->cg.unit : NULL;
	}
	return o->cgroup || o->pid ? o : NULL;
}

void monitor_set_events(struct monitor *m, struct diag_events *ev)
{
	m->events = ev;
	m->drops_base = 0;
	tracker_set_hold(m->tracker, ev ? TRACKER_HOLD_FULL_MS : 0);
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
	err = tracker_add_event(m->tracker, sk, info, &now);
	if (err == -ENOBUFS) {
		m->stats.events_lost++;
		m->events_refused = 1;
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
	m->events_refused = 0;
	do {
		err = diag_events_read(m->events, queue_event, m);
		if (err == -ENOBUFS)
			overrun = 1;
	} while (err == -ENOBUFS);
	if (overrun || m->events_refused) {
		m->stats.overruns++;
		tracker_resync(m->tracker);
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
	return overrun || m->events_refused ? -ENOBUFS : 0;
}

/* Adds a transition (T) or a summary (S) to this poll's records. */
static int add_item(const struct transition *t, const struct summary *s, void *user)
{
	struct monitor *m = user;
	struct item *it;

	if (util_grow((void **)&m->items, &m->items_cap, m->items_len + 1, sizeof(*m->items), 256) <
	    0)
		return -ENOMEM;
	it = &m->items[m->items_len];
	*it = (struct item){.is_summary = s != NULL, .seq = m->items_len};
	if (s) {
		it->s = *s;
		it->sk = *s->sk;
		if (s->conn)
			it->conn = *s->conn;
		it->has_conn = s->conn != NULL;
	} else {
		it->t = *t;
		it->sk = *t->sk;
		if (t->conn)
			it->conn = *t->conn;
		it->has_conn = t->conn != NULL;
	}
	m->items_len++;
	return 0;
}

static const struct timespec *item_ts(const struct item *it)
{
	return it->is_summary ? &it->s.ts : &it->t.ts;
}

/* By time; at the same time transitions before summaries; then as produced.
 * (glibc's qsort() sorts elements this large through pointers itself.) */
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

/*
 * The states filter lets a summary through when it lets some record of its
 * connection through: when the connection was in a watched state. (Every
 * record of a connection leaves or enters one of the states it was seen in.)
 */
static bool summary_watched(const struct filter *f, const struct transition_conn *c)
{
	return !f->states || !c || (c->path & f->states);
}

static void write_item(struct monitor *m, struct item *it)
{
	char line[RECORD_MAX], comm[PROCMAP_COMM_MAX];
	struct sock_owner owner;
	int n, err;

	/* The kernel has left out unwatched sockets already; the filter here
	 * catches what it cannot: states, sockets it dumped under an earlier
	 * filter, and notifications, which no filter reaches. */
	const struct transition_conn *c = it->has_conn ? &it->conn : NULL;

	if (it->is_summary) {
		it->s.sk = &it->sk;
		it->s.conn = c;
		it->s.netns = m->netns;
		if (!summary_watched(&m->filter, c) ||
		    !filter_match_tuple(&m->filter, &it->sk.tuple))
			return;
		it->s.owner = find_owner(m, &it->sk, c, &owner, comm);
		n = record_format_summary(line, sizeof(line), &it->s, m->fmt);
		m->stats.summaries++;
		if (m->metrics) {
			metrics_note_summary(m->metrics, &it->s);
			/* How it ended is known only of a connection remembered. */
			metrics_note_close(m->metrics,
			                   c ? it->s.outcome : (unsigned)TRANSITION_OUTCOME_UNKNOWN,
			                   it->s.owner ? it->s.owner->unit : NULL);
		}
	} else {
		it->t.sk = &it->sk;
		it->t.conn = c;
		it->t.netns = m->netns;
		if (!filter_match_states(&m->filter, it->t.from, it->t.to) ||
		    !filter_match_tuple(&m->filter, &it->sk.tuple))
			return;
		it->t.owner = find_owner(m, &it->sk, c, &owner, comm);
		n = record_format(line, sizeof(line), &it->t, m->fmt);
		m->stats.transitions++;
		if (m->metrics)
			metrics_note_transition(m->metrics, &it->t,
			                        it->t.has_in_state ? it->t.in_state_us
			                                           : METRICS_DURATION_UNKNOWN);
	}
	if (n < 0)
		return; /* cannot happen: RECORD_MAX fits every record */
	err = logfile_append(m->log, line, (size_t)n);
	if (err < 0 && !m->stats.write_error)
		m->stats.write_error = err;
	if (m->journal) {
		err = it->is_summary ? journal_record_summary(m->journal, &it->s)
		                     : journal_record(m->journal, &it->t);
		if (err == JOURNAL_OVER) {
			m->stats.journal_over++;
		} else if (err < 0) {
			m->stats.journal_failed++;
			if (!m->stats.journal_error)
				m->stats.journal_error = err;
		}
	}
}

static void write_items(struct monitor *m);

/* The tracker's dump: the kernel's, parsed straight into its table. */
static int dump(void *user, const struct diag_sink *sink, struct timespec *ret_taken)
{
	struct monitor *m = user;
	int err = diag_dump_into(m->diag, sink);

	if (err == 0 && clock_gettime(CLOCK_REALTIME, ret_taken) < 0)
		err = -errno;
	return err;
}

int monitor_poll(struct monitor *m)
{
	int err;

	/* Notifications read now are about sockets destroyed before the dump. */
	(void)monitor_read_events(m);
	m->items_len = 0;
	m->probed = 0;
	m->cg.valid = 0;
	err = tracker_poll(m->tracker, dump, m, add_item, m);
	if (err < 0) {
		m->stats.dumps_failed++;
		return err;
	}

	write_items(m);
	m->stats.polls++;
	m->stats.sockets = tracker_stats(m->tracker)->sockets;
	return 0;
}

/* Writes this poll's records, in time order, then flushes the log. */
static void write_items(struct monitor *m)
{
	int err;

	m->stats.write_error = 0;
	m->stats.journal_error = 0;
	if (m->items_len)
		qsort(m->items, m->items_len, sizeof(*m->items), cmp_item);
	for (size_t i = 0; i < m->items_len; i++)
		write_item(m, &m->items[i]);
	m->items_len = 0;
	err = logfile_flush(m->log);
	if (err < 0 && !m->stats.write_error)
		m->stats.write_error = err;
}

int monitor_end(struct monitor *m)
{
	struct timespec now;
	size_t n;
	int err;

	clock_gettime(CLOCK_REALTIME, &now);
	m->items_len = 0;
	m->cg.valid = 0;
	err = tracker_end(m->tracker, &now, add_item, m);
	n = m->items_len;
	write_items(m);
	m->stats.sockets = 0;
	return err < 0 ? err : (int)n;
}

const struct monitor_stats *monitor_stats(const struct monitor *m)
{
	return &m->stats;
}
