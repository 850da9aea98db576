// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/virtqueue/split.c: ring setup, the available index
 * rules, used elements read back from the guest's side of the memfd, the
 * notification decisions with and without EVENT_IDX (wrapping 65535 -> 0), the
 * avail_event the device publishes, saving/restoring last_avail_idx, giving chains
 * back (unpop), and the broken latch that turns every later call into an error until
 * reset.
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
	mock_queue_init(&f->g, QSIZE);
	f->data = mock_alloc(&f->g, 0x4000, 4096);
	vireo_vq_chain_init(&f->chain, f->iov, 16);
	mock_log_install();
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	mock_guest_fini(&f->g);
	free(f);
	return 0;
}

static void attach(struct fx *f, uint64_t features)
{
	assert_int_equal(mock_queue_attach(&f->g, &f->vq, features, NULL), 0);
}

/* Make a one-buffer chain available: a writable 64-byte buffer at slot i. */
static uint16_t offer(struct fx *f, unsigned int i)
{
	struct mock_buf b = { .gpa = f->data + 64 * (i % 64), .len = 64, .write = true };

	return mock_chain(&f->g, &b, 1);
}

static void push_ok(struct fx *f, uint16_t head, uint32_t len)
{
	assert_int_equal(vireo_vq_push(&f->vq, head, len, NULL), 0);
}

static void test_setup_refuses_bad_sizes(void **state)
{
	static const unsigned int bad[] = { 0, 3, 12, 65536, 32769, 1u << 20 };
	struct fx *f = *state;
	const void *d = mock_ptr(&f->g, f->g.desc_gpa);
	const void *a = mock_ptr(&f->g, f->g.avail_gpa);
	void *u = mock_ptr(&f->g, f->g.used_gpa);
	enum vireo_vq_err why;
	unsigned int i;

	vireo_vq_init(&f->vq, &f->g.mem, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = VIREO_VQ_OK;
		assert_int_equal(vireo_vq_setup(&f->vq, bad[i], d, a, u, 0, &why), -EINVAL);
		assert_int_equal(why, VIREO_VQ_ERR_SIZE);
		assert_false(f->vq.ready);
	}
	/* The extremes that are allowed (setup reads only used->idx). */
	assert_int_equal(vireo_vq_setup(&f->vq, 1, d, a, u, 0, &why), 0);
	assert_int_equal(vireo_vq_setup(&f->vq, 32768, d, a, u, 0, &why), 0);
	assert_true(f->vq.ready);
}

static void test_setup_refuses_null_and_misaligned_rings(void **state)
{
	struct fx *f = *state;
	uint8_t *d = mock_ptr(&f->g, f->g.desc_gpa);
	uint8_t *a = mock_ptr(&f->g, f->g.avail_gpa);
	uint8_t *u = mock_ptr(&f->g, f->g.used_gpa);
	enum vireo_vq_err why;

	vireo_vq_init(&f->vq, &f->g.mem, 0);
	assert_int_equal(vireo_vq_setup(&f->vq, QSIZE, NULL, a, u, 0, &why), -EINVAL);
	assert_int_equal(why, VIREO_VQ_ERR_RING_ADDR);
	assert_int_equal(vireo_vq_setup(&f->vq, QSIZE, d, a, NULL, 0, &why), -EINVAL);
	assert_int_equal(why, VIREO_VQ_ERR_RING_ADDR);
	assert_int_equal(vireo_vq_setup(&f->vq, QSIZE, d + 8, a, u, 0, &why), -EINVAL);
	assert_int_equal(why, VIREO_VQ_ERR_RING_ALIGN);
	assert_int_equal(vireo_vq_setup(&f->vq, QSIZE, d, a + 1, u, 0, &why), -EINVAL);
	assert_int_equal(why, VIREO_VQ_ERR_RING_ALIGN);
	assert_int_equal(vireo_vq_setup(&f->vq, QSIZE, d, a, u + 2, 0, &why), -EINVAL);
	assert_int_equal(why, VIREO_VQ_ERR_RING_ALIGN);
	assert_false(f->vq.ready);
}

