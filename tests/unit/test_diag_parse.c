/*
 * test_diag_parse.c - inet_diag messages in, struct sock out.
 *
 * Messages are built in memory with libmnl, the way the kernel lays them
 * out; then the two captured dumps in tests/fixtures/ are replayed and every
 * socket checked against the list of sockets the capture script opened.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "check.h"
#include "diag_parse.h"
#include "record.h"
#include "snapshot.h"
#include "sock.h"

#define KERNEL_TCP_NEW_SYN_RECV 12

/* Netlink messages are 4-byte aligned; a union keeps the buffer so. */
static union {
	struct nlmsghdr nlh;
	char bytes[1024];
} msgbuf;

/* A plausible inet_diag_msg: IPv4 127.0.0.1:0x1234 -> 127.0.0.2:0xabcd. The
 * ports are chosen so that a missing or doubled byte swap shows. */
static struct inet_diag_msg base_msg(uint8_t family, uint8_t state)
{
	struct inet_diag_msg m;

	memset(&m, 0, sizeof(m));
	m.idiag_family = family;
	m.idiag_state = state;
	m.id.idiag_sport = htons(0x1234);
	m.id.idiag_dport = htons(0xabcd);
	m.id.idiag_src[0] = htonl(0x7f000001);
	m.id.idiag_dst[0] = htonl(0x7f000002);
	m.id.idiag_cookie[0] = 0x89abcdef; /* low half */
	m.id.idiag_cookie[1] = 0x01234567; /* high half */
	m.idiag_rqueue = 11;
	m.idiag_wqueue = 22;
	m.idiag_uid = 1000;
	m.idiag_inode = 424242;
	return m;
}

/* Starts a message holding M in msgbuf; attributes may be added after. */
static struct nlmsghdr *put_msg(const struct inet_diag_msg *m)
{
	struct nlmsghdr *nlh;

	memset(&msgbuf, 0, sizeof(msgbuf));
	nlh = mnl_nlmsg_put_header(msgbuf.bytes);
	nlh->nlmsg_type = TCPDIAG_GETSOCK;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = 1;
	memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(*m)), m, sizeof(*m));
	return nlh;
}

/* A full socket's message: as the kernel sends it, with INET_DIAG_SHUTDOWN. */
static struct nlmsghdr *put_full(const struct inet_diag_msg *m)
{
	struct nlmsghdr *nlh = put_msg(m);

	mnl_attr_put_u8(nlh, INET_DIAG_SHUTDOWN, 0);
	mnl_attr_put_u32(nlh, INET_DIAG_MARK, 0);
	mnl_attr_put_u64(nlh, INET_DIAG_CGROUP_ID, 0x1234567890ULL);
	return nlh;
}

/* Field by field: padding bytes are not part of the value. */
static int sock_same(const struct sock *a, const struct sock *b)
{
	return a->cookie == b->cookie && sock_tuple_equal(&a->tuple, &b->tuple) &&
	       a->state == b->state && a->kind == b->kind && a->uid == b->uid &&
	       a->inode == b->inode && a->rqueue == b->rqueue && a->wqueue == b->wqueue;
}

/* Parses NLH (LEN bytes); on failure checks that *ret was not written. */
static int parse(const struct nlmsghdr *nlh, size_t len, struct sock *ret)
{
	struct sock untouched;
	int err;

	memset(ret, 0xa5, sizeof(*ret));
	memcpy(&untouched, ret, sizeof(untouched));
	err = diag_parse_msg(nlh, len, ret);
	if (err)
		CHECK(memcmp(ret, &untouched, sizeof(*ret)) == 0);
	return err;
}

