// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/host/sensordev.c with real drivers: samples/sensor-synth for
 * channels, cadence, values, thresholds and the device-model references, and
 * tests/unit/host/sensor_test_driver.c for every rule a driver can break (each refused
 * with its named reason) and for bad reads and read-backs (contained, counted). The
 * cadence is driven with the test's own clock through host_sensor_poll(), so no test
 * depends on timing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "host/loader.h"
#include "host/sensordev.h"

#define MS 1000000ull

static const char *g_moddir;
static const char *g_synth;

struct fixture {
	struct host_registry *reg;
	struct host_driver *synth;
	struct host_driver *tdrv;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[PATH_MAX];

	if (!f || host_registry_new(&f->reg) < 0)
		return -1;
	cap_start();
	snprintf(path, sizeof(path), "%s/sensor_test_driver.so", g_moddir);
	if (host_load(f->reg, g_synth, &f->synth, NULL) < 0 ||
	    host_load(f->reg, path, &f->tdrv, NULL) < 0)
		return -1;
	cap_clear();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	host_registry_free(f->reg);
	cap_stop();
	free(f);
	return 0;
}

static int open1(struct host_driver *drv, const char *key, const char *value,
		 struct host_sensor **hs, char *err, size_t errlen)
{
	const char *keys[1] = { key }, *values[1] = { value };

	return host_sensor_open(drv, "s0", keys, values, key ? 1 : 0, hs, err, errlen);
}

static void test_synth_channels(void **state)
{
	static const char *const labels[] = { "cpu",	       "inlet", "vcore", "psu-12v-current",
					      "psu-12v-power", "fan1" };
	static const uint32_t types[] = { VIREO_SENSOR_TEMPERATURE, VIREO_SENSOR_TEMPERATURE,
					  VIREO_SENSOR_VOLTAGE,	    VIREO_SENSOR_CURRENT,
					  VIREO_SENSOR_POWER,	    VIREO_SENSOR_FAN };
	struct fixture *f = *state;
	struct vireo_sensor_channel ch;
	struct host_sensor *hs;
	char err[256];

	assert_int_equal(open1(f->synth, NULL, NULL, &hs, err, sizeof(err)), 0);
	assert_int_equal(host_sensor_num_channels(hs), 6);
	for (unsigned int i = 0; i < 6; i++) {
		assert_int_equal(host_sensor_channel(hs, i, &ch), 0);
		assert_string_equal(ch.label, labels[i]);
		assert_int_equal(ch.type, types[i]);
		assert_int_equal(ch.update_interval_ms, 500);
		assert_int_equal(ch.struct_size, sizeof(ch));
		assert_int_equal(host_sensor_find(hs, labels[i]), (int)i);
	}
	assert_int_equal(host_sensor_channel(hs, 6, &ch), -ENOENT);
	host_sensor_channel(hs, 2, &ch);
	assert_int_equal(ch.flags, VIREO_SENSOR_CH_MIN | VIREO_SENSOR_CH_MAX);
	assert_int_equal(ch.min, 1100);
	assert_int_equal(ch.max, 1300);
	assert_int_equal(ch.crit, 0);
	assert_int_equal(host_sensor_find(hs, "3"), 3);
	assert_int_equal(host_sensor_find(hs, "6"), -ENOENT);
	assert_int_equal(host_sensor_find(hs, "3x"), -ENOENT);
	assert_int_equal(host_sensor_find(hs, "gpu"), -ENOENT);
	assert_string_equal(host_sensor_driver(hs), "sensor-synth");
	assert_string_equal(host_sensor_id(hs), "s0");
	assert_string_equal(host_sensor_unit(VIREO_SENSOR_POWER), "uW");
	assert_string_equal(host_sensor_type_name(VIREO_SENSOR_FAN), "fan");
	host_sensor_close(hs);
}

