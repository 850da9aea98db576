/* SPDX-License-Identifier: MIT */
/*
 * Definitions shared by every virtio device model: device status bits, the
 * transport-independent feature bits and device IDs (VIRTIO 1.2, sections 2.1, 5
 * and 6). Definitions only.
 */
#ifndef VIREO_VIRTIO_WIRE_H
#define VIREO_VIRTIO_WIRE_H

/* Device status (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER	  2u
#define VIRTIO_STATUS_DRIVER_OK	  4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED	  128u

/* Reserved feature bits (6). */
#define VIRTIO_F_INDIRECT_DESC	   28
#define VIRTIO_F_EVENT_IDX	   29
#define VIRTIO_F_VERSION_1	   32
#define VIRTIO_F_ACCESS_PLATFORM   33
#define VIRTIO_F_RING_PACKED	   34
#define VIRTIO_F_IN_ORDER	   35
#define VIRTIO_F_ORDER_PLATFORM	   36
#define VIRTIO_F_NOTIFICATION_DATA 38
#define VIRTIO_F_RING_RESET	   40

/* Device IDs (5). */
#define VIRTIO_ID_NET	1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_VSOCK 19
#define VIRTIO_ID_I2C	34

#endif /* VIREO_VIRTIO_WIRE_H */