static void test_ipv4(void)
{
	struct inet_diag_msg m = base_msg(AF_INET, SOCK_ESTABLISHED);
	const uint8_t lo1[16] = {127, 0, 0, 1}, lo2[16] = {127, 0, 0, 2};
	struct nlmsghdr *nlh;
	struct sock sk;

	/* Bytes past an IPv4 address are not part of it. */
	m.id.idiag_src[2] = 0xffffffff;
	m.id.idiag_dst[3] = 0xffffffff;
	nlh = put_full(&m);
	CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), 0);
	CHECK_INT(sk.cookie, 0x0123456789abcdefULL);
	CHECK_INT(sk.tuple.family, AF_INET);
	CHECK_INT(sk.tuple.lport, 0x1234);
	CHECK_INT(sk.tuple.rport, 0xabcd);
	CHECK(memcmp(sk.tuple.laddr, lo1, 16) == 0);
	CHECK(memcmp(sk.tuple.raddr, lo2, 16) == 0);
	CHECK_INT(sk.state, SOCK_ESTABLISHED);
	CHECK_INT(sk.kind, SOCK_KIND_FULL);
	CHECK_INT(sk.uid, 1000);
	CHECK_INT(sk.inode, 424242);
	CHECK_INT(sk.cgroup_id, 0x1234567890ULL);
	CHECK_INT(sk.rqueue, 11);
	CHECK_INT(sk.wqueue, 22);

	/* The buffer may hold more than the message: only nlmsg_len counts. */
	CHECK_INT(parse(nlh, sizeof(msgbuf), &sk), 0);
	CHECK_INT(sk.cookie, 0x0123456789abcdefULL);

	/* Extremes of every number. */
	m.id.idiag_sport = htons(65535);
	m.id.idiag_dport = htons(1);
	m.id.idiag_cookie[0] = 0xffffffff;
	m.id.idiag_cookie[1] = 0;
	m.idiag_uid = 0xffffffff;
	m.idiag_inode = 0xfffffffe;
	m.idiag_rqueue = 0xfffffffd;
	m.idiag_wqueue = 0;
	nlh = put_full(&m);
	CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), 0);
	CHECK_INT(sk.cookie, 0xffffffffULL);
	CHECK_INT(sk.tuple.lport, 65535);
	CHECK_INT(sk.tuple.rport, 1);
	CHECK_INT(sk.uid, 0xffffffffu);
	CHECK_INT(sk.inode, 0xfffffffeu);
	CHECK_INT(sk.rqueue, 0xfffffffdu);
	CHECK_INT(sk.wqueue, 0);
	m.id.idiag_cookie[0] = 0;
	m.id.idiag_cookie[1] = 1;
	nlh = put_full(&m);
	CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), 0);
	CHECK_INT(sk.cookie, 1ULL << 32);
}

static void test_ipv6(void)
{
	struct inet_diag_msg m = base_msg(AF_INET6, SOCK_LISTEN);
	uint8_t a[16], b[16];
	struct nlmsghdr *nlh;
	struct sock sk;

	CHECK_INT(inet_pton(AF_INET6, "2001:db8::1", a), 1);
	CHECK_INT(inet_pton(AF_INET6, "fe80::2:3", b), 1);
	memcpy(m.id.idiag_src, a, 16);
	memcpy(m.id.idiag_dst, b, 16);
	nlh = put_full(&m);
	CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), 0);
	CHECK_INT(sk.tuple.family, AF_INET6);
	CHECK(memcmp(sk.tuple.laddr, a, 16) == 0);
	CHECK(memcmp(sk.tuple.raddr, b, 16) == 0);
	CHECK_INT(sk.tuple.lport, 0x1234);
	CHECK_INT(sk.state, SOCK_LISTEN);

	/* v4-mapped stays IPv6, address as the kernel gave it. */
	CHECK_INT(inet_pton(AF_INET6, "::ffff:127.0.0.1", a), 1);
	CHECK_INT(inet_pton(AF_INET6, "::ffff:10.9.8.7", b), 1);
	memcpy(m.id.idiag_src, a, 16);
	memcpy(m.id.idiag_dst, b, 16);
	m.idiag_state = SOCK_ESTABLISHED;
	nlh = put_full(&m);
	CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), 0);
	CHECK_INT(sk.tuple.family, AF_INET6);
	CHECK(memcmp(sk.tuple.laddr, a, 16) == 0);
	CHECK(memcmp(sk.tuple.raddr, b, 16) == 0);
	CHECK_INT(sk.cookie, 0x0123456789abcdefULL);
}

/* Every kernel state maps to itself, TCP_NEW_SYN_RECV to SYN_RECV, the rest
 * is refused. */
static void test_states(void)
{
	struct nlmsghdr *nlh;
	struct sock sk;

	for (unsigned st = 1; st < SOCK_STATE_MAX; st++) {
		struct inet_diag_msg m = base_msg(AF_INET, (uint8_t)st);

		nlh = put_full(&m);
		CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), 0);
		CHECK_INT(sk.state, st);
	}
	{
		struct inet_diag_msg m = base_msg(AF_INET, KERNEL_TCP_NEW_SYN_RECV);

		nlh = put_msg(&m);
		CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), 0);
		CHECK_INT(sk.state, SOCK_SYN_RECV);
		CHECK_INT(sk.kind, SOCK_KIND_REQUEST);
	}
	for (unsigned st = 0; st < 256; st += st == 0 ? 13 : 1) {
		struct inet_diag_msg m = base_msg(AF_INET6, (uint8_t)st);

		nlh = put_full(&m);
		CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), -EPROTO);
	}
}

/* A dump keeps every socket but a full one in CLOSE (torn down under it):
 * request sockets, minisockets, listeners and connections in every other
 * state are tracked. */
