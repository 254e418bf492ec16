/* sock.h - one TCP socket as the kernel reported it, and TCP state names. */
#ifndef TCPSTATED_SOCK_H
#define TCPSTATED_SOCK_H

#include <stddef.h>
#include <stdint.h>

/*
 * TCP states, numbered as the kernel numbers them (include/net/tcp_states.h),
 * with 0 standing for "not present". The kernel's TCP_NEW_SYN_RECV (request
 * sockets) is folded into SOCK_SYN_RECV by the parser.
 */
enum sock_state {
	SOCK_NONE = 0,
	SOCK_ESTABLISHED = 1,
	SOCK_SYN_SENT = 2,
	SOCK_SYN_RECV = 3,
	SOCK_FIN_WAIT1 = 4,
	SOCK_FIN_WAIT2 = 5,
	SOCK_TIME_WAIT = 6,
	SOCK_CLOSE = 7,
	SOCK_CLOSE_WAIT = 8,
	SOCK_LAST_ACK = 9,
	SOCK_LISTEN = 10,
	SOCK_CLOSING = 11,
	SOCK_STATE_MAX
};

/* The 4-tuple. Addresses are in network byte order, ports in host order;
 * an IPv4 address fills the first 4 bytes of addr and the rest is zero. */
struct sock_tuple {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint16_t lport;
	uint16_t rport;
	uint8_t laddr[16];
	uint8_t raddr[16];
};

/* What kind of kernel object the dump returned. */
enum sock_kind {
	SOCK_KIND_FULL,     /* a full socket: has uid, and an inode unless orphaned */
	SOCK_KIND_REQUEST,  /* a request socket of a listener, in SYN_RECV */
	SOCK_KIND_TIMEWAIT, /* a TIME_WAIT (or FIN_WAIT2) minisocket */
	SOCK_KIND_GONE,     /* known from its destroy notification only: no uid or inode */
	SOCK_KIND_MAX
};

struct sock {
	uint64_t cookie; /* kernel socket cookie: identity, never 0 */
	struct sock_tuple tuple;
	uint8_t state;      /* enum sock_state */
	uint8_t kind;       /* enum sock_kind */
	uint32_t uid;       /* meaningful for SOCK_KIND_FULL only */
	uint32_t inode;     /* 0 where the kernel has none: minisockets, orphans */
	uint32_t rqueue;    /* LISTEN: accept backlog; else unread bytes */
	uint32_t wqueue;    /* LISTEN: backlog limit; else unsent bytes */
	uint64_t cgroup_id; /* cgroup v2 id (inode of its directory); 0: none (minisockets) */
};

/*
 * Who owns a socket, as far as tcpstated found out: looked up when a record
 * is written, not part of the kernel's dump. NULL and 0 mean unknown.
 */
struct sock_owner {
	const char *cgroup; /* cgroup v2 path, "/system.slice/nginx.service" */
	const char *unit;   /* systemd unit in it, "nginx.service" */
	uint32_t pid;       /* a process holding the socket open */
	const char *comm;   /* its command name (/proc/PID/comm; any bytes) */
};

/*
 * The figures of a connection's tcp_info (INET_DIAG_INFO) that its summary
 * reports. An older kernel sends a shorter tcp_info: a field past its end is
 * unknown, and its bit in HAS is clear.
 */
struct sock_info {
	uint64_t bytes_acked;    /* sent and acknowledged */
	uint64_t bytes_received; /* received */
	uint32_t total_retrans;  /* segments retransmitted */
	uint32_t rtt_us;         /* smoothed RTT */
	uint8_t retransmits;     /* tcpi_retransmits: timeouts in a row not yet recovered */
	uint8_t has;             /* SOCK_INFO_HAS_* bits */
};

#define SOCK_INFO_HAS_BYTES   0x1u /* bytes_acked and bytes_received */
#define SOCK_INFO_HAS_RETRANS 0x2u /* total_retrans */
#define SOCK_INFO_HAS_RTT     0x4u /* rtt_us */
#define SOCK_INFO_HAS_RTO     0x8u /* retransmits */

/* netstat's name for STATE ("NONE" for SOCK_NONE), or "UNKNOWN". Never NULL. */
const char *sock_state_name(unsigned state);

/* The state whose netstat name is NAME, or -EINVAL. */
int sock_state_from_name(const char *name);

/* Nonzero when both tuples are the same family, addresses and ports. */
int sock_tuple_equal(const struct sock_tuple *a, const struct sock_tuple *b);

/* A hash of the 4-tuple T, for tables keyed by it. */
size_t sock_tuple_hash(const struct sock_tuple *t);

#endif
