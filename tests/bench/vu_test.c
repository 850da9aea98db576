// SPDX-License-Identifier: MIT
/*
 * Unit tests of tests/bench/vu.c, vireo-bench's vhost-user control plane. The
 * test is the backend on the other end of a socketpair: it queues its replies
 * before the call, then reads what the frontend sent with vmm-core's own
 * vu_msg_recv() and vu_msg_check(), so every request must pass vireod's rules.
 * Covered: negotiation in QEMU's order, REPLY_ACK, GET_QUEUE_NUM, GET_CONFIG,
 * queue start and stop, and each malformed reply the frontend must refuse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "virtio/blk_wire.h"
#include "virtio/virtio_wire.h"
#include "vhost-user/msg.h"
#include "vu.h"

#define BIT(n) (1ull << (n))

struct fx {
	struct bench_vu vu;
	int backend;
};

static int setup(void **state)
{
	struct timeval tv = { .tv_usec = 200000 };
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];

	if (!f || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	f->vu.sock = sv[0];
	f->vu.max_queues = 1;
	f->backend = sv[1];
	setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	bench_vu_close(&f->vu);
	if (f->backend >= 0)
		close(f->backend);
	free(f);
	return 0;
}

/* Queues one reply from the backend: header flags as given, then the payload. */
static void reply_raw(struct fx *f, uint32_t request, uint32_t flags, const void *p, uint32_t size)
{
	struct vu_hdr hdr = { .request = request, .flags = flags, .size = size };

	assert_int_equal(vu_msg_send(f->backend, &hdr, p, NULL, 0), 0);
}

static void reply(struct fx *f, uint32_t request, const void *p, uint32_t size)
{
	reply_raw(f, request, VU_VERSION | VU_FLAG_REPLY, p, size);
}

static void reply_u64(struct fx *f, uint32_t request, uint64_t v)
{
	reply(f, request, &v, sizeof(v));
}

/* Reads the frontend's next request; it must pass vmm-core's rules. */
static void expect(struct fx *f, uint32_t request, struct vu_msg *m)
{
	enum vu_msg_err why;

	assert_int_equal(vu_msg_recv(f->backend, m, &why), 0);
	assert_string_equal(vu_request_name(m->hdr.request), vu_request_name(request));
	assert_int_equal(vu_msg_check(m, &why), 0);
}

static void expect_close(struct fx *f, uint32_t request, uint32_t flags)
{
	struct vu_msg m;

	expect(f, request, &m);
	assert_int_equal(m.hdr.flags, VU_VERSION | flags);
	vu_msg_close_fds(&m);
}

/* The offer of a good backend: REPLY_ACK, MQ (4 queues) and CONFIG. */
static void queue_negotiation(struct fx *f)
{
	reply_u64(f, VU_REQ_GET_FEATURES, BIT(VIRTIO_F_VERSION_1) | BIT(VU_F_PROTOCOL_FEATURES));
	reply_u64(f, VU_REQ_GET_PROTOCOL_FEATURES,
		  BIT(VU_PROTOCOL_F_MQ) | BIT(VU_PROTOCOL_F_REPLY_ACK) | BIT(VU_PROTOCOL_F_CONFIG) |
			  BIT(VU_PROTOCOL_F_INFLIGHT_SHMFD));
	reply_u64(f, VU_REQ_GET_QUEUE_NUM, 4);
	reply_u64(f, VU_REQ_SET_OWNER, 0); /* the ack */
}

static void test_negotiate(void **state)
{
	struct fx *f = *state;
	struct vu_msg m;

	queue_negotiation(f);
	assert_int_equal(bench_vu_negotiate(&f->vu), 0);
	assert_true(f->vu.reply_ack);
	assert_int_equal(f->vu.max_queues, 4);
	/* Only what vireo-bench uses is acked: no INFLIGHT_SHMFD. */
	assert_int_equal(f->vu.protocol_acked, BIT(VU_PROTOCOL_F_MQ) |
						       BIT(VU_PROTOCOL_F_REPLY_ACK) |
						       BIT(VU_PROTOCOL_F_CONFIG));

	expect_close(f, VU_REQ_GET_FEATURES, 0);
	expect_close(f, VU_REQ_GET_PROTOCOL_FEATURES, 0);
	expect(f, VU_REQ_SET_PROTOCOL_FEATURES, &m);
	assert_int_equal(m.payload.u64, f->vu.protocol_acked);
	assert_int_equal(m.hdr.flags, VU_VERSION); /* REPLY_ACK is not in force yet */
	expect_close(f, VU_REQ_GET_QUEUE_NUM, 0);
	expect_close(f, VU_REQ_SET_OWNER, VU_FLAG_NEED_REPLY);

	reply_u64(f, VU_REQ_SET_FEATURES, 0);
	assert_int_equal(bench_vu_set_features(&f->vu, BIT(VIRTIO_F_VERSION_1) | BIT(12)), 0);
	expect(f, VU_REQ_SET_FEATURES, &m);
	/* Bit 12 was not offered: not acked. PROTOCOL_FEATURES always is. */
	assert_int_equal(m.payload.u64, BIT(VIRTIO_F_VERSION_1) | BIT(VU_F_PROTOCOL_FEATURES));
}

