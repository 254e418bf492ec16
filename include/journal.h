/* journal.h - one transition as one structured journal entry (sd_journal_sendv). */
#ifndef TCPSTATED_JOURNAL_H
#define TCPSTATED_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/uio.h>

#include "transition.h"
#include "record.h"

/* Kinds of record, each with a fixed MESSAGE_ID (docs/systemd.md). */
enum journal_kind {
	JOURNAL_APPEARED, /* FROM is NONE */
	JOURNAL_CHANGED,  /* both states are real */
	JOURNAL_VANISHED, /* TO is NONE */
	JOURNAL_SUMMARY,  /* a connection summary */
	JOURNAL_KIND_MAX
};

/* The MESSAGE_ID of KIND, 32 hex digits. Never NULL. */
const char *journal_message_id(unsigned kind);

/* Every field an entry can have, with room to spare. */
#define JOURNAL_FIELDS_MAX 24

/* One entry: FIELD=value strings in buf, pointed to by iov. */
struct journal_entry {
	struct iovec iov[JOURNAL_FIELDS_MAX];
	size_t n;
	size_t used; /* bytes of buf */
	int err;     /* -ENOSPC once a field did not fit */
	char buf[RECORD_MAX + 4096]; /* MESSAGE, and the owner's cgroup path and unit */
};

/*
 * Fills E with T's fields: MESSAGE (the text record without its timestamp),
 * MESSAGE_ID, PRIORITY=6, SYSLOG_IDENTIFIER, and TCPSTATE_FAMILY, _LADDR,
 * _LPORT, _RADDR, _RPORT, _FROM, _TO, _HOW, _COOKIE, _TS, plus _UID and _INODE
 * when the kernel gave them, and _CGROUP, _UNIT, _PID, _COMM when T's owner
 * has them. No I/O. Returns 0, or -ENOSPC (cannot happen
 * with the buffer above).
 */
int journal_entry_build(struct journal_entry *e, const struct transition *t);

/* Sends T to the journal. Returns 0 or -errno (e.g. no journald running). */
int journal_send(const struct transition *t);

/* The MESSAGE_ID of the loss entry, 32 hex digits. */
#define JOURNAL_LOSS_MESSAGE_ID "904c2b07554746628c0bf4a75704c69b"

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
 * the kernel reported them. No I/O. Returns 0 or -ENOSPC.
 */
int journal_summary_build(struct journal_entry *e, const struct summary *s);

/* Sends S to the journal. Returns 0 or -errno. */
int journal_send_summary(const struct summary *s);

#endif
