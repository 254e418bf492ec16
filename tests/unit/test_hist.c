/* test_hist.c - the duration histogram: buckets, percentiles, bounds. */
#include <stdint.h>

#include "check.h"
#include "hist.h"

static void test_empty(void)
{
	struct hist h;

	hist_reset(&h);
	CHECK_INT(hist_quantile(&h, 0.5), 0);
	CHECK_INT(hist_quantile(&h, 0.99), 0);
}

static void test_small_values_exact(void)
{
	struct hist h;

	hist_reset(&h);
	for (uint64_t v = 1; v <= 10; v++)
		hist_add(&h, v);
	CHECK_INT(h.count, 10);
	CHECK_INT(hist_quantile(&h, 0.5), 5);
	CHECK_INT(hist_quantile(&h, 0.9), 9);
	CHECK_INT(hist_quantile(&h, 0.99), 10);
	CHECK_INT(hist_quantile(&h, 1.0), 10);
	CHECK_INT(hist_quantile(&h, 0.0), 1);
}

/* Above 16 us the result is the top of the value's bucket: at most 12.5 % high. */
static void test_resolution(void)
{
	static const uint64_t values[] = {16, 17, 100, 1000, 1234, 99999, 1000000, 123456789};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct hist h;
		uint64_t q;

		hist_reset(&h);
		hist_add(&h, values[i]);
		hist_add(&h, values[i] * 4); /* so that max does not clip */
		q = hist_quantile(&h, 0.5);
		CHECK(q >= values[i]);
		CHECK(q <= values[i] + values[i] / 8);
	}
}

static void test_percentiles(void)
{
	struct hist h;

	hist_reset(&h);
	/* 990 polls of about 1 ms, 10 of 50 ms. */
	for (int i = 0; i < 990; i++)
		hist_add(&h, 1000 + (uint64_t)(i % 7));
	for (int i = 0; i < 10; i++)
		hist_add(&h, 50000);
	CHECK(hist_quantile(&h, 0.5) >= 1000 && hist_quantile(&h, 0.5) <= 1125);
	CHECK(hist_quantile(&h, 0.99) >= 1000 && hist_quantile(&h, 0.99) <= 1125);
	CHECK_INT(hist_quantile(&h, 0.995), 50000); /* the max caps the bucket's top */
	CHECK_INT(h.max, 50000);
}

static void test_huge(void)
{
	struct hist h;

	hist_reset(&h);
	hist_add(&h, UINT64_MAX); /* lands in the last bucket, no overflow */
	CHECK_INT(h.count, 1);
	CHECK(hist_quantile(&h, 0.5) > 0);
}

int main(void)
{
	test_empty();
	test_small_values_exact();
	test_resolution();
	test_percentiles();
	test_huge();
	return CHECK_DONE();
}
