// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/virtio/net.c (with host/netdev.c): a real vhost-user device
 * served by the virtio-net model over net_test_driver.so, driven by the test frontend
 * with a mock guest's memfd as guest RAM. Transmit chains (header split anywhere)
 * reach the driver as frames; received frames land in mergeable buffers with the
 * right num_buffers; malformed chains are refused with their named reason. With a
 * driver announcing offloads: the features offered, a TSO frame's metadata reaching the
 * driver, hostile offsets refused, and a partial checksum on receive passed to a guest
 * that takes it or completed for one that does not.
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
#include "host/loader.h"
#include "mock_guest.h"
#include "vhost-user/dev.h"
#include "virtio/net.h"
#include "virtio/net_wire.h"
#include "vu_frontend.h"

#define GUEST_GPA  0x100000ull
#define GUEST_SIZE (8ull << 20)
#define QSIZE	   64
#define RX_BUF	   1536u

static const char *g_driver;

struct fixture {
	char dir[64];
	char sock[128];
	char capture[128];
	char meta[128];
	struct host_registry *reg;
	struct virtio_net *net;
	struct mock_guest g;
	struct vu_fe fe;
	int kick, call;
};

struct fx_opts {
	const char *frames, *mtu, *offloads; /* driver parameters */
	bool rx_csum;			     /* driver parameter rx_csum=on */
	bool follow;			     /* driver parameter follow=on */
	uint64_t want;			     /* features the "guest" accepts, of those offered */
};

/* Opens the device with the driver parameters of @o, and connects. */
static struct fixture *fixture_open(const struct fx_opts *o)
{
	static struct fixture f;
	struct host_driver *drv = NULL;
	struct vd_param params[7];
	struct vd_spec spec;
	char err[256] = "";

	memset(&f, 0, sizeof(f));
	f.kick = f.call = -1;
	strcpy(f.dir, "/tmp/vireo-net-XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.sock, sizeof(f.sock), "%s/net.sock", f.dir);
	snprintf(f.capture, sizeof(f.capture), "%s/capture", f.dir);
	snprintf(f.meta, sizeof(f.meta), "%s/meta", f.dir);
	assert_int_equal(host_registry_new(&f.reg), 0);
	assert_int_equal(host_load(f.reg, g_driver, &drv, NULL), 0);
	params[0] = (struct vd_param){ .key = "capture", .value = f.capture };
	params[1] = (struct vd_param){ .key = "frames", .value = (char *)o->frames };
	params[2] = (struct vd_param){ .key = "mtu", .value = (char *)o->mtu };
	params[3] = (struct vd_param){ .key = "offloads", .value = (char *)o->offloads };
	params[4] = (struct vd_param){ .key = "meta", .value = f.meta };
	params[5] = (struct vd_param){ .key = "rx_csum", .value = o->rx_csum ? "on" : "off" };
	params[6] = (struct vd_param){ .key = "follow", .value = o->follow ? "on" : "off" };
	spec = (struct vd_spec){ .cls = VD_CLASS_NET,
				 .id = "net0",
				 .driver = "net-test",
				 .socket = f.sock,
				 .num_queues = 1,
				 .params = params,
				 .nparams = 7 };
	if (virtio_net_new(&spec, drv, &f.net, err, sizeof(err)) < 0)
		fail_msg("virtio_net_new: %s", err);
	assert_int_equal(virtio_net_start(f.net), 0);
	assert_int_equal(mock_guest_init(&f.g, GUEST_GPA, GUEST_SIZE, 0), 0);
	mock_queue_init(&f.g, QSIZE);
	assert_int_equal(vu_fe_connect(&f.fe, f.sock, 2000), 0);
	assert_int_equal(vu_fe_negotiate(&f.fe, o->want), 0);
	assert_true(f.fe.features & (1ull << VIRTIO_NET_F_MRG_RXBUF));
	assert_int_equal(vu_fe_set_mem_table(&f.fe, &f.g), 0);
	return &f;
}

/* Opens the device with driver parameters frames= and mtu= (no offloads). */
static struct fixture *fixture_new(const char *frames, const char *mtu)
{
	const struct fx_opts o = { .frames = frames, .mtu = mtu, .offloads = "0", .want = ~0ull };
	struct fixture *f = fixture_open(&o);

