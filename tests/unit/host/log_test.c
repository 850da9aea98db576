// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/lib/log.c (libvireo's logging, as drivers use it): the level
 * threshold, one bounded line per call, the VIREO_ERR() family's tag, rate limits
 * (burst, window, the "suppressed" line, hand-zeroed limits) and the experimental
 * hexdump; and vireo_abi_version().
 */
#define VIREO_LOG_TAG		 "t"
#define VIREO_ALLOW_EXPERIMENTAL 1

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include <vireo/version.h>

#include "capture.h"

static int setup(void **state)
{
	(void)state;
	cap_start();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cap_stop();
	return 0;
}

static void test_levels_and_tags(void **state)
{
	(void)state;
	vireo_core_log_set_level(VIREO_LOG_INFO);
	VIREO_DEBUG("hidden %d", 1);
	VIREO_INFO("shown %d", 2);
	VIREO_ERR("error %s", "three");
	vireo_log(VIREO_LOG_WARN, NULL, "no tag");
	vireo_log(99, "x", "clamped to debug: hidden");
	vireo_log(-5, "x", "clamped to err");
	assert_int_equal(g_cap.n, 4);
	assert_string_equal(g_cap.l[0].tag, "t");
	assert_string_equal(g_cap.l[0].text, "shown 2");
	assert_int_equal(g_cap.l[1].level, VIREO_LOG_ERR);
	assert_string_equal(g_cap.l[1].text, "error three");
	assert_string_equal(g_cap.l[2].tag, "driver");
	assert_int_equal(g_cap.l[3].level, VIREO_LOG_ERR);
	assert_string_equal(vireo_core_log_level_name(VIREO_LOG_NOTICE), "notice");
	assert_string_equal(vireo_core_log_level_name(0), "?");

	cap_clear();
	vireo_core_log_set_level(VIREO_LOG_DEBUG);
	VIREO_DEBUG("now shown");
	assert_int_equal(cap_count(VIREO_LOG_DEBUG), 1);
}

static void test_one_bounded_line(void **state)
{
	char big[1000];

	(void)state;
	VIREO_WARN("first\nsecond\r\n");
	assert_string_equal(g_cap.l[0].text, "first second");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	VIREO_NOTICE("%s", big);
	assert_int_equal(strlen(g_cap.l[1].text), VIREO_LOG_LINE_MAX);
	assert_string_equal(g_cap.l[1].text + VIREO_LOG_LINE_MAX - 3, "...");
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0)
		;
}

static void test_ratelimit(void **state)
{
	static struct vireo_ratelimit slow = VIREO_RATELIMIT_INIT(60000, 3);
	static struct vireo_ratelimit fast = VIREO_RATELIMIT_INIT(200, 2);
	static struct vireo_ratelimit zeroed; /* struct_size 0: the defaults, 10 per 5 s */

	(void)state;
	for (int i = 0; i < 10; i++)
		VIREO_ERR_RL(&slow, "slow %d", i);
	assert_int_equal(g_cap.n, 3);
	assert_string_equal(g_cap.l[2].text, "slow 2");

	cap_clear();
	for (int i = 0; i < 5; i++)
		VIREO_WARN_RL(&fast, "fast %d", i);
	assert_int_equal(g_cap.n, 2);
	sleep_ms(250);
	VIREO_WARN_RL(&fast, "fast again");
	assert_int_equal(g_cap.n, 4);
	assert_int_equal(g_cap.l[2].level, VIREO_LOG_WARN);
	assert_string_equal(g_cap.l[2].text, "3 lines suppressed by a rate limit");
	assert_string_equal(g_cap.l[3].text, "fast again");

	cap_clear();
	for (int i = 0; i < 15; i++)
		VIREO_ERR_RL(&zeroed, "zeroed %d", i);
	assert_int_equal(g_cap.n, 10);

	/* No limit at all: every line. */
	cap_clear();
	for (int i = 0; i < 15; i++)
		vireo_log_ratelimited(NULL, VIREO_LOG_INFO, "x", "unlimited %d", i);
	assert_int_equal(g_cap.n, 15);
}

static void test_hexdump(void **state)
{
	uint8_t buf[300];

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	vireo_log_hexdump(VIREO_LOG_INFO, "x", "twenty", buf, 20);
	assert_int_equal(g_cap.n, 3);
	assert_string_equal(g_cap.l[0].text, "twenty (20 bytes)");
	assert_string_equal(g_cap.l[1].text,
			    "0000: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f");
	assert_string_equal(g_cap.l[2].text, "0010: 10 11 12 13");
	cap_clear();
	vireo_log_hexdump(VIREO_LOG_INFO, "x", NULL, buf, sizeof(buf));
	assert_int_equal(g_cap.n, 17);
	assert_string_equal(g_cap.l[16].text, "(44 more bytes not shown)");
}

static void test_abi_version(void **state)
{
	(void)state;
	assert_int_equal(vireo_abi_version(), VIREO_ABI_VERSION(1, 1));
	assert_int_equal(VIREO_ABI_VERSION_MAJOR(vireo_abi_version()), VIREO_ABI_MAJOR);
	assert_int_equal(VIREO_ABI_VERSION_MINOR(vireo_abi_version()), VIREO_ABI_MINOR);
#if !VIREO_ABI_AT_LEAST(1, 0) || !VIREO_ABI_AT_LEAST(1, 1) || VIREO_ABI_AT_LEAST(1, 2) || \
	VIREO_ABI_AT_LEAST(2, 0)
#error "VIREO_ABI_AT_LEAST disagrees with version.h"
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_levels_and_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_bounded_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ratelimit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hexdump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abi_version, setup, teardown),
	};

	return cmocka_run_group_tests_name("host/log", tests, NULL, NULL);
}