/* Reads happen when due and not before; values follow the sample's triangle wave. */
static void test_cadence_and_values(void **state)
{
	struct fixture *f = *state;
	struct host_sensor_reading r;
	struct host_sensor *hs;
	uint64_t next;
	char err[256];

	assert_int_equal(open1(f->synth, "interval-ms", "250", &hs, err, sizeof(err)), 0);
	assert_int_equal(host_sensor_get(hs, 0, &r), 0);
	assert_false(r.valid);
	assert_int_equal(r.period_ms, 250);

	assert_int_equal(host_sensor_poll(hs, 1000 * MS, &next), 6);
	assert_int_equal(next, 1250 * MS);
	host_sensor_get(hs, 0, &r);
	assert_true(r.valid);
	assert_int_equal(r.value, 45000);
	assert_int_equal(r.timestamp_ns, 1000 * MS);
	assert_int_equal(r.reads, 1);
	host_sensor_get(hs, 4, &r);
	assert_int_equal(r.value, 96000000); /* 12 V x 8 A */

	assert_int_equal(host_sensor_poll(hs, 1249 * MS, NULL), 0);
	assert_int_equal(host_sensor_poll(hs, 1250 * MS, NULL), 6);
	host_sensor_get(hs, 0, &r);
	assert_int_equal(r.value, 45500); /* one step of 2.5 C / 5 */
	assert_int_equal(r.reads, 2);
	assert_int_equal(r.timestamp_ns, 1250 * MS);
	for (uint64_t t = 1300; t < 6000; t += 50)
		host_sensor_poll(hs, t * MS, NULL);
	host_sensor_get(hs, 0, &r);
	assert_int_equal(r.reads, 20); /* 1000, 1250, ... 5750 */
	assert_int_equal(r.value, 45000 - 500);
	assert_int_equal(r.errors, 0);
	host_sensor_close(hs);

	/* A channel with a shorter interval than the core's floor is read at the floor. */
	assert_int_equal(open1(f->synth, "interval-ms", "10", &hs, err, sizeof(err)), 0);
	host_sensor_get(hs, 0, &r);
	assert_int_equal(r.period_ms, HOST_SENSOR_MIN_PERIOD_MS);
	host_sensor_close(hs);
	assert_int_equal(open1(f->synth, "interval-ms", "0", &hs, err, sizeof(err)), 0);
	host_sensor_get(hs, 0, &r);
	assert_int_equal(r.period_ms, HOST_SENSOR_DEFAULT_PERIOD_MS);
	host_sensor_close(hs);
}

static void test_thresholds(void **state)
{
	struct fixture *f = *state;
	struct vireo_sensor_channel ch;
	struct host_sensor *hs;
	char err[256];

	assert_int_equal(open1(f->synth, NULL, NULL, &hs, err, sizeof(err)), 0);
	/* The sample rounds temperature limits to 0.5 C; the core reads that back. */
	assert_int_equal(host_sensor_set_threshold(hs, 0, VIREO_SENSOR_MAX, 80250), 0);
	host_sensor_channel(hs, 0, &ch);
	assert_int_equal(ch.max, 80500);
	assert_int_equal(host_sensor_set_threshold(hs, 5, VIREO_SENSOR_MIN, 900), 0);
	host_sensor_channel(hs, 5, &ch);
	assert_int_equal(ch.min, 900);
	assert_int_equal(host_sensor_set_threshold(hs, 2, VIREO_SENSOR_MAX, 1250), -EOPNOTSUPP);
	assert_int_equal(host_sensor_set_threshold(hs, 1, VIREO_SENSOR_MIN, 0), -EINVAL);
	assert_int_equal(host_sensor_set_threshold(hs, 0, 3, 0), -EINVAL);
	assert_int_equal(host_sensor_set_threshold(hs, 9, VIREO_SENSOR_MAX, 0), -ENOENT);
	assert_int_equal(host_sensor_set_threshold(hs, 0, VIREO_SENSOR_CRIT, 200000), -ERANGE);
	/* max above crit: the sample keeps its limits ordered and says no. */
	assert_int_equal(host_sensor_set_threshold(hs, 0, VIREO_SENSOR_MAX, 110000), -EINVAL);
	host_sensor_channel(hs, 0, &ch);
	assert_int_equal(ch.max, 80500);
	assert_int_equal(ch.crit, 100000);
	host_sensor_close(hs);

	assert_int_equal(open1(f->synth, "writable", "off", &hs, err, sizeof(err)), 0);
	assert_int_equal(host_sensor_set_threshold(hs, 0, VIREO_SENSOR_MAX, 80000), -EOPNOTSUPP);
	host_sensor_close(hs);
}

