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
 * Options may come first, each ending in ':':
 *   lm75:          the chip is an LM75 (the default)
 *   tmp75:         the chip is a TI TMP75: resolution bits and one-shot (lm75.h)
 *   limits-to-host:  DEV:CHANNEL only: the guest's TOS writes also go to the host
 *                  channel's max limit (host_sensor_ref_set_threshold()); refused there
 *                  (a read-only or absent limit) they stay local, as without the option.
 *                  Off by default: guest writes would move a host's (a BMC's) limit.
 * (A sensor device named like an option is written after an explicit option:
 * `lm75:tmp75:0`.)
 *
 * Threading: i2c_source_read() runs on the i2c queue's worker; open and close on the
 * control thread.
 */
#ifndef VIREO_VIRTIO_I2C_SOURCE_H
#define VIREO_VIRTIO_I2C_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/lm75.h"

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
	enum lm75_model model;
	bool limits_to_host;
	/* limits-to-host outcomes; written on the i2c worker, read for stats */
	uint64_t limits_forwarded, limits_local, limits_failed;
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

/**
 * i2c_source_attach() - Power up @lm fed by @src: lm75_init() with the model the options
 * chose, and the limit hook when limits-to-host was given.
 */
void i2c_source_attach(struct i2c_source *src, struct lm75 *lm);

/**
 * i2c_source_limit() - An lm75_limit_fn: forwards a TOS write to the host channel's
 * max limit (calls the sensor driver, so it may block for the driver's I/O: a BMC
 * over the LAN answers in milliseconds, at worst its timeout).
 */
void i2c_source_limit(void *src, unsigned int reg, int32_t millideg);

/** i2c_source_close() - Release what open took; safe on a zeroed source. */
void i2c_source_close(struct i2c_source *src);

#endif /* VIREO_VIRTIO_I2C_SOURCE_H */
