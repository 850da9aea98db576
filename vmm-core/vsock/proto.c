// SPDX-License-Identifier: MIT
/*
 * Header checks, refusal names and the CONNECT line parser of the vsock device. See
 * proto.h; section numbers cite VIRTIO 1.2.
 */
#include "vsock/proto.h"

#include <string.h>

static const char *const g_refusal_str[VSOCK_REFUSE_MAX] = {
	[VSOCK_REFUSE_TX_WRITABLE] = "tx chain has device-writable buffers",
	[VSOCK_REFUSE_TX_SHORT] = "tx chain shorter than the vsock header",
	[VSOCK_REFUSE_LEN] = "len does not match the chain or the operation",
	[VSOCK_REFUSE_OVERSIZE] = "len above the 64 KiB packet limit",
	[VSOCK_REFUSE_SRC_CID] = "src_cid is not the guest's CID",
	[VSOCK_REFUSE_DST_CID] = "dst_cid is not the host",
	[VSOCK_REFUSE_TYPE] = "type is not STREAM",
	[VSOCK_REFUSE_OP] = "unknown operation",
	[VSOCK_REFUSE_NO_CONN] = "packet for no connection",
	[VSOCK_REFUSE_STATE] = "operation not allowed in the connection's state",
	[VSOCK_REFUSE_CREDIT] = "data beyond the credit given",
	[VSOCK_REFUSE_CONN_LIMIT] = "connection limit reached",
	[VSOCK_REFUSE_RX_READABLE] = "rx chain has device-readable buffers",
	[VSOCK_REFUSE_RX_SHORT] = "rx chain shorter than the vsock header",
};

static const char *const g_refusal_name[VSOCK_REFUSE_MAX] = {
	[VSOCK_REFUSE_TX_WRITABLE] = "refused_tx_writable",
	[VSOCK_REFUSE_TX_SHORT] = "refused_tx_short",
	[VSOCK_REFUSE_LEN] = "refused_len",
	[VSOCK_REFUSE_OVERSIZE] = "refused_oversize",
	[VSOCK_REFUSE_SRC_CID] = "refused_src_cid",
	[VSOCK_REFUSE_DST_CID] = "refused_dst_cid",
	[VSOCK_REFUSE_TYPE] = "refused_type",
	[VSOCK_REFUSE_OP] = "refused_op",
	[VSOCK_REFUSE_NO_CONN] = "refused_no_conn",
	[VSOCK_REFUSE_STATE] = "refused_state",
	[VSOCK_REFUSE_CREDIT] = "refused_credit",
	[VSOCK_REFUSE_CONN_LIMIT] = "refused_conn_limit",
	[VSOCK_REFUSE_RX_READABLE] = "refused_rx_readable",
	[VSOCK_REFUSE_RX_SHORT] = "refused_rx_short",
};

const char *vsock_refusal_str(enum vsock_refusal why)
{
	return (unsigned int)why < VSOCK_REFUSE_MAX ? g_refusal_str[why] : "?";
}

const char *vsock_refusal_name(enum vsock_refusal why)
{
	return (unsigned int)why < VSOCK_REFUSE_MAX ? g_refusal_name[why] : "?";
}

enum vsock_refusal vsock_hdr_check(const struct virtio_vsock_hdr *h, uint32_t avail,
				   uint64_t guest_cid)
{
	/* 5.10.6.1: the device drops packets whose src_cid is not the guest's. */
	if (h->src_cid != guest_cid)
		return VSOCK_REFUSE_SRC_CID;
	/* A guest reaches only the host through this device (no guest-to-guest). */
	if (h->dst_cid != VSOCK_CID_HOST)
		return VSOCK_REFUSE_DST_CID;
	if (h->len > VSOCK_MAX_PKT)
		return VSOCK_REFUSE_OVERSIZE;
	if (h->len > avail)
		return VSOCK_REFUSE_LEN;
	if (h->type != VIRTIO_VSOCK_TYPE_STREAM)
		return VSOCK_REFUSE_TYPE;
	if (h->op < VIRTIO_VSOCK_OP_REQUEST || h->op > VIRTIO_VSOCK_OP_CREDIT_REQUEST)
		return VSOCK_REFUSE_OP;
	/* Only RW carries a payload (5.10.6.4); anything else with one is malformed. */
	if (h->len && h->op != VIRTIO_VSOCK_OP_RW)
		return VSOCK_REFUSE_LEN;
	return VSOCK_REFUSE_MAX;
}

bool vsock_refusal_answered(enum vsock_refusal why, uint16_t op)
{
	if (op == VIRTIO_VSOCK_OP_RST)
		return false;
	/* No answer to a forged address or to a chain we could not read. */
	switch (why) {
	case VSOCK_REFUSE_TX_WRITABLE:
	case VSOCK_REFUSE_TX_SHORT:
	case VSOCK_REFUSE_SRC_CID:
	case VSOCK_REFUSE_DST_CID:
	case VSOCK_REFUSE_RX_READABLE:
	case VSOCK_REFUSE_RX_SHORT:
	case VSOCK_REFUSE_MAX:
		return false;
	default:
		return true;
	}
}

int vsock_parse_connect(const char *line, size_t len, uint32_t *port, size_t *used)
{
	static const char verb[] = "CONNECT ";
	const size_t vlen = sizeof(verb) - 1;
	const char *nl = memchr(line, '\n', len);
	uint64_t v = 0;
	size_t i;

	if (!nl)
		return len < VSOCK_CONNECT_LINE_MAX ? 0 : -1;
	if ((size_t)(nl - line) + 1 > VSOCK_CONNECT_LINE_MAX || (size_t)(nl - line) <= vlen ||
	    memcmp(line, verb, vlen) != 0)
		return -1;
	for (i = vlen; line + i < nl; i++) {
		if (line[i] < '0' || line[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(line[i] - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*port = (uint32_t)v;
	*used = (size_t)(nl - line) + 1;
	return 1;
}
