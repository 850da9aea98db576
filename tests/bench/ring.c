// SPDX-License-Identifier: MIT
/*
 * The driver half of a split virtqueue for vireo-bench: fixed three-descriptor
 * virtio-blk chains, publishing the available ring with the barriers virtio 1.2
 * §2.7.13 asks of a driver, and reading the used ring back without trusting it.
 * Sockets, eventfds and clocks are the caller's (blk.c).
 */
#include "ring.h"

#include <endian.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096ull

/* Ring fields the device also touches are 16-bit atomics, as in virtqueue/split.c. */
_Static_assert(sizeof(_Atomic uint16_t) == sizeof(uint16_t), "atomic u16 has u16 layout");

static const char *const ring_err_strs[BENCH_RING_ERR_MAX] = {
	[BENCH_RING_OK] = "ok",
	[BENCH_RING_ERR_ID_RANGE] = "used element id is outside the queue",
	[BENCH_RING_ERR_NOT_HEAD] = "used element id is not the head of a request",
	[BENCH_RING_ERR_NOT_BUSY] = "used element returns a request not in flight (twice?)",
	[BENCH_RING_ERR_IDX_AHEAD] = "used idx moved by more than the requests in flight",
};

const char *bench_ring_err_str(enum bench_ring_err err)
{
	if ((unsigned int)err >= BENCH_RING_ERR_MAX)
		return "unknown reason";
	return ring_err_strs[err];
}

static uint16_t load16(const uint16_t *p)
{
	return le16toh(atomic_load_explicit((const _Atomic uint16_t *)p, memory_order_relaxed));
}

