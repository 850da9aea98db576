// SPDX-License-Identifier: MIT
/*
 * Unit tests of tests/bench/ring.c, the driver side of vireo-bench's rings. The
 * test plays the device on the same memory: it reads the available ring and
 * writes used elements, well-formed or not. Covered: the layout's refusals, the
 * prebuilt chains, request headers and data direction, each used-ring refusal
 * (id range, not a head, not in flight, idx ahead), kick suppression with and
 * without EVENT_IDX, asking for and refusing calls, and a run past the 16-bit wrap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

#define GPA    0x100000000ull
#define QSIZE  16u
#define NSLOTS 5u
#define BS     4096u

struct fx {
	struct bench_ring r;
	void *mem;
	uint16_t dev_avail; /* the fake device's next available slot */
	uint16_t dev_used;  /* the fake device's used idx */
};

static int fx_open(struct fx *f, bool event_idx)
{
	struct bench_ring_layout lay;

	memset(f, 0, sizeof(*f));
	if (bench_ring_layout(QSIZE, NSLOTS, BS, &lay) < 0)
		return -1;
	f->mem = aligned_alloc(4096, lay.bytes);
	if (!f->mem)
		return -1;
	memset(f->mem, 0xee, lay.bytes);
	return bench_ring_init(&f->r, f->mem, GPA, QSIZE, NSLOTS, BS, event_idx);
}

static int setup(void **state)
{
	struct fx *f = malloc(sizeof(*f));

	if (!f || fx_open(f, false) < 0)
		return -1;
	*state = f;
	return 0;
}

