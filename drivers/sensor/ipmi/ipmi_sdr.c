// SPDX-License-Identifier: MIT
/*
 * sensor-ipmi: decoding Sensor Data Records and converting readings. Pure functions of
 * the record's bytes, so tests/unit/ipmi checks them without a BMC. Records come from
 * the BMC, which the driver does not trust: every length and field is checked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vireo/sensor.h>

#include "ipmi_sdr.h"

/* Offsets (0-based; the spec counts bytes from 1) shared by full and compact records. */
#define SDR_OWNER_ID	5
#define SDR_OWNER_LUN	6
#define SDR_NUMBER	7
#define SDR_CAPS	11
#define SDR_SENSOR_TYPE 12
#define SDR_READ_TYPE	13
#define SDR_READ_MASK	18
#define SDR_SET_MASK	19
#define SDR_UNITS1	20
#define SDR_BASE_UNIT	21
/* Full records only. */
#define FULL_LINEAR	      23
#define FULL_M		      24
#define FULL_B		      26
#define FULL_EXP	      29
#define FULL_UNR	      36 /* UNR, UC, UNC, LNR, LC, LNC follow in this order */
#define FULL_ID		      47
#define COMPACT_ID	      31
#define SDR_READING_THRESHOLD 0x01

/* Base unit codes (Table 43-15) the class has a type for. */
#define UNIT_DEG_C  1
#define UNIT_DEG_F  2
#define UNIT_KELVIN 3
#define UNIT_VOLT   4
#define UNIT_AMP    5
#define UNIT_WATT   6
#define UNIT_RPM    18

static uint32_t unit_vtype(uint8_t unit)
{
	switch (unit) {
	case UNIT_DEG_C:
	case UNIT_DEG_F:
	case UNIT_KELVIN:
		return VIREO_SENSOR_TEMPERATURE;
	case UNIT_VOLT:
		return VIREO_SENSOR_VOLTAGE;
	case UNIT_AMP:
		return VIREO_SENSOR_CURRENT;
	case UNIT_WATT:
		return VIREO_SENSOR_POWER;
	case UNIT_RPM:
		return VIREO_SENSOR_FAN;
	default:
		return 0;
	}
}

int sdr_unit_exponent(uint32_t vtype)
{
	switch (vtype) {
	case VIREO_SENSOR_POWER:
		return 6; /* uW */
	case VIREO_SENSOR_FAN:
		return 0; /* RPM */
	default:
		return 3; /* m C, mV, mA */
	}
}

/* Sign-extends the low @bits bits of @v. */
static int sext(unsigned int v, unsigned int bits)
{
	unsigned int m = 1u << (bits - 1);

	v &= (1u << bits) - 1;
	return (int)(v ^ m) - (int)m;
}

/*
 * The ID string: 8-bit ASCII+Latin1 (type 11b) keeps its printable ASCII, others become
 * '_'; 6-bit packed ASCII (10b) is unpacked; Unicode and BCD plus give "" (the driver
 * then names the channel by its sensor number).
 */
static void sdr_id_string(const uint8_t *p, size_t avail, struct sdr_sensor *s)
{
	unsigned int type = p[0] >> 6, n = p[0] & 0x1f;
	size_t k = 0;

	s->id[0] = '\0';
	if (n > avail - 1)
		n = (unsigned int)(avail - 1);
	if (n > 16)
		n = 16;
	p++;
	if (type == 3) {
		for (unsigned int i = 0; i < n && p[i]; i++)
			s->id[k++] = p[i] >= 0x20 && p[i] <= 0x7e ? (char)p[i] : '_';
	} else if (type == 2) {
		/* Four 6-bit characters (0x20 + code) in each three bytes, low bits first. */
		for (unsigned int bit = 0; bit + 6 <= n * 8 && k < sizeof(s->id) - 1; bit += 6) {
			unsigned int v = p[bit / 8] >> (bit % 8);

			if (bit % 8 > 2)
				v |= (unsigned int)p[bit / 8 + 1] << (8 - bit % 8);
			s->id[k++] = (char)(0x20 + (v & 0x3f));
		}
	}
	while (k > 0 && s->id[k - 1] == ' ')
		k--; /* BMCs pad with spaces */
	s->id[k] = '\0';
}

