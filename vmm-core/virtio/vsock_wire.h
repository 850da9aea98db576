/* SPDX-License-Identifier: MIT */
/*
 * virtio-vsock wire definitions (VIRTIO 1.2, 5.10): the packet header every packet on
 * the rx and tx queues starts with, its operations, the event queue's event and the
 * config space. All fields are little-endian. Definitions only.
 */
#ifndef VIREO_VIRTIO_VSOCK_WIRE_H
#define VIREO_VIRTIO_VSOCK_WIRE_H

#include <stdint.h>

/* Feature bits (5.10.3). No bit: stream sockets only. */
#define VIRTIO_VSOCK_F_STREAM	 0
#define VIRTIO_VSOCK_F_SEQPACKET 1

/* Queues (5.10.2): QEMU's vhost-user-vsock gives the backend rx and tx only. */
#define VSOCK_QUEUE_RX	  0
#define VSOCK_QUEUE_TX	  1
#define VSOCK_QUEUE_EVENT 2

/* Well-known CIDs (5.10.4): the host is 2; 0, 1 and 0xffffffff are reserved. */
#define VSOCK_CID_HOST 2ull
#define VSOCK_CID_ANY  0xffffffffull

/* Packet types (5.10.6). */
#define VIRTIO_VSOCK_TYPE_STREAM    1
#define VIRTIO_VSOCK_TYPE_SEQPACKET 2

/* Operations (5.10.6). */
enum virtio_vsock_op {
	VIRTIO_VSOCK_OP_INVALID = 0,
	VIRTIO_VSOCK_OP_REQUEST = 1,
	VIRTIO_VSOCK_OP_RESPONSE = 2,
	VIRTIO_VSOCK_OP_RST = 3,
	VIRTIO_VSOCK_OP_SHUTDOWN = 4,
	VIRTIO_VSOCK_OP_RW = 5,
	VIRTIO_VSOCK_OP_CREDIT_UPDATE = 6,
	VIRTIO_VSOCK_OP_CREDIT_REQUEST = 7,
};

/* SHUTDOWN flags (5.10.6.5): the sender will receive / send no more. */
#define VIRTIO_VSOCK_SHUTDOWN_RCV  1u
#define VIRTIO_VSOCK_SHUTDOWN_SEND 2u

/* The event queue's only event (5.10.6.7). */
#define VIRTIO_VSOCK_EVENT_TRANSPORT_RESET 0u

struct virtio_vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len; /* payload bytes after the header */
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc; /* the sender's receive buffer for this connection */
	uint32_t fwd_cnt;   /* bytes the sender has taken out of it, ever (mod 2^32) */
} __attribute__((packed));
_Static_assert(sizeof(struct virtio_vsock_hdr) == 44, "virtio_vsock_hdr is 44 bytes");

struct virtio_vsock_event {
	uint32_t id;
};

struct virtio_vsock_config {
	uint64_t guest_cid;
} __attribute__((packed));
_Static_assert(sizeof(struct virtio_vsock_config) == 8, "virtio_vsock_config is 8 bytes");

#endif /* VIREO_VIRTIO_VSOCK_WIRE_H */
