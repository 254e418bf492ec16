/* daemon.h - the daemon's life: start, the loop's events, reload, stop. */
#ifndef TCPSTATED_DAEMON_H
#define TCPSTATED_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "attrib.h"
#include "cli.h"
#include "config.h"
#include "diag.h"
#include "incident.h"
#include "logfile.h"

struct exporter;
struct journal;
struct loop;
struct monitor;

/*
 * The running daemon: what a reload replaces and what it keeps. main() fills
 * in the first five fields; daemon_run() the rest.
 */
struct daemon {
	const struct cli_options *opt; /* for a reload to build the configuration again */
	struct config cfg;
	const char *source;         /* of CFG, for messages */
	struct diag *diag;          /* owned by the caller */
	struct logfile *log;        /* owned by the caller; a reload may replace it */
	struct diag_events *events; /* NULL: polling alone */
	uint64_t event_buffer;      /* its receive buffer as granted, bytes */
	struct monitor *mon;        /* keeps the socket table across reloads */
	struct attrib attrib;       /* the maps the monitor's records use */
	struct journal *journal;    /* NULL: records not sent to the journal */
	bool journal_absent_said;   /* "no journal here" was logged */
	struct exporter *exporter;  /* NULL: no metrics textfile */
	struct loop *loop;
	struct incidents inc;
	uint64_t lost_before; /* records lost in log files closed by a reload */
	bool ready;           /* READY=1 sent */
};

/* Opens the transition log that CFG names; exits 73 when it cannot. Start-up only. */
struct logfile *daemon_open_log(const struct config *cfg);

/*
 * Gives CFG's filter to the kernel (bytecode with every dump) and, when MON
 * is not NULL, to the monitor (states, and the same tuples in user space).
 * Returns 0 or -errno.
 */
int daemon_apply_filter(struct diag *diag, struct monitor *mon, const struct config *cfg);

/*
 * Polls into D->log until SIGTERM or SIGINT, reloading on SIGHUP and
 * reopening the log on SIGUSR1. Exits 71 when it cannot start. Returns the
 * exit status: 0, or 71 when the event loop failed.
 */
int daemon_run(struct daemon *d);

#endif
