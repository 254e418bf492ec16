/*
 * floor.c - the cheapest full TCP socket dump, taken on a schedule and thrown
 * away: what any poller of NETLINK_SOCK_DIAG must pay at least, and so the
 * yardstick tcpstated is measured against (see docs/performance.md).
 *
 * One TCPDIAG_GETSOCK request per tick (both address families in one walk of
 * the kernel's tables), no extensions, every state, received into one 32 KiB
 * buffer (the most the kernel fills per recvmsg of a dump). The messages are
 * not parsed: only the headers are walked to find the end of the dump. The
 * ticks come from a timerfd on an absolute schedule, like tcpstated's.
 *
 * Usage: tcpstate-floor [INTERVAL_MS]   (default 100)
 * Runs until SIGTERM or SIGINT, then prints "dumps=N skipped=M" and exits 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* One dump: 0 when it completed, -1 (errno set) when it did not. */
static int dump(int fd, uint32_t seq, char *buf, size_t size)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req req;
	} msg = {
	    .nlh = {.nlmsg_len = sizeof(msg),
	            .nlmsg_type = TCPDIAG_GETSOCK,
	            .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
	            .nlmsg_seq = seq},
	    /* Every state but the kernel's TCP_BOUND_INACTIVE (13): asking for
	     * it adds a walk of the bind hash for sockets that are only bound,
	     * which tcpstated does not ask for either (src/diag.c). */
	    .req = {.idiag_family = AF_UNSPEC, .idiag_states = 0xffffffffu & ~(1u << 13)},
	};
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -1;
	for (;;) {
		ssize_t n = recv(fd, buf, size, 0);
		const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
		size_t len;

		if (n < 0) {
			if (errno == EINTR && !stop)
				continue;
			return -1;
		}
		for (len = (size_t)n; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				errno = EIO;
				return -1;
			}
		}
	}
}

int main(int argc, char **argv)
{
	static char buf[32768];
	long interval_ms = argc > 1 ? strtol(argv[1], NULL, 10) : 100;
	struct itimerspec its = {0};
	struct sigaction sa = {.sa_handler = on_signal};
	uint64_t dumps = 0, skipped = 0;
	uint32_t seq = 0;
	int nl, tfd;

	if (interval_ms <= 0 || interval_ms > 60000) {
		fprintf(stderr, "usage: %s [INTERVAL_MS]\n", argv[0]);
		return 64;
	}
	/* No SA_RESTART: the signal must interrupt the blocking read below. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (nl < 0 || tfd < 0) {
		perror("tcpstate-floor: socket");
		return 71;
	}
	its.it_interval.tv_sec = interval_ms / 1000;
	its.it_interval.tv_nsec = interval_ms % 1000 * 1000000L;
	its.it_value = its.it_interval;
	if (timerfd_settime(tfd, 0, &its, NULL) < 0) {
		perror("tcpstate-floor: timerfd_settime");
		return 71;
	}

	while (!stop) {
		uint64_t expirations;

		if (dump(nl, ++seq, buf, sizeof(buf)) < 0) {
			if (stop)
				break;
			perror("tcpstate-floor: dump");
			return 71;
		}
		dumps++;
		if (read(tfd, &expirations, sizeof(expirations)) == sizeof(expirations))
			skipped += expirations - 1;
	}
	printf("dumps=%llu skipped=%llu\n", (unsigned long long)dumps, (unsigned long long)skipped);
	return 0;
}
