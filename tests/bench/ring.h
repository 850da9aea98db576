/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The driver side of one split virtqueue carrying virtio-blk requests, for
 * vireo-bench (audience: tests/bench only).
 *
 * Owns a queue's area of "guest" RAM: the descriptor table, available and used
 * rings (virtio 1.2 §2.7) and a fixed set of request slots. Slot i always uses
 * descriptors 3i (16-byte request header, device-readable), 3i+1 (data buffer)
 * and 3i+2 (1-byte status, device-writable), so the chains are built once and a
 * submission only rewrites the header and the data descriptor's direction.
 *
 * Every used element is checked before it is believed: the id must be a slot's
 * head, that slot must be in flight, and used idx may not run ahead of what is
 * in flight. A violation is a named enum bench_ring_err and ends the run.
 *
 * Eventfds, sockets and clocks are the caller's. Threading: one thread owns a
 * ring; the backend is the only other party and reaches it through shared memory.
 */
#ifndef VIREO_BENCH_RING_H
#define VIREO_BENCH_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/blk_wire.h"
#include "virtio/virtio_wire.h"
#include "virtqueue/wire.h"

/** Descriptors per request: header, data, status. */
#define BENCH_RING_DESCS_PER_REQ 3u

/** Why a used ring was refused. Each has a line in bench_ring_err_str(). */
enum bench_ring_err {
	BENCH_RING_OK = 0,
	BENCH_RING_ERR_ID_RANGE,  /**< used id >= queue size */
	BENCH_RING_ERR_NOT_HEAD,  /**< used id is not the head of any request slot */
	BENCH_RING_ERR_NOT_BUSY,  /**< completed twice, or never submitted */
	BENCH_RING_ERR_IDX_AHEAD, /**< used idx moved by more than the requests in flight */
	BENCH_RING_ERR_MAX,
};

/** bench_ring_err_str() - One line describing @err. */
const char *bench_ring_err_str(enum bench_ring_err err);

/** Byte offsets of each part inside a queue's area (all page-aligned but status). */
struct bench_ring_layout {
	uint64_t desc;	      /**< descriptor table */
	uint64_t avail;	      /**< available ring, used_event after it */
	uint64_t used;	      /**< used ring, avail_event after it */
	uint64_t hdrs;	      /**< BENCH_RING_HDR_STRIDE bytes per slot: header, then status */
	uint64_t data;	      /**< nslots data buffers of bs bytes, each page-aligned */
	uint64_t bytes;	      /**< size of the whole area (page multiple) */
	uint64_t data_stride; /**< bs rounded up to a page */
};

/** Per-slot bytes for the header (16) and status (at offset 16). */
#define BENCH_RING_HDR_STRIDE 32u
#define BENCH_RING_STATUS_OFF 16u

/** One request slot; @c busy is the "in flight" mark the used checks rely on. */
struct bench_slot {
	uint64_t submit_ns; /**< caller's timestamp at submission */
	bool busy;	    /**< submitted and not yet seen on the used ring */
};

/** A queue as the driver sees it. Fields are read-only outside ring.c. */
struct bench_ring {
	unsigned int size;   /**< entries; power of 2 */
	unsigned int nslots; /**< request slots (queue depth) */
	uint32_t bs;	     /**< data bytes per request */
	bool event_idx;	     /**< VIRTIO_F_EVENT_IDX negotiated */

	uint8_t *base;			 /**< host pointer to the area */
	uint64_t gpa;			 /**< guest-physical address of the area */
	struct bench_ring_layout lay;	 /**< where each part is */
	struct vireo_vring_desc *desc;	 /**< descriptor table */
	struct vireo_vring_avail *avail; /**< available ring */
	struct vireo_vring_used *used;	 /**< used ring */
	uint16_t *used_event;		 /**< after avail->ring[size] */
	uint16_t *avail_event;		 /**< after used->ring[size] */

	uint16_t avail_idx;	  /**< next avail idx (shadow; published by publish()) */
	uint16_t kicked_idx;	  /**< avail idx at the last publish */
	uint16_t last_used;	  /**< next used element to read */
	uint16_t used_seen;	  /**< used idx as last read */
	unsigned int inflight;	  /**< slots busy */
	struct bench_slot *slots; /**< [nslots] */
};

/** A completed request as taken off the used ring. */
struct bench_done {
	unsigned int slot;  /**< which request */
	uint8_t status;	    /**< VIRTIO_BLK_S_* the device wrote (0xff: untouched) */
	uint32_t len;	    /**< used.len the device reported */
	uint64_t submit_ns; /**< timestamp given at submission */
};

/**
 * bench_ring_layout() - Where a queue of @qsize entries with @nslots requests of
 * @bs bytes puts each part.
 * @return 0, or -EINVAL if @qsize is not a power of 2 in 1..32768 or holds fewer
 * than 3 * @nslots descriptors, or @nslots or @bs is 0.
 */
int bench_ring_layout(unsigned int qsize, unsigned int nslots, uint32_t bs,
		      struct bench_ring_layout *lay);

/**
 * bench_ring_init() - Zero the rings in @base and build every slot's chain.
 * @param r the ring (its slots array is allocated here).
 * @param base host pointer to the area, page-aligned, bench_ring_layout() bytes.
 * @param gpa the guest-physical address of @base.
 * @return 0, -EINVAL (see bench_ring_layout()) or -ENOMEM.
 */
int bench_ring_init(struct bench_ring *r, void *base, uint64_t gpa, unsigned int qsize,
		    unsigned int nslots, uint32_t bs, bool event_idx);

/** bench_ring_fini() - Free what bench_ring_init() allocated. */
void bench_ring_fini(struct bench_ring *r);

/** bench_ring_data() - The host pointer to slot @slot's data buffer. */
void *bench_ring_data(struct bench_ring *r, unsigned int slot);

/**
 * bench_ring_submit() - Fill in slot @slot's request and put it on the available
 * ring (not yet visible: see bench_ring_publish()). The slot must be free.
 * @param type VIRTIO_BLK_T_IN or VIRTIO_BLK_T_OUT.
 */
void bench_ring_submit(struct bench_ring *r, unsigned int slot, uint32_t type, uint64_t sector,
		       uint64_t now_ns);

/**
 * bench_ring_publish() - Make every submitted request visible to the device.
 * @return true when the device asked to be kicked (no NO_NOTIFY, or avail_event
 * crossed, virtio 1.2 §2.7.10 and §2.7.13.4).
 */
bool bench_ring_publish(struct bench_ring *r);

/**
 * bench_ring_next() - Take the next used element, if any, and check it.
 * @param done filled in when 1 is returned.
 * @param why the reason when -EPROTO is returned.
 * @return 1 with @done, 0 when the used ring holds nothing new, -EPROTO when it
 * breaks a rule (the ring must not be used further).
 */
int bench_ring_next(struct bench_ring *r, struct bench_done *done, enum bench_ring_err *why);

/**
 * bench_ring_want_calls() - Ask for a used-buffer notification for the next
 * completion (used_event = last_used, or clear NO_INTERRUPT).
 * @return true when used elements arrived meanwhile (do not sleep: reap first).
 */
bool bench_ring_want_calls(struct bench_ring *r);

/** bench_ring_no_calls() - Ask the device not to notify (busy-poll mode). */
void bench_ring_no_calls(struct bench_ring *r);

/**
 * bench_need_event() - virtio's vring_need_event(): whether moving an index
 * from @old_idx to @new_idx crosses the event index @event (§2.7.10).
 */
static inline bool bench_need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

#endif /* VIREO_BENCH_RING_H */
