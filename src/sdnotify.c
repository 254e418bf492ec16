/*
 * sdnotify.c - the only file that includes sd-daemon.h.
 *
 * The watchdog is fed from the polling loop itself, after a poll completed,
 * and never from a timer or a thread of its own: a poll stuck in a netlink
 * dump or a full disk must let the watchdog fire, so that systemd restarts
 * the daemon. Pings and status updates are rate-limited, because the loop
 * runs ten times a second and each message wakes PID 1.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "sdnotify.h"
#include "util.h"

#define USEC_PER_SEC  1000000ULL
#define USEC_PER_MSEC 1000ULL

/* Shortest gap between two STATUS= updates. */
#define STATUS_MIN_GAP_USEC USEC_PER_SEC

/* The watchdog must outlast this many poll intervals (see sdnotify_watchdog_fit). */
#define WATCHDOG_POLLS 3

static struct {
	bool active;             /* NOTIFY_SOCKET was set at init */
	uint64_t unit_usec;      /* the unit's WatchdogSec=, 0: no watchdog */
	uint64_t watchdog_usec;  /* interval in force, 0: no watchdog */
	uint64_t last_ping;      /* CLOCK_MONOTONIC, µs */
	uint64_t last_status_at; /* CLOCK_MONOTONIC, µs */
	char last_status[SDNOTIFY_STATUS_MAX];
} sdn;

/* sd_notify() returns > 0 when sent, 0 when there is no socket, or -errno. */
static int notify(const char *msg)
{
	int r;

	if (!sdn.active)
		return 0;
	r = sd_notify(0, msg);
	return r < 0 ? r : 0;
}

static void remember_status(const char *status)
{
	snprintf(sdn.last_status, sizeof(sdn.last_status), "%s", status ? status : "");
	sdn.last_status_at = (util_mono_ns() / 1000);
}

/* Sends STATE, then STATUS=STATUS if STATUS is not NULL, in one message. */
static int notify_with_status(const char *state, const char *status)
{
	char msg[SDNOTIFY_STATUS_MAX + 64];

	if (!status)
		return notify(state);
	snprintf(msg, sizeof(msg), "%s\nSTATUS=%s", state, status);
	remember_status(status);
	return notify(msg);
}

int sdnotify_init(void)
{
	uint64_t usec = 0;
	const char *sock = getenv("NOTIFY_SOCKET");

	sdn.active = sock && *sock;
	/* > 0 only when WATCHDOG_PID names this process. */
	if (sd_watchdog_enabled(1, &usec) <= 0)
		usec = 0;
	sdn.unit_usec = sdn.watchdog_usec = usec;
	sdn.last_ping = (util_mono_ns() / 1000);
	return 0;
}

int sdnotify_watchdog_fit(uint32_t interval_ms, uint64_t *ret_usec)
{
	uint64_t need = WATCHDOG_POLLS * (uint64_t)interval_ms * USEC_PER_MSEC;
	char msg[64];
	int err;

	if (need < sdn.unit_usec)
		need = sdn.unit_usec;
	if (sdn.watchdog_usec && sdn.watchdog_usec != need) {
		snprintf(msg, sizeof(msg), "WATCHDOG_USEC=%llu", (unsigned long long)need);
		err = notify(msg);
		if (err < 0)
			return err;
		sdn.watchdog_usec = need;
		sdn.last_ping = (util_mono_ns() / 1000); /* systemd restarts the timer on it */
	}
	*ret_usec = sdn.watchdog_usec;
	return 0;
}

int sdnotify_watchdog(void)
{
	uint64_t now;

	if (!sdn.watchdog_usec)
		return 0;
	now = (util_mono_ns() / 1000);
	if (now - sdn.last_ping < sdn.watchdog_usec / 2)
		return 0;
	sdn.last_ping = now;
	return notify("WATCHDOG=1");
}

int sdnotify_ready(const char *status)
{
	return notify_with_status("READY=1", status);
}

int sdnotify_reloading(const char *status)
{
	return notify_with_status("RELOADING=1", status);
}

int sdnotify_stopping(const char *status)
{
	return notify_with_status("STOPPING=1", status);
}

bool sdnotify_status_due(void)
{
	return sdn.active && (util_mono_ns() / 1000) - sdn.last_status_at >= STATUS_MIN_GAP_USEC;
}

int sdnotify_status(const char *status)
{
	char msg[SDNOTIFY_STATUS_MAX + 16];

	if (!sdnotify_status_due() || strcmp(status, sdn.last_status) == 0)
		return 0;
	snprintf(msg, sizeof(msg), "STATUS=%s", status);
	remember_status(status);
	return notify(msg);
}
