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
 * Given network namespaces (files such as /run/netns/NAME), it opens one dump
 * socket in each (entering it for the moment that takes, as tcpstated's
 * src/nsset.c does) and dumps them all, one after the other, at every tick:
 * the floor of watching many namespaces is the sum of theirs
 * (bench/netns_bench.py).
 *
 * Usage: tcpstate-floor [INTERVAL_MS [NETNS...]]   (default 100, our own)
 * Runs until SIGTERM or SIGINT, then prints "dumps=N skipped=M rounds=R" (N
 * dumps in all, R ticks served, M ticks skipped) and exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
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

static int diag_socket(void)
{
	return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
}

/* A dump socket in the namespace at PATH, entered from and left for HOME:
 * the socket answers about the namespace it was created in. -1 on failure,
 * said; one that cannot come back exits. */
static int diag_socket_in(const char *path, int home)
{
	int ns = open(path, O_RDONLY | O_CLOEXEC), fd;

	if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
		fprintf(stderr, "tcpstate-floor: %s: %s\n", path, strerror(errno));
		if (ns >= 0)
			close(ns);
		return -1;
	}
	close(ns);
	fd = diag_socket();
	if (fd < 0)
		fprintf(stderr, "tcpstate-floor: socket in %s: %s\n", path, strerror(errno));
	if (setns(home, CLONE_NEWNET) < 0) {
		perror("tcpstate-floor: back to our network namespace");
		exit(71);
	}
	return fd;
}

int main(int argc, char **argv)
{
	static char buf[32768];
	long interval_ms = argc > 1 ? strtol(argv[1], NULL, 10) : 100;
	struct itimerspec its = {0};
	struct sigaction sa = {.sa_handler = on_signal};
	uint64_t dumps = 0, rounds = 0, skipped = 0;
	uint32_t seq = 0;
	int nns = argc > 2 ? argc - 2 : 1;
	int *nl = calloc((size_t)nns, sizeof(*nl));
	int tfd;

	if (interval_ms <= 0 || interval_ms > 60000 || !nl) {
		fprintf(stderr, "usage: %s [INTERVAL_MS [NETNS...]]\n", argv[0]);
		return 64;
	}
	/* No SA_RESTART: the signal must interrupt the blocking read below. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (argc > 2) {
		int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

		if (home < 0) {
			perror("tcpstate-floor: /proc/thread-self/ns/net");
			return 71;
		}
		for (int i = 0; i < nns; i++)
			if ((nl[i] = diag_socket_in(argv[i + 2], home)) < 0)
				return 71;
		close(home);
	} else {
		nl[0] = diag_socket();
	}
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (nl[0] < 0 || tfd < 0) {
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

		for (int i = 0; i < nns && !stop; i++) {
			if (dump(nl[i], ++seq, buf, sizeof(buf)) < 0) {
				if (stop)
					break;
				perror("tcpstate-floor: dump");
				return 71;
			}
			dumps++;
		}
		if (stop)
			break;
		rounds++;
		if (read(tfd, &expirations, sizeof(expirations)) == sizeof(expirations))
			skipped += expirations - 1;
	}
	printf("dumps=%llu skipped=%llu rounds=%llu\n", (unsigned long long)dumps,
	       (unsigned long long)skipped, (unsigned long long)rounds);
	free(nl);
	return 0;
}
