/* journal.h - tcpstated's entries in the journal: each record within the budget, and the daemon's
 * own. */
#ifndef TCPSTATED_JOURNAL_H
#define TCPSTATED_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/uio.h>

#include "config.h"
#include "jbudget.h"
#include "journal_ids.h"
#include "transition.h"
#include "record.h"

/* Kinds of entry, each with a fixed MESSAGE_ID (journal_ids.h, docs/systemd.md). */
enum journal_kind {
	JOURNAL_APPEARED, /* FROM is NONE */
	JOURNAL_CHANGED,  /* both states are real */
	JOURNAL_VANISHED, /* TO is NONE */
	JOURNAL_SUMMARY,  /* a connection summary */
	JOURNAL_NOT_SENT, /* records held back by the budget or refused by the journal */
	JOURNAL_LOST,     /* records the log file lost */
	JOURNAL_STARTED,  /* the daemon started, with its settings */
	JOURNAL_RELOADED, /* the daemon reloaded its configuration */
	JOURNAL_KIND_MAX
};

/* The MESSAGE_ID of KIND, 32 hex digits. Never NULL. */
const char *journal_message_id(unsigned kind);

/* Every field an entry can have, with room to spare: a summary has the most,
 * 28 (11 that every entry about a socket has, 5 figures, outcome and closer,
 * 4 of its connection, 2 of its namespace, 4 of its owner); a transition 25. */
#define JOURNAL_FIELDS_MAX 32

/* One entry: FIELD=value strings in buf, pointed to by iov. */
struct journal_entry {
	struct iovec iov[JOURNAL_FIELDS_MAX];
	size_t n;
	size_t used;                 /* bytes of buf */
	int err;                     /* -ENOSPC once a field did not fit */
	char buf[RECORD_MAX + 4096]; /* MESSAGE, and the owner's cgroup path and unit */
};

/*
 * Fills E with T's fields: MESSAGE (the text record without its timestamp),
 * MESSAGE_ID, PRIORITY=6, SYSLOG_IDENTIFIER, and TCPSTATE_FAMILY, _LADDR,
 * _LPORT, _RADDR, _RPORT, _FROM, _TO, _HOW, _COOKIE, _TS, plus _UID and _INODE
 * when the kernel gave them, _NETNS and _NETNS_INO when T says its
 * namespace, and _CGROUP, _UNIT, _PID, _COMM when T's owner has them. No
 * I/O. Returns 0, or -ENOSPC (cannot happen with the buffer above).
 */
int journal_entry_build(struct journal_entry *e, const struct transition *t);

/* Sends T to the journal. Returns 0 or -errno (e.g. no journald running). */
int journal_send(const struct transition *t);

/*
 * Sends the loss entry: LOST records could not be written to the log file
 * PATH between SINCE and UNTIL (TCPSTATE_LOST, _SINCE, _UNTIL, _LOG), at
 * PRIORITY=4. Returns 0 or -errno.
 */
int journal_send_loss(const char *path, uint64_t lost, const struct timespec *since,
                      const struct timespec *until);
/*
 * Fills E with the summary S: MESSAGE (the text summary without its
 * timestamp), MESSAGE_ID of JOURNAL_SUMMARY, PRIORITY=6, SYSLOG_IDENTIFIER,
 * TCPSTATE_FAMILY, _LADDR, _LPORT, _RADDR, _RPORT, _COOKIE, _TS,
 * _LIFETIME_US, and _BYTES_SENT, _BYTES_RECEIVED, _RETRANS, _RTT_US where
 * the kernel reported them, then what it says of its connection, namespace
 * and owner as journal_entry_build(). No I/O. Returns 0 or -ENOSPC.
 */
int journal_summary_build(struct journal_entry *e, const struct summary *s);

/* Sends S to the journal. Returns 0 or -errno. */
int journal_send_summary(const struct summary *s);

/* Where libsystemd sends entries (sd_journal_sendv). */
#define JOURNAL_SOCKET_PATH "/run/systemd/journal/socket"

/* Whether this host has a journal to send to (journald's socket). */
bool journal_available(void);

/* Records sent to the journal within a budget (jbudget.h); NULL: none are. */
struct journal;

/* A sender with RATE entries a second and BURST at once (both >= 1). Returns 0 and *RET, or
 * -ENOMEM. */
int journal_new(struct journal **ret, uint32_t rate, uint32_t burst);

/* Frees J. Accepts NULL. */
void journal_free(struct journal *j);

/* Changes J's budget (a reload); what it held back stays to be reported. */
void journal_set_budget(struct journal *j, uint32_t rate, uint32_t burst);

/* What journal_record() returns for a record over the budget, not sent. */
#define JOURNAL_OVER 1

/*
 * Sends T when J's budget allows. Returns 0 (sent), JOURNAL_OVER (held
 * back), or -errno (the journal refused it); either of the last two is
 * counted for the next "not sent" entry.
 */
int journal_record(struct journal *j, const struct transition *t);

/* As journal_record(), for the summary S. */
int journal_record_summary(struct journal *j, const struct summary *s);

/*
 * Sends the "not sent" entry when one is due (at most one each
 * JBUDGET_REPORT_NS), or when anything is pending and ALL (at a stop): how
 * many records were held back or refused since the last, and that LOG_PATH
 * has them all. Returns 0 (none due), 1 (sent), or -errno, in which case
 * they stay counted for the next attempt.
 */
int journal_report(struct journal *j, const char *log_path, bool all);

/*
 * Fills E with the "not sent" entry for R under the budget RATE/BURST:
 * MESSAGE, MESSAGE_ID of JOURNAL_NOT_SENT, PRIORITY=4, SYSLOG_IDENTIFIER,
 * TCPSTATE_NOT_SENT (the total), _OVER_BUDGET, _FAILED, _SINCE, _UNTIL,
 * _LOG, _RATE, _BURST. No I/O. Returns 0 or -ENOSPC.
 */
int journal_not_sent_build(struct journal_entry *e, const struct jbudget_report *r, uint32_t rate,
                           uint32_t burst, const char *log_path);

/*
 * Fills E with the entry that says the daemon started (or RELOADED) with CFG
 * from SOURCE: MESSAGE (the text MSG), MESSAGE_ID of JOURNAL_STARTED or
 * JOURNAL_RELOADED, PRIORITY=6, SYSLOG_IDENTIFIER, TCPSTATE_VERSION,
 * _CONFIG, _INTERVAL_MS, _LOG, _FORMAT, _JOURNAL, _RATE, _BURST. No I/O.
 * Returns 0 or -ENOSPC.
 */
int journal_settings_build(struct journal_entry *e, bool reloaded, const char *msg,
                           const struct config *cfg, const char *source);

/* Builds that entry and sends it. Returns 0 or -errno. */
int journal_send_settings(bool reloaded, const char *msg, const struct config *cfg,
                          const char *source);

#endif
