/* loggen.h - the rotated files PATH.1 ... PATH.keep: names, a rotation's renames, pruning. */
#ifndef TCPSTATED_LOGGEN_H
#define TCPSTATED_LOGGEN_H

#include <limits.h>
#include <stdbool.h>

/* Room for "NAME.1000.gz" and ".NAME.gz.tmp". */
#define LOGGEN_NAME_MAX (NAME_MAX + 16)

/* Writes "BASE.K", or "BASE.K.gz" when GZ, into BUF of LOGGEN_NAME_MAX bytes.
 * Returns BUF. */
const char *loggen_name(char *buf, const char *base, unsigned k, bool gz);

/* Whether NAME in DIRFD is the file open as FD (a symlink never is). */
bool loggen_same_file(int dirfd, const char *name, int fd);

/*
 * The renames of a rotation in DIRFD: shifts BASE.1 ... (plain and .gz) up by
 * one, dropping BASE.KEEP when every number below it is taken, then renames
 * BASE to BASE.1 if BASE is still the file open as FD. Symlinks are renamed
 * and deleted themselves, never followed. Returns 0 or -errno (the first
 * failure; the renames before it stay done).
 */
int loggen_shift(int dirfd, const char *base, unsigned keep, int fd);

/* Deletes BASE.K and BASE.K.gz in DIRFD for every K above KEEP, which a
 * larger keep left behind (symlinks themselves). Returns 0 or -errno (the
 * first failure; the other files are still deleted). */
int loggen_prune(int dirfd, const char *base, unsigned keep);

#endif
