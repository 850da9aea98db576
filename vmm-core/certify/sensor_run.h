/* SPDX-License-Identifier: MIT */
/*
 * vireo-certify's sensor class: what sensor_checks.c (channels, values, bad indexes,
 * the update interval, close) and sensor_limits.c (limits' order, set_threshold with
 * read-back, -ERANGE and -EOPNOTSUPP) share. The instance is opened and read through
 * the core's sensor service (host/sensordev.h), exactly as vireod does; the bad-index
 * and read-only checks call the driver's ops directly, since the core never would.
 */
#ifndef VIREO_CERTIFY_SENSOR_RUN_H
#define VIREO_CERTIFY_SENSOR_RUN_H

#include "certify.h"
#include "host/sensordev.h"

/** One sensor run. */
struct sensor_run {
	struct cert_report *r;
	const struct cert_opts *opts;
	struct host_sensor *hs;
	unsigned int nch;
	uint32_t max_period_ms; /* the longest poll period of any channel */
};

/**
 * cert_sensor_run() - Every sensor check on the driver @drv, verdicts into @r.
 * Return: 0 (failures are verdicts).
 */
int cert_sensor_run(struct host_driver *drv, const struct cert_opts *opts, struct cert_report *r);

/** sensor_check_limits() - limits-order, thresholds, threshold-range, threshold-readonly. */
void sensor_check_limits(struct sensor_run *run);

/** sensor_step() - A small, representable change of a limit of @type (1 C, 10 mV, ...). */
int64_t sensor_step(uint32_t type);

#endif /* VIREO_CERTIFY_SENSOR_RUN_H */
