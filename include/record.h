/* record.h - formats one transition (text or JSON Lines) into a caller's buffer. No I/O. */
#ifndef TCPSTATED_RECORD_H
#define TCPSTATED_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "transition.h"
#include "sock.h"

enum record_format {
	RECORD_TEXT, /* aligned, one line, for tail -f and grep */
	RECORD_JSON, /* JSON Lines, schema in docs/record-format.md */
	RECORD_FORMAT_MAX
};

/* Longest record either format produces, newline included: the owner's
 * fields (a cgroup path of up to 1023 bytes, each byte escaped to at most
 * 6) take most of it, the namespace's name (at most 255 bytes, escaped
 * likewise) the next most. record.c checks the sum at compile time. */
#define RECORD_MAX 16384

/* The longest namespace name a record says, in bytes; a longer one is cut
 * (a file name or a systemd unit's name is never longer). */
#define RECORD_NETNS_NAME_MAX 255

/* "text", "json". Never NULL. */
const char *record_format_name(unsigned fmt);

/* The format called NAME, or -EINVAL. */
int record_format_from_name(const char *name);

/*
 * Writes T as one line ending in '\n' into BUF of SIZE bytes, NUL-terminated.
 * Returns the line's length without the NUL, or -ENOSPC when SIZE is too small
 * (RECORD_MAX always suffices).
 */
int record_format(char *buf, size_t size, const struct transition *t, enum record_format fmt);

/*
 * Writes the connection summary S as one line, like record_format(): JSON
 * with "kind":"summary" (transition records have no "kind"), or text with the
 * word "summary" where a transition has its states. Same return convention.
 */
int record_format_summary(char *buf, size_t size, const struct summary *s, enum record_format fmt);

/* Writes "2026-11-24T10:00:00.123456Z" (RFC 3339, UTC, microseconds) for TS.
 * BUF must hold 28 bytes. Returns the length (27), or -EOVERFLOW. */
int record_format_time(char *buf, size_t size, const struct timespec *ts);

/* Writes ADDR of FAMILY as text ("127.0.0.1", "::ffff:127.0.0.1"). BUF must
 * hold INET6_ADDRSTRLEN bytes. Returns the length. */
int record_format_addr(char *buf, size_t size, int family, const uint8_t addr[16]);

/*
 * Writes the loss record: LOST records could not be written between SINCE and
 * UNTIL (the first and the last failed write), logged at TS. Not a
 * transition: JSON has "kind":"lost" and none of a transition's keys after
 * "ts"; text has "lost" where a transition has its family. Same return
 * convention as record_format().
 */
int record_format_loss(char *buf, size_t size, enum record_format fmt, uint64_t lost,
                       const struct timespec *ts, const struct timespec *since,
                       const struct timespec *until);

/* The owner's columns of the --once table, beyond ss -tan's: bits of COLUMNS. */
#define RECORD_TABLE_UNIT    0x1u /* the systemd unit ([attribution] cgroups) */
#define RECORD_TABLE_PROCESS 0x2u /* pid and command ([attribution] processes) */

/* The header line of the socket table printed by --once, '\n' included. */
const char *record_table_header(void);

/* The same with the owner's COLUMNS, into BUF. Same return convention as
 * record_format(). */
int record_format_table_header(char *buf, size_t size, unsigned columns);

/* Writes SK as one row of the --once table, like `ss -tan`. Same return
 * convention as record_format(). */
int record_format_row(char *buf, size_t size, const struct sock *sk);

/* The same with the owner's COLUMNS, from OWNER (NULL, or a field of it
 * unknown: "-"), escaped as in text records, like `ss -tanp`. */
int record_format_table_row(char *buf, size_t size, const struct sock *sk,
                            const struct sock_owner *owner, unsigned columns);

/*
 * Writes SK as one JSON object of --once --format json, dumped at TS:
 * "kind":"socket", the 4-tuple, "state", "rqueue", "wqueue", then the keys of
 * a transition record from "cookie" on, OWNER's included (NULL: none). Same
 * return convention as record_format().
 */
int record_format_socket_json(char *buf, size_t size, const struct sock *sk,
                              const struct sock_owner *owner, const struct timespec *ts);

#endif
