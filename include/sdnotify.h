/* sdnotify.h - telling systemd how the service is doing (sd_notify). */
#ifndef TCPSTATED_SDNOTIFY_H
#define TCPSTATED_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Every function is a no-op returning 0 when the process was not started by
 * systemd with a notification socket (NOTIFY_SOCKET unset). Errors are
 * returned as -errno and never logged here. Not thread-safe: the module keeps
 * the process's one watchdog and status state, so only the polling thread
 * calls it.
 */

/*
 * Reads the watchdog interval systemd asked for (WATCHDOG_USEC, for this PID)
 * and forgets it in the environment so that no child inherits it. Returns 0.
 */
int sdnotify_init(void);

/*
 * Makes sure that a loop polling every INTERVAL_MS can keep the watchdog fed:
 * when the unit's interval is shorter than three polls, asks systemd for a
 * longer one (WATCHDOG_USEC=), and for the unit's own again once the polls are
 * short enough. Sets *ret_usec to the interval in force, 0 when
 * there is no watchdog. Returns 0 or -errno.
 */
int sdnotify_watchdog_fit(uint32_t interval_ms, uint64_t *ret_usec);

/*
 * Pings the watchdog, at most once per half watchdog interval. Call it only
 * after a poll has completed, so that a stuck poll lets the watchdog fire.
 * Returns 0 or -errno.
 */
int sdnotify_watchdog(void);

/* READY=1 with STATUS=STATUS (STATUS may be NULL). Returns 0 or -errno. */
int sdnotify_ready(const char *status);

/* RELOADING=1 with STATUS=STATUS (STATUS may be NULL). Returns 0 or -errno. */
int sdnotify_reloading(const char *status);

/* STOPPING=1 with STATUS=STATUS (STATUS may be NULL). Returns 0 or -errno. */
int sdnotify_stopping(const char *status);

/* Room for a status line, NUL included; a longer one is cut. */
#define SDNOTIFY_STATUS_MAX 512

/*
 * Whether sdnotify_status() would send now: under systemd, and a second
 * after the last status. Lets the caller skip formatting one that would be
 * dropped.
 */
bool sdnotify_status_due(void);

/*
 * STATUS=STATUS, sent at most once a second and only when it differs from
 * the last status sent. Returns 0 or -errno.
 */
int sdnotify_status(const char *status);

#endif
