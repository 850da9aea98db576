// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/vhost-user/inflight.c: region sizes, and recovering a queue
 * from what a killed vireod left in the region (in-flight heads in the order they
 * were taken, a used batch published but not yet cleared, regions that lie).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vhost-user/inflight.h"

#define QSIZE 16

static struct vu_inflight_queue *fresh_queue(struct vu_inflight_region *r, int *fd)
{
	*fd = vu_inflight_create(2, QSIZE, r);
	assert_true(*fd >= 0);
	return vu_inflight_queue_at(r, 1);
}

static void test_sizes_and_mapping(void **state)
{
	struct vu_inflight_region r = { 0 }, back = { 0 };
	struct vu_inflight_queue *q;
	int fd;

	(void)state;
	assert_int_equal(vu_inflight_queue_bytes(QSIZE), 320); /* 16 + 16 * 16, to 64 */
	assert_int_equal(vu_inflight_queue_bytes(2) % 64, 0);
	assert_int_equal(vu_inflight_create(0, QSIZE, &r), -EINVAL);
	assert_int_equal(vu_inflight_create(1, 100, &r), -EINVAL);
	assert_int_equal(vu_inflight_create(1, 65535, &r), -EINVAL);

	q = fresh_queue(&r, &fd);
	q->version = 1;
	q->desc[3].counter = 42;
	assert_null(vu_inflight_queue_at(&r, 2));

	/* What the frontend hands back maps the same bytes (a restarted vireod). */
	assert_int_equal(vu_inflight_map(fd, r.size, 0, 2, QSIZE, &back), 0);
	assert_int_equal(vu_inflight_queue_at(&back, 1)->desc[3].counter, 42);
	vu_inflight_unmap(&back);

	/* Sizes that do not describe our region are refused. */
	assert_int_equal(vu_inflight_map(fd, r.size - 1, 0, 2, QSIZE, &back), -EINVAL);
	assert_int_equal(vu_inflight_map(fd, r.size, 0, 2, 24, &back), -EINVAL);
	assert_int_equal(vu_inflight_map(fd, r.size, 100, 2, QSIZE, &back), -EINVAL);
	vu_inflight_unmap(&r);
	close(fd);
}

static void test_fresh_region_initialised(void **state)
{
	struct vu_inflight_region r = { 0 };
	struct vu_inflight_queue *q;
	uint16_t heads[QSIZE];
	uint64_t counter;
	int fd;

	(void)state;
	q = fresh_queue(&r, &fd);
	assert_int_equal(vu_inflight_recover(q, QSIZE, 7, heads, &counter), 0);
	assert_int_equal(q->version, 1);
	assert_int_equal(q->desc_num, QSIZE);
	assert_int_equal(q->used_idx, 7);
	vu_inflight_unmap(&r);
	close(fd);
}

static void test_resubmit_in_counter_order(void **state)
{
	struct vu_inflight_region r = { 0 };
	struct vu_inflight_queue *q;
	uint16_t heads[QSIZE];
	uint64_t counter;
	int fd;

	(void)state;
	q = fresh_queue(&r, &fd);
	q->version = 1;
	q->desc_num = QSIZE;
	q->used_idx = 20;
	q->desc[3] = (struct vu_inflight_desc){ .inflight = 1, .counter = 7 };
	q->desc[1] = (struct vu_inflight_desc){ .inflight = 1, .counter = 5 };
	q->desc[9] = (struct vu_inflight_desc){ .inflight = 1, .counter = 6 };
	q->desc[4] = (struct vu_inflight_desc){ .inflight = 0, .counter = 9 };
	assert_int_equal(vu_inflight_recover(q, QSIZE, 20, heads, &counter), 3);
	assert_int_equal(heads[0], 1);
	assert_int_equal(heads[1], 9);
	assert_int_equal(heads[2], 3);
	assert_int_equal(counter, 9);
	vu_inflight_unmap(&r);
	close(fd);
}

static void test_half_published_batch_cleared(void **state)
{
	struct vu_inflight_region r = { 0 };
	struct vu_inflight_queue *q;
	uint16_t heads[QSIZE];
	uint64_t counter;
	int fd;

	(void)state;
	q = fresh_queue(&r, &fd);
	q->version = 1;
	q->desc_num = QSIZE;
	/* Heads 2 and 4 made it to the used ring (idx 10 -> 12), but died before clearing. */
	q->used_idx = 10;
	q->last_batch_head = 4;
	q->desc[4] = (struct vu_inflight_desc){ .inflight = 1, .next = 2, .counter = 3 };
	q->desc[2] = (struct vu_inflight_desc){ .inflight = 1, .next = 0, .counter = 2 };
	q->desc[6] = (struct vu_inflight_desc){ .inflight = 1, .counter = 4 };
	assert_int_equal(vu_inflight_recover(q, QSIZE, 12, heads, &counter), 1);
	assert_int_equal(heads[0], 6);
	assert_int_equal(q->desc[4].inflight, 0);
	assert_int_equal(q->desc[2].inflight, 0);
	assert_int_equal(q->used_idx, 12);
	vu_inflight_unmap(&r);
	close(fd);
}

static void test_lying_region_is_bounded(void **state)
{
	struct vu_inflight_region r = { 0 };
	struct vu_inflight_queue *q;
	uint16_t heads[QSIZE];
	uint64_t counter;
	int fd;

	(void)state;
	q = fresh_queue(&r, &fd);
	/* Made for another ring size: reset, nothing resubmitted. */
	q->version = 1;
	q->desc_num = 8;
	q->desc[1].inflight = 1;
	assert_int_equal(vu_inflight_recover(q, QSIZE, 0, heads, &counter), 0);
	assert_int_equal(q->desc_num, QSIZE);

	/* A batch that claims 60000 entries and a next chain that loops or leaves. */
	q->used_idx = 0;
	q->last_batch_head = 5;
	q->desc[5] = (struct vu_inflight_desc){ .inflight = 1, .next = 5, .counter = 1 };
	q->desc[7] = (struct vu_inflight_desc){ .inflight = 1, .next = 0xffff, .counter = 2 };
	q->desc[8] = (struct vu_inflight_desc){ .inflight = 200, .counter = 3 };
	assert_int_equal(vu_inflight_recover(q, QSIZE, 60000, heads, &counter), 1);
	assert_int_equal(heads[0], 7);
	assert_int_equal(q->desc[8].inflight, 0); /* not 1: not in flight */
	q->last_batch_head = 0xfff0;
	q->used_idx = 0;
	assert_int_equal(vu_inflight_recover(q, QSIZE, 3, heads, &counter), 1);
	vu_inflight_unmap(&r);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_and_mapping),
		cmocka_unit_test(test_fresh_region_initialised),
		cmocka_unit_test(test_resubmit_in_counter_order),
		cmocka_unit_test(test_half_published_batch_cleared),
		cmocka_unit_test(test_lying_region_is_bounded),
	};

	return cmocka_run_group_tests_name("vhost-user/inflight", tests, NULL, NULL);
}
