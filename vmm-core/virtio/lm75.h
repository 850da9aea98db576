/* SPDX-License-Identifier: MIT */
/*
 * An LM75-compatible digital temperature sensor, at register level, as an I2C target
 * of the virtio-i2c bus (virtio/i2c.c). What an LM75 (National/TI LM75, NXP LM75A)
 * datasheet describes, and Linux's `lm75` driver relies on:
 *
 * - A pointer register (bits 1..0 select: 0 temperature, 1 configuration, 2 THYST,
 *   3 TOS; bits 7..2 are ignored). A write's first byte sets it; the next bytes go to
 *   the register it selects, most significant byte first. A pointer-only write just
 *   moves the pointer. Reads start at the selected register and never move the
 *   pointer; a read longer than the register repeats its bytes (MSB, LSB, MSB, ...).
 * - Temperature (read-only): 9-bit two's complement in bits 15..7, 0.5 °C steps,
 *   bits 6..0 read 0. The host value is rounded to the nearest 0.5 °C and held to
 *   what the register can show (-128.0 .. +127.5 °C).
 * - Configuration (8 bits): SHUTDOWN (bit 0), INT (bit 1: interrupt mode, else
 *   comparator), POL (bit 2: O.S. active high), fault queue F1:F0 (bits 4..3: 1, 2,
 *   4 or 6 conversions). Bits 7..5 are reserved: written as given, read back as 0.
 * - THYST and TOS (9 bits like temperature; bits 6..0 read 0), 75 and 80 °C at
 *   power-up.
 * - Conversions run every LM75_CONV_MS while not shut down; shutdown freezes the
 *   temperature register. Time is the caller's monotonic milliseconds, so the model
 *   is deterministic; conversions due between two accesses happen at the access
 *   (at most LM75_CATCHUP of them, which is all the fault queue can count).
 * - The O.S. output: comparator mode goes active after fault-queue consecutive
 *   conversions above TOS and inactive after as many below THYST. Interrupt mode
 *   goes active after fault-queue conversions above TOS, stays active until any
 *   register is read, then waits for fault-queue conversions below THYST to go
 *   active again (and a read), and so on. Entering shutdown resets it in interrupt
 *   mode; changing mode resets it. The pin is open-drain: its level follows POL.
 *
 * Not modelled: the TMP75-class one-shot bit and resolution bits (this is an LM75:
 * bits 7..5 read 0), bus timeouts, SMBus alert response, conversion time at power-up
 * (the first access converts at once).
 *
 * Threading: none; the owner serialises calls.
 */
#ifndef VIREO_VIRTIO_LM75_H
#define VIREO_VIRTIO_LM75_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Register numbers (the pointer register's value). */
#define LM75_REG_TEMP  0u
#define LM75_REG_CONF  1u
#define LM75_REG_THYST 2u
#define LM75_REG_TOS   3u

/* Configuration register bits. */
#define LM75_CONF_SHUTDOWN  (1u << 0)
#define LM75_CONF_INT	    (1u << 1)
#define LM75_CONF_POL	    (1u << 2)
#define LM75_CONF_FQ_SHIFT  3
#define LM75_CONF_FQ_MASK   (3u << LM75_CONF_FQ_SHIFT)
#define LM75_CONF_WRITEABLE 0x1fu

/* Power-up limits: 75 and 80 °C. */
#define LM75_THYST_RESET 0x4b00u
#define LM75_TOS_RESET	 0x5000u

/* One conversion every 100 ms (the LM75's typical conversion time). */
#define LM75_CONV_MS 100u
/* Conversions caught up at one access: the deepest fault queue. */
#define LM75_CATCHUP 6u

/**
 * Where the temperature comes from: the latest host reading in millidegrees Celsius.
 * Return: 0, or a negative errno (the register then keeps its last value).
 */
typedef int (*lm75_source_fn)(void *ctx, int64_t *millideg);

/** An LM75. Fields are the model's; read them through lm75_get_state(). */
struct lm75 {
	lm75_source_fn source;
	void *source_ctx;

	uint8_t pointer;
	uint8_t config;
	uint16_t temp;
	uint16_t thyst;
	uint16_t tos;

	bool os_active;	  /* the O.S. output, logically */
	bool watch_low;	  /* interrupt mode: waiting for temp < THYST */
	unsigned int run; /* consecutive conversions meeting the pending condition */

	bool powered;	   /* first access done: conversions are timed from then */
	uint64_t next_ms;  /* when the next conversion is due */
	uint64_t convs;	   /* conversions done */
	uint64_t src_errs; /* source reads that failed */
	int last_src_err;
	uint32_t os_changes; /* O.S. transitions, for the log and stats */
};

/** A snapshot for logs and `vireoctl device stats`. */
struct lm75_state {
	uint8_t pointer, config;
	uint16_t temp, thyst, tos;
	int32_t temp_mc, thyst_mc, tos_mc; /* the registers in millidegrees */
	bool shutdown, interrupt_mode, os_active;
	bool os_pin_high; /* the pin's level: active low unless POL */
	uint64_t conversions, source_errors;
	uint32_t os_changes;
};

/**
 * lm75_init() - Power-up state, reading temperatures from @source.
 * Context: any.
 */
void lm75_init(struct lm75 *s, lm75_source_fn source, void *ctx);

/**
 * lm75_write() - A write transfer addressed to the sensor: @len bytes (0 is an
 * address-only write, acknowledged and without effect).
 * @now_ms: the caller's monotonic clock.
 * Return: 0 (an LM75 acknowledges every byte).
 */
int lm75_write(struct lm75 *s, const uint8_t *buf, size_t len, uint64_t now_ms);

/**
 * lm75_read() - A read transfer of @len bytes (0: address-only, no register read).
 * Return: 0.
 */
int lm75_read(struct lm75 *s, uint8_t *buf, size_t len, uint64_t now_ms);

/** lm75_tick() - Run the conversions due by @now_ms (accesses do this themselves). */
void lm75_tick(struct lm75 *s, uint64_t now_ms);

/** lm75_get_state() - The registers and the O.S. output, without side effects. */
void lm75_get_state(const struct lm75 *s, struct lm75_state *st);

/** lm75_mc_to_reg() - Millidegrees to a 9-bit register (nearest 0.5 °C, clamped). */
uint16_t lm75_mc_to_reg(int64_t millideg);

/** lm75_reg_to_mc() - A 9-bit temperature register to millidegrees. */
int32_t lm75_reg_to_mc(uint16_t reg);

#endif /* VIREO_VIRTIO_LM75_H */
