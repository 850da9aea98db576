// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/virtqueue/chain.c, through vireo_vq_pop(): a fake guest
 * (tests/lib/mock_guest) builds chains in memfd-backed RAM made of two adjacent
 * regions, and each chain rule is broken on purpose and refused with its own
 * reason. Accepted chains are checked by their bytes: data the guest wrote is read
 * through the readable iovecs, and data written through the writable iovecs is
 * read back from the guest's side of the memfd.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mock_guest.h"

#define RAM_GPA	   0x100000ull
#define RAM_SIZE   0x100000ull
#define RAM_SPLIT  0x80000ull /* second region starts at RAM_GPA + RAM_SPLIT */
#define RAM_LAST   (RAM_GPA + RAM_SIZE - 1)
#define QSIZE	   16
#define F_INDIRECT (1ull << VIREO_VIRTIO_F_INDIRECT_DESC)

#define NEXT  VIREO_VRING_DESC_F_NEXT
#define WRITE VIREO_VRING_DESC_F_WRITE
#define INDIR VIREO_VRING_DESC_F_INDIRECT

struct fx {
	struct mock_guest g;
	struct vireo_vq vq;
	struct iovec iov[64];
	struct vireo_vq_chain chain;
	uint64_t data; /* 16 KiB of buffer space in the first region */
};

static int fx_setup_features(void **state, uint64_t features)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || mock_guest_init(&f->g, RAM_GPA, RAM_SIZE, RAM_SPLIT) < 0)
		return -1;
	mock_queue_init(&f->g, QSIZE);
	if (mock_queue_attach(&f->g, &f->vq, features, NULL) < 0)
		return -1;
	f->data = mock_alloc(&f->g, 0x4000, 4096);
	vireo_vq_chain_init(&f->chain, f->iov, 64);
	mock_log_install();
	*state = f;
	return 0;
}

static int fx_setup(void **state)
{
	return fx_setup_features(state, F_INDIRECT);
}

static int fx_setup_no_indirect(void **state)
{
	return fx_setup_features(state, 0);
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	mock_guest_fini(&f->g);
	free(f);
	return 0;
}

static void pop_ok(struct fx *f)
{
	enum vireo_vq_err why = VIREO_VQ_ERR_MAX;

	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, &why), 1);
	assert_int_equal(why, VIREO_VQ_OK);
}

/* The chain is refused with @reason, the queue latches broken, one report only. */
static void pop_refused(struct fx *f, enum vireo_vq_err reason)
{
	enum vireo_vq_err why = VIREO_VQ_OK;

	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, &why), -EPROTO);
	assert_int_equal(why, reason);
	assert_true(vireo_vq_err_is_guest(reason));
	assert_true(vireo_vq_is_broken(&f->vq, &why));
	assert_int_equal(why, reason);
	assert_int_equal(mock_log_count, 1);
	assert_int_equal(mock_log_last, reason);
	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, &why), -EIO);
	assert_int_equal(why, VIREO_VQ_ERR_BROKEN);
	assert_int_equal(mock_log_count, 1);
}

static void test_direct_single_readable(void **state)
{
	struct fx *f = *state;
	struct mock_buf b = { .gpa = f->data, .len = 5 };
	uint16_t head;

	memcpy(mock_ptr(&f->g, f->data), "hello", 5);
	head = mock_chain(&f->g, &b, 1);
	pop_ok(f);
	assert_int_equal(f->chain.head, head);
	assert_int_equal(f->chain.out_num, 1);
	assert_int_equal(f->chain.in_num, 0);
	assert_int_equal(f->chain.out_len, 5);
	assert_int_equal(f->chain.ndesc, 1);
	assert_int_equal(f->iov[0].iov_len, 5);
	assert_memory_equal(f->iov[0].iov_base, "hello", 5);
	assert_int_equal(vireo_vq_pop(&f->vq, &f->chain, NULL), 0);
}

