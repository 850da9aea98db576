/* SPDX-License-Identifier: MIT */
/*
 * virtio-i2c wire definitions (VIRTIO 1.2, 5.19 "I2C Adapter Device"): the feature
 * bit, the request's out and in headers, their flags and status codes. No logic.
 */
#ifndef VIREO_VIRTIO_I2C_WIRE_H
#define VIREO_VIRTIO_I2C_WIRE_H

#include <stdint.h>

/* Feature bits (5.19.3). */
#define VIRTIO_I2C_F_ZERO_LENGTH_REQUEST 0

/* virtio_i2c_out_hdr flags (5.19.6). */
/* This request and the next belong to one group: if this one fails, so does the next. */
#define VIRTIO_I2C_FLAGS_FAIL_NEXT (1u << 0)
/* A read (device-writable buffer); defined with VIRTIO_I2C_F_ZERO_LENGTH_REQUEST. */
#define VIRTIO_I2C_FLAGS_M_RD (1u << 1)

/* The in header's status byte (5.19.6). */
#define VIRTIO_I2C_MSG_OK  0u
#define VIRTIO_I2C_MSG_ERR 1u

/*
 * The device-readable header of every request. addr holds a 7-bit target address in
 * bits 7..1 (bit 0, the R/W bit on the wire, is 0: the direction is the buffer's),
 * or a 10-bit address (11110 A9 A8 in bits 7..1, A7..A0 in bits 15..8), which Vireo
 * does not serve. Little-endian.
 */
struct virtio_i2c_out_hdr {
	uint16_t addr;
	uint16_t padding;
	uint32_t flags;
};
_Static_assert(sizeof(struct virtio_i2c_out_hdr) == 8, "virtio_i2c_out_hdr is 8 bytes");

/* The device-writable trailer of every request: the last byte of the chain. */
struct virtio_i2c_in_hdr {
	uint8_t status;
};

#endif /* VIREO_VIRTIO_I2C_WIRE_H */
