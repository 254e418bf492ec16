/* util.h - the few helpers every module needs: clocks, growable arrays, name tables. No I/O. */
#ifndef TCPSTATED_UTIL_H
#define TCPSTATED_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in ns. clock_gettime() fails only for an unknown clock or a
 * bad pointer, neither of which can happen here. */
uint64_t util_mono_ns(void);

/* CLOCK_MONOTONIC as a timespec. */
struct timespec util_mono_ts(void);

/*
 * Makes room for N elements of SIZE bytes in *V, which has room for *CAP:
 * growth at least doubles, and starts at MIN elements. *V and *CAP change only
 * on success. Returns 0 or -ENOMEM.
 */
int util_grow(void **v, size_t *cap, size_t n, size_t size, size_t min);

/* NAMES[I] of a table of N names, or FALLBACK when I is out of range or NULL. */
const char *util_name(const char *const *names, size_t n, unsigned i, const char *fallback);

/* The index of NAME in a table of N names (NULL entries skipped), or -EINVAL. */
int util_from_name(const char *const *names, size_t n, const char *name);

/* The number of elements of an array (not a pointer). */
#define UTIL_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
