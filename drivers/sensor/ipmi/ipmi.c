// SPDX-License-Identifier: MIT
/*
 * sensor-ipmi: a BMC's sensors through the OpenIPMI kernel interface (/dev/ipmi0). At
 * open the driver walks the BMC's SDR repository (Get SDR Repository Info, Reserve SDR
 * Repository, Get SDR in partial reads, starting over on a lost reservation) and takes
 * each threshold-based sensor of a full or compact record whose unit the class has a type
 * for; readings come from Get Sensor Reading, converted with the record's linear
 * factors (ipmi_sdr.c), and limits from Get/Set Sensor Thresholds: lower non-critical is
 * min, upper non-critical max, upper critical crit. Sensors the BMC itself owns only:
 * those of satellite controllers would need IPMB bridging.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vireo/driver.h>
#include <vireo/log.h>
#include <vireo/params.h>
#include <vireo/sensor.h>

#include "ipmi_dev.h"
#include "ipmi_sdr.h"

#define BMC_ADDR	0x20 /* the BMC's IPMB slave address, owner of its own sensors */
#define SDR_CHUNK	16   /* bytes per Get SDR: fits every KCS/BT buffer */
#define SDR_RETRIES	8    /* reservations lost or BMC busy, per record */
#define SDR_MAX_RECORDS 4096 /* a loop guard: no BMC has more */

struct ipmi_chan {
	struct vireo_sensor_channel desc;
	struct sdr_sensor sdr;
	uint8_t lim_bit[3]; /* THR_ bit of min, max, crit; 0 if the channel lacks it */
	bool stale;	    /* a limit was set: reread them at the next get_channel */
};

struct ipmi_bmc {
	struct ipmi_dev dev;
	struct ipmi_chan ch[VIREO_SENSOR_MAX_CHANNELS];
	unsigned int n;
	uint8_t want[32]; /* sensor numbers to take (bitmap) */
	uint16_t reservation;
	bool compact;
	uint32_t interval;
};

static const struct vireo_param_decl ipmi_params[] = {
	{ VIREO_PARAM_STRING("device", "/dev/ipmi0", "the OpenIPMI device node") },
	{ VIREO_PARAM_STRING("sensors", "",
			     "sensor numbers to take, e.g. 1:4:0x10-0x1f; empty: all") },
	{ VIREO_PARAM_BOOL("compact", "on",
			   "take compact records (their byte is a whole number of the unit)") },
	{ VIREO_PARAM_UINT("interval-ms", "1000", "update interval of every channel") },
	{ VIREO_PARAM_UINT("timeout-ms", "5000", "how long to wait for the BMC's answer") },
	{ 0 } /* sentinel */
};

/* The limits in enum vireo_sensor_threshold order, as THR_ bits. */
static const uint8_t g_lim_thr[3] = { THR_LNC, THR_UNC, THR_UC };

static unsigned int thr_index(uint8_t bit)
{
	return (unsigned int)__builtin_ctz(bit);
}

/*
 * Parses "1:4:0x10-0x1f" into the bitmap (',' separates too, where no device string is
 * in the way); empty takes all. Return: 0 or -EINVAL.
 */
