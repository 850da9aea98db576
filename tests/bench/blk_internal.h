/* SPDX-License-Identifier: MIT */
/*
 * What blk.c (set-up, tear-down, results) and blk_worker.c (one queue's data
 * path) share: the run's shared state, a worker's state and small helpers.
 * Internal to the blk run; main.c uses blk.h only.
 */
#ifndef VIREO_BENCH_BLK_INTERNAL_H
#define VIREO_BENCH_BLK_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "blk.h"
#include "ring.h"

/* Offsets are multiples of this (4 KiB, what a guest page cache issues). */
#define BLK_OFFSET_ALIGN 4096ull
/* How long a worker sleeps on its call eventfd before re-checking the clock. */
#define BLK_WAIT_SLICE_MS 100

/* Shared by the workers, read-only once they run, except the atomics. */
struct blk_run {
	const struct bench_blk_opts *o;
	uint64_t capacity; /* bytes */
	uint64_t t_start;  /* window, CLOCK_MONOTONIC ns */
	uint64_t t_end;
	uint64_t stall_ns;
	atomic_bool abort;    /* a worker failed: the others drain and stop */
	atomic_int gone;      /* 0, or why the socket died: -EPIPE hang-up, -EPROTO talk */
	atomic_uint finished; /* workers that have returned */
};

struct blk_worker {
	unsigned int index;
	struct blk_run *run;
	struct bench_ring ring;
	int kick;
	int call;
	uint64_t rng;	   /* xorshift64* state */
	uint64_t next_off; /* sequential patterns */
	struct bench_queue_stats *st;
	pthread_t tid;
	bool started;
	int rc;
	char error[160];
};

/* Set by bench_blk_stop() (a signal handler); every worker drains and stops. */
extern atomic_bool g_blk_stop;

/**
 * blk_worker_main() - One queue's thread: keeps qd requests in flight until the
 * window ends, then drains. Sets w->rc and w->error on failure.
 */
void *blk_worker_main(void *arg);

/** blk_fail() - Format an error into @buf; returns @rc. */
int blk_fail(char *buf, size_t len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static inline uint64_t blk_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline bool blk_is_write(enum bench_rw rw)
{
	return rw == BENCH_RW_RANDWRITE || rw == BENCH_RW_WRITE;
}

/* xorshift64*: offsets and write data; never seeded with 0. */
static inline uint64_t blk_xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

#endif /* VIREO_BENCH_BLK_INTERNAL_H */
