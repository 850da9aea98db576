/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk wire format (VIRTIO 1.2, 5.2): feature bits, the config space layout,
 * request types, the request header and status codes. Definitions only; the
 * device model is blk.c.
 */
#ifndef VIREO_VIRTIO_BLK_WIRE_H
#define VIREO_VIRTIO_BLK_WIRE_H

#include <stdint.h>

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX	  1
#define VIRTIO_BLK_F_SEG_MAX	  2
#define VIRTIO_BLK_F_GEOMETRY	  4
#define VIRTIO_BLK_F_RO		  5
#define VIRTIO_BLK_F_BLK_SIZE	  6
#define VIRTIO_BLK_F_FLUSH	  9
#define VIRTIO_BLK_F_TOPOLOGY	  10
#define VIRTIO_BLK_F_CONFIG_WCE	  11
#define VIRTIO_BLK_F_MQ		  12
#define VIRTIO_BLK_F_DISCARD	  13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types (5.2.6). */
#define VIRTIO_BLK_T_IN		  0
#define VIRTIO_BLK_T_OUT	  1
#define VIRTIO_BLK_T_FLUSH	  4
#define VIRTIO_BLK_T_GET_ID	  8
#define VIRTIO_BLK_T_DISCARD	  11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

/* Status byte, the last byte the device writes (5.2.6). */
#define VIRTIO_BLK_S_OK	    0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

/* GET_ID answers with up to 20 bytes, not NUL-terminated when all are used. */
#define VIRTIO_BLK_ID_BYTES 20

/* Sectors are always 512 bytes on the wire, whatever blk_size says. */
#define VIRTIO_BLK_SECTOR_SHIFT 9

/* Discard/write-zeroes segment flag: the device may unmap (5.2.6). */
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1u

/* Config space, little-endian (5.2.4). */
struct virtio_blk_config {
	uint64_t capacity; /* in 512-byte sectors */
	uint32_t size_max;
	uint32_t seg_max;
	struct {
		uint16_t cylinders;
		uint8_t heads;
		uint8_t sectors;
	} geometry;
	uint32_t blk_size;
	struct {
		uint8_t physical_block_exp;
		uint8_t alignment_offset;
		uint16_t min_io_size; /* in logical blocks */
		uint32_t opt_io_size; /* in logical blocks */
	} topology;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
} __attribute__((packed));

/* The first, device-readable part of every request. */
struct virtio_blk_outhdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* One segment of a DISCARD or WRITE_ZEROES request. */
struct virtio_blk_discard_wz {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

_Static_assert(sizeof(struct virtio_blk_config) == 60, "virtio-blk config space");
_Static_assert(sizeof(struct virtio_blk_outhdr) == 16, "virtio-blk request header");
_Static_assert(sizeof(struct virtio_blk_discard_wz) == 16, "discard/write-zeroes segment");

#endif /* VIREO_VIRTIO_BLK_WIRE_H */
