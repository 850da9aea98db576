// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/vsock/engine.c with real parts: a real event loop, real unix
 * sockets in a scratch directory, and the test playing the guest with packets built
 * by hand. Covers the connection state machine (request, response, data both ways,
 * shutdown, reset), credit in both directions, the host CONNECT handshake, vireod's
 * service ports, and the hostile cases: forged CIDs, bad ops and types, data beyond
 * credit, packets for no connection, RST floods and connection floods.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/internal.h"
#include "vsock/engine.h"

#define CID  9
#define BUF  16384u
#define PEER 4096u /* the guest's buf_alloc */

struct fx {
	char dir[64];
	char uds[80];
	struct vireo_loop *loop;
	struct vsock_engine *eng;
	unsigned int wakes;
	uint8_t rx[sizeof(struct virtio_vsock_hdr) + VSOCK_MAX_PKT];
	uint32_t guest_fwd; /* what the test says it consumed */
};

static void on_wake(void *arg)
{
	((struct fx *)arg)->wakes++;
}

static struct fx *fx_new(unsigned int max_conns)
{
	static struct fx f;
	struct vsock_engine_cfg cfg;

	memset(&f, 0, sizeof(f));
	strcpy(f.dir, "/tmp/vireo-vsock-XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.uds, sizeof(f.uds), "%s/v.sock", f.dir);
	assert_int_equal(vireo_core_loop_new(&f.loop), 0);
	cfg = (struct vsock_engine_cfg){ .guest_cid = CID,
					 .uds = f.uds,
					 .buf_alloc = BUF,
					 .max_conns = max_conns,
					 .loop = f.loop,
					 .wake = on_wake,
					 .wake_arg = &f };
	assert_int_equal(vsock_engine_new(&cfg, &f.eng), 0);
	return &f;
}

static void fx_free(struct fx *f)
{
	char path[160];

	vsock_engine_free(f->eng);
	vireo_core_loop_free(f->loop);
	snprintf(path, sizeof(path), "rm -rf %s", f->dir);
	assert_int_equal(system(path), 0);
}

/* Lets the loop dispatch what is ready, then services the engine. */
static void pump(struct fx *f)
{
	for (int i = 0; i < 5; i++)
		vireo_core_loop_run_once(f->loop, 2);
	vsock_engine_service(f->eng);
}

static enum vsock_refusal send_hdr(struct fx *f, struct virtio_vsock_hdr h, const void *data,
				   uint32_t len)
{
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)data, len } };

	return vsock_engine_guest_tx(f->eng, iov, len ? 2 : 1, (uint32_t)sizeof(h) + len);
}

static enum vsock_refusal send_op(struct fx *f, uint16_t op, uint32_t gport, uint32_t hport,
				  uint32_t flags, const void *data, uint32_t len)
{
	struct virtio_vsock_hdr h = { .src_cid = CID,
				      .dst_cid = VSOCK_CID_HOST,
				      .src_port = gport,
				      .dst_port = hport,
				      .len = len,
				      .type = VIRTIO_VSOCK_TYPE_STREAM,
				      .op = op,
				      .flags = flags,
				      .buf_alloc = PEER,
				      .fwd_cnt = f->guest_fwd };

	return send_hdr(f, h, data, len);
}

/* The next packet for the guest (in f->rx), or false if none. */
static bool recv_pkt(struct fx *f, struct virtio_vsock_hdr *h, uint32_t cap)
{
	struct iovec iov = { f->rx, sizeof(*h) + cap };
	uint32_t n;

	pump(f);
	n = vsock_engine_guest_rx(f->eng, &iov, 1, (uint32_t)iov.iov_len);
	if (n == 0)
		return false;
	memcpy(h, f->rx, sizeof(*h));
	assert_int_equal(n, sizeof(*h) + h->len);
	assert_int_equal(h->src_cid, VSOCK_CID_HOST);
	assert_int_equal(h->dst_cid, CID);
	assert_int_equal(h->type, VIRTIO_VSOCK_TYPE_STREAM);
	assert_int_equal(h->buf_alloc, BUF);
	return true;
}

static void expect_op(struct fx *f, uint16_t op, uint32_t gport, uint32_t hport)
{
	struct virtio_vsock_hdr h;

	assert_true(recv_pkt(f, &h, VSOCK_MAX_PKT));
	assert_int_equal(h.op, op);
	assert_int_equal(h.dst_port, gport);
	assert_int_equal(h.src_port, hport);
}

