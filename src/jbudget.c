/*
 * jbudget.c - the journal's budget: a token bucket of RATE entries a second
 * and BURST at once, and the count of what it held back until a report says
 * so.
 *
 * A bucket rather than journald's fixed window (N entries per 30 s, then
 * nothing until the window ends): under a lasting overload the window sends
 * its whole allowance in the first second and then leaves the journal silent
 * for 29, while the bucket keeps a steady RATE a second flowing, so
 * `journalctl -f` still shows what is going on. Its worst case over any
 * window of T seconds is BURST + RATE x T, which is what must stay under
 * journald's limit (docs/systemd.md).
 *
 * Credit is kept in nano-tokens so that refilling needs no division and
 * no floating point: every nanosecond adds RATE of them, and an entry costs
 * 1e9.
 */
#include "jbudget.h"

#define TOKEN 1000000000ULL

static uint64_t credit_max(const struct jbudget *b)
{
	return (uint64_t)b->burst * TOKEN;
}

static void refill(struct jbudget *b, uint64_t now_ns)
{
	uint64_t elapsed = now_ns > b->refilled_ns ? now_ns - b->refilled_ns : 0;
	uint64_t room = credit_max(b) - b->credit;

	b->refilled_ns = now_ns;
	/* Compared before multiplying: a long quiet time cannot overflow. */
	if (elapsed > room / b->rate)
		b->credit = credit_max(b);
	else
		b->credit += elapsed * b->rate;
}

void jbudget_init(struct jbudget *b, uint32_t rate, uint32_t burst, uint64_t now_ns)
{
	*b = (struct jbudget){.rate = rate, .burst = burst, .refilled_ns = now_ns};
	b->credit = credit_max(b);
}

void jbudget_set(struct jbudget *b, uint32_t rate, uint32_t burst, uint64_t now_ns)
{
	refill(b, now_ns);
	b->rate = rate;
	b->burst = burst;
	if (b->credit > credit_max(b))
		b->credit = credit_max(b);
}

/* Notes a record of time TS as not sent: the span grows to include it. */
static void note(struct jbudget_report *p, const struct timespec *ts)
{
	if (p->over + p->failed == 0)
		p->since = p->until = *ts;
	if (ts->tv_sec < p->since.tv_sec ||
	    (ts->tv_sec == p->since.tv_sec && ts->tv_nsec < p->since.tv_nsec))
		p->since = *ts;
	if (ts->tv_sec > p->until.tv_sec ||
	    (ts->tv_sec == p->until.tv_sec && ts->tv_nsec > p->until.tv_nsec))
		p->until = *ts;
}

bool jbudget_take(struct jbudget *b, uint64_t now_ns, const struct timespec *ts)
{
	refill(b, now_ns);
	if (b->credit >= TOKEN) {
		b->credit -= TOKEN;
		return true;
	}
	note(&b->pending, ts);
	b->pending.over++;
	return false;
}

void jbudget_failed(struct jbudget *b, const struct timespec *ts)
{
	note(&b->pending, ts);
	b->pending.failed++;
}

bool jbudget_report_due(const struct jbudget *b, uint64_t now_ns, struct jbudget_report *ret)
{
	if (b->pending.over + b->pending.failed == 0)
		return false;
	if (b->reported_ns && now_ns - b->reported_ns < JBUDGET_REPORT_NS)
		return false;
	*ret = b->pending;
	return true;
}

void jbudget_reported(struct jbudget *b, uint64_t now_ns)
{
	b->pending = (struct jbudget_report){0};
	b->reported_ns = now_ns;
}
