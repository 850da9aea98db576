// SPDX-License-Identifier: MIT
/*
 * virtio-i2c (VIRTIO 1.2, 5.19) over emulated LM75 sensors. One request queue; each
 * chain is served at once on the queue's worker (an LM75 never stalls the bus), in
 * ring order, so FAIL_NEXT groups need no bookkeeping beyond the bus's flag. The
 * lock only keeps `vireoctl device stats` consistent with the worker.
 */
#include "virtio/i2c.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include <vireo/log.h>

#include "control/spec.h"
#include "vhost-user/dev.h"
#include "virtio/device.h"
#include "virtio/i2c_source.h"
#include "virtio/i2c_wire.h"
#include "virtio/virtio_wire.h"
#include "virtqueue/split.h"

#define TAG "virtio-i2c"

/* iovecs a request may map into: header, data, status, and slack for buffers that
 * straddle guest memory regions or are cut into pieces. */
#define I2C_IOV_CAP 64

struct i2c_sensor {
	struct virtio_i2c *dev;
	uint16_t addr;
	struct lm75 lm;
	struct i2c_source src;
	uint32_t os_changes_seen; /* O.S. transitions already logged */
	int src_err_seen;	  /* source error already logged */
};

struct virtio_i2c {
	char id[VD_ID_MAX + 1];
	struct vu_dev *vu;
	pthread_mutex_t lock; /* protects: bus, sensors' models */
	struct i2c_bus bus;
	struct i2c_sensor sensors[I2C_MAX_TARGETS];
	unsigned int nsensors;
	struct iovec iov[I2C_IOV_CAP];
	struct vireo_ratelimit refuse_rl;
};

static uint64_t i2c_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Says so when a sensor's O.S. output changed or its source failed: a virtual bus
 * has no alert pin to watch. */
static void i2c_sensor_report(struct i2c_sensor *s)
{
	struct lm75_state st;

	lm75_get_state(&s->lm, &st);
	if (st.os_changes != s->os_changes_seen) {
		s->os_changes_seen = st.os_changes;
		vireo_log(VIREO_LOG_NOTICE, TAG,
			  "%s: sensor 0x%02x O.S. %s (pin %s; %d mC, TOS %d mC, THYST %d mC, "
			  "%s mode)",
			  s->dev->id, s->addr, st.os_active ? "active" : "released",
			  st.os_pin_high ? "high" : "low", st.temp_mc, st.tos_mc, st.thyst_mc,
			  st.interrupt_mode ? "interrupt" : "comparator");
	}
	if (s->lm.last_src_err != s->src_err_seen) {
		s->src_err_seen = s->lm.last_src_err;
		if (s->src_err_seen < 0)
			vireo_log_ratelimited(&s->dev->refuse_rl, VIREO_LOG_WARN, TAG,
					      "%s: sensor 0x%02x: source %s: %s (keeping %d mC)",
					      s->dev->id, s->addr, s->src.desc,
					      strerror(-s->src_err_seen), st.temp_mc);
	}
}

static int i2c_sensor_xfer(void *ctx, bool read, uint8_t *buf, size_t len)
{
	struct i2c_sensor *s = ctx;
	uint64_t now = i2c_now_ms();
	int rc = read ? lm75_read(&s->lm, buf, len, now) : lm75_write(&s->lm, buf, len, now);

	i2c_sensor_report(s);
	return rc;
}

/* ---- the queue ---- */

static void i2c_log_refusal(struct virtio_i2c *i2c, const struct vireo_vq_chain *c,
			    const struct i2c_result *r)
{
	vireo_log_ratelimited(&i2c->refuse_rl, VIREO_LOG_WARN, TAG,
			      "%s: request refused (%s): addr field %#06x, flags %#x, %u readable "
			      "and %u writable bytes",
			      i2c->id, i2c_refusal_name(r->refusal), r->addr, r->flags, c->out_len,
			      c->in_len);
}