static int host_listen(struct fx *f, uint32_t port)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s_%u", f->uds, port);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static int host_accept(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	assert_int_equal(poll(&p, 1, 2000), 1);
	return accept(lfd, NULL, NULL);
}

static struct vsock_engine_stats stats(struct fx *f)
{
	struct vsock_engine_stats s;

	vsock_engine_get_stats(f->eng, &s);
	return s;
}

/* Reads exactly @len bytes from @fd within 2 s. */
static void read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		assert_int_equal(poll(&p, 1, 2000), 1);
		r = read(fd, (uint8_t *)buf + got, len - got);
		assert_true(r > 0);
		got += (size_t)r;
	}
}

/* A guest connection to a host listener: REQUEST, RESPONSE; returns the host's fd. */
static int open_conn(struct fx *f, int lfd, uint32_t gport, uint32_t hport)
{
	int fd;

	assert_int_equal(send_op(f, VIRTIO_VSOCK_OP_REQUEST, gport, hport, 0, NULL, 0),
			 VSOCK_REFUSE_MAX);
	expect_op(f, VIRTIO_VSOCK_OP_RESPONSE, gport, hport);
	fd = host_accept(lfd);
	assert_true(fd >= 0);
	return fd;
}

static void test_guest_to_host(void **state)
{
	struct fx *f = fx_new(8);
	int lfd = host_listen(f, 5000), fd;
	struct virtio_vsock_hdr h;
	uint8_t data[3000], back[3000];

	(void)state;
	fd = open_conn(f, lfd, 1234, 5000);
	for (unsigned int i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13);
	assert_int_equal(send_op(f, VIRTIO_VSOCK_OP_RW, 1234, 5000, 0, data, sizeof(data)),
			 VSOCK_REFUSE_MAX);
	read_all(fd, back, sizeof(back));
	assert_memory_equal(back, data, sizeof(data));

	/* Host to guest: at most the guest's credit, then a CREDIT_REQUEST. */
	uint8_t big[PEER + 1000];

	memset(big, 0x5a, sizeof(big));
	assert_int_equal(write(fd, big, sizeof(big)), sizeof(big));
	assert_true(recv_pkt(f, &h, VSOCK_MAX_PKT));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RW);
	assert_int_equal(h.len, PEER);
	assert_int_equal(h.fwd_cnt, sizeof(data)); /* our fwd_cnt rides along */
	expect_op(f, VIRTIO_VSOCK_OP_CREDIT_REQUEST, 1234, 5000);
	assert_false(recv_pkt(f, &h, VSOCK_MAX_PKT)); /* asked once, then wait */
	/* The guest consumed it all: the rest comes. */
	f->guest_fwd = PEER;
	assert_int_equal(send_op(f, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1234, 5000, 0, NULL, 0),
			 VSOCK_REFUSE_MAX);
	assert_true(recv_pkt(f, &h, VSOCK_MAX_PKT));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RW);
	assert_int_equal(h.len, 1000);

	/* Host closes: the guest is told the host sends no more. */
	close(fd);
	expect_op(f, VIRTIO_VSOCK_OP_SHUTDOWN, 1234, 5000);
	/* Guest closes both ways: it gets its RST, and the connection is gone. */
	assert_int_equal(send_op(f, VIRTIO_VSOCK_OP_SHUTDOWN, 1234, 5000, 3, NULL, 0),
			 VSOCK_REFUSE_MAX);
	expect_op(f, VIRTIO_VSOCK_OP_RST, 1234, 5000);
	pump(f);
	assert_int_equal(stats(f).conns, 0);
	assert_int_equal(stats(f).bytes_to_host, sizeof(data));
	assert_int_equal(stats(f).bytes_to_guest, sizeof(big));
	close(lfd);
	fx_free(f);
}

static void test_credit_request_answered(void **state)
{
	struct fx *f = fx_new(8);
	int lfd = host_listen(f, 5000), fd;
	struct virtio_vsock_hdr h;

	(void)state;
	fd = open_conn(f, lfd, 1, 5000);
	assert_int_equal(send_op(f, VIRTIO_VSOCK_OP_CREDIT_REQUEST, 1, 5000, 0, NULL, 0),
			 VSOCK_REFUSE_MAX);
	assert_true(recv_pkt(f, &h, 0));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	assert_int_equal(h.fwd_cnt, 0);
	close(fd);
	close(lfd);
	fx_free(f);
}

