// SPDX-License-Identifier: MIT
/*
 * The in-flight region: creating and mapping it, and recovering a queue after a
 * restart. The frontend may hand back anything, so every size and index read from
 * the region is checked before use.
 */
#include "vhost-user/inflight.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define INFLIGHT_ALIGN	   64u
#define INFLIGHT_MAX_QUEUE 32768u

size_t vu_inflight_queue_bytes(uint16_t queue_size)
{
	size_t bytes = sizeof(struct vu_inflight_queue) +
		       (size_t)queue_size * sizeof(struct vu_inflight_desc);

	return (bytes + INFLIGHT_ALIGN - 1) & ~(size_t)(INFLIGHT_ALIGN - 1);
}

static bool vu_inflight_sizes_ok(uint16_t num_queues, uint16_t queue_size)
{
	return num_queues > 0 && queue_size > 0 && queue_size <= INFLIGHT_MAX_QUEUE &&
	       !(queue_size & (queue_size - 1));
}

int vu_inflight_create(uint16_t num_queues, uint16_t queue_size, struct vu_inflight_region *r)
{
	size_t size;
	int fd, rc;

	if (!vu_inflight_sizes_ok(num_queues, queue_size))
		return -EINVAL;
	size = (size_t)num_queues * vu_inflight_queue_bytes(queue_size);
	fd = memfd_create("vireo-inflight", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		rc = -errno;
		goto out_close_fd;
	}
	/* The size is part of the format: nobody may shrink it under us. */
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW);
	r->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r->base == MAP_FAILED) {
		rc = -errno;
		r->base = NULL;
		goto out_close_fd;
	}
	r->size = size;
	r->num_queues = num_queues;
	r->queue_size = queue_size;
	return fd;

out_close_fd:
	close(fd);
	return rc;
}

int vu_inflight_map(int fd, uint64_t mmap_size, uint64_t mmap_offset, uint16_t num_queues,
		    uint16_t queue_size, struct vu_inflight_region *r)
{
	size_t need;
	void *p;

	if (!vu_inflight_sizes_ok(num_queues, queue_size))
		return -EINVAL;
	need = (size_t)num_queues * vu_inflight_queue_bytes(queue_size);
	if (mmap_size < need || mmap_offset % 4096 != 0)
		return -EINVAL;
	p = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)mmap_offset);
	if (p == MAP_FAILED)
		return -errno;
	r->base = p;
	r->size = need;
	r->num_queues = num_queues;
	r->queue_size = queue_size;
	return 0;
}

void vu_inflight_unmap(struct vu_inflight_region *r)
{
	if (r->base)
		munmap(r->base, r->size);
	memset(r, 0, sizeof(*r));
}

struct vu_inflight_queue *vu_inflight_queue_at(const struct vu_inflight_region *r,
					       unsigned int index)
{
	if (!r->base || index >= r->num_queues)
		return NULL;
	return (struct vu_inflight_queue *)(r->base +
					    index * vu_inflight_queue_bytes(r->queue_size));
}

static int vu_by_counter(const void *a, const void *b, void *arg)
{
	const struct vu_inflight_queue *q = arg;
	uint64_t ca = q->desc[*(const uint16_t *)a].counter;
	uint64_t cb = q->desc[*(const uint16_t *)b].counter;

	return ca < cb ? -1 : ca > cb;
}

unsigned int vu_inflight_recover(struct vu_inflight_queue *q, uint16_t num, uint16_t used_idx,
				 uint16_t *heads, uint64_t *counter)
{
	unsigned int n = 0;
	uint16_t batch, head;

	*counter = 0;
	if (q->version != 1 || q->desc_num != num) {
		/* Fresh, or made for another ring: nothing can be trusted to resubmit. */
		memset(q, 0, sizeof(*q) + (size_t)num * sizeof(q->desc[0]));
		q->version = 1;
		q->desc_num = num;
		q->used_idx = used_idx;
		return 0;
	}
	/*
	 * A used batch was published but we died before clearing its entries: walk
	 * it from last_batch_head through next, at most the batch size and never
	 * outside the table.
	 */
	batch = (uint16_t)(used_idx - q->used_idx);
	head = q->last_batch_head;
	for (uint16_t i = 0; i < batch && i < num && head < num; i++) {
		q->desc[head].inflight = 0;
		head = q->desc[head].next;
	}
	q->used_idx = used_idx;

	for (uint16_t i = 0; i < num; i++) {
		if (q->desc[i].counter > *counter)
			*counter = q->desc[i].counter;
		if (q->desc[i].inflight == 1)
			heads[n++] = i;
		else
			q->desc[i].inflight = 0;
	}
	qsort_r(heads, n, sizeof(heads[0]), vu_by_counter, q);
	return n;
}
