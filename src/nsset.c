/*
 * nsset.c - the network namespaces watched: one monitor each, polled on a
 * shared schedule.
 *
 * A netlink socket answers about the namespace it was created in, so each
 * watched namespace gets its own dump socket and notification socket,
 * opened by entering the namespace for the moment it takes (setns(), on
 * this thread only) and coming back. Everything else (the log, the journal,
 * the maps of owners) is shared: the sockets of all namespaces are the one
 * kernel's, and their inodes and cgroup ids are unique on the host.
 *
 * The schedule: each tick, every namespace due is polled. A poll's cost is
 * the kernel's walk of the namespace's established hash, the host's own
 * (shared by every namespace created without
 * net.ipv4.tcp_child_ehash_entries) or a private one, plus the sockets it
 * holds. When a round of all of them would take more CPU than the budget
 * allows in a tick, the namespaces are spread evenly over K ticks, each
 * polled every K-th one, rather than every poll running late; the destroy
 * notifications, read as they come, keep closes exact meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include "diag.h"
#include "log.h"
#include "loop.h"
#include "netns.h"
#include "nsscan.h"
#include "nsset.h"
#include "transition.h"
#include "util.h"

/* One watched namespace. */
struct watch {
	struct transition_netns tag; /* tag.name points at name */
	bool says;                   /* records carry tag */
	bool dynamic;                /* found by a scan; ends when a scan misses it */
	bool found;                  /* by the latest scan */
	bool urgent;                 /* poll at once: new, or its notifications overran */
	uint8_t misses;              /* scans in a row that did not find it */
	char name[NSSCAN_NAME_MAX];
	struct diag *diag;
	bool owns_diag;
	struct diag_events *events; /* NULL: polling alone */
	struct monitor *mon;
	uint64_t cost_ns; /* the CPU a poll takes, averaged */
	uint32_t phase;   /* which of the spread's ticks it is polled at */
};

/* A namespace that could not be entered, said once. */
struct refused {
	uint64_t ino;
	bool found;
};

struct nsset {
	struct nsset_settings set;
	char bc[FILTER_BC_MAX]; /* the filter's bytecode, for each new dump socket */
	int bc_len;
	struct loop *loop;
	int event_buffer;   /* asked for; 0: no notifications */
	uint64_t event_got; /* the smallest granted */
	bool events_said;   /* a namespace without notifications was said */
	int home_fd;        /* our own namespace, to come back to; -1 until needed */
	uint64_t home_ino;
	struct watch **w;
	size_t n, cap;
	struct refused *refused;
	size_t nrefused, refused_cap;
	bool eperm_said; /* a namespace refused for want of privilege was said */
	uint32_t next_phase;
	struct nsset_schedule sched;
	uint64_t tick;
	uint32_t spread;              /* ticks between two polls of a namespace */
	struct monitor_stats retired; /* of the namespaces no longer watched */
	struct monitor_stats sum;
	int write_error, journal_error; /* the latest poll's first */
};

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int nsset_new(struct nsset **ret, struct loop *loop, int event_buffer)
{
	struct nsset *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->event_buffer = event_buffer;
	s->home_fd = -1;
	s->spread = 1;
	s->sched.interval_ms = 100;
	*ret = s;
	return 0;
}

static void watch_free(struct nsset *s, struct watch *w)
{
	if (!w)
		return;
	if (w->events) {
		loop_unwatch(s->loop, diag_events_fd(w->events));
		diag_events_free(w->events);
	}
	monitor_free(w->mon);
	if (w->owns_diag)
		diag_free(w->diag);
	free(w);
}

void nsset_free(struct nsset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		watch_free(s, s->w[i]);
	free(s->w);
	free(s->refused);
	if (s->home_fd >= 0)
		close(s->home_fd);
	free(s);
}

