// SPDX-License-Identifier: MIT
/*
 * Fuzz target: a guest's split ring. The input becomes the descriptor table, the
 * available ring and the rest of a small guest RAM (where indirect tables and
 * buffers may point); the device then pops and pushes until the ring is empty or
 * the queue is broken. Every iovec it hands out must lie inside guest RAM.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mock_guest.h"

#define GPA   0x100000ull
#define RAM   (64u * 1024)
#define QSIZE 16

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iovec iov[64];
	struct vireo_vq_chain chain;
	struct vireo_vq vq;
	enum vireo_vq_err why;
	uint8_t *desc, *avail;
	size_t n;

	if (!g_ready) {
		if (mock_guest_init(&g_guest, GPA, RAM, 0) < 0)
			return 0;
		mock_log_install();
		g_ready = true;
	}
	memset(g_guest.ram, 0, RAM);
	g_guest.brk = 0;
	mock_queue_init(&g_guest, QSIZE);
	desc = mock_ptr(&g_guest, g_guest.desc_gpa);
	avail = mock_ptr(&g_guest, g_guest.avail_gpa);

	/* Descriptors, then avail idx + ring, then the data area after the rings. */
	n = size < QSIZE * 16 ? size : QSIZE * 16;
	memcpy(desc, data, n);
	data += n;
	size -= n;
	n = size < 4 + QSIZE * 2 ? size : 4 + QSIZE * 2;
	memcpy(avail, data, n);
	data += n;
	size -= n;
	n = size < RAM - g_guest.brk ? size : RAM - g_guest.brk;
	memcpy(g_guest.ram + g_guest.brk, data, n);

	if (mock_queue_attach(&g_guest, &vq,
			      (1ull << VIREO_VIRTIO_F_INDIRECT_DESC) |
				      (1ull << VIREO_VIRTIO_F_EVENT_IDX),
			      &why) < 0)
		return 0;
	for (int i = 0; i < 4 * QSIZE; i++) {
		vireo_vq_chain_init(&chain, iov, 64);
		if (vireo_vq_pop(&vq, &chain, &why) != 1)
			break;
		check_inside(iov, chain.out_num + chain.in_num);
		if (vireo_vq_push(&vq, chain.head, chain.in_len, &why) < 0)
			break;
		(void)vireo_vq_should_notify(&vq);
	}
	return 0;
}