static void test_wanted(void)
{
	struct sock sk = {.kind = SOCK_KIND_FULL};

	for (unsigned st = 1; st < SOCK_STATE_MAX; st++) {
		sk.state = (uint8_t)st;
		sk.kind = SOCK_KIND_FULL;
		CHECK_INT(diag_parse_wanted(&sk), st != SOCK_CLOSE);
		sk.kind = SOCK_KIND_TIMEWAIT;
		CHECK_INT(diag_parse_wanted(&sk), 1);
		sk.kind = SOCK_KIND_REQUEST;
		CHECK_INT(diag_parse_wanted(&sk), 1);
	}
}

static void check_kind(uint8_t state, int shutdown, int mark, unsigned want)
{
	struct inet_diag_msg m = base_msg(AF_INET, state);
	struct nlmsghdr *nlh = put_msg(&m);
	struct sock sk;

	if (mark)
		mnl_attr_put_u32(nlh, INET_DIAG_MARK, 0);
	if (shutdown)
		mnl_attr_put_u8(nlh, INET_DIAG_SHUTDOWN, 3);
	CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), 0);
	if (sk.kind != want)
		fprintf(stderr, "state %u, shutdown %d, mark %d:\n", state, shutdown, mark);
	CHECK_INT(sk.kind, want);
}

/*
 * Only full sockets carry INET_DIAG_SHUTDOWN. Without it, SYN_RECV is a
 * request socket and TIME_WAIT or FIN_WAIT2 a timewait socket, whether or
 * not other attributes (INET_DIAG_MARK, sent to CAP_NET_ADMIN) are there.
 */
static void test_kinds(void)
{
	for (int mark = 0; mark < 2; mark++) {
		for (uint8_t st = 1; st < SOCK_STATE_MAX; st++) {
			unsigned bare = st == SOCK_SYN_RECV ? SOCK_KIND_REQUEST
			                : st == SOCK_TIME_WAIT || st == SOCK_FIN_WAIT2
			                    ? SOCK_KIND_TIMEWAIT
			                    : SOCK_KIND_FULL;

			check_kind(st, 1, mark, SOCK_KIND_FULL);
			check_kind(st, 0, mark, bare);
		}
		check_kind(KERNEL_TCP_NEW_SYN_RECV, 0, mark, SOCK_KIND_REQUEST);
	}
}

static void test_errors(void)
{
	struct inet_diag_msg m = base_msg(AF_INET, SOCK_ESTABLISHED);
	struct nlmsghdr *nlh;
	struct sock sk;
	uint32_t full_len;

	/* Truncated header. */
	nlh = put_full(&m);
	full_len = nlh->nlmsg_len;
	CHECK_INT(parse(nlh, sizeof(*nlh) - 1, &sk), -EBADMSG);
	CHECK_INT(parse(nlh, 0, &sk), -EBADMSG);
	/* nlmsg_len larger than the buffer, or smaller than a header. */
	CHECK_INT(parse(nlh, full_len - 1, &sk), -EBADMSG);
	CHECK_INT(parse(nlh, sizeof(*nlh) + sizeof(m) - 1, &sk), -EBADMSG);
	nlh->nlmsg_len = 0xffffffff;
	CHECK_INT(parse(nlh, sizeof(msgbuf), &sk), -EBADMSG);
	/* diag.c passes nlmsg_len as the length, trusting mnl_nlmsg_ok(),
	 * which lets a length of 2 GiB and more through. */
	nlh->nlmsg_len = 0x80000000;
	CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), -EBADMSG);
	nlh->nlmsg_len = 0xffffffff;
	CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), -EBADMSG);
	nlh->nlmsg_len = sizeof(*nlh) - 1;
	CHECK_INT(parse(nlh, sizeof(msgbuf), &sk), -EBADMSG);
	nlh->nlmsg_len = 0;
	CHECK_INT(parse(nlh, sizeof(msgbuf), &sk), -EBADMSG);
	/* A payload shorter than struct inet_diag_msg. */
	nlh->nlmsg_len = (uint32_t)(sizeof(*nlh) + sizeof(m) - 1);
	CHECK_INT(parse(nlh, sizeof(msgbuf), &sk), -EBADMSG);
	nlh->nlmsg_len = sizeof(*nlh);
	CHECK_INT(parse(nlh, sizeof(msgbuf), &sk), -EBADMSG);
	nlh->nlmsg_len = (uint32_t)(sizeof(*nlh) + sizeof(m));
	CHECK_INT(parse(nlh, sizeof(msgbuf), &sk), 0); /* no attributes is fine */

	/* Families other than IPv4 and IPv6. */
	for (unsigned fam = 0; fam < 256; fam++) {
		struct inet_diag_msg o = base_msg((uint8_t)fam, SOCK_ESTABLISHED);

		if (fam == AF_INET || fam == AF_INET6)
			continue;
		nlh = put_full(&o);
		CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), -EAFNOSUPPORT);
	}
}

