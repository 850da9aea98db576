// SPDX-License-Identifier: MIT
/*
 * The LM75 register model (see lm75.h for what is and is not modelled). Pure state:
 * no threads, no clock of its own, no I/O but the source callback.
 */
#include "virtio/lm75.h"

#include <errno.h>
#include <string.h>

/* 9-bit registers keep bits 15..7. */
#define LM75_REG9_MASK 0xff80u

static const unsigned int lm75_fault_queue[4] = { 1, 2, 4, 6 };

uint16_t lm75_mc_to_reg(int64_t mc)
{
	int64_t half;

	/* Far outside the register's range: clamp first, so the rounding cannot overflow. */
	if (mc > 1000000)
		mc = 1000000;
	if (mc < -1000000)
		mc = -1000000;
	/* Nearest 0.5 °C step, halves away from zero; the register shows -128..127.5. */
	if (mc >= 0)
		half = (mc + 250) / 500;
	else
		half = -((-mc + 250) / 500);
	if (half > 255)
		half = 255;
	if (half < -256)
		half = -256;
	return (uint16_t)(((uint32_t)half & 0x1ffu) << 7);
}

int32_t lm75_reg_to_mc(uint16_t reg)
{
	int16_t v = (int16_t)(reg & LM75_REG9_MASK);

	/* Arithmetic on the signed value: bits 15..7 hold half-degrees. */
	return (int32_t)(v / 128) * 500;
}

void lm75_init(struct lm75 *s, lm75_source_fn source, void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->source = source;
	s->source_ctx = ctx;
	s->thyst = LM75_THYST_RESET;
	s->tos = LM75_TOS_RESET;
}

static unsigned int lm75_queue_depth(const struct lm75 *s)
{
	return lm75_fault_queue[(s->config & LM75_CONF_FQ_MASK) >> LM75_CONF_FQ_SHIFT];
}

static void lm75_set_os(struct lm75 *s, bool active)
{
	if (s->os_active != active)
		s->os_changes++;
	s->os_active = active;
}

/* One conversion's effect on the O.S. output, with the new temperature in place. */
static void lm75_compare(struct lm75 *s)
{
	int16_t t = (int16_t)s->temp, hyst = (int16_t)s->thyst, tos = (int16_t)s->tos;
	bool cond;

	if (s->config & LM75_CONF_INT)
		cond = s->watch_low ? t < hyst : t > tos;
	else
		cond = s->os_active ? t < hyst : t > tos;
	if (!cond) {
		s->run = 0;
		return;
	}
	if (++s->run < lm75_queue_depth(s))
		return;
	s->run = 0;
	if (s->config & LM75_CONF_INT) {
		/* An event: assert until a read, and watch for the opposite crossing. */
		lm75_set_os(s, true);
		s->watch_low = !s->watch_low;
	} else {
		lm75_set_os(s, !s->os_active);
	}
}

static void lm75_convert(struct lm75 *s, unsigned int n)
{
	int64_t mc;
	int rc;

	rc = s->source ? s->source(s->source_ctx, &mc) : -ENODEV;
	if (rc < 0) {
		s->src_errs++;
		s->last_src_err = rc;
	} else {
		s->last_src_err = 0;
		s->temp = lm75_mc_to_reg(mc);
	}
	/* Every conversion of the catch-up saw the same (latest) host value. */
	for (unsigned int i = 0; i < n; i++) {
		s->convs++;
		lm75_compare(s);
	}
}

void lm75_tick(struct lm75 *s, uint64_t now_ms)
{
	uint64_t due;

	if (!s->powered) {
		/* Power-up: the first access finds a conversion done. */
		s->powered = true;
		s->next_ms = now_ms + LM75_CONV_MS;
		if (!(s->config & LM75_CONF_SHUTDOWN))
			lm75_convert(s, 1);
		return;
	}
	if (s->config & LM75_CONF_SHUTDOWN || now_ms < s->next_ms)
		return;
	due = (now_ms - s->next_ms) / LM75_CONV_MS + 1;
	s->next_ms += due * LM75_CONV_MS;
	lm75_convert(s, due > LM75_CATCHUP ? LM75_CATCHUP : (unsigned int)due);
}