static int setup_event_idx(void **state)
{
	struct fx *f = malloc(sizeof(*f));

	if (!f || fx_open(f, true) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	bench_ring_fini(&f->r);
	free(f->mem);
	free(f);
	return 0;
}

static uint8_t *host(struct fx *f, uint64_t gpa)
{
	return (uint8_t *)f->mem + (gpa - GPA);
}

/* Device: take the next available head (the test knows one is there). */
static uint16_t dev_pop(struct fx *f)
{
	assert_true(f->dev_avail != le16toh(f->r.avail->idx));
	return le16toh(f->r.avail->ring[f->dev_avail++ % QSIZE]);
}

/* Device: write the status byte of the chain at @head and return it. */
static void dev_complete(struct fx *f, uint32_t id, uint32_t len, uint8_t status)
{
	if (id % 3 == 0 && id / 3 < NSLOTS) {
		const struct vireo_vring_desc *st = &f->r.desc[id + 2];

		*host(f, le64toh(st->addr)) = status;
	}
	f->r.used->ring[f->dev_used % QSIZE].id = htole32(id);
	f->r.used->ring[f->dev_used % QSIZE].len = htole32(len);
	f->dev_used++;
	f->r.used->idx = htole16(f->dev_used);
}

static int next(struct fx *f, struct bench_done *d, enum bench_ring_err *why)
{
	return bench_ring_next(&f->r, d, why);
}

static void test_layout_refusals(void **state)
{
	struct bench_ring_layout lay;

	(void)state;
	assert_int_equal(bench_ring_layout(0, 1, BS, &lay), -EINVAL);
	assert_int_equal(bench_ring_layout(24, 1, BS, &lay), -EINVAL);
	assert_int_equal(bench_ring_layout(65536, 1, BS, &lay), -EINVAL);
	assert_int_equal(bench_ring_layout(16, 6, BS, &lay), -EINVAL); /* 18 descriptors */
	assert_int_equal(bench_ring_layout(16, 0, BS, &lay), -EINVAL);
	assert_int_equal(bench_ring_layout(16, 5, 0, &lay), -EINVAL);
	assert_int_equal(bench_ring_layout(16, 5, 512, &lay), 0);
	assert_int_equal(lay.data % 4096, 0);
	assert_int_equal(lay.data_stride, 4096);
	assert_true(lay.used >= lay.avail + VIREO_VRING_AVAIL_BYTES(16));
	assert_true(lay.hdrs >= lay.used + VIREO_VRING_USED_BYTES(16));
}

static void test_chains_are_prebuilt(void **state)
{
	struct fx *f = *state;

	for (unsigned int i = 0; i < NSLOTS; i++) {
		const struct vireo_vring_desc *d = &f->r.desc[3 * i];

		assert_int_equal(le32toh(d[0].len), 16);
		assert_int_equal(le16toh(d[0].flags), VIREO_VRING_DESC_F_NEXT);
		assert_int_equal(le16toh(d[0].next), 3 * i + 1);
		assert_int_equal(le32toh(d[1].len), BS);
		assert_int_equal(le16toh(d[1].next), 3 * i + 2);
		assert_ptr_equal(host(f, le64toh(d[1].addr)), bench_ring_data(&f->r, i));
		assert_int_equal(le64toh(d[1].addr) % 4096, 0);
		assert_int_equal(le32toh(d[2].len), 1);
		assert_int_equal(le16toh(d[2].flags), VIREO_VRING_DESC_F_WRITE);
		assert_int_equal(le64toh(d[2].addr), le64toh(d[0].addr) + 16);
	}
	assert_int_equal(f->r.avail->idx, 0);
	assert_int_equal(f->r.used->idx, 0);
}

static void test_read_round_trip(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_outhdr hdr;
	enum bench_ring_err why;
	struct bench_done d;
	uint16_t head;

	bench_ring_submit(&f->r, 2, VIRTIO_BLK_T_IN, 777, 1000);
	assert_int_equal(f->r.avail->idx, 0); /* not visible before publish */
	assert_true(bench_ring_publish(&f->r));
	assert_false(bench_ring_publish(&f->r)); /* nothing new: no kick */
	head = dev_pop(f);
	assert_int_equal(head, 6);
	memcpy(&hdr, host(f, le64toh(f->r.desc[head].addr)), sizeof(hdr));
	assert_int_equal(le32toh(hdr.type), VIRTIO_BLK_T_IN);
	assert_int_equal(le64toh(hdr.sector), 777);
	assert_int_equal(le16toh(f->r.desc[head + 1].flags),
			 VIREO_VRING_DESC_F_NEXT | VIREO_VRING_DESC_F_WRITE);
	assert_int_equal(*host(f, le64toh(f->r.desc[head + 2].addr)), 0xff);
	assert_int_equal(next(f, &d, &why), 0);

	dev_complete(f, head, BS + 1, VIRTIO_BLK_S_OK);
	assert_int_equal(next(f, &d, &why), 1);
	assert_int_equal(d.slot, 2);
	assert_int_equal(d.status, VIRTIO_BLK_S_OK);
	assert_int_equal(d.len, BS + 1);
	assert_int_equal(d.submit_ns, 1000);
	assert_int_equal(f->r.inflight, 0);
	assert_int_equal(next(f, &d, &why), 0);
}

static void test_write_direction_and_status(void **state)
{
	struct fx *f = *state;
	enum bench_ring_err why;
	struct bench_done d;
	uint16_t head;

	bench_ring_submit(&f->r, 0, VIRTIO_BLK_T_OUT, 8, 5);
	bench_ring_publish(&f->r);
	head = dev_pop(f);
	assert_int_equal(le16toh(f->r.desc[head + 1].flags), VIREO_VRING_DESC_F_NEXT);
	dev_complete(f, head, 1, VIRTIO_BLK_S_IOERR);
	assert_int_equal(next(f, &d, &why), 1);
	assert_int_equal(d.status, VIRTIO_BLK_S_IOERR);
}

static void test_refuses_id_out_of_range(void **state)
{
	struct fx *f = *state;
	enum bench_ring_err why;
	struct bench_done d;

	bench_ring_submit(&f->r, 0, VIRTIO_BLK_T_IN, 0, 0);
	bench_ring_publish(&f->r);
	dev_complete(f, QSIZE, BS + 1, 0);
	assert_int_equal(next(f, &d, &why), -EPROTO);
	assert_int_equal(why, BENCH_RING_ERR_ID_RANGE);
}

static void test_refuses_non_head(void **state)
{
	struct fx *f = *state;
	enum bench_ring_err why;
	struct bench_done d;

	bench_ring_submit(&f->r, 0, VIRTIO_BLK_T_IN, 0, 0);
	bench_ring_submit(&f->r, 1, VIRTIO_BLK_T_IN, 0, 0);
	bench_ring_publish(&f->r);
	dev_complete(f, 1, BS + 1, 0); /* the data descriptor of slot 0 */
	assert_int_equal(next(f, &d, &why), -EPROTO);
	assert_int_equal(why, BENCH_RING_ERR_NOT_HEAD);
	assert_string_equal(bench_ring_err_str(why),
			    "used element id is not the head of a request");
}

static void test_refuses_head_past_slots(void **state)
{
	struct fx *f = *state;
	enum bench_ring_err why;
	struct bench_done d;

	bench_ring_submit(&f->r, 0, VIRTIO_BLK_T_IN, 0, 0);
	bench_ring_publish(&f->r);
	dev_complete(f, 3 * NSLOTS, BS + 1, 0); /* id 15: in the ring, no slot */
	assert_int_equal(next(f, &d, &why), -EPROTO);
	assert_int_equal(why, BENCH_RING_ERR_NOT_HEAD);
}

static void test_refuses_double_completion(void **state)
{
	struct fx *f = *state;
	enum bench_ring_err why;
	struct bench_done d;

	bench_ring_submit(&f->r, 0, VIRTIO_BLK_T_IN, 0, 0);
	bench_ring_submit(&f->r, 1, VIRTIO_BLK_T_IN, 0, 0);
	bench_ring_publish(&f->r);
	dev_complete(f, 0, BS + 1, 0);
	dev_complete(f, 0, BS + 1, 0);
	assert_int_equal(next(f, &d, &why), 1);
	assert_int_equal(next(f, &d, &why), -EPROTO);
	assert_int_equal(why, BENCH_RING_ERR_NOT_BUSY);
}

static void test_refuses_never_submitted(void **state)
{
	struct fx *f = *state;
	enum bench_ring_err why;
	struct bench_done d;

	bench_ring_submit(&f->r, 0, VIRTIO_BLK_T_IN, 0, 0);
	bench_ring_publish(&f->r);
	dev_complete(f, 3, BS + 1, 0); /* slot 1 is idle */
	assert_int_equal(next(f, &d, &why), -EPROTO);
	assert_int_equal(why, BENCH_RING_ERR_NOT_BUSY);
}

static void test_refuses_used_idx_ahead(void **state)
{
	struct fx *f = *state;
	enum bench_ring_err why;
	struct bench_done d;

	bench_ring_submit(&f->r, 0, VIRTIO_BLK_T_IN, 0, 0);
	bench_ring_publish(&f->r);
	f->r.used->idx = htole16(2);
	assert_int_equal(next(f, &d, &why), -EPROTO);
	assert_int_equal(why, BENCH_RING_ERR_IDX_AHEAD);
}

static void test_kick_suppressed_by_no_notify(void **state)
{
	struct fx *f = *state;

	f->r.used->flags = htole16(VIREO_VRING_USED_F_NO_NOTIFY);
	bench_ring_submit(&f->r, 0, VIRTIO_BLK_T_IN, 0, 0);
	assert_false(bench_ring_publish(&f->r));
	assert_int_equal(le16toh(f->r.avail->idx), 1);
}

static void test_calls_without_event_idx(void **state)
{
	struct fx *f = *state;

	bench_ring_no_calls(&f->r);
	assert_int_equal(le16toh(f->r.avail->flags), VIREO_VRING_AVAIL_F_NO_INTERRUPT);
	assert_false(bench_ring_want_calls(&f->r));
	assert_int_equal(le16toh(f->r.avail->flags), 0);
	bench_ring_submit(&f->r, 0, VIRTIO_BLK_T_IN, 0, 0);
	bench_ring_publish(&f->r);
	dev_complete(f, dev_pop(f), BS + 1, 0);
	assert_true(bench_ring_want_calls(&f->r)); /* a completion slipped in: reap */
}

static void test_event_idx_kicks(void **state)
{
	struct fx *f = *state;

	*f->r.avail_event = htole16(0);
	bench_ring_submit(&f->r, 0, VIRTIO_BLK_T_IN, 0, 0);
	assert_true(bench_ring_publish(&f->r)); /* 0 -> 1 crosses avail_event 0 */
	*f->r.avail_event = htole16(5);
	bench_ring_submit(&f->r, 1, VIRTIO_BLK_T_IN, 0, 0);
	assert_false(bench_ring_publish(&f->r)); /* 1 -> 2: the device is not waiting */
	bench_ring_submit(&f->r, 2, VIRTIO_BLK_T_IN, 0, 0);
	bench_ring_submit(&f->r, 3, VIRTIO_BLK_T_IN, 0, 0);
	bench_ring_submit(&f->r, 4, VIRTIO_BLK_T_IN, 0, 0);
	*f->r.avail_event = htole16(2);
	assert_true(bench_ring_publish(&f->r)); /* 2 -> 5 crosses 2 */
}

static void test_event_idx_calls(void **state)
{
	struct fx *f = *state;
	enum bench_ring_err why;
	struct bench_done d;

	bench_ring_submit(&f->r, 0, VIRTIO_BLK_T_IN, 0, 0);
	bench_ring_publish(&f->r);
	dev_complete(f, dev_pop(f), BS + 1, 0);
	assert_int_equal(next(f, &d, &why), 1);
	assert_false(bench_ring_want_calls(&f->r));
	assert_int_equal(le16toh(*f->r.used_event), 1);
	bench_ring_no_calls(&f->r);
	assert_int_equal(le16toh(*f->r.used_event), 0x8001);
	assert_int_equal(le16toh(f->r.avail->flags), 0); /* EVENT_IDX: the flag is unused */
}

static void test_need_event_wraps(void **state)
{
	(void)state;
	assert_true(bench_need_event(65535, 0, 65535));
	assert_true(bench_need_event(65535, 1, 65534));
	assert_false(bench_need_event(1, 1, 0));
	assert_true(bench_need_event(0, 1, 0));
	assert_false(bench_need_event(3, 2, 65530));
}

/* 70000 requests through a queue of 16: every index wraps at least once. */
static void test_run_past_wrap(void **state)
{
	struct fx *f = *state;
	enum bench_ring_err why;
	struct bench_done d;
	uint64_t done = 0;

	for (unsigned int s = 0; s < NSLOTS; s++)
		bench_ring_submit(&f->r, s, VIRTIO_BLK_T_IN, s, s);
	bench_ring_publish(&f->r);
	while (done < 70000) {
		uint16_t head = dev_pop(f);

		dev_complete(f, head, BS + 1, 0);
		assert_int_equal(next(f, &d, &why), 1);
		assert_int_equal(d.slot, head / 3);
		done++;
		bench_ring_submit(&f->r, d.slot, VIRTIO_BLK_T_IN, done, done);
		bench_ring_publish(&f->r);
	}
	assert_int_equal(f->r.inflight, NSLOTS);
	assert_int_equal(f->r.avail_idx, (uint16_t)(70000 + NSLOTS));
	assert_int_equal(f->r.last_used, (uint16_t)70000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_refusals),
		cmocka_unit_test_setup_teardown(test_chains_are_prebuilt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_direction_and_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_id_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_non_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_head_past_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_double_completion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_never_submitted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_used_idx_ahead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kick_suppressed_by_no_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_calls_without_event_idx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx_kicks, setup_event_idx, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx_calls, setup_event_idx, teardown),
		cmocka_unit_test(test_need_event_wraps),
		cmocka_unit_test_setup_teardown(test_run_past_wrap, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
