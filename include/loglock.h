/* loglock.h - one daemon per log: a lock file beside the log that names its holder. */
#ifndef TCPSTATED_LOGLOCK_H
#define TCPSTATED_LOGLOCK_H

#include "loggen.h"

/* Writes the name of the lock of the log BASE, ".BASE.lock", into BUF of
 * LOGGEN_NAME_MAX bytes. Returns BUF. */
const char *loglock_name(char *buf, const char *base);

/*
 * Takes the lock of the log BASE in DIRFD: an OFD write lock on its lock
 * file, created with MODE under the umask, into which it writes this
 * process's pid. Returns the lock's descriptor (O_CLOEXEC: closing it
 * releases the lock), -EBUSY when another open file holds it, or -errno
 * (-ELOOP for a symlink, -EINVAL for anything but a regular file).
 */
int loglock_take(int dirfd, const char *base, unsigned mode);

/*
 * The pid that the holder of the lock of BASE in DIRFD wrote into it, as the
 * holder's pid namespace numbers it: > 0, 0 when the lock is not held or
 * the pid cannot be read, or -errno when the lock file cannot be opened.
 */
int loglock_holder(int dirfd, const char *base);

#endif
