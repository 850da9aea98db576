// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/lib/params.c (libvireo's parameters; the tests live here
 * because the driver host is their one caller): the text form of every type, with its
 * limits, and the value set drivers read: defaults, user values, required parameters,
 * unknown or repeated names, and each getter's errno.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/internal.h"

static int parse(uint32_t type, const char *text, union vireo_core_param_value *v)
{
	char err[200];

	return vireo_core_param_parse(type, text, v, err, sizeof(err));
}

static void test_parse_bool(void **state)
{
	const char *yes[] = { "on", "true", "yes", "1" }, *no[] = { "off", "false", "no", "0" };
	const char *bad[] = { "", "On", "y", "2", "true ", "maybe" };
	union vireo_core_param_value v;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(parse(VIREO_PARAM_BOOL, yes[i], &v), 0);
		assert_true(v.b);
		assert_int_equal(parse(VIREO_PARAM_BOOL, no[i], &v), 0);
		assert_false(v.b);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(VIREO_PARAM_BOOL, bad[i], &v), -EINVAL);
}

static void test_parse_uint(void **state)
{
	static const struct {
		const char *text;
		uint64_t value;
	} good[] = {
		{ "0", 0 },
		{ "4096", 4096 },
		{ "0x1000", 4096 },
		{ "0X1f", 31 },
		{ "1k", 1024 },
		{ "64M", 64ull << 20 },
		{ "2G", 2ull << 30 },
		{ "16T", 16ull << 40 },
		{ "0x10K", 16384 },
		{ "18446744073709551615", UINT64_MAX },
		{ "16777215T", 16777215ull << 40 },
	};
	const char *bad[] = { "", "-1", "+1", " 1", "1 ", "0x", "12abc", "1KB", "1.5", "k", "0xg" };
	const char *range[] = { "18446744073709551616", "16777216T", "0x10000000000000000" };
	union vireo_core_param_value v;
	char err[200];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(parse(VIREO_PARAM_UINT, good[i].text, &v), 0);
		assert_int_equal(v.u, good[i].value);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(VIREO_PARAM_UINT, bad[i], &v), -EINVAL);
	for (size_t i = 0; i < sizeof(range) / sizeof(range[0]); i++) {
		assert_int_equal(
			vireo_core_param_parse(VIREO_PARAM_UINT, range[i], &v, err, sizeof(err)),
			-EINVAL);
		assert_non_null(strstr(err, "does not fit a 64-bit uint"));
	}
	assert_int_equal(vireo_core_param_parse(VIREO_PARAM_UINT, "12abc", &v, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "'12abc' is not a uint (4096, 0x1000, 64M)");
}

static void test_parse_int(void **state)
{
	static const struct {
		const char *text;
		int64_t value;
	} good[] = {
		{ "-12", -12 },
		{ "+7", 7 },
		{ "-0x10", -16 },
		{ "-4K", -4096 },
		{ "9223372036854775807", INT64_MAX },
		{ "-9223372036854775808", INT64_MIN },
	};
	const char *bad[] = { "", "-", "--1", "+-1", "1-", "- 1" };
	union vireo_core_param_value v;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(parse(VIREO_PARAM_INT, good[i].text, &v), 0);
		assert_int_equal(v.i, good[i].value);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(VIREO_PARAM_INT, bad[i], &v), -EINVAL);
	assert_int_equal(parse(VIREO_PARAM_INT, "9223372036854775808", &v), -EINVAL);
	assert_int_equal(parse(VIREO_PARAM_INT, "-9223372036854775809", &v), -EINVAL);
	assert_int_equal(parse(VIREO_PARAM_INT, "8E", &v), -EINVAL);
}

static void test_parse_mac_and_string(void **state)
{
	const uint8_t want[6] = { 0x52, 0x54, 0x00, 0xab, 0xCD, 0x0f };
	const char *bad[] = { "",
			      "52:54:00:ab:cd",
			      "52:54:00:ab:cd:0f:",
			      "52-54-00-ab-cd-0f",
			      "52:54:00:ab:cd:0g",
			      "5:254:00:ab:cd:0f" };
	union vireo_core_param_value v;
	char long_text[VIREO_PARAM_STRING_MAX + 2];

	(void)state;
	assert_int_equal(parse(VIREO_PARAM_MAC, "52:54:00:ab:CD:0f", &v), 0);
	assert_memory_equal(v.mac, want, 6);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(VIREO_PARAM_MAC, bad[i], &v), -EINVAL);

	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	assert_int_equal(parse(VIREO_PARAM_STRING, long_text, &v), -EINVAL);
	long_text[VIREO_PARAM_STRING_MAX] = '\0';
	assert_int_equal(parse(VIREO_PARAM_STRING, long_text, &v), 0);
	assert_int_equal(parse(VIREO_PARAM_STRING, "", &v), 0);
	assert_int_equal(parse(0, "1", &v), -EINVAL);
	assert_int_equal(parse(VIREO_PARAM_MAC + 1, "1", &v), -EINVAL);
	assert_int_equal(parse(VIREO_PARAM_UINT, NULL, &v), -EINVAL);
	assert_string_equal(vireo_core_param_type_name(VIREO_PARAM_MAC), "mac");
	assert_string_equal(vireo_core_param_type_name(0), "?");
}

