/* SPDX-License-Identifier: MIT */
/**
 * @file
 * A split virtqueue, device side (audience: vmm-core vhost-user layer and device
 * models).
 *
 * Owns the rings' device-side state: taking chains off the available ring,
 * returning them on the used ring, deciding when the guest wants a used-buffer
 * notification, publishing avail_event, saving and restoring last_avail_idx, and
 * the broken latch. Chain walking is chain.h's; guest memory is mem/'s; eventfds,
 * kicks and calls are the vhost-user layer's.
 *
 * Threading: single-threaded, no locks. One worker owns a queue at a time; the
 * control thread touches it (setup, base, reset) only while that worker is parked.
 * The guest writes the available ring and descriptors concurrently: each field is
 * read once, with the fences virtio 1.2 §2.7.13 and §2.7.14 ask for.
 *
 * Broken latch: the first guest violation reports once (vireo_vq_report()), sets
 * broken and returns -EPROTO; every later operation returns -EIO with
 * VIREO_VQ_ERR_BROKEN until vireo_vq_reset(). The device then sets NEEDS_RESET.
 */
#ifndef VIREO_VIRTQUEUE_SPLIT_H
#define VIREO_VIRTQUEUE_SPLIT_H

#include <stdbool.h>
#include <stdint.h>

#include "mem/guest_mem.h"
#include "virtqueue/chain.h"
#include "virtqueue/err.h"
#include "virtqueue/wire.h"

/** A split virtqueue. Embed it; fields are read-only outside vmm-core/virtqueue/. */
struct vireo_vq {
	const struct vireo_mem *mem; /**< guest memory buffers are mapped from */
	unsigned int index;	     /**< queue number, for reports */

	unsigned int size;		       /**< entries; a power of 2 */
	const struct vireo_vring_desc *desc;   /**< descriptor table (host pointer) */
	const struct vireo_vring_avail *avail; /**< available ring (host pointer) */
	struct vireo_vring_used *used;	       /**< used ring (host pointer) */
	bool indirect;			       /**< VIRTIO_F_INDIRECT_DESC negotiated */
	bool event_idx;			       /**< VIRTIO_F_EVENT_IDX negotiated */
	bool ready;			       /**< rings set up */

	uint16_t last_avail_idx;   /**< next available ring slot to take */
	uint16_t used_idx;	   /**< shadow of used->idx; we are its only writer */
	bool notify_off;	   /**< vireo_vq_disable_notify() in force */
	bool signalled_valid;	   /**< used_since_check is a true window */
	uint32_t used_since_check; /**< used entries since the last should_notify */

	bool broken;		      /**< a guest violation was seen */
	enum vireo_vq_err broken_why; /**< the first one */
};

/** One used element to push: a chain's head and the bytes written into it. */
struct vireo_vq_used {
	uint16_t head; /**< chain head from vireo_vq_pop() */
	uint32_t len;  /**< bytes written to the chain's writable buffers */
};

/**
 * vireo_vq_init() - Start a queue with no rings.
 * @param vq the queue.
 * @param mem guest memory the queue's buffers live in (kept across resets).
 * @param index the queue's number, for reports.
 * Context: control thread.
 */
void vireo_vq_init(struct vireo_vq *vq, const struct vireo_mem *mem, unsigned int index);

/**
 * vireo_vq_reset() - Drop the rings, zero the state and clear the broken latch.
 * @param vq the queue; mem and index are kept.
 * Context: control thread, worker parked (device reset, GET_VRING_BASE).
 */
void vireo_vq_reset(struct vireo_vq *vq);

/**
 * vireo_vq_setup() - Attach rings and negotiated features (SET_VRING_NUM/ADDR).
 * @param vq the queue; last_avail_idx is kept (SET_VRING_BASE may come first).
 * @param size entries: a power of 2 in [1, 32768].
 * @param desc descriptor table, VIREO_VRING_DESC_BYTES(size), 16-byte aligned.
 * @param avail available ring, VIREO_VRING_AVAIL_BYTES(size), 2-byte aligned.
 * @param used used ring, VIREO_VRING_USED_BYTES(size), 4-byte aligned.
 * @param features negotiated virtio feature bits; INDIRECT_DESC and EVENT_IDX count.
 * @param why the reason on failure (may be NULL).
 * @return 0, or:
 *   -EINVAL for a bad size, a NULL or misaligned ring;
 *   -EIO if the queue is broken (reset it first).
 * The caller has translated the frontend's ring addresses and checked that each
 * part lies whole inside one region. used_idx is taken from the used ring.
 * Context: control thread, worker parked.
 */
int vireo_vq_setup(struct vireo_vq *vq, unsigned int size, const void *desc, const void *avail,
		   void *used, uint64_t features, enum vireo_vq_err *why);

/**
 * vireo_vq_pop() - Take the next available chain and map it.
 * @param vq the queue.
 * @param chain filled in; its iov array set with vireo_vq_chain_init().
 * @param why the reason on failure (may be NULL).
 * @return 1 if a chain was taken, 0 if none is available, or:
 *   -EPROTO for a guest violation (the queue is now broken);
 *   -EIO if the queue was already broken;
 *   -EINVAL if the queue has no rings.
 * With EVENT_IDX and notifications on, publishes avail_event = last_avail_idx
 * after each chain; and on finding the ring empty, re-publishes it and looks again
 * behind a full fence, so a chain made available meanwhile is returned now instead
 * of waiting for a kick that will not come. Without EVENT_IDX no re-check is
 * needed: the driver kicks unless NO_NOTIFY is set (vireo_vq_disable_notify()).
 * Context: the queue's worker.
 */
