/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Why a virtqueue operation was refused, and where a broken queue is reported
 * (audience: vmm-core). Owns the reason enum, its strings and the one reporting
 * function; deciding that a rule was broken is chain.c's and split.c's business.
 *
 * Section numbers cite virtio 1.2, §2.7 "Split Virtqueues".
 */
#ifndef VIREO_VIRTQUEUE_ERR_H
#define VIREO_VIRTQUEUE_ERR_H

#include <stdint.h>

/**
 * A refusal. Values up to VIREO_VQ_ERR_BROKEN are Vireo's own mistakes or state
 * and leave the queue usable; every later value is a guest violation, which breaks
 * the queue (the device then sets NEEDS_RESET) until vireo_vq_reset().
 */
enum vireo_vq_err {
	/** No refusal. */
	VIREO_VQ_OK = 0,

	/* Caller errors and state; the queue is not broken by these. */

	/** No rings: vireo_vq_setup() has not been done. */
	VIREO_VQ_ERR_NOT_READY,
	/** Size is not a power of 2 in [1, 32768] (§2.7). */
	VIREO_VQ_ERR_SIZE,
	/** A ring pointer is NULL. */
	VIREO_VQ_ERR_RING_ADDR,
	/** A ring part is misaligned: desc 16, avail 2, used 4 (§2.7.1). */
	VIREO_VQ_ERR_RING_ALIGN,
	/** Used id >= size, or more elements than size: ids are head indexes (§2.7.8). */
	VIREO_VQ_ERR_USED_ID,
	/** A saved packed ring position (SET_VRING_BASE) lies outside the ring. */
	VIREO_VQ_ERR_BASE,
	/** No memory for a packed ring's per-buffer bookkeeping. */
	VIREO_VQ_ERR_NOMEM,
	/** The queue broke earlier; only vireo_vq_reset() clears it. */
	VIREO_VQ_ERR_BROKEN,

	/* Guest violations; each one breaks the queue. */

	/** Avail idx ran more than size ahead: the ring holds at most size heads
	 *  (§2.7.13) and idx is never decremented (§2.7.6.1). */
	VIREO_VQ_ERR_AVAIL_JUMP,
	/** An available ring head >= size is not a descriptor index (§2.7.5). */
	VIREO_VQ_ERR_HEAD_RANGE,
	/** A next >= size is not a descriptor index (§2.7.5). */
	VIREO_VQ_ERR_NEXT_RANGE,
	/** More than size buffer descriptors: a loop (§2.7.5.2), or a chain longer than
	 *  the Queue Size (§2.7.5.3.1). */
	VIREO_VQ_ERR_CHAIN_LOOP,
	/** A buffer lies (partly) outside guest memory (§2.7.5: addr is guest-physical). */
	VIREO_VQ_ERR_DESC_RANGE,
	/** A device-readable descriptor after a device-writable one (§2.7.4.2). */
	VIREO_VQ_ERR_READ_AFTER_WRITE,
	/** The chain holds more than 2^32 - 1 bytes (§2.7.5.2). */
	VIREO_VQ_ERR_TOTAL_OVERFLOW,
	/** The chain needs more iovecs than the device allows (§2.7.4.1: MAY limit). */
	VIREO_VQ_ERR_IOV_FULL,
	/** INDIRECT set without VIRTIO_F_INDIRECT_DESC negotiated (§2.7.5.3.1). */
	VIREO_VQ_ERR_INDIRECT_NOT_NEGOTIATED,
	/** INDIRECT set inside an indirect table (§2.7.5.3.1). */
	VIREO_VQ_ERR_INDIRECT_NESTED,
	/** INDIRECT and NEXT both set (§2.7.5.3.1). */
	VIREO_VQ_ERR_INDIRECT_NEXT,
	/** Indirect table length 0 or not a multiple of 16 (§2.7.5.3: len / 16 entries). */
	VIREO_VQ_ERR_INDIRECT_LEN,
	/** The indirect table lies (partly) outside guest memory (§2.7.5.3). */
	VIREO_VQ_ERR_INDIRECT_RANGE,
	/** A next >= len / 16 inside an indirect table (§2.7.5.3). */
	VIREO_VQ_ERR_INDIRECT_NEXT_RANGE,

	/** Packed: a buffer id the device still holds was made available again
	 *  (§2.8: an id names one buffer until it is used). */
	VIREO_VQ_ERR_ID_IN_USE,
	/** Packed: more descriptors made available than the ring has free: the
	 *  driver overwrote descriptors the device has not used yet (§2.8). */
	VIREO_VQ_ERR_RING_OVERRUN,

	/** Number of reasons; not a reason. */
	VIREO_VQ_ERR_MAX,
};

/**
 * vireo_vq_err_str() - A one-line description of a refusal.
 * @param err the reason.
 * @return a static string; "unknown reason" for values out of range.
 * Context: any.
 */
const char *vireo_vq_err_str(enum vireo_vq_err err);

/**
 * vireo_vq_err_is_guest() - Whether a reason is a guest violation (breaks the queue).
 * @param err the reason.
 * @return 1 for guest violations, 0 otherwise.
 * Context: any.
 */
int vireo_vq_err_is_guest(enum vireo_vq_err err);

/**
 * Where broken-queue reports go.
 * @param queue the queue's index.
 * @param why the violation.
 * @param msg a formatted one-line message, without a newline.
 */
typedef void (*vireo_vq_log_fn)(unsigned int queue, enum vireo_vq_err why, const char *msg);

/**
 * vireo_vq_set_log_hook() - Send broken-queue reports to @fn instead of stderr.
 * @param fn the hook, or NULL to go back to stderr.
 * Context: start-up (or tests), before any queue runs; the hook is process-wide.
 */
void vireo_vq_set_log_hook(vireo_vq_log_fn fn);

/**
 * vireo_vq_report() - Report, once, that a queue broke. The only place that logs.
 * @param queue the queue's index.
 * @param why the violation.
 * @param last_avail the queue's last_avail_idx, to find the chain in a dump.
 * Context: the queue's worker; called by split.c when it sets the broken latch.
 */
void vireo_vq_report(unsigned int queue, enum vireo_vq_err why, uint16_t last_avail);

#endif /* VIREO_VIRTQUEUE_ERR_H */
