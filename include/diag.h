/* diag.h - the only module that talks to NETLINK_SOCK_DIAG. */
#ifndef TCPSTATED_DIAG_H
#define TCPSTATED_DIAG_H

#include <stddef.h>
#include <stdint.h>

#include "sock.h"

struct diag;

/* Called once for every socket in a dump. Returns 0, or a -errno that aborts
 * the dump and becomes diag_dump()'s return value (a positive value aborts it
 * too, as -EIO). */
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
 * or port id), the callback's -errno, or the error the kernel or recvmsg
 * reported. After an error the socket is drained and ready for the next
 * dump.
 */
int diag_dump(struct diag *d, diag_sock_cb cb, void *user);

/*
 * Where diag_dump_into() parses each socket: SLOT gives the place for the
 * next one (NULL: out of memory, the dump fails with -ENOMEM), KEEP takes it
 * once it is filled and returns as a diag_sock_cb does. A slot not kept (a
 * message about a socket that is not TCP over IP) is handed out again.
 */
struct diag_sink {
	struct sock *(*slot)(void *user);
	int (*keep)(void *user);
	void *user;
};

/* diag_dump(), parsing each socket straight into the place SINK gives,
 * which saves a copy per socket. */
int diag_dump_into(struct diag *d, const struct diag_sink *sink);

struct diag_events;

/* Called for every destroy notification; a nonzero return stops the read
 * and becomes diag_events_read()'s return value. */
typedef int (*diag_event_cb)(const struct sock *sk, const struct sock_info *info, void *user);

/*
 * Opens a non-blocking sock_diag socket subscribed to the TCP destroy
 * notifications of IPv4 and IPv6, with a receive buffer of RCVBUF bytes asked
 * for (the kernel may grant less: *RET_RCVBUF, when not NULL, is what it
 * granted, comparable with RCVBUF). Returns 0 and *ret, or -errno.
 */
int diag_events_new(struct diag_events **ret, int rcvbuf, int *ret_rcvbuf);

/* Closes EV. Accepts NULL. */
void diag_events_free(struct diag_events *ev);

/* The descriptor to poll for POLLIN. */
int diag_events_fd(const struct diag_events *ev);

/* The number of notifications the kernel dropped for want of buffer space
 * since the socket was opened (SO_MEMINFO). Returns 0, or -errno. */
int diag_events_drops(const struct diag_events *ev, uint64_t *ret);

/*
 * Reads the queued notifications, calling CB for each TCP one, until the
 * queue is empty or a few thousand were read (then the descriptor stays
 * readable). Returns 0 then, -ENOBUFS when the kernel dropped
 * notifications since the last read (the queue is still there: call again to
 * drain it), the callback's nonzero value, or -errno.
 */
int diag_events_read(struct diag_events *ev, diag_event_cb cb, void *user);

#endif