/* Attributes that do not fit their message are a broken message. */
static void test_bad_attrs(void)
{
	struct inet_diag_msg m = base_msg(AF_INET, SOCK_ESTABLISHED);
	const uint32_t bare = NLMSG_HDRLEN + sizeof(m);
	struct nlmsghdr *nlh;
	struct nlattr *attr;
	struct sock sk;

	/* INET_DIAG_SHUTDOWN without its byte. */
	nlh = put_msg(&m);
	mnl_attr_put(nlh, INET_DIAG_SHUTDOWN, 0, NULL);
	CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), -EBADMSG);
	/* ... or with more than one byte: it is a u8. */
	nlh = put_msg(&m);
	mnl_attr_put(nlh, INET_DIAG_SHUTDOWN, 2, "\0\0");
	CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), -EBADMSG);
	/* ... with it, after a zero-length attribute of another type: fine. */
	nlh = put_msg(&m);
	mnl_attr_put(nlh, INET_DIAG_PAD, 0, NULL);
	mnl_attr_put_u8(nlh, INET_DIAG_SHUTDOWN, 1);
	CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), 0);
	CHECK_INT(sk.kind, SOCK_KIND_FULL);

	/* INET_DIAG_CGROUP_ID shorter than a u64; and without it, no cgroup. */
	nlh = put_msg(&m);
	mnl_attr_put_u8(nlh, INET_DIAG_SHUTDOWN, 0);
	mnl_attr_put_u32(nlh, INET_DIAG_CGROUP_ID, 7);
	CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), -EBADMSG);
	nlh = put_msg(&m);
	mnl_attr_put_u8(nlh, INET_DIAG_SHUTDOWN, 0);
	CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), 0);
	CHECK_INT(sk.cgroup_id, 0);

	/* An attribute longer than what is left of the message. */
	nlh = put_msg(&m);
	mnl_attr_put_u8(nlh, INET_DIAG_SHUTDOWN, 0);
	attr = (struct nlattr *)((char *)nlh + bare);
	attr->nla_len = 9; /* 8 bytes left */
	CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), -EBADMSG);
	attr->nla_len = 0xffff;
	CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), -EBADMSG);
	/* ... or shorter than its own header. */
	attr->nla_len = 3;
	CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), -EBADMSG);
	attr->nla_len = 0;
	CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), -EBADMSG);
	/* The second attribute runs past nlmsg_len, into bytes the buffer has. */
	nlh = put_msg(&m);
	mnl_attr_put_u32(nlh, INET_DIAG_MARK, 7);
	mnl_attr_put_u8(nlh, INET_DIAG_SHUTDOWN, 0);
	nlh->nlmsg_len -= 4;
	CHECK_INT(parse(nlh, sizeof(msgbuf), &sk), -EBADMSG);
	/* A last attribute without the padding after it is whole. */
	nlh = put_msg(&m);
	mnl_attr_put_u8(nlh, INET_DIAG_SHUTDOWN, 0);
	nlh->nlmsg_len = bare + 5;
	CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), 0);
	CHECK_INT(sk.kind, SOCK_KIND_FULL);
	/* Bytes after the message's attributes that are no attribute. */
	for (uint32_t extra = 1; extra < 4; extra++) {
		nlh = put_msg(&m);
		mnl_attr_put_u8(nlh, INET_DIAG_SHUTDOWN, 0);
		nlh->nlmsg_len += extra;
		CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), -EBADMSG);
		nlh = put_msg(&m);
		nlh->nlmsg_len += extra;
		CHECK_INT(parse(nlh, nlh->nlmsg_len, &sk), -EBADMSG);
	}
}

/*
 * A message that ends its buffer at an unaligned length: nothing past
 * nlmsg_len may be read (under ASan, the heap copy is exactly that long).
 */
/*
 * Parses the message in msgbuf cut to LEN bytes, with the bytes after it set
 * by FILL: 0 zeros, 1 0xff, 2 and 3 bytes 08 00 repeated (an INET_DIAG_SHUTDOWN
 * type) from the second or the first byte on. Returns diag_parse_msg()'s value.
 */
static int parse_cut(uint32_t len, int fill, struct sock *ret)
{
	static union {
		struct nlmsghdr nlh;
		char bytes[sizeof(msgbuf)];
	} cut;

	memcpy(cut.bytes, msgbuf.bytes, len);
	for (size_t i = len; i < sizeof(cut.bytes); i++)
		cut.bytes[i] = fill == 0   ? 0
		               : fill == 1 ? (char)0xff
		                           : ((i - len + (size_t)fill) % 2 ? 0x08 : 0);
	cut.nlh.nlmsg_len = len;
	return parse(&cut.nlh, len, ret);
}