	assert_false(f->fe.features & (1ull << VIRTIO_NET_F_CSUM)); /* no offloads */
	return f;
}

static void fixture_free(struct fixture *f)
{
	vu_fe_close(&f->fe);
	virtio_net_free(f->net);
	host_registry_free(f->reg);
	if (f->kick >= 0)
		close(f->kick);
	if (f->call >= 0)
		close(f->call);
	mock_guest_fini(&f->g);
	unlink(f->capture);
	unlink(f->meta);
	rmdir(f->dir);
}

/* Waits until the used ring holds @n entries. */
static void wait_used(struct fixture *f, uint16_t n)
{
	for (int i = 0; i < 200 && mock_used_idx(&f->g) < n; i++)
		vu_fe_wait_call(f->call, 10);
	assert_int_equal(mock_used_idx(&f->g), n);
}

static void get_stats(struct fixture *f, struct virtio_net_stats *s)
{
	virtio_net_get_stats(f->net, s);
}

/* A guest buffer of @len bytes holding @src (or zeroes). */
static uint64_t buf(struct fixture *f, const void *src, uint32_t len)
{
	uint64_t gpa = mock_alloc(&f->g, len ? len : 1, 16);

	if (src)
		memcpy(mock_ptr(&f->g, gpa), src, len);
	return gpa;
}

static void frame(uint8_t *b, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 7 + seed);
}

/* Reads the capture file: the frames the driver took, as length + bytes. */
static size_t read_capture(struct fixture *f, uint8_t *out, size_t cap)
{
	FILE *fp = fopen(f->capture, "rb");
	size_t n;

	assert_non_null(fp);
	n = fread(out, 1, cap, fp);
	fclose(fp);
	return n;
}

static void test_tx_split_header(void **state)
{
	struct fixture *f = fixture_new("", "1500");
	struct virtio_net_hdr_v1 h = { 0 };
	uint8_t fr[100], hb[12], cap[256];
	struct virtio_net_stats s;
	uint32_t len;

	(void)state;
	frame(fr, sizeof(fr), 1);
	memcpy(hb, &h, sizeof(hb));
	/* Header cut 5 + 7, the frame cut 30 + 70 across two more buffers. */
	struct mock_buf split[] = {
		{ buf(f, hb, 5), 5, false },
		{ buf(f, hb + 5, 7), 7, false },
		{ buf(f, fr, 30), 30, false },
		{ buf(f, fr + 30, 70), 70, false },
	};
	uint8_t whole[12 + 100];

	memcpy(whole, hb, 12);
	memcpy(whole + 12, fr, 100);
	/* Header and frame in one buffer. */
	struct mock_buf one[] = { { buf(f, whole, sizeof(whole)), sizeof(whole), false } };

	uint16_t h1 = mock_chain(&f->g, split, 4);
	uint16_t h2 = mock_chain(&f->g, one, 1);

	assert_int_equal(vu_fe_start_queue(&f->fe, &f->g, 1, &f->kick, &f->call), 0);
	wait_used(f, 2);
	assert_int_equal(mock_used_elem(&f->g, 0).id, h1);
	assert_int_equal(mock_used_elem(&f->g, 0).len, 0);
	assert_int_equal(mock_used_elem(&f->g, 1).id, h2);
	assert_int_equal(read_capture(f, cap, sizeof(cap)), 2 * (4 + 100));
	memcpy(&len, cap, 4);
	assert_int_equal(len, 100);
	assert_memory_equal(cap + 4, fr, 100);
	memcpy(&len, cap + 104, 4);
	assert_int_equal(len, 100);
	assert_memory_equal(cap + 108, fr, 100);
	get_stats(f, &s);
	assert_int_equal(s.tx_packets, 2);
	assert_int_equal(s.tx_bytes, 200);
	fixture_free(f);
}

