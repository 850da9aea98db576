// SPDX-License-Identifier: MIT
/*
 * Unit tests of drivers/sensor/hwmon through the core's sensor service, against the
 * sysfs-like tree tests/unit/host/sensor_tree.sh builds: which channels it finds and in
 * what order, their labels, types, limits and writability, values that change between
 * reads, thresholds written back to the files, and the errors of a tree that changes
 * under it. The cadence is driven with the test's clock through host_sensor_poll().
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
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "host/loader.h"
#include "host/sensordev.h"

#define MS 1000000ull

static const char *g_hwmon;
static const char *g_tree;

struct fixture {
	struct host_registry *reg;
	struct host_driver *drv;
	char root[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char cmd[PATH_MAX + 80];

	if (!f || host_registry_new(&f->reg) < 0)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/vireo-hwmon-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(cmd, sizeof(cmd), "bash '%s' '%s'", g_tree, f->root);
	if (system(cmd) != 0)
		return -1;
	cap_start();
	if (host_load(f->reg, g_hwmon, &f->drv, NULL) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	host_registry_free(f->reg);
	cap_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->root);
	free(f);
	return 0;
}

static int open_tree(struct fixture *f, const char *key, const char *value, struct host_sensor **hs)
{
	const char *keys[2] = { "root", key }, *values[2] = { f->root, value };
	char err[256] = "";
	int rc = host_sensor_open(f->drv, "hw0", keys, values, key ? 2 : 1, hs, err, sizeof(err));

	if (rc < 0)
		fprintf(stderr, "open: %s\n", err);
	return rc;
}

/* Writes @text to @rel under the tree (making the file writable first, as a test may). */
static void put(struct fixture *f, const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->root, rel);
	chmod(path, 0644);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "%s\n", text);
	fclose(fp);
}

static void get(struct fixture *f, const char *rel, char *buf, size_t len)
{
	char path[PATH_MAX];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->root, rel);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(buf, (int)len, fp));
	buf[strcspn(buf, "\n")] = '\0';
	fclose(fp);
}

static const struct {
	const char *label;
	uint32_t type;
	uint32_t flags;
	int64_t min, max, crit;
	uint32_t interval;
	int64_t value;
} g_want[] = {
	{ "lm75:temp1", VIREO_SENSOR_TEMPERATURE, VIREO_SENSOR_CH_MAX | VIREO_SENSOR_CH_WRITABLE, 0,
	  80000, 0, 500, 45500 },
	{ "SYSTIN", VIREO_SENSOR_TEMPERATURE,
	  VIREO_SENSOR_CH_MAX | VIREO_SENSOR_CH_CRIT | VIREO_SENSOR_CH_WRITABLE, 0, 70000, 90000, 0,
	  30000 },
	/* max 95000 above crit 85000: left out */
	{ "nct6775:temp2", VIREO_SENSOR_TEMPERATURE,
	  VIREO_SENSOR_CH_CRIT | VIREO_SENSOR_CH_WRITABLE, 0, 0, 85000, 0, 41000 },
	{ "Vcore", VIREO_SENSOR_VOLTAGE, VIREO_SENSOR_CH_MIN | VIREO_SENSOR_CH_MAX, 1100, 1300, 0,
	  0, 1200 },
	{ "nct6775:curr1", VIREO_SENSOR_CURRENT, 0, 0, 0, 0, 0, 5000 },
	{ "nct6775:power1", VIREO_SENSOR_POWER, 0, 0, 0, 0, 0, 96000000 },
	{ "nct6775:fan1", VIREO_SENSOR_FAN, VIREO_SENSOR_CH_MIN | VIREO_SENSOR_CH_WRITABLE, 600, 0,
	  0, 0, 2400 },
	{ "oldchip:temp1", VIREO_SENSOR_TEMPERATURE, 0, 0, 0, 0, 0, 38000 },
	/* the zone's type repeats hwmon1's label; its passive trip is not a limit */
	{ "SYSTIN#2", VIREO_SENSOR_TEMPERATURE, VIREO_SENSOR_CH_CRIT | VIREO_SENSOR_CH_WRITABLE, 0,
	  0, 105000, 0, 27800 },
};

#define NWANT (sizeof(g_want) / sizeof(g_want[0]))

static void test_channels(void **state)
{
	struct fixture *f = *state;
	struct vireo_sensor_channel ch;
	struct host_sensor_reading r;
	struct host_sensor *hs;

	assert_int_equal(open_tree(f, NULL, NULL, &hs), 0);
	assert_int_equal(host_sensor_num_channels(hs), NWANT);
	host_sensor_poll(hs, 0, NULL);
	for (unsigned int i = 0; i < NWANT; i++) {
		assert_int_equal(host_sensor_channel(hs, i, &ch), 0);
		assert_string_equal(ch.label, g_want[i].label);
		assert_int_equal(ch.type, g_want[i].type);
		assert_int_equal(ch.flags, g_want[i].flags);
		assert_int_equal(ch.min, g_want[i].min);
		assert_int_equal(ch.max, g_want[i].max);
		assert_int_equal(ch.crit, g_want[i].crit);
		assert_int_equal(ch.update_interval_ms, g_want[i].interval);
		assert_int_equal(host_sensor_get(hs, i, &r), 0);
		assert_true(r.valid);
		assert_int_equal(r.error, 0);
		assert_int_equal(r.value, g_want[i].value);
	}
	host_sensor_close(hs);

	assert_int_equal(open_tree(f, "thermal", "off", &hs), 0);
	assert_int_equal(host_sensor_num_channels(hs), NWANT - 1);
	host_sensor_close(hs);
}