static void test_no_listener_rst(void **state)
{
	struct fx *f = fx_new(8);

	(void)state;
	assert_int_equal(send_op(f, VIRTIO_VSOCK_OP_REQUEST, 77, 6000, 0, NULL, 0),
			 VSOCK_REFUSE_MAX);
	expect_op(f, VIRTIO_VSOCK_OP_RST, 77, 6000);
	pump(f);
	assert_int_equal(stats(f).conns, 0);
	fx_free(f);
}

/* A slow host reader: the engine buffers up to the credit it gave, never more. */
static void test_credit_violation(void **state)
{
	struct fx *f = fx_new(8);
	int lfd = host_listen(f, 5000), fd, sz = 4096;
	static uint8_t chunk[VSOCK_MAX_PKT];
	struct vsock_engine_stats s;
	enum vsock_refusal why = VSOCK_REFUSE_MAX;
	uint64_t sent = 0;

	(void)state;
	fd = open_conn(f, lfd, 9, 5000);
	/* Small socket buffers, and the host never reads. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	for (int i = 0; i < 200 && why == VSOCK_REFUSE_MAX; i++) {
		why = send_op(f, VIRTIO_VSOCK_OP_RW, 9, 5000, 0, chunk, 4096);
		if (why == VSOCK_REFUSE_MAX)
			sent += 4096;
	}
	/* The socket took some, the ring BUF more, and then the guest was over. */
	assert_int_equal(why, VSOCK_REFUSE_CREDIT);
	assert_true(sent >= BUF);
	assert_true(sent < 200 * 4096ull);
	expect_op(f, VIRTIO_VSOCK_OP_RST, 9, 5000);
	s = stats(f);
	assert_int_equal(s.refused[VSOCK_REFUSE_CREDIT], 1);
	/* Data for the dead connection: answered with an RST, never buffered. */
	assert_int_equal(send_op(f, VIRTIO_VSOCK_OP_RW, 9, 5000, 0, chunk, 100),
			 VSOCK_REFUSE_NO_CONN);
	expect_op(f, VIRTIO_VSOCK_OP_RST, 9, 5000);
	close(fd);
	close(lfd);
	fx_free(f);
}

static void test_hostile_headers(void **state)
{
	struct fx *f = fx_new(8);
	struct virtio_vsock_hdr h = { .src_cid = CID + 1,
				      .dst_cid = VSOCK_CID_HOST,
				      .type = VIRTIO_VSOCK_TYPE_STREAM,
				      .op = VIRTIO_VSOCK_OP_REQUEST };
	struct virtio_vsock_hdr r;
	uint8_t junk[8] = { 0 };
	struct iovec iov = { junk, sizeof(junk) };

	(void)state;
	/* Forged source: dropped, no answer (it would go to someone else). */
	assert_int_equal(send_hdr(f, h, NULL, 0), VSOCK_REFUSE_SRC_CID);
	h.src_cid = CID;
	h.dst_cid = 77;
	assert_int_equal(send_hdr(f, h, NULL, 0), VSOCK_REFUSE_DST_CID);
	assert_false(recv_pkt(f, &r, 0));
	/* Shorter than a header. */
	assert_int_equal(vsock_engine_guest_tx(f->eng, &iov, 1, sizeof(junk)),
			 VSOCK_REFUSE_TX_SHORT);
	/* Type, op, lengths: each answered with an RST to its sender. */
	h.dst_cid = VSOCK_CID_HOST;
	h.type = VIRTIO_VSOCK_TYPE_SEQPACKET;
	assert_int_equal(send_hdr(f, h, NULL, 0), VSOCK_REFUSE_TYPE);
	h.type = VIRTIO_VSOCK_TYPE_STREAM;
	h.op = 42;
	assert_int_equal(send_hdr(f, h, NULL, 0), VSOCK_REFUSE_OP);
	h.op = VIRTIO_VSOCK_OP_RW;
	h.len = 100; /* but only 8 bytes follow */
	assert_int_equal(send_hdr(f, h, junk, 8), VSOCK_REFUSE_LEN);
	h.len = VSOCK_MAX_PKT + 1;
	assert_int_equal(send_hdr(f, h, junk, 8), VSOCK_REFUSE_OVERSIZE);
	h.len = 0;
	h.op = VIRTIO_VSOCK_OP_RESPONSE; /* for nothing */
	assert_int_equal(send_hdr(f, h, NULL, 0), VSOCK_REFUSE_NO_CONN);
	for (int i = 0; i < 5; i++) {
		assert_true(recv_pkt(f, &r, 0));
		assert_int_equal(r.op, VIRTIO_VSOCK_OP_RST);
	}
	assert_false(recv_pkt(f, &r, 0));
	/* An RST for nothing is not answered. */
	h.op = VIRTIO_VSOCK_OP_RST;
	assert_int_equal(send_hdr(f, h, NULL, 0), VSOCK_REFUSE_MAX);
	assert_false(recv_pkt(f, &r, 0));
	assert_int_equal(stats(f).conns, 0);
	fx_free(f);
}

