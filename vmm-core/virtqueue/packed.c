// SPDX-License-Identifier: MIT
/*
 * The device side of a packed virtqueue (virtio 1.2 §2.8): one descriptor ring the
 * driver fills in order and the device overwrites in order with used descriptors,
 * two wrap counters instead of indexes, and two event suppression areas. The
 * guest writes the ring concurrently: a descriptor's flags are read once with an
 * atomic load, the rest only after an acquire fence, and each descriptor is
 * copied once before any field is used. Chain rules are chain_priv.h's, shared
 * with split rings.
 *
 * Positions are a slot in [0, size) plus a wrap counter; both counters start at 1
 * (§2.8.1). Where two positions are compared (event suppression) they are made
 * linear modulo 2 * size: slot + (wrap ? 0 : size).
 */
#include "virtqueue/packed.h"

#include <endian.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "virtqueue/chain_priv.h"

/* Buffer ids are 16-bit and chosen by the driver: one slot per possible id. */
#define PK_IDS	   65536u
#define PK_MARK	   (1u << 31) /* id_ndesc: picked for the call in progress */
#define PK_WRAP	   (1u << 15)
#define PK_NO_BASE 0xffffffffu

static uint16_t pk_load16(const uint16_t *p)
{
	return le16toh(atomic_load_explicit((const _Atomic uint16_t *)p, memory_order_relaxed));
}

static void pk_store16(uint16_t *p, uint16_t v)
{
	atomic_store_explicit((_Atomic uint16_t *)p, htole16(v), memory_order_relaxed);
}

static int pk_refuse(enum vireo_vq_err *why, enum vireo_vq_err err, int rc)
{
	if (why)
		*why = err;
	return rc;
}

/* A guest violation: latch broken and report once (as split.c does). */
static int pk_fail(struct vireo_vq *vq, enum vireo_vq_err *why, enum vireo_vq_err err)
{
	if (!vq->broken) {
		vq->broken = true;
		vq->broken_why = err;
		vireo_vq_report(vq->index, err, vq->last_avail_idx);
	}
	return pk_refuse(why, err, -EPROTO);
}

/* §2.8.1: available when AVAIL equals the driver's wrap counter and USED does not. */
static bool pk_is_avail(uint16_t flags, bool wrap)
{
	bool avail = flags & VIREO_VRING_PACKED_DESC_F_AVAIL;
	bool used = flags & VIREO_VRING_PACKED_DESC_F_USED;

	return avail == wrap && used != wrap;
}

static uint16_t pk_flags(const struct vireo_vq *vq, uint32_t slot)
{
	return pk_load16(&vq->ring[slot].flags);
}

/* Move a position n (<= size) slots on, flipping the wrap counter past the end. */
static void pk_advance(const struct vireo_vq *vq, uint16_t *slot, bool *wrap, uint32_t n)
{
	uint32_t s = *slot + n;

	if (s >= vq->size) {
		s -= vq->size;
		*wrap = !*wrap;
	}
	*slot = (uint16_t)s;
}

static uint16_t pk_pos(uint16_t slot, bool wrap)
{
	return (uint16_t)(slot | (wrap ? PK_WRAP : 0));
}

/* A position made linear modulo 2 * size (the first lap has wrap 1). */
static uint32_t pk_linear(const struct vireo_vq *vq, uint16_t slot, bool wrap)
{
	return slot + (wrap ? 0 : vq->size);
}

/* Copy entry idx (< t->count) of a packed table out of guest memory, host order. */
static int pk_read(const struct vireo_vq *vq, const struct chain_table *t, uint32_t idx,
		   struct vireo_vring_packed_desc *d)
{
	uint64_t off = (uint64_t)idx * sizeof(*d);

	if (t->host)
		memcpy(d, t->host + off, sizeof(*d));
	else if (vireo_mem_read(vq->mem, t->gpa + off, d, sizeof(*d), NULL) < 0)
		return -EFAULT;
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->id = le16toh(d->id);
	d->flags = le16toh(d->flags);
	return 0;
}

