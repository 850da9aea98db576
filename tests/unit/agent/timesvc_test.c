// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/agent/timesvc.c with real parts: a real vsock engine on a real
 * event loop, the service's own thread, and the test playing the guest with packets
 * built by hand. Covers the exchange (clock bracketed by the test's own readings),
 * pipelined and split requests, and the hostile cases: a bad magic or flags, too many
 * connections, and a flood past the rate limit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/timesvc.h"
#include "lib/internal.h"
#include "vsock/engine.h"

#define CID  9
#define BUF  65536u
#define PEER 65536u /* the guest's buf_alloc */

struct fx {
	struct vireo_loop *loop;
	struct vsock_engine *eng;
	struct timesvc *ts;
	uint32_t guest_fwd; /* bytes the test consumed */
	uint8_t rx[sizeof(struct virtio_vsock_hdr) + VSOCK_MAX_PKT];
};

static void on_wake(void *arg)
{
	(void)arg;
}

static struct fx *fx_new(void)
{
	static struct fx f;
	struct vsock_engine_cfg cfg = {
		.guest_cid = CID,
		.buf_alloc = BUF,
		.max_conns = 16,
		.wake = on_wake,
	};

	memset(&f, 0, sizeof(f));
	assert_int_equal(vireo_core_loop_new(&f.loop), 0);
	cfg.loop = f.loop;
	assert_int_equal(vsock_engine_new(&cfg, &f.eng), 0);
	assert_int_equal(timesvc_new("t0", f.eng, &f.ts), 0);
	return &f;
}

static void fx_free(struct fx *f)
{
	timesvc_free(f->ts);
	vsock_engine_free(f->eng);
	vireo_core_loop_free(f->loop);
}

static int64_t realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static enum vsock_refusal send_op(struct fx *f, uint16_t op, uint32_t gport, const void *data,
				  uint32_t len)
{
	struct virtio_vsock_hdr h = { .src_cid = CID,
				      .dst_cid = VSOCK_CID_HOST,
				      .src_port = gport,
				      .dst_port = TIMESVC_PORT,
				      .len = len,
				      .type = VIRTIO_VSOCK_TYPE_STREAM,
				      .op = op,
				      .buf_alloc = PEER,
				      .fwd_cnt = f->guest_fwd };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)data, len } };

	return vsock_engine_guest_tx(f->eng, iov, len ? 2 : 1, (uint32_t)sizeof(h) + len);
}

/* The next packet for the guest within 2 s (the service answers from its thread). */
static bool recv_pkt(struct fx *f, struct virtio_vsock_hdr *h, int ms)
{
	struct iovec iov = { f->rx, sizeof(f->rx) };

	for (int i = 0; i < ms / 2; i++) {
		uint32_t n;

		vireo_core_loop_run_once(f->loop, 2);
		vsock_engine_service(f->eng);
		n = vsock_engine_guest_rx(f->eng, &iov, 1, (uint32_t)iov.iov_len);
		if (n) {
			memcpy(h, f->rx, sizeof(*h));
			return true;
		}
	}
	return false;
}

static void connect_guest(struct fx *f, uint32_t gport)
{
	struct virtio_vsock_hdr h;

	assert_int_equal(send_op(f, VIRTIO_VSOCK_OP_REQUEST, gport, NULL, 0), VSOCK_REFUSE_MAX);
	assert_true(recv_pkt(f, &h, 2000));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RESPONSE);
	assert_int_equal(h.dst_port, gport);
}

static void put_req(uint8_t *p, uint32_t magic, uint32_t flags, uint64_t seq)
{
	memcpy(p, &magic, 4); /* the test runs little endian, as the wire is */
	memcpy(p + 4, &flags, 4);
	memcpy(p + 8, &seq, 8);
}

/* Collects @n responses' bytes of connection @gport; returns how many arrived. */
static size_t recv_rsps(struct fx *f, uint32_t gport, uint8_t *buf, size_t n, int ms)
{
	struct virtio_vsock_hdr h;
	size_t got = 0;

	while (got < n * TIMESVC_RSP_LEN && recv_pkt(f, &h, ms)) {
		if (h.op != VIRTIO_VSOCK_OP_RW || h.dst_port != gport)
			continue;
		assert_true(got + h.len <= n * TIMESVC_RSP_LEN);
		memcpy(buf + got, f->rx + sizeof(h), h.len);
		got += h.len;
		f->guest_fwd += h.len;
		send_op(f, VIRTIO_VSOCK_OP_CREDIT_UPDATE, gport, NULL, 0);
	}
	return got / TIMESVC_RSP_LEN;
}

static void check_rsp(const uint8_t *p, uint64_t seq, int64_t before, int64_t after)
{
	uint32_t magic, status;
	uint64_t s;
	int64_t rt, raw;

	memcpy(&magic, p, 4);
	memcpy(&status, p + 4, 4);
	memcpy(&s, p + 8, 8);
	memcpy(&rt, p + 16, 8);
	memcpy(&raw, p + 24, 8);
	assert_int_equal(magic, TIMESVC_RSP_MAGIC);
	assert_int_equal(status, 0);
	assert_int_equal(s, seq);
	assert_true(rt >= before && rt <= after);
	assert_true(raw > 0);
}

static struct timesvc_stats stats(struct fx *f)
{
	struct timesvc_stats s;

	timesvc_get_stats(f->ts, &s);
	return s;
}

