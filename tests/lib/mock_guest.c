// SPDX-License-Identifier: MIT
/*
 * The fake guest of mock_guest.h: a memfd as guest RAM, the backend's region table
 * over it, and a driver that writes descriptors and ring fields little-endian with
 * the barriers a real driver uses. Test support only; it trusts its callers.
 */
#include "mock_guest.h"

#include <endian.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

unsigned int mock_log_count;
enum vireo_vq_err mock_log_last;

static void mock_die(const char *what)
{
	fprintf(stderr, "mock_guest: %s\n", what);
	abort();
}

static int mock_add_region(struct mock_guest *g, uint64_t off, uint64_t size)
{
	struct vireo_mem_desc d = {
		.gpa = g->gpa + off,
		.size = size,
		.uaddr = MOCK_UVA_BASE + off,
		.mmap_offset = off,
	};
	int fd = dup(g->fd);
	int rc;

	if (fd < 0)
		return -errno;
	rc = vireo_mem_add(&g->mem, &d, fd, NULL);
	if (rc < 0)
		close(fd);
	return rc;
}

int mock_guest_init(struct mock_guest *g, uint64_t gpa, uint64_t size, uint64_t split)
{
	int rc;

	memset(g, 0, sizeof(*g));
	vireo_mem_init(&g->mem);
	g->gpa = gpa;
	g->size = size;
	g->fd = memfd_create("mock-guest-ram", MFD_CLOEXEC);
	if (g->fd < 0)
		return -errno;
	if (ftruncate(g->fd, (off_t)size) < 0) {
		rc = -errno;
		goto out_close;
	}
	g->ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd, 0);
	if (g->ram == MAP_FAILED) {
		rc = -errno;
		goto out_close;
	}
	if (split == 0 || split >= size) {
		rc = mock_add_region(g, 0, size);
	} else {
		rc = mock_add_region(g, 0, split);
		if (rc == 0)
			rc = mock_add_region(g, split, size - split);
	}
	if (rc < 0)
		goto out_unmap;
	return 0;

out_unmap:
	vireo_mem_clear(&g->mem);
	munmap(g->ram, size);
out_close:
	close(g->fd);
	return rc;
}

void mock_guest_fini(struct mock_guest *g)
{
	vireo_mem_clear(&g->mem);
	munmap(g->ram, g->size);
	close(g->fd);
}

void *mock_ptr(struct mock_guest *g, uint64_t gpa)
{
	if (gpa < g->gpa || gpa - g->gpa >= g->size)
		mock_die("mock_ptr: address outside guest RAM");
	return g->ram + (gpa - g->gpa);
}

uint64_t mock_alloc(struct mock_guest *g, uint64_t size, uint64_t align)
{
	uint64_t start = (g->brk + align - 1) & ~(align - 1);

	if (start > g->size || size > g->size - start)
		mock_die("mock_alloc: guest RAM exhausted");
	g->brk = start + size;
	return g->gpa + start;
}

static void mock_put16(struct mock_guest *g, uint64_t gpa, uint16_t v)
{
	/* One untorn store, as a driver's WRITE_ONCE. */
	atomic_store_explicit((_Atomic uint16_t *)mock_ptr(g, gpa), htole16(v),
			      memory_order_relaxed);
}

static uint16_t mock_get16(struct mock_guest *g, uint64_t gpa)
{
	return le16toh(
		atomic_load_explicit((_Atomic uint16_t *)mock_ptr(g, gpa), memory_order_relaxed));
}

void mock_queue_init(struct mock_guest *g, unsigned int qsize)
{
	g->qsize = qsize;
	g->desc_gpa = mock_alloc(g, VIREO_VRING_DESC_BYTES(qsize), 4096);
	g->avail_gpa = mock_alloc(g, VIREO_VRING_AVAIL_BYTES(qsize), 4096);
	g->used_gpa = mock_alloc(g, VIREO_VRING_USED_BYTES(qsize), 4096);
	memset(mock_ptr(g, g->desc_gpa), 0, VIREO_VRING_DESC_BYTES(qsize));
	memset(mock_ptr(g, g->avail_gpa), 0, VIREO_VRING_AVAIL_BYTES(qsize));
	memset(mock_ptr(g, g->used_gpa), 0, VIREO_VRING_USED_BYTES(qsize));
	g->avail_idx = 0;
	g->next_free = 0;
}