static uint16_t *lm75_reg16(struct lm75 *s, unsigned int reg)
{
	switch (reg) {
	case LM75_REG_THYST:
		return &s->thyst;
	case LM75_REG_TOS:
		return &s->tos;
	default:
		return NULL; /* temperature is read-only; configuration is 8 bits */
	}
}

static void lm75_write_conf(struct lm75 *s, uint8_t v, uint64_t now_ms)
{
	uint8_t old = s->config;

	s->config = v & LM75_CONF_WRITEABLE;
	if ((old ^ s->config) & LM75_CONF_INT) {
		/* A new mode starts from a released output and a fresh count. */
		lm75_set_os(s, false);
		s->watch_low = false;
		s->run = 0;
	}
	if (!(old & LM75_CONF_SHUTDOWN) && (s->config & LM75_CONF_SHUTDOWN) &&
	    (s->config & LM75_CONF_INT))
		lm75_set_os(s, false);
	if ((old & LM75_CONF_SHUTDOWN) && !(s->config & LM75_CONF_SHUTDOWN))
		/* Waking up: the next conversion completes one period from now. */
		s->next_ms = now_ms + LM75_CONV_MS;
}

int lm75_write(struct lm75 *s, const uint8_t *buf, size_t len, uint64_t now_ms)
{
	uint16_t *r;

	lm75_tick(s, now_ms);
	if (len == 0)
		return 0;
	s->pointer = buf[0] & 3u;
	if (len == 1)
		return 0;
	if (s->pointer == LM75_REG_CONF) {
		/* One data byte; an LM75 acknowledges and ignores the rest. */
		lm75_write_conf(s, buf[1], now_ms);
		return 0;
	}
	r = lm75_reg16(s, s->pointer);
	if (!r)
		return 0; /* writes to the temperature register change nothing */
	/* MSB then LSB; a write that stops after the MSB leaves the LSB as it was. */
	*r = (uint16_t)((*r & 0x00ffu) | ((uint16_t)buf[1] << 8));
	if (len >= 3)
		*r = (uint16_t)((*r & 0xff00u) | buf[2]);
	*r &= LM75_REG9_MASK;
	return 0;
}

int lm75_read(struct lm75 *s, uint8_t *buf, size_t len, uint64_t now_ms)
{
	uint16_t v;

	lm75_tick(s, now_ms);
	if (len == 0)
		return 0;
	if (s->pointer == LM75_REG_CONF) {
		memset(buf, s->config, len);
	} else {
		v = s->pointer == LM75_REG_TEMP ? s->temp : *lm75_reg16(s, s->pointer);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)(i % 2 ? v : v >> 8);
	}
	/* Interrupt mode: reading any register releases the output. */
	if (s->config & LM75_CONF_INT)
		lm75_set_os(s, false);
	return 0;
}

void lm75_get_state(const struct lm75 *s, struct lm75_state *st)
{
	memset(st, 0, sizeof(*st));
	st->pointer = s->pointer;
	st->config = s->config;
	st->temp = s->temp;
	st->thyst = s->thyst;
	st->tos = s->tos;
	st->temp_mc = lm75_reg_to_mc(s->temp);
	st->thyst_mc = lm75_reg_to_mc(s->thyst);
	st->tos_mc = lm75_reg_to_mc(s->tos);
	st->shutdown = s->config & LM75_CONF_SHUTDOWN;
	st->interrupt_mode = s->config & LM75_CONF_INT;
	st->os_active = s->os_active;
	/* Open drain: active low unless POL; released means pulled high. */
	st->os_pin_high = (s->config & LM75_CONF_POL) ? s->os_active : !s->os_active;
	st->conversions = s->convs;
	st->source_errors = s->src_errs;
	st->os_changes = s->os_changes;
}
