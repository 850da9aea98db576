// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/virtqueue/packed.c through the vireo_vq API, with the
 * fake guest playing a packed driver (virtio 1.2 §2.8): used descriptors read back
 * from the guest's side, laps with both wrap counters flipping, chains crossing
 * the end of the ring, indirect tables, out-of-order completion and batches, unpop,
 * every hostile chain with its named reason and the broken latch, event
 * suppression both ways, and the 32-bit base across a stop and start.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mock_guest.h"

#define RAM_GPA	    0x200000ull
#define RAM_SIZE    0x100000ull
#define QSIZE	    8
#define F_INDIRECT  (1ull << VIREO_VIRTIO_F_INDIRECT_DESC)
#define F_EVENT_IDX (1ull << VIREO_VIRTIO_F_EVENT_IDX)

struct fx {
	struct mock_guest g;
	struct vireo_vq vq;
	struct iovec iov[16];
	struct vireo_vq_chain chain;
	uint64_t data;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || mock_guest_init(&f->g, RAM_GPA, RAM_SIZE, 0) < 0)
		return -1;
	mock_packed_init(&f->g, QSIZE);
	f->data = mock_alloc(&f->g, 0x4000, 4096);
	vireo_vq_chain_init(&f->chain, f->iov, 16);
	mock_log_install();
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	vireo_vq_fini(&f->vq);
	mock_guest_fini(&f->g);
	free(f);
	return 0;
}

static void attach(struct fx *f, uint64_t features)
{
	assert_int_equal(mock_packed_attach(&f->g, &f->vq, features, NULL), 0);
}

/* A chain of n buffers with buffer id: the first readable, the rest writable. */
static uint16_t offer(struct fx *f, unsigned int n, uint16_t id)
{
	struct mock_buf b[4];

	for (unsigned int i = 0; i < n; i++)
		b[i] = (struct mock_buf){ .gpa = f->data + 256 * (id % 32) + 64 * i,
					  .len = 64,
					  .write = i > 0 };
	return mock_packed_chain(&f->g, b, n, id);
}

static void pop_ok(struct fx *f, uint16_t id)
{
	enum vireo_vq_err why;

	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, &why), 1);
	assert_int_equal(why, VIREO_VQ_OK);
	assert_int_equal(f->chain.head, id);
}

static void used_ok(struct fx *f, uint16_t id, uint32_t len)
{
	uint16_t got_id, flags;
	uint32_t got_len;

	/* True only if AVAIL == USED == the wrap counter the driver expects there. */
	assert_true(mock_packed_used(&f->g, &got_id, &got_len, &flags));
	assert_int_equal(got_id, id);
	assert_int_equal(got_len, len);
	assert_int_equal(!!(flags & VIREO_VRING_DESC_F_WRITE), len != 0);
}

static void pop_refused(struct fx *f, enum vireo_vq_err want)
{
	enum vireo_vq_err why;

	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, &why), -EPROTO);
	assert_int_equal(why, want);
	assert_true(vireo_vq_is_broken(&f->vq, &why));
	assert_int_equal(why, want);
	assert_int_equal(mock_log_count, 1);
	assert_int_equal(mock_log_last, want);
	/* The latch: everything refuses until reset. */
	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, &why), -EIO);
	assert_int_equal(why, VIREO_VQ_ERR_BROKEN);
	assert_int_equal(vireo_vq_push(&f->vq, 0, 0, NULL), -EIO);
	assert_int_equal(mock_log_count, 1);
}