static void test_direct_readable_then_writable(void **state)
{
	struct fx *f = *state;
	struct mock_buf b[4] = {
		{ .gpa = f->data, .len = 16 },
		{ .gpa = f->data + 0x100, .len = 32 },
		{ .gpa = f->data + 0x200, .len = 8, .write = true },
		{ .gpa = f->data + 0x300, .len = 1, .write = true },
	};
	struct iovec *in;

	memset(mock_ptr(&f->g, f->data + 0x100), 0x42, 32);
	mock_chain(&f->g, b, 4);
	pop_ok(f);
	assert_int_equal(f->chain.out_num, 2);
	assert_int_equal(f->chain.in_num, 2);
	assert_int_equal(f->chain.out_len, 48);
	assert_int_equal(f->chain.in_len, 9);
	assert_int_equal(((uint8_t *)f->iov[1].iov_base)[31], 0x42);

	in = vireo_vq_chain_in_iov(&f->chain);
	assert_ptr_equal(in, &f->iov[2]);
	memcpy(in[0].iov_base, "written!", 8);
	*(uint8_t *)in[1].iov_base = 0x99;
	assert_memory_equal(mock_ptr(&f->g, f->data + 0x200), "written!", 8);
	assert_int_equal(*(uint8_t *)mock_ptr(&f->g, f->data + 0x300), 0x99);
}

static void test_refuse_readable_after_writable(void **state)
{
	struct fx *f = *state;
	struct mock_buf b[2] = {
		{ .gpa = f->data, .len = 16, .write = true },
		{ .gpa = f->data + 0x100, .len = 16 },
	};

	mock_chain(&f->g, b, 2);
	pop_refused(f, VIREO_VQ_ERR_READ_AFTER_WRITE);
}

static void test_refuse_next_out_of_range(void **state)
{
	struct fx *f = *state;

	mock_desc(&f->g, 0, f->data, 16, NEXT, QSIZE);
	mock_avail_add(&f->g, 0);
	pop_refused(f, VIREO_VQ_ERR_NEXT_RANGE);
}

static void test_refuse_loop(void **state)
{
	struct fx *f = *state;

	mock_desc(&f->g, 3, f->data, 16, NEXT, 4);
	mock_desc(&f->g, 4, f->data, 16, NEXT, 3);
	mock_avail_add(&f->g, 3);
	pop_refused(f, VIREO_VQ_ERR_CHAIN_LOOP);
}

static void test_refuse_self_loop(void **state)
{
	struct fx *f = *state;

	mock_desc(&f->g, 7, f->data, 1, NEXT | WRITE, 7);
	mock_avail_add(&f->g, 7);
	pop_refused(f, VIREO_VQ_ERR_CHAIN_LOOP);
}

static void test_chain_as_long_as_queue(void **state)
{
	struct fx *f = *state;
	struct mock_buf b[QSIZE];
	unsigned int i;

	for (i = 0; i < QSIZE; i++)
		b[i] = (struct mock_buf){ .gpa = f->data + 16 * i, .len = 16 };
	mock_chain(&f->g, b, QSIZE);
	pop_ok(f);
	assert_int_equal(f->chain.ndesc, QSIZE);
	assert_int_equal(f->chain.out_num, QSIZE);
	assert_int_equal(f->chain.out_len, 16 * QSIZE);
}

static void test_refuse_buffer_outside_memory(void **state)
{
	struct fx *f = *state;
	struct mock_buf b = { .gpa = RAM_GPA - 0x1000, .len = 16 };

	mock_chain(&f->g, &b, 1);
	pop_refused(f, VIREO_VQ_ERR_DESC_RANGE);
}

