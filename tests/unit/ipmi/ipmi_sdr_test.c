// SPDX-License-Identifier: MIT
/*
 * Unit tests of drivers/sensor/ipmi/ipmi_sdr.c: full and compact records decoded field by
 * field, the refusals (discrete, non-linear, foreign units, malformed lengths), ID
 * strings, and the linear conversion y = (M x + B 10^K1) 10^K2 in every analog format
 * and unit, both ways, with its overflow and range edges.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <vireo/sensor.h>

#include "ipmi_sdr.h"

struct full_args {
	uint8_t num, stype, rtype, access, rmask, smask, fmt, unit, lin;
	int m, b, k1, k2;
	uint8_t thr[6]; /* UNR, UC, UNC, LNR, LC, LNC */
	const char *name;
};

/* A full record (type 01h) as a BMC stores it. Return: its length. */
static size_t full_record(uint8_t *r, const struct full_args *a)
{
	size_t n = strlen(a->name);

	memset(r, 0, SDR_MAX_LEN);
	r[0] = 0x34;
	r[1] = 0x12;
	r[2] = 0x51;
	r[3] = SDR_TYPE_FULL;
	r[4] = (uint8_t)(43 + n);
	r[5] = 0x20;
	r[7] = a->num;
	r[11] = (uint8_t)(0x40 | a->access << 2);
	r[12] = a->stype;
	r[13] = a->rtype;
	r[18] = a->rmask;
	r[19] = a->smask;
	r[20] = (uint8_t)(a->fmt << 6);
	r[21] = a->unit;
	r[23] = a->lin;
	r[24] = (uint8_t)(a->m & 0xff);
	r[25] = (uint8_t)((a->m >> 8 & 3) << 6 | 0x15); /* tolerance bits: ignored */
	r[26] = (uint8_t)(a->b & 0xff);
	r[27] = (uint8_t)((a->b >> 8 & 3) << 6 | 0x2a); /* accuracy bits: ignored */
	r[29] = (uint8_t)((a->k2 & 0xf) << 4 | (a->k1 & 0xf));
	memcpy(r + 36, a->thr, 6);
	r[47] = (uint8_t)(0xc0 | n);
	memcpy(r + 48, a->name, n);
	return 48 + n;
}

static void decode_full(void **state)
{
	const struct full_args a = { .num = 2,
				     .stype = 2,
				     .rtype = 1,
				     .access = 2,
				     .rmask = 0x19,
				     .smask = 0x08,
				     .unit = 4,
				     .m = 6,
				     .b = 5,
				     .k1 = -1,
				     .k2 = -2,
				     .thr = { 1, 2, 3, 4, 5, 6 },
				     .name = "12V Rail  " };
	uint8_t r[SDR_MAX_LEN];
	struct sdr_sensor s;
	const char *why;

	(void)state;
	assert_int_equal(sdr_decode(r, full_record(r, &a), &s, &why), 0);
	assert_int_equal(s.record_id, 0x1234);
	assert_int_equal(s.number, 2);
	assert_int_equal(s.owner_id, 0x20);
	assert_int_equal(s.vtype, VIREO_SENSOR_VOLTAGE);
	assert_int_equal(s.access, SDR_THR_SETTABLE);
	assert_int_equal(s.readable, 0x19);
	assert_int_equal(s.settable, 0x08);
	assert_int_equal(s.m, 6);
	assert_int_equal(s.b, 5);
	assert_int_equal(s.k1, -1);
	assert_int_equal(s.k2, -2);
	assert_string_equal(s.id, "12V Rail"); /* trailing pad cut */
	/* By THR_ bit: LNC, LC, LNR, UNC, UC, UNR. */
	assert_memory_equal(s.fixed, ((uint8_t[]){ 6, 5, 4, 3, 2, 1 }), 6);
}

