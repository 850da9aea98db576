/* SPDX-License-Identifier: MIT */
/*
 * virtio-net wire definitions (VIRTIO 1.2, 5.1): feature bits and the header that
 * precedes every packet on the receive and transmit queues. No logic.
 */
#ifndef VIREO_VIRTIO_NET_WIRE_H
#define VIREO_VIRTIO_NET_WIRE_H

#include <stdint.h>

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM	    0
#define VIRTIO_NET_F_GUEST_CSUM	    1
#define VIRTIO_NET_F_MTU	    3
#define VIRTIO_NET_F_MAC	    5
#define VIRTIO_NET_F_GUEST_TSO4	    7
#define VIRTIO_NET_F_GUEST_TSO6	    8
#define VIRTIO_NET_F_GUEST_ECN	    9
#define VIRTIO_NET_F_GUEST_UFO	    10
#define VIRTIO_NET_F_HOST_TSO4	    11
#define VIRTIO_NET_F_HOST_TSO6	    12
#define VIRTIO_NET_F_HOST_ECN	    13
#define VIRTIO_NET_F_HOST_UFO	    14
#define VIRTIO_NET_F_MRG_RXBUF	    15
#define VIRTIO_NET_F_STATUS	    16
#define VIRTIO_NET_F_CTRL_VQ	    17
#define VIRTIO_NET_F_MQ		    22
#define VIRTIO_NET_F_GUEST_ANNOUNCE 21
#define VIRTIO_F_ANY_LAYOUT	    27

/* virtio_net_hdr flags (5.1.6). */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1u
#define VIRTIO_NET_HDR_F_DATA_VALID 2u

/* virtio_net_hdr gso_type (5.1.6). */
#define VIRTIO_NET_HDR_GSO_NONE	 0u
#define VIRTIO_NET_HDR_GSO_TCPV4 1u
#define VIRTIO_NET_HDR_GSO_UDP	 3u
#define VIRTIO_NET_HDR_GSO_TCPV6 4u
#define VIRTIO_NET_HDR_GSO_ECN	 0x80u

/*
 * The header of every packet (5.1.6). With VIRTIO_F_VERSION_1 or MRG_RXBUF it is the
 * whole 12 bytes; a legacy device without MRG_RXBUF uses the first 10. Little-endian.
 */
struct virtio_net_hdr_v1 {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers; /* rx with MRG_RXBUF: chains this packet spans */
};
_Static_assert(sizeof(struct virtio_net_hdr_v1) == 12, "virtio_net_hdr_v1 is 12 bytes");

#define VIRTIO_NET_HDR_LEN	  12u
#define VIRTIO_NET_HDR_LEGACY_LEN 10u

#endif /* VIREO_VIRTIO_NET_WIRE_H */
