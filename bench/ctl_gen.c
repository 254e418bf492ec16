/*
 * ctl_gen.c - writes a synthetic transition log for bench/ctl_bench.py, in
 * the daemon's exact format: every line comes from record.c's own
 * formatters.
 *
 * Client connections, each with seven lines: NONE -> SYN_SENT (with its
 * owner), SYN_SENT -> ESTABLISHED when it opens; ESTABLISHED -> FIN_WAIT1,
 * FIN_WAIT1 -> FIN_WAIT2, FIN_WAIT2 -> TIME_WAIT (destroy) and its summary,
 * TIME_WAIT -> NONE when it closes. OPEN connections are open at once: each
 * new one closes the oldest. Remote ports are taken in turn from PORTS
 * service ports starting at 10000 (so --port 10000 selects 1 in PORTS), on
 * remote hosts 10.0.x.y: no two ends are local to each other.
 *
 * Usage: tcpstate-ctl-gen RECORDS OPEN PORTS [text|json]  > LOG
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include "transition.h"
#include "record.h"

struct gen {
	enum record_format fmt;
	struct timespec now;
	unsigned long long records;
	char buf[RECORD_MAX];
};

static void tick(struct gen *g)
{
	g->now.tv_nsec += 37000; /* 37 us between records */
	if (g->now.tv_nsec >= 1000000000) {
		g->now.tv_nsec -= 1000000000;
		g->now.tv_sec++;
	}
}

static void emit(struct gen *g, const struct sock *sk, unsigned from, unsigned to, unsigned how,
                 const struct sock_owner *owner)
{
	struct transition t = {.ts = g->now,
	                       .sk = sk,
	                       .from = (uint8_t)from,
	                       .to = (uint8_t)to,
	                       .how = (uint8_t)how,
	                       .owner = owner};
	int n = record_format(g->buf, sizeof(g->buf), &t, g->fmt);

	fwrite(g->buf, 1, (size_t)n, stdout);
	g->records++;
	tick(g);
}

static void open_conn(struct gen *g, const struct sock *sk)
{
	static const struct sock_owner owner = {.cgroup = "/system.slice/app.service",
	                                        .unit = "app.service"};

	emit(g, sk, SOCK_NONE, SOCK_SYN_SENT, TRANSITION_HOW_POLL, &owner);
	emit(g, sk, SOCK_SYN_SENT, SOCK_ESTABLISHED, TRANSITION_HOW_POLL, NULL);
}

static void close_conn(struct gen *g, struct sock *sk)
{
	struct summary s = {
	    .ts = g->now,
	    .sk = sk,
	    .lifetime_us = 120000,
	    .info = {.bytes_acked = 1234,
	             .bytes_received = 56789,
	             .rtt_us = 40,
	             .has = SOCK_INFO_HAS_BYTES | SOCK_INFO_HAS_RETRANS | SOCK_INFO_HAS_RTT}};
	int n;

	emit(g, sk, SOCK_ESTABLISHED, SOCK_FIN_WAIT1, TRANSITION_HOW_POLL, NULL);
	sk->kind = SOCK_KIND_TIMEWAIT;
	emit(g, sk, SOCK_FIN_WAIT1, SOCK_FIN_WAIT2, TRANSITION_HOW_POLL, NULL);
	emit(g, sk, SOCK_FIN_WAIT2, SOCK_TIME_WAIT, TRANSITION_HOW_DESTROY, NULL);
	s.ts = g->now;
	n = record_format_summary(g->buf, sizeof(g->buf), &s, g->fmt);
	fwrite(g->buf, 1, (size_t)n, stdout);
	g->records++;
	emit(g, sk, SOCK_TIME_WAIT, SOCK_NONE, TRANSITION_HOW_POLL, NULL);
}

static void make_sock(struct sock *sk, unsigned long long i, unsigned ports)
{
	memset(sk, 0, sizeof(*sk));
	sk->cookie = i + 1;
	sk->kind = SOCK_KIND_FULL;
	sk->uid = 1000;
	sk->inode = (uint32_t)(100000 + i);
	sk->tuple.family = AF_INET;
	sk->tuple.laddr[0] = 192;
	sk->tuple.laddr[1] = 168;
	sk->tuple.laddr[3] = 2;
	sk->tuple.raddr[0] = 10;
	sk->tuple.raddr[2] = (uint8_t)(i >> 8);
	sk->tuple.raddr[3] = (uint8_t)i;
	sk->tuple.lport = (uint16_t)(32768 + i % 28000);
	sk->tuple.rport = (uint16_t)(10000 + i % ports);
}

int main(int argc, char **argv)
{
	struct gen g = {.now = {.tv_sec = 1796380000}};
	unsigned long long want, open, ports, i = 0;
	struct sock *ring;

	if (argc < 4 || argc > 5 || !(want = strtoull(argv[1], NULL, 10)) ||
	    !(open = strtoull(argv[2], NULL, 10)) || !(ports = strtoull(argv[3], NULL, 10))) {
		fprintf(stderr, "usage: %s RECORDS OPEN PORTS [text|json]\n", argv[0]);
		return 64;
	}
	g.fmt = argc == 5 && strcmp(argv[4], "text") == 0 ? RECORD_TEXT : RECORD_JSON;
	ring = calloc(open, sizeof(*ring));
	if (!ring)
		return 70;
	while (g.records + 7 <= want) {
		struct sock *sk = &ring[i % open];

		if (i >= open)
			close_conn(&g, sk);
		make_sock(sk, i, (unsigned)ports);
		open_conn(&g, sk);
		i++;
	}
	/* What is left open stays open: the end of the log finds it so. */
	free(ring);
	fprintf(stderr, "%llu records, %llu connections, %llu open at the end\n", g.records, i,
	        i < open ? i : open);
	return fflush(stdout) == 0 ? 0 : 74;
}
