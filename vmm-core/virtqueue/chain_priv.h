/* SPDX-License-Identifier: MIT */
/*
 * The chain rules shared by the split walk (chain.c) and the packed walk
 * (packed.c): entering an indirect table and mapping one buffer. Nothing outside
 * vmm-core/virtqueue/ includes this.
 */
#ifndef VIREO_VIRTQUEUE_CHAIN_PRIV_H
#define VIREO_VIRTQUEUE_CHAIN_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "virtqueue/chain.h"
#include "virtqueue/wire.h"

/* The table being walked: the queue's own, or one indirect table. */
struct chain_table {
	const uint8_t *host; /* whole table contiguous in one region, else NULL */
	uint64_t gpa;	     /* indirect table's address, read through mem/ if host is NULL */
	uint32_t count;	     /* descriptors in the table */
	bool indirect;
};

/* Totals and state carried along one walk. */
struct chain_walk {
	const struct vireo_vq *vq;
	struct vireo_vq_chain *chain;
	uint64_t total;	 /* readable + writable bytes, at most UINT32_MAX */
	bool seen_write; /* a writable buffer came already */
};

/* Set *why (if not NULL) and return -EPROTO. */
int vq_chain_fail(enum vireo_vq_err *why, enum vireo_vq_err err);

/*
 * Point t at the indirect table described by addr/len: len a non-zero multiple
 * of 16, every byte guest memory (§2.7.5.3, §2.8.7). Returns 0 or -EPROTO.
 */
int vq_chain_enter_indirect(const struct vireo_vq *vq, uint64_t addr, uint32_t len,
			    struct chain_table *t, enum vireo_vq_err *why);

/*
 * Map one buffer (addr, len, writable) into the chain's iovecs: readable before
 * writable, total at most 2^32 - 1, inside guest memory. Returns 0 or -EPROTO.
 */
int vq_chain_add_buffer(struct chain_walk *w, uint64_t addr, uint32_t len, bool writable,
			enum vireo_vq_err *why);

/* Reset the chain's counts before a walk. */
void vq_chain_clear(struct vireo_vq_chain *chain, uint16_t head);

#endif /* VIREO_VIRTQUEUE_CHAIN_PRIV_H */
