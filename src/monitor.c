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
#include "snapshot.h"

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

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Who owns T's socket: looked up only for a record that is written, so the
 * cost follows the number of transitions, not of sockets. */
static const struct sock_owner *find_owner(struct monitor *m, const struct transition *t,
					   struct sock_owner *o, char *unit, size_t unitlen,
					   char comm[PROCMAP_COMM_MAX])
{
	*o = (struct sock_owner){0};
	if (m->procs && t->sk->kind == SOCK_KIND_FULL && t->sk->inode &&
	    procmap_lookup(m->procs, t->sk->inode, now_ms(), &o->pid, comm) == 0)
		o->comm = comm;
	if (m->cgroups && t->sk->cgroup_id) {
		o->cgroup = cgroup_map_lookup(m->cgroups, t->sk->cgroup_id, now_ms());
		if (o->cgroup && cgroup_unit(o->cgroup, unit, unitlen) > 0)
			o->unit = unit;
	}
	return o->cgroup || o->pid ? o : NULL;
}

static int write_record(const struct transition *orig, void *user)
{
	struct monitor *m = user;
	struct transition owned = *orig, *t = &owned;
	struct sock_owner owner;
	char line[RECORD_MAX], unit[256], comm[PROCMAP_COMM_MAX];
	int n, err;

	/* The kernel has left out unwatched sockets already; this catches what it
	 * cannot: states, and sockets it dumped under an earlier filter. */
	if (!filter_match_states(&m->filter, t->from, t->to) ||
	    !filter_match_tuple(&m->filter, &t->sk->tuple))
		return 0;
	t->owner = find_owner(m, orig, &owner, unit, sizeof(unit), comm);
	n = record_format(line, sizeof(line), t, m->fmt);
	if (n < 0)
		return n; /* cannot happen: RECORD_MAX fits every record */
	m->stats.transitions++;
	err = logfile_append(m->log, line, (size_t)n);
	if (err < 0 && !m->stats.write_error)
		m->stats.write_error = err;
	if (m->journal) {
		err = journal_send(t);
		if (err < 0) {
			m->stats.journal_failed++;
			if (!m->stats.journal_error)
				m->stats.journal_error = err;
		}
	}
	return 0;
}

int monitor_poll(struct monitor *m)
{
	struct snapshot *swap;
	int err;

	snapshot_clear(m->next);
	err = diag_dump(m->diag, snapshot_append_cb, m->next);
	snapshot_index(m->next);
	if (err == 0)
		err = clock_gettime(CLOCK_REALTIME, &m->next->taken) < 0 ? -errno : 0;
	if (err == 0) {
		m->stats.write_error = 0;
		m->stats.journal_error = 0;
		err = diff_run(&m->diff, m->cur, m->next,
			       m->have_first ? DIFF_HOW_POLL : DIFF_HOW_INITIAL, write_record, m);
	}
	if (err < 0) {
		m->stats.dumps_failed++;
		return err;
	}

	m->have_first = 1;
	m->stats.polls++;
	m->stats.repeats += m->next->repeats;
	m->stats.sockets = snapshot_present(m->next);
	m->stats.sockets_missing = m->next->len - m->stats.sockets;
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
