// SPDX-License-Identifier: MIT
/*
 * The virtio-net header (VIRTIO 1.2, 5.1.6) and struct vireo_pkt's offload metadata,
 * both ways. Transmit: what the guest asks for is checked against the features it
 * accepted and against the frame (checksum offsets inside it, a sane segment size,
 * a header length inside it) before a driver sees it. Receive: the driver's metadata
 * becomes the header the guest reads, within what the guest accepted; a partial
 * checksum for a guest without GUEST_CSUM is completed here. Pure functions: no
 * queue, no driver.
 */
#include "virtio/net_internal.h"

#include <endian.h>

#include "host/netdev.h"
#include "virtio/net_wire.h"

#define F(bit) (1ull << (bit))

/* The smallest segment a guest may ask for: bounds the frames one header can make. */
#define NET_GSO_MIN_SIZE 64u

/* Checksum offsets: past the Ethernet header, the 16-bit field inside the frame. */
static bool net_csum_fits(uint32_t start, uint32_t offset, uint32_t len)
{
	return start >= HOST_NET_MIN_FRAME && start + offset + 2u <= len;
}

enum virtio_net_refusal virtio_net_hdr_to_pkt(const struct virtio_net_hdr_v1 *h, uint64_t acked,
					      struct vireo_pkt *p)
{
	uint16_t csum_start = le16toh(h->csum_start), csum_offset = le16toh(h->csum_offset);
	uint16_t gso_size = le16toh(h->gso_size), hdr_len = le16toh(h->hdr_len);
	uint64_t need;

	/* 5.1.6.2.1: the driver sets no flag but NEEDS_CSUM on transmit. */
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return VNET_REFUSE_TX_OFFLOAD;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!(acked & F(VIRTIO_NET_F_CSUM)))
			return VNET_REFUSE_TX_OFFLOAD;
		if (!net_csum_fits(csum_start, csum_offset, p->len))
			return VNET_REFUSE_TX_CSUM;
		p->flags |= VIREO_PKT_F_NEEDS_CSUM;
		p->csum_start = csum_start;
		p->csum_offset = csum_offset;
	}
	switch (h->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return VNET_REFUSE_MAX;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		need = F(VIRTIO_NET_F_HOST_TSO4);
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		need = F(VIRTIO_NET_F_HOST_TSO6);
		break;
	default: /* UDP, ECN: never offered */
		return VNET_REFUSE_TX_OFFLOAD;
	}
	if (!(acked & need))
		return VNET_REFUSE_TX_OFFLOAD;
	/* A segmented frame has its checksum left to the device (5.1.6.2.1). */
	if (!(p->flags & VIREO_PKT_F_NEEDS_CSUM))
		return VNET_REFUSE_TX_GSO;
	/* hdr_len is a hint (without GUEST_HDRLEN) but must lie inside the frame. */
	if (gso_size < NET_GSO_MIN_SIZE || hdr_len > p->len)
		return VNET_REFUSE_TX_GSO;
	p->gso_type = h->gso_type;
	p->gso_size = gso_size;
	p->hdr_len = hdr_len;
	return VNET_REFUSE_MAX;
}

int virtio_net_pkt_to_hdr(const struct vireo_pkt *p, uint64_t acked, struct virtio_net_hdr_v1 *h)
{
	int rc = 0;

	h->flags = 0;
	h->gso_type = VIRTIO_NET_HDR_GSO_NONE;
	h->hdr_len = h->gso_size = h->csum_start = h->csum_offset = 0;
	if (p->gso_type != VIREO_PKT_GSO_NONE) {
		uint64_t need = p->gso_type == VIREO_PKT_GSO_TCPV4 ? F(VIRTIO_NET_F_GUEST_TSO4)
								   : F(VIRTIO_NET_F_GUEST_TSO6);

		/* The guest cannot take a coalesced frame it did not ask for. */
		if (!(acked & need) || !(p->flags & VIREO_PKT_F_NEEDS_CSUM))
			return -1;
		h->gso_type = (uint8_t)p->gso_type;
		h->gso_size = htole16(p->gso_size);
		h->hdr_len = htole16(p->hdr_len);
	}
	if (p->flags & VIREO_PKT_F_NEEDS_CSUM) {
		if (acked & F(VIRTIO_NET_F_GUEST_CSUM)) {
			h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			h->csum_start = htole16(p->csum_start);
			h->csum_offset = htole16(p->csum_offset);
		} else {
			rc = 1; /* the caller completes the checksum */
		}
	} else if ((p->flags & VIREO_PKT_F_CSUM_VALID) && (acked & F(VIRTIO_NET_F_GUEST_CSUM))) {
		h->flags = VIRTIO_NET_HDR_F_DATA_VALID;
	}
	return rc;
}

/* Byte @i of the frame in @p's iovecs, or NULL past its end. */
static uint8_t *net_pkt_byte(const struct vireo_pkt *p, size_t i)
{
	for (unsigned int k = 0; k < p->iovcnt; k++) {
		if (i < p->iov[k].iov_len)
			return (uint8_t *)p->iov[k].iov_base + i;
		i -= p->iov[k].iov_len;
	}
	return NULL;
}

void virtio_net_csum_complete(const struct vireo_pkt *p)
{
	uint32_t sum = 0;
	size_t pos = 0, off = (size_t)p->csum_start + p->csum_offset;
	uint8_t *c0, *c1;
	uint16_t folded;

	/*
	 * RFC 1071 over [csum_start, len): the field holds the pseudo-header sum the
	 * sender left, so summing over it and storing the complement completes it.
	 */
	for (unsigned int k = 0; k < p->iovcnt; k++) {
		const uint8_t *b = p->iov[k].iov_base;

		for (size_t x = 0; x < p->iov[k].iov_len && pos < p->len; x++, pos++) {
			if (pos < p->csum_start)
				continue;
			sum += (pos - p->csum_start) & 1 ? b[x] : (uint32_t)b[x] << 8;
			if (sum & 0x80000000u)
				sum = (sum & 0xffff) + (sum >> 16);
		}
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	folded = (uint16_t)~sum;
	c0 = net_pkt_byte(p, off);
	c1 = net_pkt_byte(p, off + 1);
	if (!c0 || !c1)
		return; /* checked on the way in: cannot happen */
	*c0 = (uint8_t)(folded >> 8);
	*c1 = (uint8_t)folded;
}