static void test_tx_malformed(void **state)
{
	struct fixture *f = fixture_new("", "1500");
	struct virtio_net_hdr_v1 gso = { .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1448 };
	uint8_t ok[12 + 60] = { 0 }, runt[12 + 10] = { 0 }, bad[12 + 60] = { 0 };
	struct virtio_net_stats s;
	uint8_t cap[256];

	(void)state;
	memcpy(bad, &gso, sizeof(gso));
	struct mock_buf writable[] = { { buf(f, ok, sizeof(ok)), sizeof(ok), false },
				       { buf(f, NULL, 64), 64, true } };
	struct mock_buf shorthdr[] = { { buf(f, ok, 8), 8, false } };
	struct mock_buf small[] = { { buf(f, runt, sizeof(runt)), sizeof(runt), false } };
	struct mock_buf offload[] = { { buf(f, bad, sizeof(bad)), sizeof(bad), false } };
	struct mock_buf good[] = { { buf(f, ok, sizeof(ok)), sizeof(ok), false } };

	mock_chain(&f->g, writable, 2);
	mock_chain(&f->g, shorthdr, 1);
	mock_chain(&f->g, small, 1);
	mock_chain(&f->g, offload, 1);
	mock_chain(&f->g, good, 1);
	assert_int_equal(vu_fe_start_queue(&f->fe, &f->g, 1, &f->kick, &f->call), 0);
	wait_used(f, 5);
	get_stats(f, &s);
	assert_int_equal(s.refused[VNET_REFUSE_TX_WRITABLE], 1);
	assert_int_equal(s.refused[VNET_REFUSE_TX_SHORT], 1);
	assert_int_equal(s.refused[VNET_REFUSE_TX_RUNT], 1);
	assert_int_equal(s.refused[VNET_REFUSE_TX_OFFLOAD], 1);
	assert_int_equal(s.tx_dropped, 4);
	assert_int_equal(s.tx_packets, 1); /* the good one still goes */
	assert_int_equal(read_capture(f, cap, sizeof(cap)), 4 + 60);
	fixture_free(f);
}

/* Checks a received frame of @len bytes, the driver's @nth, across @nbufs buffers. */
static void check_rx(struct fixture *f, const uint64_t *gpas, uint16_t used0, uint32_t len,
		     uint8_t nth, uint16_t nbufs)
{
	struct virtio_net_hdr_v1 h;
	uint32_t left = 12 + len, off = 0;

	memcpy(&h, mock_ptr(&f->g, gpas[mock_used_elem(&f->g, used0).id]), sizeof(h));
	assert_int_equal(h.num_buffers, nbufs);
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.gso_type, 0);
	for (uint16_t i = 0; i < nbufs; i++) {
		struct vireo_vring_used_elem e = mock_used_elem(&f->g, (uint16_t)(used0 + i));
		const uint8_t *b = mock_ptr(&f->g, gpas[e.id]);
		uint32_t l = left < RX_BUF ? left : RX_BUF;

		assert_int_equal(e.len, l);
		for (uint32_t x = i == 0 ? 12 : 0; x < l; x++, off++)
			assert_int_equal(b[x], (uint8_t)(off + nth));
		left -= l;
	}
	assert_int_equal(off, len);
}