static void i2c_queue_kick(void *model, struct vu_queue *q)
{
	struct virtio_i2c *i2c = model;
	struct vireo_vq_chain chain;
	struct i2c_result res;
	enum vireo_vq_err why;
	bool pushed = false;
	int rc;

	for (;;) {
		vireo_vq_chain_init(&chain, i2c->iov, I2C_IOV_CAP);
		rc = vu_queue_pop(q, &chain, &why);
		if (rc == 0)
			break;
		if (rc < 0) {
			if (rc == -EPROTO)
				vu_queue_broken(q, vireo_vq_err_str(why));
			break;
		}
		pthread_mutex_lock(&i2c->lock);
		i2c_bus_request(&i2c->bus, &chain, &res);
		pthread_mutex_unlock(&i2c->lock);
		if (res.refusal != I2C_REFUSE_NONE)
			i2c_log_refusal(i2c, &chain, &res);
		/* The head came from pop on this queue, so push cannot refuse it. */
		vu_queue_push(q, chain.head, res.used_len);
		pushed = true;
	}
	if (pushed)
		vu_queue_signal(q);
}

/* ---- vdev_ops ---- */

static uint64_t i2c_features(void *model)
{
	(void)model;
	return 1ull << VIRTIO_I2C_F_ZERO_LENGTH_REQUEST;
}

static unsigned int i2c_num_queues(void *model)
{
	(void)model;
	return 1;
}

static int i2c_set_features(void *model, uint64_t features)
{
	struct virtio_i2c *i2c = model;

	pthread_mutex_lock(&i2c->lock);
	i2c->bus.zero_length = features & (1ull << VIRTIO_I2C_F_ZERO_LENGTH_REQUEST);
	pthread_mutex_unlock(&i2c->lock);
	return 0;
}

static int i2c_queue_start(void *model, struct vu_queue *q)
{
	struct virtio_i2c *i2c = model;

	(void)q;
	pthread_mutex_lock(&i2c->lock);
	i2c_bus_reset(&i2c->bus);
	pthread_mutex_unlock(&i2c->lock);
	return 0;
}

static void i2c_reset(void *model)
{
	struct virtio_i2c *i2c = model;

	pthread_mutex_lock(&i2c->lock);
	i2c_bus_reset(&i2c->bus);
	pthread_mutex_unlock(&i2c->lock);
}

/* virtio-i2c has no configuration space (5.19.4). */
static const struct vdev_ops i2c_ops = {
	.name = "i2c",
	.device_id = VIRTIO_ID_I2C,
	.features = i2c_features,
	.num_queues = i2c_num_queues,
	.set_features = i2c_set_features,
	.queue_start = i2c_queue_start,
	.queue_kick = i2c_queue_kick,
	.reset = i2c_reset,
};

/* ---- set-up ---- */

/* One `sensor=ADDR:SOURCE` option. */
static int i2c_add_sensor(struct virtio_i2c *i2c, const char *text, char *err, size_t errlen)
{
	struct i2c_sensor *s;
	unsigned long addr;
	char *end;
	int rc;

	errno = 0;
	addr = strtoul(text, &end, 0);
	if (errno || end == text || *end != ':' || text[0] == '-' || addr < 0x08 || addr > 0x77) {
		snprintf(err, errlen,
			 "%s: sensor '%s': expected ADDR:SOURCE with ADDR a 7-bit address "
			 "0x08-0x77",
			 i2c->id, text);
		return -EINVAL;
	}
	if (i2c->nsensors >= I2C_MAX_TARGETS) {
		snprintf(err, errlen, "%s: at most %d sensors", i2c->id, I2C_MAX_TARGETS);
		return -EINVAL;
	}
	s = &i2c->sensors[i2c->nsensors];
	s->dev = i2c;
	s->addr = (uint16_t)addr;
	rc = i2c_source_open(&s->src, end + 1, err, errlen);
	if (rc < 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: sensor 0x%02lx: %s", i2c->id, addr, why);
		return rc;
	}
	rc = i2c_bus_add(&i2c->bus, s->addr, i2c_sensor_xfer, s);
	if (rc < 0) {
		snprintf(err, errlen, "%s: sensor 0x%02lx: %s", i2c->id, addr,
			 rc == -EEXIST ? "address given twice" : strerror(-rc));
		i2c_source_close(&s->src);
		return -EINVAL;
	}
	lm75_init(&s->lm, i2c_source_read, &s->src);
	i2c->nsensors++;
	return 0;
}

