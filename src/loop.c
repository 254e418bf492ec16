/*
 * loop.c - the heartbeat: ppoll() over a timerfd, a signalfd and the
 * notification socket.
 *
 * Signals are read from a signalfd rather than caught, so nothing runs in
 * signal context and a signal can never interrupt a half-written record.
 *
 * Each watched descriptor (one notification socket per network namespace)
 * is batched: once it has been reported readable, it is left out of the
 * poll set for a hold-off, and whatever arrives meanwhile waits in its
 * receive buffer to be read at the next report, all at once.
 * Under a stream of destroy notifications that turns one wakeup (a context
 * switch, a poll and a recv) per notification into one per hold-off, at the
 * cost of timestamps up to a hold-off late; an isolated notification, which
 * finds the descriptor watched, is still read at once. The timer and the
 * signals stay in the poll set throughout.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "loop.h"
#include "util.h"

#define NSEC_PER_SEC 1000000000ULL

/* A watched descriptor. After it is reported readable, it is held (left out
 * of the poll set) until held_until_ns, on CLOCK_MONOTONIC. */
struct watch {
	int fd;
	bool held;
	uint64_t held_until_ns;
};

/* The poll set's first two: the signals, then the timer; the watched follow. */
#define FIXED_FDS 2

struct loop {
	int timer_fd;
	int signal_fd;
	sigset_t old_mask;
	struct watch *watch;
	size_t nwatch, watch_cap;
	struct pollfd *fds; /* FIXED_FDS + nwatch, rebuilt by each wait */
	size_t fds_cap;
	size_t next;       /* the watched descriptor looked at first: turns go round */
	uint64_t batch_ns; /* a hold-off's length, 0 for none */
	/* The schedule, on CLOCK_MONOTONIC: tick k (from 0) is due at
	 * first_ns + k * interval_ns; ticks have expired so far. */
	uint64_t first_ns;
	uint64_t interval_ns;
	uint64_t ticks;
};

static const int loop_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};