static void test_rx_mergeable(void **state)
{
	/* MTU 9000: a largest frame needs 6 of the guest's 1536-byte buffers. */
	struct fixture *f = fixture_new("100,4000,1500", "9000");
	struct virtio_net_stats s;
	uint64_t gpas[QSIZE];

	(void)state;
	for (unsigned int i = 0; i < 16; i++) {
		uint64_t gpa = buf(f, NULL, RX_BUF);
		struct mock_buf b = { gpa, RX_BUF, true };
		uint16_t head = mock_chain(&f->g, &b, 1);

		gpas[head] = gpa;
	}
	assert_int_equal(vu_fe_start_queue(&f->fe, &f->g, 0, &f->kick, &f->call), 0);
	wait_used(f, 1 + 3 + 1);
	check_rx(f, gpas, 0, 100, 0, 1);
	check_rx(f, gpas, 1, 4000, 1, 3);
	check_rx(f, gpas, 4, 1500, 2, 1);
	get_stats(f, &s);
	assert_int_equal(s.rx_packets, 3);
	assert_int_equal(s.rx_bytes, 5600);
	assert_int_equal(s.rx_buffers, 5);
	/* Chains taken for a largest frame but not filled went back on the ring. */
	assert_int_equal(mock_used_idx(&f->g), 5);
	fixture_free(f);
}

static void test_rx_waits_for_buffers(void **state)
{
	/* MTU 9000 needs 9030 bytes of buffers; 3 x 1536 are not enough. */
	struct fixture *f = fixture_new("3000", "9000");
	struct virtio_net_stats s;
	uint64_t gpas[QSIZE];

	(void)state;
	for (unsigned int i = 0; i < 3; i++) {
		uint64_t gpa = buf(f, NULL, RX_BUF);
		struct mock_buf b = { gpa, RX_BUF, true };

		gpas[mock_chain(&f->g, &b, 1)] = gpa;
	}
	assert_int_equal(vu_fe_start_queue(&f->fe, &f->g, 0, &f->kick, &f->call), 0);
	for (int i = 0; i < 200; i++) {
		get_stats(f, &s);
		if (s.rx_no_buffers)
			break;
		usleep(10000);
	}
	assert_true(s.rx_no_buffers >= 1);
	assert_int_equal(mock_used_idx(&f->g), 0);
	/* Three more: the chains given back are taken again, with the new ones. */
	for (unsigned int i = 0; i < 3; i++) {
		uint64_t gpa = buf(f, NULL, RX_BUF);
		struct mock_buf b = { gpa, RX_BUF, true };

		gpas[mock_chain(&f->g, &b, 1)] = gpa;
	}
	vu_fe_kick(f->kick);
	wait_used(f, 2);
	check_rx(f, gpas, 0, 3000, 0, 2);
	fixture_free(f);
}

static void test_rx_one_buffer_per_frame(void **state)
{
	struct fixture *f = fixture_new("60,1514,1000", "1500");
	uint64_t gpas[QSIZE];

	(void)state;
	for (unsigned int i = 0; i < 4; i++) {
		uint64_t gpa = buf(f, NULL, RX_BUF);
		struct mock_buf b = { gpa, RX_BUF, true };

		gpas[mock_chain(&f->g, &b, 1)] = gpa;
	}
	assert_int_equal(vu_fe_start_queue(&f->fe, &f->g, 0, &f->kick, &f->call), 0);
	wait_used(f, 3);
	check_rx(f, gpas, 0, 60, 0, 1);
	check_rx(f, gpas, 1, 1514, 1, 1);
	check_rx(f, gpas, 2, 1000, 2, 1);
	fixture_free(f);
}

static void test_rx_readable_refused(void **state)
{
	struct fixture *f = fixture_new("60", "1500");
	struct mock_buf b[] = { { buf(f, NULL, 16), 16, false },
				{ buf(f, NULL, RX_BUF), RX_BUF, true } };
	struct virtio_net_stats s;
	struct vu_dev_stats vs;

	(void)state;
	mock_chain(&f->g, b, 2);
	assert_int_equal(vu_fe_start_queue(&f->fe, &f->g, 0, &f->kick, &f->call), 0);
	for (int i = 0; i < 200; i++) {
		get_stats(f, &s);
		if (s.refused[VNET_REFUSE_RX_READABLE])
			break;
		usleep(10000);
	}
	assert_int_equal(s.refused[VNET_REFUSE_RX_READABLE], 1);
	assert_int_equal(s.rx_packets, 0);
	virtio_net_vu_stats(f->net, &vs);
	assert_true(vs.broken);
	assert_string_equal(virtio_net_refusal_name(VNET_REFUSE_RX_READABLE),
			    "refused_rx_readable");
	fixture_free(f);
}

