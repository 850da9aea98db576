// SPDX-License-Identifier: MIT
/*
 * Unit tests of tests/bench/net_ring.c and net_frame.c, the driver side of
 * vireo-bench's net queues and its frames. The test plays the device on the same
 * memory: it reads the available ring and writes used elements, well-formed or
 * not. Covered: layout refusals, prebuilt descriptors (direction, address, length
 * per post), the free stack, each used-ring refusal (id range, not in flight,
 * idx ahead, receive len past the buffer), kick suppression with and without
 * EVENT_IDX, calls, a run past the 16-bit wrap; frames built, stamped and checked,
 * and each check's refusal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net_frame.h"
#include "net_ring.h"

#define GPA   0x100000000ull
#define QSIZE 8u
#define BUF   2048u

struct fx {
	struct bench_nring r;
	void *mem;
	uint16_t dev_avail; /* the fake device's next available slot */
	uint16_t dev_used;  /* the fake device's used idx */
};

static struct fx *fx_new(bool rx, bool event_idx)
{
	struct bench_nring_layout lay;
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || bench_nring_layout(QSIZE, BUF, &lay) < 0)
		return NULL;
	f->mem = aligned_alloc(4096, lay.bytes);
	if (!f->mem)
		return NULL;
	memset(f->mem, 0xee, lay.bytes);
	if (bench_nring_init(&f->r, f->mem, GPA, QSIZE, BUF, rx, event_idx) < 0)
		return NULL;
	return f;
}

static int setup_tx(void **state)
{
	return (*state = fx_new(false, false)) ? 0 : -1;
}

static int setup_rx(void **state)
{
	return (*state = fx_new(true, false)) ? 0 : -1;
}

static int setup_tx_event_idx(void **state)
{
	return (*state = fx_new(false, true)) ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	bench_nring_fini(&f->r);
	free(f->mem);
	free(f);
	return 0;
}

/* The device takes the next available head. */
static uint16_t dev_pop(struct fx *f)
{
	assert_int_not_equal(le16toh(f->r.avail->idx), f->dev_avail);
	return le16toh(f->r.avail->ring[f->dev_avail++ & (QSIZE - 1)]);
}

/* The device returns @id with @len and publishes used idx. */
static void dev_push(struct fx *f, uint32_t id, uint32_t len)
{
	f->r.used->ring[f->dev_used & (QSIZE - 1)] =
		(struct vireo_vring_used_elem){ .id = htole32(id), .len = htole32(len) };
	f->dev_used++;
	f->r.used->idx = htole16(f->dev_used);
}

static void test_layout_refusals(void **state)
{
	struct bench_nring_layout lay;

	(void)state;
	assert_int_equal(bench_nring_layout(0, BUF, &lay), -EINVAL);
	assert_int_equal(bench_nring_layout(6, BUF, &lay), -EINVAL);
	assert_int_equal(bench_nring_layout(65536, BUF, &lay), -EINVAL);
	assert_int_equal(bench_nring_layout(8, 0, &lay), -EINVAL);
	assert_int_equal(bench_nring_layout(8, 65537, &lay), -EINVAL);
	assert_int_equal(bench_nring_layout(256, BUF, &lay), 0);
	assert_true(lay.avail >= 256 * 16 && lay.avail % 4096 == 0);
	assert_true(lay.bufs % 4096 == 0 && lay.bytes >= lay.bufs + 256ull * BUF);
}