static void test_buffer_ending_at_last_byte(void **state)
{
	struct fx *f = *state;
	struct mock_buf b = { .gpa = RAM_LAST - 63, .len = 64, .write = true };

	mock_chain(&f->g, &b, 1);
	pop_ok(f);
	assert_int_equal(f->chain.in_num, 1);
	memset(f->iov[0].iov_base, 0x7e, 64);
	assert_int_equal(*(uint8_t *)mock_ptr(&f->g, RAM_LAST), 0x7e);

	/* One byte longer runs off the end of guest memory. */
	b.len = 65;
	b.gpa = RAM_LAST - 63;
	mock_chain(&f->g, &b, 1);
	pop_refused(f, VIREO_VQ_ERR_DESC_RANGE);
}

static void test_buffer_straddles_regions(void **state)
{
	struct fx *f = *state;
	uint64_t at = RAM_GPA + RAM_SPLIT - 100;
	struct mock_buf b[2] = {
		{ .gpa = at, .len = 200 },
		{ .gpa = at + 0x1000, .len = 200, .write = true },
	};
	uint8_t *src = mock_ptr(&f->g, at);
	struct iovec *in;
	unsigned int i;

	for (i = 0; i < 200; i++)
		src[i] = (uint8_t)i;
	mock_chain(&f->g, b, 2);
	pop_ok(f);
	assert_int_equal(f->chain.out_num, 2);
	assert_int_equal(f->iov[0].iov_len, 100);
	assert_int_equal(f->iov[1].iov_len, 100);
	assert_int_equal(((uint8_t *)f->iov[1].iov_base)[0], 100);
	assert_int_equal(((uint8_t *)f->iov[1].iov_base)[99], 199);

	/* The writable buffer lies wholly in the second region: one iovec. */
	in = vireo_vq_chain_in_iov(&f->chain);
	assert_int_equal(f->chain.in_num, 1);
	memset(in[0].iov_base, 0xab, 200);
	assert_int_equal(*(uint8_t *)mock_ptr(&f->g, at + 0x1000 + 199), 0xab);
}

static void test_zero_length_buffers(void **state)
{
	struct fx *f = *state;

	/* Accepted, no iovec, address not looked at; still counted as descriptors. */
	mock_desc(&f->g, 0, 0xdead00000000ull, 0, NEXT, 1);
	mock_desc(&f->g, 1, f->data, 4, NEXT, 2);
	mock_desc(&f->g, 2, 0, 0, WRITE, 0);
	mock_avail_add(&f->g, 0);
	pop_ok(f);
	assert_int_equal(f->chain.ndesc, 3);
	assert_int_equal(f->chain.out_num, 1);
	assert_int_equal(f->chain.in_num, 0);
	assert_int_equal(f->chain.out_len, 4);

	/* The readable-before-writable order applies to them too. */
	mock_desc(&f->g, 3, f->data, 0, WRITE | NEXT, 4);
	mock_desc(&f->g, 4, f->data, 4, 0, 0);
	mock_avail_add(&f->g, 3);
	pop_refused(f, VIREO_VQ_ERR_READ_AFTER_WRITE);
}

static void test_refuse_too_many_iovecs(void **state)
{
	struct fx *f = *state;
	struct mock_buf b[3] = {
		{ .gpa = f->data, .len = 1 },
		{ .gpa = f->data + 1, .len = 1 },
		{ .gpa = f->data + 2, .len = 1 },
	};

	vireo_vq_chain_init(&f->chain, f->iov, 2);
	mock_chain(&f->g, b, 3);
	pop_refused(f, VIREO_VQ_ERR_IOV_FULL);
}

