// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/vhost-user/{dev,dispatch,queue}.c: a real device (socket,
 * control thread, queue workers) serving a small "count" model, driven over the
 * socket by the test frontend with a mock guest's memfd as guest RAM. The model
 * answers each chain with the number of readable bytes it carried.
 *   dev_test [WORKERS]   WORKERS > 0: the same tests on that many shared queue
 *                        workers (vhost-user/workers.c) instead of a thread per queue
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mock_guest.h"
#include "vhost-user/dev.h"
#include "vhost-user/workers.h"
#include "vu_frontend.h"

#define GUEST_GPA  0x100000ull
#define GUEST_SIZE (4ull << 20)
#define QSIZE	   64

static int count_get_config(void *model, void *buf, uint32_t off, uint32_t len)
{
	(void)model;
	for (uint32_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = (uint8_t)(off + i);
	return 0;
}

static uint64_t count_features(void *model)
{
	(void)model;
	return 0;
}

static unsigned int count_num_queues(void *model)
{
	(void)model;
	return 2;
}

static void count_kick(void *model, struct vu_queue *q)
{
	struct vireo_vq *vq = vu_queue_vq(q);
	struct iovec iov[16];
	struct vireo_vq_chain chain;
	enum vireo_vq_err why;
	int rc;

	(void)model;
	for (;;) {
		vireo_vq_chain_init(&chain, iov, 16);
		rc = vireo_vq_pop(vq, &chain, &why);
		if (rc == 0)
			break;
		if (rc < 0) {
			vu_queue_broken(q, vireo_vq_err_str(why));
			return;
		}
		if (chain.in_num && iov[chain.out_num].iov_len >= sizeof(uint32_t)) {
			uint32_t n = chain.out_len;

			memcpy(iov[chain.out_num].iov_base, &n, sizeof(n));
			vireo_vq_push(vq, chain.head, sizeof(n), NULL);
		} else {
			vireo_vq_push(vq, chain.head, 0, NULL);
		}
	}
	vu_queue_signal(q);
}

static const struct vdev_ops count_ops = {
	.name = "count",
	.device_id = 0,
	.protocol_features = 1ull << VU_PROTOCOL_F_CONFIG,
	.features = count_features,
	.num_queues = count_num_queues,
	.get_config = count_get_config,
	.queue_kick = count_kick,
};

struct fixture {
	char dir[64];
	char path[128];
	struct vu_dev *dev;
	struct mock_guest g;
	struct vu_fe fe;
	int kick, call;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.kick = f.call = -1;
	strcpy(f.dir, "/tmp/vireo-vu-XXXXXX");
	if (!mkdtemp(f.dir))
		return -1;
	snprintf(f.path, sizeof(f.path), "%s/dev.sock", f.dir);
	if (vu_dev_new(f.path, &count_ops, NULL, &f.dev) < 0 || vu_dev_start(f.dev) < 0)
		return -1;
	if (mock_guest_init(&f.g, GUEST_GPA, GUEST_SIZE, GUEST_SIZE / 2) < 0)
		return -1;
	mock_queue_init(&f.g, QSIZE);
	if (vu_fe_connect(&f.fe, f.path, 2000) < 0)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vu_fe_close(&f->fe);
	vu_dev_free(f->dev);
	if (f->kick >= 0)
		close(f->kick);
	if (f->call >= 0)
		close(f->call);
	mock_guest_fini(&f->g);
	rmdir(f->dir);
	return 0;
}

static void bring_up(struct fixture *f)
{
	assert_int_equal(vu_fe_negotiate(&f->fe, ~0ull), 0);
	assert_true(f->fe.reply_ack);
	assert_int_equal(vu_fe_set_mem_table(&f->fe, &f->g), 0);
	assert_int_equal(vu_fe_start_queue(&f->fe, &f->g, 0, &f->kick, &f->call), 0);
}

/* Adds a chain of @out_len readable bytes and a 4-byte answer; returns the answer GPA. */
static uint64_t add_request(struct fixture *f, uint32_t out_len, uint16_t *head)
{
	uint64_t out = mock_alloc(&f->g, out_len, 8), in = mock_alloc(&f->g, 4, 4);
	struct mock_buf bufs[2] = { { out, out_len, false }, { in, 4, true } };

	*head = mock_chain(&f->g, bufs, 2); /* also makes it available */
	return in;
}

static void test_request_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct vu_dev_stats st;
	uint16_t head;
	uint64_t answer;
	uint32_t got;

	bring_up(f);
	/* The chain straddles the two regions of the mock guest. */
	answer = add_request(f, 3000, &head);
	vu_fe_kick(f->kick);
	assert_int_equal(vu_fe_wait_call(f->call, 2000), 1);
	assert_int_equal(mock_used_idx(&f->g), 1);
	assert_int_equal(mock_used_elem(&f->g, 0).id, head);
	assert_int_equal(mock_used_elem(&f->g, 0).len, 4);
	memcpy(&got, mock_ptr(&f->g, answer), sizeof(got));
	assert_int_equal(got, 3000);

	vu_dev_get_stats(f->dev, &st);
	assert_true(st.connected);
	assert_int_equal(st.queues_running, 1);
	assert_true(st.kicks >= 1);
	assert_true(st.calls >= 1);
	assert_false(st.broken);
}

