/*
 * journal.c - tcpstated's entries in the journal: each record as one
 * structured entry, sent within the budget (jbudget.c), and the daemon's own
 * entries (records not sent, records lost, started, reloaded).
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

#include <stdlib.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/socket.h>

/* Records are data, not diagnostics: no CODE_FILE/CODE_LINE on each. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "journal.h"
#include "record.h"
#include "util.h"

/* Where libsystemd sends entries (sd_journal_sendv). */

static const char *const message_ids[JOURNAL_KIND_MAX] = {
    [JOURNAL_APPEARED] = JOURNAL_ID_APPEARED, [JOURNAL_CHANGED] = JOURNAL_ID_CHANGED,
    [JOURNAL_VANISHED] = JOURNAL_ID_VANISHED, [JOURNAL_SUMMARY] = JOURNAL_ID_SUMMARY,
    [JOURNAL_NOT_SENT] = JOURNAL_ID_NOT_SENT, [JOURNAL_LOST] = JOURNAL_ID_LOST,
    [JOURNAL_STARTED] = JOURNAL_ID_STARTED,   [JOURNAL_RELOADED] = JOURNAL_ID_RELOADED,
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

/*
 * The fields of what a record says of its connection (A), of its namespace
 * NS (NULL: not said) and of its OWNER (NULL: not looked up), as the log
 * file has them: the ids learnt once are on every record of the connection.
 */
static void add_about(struct journal_entry *e, struct transition_about a,
                      const struct transition_netns *ns, const struct sock_owner *owner)
{
	if (a.has_in_state)
		add(e, "TCPSTATE_IN_STATE_US=%" PRIu64, a.in_state_us);
	if (a.role)
		add(e, "TCPSTATE_ROLE=%s", a.role);
	if (a.peer)
		add(e, "TCPSTATE_PEER=%" PRIu64, a.peer);
	if (a.has_uid)
		add(e, "TCPSTATE_UID=%" PRIu32, a.uid);
	if (a.inode)
		add(e, "TCPSTATE_INODE=%" PRIu32, a.inode);
	/* The name raw, as the owner's names are, and cut where the log's is. */
	if (ns) {
		add(e, "TCPSTATE_NETNS=%.*s", RECORD_NETNS_NAME_MAX, ns->name ? ns->name : "");
		add(e, "TCPSTATE_NETNS_INO=%" PRIu64, ns->ino);
	}
	/* Journal fields take any bytes but a newline is the end of a field in
	 * the native protocol's simple form, which sd_journal_sendv() avoids by
	 * sending such a field in its binary form. */
	if (owner && owner->cgroup)
		add(e, "TCPSTATE_CGROUP=%s", owner->cgroup);
	if (owner && owner->unit)
		add(e, "TCPSTATE_UNIT=%s", owner->unit);
	if (owner && owner->pid) {
		add(e, "TCPSTATE_PID=%" PRIu32, owner->pid);
		add(e, "TCPSTATE_COMM=%s", owner->comm ? owner->comm : "");
	}
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
	add_about(e, transition_about_of(sk, t->conn, t), t->netns, t->owner);
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
	return sd_journal_send(
	    "MESSAGE=%" PRIu64 " records could not be written to %s between %s and %s", lost, path,
	    a, b, "MESSAGE_ID=" JOURNAL_ID_LOST, "PRIORITY=4", "SYSLOG_IDENTIFIER=tcpstated",
	    "TCPSTATE_LOST=%" PRIu64, lost, "TCPSTATE_SINCE=%s", a, "TCPSTATE_UNTIL=%s", b,
	    "TCPSTATE_LOG=%s", path, NULL);
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
	/* As in the log file: how it ended when the connection was known. */
	if (s->conn)
		add(e, "TCPSTATE_OUTCOME=%s", transition_outcome_name(s->outcome));
	if (s->conn && transition_side_name(s->closer))
		add(e, "TCPSTATE_CLOSER=%s", transition_side_name(s->closer));
	add_about(e, transition_about_of(s->sk, s->conn, NULL), s->netns, s->owner);
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

bool journal_available(void)
{
	return access(JOURNAL_SOCKET_PATH, W_OK) == 0;
}

struct journal {
	struct jbudget budget;
};

int journal_new(struct journal **ret, uint32_t rate, uint32_t burst)
{
	struct journal *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	jbudget_init(&j->budget, rate, burst, util_mono_ns());
	*ret = j;
	return 0;
}

void journal_free(struct journal *j)
{
	free(j);
}

void journal_set_budget(struct journal *j, uint32_t rate, uint32_t burst)
{
	jbudget_set(&j->budget, rate, burst, util_mono_ns());
}

/*
 * Sends the transition T or the summary S (the other is NULL) within J's
 * budget. The token is taken before the entry is built: over the budget,
 * which is when records come fastest, a record costs no formatting at all.
 */
static int record_within(struct journal *j, const struct transition *t, const struct summary *s)
{
	const struct timespec *ts = t ? &t->ts : &s->ts;
	int err;

	if (!jbudget_take(&j->budget, util_mono_ns(), ts))
		return JOURNAL_OVER;
	err = t ? journal_send(t) : journal_send_summary(s);
	if (err < 0)
		jbudget_failed(&j->budget, ts);
	return err;
}

int journal_record(struct journal *j, const struct transition *t)
{
	return record_within(j, t, NULL);
}

int journal_record_summary(struct journal *j, const struct summary *s)
{
	return record_within(j, NULL, s);
}

int journal_not_sent_build(struct journal_entry *e, const struct jbudget_report *r, uint32_t rate,
                           uint32_t burst, const char *log_path)
{
	char a[32], b[32], msg[PATH_MAX + 256];

	if (record_format_time(a, sizeof(a), &r->since) < 0 ||
	    record_format_time(b, sizeof(b), &r->until) < 0)
		return -EOVERFLOW;
	snprintf(msg, sizeof(msg),
	         "%" PRIu64 " records between %s and %s not sent to the journal (%" PRIu64
	         " over the budget of %" PRIu32 " a second, burst %" PRIu32 ", %" PRIu64
	         " refused by the journal); %s has them all",
	         r->over + r->failed, a, b, r->over, rate, burst, r->failed, log_path);
	*e = (struct journal_entry){.n = 0};
	add(e, "MESSAGE=%s", msg);
	add(e, "MESSAGE_ID=%s", journal_message_id(JOURNAL_NOT_SENT));
	add(e, "PRIORITY=4");
	add(e, "SYSLOG_IDENTIFIER=tcpstated");
	add(e, "TCPSTATE_NOT_SENT=%" PRIu64, r->over + r->failed);
	add(e, "TCPSTATE_OVER_BUDGET=%" PRIu64, r->over);
	add(e, "TCPSTATE_FAILED=%" PRIu64, r->failed);
	add(e, "TCPSTATE_SINCE=%s", a);
	add(e, "TCPSTATE_UNTIL=%s", b);
	add(e, "TCPSTATE_LOG=%s", log_path);
	add(e, "TCPSTATE_RATE=%" PRIu32, rate);
	add(e, "TCPSTATE_BURST=%" PRIu32, burst);
	return e->err;
}

/*
 * The report itself bypasses the budget: it is one entry per
 * JBUDGET_REPORT_NS at most, which the budget's defaults leave room for
 * under journald's limit.
 */
int journal_report(struct journal *j, const char *log_path, bool all)
{
	uint64_t now = util_mono_ns();
	struct jbudget_report r;
	struct journal_entry e;
	int err;

	/* ALL: asked as at a time long after any report. */
	if (!jbudget_report_due(&j->budget, all ? UINT64_MAX : now, &r))
		return 0;
	err = journal_not_sent_build(&e, &r, j->budget.rate, j->budget.burst, log_path);
	if (err == 0)
		err = sd_journal_sendv(e.iov, (int)e.n);
	if (err < 0)
		return err;
	jbudget_reported(&j->budget, now);
	return 1;
}

int journal_settings_build(struct journal_entry *e, bool reloaded, const char *msg,
                           const struct config *cfg, const char *source)
{
	*e = (struct journal_entry){.n = 0};
	add(e, "MESSAGE=%s", msg);
	add(e, "MESSAGE_ID=%s", journal_message_id(reloaded ? JOURNAL_RELOADED : JOURNAL_STARTED));
	add(e, "PRIORITY=6");
	add(e, "SYSLOG_IDENTIFIER=tcpstated");
	add(e, "TCPSTATE_VERSION=%s", TCPSTATED_VERSION);
	add(e, "TCPSTATE_CONFIG=%s", source);
	add(e, "TCPSTATE_INTERVAL_MS=%" PRIu32, cfg->interval_ms);
	add(e, "TCPSTATE_LOG=%s", cfg->log_path);
	add(e, "TCPSTATE_FORMAT=%s", record_format_name(cfg->log.format));
	add(e, "TCPSTATE_JOURNAL=%s", cfg->journal ? "yes" : "no");
	add(e, "TCPSTATE_RATE=%" PRIu32, cfg->journal_rate);
	add(e, "TCPSTATE_BURST=%" PRIu32, cfg->journal_burst);
	return e->err;
}

int journal_send_settings(bool reloaded, const char *msg, const struct config *cfg,
                          const char *source)
{
	struct journal_entry e;
	int err = journal_settings_build(&e, reloaded, msg, cfg, source);

	if (err < 0)
		return err;
	return sd_journal_sendv(e.iov, (int)e.n);
}
