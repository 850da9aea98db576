/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The virtio-blk workload of vireo-bench (audience: tests/bench only).
 *
 * Owns one benchmark run against a vhost-user-blk backend: negotiation and
 * config, the memfd that plays guest RAM, one thread per queue keeping the
 * queue depth in flight, the measurement window, the end-of-run checks (every
 * request back exactly once, GET_VRING_BASE where we expect it) and the figures.
 * Command-line parsing and printing are main.c's; rings are ring.c's; messages
 * are vu.c's.
 */
#ifndef VIREO_BENCH_BLK_H
#define VIREO_BENCH_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "hist.h"

/** Access pattern. */
enum bench_rw {
	BENCH_RW_RANDREAD,
	BENCH_RW_RANDWRITE,
	BENCH_RW_READ,
	BENCH_RW_WRITE,
};

/** bench_rw_name() - "randread" etc. */
const char *bench_rw_name(enum bench_rw rw);

/** bench_rw_parse() - The reverse. @return 0 or -EINVAL. */
int bench_rw_parse(const char *s, enum bench_rw *rw);

/* Limits on the options (also checked by bench_blk_run()). */
#define BENCH_MAX_QUEUES 64u
#define BENCH_MAX_QD	 256u
#define BENCH_MAX_BS	 (1u << 20)

/** What to run. */
struct bench_blk_opts {
	const char *socket;  /**< the backend's vhost-user socket */
	unsigned int queues; /**< 1..BENCH_MAX_QUEUES, one thread each */
	unsigned int qd;     /**< requests in flight per queue */
	unsigned int qsize;  /**< ring entries; 0: max(128, 3 * qd rounded up to 2^n) */
	uint32_t bs;	     /**< bytes per request, a multiple of 512 */
	enum bench_rw rw;    /**< pattern */
	double seconds;	     /**< measurement window */
	double warmup;	     /**< run before the window, not counted */
	double timeout;	     /**< fail when no request completes for this long */
	bool poll;	     /**< busy-poll the used ring instead of the call eventfd */
	bool no_event_idx;   /**< do not ack VIRTIO_F_EVENT_IDX even if offered */
	bool writeback;	     /**< SET_CONFIG writeback=1 (needs VIRTIO_BLK_F_CONFIG_WCE) */
	uint64_t seed;	     /**< offsets' PRNG seed */
};

/** Status bytes as counted. */
enum bench_status {
	BENCH_ST_OK,	 /**< VIRTIO_BLK_S_OK */
	BENCH_ST_IOERR,	 /**< VIRTIO_BLK_S_IOERR */
	BENCH_ST_UNSUPP, /**< VIRTIO_BLK_S_UNSUPP */
	BENCH_ST_OTHER,	 /**< anything else, e.g. 0xff: the device never wrote it */
	BENCH_ST_MAX,
};

/** One queue's counters; the totals use the same struct. */
struct bench_queue_stats {
	uint64_t ios;		       /**< OK completions inside the window */
	uint64_t submitted;	       /**< requests made available, whole run */
	uint64_t completed;	       /**< requests returned, whole run */
	uint64_t status[BENCH_ST_MAX]; /**< returned requests by status, whole run */
	uint64_t len_mismatch;	       /**< used.len not data+status (reads) or 1 (writes) */
	uint64_t kicks;		       /**< kick eventfd writes */
	uint64_t wakeups;	       /**< call eventfd wake-ups */
	struct bench_hist hist;	       /**< latencies of the window's OK completions */
};

/** What a run found. */
struct bench_blk_result {
	uint64_t features;		  /**< backend's offer */
	uint64_t acked;			  /**< what we acked */
	uint64_t protocol_features;	  /**< backend's offer */
	uint64_t protocol_acked;	  /**< what we acked */
	unsigned int max_queues;	  /**< GET_QUEUE_NUM */
	uint64_t capacity;		  /**< bytes */
	uint32_t blk_size;		  /**< 512 unless VIRTIO_BLK_F_BLK_SIZE says otherwise */
	bool writeback;			  /**< cache mode in force (config writeback) */
	unsigned int qsize;		  /**< ring entries used */
	bool event_idx;			  /**< EVENT_IDX in force */
	double window_s;		  /**< measurement window, seconds */
	unsigned int nqueues;		  /**< entries in queues */
	struct bench_queue_stats *queues; /**< per queue */
	struct bench_queue_stats total;	  /**< sums, merged histogram */
	char error[256];		  /**< why bench_blk_run() failed */
};

/**
 * bench_blk_run() - Run the workload @o describes.
 * @param res filled in; free with bench_blk_result_free() whatever the return.
 * @return 0 when the run completed and every check passed (status errors are
 * counted in @res, not failures here); -EINVAL for bad options; -ENOTSUP when
 * the backend lacks what the run needs; -EPROTO when the backend broke the
 * vhost-user or virtqueue rules; -ETIMEDOUT when it stalled; -EINTR when stopped
 * by bench_blk_stop() before the window ended; other negative errnos from the
 * host. @res->error says what happened.
 */
int bench_blk_run(const struct bench_blk_opts *o, struct bench_blk_result *res);

/** bench_blk_result_free() - Free what a run allocated in @res. */
void bench_blk_result_free(struct bench_blk_result *res);

/**
 * bench_blk_stop() - Ask a run in progress to stop early: queues drain and
 * shut down cleanly. Async-signal-safe.
 */
void bench_blk_stop(void);

#endif /* VIREO_BENCH_BLK_H */
