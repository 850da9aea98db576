// SPDX-License-Identifier: MIT
/*
 * sensor-synth: a board with six made-up sensors. The skeleton a partner copies to
 * start a sensor driver: parameters, channels of every type with labels, units, limits
 * and an update interval, readings, writable thresholds with range checks, and a
 * descriptor that is the only exported symbol. Readings are deterministic: each
 * channel walks a triangle wave around its base value, one step per read, so tests
 * know what comes next; the values stay where real parts sit (a CPU at 45 C, a core
 * rail at 1.2 V, a 12 V supply, a fan at 2400 RPM).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vireo/driver.h>
#include <vireo/log.h>
#include <vireo/params.h>
#include <vireo/sensor.h>

#define SYNTH_NCH     6
#define SYNTH_PERIOD  20  /* reads per triangle wave */
#define SYNTH_SUPPLY  12  /* volts on the supply whose current and power are measured */
#define SYNTH_TEMP_HW 500 /* thresholds of the temperature chips: 0.5 C steps */

/* One channel: what get_channel reports plus how its value moves. */
struct synth_chan {
	struct vireo_sensor_channel desc;
	int64_t base;	   /* centre of the wave */
	int64_t amplitude; /* peak distance from base */
	int64_t lo, hi;	   /* what its limit registers can hold */
	int64_t step;	   /* resolution of its limit registers */
	unsigned int reads;
};

struct synth_board {
	struct synth_chan ch[SYNTH_NCH];
	unsigned int nch;
	bool fail_reads; /* every read answers -EIO: shows the error path */
};

static const struct vireo_param_decl synth_params[] = {
	{ VIREO_PARAM_UINT("interval-ms", "500", "how often the values change, 0 to 3600000") },
	{ VIREO_PARAM_INT("cpu-temp", "45000", "centre of the CPU temperature, millidegrees C") },
	{ VIREO_PARAM_UINT("fan-rpm", "2400", "centre of the fan speed, RPM (0 to 20000)") },
	{ VIREO_PARAM_UINT("channels", "6", "how many of the channels to offer, 1 to 6") },
	{ VIREO_PARAM_BOOL("writable", "on", "let the temperature and fan limits be changed") },
	{ VIREO_PARAM_BOOL("fail-reads", "off", "answer every read with -EIO") },
	{ 0 } /* sentinel */
};

/* Fills @c; flags get WRITABLE when @writable and the part's limits can change. */
static void synth_chan_init(struct synth_chan *c, uint32_t type, const char *label, uint32_t flags,
			    int64_t base, int64_t amplitude, int64_t min, int64_t max, int64_t crit)
{
	c->desc.type = type;
	strncpy(c->desc.label, label, VIREO_SENSOR_LABEL_MAX);
	c->desc.flags = flags;
	c->desc.min = min;
	c->desc.max = max;
	c->desc.crit = crit;
	c->base = base;
	c->amplitude = amplitude;
}

static void synth_build(struct synth_board *b, uint32_t interval, int64_t cpu, uint64_t fan,
			bool writable)
{
	const uint32_t w = writable ? VIREO_SENSOR_CH_WRITABLE : 0;
	const uint32_t mmc = VIREO_SENSOR_CH_MIN | VIREO_SENSOR_CH_MAX | VIREO_SENSOR_CH_CRIT;
	struct synth_chan *c = b->ch;

	synth_chan_init(&c[0], VIREO_SENSOR_TEMPERATURE, "cpu", mmc | w, cpu, 2500, 0, 85000,
			100000);
	synth_chan_init(&c[1], VIREO_SENSOR_TEMPERATURE, "inlet",
			VIREO_SENSOR_CH_MAX | VIREO_SENSOR_CH_CRIT | w, 25000, 1000, 0, 40000,
			50000);
	synth_chan_init(&c[2], VIREO_SENSOR_VOLTAGE, "vcore",
			VIREO_SENSOR_CH_MIN | VIREO_SENSOR_CH_MAX, 1200, 12, 1100, 1300, 0);
	synth_chan_init(&c[3], VIREO_SENSOR_CURRENT, "psu-12v-current",
			VIREO_SENSOR_CH_MAX | VIREO_SENSOR_CH_CRIT, 8000, 500, 0, 20000, 25000);
	synth_chan_init(&c[4], VIREO_SENSOR_POWER, "psu-12v-power", VIREO_SENSOR_CH_MAX,
			8000ll * SYNTH_SUPPLY * 1000, 500ll * SYNTH_SUPPLY * 1000, 0, 250000000,
			0); /* 96 W +- 6 W, limit 250 W */
	synth_chan_init(&c[5], VIREO_SENSOR_FAN, "fan1", VIREO_SENSOR_CH_MIN | w, (int64_t)fan,
			fan / 20, 600, 0, 0);
	for (unsigned int i = 0; i < SYNTH_NCH; i++) {
		c[i].desc.update_interval_ms = interval;
		c[i].lo = c[i].desc.type == VIREO_SENSOR_TEMPERATURE ? -55000 : 0;
		c[i].hi = c[i].desc.type == VIREO_SENSOR_TEMPERATURE ? 125000 : 20000;
		c[i].step = c[i].desc.type == VIREO_SENSOR_TEMPERATURE ? SYNTH_TEMP_HW : 1;
	}
}