static void test_operations_need_rings(void **state)
{
	struct fx *f = *state;
	enum vireo_vq_err why;

	vireo_vq_init(&f->vq, &f->g.mem, 0);
	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, &why), -EINVAL);
	assert_int_equal(why, VIREO_VQ_ERR_NOT_READY);
	assert_int_equal(vireo_vq_push(&f->vq, 0, 0, &why), -EINVAL);
	assert_int_equal(why, VIREO_VQ_ERR_NOT_READY);
	assert_int_equal(vireo_vq_avail_count(&f->vq, &why), -EINVAL);
	assert_int_equal(vireo_vq_should_notify(&f->vq), -EINVAL);
	assert_int_equal(vireo_vq_disable_notify(&f->vq), -EINVAL);
	assert_int_equal(vireo_vq_enable_notify(&f->vq, &why), -EINVAL);
	assert_int_equal(vireo_vq_unpop(&f->vq, 0), -EINVAL);
	assert_false(vireo_vq_is_broken(&f->vq, NULL));
}

static void test_pop_push_used_ring_read_back(void **state)
{
	struct fx *f = *state;
	uint16_t heads[3];
	unsigned int i;

	attach(f, 0);
	for (i = 0; i < 3; i++)
		heads[i] = offer(f, i);
	assert_int_equal(vireo_vq_avail_count(&f->vq, NULL), 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, NULL), 1);
		assert_int_equal(f->chain.head, heads[i]);
		assert_int_equal(f->chain.in_num, 1);
		memset(f->iov[0].iov_base, 0x30 + i, 10 + i);
		push_ok(f, f->chain.head, 10 + i);
	}
	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, NULL), 0);
	assert_int_equal(vireo_vq_avail_count(&f->vq, NULL), 0);
	assert_int_equal(vireo_vq_get_base(&f->vq), 3);

	/* What the guest's driver sees. */
	assert_int_equal(mock_used_idx(&f->g), 3);
	for (i = 0; i < 3; i++) {
		struct vireo_vring_used_elem e = mock_used_elem(&f->g, (uint16_t)i);
		uint8_t *buf = mock_ptr(&f->g, f->data + 64 * i);

		assert_int_equal(e.id, heads[i]);
		assert_int_equal(e.len, 10 + i);
		assert_int_equal(buf[0], 0x30 + i);
		assert_int_equal(buf[9 + i], 0x30 + i);
		assert_int_equal(buf[10 + i], 0);
	}
}

static void test_push_batch_wraps_used_ring(void **state)
{
	struct fx *f = *state;
	struct vireo_vq_used batch[5];
	unsigned int i;

	attach(f, 0);
	for (i = 0; i < 6; i++)
		push_ok(f, (uint16_t)i, i);
	for (i = 0; i < 5; i++)
		batch[i] = (struct vireo_vq_used){ .head = (uint16_t)(7 - i), .len = 100 + i };
	assert_int_equal(vireo_vq_push_batch(&f->vq, batch, 5, NULL), 0);
	assert_int_equal(mock_used_idx(&f->g), 11);
	/* Entries 6..10 sit in slots 6, 7, 0, 1, 2. */
	for (i = 0; i < 5; i++) {
		struct vireo_vring_used_elem e = mock_used_elem(&f->g, (uint16_t)(6 + i));

		assert_int_equal(e.id, 7 - i);
		assert_int_equal(e.len, 100 + i);
	}
}

static void test_push_refuses_bad_id(void **state)
{
	struct fx *f = *state;
	struct vireo_vq_used batch[2] = { { .head = 1, .len = 1 }, { .head = QSIZE, .len = 1 } };
	enum vireo_vq_err why = VIREO_VQ_OK;

	attach(f, 0);
	assert_int_equal(vireo_vq_push(&f->vq, QSIZE, 0, &why), -EINVAL);
	assert_int_equal(why, VIREO_VQ_ERR_USED_ID);
	assert_int_equal(vireo_vq_push_batch(&f->vq, batch, 2, &why), -EINVAL);
	assert_int_equal(why, VIREO_VQ_ERR_USED_ID);
	assert_int_equal(mock_used_elem(&f->g, 0).id, 0); /* nothing written */
	assert_int_equal(vireo_vq_push_batch(&f->vq, batch, QSIZE + 1, &why), -EINVAL);
	assert_int_equal(mock_used_idx(&f->g), 0);
	/* Our own mistake, not the guest's: the queue keeps working. */
	assert_false(vireo_vq_is_broken(&f->vq, NULL));
	push_ok(f, QSIZE - 1, 0);
	assert_int_equal(mock_used_idx(&f->g), 1);
	assert_int_equal(mock_log_count, 0);
}

