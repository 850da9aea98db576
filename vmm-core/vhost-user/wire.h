/* SPDX-License-Identifier: MIT */
/*
 * vhost-user wire format: request codes, flags, feature bits and payload layouts, as
 * the vhost-user protocol specification (QEMU docs/interop/vhost-user.rst) defines
 * them. Definitions only; parsing and validation live in msg.c.
 */
#ifndef VIREO_VHOST_USER_WIRE_H
#define VIREO_VHOST_USER_WIRE_H

#include <stdint.h>

/* Header flags ("Message Specification"). */
#define VU_VERSION_MASK	   0x3u
#define VU_VERSION	   0x1u
#define VU_FLAG_REPLY	   (1u << 2)
#define VU_FLAG_NEED_REPLY (1u << 3)

/* The virtio feature bit that says protocol features may be negotiated. */
#define VU_F_PROTOCOL_FEATURES 30

/* Protocol feature bits ("Protocol features"). */
enum vu_protocol_feature {
	VU_PROTOCOL_F_MQ = 0,
	VU_PROTOCOL_F_LOG_SHMFD = 1,
	VU_PROTOCOL_F_RARP = 2,
	VU_PROTOCOL_F_REPLY_ACK = 3,
	VU_PROTOCOL_F_NET_MTU = 4,
	VU_PROTOCOL_F_BACKEND_REQ = 5,
	VU_PROTOCOL_F_CROSS_ENDIAN = 6,
	VU_PROTOCOL_F_CRYPTO_SESSION = 7,
	VU_PROTOCOL_F_PAGEFAULT = 8,
	VU_PROTOCOL_F_CONFIG = 9,
	VU_PROTOCOL_F_BACKEND_SEND_FD = 10,
	VU_PROTOCOL_F_HOST_NOTIFIER = 11,
	VU_PROTOCOL_F_INFLIGHT_SHMFD = 12,
	VU_PROTOCOL_F_RESET_DEVICE = 13,
	VU_PROTOCOL_F_INBAND_NOTIFICATIONS = 14,
	VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15,
	VU_PROTOCOL_F_STATUS = 16,
};

/* Front-end requests ("Front-end message types"). */
enum vu_request {
	VU_REQ_NONE = 0,
	VU_REQ_GET_FEATURES = 1,
	VU_REQ_SET_FEATURES = 2,
	VU_REQ_SET_OWNER = 3,
	VU_REQ_RESET_OWNER = 4,
	VU_REQ_SET_MEM_TABLE = 5,
	VU_REQ_SET_LOG_BASE = 6,
	VU_REQ_SET_LOG_FD = 7,
	VU_REQ_SET_VRING_NUM = 8,
	VU_REQ_SET_VRING_ADDR = 9,
	VU_REQ_SET_VRING_BASE = 10,
	VU_REQ_GET_VRING_BASE = 11,
	VU_REQ_SET_VRING_KICK = 12,
	VU_REQ_SET_VRING_CALL = 13,
	VU_REQ_SET_VRING_ERR = 14,
	VU_REQ_GET_PROTOCOL_FEATURES = 15,
	VU_REQ_SET_PROTOCOL_FEATURES = 16,
	VU_REQ_GET_QUEUE_NUM = 17,
	VU_REQ_SET_VRING_ENABLE = 18,
	VU_REQ_SEND_RARP = 19,
	VU_REQ_NET_SET_MTU = 20,
	VU_REQ_SET_BACKEND_REQ_FD = 21,
	VU_REQ_IOTLB_MSG = 22,
	VU_REQ_SET_VRING_ENDIAN = 23,
	VU_REQ_GET_CONFIG = 24,
	VU_REQ_SET_CONFIG = 25,
	VU_REQ_CREATE_CRYPTO_SESSION = 26,
	VU_REQ_CLOSE_CRYPTO_SESSION = 27,
	VU_REQ_POSTCOPY_ADVISE = 28,
	VU_REQ_POSTCOPY_LISTEN = 29,
	VU_REQ_POSTCOPY_END = 30,
	VU_REQ_GET_INFLIGHT_FD = 31,
	VU_REQ_SET_INFLIGHT_FD = 32,
	VU_REQ_GPU_SET_SOCKET = 33,
	VU_REQ_RESET_DEVICE = 34,
	VU_REQ_VRING_KICK = 35,
	VU_REQ_GET_MAX_MEM_SLOTS = 36,
	VU_REQ_ADD_MEM_REG = 37,
	VU_REQ_REM_MEM_REG = 38,
	VU_REQ_SET_STATUS = 39,
	VU_REQ_GET_STATUS = 40,
	VU_REQ_MAX,
};

/* Limits. SET_MEM_TABLE carries at most 8 regions; a message at most 8 fds. */
#define VU_MEM_TABLE_MAX_REGIONS 8
#define VU_MAX_FDS		 8
#define VU_CONFIG_MAX_SIZE	 256

/* u64 payload of SET_VRING_KICK/CALL/ERR: queue index, and "no fd" (polling). */
#define VU_VRING_IDX_MASK 0xffu
#define VU_VRING_NOFD	  (1u << 8)

/* SET_VRING_ADDR flags: the frontend wants used-ring writes logged. */
#define VU_VRING_F_LOG 0x1u

struct vu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size; /* bytes of payload that follow */
} __attribute__((packed));

struct vu_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vu_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc_uaddr; /* frontend virtual addresses, not GPAs */
	uint64_t used_uaddr;
	uint64_t avail_uaddr;
	uint64_t log_gpa;
};

struct vu_mem_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
};

struct vu_mem_table {
	uint32_t nregions;
	uint32_t padding;
	struct vu_mem_region regions[VU_MEM_TABLE_MAX_REGIONS];
};

/* ADD_MEM_REG / REM_MEM_REG. */
struct vu_mem_single {
	uint64_t padding;
	struct vu_mem_region region;
};

struct vu_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t payload[VU_CONFIG_MAX_SIZE];
};

struct vu_inflight {
	uint64_t mmap_size;
	uint64_t mmap_offset;
	uint16_t num_queues;
	uint16_t queue_size;
};

union vu_payload {
	uint64_t u64;
	struct vu_vring_state state;
	struct vu_vring_addr addr;
	struct vu_mem_table mem;
	struct vu_mem_single mem_reg;
	struct vu_config config;
	struct vu_inflight inflight;
};

_Static_assert(sizeof(struct vu_hdr) == 12, "vhost-user header is 12 bytes");
_Static_assert(sizeof(struct vu_vring_addr) == 40, "vring address payload");
_Static_assert(sizeof(struct vu_mem_table) == 8 + 8 * 32, "memory table payload");
_Static_assert(sizeof(struct vu_mem_single) == 40, "single region payload");
_Static_assert(sizeof(struct vu_config) == 12 + 256, "config payload");
_Static_assert(sizeof(struct vu_inflight) == 24, "inflight payload (padded)");

#endif /* VIREO_VHOST_USER_WIRE_H */
