/* SPDX-License-Identifier: MIT */
/*
 * The pure half of the vsock device: what a packet from the guest must look like
 * before anything looks it up (VIRTIO 1.2, 5.10.6), the credit arithmetic of stream
 * flow control (5.10.6.3), and the host side's `CONNECT <port>\n` line. No state, no
 * fds, no locks: the connection engine (engine.c) and the tests call these.
 */
#ifndef VIREO_VSOCK_PROTO_H
#define VIREO_VSOCK_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/vsock_wire.h"

/* The largest payload one packet may carry, either way (Linux's limit too). */
#define VSOCK_MAX_PKT (64u * 1024u)

/** Why a packet (or a chain) from the guest was refused; each has a counter. */
enum vsock_refusal {
	VSOCK_REFUSE_TX_WRITABLE, /**< a tx chain with device-writable buffers */
	VSOCK_REFUSE_TX_SHORT,	  /**< a tx chain shorter than the 44-byte header */
	VSOCK_REFUSE_LEN,	  /**< len beyond the chain, or payload on a non-RW op */
	VSOCK_REFUSE_OVERSIZE,	  /**< len above VSOCK_MAX_PKT */
	VSOCK_REFUSE_SRC_CID,	  /**< src_cid is not the guest's CID */
	VSOCK_REFUSE_DST_CID,	  /**< dst_cid is not the host */
	VSOCK_REFUSE_TYPE,	  /**< not a stream packet */
	VSOCK_REFUSE_OP,	  /**< an unknown operation */
	VSOCK_REFUSE_NO_CONN,	  /**< a packet for no connection */
	VSOCK_REFUSE_STATE,	  /**< an operation the connection's state forbids */
	VSOCK_REFUSE_CREDIT,	  /**< data beyond the credit the device gave */
	VSOCK_REFUSE_CONN_LIMIT,  /**< a request past the connection limit */
	VSOCK_REFUSE_RX_READABLE, /**< an rx chain with device-readable buffers */
	VSOCK_REFUSE_RX_SHORT,	  /**< an rx chain shorter than the header */
	VSOCK_REFUSE_MAX,
};

/** vsock_refusal_str() - The reason as a sentence fragment; "?" out of range. */
const char *vsock_refusal_str(enum vsock_refusal why);

/** vsock_refusal_name() - The reason's counter name ("refused_credit"); "?". */
const char *vsock_refusal_name(enum vsock_refusal why);

/**
 * vsock_hdr_check() - Check a packet's header against the rules that need no
 * connection: CIDs, type, op, and len against @avail, the payload bytes the chain
 * holds after the header, and VSOCK_MAX_PKT.
 * Return: VSOCK_REFUSE_MAX if the header is good, else the first rule it breaks.
 */
enum vsock_refusal vsock_hdr_check(const struct virtio_vsock_hdr *h, uint32_t avail,
				   uint64_t guest_cid);

/**
 * vsock_refusal_answered() - Whether the device answers a refused packet with RST:
 * every refusal after the CID checks, except that an RST is never answered.
 */
bool vsock_refusal_answered(enum vsock_refusal why, uint16_t op);

/**
 * vsock_credit_free() - Bytes a sender may still send: the peer's @buf_alloc minus
 * what is in flight (@tx_cnt - @fwd_cnt, modulo 2^32); 0 if the peer claims more in
 * flight than it has room for (a shrunken buffer or a bogus fwd_cnt).
 */
static inline uint32_t vsock_credit_free(uint32_t buf_alloc, uint32_t fwd_cnt, uint32_t tx_cnt)
{
	uint32_t in_flight = tx_cnt - fwd_cnt;

	return in_flight >= buf_alloc ? 0 : buf_alloc - in_flight;
}

/**
 * vsock_parse_connect() - Parse a host client's first line, "CONNECT <port>\n"
 * (decimal, 0..4294967295, no sign, no spaces but the one).
 * @line: the bytes read so far (not NUL-terminated).
 * @len: how many.
 * @port: the port, on success.
 * @used: the line's length including its newline, on success.
 * Return: 1 parsed, 0 incomplete (no newline yet and @len is below the limit), -1
 * malformed or too long.
 */
int vsock_parse_connect(const char *line, size_t len, uint32_t *port, size_t *used);

/* A CONNECT line is at most this long, newline included. */
#define VSOCK_CONNECT_LINE_MAX 24u

#endif /* VIREO_VSOCK_PROTO_H */