/* A guest that floods without taking its answers: the RSTs owed stay bounded. */
static void test_rst_flood_bounded(void **state)
{
	struct fx *f = fx_new(8);
	struct virtio_vsock_hdr r;
	unsigned int n = 0;

	(void)state;
	for (uint32_t i = 0; i < 10000; i++)
		assert_int_equal(send_op(f, VIRTIO_VSOCK_OP_RW, i, 1, 0, NULL, 0),
				 VSOCK_REFUSE_NO_CONN);
	while (recv_pkt(f, &r, 0))
		n++;
	assert_int_equal(n, 64);
	assert_int_equal(stats(f).rst_dropped, 10000 - 64);
	assert_int_equal(stats(f).refused[VSOCK_REFUSE_NO_CONN], 10000);
	fx_free(f);
}

static void test_conn_limit(void **state)
{
	struct fx *f = fx_new(2);
	int lfd = host_listen(f, 5000), a, b;

	(void)state;
	a = open_conn(f, lfd, 1, 5000);
	b = open_conn(f, lfd, 2, 5000);
	assert_int_equal(send_op(f, VIRTIO_VSOCK_OP_REQUEST, 3, 5000, 0, NULL, 0),
			 VSOCK_REFUSE_CONN_LIMIT);
	expect_op(f, VIRTIO_VSOCK_OP_RST, 3, 5000);
	/* A second REQUEST on a live connection resets it. */
	assert_int_equal(send_op(f, VIRTIO_VSOCK_OP_REQUEST, 1, 5000, 0, NULL, 0),
			 VSOCK_REFUSE_STATE);
	expect_op(f, VIRTIO_VSOCK_OP_RST, 1, 5000);
	pump(f);
	assert_int_equal(stats(f).conns, 1);
	/* RW before the connection is up is refused too. */
	assert_int_equal(send_op(f, VIRTIO_VSOCK_OP_REQUEST, 4, 5000, 0, NULL, 0),
			 VSOCK_REFUSE_MAX);
	assert_int_equal(send_op(f, VIRTIO_VSOCK_OP_RW, 4, 5000, 0, "x", 1), VSOCK_REFUSE_STATE);
	/* A device reset forgets them all. */
	vsock_engine_reset(f->eng);
	assert_int_equal(stats(f).conns, 0);
	close(a);
	close(b);
	close(lfd);
	fx_free(f);
}

/* A request on the address of a connection still owed an RST: the RST is not sent,
 * or it would reset the new connection. */
static void test_reuse_before_rst(void **state)
{
	struct fx *f = fx_new(8);
	int lfd = host_listen(f, 5000), a, b;
	struct virtio_vsock_hdr h;

	(void)state;
	a = open_conn(f, lfd, 5, 5000);
	assert_int_equal(send_op(f, VIRTIO_VSOCK_OP_REQUEST, 5, 5000, 0, NULL, 0),
			 VSOCK_REFUSE_STATE);
	b = open_conn(f, lfd, 5, 5000);
	assert_false(recv_pkt(f, &h, 0));
	assert_int_equal(stats(f).conns, 1);
	close(a);
	close(b);
	close(lfd);
	fx_free(f);
}

