// SPDX-License-Identifier: MIT
/*
 * Walking one descriptor chain of a split virtqueue into iovecs. The guest wrote
 * every byte read here and may still be rewriting it: each descriptor is copied
 * once into a local before any field is looked at, every index is checked against
 * its table, and every buffer goes through mem/ before a pointer to it exists.
 * Section numbers cite virtio 1.2 §2.7; the rules are listed in chain.h.
 */
#include "virtqueue/chain.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "virtqueue/chain_priv.h"
#include "virtqueue/split.h"

int vq_chain_fail(enum vireo_vq_err *why, enum vireo_vq_err err)
{
	if (why)
		*why = err;
	return -EPROTO;
}

void vireo_vq_chain_init(struct vireo_vq_chain *chain, struct iovec *iov, unsigned int iov_cap)
{
	memset(chain, 0, sizeof(*chain));
	chain->iov = iov;
	chain->iov_cap = iov_cap;
}

/* Copy descriptor idx (< t->count) of the table out of guest memory, in host order. */
static int chain_read_desc(const struct vireo_vq *vq, const struct chain_table *t, uint32_t idx,
			   struct vireo_vring_desc *d)
{
	uint64_t off = (uint64_t)idx * sizeof(*d);

	if (t->host)
		memcpy(d, t->host + off, sizeof(*d));
	else if (vireo_mem_read(vq->mem, t->gpa + off, d, sizeof(*d), NULL) < 0)
		return -EFAULT;
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
	return 0;
}

/* Switch the walk to the indirect table that d points at (§2.7.5.3). */
int vq_chain_enter_indirect(const struct vireo_vq *vq, uint64_t addr, uint32_t len,
			    struct chain_table *t, enum vireo_vq_err *why)
{
	uint64_t contiguous = len;
	void *host;

	/* §2.7.5.3: the table holds len / 16 descriptors; 0 of them is no table. */
	if (len == 0 || len % sizeof(struct vireo_vring_desc) != 0)
		return vq_chain_fail(why, VIREO_VQ_ERR_INDIRECT_LEN);
	/* Every byte of the table must be guest memory, even ones the chain skips. */
	if (vireo_mem_check(vq->mem, addr, len, NULL) < 0)
		return vq_chain_fail(why, VIREO_VQ_ERR_INDIRECT_RANGE);
	host = vireo_mem_gpa_to_host(vq->mem, addr, &contiguous);
	/* A table straddling two regions is read descriptor by descriptor via mem/. */
	t->host = host && contiguous == len ? host : NULL;
	t->gpa = addr;
	t->count = len / (uint32_t)sizeof(struct vireo_vring_desc);
	t->indirect = true;
	return 0;
}

/* Map one buffer descriptor into the chain's iovecs. */
int vq_chain_add_buffer(struct chain_walk *w, uint64_t addr, uint32_t len, bool writable,
			enum vireo_vq_err *why)
{
	struct vireo_vq_chain *c = w->chain;
	enum vireo_mem_err merr;
	unsigned int used;
	int n;

	/* §2.7.4.2: device-writable elements after all device-readable ones. */
	if (!writable && w->seen_write)
		return vq_chain_fail(why, VIREO_VQ_ERR_READ_AFTER_WRITE);
	w->seen_write |= writable;
	/* Zero-length buffers carry no bytes: no iovec, address not looked at. */
	if (len == 0)
		return 0;
	/* §2.7.5.2: no chain of more than 2^32 bytes; used len is 32 bits. */
	w->total += len;
	if (w->total > UINT32_MAX)
		return vq_chain_fail(why, VIREO_VQ_ERR_TOTAL_OVERFLOW);
	used = c->out_num + c->in_num;
	n = vireo_mem_map(w->vq->mem, addr, len, c->iov + used, c->iov_cap - used, &merr);
	if (n < 0)
		return vq_chain_fail(why, merr == VIREO_MEM_ERR_IOV_FULL ? VIREO_VQ_ERR_IOV_FULL
									 : VIREO_VQ_ERR_DESC_RANGE);
	if (writable) {
		c->in_num += (unsigned int)n;
		c->in_len += len;
	} else {
		c->out_num += (unsigned int)n;
		c->out_len += len;
	}
	return 0;
}

void vq_chain_clear(struct vireo_vq_chain *chain, uint16_t head)
{
	chain->head = head;
	chain->out_num = chain->in_num = 0;
	chain->out_len = chain->in_len = 0;
	chain->ndesc = 0;
}

int vireo_vq_chain_walk(const struct vireo_vq *vq, uint16_t head, struct vireo_vq_chain *chain,
			enum vireo_vq_err *why)
{
	struct chain_table t = {
		.host = (const uint8_t *)vq->desc,
		.count = vq->size,
	};
	struct chain_walk w = { .vq = vq, .chain = chain };
	struct vireo_vring_desc d;
	uint32_t idx = head, budget = vq->size;
	int rc;

	vq_chain_clear(chain, head);
	/* Heads index a split ring's table; a packed ring has no such table. */
	if (vq->packed || !vq->desc)
		return vq_chain_fail(why, VIREO_VQ_ERR_NOT_READY);
	/* §2.7.5: a head is an index into the descriptor table. */
	if (idx >= t.count)
		return vq_chain_fail(why, VIREO_VQ_ERR_HEAD_RANGE);

	for (;;) {
		if (chain_read_desc(vq, &t, idx, &d) < 0)
			return vq_chain_fail(why, VIREO_VQ_ERR_INDIRECT_RANGE);

		if (d.flags & VIREO_VRING_DESC_F_INDIRECT) {
			/* §2.7.5.3.1: only with the feature, one level, never with NEXT. */
			if (!vq->indirect)
				return vq_chain_fail(why, VIREO_VQ_ERR_INDIRECT_NOT_NEGOTIATED);
			if (t.indirect)
				return vq_chain_fail(why, VIREO_VQ_ERR_INDIRECT_NESTED);
			if (d.flags & VIREO_VRING_DESC_F_NEXT)
				return vq_chain_fail(why, VIREO_VQ_ERR_INDIRECT_NEXT);
			/* §2.7.5.3.2: its WRITE flag is ignored; it is not a buffer. */
			rc = vq_chain_enter_indirect(vq, d.addr, d.len, &t, why);
			if (rc < 0)
				return rc;
			budget = chain->ndesc + t.count;
			idx = 0; /* §2.7.5.3: the first descriptor is at index 0 */
			continue;
		}

		/*
		 * The hop budget stops loops (§2.7.5.2): at most Queue Size descriptors
		 * in the ring's table, plus, inside an indirect table, at most its
		 * entries. An indirect table may be longer than the queue: Linux's
		 * virtio-blk sends seg_max + 2 entries whatever the queue size, and
		 * QEMU's own devices accept that; the iovec cap still bounds the work.
		 */
		if (++chain->ndesc > budget)
			return vq_chain_fail(why, VIREO_VQ_ERR_CHAIN_LOOP);
		rc = vq_chain_add_buffer(&w, d.addr, d.len, d.flags & VIREO_VRING_DESC_F_WRITE,
					 why);
		if (rc < 0)
			return rc;

		if (!(d.flags & VIREO_VRING_DESC_F_NEXT))
			break;
		if (d.next >= t.count)
			return vq_chain_fail(why, t.indirect ? VIREO_VQ_ERR_INDIRECT_NEXT_RANGE
							     : VIREO_VQ_ERR_NEXT_RANGE);
		idx = d.next;
	}
	if (why)
		*why = VIREO_VQ_OK;
	return 0;
}
