/*
 * hist.c - a fixed log-linear histogram of durations.
 *
 * The poll loop counts how late each tick's poll starts and how long it
 * takes here, for the p50/p99 it reports. It is a fixed array so that
 * counting costs no allocation and a few instructions per poll.
 */
#include <string.h>

#include "hist.h"

/* Index of the highest set bit of V, V > 0. */
static unsigned top_bit(uint64_t v)
{
	return 63u - (unsigned)__builtin_clzll(v);
}

static unsigned bucket_of(uint64_t v)
{
	unsigned e, b;

	if (v < HIST_LINEAR)
		return (unsigned)v;
	e = top_bit(v); /* >= 4 */
	b = HIST_LINEAR + (e - 4) * (1u << HIST_SUB_BITS) +
	    (unsigned)(v >> (e - HIST_SUB_BITS) & ((1u << HIST_SUB_BITS) - 1));
	return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

/* The largest value that falls in bucket B. */
static uint64_t bucket_top(unsigned b)
{
	unsigned e, sub;

	if (b < HIST_LINEAR)
		return b;
	e = (b - HIST_LINEAR) / (1u << HIST_SUB_BITS) + 4;
	sub = (b - HIST_LINEAR) % (1u << HIST_SUB_BITS);
	return (((uint64_t)(1u << HIST_SUB_BITS) + sub + 1) << (e - HIST_SUB_BITS)) - 1;
}

void hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

void hist_add(struct hist *h, uint64_t usec)
{
	h->buckets[bucket_of(usec)]++;
	h->count++;
	if (usec > h->max)
		h->max = usec;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	if (q < 0)
		q = 0;
	/* The smallest value with at least Q * count values at or below it. */
	rank = (uint64_t)(q * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		seen += h->buckets[b];
		if (seen >= rank) {
			uint64_t top = bucket_top(b);

			return top < h->max ? top : h->max;
		}
	}
	return h->max;
}
