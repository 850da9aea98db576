/* SPDX-License-Identifier: MIT */
/**
 * @file
 * A fake guest for unit tests (audience: tests/unit only): guest RAM in a memfd,
 * and a driver-side writer for one split virtqueue laid out in it.
 *
 * The test plays the driver through its own mapping of the memfd (ram); the
 * backend under test sees the same bytes through the struct vireo_mem table built
 * from the same memfd, as vhost-user would hand it over. So bytes the backend
 * writes through its iovecs show up in ram, and ring updates made here are read by
 * the backend exactly as a guest's would be. Chains can be built well-formed
 * (mock_chain(), mock_chain_indirect()) or descriptor by descriptor
 * (mock_desc(), mock_table_desc()) to break any rule on purpose.
 *
 * Helpers abort the test program on misuse (a test bug, not a backend refusal).
 */
#ifndef VIREO_TESTS_MOCK_GUEST_H
#define VIREO_TESTS_MOCK_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "mem/guest_mem.h"
#include "virtqueue/split.h"

/** Where the fake frontend pretends guest RAM sits in its own address space. */
#define MOCK_UVA_BASE 0x500000000000ull

/** One guest buffer, for the chain builders. */
struct mock_buf {
	uint64_t gpa; /**< first byte */
	uint32_t len; /**< bytes */
	bool write;   /**< device-writable */
};

/** Buffer ids the packed driver side remembers chain lengths for. */
#define MOCK_PACKED_IDS 1024

/** The driver side of a packed ring (virtio 1.2 §2.8). */
struct mock_packed {
	uint16_t avail_slot; /**< next ring slot the driver fills */
	bool avail_wrap;     /**< driver ring wrap counter */
	uint16_t used_slot;  /**< next ring slot the driver reads a used descriptor at */
	bool used_wrap;	     /**< the driver's used wrap counter */
	uint16_t ndesc[MOCK_PACKED_IDS]; /**< ring descriptors of each id made available */
};

/** The fake guest. Fields are the test's to read. */
struct mock_guest {
	int fd;		      /**< the memfd; the backend's regions hold dups of it */
	uint8_t *ram;	      /**< the driver's mapping of guest RAM */
	uint64_t gpa;	      /**< guest-physical address of ram[0] */
	uint64_t size;	      /**< bytes of guest RAM */
	struct vireo_mem mem; /**< the backend's view: one or two regions */
	uint64_t brk;	      /**< bump allocator: next free offset in ram */

	unsigned int qsize;    /**< entries in the queue */
	uint64_t desc_gpa;     /**< descriptor table */
	uint64_t avail_gpa;    /**< available ring */
	uint64_t used_gpa;     /**< used ring */
	uint16_t avail_idx;    /**< the driver's avail idx (published) */
	uint16_t next_free;    /**< next descriptor the chain builders use */
	struct mock_packed pk; /**< packed ring driver state (mock_packed_*) */
};

/**
 * mock_guest_init() - Make guest RAM and the backend's table over it.
 * @param g the guest.
 * @param gpa guest-physical address of the first byte (page-aligned).
 * @param size bytes (page multiple); the memfd is sparse, so large is cheap.
 * @param split 0 for one region; else the table gets two adjacent regions,
 *        [gpa, gpa + split) and [gpa + split, gpa + size), the second mapped
 *        from the same memfd at mmap_offset split (as QEMU does around holes).
 * @return 0 or a negative errno.
 */
int mock_guest_init(struct mock_guest *g, uint64_t gpa, uint64_t size, uint64_t split);

/** mock_guest_fini() - Unmap everything and close the memfd. */
void mock_guest_fini(struct mock_guest *g);

/** mock_ptr() - The driver's pointer to guest-physical @gpa (aborts if outside). */
void *mock_ptr(struct mock_guest *g, uint64_t gpa);

/** mock_alloc() - Take @size bytes of guest RAM aligned to @align; returns the GPA. */
uint64_t mock_alloc(struct mock_guest *g, uint64_t size, uint64_t align);

/**
 * mock_queue_init() - Lay out a zeroed queue of @qsize entries in guest RAM.
 * The parts are page-aligned and include the event-idx fields.
 */
void mock_queue_init(struct mock_guest *g, unsigned int qsize);

/**
 * mock_queue_attach() - vireo_vq_init() + vireo_vq_setup() on the queue, with
 * ring pointers translated through the backend's table like vhost-user would.
 * @return what vireo_vq_setup() returned.
 */
int mock_queue_attach(struct mock_guest *g, struct vireo_vq *vq, uint64_t features,
		      enum vireo_vq_err *why);

/** mock_desc() - Write descriptor @idx of the queue's table. */
void mock_desc(struct mock_guest *g, uint16_t idx, uint64_t addr, uint32_t len, uint16_t flags,
	       uint16_t next);

