/* SPDX-License-Identifier: MIT */
/*
 * The packed-ring half of split.h's calls (virtio 1.2 §2.8). split.c checks that
 * the queue is usable and hands packed queues to these; nothing outside
 * vmm-core/virtqueue/ includes this. What differs from a split ring, as seen by a
 * caller of split.h:
 * - a chain's head (the id to push) is the driver's buffer id, any 16-bit value;
 *   one id is in flight at most once;
 * - used_idx counts used descriptors written, modulo 2^16;
 * - the base is 32 bits: avail slot | wrap << 15, used slot | wrap << 15 above;
 * - kicks are suppressed with ENABLE/DISABLE in the device area; calls follow the
 *   driver area's ENABLE/DISABLE/DESC (DESC with off_wrap, under EVENT_IDX).
 */
#ifndef VIREO_VIRTQUEUE_PACKED_H
#define VIREO_VIRTQUEUE_PACKED_H

#include "virtqueue/split.h"

int vq_packed_setup(struct vireo_vq *vq, unsigned int size, void *ring, const void *driver,
		    void *device, enum vireo_vq_err *why);
void vq_packed_free(struct vireo_vq *vq);
int vq_packed_pop(struct vireo_vq *vq, struct vireo_vq_chain *chain, enum vireo_vq_err *why);
int vq_packed_unpop(struct vireo_vq *vq, unsigned int n);
int vq_packed_push_batch(struct vireo_vq *vq, const struct vireo_vq_used *elems, unsigned int n,
			 enum vireo_vq_err *why);
int vq_packed_should_notify(struct vireo_vq *vq);
void vq_packed_disable_notify(struct vireo_vq *vq);
int vq_packed_enable_notify(struct vireo_vq *vq);
int vq_packed_avail_count(struct vireo_vq *vq);
uint32_t vq_packed_get_base(const struct vireo_vq *vq);
int vq_packed_set_base(struct vireo_vq *vq, uint32_t base);

#endif /* VIREO_VIRTQUEUE_PACKED_H */