/*
 * A message whose nlmsg_len cuts its last attribute short, or ends it at an
 * unaligned length. Nothing past nlmsg_len may be read: the result must not
 * depend on the bytes after it. (The bytes a parser reads inside libmnl are
 * invisible to ASan, as libmnl is not instrumented, so this compares results
 * instead; the heap copy of exactly LEN bytes is for the parser's own reads.)
 */
static void check_cut(uint16_t attr_type, size_t attr_len)
{
	struct inet_diag_msg m = base_msg(AF_INET, SOCK_TIME_WAIT);
	const uint32_t bare = NLMSG_HDRLEN + sizeof(m);
	struct nlmsghdr *nlh = put_msg(&m);
	const uint8_t zero[8] = {0};
	struct sock sk, sk0;

	mnl_attr_put(nlh, attr_type, attr_len, zero);
	for (uint32_t len = bare; len <= bare + 8; len++) {
		/* No attribute, or one with at most its padding after it; a
		 * cut one or stray bytes after it are a broken message. */
		int whole = len == bare || (len >= bare + MNL_ATTR_HDRLEN + attr_len &&
		                            len <= bare + MNL_ALIGN(MNL_ATTR_HDRLEN + attr_len));
		int err0 = parse_cut(len, 0, &sk0);
		char *copy = malloc(len);

		CHECK_INT(err0, whole ? 0 : -EBADMSG);
		if (!err0)
			CHECK_INT(sk0.kind, attr_type == INET_DIAG_SHUTDOWN && len > bare
			                        ? SOCK_KIND_FULL
			                        : SOCK_KIND_TIMEWAIT);
		for (int fill = 1; fill < 4; fill++) {
			int err = parse_cut(len, fill, &sk);

			if (err != err0)
				fprintf(stderr, "attr %u len %u cut at %u, fill %d:\n", attr_type,
				        (unsigned)attr_len, len - bare, fill);
			CHECK_INT(err, err0);
			if (!err && !err0)
				CHECK(sock_same(&sk, &sk0));
		}
		CHECK(copy != NULL);
		if (!copy)
			return;
		memcpy(copy, msgbuf.bytes, len);
		((struct nlmsghdr *)copy)->nlmsg_len = len;
		CHECK_INT(parse((struct nlmsghdr *)copy, len, &sk), err0);
		free(copy);
	}
}

static void test_cut_attrs(void)
{
	check_cut(INET_DIAG_MARK, 2);
	check_cut(INET_DIAG_PAD, 0);
	check_cut(INET_DIAG_SHUTDOWN, 1);
}

/* --- Fixtures ------------------------------------------------------------ */

#define FIXTURE_MAX_SOCKS 1024

struct fixture {
	struct sock socks[FIXTURE_MAX_SOCKS];
	size_t nsocks;
	size_t chunks;
	size_t done;     /* NLMSG_DONE messages seen */
	size_t cb_socks; /* sockets mnl_cb_run() handed to the callback */
};

/* Reads a whole file; returns its bytes (malloc) and *len, or NULL. */
static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	long n;

	if (!f) {
		perror(path);
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		data = malloc((size_t)n);
		if (data && fread(data, (size_t)n, 1, f) == 1) {
			*len = (size_t)n;
		} else {
			free(data);
			data = NULL;
		}
	}
	fclose(f);
	return data;
}

/* Like diag.c's callback: the parser sees one message, nlmsg_len bytes. */
static int replay_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fixture *fx = data;
	struct sock sk;
	int err = diag_parse_msg(nlh, nlh->nlmsg_len, &sk);

	CHECK_INT(err, 0);
	if (err)
		return MNL_CB_ERROR;
	fx->cb_socks++;
	return MNL_CB_OK;
}

/*
 * Loads a capture.c file: chunks of [u32 little-endian length][bytes]. Each
 * chunk is copied into a buffer of exactly its size and walked message by
 * message, as diag.c would, and once more through mnl_cb_run() with the
 * sequence number and port id of the capture, which must end at NLMSG_DONE.
 */