static void test_tx_descriptors(void **state)
{
	struct fx *f = *state;
	int id;

	for (unsigned int i = 0; i < QSIZE; i++) {
		assert_int_equal(le64toh(f->r.desc[i].addr), GPA + f->r.lay.bufs + i * BUF);
		assert_int_equal(le16toh(f->r.desc[i].flags), 0); /* device-readable, no chain */
	}
	assert_int_equal(bench_nring_peek_free(&f->r), 0);
	id = bench_nring_post(&f->r, 76);
	assert_int_equal(id, 0);
	assert_int_equal(le32toh(f->r.desc[0].len), 76);
	assert_int_equal(bench_nring_post(&f->r, BUF + 1), -EINVAL);
	assert_int_equal(bench_nring_post(&f->r, 1512), 1);
	assert_int_equal(le32toh(f->r.desc[1].len), 1512);
	assert_true(bench_nring_publish(&f->r));
	assert_int_equal(le16toh(f->r.avail->idx), 2);
	assert_int_equal(dev_pop(f), 0);
	assert_int_equal(dev_pop(f), 1);
}

static void test_rx_descriptors_and_len(void **state)
{
	struct fx *f = *state;
	enum bench_nring_err why;
	unsigned int id;
	uint32_t len;

	for (unsigned int i = 0; i < QSIZE; i++)
		assert_int_equal(bench_nring_post(&f->r, 0), (int)i);
	assert_int_equal(bench_nring_post(&f->r, 0), -ENOSPC);
	for (unsigned int i = 0; i < QSIZE; i++) {
		assert_int_equal(le16toh(f->r.desc[i].flags), VIREO_VRING_DESC_F_WRITE);
		assert_int_equal(le32toh(f->r.desc[i].len), BUF);
	}
	bench_nring_publish(&f->r);
	dev_push(f, dev_pop(f), 12 + 64);
	assert_int_equal(bench_nring_next(&f->r, &id, &len, &why), 1);
	assert_int_equal(id, 0);
	assert_int_equal(len, 76);
	assert_int_equal(bench_nring_next(&f->r, &id, &len, &why), 0);
	/* The entry is free again and posted first. */
	assert_int_equal(bench_nring_post(&f->r, 0), 0);
	dev_push(f, dev_pop(f), BUF + 1);
	assert_int_equal(bench_nring_next(&f->r, &id, &len, &why), -EPROTO);
	assert_int_equal(why, BENCH_NRING_ERR_LEN);
	assert_string_equal(bench_nring_err_str(why),
			    "used element's len is larger than the receive buffer");
}

static void test_refuses_id_range(void **state)
{
	struct fx *f = *state;
	enum bench_nring_err why;
	unsigned int id;
	uint32_t len;

	bench_nring_post(&f->r, 64);
	bench_nring_publish(&f->r);
	dev_push(f, QSIZE, 0);
	assert_int_equal(bench_nring_next(&f->r, &id, &len, &why), -EPROTO);
	assert_int_equal(why, BENCH_NRING_ERR_ID_RANGE);
}

static void test_refuses_not_in_flight(void **state)
{
	struct fx *f = *state;
	enum bench_nring_err why;
	unsigned int id;
	uint32_t len;

	bench_nring_post(&f->r, 64);
	bench_nring_post(&f->r, 64);
	bench_nring_publish(&f->r);
	dev_push(f, 0, 0);
	dev_push(f, 0, 0); /* twice */
	assert_int_equal(bench_nring_next(&f->r, &id, &len, &why), 1);
	assert_int_equal(bench_nring_next(&f->r, &id, &len, &why), -EPROTO);
	assert_int_equal(why, BENCH_NRING_ERR_NOT_BUSY);
}

static void test_refuses_idx_ahead(void **state)
{
	struct fx *f = *state;
	enum bench_nring_err why;
	unsigned int id;
	uint32_t len;

	bench_nring_post(&f->r, 64);
	bench_nring_publish(&f->r);
	f->r.used->idx = htole16(2);
	assert_int_equal(bench_nring_next(&f->r, &id, &len, &why), -EPROTO);
	assert_int_equal(why, BENCH_NRING_ERR_IDX_AHEAD);
}

