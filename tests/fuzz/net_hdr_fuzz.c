// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the virtio-net header a guest puts before a transmitted frame
 * (vmm-core/virtio/net_hdr.c). Input: 12 header bytes, 8 bytes of accepted features,
 * then the frame. A header is either refused with a reason or yields metadata that
 * stays inside the frame and within the accepted features; the checksum completion
 * and the receive direction then run on that metadata, over the frame cut in pieces.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "host/netdev.h"
#include "virtio/net_internal.h"
#include "virtio/net_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_net_hdr_v1 h, back;
	struct vireo_pkt p = { .struct_size = sizeof(p) };
	enum virtio_net_refusal why;
	struct iovec iov[3];
	uint8_t *frame;
	uint64_t acked;
	size_t len, cut;

	if (size < sizeof(h) + sizeof(acked))
		return 0;
	memcpy(&h, data, sizeof(h));
	memcpy(&acked, data + sizeof(h), sizeof(acked));
	len = size - sizeof(h) - sizeof(acked);
	if (len < HOST_NET_MIN_FRAME || len > HOST_NET_MAX_FRAME)
		return 0;
	frame = malloc(len);
	if (!frame)
		return 0;
	memcpy(frame, data + sizeof(h) + sizeof(acked), len);
	p.len = (uint32_t)len;
	why = virtio_net_hdr_to_pkt(&h, acked, &p);
	if (why == VNET_REFUSE_MAX) {
		/* What passed must hold: offsets inside the frame, offloads accepted. */
		if ((p.flags & VIREO_PKT_F_NEEDS_CSUM) &&
		    (!(acked & (1ull << VIRTIO_NET_F_CSUM)) || p.csum_start < HOST_NET_MIN_FRAME ||
		     (uint32_t)p.csum_start + p.csum_offset + 2u > p.len))
			abort();
		if (p.gso_type != VIREO_PKT_GSO_NONE &&
		    (!(p.flags & VIREO_PKT_F_NEEDS_CSUM) || p.gso_size == 0 || p.hdr_len > p.len))
			abort();
		/* Cut the frame in three (the middle may be empty) and use the metadata. */
		cut = data[0] % (len + 1);
		iov[0] = (struct iovec){ frame, cut / 2 };
		iov[1] = (struct iovec){ frame + cut / 2, cut - cut / 2 };
		iov[2] = (struct iovec){ frame + cut, len - cut };
		p.iov = iov;
		p.iovcnt = 3;
		if (p.flags & VIREO_PKT_F_NEEDS_CSUM)
			virtio_net_csum_complete(&p);
		(void)virtio_net_pkt_to_hdr(&p, acked, &back);
	} else if ((unsigned int)why >= VNET_REFUSE_MAX) {
		abort();
	}
	free(frame);
	return 0;
}