/* A value the "chip" changes shows up on the next read, and not before it is due. */
static void test_values_follow(void **state)
{
	struct fixture *f = *state;
	struct host_sensor_reading r;
	struct host_sensor *hs;

	assert_int_equal(open_tree(f, NULL, NULL, &hs), 0);
	host_sensor_poll(hs, 0, NULL);
	put(f, "class/hwmon/hwmon0/temp1_input", "52125");
	put(f, "class/thermal/thermal_zone0/temp", "-5000");
	host_sensor_poll(hs, 499 * MS, NULL);
	host_sensor_get(hs, 0, &r);
	assert_int_equal(r.value, 45500);
	host_sensor_poll(hs, 500 * MS, NULL); /* lm75's update_interval */
	host_sensor_get(hs, 0, &r);
	assert_int_equal(r.value, 52125);
	host_sensor_get(hs, 8, &r);
	assert_int_equal(r.value, 27800); /* the zone: the core's default period */
	host_sensor_poll(hs, 1000 * MS, NULL);
	host_sensor_get(hs, 8, &r);
	assert_int_equal(r.value, -5000);

	/* A chip that goes away: its channel reports the error, keeps the last value. */
	put(f, "class/hwmon/hwmon10/device/temp1_input", "garbage");
	host_sensor_poll(hs, 2000 * MS, NULL);
	host_sensor_get(hs, 7, &r);
	assert_int_equal(r.error, -EIO);
	assert_int_equal(r.value, 38000);
	assert_int_equal(r.errors, 1);
	host_sensor_close(hs);
}

static void test_thresholds(void **state)
{
	struct fixture *f = *state;
	struct vireo_sensor_channel ch;
	struct host_sensor *hs;
	char buf[64];

	assert_int_equal(open_tree(f, NULL, NULL, &hs), 0);
	assert_int_equal(host_sensor_set_threshold(hs, 0, VIREO_SENSOR_MAX, 81000), 0);
	get(f, "class/hwmon/hwmon0/temp1_max", buf, sizeof(buf));
	assert_string_equal(buf, "81000");
	host_sensor_channel(hs, 0, &ch);
	assert_int_equal(ch.max, 81000);

	assert_int_equal(host_sensor_set_threshold(hs, 8, VIREO_SENSOR_CRIT, 98000), 0);
	get(f, "class/thermal/thermal_zone0/trip_point_1_temp", buf, sizeof(buf));
	assert_string_equal(buf, "98000");
	assert_int_equal(host_sensor_set_threshold(hs, 6, VIREO_SENSOR_MIN, 450), 0);
	get(f, "class/hwmon/hwmon1/fan1_min", buf, sizeof(buf));
	assert_string_equal(buf, "450");

	/* Read-only files, absent limits, impossible values. */
	assert_int_equal(host_sensor_set_threshold(hs, 3, VIREO_SENSOR_MAX, 1250), -EOPNOTSUPP);
	assert_int_equal(host_sensor_set_threshold(hs, 0, VIREO_SENSOR_CRIT, 90000), -EINVAL);
	/* temp2_max was left out (above crit): the driver never writes it either. */
	assert_int_equal(host_sensor_raw_set_threshold(hs, 2, VIREO_SENSOR_MAX, 80000),
			 -EOPNOTSUPP);
	get(f, "class/hwmon/hwmon1/temp2_max", buf, sizeof(buf));
	assert_string_equal(buf, "95000");
	assert_int_equal(host_sensor_set_threshold(hs, 0, VIREO_SENSOR_MAX, 2000001), -ERANGE);
	assert_int_equal(host_sensor_set_threshold(hs, 6, VIREO_SENSOR_MIN, -1), -ERANGE);
	get(f, "class/hwmon/hwmon0/temp1_max", buf, sizeof(buf));
	assert_string_equal(buf, "81000");

	/* A limit changed behind the driver's back is what the next read-back reports. */
	put(f, "class/hwmon/hwmon1/temp1_max", "60000");
	assert_int_equal(host_sensor_set_threshold(hs, 1, VIREO_SENSOR_CRIT, 91000), 0);
	host_sensor_channel(hs, 1, &ch);
	assert_int_equal(ch.max, 60000);
	assert_int_equal(ch.crit, 91000);
	host_sensor_close(hs);
}

static void test_empty_root(void **state)
{
	struct fixture *f = *state;
	const char *keys[1] = { "root" }, *values[1] = { "/nonexistent/sys" };
	struct host_sensor *hs;
	char err[256];

	assert_int_equal(host_sensor_open(f->drv, "hw0", keys, values, 1, &hs, err, sizeof(err)),
			 -ENODEV);
	assert_non_null(cap_find(VIREO_LOG_ERR, "no hwmon or thermal sensors under /nonexistent"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_channels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_values_follow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thresholds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_root, setup, teardown),
	};

	g_hwmon = getenv("VIREO_TEST_SENSOR_HWMON");
	g_tree = getenv("VIREO_TEST_SENSOR_TREE");
	if (!g_hwmon || !g_tree) {
		fprintf(stderr, "VIREO_TEST_SENSOR_HWMON and VIREO_TEST_SENSOR_TREE must be set\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