static void test_exchange(void **state)
{
	struct fx *f = fx_new();
	uint8_t req[3 * TIMESVC_REQ_LEN], rsp[3 * TIMESVC_RSP_LEN];
	int64_t before, after;

	(void)state;
	connect_guest(f, 1000);
	/* One request. */
	put_req(req, TIMESVC_REQ_MAGIC, 0, 7);
	before = realtime();
	assert_int_equal(send_op(f, VIRTIO_VSOCK_OP_RW, 1000, req, TIMESVC_REQ_LEN),
			 VSOCK_REFUSE_MAX);
	assert_int_equal(recv_rsps(f, 1000, rsp, 1, 2000), 1);
	after = realtime();
	check_rsp(rsp, 7, before, after);
	/* Three pipelined in one packet, answered in order. */
	for (int i = 0; i < 3; i++)
		put_req(req + i * TIMESVC_REQ_LEN, TIMESVC_REQ_MAGIC, 0, 100 + (uint64_t)i);
	before = realtime();
	send_op(f, VIRTIO_VSOCK_OP_RW, 1000, req, sizeof(req));
	assert_int_equal(recv_rsps(f, 1000, rsp, 3, 2000), 3);
	after = realtime();
	for (int i = 0; i < 3; i++)
		check_rsp(rsp + i * TIMESVC_RSP_LEN, 100 + (uint64_t)i, before, after);
	/* One split over two packets. */
	put_req(req, TIMESVC_REQ_MAGIC, 0, 9);
	before = realtime();
	send_op(f, VIRTIO_VSOCK_OP_RW, 1000, req, 5);
	assert_int_equal(recv_rsps(f, 1000, rsp, 1, 100), 0);
	send_op(f, VIRTIO_VSOCK_OP_RW, 1000, req + 5, TIMESVC_REQ_LEN - 5);
	assert_int_equal(recv_rsps(f, 1000, rsp, 1, 2000), 1);
	check_rsp(rsp, 9, before, realtime());
	assert_int_equal(stats(f).exchanges, 5);
	assert_int_equal(stats(f).conns, 1);
	fx_free(f);
}

static void expect_dropped(struct fx *f, uint32_t gport)
{
	struct virtio_vsock_hdr h;

	while (recv_pkt(f, &h, 2000))
		if (h.dst_port == gport &&
		    (h.op == VIRTIO_VSOCK_OP_SHUTDOWN || h.op == VIRTIO_VSOCK_OP_RST))
			return;
	fail_msg("connection %u was not ended", gport);
}

static void test_bad_requests(void **state)
{
	struct fx *f = fx_new();
	uint8_t req[TIMESVC_REQ_LEN], rsp[TIMESVC_RSP_LEN];

	(void)state;
	connect_guest(f, 1001);
	put_req(req, 0x12345678, 0, 1);
	send_op(f, VIRTIO_VSOCK_OP_RW, 1001, req, sizeof(req));
	expect_dropped(f, 1001);
	connect_guest(f, 1002);
	put_req(req, TIMESVC_REQ_MAGIC, 1, 1); /* flags must be 0 */
	send_op(f, VIRTIO_VSOCK_OP_RW, 1002, req, sizeof(req));
	expect_dropped(f, 1002);
	assert_int_equal(stats(f).bad, 2);
	assert_int_equal(stats(f).exchanges, 0);
	/* The service still serves. */
	connect_guest(f, 1003);
	put_req(req, TIMESVC_REQ_MAGIC, 0, 3);
	send_op(f, VIRTIO_VSOCK_OP_RW, 1003, req, sizeof(req));
	assert_int_equal(recv_rsps(f, 1003, rsp, 1, 2000), 1);
	fx_free(f);
}

static void test_conn_limit(void **state)
{
	struct fx *f = fx_new();

	(void)state;
	for (uint32_t i = 0; i < TIMESVC_MAX_CONNS; i++)
		connect_guest(f, 2000 + i);
	/* The engine accepts, the service closes at once. */
	connect_guest(f, 2100);
	expect_dropped(f, 2100);
	assert_int_equal(stats(f).refused, 1);
	assert_int_equal(stats(f).conns, TIMESVC_MAX_CONNS);
	fx_free(f);
}

static void test_rate_limit(void **state)
{
	enum { N = TIMESVC_BURST + 100 };
	struct fx *f = fx_new();
	static uint8_t req[N * TIMESVC_REQ_LEN], rsp[N * TIMESVC_RSP_LEN];
	size_t got = 0;

	(void)state;
	connect_guest(f, 3000);
	for (int i = 0; i < N; i++)
		put_req(req + i * TIMESVC_REQ_LEN, TIMESVC_REQ_MAGIC, 0, (uint64_t)i);
	for (size_t off = 0; off < sizeof(req); off += 1024)
		send_op(f, VIRTIO_VSOCK_OP_RW, 3000, req + off,
			(uint32_t)(sizeof(req) - off < 1024 ? sizeof(req) - off : 1024));
	/* All are answered, in order, the ones past the burst after a pause. */
	while (got < N) {
		size_t n = recv_rsps(f, 3000, rsp + got * TIMESVC_RSP_LEN, N - got, 2000);

		assert_true(n > 0);
		got += n;
	}
	for (int i = 0; i < N; i++)
		check_rsp(rsp + i * TIMESVC_RSP_LEN, (uint64_t)i, 0, INT64_MAX);
	assert_true(stats(f).throttled >= 1);
	assert_int_equal(stats(f).exchanges, N);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exchange),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_conn_limit),
		cmocka_unit_test(test_rate_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