/* Gives W's monitor and dump socket the settings. Returns 0 or -errno of the filter. */
static int apply_one(const struct nsset *s, struct watch *w)
{
	monitor_set_log(w->mon, s->set.log);
	monitor_set_format(w->mon, s->set.fmt);
	monitor_set_journal(w->mon, s->set.journal);
	monitor_set_cgroups(w->mon, s->set.cgroups);
	monitor_set_procs(w->mon, s->set.procs);
	monitor_set_metrics(w->mon, s->set.metrics);
	monitor_set_filter(w->mon, &s->set.filter);
	return diag_set_filter(w->diag, s->bc, (size_t)s->bc_len);
}

int nsset_apply(struct nsset *s, const struct nsset_settings *settings)
{
	int len = filter_bytecode(&settings->filter, s->bc, sizeof(s->bc)), err = 0;

	if (len < 0)
		return len;
	s->set = *settings;
	s->bc_len = len;
	for (size_t i = 0; i < s->n; i++) {
		int r = apply_one(s, s->w[i]);

		if (r < 0 && !err)
			err = r;
	}
	return err;
}

void nsset_set_schedule(struct nsset *s, const struct nsset_schedule *sched)
{
	s->sched = *sched;
}

/* Subscribes W to its namespace's destroy notifications, as the caller is
 * in that namespace now. A failure leaves it polling alone, said once. */
static void open_events(struct nsset *s, struct watch *w)
{
	int got = 0, err;

	if (!s->event_buffer)
		return;
	err = diag_events_new(&w->events, s->event_buffer, &got);
	if (err < 0) {
		w->events = NULL;
		if (!s->events_said)
			log_warn("cannot subscribe to TCP destroy notifications%s%s: %s; polling "
			         "alone, so connections shorter than the poll interval go unseen",
			         w->says ? " in network namespace " : "", w->says ? w->name : "",
			         strerror(-err));
		s->events_said = true;
		return;
	}
	if (!s->event_got || (uint64_t)got < s->event_got)
		s->event_got = (uint64_t)got;
}

/* Makes W's monitor, with the settings and W's notifications, watched by
 * the loop. Returns 0 or -errno. */
static int start_watch(struct nsset *s, struct watch *w)
{
	int err = monitor_new(&w->mon, w->diag, s->set.log, s->set.fmt);

	if (err < 0)
		return err;
	w->tag.name = w->name;
	if (w->says)
		monitor_set_netns(w->mon, &w->tag);
	err = apply_one(s, w);
	if (err == 0 && w->events) {
		err = loop_watch(s->loop, diag_events_fd(w->events));
		if (err == 0)
			monitor_set_events(w->mon, w->events);
	}
	if (err < 0)
		return err;
	w->phase = s->next_phase++;
	return 0;
}

/* Adds W to the set; frees it when that fails. Returns 0 or -errno. */
static int add_watch(struct nsset *s, struct watch *w)
{
	int err = util_grow((void **)&s->w, &s->cap, s->n + 1, sizeof(*s->w), 8);

	if (err == 0)
		err = start_watch(s, w);
	if (err < 0) {
		watch_free(s, w);
		return err;
	}
	s->w[s->n++] = w;
	return 0;
}

int nsset_add_here(struct nsset *s, struct diag *diag, const struct transition_netns *tag)
{
	struct watch *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->diag = diag;
	w->says = tag != NULL;
	if (tag) {
		w->tag.ino = tag->ino;
		snprintf(w->name, sizeof(w->name), "%s", tag->name);
	}
	open_events(s, w);
	return add_watch(s, w);
}

/* Our own namespace, opened once, to come back to after entering another. */
static int home(struct nsset *s)
{
	struct stat st;

	if (s->home_fd >= 0)
		return 0;
	s->home_fd = netns_open("/proc/thread-self/ns/net");
	if (s->home_fd < 0)
		return s->home_fd;
	if (fstat(s->home_fd, &st) < 0) {
		close(s->home_fd);
		s->home_fd = -1;
		return -errno;
	}
	s->home_ino = st.st_ino;
	return 0;
}

/*
 * Opens W's sockets inside the namespace NS: enters it, opens them, comes
 * back. A namespace that is no longer the one scanned (the process whose
 * link it was is gone, and its pid reused) is -ESTALE. Returns 0 or -errno.
 */
