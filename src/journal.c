/*
 * journal.c - one transition as one structured journal entry.
 *
 * The fields mirror the JSON record (docs/record-format.md) under a
 * TCPSTATE_ prefix, so that journalctl can match on them
 * (journalctl -u tcpstated TCPSTATE_TO=TIME_WAIT). Values are written in the
 * same words as the log file: state names as netstat spells them, ports as
 * decimal numbers, addresses as inet_ntop prints them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>

/* Records are data, not diagnostics: no CODE_FILE/CODE_LINE on each. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "journal.h"
#include "record.h"

/* Generated once with systemd-id128 new; documented in docs/systemd.md. */
static const char *const message_ids[JOURNAL_KIND_MAX] = {
    [JOURNAL_APPEARED] = "47c5afb8f94f4b73b2778622ab66d4a0",
    [JOURNAL_CHANGED] = "0150bd6566304c2c8ffb1b7f84c3487a",
    [JOURNAL_VANISHED] = "e523b9aa453443ff97df2a4c334f6e67",
    [JOURNAL_SUMMARY] = "4f27521f84ea4caeba33df955840183b",
};

const char *journal_message_id(unsigned kind)
{
	return message_ids[kind < JOURNAL_KIND_MAX ? kind : JOURNAL_CHANGED];
}

static unsigned kind_of(const struct transition *t)
{
	if (t->from == SOCK_NONE)
		return JOURNAL_APPEARED;
	if (t->to == SOCK_NONE)
		return JOURNAL_VANISHED;
	return JOURNAL_CHANGED;
}