static void store16(uint16_t *p, uint16_t v)
{
	atomic_store_explicit((_Atomic uint16_t *)p, htole16(v), memory_order_relaxed);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int bench_ring_layout(unsigned int qsize, unsigned int nslots, uint32_t bs,
		      struct bench_ring_layout *lay)
{
	if (qsize == 0 || qsize > VIREO_VRING_MAX_SIZE || (qsize & (qsize - 1)))
		return -EINVAL;
	if (nslots == 0 || bs == 0 || nslots > qsize / BENCH_RING_DESCS_PER_REQ)
		return -EINVAL;
	lay->desc = 0;
	lay->avail = align_up(VIREO_VRING_DESC_BYTES(qsize), PAGE);
	lay->used = align_up(lay->avail + VIREO_VRING_AVAIL_BYTES(qsize), PAGE);
	lay->hdrs = align_up(lay->used + VIREO_VRING_USED_BYTES(qsize), PAGE);
	lay->data = align_up(lay->hdrs + (uint64_t)nslots * BENCH_RING_HDR_STRIDE, PAGE);
	lay->data_stride = align_up(bs, PAGE);
	lay->bytes = lay->data + (uint64_t)nslots * lay->data_stride;
	return 0;
}

int bench_ring_init(struct bench_ring *r, void *base, uint64_t gpa, unsigned int qsize,
		    unsigned int nslots, uint32_t bs, bool event_idx)
{
	int rc;

	memset(r, 0, sizeof(*r));
	rc = bench_ring_layout(qsize, nslots, bs, &r->lay);
	if (rc < 0)
		return rc;
	r->slots = calloc(nslots, sizeof(*r->slots));
	if (!r->slots)
		return -ENOMEM;
	r->size = qsize;
	r->nslots = nslots;
	r->bs = bs;
	r->event_idx = event_idx;
	r->base = base;
	r->gpa = gpa;
	r->desc = (struct vireo_vring_desc *)(r->base + r->lay.desc);
	r->avail = (struct vireo_vring_avail *)(r->base + r->lay.avail);
	r->used = (struct vireo_vring_used *)(r->base + r->lay.used);
	r->used_event = &r->avail->ring[qsize];
	r->avail_event = (uint16_t *)&r->used->ring[qsize];
	memset(r->base, 0, r->lay.hdrs);

	for (unsigned int i = 0; i < nslots; i++) {
		uint64_t hdr = gpa + r->lay.hdrs + (uint64_t)i * BENCH_RING_HDR_STRIDE;
		uint16_t head = (uint16_t)(i * BENCH_RING_DESCS_PER_REQ);

		r->desc[head] = (struct vireo_vring_desc){
			.addr = htole64(hdr),
			.len = htole32(sizeof(struct virtio_blk_outhdr)),
			.flags = htole16(VIREO_VRING_DESC_F_NEXT),
			.next = htole16(head + 1),
		};
		r->desc[head + 1] = (struct vireo_vring_desc){
			.addr = htole64(gpa + r->lay.data + (uint64_t)i * r->lay.data_stride),
			.len = htole32(bs),
			.flags = htole16(VIREO_VRING_DESC_F_NEXT),
			.next = htole16(head + 2),
		};
		r->desc[head + 2] = (struct vireo_vring_desc){
			.addr = htole64(hdr + BENCH_RING_STATUS_OFF),
			.len = htole32(1),
			.flags = htole16(VIREO_VRING_DESC_F_WRITE),
		};
	}
	return 0;
}

void bench_ring_fini(struct bench_ring *r)
{
	free(r->slots);
	r->slots = NULL;
}

void *bench_ring_data(struct bench_ring *r, unsigned int slot)
{
	return r->base + r->lay.data + (uint64_t)slot * r->lay.data_stride;
}

void bench_ring_submit(struct bench_ring *r, unsigned int slot, uint32_t type, uint64_t sector,
		       uint64_t now_ns)
{
	uint8_t *h = r->base + r->lay.hdrs + (uint64_t)slot * BENCH_RING_HDR_STRIDE;
	struct virtio_blk_outhdr out = {
		.type = htole32(type),
		.sector = htole64(sector),
	};
	uint16_t head = (uint16_t)(slot * BENCH_RING_DESCS_PER_REQ);
	uint16_t dflags = VIREO_VRING_DESC_F_NEXT;

	memcpy(h, &out, sizeof(out));
	h[BENCH_RING_STATUS_OFF] = 0xff; /* a device that never writes it is caught */
	if (type == VIRTIO_BLK_T_IN)
		dflags |= VIREO_VRING_DESC_F_WRITE;
	r->desc[head + 1].flags = htole16(dflags);
	r->avail->ring[r->avail_idx & (r->size - 1)] = htole16(head);
	r->avail_idx++;
	r->slots[slot].busy = true;
	r->slots[slot].submit_ns = now_ns;
	r->inflight++;
}

bool bench_ring_publish(struct bench_ring *r)
{
	uint16_t old = r->kicked_idx;

	if (r->avail_idx == old)
		return false;
	/* Descriptors and ring entries before the idx that exposes them (§2.7.13.3.1). */
	atomic_thread_fence(memory_order_release);
	store16(&r->avail->idx, r->avail_idx);
	r->kicked_idx = r->avail_idx;
	/* idx store before reading the device's suppression fields (§2.7.13.4.1). */
	atomic_thread_fence(memory_order_seq_cst);
	if (r->event_idx)
		return bench_need_event(load16(r->avail_event), r->avail_idx, old);
	return !(load16(&r->used->flags) & VIREO_VRING_USED_F_NO_NOTIFY);
}

int bench_ring_next(struct bench_ring *r, struct bench_done *done, enum bench_ring_err *why)
{
	struct vireo_vring_used_elem e;
	const uint8_t *h;
	uint32_t id;
	unsigned int slot;

	*why = BENCH_RING_OK;
	if (r->last_used == r->used_seen) {
		r->used_seen = load16(&r->used->idx);
		if (r->last_used == r->used_seen)
			return 0;
		if ((uint16_t)(r->used_seen - r->last_used) > r->inflight) {
			*why = BENCH_RING_ERR_IDX_AHEAD;
			return -EPROTO;
		}
		/* Elements and status bytes after the idx that exposed them (§2.7.14). */
		atomic_thread_fence(memory_order_acquire);
	}
	memcpy(&e, &r->used->ring[r->last_used & (r->size - 1)], sizeof(e));
	id = le32toh(e.id);
	if (id >= r->size) {
		*why = BENCH_RING_ERR_ID_RANGE;
		return -EPROTO;
	}
	slot = id / BENCH_RING_DESCS_PER_REQ;
	if (id % BENCH_RING_DESCS_PER_REQ || slot >= r->nslots) {
		*why = BENCH_RING_ERR_NOT_HEAD;
		return -EPROTO;
	}
	if (!r->slots[slot].busy) {
		*why = BENCH_RING_ERR_NOT_BUSY;
		return -EPROTO;
	}
	r->slots[slot].busy = false;
	r->inflight--;
	r->last_used++;
	h = r->base + r->lay.hdrs + (uint64_t)slot * BENCH_RING_HDR_STRIDE;
	done->slot = slot;
	done->status = h[BENCH_RING_STATUS_OFF];
	done->len = le32toh(e.len);
	done->submit_ns = r->slots[slot].submit_ns;
	return 1;
}

bool bench_ring_want_calls(struct bench_ring *r)
{
	if (r->event_idx)
		store16(r->used_event, r->last_used);
	else
		store16(&r->avail->flags, 0);
	/* Our request before re-reading used idx, or a completion could slip by. */
	atomic_thread_fence(memory_order_seq_cst);
	return load16(&r->used->idx) != r->last_used;
}

void bench_ring_no_calls(struct bench_ring *r)
{
	/*
	 * With EVENT_IDX there is no flag: keep used_event half the index space ahead
	 * of us, a point the device cannot reach before our next refresh.
	 */
	if (r->event_idx)
		store16(r->used_event, (uint16_t)(r->last_used + 0x8000u));
	else
		store16(&r->avail->flags, VIREO_VRING_AVAIL_F_NO_INTERRUPT);
}
