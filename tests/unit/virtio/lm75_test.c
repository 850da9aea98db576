// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/virtio/lm75.c: the register model as a bus master sees it
 * (pointer writes, multi-byte reads, reads past a register), the temperature format
 * and its rounding, conversions in time and frozen by shutdown, and the O.S. output
 * in comparator and interrupt mode with the fault queue and polarity.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "virtio/lm75.h"

struct src {
	int64_t mc;
	int rc;
	unsigned int reads;
};

static int src_read(void *ctx, int64_t *mc)
{
	struct src *s = ctx;

	s->reads++;
	if (s->rc < 0)
		return s->rc;
	*mc = s->mc;
	return 0;
}

/* Pointer write then a read of @len bytes, as an SMBus read-byte/word does. */
static void rd(struct lm75 *lm, uint8_t reg, uint8_t *out, size_t len, uint64_t t)
{
	assert_int_equal(lm75_write(lm, &reg, 1, t), 0);
	assert_int_equal(lm75_read(lm, out, len, t), 0);
}

static uint16_t rd16(struct lm75 *lm, uint8_t reg, uint64_t t)
{
	uint8_t b[2];

	rd(lm, reg, b, 2, t);
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void wr(struct lm75 *lm, const uint8_t *b, size_t len, uint64_t t)
{
	assert_int_equal(lm75_write(lm, b, len, t), 0);
}

static void set_limits(struct lm75 *lm, int tos_c, int hyst_c, uint64_t t)
{
	uint16_t tos = lm75_mc_to_reg(tos_c * 1000), hyst = lm75_mc_to_reg(hyst_c * 1000);
	uint8_t a[3] = { LM75_REG_TOS, (uint8_t)(tos >> 8), (uint8_t)tos };
	uint8_t b[3] = { LM75_REG_THYST, (uint8_t)(hyst >> 8), (uint8_t)hyst };

	wr(lm, a, 3, t);
	wr(lm, b, 3, t);
}

static void set_conf(struct lm75 *lm, uint8_t conf, uint64_t t)
{
	uint8_t b[2] = { LM75_REG_CONF, conf };

	wr(lm, b, 2, t);
}

static bool os(const struct lm75 *lm)
{
	struct lm75_state st;

	lm75_get_state(lm, &st);
	return st.os_active;
}

static void test_format(void **state)
{
	(void)state;
	assert_int_equal(lm75_mc_to_reg(0), 0x0000);
	assert_int_equal(lm75_mc_to_reg(25000), 0x1900);
	assert_int_equal(lm75_mc_to_reg(25500), 0x1980);
	assert_int_equal(lm75_mc_to_reg(125000), 0x7d00);
	assert_int_equal(lm75_mc_to_reg(-500), 0xff80);
	assert_int_equal(lm75_mc_to_reg(-25000), 0xe700);
	assert_int_equal(lm75_mc_to_reg(-55000), 0xc900);
	/* Nearest half degree. */
	assert_int_equal(lm75_mc_to_reg(25249), 0x1900);
	assert_int_equal(lm75_mc_to_reg(25250), 0x1980);
	assert_int_equal(lm75_mc_to_reg(25749), 0x1980);
	assert_int_equal(lm75_mc_to_reg(-249), 0x0000);
	assert_int_equal(lm75_mc_to_reg(-250), 0xff80);
	/* The register's own range. */
	assert_int_equal(lm75_mc_to_reg(200000), 0x7f80);
	assert_int_equal(lm75_mc_to_reg(-300000), 0x8000);
	assert_int_equal(lm75_mc_to_reg(INT64_MAX), 0x7f80);
	assert_int_equal(lm75_mc_to_reg(INT64_MIN + 1), 0x8000);
	assert_int_equal(lm75_reg_to_mc(0x1980), 25500);
	assert_int_equal(lm75_reg_to_mc(0xe700), -25000);
	assert_int_equal(lm75_reg_to_mc(0x8000), -128000);
	assert_int_equal(lm75_reg_to_mc(0x197f), 25000); /* bits 6..0 are not temperature */
	for (int64_t mc = -128000; mc <= 127500; mc += 500)
		assert_int_equal(lm75_reg_to_mc(lm75_mc_to_reg(mc)), mc);
}

static void test_power_up_registers(void **state)
{
	struct src s = { .mc = 23400 };
	struct lm75 lm;
	uint8_t b[1];

	(void)state;
	lm75_init(&lm, src_read, &s);
	/* The pointer starts at temperature: a bare read gives it. */
	uint8_t t[2];
	assert_int_equal(lm75_read(&lm, t, 2, 1000), 0);
	assert_int_equal(t[0] << 8 | t[1], 0x1780); /* 23.5 °C */
	rd(&lm, LM75_REG_CONF, b, 1, 1000);
	assert_int_equal(b[0], 0);
	assert_int_equal(rd16(&lm, LM75_REG_THYST, 1000), LM75_THYST_RESET);
	assert_int_equal(rd16(&lm, LM75_REG_TOS, 1000), LM75_TOS_RESET);
}

static void test_pointer_and_long_reads(void **state)
{
	struct src s = { .mc = -10000 };
	struct lm75 lm;
	uint8_t b[7], conf[3] = { LM75_REG_CONF, 0x18, 0xaa }, p = LM75_REG_TOS;

	(void)state;
	lm75_init(&lm, src_read, &s);
	/* Pointer-only write, then reads keep returning that register. */
	wr(&lm, &p, 1, 0);
	assert_int_equal(lm75_read(&lm, b, 2, 0), 0);
	assert_int_equal(b[0], 0x50);
	assert_int_equal(lm75_read(&lm, b, 1, 0), 0);
	assert_int_equal(b[0], 0x50);
	/* A read past a 16-bit register repeats it. */
	assert_int_equal(lm75_read(&lm, b, 5, 0), 0);
	uint8_t want[5] = { 0x50, 0x00, 0x50, 0x00, 0x50 };
	assert_memory_equal(b, want, 5);
	/* Configuration: one data byte taken, the rest ignored; long reads repeat it. */
	wr(&lm, conf, 3, 0);
	rd(&lm, LM75_REG_CONF, b, 3, 0);
	assert_int_equal(b[0], 0x18);
	assert_int_equal(b[1], 0x18);
	assert_int_equal(b[2], 0x18);
	/* Reserved bits 7..5 read as 0; pointer bits 7..2 are ignored. */
	uint8_t conf2[2] = { 0xfd /* = 1 */, 0xe0 | 0x04 };
	wr(&lm, conf2, 2, 0);
	rd(&lm, LM75_REG_CONF, b, 1, 0);
	assert_int_equal(b[0], 0x04);
	/* Temperature is read-only. */
	uint8_t tw[3] = { LM75_REG_TEMP, 0x12, 0x34 };
	wr(&lm, tw, 3, 0);
	assert_int_equal(rd16(&lm, LM75_REG_TEMP, 0), 0xf600); /* -10 °C */
	/* Limits keep 9 bits; a write that stops after the MSB keeps the LSB. */
	uint8_t th[3] = { LM75_REG_THYST, 0x1e, 0xff };
	wr(&lm, th, 3, 0);
	assert_int_equal(rd16(&lm, LM75_REG_THYST, 0), 0x1e80);
	uint8_t th2[2] = { LM75_REG_THYST, 0x20 };
	wr(&lm, th2, 2, 0);
	assert_int_equal(rd16(&lm, LM75_REG_THYST, 0), 0x2080);
	/* Address-only transfers change nothing. */
	assert_int_equal(lm75_write(&lm, NULL, 0, 0), 0);
	assert_int_equal(lm75_read(&lm, NULL, 0, 0), 0);
	assert_int_equal(rd16(&lm, LM75_REG_THYST, 0), 0x2080);
}

static void test_conversions_and_shutdown(void **state)
{
	struct src s = { .mc = 20000 };
	struct lm75 lm;
	uint64_t t = 5000;

	(void)state;
	lm75_init(&lm, src_read, &s);
	assert_int_equal(rd16(&lm, LM75_REG_TEMP, t), 0x1400);
	/* The register changes only at the next conversion. */
	s.mc = 30000;
	assert_int_equal(rd16(&lm, LM75_REG_TEMP, t + LM75_CONV_MS - 1), 0x1400);
	assert_int_equal(rd16(&lm, LM75_REG_TEMP, t + LM75_CONV_MS), 0x1e00);
	/* Shutdown freezes it. */
	set_conf(&lm, LM75_CONF_SHUTDOWN, t + 150);
	s.mc = 40000;
	unsigned int reads = s.reads;
	assert_int_equal(rd16(&lm, LM75_REG_TEMP, t + 10000), 0x1e00);
	assert_int_equal(s.reads, reads);
	/* Awake again: the next conversion one period later. */
	set_conf(&lm, 0, t + 10000);
	assert_int_equal(rd16(&lm, LM75_REG_TEMP, t + 10050), 0x1e00);
	assert_int_equal(rd16(&lm, LM75_REG_TEMP, t + 10100), 0x2800);
	/* A failing source keeps the last value and is counted. */
	s.rc = -EAGAIN;
	s.mc = 50000;
	assert_int_equal(rd16(&lm, LM75_REG_TEMP, t + 20000), 0x2800);
	struct lm75_state st;
	lm75_get_state(&lm, &st);
	assert_int_equal(st.source_errors, 1);
	assert_int_equal(lm.last_src_err, -EAGAIN);
	/* It recovers at the next good reading. */
	s.rc = 0;
	assert_int_equal(rd16(&lm, LM75_REG_TEMP, t + 20100), 0x3200);
	assert_int_equal(lm.last_src_err, 0);
}

static void test_os_comparator(void **state)
{
	struct src s = { .mc = 20000 };
	struct lm75 lm;
	struct lm75_state st;
	uint64_t t = 0;

	(void)state;
	lm75_init(&lm, src_read, &s);
	set_limits(&lm, 30, 25, t);
	/* Fault queue 4 (F1:F0 = 2). */
	set_conf(&lm, 2u << LM75_CONF_FQ_SHIFT, t);
	s.mc = 31000;
	for (int i = 1; i <= 3; i++) {
		lm75_tick(&lm, t += LM75_CONV_MS);
		assert_false(os(&lm));
	}
	/* One conversion back under TOS restarts the count. */
	s.mc = 29000;
	lm75_tick(&lm, t += LM75_CONV_MS);
	s.mc = 31000;
	for (int i = 1; i <= 3; i++)
		lm75_tick(&lm, t += LM75_CONV_MS);
	assert_false(os(&lm));
	lm75_tick(&lm, t += LM75_CONV_MS);
	assert_true(os(&lm));
	lm75_get_state(&lm, &st);
	assert_false(st.os_pin_high); /* active low */
	/* Reads do not release it in comparator mode; between THYST and TOS it holds. */
	rd16(&lm, LM75_REG_TEMP, t);
	s.mc = 27000;
	lm75_tick(&lm, t += 10 * LM75_CONV_MS);
	assert_true(os(&lm));
	/* Below THYST for 4 conversions: released (a catch-up of several at once). */
	s.mc = 24000;
	lm75_tick(&lm, t += 4 * LM75_CONV_MS);
	assert_false(os(&lm));
	lm75_get_state(&lm, &st);
	assert_true(st.os_pin_high);
	assert_int_equal(st.os_changes, 2);
	/* Polarity: active high. */
	set_conf(&lm, LM75_CONF_POL, t);
	s.mc = 35000;
	lm75_tick(&lm, t += LM75_CONV_MS);
	lm75_get_state(&lm, &st);
	assert_true(st.os_active);
	assert_true(st.os_pin_high);
	/* Shutdown keeps the comparator output. */
	set_conf(&lm, LM75_CONF_POL | LM75_CONF_SHUTDOWN, t);
	s.mc = 0;
	lm75_tick(&lm, t += 100 * LM75_CONV_MS);
	assert_true(os(&lm));
}

static void test_os_interrupt(void **state)
{
	struct src s = { .mc = 20000 };
	struct lm75 lm;
	uint64_t t = 0;

	(void)state;
	lm75_init(&lm, src_read, &s);
	set_limits(&lm, 30, 25, t);
	set_conf(&lm, LM75_CONF_INT, t);
	s.mc = 31000;
	lm75_tick(&lm, t += LM75_CONV_MS);
	assert_true(os(&lm));
	/* Any register read releases it; staying above TOS raises nothing new. */
	rd16(&lm, LM75_REG_TOS, t);
	assert_false(os(&lm));
	lm75_tick(&lm, t += 5 * LM75_CONV_MS);
	assert_false(os(&lm));
	/* Between THYST and TOS: nothing. Below THYST: the next event. */
	s.mc = 27000;
	lm75_tick(&lm, t += LM75_CONV_MS);
	assert_false(os(&lm));
	s.mc = 20000;
	lm75_tick(&lm, t += LM75_CONV_MS);
	assert_true(os(&lm));
	/* A zero-length read is no register read. */
	assert_int_equal(lm75_read(&lm, NULL, 0, t), 0);
	assert_true(os(&lm));
	/* Entering shutdown resets it in interrupt mode. */
	set_conf(&lm, LM75_CONF_INT | LM75_CONF_SHUTDOWN, t);
	assert_false(os(&lm));
	/* Back to comparator mode from an asserted output: released, fresh start. */
	set_conf(&lm, LM75_CONF_INT, t);
	s.mc = 40000;
	lm75_tick(&lm, t += 2 * LM75_CONV_MS);
	assert_true(os(&lm));
	set_conf(&lm, 0, t);
	assert_false(os(&lm));
	lm75_tick(&lm, t += LM75_CONV_MS);
	assert_true(os(&lm));
}

static void test_no_source(void **state)
{
	struct lm75 lm;

	(void)state;
	lm75_init(&lm, NULL, NULL);
	assert_int_equal(rd16(&lm, LM75_REG_TEMP, 0), 0);
	assert_int_equal(lm.last_src_err, -ENODEV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_power_up_registers),
		cmocka_unit_test(test_pointer_and_long_reads),
		cmocka_unit_test(test_conversions_and_shutdown),
		cmocka_unit_test(test_os_comparator),
		cmocka_unit_test(test_os_interrupt),
		cmocka_unit_test(test_no_source),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