static int load_fixture(const char *name, struct fixture *fx)
{
	char path[512];
	uint8_t *data;
	size_t len = 0, off = 0;
	int cb_ret = MNL_CB_OK;

	memset(fx, 0, sizeof(*fx));
	snprintf(path, sizeof(path), "%s/%s", FIXTURES_DIR, name);
	data = read_file(path, &len);
	CHECK(data != NULL);
	if (!data)
		return -1;
	while (off < len) {
		uint32_t n;
		char *chunk;
		const struct nlmsghdr *nlh;
		int rem;

		CHECK(len - off >= 4);
		if (len - off < 4)
			break;
		n = (uint32_t)data[off] | (uint32_t)data[off + 1] << 8 |
		    (uint32_t)data[off + 2] << 16 | (uint32_t)data[off + 3] << 24;
		off += 4;
		CHECK(n <= len - off);
		if (n > len - off)
			break;
		CHECK_INT(cb_ret, MNL_CB_OK); /* nothing after the end of the dump */
		chunk = malloc(n);
		if (!chunk)
			break;
		memcpy(chunk, data + off, n);
		off += n;
		fx->chunks++;

		rem = (int)n;
		for (nlh = (const struct nlmsghdr *)chunk; mnl_nlmsg_ok(nlh, rem);
		     nlh = mnl_nlmsg_next(nlh, &rem)) {
			struct sock sk;

			if (nlh->nlmsg_type == NLMSG_DONE) {
				fx->done++;
				continue;
			}
			CHECK_INT(nlh->nlmsg_type, TCPDIAG_GETSOCK);
			CHECK_INT(diag_parse_msg(nlh, (size_t)rem, &sk), 0);
			CHECK(fx->nsocks < FIXTURE_MAX_SOCKS);
			if (fx->nsocks < FIXTURE_MAX_SOCKS)
				fx->socks[fx->nsocks++] = sk;
		}
		CHECK_INT(rem, 0);

		nlh = (const struct nlmsghdr *)chunk;
		cb_ret = mnl_cb_run(chunk, n, nlh->nlmsg_seq, nlh->nlmsg_pid, replay_cb, fx);
		CHECK(cb_ret == MNL_CB_OK || cb_ret == MNL_CB_STOP);
		free(chunk);
	}
	CHECK_INT(cb_ret, MNL_CB_STOP);
	CHECK_INT(fx->done, 1);
	CHECK_INT(fx->cb_socks, fx->nsocks);
	free(data);
	return 0;
}

static const char *const kind_names[SOCK_KIND_MAX] = {
    [SOCK_KIND_FULL] = "full",
    [SOCK_KIND_REQUEST] = "request",
    [SOCK_KIND_TIMEWAIT] = "timewait",
    [SOCK_KIND_GONE] = "gone",
};

/* One field of an .expected line: "-" matches anything. */
static int field_eq(const char *want, const char *have)
{
	return strcmp(want, "-") == 0 || strcmp(want, have) == 0;
}

static int field_eq_u(const char *want, unsigned long long have)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", have);
	return field_eq(want, buf);
}

/* Does SK match the 12 fields of an .expected line? */
static int sock_matches(const struct sock *sk, char f[12][64])
{
	char laddr[INET6_ADDRSTRLEN], raddr[INET6_ADDRSTRLEN];

	record_format_addr(laddr, sizeof(laddr), sk->tuple.family, sk->tuple.laddr);
	record_format_addr(raddr, sizeof(raddr), sk->tuple.family, sk->tuple.raddr);
	return field_eq(f[0], sk->tuple.family == AF_INET6 ? "ipv6" : "ipv4") &&
	       field_eq(f[1], sock_state_name(sk->state)) &&
	       field_eq(f[2], sk->kind < SOCK_KIND_MAX ? kind_names[sk->kind] : "?") &&
	       field_eq(f[3], laddr) && field_eq_u(f[4], sk->tuple.lport) &&
	       field_eq(f[5], raddr) && field_eq_u(f[6], sk->tuple.rport) &&
	       field_eq_u(f[7], sk->rqueue) && field_eq_u(f[8], sk->wqueue) &&
	       field_eq_u(f[9], sk->uid) && field_eq_u(f[10], sk->inode) &&
	       field_eq_u(f[11], sk->cookie);
}

/*
 * Every line of NAME.expected matches exactly one socket of the fixture and
 * every socket one line. Returns the number of lines.
 */
static size_t check_expected(const char *name, const struct fixture *fx)
{
	char path[512], line[512];
	uint8_t used[FIXTURE_MAX_SOCKS] = {0};
	size_t lines = 0, matched = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES_DIR, name);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char fields[12][64];
		size_t i;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		lines++;
		if (sscanf(line, "%63s %63s %63s %63s %63s %63s %63s %63s %63s %63s %63s %63s",
		           fields[0], fields[1], fields[2], fields[3], fields[4], fields[5],
		           fields[6], fields[7], fields[8], fields[9], fields[10],
		           fields[11]) != 12) {
			fprintf(stderr, "%s: bad line: %s", name, line);
			CHECK(0);
			continue;
		}
		for (i = 0; i < fx->nsocks; i++)
			if (!used[i] && sock_matches(&fx->socks[i], fields))
				break;
		if (i == fx->nsocks) {
			fprintf(stderr, "%s: no socket for: %s", name, line);
			CHECK(0);
			continue;
		}
		used[i] = 1;
		matched++;
	}
	fclose(f);
	CHECK_INT(matched, lines);
	CHECK_INT(fx->nsocks, lines);
	for (size_t i = 0; i < fx->nsocks; i++) {
		char row[RECORD_MAX];

		if (used[i])
			continue;
		record_format_row(row, sizeof(row), &fx->socks[i]);
		fprintf(stderr, "%s: socket not expected: %s", name, row);
	}
	return lines;
}

