/* ctl_feed.h - records from the sources into the assembly, through the record filters. */
#ifndef TCPSTATED_CTL_FEED_H
#define TCPSTATED_CTL_FEED_H

#include <signal.h>

#include "ctl_conn.h"
#include "ctl_select.h"
#include "ctl_source.h"
#include "ctl_verbs.h"

struct feed {
	struct conn_table *table;
	const struct ctl_select *sel;
	struct verb_ctx *verb;             /* its now_us follows the records */
	struct source_report rep;          /* bad input, for the report at the end */
	unsigned opened;                   /* sources that could be opened */
	const volatile sig_atomic_t *stop; /* set by a signal: stop following */
};

/* Takes one record: loss records are counted, others filtered and
 * assembled. Returns 0 or -ENOMEM. */
int feed_record(struct feed *fd, const struct ctl_record *r);

/* Reads the file at PATH ("-": stdin) to its end. A file that cannot be
 * opened is counted as bad input (it vanished in a rotation) when VANISHED_OK,
 * else reported. Returns 0, or -ENOMEM. */
int feed_file(struct feed *fd, const char *path, int vanished_ok);

/* Reads the journal (DIR NULL: the local one) to its end, then, when
 * FOLLOW, waits for more until a signal stops it. Returns 0 or -errno. */
int feed_journal(struct feed *fd, const char *dir, int follow);

/* Reads the log at PATH, then follows it like tail -F until a signal stops
 * it; the verb goes live once the existing lines are read. Returns 0 or -errno. */
int feed_follow(struct feed *fd, const char *path);

#endif