/** mock_table_desc() - Write entry @i of the indirect table at @table_gpa. */
void mock_table_desc(struct mock_guest *g, uint64_t table_gpa, uint32_t i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next);

/** mock_avail_add() - Put @head in the next available slot and publish idx + 1. */
void mock_avail_add(struct mock_guest *g, uint16_t head);

/** mock_avail_set_idx() - Publish a raw avail idx (to move it however a test likes). */
void mock_avail_set_idx(struct mock_guest *g, uint16_t idx);

/** mock_set_avail_flags() - Write the available ring's flags. */
void mock_set_avail_flags(struct mock_guest *g, uint16_t flags);

/** mock_set_used_event() - Write used_event (after the available ring). */
void mock_set_used_event(struct mock_guest *g, uint16_t event);

/** mock_set_used_idx() - Write used idx (as a restored ring would hold it). */
void mock_set_used_idx(struct mock_guest *g, uint16_t idx);

/** mock_used_idx() - Read the used ring's idx. */
uint16_t mock_used_idx(struct mock_guest *g);

/** mock_used_flags() - Read the used ring's flags. */
uint16_t mock_used_flags(struct mock_guest *g);

/** mock_avail_event() - Read avail_event (after the used ring). */
uint16_t mock_avail_event(struct mock_guest *g);

/** mock_used_elem() - Read used element number @n (free-running; taken mod qsize). */
struct vireo_vring_used_elem mock_used_elem(struct mock_guest *g, uint16_t n);

/**
 * mock_chain() - Build a direct chain of @n buffers from the next free descriptors
 * and make it available. @return its head.
 */
uint16_t mock_chain(struct mock_guest *g, const struct mock_buf *bufs, unsigned int n);

/**
 * mock_chain_indirect() - Put @n buffers in a new indirect table, point one
 * descriptor at it and make that available. @return its head.
 */
uint16_t mock_chain_indirect(struct mock_guest *g, const struct mock_buf *bufs, unsigned int n);

/*
 * Packed rings. mock_packed_init() lays out the descriptor ring (desc_gpa), the
 * driver event area (avail_gpa) and the device event area (used_gpa).
 */

/** mock_packed_init() - Lay out a zeroed packed queue of @qsize entries. */
void mock_packed_init(struct mock_guest *g, unsigned int qsize);

/**
 * mock_packed_attach() - vireo_vq_fini() + vireo_vq_init() + vireo_vq_setup() with
 * RING_PACKED added to @features. The test calls vireo_vq_fini() at the end.
 * @return what vireo_vq_setup() returned.
 */
int mock_packed_attach(struct mock_guest *g, struct vireo_vq *vq, uint64_t features,
		       enum vireo_vq_err *why);

/**
 * mock_packed_put() - Write one descriptor at the driver's next slot, available at
 * once (AVAIL/USED set for the current wrap), and move on. @flags: NEXT, WRITE,
 * INDIRECT as the test likes (to break rules on purpose).
 */
void mock_packed_put(struct mock_guest *g, uint64_t addr, uint32_t len, uint16_t id,
		     uint16_t flags);

/**
 * mock_packed_chain() - Make @n buffers available as one chain with buffer @id in
 * consecutive slots, the first descriptor's flags written last. @return its slot.
 */
uint16_t mock_packed_chain(struct mock_guest *g, const struct mock_buf *bufs, unsigned int n,
			   uint16_t id);

/**
 * mock_packed_chain_indirect() - Put @n buffers in a new indirect table and make
 * one ring descriptor pointing at it available with buffer @id. @return its slot.
 */
uint16_t mock_packed_chain_indirect(struct mock_guest *g, const struct mock_buf *bufs,
				    unsigned int n, uint16_t id);

/** mock_packed_table_desc() - Write entry @i of a packed indirect table. */
void mock_packed_table_desc(struct mock_guest *g, uint64_t table_gpa, uint32_t i, uint64_t addr,
			    uint32_t len, uint16_t flags);

/**
 * mock_packed_used() - Take the next used descriptor, if the device wrote one:
 * its id, len and flags; the driver's used position moves on by that id's chain.
 * @return true if one was there.
 */
bool mock_packed_used(struct mock_guest *g, uint16_t *id, uint32_t *len, uint16_t *flags);

/** mock_packed_set_driver_event() - Write the driver event suppression area. */
void mock_packed_set_driver_event(struct mock_guest *g, uint16_t flags, uint16_t off_wrap);

/** mock_packed_device_flags() - Read the device event suppression area's flags. */
uint16_t mock_packed_device_flags(struct mock_guest *g);

/** Broken-queue reports seen by mock_log_install()'s hook. */
extern unsigned int mock_log_count;
/** The reason of the last report. */
extern enum vireo_vq_err mock_log_last;

/** mock_log_install() - Count vireo_vq reports (and keep them off stderr). */
void mock_log_install(void);

#endif /* VIREO_TESTS_MOCK_GUEST_H */