static void test_get_vring_base_stops_ring(void **state)
{
	struct fixture *f = *state;
	struct vu_vring_state st = { 0, 0 }, got;
	uint16_t head;

	bring_up(f);
	for (int i = 0; i < 3; i++)
		add_request(f, 10, &head);
	vu_fe_kick(f->kick);
	assert_int_equal(vu_fe_wait_call(f->call, 2000), 1);
	for (int i = 0; i < 100 && mock_used_idx(&f->g) < 3; i++)
		usleep(1000);
	assert_int_equal(
		vu_fe_call(&f->fe, VU_REQ_GET_VRING_BASE, &st, sizeof(st), &got, sizeof(got)),
		sizeof(got));
	assert_int_equal(got.index, 0);
	assert_int_equal(got.num, 3);

	/* Stopped: a new request is not served until the ring is kicked into life. */
	add_request(f, 10, &head);
	vu_fe_kick(f->kick);
	assert_int_equal(vu_fe_wait_call(f->call, 200), 0);
	assert_int_equal(mock_used_idx(&f->g), 3);
}

static void test_get_config(void **state)
{
	struct fixture *f = *state;
	struct vu_config cfg = { .offset = 8, .size = 4 };
	struct vu_config reply;
	const int head = offsetof(struct vu_config, payload);

	bring_up(f);
	assert_int_equal(
		vu_fe_call(&f->fe, VU_REQ_GET_CONFIG, &cfg, head + 4, &reply, sizeof(reply)),
		head + 4);
	assert_int_equal(reply.payload[0], 8);
	assert_int_equal(reply.payload[3], 11);
}

static void test_features_never_offered(void **state)
{
	struct fixture *f = *state;
	uint64_t bogus;

	bring_up(f);
	bogus = f->fe.features | (1ull << 5);
	assert_int_equal(vu_fe_set(&f->fe, VU_REQ_SET_FEATURES, &bogus, sizeof(bogus), NULL, 0),
			 -EREMOTEIO);
}

static void test_ring_outside_guest_memory(void **state)
{
	struct fixture *f = *state;
	struct vu_vring_state num = { 1, QSIZE }, on = { 1, 1 };
	struct vu_vring_addr addr = {
		.index = 1, .desc_uaddr = 0x1000, .used_uaddr = 0x2000, .avail_uaddr = 0x3000
	};
	uint64_t idx = 1;
	int kick;

	bring_up(f);
	kick = f->kick;
	assert_int_equal(vu_fe_set(&f->fe, VU_REQ_SET_VRING_NUM, &num, sizeof(num), NULL, 0), 0);
	assert_int_equal(vu_fe_set(&f->fe, VU_REQ_SET_VRING_ADDR, &addr, sizeof(addr), NULL, 0), 0);
	assert_int_equal(vu_fe_set(&f->fe, VU_REQ_SET_VRING_KICK, &idx, sizeof(idx), &kick, 1), 0);
	assert_int_equal(vu_fe_set(&f->fe, VU_REQ_SET_VRING_ENABLE, &on, sizeof(on), NULL, 0),
			 -EREMOTEIO);
	/* A queue that does not exist. */
	num.index = 7;
	assert_int_equal(vu_fe_set(&f->fe, VU_REQ_SET_VRING_NUM, &num, sizeof(num), NULL, 0),
			 -EREMOTEIO);
	/* A ring size that is not a power of two. */
	num.index = 0;
	num.num = 100;
	assert_int_equal(vu_fe_set(&f->fe, VU_REQ_SET_VRING_NUM, &num, sizeof(num), NULL, 0),
			 -EREMOTEIO);
}

static void test_looped_chain_breaks_queue_only(void **state)
{
	struct fixture *f = *state;
	struct vu_dev_stats st;
	uint64_t buf, features;

	bring_up(f);
	buf = mock_alloc(&f->g, 64, 8);
	/* Two descriptors pointing at each other. */
	mock_desc(&f->g, 0, buf, 16, VIREO_VRING_DESC_F_NEXT, 1);
	mock_desc(&f->g, 1, buf, 16, VIREO_VRING_DESC_F_NEXT, 0);
	mock_avail_add(&f->g, 0);
	vu_fe_kick(f->kick);
	for (int i = 0; i < 200; i++) {
		vu_dev_get_stats(f->dev, &st);
		if (st.broken)
			break;
		usleep(1000);
	}
	assert_true(st.broken);
	assert_int_equal(mock_used_idx(&f->g), 0);
	/* The device still answers. */
	assert_int_equal(vu_fe_get_u64(&f->fe, VU_REQ_GET_FEATURES, &features), 0);
}

