/* diag.h - the only module that talks to NETLINK_SOCK_DIAG. */
#ifndef TCPSTATED_DIAG_H
#define TCPSTATED_DIAG_H

#include <stddef.h>

#include "sock.h"

struct diag;

/* Called once for every socket in a dump; a nonzero return aborts the dump
 * and becomes diag_dump()'s return value. */
typedef int (*diag_sock_cb)(const struct sock *sk, void *user);

/* Opens a sock_diag netlink socket in the caller's network namespace.
 * Returns 0 and *ret, or -errno. */
int diag_new(struct diag **ret);

/* Closes D. Accepts NULL. */
void diag_free(struct diag *d);

/*
 * Sends the inet_diag bytecode BC of LEN bytes (filter_bytecode()) with every
 * later dump, so that the kernel leaves out the sockets it rejects; LEN 0
 * removes the filter. The kernel checks the bytecode with each request, so a
 * bad one makes diag_dump() fail with -EINVAL. Returns 0 or -E2BIG.
 */
int diag_set_filter(struct diag *d, const void *bc, size_t len);

/*
 * Dumps every TCP socket, IPv4 and IPv6, in all states, in one walk of the
 * kernel's tables, calling CB for each. Returns 0 when the whole dump arrived,
 * or -errno: -ENOBUFS (receive queue overrun), -EINTR (kernel flagged the dump
 * interrupted), -EBADMSG (a message failed to parse), -EPROTO (bad sequence
 * or port id), or the error the kernel or recvmsg reported. After an error the
 * socket is drained and ready for the next dump.
 */
int diag_dump(struct diag *d, diag_sock_cb cb, void *user);

#endif
