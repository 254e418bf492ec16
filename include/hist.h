/* hist.h - a fixed histogram of durations for percentiles. No I/O, no allocation. */
#ifndef TCPSTATED_HIST_H
#define TCPSTATED_HIST_H

#include <stdint.h>

/*
 * Values are microseconds. Below 16 each value has its own bucket; above,
 * each power of two is split into 8 buckets, so a percentile is exact to
 * within 12.5 %. Values of 2^40 us (12 days) and more share the last bucket.
 */
#define HIST_SUB_BITS 3
#define HIST_LINEAR   16
#define HIST_BUCKETS  (HIST_LINEAR + (40 - 4) * (1 << HIST_SUB_BITS))

struct hist {
	uint64_t count;
	uint64_t max;
	uint32_t buckets[HIST_BUCKETS];
};

/* Empties H. */
void hist_reset(struct hist *h);

/* Counts one value of USEC microseconds. */
void hist_add(struct hist *h, uint64_t usec);

/*
 * The value at quantile Q (0 to 1) of the counted values, rounded up to the
 * top of its bucket but never above the largest value counted: at least Q of
 * the values are at most the result. 0 when nothing was counted.
 */
uint64_t hist_quantile(const struct hist *h, double q);

#endif