/* Appends one "FIELD=value" to E; after a field that did not fit, nothing. */
static void __attribute__((format(printf, 2, 3))) add(struct journal_entry *e, const char *fmt, ...)
{
	char *p = e->buf + e->used;
	size_t room = sizeof(e->buf) - e->used;
	va_list ap;
	int n;

	if (e->err)
		return;
	if (e->n == JOURNAL_FIELDS_MAX) {
		e->err = -ENOSPC;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(p, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		e->err = -ENOSPC;
		return;
	}
	e->iov[e->n++] = (struct iovec){.iov_base = p, .iov_len = (size_t)n};
	e->used += (size_t)n + 1;
}

/*
 * The text record without its timestamp and newline, with the padding that
 * aligns columns in a file squeezed to single spaces: the journal puts its
 * own, variable-width prefix in front, so alignment would be lost anyway.
 */
static int squeeze_message(char *buf, size_t size, const char *line)
{
	const char *p;
	size_t n = 0;

	p = strchr(line, ' ');
	p = p ? p + 1 : line;
	for (; *p && *p != '\n'; p++) {
		if (*p == ' ' && n > 0 && buf[n - 1] == ' ')
			continue;
		if (n + 1 >= size)
			return -ENOSPC;
		buf[n++] = *p;
	}
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	return (int)n;
}

/*
 * Starts E with what every entry about a socket has: MESSAGE (the text
 * record MSG, squeezed, in place), MESSAGE_ID, PRIORITY, SYSLOG_IDENTIFIER,
 * and SK's family, addresses, ports and cookie, and the record's time TS.
 */
static int entry_begin(struct journal_entry *e, char *msg, size_t msglen, const char *message_id,
		       const struct sock *sk, const struct timespec *ts)
{
	const struct sock_tuple *tu = &sk->tuple;
	char laddr[INET6_ADDRSTRLEN], raddr[INET6_ADDRSTRLEN], when[32];
	int err;

	e->n = 0;
	e->used = 0;
	e->err = 0;
	err = squeeze_message(msg, msglen, msg);
	if (err < 0)
		return err;
	if (record_format_time(when, sizeof(when), ts) < 0)
		return -EOVERFLOW;
	record_format_addr(laddr, sizeof(laddr), tu->family, tu->laddr);
	record_format_addr(raddr, sizeof(raddr), tu->family, tu->raddr);

	add(e, "MESSAGE=%s", msg);
	add(e, "MESSAGE_ID=%s", message_id);
	add(e, "PRIORITY=6");
	add(e, "SYSLOG_IDENTIFIER=tcpstated");
	add(e, "TCPSTATE_FAMILY=%s", tu->family == AF_INET6 ? "ipv6" : "ipv4");
	add(e, "TCPSTATE_LADDR=%s", laddr);
	add(e, "TCPSTATE_LPORT=%u", tu->lport);
	add(e, "TCPSTATE_RADDR=%s", raddr);
	add(e, "TCPSTATE_RPORT=%u", tu->rport);
	add(e, "TCPSTATE_COOKIE=%" PRIu64, sk->cookie);
	add(e, "TCPSTATE_TS=%s", when);
	return 0;
}

int journal_entry_build(struct journal_entry *e, const struct transition *t)
{
	const struct sock *sk = t->sk;
	char msg[RECORD_MAX];
	int err;

	err = record_format(msg, sizeof(msg), t, RECORD_TEXT);
	if (err >= 0)
		err = entry_begin(e, msg, sizeof(msg), journal_message_id(kind_of(t)), sk, &t->ts);
	if (err < 0)
		return err;
	add(e, "TCPSTATE_FROM=%s", sock_state_name(t->from));
	add(e, "TCPSTATE_TO=%s", sock_state_name(t->to));
	add(e, "TCPSTATE_HOW=%s", transition_how_name(t->how));
	/* As in the log file: uid only for full sockets, inode only where the
	 * kernel has one (not for minisockets and orphans). */
	if (sk->kind == SOCK_KIND_FULL)
		add(e, "TCPSTATE_UID=%" PRIu32, sk->uid);
	if (sk->kind == SOCK_KIND_FULL && sk->inode)
		add(e, "TCPSTATE_INODE=%" PRIu32, sk->inode);
	/* Journal fields take any bytes but a newline is the end of a field in
	 * the native protocol's simple form, which sd_journal_sendv() avoids by
	 * sending such a field in its binary form. */
	if (t->owner && t->owner->cgroup)
		add(e, "TCPSTATE_CGROUP=%s", t->owner->cgroup);
	if (t->owner && t->owner->unit)
		add(e, "TCPSTATE_UNIT=%s", t->owner->unit);
	if (t->owner && t->owner->pid) {
		add(e, "TCPSTATE_PID=%" PRIu32, t->owner->pid);
		add(e, "TCPSTATE_COMM=%s", t->owner->comm ? t->owner->comm : "");
	}
	return e->err;
}

int journal_send(const struct transition *t)
{
	struct journal_entry e;
	int err;

	err = journal_entry_build(&e, t);
	if (err < 0)
		return err;
	return sd_journal_sendv(e.iov, (int)e.n);
}

int journal_send_loss(const char *path, uint64_t lost, const struct timespec *since,
		      const struct timespec *until)
{
	char a[32], b[32];

	if (record_format_time(a, sizeof(a), since) < 0 ||
	    record_format_time(b, sizeof(b), until) < 0)
		return -EOVERFLOW;
	return sd_journal_send("MESSAGE=%" PRIu64 " records could not be written to %s between %s and %s",
			       lost, path, a, b, "MESSAGE_ID=" JOURNAL_LOSS_MESSAGE_ID, "PRIORITY=4",
			       "SYSLOG_IDENTIFIER=tcpstated", "TCPSTATE_LOST=%" PRIu64, lost,
			       "TCPSTATE_SINCE=%s", a, "TCPSTATE_UNTIL=%s", b, "TCPSTATE_LOG=%s",
			       path, NULL);
}

int journal_summary_build(struct journal_entry *e, const struct summary *s)
{
	const struct sock_info *in = &s->info;
	char msg[RECORD_MAX];
	int err;

	err = record_format_summary(msg, sizeof(msg), s, RECORD_TEXT);
	if (err >= 0)
		err = entry_begin(e, msg, sizeof(msg), journal_message_id(JOURNAL_SUMMARY), s->sk,
				  &s->ts);
	if (err < 0)
		return err;
	add(e, "TCPSTATE_LIFETIME_US=%" PRIu64, s->lifetime_us);
	if (in->has & SOCK_INFO_HAS_BYTES) {
		add(e, "TCPSTATE_BYTES_SENT=%" PRIu64, in->bytes_acked);
		add(e, "TCPSTATE_BYTES_RECEIVED=%" PRIu64, in->bytes_received);
	}
	if (in->has & SOCK_INFO_HAS_RETRANS)
		add(e, "TCPSTATE_RETRANS=%" PRIu32, in->total_retrans);
	if (in->has & SOCK_INFO_HAS_RTT)
		add(e, "TCPSTATE_RTT_US=%" PRIu32, in->rtt_us);
	return e->err;
}

int journal_send_summary(const struct summary *s)
{
	struct journal_entry e;
	int err;

	err = journal_summary_build(&e, s);
	if (err < 0)
		return err;
	return sd_journal_sendv(e.iov, (int)e.n);
}