static const struct vireo_param_decl decls[] = {
	{ VIREO_PARAM_UINT("size", "16M", "capacity") },
	{ VIREO_PARAM_INT("offset", "-1", "an int") },
	{ VIREO_PARAM_BOOL("verbose", "off", "a bool") },
	{ VIREO_PARAM_STRING("path", NULL, "a file"), .flags = VIREO_PARAM_F_REQUIRED },
	{ VIREO_PARAM_MAC("mac", "52:54:00:12:34:56", "an address") },
	{ VIREO_PARAM_STRING("label", NULL, "no default, optional") },
};
#define NDECLS (sizeof(decls) / sizeof(decls[0]))

static void test_values_and_getters(void **state)
{
	char path[] = "/var/lib/disk.img";
	const char *keys[] = { "path", "verbose", "size" };
	const char *values[] = { path, "on", "1G" };
	struct vireo_params *p;
	const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	uint8_t m[6];
	const char *s;
	uint64_t u;
	int64_t i;
	bool b;
	char err[256];

	(void)state;
	assert_int_equal(
		vireo_core_params_new(decls, NDECLS, keys, values, 3, &p, err, sizeof(err)), 0);
	/* The set keeps its own copies. */
	memset(path, 'X', sizeof(path) - 1);

	assert_int_equal(vireo_param_get_uint(p, "size", &u), 0);
	assert_int_equal(u, 1ull << 30);
	assert_int_equal(vireo_param_get_int(p, "offset", &i), 0);
	assert_int_equal(i, -1);
	assert_int_equal(vireo_param_get_bool(p, "verbose", &b), 0);
	assert_true(b);
	assert_int_equal(vireo_param_get_string(p, "path", &s), 0);
	assert_string_equal(s, "/var/lib/disk.img");
	assert_int_equal(vireo_param_get_mac(p, "mac", m), 0);
	assert_memory_equal(m, mac, 6);
	assert_int_equal(vireo_param_is_set(p, "size"), 1);
	assert_int_equal(vireo_param_is_set(p, "offset"), 0);

	/* One errno per way of asking wrongly. */
	assert_int_equal(vireo_param_get_uint(p, "nope", &u), -ENOENT);
	assert_int_equal(vireo_param_get_bool(p, "size", &b), -EINVAL);
	assert_int_equal(vireo_param_get_uint(p, "path", &u), -EINVAL);
	assert_int_equal(vireo_param_get_string(p, "label", &s), -ENODATA);
	assert_int_equal(vireo_param_get_uint(NULL, "size", &u), -EINVAL);
	assert_int_equal(vireo_param_get_uint(p, NULL, &u), -EINVAL);
	assert_int_equal(vireo_param_get_uint(p, "size", NULL), -EINVAL);
	assert_int_equal(vireo_param_get_mac(p, "mac", NULL), -EINVAL);
	assert_int_equal(vireo_param_is_set(p, "nope"), -ENOENT);
	assert_int_equal(vireo_param_is_set(NULL, "size"), -EINVAL);
	vireo_core_params_free(p);
	vireo_core_params_free(NULL);
}

static void test_value_refusals(void **state)
{
	const char *unknown_k[] = { "path", "sise" }, *unknown_v[] = { "/x", "1" };
	const char *twice_k[] = { "path", "path" }, *twice_v[] = { "/x", "/y" };
	const char *bad_k[] = { "path", "mac" }, *bad_v[] = { "/x", "52:54" };
	struct vireo_params *p = NULL;
	char err[512];

	(void)state;
	assert_int_equal(vireo_core_params_new(decls, NDECLS, NULL, NULL, 0, &p, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "missing required parameter 'path' (string: a file)");
	assert_int_equal(
		vireo_core_params_new(decls, NDECLS, unknown_k, unknown_v, 2, &p, err, sizeof(err)),
		-EINVAL);
	assert_string_equal(err, "unknown parameter 'sise' (known: size, offset, verbose, path, "
				 "mac, label)");
	assert_int_equal(
		vireo_core_params_new(decls, NDECLS, twice_k, twice_v, 2, &p, err, sizeof(err)),
		-EINVAL);
	assert_string_equal(err, "parameter 'path' given twice");
	assert_int_equal(
		vireo_core_params_new(decls, NDECLS, bad_k, bad_v, 2, &p, err, sizeof(err)),
		-EINVAL);
	assert_string_equal(err, "parameter 'mac' (mac): '52:54' is not a MAC address "
				 "(52:54:00:12:34:56)");
	assert_int_equal(
		vireo_core_params_new(NULL, 0, unknown_k, unknown_v, 1, &p, err, sizeof(err)),
		-EINVAL);
	assert_string_equal(err, "unknown parameter 'path' (the driver takes none)");
	assert_null(p);

	/* No declarations, no values: an empty set every getter answers -ENOENT from. */
	assert_int_equal(vireo_core_params_new(NULL, 0, NULL, NULL, 0, &p, err, sizeof(err)), 0);
	assert_int_equal(vireo_param_is_set(p, "size"), -ENOENT);
	vireo_core_params_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test(test_parse_uint),
		cmocka_unit_test(test_parse_int),
		cmocka_unit_test(test_parse_mac_and_string),
		cmocka_unit_test(test_values_and_getters),
		cmocka_unit_test(test_value_refusals),
	};

	return cmocka_run_group_tests_name("host/params", tests, NULL, NULL);
}
