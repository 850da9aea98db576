/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Latency histogram for vireo-bench (audience: tests/bench only).
 *
 * Owns recording nanosecond latencies into fixed log-linear buckets, merging
 * per-queue histograms and reading mean and percentiles back. It keeps no
 * timestamps itself and takes no locks: each queue thread fills its own
 * histogram, the main thread merges them after the threads have been joined.
 *
 * Bucketing: values below 2^(SUB_BITS+1) get one bucket each (exact); above
 * that, each power of two is cut into 2^SUB_BITS equal buckets, so a bucket is
 * never wider than 1/64 of its lower bound. A percentile is reported as the
 * middle of its bucket (error under 0.8%), clamped to the exact min and max.
 * Values of 2^MAX_SHIFT ns (about 18 minutes) or more land in the last bucket
 * and are counted in @c overflow.
 */
#ifndef VIREO_BENCH_HIST_H
#define VIREO_BENCH_HIST_H

#include <stdint.h>

#define BENCH_HIST_SUB_BITS  6u
#define BENCH_HIST_SUB	     (1u << BENCH_HIST_SUB_BITS)
#define BENCH_HIST_MAX_SHIFT 40u
#define BENCH_HIST_BUCKETS \
	((BENCH_HIST_MAX_SHIFT - BENCH_HIST_SUB_BITS + 1u) << BENCH_HIST_SUB_BITS)

/** A latency histogram. Zero it with bench_hist_init(). */
struct bench_hist {
	uint64_t count;			      /**< values recorded */
	uint64_t sum;			      /**< their exact sum, ns */
	uint64_t min;			      /**< exact, UINT64_MAX when empty */
	uint64_t max;			      /**< exact, 0 when empty */
	uint64_t overflow;		      /**< values clamped into the last bucket */
	uint64_t buckets[BENCH_HIST_BUCKETS]; /**< counts per bucket */
};

/** bench_hist_init() - Empty @h. */
void bench_hist_init(struct bench_hist *h);

/** bench_hist_add() - Record one latency of @ns nanoseconds. */
void bench_hist_add(struct bench_hist *h, uint64_t ns);

/** bench_hist_merge() - Add every value recorded in @src to @dst. */
void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src);

/**
 * bench_hist_percentile() - The value below or at which @pct percent of the
 * recorded values lie (nearest-rank), as its bucket's midpoint.
 * @param h the histogram.
 * @param pct 0 to 100; 0 gives the minimum, 100 the maximum.
 * @return nanoseconds, or 0 when @h is empty.
 */
uint64_t bench_hist_percentile(const struct bench_hist *h, double pct);

/** bench_hist_mean() - The exact mean in ns, or 0 when @h is empty. */
double bench_hist_mean(const struct bench_hist *h);

/** bench_hist_bucket() - The bucket @ns falls in (exposed for the unit test). */
unsigned int bench_hist_bucket(uint64_t ns);

/** bench_hist_bucket_low() - The smallest value of bucket @idx. */
uint64_t bench_hist_bucket_low(unsigned int idx);

/** bench_hist_bucket_width() - How many values bucket @idx holds. */
uint64_t bench_hist_bucket_width(unsigned int idx);

#endif /* VIREO_BENCH_HIST_H */
