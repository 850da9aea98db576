/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The driver side of one split virtqueue of a virtio-net device, receive or
 * transmit, for vireo-bench (audience: tests/bench only).
 *
 * Owns a queue's area of "guest" RAM: the descriptor table, available and used
 * rings (virtio 1.2 §2.7) and one buffer per descriptor. Every chain is a single
 * descriptor: entry i always points at buffer i, device-writable on a receive
 * queue, device-readable (its length set at each post) on a transmit queue. With
 * VIRTIO_F_VERSION_1 the virtio_net_hdr and the frame share that buffer (§5.1.6).
 *
 * Free entries sit on a stack: bench_nring_post() takes one, bench_nring_next()
 * gives it back once the device returned it. Every used element is checked first:
 * the id must be in range and in flight, used idx may not run ahead of what is in
 * flight, and on a receive queue used.len may not exceed the buffer.
 *
 * Eventfds and clocks are the caller's. Threading: one thread owns a ring.
 */
#ifndef VIREO_BENCH_NET_RING_H
#define VIREO_BENCH_NET_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "virtqueue/wire.h"

/** Why a used ring was refused. Each has a line in bench_nring_err_str(). */
enum bench_nring_err {
	BENCH_NRING_OK = 0,
	BENCH_NRING_ERR_ID_RANGE,  /**< used id >= queue size */
	BENCH_NRING_ERR_NOT_BUSY,  /**< returned twice, or never posted */
	BENCH_NRING_ERR_IDX_AHEAD, /**< used idx moved by more than the entries in flight */
	BENCH_NRING_ERR_LEN,	   /**< receive: used.len larger than the buffer */
	BENCH_NRING_ERR_MAX,
};

/** bench_nring_err_str() - One line describing @err. */
const char *bench_nring_err_str(enum bench_nring_err err);

/** Byte offsets of each part inside a queue's area (all page-aligned). */
struct bench_nring_layout {
	uint64_t desc;	/**< descriptor table */
	uint64_t avail; /**< available ring, used_event after it */
	uint64_t used;	/**< used ring, avail_event after it */
	uint64_t bufs;	/**< qsize buffers of buf_size bytes */
	uint64_t bytes; /**< size of the whole area (page multiple) */
};

/** A queue as the driver sees it. Fields are read-only outside net_ring.c. */
struct bench_nring {
	unsigned int size; /**< entries; power of 2 */
	uint32_t buf_size; /**< bytes per buffer */
	bool rx;	   /**< receive queue: buffers are device-writable */
	bool event_idx;	   /**< VIRTIO_F_EVENT_IDX negotiated */

	uint8_t *base;			 /**< host pointer to the area */
	uint64_t gpa;			 /**< guest-physical address of the area */
	struct bench_nring_layout lay;	 /**< where each part is */
	struct vireo_vring_desc *desc;	 /**< descriptor table */
	struct vireo_vring_avail *avail; /**< available ring */
	struct vireo_vring_used *used;	 /**< used ring */
	uint16_t *used_event;		 /**< after avail->ring[size] */
	uint16_t *avail_event;		 /**< after used->ring[size] */

	uint16_t avail_idx;    /**< next avail idx (shadow; published by publish()) */
	uint16_t kicked_idx;   /**< avail idx at the last publish */
	uint16_t last_used;    /**< next used element to read */
	uint16_t used_seen;    /**< used idx as last read */
	unsigned int inflight; /**< entries posted and not yet returned */
	bool *busy;	       /**< [size] posted and not yet returned */
	uint16_t *free_ids;    /**< [size] stack of entries not in flight */
	unsigned int nfree;    /**< entries on the stack */
};

/**
 * bench_nring_layout() - Where a queue of @qsize entries with buffers of
 * @buf_size bytes puts each part.
 * @return 0, or -EINVAL if @qsize is not a power of 2 in 1..32768 or @buf_size
 * is 0 or above 64 KiB.
 */
int bench_nring_layout(unsigned int qsize, uint32_t buf_size, struct bench_nring_layout *lay);

/**
 * bench_nring_init() - Zero the rings in @base and point entry i at buffer i.
 * @param base host pointer to the area, page-aligned, bench_nring_layout() bytes.
 * @param gpa the guest-physical address of @base.
 * @return 0, -EINVAL (see bench_nring_layout()) or -ENOMEM.
 */
int bench_nring_init(struct bench_nring *r, void *base, uint64_t gpa, unsigned int qsize,
		     uint32_t buf_size, bool rx, bool event_idx);

/** bench_nring_fini() - Free what bench_nring_init() allocated. */
void bench_nring_fini(struct bench_nring *r);

/** bench_nring_buf() - The host pointer to entry @id's buffer. */
static inline uint8_t *bench_nring_buf(const struct bench_nring *r, unsigned int id)
{
	return r->base + r->lay.bufs + (uint64_t)id * r->buf_size;
}

/**
 * bench_nring_peek_free() - The entry bench_nring_post() would take next, so
 * the caller can fill its buffer first; -1 when every entry is in flight.
 */
static inline int bench_nring_peek_free(const struct bench_nring *r)
{
	return r->nfree ? r->free_ids[r->nfree - 1] : -1;
}

/**
 * bench_nring_post() - Put the next free entry on the available ring (not yet
 * visible: see bench_nring_publish()). Transmit: the device reads @len bytes;
 * receive: @len is ignored, the device may write the whole buffer.
 * @return the entry's id, or -ENOSPC when every entry is in flight, or -EINVAL
 * when @len exceeds the buffer.
 */
int bench_nring_post(struct bench_nring *r, uint32_t len);

/**
 * bench_nring_publish() - Make every posted entry visible to the device.
 * @return true when the device asked to be kicked (no NO_NOTIFY, or avail_event
 * crossed, virtio 1.2 §2.7.10 and §2.7.13.4).
 */
bool bench_nring_publish(struct bench_nring *r);

/**
 * bench_nring_next() - Take the next used element, if any, and check it. The
 * entry goes back on the free stack; its buffer stays as the device left it
 * until the entry is posted again.
 * @param id, len filled in when 1 is returned.
 * @param why the reason when -EPROTO is returned.
 * @return 1, 0 when the used ring holds nothing new, -EPROTO when it breaks a
 * rule (the ring must not be used further).
 */
int bench_nring_next(struct bench_nring *r, unsigned int *id, uint32_t *len,
		     enum bench_nring_err *why);

/**
 * bench_nring_want_calls() - Ask for a used-buffer notification for the next
 * used element (used_event = last_used, or clear NO_INTERRUPT).
 * @return true when used elements arrived meanwhile (do not sleep: reap first).
 */
bool bench_nring_want_calls(struct bench_nring *r);

/** bench_nring_no_calls() - Ask the device not to notify (busy-poll, or busy). */
void bench_nring_no_calls(struct bench_nring *r);

/**
 * bench_nring_need_event() - virtio's vring_need_event(): whether moving an
 * index from @old_idx to @new_idx crosses the event index @event (§2.7.10).
 */
static inline bool bench_nring_need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

#endif /* VIREO_BENCH_NET_RING_H */
