// SPDX-License-Identifier: MIT
/*
 * Unit tests of tests/bench/hist.c: bucket boundaries (exact below 128 ns,
 * contiguous, never wider than 1/64 of their value), overflow clamping,
 * nearest-rank percentiles against known distributions, the mean, and merging.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "hist.h"

static struct bench_hist *new_hist(void)
{
	struct bench_hist *h = malloc(sizeof(*h));

	assert_non_null(h);
	bench_hist_init(h);
	return h;
}

/* |got - want| <= want * tol */
static void assert_near(uint64_t got, uint64_t want, double tol)
{
	double d = (double)got - (double)want;

	if (d < 0)
		d = -d;
	if (d > (double)want * tol)
		fail_msg("got %llu, want %llu within %.2f%%", (unsigned long long)got,
			 (unsigned long long)want, tol * 100);
}

static void test_small_values_are_exact(void **state)
{
	(void)state;
	for (uint64_t v = 0; v < 2 * BENCH_HIST_SUB; v++) {
		assert_int_equal(bench_hist_bucket(v), v);
		assert_int_equal(bench_hist_bucket_low((unsigned int)v), v);
		assert_int_equal(bench_hist_bucket_width((unsigned int)v), 1);
	}
}

static void test_buckets_are_contiguous(void **state)
{
	(void)state;
	for (unsigned int i = 0; i + 1 < BENCH_HIST_BUCKETS; i++) {
		uint64_t low = bench_hist_bucket_low(i), width = bench_hist_bucket_width(i);

		assert_int_equal(low + width, bench_hist_bucket_low(i + 1));
		assert_int_equal(bench_hist_bucket(low), i);
		assert_int_equal(bench_hist_bucket(low + width - 1), i);
	}
	/* The last bucket ends where overflow starts. */
	assert_int_equal(bench_hist_bucket_low(BENCH_HIST_BUCKETS - 1) +
				 bench_hist_bucket_width(BENCH_HIST_BUCKETS - 1),
			 1ull << BENCH_HIST_MAX_SHIFT);
}

static void test_bucket_width_is_bounded(void **state)
{
	(void)state;
	for (unsigned int i = 2 * BENCH_HIST_SUB; i < BENCH_HIST_BUCKETS; i++)
		assert_true(bench_hist_bucket_width(i) * BENCH_HIST_SUB <=
			    bench_hist_bucket_low(i));
}

static void test_overflow_is_clamped(void **state)
{
	struct bench_hist *h = new_hist();

	(void)state;
	bench_hist_add(h, (1ull << BENCH_HIST_MAX_SHIFT) - 1);
	bench_hist_add(h, 1ull << BENCH_HIST_MAX_SHIFT);
	bench_hist_add(h, UINT64_MAX / 4);
	assert_int_equal(h->overflow, 2);
	assert_int_equal(h->count, 3);
	assert_int_equal(h->buckets[BENCH_HIST_BUCKETS - 1], 3);
	assert_int_equal(bench_hist_percentile(h, 100), UINT64_MAX / 4);
	free(h);
}

static void test_empty(void **state)
{
	struct bench_hist *h = new_hist();

	(void)state;
	assert_int_equal(bench_hist_percentile(h, 0), 0);
	assert_int_equal(bench_hist_percentile(h, 50), 0);
	assert_int_equal(bench_hist_percentile(h, 100), 0);
	assert_true(bench_hist_mean(h) == 0.0);
	free(h);
}

static void test_single_value(void **state)
{
	struct bench_hist *h = new_hist();

	(void)state;
	bench_hist_add(h, 123457);
	/* Clamped to the exact min and max, so a lone value comes back exact. */
	assert_int_equal(bench_hist_percentile(h, 0), 123457);
	assert_int_equal(bench_hist_percentile(h, 50), 123457);
	assert_int_equal(bench_hist_percentile(h, 99.9), 123457);
	assert_int_equal(bench_hist_percentile(h, 100), 123457);
	assert_true(bench_hist_mean(h) == 123457.0);
	free(h);
}

static void test_uniform(void **state)
{
	struct bench_hist *h = new_hist();

	(void)state;
	for (uint64_t v = 1; v <= 100000; v++)
		bench_hist_add(h, v);
	assert_int_equal(h->count, 100000);
	assert_true(bench_hist_mean(h) == 50000.5);
	assert_int_equal(bench_hist_percentile(h, 0), 1);
	assert_int_equal(bench_hist_percentile(h, 100), 100000);
	assert_near(bench_hist_percentile(h, 50), 50000, 0.008);
	assert_near(bench_hist_percentile(h, 99), 99000, 0.008);
	assert_near(bench_hist_percentile(h, 99.9), 99900, 0.008);
	assert_near(bench_hist_percentile(h, 1), 1000, 0.008);
	free(h);
}

/* Nearest rank: with 999 fast values and one slow, p99.9 is still fast. */
static void test_nearest_rank_tail(void **state)
{
	struct bench_hist *h = new_hist();

	(void)state;
	for (int i = 0; i < 999; i++)
		bench_hist_add(h, 10000);
	bench_hist_add(h, 5000000);
	assert_near(bench_hist_percentile(h, 50), 10000, 0.008);
	assert_near(bench_hist_percentile(h, 99.9), 10000, 0.008);
	assert_int_equal(bench_hist_percentile(h, 99.95), 5000000);
	assert_int_equal(bench_hist_percentile(h, 100), 5000000);
	/* Add one more slow value: now the 1000th of 1001 ranks is slow. */
	bench_hist_add(h, 5000000);
	assert_near(bench_hist_percentile(h, 99.9), 5000000, 0.008);
	free(h);
}

static void test_merge_equals_adding_all(void **state)
{
	struct bench_hist *a = new_hist(), *b = new_hist(), *all = new_hist();
	struct bench_hist *empty = new_hist();

	(void)state;
	for (uint64_t v = 0; v < 5000; v++) {
		uint64_t x = v * v * 7 + 3, y = 1000000 + v * 13;

		bench_hist_add(a, x);
		bench_hist_add(b, y);
		bench_hist_add(all, x);
		bench_hist_add(all, y);
	}
	bench_hist_merge(a, b);
	bench_hist_merge(a, empty);
	assert_memory_equal(a, all, sizeof(*a));
	/* Merging into an empty histogram copies min and max too. */
	bench_hist_merge(empty, b);
	assert_int_equal(empty->min, b->min);
	assert_int_equal(empty->max, b->max);
	free(a);
	free(b);
	free(all);
	free(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_values_are_exact),
		cmocka_unit_test(test_buckets_are_contiguous),
		cmocka_unit_test(test_bucket_width_is_bounded),
		cmocka_unit_test(test_overflow_is_clamped),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_single_value),
		cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_nearest_rank_tail),
		cmocka_unit_test(test_merge_equals_adding_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