static void test_avail_idx_may_run_a_full_ring_ahead(void **state)
{
	struct fx *f = *state;
	unsigned int i;

	attach(f, 0);
	for (i = 0; i < QSIZE; i++)
		offer(f, i);
	assert_int_equal(vireo_vq_avail_count(&f->vq, NULL), QSIZE);
	for (i = 0; i < QSIZE; i++)
		assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, NULL), 1);
	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, NULL), 0);
}

static void test_refuse_avail_idx_jump(void **state)
{
	struct fx *f = *state;
	enum vireo_vq_err why;

	attach(f, 0);
	mock_avail_set_idx(&f->g, QSIZE + 1);
	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, &why), -EPROTO);
	assert_int_equal(why, VIREO_VQ_ERR_AVAIL_JUMP);
	assert_true(vireo_vq_is_broken(&f->vq, NULL));
	assert_int_equal(mock_log_last, VIREO_VQ_ERR_AVAIL_JUMP);
}

static void test_avail_count_refuses_backwards_idx(void **state)
{
	struct fx *f = *state;
	enum vireo_vq_err why;

	attach(f, 0);
	assert_int_equal(vireo_vq_set_base(&f->vq, 100), 0);
	mock_avail_set_idx(&f->g, 99); /* "decremented": 65535 ahead */
	assert_int_equal(vireo_vq_avail_count(&f->vq, &why), -EPROTO);
	assert_int_equal(why, VIREO_VQ_ERR_AVAIL_JUMP);
	assert_true(vireo_vq_is_broken(&f->vq, &why));
	assert_int_equal(why, VIREO_VQ_ERR_AVAIL_JUMP);
}

static void test_refuse_head_out_of_range(void **state)
{
	struct fx *f = *state;
	enum vireo_vq_err why;

	attach(f, 0);
	mock_avail_add(&f->g, QSIZE);
	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, &why), -EPROTO);
	assert_int_equal(why, VIREO_VQ_ERR_HEAD_RANGE);
	assert_int_equal(vireo_vq_get_base(&f->vq), 0); /* nothing taken */
}

static void test_broken_latch_until_reset(void **state)
{
	struct fx *f = *state;
	enum vireo_vq_err why;
	uint8_t *d = mock_ptr(&f->g, f->g.desc_gpa);
	uint8_t *a = mock_ptr(&f->g, f->g.avail_gpa);
	uint8_t *u = mock_ptr(&f->g, f->g.used_gpa);

	attach(f, F_EVENT_IDX);
	mock_avail_add(&f->g, QSIZE + 3);
	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, &why), -EPROTO);
	assert_int_equal(mock_log_count, 1);

	/* Every later operation: an error naming the latch, and no new report. */
	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, &why), -EIO);
	assert_int_equal(why, VIREO_VQ_ERR_BROKEN);
	assert_int_equal(vireo_vq_push(&f->vq, 0, 0, &why), -EIO);
	assert_int_equal(why, VIREO_VQ_ERR_BROKEN);
	assert_int_equal(vireo_vq_avail_count(&f->vq, &why), -EIO);
	assert_int_equal(vireo_vq_should_notify(&f->vq), -EIO);
	assert_int_equal(vireo_vq_disable_notify(&f->vq), -EIO);
	assert_int_equal(vireo_vq_enable_notify(&f->vq, &why), -EIO);
	assert_int_equal(vireo_vq_set_base(&f->vq, 5), -EIO);
	assert_int_equal(vireo_vq_unpop(&f->vq, 0), -EIO);
	assert_int_equal(vireo_vq_setup(&f->vq, QSIZE, d, a, u, 0, &why), -EIO);
	assert_int_equal(why, VIREO_VQ_ERR_BROKEN);
	assert_int_equal(vireo_vq_get_base(&f->vq), 0); /* GET_VRING_BASE still answers */
	assert_true(vireo_vq_is_broken(&f->vq, &why));
	assert_int_equal(why, VIREO_VQ_ERR_HEAD_RANGE);
	assert_int_equal(mock_log_count, 1);
	assert_int_equal(mock_used_idx(&f->g), 0);

	/* Reset (the device reset) clears it; a fresh queue works. */
	vireo_vq_reset(&f->vq);
	assert_false(vireo_vq_is_broken(&f->vq, NULL));
	assert_false(f->vq.ready);
	assert_ptr_equal(f->vq.mem, &f->g.mem);
	mock_queue_init(&f->g, QSIZE);
	attach(f, 0);
	offer(f, 0);
	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, NULL), 1);
}

