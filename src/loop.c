/*
 * loop.c - the heartbeat: ppoll() over a timerfd, a signalfd and the
 * notification socket.
 *
 * Signals are read from a signalfd rather than caught, so nothing runs in
 * signal context and a signal can never interrupt a half-written record.
 *
 * The watched descriptor is batched: once it has been reported readable, it
 * is left out of the poll set for a hold-off, and whatever arrives meanwhile
 * waits in its receive buffer to be read at the next report, all at once.
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

struct loop {
	int timer_fd;
	int signal_fd;
	int watch_fd; /* -1: none */
	sigset_t old_mask;
	/* After the watched descriptor is reported readable, it is held (left
	 * out of the poll set) for batch_ns, 0 for never: until held_until_ns,
	 * on CLOCK_MONOTONIC. */
	uint64_t batch_ns;
	uint64_t held_until_ns;
	bool held;
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
	l->timer_fd = l->signal_fd = l->watch_fd = -1;
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
	free(l);
}

void loop_watch(struct loop *l, int fd)
{
	l->watch_fd = fd;
	l->held = false;
}

void loop_set_batch(struct loop *l, uint32_t batch_ms)
{
	/* A hold-off under way ends by the new length, counted from its start. */
	if (l->held)
		l->held_until_ns = l->held_until_ns - l->batch_ns + (uint64_t)batch_ms * 1000000ULL;
	l->batch_ns = (uint64_t)batch_ms * 1000000ULL;
}

/*
 * Points WATCH at the watched descriptor, or at -1 while it is held, and
 * returns the timeout for ppoll(): NULL, or LEFT set to what is left of the
 * hold-off.
 */
static struct timespec *hold_watch(struct loop *l, struct pollfd *watch, struct timespec *left)
{
	uint64_t now;

	watch->fd = l->watch_fd;
	if (!l->held)
		return NULL;
	now = util_mono_ns();
	if (now >= l->held_until_ns) {
		l->held = false;
		return NULL;
	}
	/* A negative fd is ignored by ppoll(). */
	watch->fd = -1;
	left->tv_sec = (time_t)((l->held_until_ns - now) / NSEC_PER_SEC);
	left->tv_nsec = (long)((l->held_until_ns - now) % NSEC_PER_SEC);
	return left;
}

int loop_wait(struct loop *l, struct loop_event *ev)
{
	/* A negative fd is ignored by ppoll(). */
	struct pollfd fds[3] = {
	    {.fd = l->signal_fd, .events = POLLIN},
	    {.fd = l->watch_fd, .events = POLLIN},
	    {.fd = l->timer_fd, .events = POLLIN},
	};

	for (;;) {
		struct signalfd_siginfo si;
		struct timespec left, *timeout;
		uint64_t expirations;
		int ready;

		timeout = hold_watch(l, &fds[1], &left);
		ready = ppoll(fds, 3, timeout, NULL);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (ready == 0)
			continue; /* the hold-off is over: watch again */
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
		if (fds[2].revents & POLLIN) {
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
		if (fds[1].revents & (POLLIN | POLLERR)) {
			/* The owner reads it (a tick reads it too); level-triggered, it comes back
			 * until the owner has drained it, but not before the hold-off is over. */
			if (l->batch_ns > 0) {
				l->held = true;
				l->held_until_ns = util_mono_ns() + l->batch_ns;
			}
			*ev = (struct loop_event){.type = LOOP_READABLE, .fd = l->watch_fd};
			return 0;
		}
	}
}
