/* netns.h - enter the network namespace to watch, before any netlink socket is opened. */
#ifndef TCPSTATED_NETNS_H
#define TCPSTATED_NETNS_H

#include <stddef.h>

/*
 * Writes the file that names the namespace SPEC into BUF of SIZE bytes: SPEC
 * itself when it holds a '/' (e.g. /proc/1234/ns/net), else /run/netns/SPEC
 * (a name given by `ip netns add`). Returns 0, -EINVAL for an empty SPEC, ".",
 * "..", or -ENAMETOOLONG.
 */
int netns_path(const char *spec, char *buf, size_t size);

/* Opens the namespace file PATH. Returns an O_CLOEXEC descriptor, or -errno. */
int netns_open(const char *path);

/*
 * Whether FD is a network namespace file, asked without entering it (so
 * without privilege; --check-config asks it too). Returns 0, -EINVAL for
 * another kind of namespace, or -ENOTTY for a file that is no namespace.
 */
int netns_check(int fd);

/*
 * Moves the calling thread, and the threads it creates later, into the
 * network namespace open at FD, which must be a network namespace file; FD
 * stays open. Threads already running stay where they are, so call it from
 * the thread that opens the netlink sockets, before it opens them (the log's
 * worker thread, started earlier, does only file I/O, which the namespace
 * does not affect). Returns 0, or -errno: -EPERM without CAP_SYS_ADMIN,
 * -EINVAL when FD is not a network namespace.
 */
int netns_enter(int fd);

#endif
