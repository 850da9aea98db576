/* SPDX-License-Identifier: MIT */
/*
 * In-flight request tracking (vhost-user VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD, split
 * rings): a shared memory region the frontend keeps for us across our crashes, in
 * which every chain taken from a ring is marked in flight until it is on the used
 * ring. A restarted vireod gets the region back with SET_INFLIGHT_FD and resubmits
 * what was in flight, in the order it was first taken, so no request the guest is
 * waiting for is lost. The layout is ours (the frontend never reads it); it follows
 * the spec's "Inflight I/O tracking" description.
 */
#ifndef VIREO_VHOST_USER_INFLIGHT_H
#define VIREO_VHOST_USER_INFLIGHT_H

#include <stddef.h>
#include <stdint.h>

/** One descriptor head's state. */
struct vu_inflight_desc {
	uint8_t inflight; /**< 1 from pop until the used ring has it */
	uint8_t padding[5];
	uint16_t next;	  /**< previous head of the last used batch */
	uint64_t counter; /**< order in which heads were taken */
};

/** One queue's part of the region. */
struct vu_inflight_queue {
	uint64_t features;	  /**< reserved, 0 */
	uint16_t version;	  /**< 1 once initialised; 0 in a fresh region */
	uint16_t desc_num;	  /**< ring size the entries are for */
	uint16_t last_batch_head; /**< newest head of the last used batch */
	uint16_t used_idx;	  /**< used->idx after the last completed batch */
	struct vu_inflight_desc desc[];
};

_Static_assert(sizeof(struct vu_inflight_desc) == 16, "inflight desc state");
_Static_assert(sizeof(struct vu_inflight_queue) == 16, "inflight queue header");

/** A mapped region. */
struct vu_inflight_region {
	uint8_t *base; /**< NULL when none is mapped */
	size_t size;   /**< bytes mapped */
	uint16_t num_queues;
	uint16_t queue_size;
};

/** vu_inflight_queue_bytes() - Size of one queue's part (64-byte aligned). */
size_t vu_inflight_queue_bytes(uint16_t queue_size);

/**
 * vu_inflight_create() - A new zeroed region for @num_queues rings of @queue_size
 * (GET_INFLIGHT_FD), mapped here.
 * Return: the memfd (the caller sends it, then may close it), or a negative errno
 * (-EINVAL for 0 queues, a size over 32768 or not a power of 2).
 */
int vu_inflight_create(uint16_t num_queues, uint16_t queue_size, struct vu_inflight_region *r);

/**
 * vu_inflight_map() - Map the region the frontend gave back (SET_INFLIGHT_FD).
 * Return: 0, -EINVAL if the sizes do not describe a region of ours, or the negative
 * errno of mmap(). The fd is not kept.
 */
int vu_inflight_map(int fd, uint64_t mmap_size, uint64_t mmap_offset, uint16_t num_queues,
		    uint16_t queue_size, struct vu_inflight_region *r);

/** vu_inflight_unmap() - Unmap (the frontend keeps the memory). */
void vu_inflight_unmap(struct vu_inflight_region *r);

/** vu_inflight_queue_at() - Queue @index's part, or NULL if out of range/unmapped. */
struct vu_inflight_queue *vu_inflight_queue_at(const struct vu_inflight_region *r,
					       unsigned int index);

/**
 * vu_inflight_recover() - Bring a queue's part in line with the used ring the guest
 * sees, and list what was in flight.
 * @q: the part; initialised (version 1) if fresh or made for another ring size.
 * @num: the ring's size.
 * @used_idx: the used ring's idx now.
 * @heads: receives the in-flight heads, oldest first (room for @num).
 * @counter: receives the highest counter seen (the next one to use is +1).
 * Return: the number of heads to resubmit.
 */
unsigned int vu_inflight_recover(struct vu_inflight_queue *q, uint16_t num, uint16_t used_idx,
				 uint16_t *heads, uint64_t *counter);

#endif /* VIREO_VHOST_USER_INFLIGHT_H */