static void test_base_save_restore_across_wrap(void **state)
{
	struct fx *f = *state;
	uint16_t heads[4];
	unsigned int i;

	attach(f, 0);
	/* As after a reconnect: the guest's avail idx and our base are 65534. */
	mock_avail_set_idx(&f->g, 65534);
	assert_int_equal(vireo_vq_set_base(&f->vq, 65534), 0);
	assert_int_equal(vireo_vq_get_base(&f->vq), 65534);
	for (i = 0; i < 4; i++)
		heads[i] = offer(f, i);
	assert_int_equal(f->g.avail_idx, 2); /* wrapped */
	assert_int_equal(vireo_vq_avail_count(&f->vq, NULL), 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, NULL), 1);
		assert_int_equal(f->chain.head, heads[i]);
	}
	assert_int_equal(vireo_vq_get_base(&f->vq), 2);
	assert_int_equal(vireo_vq_avail_count(&f->vq, NULL), 0);
}

static void test_unpop_gives_back_the_last_chains(void **state)
{
	struct fx *f = *state;
	uint16_t heads[4];
	unsigned int i;

	attach(f, 0);
	for (i = 0; i < 4; i++)
		heads[i] = offer(f, i);
	for (i = 0; i < 3; i++)
		assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, NULL), 1);
	push_ok(f, heads[0], 0);
	/* Two are still out: three cannot be given back, and nothing moves. */
	assert_int_equal(vireo_vq_unpop(&f->vq, 3), -EINVAL);
	assert_int_equal(vireo_vq_get_base(&f->vq), 3);
	assert_int_equal(vireo_vq_unpop(&f->vq, 0), 0);
	assert_int_equal(vireo_vq_unpop(&f->vq, 2), 0);
	assert_int_equal(vireo_vq_get_base(&f->vq), 1);
	assert_int_equal(vireo_vq_avail_count(&f->vq, NULL), 3);
	/* Taken again in the order they were first taken, then the one never taken. */
	for (i = 1; i < 4; i++) {
		assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, NULL), 1);
		assert_int_equal(f->chain.head, heads[i]);
		push_ok(f, f->chain.head, 0);
	}
	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, NULL), 0);
	assert_int_equal(vireo_vq_unpop(&f->vq, 1), -EINVAL); /* all pushed */
	assert_int_equal(mock_used_idx(&f->g), 4);
	assert_false(vireo_vq_is_broken(&f->vq, NULL));
}

static void test_unpop_across_wrap_keeps_avail_event(void **state)
{
	struct fx *f = *state;
	uint16_t heads[3];
	unsigned int i;

	/* As after a reconnect at 65534: the used ring stands there too. */
	mock_avail_set_idx(&f->g, 65534);
	mock_set_used_idx(&f->g, 65534);
	attach(f, F_EVENT_IDX);
	assert_int_equal(vireo_vq_set_base(&f->vq, 65534), 0);
	for (i = 0; i < 3; i++)
		heads[i] = offer(f, i);
	for (i = 0; i < 3; i++)
		assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, NULL), 1);
	assert_int_equal(vireo_vq_get_base(&f->vq), 1);
	assert_int_equal(mock_avail_event(&f->g), 1);
	assert_int_equal(vireo_vq_unpop(&f->vq, 3), 0);
	assert_int_equal(vireo_vq_get_base(&f->vq), 65534);
	/* The guest is still asked to kick for the slot after the last chain it made. */
	assert_int_equal(mock_avail_event(&f->g), 1);
	for (i = 0; i < 3; i++) {
		assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, NULL), 1);
		assert_int_equal(f->chain.head, heads[i]);
	}
	assert_int_equal(vireo_vq_unpop(&f->vq, 4), -EINVAL);
}

static void test_notify_without_event_idx(void **state)
{
	struct fx *f = *state;

	attach(f, 0);
	push_ok(f, 0, 1);
	assert_int_equal(vireo_vq_should_notify(&f->vq), 1);
	mock_set_avail_flags(&f->g, VIREO_VRING_AVAIL_F_NO_INTERRUPT);
	mock_set_used_event(&f->g, 1); /* ignored without EVENT_IDX */
	push_ok(f, 1, 1);
	assert_int_equal(vireo_vq_should_notify(&f->vq), 0);
	mock_set_avail_flags(&f->g, 0);
	push_ok(f, 2, 1);
	assert_int_equal(vireo_vq_should_notify(&f->vq), 1);
}

