// SPDX-License-Identifier: MIT
/*
 * The device side of a split virtqueue: available ring in, used ring out, the
 * notification decisions both ways, and the broken latch. Single-threaded by
 * contract (see split.h); the only concurrency is with the guest, which is handled
 * with C11 fences, each one next to the spec rule it pairs with. Section numbers
 * cite virtio 1.2 §2.7.
 */
#include "virtqueue/split.h"

#include <endian.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

/*
 * Ring fields shared with the guest are accessed as 16-bit atomics so that each
 * read or write is one untorn access the compiler cannot repeat or elide.
 */
_Static_assert(sizeof(_Atomic uint16_t) == sizeof(uint16_t), "atomic u16 has u16 layout");
_Static_assert(ATOMIC_SHORT_LOCK_FREE == 2, "16-bit atomics are lock-free");

static uint16_t vq_load16(const uint16_t *p)
{
	return le16toh(atomic_load_explicit((const _Atomic uint16_t *)p, memory_order_relaxed));
}

static void vq_store16(uint16_t *p, uint16_t v)
{
	atomic_store_explicit((_Atomic uint16_t *)p, htole16(v), memory_order_relaxed);
}

/* used_event sits after the available ring's entries (§2.7.6). */
static const uint16_t *vq_used_event(const struct vireo_vq *vq)
{
	return &vq->avail->ring[vq->size];
}

/* avail_event sits after the used ring's entries (§2.7.8). */
static uint16_t *vq_avail_event(struct vireo_vq *vq)
{
	return (uint16_t *)&vq->used->ring[vq->size];
}

static int vq_refuse(enum vireo_vq_err *why, enum vireo_vq_err err, int rc)
{
	if (why)
		*why = err;
	return rc;
}

/* A guest violation: latch broken and report once; every later call gets -EIO. */
static int vq_fail(struct vireo_vq *vq, enum vireo_vq_err *why, enum vireo_vq_err err)
{
	if (!vq->broken) {
		vq->broken = true;
		vq->broken_why = err;
		vireo_vq_report(vq->index, err, vq->last_avail_idx);
	}
	return vq_refuse(why, err, -EPROTO);
}

static int vq_usable(const struct vireo_vq *vq, enum vireo_vq_err *why)
{
	if (vq->broken)
		return vq_refuse(why, VIREO_VQ_ERR_BROKEN, -EIO);
	if (!vq->ready)
		return vq_refuse(why, VIREO_VQ_ERR_NOT_READY, -EINVAL);
	return 0;
}

/* Chains the guest has made available and we have not taken, or -EPROTO. */
static int vq_pending(struct vireo_vq *vq, enum vireo_vq_err *why)
{
	uint16_t count = (uint16_t)(vq_load16(&vq->avail->idx) - vq->last_avail_idx);

	/*
	 * The ring holds at most size heads (§2.7.13) and idx never goes back
	 * (§2.7.6.1), so a distance above size is a corrupt or hostile idx.
	 */
	if (count > vq->size)
		return vq_fail(vq, why, VIREO_VQ_ERR_AVAIL_JUMP);
	return count;
}

/*
 * Ask for a kick for the next chain, then look again. Publish first, then re-read
 * avail idx behind a full fence: this store-then-load pairs with the driver's
 * barrier between its idx update and its read of flags/avail_event (§2.7.13.4.1).
 * Without it a chain added in between is neither seen nor kicked.
 */
static int vq_arm(struct vireo_vq *vq, enum vireo_vq_err *why)
{
	int rc;

	if (vq->event_idx)
		vq_store16(vq_avail_event(vq), vq->last_avail_idx);
	else
		vq_store16(&vq->used->flags, 0);
	atomic_thread_fence(memory_order_seq_cst);
	rc = vq_pending(vq, why);
	return rc < 0 ? rc : rc > 0;
}

void vireo_vq_init(struct vireo_vq *vq, const struct vireo_mem *mem, unsigned int index)
{
	memset(vq, 0, sizeof(*vq));
	vq->mem = mem;
	vq->index = index;
}

void vireo_vq_reset(struct vireo_vq *vq)
{
	vireo_vq_init(vq, vq->mem, vq->index);
}

