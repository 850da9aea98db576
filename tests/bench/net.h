/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The virtio-net workload of vireo-bench (audience: tests/bench only).
 *
 * Owns one benchmark run against a vhost-user-net backend that sends frames back
 * (a loopback driver, or a forwarder such as testpmd's io mode): negotiation, the
 * memfd that plays guest RAM, one thread per queue pair that keeps the transmit
 * queue full of frames of one length, keeps the receive queue full of buffers,
 * and counts and checks every frame that comes back (net_frame.c), the window,
 * the end-of-run drain and checks, and the figures. Printing is main.c's; rings
 * are net_ring.c's; messages are vu.c's.
 */
#ifndef VIREO_BENCH_NET_H
#define VIREO_BENCH_NET_H

#include <stdbool.h>
#include <stdint.h>

#define BENCH_NET_MAX_PAIRS 8u

/** What to run. */
struct bench_net_opts {
	const char *socket;  /**< the backend's vhost-user socket */
	unsigned int pairs;  /**< queue pairs, 1..BENCH_NET_MAX_PAIRS, one thread each */
	unsigned int qsize;  /**< ring entries, power of 2 (default 256) */
	uint32_t frame_len;  /**< Ethernet frame bytes, without the virtio header */
	double seconds;	     /**< measurement window */
	double warmup;	     /**< run before the window, not counted */
	double timeout;	     /**< fail when nothing moves for this long */
	unsigned int verify; /**< check every Nth frame's payload whole (1: all) */
	bool poll;	     /**< busy-poll the used rings instead of the call eventfds */
	bool no_event_idx;   /**< do not ack VIRTIO_F_EVENT_IDX even if offered */
	bool no_mrg_rxbuf;   /**< do not ack VIRTIO_NET_F_MRG_RXBUF even if offered */
};

/** One queue pair's counters; the totals use the same struct. */
struct bench_net_stats {
	uint64_t sent;	       /**< frames made available on the transmit queue */
	uint64_t tx_done;      /**< transmit buffers the backend returned */
	uint64_t received;     /**< good frames back, whole run */
	uint64_t rx_window;    /**< good frames back inside the window */
	uint64_t tx_window;    /**< transmit buffers returned inside the window */
	uint64_t verified;     /**< frames whose payload was checked whole */
	uint64_t bad;	       /**< bench frames that failed a check (len, MAC, payload...) */
	uint64_t out_of_order; /**< good frames whose sequence number went backwards */
	uint64_t seq_gaps;     /**< frames skipped by the sequence numbers (lost) */
	uint64_t foreign;      /**< frames that are not ours (a host stack's, say) */
	uint64_t bad_hdr;      /**< virtio-net headers with GSO or num_buffers != 1 */
	uint64_t kicks;	       /**< kick eventfd writes, both queues */
	uint64_t wakeups;      /**< call eventfd wake-ups, both queues */
};

/** What a run found. */
struct bench_net_result {
	uint64_t features;	       /**< backend's offer */
	uint64_t acked;		       /**< what we acked */
	uint64_t protocol_features;    /**< backend's offer */
	uint64_t protocol_acked;       /**< what we acked */
	unsigned int max_queues;       /**< GET_QUEUE_NUM */
	unsigned int qsize;	       /**< ring entries used */
	unsigned int hdr_len;	       /**< virtio-net header bytes (12) */
	bool event_idx;		       /**< EVENT_IDX in force */
	bool mrg_rxbuf;		       /**< MRG_RXBUF in force */
	double window_s;	       /**< measurement window, seconds */
	unsigned int npairs;	       /**< entries in pairs */
	struct bench_net_stats *pairs; /**< per queue pair */
	struct bench_net_stats total;  /**< sums */
	char error[256];	       /**< why bench_net_run() failed */
};

/**
 * bench_net_run() - Run the workload @o describes.
 * @param res filled in; free with bench_net_result_free() whatever the return.
 * @return 0 when the run completed (bad frames are counted in @res, not failures
 * here); -EINVAL for bad options; -ENOTSUP when the backend lacks what the run
 * needs; -EPROTO when it broke the vhost-user or virtqueue rules; -ETIMEDOUT when
 * nothing moved for the timeout; -EINTR when stopped by bench_net_stop() before
 * the window ended; other negative errnos from the host. @res->error says what.
 */
int bench_net_run(const struct bench_net_opts *o, struct bench_net_result *res);

/** bench_net_result_free() - Free what a run allocated in @res. */
void bench_net_result_free(struct bench_net_result *res);

/** bench_net_stop() - Ask a run in progress to stop early. Async-signal-safe. */
void bench_net_stop(void);

/** bench_net_drops() - Frames the backend took and never delivered back. */
static inline uint64_t bench_net_drops(const struct bench_net_stats *s)
{
	return s->tx_done > s->received ? s->tx_done - s->received : 0;
}

#endif /* VIREO_BENCH_NET_H */