static int open_in(struct nsset *s, struct watch *w, const struct nsscan_ns *ns)
{
	struct stat st;
	int fd, err;

	err = home(s);
	if (err < 0)
		return err;
	fd = netns_open(ns->path);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || st.st_ino != ns->ino) {
		close(fd);
		return -ESTALE;
	}
	err = ns->ino == s->home_ino ? 0 : netns_enter(fd);
	close(fd);
	if (err < 0)
		return err;
	err = diag_new(&w->diag);
	if (err == 0) {
		w->owns_diag = true;
		open_events(s, w);
	}
	if (ns->ino != s->home_ino && netns_enter(s->home_fd) < 0) {
		/* Polling on from another namespace would put its sockets under
		 * every other name: there is no going on. */
		log_err("cannot come back to tcpstated's own network namespace: %s",
		        strerror(errno));
		abort();
	}
	return err;
}

/* Whether entering INO failed before (said then); marks it found again. */
static bool refused_before(struct nsset *s, uint64_t ino)
{
	for (size_t i = 0; i < s->nrefused; i++) {
		if (s->refused[i].ino == ino) {
			s->refused[i].found = true;
			return true;
		}
	}
	return false;
}

static void note_refused(struct nsset *s, const struct nsscan_ns *ns, int err)
{
	if (util_grow((void **)&s->refused, &s->refused_cap, s->nrefused + 1, sizeof(*s->refused),
	              8) == 0)
		s->refused[s->nrefused++] = (struct refused){.ino = ns->ino, .found = true};
	/* Without the privilege, every other namespace fails alike: said once,
	 * counted in the status line. */
	if (err == -EPERM && s->eperm_said)
		return;
	s->eperm_said |= err == -EPERM;
	log_warn("cannot watch network namespace %s (inode %" PRIu64 ", %s): %s%s; trying again "
	         "at every rescan",
	         ns->name, ns->ino, ns->path, strerror(-err),
	         err == -EPERM
	             ? " (entering a namespace takes CAP_SYS_ADMIN: see the drop-in "
	               "netns.conf in docs/systemd.md; other namespaces refused for this are "
	               "only counted, in the status line)"
	             : "");
}

/* Starts watching NS. */
static void watch_new(struct nsset *s, const struct nsscan_ns *ns)
{
	struct watch *w = calloc(1, sizeof(*w));
	bool before = refused_before(s, ns->ino);
	int err;

	if (!w)
		return;
	/* Polled at the next tick, not at its turn in the spread: a new
	 * namespace is watched within a rescan. */
	w->says = w->dynamic = w->found = w->urgent = true;
	w->tag.ino = ns->ino;
	snprintf(w->name, sizeof(w->name), "%s", ns->name);
	err = open_in(s, w, ns);
	if (err == 0)
		err = add_watch(s, w);
	else
		watch_free(s, w);
	if (err < 0) {
		if (!before && err != -ESTALE && err != -ENOENT)
			note_refused(s, ns, err);
		return;
	}
	log_info("watching network namespace %s (inode %" PRIu64 ", %s)", ns->name, ns->ino,
	         ns->path);
}

/* Adds W's counters to the retired ones. */
static void retire(struct nsset *s, const struct watch *w)
{
	const struct monitor_stats *st = monitor_stats(w->mon);

	s->retired.polls += st->polls;
	s->retired.dumps_failed += st->dumps_failed;
	s->retired.transitions += st->transitions;
	s->retired.journal_failed += st->journal_failed;
	s->retired.journal_over += st->journal_over;
	s->retired.summaries += st->summaries;
	s->retired.events += st->events;
	s->retired.events_lost += st->events_lost;
	s->retired.overruns += st->overruns;
}

/* W's namespace is gone, or (UNMATCHED) no longer watched: a last poll, then
 * what it still held ends. */
static void watch_end(struct nsset *s, struct watch *w, bool unmatched)
{
	int n;

	(void)monitor_read_events(w->mon);
	(void)monitor_poll(w->mon);
	n = monitor_end(w->mon);
	log_info("network namespace %s (inode %" PRIu64 ") %s: ended its %d socket%s", w->name,
	         w->tag.ino, unmatched ? "no longer matches [poll] netns" : "vanished",
	         n < 0 ? 0 : n, n == 1 ? "" : "s");
	retire(s, w);
	watch_free(s, w);
}

