/* SPDX-License-Identifier: MIT */
/*
 * What net.c (set-up, tear-down, results) and net_worker.c (one queue pair's data
 * path) share. Internal to the net run; main.c uses net.h only.
 */
#ifndef VIREO_BENCH_NET_INTERNAL_H
#define VIREO_BENCH_NET_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "net.h"
#include "net_frame.h"
#include "net_ring.h"

/* Bytes per buffer: a virtio-net header and the longest frame, page-friendly. */
#define NET_BUF_SIZE 2048u
/* How long a worker sleeps on its call eventfds before re-checking the clock. */
#define NET_WAIT_SLICE_MS 10
/* After the last send: how long to wait for frames still on their way back. */
#define NET_DRAIN_GRACE_NS 1000000000ull

/* Shared by the workers, read-only once they run, except the atomics. */
struct net_run {
	const struct bench_net_opts *o;
	unsigned int hdr_len;
	bool mrg_rxbuf;
	struct bench_frame_addr addr;
	uint64_t t_start; /* window, CLOCK_MONOTONIC ns */
	uint64_t t_end;
	uint64_t stall_ns;
	atomic_bool abort;    /* a worker failed: the others stop */
	atomic_int gone;      /* 0, or why the socket died: -EPIPE hang-up, -EPROTO talk */
	atomic_uint finished; /* workers that have returned */
};

struct net_worker {
	unsigned int index; /* queue pair */
	struct net_run *run;
	struct bench_nring rx, tx;
	int kick[2]; /* rx, tx */
	int call[2];
	bool started[2];
	uint64_t next_seq;   /* next sequence number to send */
	uint64_t expect_seq; /* next sequence number expected back */
	struct bench_net_stats *st;
	pthread_t tid;
	int rc;
	char error[160];
};

/* Set by bench_net_stop() (a signal handler); every worker drains and stops. */
extern atomic_bool g_net_stop;

/** net_worker_main() - One queue pair's thread. Sets w->rc and w->error on failure. */
void *net_worker_main(void *arg);

/** net_fail() - Format an error into @buf; returns @rc. */
int net_fail(char *buf, size_t len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static inline uint64_t net_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif /* VIREO_BENCH_NET_INTERNAL_H */
