/*
 * util.c - clocks, growable arrays and name tables, shared so that no module
 * keeps a copy of its own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

uint64_t util_mono_ns(void)
{
	struct timespec ts = util_mono_ts();

	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct timespec util_mono_ts(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

int util_grow(void **v, size_t *cap, size_t n, size_t size, size_t min)
{
	size_t want;
	void *p;

	if (n <= *cap)
		return 0;
	want = *cap ? *cap * 2 : min;
	if (want < n)
		want = n;
	if (size && want > SIZE_MAX / size)
		return -ENOMEM;
	p = realloc(*v, want * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = want;
	return 0;
}

const char *util_name(const char *const *names, size_t n, unsigned i, const char *fallback)
{
	return i < n && names[i] ? names[i] : fallback;
}

int util_from_name(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], name) == 0)
			return (int)i;
	return -EINVAL;
}