static void test_event_idx_used_event(void **state)
{
	struct fx *f = *state;
	struct vireo_vq_used batch[3] = { { 0, 0 }, { 1, 0 }, { 2, 0 } };

	attach(f, F_EVENT_IDX);
	mock_set_avail_flags(&f->g, VIREO_VRING_AVAIL_F_NO_INTERRUPT); /* ignored */
	mock_set_used_event(&f->g, 7);
	/* Entry 0; the first decision has no window to judge by, so it notifies. */
	push_ok(f, 0, 0);
	assert_int_equal(vireo_vq_should_notify(&f->vq), 1);

	/* "Notify me when entry 2 is written." */
	mock_set_used_event(&f->g, 2);
	push_ok(f, 1, 0);
	assert_int_equal(vireo_vq_should_notify(&f->vq), 0);
	push_ok(f, 2, 0);
	assert_int_equal(vireo_vq_should_notify(&f->vq), 1);
	/* Nothing new since. */
	assert_int_equal(vireo_vq_should_notify(&f->vq), 0);

	/* A batch of entries 3, 4, 5 passes used_event 5. */
	mock_set_used_event(&f->g, 5);
	assert_int_equal(vireo_vq_push_batch(&f->vq, batch, 3, NULL), 0);
	assert_int_equal(vireo_vq_should_notify(&f->vq), 1);
	/* Entries 6, 7, 8 do not reach used_event 10. */
	mock_set_used_event(&f->g, 10);
	assert_int_equal(vireo_vq_push_batch(&f->vq, batch, 3, NULL), 0);
	assert_int_equal(vireo_vq_should_notify(&f->vq), 0);
}

static void test_event_idx_wraps_65535_to_0(void **state)
{
	struct fx *f = *state;

	/* A restored ring whose used idx is 65533. */
	mock_set_used_idx(&f->g, 65533);
	attach(f, F_EVENT_IDX);
	assert_int_equal(f->vq.used_idx, 65533);

	mock_set_used_event(&f->g, 65535);
	push_ok(f, 3, 33); /* entry 65533 */
	assert_int_equal(vireo_vq_should_notify(&f->vq), 1);
	push_ok(f, 4, 34); /* entry 65534 */
	assert_int_equal(vireo_vq_should_notify(&f->vq), 0);
	push_ok(f, 5, 35); /* entry 65535 == used_event */
	assert_int_equal(vireo_vq_should_notify(&f->vq), 1);
	assert_int_equal(mock_used_idx(&f->g), 0);

	mock_set_used_event(&f->g, 0);
	push_ok(f, 6, 36); /* entry 0 == used_event, after the wrap */
	assert_int_equal(vireo_vq_should_notify(&f->vq), 1);
	push_ok(f, 7, 37); /* entry 1 */
	assert_int_equal(vireo_vq_should_notify(&f->vq), 0);

	assert_int_equal(mock_used_idx(&f->g), 2);
	assert_int_equal(mock_used_elem(&f->g, 65535).id, 5);
	assert_int_equal(mock_used_elem(&f->g, 65535).len, 35);
	assert_int_equal(mock_used_elem(&f->g, 0).id, 6);
	assert_int_equal(mock_used_elem(&f->g, 1).len, 37);
}

static void test_event_idx_window_of_65536(void **state)
{
	struct fx *f = *state;
	unsigned int i;

	attach(f, F_EVENT_IDX);
	push_ok(f, 0, 0);
	assert_int_equal(vireo_vq_should_notify(&f->vq), 1);

	/* 65535 entries cover every index but the new used idx itself. */
	mock_set_used_event(&f->g, (uint16_t)(1 + 65535));
	for (i = 0; i < 65535; i++)
		push_ok(f, 0, 0);
	assert_int_equal(vireo_vq_should_notify(&f->vq), 0);

	/* 65536 entries lap the index: used_event was certainly passed. */
	for (i = 0; i < 65536; i++)
		push_ok(f, 0, 0);
	assert_int_equal(vireo_vq_should_notify(&f->vq), 1);
}

static void test_event_idx_publishes_avail_event(void **state)
{
	struct fx *f = *state;
	unsigned int i;

	attach(f, F_EVENT_IDX);
	for (i = 0; i < 3; i++)
		offer(f, i);
	for (i = 1; i <= 3; i++) {
		assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, NULL), 1);
		assert_int_equal(mock_avail_event(&f->g), i);
	}

	/* Across the wrap: base 65535, one chain, avail_event becomes 0. */
	vireo_vq_reset(&f->vq);
	mock_queue_init(&f->g, QSIZE);
	attach(f, F_EVENT_IDX);
	mock_avail_set_idx(&f->g, 65535);
	assert_int_equal(vireo_vq_set_base(&f->vq, 65535), 0);
	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, NULL), 0); /* empty: arms */
	assert_int_equal(mock_avail_event(&f->g), 65535);
	offer(f, 0);
	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, NULL), 1);
	assert_int_equal(mock_avail_event(&f->g), 0);
	assert_int_equal(mock_used_flags(&f->g), 0); /* §2.7.10.2: flags stay 0 */
}

