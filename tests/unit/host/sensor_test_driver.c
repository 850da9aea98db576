// SPDX-License-Identifier: MIT
/*
 * A sensor driver that breaks one rule of <vireo/sensor.h>, chosen by its mode=
 * parameter, for tests/unit/host/sensordev_test.c: the core must refuse the instance
 * (bad channel descriptions) or contain the damage (bad reads, a bad read-back).
 * mode=good gives two well-formed channels.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vireo/driver.h>
#include <vireo/params.h>
#include <vireo/sensor.h>

static const char *g_mode = "good"; /* one instance at a time in these tests */
static unsigned int g_sets;

static const struct vireo_param_decl tdrv_params[] = {
	{ VIREO_PARAM_STRING("mode", "good", "which rule to break") }, { 0 } /* sentinel */
};

static bool mode(const char *m)
{
	return strcmp(g_mode, m) == 0;
}

static int tdrv_open(struct vireo_sensor *sensor, const struct vireo_params *params)
{
	static char copy[32];
	const char *m;

	(void)sensor;
	if (vireo_param_get_string(params, "mode", &m) < 0)
		return -EINVAL;
	strncpy(copy, m, sizeof(copy) - 1);
	g_mode = copy;
	g_sets = 0;
	return mode("open-fails") ? -ENXIO : 0;
}

static int tdrv_get_channel(struct vireo_sensor *sensor, unsigned int index,
			    struct vireo_sensor_channel *ch)
{
	unsigned int n = mode("too-many") ? VIREO_SENSOR_MAX_CHANNELS + 1 : 2;

	(void)sensor;
	if (mode("no-channels") || index >= n)
		return -ENOENT;
	if (mode("get-fails") && index == 1)
		return -EIO;
	ch->type = VIREO_SENSOR_TEMPERATURE;
	snprintf(ch->label, sizeof(ch->label), "t%u", index);
	ch->flags = VIREO_SENSOR_CH_MAX | VIREO_SENSOR_CH_CRIT | VIREO_SENSOR_CH_WRITABLE;
	ch->max = 80000 + 1000 * (int64_t)g_sets;
	ch->crit = 100000;
	ch->update_interval_ms = 250;
	if (index != 1)
		return 0;
	if (mode("bad-type"))
		ch->type = 9;
	if (mode("unterminated"))
		memset(ch->label, 'x', sizeof(ch->label));
	if (mode("nonprint"))
		ch->label[0] = '\n';
	if (mode("empty-label"))
		ch->label[0] = '\0';
	if (mode("dup-label"))
		strcpy(ch->label, "t0");
	if (mode("bad-flags"))
		ch->flags |= 1u << 9;
	if (mode("writable-nolimit"))
		ch->flags = VIREO_SENSOR_CH_WRITABLE;
	if (mode("limits"))
		ch->max = 120000;
	if (mode("interval"))
		ch->update_interval_ms = VIREO_SENSOR_MAX_INTERVAL_MS + 1;
	if (mode("readback-label") && g_sets)
		strcpy(ch->label, "renamed");
	return 0;
}

static int tdrv_read(struct vireo_sensor *sensor, unsigned int index, int64_t *value)
{
	(void)sensor;
	if (mode("read-positive"))
		return 5;
	if (mode("read-again"))
		return -EAGAIN;
	*value = mode("implausible") ? -300000 : 40000 + (int64_t)index;
	return 0;
}

static int tdrv_set_threshold(struct vireo_sensor *sensor, unsigned int index, unsigned int which,
			      int64_t value)
{
	(void)sensor;
	(void)index;
	(void)which;
	(void)value;
	g_sets++;
	return 0;
}

static const struct vireo_sensor_ops tdrv_ops = {
	.struct_size = sizeof(struct vireo_sensor_ops),
	.open = tdrv_open,
	.get_channel = tdrv_get_channel,
	.read = tdrv_read,
	.set_threshold = tdrv_set_threshold,
};

VIREO_DRIVER(.name = "sensor-test", .version = "0.1", .license = "MIT",
	     .dev_class = VIREO_CLASS_SENSOR, .ops.sensor = &tdrv_ops, .params = tdrv_params);
