// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/virtio/vsock.c: a real vhost-user device served by the vsock
 * model, driven by the test frontend with a mock guest's memfd as guest RAM (its
 * three queues laid out one after the other). The CID comes back through GET_CONFIG
 * as QEMU reads it; a REQUEST on the tx queue to a port nobody listens on comes back
 * as an RST in an rx buffer; the event queue gets its TRANSPORT_RESET; a readable rx
 * chain breaks the rx queue; bad specs are refused with a clear line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/spec.h"
#include "mock_guest.h"
#include "vhost-user/dev.h"
#include "virtio/vsock.h"
#include "vu_frontend.h"

#define GUEST_GPA  0x100000ull
#define GUEST_SIZE (4ull << 20)
#define QSIZE	   16
#define CID	   1234567

/* One queue's driver-side layout; the mock guest holds one at a time. */
struct qlayout {
	unsigned int qsize;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t avail_idx, next_free;
};

struct fixture {
	char dir[64];
	char sock[128];
	char uds[128];
	struct virtio_vsock *vs;
	struct mock_guest g;
	struct vu_fe fe;
	struct qlayout q[3];
	int cur; /* the queue g describes now */
	int kick[3], call[3];
};

static void use_queue(struct fixture *f, int i)
{
	struct mock_guest *g = &f->g;
	struct qlayout *s = &f->q[f->cur];

	*s = (struct qlayout){ g->qsize,    g->desc_gpa,  g->avail_gpa,
			       g->used_gpa, g->avail_idx, g->next_free };
	s = &f->q[i];
	g->qsize = s->qsize;
	g->desc_gpa = s->desc_gpa;
	g->avail_gpa = s->avail_gpa;
	g->used_gpa = s->used_gpa;
	g->avail_idx = s->avail_idx;
	g->next_free = s->next_free;
	f->cur = i;
}

static int new_device(struct fixture *f, const char *cid, char *err, size_t errlen)
{
	struct vd_param params[2] = { { "cid", (char *)cid }, { "uds", f->uds } };
	struct vd_spec spec = { .cls = VD_CLASS_VSOCK,
				.id = "vs0",
				.socket = f->sock,
				.num_queues = 1,
				.params = params,
				.nparams = 2 };

	return virtio_vsock_new(&spec, &f->vs, err, errlen);
}

static struct fixture *fixture_new(void)
{
	static struct fixture f;
	char err[256] = "";

