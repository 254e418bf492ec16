/*
 * diag.c - the only module that talks to NETLINK_SOCK_DIAG.
 *
 * One request per snapshot: the legacy TCPDIAG_GETSOCK dump. Unlike
 * SOCK_DIAG_BY_FAMILY, which is answered per address family, the kernel
 * answers it with AF_UNSPEC and so returns IPv4 and IPv6 sockets in a single
 * walk of its tables. That walk is most of what a snapshot costs: the
 * established hash is shared by every network namespace (unless one was
 * given its own), so two dumps cost nearly twice one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "diag.h"
#include "diag_parse.h"
#include "filter.h"

/*
 * The kernel fills at most about 32 KiB per recvmsg() of a dump, whatever
 * buffer it is given (netlink caps its dump skb there), so a larger buffer
 * would not mean fewer calls.
 */
#define DIAG_BUF_SIZE 32768

/*
 * Every state, the kernel's TCP_NEW_SYN_RECV (request sockets) included, but
 * not its TCP_BOUND_INACTIVE pseudo-state (13, Linux 6.9 and later): asked
 * for, it adds every socket that is bound but neither listens nor connects,
 * reported as CLOSE. Such a socket is no connection, and one caught between
 * bind() and listen() would be logged as NONE -> CLOSE -> LISTEN.
 */
#define KERNEL_TCP_BOUND_INACTIVE 13
#define DIAG_ALL_STATES           (0xffffffffu & ~(1u << KERNEL_TCP_BOUND_INACTIVE))

struct diag {
	struct mnl_socket *nl;
	unsigned portid;
	unsigned seq;
	size_t bc_len; /* 0: no filter */
	char bc[FILTER_BC_MAX];
	char buf[DIAG_BUF_SIZE];
};

struct dump_ctx {
	const struct diag_sink *sink;
	int err; /* first error of the dump, 0 if none */
};

/* diag_dump()'s sink: one socket on the stack, handed to a diag_sock_cb. */
struct cb_sink {
	diag_sock_cb cb;
	void *user;
	struct sock sk;
};

static struct sock *cb_slot(void *user)
{
	return &((struct cb_sink *)user)->sk;
}

static int cb_keep(void *user)
{
	struct cb_sink *c = user;

	return c->cb(&c->sk, c->user);
}

