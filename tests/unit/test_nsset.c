/* test_nsset.c - the cadence policy: how the namespaces' polls are spread over ticks. */
#include "check.h"
#include "nsset.h"

#define MS 1000000ULL

/* A round over the budget spreads the polls at once, by as many ticks as
 * it takes to fit; no budget never spreads. */
static void test_grow(void)
{
	CHECK_INT(nsset_spread_next(1, 10 * MS, 20 * MS), 1);
	CHECK_INT(nsset_spread_next(1, 20 * MS, 20 * MS), 1);
	CHECK_INT(nsset_spread_next(1, 21 * MS, 20 * MS), 2);
	CHECK_INT(nsset_spread_next(1, 110 * MS, 20 * MS), 6);
	CHECK_INT(nsset_spread_next(1, 110 * MS, 0), 1);
	/* Never beyond the cap: each namespace is still polled now and then. */
	CHECK_INT(nsset_spread_next(1, 100000 * MS, 20 * MS), NSSET_SPREAD_MAX);
}

/* It shrinks only once the round fits in 80 % of the budget at the smaller
 * spread, so that a cost near the line does not flip it every tick. */
static void test_hysteresis(void)
{
	/* At 6, a round of 105 ms needs 6 (5.25), but 5 would leave no margin. */
	CHECK_INT(nsset_spread_next(6, 105 * MS, 20 * MS), 6);
	CHECK_INT(nsset_spread_next(6, 100 * MS, 20 * MS), 6);
	/* 80 ms fits 5 ticks of 16 ms (80 % of 20): shrinks to 5. */
	CHECK_INT(nsset_spread_next(6, 80 * MS, 20 * MS), 5);
	/* The cost falls away: back to every tick. */
	CHECK_INT(nsset_spread_next(6, 1 * MS, 20 * MS), 1);
	CHECK_INT(nsset_spread_next(2, 0, 20 * MS), 1);
}

int main(void)
{
	test_grow();
	test_hysteresis();
	return CHECK_DONE();
}
