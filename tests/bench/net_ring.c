// SPDX-License-Identifier: MIT
/*
 * The driver half of a virtio-net split virtqueue for vireo-bench: one buffer per
 * single-descriptor chain, a stack of free entries, publishing the available ring
 * with the barriers virtio 1.2 §2.7.13 asks of a driver, and reading the used ring
 * back without trusting it. The meaning of the buffers is net_frame.c's.
 */
#include "net_ring.h"

#include <endian.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096ull

/* Ring fields the device also touches are 16-bit atomics, as in virtqueue/split.c. */
_Static_assert(sizeof(_Atomic uint16_t) == sizeof(uint16_t), "atomic u16 has u16 layout");

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

static const char *const nring_err_strs[BENCH_NRING_ERR_MAX] = {
	[BENCH_NRING_OK] = "ok",
	[BENCH_NRING_ERR_ID_RANGE] = "used element id is outside the queue",
	[BENCH_NRING_ERR_NOT_BUSY] = "used element returns a buffer not in flight (twice?)",
	[BENCH_NRING_ERR_IDX_AHEAD] = "used idx moved by more than the buffers in flight",
	[BENCH_NRING_ERR_LEN] = "used element's len is larger than the receive buffer",
};

const char *bench_nring_err_str(enum bench_nring_err err)
{
	if ((unsigned int)err >= BENCH_NRING_ERR_MAX)
		return "unknown reason";
	return nring_err_strs[err];
}

int bench_nring_layout(unsigned int qsize, uint32_t buf_size, struct bench_nring_layout *lay)
{
	if (qsize == 0 || qsize > VIREO_VRING_MAX_SIZE || (qsize & (qsize - 1)))
		return -EINVAL;
	if (buf_size == 0 || buf_size > 65536)
		return -EINVAL;
	lay->desc = 0;
	lay->avail = align_up(VIREO_VRING_DESC_BYTES(qsize), PAGE);
	lay->used = align_up(lay->avail + VIREO_VRING_AVAIL_BYTES(qsize), PAGE);
	lay->bufs = align_up(lay->used + VIREO_VRING_USED_BYTES(qsize), PAGE);
	lay->bytes = align_up(lay->bufs + (uint64_t)qsize * buf_size, PAGE);
	return 0;
}

int bench_nring_init(struct bench_nring *r, void *base, uint64_t gpa, unsigned int qsize,
		     uint32_t buf_size, bool rx, bool event_idx)
{
	int rc;

	memset(r, 0, sizeof(*r));
	rc = bench_nring_layout(qsize, buf_size, &r->lay);
	if (rc < 0)
		return rc;
	r->busy = calloc(qsize, sizeof(*r->busy));
	r->free_ids = calloc(qsize, sizeof(*r->free_ids));
	if (!r->busy || !r->free_ids) {
		bench_nring_fini(r);
		return -ENOMEM;
	}
	r->size = qsize;
	r->buf_size = buf_size;
	r->rx = rx;
	r->event_idx = event_idx;
	r->base = base;
	r->gpa = gpa;
	r->desc = (struct vireo_vring_desc *)(r->base + r->lay.desc);
	r->avail = (struct vireo_vring_avail *)(r->base + r->lay.avail);
	r->used = (struct vireo_vring_used *)(r->base + r->lay.used);
	r->used_event = &r->avail->ring[qsize];
	r->avail_event = (uint16_t *)&r->used->ring[qsize];
	memset(r->base, 0, r->lay.bufs);

	for (unsigned int i = 0; i < qsize; i++) {
		r->desc[i] = (struct vireo_vring_desc){
			.addr = htole64(gpa + r->lay.bufs + (uint64_t)i * buf_size),
			.len = htole32(buf_size),
			.flags = htole16(rx ? VIREO_VRING_DESC_F_WRITE : 0),
		};
		/* Popped from the top: entry 0 first, so a fresh ring posts 0, 1, 2... */
		r->free_ids[i] = (uint16_t)(qsize - 1 - i);
	}
	r->nfree = qsize;
	return 0;
}

void bench_nring_fini(struct bench_nring *r)
{
	free(r->busy);
	free(r->free_ids);
	r->busy = NULL;
	r->free_ids = NULL;
}

int bench_nring_post(struct bench_nring *r, uint32_t len)
{
	uint16_t id;

	if (!r->nfree)
		return -ENOSPC;
	if (len > r->buf_size)
		return -EINVAL;
	id = r->free_ids[--r->nfree];
	if (!r->rx)
		r->desc[id].len = htole32(len);
	r->avail->ring[r->avail_idx & (r->size - 1)] = htole16(id);
	r->avail_idx++;
	r->busy[id] = true;
	r->inflight++;
	return id;
}

bool bench_nring_publish(struct bench_nring *r)
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
		return bench_nring_need_event(load16(r->avail_event), r->avail_idx, old);
	return !(load16(&r->used->flags) & VIREO_VRING_USED_F_NO_NOTIFY);
}

int bench_nring_next(struct bench_nring *r, unsigned int *id, uint32_t *len,
		     enum bench_nring_err *why)
{
	struct vireo_vring_used_elem e;
	uint32_t i, l;

	*why = BENCH_NRING_OK;
	if (r->last_used == r->used_seen) {
		r->used_seen = load16(&r->used->idx);
		if (r->last_used == r->used_seen)
			return 0;
		if ((uint16_t)(r->used_seen - r->last_used) > r->inflight) {
			*why = BENCH_NRING_ERR_IDX_AHEAD;
			return -EPROTO;
		}
		/* Elements and buffer bytes after the idx that exposed them (§2.7.14). */
		atomic_thread_fence(memory_order_acquire);
	}
	memcpy(&e, &r->used->ring[r->last_used & (r->size - 1)], sizeof(e));
	i = le32toh(e.id);
	l = le32toh(e.len);
	if (i >= r->size) {
		*why = BENCH_NRING_ERR_ID_RANGE;
		return -EPROTO;
	}
	if (!r->busy[i]) {
		*why = BENCH_NRING_ERR_NOT_BUSY;
		return -EPROTO;
	}
	if (r->rx && l > r->buf_size) {
		*why = BENCH_NRING_ERR_LEN;
		return -EPROTO;
	}
	r->busy[i] = false;
	r->inflight--;
	r->free_ids[r->nfree++] = (uint16_t)i;
	r->last_used++;
	*id = i;
	*len = l;
	return 1;
}

bool bench_nring_want_calls(struct bench_nring *r)
{
	if (r->event_idx)
		store16(r->used_event, r->last_used);
	else
		store16(&r->avail->flags, 0);
	/* Our request before re-reading used idx, or a used element could slip by. */
	atomic_thread_fence(memory_order_seq_cst);
	return load16(&r->used->idx) != r->last_used;
}

void bench_nring_no_calls(struct bench_nring *r)
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