/* What holds for any real dump, whatever sockets it has. */
static void check_dump_sanity(const struct fixture *fx)
{
	struct snapshot s;
	size_t bad = 0;

	snapshot_init(&s);
	for (size_t i = 0; i < fx->nsocks; i++) {
		const struct sock *sk = &fx->socks[i];
		struct transition t = {.ts = {1700000000, 0}, .sk = sk, .to = sk->state};
		char line[RECORD_MAX];

		bad += sk->cookie == 0;
		/* Minisockets have neither uid nor inode. */
		bad += sk->kind != SOCK_KIND_FULL && (sk->uid != 0 || sk->inode != 0);
		/* Full sockets carry their cgroup (INET_DIAG_CGROUP_ID), minisockets not. */
		bad += (sk->kind == SOCK_KIND_FULL) != (sk->cgroup_id != 0);
		bad += sk->state == SOCK_LISTEN &&
		       (sk->tuple.rport != 0 || sk->kind != SOCK_KIND_FULL);
		bad += record_format(line, sizeof(line), &t, RECORD_TEXT) <= 0;
		bad += record_format(line, sizeof(line), &t, RECORD_JSON) <= 0;
		bad += record_format_row(line, sizeof(line), sk) <= 0;
		CHECK_INT(snapshot_put(&s, sk), 0); /* a quiet dump repeats nothing */
	}
	CHECK_INT(bad, 0);
	CHECK_INT(s.len, fx->nsocks);
	snapshot_release(&s);
}

/* One socket of each kind, most states, IPv4, IPv6 and v4-mapped. */
static void test_fixture_basic(void)
{
	static struct fixture fx;
	size_t kinds[SOCK_KIND_MAX] = {0}, states[SOCK_STATE_MAX] = {0}, v6 = 0;

	if (load_fixture("basic.dump", &fx) < 0)
		return;
	CHECK_INT(check_expected("basic.expected", &fx), 22);
	check_dump_sanity(&fx);
	for (size_t i = 0; i < fx.nsocks; i++) {
		kinds[fx.socks[i].kind % SOCK_KIND_MAX]++;
		states[fx.socks[i].state % SOCK_STATE_MAX]++;
		v6 += fx.socks[i].tuple.family == AF_INET6;
	}
	CHECK_INT(kinds[SOCK_KIND_REQUEST], 1);
	CHECK_INT(kinds[SOCK_KIND_TIMEWAIT], 3);
	CHECK_INT(states[SOCK_LISTEN], 3);
	CHECK_INT(states[SOCK_SYN_RECV], 1);
	CHECK_INT(states[SOCK_TIME_WAIT], 2);
	CHECK_INT(states[SOCK_FIN_WAIT2], 2);
	CHECK_INT(v6, 7);
}

/* A dump large enough to span several recvmsg() chunks. */
static void test_fixture_many(void)
{
	static struct fixture fx;
	uint8_t ports[160][2];
	size_t est = 0, bad_ports = 0;

	if (load_fixture("many.dump", &fx) < 0)
		return;
	CHECK(fx.chunks >= 3); /* at least two with sockets, and the end */
	CHECK_INT(check_expected("many.expected", &fx), 321);
	check_dump_sanity(&fx);
	memset(ports, 0, sizeof(ports));
	for (size_t i = 0; i < fx.nsocks; i++) {
		const struct sock *sk = &fx.socks[i];

		if (sk->state != SOCK_ESTABLISHED)
			continue;
		est++;
		if (sk->tuple.lport >= 41000 && sk->tuple.lport < 41160 && sk->tuple.rport == 9100)
			ports[sk->tuple.lport - 41000][0]++;
		else if (sk->tuple.rport >= 41000 && sk->tuple.rport < 41160 &&
		         sk->tuple.lport == 9100)
			ports[sk->tuple.rport - 41000][1]++;
		else
			bad_ports++;
	}
	CHECK_INT(est, 320);
	CHECK_INT(bad_ports, 0);
	for (size_t i = 0; i < 160; i++)
		bad_ports += ports[i][0] != 1 || ports[i][1] != 1;
	CHECK_INT(bad_ports, 0);
}

/* A destroy notification: state CLOSE, uid and inode 0 as the kernel sends
 * them, and a tcp_info cut to INFO_LEN bytes (0: no INET_DIAG_INFO). */