static void test_setup_checks(void **state)
{
	struct fx *f = *state;
	void *ring = mock_ptr(&f->g, f->g.desc_gpa);
	void *drv = mock_ptr(&f->g, f->g.avail_gpa);
	void *dev = mock_ptr(&f->g, f->g.used_gpa);
	uint64_t pk = 1ull << VIREO_VIRTIO_F_RING_PACKED;
	enum vireo_vq_err why;

	vireo_vq_init(&f->vq, &f->g.mem, 0);
	assert_int_equal(vireo_vq_setup(&f->vq, 0, ring, drv, dev, pk, &why), -EINVAL);
	assert_int_equal(why, VIREO_VQ_ERR_SIZE);
	assert_int_equal(vireo_vq_setup(&f->vq, 32769, ring, drv, dev, pk, &why), -EINVAL);
	assert_int_equal(vireo_vq_setup(&f->vq, QSIZE, NULL, drv, dev, pk, &why), -EINVAL);
	assert_int_equal(why, VIREO_VQ_ERR_RING_ADDR);
	assert_int_equal(vireo_vq_setup(&f->vq, QSIZE, (char *)ring + 8, drv, dev, pk, &why),
			 -EINVAL);
	assert_int_equal(why, VIREO_VQ_ERR_RING_ALIGN);
	assert_int_equal(vireo_vq_setup(&f->vq, QSIZE, ring, (char *)drv + 2, dev, pk, &why),
			 -EINVAL);
	assert_int_equal(vireo_vq_setup(&f->vq, QSIZE, ring, drv, (char *)dev + 2, pk, &why),
			 -EINVAL);
	/* Packed sizes need not be powers of 2 (§2.8). */
	assert_int_equal(vireo_vq_setup(&f->vq, 7, ring, drv, dev, pk, &why), 0);
	assert_true(f->vq.packed);
	/* The device area starts with kicks enabled; base is slot 0, wrap 1, both ways. */
	assert_int_equal(mock_packed_device_flags(&f->g), VIREO_VRING_PACKED_EVENT_ENABLE);
	assert_int_equal(vireo_vq_get_base(&f->vq), 0x80008000u);
	/* An empty ring: nothing to pop, nothing counted. */
	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, &why), 0);
	assert_int_equal(vireo_vq_avail_count(&f->vq, &why), 0);
}

static void test_pop_push_read_back(void **state)
{
	struct fx *f = *state;
	uint8_t *w;

	attach(f, 0);
	memcpy(mock_ptr(&f->g, f->data + 256 * 7), "ping", 4);
	offer(f, 3, 7);
	pop_ok(f, 7);
	assert_int_equal(f->chain.out_num, 1);
	assert_int_equal(f->chain.in_num, 2);
	assert_int_equal(f->chain.out_len, 64);
	assert_int_equal(f->chain.in_len, 128);
	assert_int_equal(f->chain.ndesc, 3);
	assert_memory_equal(f->iov[0].iov_base, "ping", 4);
	w = vireo_vq_chain_in_iov(&f->chain)->iov_base;
	memcpy(w, "pong", 4);
	assert_int_equal(f->vq.inflight, 3);
	assert_int_equal(vireo_vq_push(&f->vq, 7, 4, NULL), 0);
	assert_int_equal(f->vq.inflight, 0);
	assert_int_equal(f->vq.used_idx, 1);
	used_ok(f, 7, 4);
	/* The used descriptor went at slot 0 and the next one goes 3 slots on. */
	assert_int_equal(f->vq.used_slot, 3);
	assert_int_equal(f->g.pk.used_slot, 3);
	assert_memory_equal(mock_ptr(&f->g, f->data + 256 * 7 + 64), "pong", 4);
	/* A zero-length completion has no WRITE flag (§2.8.4). */
	offer(f, 1, 8);
	pop_ok(f, 8);
	assert_int_equal(vireo_vq_push(&f->vq, 8, 0, NULL), 0);
	used_ok(f, 8, 0);
}

/* Many laps with chains of 1..3 descriptors, so chains cross the end of the ring. */
static void run_laps(struct fx *f, unsigned int chains)
{
	bool crossed = false;

	for (unsigned int i = 0; i < chains; i++) {
		unsigned int n = 1 + i % 3;
		uint16_t id = (uint16_t)(i % 5);
		uint16_t slot = f->g.pk.avail_slot;

		crossed |= slot + n > f->g.qsize;
		offer(f, n, id);
		assert_int_equal(vireo_vq_avail_count(&f->vq, NULL), 1);
		pop_ok(f, id);
		assert_int_equal(f->chain.ndesc, n);
		assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, NULL), 0);
		assert_int_equal(vireo_vq_push(&f->vq, id, 10 + i, NULL), 0);
		used_ok(f, id, 10 + i);
		/* Device and driver agree on where the next used descriptor goes. */
		assert_int_equal(f->vq.used_slot, f->g.pk.used_slot);
		assert_int_equal(f->vq.used_wrap, f->g.pk.used_wrap);
		assert_int_equal(f->vq.last_avail_idx, f->g.pk.avail_slot);
		assert_int_equal(f->vq.avail_wrap, f->g.pk.avail_wrap);
	}
	assert_true(crossed);
	assert_false(vireo_vq_is_broken(&f->vq, NULL));
}