static void test_refuses_no_version_1(void **state)
{
	struct fx *f = *state;

	reply_u64(f, VU_REQ_GET_FEATURES, BIT(VU_F_PROTOCOL_FEATURES));
	assert_int_equal(bench_vu_negotiate(&f->vu), -ENOTSUP);
	assert_non_null(strstr(f->vu.last_error, "VERSION_1"));
}

static void test_refuses_no_protocol_features(void **state)
{
	struct fx *f = *state;

	reply_u64(f, VU_REQ_GET_FEATURES, BIT(VIRTIO_F_VERSION_1));
	assert_int_equal(bench_vu_negotiate(&f->vu), -ENOTSUP);
}

static void test_refuses_bad_replies(void **state)
{
	struct fx *f = *state;
	uint64_t v = 0;
	uint32_t small = 1;

	/* Answer to another request. */
	reply_u64(f, VU_REQ_GET_PROTOCOL_FEATURES, 1);
	assert_int_equal(bench_vu_negotiate(&f->vu), -EPROTO);
	assert_non_null(strstr(f->vu.last_error, "GET_FEATURES"));
	/* No REPLY flag. */
	reply_raw(f, VU_REQ_GET_FEATURES, VU_VERSION, &v, sizeof(v));
	assert_int_equal(bench_vu_negotiate(&f->vu), -EPROTO);
	/* Wrong size. */
	reply(f, VU_REQ_GET_FEATURES, &small, sizeof(small));
	assert_int_equal(bench_vu_negotiate(&f->vu), -EPROTO);
	/* Each refusal above consumed its whole reply: a good one still parses. */
	reply_u64(f, VU_REQ_GET_FEATURES, BIT(VU_F_PROTOCOL_FEATURES));
	assert_int_equal(bench_vu_negotiate(&f->vu), -ENOTSUP);
	/* Wrong version (after which the stream is not followed further). */
	reply_raw(f, VU_REQ_GET_FEATURES, 2 | VU_FLAG_REPLY, &v, sizeof(v));
	assert_int_equal(bench_vu_negotiate(&f->vu), -EPROTO);
}

static void test_queue_num_out_of_range(void **state)
{
	struct fx *f = *state;

	reply_u64(f, VU_REQ_GET_FEATURES, BIT(VIRTIO_F_VERSION_1) | BIT(VU_F_PROTOCOL_FEATURES));
	reply_u64(f, VU_REQ_GET_PROTOCOL_FEATURES, BIT(VU_PROTOCOL_F_MQ));
	reply_u64(f, VU_REQ_GET_QUEUE_NUM, 0);
	assert_int_equal(bench_vu_negotiate(&f->vu), -EPROTO);
}

static void test_nack(void **state)
{
	struct fx *f = *state;

	queue_negotiation(f);
	assert_int_equal(bench_vu_negotiate(&f->vu), 0);
	reply_u64(f, VU_REQ_SET_FEATURES, 1);
	assert_int_equal(bench_vu_set_features(&f->vu, 0), -EREMOTEIO);
	assert_non_null(strstr(f->vu.last_error, "SET_FEATURES"));
}

static void test_silence_and_hang_up(void **state)
{
	struct fx *f = *state;

	assert_int_equal(bench_vu_negotiate(&f->vu), -ETIMEDOUT);
	close(f->backend);
	f->backend = -1;
	assert_int_equal(bench_vu_negotiate(&f->vu), -EPIPE);
}

