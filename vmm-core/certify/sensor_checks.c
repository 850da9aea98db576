// SPDX-License-Identifier: MIT
/*
 * vireo-certify's sensor checks, but for the limits (sensor_limits.c): the instance
 * opens and its channels pass the core's rules and stay the same when described again;
 * every channel reads values a real part could give, in its type's unit; the driver
 * refuses indexes past its last channel; the core's sensor thread reads no channel
 * more often than its update interval; the instance closes.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sensor_run.h"

#define VALUE_ROUNDS 5 /* reads of every channel in the values check */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int64_t sensor_step(uint32_t type)
{
	switch (type) {
	case VIREO_SENSOR_TEMPERATURE:
		return 1000; /* 1 C */
	case VIREO_SENSOR_POWER:
		return 1000000; /* 1 W */
	case VIREO_SENSOR_FAN:
		return 100; /* RPM */
	default:
		return 10; /* mV, mA */
	}
}

/* Types, units, labels: the core's rules, again, and the same answer twice. */
static void check_channels(struct sensor_run *run)
{
	char list[256] = "", why[256];
	size_t used = 0;

	for (unsigned int i = 0; i < run->nch; i++) {
		struct vireo_sensor_channel a, b;
		struct host_sensor_reading rd;
		int rc;

		host_sensor_channel(run->hs, i, &a);
		if (host_sensor_check_channel(&a, why, sizeof(why)) != HOST_SENSOR_OK) {
			cert_report_add(run->r, "channels", CERT_FAIL, "channel %u: %s", i, why);
			return;
		}
		rc = host_sensor_raw_get_channel(run->hs, i, &b);
		if (rc != 0 || a.type != b.type || strcmp(a.label, b.label) != 0 ||
		    a.flags != b.flags || a.update_interval_ms != b.update_interval_ms) {
			cert_report_add(run->r, "channels", CERT_FAIL,
					"channel %u '%s' described differently the second time "
					"(rc %d, type %u/%u, flags 0x%x/0x%x)",
					i, a.label, rc, a.type, b.type, a.flags, b.flags);
			return;
		}
		host_sensor_get(run->hs, i, &rd);
		if (rd.period_ms > run->max_period_ms)
			run->max_period_ms = rd.period_ms;
		if (used < sizeof(list) - 1)
			used += (size_t)snprintf(
				list + used, sizeof(list) - used, "%s%s (%s, %s)", i ? ", " : "",
				a.label, host_sensor_type_name(a.type), host_sensor_unit(a.type));
	}
	cert_report_add(run->r, "channels", CERT_PASS, "%u channel(s): %s", run->nch, list);
}

/* VALUE_ROUNDS reads of every channel on the harness's clock: all plausible. */
static void check_values(struct sensor_run *run)
{
	int64_t lo[VIREO_SENSOR_MAX_CHANNELS], hi[VIREO_SENSOR_MAX_CHANNELS];
	bool seen[VIREO_SENSOR_MAX_CHANNELS] = { false };
	uint64_t t = 1000000000ull;
	char list[256] = "";
	size_t used = 0;

	for (unsigned int round = 0; round < VALUE_ROUNDS; round++) {
		host_sensor_poll(run->hs, t, NULL);
		for (unsigned int i = 0; i < run->nch; i++) {
			struct vireo_sensor_channel ch;
			struct host_sensor_reading rd;

			host_sensor_channel(run->hs, i, &ch);
			host_sensor_get(run->hs, i, &rd);
			/* -EAGAIN ("nothing yet") is fine for the first reads only. */
			if (rd.error && !(rd.error == -EAGAIN && round < VALUE_ROUNDS - 1)) {
				cert_report_add(run->r, "values", CERT_FAIL,
						"channel %u '%s', read %u: %s%s", i, ch.label,
						round + 1, strerror(-rd.error),
						rd.error == -ERANGE ? " (not a possible value of "
								      "its type: see the log)"
								    : "");
				return;
			}
			if (!rd.valid)
				continue;
			if (!seen[i] || rd.value < lo[i])
				lo[i] = rd.value;
			if (!seen[i] || rd.value > hi[i])
				hi[i] = rd.value;
			seen[i] = true;
		}
		t += (uint64_t)run->max_period_ms * 1000000ull;
	}
	for (unsigned int i = 0; i < run->nch; i++) {
		struct vireo_sensor_channel ch;

		host_sensor_channel(run->hs, i, &ch);
		if (!seen[i]) {
			cert_report_add(run->r, "values", CERT_FAIL,
					"channel %u '%s': no value in %d reads", i, ch.label,
					VALUE_ROUNDS);
			return;
		}
		if (used < sizeof(list) - 1)
			used += (size_t)snprintf(list + used, sizeof(list) - used,
						 "%s%s %" PRId64 "..%" PRId64 " %s", i ? ", " : "",
						 ch.label, lo[i], hi[i], host_sensor_unit(ch.type));
	}
	cert_report_add(run->r, "values", CERT_PASS, "%d reads each, all possible: %s",
			VALUE_ROUNDS, list);
}

