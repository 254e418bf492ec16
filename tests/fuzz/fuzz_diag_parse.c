/*
 * fuzz_diag_parse.c - the netlink parser and the record formatter on any bytes.
 *
 * The input is one recvmsg() worth of netlink messages. It is walked the way
 * diag.c walks a dump (mnl_nlmsg_ok / mnl_nlmsg_next, the walk mnl_cb_run
 * does) and every message goes through diag_parse_msg(), as diag.c calls it
 * (length = nlmsg_len) and with the length of the rest of the buffer; both
 * must agree. Every socket parsed is then formatted as a --once table row and
 * as a transition record in both formats, which must fit RECORD_MAX and be
 * one line. Every message also goes through diag_parse_event(), which must
 * agree, and its summary is formatted likewise.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "diag_parse.h"
#include "transition.h"
#include "fuzz.h"
#include "record.h"
#include "sock.h"

/* Field by field: padding bytes are not part of the value. */
static int sock_same(const struct sock *a, const struct sock *b)
{
	return a->cookie == b->cookie && sock_tuple_equal(&a->tuple, &b->tuple) &&
	       a->state == b->state && a->kind == b->kind && a->uid == b->uid &&
	       a->inode == b->inode && a->rqueue == b->rqueue && a->wqueue == b->wqueue;
}

/* One whole line of N bytes: text, then a single '\n', then the NUL. */
static void check_line(const char *buf, int n)
{
	ASSERT(n > 0 && n < RECORD_MAX);
	ASSERT(strlen(buf) == (size_t)n);
	ASSERT(buf[n - 1] == '\n');
	ASSERT(memchr(buf, '\n', (size_t)n - 1) == NULL);
}

static void format_sock(const struct sock *sk)
{
	/* A transition made of the socket's own fields, so that the fuzzer
	 * steers states, how and the time too (out-of-range ones included). */
	struct transition t = {
	    .ts = {.tv_sec = (time_t)sk->cookie, .tv_nsec = (long)(sk->inode % 1000000001u)},
	    .sk = sk,
	    .from = (uint8_t)(sk->rqueue % (SOCK_STATE_MAX + 1)),
	    .to = sk->state,
	    .how = (uint8_t)(sk->wqueue % (TRANSITION_HOW_MAX + 1)),
	};
	char buf[RECORD_MAX];
	int n;

	n = record_format_row(buf, sizeof(buf), sk);
	check_line(buf, n);
	for (unsigned fmt = 0; fmt < RECORD_FORMAT_MAX; fmt++) {
		n = record_format(buf, sizeof(buf), &t, fmt);
		if (n == -EOVERFLOW)
			continue; /* a time RFC 3339 cannot write */
		check_line(buf, n);
	}
	/* A buffer one byte short is refused, not overrun. */
	n = record_format_row(buf, sizeof(buf), sk);
	ASSERT(record_format_row(buf, (size_t)n, sk) == -ENOSPC);
}

/* The same message as a destroy notification: the same socket, made
 * SOCK_KIND_GONE, and a summary that fits one line in both formats. */
static void check_event(const struct nlmsghdr *nlh, int err_msg, const struct sock *msg)
{
	struct sock sk;
	struct sock_info info;
	int err = diag_parse_event(nlh, nlh->nlmsg_len, &sk, &info);

	ASSERT(err == err_msg);
	if (err)
		return;
	ASSERT(sk.cookie == msg->cookie && sock_tuple_equal(&sk.tuple, &msg->tuple) &&
	       sk.state == msg->state);
	ASSERT(sk.kind == SOCK_KIND_GONE && sk.uid == 0 && sk.inode == 0);
	ASSERT((info.has & ~(unsigned)(SOCK_INFO_HAS_BYTES | SOCK_INFO_HAS_RETRANS |
	                               SOCK_INFO_HAS_RTT | SOCK_INFO_HAS_RTO)) == 0);
	for (unsigned fmt = 0; fmt < RECORD_FORMAT_MAX; fmt++) {
		struct summary s = {
		    .ts = {.tv_sec = 1700000000, .tv_nsec = 0},
		    .sk = &sk,
		    .lifetime_us = UINT64_MAX,
		    .info = info,
		};
		char buf[RECORD_MAX];

		check_line(buf, record_format_summary(buf, sizeof(buf), &s, fmt));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)data;
	int rem = size > INT_MAX ? INT_MAX : (int)size;

	for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
		struct sock a, b;
		int err_a, err_b;

		/* diag.c's call: what mnl_cb_run() let through, nlmsg_len long. */
		err_a = diag_parse_msg(nlh, nlh->nlmsg_len, &a);
		/* The honest call: all the bytes that are left. */
		err_b = diag_parse_msg(nlh, (size_t)rem, &b);
		ASSERT(err_a == err_b);
		ASSERT(err_a == 0 || err_a == -EBADMSG || err_a == -EAFNOSUPPORT ||
		       err_a == -EPROTO);
		/* A message claiming 2 GiB or more passes mnl_nlmsg_ok(), which
		 * compares as int, and mnl_nlmsg_next() would step that far.
		 * diag.c stops at it, since the parser refuses it. */
		if (nlh->nlmsg_len > INT_MAX) {
			ASSERT(err_a == -EBADMSG);
			break;
		}
		if (err_a == 0 || err_a == -EBADMSG || err_a == -EPROTO || err_a == -EAFNOSUPPORT)
			check_event(nlh, err_a, &a);
		if (err_a)
			continue;
		ASSERT(sock_same(&a, &b));
		ASSERT(a.state > SOCK_NONE && a.state < SOCK_STATE_MAX);
		ASSERT(a.kind < SOCK_KIND_MAX);
		format_sock(&a);
	}
	return 0;
}