static void test_bad_channels(void **state)
{
	static const struct {
		const char *mode;
		int rc;
		const char *msg;
	} cases[] = {
		{ "bad-type", -EINVAL, "bad channel 1 (bad-type): type 9; known 1 to 5" },
		{ "unterminated", -EINVAL, "(bad-label): label not NUL-terminated within 32" },
		{ "nonprint", -EINVAL, "(bad-label): label byte 0 is 0x0a" },
		{ "empty-label", -EINVAL, "(bad-label): empty label" },
		{ "dup-label", -EINVAL, "(duplicate-label): label 't0' is channel 0's too" },
		{ "bad-flags", -EINVAL, "(bad-flags): flags 0x20e; known 0xf" },
		{ "writable-nolimit", -EINVAL, "(bad-flags): writable without a limit" },
		{ "limits", -EINVAL, "(bad-limits): limits min 0, max 120000, crit 100000" },
		{ "interval", -EINVAL, "(bad-interval): update_interval_ms 3600001 above" },
		{ "too-many", -EINVAL, "bad channel (too-many-channels): more than 64" },
		{ "no-channels", -EINVAL, "device 's0': no-channels" },
		{ "get-fails", -EIO, "get_channel(1) failed: Input/output error" },
		{ "open-fails", -ENXIO, "open failed: No such device or address" },
	};
	struct fixture *f = *state;
	struct host_sensor *hs;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(open1(f->tdrv, "mode", cases[i].mode, &hs, err, sizeof(err)),
				 cases[i].rc);
		assert_null(hs);
		if (!strstr(err, cases[i].msg))
			fail_msg("mode %s: '%s' lacks '%s'", cases[i].mode, err, cases[i].msg);
		assert_non_null(strstr(err, "driver 'sensor-test' device 's0'"));
	}
	/* Nothing leaked a driver reference: it unloads. */
	assert_int_equal(host_unload(f->reg, f->tdrv), 0);
	f->tdrv = NULL;
	/* Not a sensor driver. */
	{
		char path[PATH_MAX];
		struct host_driver *blk;

		snprintf(path, sizeof(path), "%s/good_dup.so", g_moddir);
		if (host_load(f->reg, path, &blk, NULL) == 0)
			assert_int_equal(open1(blk, NULL, NULL, &hs, err, sizeof(err)), -EINVAL);
	}
}

static void test_bad_reads(void **state)
{
	struct fixture *f = *state;
	struct host_sensor_reading r;
	struct host_sensor_ref ref;
	struct vireo_sensor_channel ch;
	struct host_sensor *hs;
	int64_t v;
	char err[256];

	assert_int_equal(open1(f->tdrv, "mode", "read-positive", &hs, err, sizeof(err)), 0);
	host_sensor_poll(hs, 0, NULL);
	host_sensor_get(hs, 0, &r);
	assert_false(r.valid);
	assert_int_equal(r.error, -EIO);
	assert_int_equal(r.errors, 1);
	assert_non_null(cap_find(VIREO_LOG_ERR, "read returned 5, not 0 or -errno"));
	host_sensor_close(hs);

	assert_int_equal(open1(f->tdrv, "mode", "implausible", &hs, err, sizeof(err)), 0);
	host_sensor_poll(hs, 0, NULL);
	host_sensor_get(hs, 1, &r);
	assert_false(r.valid);
	assert_int_equal(r.error, -ERANGE);
	assert_non_null(cap_find(VIREO_LOG_WARN, "read -300000 mC, not a possible temperature"));
	host_sensor_close(hs);

	/* -EAGAIN is "not yet", not an error. */
	assert_int_equal(open1(f->tdrv, "mode", "read-again", &hs, err, sizeof(err)), 0);
	assert_int_equal(host_sensor_start(hs), 0);
	assert_int_equal(host_sensor_ref_get("s0", "t1", &ref), 0);
	assert_int_equal(host_sensor_ref_read(&ref, &v, NULL), -EAGAIN);
	host_sensor_close(hs);
	host_sensor_ref_put(&ref);

	/* A read-back that renames the channel is refused; the old limits stay. */
	assert_int_equal(open1(f->tdrv, "mode", "readback-label", &hs, err, sizeof(err)), 0);
	assert_int_equal(host_sensor_set_threshold(hs, 1, VIREO_SENSOR_MAX, 81000), -EIO);
	host_sensor_channel(hs, 1, &ch);
	assert_string_equal(ch.label, "t1");
	assert_int_equal(ch.max, 80000);
	assert_int_equal(host_sensor_set_threshold(hs, 0, VIREO_SENSOR_MAX, 81000), 0);
	host_sensor_channel(hs, 0, &ch);
	assert_int_equal(ch.max, 82000); /* what the driver reported back, not what was asked */
	host_sensor_close(hs);
}

