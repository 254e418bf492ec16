/*
 * diag_parse.c - one inet_diag netlink message in, one struct sock out.
 *
 * No I/O and no allocation: this is the fuzz and fixture target. Everything
 * the kernel sends is checked against the length the caller received, since
 * a message that lies about its length must not make us read past the buffer.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "diag_parse.h"

/* The kernel's TCP_NEW_SYN_RECV; request sockets are reported as SYN_RECV,
 * but accept this too in case a kernel passes it through. */
#define KERNEL_TCP_NEW_SYN_RECV 12

struct attrs {
	int has_shutdown;
	uint64_t cgroup_id;        /* 0: none */
	const struct nlattr *info; /* INET_DIAG_INFO, or NULL */
};

/*
 * Walks the attributes after the inet_diag_msg. mnl_attr_parse() would do,
 * but it stops quietly at an attribute that does not fit, and it measures the
 * message by nlmsg_len rounded up to 4, so that it reads up to 3 bytes past a
 * buffer that ends at an unaligned nlmsg_len. Here nothing past nlmsg_len is
 * read, and an attribute that does not fit in it is a broken message.
 *
 * This runs for every socket of every poll, so the checks libmnl's accessors
 * make in a function call each (mnl_attr_get_type, mnl_attr_validate) are
 * made inline: this halves the parser's instructions per socket.
 */
static int parse_attrs(const struct nlmsghdr *nlh, struct attrs *a)
{
	const char *p = (const char *)nlh + MNL_NLMSG_HDRLEN + sizeof(struct inet_diag_msg);
	size_t rem = nlh->nlmsg_len - MNL_NLMSG_HDRLEN - sizeof(struct inet_diag_msg);

	while (rem > 0) {
		const struct nlattr *attr = (const struct nlattr *)p;
		size_t step;

		if (rem < sizeof(*attr) || attr->nla_len < sizeof(*attr) || attr->nla_len > rem)
			return -EBADMSG;
		if ((attr->nla_type & NLA_TYPE_MASK) == INET_DIAG_SHUTDOWN) {
			/* A u8: mnl_attr_validate(MNL_TYPE_U8) wants exactly 1 byte. */
			if (attr->nla_len != MNL_ATTR_HDRLEN + sizeof(uint8_t))
				return -EBADMSG;
			a->has_shutdown = 1;
		}
		if (mnl_attr_get_type(attr) == INET_DIAG_CGROUP_ID) {
			if (mnl_attr_validate(attr, MNL_TYPE_U64) < 0)
				return -EBADMSG;
			a->cgroup_id = mnl_attr_get_u64(attr);
		}
		if (mnl_attr_get_type(attr) == INET_DIAG_INFO)
			a->info = attr;
		/* The last attribute's padding may lie past nlmsg_len. */
		step = MNL_ALIGN(attr->nla_len);
		if (step >= rem)
			break;
		p += step;
		rem -= step;
	}
	return 0;
}

/*
 * The dump does not say which kind of kernel object a message describes, but
 * the kernel's fill functions do: only full sockets get INET_DIAG_SHUTDOWN
 * (inet_diag_msg_attrs_fill); request and TIME_WAIT minisockets get the
 * message with uid and inode zeroed and no attribute but INET_DIAG_MARK,
 * which a reader with CAP_NET_ADMIN sees on every socket.
 */
static unsigned sock_kind(const struct attrs *a, unsigned state)
{
	if (a->has_shutdown)
		return SOCK_KIND_FULL;
	if (state == SOCK_SYN_RECV)
		return SOCK_KIND_REQUEST;
	if (state == SOCK_TIME_WAIT || state == SOCK_FIN_WAIT2)
		return SOCK_KIND_TIMEWAIT;
	return SOCK_KIND_FULL;
}

/*
 * Everything is checked before anything is written, so that *RET is filled
 * only on success; and it is written field by field rather than built on the
 * stack and copied, because the dump parses straight into its table (a
 * struct copy per socket showed in the profile).
 */