int vireo_vq_setup(struct vireo_vq *vq, unsigned int size, const void *desc, const void *avail,
		   void *used, uint64_t features, enum vireo_vq_err *why)
{
	if (vq->broken)
		return vq_refuse(why, VIREO_VQ_ERR_BROKEN, -EIO);
	/* §2.7: Queue Size is a power of 2, at most 32768. */
	if (size == 0 || size > VIREO_VRING_MAX_SIZE || (size & (size - 1)) != 0)
		return vq_refuse(why, VIREO_VQ_ERR_SIZE, -EINVAL);
	if (!desc || !avail || !used)
		return vq_refuse(why, VIREO_VQ_ERR_RING_ADDR, -EINVAL);
	/* §2.7.1 alignments; our atomics need at least the avail/used ones. */
	if ((uintptr_t)desc % VIREO_VRING_DESC_ALIGN != 0 ||
	    (uintptr_t)avail % VIREO_VRING_AVAIL_ALIGN != 0 ||
	    (uintptr_t)used % VIREO_VRING_USED_ALIGN != 0)
		return vq_refuse(why, VIREO_VQ_ERR_RING_ALIGN, -EINVAL);

	vq->size = size;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->indirect = (features >> VIREO_VIRTIO_F_INDIRECT_DESC) & 1;
	vq->event_idx = (features >> VIREO_VIRTIO_F_EVENT_IDX) & 1;
	/* Resume where the used ring stands (reconnect, migration). */
	vq->used_idx = vq_load16(&vq->used->idx);
	vq->notify_off = false;
	vq->signalled_valid = false;
	vq->used_since_check = 0;
	vq->ready = true;
	return vq_refuse(why, VIREO_VQ_OK, 0);
}

int vireo_vq_pop(struct vireo_vq *vq, struct vireo_vq_chain *chain, enum vireo_vq_err *why)
{
	enum vireo_vq_err err;
	uint16_t head;
	int rc;

	rc = vq_usable(vq, why);
	if (rc < 0)
		return rc;
	rc = vq_pending(vq, why);
	/* Empty: with EVENT_IDX make sure the next chain is kicked before sleeping. */
	if (rc == 0 && vq->event_idx && !vq->notify_off)
		rc = vq_arm(vq, why);
	if (rc <= 0)
		return rc < 0 ? rc : vq_refuse(why, VIREO_VQ_OK, 0);

	/*
	 * Acquire: pairs with the driver's barrier before its idx update (§2.7.13.3.1),
	 * so the ring entry and the descriptors it names are read after idx.
	 */
	atomic_thread_fence(memory_order_acquire);
	head = vq_load16(&vq->avail->ring[vq->last_avail_idx & (vq->size - 1)]);
	/* The walk refuses a head >= size (VIREO_VQ_ERR_HEAD_RANGE) and every chain rule. */
	rc = vireo_vq_chain_walk(vq, head, chain, &err);
	if (rc < 0)
		return vq_fail(vq, why, err);

	vq->last_avail_idx++;
	/* §2.7.10: kick me when you make slot last_avail_idx available. */
	if (vq->event_idx && !vq->notify_off)
		vq_store16(vq_avail_event(vq), vq->last_avail_idx);
	return vq_refuse(why, VIREO_VQ_OK, 1);
}

int vireo_vq_unpop(struct vireo_vq *vq, unsigned int n)
{
	/* Every chain taken is pushed exactly once, so this many are still out. */
	uint16_t out = (uint16_t)(vq->last_avail_idx - vq->used_idx);
	int rc;

	rc = vq_usable(vq, NULL);
	if (rc < 0)
		return rc;
	if (n > out)
		return -EINVAL;
	vq->last_avail_idx = (uint16_t)(vq->last_avail_idx - n);
	return 0;
}

int vireo_vq_push_batch(struct vireo_vq *vq, const struct vireo_vq_used *elems, unsigned int n,
			enum vireo_vq_err *why)
{
	uint32_t mask = vq->size - 1;
	unsigned int i;
	int rc;

	rc = vq_usable(vq, why);
	if (rc < 0)
		return rc;
	if (n > vq->size)
		return vq_refuse(why, VIREO_VQ_ERR_USED_ID, -EINVAL);
	/* §2.7.8: id is the head of a chain, so an index into the table. */
	for (i = 0; i < n; i++)
		if (elems[i].head >= vq->size)
			return vq_refuse(why, VIREO_VQ_ERR_USED_ID, -EINVAL);