static int parse_filter(const char *spec, uint8_t *want)
{
	const char *p = spec;

	if (!*spec) {
		memset(want, 0xff, 32);
		return 0;
	}
	memset(want, 0, 32);
	while (*p) {
		char *end;
		unsigned long lo = strtoul(p, &end, 0), hi = lo;

		if (end == p)
			return -EINVAL;
		p = end;
		if (*p == '-') {
			hi = strtoul(++p, &end, 0);
			if (end == p)
				return -EINVAL;
			p = end;
		}
		if (lo > hi || hi > 255 || (*p && *p != ',' && *p != ':'))
			return -EINVAL;
		for (unsigned long i = lo; i <= hi; i++)
			want[i / 8] |= (uint8_t)(1u << (i % 8));
		if (*p == ',' || *p == ':')
			p++;
	}
	return 0;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int reserve(struct ipmi_bmc *b)
{
	uint8_t rsp[8];
	int n = ipmi_dev_cmd(&b->dev, 0, IPMI_NETFN_STORAGE, IPMI_CMD_RESERVE_SDR_REPO, NULL, 0,
			     rsp, sizeof(rsp));

	if (n < 0)
		return n;
	if (rsp[0] != IPMI_CC_OK || n < 3)
		return -EIO;
	b->reservation = (uint16_t)(rsp[1] | rsp[2] << 8);
	return 0;
}

/*
 * Reads record @rid into @rec (SDR_MAX_LEN bytes) in partial reads. Return: its length
 * with *next the following record's id, or -errno.
 */
static int read_record(struct ipmi_bmc *b, uint16_t rid, uint8_t *rec, uint16_t *next)
{
	unsigned int chunk = SDR_CHUNK, retries = 0;
	size_t off = 0, len = SDR_HEADER_LEN;

	while (off < len) {
		uint8_t rsp[3 + SDR_CHUNK + 1];
		unsigned int want =
			(unsigned int)(len - off) < chunk ? (unsigned int)(len - off) : chunk;
		const uint8_t req[6] = { (uint8_t)b->reservation,
					 (uint8_t)(b->reservation >> 8),
					 (uint8_t)rid,
					 (uint8_t)(rid >> 8),
					 (uint8_t)off,
					 (uint8_t)want };
		int n;

		if (off > 0xff) /* the offset is one byte: no record is that long */
			return -EIO;
		n = ipmi_dev_cmd(&b->dev, 0, IPMI_NETFN_STORAGE, IPMI_CMD_GET_SDR, req, sizeof(req),
				 rsp, sizeof(rsp));
		if (n < 0)
			return n;
		if (rsp[0] == IPMI_CC_RESERVATION || rsp[0] == IPMI_CC_NODE_BUSY) {
			/* The repository changed (or the BMC is busy): reserve again, start over.
			 */
			if (++retries > SDR_RETRIES)
				return -EBUSY;
			if (rsp[0] == IPMI_CC_NODE_BUSY)
				sleep_ms(100);
			n = reserve(b);
			if (n < 0)
				return n;
			off = 0;
			len = SDR_HEADER_LEN;
			continue;
		}
		if (rsp[0] == IPMI_CC_CANT_RETURN_BYTES && chunk > 1) {
			chunk /= 2; /* a smaller buffer than the spec's minimum; go slower */
			continue;
		}
		if (rsp[0] != IPMI_CC_OK)
			return rsp[0] == IPMI_CC_NOT_PRESENT ? -ENOENT : -EIO;
		if (n < 4 || (unsigned int)(n - 3) > want)
			return -EIO;
		*next = (uint16_t)(rsp[1] | rsp[2] << 8);
		memcpy(rec + off, rsp + 3, (size_t)n - 3);
		off += (size_t)n - 3;
		if (len == SDR_HEADER_LEN && off >= SDR_HEADER_LEN)
			len = SDR_HEADER_LEN + rec[4];
	}
	return (int)len;
}

/* Makes @label unique among the channels so far with "#2", "#3", ... */
static void set_label(struct ipmi_bmc *b, struct ipmi_chan *c)
{
	char base[VIREO_SENSOR_LABEL_MAX + 1];

	if (c->sdr.id[0])
		snprintf(base, sizeof(base), "%s", c->sdr.id);
	else
		snprintf(base, sizeof(base), "sensor-0x%02x", c->sdr.number);
	snprintf(c->desc.label, sizeof(c->desc.label), "%s", base);
	for (unsigned int k = 2;; k++) {
		bool dup = false;

		for (unsigned int i = 0; i < b->n && !dup; i++)
			dup = strcmp(b->ch[i].desc.label, c->desc.label) == 0;
		if (!dup)
			return;
		snprintf(c->desc.label, sizeof(c->desc.label), "%.*s#%u",
			 (int)(VIREO_SENSOR_LABEL_MAX - 4), base, k);
	}
}

/* The six raw thresholds by THR_ bit index, and which of them hold values. */
static int get_thresholds(struct ipmi_bmc *b, const struct sdr_sensor *s, uint8_t raw[6],
			  uint8_t *have)
{
	uint8_t rsp[8];
	int n;

	if (s->access == SDR_THR_FIXED) {
		memcpy(raw, s->fixed, 6);
		*have = s->readable;
		return 0;
	}
	n = ipmi_dev_cmd(&b->dev, s->owner_lun, IPMI_NETFN_SE, IPMI_CMD_GET_THRESHOLDS, &s->number,
			 1, rsp, sizeof(rsp));
	if (n < 0)
		return n;
	if (rsp[0] != IPMI_CC_OK || n < 8)
		return -EIO;
	memcpy(raw, rsp + 2, 6);
	*have = rsp[1] & 0x3f;
	return 0;
}

/*
 * Fills the channel's limits. The first call (at open) decides which it has: those the
 * BMC reports, less any that break min <= max <= crit (crit wins, then max); later calls
 * only refresh their values, so the flags stay as the core first saw them.
 */
static int load_limits(struct ipmi_bmc *b, struct ipmi_chan *c, bool first)
{
	struct vireo_sensor_channel *d = &c->desc;
	int64_t v[3] = { 0, 0, 0 };
	uint8_t raw[6], have = 0;
	uint32_t flags = 0;
	int rc;

	if (c->sdr.access == SDR_THR_NONE)
		return 0;
	rc = get_thresholds(b, &c->sdr, raw, &have);
	if (rc < 0)
		return rc;
	for (unsigned int i = 0; i < 3; i++) {
		uint8_t bit = first ? g_lim_thr[i] : c->lim_bit[i];

		if (bit && (have & bit) && sdr_convert(&c->sdr, raw[thr_index(bit)], &v[i]) == 0)
			flags |= 1u << i;
	}
	if (!first) {
		d->min = d->flags & VIREO_SENSOR_CH_MIN ? v[0] : 0;
		d->max = d->flags & VIREO_SENSOR_CH_MAX ? v[1] : 0;
		d->crit = d->flags & VIREO_SENSOR_CH_CRIT ? v[2] : 0;
		return (flags & 7) == (d->flags & 7) ? 0 : -EIO;
	}
	if ((flags & VIREO_SENSOR_CH_MAX) && (flags & VIREO_SENSOR_CH_CRIT) && v[1] > v[2])
		flags &= ~VIREO_SENSOR_CH_MAX;
	if ((flags & VIREO_SENSOR_CH_MIN) && (((flags & VIREO_SENSOR_CH_MAX) && v[0] > v[1]) ||
					      ((flags & VIREO_SENSOR_CH_CRIT) && v[0] > v[2])))
		flags &= ~VIREO_SENSOR_CH_MIN;
	for (unsigned int i = 0; i < 3; i++) {
		c->lim_bit[i] = flags & (1u << i) ? g_lim_thr[i] : 0;
		if (c->sdr.access == SDR_THR_SETTABLE && (c->sdr.settable & c->lim_bit[i]))
			flags |= VIREO_SENSOR_CH_WRITABLE;
	}
	d->flags = flags;
	d->min = flags & VIREO_SENSOR_CH_MIN ? v[0] : 0;
	d->max = flags & VIREO_SENSOR_CH_MAX ? v[1] : 0;
	d->crit = flags & VIREO_SENSOR_CH_CRIT ? v[2] : 0;
	return 0;
}

static const char *const g_fmt_name[] = { "unsigned", "1's complement", "2's complement", "none" };
static const char *const g_access_name[] = { "none", "readable", "settable", "fixed" };

/* Decodes one record and, if the driver takes it, appends a channel. */
static void take_record(struct ipmi_bmc *b, const uint8_t *rec, size_t len)
{
	struct ipmi_chan *c = &b->ch[b->n];
	const char *why;
	int rc;

	rc = sdr_decode(rec, len, &c->sdr, &why);
	if (rc < 0) {
		VIREO_WARN("%s: SDR record 0x%04x is malformed (type 0x%02x, %zu bytes); skipped",
			   b->dev.id, (unsigned int)(rec[0] | rec[1] << 8), rec[3], len);
		return;
	}
	if (rc == SDR_SKIP_TYPE)
		return; /* locators, OEM and the like: not sensors */
	if (!(b->want[c->sdr.number / 8] & (1u << (c->sdr.number % 8))))
		return;
	if (rc > 0) {
		VIREO_INFO("%s: sensor 0x%02x '%s' skipped: %s", b->dev.id, c->sdr.number,
			   c->sdr.id, why);
		return;
	}
	if (c->sdr.record_type == SDR_TYPE_COMPACT && !b->compact) {
		VIREO_INFO("%s: sensor 0x%02x '%s' skipped: a compact record (compact=off)",
			   b->dev.id, c->sdr.number, c->sdr.id);
		return;
	}
	if (c->sdr.owner_id != BMC_ADDR || (c->sdr.owner_lun >> 4) != 0) {
		VIREO_INFO("%s: sensor 0x%02x '%s' skipped: owned by 0x%02x on channel %u, not "
			   "the BMC",
			   b->dev.id, c->sdr.number, c->sdr.id, c->sdr.owner_id,
			   c->sdr.owner_lun >> 4);
		return;
	}
	if (b->n == VIREO_SENSOR_MAX_CHANNELS) {
		VIREO_WARN("%s: sensor 0x%02x '%s' skipped: more than %d sensors", b->dev.id,
			   c->sdr.number, c->sdr.id, VIREO_SENSOR_MAX_CHANNELS);
		return;
	}
	c->desc.type = c->sdr.vtype;
	c->desc.update_interval_ms = b->interval;
	set_label(b, c);
	rc = load_limits(b, c, true);
	if (rc < 0) {
		VIREO_WARN("%s: sensor 0x%02x '%s': reading its thresholds: %s; no limits",
			   b->dev.id, c->sdr.number, c->sdr.id, strerror(-rc));
		c->desc.flags = 0;
		c->sdr.access = SDR_THR_NONE;
	}
	VIREO_INFO("%s: sensor 0x%02x '%s' (%s record): M=%d B=%d K1=%d K2=%d %s, unit %u, "
		   "thresholds %s",
		   b->dev.id, c->sdr.number, c->desc.label,
		   c->sdr.record_type == SDR_TYPE_FULL ? "full" : "compact", c->sdr.m, c->sdr.b,
		   c->sdr.k1, c->sdr.k2, g_fmt_name[c->sdr.format], c->sdr.base_unit,
		   g_access_name[c->sdr.access]);
	b->n++;
}

static int walk_sdrs(struct ipmi_bmc *b)
{
	uint8_t rsp[16], rec[SDR_MAX_LEN];
	uint16_t rid = 0, next = 0;
	unsigned int count, seen = 0;
	int n;

	n = ipmi_dev_cmd(&b->dev, 0, IPMI_NETFN_STORAGE, IPMI_CMD_GET_SDR_REPO_INFO, NULL, 0, rsp,
			 sizeof(rsp));
	if (n < 0)
		return n;
	if (rsp[0] != IPMI_CC_OK || n < 4) {
		VIREO_ERR("%s: Get SDR Repository Info failed (completion code 0x%02x)", b->dev.id,
			  rsp[0]);
		return -EIO;
	}
	count = rsp[2] | rsp[3] << 8;
	VIREO_INFO("%s: SDR repository version 0x%02x, %u record(s)", b->dev.id, rsp[1], count);
	if (count == 0)
		return 0;
	n = reserve(b);
	if (n < 0)
		return n;
	/* Follow the chain from the first record to 0xffff; never more than it said, plus slack. */
	while (seen++ < count + 16 && seen <= SDR_MAX_RECORDS) {
		n = read_record(b, rid, rec, &next);
		if (n < 0) {
			VIREO_ERR("%s: reading SDR record 0x%04x: %s", b->dev.id, rid,
				  strerror(-n));
			return n;
		}
		take_record(b, rec, (size_t)n);
		if (next == 0xffff || next == rid)
			return 0;
		rid = next;
	}
	VIREO_WARN("%s: the SDR chain did not end after %u records; stopped", b->dev.id, seen - 1);
	return 0;
}

static int ipmi_open(struct vireo_sensor *sensor, const struct vireo_params *params)
{
	const char *id = vireo_sensor_id(sensor), *path, *filter;
	uint64_t interval, timeout;
	struct ipmi_bmc *b;
	int rc;

	rc = vireo_param_get_string(params, "device", &path);
	if (rc == 0)
		rc = vireo_param_get_string(params, "sensors", &filter);
	if (rc == 0)
		rc = vireo_param_get_uint(params, "interval-ms", &interval);
	if (rc == 0)
		rc = vireo_param_get_uint(params, "timeout-ms", &timeout);
	if (rc < 0) {
		VIREO_ERR("%s: reading parameters: %s", id, strerror(-rc));
		return rc;
	}
	if (interval > VIREO_SENSOR_MAX_INTERVAL_MS || timeout < 10 || timeout > 60000) {
		VIREO_ERR("%s: interval-ms %llu (0-%u) or timeout-ms %llu (10-60000) out of range",
			  id, (unsigned long long)interval, VIREO_SENSOR_MAX_INTERVAL_MS,
			  (unsigned long long)timeout);
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->interval = (uint32_t)interval;
	if (parse_filter(filter, b->want) < 0) {
		VIREO_ERR("%s: sensors='%s': want numbers 0-255 and ranges, ':'-separated", id,
			  filter);
		free(b);
		return -EINVAL;
	}
	rc = vireo_param_get_bool(params, "compact", &b->compact);
	if (rc == 0)
		rc = ipmi_dev_open(&b->dev, path, (unsigned int)timeout, id);
	if (rc < 0) {
		free(b);
		return rc;
	}
	rc = walk_sdrs(b);
	if (rc == 0 && b->n == 0) {
		VIREO_ERR("%s: the BMC behind %s has no sensor this driver can read", id, path);
		rc = -ENODEV;
	}
	if (rc < 0) {
		ipmi_dev_close(&b->dev);
		free(b);
		return rc;
	}
	vireo_sensor_set_priv(sensor, b);
	VIREO_INFO("%s: %u sensor(s) of the BMC behind %s", id, b->n, path);
	return 0;
}

static void ipmi_close(struct vireo_sensor *sensor)
{
	struct ipmi_bmc *b = vireo_sensor_priv(sensor);

	ipmi_dev_close(&b->dev);
	free(b);
	vireo_sensor_set_priv(sensor, NULL);
}

static int ipmi_get_channel(struct vireo_sensor *sensor, unsigned int index,
			    struct vireo_sensor_channel *ch)
{
	struct ipmi_bmc *b = vireo_sensor_priv(sensor);
	uint32_t size = ch->struct_size;
	struct ipmi_chan *c;

	if (index >= b->n)
		return -ENOENT;
	c = &b->ch[index];
	if (c->stale) {
		int rc = load_limits(b, c, false);

		if (rc < 0)
			return rc;
		c->stale = false;
	}
	/* Copy no more than the core's struct holds: an older core has a shorter one. */
	memcpy(ch, &c->desc, size < sizeof(*ch) ? size : sizeof(*ch));
	ch->struct_size = size;
	return 0;
}

/* Reading-byte flags of Get Sensor Reading. */
#define READING_SCANNING    0x40 /* 0: scanning disabled */
#define READING_UNAVAILABLE 0x20

static int ipmi_read(struct vireo_sensor *sensor, unsigned int index, int64_t *value)
{
	struct ipmi_bmc *b = vireo_sensor_priv(sensor);
	const struct sdr_sensor *s;
	uint8_t rsp[8];
	int n;

	if (index >= b->n)
		return -EINVAL;
	s = &b->ch[index].sdr;
	n = ipmi_dev_cmd(&b->dev, s->owner_lun, IPMI_NETFN_SE, IPMI_CMD_GET_SENSOR_READING,
			 &s->number, 1, rsp, sizeof(rsp));
	if (n < 0)
		return n;
	if (rsp[0] == IPMI_CC_NODE_BUSY || rsp[0] == IPMI_CC_UNAVAILABLE)
		return -EAGAIN;
	if (rsp[0] != IPMI_CC_OK || n < 3)
		return -EIO;
	/* No reading yet: the sensor is not scanning, or says its value is unavailable. */
	if (!(rsp[2] & READING_SCANNING) || (rsp[2] & READING_UNAVAILABLE))
		return -EAGAIN;
	return sdr_convert(s, rsp[1], value) < 0 ? -EIO : 0;
}

static int ipmi_set_threshold(struct vireo_sensor *sensor, unsigned int index, unsigned int which,
			      int64_t value)
{
	struct ipmi_bmc *b = vireo_sensor_priv(sensor);
	uint8_t req[8] = { 0 }, rsp[4], raw, bit;
	struct ipmi_chan *c;
	int n;

	if (index >= b->n || which > VIREO_SENSOR_CRIT)
		return -EINVAL;
	c = &b->ch[index];
	bit = c->lim_bit[which];
	if (!(c->desc.flags & VIREO_SENSOR_CH_WRITABLE) || !bit || !(c->sdr.settable & bit))
		return -EOPNOTSUPP;
	if (sdr_unconvert(&c->sdr, value, &raw) < 0)
		return -ERANGE;
	/* Number, the mask of thresholds to set, then LNC, LC, LNR, UNC, UC, UNR. */
	req[0] = c->sdr.number;
	req[1] = bit;
	req[2 + thr_index(bit)] = raw;
	n = ipmi_dev_cmd(&b->dev, c->sdr.owner_lun, IPMI_NETFN_SE, IPMI_CMD_SET_THRESHOLDS, req,
			 sizeof(req), rsp, sizeof(rsp));
	c->stale = true; /* whatever happened, the next get_channel asks the BMC */
	if (n < 0)
		return n;
	switch (rsp[0]) {
	case IPMI_CC_OK:
		return 0;
	case IPMI_CC_OUT_OF_RANGE:
		return -ERANGE;
	case IPMI_CC_INVALID_DATA:
	case IPMI_CC_ILLEGAL_CMD:
		return -EINVAL;
	default:
		VIREO_WARN("%s: Set Sensor Thresholds of sensor 0x%02x: completion code 0x%02x",
			   b->dev.id, c->sdr.number, rsp[0]);
		return -EIO;
	}
}

static const struct vireo_sensor_ops ipmi_ops = {
	.struct_size = sizeof(struct vireo_sensor_ops),
	.open = ipmi_open,
	.get_channel = ipmi_get_channel,
	.read = ipmi_read,
	.close = ipmi_close,
	.set_threshold = ipmi_set_threshold,
};

static const struct vireo_match ipmi_match[] = {
	{ VIREO_MATCH_NAME("ipmi") }, /* `driver=ipmi` finds this driver too */
	{ 0 }			      /* sentinel */
};

VIREO_DRIVER(.name = "sensor-ipmi", .version = "1.0.0", .license = "MIT",
	     .description = "a BMC's sensors over the OpenIPMI kernel interface (SDR, IPMI 2.0)",
	     .dev_class = VIREO_CLASS_SENSOR, .ops.sensor = &ipmi_ops, .match = ipmi_match,
	     .params = ipmi_params);