static void test_laps_and_chains_across_the_wrap(void **state)
{
	struct fx *f = *state;

	attach(f, 0);
	run_laps(f, 40); /* 80 descriptors: 10 laps of 8, both counters flip 10 times */
}

static void test_laps_odd_size(void **state)
{
	struct fx *f = *state;

	mock_packed_init(&f->g, 7);
	attach(f, 0);
	run_laps(f, 33);
}

static void test_indirect(void **state)
{
	struct fx *f = *state;
	struct mock_buf b[3] = {
		{ .gpa = f->data, .len = 16 },
		{ .gpa = f->data + 64, .len = 32, .write = true },
		{ .gpa = f->data + 128, .len = 48, .write = true },
	};

	attach(f, F_INDIRECT);
	offer(f, 1, 1);
	mock_packed_chain_indirect(&f->g, b, 3, 2);
	pop_ok(f, 1);
	pop_ok(f, 2);
	assert_int_equal(f->chain.ndesc, 3);
	assert_int_equal(f->chain.out_len, 16);
	assert_int_equal(f->chain.in_len, 80);
	/* The indirect chain took one ring slot. */
	assert_int_equal(f->vq.inflight, 2);
	assert_int_equal(vireo_vq_push(&f->vq, 2, 80, NULL), 0);
	assert_int_equal(vireo_vq_push(&f->vq, 1, 0, NULL), 0);
	used_ok(f, 2, 80);
	used_ok(f, 1, 0);
	assert_int_equal(f->vq.used_slot, 2);
}

static void test_out_of_order_and_batch(void **state)
{
	struct fx *f = *state;
	struct vireo_vq_used batch[2] = { { .head = 30, .len = 3 }, { .head = 10, .len = 1 } };
	struct vireo_vq_used bad[2] = { { .head = 20, .len = 0 }, { .head = 20, .len = 0 } };
	enum vireo_vq_err why;

	attach(f, 0);
	offer(f, 2, 10); /* slots 0-1 */
	offer(f, 1, 20); /* slot 2 */
	offer(f, 3, 30); /* slots 3-5 */
	assert_int_equal(vireo_vq_avail_count(&f->vq, NULL), 3);
	pop_ok(f, 10);
	pop_ok(f, 20);
	pop_ok(f, 30);
	/* Refusals write nothing: an id not taken, the same id twice. */
	assert_int_equal(vireo_vq_push(&f->vq, 99, 0, &why), -EINVAL);
	assert_int_equal(why, VIREO_VQ_ERR_USED_ID);
	assert_int_equal(vireo_vq_push_batch(&f->vq, bad, 2, &why), -EINVAL);
	assert_int_equal(f->vq.used_idx, 0);
	assert_int_equal(f->vq.inflight, 6);
	/* Completion in another order than taken: 20, then 30 and 10 in one batch. */
	assert_int_equal(vireo_vq_push(&f->vq, 20, 2, NULL), 0);
	assert_int_equal(vireo_vq_push_batch(&f->vq, batch, 2, NULL), 0);
	assert_int_equal(f->vq.used_idx, 3);
	used_ok(f, 20, 2);
	used_ok(f, 30, 3);
	used_ok(f, 10, 1);
	assert_int_equal(f->vq.used_slot, 6);
	assert_int_equal(f->g.pk.used_slot, 6);
	/* Pushed already: not again. */
	assert_int_equal(vireo_vq_push(&f->vq, 10, 0, NULL), -EINVAL);
	assert_false(vireo_vq_is_broken(&f->vq, NULL));
	/* Ids are free again: the driver may reuse them, across the wrap. */
	offer(f, 3, 10); /* slots 6, 7, 0 */
	pop_ok(f, 10);
	assert_int_equal(vireo_vq_push(&f->vq, 10, 5, NULL), 0);
	used_ok(f, 10, 5);
}