/* The test driver's record of one transmitted frame's metadata (net_test_driver.c). */
struct t_meta {
	uint32_t flags;
	uint16_t gso_type, gso_size, hdr_len, csum_start, csum_offset, pad;
};

#define F(bit) (1ull << (bit))

static void test_offloads_tx_metadata(void **state)
{
	const struct fx_opts o = { .frames = "", .mtu = "1500", .offloads = "31", .want = ~0ull };
	struct fixture *f = fixture_open(&o);
	const uint64_t all = F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) |
			     F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) |
			     F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6);
	const struct virtio_net_hdr_v1 tso = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					       .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
					       .hdr_len = 66,
					       .gso_size = 1448,
					       .csum_start = 34,
					       .csum_offset = 16 };
	struct virtio_net_hdr_v1 bad = tso, tiny = tso;
	static uint8_t a[12 + 3000], b[12 + 3000], c[12 + 3000];
	struct virtio_net_stats s;
	struct t_meta m;
	FILE *fp;

	(void)state;
	assert_int_equal(f->fe.features & all, all);
	bad.csum_offset = 3000; /* the checksum field past the frame */
	tiny.gso_size = 8;	/* thousands of segments from one header */
	memcpy(a, &tso, 12);
	memcpy(b, &bad, 12);
	memcpy(c, &tiny, 12);
	struct mock_buf ba[] = { { buf(f, a, sizeof(a)), sizeof(a), false } };
	struct mock_buf bb[] = { { buf(f, b, sizeof(b)), sizeof(b), false } };
	struct mock_buf bc[] = { { buf(f, c, sizeof(c)), sizeof(c), false } };

	mock_chain(&f->g, ba, 1);
	mock_chain(&f->g, bb, 1);
	mock_chain(&f->g, bc, 1);
	assert_int_equal(vu_fe_start_queue(&f->fe, &f->g, 1, &f->kick, &f->call), 0);
	wait_used(f, 3);
	get_stats(f, &s);
	assert_int_equal(s.tx_packets, 1);
	assert_int_equal(s.tx_gso, 1);
	assert_int_equal(s.refused[VNET_REFUSE_TX_CSUM], 1);
	assert_int_equal(s.refused[VNET_REFUSE_TX_GSO], 1);
	assert_string_equal(virtio_net_refusal_name(VNET_REFUSE_TX_GSO), "refused_tx_gso");
	/* What the driver saw of the good one. */
	fp = fopen(f->meta, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(&m, sizeof(m), 1, fp), 1);
	assert_int_equal(fread(&m, 1, 1, fp), 0); /* only one */
	fclose(fp);
	assert_int_equal(m.flags, VIREO_PKT_F_NEEDS_CSUM);
	assert_int_equal(m.gso_type, VIREO_PKT_GSO_TCPV4);
	assert_int_equal(m.gso_size, 1448);
	assert_int_equal(m.hdr_len, 66);
	assert_int_equal(m.csum_start, 34);
	assert_int_equal(m.csum_offset, 16);
	fixture_free(f);
}

