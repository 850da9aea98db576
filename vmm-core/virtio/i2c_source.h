/* SPDX-License-Identifier: MIT */
/*
 * Where an emulated I2C sensor's temperature comes from: the SOURCE part of an i2c
 * device's `sensor=ADDR:SOURCE` option. Owns parsing it and reading the latest value
 * in millidegrees Celsius; the LM75 model calls i2c_source_read() at each conversion.
 *
 *   DEV:CHANNEL    channel CHANNEL (index or label) of vireod's sensor device DEV
 *   const:MC       a fixed value, MC millidegrees
 *   file:PATH      the integer in file PATH (millidegrees, as a hwmon temp*_input),
 *                  read at each conversion
 *
 * Threading: i2c_source_read() runs on the i2c queue's worker; open and close on the
 * control thread.
 */
#ifndef VIREO_VIRTIO_I2C_SOURCE_H
#define VIREO_VIRTIO_I2C_SOURCE_H

#include <stddef.h>
#include <stdint.h>

enum i2c_source_kind {
	I2C_SOURCE_CONST,
	I2C_SOURCE_FILE,
	I2C_SOURCE_SENSOR,
};

struct i2c_source {
	enum i2c_source_kind kind;
	int64_t value; /* CONST */
	char *path;    /* FILE */
	void *sensor;  /* SENSOR: a struct host_sensor_ref */
	unsigned int channel;
	char desc[128]; /* how the source was written, for logs and stats */
};

/**
 * i2c_source_open() - Parse and open @text (without the "ADDR:" part).
 * @err: on failure, one line saying what is wrong.
 * Return: 0, -EINVAL, -ENOENT (no such sensor device or channel), -ENOTSUP, -ENOMEM.
 */
int i2c_source_open(struct i2c_source *src, const char *text, char *err, size_t errlen);

/** i2c_source_read() - The latest value (an lm75_source_fn). Return: 0 or -errno. */
int i2c_source_read(void *src, int64_t *millideg);

/** i2c_source_close() - Release what open took; safe on a zeroed source. */
void i2c_source_close(struct i2c_source *src);

#endif /* VIREO_VIRTIO_I2C_SOURCE_H */
