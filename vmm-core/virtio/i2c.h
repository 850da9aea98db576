/* SPDX-License-Identifier: MIT */
/*
 * The virtio-i2c device model: a vhost-user-i2c device (QEMU's vhost-user-i2c-pci)
 * whose bus holds LM75-compatible temperature sensors, each fed by a host source.
 * Spec: `i2c,id=ID,socket=PATH,sensor=ADDR:SOURCE[,sensor=...]`, ADDR a 7-bit
 * address (0x08..0x77, 0x48..0x4f being the LM75's own), SOURCE as i2c_source.h.
 */
#ifndef VIREO_VIRTIO_I2C_H
#define VIREO_VIRTIO_I2C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/i2c_req.h"
#include "virtio/lm75.h"

struct virtio_i2c;
struct vd_spec;
struct vu_dev_stats;

/**
 * virtio_i2c_new() - Build the bus and its sensors from @spec; nothing listens yet.
 * @err: on failure, one line naming the device and the problem.
 * Return: 0, -EINVAL (spec refused), -ENOTSUP (source not available), -ENOMEM.
 * Context: control thread.
 */
int virtio_i2c_new(const struct vd_spec *spec, struct virtio_i2c **out, char *err, size_t errlen);

/** virtio_i2c_start() - Listen on the socket. Return: 0 or a negative errno. */
int virtio_i2c_start(struct virtio_i2c *i2c);

/** virtio_i2c_free() - Disconnect the frontend, stop and free. NULL is a no-op. */
void virtio_i2c_free(struct virtio_i2c *i2c);

/** One sensor, for `vireoctl device stats`. */
struct virtio_i2c_sensor_stats {
	uint16_t addr;
	char source[128];
	struct lm75_state lm75;
};

/** Counters and sensor state. */
struct virtio_i2c_stats {
	bool zero_length; /**< the feature was negotiated */
	struct i2c_bus_counters bus;
	unsigned int nsensors;
	struct virtio_i2c_sensor_stats sensors[I2C_MAX_TARGETS];
};

/** virtio_i2c_get_stats() - A snapshot. Context: any thread. */
void virtio_i2c_get_stats(struct virtio_i2c *i2c, struct virtio_i2c_stats *s);

/** virtio_i2c_vu_stats() - The vhost-user device's counters. */
void virtio_i2c_vu_stats(struct virtio_i2c *i2c, struct vu_dev_stats *s);

#endif /* VIREO_VIRTIO_I2C_H */