static int synth_open(struct vireo_sensor *sensor, const struct vireo_params *params)
{
	const char *id = vireo_sensor_id(sensor);
	uint64_t interval, fan, channels;
	struct synth_board *b;
	int64_t cpu;
	bool writable, fail;
	int rc;

	rc = vireo_param_get_uint(params, "interval-ms", &interval);
	if (rc == 0)
		rc = vireo_param_get_int(params, "cpu-temp", &cpu);
	if (rc == 0)
		rc = vireo_param_get_uint(params, "fan-rpm", &fan);
	if (rc == 0)
		rc = vireo_param_get_uint(params, "channels", &channels);
	if (rc == 0)
		rc = vireo_param_get_bool(params, "writable", &writable);
	if (rc == 0)
		rc = vireo_param_get_bool(params, "fail-reads", &fail);
	if (rc < 0) {
		VIREO_ERR("%s: reading parameters: %s", id, strerror(-rc));
		return rc;
	}
	if (interval > VIREO_SENSOR_MAX_INTERVAL_MS || cpu < -40000 || cpu > 110000 ||
	    fan > 20000 || channels < 1 || channels > SYNTH_NCH) {
		VIREO_ERR("%s: interval-ms %llu (0-%u), cpu-temp %lld (-40000-110000), fan-rpm "
			  "%llu (0-20000), channels %llu (1-%d): out of range",
			  id, (unsigned long long)interval, VIREO_SENSOR_MAX_INTERVAL_MS,
			  (long long)cpu, (unsigned long long)fan, (unsigned long long)channels,
			  SYNTH_NCH);
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	synth_build(b, (uint32_t)interval, cpu, fan, writable);
	b->nch = (unsigned int)channels;
	b->fail_reads = fail;
	vireo_sensor_set_priv(sensor, b);
	VIREO_INFO("%s: %u synthetic channel(s), a new value every %llu ms", id, b->nch,
		   (unsigned long long)interval);
	return 0;
}

static void synth_close(struct vireo_sensor *sensor)
{
	free(vireo_sensor_priv(sensor));
	vireo_sensor_set_priv(sensor, NULL);
}

static int synth_get_channel(struct vireo_sensor *sensor, unsigned int index,
			     struct vireo_sensor_channel *ch)
{
	const struct synth_board *b = vireo_sensor_priv(sensor);
	uint32_t size = ch->struct_size;

	if (index >= b->nch)
		return -ENOENT;
	/* Copy no more than the core's struct holds: an older core has a shorter one. */
	memcpy(ch, &b->ch[index].desc, size < sizeof(*ch) ? size : sizeof(*ch));
	ch->struct_size = size;
	return 0;
}

/* A triangle wave: base, up to base + amplitude, down to base - amplitude, back. */
static int64_t synth_wave(const struct synth_chan *c, unsigned int n)
{
	int64_t q = SYNTH_PERIOD / 4, k = n % SYNTH_PERIOD;

	if (k < q)
		return c->base + c->amplitude * k / q;
	if (k < 3 * q)
		return c->base + c->amplitude * (2 * q - k) / q;
	return c->base + c->amplitude * (k - 4 * q) / q;
}

static int synth_read(struct vireo_sensor *sensor, unsigned int index, int64_t *value)
{
	struct synth_board *b = vireo_sensor_priv(sensor);
	struct synth_chan *c;

	if (index >= b->nch)
		return -EINVAL;
	if (b->fail_reads)
		return -EIO;
	c = &b->ch[index];
	if (c->desc.type == VIREO_SENSOR_POWER) /* P = U * I of the current channel's step */
		*value = synth_wave(&b->ch[3], c->reads) * SYNTH_SUPPLY * 1000;
	else
		*value = synth_wave(c, c->reads);
	c->reads++;
	return 0;
}

static int synth_set_threshold(struct vireo_sensor *sensor, unsigned int index, unsigned int which,
			       int64_t value)
{
	struct synth_board *b = vireo_sensor_priv(sensor);
	struct vireo_sensor_channel *d;
	struct synth_chan *c;
	int64_t lim[3];

	if (index >= b->nch || which > VIREO_SENSOR_CRIT)
		return -EINVAL;
	c = &b->ch[index];
	d = &c->desc;
	if (!(d->flags & VIREO_SENSOR_CH_WRITABLE) || !(d->flags & (1u << which)))
		return -EOPNOTSUPP;
	if (value < c->lo || value > c->hi)
		return -ERANGE;
	/* The limit registers hold multiples of step: round to the nearest, as chips do. */
	value = (value + (value < 0 ? -c->step : c->step) / 2) / c->step * c->step;
	lim[0] = d->min;
	lim[1] = d->max;
	lim[2] = d->crit;
	lim[which] = value;
	/* Keep min <= max <= crit among the limits the channel has. */
	for (unsigned int i = 0; i < 3; i++)
		for (unsigned int j = i + 1; j < 3; j++)
			if ((d->flags & (1u << i)) && (d->flags & (1u << j)) && lim[i] > lim[j])
				return -EINVAL;
	d->min = lim[0];
	d->max = lim[1];
	d->crit = lim[2];
	return 0;
}

static const struct vireo_sensor_ops synth_ops = {
	.struct_size = sizeof(struct vireo_sensor_ops),
	.open = synth_open,		      /* required */
	.get_channel = synth_get_channel,     /* required */
	.read = synth_read,		      /* required; the core's sensor thread */
	.close = synth_close,		      /* optional */
	.set_threshold = synth_set_threshold, /* optional: NULL would mean fixed limits */
};

static const struct vireo_match synth_match[] = {
	{ VIREO_MATCH_NAME("synth") }, /* `driver=synth` finds this driver too */
	{ 0 }			       /* sentinel */
};

VIREO_DRIVER(.name = "sensor-synth", .version = "1.0.0", .license = "MIT",
	     .description = "synthetic board sensors (SDK sample)", .dev_class = VIREO_CLASS_SENSOR,
	     .ops.sensor = &synth_ops, .match = synth_match, .params = synth_params);