static const struct nsscan_ns *find_ns(const struct nsscan_ns *found, size_t n, uint64_t ino)
{
	for (size_t i = 0; i < n; i++)
		if (found[i].ino == ino)
			return &found[i];
	return NULL;
}

/* Ends the watched namespaces FOUND has missed twice in a row, and those SCAN
 * saw but no longer matches; renames the others. */
static void drop_vanished(struct nsset *s, const struct nsscan_ns *found, size_t n,
                          const struct nsscan *scan)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct watch *w = s->w[i];
		const struct nsscan_ns *ns = w->dynamic ? find_ns(found, n, w->tag.ino) : NULL;
		bool unmatched = w->dynamic && !ns && scan && nsscan_seen(scan, w->tag.ino);

		/* Two scans in a row, so that a process caught between two
		 * namespaces (a runtime setting one up) ends nothing. */
		if (unmatched || (w->dynamic && !ns && ++w->misses >= 2)) {
			watch_end(s, w, unmatched);
			continue;
		}
		if (ns)
			w->misses = 0;
		if (ns && strcmp(ns->name, w->name) != 0) {
			log_info("network namespace %s (inode %" PRIu64 ") is now named %s",
			         w->name, w->tag.ino, ns->name);
			snprintf(w->name, sizeof(w->name), "%s", ns->name);
		}
		s->w[kept++] = w;
	}
	s->n = kept;
}

static bool watched(const struct nsset *s, uint64_t ino)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->w[i]->dynamic && s->w[i]->tag.ino == ino)
			return true;
	return false;
}

void nsset_update(struct nsset *s, const struct nsscan_ns *found, size_t n,
                  const struct nsscan *scan)
{
	size_t kept = 0;

	drop_vanished(s, found, n, scan);
	for (size_t i = 0; i < s->nrefused; i++)
		s->refused[i].found = false;
	for (size_t i = 0; i < n; i++)
		if (!watched(s, found[i].ino))
			watch_new(s, &found[i]);
	/* A refused namespace that vanished would be said again if it came back. */
	for (size_t i = 0; i < s->nrefused; i++)
		if (s->refused[i].found)
			s->refused[kept++] = s->refused[i];
	s->nrefused = kept;
}

/* Polls W, timing the CPU it takes from *CLOCK (this thread's CPU time when
 * the previous poll ended, 0: not read yet), which it moves on: one clock
 * read a poll, a system call each. Returns its -errno. */
static int poll_watch(struct nsset *s, struct watch *w, uint64_t *clock)
{
	const struct monitor_stats *st = monitor_stats(w->mon);
	uint64_t c0 = *clock ? *clock : thread_cpu_ns(), c;
	int err = monitor_poll(w->mon);

	*clock = thread_cpu_ns();
	c = *clock - c0;
	/* A first poll writes every socket as initial: not what later ones cost. */
	if (st->polls > 1)
		w->cost_ns = w->cost_ns ? (w->cost_ns * 7 + c) / 8 : c;
	w->urgent = false;
	if (st->write_error && !s->write_error)
		s->write_error = st->write_error;
	if (st->journal_error && !s->journal_error)
		s->journal_error = st->journal_error;
	return err;
}

/* Sets the spread from what the latest polls cost, and says when it changes. */
static void respread(struct nsset *s)
{
	uint64_t cost = 0;
	uint32_t k;

	for (size_t i = 0; i < s->n; i++)
		cost += s->w[i]->cost_ns;
	k = s->sched.budget_pct && s->n > 1
	        ? nsset_spread_next(s->spread, cost,
	                            (uint64_t)s->sched.interval_ms * 10000ULL * s->sched.budget_pct)
	        : 1;
	if (k == s->spread)
		return;
	if (k > 1)
		log_warn("polling %zu network namespace%s takes %.1f ms of CPU a round, more than "
		         "[poll] netns_budget = %" PRIu32 " %% of a CPU allows every %" PRIu32
		         " ms: each is now polled every %" PRIu32
		         " ms; closes stay exact through the destroy notifications",
		         s->n, s->n == 1 ? "" : "s", (double)cost / 1e6, s->sched.budget_pct,
		         s->sched.interval_ms, k * s->sched.interval_ms);
	else
		log_info(
		    "polling %zu network namespace%s fits [poll] netns_budget again (%.1f ms of "
		    "CPU a round): each is polled every %" PRIu32 " ms",
		    s->n, s->n == 1 ? "" : "s", (double)cost / 1e6, s->sched.interval_ms);
	s->spread = k;
}

