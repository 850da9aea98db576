// SPDX-License-Identifier: MIT
/*
 * Fuzz target: a guest's packed ring (virtio 1.2 §2.8). The input becomes a saved
 * ring position, the driver event area, the descriptor ring, a few operation bytes
 * and the rest of a small guest RAM (where indirect tables and buffers may point).
 * The device then pops, pushes out of order, gives chains back and decides on
 * notifications until the ring is empty or the queue is broken. Every iovec it
 * hands out must lie inside guest RAM, and it never holds more descriptors than
 * the ring has.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mock_guest.h"

#define GPA   0x100000ull
#define RAM   (64u * 1024)
#define QSIZE 16
#define NOPS  8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mock_guest g_guest;
static bool g_ready;

/* Every byte handed out must be in one of the backend's mappings of guest RAM. */
static void check_inside(const struct iovec *iov, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *p = iov[i].iov_base;
		bool inside = false;

		for (unsigned int r = 0; r < g_guest.mem.nregions; r++) {
			const struct vireo_mem_region *m = &g_guest.mem.regions[r];

			if (p >= m->host && iov[i].iov_len <= m->size &&
			    (size_t)(p - m->host) <= m->size - iov[i].iov_len)
				inside = true;
		}
		if (!inside)
			abort();
	}
}

/* Copy up to cap bytes of the input to dst; returns how many. */
static size_t take(uint8_t *dst, size_t cap, const uint8_t **data, size_t *size)
{
	size_t n = *size < cap ? *size : cap;

	memcpy(dst, *data, n);
	*data += n;
	*size -= n;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t base_le[4] = { 0 }, ops[NOPS] = { 0 };
	uint16_t held[QSIZE];
	unsigned int nheld = 0;
	struct iovec iov[64];
	struct vireo_vq_chain chain;
	struct vireo_vq vq;
	enum vireo_vq_err why;
	uint32_t base;

	if (!g_ready) {
		if (mock_guest_init(&g_guest, GPA, RAM, 0) < 0)
			return 0;
		mock_log_install();
		g_ready = true;
	}
	memset(g_guest.ram, 0, RAM);
	g_guest.brk = 0;
	mock_packed_init(&g_guest, QSIZE);

	take(base_le, sizeof(base_le), &data, &size);
	take(mock_ptr(&g_guest, g_guest.avail_gpa), 4, &data, &size);
	take(mock_ptr(&g_guest, g_guest.desc_gpa), QSIZE * 16, &data, &size);
	take(ops, sizeof(ops), &data, &size);
	take(g_guest.ram + g_guest.brk, RAM - g_guest.brk, &data, &size);

	memset(&vq, 0, sizeof(vq));
	if (mock_packed_attach(&g_guest, &vq,
			       (1ull << VIREO_VIRTIO_F_INDIRECT_DESC) |
				       (1ull << VIREO_VIRTIO_F_EVENT_IDX),
			       &why) < 0)
		goto out;
	/* A restored position (any wrap), unless it does not fit the ring. */
	base = (uint32_t)base_le[0] | (uint32_t)base_le[1] << 8 | (uint32_t)base_le[2] << 16 |
	       (uint32_t)base_le[3] << 24;
	(void)vireo_vq_set_base(&vq, base);

	for (unsigned int i = 0; i < 4 * QSIZE; i++) {
		uint8_t op = ops[i % NOPS];
		int rc;

		(void)vireo_vq_avail_count(&vq, &why);
		if (!(op & 1) || nheld == 0) {
			vireo_vq_chain_init(&chain, iov, 64);
			rc = vireo_vq_pop(&vq, &chain, &why);
			if (rc < 0)
				break;
			if (rc == 1) {
				check_inside(iov, chain.out_num + chain.in_num);
				if (vq.inflight > vq.size)
					abort();
				if (nheld < QSIZE)
					held[nheld++] = chain.head;
				else
					abort(); /* more chains out than descriptors */
				if ((op & 0x80) && vireo_vq_unpop(&vq, 1) == 0)
					nheld--;
				continue;
			}
			if (nheld == 0)
				break;
		}
		/* Complete one held chain, picked by the op byte: out of order. */
		{
			unsigned int k = (op >> 1) % nheld;

			if (vireo_vq_push(&vq, held[k], op & 0x40 ? 0 : 1, &why) < 0)
				abort(); /* every held id was taken and not used */
			held[k] = held[--nheld];
			(void)vireo_vq_should_notify(&vq);
		}
	}
	(void)vireo_vq_get_base(&vq);
out:
	vireo_vq_fini(&vq);
	return 0;
}