	for (i = 0; i < n; i++) {
		struct vireo_vring_used_elem *e = &vq->used->ring[(vq->used_idx + i) & mask];

		e->id = htole32(elems[i].head);
		e->len = htole32(elems[i].len);
	}
	/*
	 * Release: the elements, and the bytes the device wrote into the buffers,
	 * are visible before the new idx (§2.7.8.2: len is set prior to idx).
	 */
	atomic_thread_fence(memory_order_release);
	vq->used_idx = (uint16_t)(vq->used_idx + n);
	vq_store16(&vq->used->idx, vq->used_idx);
	vq->used_since_check =
		vq->used_since_check > UINT32_MAX - n ? UINT32_MAX : vq->used_since_check + n;
	return vq_refuse(why, VIREO_VQ_OK, 0);
}

int vireo_vq_push(struct vireo_vq *vq, uint16_t head, uint32_t len, enum vireo_vq_err *why)
{
	struct vireo_vq_used e = { .head = head, .len = len };

	return vireo_vq_push_batch(vq, &e, 1, why);
}

int vireo_vq_should_notify(struct vireo_vq *vq)
{
	uint32_t window;
	uint16_t event;
	bool valid;
	int rc;

	rc = vq_usable(vq, NULL);
	if (rc < 0)
		return rc;
	/*
	 * Full fence: our used idx store must be visible before we read the driver's
	 * suppression fields; pairs with the driver's barrier between re-enabling
	 * notifications and re-checking used idx (§2.7.14). Store then load: seq_cst.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	window = vq->used_since_check;
	valid = vq->signalled_valid;
	vq->used_since_check = 0;
	vq->signalled_valid = true;

	/* §2.7.7.2 without EVENT_IDX: notify unless the driver set NO_INTERRUPT. */
	if (!vq->event_idx)
		return !(vq_load16(&vq->avail->flags) & VIREO_VRING_AVAIL_F_NO_INTERRUPT);
	/* No known window (first call, or the index lapped): notify to be safe. */
	if (!valid || window > UINT16_MAX)
		return 1;
	/*
	 * §2.7.7.2 with EVENT_IDX: notify if the entry at used_event was written
	 * among the window's entries [new - window, new), modulo 2^16
	 * (vring_need_event).
	 */
	event = vq_load16(vq_used_event(vq));
	return (uint16_t)(vq->used_idx - event - 1) < (uint16_t)window;
}

int vireo_vq_disable_notify(struct vireo_vq *vq)
{
	int rc = vq_usable(vq, NULL);

	if (rc < 0)
		return rc;
	vq->notify_off = true;
	/* §2.7.10.2: without EVENT_IDX the flag; with it, avail_event stops moving. */
	if (!vq->event_idx)
		vq_store16(&vq->used->flags, VIREO_VRING_USED_F_NO_NOTIFY);
	return 0;
}

int vireo_vq_enable_notify(struct vireo_vq *vq, enum vireo_vq_err *why)
{
	int rc = vq_usable(vq, why);

	if (rc < 0)
		return rc;
	vq->notify_off = false;
	rc = vq_arm(vq, why);
	return rc < 0 ? rc : vq_refuse(why, VIREO_VQ_OK, rc);
}

int vireo_vq_avail_count(struct vireo_vq *vq, enum vireo_vq_err *why)
{
	int rc = vq_usable(vq, why);

	if (rc < 0)
		return rc;
	rc = vq_pending(vq, why);
	return rc < 0 ? rc : vq_refuse(why, VIREO_VQ_OK, rc);
}

uint16_t vireo_vq_get_base(const struct vireo_vq *vq)
{
	return vq->last_avail_idx;
}

int vireo_vq_set_base(struct vireo_vq *vq, uint16_t base)
{
	if (vq->broken)
		return -EIO;
	vq->last_avail_idx = base;
	vq->signalled_valid = false;
	vq->used_since_check = 0;
	return 0;
}

bool vireo_vq_is_broken(const struct vireo_vq *vq, enum vireo_vq_err *why)
{
	if (vq->broken && why)
		*why = vq->broken_why;
	return vq->broken;
}
