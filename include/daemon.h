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
#include "transition.h"

struct exporter;
struct journal;
struct loop;
struct nsscan;
struct nsset;

/*
 * The running daemon: what a reload replaces and what it keeps. main() fills
 * in the first six fields; daemon_run() the rest.
 */
struct daemon {
	const struct cli_options *opt; /* for a reload to build the configuration again */
	struct config cfg;
	const char *source;  /* of CFG, for messages */
	struct diag *diag;   /* owned by the caller; NULL with [poll] netns = all */
	struct logfile *log; /* owned by the caller; a reload may replace it */
	/* The namespace main() entered ([poll] netns names one), which the
	 * records then name; here.name NULL: our own, which they do not. */
	struct transition_netns here;
	struct nsset *set;         /* the namespaces watched, each with its socket table */
	struct nsscan *scan;       /* NULL: one namespace; else how to find them */
	uint64_t rescan_due_ns;    /* CLOCK_MONOTONIC */
	bool unreadable_said;      /* "processes' namespaces cannot be read" was logged */
	struct attrib attrib;      /* the maps the monitors' records use */
	struct journal *journal;   /* NULL: records not sent to the journal */
	bool journal_absent_said;  /* "no journal here" was logged */
	struct exporter *exporter; /* NULL: no metrics textfile */
	struct loop *loop;
	struct incidents inc;
	uint64_t lost_before; /* records lost in log files closed by a reload */
	bool ready;           /* READY=1 sent */
};

/* Opens the transition log that CFG names; exits 73 when it cannot. Start-up only. */
struct logfile *daemon_open_log(const struct config *cfg);

/* Gives CFG's filter to the kernel (bytecode with every dump through DIAG),
 * for --once. Returns 0 or -errno. */
int daemon_apply_filter(struct diag *diag, const struct config *cfg);

/*
 * Polls into D->log until SIGTERM or SIGINT, reloading on SIGHUP and
 * reopening the log on SIGUSR1. Exits 71 when it cannot start. Returns the
 * exit status: 0, or 71 when the event loop failed.
 */
int daemon_run(struct daemon *d);

#endif
