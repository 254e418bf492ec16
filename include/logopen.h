/* logopen.h - opening the log: its directory, the file (never a symlink), a torn tail cut off. */
#ifndef TCPSTATED_LOGOPEN_H
#define TCPSTATED_LOGOPEN_H

#include <stdbool.h>
#include <stdint.h>

/* Opens the directory that holds PATH, when CREATE creating it and its
 * missing parents with mode 0750. Returns an O_CLOEXEC descriptor, or -errno. */
int logopen_dir(const char *path, bool create);

/*
 * Opens NAME in DIRFD for appending (O_APPEND, O_NONBLOCK), creating it with
 * MODE under the umask. Returns an O_CLOEXEC descriptor, or -errno: -ELOOP
 * for a symlink, -EINVAL for anything but a regular file.
 */
int logopen_file(int dirfd, const char *name, unsigned mode);

/*
 * Cuts a torn last record off the file NAME in DIRFD, open for writing as FD
 * and SIZE bytes long, back to its last newline. Returns the bytes cut, 0
 * when there was nothing to cut or the cut failed.
 */
uint64_t logopen_cut_torn(int dirfd, const char *name, int fd, uint64_t size);

#endif