static void test_refuse_total_over_32_bits(void **state)
{
	struct mock_guest g;
	struct vireo_vq vq;
	struct vireo_vq_chain chain;
	struct iovec iov[8];
	enum vireo_vq_err why;
	uint64_t big;
	struct mock_buf b[2];

	(void)state;
	mock_log_install();
	/* 2 GiB of sparse guest RAM: only the ring pages are ever touched. */
	assert_int_equal(mock_guest_init(&g, 0x100000000ull, 0x80100000ull, 0), 0);
	mock_queue_init(&g, QSIZE);
	assert_int_equal(mock_queue_attach(&g, &vq, 0, NULL), 0);
	big = mock_alloc(&g, 0x80000000ull, 4096);
	vireo_vq_chain_init(&chain, iov, 8);

	/* 2^31 + (2^31 - 1) = 2^32 - 1 bytes: the largest chain allowed. */
	b[0] = (struct mock_buf){ .gpa = big, .len = 0x80000000u };
	b[1] = (struct mock_buf){ .gpa = big, .len = 0x7fffffffu, .write = true };
	mock_chain(&g, b, 2);
	assert_int_equal(vireo_vq_pop(&vq, &chain, &why), 1);
	assert_int_equal(chain.out_len, 0x80000000u);
	assert_int_equal(chain.in_len, 0x7fffffffu);

	/* One byte more does not fit in 32 bits. */
	b[1].len = 0x80000000u;
	mock_chain(&g, b, 2);
	assert_int_equal(vireo_vq_pop(&vq, &chain, &why), -EPROTO);
	assert_int_equal(why, VIREO_VQ_ERR_TOTAL_OVERFLOW);
	mock_guest_fini(&g);
}

static void test_indirect_table(void **state)
{
	struct fx *f = *state;
	struct mock_buf b[3] = {
		{ .gpa = f->data, .len = 6 },
		{ .gpa = f->data + 0x40, .len = 4 },
		{ .gpa = f->data + 0x80, .len = 12, .write = true },
	};
	uint16_t head;

	memcpy(mock_ptr(&f->g, f->data), "header", 6);
	memcpy(mock_ptr(&f->g, f->data + 0x40), "body", 4);
	head = mock_chain_indirect(&f->g, b, 3);
	pop_ok(f);
	assert_int_equal(f->chain.head, head);
	assert_int_equal(f->chain.ndesc, 3);
	assert_int_equal(f->chain.out_num, 2);
	assert_int_equal(f->chain.in_num, 1);
	assert_memory_equal(f->iov[0].iov_base, "header", 6);
	assert_memory_equal(f->iov[1].iov_base, "body", 4);
	memcpy(f->iov[2].iov_base, "status: ok!", 12);
	assert_memory_equal(mock_ptr(&f->g, f->data + 0x80), "status: ok!", 12);
}

static void test_refuse_indirect_not_negotiated(void **state)
{
	struct fx *f = *state;
	struct mock_buf b = { .gpa = f->data, .len = 8 };

	mock_chain_indirect(&f->g, &b, 1);
	pop_refused(f, VIREO_VQ_ERR_INDIRECT_NOT_NEGOTIATED);
}

/* A one-entry table at f->data + 0x1000 holding a readable 8-byte buffer. */
static uint64_t one_entry_table(struct fx *f)
{
	uint64_t table = f->data + 0x1000;

	mock_table_desc(&f->g, table, 0, f->data, 8, 0, 0);
	return table;
}

static void test_refuse_indirect_with_next(void **state)
{
	struct fx *f = *state;

	mock_desc(&f->g, 0, one_entry_table(f), 16, INDIR | NEXT, 1);
	mock_desc(&f->g, 1, f->data, 8, 0, 0);
	mock_avail_add(&f->g, 0);
	pop_refused(f, VIREO_VQ_ERR_INDIRECT_NEXT);
}

static void test_refuse_nested_indirect(void **state)
{
	struct fx *f = *state;
	uint64_t outer = f->data + 0x2000;

	mock_table_desc(&f->g, outer, 0, one_entry_table(f), 16, INDIR, 0);
	mock_desc(&f->g, 0, outer, 16, INDIR, 0);
	mock_avail_add(&f->g, 0);
	pop_refused(f, VIREO_VQ_ERR_INDIRECT_NESTED);
}

static void test_refuse_indirect_len_zero(void **state)
{
	struct fx *f = *state;

	mock_desc(&f->g, 0, one_entry_table(f), 0, INDIR, 0);
	mock_avail_add(&f->g, 0);
	pop_refused(f, VIREO_VQ_ERR_INDIRECT_LEN);
}