	memset(&f, 0, sizeof(f));
	strcpy(f.dir, "/tmp/vireo-vsock-XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.sock, sizeof(f.sock), "%s/vs.sock", f.dir);
	snprintf(f.uds, sizeof(f.uds), "%s/v", f.dir);
	if (new_device(&f, "1234567", err, sizeof(err)) < 0)
		fail_msg("virtio_vsock_new: %s", err);
	assert_int_equal(virtio_vsock_start(f.vs), 0);
	assert_int_equal(mock_guest_init(&f.g, GUEST_GPA, GUEST_SIZE, 0), 0);
	for (int i = 2; i >= 0; i--) {
		mock_queue_init(&f.g, QSIZE);
		f.cur = i;
		use_queue(&f, i);
	}
	for (int i = 0; i < 3; i++)
		f.kick[i] = f.call[i] = -1;
	assert_int_equal(vu_fe_connect(&f.fe, f.sock, 2000), 0);
	assert_int_equal(vu_fe_negotiate(&f.fe, ~0ull), 0);
	assert_true(f.fe.protocol_features & (1ull << VU_PROTOCOL_F_CONFIG));
	assert_int_equal(vu_fe_set_mem_table(&f.fe, &f.g), 0);
	return &f;
}

static void fixture_free(struct fixture *f)
{
	char cmd[128];

	vu_fe_close(&f->fe);
	virtio_vsock_free(f->vs);
	for (int i = 0; i < 3; i++) {
		if (f->kick[i] >= 0)
			close(f->kick[i]);
		if (f->call[i] >= 0)
			close(f->call[i]);
	}
	mock_guest_fini(&f->g);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
}

static void start(struct fixture *f, int i)
{
	use_queue(f, i);
	assert_int_equal(
		vu_fe_start_queue(&f->fe, &f->g, (unsigned int)i, &f->kick[i], &f->call[i]), 0);
}

static void wait_used(struct fixture *f, int i, uint16_t n)
{
	use_queue(f, i);
	for (int k = 0; k < 200 && mock_used_idx(&f->g) < n; k++)
		vu_fe_wait_call(f->call[i], 10);
	assert_int_equal(mock_used_idx(&f->g), n);
}

static void test_config_cid(void **state)
{
	struct fixture *f = fixture_new();
	const uint32_t head = offsetof(struct vu_config, payload);
	struct vu_config cfg = { .offset = 0, .size = 8 }, reply;
	uint64_t cid, nq;

	(void)state;
	assert_int_equal(
		vu_fe_call(&f->fe, VU_REQ_GET_CONFIG, &cfg, head + 8, &reply, sizeof(reply)),
		head + 8);
	memcpy(&cid, reply.payload, 8);
	assert_int_equal(cid, CID);
	/* A read past the 8 bytes of config space reads zeroes. */
	cfg = (struct vu_config){ .offset = 4, .size = 12 };
	assert_int_equal(
		vu_fe_call(&f->fe, VU_REQ_GET_CONFIG, &cfg, head + 12, &reply, sizeof(reply)),
		head + 12);
	assert_int_equal(reply.payload[0], 0);
	assert_int_equal(reply.payload[11], 0);
	assert_int_equal(vu_fe_get_u64(&f->fe, VU_REQ_GET_QUEUE_NUM, &nq), 0);
	assert_int_equal(nq, 3);
	assert_int_equal(virtio_vsock_cid(f->vs), CID);
	fixture_free(f);
}

static void test_request_rst_and_event(void **state)
{
	struct fixture *f = fixture_new();
	struct virtio_vsock_hdr h = { .src_cid = CID,
				      .dst_cid = VSOCK_CID_HOST,
				      .src_port = 4000,
				      .dst_port = 9,
				      .type = VIRTIO_VSOCK_TYPE_STREAM,
				      .op = VIRTIO_VSOCK_OP_REQUEST,
				      .buf_alloc = 65536 };
	struct virtio_vsock_hdr r;
	struct virtio_vsock_event ev;
	struct vsock_engine_stats s;
	uint64_t rxbuf[2], evbuf;

	(void)state;
	/* rx: two buffers, the header split from the payload as Linux 6.1 posts them. */
	use_queue(f, 0);
	rxbuf[0] = mock_alloc(&f->g, 44, 8);
	rxbuf[1] = mock_alloc(&f->g, 4096, 8);
	struct mock_buf rx[] = { { rxbuf[0], 20, true },
				 { rxbuf[0] + 20, 24, true },
				 { rxbuf[1], 4096, true } };
	mock_chain(&f->g, rx, 3);
	start(f, 0);
	/* tx: a REQUEST to a port no host program listens on. */
	use_queue(f, 1);
	uint64_t txgpa = mock_alloc(&f->g, sizeof(h), 8);

	memcpy(mock_ptr(&f->g, txgpa), &h, sizeof(h));
	struct mock_buf tx[] = { { txgpa, sizeof(h), false } };
	mock_chain(&f->g, tx, 1);
	start(f, 1);
	wait_used(f, 1, 1);
	wait_used(f, 0, 1);
	assert_int_equal(mock_used_elem(&f->g, 0).len, sizeof(r));
	memcpy(&r, mock_ptr(&f->g, rxbuf[0]), sizeof(r));
	assert_int_equal(r.op, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(r.dst_port, 4000);
	assert_int_equal(r.src_port, 9);
	assert_int_equal(r.dst_cid, CID);
	assert_int_equal(r.src_cid, VSOCK_CID_HOST);

	/* The event queue, when a frontend hands it over: TRANSPORT_RESET. */
	use_queue(f, 2);
	evbuf = mock_alloc(&f->g, 4, 4);
	memset(mock_ptr(&f->g, evbuf), 0xff, 4);
	struct mock_buf evb[] = { { evbuf, 4, true } };
	mock_chain(&f->g, evb, 1);
	start(f, 2);
	wait_used(f, 2, 1);
	memcpy(&ev, mock_ptr(&f->g, evbuf), sizeof(ev));
	assert_int_equal(ev.id, VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);

	virtio_vsock_get_stats(f->vs, &s);
	assert_int_equal(s.rst_sent, 1);
	assert_int_equal(s.conns, 0);
	fixture_free(f);
}

static void test_rx_readable_breaks(void **state)
{
	struct fixture *f = fixture_new();
	struct virtio_vsock_hdr h = { .src_cid = CID,
				      .dst_cid = VSOCK_CID_HOST,
				      .dst_port = 9,
				      .type = VIRTIO_VSOCK_TYPE_STREAM,
				      .op = VIRTIO_VSOCK_OP_REQUEST };
	struct vsock_engine_stats s;
	struct vu_dev_stats vs;

	(void)state;
	use_queue(f, 0);
	struct mock_buf rx[] = { { mock_alloc(&f->g, 64, 8), 64, false } };
	mock_chain(&f->g, rx, 1);
	start(f, 0);
	use_queue(f, 1);
	uint64_t txgpa = mock_alloc(&f->g, sizeof(h), 8);

	memcpy(mock_ptr(&f->g, txgpa), &h, sizeof(h));
	struct mock_buf tx[] = { { txgpa, sizeof(h), false } };
	mock_chain(&f->g, tx, 1);
	start(f, 1);
	wait_used(f, 1, 1);
	for (int i = 0; i < 200; i++) {
		virtio_vsock_vu_stats(f->vs, &vs);
		if (vs.broken)
			break;
		usleep(10000);
	}
	assert_true(vs.broken);
	virtio_vsock_get_stats(f->vs, &s);
	assert_int_equal(s.refused[VSOCK_REFUSE_RX_READABLE], 1);
	fixture_free(f);
}

static void expect_spec_error(const char *const *kv, size_t n, const char *what)
{
	struct vd_param params[4];
	struct vd_spec spec = { .cls = VD_CLASS_VSOCK,
				.id = "vs0",
				.socket = "/tmp/vireo-vsock-never.sock",
				.params = params,
				.nparams = n };
	struct virtio_vsock *vs = NULL;
	char err[256] = "";

	for (size_t i = 0; i < n; i++)
		params[i] = (struct vd_param){ (char *)kv[2 * i], (char *)kv[2 * i + 1] };
	assert_int_equal(virtio_vsock_new(&spec, &vs, err, sizeof(err)), -EINVAL);
	assert_null(vs);
	if (!strstr(err, what))
		fail_msg("expected '%s' in: %s", what, err);
}

static void test_bad_specs(void **state)
{
	(void)state;
	expect_spec_error((const char *[]){ "uds", "/tmp/x" }, 1, "cid=(missing)");
	expect_spec_error((const char *[]){ "cid", "2", "uds", "/tmp/x" }, 2, "cid=2");
	expect_spec_error((const char *[]){ "cid", "4294967295", "uds", "/tmp/x" }, 2, "cid=");
	expect_spec_error((const char *[]){ "cid", "x3", "uds", "/tmp/x" }, 2, "cid=x3");
	expect_spec_error((const char *[]){ "cid", "3" }, 1, "uds=PATH is required");
	expect_spec_error((const char *[]){ "cid", "3", "uds", "/tmp/x", "buf-size", "10" }, 3,
			  "buf-size=10");
	expect_spec_error((const char *[]){ "cid", "3", "uds", "/tmp/x", "max-conns", "0" }, 3,
			  "max-conns=0");
	expect_spec_error((const char *[]){ "cid", "3", "uds", "/tmp/x", "colour", "red" }, 3,
			  "unknown key 'colour'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_cid),
		cmocka_unit_test(test_request_rst_and_event),
		cmocka_unit_test(test_rx_readable_breaks),
		cmocka_unit_test(test_bad_specs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