static void test_unpop(void **state)
{
	struct fx *f = *state;

	attach(f, 0);
	offer(f, 2, 1);
	offer(f, 1, 2);
	offer(f, 3, 3);
	pop_ok(f, 1);
	pop_ok(f, 2);
	pop_ok(f, 3);
	assert_int_equal(vireo_vq_unpop(&f->vq, 4), -EINVAL);
	assert_int_equal(vireo_vq_unpop(&f->vq, 2), 0);
	assert_int_equal(f->vq.inflight, 2);
	assert_int_equal(f->vq.last_avail_idx, 2);
	/* Taken again, in the same order. */
	pop_ok(f, 2);
	pop_ok(f, 3);
	/* A chain pushed since is not given back. */
	assert_int_equal(vireo_vq_push(&f->vq, 3, 0, NULL), 0);
	assert_int_equal(vireo_vq_unpop(&f->vq, 1), -EINVAL);
	assert_int_equal(vireo_vq_push(&f->vq, 2, 0, NULL), 0);
	assert_int_equal(vireo_vq_push(&f->vq, 1, 0, NULL), 0);
	assert_int_equal(vireo_vq_unpop(&f->vq, 1), -EINVAL);
	assert_int_equal(f->vq.inflight, 0);
	assert_false(vireo_vq_is_broken(&f->vq, NULL));
}

static void test_refuse_chain_loop(void **state)
{
	struct fx *f = *state;

	attach(f, 0);
	/* Every slot says NEXT: the chain never ends. */
	for (unsigned int i = 0; i < QSIZE; i++)
		mock_packed_put(&f->g, f->data, 8, 1, VIREO_VRING_DESC_F_NEXT);
	pop_refused(f, VIREO_VQ_ERR_CHAIN_LOOP);
}

static void test_refuse_ring_overrun(void **state)
{
	struct fx *f = *state;

	attach(f, 0);
	offer(f, 3, 1);
	offer(f, 3, 2);
	pop_ok(f, 1);
	pop_ok(f, 2);
	/* Slots 6, 7, 0: slot 0 is still the device's. */
	offer(f, 3, 3);
	pop_refused(f, VIREO_VQ_ERR_RING_OVERRUN);
}

static void test_refuse_id_in_use(void **state)
{
	struct fx *f = *state;

	attach(f, 0);
	offer(f, 1, 5);
	pop_ok(f, 5);
	offer(f, 1, 5);
	pop_refused(f, VIREO_VQ_ERR_ID_IN_USE);
}

static void test_refuse_bad_buffers(void **state)
{
	static const struct {
		uint64_t off; /* from RAM_GPA; ~0: outside */
		uint16_t f1, f2;
		enum vireo_vq_err why;
	} cases[] = {
		{ ~0ull, 0, 0, VIREO_VQ_ERR_DESC_RANGE },
		{ 0, VIREO_VRING_DESC_F_WRITE, 0, VIREO_VQ_ERR_READ_AFTER_WRITE },
	};

	for (unsigned int i = 0; i < 2; i++) {
		struct fx *f = *state;
		uint64_t addr = cases[i].off == ~0ull ? RAM_GPA + RAM_SIZE : f->data;

		mock_log_install();
		mock_packed_init(&f->g, QSIZE);
		attach(f, 0);
		mock_packed_put(&f->g, f->data, 8, 1,
				(uint16_t)(cases[i].f1 | VIREO_VRING_DESC_F_NEXT));
		mock_packed_put(&f->g, addr, 8, 1, cases[i].f2);
		pop_refused(f, cases[i].why);
	}
}