/* Translate a ring part through the backend table, whole or not at all. */
static void *mock_ring_host(struct mock_guest *g, uint64_t gpa, uint64_t len)
{
	uint64_t got = len;
	void *p = vireo_mem_gpa_to_host(&g->mem, gpa, &got);

	return p && got == len ? p : NULL;
}

int mock_queue_attach(struct mock_guest *g, struct vireo_vq *vq, uint64_t features,
		      enum vireo_vq_err *why)
{
	void *desc = mock_ring_host(g, g->desc_gpa, VIREO_VRING_DESC_BYTES(g->qsize));
	void *avail = mock_ring_host(g, g->avail_gpa, VIREO_VRING_AVAIL_BYTES(g->qsize));
	void *used = mock_ring_host(g, g->used_gpa, VIREO_VRING_USED_BYTES(g->qsize));

	vireo_vq_init(vq, &g->mem, 0);
	return vireo_vq_setup(vq, g->qsize, desc, avail, used, features, why);
}

static void mock_write_desc(struct mock_guest *g, uint64_t at, uint64_t addr, uint32_t len,
			    uint16_t flags, uint16_t next)
{
	struct vireo_vring_desc d = {
		.addr = htole64(addr),
		.len = htole32(len),
		.flags = htole16(flags),
		.next = htole16(next),
	};

	memcpy(mock_ptr(g, at), &d, sizeof(d));
}

void mock_desc(struct mock_guest *g, uint16_t idx, uint64_t addr, uint32_t len, uint16_t flags,
	       uint16_t next)
{
	if (idx >= g->qsize)
		mock_die("mock_desc: index outside the table");
	mock_write_desc(g, g->desc_gpa + 16u * idx, addr, len, flags, next);
}

void mock_table_desc(struct mock_guest *g, uint64_t table_gpa, uint32_t i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	mock_write_desc(g, table_gpa + 16ull * i, addr, len, flags, next);
}

void mock_avail_set_idx(struct mock_guest *g, uint16_t idx)
{
	/* The driver's barrier before the idx update (virtio 1.2 §2.7.13.3.1). */
	atomic_thread_fence(memory_order_release);
	g->avail_idx = idx;
	mock_put16(g, g->avail_gpa + 2, idx);
}

void mock_avail_add(struct mock_guest *g, uint16_t head)
{
	uint64_t slot = g->avail_gpa + 4 + 2u * (g->avail_idx & (g->qsize - 1));

	mock_put16(g, slot, head);
	mock_avail_set_idx(g, (uint16_t)(g->avail_idx + 1));
}

void mock_set_avail_flags(struct mock_guest *g, uint16_t flags)
{
	mock_put16(g, g->avail_gpa, flags);
}

void mock_set_used_event(struct mock_guest *g, uint16_t event)
{
	mock_put16(g, g->avail_gpa + 4 + 2u * g->qsize, event);
}

void mock_set_used_idx(struct mock_guest *g, uint16_t idx)
{
	mock_put16(g, g->used_gpa + 2, idx);
}

uint16_t mock_used_idx(struct mock_guest *g)
{
	uint16_t idx = mock_get16(g, g->used_gpa + 2);

	/* The driver reads entries only after idx (acquire pairs with the device). */
	atomic_thread_fence(memory_order_acquire);
	return idx;
}

uint16_t mock_used_flags(struct mock_guest *g)
{
	return mock_get16(g, g->used_gpa);
}

uint16_t mock_avail_event(struct mock_guest *g)
{
	return mock_get16(g, g->used_gpa + 4 + 8u * g->qsize);
}

struct vireo_vring_used_elem mock_used_elem(struct mock_guest *g, uint16_t n)
{
	struct vireo_vring_used_elem e;

	memcpy(&e, mock_ptr(g, g->used_gpa + 4 + 8u * (n & (g->qsize - 1))), sizeof(e));
	e.id = le32toh(e.id);
	e.len = le32toh(e.len);
	return e;
}

static uint16_t mock_take_desc(struct mock_guest *g)
{
	uint16_t idx = g->next_free;

	g->next_free = (uint16_t)((g->next_free + 1) & (g->qsize - 1));
	return idx;
}

