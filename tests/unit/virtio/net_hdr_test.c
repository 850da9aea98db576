// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/virtio/net_hdr.c: a transmit header becomes offload metadata
 * only within the features the guest accepted and inside the frame (a hostile guest's
 * offsets, segment sizes, flags and types are refused by name); a received frame's
 * metadata becomes the header the guest reads, or is completed here (a partial
 * checksum for a guest without GUEST_CSUM) or refused (a coalesced frame for a guest
 * without GUEST_TSO). The software checksum is checked against a known TCP frame.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "virtio/net_internal.h"
#include "virtio/net_wire.h"
#include "virtio/virtio_wire.h"

#define F(bit) (1ull << (bit))
#define ALL_TX (F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6))
#define ALL_RX \
	(F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6))
#define FRAME	1514u
#define TCP_CSO 16u /* the checksum's offset in a TCP header */

static struct vireo_pkt pkt(uint32_t len)
{
	return (struct vireo_pkt){ .struct_size = sizeof(struct vireo_pkt), .len = len };
}

static enum virtio_net_refusal tx(struct virtio_net_hdr_v1 h, uint64_t acked, uint32_t len,
				  struct vireo_pkt *out)
{
	*out = pkt(len);
	return virtio_net_hdr_to_pkt(&h, acked, out);
}

static void test_tx_plain_frame(void **state)
{
	struct vireo_pkt p;

	(void)state;
	assert_int_equal(tx((struct virtio_net_hdr_v1){ 0 }, 0, FRAME, &p), VNET_REFUSE_MAX);
	assert_int_equal(p.flags, 0);
	assert_int_equal(p.gso_type, VIREO_PKT_GSO_NONE);
}

static void test_tx_tso4_frame(void **state)
{
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				       .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
				       .hdr_len = 66,
				       .gso_size = 1448,
				       .csum_start = 34,
				       .csum_offset = TCP_CSO };
	struct vireo_pkt p;

	(void)state;
	assert_int_equal(tx(h, ALL_TX, 65000, &p), VNET_REFUSE_MAX);
	assert_int_equal(p.flags, VIREO_PKT_F_NEEDS_CSUM);
	assert_int_equal(p.csum_start, 34);
	assert_int_equal(p.csum_offset, TCP_CSO);
	assert_int_equal(p.gso_type, VIREO_PKT_GSO_TCPV4);
	assert_int_equal(p.gso_size, 1448);
	assert_int_equal(p.hdr_len, 66);
	/* TCPv6 with TSO6. */
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	h.csum_start = 54;
	assert_int_equal(tx(h, ALL_TX, 65000, &p), VNET_REFUSE_MAX);
	assert_int_equal(p.gso_type, VIREO_PKT_GSO_TCPV6);
}

static void test_tx_offloads_not_accepted(void **state)
{
	struct virtio_net_hdr_v1 csum = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					  .csum_start = 34,
					  .csum_offset = TCP_CSO };
	struct virtio_net_hdr_v1 tso = csum;
	struct vireo_pkt p;

	(void)state;
	tso.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	tso.gso_size = 1448;
	assert_int_equal(tx(csum, 0, FRAME, &p), VNET_REFUSE_TX_OFFLOAD);
	assert_int_equal(tx(tso, F(VIRTIO_NET_F_CSUM), FRAME, &p), VNET_REFUSE_TX_OFFLOAD);
	assert_int_equal(tx(tso, F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO6), FRAME, &p),
			 VNET_REFUSE_TX_OFFLOAD);
	tso.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	assert_int_equal(tx(tso, F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4), FRAME, &p),
			 VNET_REFUSE_TX_OFFLOAD);
}

static void test_tx_hostile_headers(void **state)
{
	const struct virtio_net_hdr_v1 good = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
						.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
						.hdr_len = 66,
						.gso_size = 1448,
						.csum_start = 34,
						.csum_offset = TCP_CSO };
	struct virtio_net_hdr_v1 h;
	struct vireo_pkt p;

	(void)state;
	/* Flags a driver never sets on transmit (5.1.6.2.1), and unknown ones. */
	h = good;
	h.flags |= VIRTIO_NET_HDR_F_DATA_VALID;
	assert_int_equal(tx(h, ALL_TX, FRAME, &p), VNET_REFUSE_TX_OFFLOAD);
	h.flags = 0x81;
	assert_int_equal(tx(h, ALL_TX, FRAME, &p), VNET_REFUSE_TX_OFFLOAD);
	/* Checksum offsets: the field past the frame's end, in the Ethernet header. */
	h = good;
	h.csum_offset = 0xffff;
	assert_int_equal(tx(h, ALL_TX, FRAME, &p), VNET_REFUSE_TX_CSUM);
	h = good;
	h.csum_start = FRAME - 1;
	h.csum_offset = 0;
	assert_int_equal(tx(h, ALL_TX, FRAME, &p), VNET_REFUSE_TX_CSUM);
	h.csum_start = FRAME - 2; /* the last two bytes: fits */
	assert_int_equal(tx(h, ALL_TX, FRAME, &p), VNET_REFUSE_MAX);
	h = good;
	h.csum_start = 2;
	assert_int_equal(tx(h, ALL_TX, FRAME, &p), VNET_REFUSE_TX_CSUM);
	h.csum_start = 0xffff;
	h.csum_offset = 0xffff; /* no 16-bit wrap */
	assert_int_equal(tx(h, ALL_TX, FRAME, &p), VNET_REFUSE_TX_CSUM);
	/* Segmentation: no checksum request, a silly segment size, hdr_len past the end. */
	h = good;
	h.flags = 0;
	assert_int_equal(tx(h, ALL_TX, FRAME, &p), VNET_REFUSE_TX_GSO);
	h = good;
	h.gso_size = 0;
	assert_int_equal(tx(h, ALL_TX, FRAME, &p), VNET_REFUSE_TX_GSO);
	h.gso_size = 1;
	assert_int_equal(tx(h, ALL_TX, FRAME, &p), VNET_REFUSE_TX_GSO);
	h = good;
	h.hdr_len = FRAME + 1;
	assert_int_equal(tx(h, ALL_TX, FRAME, &p), VNET_REFUSE_TX_GSO);
	/* Types never offered: UDP, ECN, garbage. */
	h = good;
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	assert_int_equal(tx(h, ALL_TX, FRAME, &p), VNET_REFUSE_TX_OFFLOAD);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	assert_int_equal(tx(h, ALL_TX, FRAME, &p), VNET_REFUSE_TX_OFFLOAD);
	h.gso_type = 0x7f;
	assert_int_equal(tx(h, ALL_TX, FRAME, &p), VNET_REFUSE_TX_OFFLOAD);
}

