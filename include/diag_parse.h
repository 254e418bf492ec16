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

#endif