uint16_t mock_chain(struct mock_guest *g, const struct mock_buf *bufs, unsigned int n)
{
	uint16_t idx = mock_take_desc(g);
	uint16_t head = idx;
	unsigned int i;

	for (i = 0; i < n; i++) {
		bool last = i + 1 == n;
		uint16_t next = last ? 0 : mock_take_desc(g);
		uint16_t flags = (uint16_t)((bufs[i].write ? VIREO_VRING_DESC_F_WRITE : 0) |
					    (last ? 0 : VIREO_VRING_DESC_F_NEXT));

		mock_desc(g, idx, bufs[i].gpa, bufs[i].len, flags, next);
		idx = next;
	}
	mock_avail_add(g, head);
	return head;
}

uint16_t mock_chain_indirect(struct mock_guest *g, const struct mock_buf *bufs, unsigned int n)
{
	uint64_t table = mock_alloc(g, 16ull * n, 16);
	uint16_t head = mock_take_desc(g);
	unsigned int i;

	for (i = 0; i < n; i++) {
		bool last = i + 1 == n;
		uint16_t flags = (uint16_t)((bufs[i].write ? VIREO_VRING_DESC_F_WRITE : 0) |
					    (last ? 0 : VIREO_VRING_DESC_F_NEXT));

		mock_table_desc(g, table, i, bufs[i].gpa, bufs[i].len, flags,
				(uint16_t)(last ? 0 : i + 1));
	}
	mock_desc(g, head, table, 16u * n, VIREO_VRING_DESC_F_INDIRECT, 0);
	mock_avail_add(g, head);
	return head;
}

void mock_packed_init(struct mock_guest *g, unsigned int qsize)
{
	g->qsize = qsize;
	g->desc_gpa = mock_alloc(g, VIREO_VRING_PACKED_DESC_BYTES(qsize), 4096);
	g->avail_gpa = mock_alloc(g, VIREO_VRING_PACKED_EVENT_BYTES, 4096);
	g->used_gpa = mock_alloc(g, VIREO_VRING_PACKED_EVENT_BYTES, 4096);
	memset(mock_ptr(g, g->desc_gpa), 0, VIREO_VRING_PACKED_DESC_BYTES(qsize));
	memset(mock_ptr(g, g->avail_gpa), 0, VIREO_VRING_PACKED_EVENT_BYTES);
	memset(mock_ptr(g, g->used_gpa), 0, VIREO_VRING_PACKED_EVENT_BYTES);
	memset(&g->pk, 0, sizeof(g->pk));
	/* §2.8.1: both wrap counters start at 1. */
	g->pk.avail_wrap = true;
	g->pk.used_wrap = true;
}

int mock_packed_attach(struct mock_guest *g, struct vireo_vq *vq, uint64_t features,
		       enum vireo_vq_err *why)
{
	void *ring = mock_ring_host(g, g->desc_gpa, VIREO_VRING_PACKED_DESC_BYTES(g->qsize));
	void *driver = mock_ring_host(g, g->avail_gpa, VIREO_VRING_PACKED_EVENT_BYTES);
	void *device = mock_ring_host(g, g->used_gpa, VIREO_VRING_PACKED_EVENT_BYTES);

	vireo_vq_fini(vq);
	vireo_vq_init(vq, &g->mem, 0);
	return vireo_vq_setup(vq, g->qsize, ring, driver, device,
			      features | (1ull << VIREO_VIRTIO_F_RING_PACKED), why);
}

/* Write a packed descriptor at @at; its flags separately (last) if @flags_now is false. */
static void mock_write_pdesc(struct mock_guest *g, uint64_t at, uint64_t addr, uint32_t len,
			     uint16_t id, uint16_t flags, bool flags_now)
{
	struct vireo_vring_packed_desc *d = mock_ptr(g, at);

	d->addr = htole64(addr);
	d->len = htole32(len);
	d->id = htole16(id);
	if (flags_now)
		mock_put16(g, at + 14, flags);
}

static uint16_t mock_pk_avail_bits(bool wrap)
{
	/* Available: AVAIL equals the wrap counter, USED does not (§2.8.1). */
	return wrap ? VIREO_VRING_PACKED_DESC_F_AVAIL : VIREO_VRING_PACKED_DESC_F_USED;
}

static void mock_pk_next(struct mock_guest *g)
{
	if (++g->pk.avail_slot == g->qsize) {
		g->pk.avail_slot = 0;
		g->pk.avail_wrap = !g->pk.avail_wrap;
	}
}