static void test_refuse_too_many_iovecs(void **state)
{
	struct fx *f = *state;
	struct mock_buf b[3] = {
		{ .gpa = f->data, .len = 1 },
		{ .gpa = f->data + 1, .len = 1 },
		{ .gpa = f->data + 2, .len = 1 },
	};

	attach(f, 0);
	vireo_vq_chain_init(&f->chain, f->iov, 2);
	mock_packed_chain(&f->g, b, 3, 0);
	pop_refused(f, VIREO_VQ_ERR_IOV_FULL);
}

static void test_refuse_total_overflow(void **state)
{
	struct mock_guest g;
	struct vireo_vq vq;
	struct vireo_vq_chain chain;
	struct iovec iov[8];
	enum vireo_vq_err why;
	struct mock_buf b[2];
	uint64_t big;

	(void)state;
	mock_log_install();
	/* 2 GiB of sparse guest RAM: only the ring pages are ever touched. */
	assert_int_equal(mock_guest_init(&g, 0x100000000ull, 0x80100000ull, 0), 0);
	mock_packed_init(&g, QSIZE);
	memset(&vq, 0, sizeof(vq));
	assert_int_equal(mock_packed_attach(&g, &vq, 0, NULL), 0);
	big = mock_alloc(&g, 0x80000000ull, 4096);
	vireo_vq_chain_init(&chain, iov, 8);
	b[0] = (struct mock_buf){ .gpa = big, .len = 0x80000000u };
	b[1] = (struct mock_buf){ .gpa = big, .len = 0x7fffffffu, .write = true };
	mock_packed_chain(&g, b, 2, 0);
	assert_int_equal(vireo_vq_pop(&vq, &chain, &why), 1);
	b[1].len = 0x80000000u;
	mock_packed_chain(&g, b, 2, 1);
	assert_int_equal(vireo_vq_pop(&vq, &chain, &why), -EPROTO);
	assert_int_equal(why, VIREO_VQ_ERR_TOTAL_OVERFLOW);
	vireo_vq_fini(&vq);
	mock_guest_fini(&g);
}

static void test_refuse_bad_indirect(void **state)
{
	struct fx *f = *state;
	const uint16_t ind = VIREO_VRING_DESC_F_INDIRECT;
	uint64_t table;

	/* Without the feature. */
	attach(f, 0);
	table = mock_alloc(&f->g, 32, 16);
	mock_packed_table_desc(&f->g, table, 0, f->data, 8, 0);
	mock_packed_table_desc(&f->g, table, 1, f->data, 8, VIREO_VRING_DESC_F_WRITE);
	mock_packed_put(&f->g, table, 32, 1, ind);
	pop_refused(f, VIREO_VQ_ERR_INDIRECT_NOT_NEGOTIATED);

	/* With NEXT. */
	mock_log_install();
	mock_packed_init(&f->g, QSIZE);
	attach(f, F_INDIRECT);
	mock_packed_put(&f->g, table, 32, 1, ind | VIREO_VRING_DESC_F_NEXT);
	mock_packed_put(&f->g, f->data, 8, 1, 0);
	pop_refused(f, VIREO_VQ_ERR_INDIRECT_NEXT);

	/* Length not a multiple of 16, and zero. */
	mock_log_install();
	mock_packed_init(&f->g, QSIZE);
	attach(f, F_INDIRECT);
	mock_packed_put(&f->g, table, 24, 1, ind);
	pop_refused(f, VIREO_VQ_ERR_INDIRECT_LEN);
	mock_log_install();
	mock_packed_init(&f->g, QSIZE);
	attach(f, F_INDIRECT);
	mock_packed_put(&f->g, table, 0, 1, ind);
	pop_refused(f, VIREO_VQ_ERR_INDIRECT_LEN);

	/* Outside guest memory. */
	mock_log_install();
	mock_packed_init(&f->g, QSIZE);
	attach(f, F_INDIRECT);
	mock_packed_put(&f->g, RAM_GPA + RAM_SIZE - 16, 32, 1, ind);
	pop_refused(f, VIREO_VQ_ERR_INDIRECT_RANGE);

	/* Nested. */
	mock_log_install();
	mock_packed_init(&f->g, QSIZE);
	attach(f, F_INDIRECT);
	mock_packed_table_desc(&f->g, table, 1, table, 32, ind);
	mock_packed_put(&f->g, table, 32, 1, ind);
	pop_refused(f, VIREO_VQ_ERR_INDIRECT_NESTED);

	/* Reset clears the latch; the queue works again. */
	vireo_vq_reset(&f->vq);
	mock_log_install();
	mock_packed_init(&f->g, QSIZE);
	attach(f, F_INDIRECT);
	offer(f, 1, 4);
	pop_ok(f, 4);
}

