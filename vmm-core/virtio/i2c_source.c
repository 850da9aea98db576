// SPDX-License-Identifier: MIT
/*
 * Temperature sources of the emulated I2C sensors (see i2c_source.h). The sensor
 * service is reached only through i2c_source_open_sensor(), the SENSOR case of
 * i2c_source_read() and i2c_source_close(): the LM75 model never knows which source
 * feeds it.
 */
#include "virtio/i2c_source.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/sensordev.h"

static int i2c_parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * DEV:CHANNEL: a temperature channel of one of vireod's sensor devices (host/
 * sensordev.h), found by device id and channel label or index. The one place that
 * binds a sensor to the service; reads then take the service's cached value.
 */
static int i2c_source_open_sensor(struct i2c_source *src, const char *dev, const char *channel,
				  char *err, size_t errlen)
{
	struct host_sensor_ref *ref = calloc(1, sizeof(*ref));
	struct vireo_sensor_channel ch = { .struct_size = sizeof(ch) };
	int rc;

	if (!ref)
		return -ENOMEM;
	rc = host_sensor_ref_get(dev, channel, ref);
	if (rc < 0) {
		snprintf(err, errlen, "source '%s:%s': %s", dev, channel,
			 rc == -ENODEV ? "no sensor device of that id (give it before the i2c "
					 "device)"
				       : "the sensor device has no such channel");
		free(ref);
		return rc == -ENODEV ? -ENOENT : rc;
	}
	rc = host_sensor_channel(ref->hs, ref->index, &ch);
	if (rc < 0)
		snprintf(err, errlen, "source '%s:%s': %s", dev, channel, strerror(-rc));
	else if (ch.type != VIREO_SENSOR_TEMPERATURE) {
		snprintf(err, errlen, "source '%s:%s': a %s channel, not a temperature", dev,
			 channel, host_sensor_type_name(ch.type));
		rc = -EINVAL;
	}
	if (rc < 0) {
		host_sensor_ref_put(ref);
		free(ref);
		return rc;
	}
	src->sensor = ref;
	src->channel = ref->index;
	return 0;
}

int i2c_source_open(struct i2c_source *src, const char *text, char *err, size_t errlen)
{
	const char *colon = strchr(text, ':');
	char dev[64];
	size_t n;

	memset(src, 0, sizeof(*src));
	snprintf(src->desc, sizeof(src->desc), "%s", text);
	if (!colon || colon == text || colon[1] == '\0') {
		snprintf(err, errlen, "source '%s': expected DEV:CHANNEL, const:MC or file:PATH",
			 text);
		return -EINVAL;
	}
	n = (size_t)(colon - text);
	if (n == 5 && strncmp(text, "const", 5) == 0) {
		src->kind = I2C_SOURCE_CONST;
		if (i2c_parse_i64(colon + 1, &src->value) < 0) {
			snprintf(err, errlen, "source '%s': '%s' is not millidegrees", text,
				 colon + 1);
			return -EINVAL;
		}
		return 0;
	}
	if (n == 4 && strncmp(text, "file", 4) == 0) {
		src->kind = I2C_SOURCE_FILE;
		src->path = strdup(colon + 1);
		return src->path ? 0 : -ENOMEM;
	}
	if (n >= sizeof(dev)) {
		snprintf(err, errlen, "source '%s': sensor device name too long", text);
		return -EINVAL;
	}
	memcpy(dev, text, n);
	dev[n] = '\0';
	src->kind = I2C_SOURCE_SENSOR;
	return i2c_source_open_sensor(src, dev, colon + 1, err, errlen);
}

static int i2c_read_file(const char *path, int64_t *out)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return i2c_parse_i64(buf, out);
}

int i2c_source_read(void *ctx, int64_t *mc)
{
	struct i2c_source *src = ctx;

	switch (src->kind) {
	case I2C_SOURCE_CONST:
		*mc = src->value;
		return 0;
	case I2C_SOURCE_FILE:
		return i2c_read_file(src->path, mc);
	case I2C_SOURCE_SENSOR:
		return host_sensor_ref_read(src->sensor, mc, NULL);
	default:
		return -ENODEV;
	}
}

void i2c_source_close(struct i2c_source *src)
{
	free(src->path);
	if (src->sensor) {
		host_sensor_ref_put(src->sensor);
		free(src->sensor);
	}
	memset(src, 0, sizeof(*src));
}
