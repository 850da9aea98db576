// SPDX-License-Identifier: MIT
/*
 * Net and sensor drivers for tests/unit/host/loader_test.c, one source built per
 * variant: GOOD_NET and GOOD_SENSOR load; BAD_NET_NO_RX lacks the required rx_burst;
 * BAD_SENSOR_TINY declares an ops table too short for its required ops. The ops do
 * nothing: only the descriptor checks are under test.
 */
#include <errno.h>

#include <vireo/driver.h>
#include <vireo/net.h>
#include <vireo/sensor.h>

#if defined(GOOD_NET) || defined(BAD_NET_NO_RX)
static int net_open(struct vireo_net *net, const struct vireo_params *params)
{
	(void)net;
	(void)params;
	return -ENODEV;
}

static int net_get_info(struct vireo_net *net, struct vireo_net_info *info)
{
	(void)net;
	(void)info;
	return -ENODEV;
}

static int net_burst(struct vireo_net *net, unsigned int queue, struct vireo_pkt *const *pkts,
		     unsigned int n)
{
	(void)net;
	(void)queue;
	(void)pkts;
	(void)n;
	return 0;
}

static const struct vireo_net_ops net_ops = {
	.struct_size = sizeof(struct vireo_net_ops),
	.open = net_open,
	.get_info = net_get_info,
	.tx_burst = net_burst,
#ifndef BAD_NET_NO_RX
	.rx_burst = net_burst,
#endif
};

static const struct vireo_match net_match[] = {
	{ VIREO_MATCH_USB_DEVICE(0x0bda, 0x8153) }, /* RTL8153 */
	{ 0 },
};

VIREO_DRIVER(.name = "test-net", .version = "0.9", .license = "MIT", .dev_class = VIREO_CLASS_NET,
	     .ops.net = &net_ops, .match = net_match);
#else
static int sensor_open(struct vireo_sensor *sensor, const struct vireo_params *params)
{
	(void)sensor;
	(void)params;
	return -ENODEV;
}

static int sensor_get_channel(struct vireo_sensor *sensor, unsigned int index,
			      struct vireo_sensor_channel *ch)
{
	(void)sensor;
	(void)index;
	(void)ch;
	return -ENOENT;
}

static int sensor_read(struct vireo_sensor *sensor, unsigned int index, int64_t *value)
{
	(void)sensor;
	(void)index;
	*value = 42000;
	return 0;
}

static const struct vireo_sensor_ops sensor_ops = {
#ifdef BAD_SENSOR_TINY
	.struct_size = 16, /* open only: get_channel and read are cut off */
#else
	.struct_size = sizeof(struct vireo_sensor_ops),
#endif
	.open = sensor_open,
	.get_channel = sensor_get_channel,
	.read = sensor_read,
};

static const struct vireo_param_decl sensor_params[] = {
	{ VIREO_PARAM_STRING("chip", "coretemp", "hwmon chip name") },
	{ VIREO_PARAM_INT("offset", "-500", "added to every temperature (millidegrees)") },
	{ 0 },
};

VIREO_DRIVER(.name = "test-sensor", .version = "0.9", .license = "MIT",
	     .dev_class = VIREO_CLASS_SENSOR, .ops.sensor = &sensor_ops, .params = sensor_params);
#endif