static void test_call_suppression(void **state)
{
	struct fx *f = *state;
	uint32_t base;

	attach(f, F_EVENT_IDX);
	/* ENABLE: every time; DISABLE: never. */
	offer(f, 1, 0);
	pop_ok(f, 0);
	assert_int_equal(vireo_vq_push(&f->vq, 0, 0, NULL), 0);
	assert_int_equal(vireo_vq_should_notify(&f->vq), 1);
	mock_packed_set_driver_event(&f->g, VIREO_VRING_PACKED_EVENT_DISABLE, 0);
	offer(f, 1, 1);
	pop_ok(f, 1);
	assert_int_equal(vireo_vq_push(&f->vq, 1, 0, NULL), 0);
	assert_int_equal(vireo_vq_should_notify(&f->vq), 0);

	/* DESC: notify when the used descriptor at slot 4 (wrap 1) is written. */
	mock_packed_set_driver_event(&f->g, VIREO_VRING_PACKED_EVENT_DESC, 0x8000 | 4);
	offer(f, 2, 2); /* slots 2-3 */
	pop_ok(f, 2);
	assert_int_equal(vireo_vq_push(&f->vq, 2, 0, NULL), 0);
	assert_int_equal(vireo_vq_should_notify(&f->vq), 0);
	offer(f, 1, 3); /* slot 4 */
	offer(f, 1, 4); /* slot 5 */
	pop_ok(f, 3);
	pop_ok(f, 4);
	assert_int_equal(vireo_vq_push(&f->vq, 3, 0, NULL), 0);
	assert_int_equal(vireo_vq_should_notify(&f->vq), 1);
	assert_int_equal(vireo_vq_push(&f->vq, 4, 0, NULL), 0);
	assert_int_equal(vireo_vq_should_notify(&f->vq), 0);

	/* Across the wrap: slot 1 of the next lap (wrap 0), passed by a chain 6..1. */
	mock_packed_set_driver_event(&f->g, VIREO_VRING_PACKED_EVENT_DESC, 1);
	offer(f, 4, 5); /* slots 6, 7, 0, 1 */
	pop_ok(f, 5);
	assert_int_equal(vireo_vq_push(&f->vq, 5, 0, NULL), 0);
	/* The element went at slot 6: slot 1 (next lap) lies inside [6, 10). */
	assert_int_equal(vireo_vq_should_notify(&f->vq), 1);
	/* Same offset, wrong lap (wrap 1 was the past lap): not passed now. */
	mock_packed_set_driver_event(&f->g, VIREO_VRING_PACKED_EVENT_DESC, 0x8000 | 3);
	offer(f, 1, 6); /* slot 2, wrap 0 */
	pop_ok(f, 6);
	assert_int_equal(vireo_vq_push(&f->vq, 6, 0, NULL), 0);
	assert_int_equal(vireo_vq_should_notify(&f->vq), 0);

	/* DESC without EVENT_IDX is not a valid request: notify. */
	base = vireo_vq_get_base(&f->vq);
	attach(f, 0);
	assert_int_equal(vireo_vq_set_base(&f->vq, base), 0);
	offer(f, 1, 7);
	pop_ok(f, 7);
	assert_int_equal(vireo_vq_push(&f->vq, 7, 0, NULL), 0);
	assert_int_equal(vireo_vq_should_notify(&f->vq), 1);
}