/* The driver, not only the core, refuses what is past its last channel. */
static void check_bad_index(struct sensor_run *run)
{
	const unsigned int bad[] = { run->nch, run->nch + 1, UINT_MAX };
	struct vireo_sensor_channel ch;
	int64_t v;
	int rc;

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		rc = host_sensor_raw_get_channel(run->hs, bad[k], &ch);
		if (rc != -ENOENT) {
			cert_report_add(run->r, "bad-index", CERT_FAIL,
					"get_channel(%u) returned %d, not -ENOENT", bad[k], rc);
			return;
		}
		rc = host_sensor_raw_read(run->hs, bad[k], &v);
		if (rc >= 0) {
			cert_report_add(run->r, "bad-index", CERT_FAIL,
					"read(%u) returned %d, not a negative errno", bad[k], rc);
			return;
		}
		rc = host_sensor_raw_set_threshold(run->hs, bad[k], VIREO_SENSOR_MAX, 0);
		if (rc >= 0) {
			cert_report_add(run->r, "bad-index", CERT_FAIL,
					"set_threshold(%u) returned %d, not a negative errno",
					bad[k], rc);
			return;
		}
	}
	cert_report_add(run->r, "bad-index", CERT_PASS,
			"indexes %u, %u and %u refused by get_channel (-ENOENT), read and "
			"set_threshold",
			bad[0], bad[1], bad[2]);
}

/*
 * The sensor thread for a while, then the count of reads per channel: at least the
 * one at start, at most one per period of the time that passed (plus that first one).
 */
static void check_interval(struct sensor_run *run, struct host_sensor_ref *ref)
{
	struct host_sensor_reading before[VIREO_SENSOR_MAX_CHANNELS];
	uint64_t t0, elapsed_ms;
	uint32_t window = 2 * run->max_period_ms;
	int rc;

	if (window < 600)
		window = 600;
	if (window > 3000)
		window = 3000;
	for (unsigned int i = 0; i < run->nch; i++)
		host_sensor_get(run->hs, i, &before[i]);
	t0 = now_ns();
	rc = host_sensor_start(run->hs);
	if (rc == 0)
		rc = host_sensor_ref_get(host_sensor_id(run->hs), "0", ref);
	if (rc < 0) {
		cert_report_add(run->r, "update-interval", CERT_FAIL,
				"cannot start the sensor thread: %s", strerror(-rc));
		return;
	}
	usleep(window * 1000u);
	host_sensor_close(run->hs); /* the thread is joined: the counts stop here */
	elapsed_ms = (now_ns() - t0) / 1000000ull;
	for (unsigned int i = 0; i < run->nch; i++) {
		struct host_sensor_reading rd;
		struct vireo_sensor_channel ch;
		uint64_t reads, most;

		host_sensor_channel(ref->hs, i, &ch);
		host_sensor_get(ref->hs, i, &rd);
		reads = rd.reads - before[i].reads;
		most = elapsed_ms / rd.period_ms + 1;
		if (reads < 1 || reads > most) {
			cert_report_add(run->r, "update-interval", CERT_FAIL,
					"channel %u '%s': %" PRIu64 " reads in %" PRIu64
					" ms; want 1 to %" PRIu64 " (period %u ms)",
					i, ch.label, reads, elapsed_ms, most, rd.period_ms);
			return;
		}
	}
	cert_report_add(run->r, "update-interval", CERT_PASS,
			"%" PRIu64 " ms of the sensor thread: no channel read more often than "
			"its period (longest %u ms)",
			elapsed_ms, run->max_period_ms);
}

int cert_sensor_run(struct host_driver *drv, const struct cert_opts *opts, struct cert_report *r)
{
	struct sensor_run run = { .r = r, .opts = opts };
	struct host_sensor_ref ref = { 0 };
	char err[512] = "";
	int rc;

	rc = host_sensor_open(drv, "certify0", opts->keys, opts->values, opts->nparams, &run.hs,
			      err, sizeof(err));
	if (rc < 0) {
		cert_report_add(r, "open", CERT_FAIL, "%s", err[0] ? err : strerror(-rc));
		return 0;
	}
	run.nch = host_sensor_num_channels(run.hs);
	cert_report_add(r, "open", CERT_PASS, "%zu parameter(s), %u channel(s), each checked",
			opts->nparams, run.nch);
	check_channels(&run);
	check_values(&run);
	check_bad_index(&run);
	sensor_check_limits(&run);
	check_interval(&run, &ref);
	if (!ref.hs) {
		host_sensor_close(run.hs);
		cert_report_add(r, "close", CERT_PASS, "closed");
		return 0;
	}
	rc = host_sensor_ref_read(&ref, &(int64_t){ 0 }, NULL);
	host_sensor_ref_put(&ref);
	cert_report_add(r, "close", rc == -ENODEV ? CERT_PASS : CERT_FAIL,
			"closed; a device model's reference then reads %s",
			rc == -ENODEV ? "-ENODEV" : "something else");
	return 0;
}