static struct nlmsghdr *put_event(size_t info_len)
{
	struct inet_diag_msg m = base_msg(AF_INET, SOCK_CLOSE);
	struct tcp_info ti;
	struct nlmsghdr *nlh;

	m.idiag_uid = 0;
	m.idiag_inode = 0;
	nlh = put_full(&m);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = 0;
	memset(&ti, 0, sizeof(ti));
	ti.tcpi_rtt = 51;
	ti.tcpi_retransmits = 2;
	ti.tcpi_total_retrans = 3;
	ti.tcpi_bytes_acked = 5000000000ULL;
	ti.tcpi_bytes_received = 77;
	if (info_len)
		mnl_attr_put(nlh, INET_DIAG_INFO, info_len, &ti);
	return nlh;
}

static void test_event(void)
{
	static const struct {
		size_t len;
		unsigned has;
	} cuts[] = {
	    {sizeof(struct tcp_info),
	     SOCK_INFO_HAS_BYTES | SOCK_INFO_HAS_RETRANS | SOCK_INFO_HAS_RTT | SOCK_INFO_HAS_RTO},
	    /* Up to tcpi_total_retrans: a 3.x kernel. */
	    {offsetof(struct tcp_info, tcpi_total_retrans) + 4,
	     SOCK_INFO_HAS_RETRANS | SOCK_INFO_HAS_RTT | SOCK_INFO_HAS_RTO},
	    {offsetof(struct tcp_info, tcpi_rtt) + 4, SOCK_INFO_HAS_RTT | SOCK_INFO_HAS_RTO},
	    {offsetof(struct tcp_info, tcpi_rtt) + 3, SOCK_INFO_HAS_RTO},
	    {8, SOCK_INFO_HAS_RTO},
	    /* tcpi_retransmits is the third byte. */
	    {2, 0},
	    {0, 0},
	};
	struct sock sk;
	struct sock_info info;

	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		struct nlmsghdr *nlh = put_event(cuts[i].len);

		memset(&info, 0xa5, sizeof(info));
		CHECK_INT(diag_parse_event(nlh, nlh->nlmsg_len, &sk, &info), 0);
		CHECK_INT(sk.kind, SOCK_KIND_GONE);
		CHECK_INT(sk.state, SOCK_CLOSE);
		CHECK_INT(sk.tuple.lport, 0x1234);
		CHECK_INT(sk.tuple.rport, 0xabcd);
		CHECK_INT(sk.cookie, 0x0123456789abcdefULL);
		CHECK_INT(info.has, cuts[i].has);
		CHECK_INT(info.rtt_us, cuts[i].has & SOCK_INFO_HAS_RTT ? 51 : 0);
		CHECK_INT(info.total_retrans, cuts[i].has & SOCK_INFO_HAS_RETRANS ? 3 : 0);
		CHECK_INT(info.retransmits, cuts[i].has & SOCK_INFO_HAS_RTO ? 2 : 0);
		CHECK_INT(info.bytes_acked, cuts[i].has & SOCK_INFO_HAS_BYTES ? 5000000000ULL : 0);
		CHECK_INT(info.bytes_received, cuts[i].has & SOCK_INFO_HAS_BYTES ? 77 : 0);
	}
	/* A longer tcp_info from a newer kernel: the known part is read. */
	{
		struct inet_diag_msg m = base_msg(AF_INET6, SOCK_CLOSE);
		struct nlmsghdr *nlh = put_full(&m);
		char big[sizeof(struct tcp_info) + 64];
		struct tcp_info *ti = (struct tcp_info *)big;

		memset(big, 0x11, sizeof(big));
		ti->tcpi_rtt = 9;
		mnl_attr_put(nlh, INET_DIAG_INFO, sizeof(big), big);
		CHECK_INT(diag_parse_event(nlh, nlh->nlmsg_len, &sk, &info), 0);
		CHECK_INT(info.rtt_us, 9);
		CHECK_INT(sk.tuple.family, AF_INET6);
	}
	/* Cut short inside the attribute: a broken message, nothing written. */
	{
		struct nlmsghdr *nlh = put_event(sizeof(struct tcp_info));

		memset(&info, 0xa5, sizeof(info));
		CHECK_INT(diag_parse_event(nlh, nlh->nlmsg_len - 8, &sk, &info), -EBADMSG);
		CHECK_INT(info.has, 0xa5);
	}
}

int main(void)
{
	test_ipv4();
	test_ipv6();
	test_states();
	test_wanted();
	test_kinds();
	test_errors();
	test_bad_attrs();
	test_cut_attrs();
	test_event();
	test_fixture_basic();
	test_fixture_many();
	return CHECK_DONE();
}