static void test_refuse_indirect_len_not_multiple(void **state)
{
	struct fx *f = *state;

	mock_desc(&f->g, 0, one_entry_table(f), 24, INDIR, 0);
	mock_avail_add(&f->g, 0);
	pop_refused(f, VIREO_VQ_ERR_INDIRECT_LEN);
}

static void test_refuse_indirect_outside_memory(void **state)
{
	struct fx *f = *state;

	mock_desc(&f->g, 0, 0x40000000ull, 32, INDIR, 0);
	mock_avail_add(&f->g, 0);
	pop_refused(f, VIREO_VQ_ERR_INDIRECT_RANGE);
}

static void test_refuse_indirect_partly_outside_memory(void **state)
{
	struct fx *f = *state;
	uint64_t table = RAM_LAST + 1 - 16; /* entry 0 inside, entry 1 past the end */

	mock_table_desc(&f->g, table, 0, f->data, 8, 0, 0);
	mock_desc(&f->g, 0, table, 32, INDIR, 0);
	mock_avail_add(&f->g, 0);
	pop_refused(f, VIREO_VQ_ERR_INDIRECT_RANGE);
}

static void test_refuse_indirect_next_out_of_range(void **state)
{
	struct fx *f = *state;
	uint64_t table = f->data + 0x1000;

	mock_table_desc(&f->g, table, 0, f->data, 8, NEXT, 1);
	mock_table_desc(&f->g, table, 1, f->data, 8, NEXT, 2); /* the table has 2 */
	mock_desc(&f->g, 0, table, 32, INDIR, 0);
	mock_avail_add(&f->g, 0);
	pop_refused(f, VIREO_VQ_ERR_INDIRECT_NEXT_RANGE);
}

static void test_refuse_indirect_loop(void **state)
{
	struct fx *f = *state;
	uint64_t table = f->data + 0x1000;

	mock_table_desc(&f->g, table, 0, f->data, 8, NEXT, 1);
	mock_table_desc(&f->g, table, 1, f->data, 8, NEXT, 0);
	mock_desc(&f->g, 0, table, 32, INDIR, 0);
	mock_avail_add(&f->g, 0);
	pop_refused(f, VIREO_VQ_ERR_CHAIN_LOOP);
}

static void test_direct_then_indirect(void **state)
{
	struct fx *f = *state;
	uint64_t table = f->data + 0x1000;

	/* §2.7.5.3.2: normal descriptors followed by a single indirect one. */
	mock_table_desc(&f->g, table, 0, f->data + 0x100, 4, WRITE, 0);
	mock_desc(&f->g, 5, f->data, 8, NEXT, 9);
	mock_desc(&f->g, 9, table, 16, INDIR, 0);
	mock_avail_add(&f->g, 5);
	pop_ok(f);
	assert_int_equal(f->chain.head, 5);
	assert_int_equal(f->chain.ndesc, 2);
	assert_int_equal(f->chain.out_num, 1);
	assert_int_equal(f->chain.in_num, 1);
	assert_int_equal(f->chain.in_len, 4);
}

static void test_indirect_pointer_write_flag_ignored(void **state)
{
	struct fx *f = *state;

	mock_desc(&f->g, 0, one_entry_table(f), 16, INDIR | WRITE, 0);
	mock_avail_add(&f->g, 0);
	pop_ok(f);
	assert_int_equal(f->chain.out_num, 1);
	assert_int_equal(f->chain.in_num, 0);
}

static void test_refuse_readable_indirect_after_writable(void **state)
{
	struct fx *f = *state;

	mock_desc(&f->g, 0, f->data + 0x100, 8, WRITE | NEXT, 1);
	mock_desc(&f->g, 1, one_entry_table(f), 16, INDIR, 0);
	mock_avail_add(&f->g, 0);
	pop_refused(f, VIREO_VQ_ERR_READ_AFTER_WRITE);
}

