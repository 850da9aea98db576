// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/control/spec.c: device specs from the command line and
 * from JSON, the defaults, and one refusal per rule, each naming the bad key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "control/spec.h"

static void test_blk_spec(void **state)
{
	struct vd_spec s;
	char err[256] = "";

	(void)state;
	assert_int_equal(vd_spec_parse("blk,id=disk0,driver=file,path=/var/lib/vm/disk.raw,"
				       "socket=/run/vireo/disk0.sock,num-queues=2,readonly=on",
				       &s, err, sizeof(err)),
			 0);
	assert_int_equal(s.cls, VD_CLASS_BLK);
	assert_string_equal(s.id, "disk0");
	assert_string_equal(s.driver, "file");
	assert_string_equal(s.socket, "/run/vireo/disk0.sock");
	assert_int_equal(s.num_queues, 2);
	assert_true(s.readonly);
	assert_int_equal(s.nparams, 1);
	assert_string_equal(vd_spec_param(&s, "path"), "/var/lib/vm/disk.raw");
	assert_null(vd_spec_param(&s, "id"));
	vd_spec_free(&s);
	assert_null(s.id);
}

static void test_defaults_and_escaped_comma(void **state)
{
	struct vd_spec s;
	char err[256] = "";

	(void)state;
	assert_int_equal(vd_spec_parse("net,id=net0,driver=tap,ifname=vtap0,socket=n.sock,"
				       "label=a,,b",
				       &s, err, sizeof(err)),
			 0);
	assert_int_equal(s.cls, VD_CLASS_NET);
	assert_int_equal(s.num_queues, 1);
	assert_false(s.readonly);
	assert_string_equal(vd_spec_param(&s, "label"), "a,b");
	assert_string_equal(vd_spec_param(&s, "ifname"), "vtap0");
	vd_spec_free(&s);
}

static void test_sensor_device(void **state)
{
	struct vd_spec s;
	char err[256] = "";

	(void)state;
	assert_int_equal(
		vd_spec_parse("sensor,id=hw0,driver=hwmon,root=/sys", &s, err, sizeof(err)), 0);
	assert_int_equal(s.cls, VD_CLASS_SENSOR);
	assert_string_equal(vd_class_name(s.cls), "sensor");
	assert_null(s.socket);
	assert_string_equal(vd_spec_param(&s, "root"), "/sys");
	vd_spec_free(&s);
}

static void test_repeatable_sensor_key(void **state)
{
	struct vd_spec s;
	char err[256] = "";

	(void)state;
	assert_int_equal(vd_spec_parse("i2c,id=bus0,socket=i.sock,sensor=0x48:hwmon:0,"
				       "sensor=0x49:hwmon:1",
				       &s, err, sizeof(err)),
			 0);
	assert_int_equal(s.nparams, 2);
	assert_string_equal(s.params[1].value, "0x49:hwmon:1");
	assert_null(s.driver);
	vd_spec_free(&s);
}

