/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Split virtqueue layout in guest memory (audience: vmm-core/virtqueue and its tests).
 *
 * Wire definitions only, no logic: virtio 1.2 §2.7 "Split Virtqueues" (descriptor
 * table §2.7.5, available ring §2.7.6, used ring §2.7.8) and the two feature bits
 * of §6 "Reserved Feature Bits" this layer acts on. All fields are little-endian.
 */
#ifndef VIREO_VIRTQUEUE_WIRE_H
#define VIREO_VIRTQUEUE_WIRE_H

#include <stdint.h>

/** Largest split queue (§2.7: Queue Size is a power of 2, at most 32768). */
#define VIREO_VRING_MAX_SIZE 32768u

/* struct vireo_vring_desc flags (§2.7.5). */
#define VIREO_VRING_DESC_F_NEXT	    1u /**< the chain continues at next */
#define VIREO_VRING_DESC_F_WRITE    2u /**< device-writable (else device-readable) */
#define VIREO_VRING_DESC_F_INDIRECT 4u /**< addr/len hold a table of descriptors */

/* Available ring flags (§2.7.7) and used ring flags (§2.7.10). */
#define VIREO_VRING_AVAIL_F_NO_INTERRUPT 1u /**< driver: no used notifications wanted */
#define VIREO_VRING_USED_F_NO_NOTIFY	 1u /**< device: no available notifications wanted */

/* Feature bits (§6). */
#define VIREO_VIRTIO_F_INDIRECT_DESC 28 /**< indirect descriptor tables */
#define VIREO_VIRTIO_F_EVENT_IDX     29 /**< used_event / avail_event */
#define VIREO_VIRTIO_F_RING_PACKED   34 /**< packed virtqueues (§2.8) */

/** One descriptor (§2.7.5): 16 bytes, also the entry of an indirect table. */
struct vireo_vring_desc {
	uint64_t addr;	/**< guest-physical address of the buffer */
	uint32_t len;	/**< bytes */
	uint16_t flags; /**< VIREO_VRING_DESC_F_* */
	uint16_t next;	/**< index of the next descriptor if flags has NEXT */
};

/**
 * The available ring (§2.7.6), written by the driver only. After ring[size]
 * comes le16 used_event when VIRTIO_F_EVENT_IDX is negotiated.
 */
struct vireo_vring_avail {
	uint16_t flags;	 /**< VIREO_VRING_AVAIL_F_* */
	uint16_t idx;	 /**< where the driver puts the next head (free-running) */
	uint16_t ring[]; /**< heads of descriptor chains, [size] */
};

/** One used element (§2.7.8). */
struct vireo_vring_used_elem {
	uint32_t id;  /**< head of the chain being returned */
	uint32_t len; /**< bytes written into the chain's device-writable buffers */
};

/**
 * The used ring (§2.7.8), written by the device only. After ring[size] comes
 * le16 avail_event when VIRTIO_F_EVENT_IDX is negotiated.
 */
struct vireo_vring_used {
	uint16_t flags;			     /**< VIREO_VRING_USED_F_* */
	uint16_t idx;			     /**< where the device puts the next element */
	struct vireo_vring_used_elem ring[]; /**< [size] */
};

/* Sizes in bytes of each part for a queue of n entries, event fields included (§2.7). */
#define VIREO_VRING_DESC_BYTES(n)  (16u * (uint32_t)(n))
#define VIREO_VRING_AVAIL_BYTES(n) (6u + 2u * (uint32_t)(n))
#define VIREO_VRING_USED_BYTES(n)  (6u + 8u * (uint32_t)(n))

/* Minimum alignment of each part (§2.7, table; driver requirement §2.7.1). */
#define VIREO_VRING_DESC_ALIGN	16u
#define VIREO_VRING_AVAIL_ALIGN 2u
#define VIREO_VRING_USED_ALIGN	4u

_Static_assert(sizeof(struct vireo_vring_desc) == 16, "virtq_desc is 16 bytes");
_Static_assert(sizeof(struct vireo_vring_avail) == 4, "virtq_avail head is 4 bytes");
_Static_assert(sizeof(struct vireo_vring_used_elem) == 8, "virtq_used_elem is 8 bytes");
_Static_assert(sizeof(struct vireo_vring_used) == 4, "virtq_used head is 4 bytes");

/*
 * Packed virtqueues (§2.8). One descriptor ring shared both ways plus two event
 * suppression structures: the driver's (written by the driver, read by us before a
 * used-buffer notification) and the device's (written by us to suppress kicks).
 */

/* Packed descriptor flags besides NEXT, WRITE and INDIRECT (§2.8.1). */
#define VIREO_VRING_PACKED_DESC_F_AVAIL (1u << 7)  /**< equals the driver's wrap counter */
#define VIREO_VRING_PACKED_DESC_F_USED	(1u << 15) /**< differs from it while available */

/* Event suppression flags (§2.8.10). */
#define VIREO_VRING_PACKED_EVENT_ENABLE	 0u /**< notify */
#define VIREO_VRING_PACKED_EVENT_DISABLE 1u /**< do not notify */
#define VIREO_VRING_PACKED_EVENT_DESC	 2u /**< notify at off_wrap (EVENT_IDX only) */
#define VIREO_VRING_PACKED_EVENT_MASK	 3u

/** One packed descriptor (§2.8.13), also the entry of a packed indirect table. */
struct vireo_vring_packed_desc {
	uint64_t addr;	/**< guest-physical buffer address (unused in used descriptors) */
	uint32_t len;	/**< bytes; in a used descriptor, bytes written */
	uint16_t id;	/**< buffer id, chosen by the driver */
	uint16_t flags; /**< VIREO_VRING_DESC_F_* and the AVAIL/USED bits */
};

/** An event suppression structure (§2.8.10): off_wrap = offset | wrap << 15. */
struct vireo_vring_packed_event {
	uint16_t off_wrap; /**< descriptor ring offset and wrap counter, for DESC */
	uint16_t flags;	   /**< VIREO_VRING_PACKED_EVENT_* */
};

/* Sizes and alignments of the three areas (§2.8.10.1 / §2.8.13). */
#define VIREO_VRING_PACKED_DESC_BYTES(n) (16u * (uint32_t)(n))
#define VIREO_VRING_PACKED_EVENT_BYTES	 4u
#define VIREO_VRING_PACKED_DESC_ALIGN	 16u
#define VIREO_VRING_PACKED_EVENT_ALIGN	 4u

_Static_assert(sizeof(struct vireo_vring_packed_desc) == 16, "pvirtq_desc is 16 bytes");
_Static_assert(sizeof(struct vireo_vring_packed_event) == 4, "pvirtq_event_suppress is 4 bytes");

#endif /* VIREO_VIRTQUEUE_WIRE_H */
