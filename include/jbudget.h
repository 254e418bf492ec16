/* jbudget.h - the journal's budget: a token bucket, and what it held back until reported. No I/O.
 */
#ifndef TCPSTATED_JBUDGET_H
#define TCPSTATED_JBUDGET_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* One "not sent" report at most this often (ns), while entries are held back. */
#define JBUDGET_REPORT_NS (10ULL * 1000000000ULL)

/* What was not sent since the last report. */
struct jbudget_report {
	uint64_t over;                /* entries over the budget */
	uint64_t failed;              /* sends the journal refused (its socket full, or gone) */
	struct timespec since, until; /* the first and last of those records' times */
};

struct jbudget {
	uint32_t rate;                 /* entries per second, on average */
	uint32_t burst;                /* entries at once, after a quiet time */
	uint64_t credit;               /* tokens x 1e9: a token is 1e9 */
	uint64_t refilled_ns;          /* when the credit was last topped up */
	uint64_t reported_ns;          /* when a report was last sent; 0: never */
	struct jbudget_report pending; /* not reported yet */
};

/* Starts B full (BURST tokens) at NOW_NS, refilling RATE a second. RATE and BURST are >= 1. */
void jbudget_init(struct jbudget *b, uint32_t rate, uint32_t burst, uint64_t now_ns);

/* Changes RATE and BURST, keeping what is pending; the credit is cut to the new burst. */
void jbudget_set(struct jbudget *b, uint32_t rate, uint32_t burst, uint64_t now_ns);

/*
 * One entry, of a record made at TS, is due at NOW_NS (CLOCK_MONOTONIC):
 * returns true when the budget has a token for it (taken), false when it is
 * over the budget, which is then counted as not sent.
 */
bool jbudget_take(struct jbudget *b, uint64_t now_ns, const struct timespec *ts);

/* An entry that had a token, of a record made at TS, could not be sent: counted as not sent. */
void jbudget_failed(struct jbudget *b, const struct timespec *ts);

/*
 * Whether a "not sent" report is due at NOW_NS: something is pending and no
 * report was sent in the last JBUDGET_REPORT_NS. When it is, *RET is what to
 * report; call jbudget_reported() once the report is out.
 */
bool jbudget_report_due(const struct jbudget *b, uint64_t now_ns, struct jbudget_report *ret);

/* The report due at NOW_NS was sent: what it counted is no longer pending. */
void jbudget_reported(struct jbudget *b, uint64_t now_ns);

#endif