/* A device model's view: find by id and label or index, read from the thread's cache. */
static void test_refs(void **state)
{
	struct fixture *f = *state;
	struct host_sensor_ref ref = { 0 }, ref2 = { 0 };
	struct host_sensor *hs;
	uint64_t ts = 0;
	int64_t v = 0;
	char err[256];
	int rc = -EAGAIN;

	assert_int_equal(open1(f->synth, NULL, NULL, &hs, err, sizeof(err)), 0);
	assert_int_equal(host_sensor_ref_get("s0", "cpu", &ref), -ENODEV); /* not started */
	assert_int_equal(host_sensor_start(hs), 0);
	assert_int_equal(host_sensor_ref_get("s0", "cpu", &ref), 0);
	assert_int_equal(ref.index, 0);
	assert_int_equal(host_sensor_ref_get("s0", "5", &ref2), 0);
	assert_int_equal(ref2.index, 5);
	host_sensor_ref_put(&ref2);
	assert_int_equal(host_sensor_ref_get("s0", "gpu", &ref2), -ENOENT);
	assert_int_equal(host_sensor_ref_get("s9", "cpu", &ref2), -ENODEV);
	/* The thread reads every channel as it starts; wait for that, not for a time. */
	for (int i = 0; i < 500 && rc == -EAGAIN; i++) {
		rc = host_sensor_ref_read(&ref, &v, &ts);
		if (rc == -EAGAIN)
			usleep(10000);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(v, 45000);
	assert_true(ts > 0);
	host_sensor_close(hs);
	/* The reference outlives the device: its reads say the device is gone. */
	assert_int_equal(host_sensor_ref_read(&ref, &v, &ts), -ENODEV);
	host_sensor_ref_put(&ref);
	assert_null(ref.hs);

	/* A failing driver's error reaches the reader. */
	assert_int_equal(open1(f->synth, "fail-reads", "on", &hs, err, sizeof(err)), 0);
	host_sensor_poll(hs, 0, NULL);
	assert_int_equal(host_sensor_start(hs), 0);
	assert_int_equal(host_sensor_ref_get("s0", "fan1", &ref), 0);
	assert_int_equal(host_sensor_ref_read(&ref, &v, NULL), -EIO);
	host_sensor_ref_put(&ref);
	host_sensor_close(hs);
}

static void test_check_rules(void **state)
{
	struct vireo_sensor_channel ch = { .struct_size = sizeof(ch),
					   .type = VIREO_SENSOR_FAN,
					   .label = "fan",
					   .flags = VIREO_SENSOR_CH_MIN | VIREO_SENSOR_CH_CRIT,
					   .min = 500,
					   .max = -7, /* not flagged: not compared */
					   .crit = 400 };
	char why[128];

	(void)state;
	assert_int_equal(host_sensor_check_channel(&ch, why, sizeof(why)), HOST_SENSOR_BAD_LIMITS);
	ch.crit = 500;
	assert_int_equal(host_sensor_check_channel(&ch, why, sizeof(why)), HOST_SENSOR_OK);
	ch.label[5] = '\x7f';
	assert_int_equal(host_sensor_check_channel(&ch, why, sizeof(why)), HOST_SENSOR_OK);
	ch.label[1] = '\x7f';
	assert_int_equal(host_sensor_check_channel(&ch, why, sizeof(why)), HOST_SENSOR_BAD_LABEL);
	assert_true(host_sensor_plausible(VIREO_SENSOR_TEMPERATURE, -273150));
	assert_false(host_sensor_plausible(VIREO_SENSOR_TEMPERATURE, -273151));
	assert_false(host_sensor_plausible(VIREO_SENSOR_FAN, -1));
	assert_false(host_sensor_plausible(0, 0));
	assert_string_equal(host_sensor_refusal_name(HOST_SENSOR_TOO_MANY), "too-many-channels");
	assert_string_equal(host_sensor_refusal_name(HOST_SENSOR_REFUSAL_MAX), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_synth_channels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cadence_and_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thresholds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_channels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refs, setup, teardown),
		cmocka_unit_test(test_check_rules),
	};

	g_moddir = getenv("VIREO_TEST_MODDIR");
	g_synth = getenv("VIREO_TEST_SENSOR_SYNTH");
	if (!g_moddir || !g_synth) {
		fprintf(stderr, "VIREO_TEST_MODDIR and VIREO_TEST_SENSOR_SYNTH must be set\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