void mock_packed_put(struct mock_guest *g, uint64_t addr, uint32_t len, uint16_t id, uint16_t flags)
{
	uint64_t at = g->desc_gpa + 16u * g->pk.avail_slot;

	mock_write_pdesc(g, at, addr, len, id, 0, false);
	atomic_thread_fence(memory_order_release);
	mock_put16(g, at + 14, (uint16_t)(flags | mock_pk_avail_bits(g->pk.avail_wrap)));
	mock_pk_next(g);
}

uint16_t mock_packed_chain(struct mock_guest *g, const struct mock_buf *bufs, unsigned int n,
			   uint16_t id)
{
	uint16_t head = g->pk.avail_slot, head_flags = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint64_t at = g->desc_gpa + 16u * g->pk.avail_slot;
		uint16_t flags = (uint16_t)((bufs[i].write ? VIREO_VRING_DESC_F_WRITE : 0) |
					    (i + 1 < n ? VIREO_VRING_DESC_F_NEXT : 0) |
					    mock_pk_avail_bits(g->pk.avail_wrap));

		mock_write_pdesc(g, at, bufs[i].gpa, bufs[i].len, id, flags, i > 0);
		if (i == 0)
			head_flags = flags;
		mock_pk_next(g);
	}
	/* The driver's barrier, then the first descriptor's flags: the chain is out. */
	atomic_thread_fence(memory_order_release);
	mock_put16(g, g->desc_gpa + 16u * head + 14, head_flags);
	if (id < MOCK_PACKED_IDS)
		g->pk.ndesc[id] = (uint16_t)n;
	return head;
}

void mock_packed_table_desc(struct mock_guest *g, uint64_t table_gpa, uint32_t i, uint64_t addr,
			    uint32_t len, uint16_t flags)
{
	mock_write_pdesc(g, table_gpa + 16ull * i, addr, len, 0, flags, true);
}

uint16_t mock_packed_chain_indirect(struct mock_guest *g, const struct mock_buf *bufs,
				    unsigned int n, uint16_t id)
{
	uint64_t table = mock_alloc(g, 16ull * n, 16);
	uint16_t head = g->pk.avail_slot;

	for (unsigned int i = 0; i < n; i++)
		mock_packed_table_desc(g, table, i, bufs[i].gpa, bufs[i].len,
				       bufs[i].write ? VIREO_VRING_DESC_F_WRITE : 0);
	mock_packed_put(g, table, 16u * n, id, VIREO_VRING_DESC_F_INDIRECT);
	if (id < MOCK_PACKED_IDS)
		g->pk.ndesc[id] = 1;
	return head;
}

bool mock_packed_used(struct mock_guest *g, uint16_t *id, uint32_t *len, uint16_t *flags)
{
	uint64_t at = g->desc_gpa + 16u * g->pk.used_slot;
	uint16_t f = mock_get16(g, at + 14);
	bool avail = f & VIREO_VRING_PACKED_DESC_F_AVAIL, used = f & VIREO_VRING_PACKED_DESC_F_USED;
	const struct vireo_vring_packed_desc *d = mock_ptr(g, at);
	unsigned int n;

	/* §2.8.1: used when AVAIL and USED both equal the driver's used wrap counter. */
	if (avail != g->pk.used_wrap || used != g->pk.used_wrap)
		return false;
	atomic_thread_fence(memory_order_acquire);
	*id = le16toh(d->id);
	*len = le32toh(d->len);
	*flags = f;
	n = *id < MOCK_PACKED_IDS && g->pk.ndesc[*id] ? g->pk.ndesc[*id] : 1;
	g->pk.used_slot = (uint16_t)(g->pk.used_slot + n);
	if (g->pk.used_slot >= g->qsize) {
		g->pk.used_slot = (uint16_t)(g->pk.used_slot - g->qsize);
		g->pk.used_wrap = !g->pk.used_wrap;
	}
	return true;
}

void mock_packed_set_driver_event(struct mock_guest *g, uint16_t flags, uint16_t off_wrap)
{
	mock_put16(g, g->avail_gpa, off_wrap);
	mock_put16(g, g->avail_gpa + 2, flags);
}

uint16_t mock_packed_device_flags(struct mock_guest *g)
{
	return mock_get16(g, g->used_gpa + 2);
}

static void mock_log_hook(unsigned int queue, enum vireo_vq_err why, const char *msg)
{
	(void)queue;
	(void)msg;
	mock_log_count++;
	mock_log_last = why;
}

void mock_log_install(void)
{
	mock_log_count = 0;
	mock_log_last = VIREO_VQ_OK;
	vireo_vq_set_log_hook(mock_log_hook);
}
