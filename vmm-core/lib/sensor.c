// SPDX-License-Identifier: MIT
/* libvireo's sensor-class services: the instance handle's accessors. */
#include "internal.h"

void vireo_sensor_set_priv(struct vireo_sensor *sensor, void *priv)
{
	if (sensor)
		sensor->priv = priv;
}

void *vireo_sensor_priv(const struct vireo_sensor *sensor)
{
	return sensor ? sensor->priv : NULL;
}

const char *vireo_sensor_id(const struct vireo_sensor *sensor)
{
	return sensor && sensor->id ? sensor->id : "?";
}