static int parse_msg(const struct nlmsghdr *nlh, size_t len, struct sock *ret, struct attrs *ret_a)
{
	const struct inet_diag_msg *m;
	struct attrs a = {0};
	size_t addr_len;
	unsigned state;

	/* No message is 2 GiB long; but mnl_nlmsg_ok() compares lengths as
	 * int and lets one claiming to be through, and diag.c, called from
	 * mnl_cb_run(), can only pass its nlmsg_len as LEN. */
	if (len < sizeof(*nlh) || nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len ||
	    nlh->nlmsg_len > INT_MAX)
		return -EBADMSG;
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*m))
		return -EBADMSG;
	m = (const struct inet_diag_msg *)((const char *)nlh + MNL_NLMSG_HDRLEN);

	switch (m->idiag_family) {
	case AF_INET:
		addr_len = 4;
		break;
	case AF_INET6:
		addr_len = 16;
		break;
	default:
		return -EAFNOSUPPORT;
	}

	state = m->idiag_state;
	if (state == KERNEL_TCP_NEW_SYN_RECV)
		state = SOCK_SYN_RECV;
	if (state == SOCK_NONE || state >= SOCK_STATE_MAX)
		return -EPROTO;

	if (parse_attrs(nlh, &a) < 0)
		return -EBADMSG;

	ret->cookie = (uint64_t)m->id.idiag_cookie[1] << 32 | m->id.idiag_cookie[0];
	memset(&ret->tuple, 0, sizeof(ret->tuple));
	ret->tuple.family = m->idiag_family;
	ret->tuple.lport = ntohs(m->id.idiag_sport);
	ret->tuple.rport = ntohs(m->id.idiag_dport);
	memcpy(ret->tuple.laddr, m->id.idiag_src, addr_len);
	memcpy(ret->tuple.raddr, m->id.idiag_dst, addr_len);
	ret->state = (uint8_t)state;
	ret->kind = (uint8_t)sock_kind(&a, state);
	ret->uid = m->idiag_uid;
	ret->inode = m->idiag_inode;
	ret->rqueue = m->idiag_rqueue;
	ret->wqueue = m->idiag_wqueue;
	ret->cgroup_id = a.cgroup_id;
	*ret_a = a;
	return 0;
}

int diag_parse_msg(const struct nlmsghdr *nlh, size_t len, struct sock *ret)
{
	struct attrs a;

	return parse_msg(nlh, len, ret, &a);
}

/* Nonzero when the tcp_info of LEN bytes reaches to the end of FIELD. */
#define INFO_HAS(len, field)                                                                       \
	((len) >= offsetof(struct tcp_info, field) + sizeof(((struct tcp_info *)0)->field))

/*
 * tcp_info has grown at its end with every kernel generation, and the kernel
 * sends as much of it as it knows: copy what came (the rest stays zero) and
 * say which of the wanted fields it covered.
 */
static void parse_info(const struct nlattr *attr, struct sock_info *ret)
{
	struct tcp_info ti;
	size_t len = mnl_attr_get_payload_len(attr);

	memset(&ti, 0, sizeof(ti));
	memcpy(&ti, mnl_attr_get_payload(attr), len < sizeof(ti) ? len : sizeof(ti));
	*ret = (struct sock_info){0};
	if (INFO_HAS(len, tcpi_retransmits)) {
		ret->retransmits = ti.tcpi_retransmits;
		ret->has |= SOCK_INFO_HAS_RTO;
	}
	if (INFO_HAS(len, tcpi_rtt)) {
		ret->rtt_us = ti.tcpi_rtt;
		ret->has |= SOCK_INFO_HAS_RTT;
	}
	if (INFO_HAS(len, tcpi_total_retrans)) {
		ret->total_retrans = ti.tcpi_total_retrans;
		ret->has |= SOCK_INFO_HAS_RETRANS;
	}
	if (INFO_HAS(len, tcpi_bytes_received)) {
		ret->bytes_acked = ti.tcpi_bytes_acked;
		ret->bytes_received = ti.tcpi_bytes_received;
		ret->has |= SOCK_INFO_HAS_BYTES;
	}
}

int diag_parse_event(const struct nlmsghdr *nlh, size_t len, struct sock *ret,
                     struct sock_info *ret_info)
{
	struct attrs a;
	struct sock sk;
	int err = parse_msg(nlh, len, &sk, &a);

	if (err < 0)
		return err;
	*ret_info = (struct sock_info){0};
	if (a.info)
		parse_info(a.info, ret_info);
	/* The notification reports uid and inode as 0 whatever they were. */
	sk.kind = SOCK_KIND_GONE;
	sk.uid = 0;
	sk.inode = 0;
	*ret = sk;
	return 0;
}

int diag_parse_wanted(const struct sock *sk)
{
	return !(sk->state == SOCK_CLOSE && sk->kind == SOCK_KIND_FULL);
}