/* Each bad spec must be refused with a message containing `needle`. */
static void expect_refused(const char *text, const char *needle)
{
	struct vd_spec s;
	char err[256] = "";

	assert_int_equal(vd_spec_parse(text, &s, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("spec '%s': error '%s' does not mention '%s'", text, err, needle);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_refused("", "empty device spec");
	expect_refused("disk,id=a,socket=s", "unknown device class 'disk'");
	expect_refused("blk,socket=s,driver=file", "missing key 'id'");
	expect_refused("blk,id=a,driver=file", "missing key 'socket'");
	expect_refused("net,id=a,socket=s", "missing key 'driver'");
	expect_refused("sensor,id=a", "missing key 'driver'");
	expect_refused("sensor,id=a,driver=hwmon,socket=s", "a sensor device has none");
	expect_refused("blk,id=a,driver=file,socket=s,num-queues=0", "num-queues");
	expect_refused("blk,id=a,driver=file,socket=s,num-queues=65", "num-queues");
	expect_refused("blk,id=a,driver=file,socket=s,num-queues=-1", "num-queues");
	expect_refused("blk,id=a,driver=file,socket=s,num-queues=2x", "num-queues");
	expect_refused("blk,id=a,driver=file,socket=s,readonly=maybe", "readonly");
	expect_refused("blk,id=a b,driver=file,socket=s", "key 'id'");
	expect_refused("blk,id=a,id=b,driver=file,socket=s", "'id' given twice");
	expect_refused("blk,id=a,driver=file,socket=s,path=x,path=y", "'path' given twice");
	expect_refused("blk,id=a,driver=file,socket=s,readonly", "not KEY=VALUE");
	expect_refused("blk,id=a,driver=file,socket=s,path=", "has no value");
	expect_refused("blk,id=a,driver=file,socket=s,=x", "empty key");
	expect_refused("blk,id=a,driver=file,socket=s,", "trailing comma");
	expect_refused("blk,class=net,id=a,driver=file,socket=s", "key 'class'");
}

static void test_json_device(void **state)
{
	struct json_object *obj = json_tokener_parse(
		"{\"class\": \"blk\", \"id\": \"disk0\", \"driver\": \"file\","
		" \"socket\": \"/run/d.sock\", \"num-queues\": 4, \"readonly\": true,"
		" \"path\": \"/tmp/x.raw\", \"direct\": false}");
	struct vd_spec s;
	char err[256] = "";

	(void)state;
	assert_non_null(obj);
	assert_int_equal(vd_spec_from_json(obj, &s, err, sizeof(err)), 0);
	assert_int_equal(s.num_queues, 4);
	assert_true(s.readonly);
	assert_string_equal(vd_spec_param(&s, "path"), "/tmp/x.raw");
	assert_string_equal(vd_spec_param(&s, "direct"), "false");
	vd_spec_free(&s);
	json_object_put(obj);
}

static void expect_json_refused(const char *text, const char *needle)
{
	struct json_object *obj = json_tokener_parse(text);
	struct vd_spec s;
	char err[256] = "";

	assert_non_null(obj);
	assert_int_equal(vd_spec_from_json(obj, &s, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("json '%s': error '%s' does not mention '%s'", text, err, needle);
	json_object_put(obj);
}

static void test_json_refusals(void **state)
{
	(void)state;
	expect_json_refused("[1]", "JSON object");
	expect_json_refused("{\"id\": \"a\"}", "missing key 'class'");
	expect_json_refused("{\"class\": \"tape\"}", "unknown device class 'tape'");
	expect_json_refused("{\"class\": \"blk\", \"id\": \"a\", \"driver\": \"f\","
			    " \"socket\": \"s\", \"num-queues\": 100}",
			    "num-queues");
	expect_json_refused("{\"class\": \"blk\", \"id\": \"a\", \"driver\": \"f\","
			    " \"socket\": \"s\", \"path\": {\"x\": 1}}",
			    "key 'path' must be");
	expect_json_refused("{\"class\": \"blk\", \"id\": \"a\", \"driver\": \"f\","
			    " \"socket\": \"s\", \"path\": [\"x\"]}",
			    "cannot be a list");
	expect_json_refused("{\"class\": \"blk\", \"driver\": \"f\", \"socket\": \"s\"}",
			    "missing key 'id'");
}

static void test_json_sensor_list(void **state)
{
	struct json_object *obj =
		json_tokener_parse("{\"class\": \"i2c\", \"id\": \"bus0\", \"socket\": \"s\","
				   " \"sensor\": [\"0x48:hwmon:0\", \"0x4a:ipmi:3\"]}");
	struct vd_spec s;
	char err[256] = "";

	(void)state;
	assert_int_equal(vd_spec_from_json(obj, &s, err, sizeof(err)), 0);
	assert_int_equal(s.nparams, 2);
	assert_string_equal(s.params[0].value, "0x48:hwmon:0");
	assert_string_equal(s.params[1].value, "0x4a:ipmi:3");
	vd_spec_free(&s);
	json_object_put(obj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blk_spec),
		cmocka_unit_test(test_defaults_and_escaped_comma),
		cmocka_unit_test(test_sensor_device),
		cmocka_unit_test(test_repeatable_sensor_key),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_json_device),
		cmocka_unit_test(test_json_refusals),
		cmocka_unit_test(test_json_sensor_list),
	};

	return cmocka_run_group_tests_name("control/spec", tests, NULL, NULL);
}