uint32_t nsset_spread_next(uint32_t spread, uint64_t round_ns, uint64_t budget_ns)
{
	uint64_t up, down;

	if (!budget_ns)
		return 1;
	up = (round_ns + budget_ns - 1) / budget_ns;
	down = (round_ns * 10 + budget_ns * 8 - 1) / (budget_ns * 8);
	if (up > spread)
		return (uint32_t)(up > NSSET_SPREAD_MAX ? NSSET_SPREAD_MAX : up);
	if (down < spread)
		return (uint32_t)(down < 1 ? 1 : down);
	return spread;
}

int nsset_poll(struct nsset *s, bool tick)
{
	uint64_t clock = 0;
	int err = 0;

	s->write_error = s->journal_error = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct watch *w = s->w[i];
		int r;

		if (!w->urgent && !(tick && (s->tick + w->phase) % s->spread == 0))
			continue;
		r = poll_watch(s, w, &clock);
		if (r < 0 && !err)
			err = r;
	}
	if (tick) {
		s->tick++;
		respread(s);
	}
	return err;
}

static struct watch *watch_of_fd(const struct nsset *s, int fd)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->w[i]->events && diag_events_fd(s->w[i]->events) == fd)
			return s->w[i];
	return NULL;
}

int nsset_read_events(struct nsset *s, int fd)
{
	struct watch *w = watch_of_fd(s, fd);
	int err;

	if (!w)
		return -ENOENT;
	err = monitor_read_events(w->mon);
	if (err == -ENOBUFS) {
		w->urgent = true;
	} else if (err < 0) {
		log_err("reading destroy notifications%s%s failed: %s; polling it alone",
		        w->says ? " of network namespace " : "", w->says ? w->name : "",
		        strerror(-err));
		loop_unwatch(s->loop, fd);
		monitor_set_events(w->mon, NULL);
		diag_events_free(w->events);
		w->events = NULL;
	}
	return err;
}

const struct monitor_stats *nsset_stats(struct nsset *s)
{
	s->sum = s->retired;
	s->sum.sockets = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct monitor_stats *st = monitor_stats(s->w[i]->mon);

		s->sum.polls += st->polls;
		s->sum.dumps_failed += st->dumps_failed;
		s->sum.transitions += st->transitions;
		s->sum.sockets += st->sockets;
		s->sum.journal_failed += st->journal_failed;
		s->sum.journal_over += st->journal_over;
		s->sum.summaries += st->summaries;
		s->sum.events += st->events;
		s->sum.events_lost += st->events_lost;
		s->sum.overruns += st->overruns;
	}
	s->sum.write_error = s->write_error;
	s->sum.journal_error = s->journal_error;
	return &s->sum;
}

size_t nsset_count(const struct nsset *s)
{
	return s->n;
}

size_t nsset_refused(const struct nsset *s)
{
	return s->nrefused;
}

size_t nsset_with_events(const struct nsset *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->w[i]->events != NULL;
	return n;
}

uint64_t nsset_event_buffer(const struct nsset *s)
{
	return nsset_with_events(s) ? s->event_got : 0;
}

uint32_t nsset_spread(const struct nsset *s)
{
	return s->spread;
}

void nsset_view(struct nsset *s, size_t i, struct nsset_view *ret)
{
	const struct watch *w = s->w[i];

	*ret = (struct nsset_view){
	    .tag = w->says ? &w->tag : NULL,
	    .table = monitor_table(w->mon),
	    .polls = monitor_stats(w->mon)->polls,
	    .sockets = monitor_stats(w->mon)->sockets,
	};
}