/* The ones' complement sum of @b[from, to) folded: 0xffff over a valid checksum. */
static uint16_t ones_sum(const uint8_t *b, uint32_t from, uint32_t to)
{
	uint32_t sum = 0;

	for (uint32_t i = from; i < to; i++)
		sum += (i - from) & 1 ? b[i] : (uint32_t)b[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * A frame with a partial checksum: passed on, or completed for a guest without
 * GUEST_CSUM; or, with a driver that follows set_offloads, never made partial at all.
 */
static void rx_partial_csum(uint64_t want, bool guest_csum, bool follow)
{
	const struct fx_opts o = { .frames = "100",
				   .mtu = "1500",
				   .offloads = "31",
				   .rx_csum = true,
				   .follow = follow,
				   .want = want };
	struct fixture *f = fixture_open(&o);
	uint64_t gpa = buf(f, NULL, RX_BUF);
	struct mock_buf b = { gpa, RX_BUF, true };
	struct virtio_net_hdr_v1 h;
	struct virtio_net_stats s;
	const uint8_t *fr;
	uint32_t sum;

	/* With GUEST_TSO the model holds out for buffers a 64 KiB frame fits in. */
	mock_chain(&f->g, &b, 1);
	for (unsigned int i = 0; i < 47; i++) {
		struct mock_buf more = { buf(f, NULL, RX_BUF), RX_BUF, true };

		mock_chain(&f->g, &more, 1);
	}
	assert_int_equal(vu_fe_start_queue(&f->fe, &f->g, 0, &f->kick, &f->call), 0);
	wait_used(f, 1);
	assert_int_equal(mock_used_elem(&f->g, 0).len, 12 + 100);
	memcpy(&h, mock_ptr(&f->g, gpa), sizeof(h));
	fr = (const uint8_t *)mock_ptr(&f->g, gpa) + 12;
	get_stats(f, &s);
	if (follow) {
		/* The driver heard the guest refuse RX_CSUM: a whole frame, nothing to fix. */
		assert_int_equal(h.flags, 0);
		assert_int_equal(fr[50], (uint8_t)(50 + 0));
		assert_int_equal(s.rx_csum_done, 0);
	} else if (guest_csum) {
		assert_int_equal(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
		assert_int_equal(h.csum_start, 34);
		assert_int_equal(h.csum_offset, 16);
		assert_int_equal(fr[50], (uint8_t)(50 + 0)); /* left as the driver gave it */
		assert_int_equal(s.rx_csum_done, 0);
	} else {
		/*
		 * The field held the sender's partial sum (here the driver's pattern bytes
		 * 50, 51), which a receiver adds back as the pseudo-header: the total folds
		 * to 0xffff once the checksum is complete.
		 */
		assert_int_equal(h.flags, 0);
		sum = ones_sum(fr, 34, 100) + ((50u << 8) | 51u);
		sum = (sum & 0xffff) + (sum >> 16);
		assert_int_equal(sum, 0xffff);
		assert_int_equal(s.rx_csum_done, 1);
	}
	fixture_free(f);
}

static void test_rx_partial_csum_to_guest(void **state)
{
	(void)state;
	rx_partial_csum(~0ull, true, false);
}

static void test_rx_partial_csum_completed(void **state)
{
	(void)state;
	rx_partial_csum(~(F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) |
			  F(VIRTIO_NET_F_GUEST_TSO6)),
			false, false);
}

/* set_offloads tells the driver what the guest refused, before any queue runs. */
static void test_rx_offloads_refused_reach_driver(void **state)
{
	(void)state;
	rx_partial_csum(~(F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) |
			  F(VIRTIO_NET_F_GUEST_TSO6)),
			false, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tx_split_header),
		cmocka_unit_test(test_tx_malformed),
		cmocka_unit_test(test_rx_one_buffer_per_frame),
		cmocka_unit_test(test_rx_mergeable),
		cmocka_unit_test(test_rx_waits_for_buffers),
		cmocka_unit_test(test_rx_readable_refused),
		cmocka_unit_test(test_offloads_tx_metadata),
		cmocka_unit_test(test_rx_partial_csum_to_guest),
		cmocka_unit_test(test_rx_partial_csum_completed),
		cmocka_unit_test(test_rx_offloads_refused_reach_driver),
	};

	g_driver = getenv("VIREO_TEST_NET_DRIVER");
	if (!g_driver) {
		fprintf(stderr, "VIREO_TEST_NET_DRIVER must be set (meson does)\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