static void i2c_free_sensors(struct virtio_i2c *i2c)
{
	for (unsigned int i = 0; i < i2c->nsensors; i++)
		i2c_source_close(&i2c->sensors[i].src);
}

int virtio_i2c_new(const struct vd_spec *spec, struct virtio_i2c **out, char *err, size_t errlen)
{
	struct virtio_i2c *i2c;
	int rc = 0;

	i2c = calloc(1, sizeof(*i2c));
	if (!i2c)
		return -ENOMEM;
	snprintf(i2c->id, sizeof(i2c->id), "%s", spec->id);
	i2c->refuse_rl = (struct vireo_ratelimit)VIREO_RATELIMIT_INIT(5000, 10);
	pthread_mutex_init(&i2c->lock, NULL);
	i2c_bus_init(&i2c->bus);

	if (spec->driver) {
		snprintf(err, errlen,
			 "%s: an i2c device takes no driver (its sensors name sources)", spec->id);
		rc = -EINVAL;
	}
	if (rc == 0 && spec->num_queues != 1) {
		snprintf(err, errlen, "%s: virtio-i2c has exactly one queue", spec->id);
		rc = -EINVAL;
	}
	for (size_t i = 0; rc == 0 && i < spec->nparams; i++) {
		if (strcmp(spec->params[i].key, "sensor") != 0) {
			snprintf(err, errlen, "%s: unknown key '%s' (an i2c device takes sensor=)",
				 spec->id, spec->params[i].key);
			rc = -EINVAL;
			break;
		}
		rc = i2c_add_sensor(i2c, spec->params[i].value, err, errlen);
	}
	if (rc == 0 && i2c->nsensors == 0) {
		snprintf(err, errlen, "%s: no sensor= given (sensor=0x48:const:25000, ...)",
			 spec->id);
		rc = -EINVAL;
	}
	if (rc == 0) {
		rc = vu_dev_new(spec->socket, &i2c_ops, i2c, &i2c->vu);
		if (rc < 0)
			snprintf(err, errlen, "%s: socket %s: %s", spec->id, spec->socket,
				 strerror(-rc));
	}
	if (rc < 0) {
		i2c_free_sensors(i2c);
		pthread_mutex_destroy(&i2c->lock);
		free(i2c);
		return rc;
	}
	for (unsigned int i = 0; i < i2c->nsensors; i++)
		vireo_log(VIREO_LOG_INFO, TAG, "%s: LM75 at 0x%02x from %s", i2c->id,
			  i2c->sensors[i].addr, i2c->sensors[i].src.desc);
	*out = i2c;
	return 0;
}

int virtio_i2c_start(struct virtio_i2c *i2c)
{
	return vu_dev_start(i2c->vu);
}

void virtio_i2c_free(struct virtio_i2c *i2c)
{
	if (!i2c)
		return;
	vu_dev_stop(i2c->vu);
	vu_dev_free(i2c->vu);
	i2c_free_sensors(i2c);
	pthread_mutex_destroy(&i2c->lock);
	free(i2c);
}

void virtio_i2c_get_stats(struct virtio_i2c *i2c, struct virtio_i2c_stats *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&i2c->lock);
	s->zero_length = i2c->bus.zero_length;
	s->bus = i2c->bus.c;
	s->nsensors = i2c->nsensors;
	for (unsigned int i = 0; i < i2c->nsensors; i++) {
		struct i2c_sensor *sn = &i2c->sensors[i];

		/* Conversions due happen now, so the host sees what the guest would read. */
		lm75_tick(&sn->lm, i2c_now_ms());
		i2c_sensor_report(sn);
		s->sensors[i].addr = sn->addr;
		snprintf(s->sensors[i].source, sizeof(s->sensors[i].source), "%s", sn->src.desc);
		lm75_get_state(&sn->lm, &s->sensors[i].lm75);
	}
	pthread_mutex_unlock(&i2c->lock);
}

void virtio_i2c_vu_stats(struct virtio_i2c *i2c, struct vu_dev_stats *s)
{
	vu_dev_get_stats(i2c->vu, s);
}
