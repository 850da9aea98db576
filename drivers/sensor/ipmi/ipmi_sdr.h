/* SPDX-License-Identifier: MIT */
/*
 * sensor-ipmi internals. Three parts, one file each: the OpenIPMI device transport
 * (ipmi_dev.c), the Sensor Data Record decoding and linearisation math (ipmi_sdr.c:
 * pure functions, unit-tested without a BMC), and the sensor class ops (ipmi.c), which
 * walks the SDR repository with the first two.
 *
 * Facts from the IPMI v2.0 specification (rev. 1.1): section 43 (SDR formats), 33 (SDR
 * repository commands), 35 (sensor commands), 36.3 (the conversion formula).
 */
#ifndef VIREO_DRIVERS_SENSOR_IPMI_SDR_H
#define VIREO_DRIVERS_SENSOR_IPMI_SDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Network functions and commands (requests; responses are netfn + 1). */
#define IPMI_NETFN_SE		    0x04 /* sensor/event */
#define IPMI_NETFN_STORAGE	    0x0a
#define IPMI_CMD_GET_SDR_REPO_INFO  0x20
#define IPMI_CMD_RESERVE_SDR_REPO   0x22
#define IPMI_CMD_GET_SDR	    0x23
#define IPMI_CMD_SET_THRESHOLDS	    0x26
#define IPMI_CMD_GET_THRESHOLDS	    0x27
#define IPMI_CMD_GET_SENSOR_READING 0x2d

/* Completion codes the driver acts on. */
#define IPMI_CC_OK		  0x00
#define IPMI_CC_NODE_BUSY	  0xc0
#define IPMI_CC_TIMEOUT		  0xc3
#define IPMI_CC_RESERVATION	  0xc5 /* reservation cancelled or invalid */
#define IPMI_CC_REQ_TRUNCATED	  0xc6
#define IPMI_CC_OUT_OF_RANGE	  0xc9 /* parameter out of range */
#define IPMI_CC_CANT_RETURN_BYTES 0xca /* cannot return that many bytes */
#define IPMI_CC_NOT_PRESENT	  0xcb /* requested sensor/record not present */
#define IPMI_CC_INVALID_DATA	  0xcc
#define IPMI_CC_ILLEGAL_CMD	  0xcd /* command illegal for this sensor */
#define IPMI_CC_UNAVAILABLE	  0xd5 /* not supported in the present state */

/* SDR record types the driver takes. */
#define SDR_TYPE_FULL	 0x01
#define SDR_TYPE_COMPACT 0x02
#define SDR_HEADER_LEN	 5
#define SDR_MAX_LEN	 (SDR_HEADER_LEN + 255)

/* Threshold bits, as in the SDR's masks and Get/Set Sensor Thresholds. */
#define THR_LNC (1u << 0)
#define THR_LC	(1u << 1)
#define THR_LNR (1u << 2)
#define THR_UNC (1u << 3)
#define THR_UC	(1u << 4)
#define THR_UNR (1u << 5)

/* Sensor capabilities' threshold access support. */
enum sdr_thr_access {
	SDR_THR_NONE = 0,     /* no thresholds */
	SDR_THR_READABLE = 1, /* readable per the readable mask */
	SDR_THR_SETTABLE = 2, /* readable and settable per the masks */
	SDR_THR_FIXED = 3,    /* fixed, not readable: the full SDR's fields hold them */
};

/* Analog data format (sensor units 1, bits 7:6). */
enum sdr_format {
	SDR_FMT_UNSIGNED = 0,
	SDR_FMT_ONES = 1, /* 1's complement */
	SDR_FMT_TWOS = 2, /* 2's complement */
	SDR_FMT_NONE = 3, /* no analog reading */
};

/* One threshold-based sensor as the driver uses it, decoded from a full or compact SDR. */
struct sdr_sensor {
	uint16_t record_id;
	uint8_t record_type;
	uint8_t owner_id;  /* IPMB slave address (bit 0 clear) or software ID (set) */
	uint8_t owner_lun; /* bits 7:4 channel, 1:0 LUN */
	uint8_t number;
	uint8_t sensor_type;  /* Table 42-3: 01h temperature, 02h voltage, ... */
	uint8_t reading_type; /* event/reading type code; 01h threshold */
	uint8_t base_unit;    /* Table 43-15 */
	uint32_t vtype;	      /* enum vireo_sensor_type, 0 if the unit is not one */
	enum sdr_format format;
	enum sdr_thr_access access;
	uint8_t readable; /* THR_* */
	uint8_t settable; /* THR_* */
	uint8_t fixed[6]; /* raw SDR threshold fields, by THR_ bit index (full records) */
	int16_t m, b;	  /* 10-bit signed */
	int8_t k1, k2;	  /* B and result exponents, 4-bit signed */
	char id[17];	  /* the ID string, printable ASCII; "" if none or not 8-bit */
};

/*
 * Decodes a full (01h) or compact (02h) record of @len bytes (header included). Return:
 * 0 and @s filled when it is a threshold sensor with an analog reading the driver can
 * convert; a positive SDR_SKIP_* reason when it is a record the driver leaves out; -EINVAL
 * when it is malformed. @why gets a short phrase for the log on a skip.
 */
enum {
	SDR_SKIP_TYPE = 1,  /* not a full or compact sensor record */
	SDR_SKIP_DISCRETE,  /* not a threshold sensor (event/reading type != 01h) */
	SDR_SKIP_NO_ANALOG, /* analog data format says no reading */
	SDR_SKIP_LINEAR,    /* a non-linear linearisation */
	SDR_SKIP_UNIT,	    /* a unit the class has no type for, or a rate/modifier unit */
};
int sdr_decode(const uint8_t *rec, size_t len, struct sdr_sensor *s, const char **why);

/* The class's scale of @vtype's unit against the SDR's base unit: 10^x, x = 3 or 6 or 0. */
int sdr_unit_exponent(uint32_t vtype);

/*
 * Converts a raw reading byte to the class's unit (m C, mV, mA, uW, RPM):
 * y = (M * x + B * 10^K1) * 10^K2, then scaled and, for F and K, moved to C; rounded to
 * the nearest integer. Return: 0, or -ERANGE if it does not fit an int64_t.
 */
int sdr_convert(const struct sdr_sensor *s, uint8_t raw, int64_t *value);

/*
 * The raw byte whose conversion is nearest @value, for Set Sensor Thresholds. Return: 0;
 * -ERANGE if @value is further than half a step (the resolution at that raw value, at
 * least 1) from every convertible value.
 */
int sdr_unconvert(const struct sdr_sensor *s, int64_t value, uint8_t *raw);

#endif /* VIREO_DRIVERS_SENSOR_IPMI_SDR_H */