static void test_kicks_and_calls_without_event_idx(void **state)
{
	struct fx *f = *state;

	bench_nring_post(&f->r, 64);
	assert_true(bench_nring_publish(&f->r));
	assert_false(bench_nring_publish(&f->r)); /* nothing new */
	f->r.used->flags = htole16(VIREO_VRING_USED_F_NO_NOTIFY);
	bench_nring_post(&f->r, 64);
	assert_false(bench_nring_publish(&f->r));
	bench_nring_no_calls(&f->r);
	assert_int_equal(le16toh(f->r.avail->flags), VIREO_VRING_AVAIL_F_NO_INTERRUPT);
	assert_false(bench_nring_want_calls(&f->r));
	assert_int_equal(le16toh(f->r.avail->flags), 0);
	dev_push(f, dev_pop(f), 0);
	assert_true(bench_nring_want_calls(&f->r)); /* arrived: reap, do not sleep */
}

static void test_event_idx(void **state)
{
	struct fx *f = *state;

	*f->r.avail_event = htole16(0);
	bench_nring_post(&f->r, 64);
	assert_true(bench_nring_publish(&f->r)); /* 0 -> 1 crosses avail_event 0 */
	bench_nring_post(&f->r, 64);
	assert_false(bench_nring_publish(&f->r)); /* 1 -> 2 does not */
	*f->r.avail_event = htole16(3);
	bench_nring_post(&f->r, 64);
	bench_nring_post(&f->r, 64);
	assert_true(bench_nring_publish(&f->r)); /* 2 -> 4 crosses 3 */
	bench_nring_no_calls(&f->r);
	assert_int_equal(le16toh(*f->r.used_event), 0x8000);
	assert_false(bench_nring_want_calls(&f->r));
	assert_int_equal(le16toh(*f->r.used_event), 0);
	assert_true(bench_nring_need_event(0xffff, 1, 0xfffe)); /* across the wrap */
	assert_false(bench_nring_need_event(5, 5, 4));
}

static void test_run_past_wrap(void **state)
{
	struct fx *f = *state;
	enum bench_nring_err why;
	unsigned int id;
	uint32_t len;

	for (unsigned int n = 0; n < 70000; n++) {
		assert_true(bench_nring_post(&f->r, 64) >= 0);
		bench_nring_publish(&f->r);
		dev_push(f, dev_pop(f), 0);
		assert_int_equal(bench_nring_next(&f->r, &id, &len, &why), 1);
	}
	assert_int_equal(f->r.inflight, 0);
	assert_int_equal(f->r.nfree, QSIZE);
	assert_int_equal(f->r.last_used, (uint16_t)70000);
}

/* ---- frames ---- */

static const struct bench_frame_addr g_addr = {
	.dst = { 0x02, 0, 0, 0, 0, 2 },
	.src = { 0x02, 0, 0, 0, 0, 1 },
};

static void test_frame_round_trip(void **state)
{
	uint8_t buf[BENCH_FRAME_MAX_LEN];
	uint64_t seq = 0;

	(void)state;
	assert_int_equal(bench_frame_build(buf, BENCH_FRAME_MIN_LEN - 1, &g_addr, 0, 0), -EINVAL);
	assert_int_equal(bench_frame_build(buf, BENCH_FRAME_MAX_LEN + 1, &g_addr, 0, 0), -EINVAL);
	for (uint32_t len = BENCH_FRAME_MIN_LEN; len <= BENCH_FRAME_MAX_LEN; len += 97) {
		assert_int_equal(bench_frame_build(buf, len, &g_addr, 1, 5), 0);
		bench_frame_stamp(buf, 123456789012ull + len);
		assert_int_equal(bench_frame_check(buf, len, len, &g_addr, 1, 8, true, &seq),
				 BENCH_FRAME_OK);
		assert_int_equal(seq, 123456789012ull + len);
	}
	assert_int_equal(buf[12], 0x88);
	assert_int_equal(buf[13], 0xb5);
	/* A forwarder that swaps the addresses (testpmd macswap) is fine. */
	bench_frame_build(buf, 64, &g_addr, 0, 3);
	memcpy(buf, g_addr.src, 6);
	memcpy(buf + 6, g_addr.dst, 6);
	assert_int_equal(bench_frame_check(buf, 64, 64, &g_addr, 0, 8, true, &seq), BENCH_FRAME_OK);
}

