// SPDX-License-Identifier: MIT
/*
 * vireo-bench's latency histogram: log-linear buckets, merge, mean and
 * nearest-rank percentiles. Pure arithmetic; no clocks, no threads.
 */
#include "hist.h"

#include <math.h>
#include <string.h>

/* Values below this have one bucket each. */
#define EXACT_LIMIT (2ull * BENCH_HIST_SUB)

void bench_hist_init(struct bench_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned int bench_hist_bucket(uint64_t ns)
{
	unsigned int msb, shift;

	if (ns < EXACT_LIMIT)
		return (unsigned int)ns;
	if (ns >> BENCH_HIST_MAX_SHIFT)
		return BENCH_HIST_BUCKETS - 1;
	msb = 63u - (unsigned int)__builtin_clzll(ns);
	shift = msb - BENCH_HIST_SUB_BITS;
	/* ns >> shift keeps the leading 1 and SUB_BITS more: 64..127. */
	return (shift << BENCH_HIST_SUB_BITS) + (unsigned int)(ns >> shift);
}

uint64_t bench_hist_bucket_low(unsigned int idx)
{
	unsigned int shift;

	if (idx < EXACT_LIMIT)
		return idx;
	shift = (idx >> BENCH_HIST_SUB_BITS) - 1u;
	return (uint64_t)(idx - (shift << BENCH_HIST_SUB_BITS)) << shift;
}

uint64_t bench_hist_bucket_width(unsigned int idx)
{
	if (idx < EXACT_LIMIT)
		return 1;
	return 1ull << ((idx >> BENCH_HIST_SUB_BITS) - 1u);
}

void bench_hist_add(struct bench_hist *h, uint64_t ns)
{
	h->count++;
	h->sum += ns;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
	if (ns >> BENCH_HIST_MAX_SHIFT)
		h->overflow++;
	h->buckets[bench_hist_bucket(ns)]++;
}

void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src)
{
	if (!src->count)
		return;
	dst->count += src->count;
	dst->sum += src->sum;
	dst->overflow += src->overflow;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	for (unsigned int i = 0; i < BENCH_HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
}

uint64_t bench_hist_percentile(const struct bench_hist *h, double pct)
{
	uint64_t rank, seen = 0;
	double x;

	if (!h->count)
		return 0;
	if (!(pct > 0.0))
		return h->min;
	if (pct >= 100.0)
		return h->max;
	/*
	 * Nearest rank: the smallest value with at least pct% of values at or below
	 * it. The tiny relative slack keeps 99.9% of 1000 at rank 999, not 1000,
	 * whatever rounding 99.9 / 100 picked up.
	 */
	x = pct / 100.0 * (double)h->count;
	rank = (uint64_t)ceil(x - x * 1e-12);
	if (rank < 1)
		rank = 1;
	for (unsigned int i = 0; i < BENCH_HIST_BUCKETS; i++) {
		uint64_t mid;

		seen += h->buckets[i];
		if (seen < rank)
			continue;
		mid = bench_hist_bucket_low(i) + (bench_hist_bucket_width(i) - 1) / 2;
		if (mid < h->min)
			return h->min;
		if (mid > h->max)
			return h->max;
		return mid;
	}
	return h->max;
}

double bench_hist_mean(const struct bench_hist *h)
{
	if (!h->count)
		return 0.0;
	return (double)h->sum / (double)h->count;
}
