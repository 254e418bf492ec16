/* record_fields.h - the names of a record's fields in each place the daemon writes them. No code.
 */
#ifndef TCPSTATED_RECORD_FIELDS_H
#define TCPSTATED_RECORD_FIELDS_H

/*
 * One row per field: its id, its JSON key (docs/record-format.md), its
 * key=value name in the text format (NULL: a positional field, or not in
 * text at all), and its journal field (src/journal.c; NULL: not sent).
 * The writer (record.c, journal.c) and the reader (src/ctl/recread.c) both
 * follow this table, so that a field added to one is found by the other.
 * Keys later versions add go at the end; readers ignore keys they lack.
 * Each journal entry's MESSAGE_ID is in journal_ids.h.
 */
#define RECORD_FIELDS(X)                                                                           \
	X(TS, "ts", NULL, "TCPSTATE_TS")                                                           \
	X(KIND, "kind", NULL, NULL)                                                                \
	X(EVENT, "event", NULL, NULL)                                                              \
	X(FAMILY, "family", NULL, "TCPSTATE_FAMILY")                                               \
	X(LADDR, "laddr", NULL, "TCPSTATE_LADDR")                                                  \
	X(LPORT, "lport", NULL, "TCPSTATE_LPORT")                                                  \
	X(RADDR, "raddr", NULL, "TCPSTATE_RADDR")                                                  \
	X(RPORT, "rport", NULL, "TCPSTATE_RPORT")                                                  \
	X(FROM, "from", NULL, "TCPSTATE_FROM")                                                     \
	X(TO, "to", NULL, "TCPSTATE_TO")                                                           \
	X(HOW, "how", NULL, "TCPSTATE_HOW")                                                        \
	X(COOKIE, "cookie", "cookie", "TCPSTATE_COOKIE")                                           \
	X(UID, "uid", "uid", "TCPSTATE_UID")                                                       \
	X(INODE, "inode", "ino", "TCPSTATE_INODE")                                                 \
	X(CGROUP, "cgroup", NULL, "TCPSTATE_CGROUP")                                               \
	X(UNIT, "unit", "unit", "TCPSTATE_UNIT")                                                   \
	X(PID, "pid", "pid", "TCPSTATE_PID")                                                       \
	X(COMM, "comm", "comm", "TCPSTATE_COMM")                                                   \
	X(LIFETIME_US, "lifetime_us", "lifetime_us", "TCPSTATE_LIFETIME_US")                       \
	X(BYTES_SENT, "bytes_sent", "bytes_sent", "TCPSTATE_BYTES_SENT")                           \
	X(BYTES_RECEIVED, "bytes_received", "bytes_received", "TCPSTATE_BYTES_RECEIVED")           \
	X(RETRANS, "retrans", "retrans", "TCPSTATE_RETRANS")                                       \
	X(RTT_US, "rtt_us", "rtt_us", "TCPSTATE_RTT_US")                                           \
	X(LOST, "lost", NULL, "TCPSTATE_LOST")                                                     \
	X(SINCE, "since", "since", "TCPSTATE_SINCE")                                               \
	X(UNTIL, "until", "until", "TCPSTATE_UNTIL")                                               \
	X(IN_STATE_US, "in_state_us", "in_state", "TCPSTATE_IN_STATE_US")                          \
	X(OUTCOME, "outcome", "outcome", "TCPSTATE_OUTCOME")                                       \
	X(CLOSER, "closer", "closer", "TCPSTATE_CLOSER")                                           \
	X(ROLE, "role", "role", "TCPSTATE_ROLE")                                                   \
	X(PEER, "peer", "peer", "TCPSTATE_PEER")                                                   \
	X(NETNS, "netns", "netns", "TCPSTATE_NETNS")                                               \
	X(NETNS_INO, "netns_ino", "netns_ino", "TCPSTATE_NETNS_INO")

#define RECORD_FIELD_ENUM(id, json, text, journal) RECORD_FIELD_##id,
enum record_field { RECORD_FIELDS(RECORD_FIELD_ENUM) RECORD_FIELD_MAX };
#undef RECORD_FIELD_ENUM

/* The value of "kind" on a summary line, and of "event" on a loss record. */
#define RECORD_KIND_SUMMARY "summary"
#define RECORD_EVENT_LOST   "lost"

#endif
