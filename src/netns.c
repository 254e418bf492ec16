/*
 * netns.c - enter the network namespace to watch.
 *
 * NETLINK_SOCK_DIAG answers about the namespace the netlink socket was
 * created in, so watching another namespace (a container's) takes no more
 * than switching to it before diag_new(). Files already open (the log) and
 * later ones (the journal's and sd_notify's sockets are named by path) are
 * not affected by the switch.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>

#include <linux/nsfs.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "netns.h"

#define NETNS_RUN_DIR "/run/netns"

int netns_path(const char *spec, char *buf, size_t size)
{
	int n;

	if (spec[0] == '\0' || strcmp(spec, ".") == 0 || strcmp(spec, "..") == 0)
		return -EINVAL;
	if (strchr(spec, '/'))
		n = snprintf(buf, size, "%s", spec);
	else
		n = snprintf(buf, size, NETNS_RUN_DIR "/%s", spec);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int netns_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	return fd < 0 ? -errno : fd;
}

int netns_check(int fd)
{
	int type = ioctl(fd, NS_GET_NSTYPE);

	if (type < 0)
		return -errno;
	return type == CLONE_NEWNET ? 0 : -EINVAL;
}

int netns_enter(int fd)
{
	return setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
}
