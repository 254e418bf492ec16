/*
 * fault_recv.c - LD_PRELOAD shim that makes netlink dumps fail midway.
 *
 * With TCPSTATED_FAULT_RECV=N, one recvmsg() in N on a netlink socket fails
 * with ENOBUFS instead of returning data, as a receive-queue overrun would.
 * Which ones is scrambled (but the same in every run), so that dumps of any
 * length see both failures and successes.
 * The data the kernel had ready stays queued, so the daemon also has to cope
 * with the rest of the broken dump arriving later.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

#include <sys/socket.h>

typedef ssize_t (*recvmsg_fn)(int, struct msghdr *, int);

ssize_t recvmsg(int fd, struct msghdr *msg, int flags);

static int is_netlink(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	return getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_NETLINK;
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	static recvmsg_fn real;
	static unsigned long calls, every;

	if (!real) {
		const char *e = getenv("TCPSTATED_FAULT_RECV");

		real = (recvmsg_fn)dlsym(RTLD_NEXT, "recvmsg");
		every = e ? strtoul(e, NULL, 10) : 0;
	}
	if (every && is_netlink(fd) && (++calls * 2654435761u >> 8) % every == 0) {
		errno = ENOBUFS;
		return -1;
	}
	return real(fd, msg, flags);
}
