/* SPDX-License-Identifier: MIT */
/**
 * @file
 * One descriptor chain, walked and mapped (audience: vmm-core device models).
 *
 * Owns the walk from a head index to iovecs: following next (direct and through
 * at most one indirect table), enforcing every chain rule of virtio 1.2 §2.7.4 and
 * §2.7.5, and mapping each buffer through mem/. Taking heads off the available
 * ring and returning them is split.c's business.
 *
 * Rules, as enforced (each refusal is an enum vireo_vq_err):
 * - every next, in the table or an indirect table, must index that table;
 * - the hop budget that stops loops: at most Queue Size buffer descriptors from the
 *   ring's table, plus at most the entry count of the one indirect table (which may
 *   be longer than the queue, as Linux's virtio-blk makes them); a descriptor that
 *   only points at an indirect table is not a buffer and does not count;
 * - INDIRECT needs VIRTIO_F_INDIRECT_DESC, is never set with NEXT, never appears in
 *   an indirect table; the table's length is a non-zero multiple of 16 and the whole
 *   table lies in guest memory (it may straddle adjacent regions); the WRITE flag of
 *   the pointing descriptor is ignored (§2.7.5.3.2);
 * - device-readable buffers come before device-writable ones (§2.7.4.2);
 * - the chain's bytes total at most 2^32 - 1 (§2.7.5.2: 2^32 bytes in total is the
 *   driver's limit, and used len is 32 bits);
 * - zero-length buffers: the spec neither forbids nor defines them. Vireo accepts
 *   them, produces no iovec for them and does not look at their address; they still
 *   count towards the hop budget and the readable-before-writable order.
 */
#ifndef VIREO_VIRTQUEUE_CHAIN_H
#define VIREO_VIRTQUEUE_CHAIN_H

#include <stdint.h>
#include <sys/uio.h>

#include "virtqueue/err.h"

struct vireo_vq;

/**
 * A walked chain: its head (to hand back with vireo_vq_push()) and its buffers as
 * iovecs into guest memory, readable ones first, then writable ones.
 */
struct vireo_vq_chain {
	struct iovec *iov;    /**< caller's array: out_num readable, then in_num writable */
	unsigned int iov_cap; /**< entries at iov */
	uint16_t head;	      /**< the chain's head index (the used element's id) */
	unsigned int out_num; /**< readable iovecs at iov[0] */
	unsigned int in_num;  /**< writable iovecs at iov[out_num] */
	uint32_t out_len;     /**< readable bytes */
	uint32_t in_len;      /**< writable bytes */
	unsigned int ndesc;   /**< buffer descriptors walked (zero-length ones included) */
};

/**
 * vireo_vq_chain_init() - Give a chain the iovec array it maps into.
 * @param chain the chain.
 * @param iov the array; it must outlive every use of the chain.
 * @param iov_cap its entries. A buffer straddling regions takes one per region,
 *        so allow more than the queue size if the device's chains can be that long.
 * Context: any.
 */
void vireo_vq_chain_init(struct vireo_vq_chain *chain, struct iovec *iov, unsigned int iov_cap);

/**
 * vireo_vq_chain_in_iov() - The first writable iovec.
 * @param chain a chain filled by vireo_vq_pop().
 * @return &chain->iov[chain->out_num].
 * Context: any.
 */
static inline struct iovec *vireo_vq_chain_in_iov(const struct vireo_vq_chain *chain)
{
	return chain->iov + chain->out_num;
}

/**
 * vireo_vq_chain_walk() - Walk the chain at @head and map its buffers.
 * @param vq a queue with rings set up.
 * @param head index of the chain's first descriptor.
 * @param chain filled in (its iov array from vireo_vq_chain_init()).
 * @param why the rule broken on failure (may be NULL).
 * @return 0, or -EPROTO for a guest violation (the chain is then unspecified).
 *   This does not set the queue's broken latch: vireo_vq_pop() does.
 * Context: the queue's worker.
 */
int vireo_vq_chain_walk(const struct vireo_vq *vq, uint16_t head, struct vireo_vq_chain *chain,
			enum vireo_vq_err *why);

#endif /* VIREO_VIRTQUEUE_CHAIN_H */