static void decode_refusals(void **state)
{
	struct full_args a = { .num = 1, .rtype = 1, .unit = 1, .m = 1, .name = "T" };
	uint8_t r[SDR_MAX_LEN];
	struct sdr_sensor s;
	const char *why;
	size_t len;

	(void)state;
	len = full_record(r, &a);
	assert_int_equal(sdr_decode(r, len, &s, &why), 0);
	assert_int_equal(sdr_decode(r, len - 1, &s, &why), -EINVAL); /* length byte disagrees */
	assert_int_equal(sdr_decode(r, 4, &s, &why), -EINVAL);
	r[4] = 10; /* a full record too short for its fields */
	assert_int_equal(sdr_decode(r, 15, &s, &why), -EINVAL);
	a.rtype = 0x6f;
	assert_int_equal(sdr_decode(r, full_record(r, &a), &s, &why), SDR_SKIP_DISCRETE);
	assert_non_null(why);
	a.rtype = 1;
	a.lin = 1; /* ln */
	assert_int_equal(sdr_decode(r, full_record(r, &a), &s, &why), SDR_SKIP_LINEAR);
	a.lin = 0;
	a.fmt = 3;
	assert_int_equal(sdr_decode(r, full_record(r, &a), &s, &why), SDR_SKIP_NO_ANALOG);
	a.fmt = 0;
	a.unit = 7; /* Joules */
	assert_int_equal(sdr_decode(r, full_record(r, &a), &s, &why), SDR_SKIP_UNIT);
	a.unit = 6;
	len = full_record(r, &a);
	r[20] |= 1 << 3; /* a rate unit: W per microsecond */
	assert_int_equal(sdr_decode(r, len, &s, &why), SDR_SKIP_UNIT);
	r[20] = 0x01; /* percentage */
	assert_int_equal(sdr_decode(r, len, &s, &why), SDR_SKIP_UNIT);
	r[3] = 0x12; /* an MC locator */
	assert_int_equal(sdr_decode(r, len, &s, &why), SDR_SKIP_TYPE);
}

static void decode_compact(void **state)
{
	uint8_t r[40] = { 0x07, 0, 0x51, SDR_TYPE_COMPACT, 27 + 3, 0x20, 0, 9 };
	struct sdr_sensor s;
	const char *why;
	int64_t v;

	(void)state;
	r[11] = 3 << 2; /* fixed thresholds: a compact record has no fields for them */
	r[12] = 0x04;
	r[13] = 0x01;
	r[21] = 18; /* RPM */
	/* 6-bit packed ASCII "FAN1": codes 0x26 0x21 0x2e 0x11, low bits first. */
	r[31] = 0x80 | 3;
	r[32] = 0x26 | (0x21 << 6 & 0xff);
	r[33] = 0x21 >> 2 | (0x2e << 4 & 0xff);
	r[34] = 0x2e >> 4 | 0x11 << 2;
	assert_int_equal(sdr_decode(r, 35, &s, &why), 0);
	assert_int_equal(s.vtype, VIREO_SENSOR_FAN);
	assert_int_equal(s.access, SDR_THR_NONE);
	assert_string_equal(s.id, "FAN1");
	assert_int_equal(sdr_convert(&s, 200, &v), 0);
	assert_int_equal(v, 200); /* the byte is RPM */
	r[31] = 0x00 | 3;	  /* Unicode: no label from it */
	assert_int_equal(sdr_decode(r, 35, &s, &why), 0);
	assert_string_equal(s.id, "");
}

/* A sensor with these factors, as sdr_decode would leave it. */
static struct sdr_sensor lin(uint8_t unit, uint32_t vtype, enum sdr_format f, int m, int b, int k1,
			     int k2)
{
	struct sdr_sensor s = { .base_unit = unit, .vtype = vtype, .format = f };

	s.m = (int16_t)m;
	s.b = (int16_t)b;
	s.k1 = (int8_t)k1;
	s.k2 = (int8_t)k2;
	return s;
}

static int64_t conv(const struct sdr_sensor *s, uint8_t raw)
{
	int64_t v = 0;

	assert_int_equal(sdr_convert(s, raw, &v), 0);
	return v;
}

static void convert_units_and_formats(void **state)
{
	struct sdr_sensor s;

	(void)state;
	s = lin(1, VIREO_SENSOR_TEMPERATURE, SDR_FMT_UNSIGNED, 1, 0, 0, 0);
	assert_int_equal(conv(&s, 45), 45000);
	assert_int_equal(conv(&s, 255), 255000);
	s = lin(4, VIREO_SENSOR_VOLTAGE, SDR_FMT_UNSIGNED, 6, 5, -1, -2);
	assert_int_equal(conv(&s, 200), 12005); /* (1200 + 0.5) / 100 V */
	assert_int_equal(conv(&s, 0), 5);
	s = lin(5, VIREO_SENSOR_CURRENT, SDR_FMT_TWOS, 1, 0, 0, -1);
	assert_int_equal(conv(&s, 0xf6), -1000);
	assert_int_equal(conv(&s, 0x80), -12800);
	s = lin(5, VIREO_SENSOR_CURRENT, SDR_FMT_ONES, 1, 0, 0, -1);
	assert_int_equal(conv(&s, 0xf5), -1000); /* ~0xf5 = 10 */
	assert_int_equal(conv(&s, 0xff), 0);	 /* 1's complement -0 */
	s = lin(6, VIREO_SENSOR_POWER, SDR_FMT_UNSIGNED, 2, 0, 0, 0);
	assert_int_equal(conv(&s, 60), 120000000);
	s = lin(18, VIREO_SENSOR_FAN, SDR_FMT_UNSIGNED, 50, 0, 0, 0);
	assert_int_equal(conv(&s, 48), 2400);
	s = lin(18, VIREO_SENSOR_FAN, SDR_FMT_UNSIGNED, 3, 0, 0, -1);
	assert_int_equal(conv(&s, 5), 2); /* 1.5 RPM rounds away from zero */
	s = lin(2, VIREO_SENSOR_TEMPERATURE, SDR_FMT_UNSIGNED, 1, 0, 0, 0);
	assert_int_equal(conv(&s, 212), 100000); /* F */
	s = lin(3, VIREO_SENSOR_TEMPERATURE, SDR_FMT_UNSIGNED, 2, 0, 0, 0);
	assert_int_equal(conv(&s, 150), 26850); /* 300 K */
	/* 10-bit two's complement M and B: M = -1 (0x3ff), B = -512. */
	s = lin(1, VIREO_SENSOR_TEMPERATURE, SDR_FMT_UNSIGNED, -1, -512, 0, -1);
	assert_int_equal(conv(&s, 10), -52200);
	/* Sub-unit resolution: 0.0001 C per count. */
	s = lin(1, VIREO_SENSOR_TEMPERATURE, SDR_FMT_UNSIGNED, 1, 0, 0, -4);
	assert_int_equal(conv(&s, 25), 3); /* 2.5 m C */
}