int loop_set_interval(struct loop *l, uint32_t interval_ms)
{
	struct itimerspec its = {
	    .it_interval = {.tv_sec = interval_ms / 1000,
	                    .tv_nsec = (long)(interval_ms % 1000) * 1000000L},
	};
	/* An absolute first expiry, so that the schedule is known exactly. */
	uint64_t first = util_mono_ns() + (uint64_t)interval_ms * 1000000ULL;

	its.it_value.tv_sec = (time_t)(first / NSEC_PER_SEC);
	its.it_value.tv_nsec = (long)(first % NSEC_PER_SEC);
	if (timerfd_settime(l->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	l->first_ns = first;
	l->interval_ns = (uint64_t)interval_ms * 1000000ULL;
	l->ticks = 0;
	return 0;
}

int loop_new(struct loop **ret, uint32_t interval_ms)
{
	struct loop *l = calloc(1, sizeof(*l));
	sigset_t mask;
	int err;

	if (!l)
		return -ENOMEM;
	l->timer_fd = l->signal_fd = -1;
	sigemptyset(&mask);
	for (size_t i = 0; i < sizeof(loop_signals) / sizeof(loop_signals[0]); i++)
		sigaddset(&mask, loop_signals[i]);
	if (sigprocmask(SIG_BLOCK, &mask, &l->old_mask) < 0) {
		free(l);
		return -errno;
	}
	l->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (l->signal_fd < 0 || l->timer_fd < 0) {
		err = -errno;
		goto fail;
	}
	err = loop_set_interval(l, interval_ms);
	if (err < 0)
		goto fail;
	*ret = l;
	return 0;

fail:
	loop_free(l);
	return err;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	if (l->timer_fd >= 0)
		close(l->timer_fd);
	if (l->signal_fd >= 0)
		close(l->signal_fd);
	sigprocmask(SIG_SETMASK, &l->old_mask, NULL);
	free(l->watch);
	free(l->fds);
	free(l);
}

int loop_watch(struct loop *l, int fd)
{
	for (size_t i = 0; i < l->nwatch; i++) {
		if (l->watch[i].fd == fd) {
			l->watch[i].held = false;
			return 0;
		}
	}
	if (util_grow((void **)&l->watch, &l->watch_cap, l->nwatch + 1, sizeof(*l->watch), 8) < 0 ||
	    util_grow((void **)&l->fds, &l->fds_cap, FIXED_FDS + l->nwatch + 1, sizeof(*l->fds),
	              8) < 0)
		return -ENOMEM;
	l->watch[l->nwatch++] = (struct watch){.fd = fd};
	return 0;
}

void loop_unwatch(struct loop *l, int fd)
{
	for (size_t i = 0; i < l->nwatch; i++) {
		if (l->watch[i].fd == fd) {
			l->watch[i] = l->watch[--l->nwatch];
			return;
		}
	}
}

void loop_set_batch(struct loop *l, uint32_t batch_ms)
{
	uint64_t batch_ns = (uint64_t)batch_ms * 1000000ULL;

	/* A hold-off under way ends by the new length, counted from its start. */
	for (size_t i = 0; i < l->nwatch; i++)
		if (l->watch[i].held)
			l->watch[i].held_until_ns =
			    l->watch[i].held_until_ns - l->batch_ns + batch_ns;
	l->batch_ns = batch_ns;
}

/*
 * Fills the poll set's watched part: each watched descriptor, or -1 (which
 * ppoll() ignores) while it is held. Returns the timeout for ppoll(): NULL,
 * or LEFT set to what is left of the hold-off that ends first.
 */
static struct timespec *hold_watch(struct loop *l, struct timespec *left)
{
	uint64_t now = l->nwatch ? util_mono_ns() : 0, until = UINT64_MAX;

	for (size_t i = 0; i < l->nwatch; i++) {
		struct watch *w = &l->watch[i];

		if (w->held && now >= w->held_until_ns)
			w->held = false;
		l->fds[FIXED_FDS + i] =
		    (struct pollfd){.fd = w->held ? -1 : w->fd, .events = POLLIN};
		if (w->held && w->held_until_ns < until)
			until = w->held_until_ns;
	}
	if (until == UINT64_MAX)
		return NULL;
	left->tv_sec = (time_t)((until - now) / NSEC_PER_SEC);
	left->tv_nsec = (long)((until - now) % NSEC_PER_SEC);
	return left;
}

/*
 * The watched descriptor ppoll() found readable, from the one after the
 * last reported on, so that a flood on one cannot starve the others: held
 * for a hold-off and set in EV. Returns false when none is.
 */
static bool take_readable(struct loop *l, struct loop_event *ev)
{
	for (size_t k = 0; k < l->nwatch; k++) {
		size_t i = (l->next + k) % l->nwatch;
		struct watch *w = &l->watch[i];

		if (!(l->fds[FIXED_FDS + i].revents & (POLLIN | POLLERR)))
			continue;
		/* The owner reads it (a tick reads it too); level-triggered, it comes
		 * back until the owner has drained it, but not before the hold-off. */
		if (l->batch_ns > 0) {
			w->held = true;
			w->held_until_ns = util_mono_ns() + l->batch_ns;
		}
		l->next = i + 1;
		*ev = (struct loop_event){.type = LOOP_READABLE, .fd = w->fd};
		return true;
	}
	return false;
}

int loop_wait(struct loop *l, struct loop_event *ev)
{
	/* loop_watch() made room for the fixed two. */
	struct pollfd fixed[FIXED_FDS], *fds = l->fds ? l->fds : fixed;

	for (;;) {
		struct signalfd_siginfo si;
		struct timespec left, *timeout;
		uint64_t expirations;
		int ready;

		fds[0] = (struct pollfd){.fd = l->signal_fd, .events = POLLIN};
		fds[1] = (struct pollfd){.fd = l->timer_fd, .events = POLLIN};
		timeout = hold_watch(l, &left);
		ready = ppoll(fds, FIXED_FDS + l->nwatch, timeout, NULL);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (ready == 0)
			continue; /* a hold-off is over: watch again */
		if (fds[0].revents & POLLIN) {
			ssize_t n = read(l->signal_fd, &si, sizeof(si));

			if (n == sizeof(si)) {
				*ev = (struct loop_event){.type = LOOP_SIGNAL,
				                          .signo = (int)si.ssi_signo};
				return 0;
			}
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				return -errno;
		}
		if (fds[1].revents & POLLIN) {
			ssize_t n = read(l->timer_fd, &expirations, sizeof(expirations));

			if (n == sizeof(expirations)) {
				l->ticks += expirations;
				*ev = (struct loop_event){
				    .type = LOOP_TICK,
				    .missed = expirations - 1,
				    .due_ns = l->first_ns + (l->ticks - 1) * l->interval_ns,
				};
				return 0;
			}
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				return -errno;
		}
		if (take_readable(l, ev))
			return 0;
	}
}