static void test_malformed_message_disconnects_then_reconnect(void **state)
{
	struct fixture *f = *state;
	struct vu_mem_table mem = { .nregions = 0 };
	struct vu_hdr hdr = { .request = VU_REQ_SET_MEM_TABLE, .flags = VU_VERSION, .size = 8 };
	struct vu_dev_stats st;
	uint16_t head;
	char c;

	bring_up(f);
	assert_int_equal(send(f->fe.sock, &hdr, sizeof(hdr), 0), sizeof(hdr));
	assert_int_equal(send(f->fe.sock, &mem, 8, 0), 8);
	assert_int_equal(recv(f->fe.sock, &c, 1, 0), 0); /* the backend hung up */
	vu_fe_close(&f->fe);
	close(f->kick);
	close(f->call);

	vu_dev_get_stats(f->dev, &st);
	assert_true(st.refused >= 1);

	/* A new frontend gets a fresh session and is served. */
	assert_int_equal(vu_fe_connect(&f->fe, f->path, 2000), 0);
	mock_queue_init(&f->g, QSIZE);
	bring_up(f);
	add_request(f, 7, &head);
	vu_fe_kick(f->kick);
	assert_int_equal(vu_fe_wait_call(f->call, 2000), 1);
	assert_int_equal(mock_used_idx(&f->g), 1);
	vu_dev_get_stats(f->dev, &st);
	assert_int_equal(st.connections, 2);
}

static void test_second_frontend_refused(void **state)
{
	struct fixture *f = *state;
	struct vu_fe other;
	char c;

	bring_up(f);
	assert_int_equal(vu_fe_connect(&other, f->path, 2000), 0);
	assert_int_equal(recv(other.sock, &c, 1, 0), 0);
	vu_fe_close(&other);
	/* The first one is untouched. */
	uint64_t features;
	assert_int_equal(vu_fe_get_u64(&f->fe, VU_REQ_GET_FEATURES, &features), 0);
}

/* ADD_MEM_REG / REM_MEM_REG of region @i of the mock guest. */
static int mem_reg(struct fixture *f, uint32_t req, unsigned int i)
{
	const struct vireo_mem_region *r = &f->g.mem.regions[i];
	struct vu_mem_single m = {
		.region = { r->gpa, r->size, r->uaddr, r->mmap_offset },
	};

	return vu_fe_set(&f->fe, req, &m, sizeof(m), &f->g.fd, req == VU_REQ_ADD_MEM_REG ? 1 : 0);
}

static void roundtrip(struct fixture *f, uint32_t len)
{
	uint16_t head;
	uint64_t answer = add_request(f, len, &head);
	uint32_t got;

	mock_set_used_event(&f->g, mock_used_idx(&f->g));
	vu_fe_kick(f->kick);
	assert_int_equal(vu_fe_wait_call(f->call, 2000), 1);
	memcpy(&got, mock_ptr(&f->g, answer), sizeof(got));
	assert_int_equal(got, len);
}

/* QEMU adds the same region once per vhost device on a connection (multi-queue net). */
static void test_same_region_added_twice_is_counted(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vu_fe_negotiate(&f->fe, ~0ull), 0);
	assert_int_equal(mem_reg(f, VU_REQ_ADD_MEM_REG, 0), 0);
	assert_int_equal(mem_reg(f, VU_REQ_ADD_MEM_REG, 1), 0);
	assert_int_equal(mem_reg(f, VU_REQ_ADD_MEM_REG, 0), 0);
	assert_int_equal(vu_fe_start_queue(&f->fe, &f->g, 0, &f->kick, &f->call), 0);
	roundtrip(f, 100);

	/* One of two references dropped: still mapped, still served. */
	assert_int_equal(mem_reg(f, VU_REQ_REM_MEM_REG, 0), 0);
	roundtrip(f, 200);

	/* The last one: gone; removing it again is refused. */
	assert_int_equal(mem_reg(f, VU_REQ_REM_MEM_REG, 0), 0);
	assert_int_equal(mem_reg(f, VU_REQ_REM_MEM_REG, 0), -EREMOTEIO);
}

#define DEV_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(int argc, char **argv)
{
	unsigned int workers = argc > 1 ? (unsigned int)atoi(argv[1]) : 0;
	int failed;

	const struct CMUnitTest tests[] = {
		DEV_TEST(test_request_roundtrip),
		DEV_TEST(test_get_vring_base_stops_ring),
		DEV_TEST(test_get_config),
		DEV_TEST(test_features_never_offered),
		DEV_TEST(test_ring_outside_guest_memory),
		DEV_TEST(test_looped_chain_breaks_queue_only),
		DEV_TEST(test_malformed_message_disconnects_then_reconnect),
		DEV_TEST(test_second_frontend_refused),
		DEV_TEST(test_same_region_added_twice_is_counted),
	};

	mock_log_install();
	if (vu_workers_configure(VU_MAX_WORKERS + 1) != -EINVAL ||
	    vu_workers_configure(workers) != 0) {
		fprintf(stderr, "vu_workers_configure() misbehaved\n");
		return 1;
	}
	failed = cmocka_run_group_tests_name(
		workers ? "vhost-user/dev-shared-workers" : "vhost-user/dev", tests, NULL, NULL);
	/* Queues ran: the threading is fixed from now on. */
	if (workers && vu_workers_configure(1) != -EBUSY) {
		fprintf(stderr, "the threading changed after queues had started\n");
		failed++;
	}
	vu_workers_shutdown();
	return failed;
}