static void test_get_config(void **state)
{
	struct fx *f = *state;
	struct vu_config c = { .offset = 0, .size = 8 };
	const uint32_t head = offsetof(struct vu_config, payload);
	static const uint32_t negotiation[] = {
		VU_REQ_GET_FEATURES,
		VU_REQ_GET_PROTOCOL_FEATURES,
		VU_REQ_SET_PROTOCOL_FEATURES,
		VU_REQ_GET_QUEUE_NUM,
		VU_REQ_SET_OWNER,
	};
	uint8_t got[8];
	struct vu_msg m;

	queue_negotiation(f);
	assert_int_equal(bench_vu_negotiate(&f->vu), 0);
	for (unsigned int i = 0; i < 8; i++)
		c.payload[i] = (uint8_t)(0xa0 + i);
	reply(f, VU_REQ_GET_CONFIG, &c, head + 8);
	assert_int_equal(bench_vu_get_config(&f->vu, got, sizeof(got)), 0);
	assert_memory_equal(got, c.payload, 8);
	/* Skip the negotiation, then check the request itself. */
	for (unsigned int i = 0; i < 5; i++) {
		expect(f, negotiation[i], &m);
		vu_msg_close_fds(&m);
	}
	expect(f, VU_REQ_GET_CONFIG, &m);
	assert_int_equal(m.payload.config.size, 8);

	reply(f, VU_REQ_GET_CONFIG, NULL, 0); /* libvhost-user's way of failing */
	assert_int_equal(bench_vu_get_config(&f->vu, got, sizeof(got)), -EREMOTEIO);
	reply(f, VU_REQ_GET_CONFIG, &c, head + 4); /* short */
	assert_int_equal(bench_vu_get_config(&f->vu, got, sizeof(got)), -EPROTO);
}

static void test_config_needs_protocol_feature(void **state)
{
	struct fx *f = *state;
	uint8_t got[8];

	assert_int_equal(bench_vu_get_config(&f->vu, got, sizeof(got)), -ENOTSUP);
}

static void test_start_and_stop_queue(void **state)
{
	struct fx *f = *state;
	struct bench_vu_vring q = {
		.index = 1,
		.size = 128,
		.desc = 0x10000,
		.avail = 0x11000,
		.used = 0x12000,
	};
	struct vu_vring_state base = { 1, 42 };
	static const uint32_t order[] = {
		VU_REQ_SET_VRING_NUM,  VU_REQ_SET_VRING_BASE, VU_REQ_SET_VRING_ADDR,
		VU_REQ_SET_VRING_CALL, VU_REQ_SET_VRING_KICK, VU_REQ_SET_VRING_ENABLE,
	};
	uint16_t got = 0;
	struct vu_msg m;

	q.kick = eventfd(0, EFD_CLOEXEC);
	q.call = eventfd(0, EFD_CLOEXEC);
	assert_true(q.kick >= 0 && q.call >= 0);
	for (unsigned int i = 0; i < 6; i++)
		reply_u64(f, order[i], 0);
	f->vu.reply_ack = true;
	assert_int_equal(bench_vu_start_queue(&f->vu, &q), 0);
	for (unsigned int i = 0; i < 6; i++) {
		expect(f, order[i], &m);
		assert_int_equal(m.hdr.flags, VU_VERSION | VU_FLAG_NEED_REPLY);
		if (order[i] == VU_REQ_SET_VRING_ADDR) {
			assert_int_equal(m.payload.addr.desc_uaddr, 0x10000);
			assert_int_equal(m.payload.addr.avail_uaddr, 0x11000);
			assert_int_equal(m.payload.addr.used_uaddr, 0x12000);
		}
		if (order[i] == VU_REQ_SET_VRING_CALL || order[i] == VU_REQ_SET_VRING_KICK) {
			assert_int_equal(m.nfds, 1);
			assert_int_equal(m.payload.u64, 1);
		}
		vu_msg_close_fds(&m);
	}

	reply(f, VU_REQ_GET_VRING_BASE, &base, sizeof(base));
	assert_int_equal(bench_vu_stop_queue(&f->vu, 1, &got), 0);
	assert_int_equal(got, 42);
	expect_close(f, VU_REQ_GET_VRING_BASE, 0);
	base.index = 0; /* the answer for another queue */
	reply(f, VU_REQ_GET_VRING_BASE, &base, sizeof(base));
	assert_int_equal(bench_vu_stop_queue(&f->vu, 1, &got), -EPROTO);
	close(q.kick);
	close(q.call);
}

static void test_mem_table(void **state)
{
	struct fx *f = *state;
	int fd = eventfd(0, EFD_CLOEXEC); /* any fd will do for the message */
	struct vu_msg m;

	assert_true(fd >= 0);
	assert_int_equal(bench_vu_set_mem_table(&f->vu, fd, 0x100000000ull, 1 << 20, 0x7f0000), 0);
	expect(f, VU_REQ_SET_MEM_TABLE, &m);
	assert_int_equal(m.payload.mem.nregions, 1);
	assert_int_equal(m.payload.mem.regions[0].guest_phys_addr, 0x100000000ull);
	assert_int_equal(m.payload.mem.regions[0].memory_size, 1 << 20);
	assert_int_equal(m.payload.mem.regions[0].userspace_addr, 0x7f0000);
	assert_int_equal(m.nfds, 1);
	vu_msg_close_fds(&m);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_negotiate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_no_version_1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_no_protocol_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_bad_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_num_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silence_and_hang_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_needs_protocol_feature, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_start_and_stop_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_table, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