static void test_kick_suppression(void **state)
{
	struct fx *f = *state;

	attach(f, 0);
	assert_int_equal(vireo_vq_disable_notify(&f->vq), 0);
	assert_int_equal(mock_packed_device_flags(&f->g), VIREO_VRING_PACKED_EVENT_DISABLE);
	/* Nothing came: enabling says so. */
	assert_int_equal(vireo_vq_enable_notify(&f->vq, NULL), 0);
	assert_int_equal(mock_packed_device_flags(&f->g), VIREO_VRING_PACKED_EVENT_ENABLE);
	/* A chain came while kicks were off: enabling reports it. */
	assert_int_equal(vireo_vq_disable_notify(&f->vq), 0);
	offer(f, 1, 0);
	assert_int_equal(vireo_vq_enable_notify(&f->vq, NULL), 1);
	pop_ok(f, 0);
	assert_int_equal(vireo_vq_enable_notify(&f->vq, NULL), 0);
}

static void test_base_across_stop_start(void **state)
{
	struct fx *f = *state;
	uint32_t base;

	attach(f, 0);
	/* 5 chains of 1..3: 1+2+3+1+2 = 9 descriptors: one lap and slot 1. */
	for (unsigned int i = 0; i < 5; i++) {
		offer(f, 1 + i % 3, (uint16_t)i);
		pop_ok(f, (uint16_t)i);
		assert_int_equal(vireo_vq_push(&f->vq, (uint16_t)i, 0, NULL), 0);
		used_ok(f, (uint16_t)i, 0);
	}
	/* Avail slot 1, wrap 0; used the same. */
	base = vireo_vq_get_base(&f->vq);
	assert_int_equal(base, 0x00010001u);

	/* Stop, start on a new queue (as vhost-user does), restore the base. */
	vireo_vq_fini(&f->vq);
	attach(f, 0);
	assert_int_equal(vireo_vq_get_base(&f->vq), 0x80008000u);
	assert_int_equal(vireo_vq_set_base(&f->vq, base), 0);
	assert_int_equal(vireo_vq_get_base(&f->vq), base);
	run_laps(f, 12);

	/* A frontend sending only the avail half: used is taken equal. */
	base = vireo_vq_get_base(&f->vq);
	attach(f, 0);
	assert_int_equal(vireo_vq_set_base(&f->vq, base & 0xffff), 0);
	assert_int_equal(vireo_vq_get_base(&f->vq), (base & 0xffff) * 0x10001u);
	run_laps(f, 12);

	/* Slots beyond the ring are refused. */
	assert_int_equal(vireo_vq_set_base(&f->vq, 0x8000 | QSIZE), -EINVAL);
	assert_int_equal(vireo_vq_set_base(&f->vq, (uint32_t)(0x8000 | QSIZE) << 16 | 0x8000),
			 -EINVAL);
}

static void test_every_reason_has_a_string(void **state)
{
	(void)state;
	assert_string_not_equal(vireo_vq_err_str(VIREO_VQ_ERR_ID_IN_USE), "unknown reason");
	assert_string_not_equal(vireo_vq_err_str(VIREO_VQ_ERR_RING_OVERRUN), "unknown reason");
	assert_string_not_equal(vireo_vq_err_str(VIREO_VQ_ERR_BASE), "unknown reason");
	assert_true(vireo_vq_err_is_guest(VIREO_VQ_ERR_RING_OVERRUN));
	assert_false(vireo_vq_err_is_guest(VIREO_VQ_ERR_BASE));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_setup_checks),
		T(test_pop_push_read_back),
		T(test_laps_and_chains_across_the_wrap),
		T(test_laps_odd_size),
		T(test_indirect),
		T(test_out_of_order_and_batch),
		T(test_unpop),
		T(test_refuse_chain_loop),
		T(test_refuse_ring_overrun),
		T(test_refuse_id_in_use),
		T(test_refuse_bad_buffers),
		T(test_refuse_too_many_iovecs),
		T(test_refuse_total_overflow),
		T(test_refuse_bad_indirect),
		T(test_call_suppression),
		T(test_kick_suppression),
		T(test_base_across_stop_start),
		T(test_every_reason_has_a_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