void vq_packed_free(struct vireo_vq *vq)
{
	free(vq->id_ndesc);
	free(vq->pop_log);
	vq->id_ndesc = NULL;
	vq->pop_log = NULL;
}

/* Nothing in flight: after setup and after a restored base. */
static void pk_forget_inflight(struct vireo_vq *vq)
{
	if (vq->id_ndesc)
		memset(vq->id_ndesc, 0, PK_IDS * sizeof(*vq->id_ndesc));
	vq->inflight = 0;
	vq->inflight_chains = 0;
	vq->pop_next = 0;
	vq->signalled_valid = false;
	vq->used_since_check = 0;
}

int vq_packed_setup(struct vireo_vq *vq, unsigned int size, void *ring, const void *driver,
		    void *device, enum vireo_vq_err *why)
{
	uint32_t *log;

	/* §2.8: Queue Size at most 32768 and need not be a power of 2. */
	if (size == 0 || size > VIREO_VRING_MAX_SIZE)
		return pk_refuse(why, VIREO_VQ_ERR_SIZE, -EINVAL);
	if (!ring || !driver || !device)
		return pk_refuse(why, VIREO_VQ_ERR_RING_ADDR, -EINVAL);
	if ((uintptr_t)ring % VIREO_VRING_PACKED_DESC_ALIGN != 0 ||
	    (uintptr_t)driver % VIREO_VRING_PACKED_EVENT_ALIGN != 0 ||
	    (uintptr_t)device % VIREO_VRING_PACKED_EVENT_ALIGN != 0)
		return pk_refuse(why, VIREO_VQ_ERR_RING_ALIGN, -EINVAL);
	/* A base restored before the rings came must fit them. */
	if (vq->last_avail_idx >= size || vq->used_slot >= size)
		return pk_refuse(why, VIREO_VQ_ERR_BASE, -EINVAL);
	if (!vq->id_ndesc) {
		vq->id_ndesc = calloc(PK_IDS, sizeof(*vq->id_ndesc));
		if (!vq->id_ndesc)
			return pk_refuse(why, VIREO_VQ_ERR_NOMEM, -ENOMEM);
	}
	log = calloc(size, sizeof(*log));
	if (!log)
		return pk_refuse(why, VIREO_VQ_ERR_NOMEM, -ENOMEM);
	free(vq->pop_log);
	vq->pop_log = log;

	vq->size = size;
	vq->ring = ring;
	vq->driver_event = driver;
	vq->device_event = device;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	vq->packed = true;
	vq->used_idx = 0;
	vq->notify_off = false;
	pk_forget_inflight(vq);
	/* We own the device area: start with kicks on, whatever a previous run left. */
	pk_store16(&vq->device_event->off_wrap, 0);
	pk_store16(&vq->device_event->flags, VIREO_VRING_PACKED_EVENT_ENABLE);
	return 0;
}

/* Walk every entry of the indirect table d points at (§2.8.7). */
static int pk_walk_indirect(struct chain_walk *w, const struct vireo_vring_packed_desc *d,
			    enum vireo_vq_err *why)
{
	struct vireo_vring_packed_desc e;
	struct chain_table t;
	int rc;