static void test_indirect_table_straddles_regions(void **state)
{
	struct fx *f = *state;
	uint64_t table = RAM_GPA + RAM_SPLIT - 24; /* entry 1 crosses the boundary */
	uint16_t head;

	mock_table_desc(&f->g, table, 0, f->data, 3, NEXT, 1);
	mock_table_desc(&f->g, table, 1, f->data + 0x10, 2, NEXT, 2);
	mock_table_desc(&f->g, table, 2, f->data + 0x20, 5, WRITE, 0);
	memcpy(mock_ptr(&f->g, f->data), "abc", 3);
	memcpy(mock_ptr(&f->g, f->data + 0x10), "de", 2);
	head = 2;
	mock_desc(&f->g, head, table, 48, INDIR, 0);
	mock_avail_add(&f->g, head);
	pop_ok(f);
	assert_int_equal(f->chain.ndesc, 3);
	assert_int_equal(f->chain.out_len, 5);
	assert_int_equal(f->chain.in_len, 5);
	assert_memory_equal(f->iov[0].iov_base, "abc", 3);
	assert_memory_equal(f->iov[1].iov_base, "de", 2);
}

static void test_indirect_longer_than_queue(void **state)
{
	struct fx *f = *state;
	struct mock_buf b[2 * QSIZE];
	unsigned int i;

	for (i = 0; i < 2 * QSIZE; i++)
		b[i] = (struct mock_buf){ .gpa = f->data + i, .len = 1 };
	mock_chain_indirect(&f->g, b, QSIZE);
	pop_ok(f);
	assert_int_equal(f->chain.ndesc, QSIZE);
	assert_int_equal(f->chain.out_num, QSIZE);

	/* Twice the Queue Size, as a virtio-blk guest with a large seg_max sends. */
	mock_chain_indirect(&f->g, b, 2 * QSIZE);
	pop_ok(f);
	assert_int_equal(f->chain.ndesc, 2 * QSIZE);
	assert_int_equal(f->chain.out_len, 2 * QSIZE);
}

static void test_indirect_table_larger_than_chain(void **state)
{
	struct fx *f = *state;
	uint64_t table = f->data + 0x1000;

	/* 64 entries (more than the queue) of which the chain uses one. */
	mock_table_desc(&f->g, table, 0, f->data, 8, 0, 0);
	mock_desc(&f->g, 0, table, 64 * 16, INDIR, 0);
	mock_avail_add(&f->g, 0);
	pop_ok(f);
	assert_int_equal(f->chain.ndesc, 1);
}

#define T(fn)		  cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
#define T_NO_INDIRECT(fn) cmocka_unit_test_setup_teardown(fn, fx_setup_no_indirect, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_direct_single_readable),
		T(test_direct_readable_then_writable),
		T(test_refuse_readable_after_writable),
		T(test_refuse_next_out_of_range),
		T(test_refuse_loop),
		T(test_refuse_self_loop),
		T(test_chain_as_long_as_queue),
		T(test_refuse_buffer_outside_memory),
		T(test_buffer_ending_at_last_byte),
		T(test_buffer_straddles_regions),
		T(test_zero_length_buffers),
		T(test_refuse_too_many_iovecs),
		cmocka_unit_test(test_refuse_total_over_32_bits),
		T(test_indirect_table),
		T_NO_INDIRECT(test_refuse_indirect_not_negotiated),
		T(test_refuse_indirect_with_next),
		T(test_refuse_nested_indirect),
		T(test_refuse_indirect_len_zero),
		T(test_refuse_indirect_len_not_multiple),
		T(test_refuse_indirect_outside_memory),
		T(test_refuse_indirect_partly_outside_memory),
		T(test_refuse_indirect_next_out_of_range),
		T(test_refuse_indirect_loop),
		T(test_direct_then_indirect),
		T(test_indirect_pointer_write_flag_ignored),
		T(test_refuse_readable_indirect_after_writable),
		T(test_indirect_table_straddles_regions),
		T(test_indirect_longer_than_queue),
		T(test_indirect_table_larger_than_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
