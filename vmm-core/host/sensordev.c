// SPDX-License-Identifier: MIT
/*
 * Sensor driver instances (see sensordev.h): channel checks, the sensor thread and its
 * per-channel cadence, the cache, thresholds, and the process-wide list that device
 * models look channels up in. What <vireo/sensor.h> promises a driver, and demands of
 * it, is enforced here.
 */
#include "host/sensordev.h"
#include "host/instance.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/internal.h"

#define NS_PER_MS 1000000ull

struct hs_chan {
	struct vireo_sensor_channel desc; /* checked copy; limits as last read back */
	uint64_t next_ns;		  /* when the thread reads it next */
	struct host_sensor_reading r;
};

struct host_sensor {
	struct vireo_sensor handle; /* what the driver sees */
	struct host_driver *drv;
	const struct vireo_sensor_ops *ops; /* the core's checked copy */
	const char *name;		    /* the driver's */
	char *id;
	struct vireo_params *params;
	unsigned int nch;
	struct hs_chan ch[VIREO_SENSOR_MAX_CHANNELS];
	pthread_mutex_t op_lock; /* protects: every call into the driver */
	pthread_mutex_t lock;	 /* protects: ch[].desc limits, ch[].r, stop, closed */
	pthread_cond_t wake;	 /* with lock: stop was set */
	pthread_t thread;
	bool thread_started;
	bool stop;
	bool closed;
	atomic_uint refs;	  /* the core's (until close) plus each host_sensor_ref */
	struct host_sensor *next; /* in g_sensors while started and not closed */
};

/* Started instances, for host_sensor_ref_get(). */
static pthread_mutex_t g_sensors_lock = PTHREAD_MUTEX_INITIALIZER; /* protects: g_sensors */
static struct host_sensor *g_sensors;

static struct vireo_ratelimit g_sensordev_rl = VIREO_RATELIMIT_INIT(5000, 5);

static const char *const g_refusal_names[HOST_SENSOR_REFUSAL_MAX] = {
	[HOST_SENSOR_OK] = "ok",
	[HOST_SENSOR_BAD_TYPE] = "bad-type",
	[HOST_SENSOR_BAD_LABEL] = "bad-label",
	[HOST_SENSOR_DUP_LABEL] = "duplicate-label",
	[HOST_SENSOR_BAD_FLAGS] = "bad-flags",
	[HOST_SENSOR_BAD_LIMITS] = "bad-limits",
	[HOST_SENSOR_BAD_INTERVAL] = "bad-interval",
	[HOST_SENSOR_TOO_MANY] = "too-many-channels",
	[HOST_SENSOR_NO_CHANNELS] = "no-channels",
};

/* Per type: name, unit and the plausible range of a reading (see host_sensor_plausible). */
static const struct {
	const char *name;
	const char *unit;
	int64_t lo, hi;
} g_types[] = {
	[VIREO_SENSOR_TEMPERATURE] = { "temperature", "mC", -273150, 2000000 }, /* to 2000 C */
	[VIREO_SENSOR_VOLTAGE] = { "voltage", "mV", -1000000000, 1000000000 },	/* +-1 MV */
	[VIREO_SENSOR_CURRENT] = { "current", "mA", -1000000000, 1000000000 },	/* +-1 MA */
	[VIREO_SENSOR_POWER] = { "power", "uW", 0, 1000000000000000 },		/* to 1 GW */
	[VIREO_SENSOR_FAN] = { "fan", "RPM", 0, 1000000 },
};

#define HS_NTYPES (sizeof(g_types) / sizeof(g_types[0]))

const char *host_sensor_refusal_name(enum host_sensor_refusal reason)
{
	if ((unsigned int)reason >= HOST_SENSOR_REFUSAL_MAX)
		return "?";
	return g_refusal_names[reason];
}

const char *host_sensor_type_name(uint32_t type)
{
	return type && type < HS_NTYPES ? g_types[type].name : "?";
}

const char *host_sensor_unit(uint32_t type)
{
	return type && type < HS_NTYPES ? g_types[type].unit : "?";
}