static void convert_overflow(void **state)
{
	struct sdr_sensor s = lin(6, VIREO_SENSOR_POWER, SDR_FMT_UNSIGNED, 511, 0, 0, 7);
	int64_t v;

	(void)state;
	assert_int_equal(sdr_convert(&s, 255, &v), 0);
	assert_true(v == 511ll * 255 * 10000000000000ll);
	s = lin(6, VIREO_SENSOR_POWER, SDR_FMT_UNSIGNED, 1, 511, 7, 7);
	assert_int_equal(sdr_convert(&s, 1, &v), -ERANGE);
	s = lin(6, VIREO_SENSOR_POWER, SDR_FMT_UNSIGNED, 1, 511, -8, -8);
	assert_int_equal(sdr_convert(&s, 200, &v), 0);
	assert_int_equal(v, 2); /* 2e-6 W + 5.11e-15 W: 2 uW */
}

static void unconvert(void **state)
{
	struct sdr_sensor s = lin(1, VIREO_SENSOR_TEMPERATURE, SDR_FMT_UNSIGNED, 1, 0, 0, 0);
	uint8_t raw = 0;

	(void)state;
	assert_int_equal(sdr_unconvert(&s, 85000, &raw), 0);
	assert_int_equal(raw, 85);
	assert_int_equal(sdr_unconvert(&s, 85400, &raw), 0);
	assert_int_equal(raw, 85);
	assert_int_equal(sdr_unconvert(&s, 255500, &raw), 0); /* half a step past the top */
	assert_int_equal(raw, 255);
	assert_int_equal(sdr_unconvert(&s, 255501, &raw), -ERANGE);
	assert_int_equal(sdr_unconvert(&s, -501, &raw), -ERANGE);
	assert_int_equal(sdr_unconvert(&s, INT64_MAX, &raw), -ERANGE);
	assert_int_equal(sdr_unconvert(&s, INT64_MIN, &raw), -ERANGE);
	s = lin(5, VIREO_SENSOR_CURRENT, SDR_FMT_TWOS, 1, 0, 0, -1);
	assert_int_equal(sdr_unconvert(&s, -1000, &raw), 0);
	assert_int_equal(raw, 0xf6);
	s = lin(5, VIREO_SENSOR_CURRENT, SDR_FMT_ONES, 1, 0, 0, -1);
	assert_int_equal(sdr_unconvert(&s, -1000, &raw), 0);
	assert_int_equal(raw, 0xf5);
	s = lin(18, VIREO_SENSOR_FAN, SDR_FMT_UNSIGNED, 50, 0, 0, 0);
	assert_int_equal(sdr_unconvert(&s, 1020, &raw), 0);
	assert_int_equal(raw, 20);
	s = lin(4, VIREO_SENSOR_VOLTAGE, SDR_FMT_UNSIGNED, 6, 5, -1, -2);
	assert_int_equal(sdr_unconvert(&s, 12000, &raw), 0);
	assert_int_equal(raw, 200); /* 12005 mV, the nearest */
	/* Reversed: M < 0, the highest reading at raw 0. */
	s = lin(1, VIREO_SENSOR_TEMPERATURE, SDR_FMT_UNSIGNED, -1, 200, 0, 0);
	assert_int_equal(sdr_unconvert(&s, 150000, &raw), 0);
	assert_int_equal(raw, 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_full),	    cmocka_unit_test(decode_refusals),
		cmocka_unit_test(decode_compact),   cmocka_unit_test(convert_units_and_formats),
		cmocka_unit_test(convert_overflow), cmocka_unit_test(unconvert),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
