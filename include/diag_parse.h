/* diag_parse.h - one inet_diag netlink message in, one struct sock out. No I/O. */
#ifndef TCPSTATED_DIAG_PARSE_H
#define TCPSTATED_DIAG_PARSE_H

#include <stddef.h>
#include <linux/netlink.h>

#include "sock.h"

/*
 * Parses one inet_diag answer message (nlmsg_type SOCK_DIAG_BY_FAMILY or
 * TCPDIAG_GETSOCK) of at most LEN bytes at NLH. Fills *ret only on success.
 * Returns 0, -EBADMSG for a truncated or malformed message (length fields that
 * disagree with LEN, short payload, broken attributes), -EAFNOSUPPORT for a
 * family other than IPv4/IPv6, -EPROTO for a state the kernel does not define.
 */
int diag_parse_msg(const struct nlmsghdr *nlh, size_t len, struct sock *ret);

/*
 * Whether SK, as a dump returned it, is one to track: not a full socket in
 * CLOSE, which a dump returns only while the kernel tears it down (it
 * unhashes a socket before it stores TCP_CLOSE, and a dump that took it from
 * its bucket just before reads its state after; bound-only sockets are not
 * asked for). Such a socket counts as missed by that dump: the next one shows
 * where it went, gone or the minisocket that took its cookie.
 */
int diag_parse_wanted(const struct sock *sk);

/*
 * Parses one destroy notification (SOCK_DIAG_BY_FAMILY from the sock_diag
 * destroy multicast groups) as diag_parse_msg() does, and its tcp_info
 * (INET_DIAG_INFO) into *RET_INFO: a missing or short tcp_info leaves the
 * fields it lacks unknown (ret_info->has). The socket is SOCK_KIND_GONE with
 * uid and inode 0. Fills both only on success; same errors.
 */
int diag_parse_event(const struct nlmsghdr *nlh, size_t len, struct sock *ret,
                     struct sock_info *ret_info);

#endif