const char *host_sensor_threshold_name(unsigned int which)
{
	static const char *const names[] = { "min", "max", "crit" };

	return which < 3 ? names[which] : "?";
}

bool host_sensor_plausible(uint32_t type, int64_t value)
{
	if (!type || type >= HS_NTYPES)
		return false;
	return value >= g_types[type].lo && value <= g_types[type].hi;
}

static enum host_sensor_refusal hs_refuse(enum host_sensor_refusal r, char *why, size_t len,
					  const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum host_sensor_refusal hs_refuse(enum host_sensor_refusal r, char *why, size_t len,
					  const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return r;
}

enum host_sensor_refusal host_sensor_check_channel(const struct vireo_sensor_channel *ch, char *why,
						   size_t len)
{
	const uint32_t limits = VIREO_SENSOR_CH_MIN | VIREO_SENSOR_CH_MAX | VIREO_SENSOR_CH_CRIT;
	const uint32_t known = limits | VIREO_SENSOR_CH_WRITABLE;
	const char *nul = memchr(ch->label, '\0', sizeof(ch->label));
	uint32_t f = ch->flags;

	if (!ch->type || ch->type >= HS_NTYPES)
		return hs_refuse(HOST_SENSOR_BAD_TYPE, why, len, "type %u; known 1 to %zu",
				 ch->type, HS_NTYPES - 1);
	if (!nul)
		return hs_refuse(HOST_SENSOR_BAD_LABEL, why, len,
				 "label not NUL-terminated within %d bytes",
				 VIREO_SENSOR_LABEL_MAX + 1);
	if (nul == ch->label)
		return hs_refuse(HOST_SENSOR_BAD_LABEL, why, len, "empty label");
	for (const char *c = ch->label; c < nul; c++)
		if (*c < 0x20 || *c > 0x7e)
			return hs_refuse(HOST_SENSOR_BAD_LABEL, why, len,
					 "label byte %zu is 0x%02x, not printable ASCII",
					 (size_t)(c - ch->label), (unsigned char)*c);
	if (f & ~known)
		return hs_refuse(HOST_SENSOR_BAD_FLAGS, why, len, "flags 0x%x; known 0x%x", f,
				 known);
	if ((f & VIREO_SENSOR_CH_WRITABLE) && !(f & limits))
		return hs_refuse(HOST_SENSOR_BAD_FLAGS, why, len, "writable without a limit");
	if (((f & VIREO_SENSOR_CH_MIN) && (f & VIREO_SENSOR_CH_MAX) && ch->min > ch->max) ||
	    ((f & VIREO_SENSOR_CH_MAX) && (f & VIREO_SENSOR_CH_CRIT) && ch->max > ch->crit) ||
	    ((f & VIREO_SENSOR_CH_MIN) && (f & VIREO_SENSOR_CH_CRIT) && ch->min > ch->crit))
		return hs_refuse(HOST_SENSOR_BAD_LIMITS, why, len,
				 "limits min %lld, max %lld, crit %lld (flags 0x%x) not ordered "
				 "min <= max <= crit",
				 (long long)ch->min, (long long)ch->max, (long long)ch->crit, f);
	if (ch->update_interval_ms > VIREO_SENSOR_MAX_INTERVAL_MS)
		return hs_refuse(HOST_SENSOR_BAD_INTERVAL, why, len,
				 "update_interval_ms %u above %u", ch->update_interval_ms,
				 VIREO_SENSOR_MAX_INTERVAL_MS);
	return HOST_SENSOR_OK;
}

static uint64_t hs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t hs_period_ms(const struct vireo_sensor_channel *ch)
{
	if (!ch->update_interval_ms)
		return HOST_SENSOR_DEFAULT_PERIOD_MS;
	return ch->update_interval_ms < HOST_SENSOR_MIN_PERIOD_MS ? HOST_SENSOR_MIN_PERIOD_MS
								  : ch->update_interval_ms;
}

/* Asks the driver for channel @index and checks it; zeroes the limits it lacks. */
static int hs_describe(struct host_sensor *hs, unsigned int index, struct vireo_sensor_channel *ch,
		       enum host_sensor_refusal *reason, char *why, size_t len)
{
	int rc;

	memset(ch, 0, sizeof(*ch));
	ch->struct_size = sizeof(*ch);
	pthread_mutex_lock(&hs->op_lock);
	rc = hs->ops->get_channel(&hs->handle, index, ch);
	pthread_mutex_unlock(&hs->op_lock);
	rc = host_driver_rc(&g_sensordev_rl, hs->name, hs->id, "get_channel", rc);
	*reason = HOST_SENSOR_OK;
	if (rc < 0)
		return rc;
	ch->struct_size = sizeof(*ch);
	*reason = host_sensor_check_channel(ch, why, len);
	if (*reason != HOST_SENSOR_OK)
		return -EINVAL;
	if (!(ch->flags & VIREO_SENSOR_CH_MIN))
		ch->min = 0;
	if (!(ch->flags & VIREO_SENSOR_CH_MAX))
		ch->max = 0;
	if (!(ch->flags & VIREO_SENSOR_CH_CRIT))
		ch->crit = 0;
	return 0;
}

/* Enumerates and checks every channel; @err names the first problem. */
static int hs_enumerate(struct host_sensor *hs, char *err, size_t errlen)
{
	enum host_sensor_refusal reason;
	char why[256];
	unsigned int i;
	int rc;

	for (i = 0; i <= VIREO_SENSOR_MAX_CHANNELS; i++) {
		struct vireo_sensor_channel ch;

		rc = hs_describe(hs, i, &ch, &reason, why, sizeof(why));
		if (rc == -ENOENT && reason == HOST_SENSOR_OK)
			break;
		if (i == VIREO_SENSOR_MAX_CHANNELS)
			return host_fail(err, errlen, -EINVAL,
					 "driver '%s' device '%s': bad channel (%s): more than %d",
					 hs->name, hs->id,
					 host_sensor_refusal_name(HOST_SENSOR_TOO_MANY),
					 VIREO_SENSOR_MAX_CHANNELS);
		if (reason != HOST_SENSOR_OK)
			return host_fail(err, errlen, -EINVAL,
					 "driver '%s' device '%s': bad channel %u (%s): %s",
					 hs->name, hs->id, i, host_sensor_refusal_name(reason),
					 why);
		if (rc < 0)
			return host_fail(err, errlen, rc,
					 "driver '%s' device '%s': get_channel(%u) failed: %s",
					 hs->name, hs->id, i, strerror(-rc));
		for (unsigned int j = 0; j < i; j++)
			if (strcmp(hs->ch[j].desc.label, ch.label) == 0)
				return host_fail(err, errlen, -EINVAL,
						 "driver '%s' device '%s': bad channel %u (%s): "
						 "label '%s' is channel %u's too",
						 hs->name, hs->id, i,
						 host_sensor_refusal_name(HOST_SENSOR_DUP_LABEL),
						 ch.label, j);
		hs->ch[i].desc = ch;
		hs->ch[i].r.period_ms = hs_period_ms(&ch);
	}
	if (i == 0)
		return host_fail(err, errlen, -EINVAL, "driver '%s' device '%s': %s", hs->name,
				 hs->id, host_sensor_refusal_name(HOST_SENSOR_NO_CHANNELS));
	hs->nch = i;
	return 0;
}

static void hs_free(struct host_sensor *hs)
{
	pthread_cond_destroy(&hs->wake);
	pthread_mutex_destroy(&hs->lock);
	pthread_mutex_destroy(&hs->op_lock);
	free(hs);
}

static void hs_unref(struct host_sensor *hs)
{
	if (atomic_fetch_sub(&hs->refs, 1) == 1)
		hs_free(hs);
}

int host_sensor_open(struct host_driver *drv, const char *id, const char *const *keys,
		     const char *const *values, size_t nparams, struct host_sensor **out, char *err,
		     size_t errlen)
{
	const struct host_checked *info = host_driver_info(drv);
	pthread_condattr_t ca;
	struct host_sensor *hs;
	int rc;

	*out = NULL;
	if (!id || !*id)
		return host_fail(err, errlen, -EINVAL, "driver '%s': need a device id",
				 info->desc.name);
	hs = calloc(1, sizeof(*hs));
	if (!hs)
		return -ENOMEM;
	pthread_mutex_init(&hs->op_lock, NULL);
	pthread_mutex_init(&hs->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&hs->wake, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&hs->refs, 1);
	rc = host_instance_get(drv, VIREO_CLASS_SENSOR, id, keys, values, nparams, &hs->id,
			       &hs->params, err, errlen);
	if (rc < 0)
		goto out_free_hs;
	hs->drv = drv;
	hs->ops = &info->ops.sensor;
	hs->name = info->desc.name;
	hs->handle = (struct vireo_sensor){ .id = hs->id };
	rc = host_driver_rc(&g_sensordev_rl, hs->name, hs->id, "open",
			    hs->ops->open(&hs->handle, hs->params));
	if (rc < 0) {
		host_fail(err, errlen, rc, "driver '%s' device '%s': open failed: %s", hs->name, id,
			  strerror(-rc));
		goto out_put_instance;
	}
	rc = hs_enumerate(hs, err, errlen);
	if (rc < 0)
		goto out_close_driver;
	vireo_log(VIREO_LOG_INFO, HOST_LOG_TAG, "device '%s': driver '%s', %u sensor channel(s)",
		  id, hs->name, hs->nch);
	*out = hs;
	return 0;

out_close_driver:
	if (hs->ops->close)
		hs->ops->close(&hs->handle);
out_put_instance:
	host_instance_put(drv, hs->id, hs->params);
out_free_hs:
	hs_free(hs);
	return rc;
}

/* Reads channel @i from the driver and caches the outcome. */
static void hs_read_one(struct host_sensor *hs, unsigned int i, uint64_t now_ns)
{
	struct hs_chan *c = &hs->ch[i];
	int64_t value = 0;
	int rc;

	pthread_mutex_lock(&hs->op_lock);
	rc = hs->ops->read(&hs->handle, i, &value);
	pthread_mutex_unlock(&hs->op_lock);
	rc = host_driver_rc(&g_sensordev_rl, hs->name, hs->id, "read", rc);
	if (rc == 0 && !host_sensor_plausible(c->desc.type, value)) {
		vireo_log_ratelimited(&g_sensordev_rl, VIREO_LOG_WARN, HOST_LOG_TAG,
				      "driver '%s' device '%s': channel %u '%s' read %lld %s, "
				      "not a possible %s: dropped",
				      hs->name, hs->id, i, c->desc.label, (long long)value,
				      host_sensor_unit(c->desc.type),
				      host_sensor_type_name(c->desc.type));
		rc = -ERANGE;
	}
	pthread_mutex_lock(&hs->lock);
	c->r.reads++;
	c->r.error = rc;
	if (rc == 0) {
		c->r.valid = true;
		c->r.value = value;
		c->r.timestamp_ns = now_ns;
	} else if (rc != -EAGAIN) {
		c->r.errors++;
	}
	pthread_mutex_unlock(&hs->lock);
}

unsigned int host_sensor_poll(struct host_sensor *hs, uint64_t now_ns, uint64_t *next_ns)
{
	uint64_t next = UINT64_MAX;
	unsigned int n = 0;

	for (unsigned int i = 0; i < hs->nch; i++) {
		struct hs_chan *c = &hs->ch[i];

		if (c->next_ns <= now_ns) {
			hs_read_one(hs, i, now_ns);
			c->next_ns = now_ns + (uint64_t)c->r.period_ms * NS_PER_MS;
			n++;
		}
		if (c->next_ns < next)
			next = c->next_ns;
	}
	if (next_ns)
		*next_ns = next;
	return n;
}

static void *hs_thread(void *arg)
{
	struct host_sensor *hs = arg;
	uint64_t next;

	for (;;) {
		struct timespec ts;

		host_sensor_poll(hs, hs_now_ns(), &next);
		ts.tv_sec = (time_t)(next / 1000000000ull);
		ts.tv_nsec = (long)(next % 1000000000ull);
		pthread_mutex_lock(&hs->lock);
		while (!hs->stop && hs_now_ns() < next)
			if (pthread_cond_timedwait(&hs->wake, &hs->lock, &ts) == ETIMEDOUT)
				break;
		if (hs->stop) {
			pthread_mutex_unlock(&hs->lock);
			return NULL;
		}
		pthread_mutex_unlock(&hs->lock);
	}
}

int host_sensor_start(struct host_sensor *hs)
{
	int rc = -pthread_create(&hs->thread, NULL, hs_thread, hs);

	if (rc < 0)
		return rc;
	hs->thread_started = true;
	pthread_mutex_lock(&g_sensors_lock);
	hs->next = g_sensors;
	g_sensors = hs;
	pthread_mutex_unlock(&g_sensors_lock);
	return 0;
}

void host_sensor_close(struct host_sensor *hs)
{
	if (!hs)
		return;
	pthread_mutex_lock(&g_sensors_lock);
	for (struct host_sensor **pp = &g_sensors; *pp; pp = &(*pp)->next) {
		if (*pp == hs) {
			*pp = hs->next;
			break;
		}
	}
	pthread_mutex_unlock(&g_sensors_lock);
	if (hs->thread_started) {
		pthread_mutex_lock(&hs->lock);
		hs->stop = true;
		pthread_cond_signal(&hs->wake);
		pthread_mutex_unlock(&hs->lock);
		pthread_join(hs->thread, NULL);
	}
	if (hs->ops->close)
		hs->ops->close(&hs->handle);
	pthread_mutex_lock(&hs->lock);
	hs->closed = true;
	pthread_mutex_unlock(&hs->lock);
	vireo_log(VIREO_LOG_INFO, HOST_LOG_TAG, "device '%s': sensor closed", hs->id);
	host_instance_put(hs->drv, hs->id, hs->params);
	hs->id = NULL;
	hs->params = NULL;
	hs_unref(hs);
}

const char *host_sensor_id(const struct host_sensor *hs)
{
	return hs->id ? hs->id : "?";
}

const char *host_sensor_driver(const struct host_sensor *hs)
{
	return hs->name;
}

unsigned int host_sensor_num_channels(const struct host_sensor *hs)
{
	return hs->nch;
}

int host_sensor_channel(struct host_sensor *hs, unsigned int index,
			struct vireo_sensor_channel *out)
{
	if (index >= hs->nch)
		return -ENOENT;
	pthread_mutex_lock(&hs->lock);
	*out = hs->ch[index].desc;
	pthread_mutex_unlock(&hs->lock);
	return 0;
}

int host_sensor_find(struct host_sensor *hs, const char *name)
{
	char *end;
	unsigned long n;

	/* Labels never change after open (a read-back must keep them), so no lock. */
	for (unsigned int i = 0; i < hs->nch; i++)
		if (strcmp(hs->ch[i].desc.label, name) == 0)
			return (int)i;
	if (*name < '0' || *name > '9')
		return -ENOENT;
	errno = 0;
	n = strtoul(name, &end, 10);
	if (errno || *end || n >= hs->nch)
		return -ENOENT;
	return (int)n;
}

int host_sensor_get(struct host_sensor *hs, unsigned int index, struct host_sensor_reading *out)
{
	if (index >= hs->nch)
		return -ENOENT;
	pthread_mutex_lock(&hs->lock);
	*out = hs->ch[index].r;
	pthread_mutex_unlock(&hs->lock);
	return 0;
}

int host_sensor_set_threshold(struct host_sensor *hs, unsigned int index, unsigned int which,
			      int64_t value)
{
	struct vireo_sensor_channel cur, back;
	enum host_sensor_refusal reason;
	char why[256];
	int rc;

	if (host_sensor_channel(hs, index, &cur) < 0)
		return -ENOENT;
	if (which > VIREO_SENSOR_CRIT || !(cur.flags & (1u << which)))
		return -EINVAL;
	if (!(cur.flags & VIREO_SENSOR_CH_WRITABLE) || !hs->ops->set_threshold)
		return -EOPNOTSUPP;
	pthread_mutex_lock(&hs->op_lock);
	rc = hs->ops->set_threshold(&hs->handle, index, which, value);
	pthread_mutex_unlock(&hs->op_lock);
	rc = host_driver_rc(&g_sensordev_rl, hs->name, hs->id, "set_threshold", rc);
	if (rc < 0)
		return rc;
	rc = hs_describe(hs, index, &back, &reason, why, sizeof(why));
	if (rc == 0 && (back.type != cur.type || strcmp(back.label, cur.label) != 0 ||
			back.flags != cur.flags)) {
		snprintf(why, sizeof(why), "type, label or flags changed");
		rc = -EINVAL;
	}
	if (rc < 0) {
		vireo_log_ratelimited(&g_sensordev_rl, VIREO_LOG_ERR, HOST_LOG_TAG,
				      "driver '%s' device '%s': channel %u after set_threshold: %s",
				      hs->name, hs->id, index, rc == -EINVAL ? why : strerror(-rc));
		return -EIO;
	}
	pthread_mutex_lock(&hs->lock);
	hs->ch[index].desc.min = back.min;
	hs->ch[index].desc.max = back.max;
	hs->ch[index].desc.crit = back.crit;
	pthread_mutex_unlock(&hs->lock);
	vireo_log(VIREO_LOG_INFO, HOST_LOG_TAG, "device '%s': channel %u '%s' %s set to %lld %s",
		  hs->id, index, cur.label, host_sensor_threshold_name(which), (long long)value,
		  host_sensor_unit(cur.type));
	return 0;
}

int host_sensor_raw_get_channel(struct host_sensor *hs, unsigned int index,
				struct vireo_sensor_channel *ch)
{
	int rc;

	memset(ch, 0, sizeof(*ch));
	ch->struct_size = sizeof(*ch);
	pthread_mutex_lock(&hs->op_lock);
	rc = hs->ops->get_channel(&hs->handle, index, ch);
	pthread_mutex_unlock(&hs->op_lock);
	return rc;
}

int host_sensor_raw_read(struct host_sensor *hs, unsigned int index, int64_t *value)
{
	int rc;

	pthread_mutex_lock(&hs->op_lock);
	rc = hs->ops->read(&hs->handle, index, value);
	pthread_mutex_unlock(&hs->op_lock);
	return rc;
}

int host_sensor_raw_set_threshold(struct host_sensor *hs, unsigned int index, unsigned int which,
				  int64_t value)
{
	int rc;

	if (!hs->ops->set_threshold)
		return -ENOSYS;
	pthread_mutex_lock(&hs->op_lock);
	rc = hs->ops->set_threshold(&hs->handle, index, which, value);
	pthread_mutex_unlock(&hs->op_lock);
	return rc;
}

int host_sensor_ref_get(const char *id, const char *channel, struct host_sensor_ref *ref)
{
	struct host_sensor *hs;
	int rc = -ENODEV;

	pthread_mutex_lock(&g_sensors_lock);
	for (hs = g_sensors; hs; hs = hs->next) {
		if (strcmp(hs->id, id) != 0)
			continue;
		rc = host_sensor_find(hs, channel);
		if (rc >= 0) {
			atomic_fetch_add(&hs->refs, 1);
			ref->hs = hs;
			ref->index = (unsigned int)rc;
			rc = 0;
		}
		break;
	}
	pthread_mutex_unlock(&g_sensors_lock);
	return rc;
}

int host_sensor_ref_read(const struct host_sensor_ref *ref, int64_t *value, uint64_t *timestamp_ns)
{
	struct host_sensor *hs = ref->hs;
	const struct hs_chan *c = &hs->ch[ref->index];
	int rc;

	pthread_mutex_lock(&hs->lock);
	if (hs->closed)
		rc = -ENODEV;
	else if (!c->r.valid)
		rc = c->r.error ? c->r.error : -EAGAIN;
	else
		rc = c->r.error;
	*value = c->r.value;
	if (timestamp_ns)
		*timestamp_ns = c->r.timestamp_ns;
	pthread_mutex_unlock(&hs->lock);
	return rc;
}

void host_sensor_ref_put(struct host_sensor_ref *ref)
{
	if (!ref->hs)
		return;
	hs_unref(ref->hs);
	ref->hs = NULL;
}