static void test_frame_refusals(void **state)
{
	uint8_t buf[1500];
	uint64_t seq;

	(void)state;
	bench_frame_build(buf, 1500, &g_addr, 1, 5);
	assert_int_equal(bench_frame_check(buf, 1500, 64, &g_addr, 1, 8, false, &seq),
			 BENCH_FRAME_ERR_LEN);
	assert_int_equal(bench_frame_check(buf, 1500, 1500, &g_addr, 0, 8, false, &seq),
			 BENCH_FRAME_ERR_QUEUE);
	assert_int_equal(bench_frame_check(buf, 1500, 1500, &g_addr, 1, 5, false, &seq),
			 BENCH_FRAME_ERR_ENTRY);
	/* A payload byte changed: only the whole check sees it. */
	buf[1000] ^= 1;
	assert_int_equal(bench_frame_check(buf, 1500, 1500, &g_addr, 1, 8, false, &seq),
			 BENCH_FRAME_OK);
	assert_int_equal(bench_frame_check(buf, 1500, 1500, &g_addr, 1, 8, true, &seq),
			 BENCH_FRAME_ERR_PAYLOAD);
	buf[1000] ^= 1;
	/* Another entry's payload under this entry's header. */
	bench_frame_build(buf, 1500, &g_addr, 1, 6);
	buf[BENCH_FRAME_ETH_LEN + 6] = 5;
	assert_int_equal(bench_frame_check(buf, 1500, 1500, &g_addr, 1, 8, true, &seq),
			 BENCH_FRAME_ERR_PAYLOAD);
	bench_frame_build(buf, 1500, &g_addr, 1, 5);
	buf[0] ^= 0x40;
	assert_int_equal(bench_frame_check(buf, 1500, 1500, &g_addr, 1, 8, false, &seq),
			 BENCH_FRAME_ERR_MAC);
	buf[0] ^= 0x40;
	buf[13] = 0x00; /* IPv4's ethertype: someone else's frame */
	assert_int_equal(bench_frame_check(buf, 1500, 1500, &g_addr, 1, 8, false, &seq),
			 BENCH_FRAME_ERR_FOREIGN);
	buf[13] = 0xb5;
	buf[BENCH_FRAME_ETH_LEN] ^= 0xff; /* magic */
	assert_int_equal(bench_frame_check(buf, 1500, 1500, &g_addr, 1, 8, false, &seq),
			 BENCH_FRAME_ERR_FOREIGN);
	assert_int_equal(bench_frame_check(buf, 20, 1500, &g_addr, 1, 8, false, &seq),
			 BENCH_FRAME_ERR_FOREIGN);
	assert_string_equal(bench_frame_err_str(BENCH_FRAME_ERR_PAYLOAD),
			    "payload differs from what was sent");
	assert_string_equal(bench_frame_err_str(BENCH_FRAME_ERR_MAX), "unknown reason");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_refusals),
		cmocka_unit_test_setup_teardown(test_tx_descriptors, setup_tx, teardown),
		cmocka_unit_test_setup_teardown(test_rx_descriptors_and_len, setup_rx, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_id_range, setup_tx, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_not_in_flight, setup_tx, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_idx_ahead, setup_tx, teardown),
		cmocka_unit_test_setup_teardown(test_kicks_and_calls_without_event_idx, setup_tx,
						teardown),
		cmocka_unit_test_setup_teardown(test_event_idx, setup_tx_event_idx, teardown),
		cmocka_unit_test_setup_teardown(test_run_past_wrap, setup_tx, teardown),
		cmocka_unit_test(test_frame_round_trip),
		cmocka_unit_test(test_frame_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