	rc = vq_chain_enter_indirect(w->vq, d->addr, d->len, &t, why);
	if (rc < 0)
		return rc;
	/*
	 * §2.8.7: the table's entries follow one another (no next); only WRITE is
	 * meaningful in them, and a driver never nests tables: INDIRECT in one is
	 * refused, as for split rings.
	 */
	for (uint32_t i = 0; i < t.count; i++) {
		if (pk_read(w->vq, &t, i, &e) < 0)
			return vq_chain_fail(why, VIREO_VQ_ERR_INDIRECT_RANGE);
		if (e.flags & VIREO_VRING_DESC_F_INDIRECT)
			return vq_chain_fail(why, VIREO_VQ_ERR_INDIRECT_NESTED);
		w->chain->ndesc++;
		rc = vq_chain_add_buffer(w, e.addr, e.len, e.flags & VIREO_VRING_DESC_F_WRITE, why);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * Walk the chain starting at slot (already seen available): consecutive ring
 * slots, wrapping, until a descriptor without NEXT or an indirect one. Sets
 * *nslots to the ring descriptors it spans and *id to the buffer id, which the
 * last descriptor carries (§2.8.6).
 */
static int pk_walk(struct vireo_vq *vq, struct vireo_vq_chain *chain, uint32_t *nslots,
		   uint16_t *id, enum vireo_vq_err *why)
{
	struct chain_table ring = { .host = (const uint8_t *)vq->ring, .count = vq->size };
	struct chain_walk w = { .vq = vq, .chain = chain };
	struct vireo_vring_packed_desc d;
	uint16_t slot = vq->last_avail_idx;
	bool wrap = vq->avail_wrap;
	uint32_t n = 0;
	int rc;

	vq_chain_clear(chain, 0);
	for (;;) {
		(void)pk_read(vq, &ring, slot, &d); /* the ring is mapped: cannot fail */
		/* A chain spans at most Queue Size descriptors (§2.8.6): else a runaway. */
		if (++n > vq->size)
			return vq_chain_fail(why, VIREO_VQ_ERR_CHAIN_LOOP);
		pk_advance(vq, &slot, &wrap, 1);

		if (d.flags & VIREO_VRING_DESC_F_INDIRECT) {
			/* §2.8.7: only with the feature, never together with NEXT. */
			if (!vq->indirect)
				return vq_chain_fail(why, VIREO_VQ_ERR_INDIRECT_NOT_NEGOTIATED);
			if (d.flags & VIREO_VRING_DESC_F_NEXT)
				return vq_chain_fail(why, VIREO_VQ_ERR_INDIRECT_NEXT);
			rc = pk_walk_indirect(&w, &d, why);
			if (rc < 0)
				return rc;
			break;
		}
		chain->ndesc++;
		rc = vq_chain_add_buffer(&w, d.addr, d.len, d.flags & VIREO_VRING_DESC_F_WRITE,
					 why);
		if (rc < 0)
			return rc;
		if (!(d.flags & VIREO_VRING_DESC_F_NEXT))
			break;
	}
	*nslots = n;
	*id = d.id;
	return 0;
}

int vq_packed_pop(struct vireo_vq *vq, struct vireo_vq_chain *chain, enum vireo_vq_err *why)
{
	enum vireo_vq_err err;
	uint32_t n = 0;
	uint16_t id = 0;

	if (!pk_is_avail(pk_flags(vq, vq->last_avail_idx), vq->avail_wrap))
		return pk_refuse(why, VIREO_VQ_OK, 0);
	/*
	 * Acquire: pairs with the driver's barrier before it writes the head's flags
	 * (§2.8.6: a chain's first descriptor is made available last), so the descriptors
	 * read below are the ones it published.
	 */
	atomic_thread_fence(memory_order_acquire);
	if (pk_walk(vq, chain, &n, &id, &err) < 0)
		return pk_fail(vq, why, err);
	/* The driver may reuse only descriptors the device has used. */
	if (vq->inflight + n > vq->size)
		return pk_fail(vq, why, VIREO_VQ_ERR_RING_OVERRUN);
	if (vq->id_ndesc[id])
		return pk_fail(vq, why, VIREO_VQ_ERR_ID_IN_USE);

	vq->pop_log[vq->pop_next] = pk_pos(vq->last_avail_idx, vq->avail_wrap) | (uint32_t)id << 16;
	vq->pop_next = vq->pop_next + 1 == vq->size ? 0 : vq->pop_next + 1;
	vq->id_ndesc[id] = n;
	vq->inflight += n;
	vq->inflight_chains++;
	pk_advance(vq, &vq->last_avail_idx, &vq->avail_wrap, n);
	chain->head = id;
	return pk_refuse(why, VIREO_VQ_OK, 1);
}

int vq_packed_unpop(struct vireo_vq *vq, unsigned int n)
{
	uint32_t e = vq->pop_next;
	unsigned int i;

	if (n > vq->inflight_chains)
		return -EINVAL;
	/* The last n chains taken must all still be out (none pushed since). */
	for (i = 0; i < n; i++) {
		uint16_t id;

		e = e == 0 ? vq->size - 1 : e - 1;
		id = (uint16_t)(vq->pop_log[e] >> 16);
		if (!vq->id_ndesc[id] || (vq->id_ndesc[id] & PK_MARK)) {
			/* Undo the marks of the i entries seen. */
			for (uint32_t k = vq->pop_next; i > 0; i--) {
				k = k == 0 ? vq->size - 1 : k - 1;
				vq->id_ndesc[vq->pop_log[k] >> 16] &= ~PK_MARK;
			}
			return -EINVAL;
		}
		vq->id_ndesc[id] |= PK_MARK;
	}
	for (i = 0; i < n; i++) {
		uint16_t id;

		vq->pop_next = vq->pop_next == 0 ? vq->size - 1 : vq->pop_next - 1;
		id = (uint16_t)(vq->pop_log[vq->pop_next] >> 16);
		vq->inflight -= vq->id_ndesc[id] & ~PK_MARK;
		vq->id_ndesc[id] = 0;
	}
	vq->inflight_chains -= n;
	if (n) {
		uint16_t pos = (uint16_t)vq->pop_log[vq->pop_next];

		vq->last_avail_idx = pos & (PK_WRAP - 1);
		vq->avail_wrap = pos & PK_WRAP;
	}
	return 0;
}

int vq_packed_push_batch(struct vireo_vq *vq, const struct vireo_vq_used *elems, unsigned int n,
			 enum vireo_vq_err *why)
{
	uint16_t slot = vq->used_slot, first_flags = 0;
	bool wrap = vq->used_wrap;
	uint32_t slots = 0;
	unsigned int i;

	if (n > vq->size)
		return pk_refuse(why, VIREO_VQ_ERR_USED_ID, -EINVAL);
	/* Each id must be one taken and not yet used, once: check all before writing. */
	for (i = 0; i < n; i++) {
		uint32_t *st = &vq->id_ndesc[elems[i].head];

		if (*st == 0 || (*st & PK_MARK)) {
			while (i-- > 0)
				vq->id_ndesc[elems[i].head] &= ~PK_MARK;
			return pk_refuse(why, VIREO_VQ_ERR_USED_ID, -EINVAL);
		}
		*st |= PK_MARK;
	}

	/*
	 * Write each used descriptor at the used position (§2.8): id, len, and flags
	 * with AVAIL and USED both equal to the used wrap counter; the next one goes
	 * as many slots on as the chain had descriptors. All but the first get their
	 * flags now; the first one's flags go last, so the driver sees the whole
	 * batch at once.
	 */
	for (i = 0; i < n; i++) {
		struct vireo_vring_packed_desc *d = &vq->ring[slot];
		uint16_t id = elems[i].head;
		uint32_t nd = vq->id_ndesc[id] & ~PK_MARK;
		uint16_t flags =
			wrap ? VIREO_VRING_PACKED_DESC_F_AVAIL | VIREO_VRING_PACKED_DESC_F_USED : 0;

		/* §2.8.4: len counts only with WRITE set. */
		if (elems[i].len)
			flags |= VIREO_VRING_DESC_F_WRITE;
		d->id = htole16(id);
		d->len = htole32(elems[i].len);
		/* Release: id, len and the bytes written into the buffers come first. */
		atomic_thread_fence(memory_order_release);
		if (i == 0)
			first_flags = flags;
		else
			pk_store16(&d->flags, flags);
		vq->id_ndesc[id] = 0;
		vq->inflight -= nd;
		slots += nd;
		pk_advance(vq, &slot, &wrap, nd);
	}
	if (n) {
		atomic_thread_fence(memory_order_release);
		pk_store16(&vq->ring[vq->used_slot].flags, first_flags);
	}
	vq->used_slot = slot;
	vq->used_wrap = wrap;
	vq->inflight_chains -= n;
	vq->used_idx = (uint16_t)(vq->used_idx + n);
	vq->used_since_check = vq->used_since_check > UINT32_MAX - slots
				       ? UINT32_MAX
				       : vq->used_since_check + slots;
	return pk_refuse(why, VIREO_VQ_OK, 0);
}

int vq_packed_should_notify(struct vireo_vq *vq)
{
	uint32_t window, two = 2u * vq->size, now, event;
	uint16_t flags, off_wrap;
	bool valid;

	/*
	 * Full fence: our used descriptors must be visible before we read the
	 * driver's suppression area; pairs with the driver's barrier between
	 * enabling notifications and re-checking the ring (§2.8.10). Store then load.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	window = vq->used_since_check;
	valid = vq->signalled_valid;
	vq->used_since_check = 0;
	vq->signalled_valid = true;

	flags = pk_load16(&vq->driver_event->flags) & VIREO_VRING_PACKED_EVENT_MASK;
	if (flags == VIREO_VRING_PACKED_EVENT_DISABLE)
		return 0;
	/* ENABLE; and DESC without EVENT_IDX or reserved values: notifying is safe. */
	if (flags != VIREO_VRING_PACKED_EVENT_DESC || !vq->event_idx)
		return 1;
	if (!valid || window >= vq->size)
		return 1;
	off_wrap = pk_load16(&vq->driver_event->off_wrap);
	if ((off_wrap & (PK_WRAP - 1)) >= vq->size)
		return 1; /* not a ring position: notify rather than guess */
	/* Notify if the descriptor at off_wrap was written among [now - window, now). */
	now = pk_linear(vq, vq->used_slot, vq->used_wrap);
	event = pk_linear(vq, off_wrap & (PK_WRAP - 1), off_wrap & PK_WRAP);
	return (now + two - event - 1) % two < window;
}

void vq_packed_disable_notify(struct vireo_vq *vq)
{
	vq->notify_off = true;
	pk_store16(&vq->device_event->flags, VIREO_VRING_PACKED_EVENT_DISABLE);
}

int vq_packed_enable_notify(struct vireo_vq *vq)
{
	vq->notify_off = false;
	pk_store16(&vq->device_event->flags, VIREO_VRING_PACKED_EVENT_ENABLE);
	/*
	 * Publish, then look again behind a full fence: a descriptor made available
	 * while kicks were off gets no kick (the driver read DISABLE), so report it.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	return pk_is_avail(pk_flags(vq, vq->last_avail_idx), vq->avail_wrap);
}

int vq_packed_avail_count(struct vireo_vq *vq)
{
	uint16_t slot = vq->last_avail_idx;
	bool wrap = vq->avail_wrap;
	uint32_t free = vq->size - vq->inflight, seen = 0;
	int count = 0;

	/* Count whole chains made available, within the free descriptors; no checks. */
	while (seen < free && pk_is_avail(pk_flags(vq, slot), wrap)) {
		uint16_t flags;

		atomic_thread_fence(memory_order_acquire);
		do {
			flags = pk_flags(vq, slot);
			pk_advance(vq, &slot, &wrap, 1);
			seen++;
		} while ((flags & VIREO_VRING_DESC_F_NEXT) &&
			 !(flags & VIREO_VRING_DESC_F_INDIRECT) && seen < free);
		count++;
	}
	return count;
}

uint32_t vq_packed_get_base(const struct vireo_vq *vq)
{
	return pk_pos(vq->last_avail_idx, vq->avail_wrap) |
	       (uint32_t)pk_pos(vq->used_slot, vq->used_wrap) << 16;
}

int vq_packed_set_base(struct vireo_vq *vq, uint32_t base)
{
	uint16_t avail = (uint16_t)base, used = (uint16_t)(base >> 16);

	/* A frontend that sends only the avail half: nothing was in flight at stop. */
	if (used == 0)
		used = avail;
	if (vq->ready &&
	    ((avail & (PK_WRAP - 1)) >= vq->size || (used & (PK_WRAP - 1)) >= vq->size))
		return -EINVAL;
	vq->last_avail_idx = avail & (PK_WRAP - 1);
	vq->avail_wrap = avail & PK_WRAP;
	vq->used_slot = used & (PK_WRAP - 1);
	vq->used_wrap = used & PK_WRAP;
	pk_forget_inflight(vq);
	return 0;
}