static void test_rx_header(void **state)
{
	struct virtio_net_hdr_v1 h;
	struct vireo_pkt p = pkt(65000);

	(void)state;
	p.flags = VIREO_PKT_F_NEEDS_CSUM;
	p.csum_start = 34;
	p.csum_offset = TCP_CSO;
	p.gso_type = VIREO_PKT_GSO_TCPV4;
	p.gso_size = 1448;
	p.hdr_len = 66;
	assert_int_equal(virtio_net_pkt_to_hdr(&p, ALL_RX, &h), 0);
	assert_int_equal(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(h.gso_size, 1448);
	assert_int_equal(h.hdr_len, 66);
	assert_int_equal(h.csum_start, 34);
	assert_int_equal(h.csum_offset, TCP_CSO);
	/* A coalesced frame for a guest without GUEST_TSO4 cannot be delivered. */
	assert_int_equal(virtio_net_pkt_to_hdr(&p, F(VIRTIO_NET_F_GUEST_CSUM), &h), -1);
	p.gso_type = VIREO_PKT_GSO_TCPV6;
	assert_int_equal(virtio_net_pkt_to_hdr(&p, F(VIRTIO_NET_F_GUEST_TSO4), &h), -1);
	/* A verified checksum: DATA_VALID, only if the guest takes it. */
	p = pkt(FRAME);
	p.flags = VIREO_PKT_F_CSUM_VALID;
	assert_int_equal(virtio_net_pkt_to_hdr(&p, ALL_RX, &h), 0);
	assert_int_equal(h.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	assert_int_equal(virtio_net_pkt_to_hdr(&p, 0, &h), 0);
	assert_int_equal(h.flags, 0);
	/* A partial checksum for a guest without GUEST_CSUM: the caller completes it. */
	p.flags = VIREO_PKT_F_NEEDS_CSUM;
	p.csum_start = 34;
	p.csum_offset = TCP_CSO;
	assert_int_equal(virtio_net_pkt_to_hdr(&p, 0, &h), 1);
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.csum_start, 0);
}

/* A small IPv4 TCP frame whose checksum, 0x6035, was computed independently. */
static const uint8_t g_tcp[] = {
	/* Ethernet */
	0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0x56, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
	/* IPv4: 192.0.2.1 -> 192.0.2.2, 44 bytes, TCP */
	0x45, 0x00, 0x00, 0x2c, 0x00, 0x01, 0x40, 0x00, 0x40, 0x06, 0xb6, 0xc7, 0xc0, 0x00, 0x02,
	0x01, 0xc0, 0x00, 0x02, 0x02,
	/* TCP 1234 -> 80, seq 1, ack 0, data offset 5, PSH|ACK, window 512 */
	0x04, 0xd2, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x50, 0x18, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00,
	/* payload "abc" + 1 */
	0x61, 0x62, 0x63, 0x0a
};

static void test_csum_complete_across_iovecs(void **state)
{
	uint8_t f[sizeof(g_tcp)];
	struct iovec iov[3];
	struct vireo_pkt p = pkt(sizeof(f));
	/* The partial checksum a sender leaves: the pseudo-header sum, not complemented. */
	uint32_t ph = 0xc000 + 0x0201 + 0xc000 + 0x0202 + 6 + 24;

	(void)state;
	ph = (ph & 0xffff) + (ph >> 16);
	memcpy(f, g_tcp, sizeof(f));
	f[34 + TCP_CSO] = (uint8_t)(ph >> 8);
	f[34 + TCP_CSO + 1] = (uint8_t)ph;
	/* Cut at odd offsets, the checksum field itself split. */
	iov[0] = (struct iovec){ f, 35 };
	iov[1] = (struct iovec){ f + 35, 16 };
	iov[2] = (struct iovec){ f + 51, sizeof(f) - 51 };
	p.iov = iov;
	p.iovcnt = 3;
	p.flags = VIREO_PKT_F_NEEDS_CSUM;
	p.csum_start = 34;
	p.csum_offset = TCP_CSO;
	virtio_net_csum_complete(&p);
	assert_int_equal(f[50], 0x60);
	assert_int_equal(f[51], 0x35);
	assert_memory_equal(f, g_tcp, 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tx_plain_frame),
		cmocka_unit_test(test_tx_tso4_frame),
		cmocka_unit_test(test_tx_offloads_not_accepted),
		cmocka_unit_test(test_tx_hostile_headers),
		cmocka_unit_test(test_rx_header),
		cmocka_unit_test(test_csum_complete_across_iovecs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