static int diag_connect(struct diag *d)
{
	d->nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	if (!d->nl)
		return -errno;
	if (mnl_socket_bind(d->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		mnl_socket_close(d->nl);
		d->nl = NULL;
		return err;
	}
	d->portid = mnl_socket_get_portid(d->nl);
	return 0;
}

int diag_new(struct diag **ret)
{
	struct diag *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return -ENOMEM;
	d->seq = (unsigned)time(NULL);
	err = diag_connect(d);
	if (err < 0) {
		free(d);
		return err;
	}
	*ret = d;
	return 0;
}

void diag_free(struct diag *d)
{
	if (!d)
		return;
	if (d->nl)
		mnl_socket_close(d->nl);
	free(d);
}

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *ctx = data;
	struct sock *sk = ctx->sink->slot(ctx->sink->user);
	int err;

	if (!sk) {
		ctx->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	err = diag_parse_msg(nlh, nlh->nlmsg_len, sk);
	if (err == -EAFNOSUPPORT)
		return MNL_CB_OK; /* not TCP over IP: nothing we track */
	if (err < 0) {
		ctx->err = err;
		return MNL_CB_ERROR;
	}
	/* A socket torn down under the dump counts as missed by it, so that no
	 * record says FIN_WAIT1 -> CLOSE -> FIN_WAIT2, a move TCP does not make. */
	if (!diag_parse_wanted(sk))
		return MNL_CB_OK;
	err = ctx->sink->keep(ctx->sink->user);
	if (err != 0) {
		ctx->err = err;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static int send_request(struct diag *d)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(d->buf);
	struct inet_diag_req *req;

	nlh->nlmsg_type = TCPDIAG_GETSOCK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++d->seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->idiag_family = AF_UNSPEC;
	req->idiag_states = DIAG_ALL_STATES;
	/* The compat request takes the filter after struct inet_diag_req, as
	 * the same attribute as SOCK_DIAG_BY_FAMILY (inet_diag_dump_compat). */
	if (d->bc_len)
		mnl_attr_put(nlh, INET_DIAG_REQ_BYTECODE, d->bc_len, d->bc);
	if (mnl_socket_sendto(d->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

int diag_set_filter(struct diag *d, const void *bc, size_t len)
{
	if (len > sizeof(d->bc))
		return -E2BIG;
	memcpy(d->bc, bc, len);
	d->bc_len = len;
	return 0;
}

int diag_dump(struct diag *d, diag_sock_cb cb, void *user)
{
	struct cb_sink c = {.cb = cb, .user = user};
	const struct diag_sink sink = {.slot = cb_slot, .keep = cb_keep, .user = &c};

	return diag_dump_into(d, &sink);
}

int diag_dump_into(struct diag *d, const struct diag_sink *sink)
{
	struct dump_ctx ctx = {.sink = sink};
	int err, ret;

	if (!d->nl) {
		err = diag_connect(d);
		if (err < 0)
			return err;
	}
	err = send_request(d);
	if (err < 0)
		goto fail;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(d->nl, d->buf, sizeof(d->buf));

		if (n < 0) {
			err = -errno;
			goto fail;
		}
		/* mnl_cb_run checks sequence and port id (EPROTO, ESRCH), turns
		 * NLMSG_ERROR into its errno and NLM_F_DUMP_INTR into EINTR. */
		ret = mnl_cb_run(d->buf, (size_t)n, d->seq, d->portid, data_cb, &ctx);
		if (ret == MNL_CB_STOP)
			return 0;
		if (ret < 0) {
			err = ctx.err ? ctx.err : -errno;
			goto fail;
		}
	}

fail:
	/*
	 * The rest of a broken dump may still be queued, or still being
	 * produced, and would arrive as the answer to the next request. A
	 * fresh socket is the simplest way to be sure it never does; errors
	 * are rare enough that the cost does not matter.
	 */
	mnl_socket_close(d->nl);
	d->nl = NULL;
	(void)diag_connect(d);
	return err < 0 ? err : -EIO;
}

/* A probe's answer: the socket's message, with the cookie asked for. */
struct probe_ctx {
	uint64_t cookie;
	int found;
};

static int probe_cb(const struct nlmsghdr *nlh, void *data)
{
	struct probe_ctx *p = data;
	struct sock sk;

	if (diag_parse_msg(nlh, nlh->nlmsg_len, &sk) == 0 && sk.cookie == p->cookie)
		p->found = 1;
	return MNL_CB_OK;
}

/* Whether the kernel cannot look T up exactly (its lookup by 4-tuple hashes
 * a v4-mapped socket as IPv4, and a link-local one needs its interface). */
static int probe_inexact(const struct sock_tuple *t)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return t->family == AF_INET6 && (!memcmp(t->raddr, mapped, sizeof(mapped)) ||
	                                 (t->laddr[0] == 0xfe && (t->laddr[1] & 0xc0) == 0x80));
}

static void probe_request(struct diag *d, const struct sock *sk)
{
	const struct sock_tuple *t = &sk->tuple;
	size_t alen = t->family == AF_INET ? 4 : 16;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(d->buf);
	struct inet_diag_req_v2 *req;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++d->seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = t->family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = DIAG_ALL_STATES;
	req->id.idiag_sport = htons(t->lport);
	req->id.idiag_dport = htons(t->rport);
	memcpy(req->id.idiag_src, t->laddr, alen);
	memcpy(req->id.idiag_dst, t->raddr, alen);
	req->id.idiag_cookie[0] = (uint32_t)sk->cookie;
	req->id.idiag_cookie[1] = (uint32_t)(sk->cookie >> 32);
}

/*
 * One exact lookup (inet_diag_find_one_icsk): the kernel answers with the
 * socket's message, or with ENOENT when no socket holds the 4-tuple, or
 * ESTALE when another does (for a socket no longer hashed, the lookup falls
 * back to the listener of its port).
 */
int diag_probe(struct diag *d, const struct sock *sk)
{
	struct probe_ctx p = {.cookie = sk->cookie};
	ssize_t n;
	int ret;

	if (probe_inexact(&sk->tuple))
		return 1;
	if (!d->nl && diag_connect(d) < 0)
		return -EIO;
	probe_request(d, sk);
	if (mnl_socket_sendto(d->nl, d->buf, ((struct nlmsghdr *)d->buf)->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(d->nl, d->buf, sizeof(d->buf));
	if (n < 0)
		return -errno;
	ret = mnl_cb_run(d->buf, (size_t)n, d->seq, d->portid, probe_cb, &p);
	if (ret < 0)
		return errno == ENOENT || errno == ESTALE ? 0 : -errno;
	return p.found;
}

/*
 * Destroy notifications. The kernel multicasts one SOCK_DIAG_BY_FAMILY
 * message, with the socket's final tcp_info, to the sock_diag groups below
 * whenever a full TCP socket is freed (sock_diag_broadcast_destroy); request
 * and TIME_WAIT minisockets send none. Joining the groups needs no privilege.
 * The socket is separate from the dump socket, whose receive queue must hold
 * nothing but the answer to its own request, and non-blocking, so that the
 * loop can drain it whenever it is readable.
 */
/* Datagrams diag_events_read() takes at most in one call. */
#define DIAG_EVENTS_BATCH 4096

/*
 * Datagrams one recvmmsg() takes. Under churn notifications come by the
 * thousand a second, and a recv() each cost as much again as reading them;
 * one call for many also saves the final EAGAIN when the queue empties
 * before the vector is full. Each slot is as large as the dump's buffer, so
 * that no notification is ever cut (one is under 1 KiB; the kernel allocates
 * its message from the socket's attributes, MD5 keys included); only the
 * pages a notification fills are ever touched.
 */
#define DIAG_EVENTS_VLEN 32

struct diag_events {
	struct mnl_socket *nl;
	struct mmsghdr msgs[DIAG_EVENTS_VLEN];
	struct iovec iov[DIAG_EVENTS_VLEN];
	char buf[DIAG_EVENTS_VLEN][DIAG_BUF_SIZE];
};

static int join_group(struct mnl_socket *nl, int group)
{
	if (mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
		return -errno;
	return 0;
}

int diag_events_new(struct diag_events **ret, int rcvbuf, int *ret_rcvbuf)
{
	struct diag_events *ev = calloc(1, sizeof(*ev));
	socklen_t optlen = sizeof(int);
	int fd, err, got = 0;

	if (!ev)
		return -ENOMEM;
	ev->nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!ev->nl) {
		err = -errno;
		goto fail;
	}
	fd = mnl_socket_get_fd(ev->nl);
	/*
	 * SO_RCVBUFFORCE (CAP_NET_ADMIN) may go past net.core.rmem_max; without
	 * the capability SO_RCVBUF is capped there, silently.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &optlen) < 0)
		got = 0;
	if (mnl_socket_bind(ev->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto fail;
	}
	err = join_group(ev->nl, SKNLGRP_INET_TCP_DESTROY);
	if (err == 0)
		err = join_group(ev->nl, SKNLGRP_INET6_TCP_DESTROY);
	if (err < 0)
		goto fail;
	/* The kernel doubles the size set, for its bookkeeping, and reports the
	 * double: half of it is what was granted of what was asked for. */
	if (ret_rcvbuf)
		*ret_rcvbuf = got / 2;
	*ret = ev;
	return 0;

fail:
	diag_events_free(ev);
	return err;
}

void diag_events_free(struct diag_events *ev)
{
	if (!ev)
		return;
	if (ev->nl)
		mnl_socket_close(ev->nl);
	free(ev);
}

int diag_events_fd(const struct diag_events *ev)
{
	return mnl_socket_get_fd(ev->nl);
}

int diag_events_drops(const struct diag_events *ev, uint64_t *ret)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	if (getsockopt(mnl_socket_get_fd(ev->nl), SOL_SOCKET, SO_MEMINFO, mem, &len) < 0)
		return -errno;
	if (len <= SK_MEMINFO_DROPS * sizeof(mem[0]))
		return -EOPNOTSUPP;
	*ret = mem[SK_MEMINFO_DROPS];
	return 0;
}

int diag_events_read(struct diag_events *ev, diag_event_cb cb, void *user)
{
	/* A bound, so that a flood cannot keep the caller from its ticks;
	 * what is left makes the socket readable again. */
	for (unsigned n_read = 0; n_read < DIAG_EVENTS_BATCH;) {
		int n;

		for (unsigned i = 0; i < DIAG_EVENTS_VLEN; i++) {
			ev->iov[i] =
			    (struct iovec){.iov_base = ev->buf[i], .iov_len = sizeof(ev->buf[i])};
			ev->msgs[i] =
			    (struct mmsghdr){.msg_hdr = {.msg_iov = &ev->iov[i], .msg_iovlen = 1}};
		}
		n = recvmmsg(mnl_socket_get_fd(ev->nl), ev->msgs, DIAG_EVENTS_VLEN, MSG_DONTWAIT,
		             NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		for (int i = 0; i < n; i++) {
			const struct nlmsghdr *nlh = (const struct nlmsghdr *)ev->buf[i];
			int rem = (int)ev->msgs[i].msg_len;

			/* Multicast messages come one per datagram, but walk them all. */
			for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
				struct sock sk;
				struct sock_info info;
				int err;

				if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
					continue;
				err = diag_parse_event(nlh, nlh->nlmsg_len, &sk, &info);
				if (err < 0)
					continue; /* not TCP over IP, or broken: nothing to act on
					           */
				err = cb(&sk, &info, user);
				if (err != 0)
					return err;
			}
		}
		/*
		 * Fewer than asked for: the queue is empty. (Had an error, such
		 * as an overrun, cut the call short, recvmmsg() keeps it for the
		 * next call, which is the next read.)
		 */
		if (n < DIAG_EVENTS_VLEN)
			return 0;
		n_read += (unsigned)n;
	}
	return 0;
}