int sdr_decode(const uint8_t *rec, size_t len, struct sdr_sensor *s, const char **why)
{
	size_t need;
	uint8_t units1;

	*why = NULL;
	if (len < SDR_HEADER_LEN || (size_t)rec[4] + SDR_HEADER_LEN != len)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->record_id = (uint16_t)(rec[0] | rec[1] << 8);
	s->record_type = rec[3];
	if (s->record_type != SDR_TYPE_FULL && s->record_type != SDR_TYPE_COMPACT) {
		*why = "not a sensor record the driver reads";
		return SDR_SKIP_TYPE;
	}
	need = s->record_type == SDR_TYPE_FULL ? FULL_ID + 1 : COMPACT_ID + 1;
	if (len < need)
		return -EINVAL;
	s->owner_id = rec[SDR_OWNER_ID];
	s->owner_lun = rec[SDR_OWNER_LUN];
	s->number = rec[SDR_NUMBER];
	s->sensor_type = rec[SDR_SENSOR_TYPE];
	s->reading_type = rec[SDR_READ_TYPE];
	sdr_id_string(rec + need - 1, len - (need - 1), s);
	if (s->reading_type != SDR_READING_THRESHOLD) {
		*why = "a discrete sensor (event/reading type is not threshold)";
		return SDR_SKIP_DISCRETE;
	}
	units1 = rec[SDR_UNITS1];
	s->format = (enum sdr_format)(units1 >> 6);
	if (s->format == SDR_FMT_NONE) {
		*why = "no analog reading (data format 11b)";
		return SDR_SKIP_NO_ANALOG;
	}
	s->base_unit = rec[SDR_BASE_UNIT];
	s->vtype = unit_vtype(s->base_unit);
	/* A rate (per second, ...), a modifier unit (V/s, W*h) or a percentage: not the class's. */
	if (!s->vtype || (units1 & 0x3f)) {
		*why = "a unit the sensor class has no type for";
		return SDR_SKIP_UNIT;
	}
	s->access = (enum sdr_thr_access)(rec[SDR_CAPS] >> 2 & 3);
	s->readable = rec[SDR_READ_MASK] & 0x3f;
	s->settable = rec[SDR_SET_MASK] & 0x3f;
	if (s->record_type == SDR_TYPE_COMPACT) {
		/* No conversion factors: the byte is a whole number of the base unit. */
		s->m = 1;
		if (s->access == SDR_THR_FIXED)
			s->access = SDR_THR_NONE; /* compact records hold no threshold values */
		return 0;
	}
	if (rec[FULL_LINEAR] & 0x7f) {
		*why = "a non-linear sensor (linearisation is not 00h)";
		return SDR_SKIP_LINEAR;
	}
	s->m = (int16_t)sext(rec[FULL_M] | (rec[FULL_M + 1] >> 6) << 8, 10);
	s->b = (int16_t)sext(rec[FULL_B] | (rec[FULL_B + 1] >> 6) << 8, 10);
	s->k2 = (int8_t)sext(rec[FULL_EXP] >> 4, 4);
	s->k1 = (int8_t)sext(rec[FULL_EXP] & 0xf, 4);
	/* The fixed values, by THR_ bit: LNC, LC, LNR, UNC, UC, UNR. */
	s->fixed[0] = rec[FULL_UNR + 5];
	s->fixed[1] = rec[FULL_UNR + 4];
	s->fixed[2] = rec[FULL_UNR + 3];
	s->fixed[3] = rec[FULL_UNR + 2];
	s->fixed[4] = rec[FULL_UNR + 1];
	s->fixed[5] = rec[FULL_UNR];
	return 0;
}

