/* ctl_select.h - which connections the user asked for, and journalctl's time syntax. No I/O. */
#ifndef TCPSTATED_CTL_SELECT_H
#define TCPSTATED_CTL_SELECT_H

#include <stdint.h>

#include "ctl_conn.h"
#include "ctl_record.h"

/* The filters; each unset one selects everything. */
struct ctl_select {
	int port;              /* local or remote; -1: any */
	uint8_t host_family;   /* 0: any host */
	uint8_t host_addr[16]; /* --host ADDR/LEN, masked */
	unsigned host_len;     /* prefix length */
	const char *unit;      /* exact unit name */
	const char *comm;      /* exact command name */
	uint64_t cookie;       /* 0: any */
	const char *netns;     /* --netns: an fnmatch(3) pattern on the name; NULL: any */
	uint64_t netns_ino;    /* ... and, when it is a number, the inode it also matches */
	int state;             /* a state the connection passed through; -1: any */
	int outcome;           /* enum conn_outcome; -1: any */
	int64_t since_us;      /* the connection was alive at or after this; INT64_MIN */
	int64_t until_us;      /* ... and began at or before this; INT64_MAX */
	int open_only;         /* only those still open at the end of the input */
};

/* Everything selected, except listening sockets, which only --state LISTEN
 * or --outcome listener select (they are not connections). */
void select_init(struct ctl_select *s);

/* Sets the --host filter from "ADDR" or "ADDR/LEN". Returns 0 or -EINVAL. */
int select_set_host(struct ctl_select *s, const char *text);

/* Sets the --netns filter to PATTERN: a glob on the namespace's name, or a
 * number, which also matches its inode. Records that say no namespace are
 * not selected. Returns 0 or -EINVAL (empty). */
int select_set_netns(struct ctl_select *s, const char *pattern);

/* Nonzero when R's socket may belong to a selected connection: the filters
 * every record can answer (port, host, cookie), applied before assembly. */
int select_record(const struct ctl_select *s, const struct ctl_record *r);

/* Nonzero when the finished connection C is selected. NOW_US: the end of
 * the input, for connections still open. */
int select_conn(const struct ctl_select *s, const struct conn *c, int64_t now_us);

/*
 * Parses TEXT in journalctl's syntax (systemd.time(7)) into microseconds
 * since the epoch: "2026-12-04 10:00[:00[.123]]", "2026-12-04", "10:00",
 * "now", "today", "yesterday", "tomorrow", "-10min", "+1h 30min",
 * "5min ago", "@1700000000"; a trailing " UTC" reads it as UTC, local time
 * otherwise. NOW_US is "now". Returns 0 or -EINVAL.
 */
int select_parse_time(const char *text, int64_t now_us, int64_t *ret_us);

#endif
