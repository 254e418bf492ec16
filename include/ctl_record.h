/* ctl_record.h - one record line (text or JSON) or journal entry in, one parsed record out. No I/O.
 */
#ifndef TCPSTATED_CTL_RECORD_H
#define TCPSTATED_CTL_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "record_fields.h"
#include "sock.h"

enum ctl_record_kind {
	CTL_RECORD_TRANSITION, /* FROM -> TO of one socket */
	CTL_RECORD_SUMMARY,    /* a connection's summary ("kind":"summary") */
	CTL_RECORD_LOSS,       /* records the daemon could not write ("event":"lost") */
	CTL_RECORD_OTHER,      /* a later kind of line this reader does not know: skip it */
	CTL_RECORD_KIND_MAX
};

/* The longest unit, comm, host or word kept; longer ones are cut. */
#define CTL_NAME_MAX 256
#define CTL_WORD_MAX 24

/* A parsed record. Optional fields are valid when their bit is set in has. */
struct ctl_record {
	uint8_t kind; /* enum ctl_record_kind */
	uint8_t from; /* enum sock_state */
	uint8_t to;
	uint8_t how;   /* enum ctl_how */
	int64_t ts_us; /* microseconds since the epoch, UTC */
	uint64_t cookie;
	struct sock_tuple tuple;
	uint64_t has; /* 1 << RECORD_FIELD_x for each field present */
	uint32_t uid, inode, pid;
	uint32_t retrans, rtt_us;
	uint64_t lifetime_us, bytes_sent, bytes_received, in_state_us, lost, peer;
	uint64_t netns_ino; /* the namespace's inode; 0: not said */
	char unit[CTL_NAME_MAX];
	char comm[CTL_NAME_MAX];
	char host[CTL_NAME_MAX];  /* the journal's _HOSTNAME; "" from a file */
	char netns[CTL_NAME_MAX]; /* the namespace's readable name (RECORD_NETNS_NAME_MAX fits) */
	char outcome[CTL_WORD_MAX];
	char closer[CTL_WORD_MAX];
	char role[CTL_WORD_MAX];
};

/* How a transition was seen, as record.c names it. */
enum ctl_how { CTL_HOW_INITIAL, CTL_HOW_POLL, CTL_HOW_DESTROY, CTL_HOW_NETNS, CTL_HOW_MAX };

/* "initial", "poll", "destroy", "netns" (its namespace vanished). Never NULL. */
const char *ctl_how_name(unsigned how);

/* Nonzero when R has FIELD. */
#define CTL_HAS(r, field) (((r)->has >> RECORD_FIELD_##field) & 1u)

/*
 * Parses LINE, LEN bytes (a trailing newline, '\r' or blanks are
 * ignored), as the daemon's text or JSON record, told apart by its first
 * byte, into *RET. Unknown JSON keys and text key=value pairs are ignored.
 * Returns 0, -ENODATA for a blank line, or -EINVAL for a line that is no
 * record (with *RET undefined).
 */
int recread_line(const char *line, size_t len, struct ctl_record *ret);

/*
 * The journal: recread_begin() starts E on *R, an empty transition, then
 * recread_field() adds one "FIELD=value" of an entry (fields it does not know
 * are ignored), and recread_end() checks that the entry made a whole record. MESSAGE_ID says
 * the kind of entry, _HOSTNAME the host. recread_end() returns 0 or -EINVAL.
 */
struct recread_entry {
	struct ctl_record *r;
	uint8_t laddr_family, raddr_family; /* as parsed, checked against "family" */
	int bad;                            /* a field the record needs had a bad value */
};
void recread_begin(struct recread_entry *e, struct ctl_record *r);
void recread_field(struct recread_entry *e, const char *data, size_t len);
int recread_end(struct recread_entry *e);

/* Parses "2026-11-24T12:04:58.844212Z" (exactly that form) into *RET_US.
 * Returns 0 or -EINVAL. */
int recread_time(const char *s, size_t len, int64_t *ret_us);

#endif