static int host_connect(struct fx *f)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(a.sun_path, f->uds);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void test_host_connect(void **state)
{
	struct fx *f = fx_new(8);
	struct virtio_vsock_hdr h;
	char line[32] = "";
	int fd = host_connect(f), bad;
	uint32_t hport;

	(void)state;
	/* The line may come in pieces; data after it is not eaten. */
	assert_int_equal(write(fd, "CONNECT ", 8), 8);
	pump(f);
	assert_false(recv_pkt(f, &h, 0));
	assert_int_equal(write(fd, "700\nhello", 9), 9);
	assert_true(recv_pkt(f, &h, 0));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_REQUEST);
	assert_int_equal(h.dst_port, 700);
	hport = h.src_port;
	assert_int_equal(send_op(f, VIRTIO_VSOCK_OP_RESPONSE, 700, hport, 0, NULL, 0),
			 VSOCK_REFUSE_MAX);
	snprintf(line, sizeof(line), "OK %u\n", hport);
	{
		char got[32] = "";

		read_all(fd, got, strlen(line));
		assert_string_equal(got, line);
	}
	assert_true(recv_pkt(f, &h, VSOCK_MAX_PKT));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RW);
	assert_int_equal(h.len, 5);
	assert_memory_equal(f->rx + sizeof(h), "hello", 5);
	/* The guest resets: the host sees EOF. */
	assert_int_equal(send_op(f, VIRTIO_VSOCK_OP_RST, 700, hport, 0, NULL, 0), VSOCK_REFUSE_MAX);
	pump(f);
	assert_int_equal(read(fd, line, sizeof(line)), 0);
	close(fd);

	/* A client that says something else is closed, and the guest hears nothing. */
	bad = host_connect(f);
	assert_int_equal(write(bad, "HELLO 1\n", 8), 8);
	pump(f);
	assert_false(recv_pkt(f, &h, 0));
	assert_int_equal(read(bad, line, sizeof(line)), 0);
	close(bad);
	fx_free(f);
}

static int g_service_fd = -1;
static uint32_t g_service_port;

static void on_service(void *arg, int fd, uint32_t guest_port)
{
	(void)arg;
	g_service_fd = fd;
	g_service_port = guest_port;
}

static void test_service_ports(void **state)
{
	struct fx *f = fx_new(8);
	struct virtio_vsock_hdr h;
	char got[8] = "";
	int fd;

	(void)state;
	assert_int_equal(vsock_engine_bind_port(f->eng, 1, on_service, NULL), 0);
	assert_int_equal(vsock_engine_bind_port(f->eng, 1, on_service, NULL), -EEXIST);
	assert_int_equal(send_op(f, VIRTIO_VSOCK_OP_REQUEST, 333, 1, 0, NULL, 0), VSOCK_REFUSE_MAX);
	expect_op(f, VIRTIO_VSOCK_OP_RESPONSE, 333, 1);
	assert_true(g_service_fd >= 0);
	assert_int_equal(g_service_port, 333);
	assert_int_equal(send_op(f, VIRTIO_VSOCK_OP_RW, 333, 1, 0, "ping", 4), VSOCK_REFUSE_MAX);
	read_all(g_service_fd, got, 4);
	assert_string_equal(got, "ping");
	close(g_service_fd);
	expect_op(f, VIRTIO_VSOCK_OP_SHUTDOWN, 333, 1); /* the service closed */
	assert_int_equal(vsock_engine_bind_port(f->eng, 1, NULL, NULL), 0);

	/* A service connecting to the guest: REQUEST out, no OK line on the fd. */
	assert_int_equal(vsock_engine_connect(f->eng, 1024, &fd), 0);
	assert_true(recv_pkt(f, &h, 0));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_REQUEST);
	assert_int_equal(h.dst_port, 1024);
	assert_int_equal(send_op(f, VIRTIO_VSOCK_OP_RESPONSE, 1024, h.src_port, 0, NULL, 0),
			 VSOCK_REFUSE_MAX);
	assert_int_equal(write(fd, "pong", 4), 4);
	assert_true(recv_pkt(f, &h, VSOCK_MAX_PKT));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RW);
	assert_memory_equal(f->rx + sizeof(h), "pong", 4);
	close(fd);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_to_host),
		cmocka_unit_test(test_credit_request_answered),
		cmocka_unit_test(test_no_listener_rst),
		cmocka_unit_test(test_credit_violation),
		cmocka_unit_test(test_hostile_headers),
		cmocka_unit_test(test_rst_flood_bounded),
		cmocka_unit_test(test_conn_limit),
		cmocka_unit_test(test_reuse_before_rst),
		cmocka_unit_test(test_host_connect),
		cmocka_unit_test(test_service_ports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
