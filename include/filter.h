/* filter.h - which sockets and transitions to watch: parsed from the config,
 * compiled to inet_diag bytecode for the kernel, matched in user space. No I/O. */
#ifndef TCPSTATED_FILTER_H
#define TCPSTATED_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sock.h"

/* Most entries one key takes (a config line is shorter than this allows). */
#define FILTER_MAX 32

/* Longest bytecode filter_bytecode() writes: every key full of entries. */
#define FILTER_BC_MAX 8192

struct filter_ports {
	uint8_t n; /* 0: any port */
	struct {
		uint16_t lo, hi; /* inclusive, 1 <= lo <= hi */
	} r[FILTER_MAX];
};

struct filter_prefix {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t len;    /* prefix length in bits */
	uint8_t addr[16];
};

struct filter_addrs {
	uint8_t n; /* 0: any address */
	struct filter_prefix p[FILTER_MAX];
};

/*
 * A socket is watched when it matches every non-empty key: one of PORTS on
 * either side, one of LOCAL_PORTS, one of REMOTE_PORTS, one of ADDRS on
 * either side. A transition is logged when its socket is watched and, with
 * STATES set, when it leaves or enters one of STATES.
 */
struct filter {
	struct filter_ports ports, local_ports, remote_ports;
	struct filter_addrs addrs;
	uint32_t states; /* bit (1 << enum sock_state); 0: every state */
};

/*
 * Parsers for the config values: a list separated by blanks or commas.
 * Ports: "80 443 8000-8100". Addresses: "10.0.0.0/8 ::1 192.0.2.7".
 * States: "ESTABLISHED TIME_WAIT" (netstat's names, not NONE; in any case,
 * and ss's too: "established time-wait fin-wait-1 estab").
 * An empty list means "any". Each fills *RET only on success and returns 0,
 * or -EINVAL with what is wrong in WHY (e.g. "\"70000\" is not a port").
 */
int filter_parse_ports(const char *s, struct filter_ports *ret, char *why, size_t whylen);
int filter_parse_addrs(const char *s, struct filter_addrs *ret, char *why, size_t whylen);
int filter_parse_states(const char *s, uint32_t *ret, char *why, size_t whylen);

/* Write a value in the form its parser reads back ("" for an empty list). */
void filter_format_ports(const struct filter_ports *p, char *buf, size_t size);
void filter_format_addrs(const struct filter_addrs *a, char *buf, size_t size);
void filter_format_states(uint32_t states, char *buf, size_t size);

/* F in words for a message: "ports 80 443, states ESTABLISHED", or "none". */
void filter_describe(const struct filter *f, char *buf, size_t size);

/*
 * Compiles F's ports and addresses into inet_diag bytecode (the payload of
 * an INET_DIAG_REQ_BYTECODE attribute) in BUF of SIZE bytes. Returns its
 * length, 0 when F selects every socket (send no bytecode), or -ENOSPC
 * (FILTER_BC_MAX always suffices). The kernel runs it on every socket of a
 * dump and leaves out those it rejects; it means what filter_match_tuple()
 * means.
 */
int filter_bytecode(const struct filter *f, void *buf, size_t size);

/* Whether F's ports and addresses select the socket with tuple T. */
bool filter_match_tuple(const struct filter *f, const struct sock_tuple *t);

/* Whether F's states let a transition FROM -> TO through. */
bool filter_match_states(const struct filter *f, unsigned from, unsigned to);

#endif