/* The signed reading a raw byte stands for, per the analog data format. */
static int raw_to_x(enum sdr_format f, uint8_t raw)
{
	if (f == SDR_FMT_TWOS)
		return (int8_t)raw;
	if (f == SDR_FMT_ONES)
		return raw & 0x80 ? -(int)(~raw & 0x7f) : raw;
	return raw;
}

static uint8_t x_to_raw(enum sdr_format f, int x)
{
	if (f == SDR_FMT_ONES && x < 0)
		return (uint8_t) ~(unsigned int)(-x);
	return (uint8_t)x;
}

/* 10^n for 0 <= n; -ERANGE past int64_t. */
static int pow10_i64(int n, int64_t *out)
{
	int64_t v = 1;

	for (int i = 0; i < n; i++)
		if (__builtin_mul_overflow(v, 10, &v))
			return -ERANGE;
	*out = v;
	return 0;
}

/* a / b rounded half away from zero, b > 0. */
static int64_t div_round(int64_t a, int64_t b)
{
	return a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b);
}

static int max3(int a, int b, int c)
{
	int m = a > b ? a : b;

	return m > c ? m : c;
}

/* The conversion of a signed reading @x; see sdr_convert. */
static int convert_x(const struct sdr_sensor *s, int x, int64_t *value)
{
	int e = s->k2 + sdr_unit_exponent(s->vtype);
	int d = max3(0, -e, -(s->k1 + e)); /* scale both terms to whole numbers */
	int64_t p1, p2, d10, t1, t2, n;

	/* (M x 10^(e+d) + B 10^(K1+e+d)) / 10^d: both exponents are >= 0 by the choice of d. */
	if (pow10_i64(e + d, &p1) || pow10_i64(s->k1 + e + d, &p2) || pow10_i64(d, &d10) ||
	    __builtin_mul_overflow((int64_t)s->m * x, p1, &t1) ||
	    __builtin_mul_overflow((int64_t)s->b, p2, &t2) || __builtin_add_overflow(t1, t2, &n))
		return -ERANGE;
	n = div_round(n, d10);
	if (s->base_unit == UNIT_DEG_F) /* m F to m C */
		n = div_round((n - 32000) * 5, 9);
	else if (s->base_unit == UNIT_KELVIN)
		n -= 273150;
	*value = n;
	return 0;
}

int sdr_convert(const struct sdr_sensor *s, uint8_t raw, int64_t *value)
{
	return convert_x(s, raw_to_x(s->format, raw), value);
}

int sdr_unconvert(const struct sdr_sensor *s, int64_t value, uint8_t *raw)
{
	int lo = s->format == SDR_FMT_UNSIGNED ? 0 : s->format == SDR_FMT_ONES ? -127 : -128;
	int hi = s->format == SDR_FMT_UNSIGNED ? 255 : 127;
	uint64_t best_d = UINT64_MAX, step = 1;
	int best = lo;
	int64_t v, w;

	for (int x = lo; x <= hi; x++) {
		uint64_t dist;

		if (convert_x(s, x, &v))
			continue;
		dist = v > value ? (uint64_t)v - (uint64_t)value : (uint64_t)value - (uint64_t)v;
		if (dist < best_d) {
			best_d = dist;
			best = x;
		}
	}
	if (best_d == UINT64_MAX || convert_x(s, best, &v))
		return -ERANGE;
	/* The resolution there: the larger distance to a neighbouring reading. */
	for (int x = best - 1; x <= best + 1; x += 2) {
		if (x < lo || x > hi || convert_x(s, x, &w))
			continue;
		if ((uint64_t)llabs(w - v) > step)
			step = (uint64_t)llabs(w - v);
	}
	if (best_d > step / 2) /* further than half a step: not a value it can hold */
		return -ERANGE;
	*raw = x_to_raw(s->format, best);
	return 0;
}