static void test_disable_enable_notify_flags(void **state)
{
	struct fx *f = *state;
	enum vireo_vq_err why;

	attach(f, 0);
	assert_int_equal(vireo_vq_disable_notify(&f->vq), 0);
	assert_int_equal(mock_used_flags(&f->g), VIREO_VRING_USED_F_NO_NOTIFY);
	assert_int_equal(vireo_vq_enable_notify(&f->vq, &why), 0);
	assert_int_equal(mock_used_flags(&f->g), 0);

	/* A chain that arrived while kicks were off is reported by enable. */
	assert_int_equal(vireo_vq_disable_notify(&f->vq), 0);
	offer(f, 0);
	assert_int_equal(vireo_vq_enable_notify(&f->vq, &why), 1);
	assert_int_equal(why, VIREO_VQ_OK);
	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, NULL), 1);
	assert_int_equal(vireo_vq_enable_notify(&f->vq, &why), 0);
}

static void test_disable_enable_notify_event_idx(void **state)
{
	struct fx *f = *state;
	enum vireo_vq_err why;

	attach(f, F_EVENT_IDX);
	assert_int_equal(vireo_vq_disable_notify(&f->vq), 0);
	assert_int_equal(mock_used_flags(&f->g), 0);
	offer(f, 0);
	offer(f, 1);
	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, NULL), 1);
	assert_int_equal(mock_avail_event(&f->g), 0); /* not advanced while off */
	assert_int_equal(vireo_vq_enable_notify(&f->vq, &why), 1);
	assert_int_equal(mock_avail_event(&f->g), 1);
	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, NULL), 1);
	assert_int_equal(mock_avail_event(&f->g), 2);
	assert_int_equal(vireo_vq_enable_notify(&f->vq, &why), 0);
}

static void test_every_reason_has_a_string(void **state)
{
	unsigned int i, j;

	(void)state;
	for (i = 0; i < VIREO_VQ_ERR_MAX; i++) {
		const char *s = vireo_vq_err_str((enum vireo_vq_err)i);

		assert_non_null(s);
		assert_string_not_equal(s, "unknown reason");
		for (j = 0; j < i; j++)
			assert_string_not_equal(s, vireo_vq_err_str((enum vireo_vq_err)j));
	}
	assert_string_equal(vireo_vq_err_str(VIREO_VQ_ERR_MAX), "unknown reason");
	assert_false(vireo_vq_err_is_guest(VIREO_VQ_OK));
	assert_false(vireo_vq_err_is_guest(VIREO_VQ_ERR_USED_ID));
	assert_false(vireo_vq_err_is_guest(VIREO_VQ_ERR_BROKEN));
	assert_true(vireo_vq_err_is_guest(VIREO_VQ_ERR_AVAIL_JUMP));
	assert_true(vireo_vq_err_is_guest(VIREO_VQ_ERR_INDIRECT_NEXT_RANGE));
	assert_false(vireo_vq_err_is_guest(VIREO_VQ_ERR_MAX));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_setup_refuses_bad_sizes),
		T(test_setup_refuses_null_and_misaligned_rings),
		T(test_operations_need_rings),
		T(test_pop_push_used_ring_read_back),
		T(test_push_batch_wraps_used_ring),
		T(test_push_refuses_bad_id),
		T(test_avail_idx_may_run_a_full_ring_ahead),
		T(test_refuse_avail_idx_jump),
		T(test_avail_count_refuses_backwards_idx),
		T(test_refuse_head_out_of_range),
		T(test_broken_latch_until_reset),
		T(test_base_save_restore_across_wrap),
		T(test_unpop_gives_back_the_last_chains),
		T(test_unpop_across_wrap_keeps_avail_event),
		T(test_notify_without_event_idx),
		T(test_event_idx_used_event),
		T(test_event_idx_wraps_65535_to_0),
		T(test_event_idx_window_of_65536),
		T(test_event_idx_publishes_avail_event),
		T(test_disable_enable_notify_flags),
		T(test_disable_enable_notify_event_idx),
		T(test_every_reason_has_a_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