int vireo_vq_pop(struct vireo_vq *vq, struct vireo_vq_chain *chain, enum vireo_vq_err *why);

/**
 * vireo_vq_unpop() - Give back the last @n chains popped, unused: the next pops take
 * them again, in the order they were first taken.
 * @param vq the queue.
 * @param n how many; none of them may have been pushed.
 * @return 0, or:
 *   -EINVAL if @n exceeds the chains popped and not yet pushed, or no rings (nothing
 *   changes);
 *   -EIO if broken (nothing changes).
 * A device that took buffers it cannot fill yet (a receive queue waiting for frames)
 * hands them back this way instead of holding them. avail_event and the notification
 * window stay as they are: the guest still kicks for chains past the ones given back,
 * and no used-buffer notification is forced. The chains are walked and checked again
 * when popped again (the guest may have changed them meanwhile).
 * Context: the queue's worker.
 */
int vireo_vq_unpop(struct vireo_vq *vq, unsigned int n);

/**
 * vireo_vq_push() - Return one chain on the used ring and publish it.
 * @param vq the queue.
 * @param head the chain's head (an id < size).
 * @param len bytes written into the chain's writable buffers.
 * @param why the reason on failure (may be NULL).
 * @return 0, or -EINVAL for head >= size or no rings, -EIO if broken.
 * Context: the queue's worker.
 */
int vireo_vq_push(struct vireo_vq *vq, uint16_t head, uint32_t len, enum vireo_vq_err *why);

/**
 * vireo_vq_push_batch() - Return @n chains and publish them with one index update.
 * @param vq the queue.
 * @param elems the elements, in order.
 * @param n how many; at most size.
 * @param why the reason on failure (may be NULL).
 * @return 0, or -EINVAL (an id >= size, n > size, or no rings; nothing is written),
 *   -EIO if broken.
 * Context: the queue's worker.
 */
int vireo_vq_push_batch(struct vireo_vq *vq, const struct vireo_vq_used *elems, unsigned int n,
			enum vireo_vq_err *why);

/**
 * vireo_vq_should_notify() - Whether the guest wants a used-buffer notification now.
 * @param vq the queue, after one or more pushes.
 * @return 1 to signal the call eventfd, 0 not to, -EIO if broken, -EINVAL if no rings.
 * Without EVENT_IDX: unless the driver set NO_INTERRUPT (§2.7.7.2). With EVENT_IDX:
 * if used_event lies among the entries pushed since the previous call (the
 * vring_need_event rule), or if that is unknown (first call, > 65535 entries).
 * Context: the queue's worker.
 */
int vireo_vq_should_notify(struct vireo_vq *vq);

/**
 * vireo_vq_disable_notify() - Ask the guest not to kick (the worker is polling).
 * @param vq the queue.
 * @return 0, -EIO if broken, -EINVAL if no rings.
 * Without EVENT_IDX sets NO_NOTIFY in the used ring; with it, stops advancing
 * avail_event. Advisory only (§2.7.10): kicks may still come.
 * Context: the queue's worker.
 */
int vireo_vq_disable_notify(struct vireo_vq *vq);

/**
 * vireo_vq_enable_notify() - Ask for kicks again, and re-check the ring.
 * @param vq the queue.
 * @param why the reason on failure (may be NULL).
 * @return 1 if chains arrived meanwhile (pop them: no kick will come for them),
 *   0 if the ring is empty, -EPROTO on a guest violation, -EIO if broken,
 *   -EINVAL if no rings.
 * Context: the queue's worker.
 */
int vireo_vq_enable_notify(struct vireo_vq *vq, enum vireo_vq_err *why);

/**
 * vireo_vq_avail_count() - How many chains the guest has made available.
 * @param vq the queue.
 * @param why the reason on failure (may be NULL).
 * @return the count (0..size), or -EPROTO if the available index ran more than size
 *   ahead (the queue is now broken), -EIO if broken, -EINVAL if no rings.
 * Context: the queue's worker.
 */
int vireo_vq_avail_count(struct vireo_vq *vq, enum vireo_vq_err *why);

/**
 * vireo_vq_get_base() - last_avail_idx, for GET_VRING_BASE. Works on a broken queue.
 * @param vq the queue.
 * @return the next available ring slot the device would take.
 * Context: control thread, worker parked.
 */
uint16_t vireo_vq_get_base(const struct vireo_vq *vq);

/**
 * vireo_vq_set_base() - Restore last_avail_idx (SET_VRING_BASE).
 * @param vq the queue.
 * @param base the slot to resume at.
 * @return 0, or -EIO if broken.
 * Context: control thread, worker parked.
 */
int vireo_vq_set_base(struct vireo_vq *vq, uint16_t base);

/**
 * vireo_vq_is_broken() - Whether the broken latch is set.
 * @param vq the queue.
 * @param why if not NULL and broken, the first violation.
 * @return true if broken.
 * Context: any thread of the device (read-only).
 */
bool vireo_vq_is_broken(const struct vireo_vq *vq, enum vireo_vq_err *why);

#endif /* VIREO_VIRTQUEUE_SPLIT_H */
