// SPDX-License-Identifier: MIT
/*
 * vireod's device list. A device is a spec plus the model that serves it; the list's
 * lock serialises additions and removals from the control thread with start-up and
 * shutdown on the main thread. Data paths never take it.
 */
#include "daemon/devices.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vireo/driver.h>

#include "agent/client.h"
#include "agent/commands.h"
#include "control/spec.h"
#include "host/blkdev.h"
#include "host/loader.h"
#include "host/sensordev.h"
#include "vhost-user/dev.h"
#include "virtio/blk.h"
#include "virtio/i2c.h"
#include "virtio/net.h"
#include "virtio/vsock.h"

struct vd_device {
	struct vd_spec spec;
	struct host_driver *drv;
	struct virtio_blk *blk;	    /* class blk */
	struct virtio_net *net;	    /* class net */
	struct virtio_vsock *vsock; /* class vsock */
	struct agent_client *agent; /* class vsock; NULL with agent-port=0 */
	struct host_sensor *sensor; /* class sensor */
	struct virtio_i2c *i2c;	    /* class i2c */
	struct vd_device *next;
};

struct vd_devices {
	struct host_registry *reg;
	pthread_mutex_t lock; /* protects: head, and every device's lifetime */
	struct vd_device *head;
};

int vd_devices_new(struct host_registry *reg, struct vd_devices **out)
{
	struct vd_devices *devs = calloc(1, sizeof(*devs));

	if (!devs)
		return -ENOMEM;
	devs->reg = reg;
	pthread_mutex_init(&devs->lock, NULL);
	*out = devs;
	return 0;
}

static void vd_device_destroy(struct vd_device *d)
{
	virtio_blk_free(d->blk);
	virtio_net_free(d->net);
	agent_client_free(d->agent); /* before the engine it uses */
	virtio_vsock_free(d->vsock);
	host_sensor_close(d->sensor);
	virtio_i2c_free(d->i2c);
	vd_spec_free(&d->spec);
	free(d);
}

void vd_devices_free(struct vd_devices *devs)
{
	if (!devs)
		return;
	while (devs->head) {
		struct vd_device *d = devs->head;

		devs->head = d->next;
		vd_device_destroy(d);
	}
	pthread_mutex_destroy(&devs->lock);
	free(devs);
}

static struct vd_device *vd_find(struct vd_devices *devs, const char *id)
{
	for (struct vd_device *d = devs->head; d; d = d->next)
		if (strcmp(d->spec.id, id) == 0)
			return d;
	return NULL;
}

static int vd_check_unique(struct vd_devices *devs, const struct vd_spec *spec, char *err,
			   size_t errlen)
{
	for (struct vd_device *d = devs->head; d; d = d->next) {
		if (strcmp(d->spec.id, spec->id) == 0) {
			snprintf(err, errlen, "a device with id '%s' exists", spec->id);
			return -EEXIST;
		}
		if (d->spec.socket && spec->socket && strcmp(d->spec.socket, spec->socket) == 0) {
			snprintf(err, errlen, "%s: socket %s is device '%s''s", spec->id,
				 spec->socket, d->spec.id);
			return -EEXIST;
		}
	}
	return 0;
}

/* Finds @spec's driver and checks it serves @cls (a VIREO_CLASS_*). */
static int vd_find_driver(struct vd_devices *devs, struct vd_device *d, uint32_t cls, char *err,
			  size_t errlen)
{
	const struct vd_spec *spec = &d->spec;
	const struct host_checked *info;

	d->drv = host_find_by_name(devs->reg, spec->driver);
	if (!d->drv) {
		snprintf(err, errlen, "%s: no driver named '%s' is loaded", spec->id, spec->driver);
		return -ENOENT;
	}
	info = host_driver_info(d->drv);
	if (info->desc.dev_class != cls) {
		snprintf(err, errlen, "%s: driver '%s' is a %s driver, not %s", spec->id,
			 spec->driver, host_class_name(info->desc.dev_class), host_class_name(cls));
		return -EINVAL;
	}
	return 0;
}

static int vd_listen_failed(const struct vd_spec *spec, int rc, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: cannot listen on %s: %s", spec->id, spec->socket, strerror(-rc));
	return rc;
}

/* Opens @d's sensor instance and starts its sensor thread. */
static int vd_start_sensor(struct vd_device *d, char *err, size_t errlen)
{
	const struct vd_spec *spec = &d->spec;
	const char **keys = calloc(spec->nparams + 1, sizeof(*keys));
	const char **values = calloc(spec->nparams + 1, sizeof(*values));
	int rc = -ENOMEM;

	if (!keys || !values)
		goto out_free;
	for (size_t i = 0; i < spec->nparams; i++) {
		keys[i] = spec->params[i].key;
		values[i] = spec->params[i].value;
	}
	rc = host_sensor_open(d->drv, spec->id, keys, values, spec->nparams, &d->sensor, err,
			      errlen);
	if (rc < 0)
		goto out_free;
	rc = host_sensor_start(d->sensor);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot start the sensor thread: %s", spec->id,
			 strerror(-rc));
		host_sensor_close(d->sensor);
		d->sensor = NULL;
	}
out_free:
	free(keys);
	free(values);
	return rc;
}

/* A vsock device's agent-port=N: the guest agent's port; 0 turns the client off. */
static int vd_agent_port(const struct vd_spec *spec, uint32_t *port, char *err, size_t errlen)
{
	const char *v = vd_spec_param(spec, "agent-port");
	unsigned long n;
	char *end;

	*port = AGENT_DEFAULT_PORT;
	if (!v)
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || !*v || *end || v[0] == '-' || n > 0xfffffffeul) {
		snprintf(err, errlen, "%s: agent-port=%s: expected 0 (off) to 4294967294", spec->id,
			 v);
		return -EINVAL;
	}
	*port = (uint32_t)n;
	return 0;
}

/* Builds and starts the model of @d's class. */
static int vd_start_model(struct vd_devices *devs, struct vd_device *d, char *err, size_t errlen)
{
	const struct vd_spec *spec = &d->spec;
	uint32_t port;
	int rc;

	switch (spec->cls) {
	case VD_CLASS_BLK:
		rc = vd_find_driver(devs, d, VIREO_CLASS_BLK, err, errlen);
		if (rc == 0)
			rc = virtio_blk_new(spec, d->drv, &d->blk, err, errlen);
		if (rc < 0)
			return rc;
		rc = virtio_blk_start(d->blk);
		if (rc < 0) {
			virtio_blk_free(d->blk);
			d->blk = NULL;
			return vd_listen_failed(spec, rc, err, errlen);
		}
		return 0;
	case VD_CLASS_NET:
		rc = vd_find_driver(devs, d, VIREO_CLASS_NET, err, errlen);
		if (rc == 0)
			rc = virtio_net_new(spec, d->drv, &d->net, err, errlen);
		if (rc < 0)
			return rc;
		rc = virtio_net_start(d->net);
		if (rc < 0) {
			virtio_net_free(d->net);
			d->net = NULL;
			return vd_listen_failed(spec, rc, err, errlen);
		}
		return 0;
	case VD_CLASS_VSOCK:
		rc = vd_agent_port(spec, &port, err, errlen);
		if (rc < 0)
			return rc;
		rc = virtio_vsock_new(spec, &d->vsock, err, errlen);
		if (rc < 0)
			return rc;
		rc = virtio_vsock_start(d->vsock);
		if (rc < 0) {
			virtio_vsock_free(d->vsock);
			d->vsock = NULL;
			return vd_listen_failed(spec, rc, err, errlen);
		}
		if (port)
			rc = agent_client_new(spec->id, virtio_vsock_engine(d->vsock), port,
					      &d->agent);
		if (rc < 0) {
			snprintf(err, errlen, "%s: agent client: %s", spec->id, strerror(-rc));
			virtio_vsock_free(d->vsock);
			d->vsock = NULL;
			return rc;
		}
		return 0;
	case VD_CLASS_SENSOR:
		rc = vd_find_driver(devs, d, VIREO_CLASS_SENSOR, err, errlen);
		if (rc == 0)
			rc = vd_start_sensor(d, err, errlen);
		return rc;
	case VD_CLASS_I2C:
		rc = virtio_i2c_new(spec, &d->i2c, err, errlen);
		if (rc < 0)
			return rc;
		rc = virtio_i2c_start(d->i2c);
		if (rc < 0) {
			virtio_i2c_free(d->i2c);
			d->i2c = NULL;
			return vd_listen_failed(spec, rc, err, errlen);
		}
		return 0;
	default:
		snprintf(err, errlen, "%s: class %s is not served by this vireod yet", spec->id,
			 vd_class_name(spec->cls));
		return -ENOTSUP;
	}
}

int vd_device_add(struct vd_devices *devs, struct vd_spec *spec, char *err, size_t errlen)
{
	struct vd_device *d;
	int rc;

	pthread_mutex_lock(&devs->lock);
	rc = vd_check_unique(devs, spec, err, errlen);
	if (rc < 0)
		goto out_unlock;
	d = calloc(1, sizeof(*d));
	if (!d) {
		rc = -ENOMEM;
		goto out_unlock;
	}
	d->spec = *spec;
	rc = vd_start_model(devs, d, err, errlen);
	if (rc < 0) {
		free(d); /* the spec stays the caller's */
		goto out_unlock;
	}
	memset(spec, 0, sizeof(*spec));
	d->next = devs->head;
	devs->head = d;
out_unlock:
	pthread_mutex_unlock(&devs->lock);
	return rc;
}

int vd_device_remove(struct vd_devices *devs, const char *id)
{
	struct vd_device **pp, *d = NULL;

	pthread_mutex_lock(&devs->lock);
	for (pp = &devs->head; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->spec.id, id) == 0) {
			d = *pp;
			*pp = d->next;
			break;
		}
	}
	pthread_mutex_unlock(&devs->lock);
	if (!d)
		return -ENOENT;
	vd_device_destroy(d);
	return 0;
}

size_t vd_device_count(struct vd_devices *devs)
{
	size_t n = 0;

	pthread_mutex_lock(&devs->lock);
	for (struct vd_device *d = devs->head; d; d = d->next)
		n++;
	pthread_mutex_unlock(&devs->lock);
	return n;
}

static void vd_add_vu_state(struct json_object *o, const struct vu_dev_stats *vs)
{
	json_object_object_add(o, "connected", json_object_new_boolean(vs->connected));
	json_object_object_add(o, "broken", json_object_new_boolean(vs->broken));
	json_object_object_add(o, "queues_running", json_object_new_int(vs->queues_running));
}

static struct json_object *vd_agent_json(struct agent_client *ac)
{
	struct json_object *o = json_object_new_object();
	struct agent_info ai;
	int64_t now = agent_now_ns();

	agent_client_get_info(ac, &ai);
	json_object_object_add(o, "state", json_object_new_string(agent_state_name(ai.state)));
	json_object_object_add(o, "port", json_object_new_int64(ai.port));
	json_object_object_add(o, "version", json_object_new_string(ai.version));
	json_object_object_add(o, "protocol", json_object_new_int(ai.protocol));
	json_object_object_add(o, "heartbeat_s", json_object_new_int(ai.heartbeat_s));
	json_object_object_add(o, "heartbeat_seq", json_object_new_uint64(ai.heartbeat_seq));
	/* Seconds since the last heartbeat (null before the first one). */
	json_object_object_add(
		o, "heartbeat_age_s",
		ai.heartbeat_ns ? json_object_new_double((double)(now - ai.heartbeat_ns) / 1e9)
				: NULL);
	json_object_object_add(o, "up_for_s",
			       ai.state == AGENT_UP
				       ? json_object_new_double((double)(now - ai.up_ns) / 1e9)
				       : NULL);
	json_object_object_add(o, "connects", json_object_new_uint64(ai.connects));
	json_object_object_add(o, "ups", json_object_new_uint64(ai.ups));
	json_object_object_add(o, "stale", json_object_new_uint64(ai.stale));
	json_object_object_add(o, "bad_lines", json_object_new_uint64(ai.bad_lines));
	json_object_object_add(o, "timeouts", json_object_new_uint64(ai.timeouts));
	json_object_object_add(o, "last_error", json_object_new_string(ai.last_error));
	return o;
}

struct json_object *vd_devices_json(struct vd_devices *devs)
{
	struct json_object *arr = json_object_new_array();

	pthread_mutex_lock(&devs->lock);
	for (struct vd_device *d = devs->head; d; d = d->next) {
		struct json_object *o = json_object_new_object();
		struct vu_dev_stats vs;

		json_object_object_add(o, "id", json_object_new_string(d->spec.id));
		json_object_object_add(o, "class",
				       json_object_new_string(vd_class_name(d->spec.cls)));
		json_object_object_add(
			o, "driver", json_object_new_string(d->spec.driver ? d->spec.driver : ""));
		json_object_object_add(
			o, "socket", json_object_new_string(d->spec.socket ? d->spec.socket : ""));
		json_object_object_add(o, "num_queues", json_object_new_int(d->spec.num_queues));
		json_object_object_add(o, "readonly", json_object_new_boolean(d->spec.readonly));
		if (d->blk) {
			virtio_blk_vu_stats(d->blk, &vs);
			vd_add_vu_state(o, &vs);
		}
		if (d->net) {
			virtio_net_vu_stats(d->net, &vs);
			vd_add_vu_state(o, &vs);
		}
		if (d->vsock) {
			virtio_vsock_vu_stats(d->vsock, &vs);
			vd_add_vu_state(o, &vs);
			if (d->agent)
				json_object_object_add(o, "agent", vd_agent_json(d->agent));
		}
		if (d->i2c) {
			virtio_i2c_vu_stats(d->i2c, &vs);
			vd_add_vu_state(o, &vs);
		}
		json_object_array_add(arr, o);
	}
	pthread_mutex_unlock(&devs->lock);
	return arr;
}

static void vd_add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

/* The vhost-user counters every device class's stats end with. */
static void vd_add_vu_counters(struct json_object *o, const struct vu_dev_stats *vs)
{
	vd_add_u64(o, "connections", vs->connections);
	vd_add_u64(o, "vhost_user_messages", vs->messages);
	vd_add_u64(o, "vhost_user_refused", vs->refused);
	vd_add_u64(o, "kicks", vs->kicks);
	vd_add_u64(o, "interrupts", vs->calls);
}

static const char *const g_net_drv_keys[8] = {
	"driver_rx_packets", "driver_rx_bytes", "driver_rx_dropped", "driver_rx_errors",
	"driver_tx_packets", "driver_tx_bytes", "driver_tx_dropped", "driver_tx_errors",
};

/* Offload use; per queue pair: the pairs the guest runs, what each virtqueue carried. */
static void vd_add_net_queues(struct json_object *o, const struct virtio_net_stats *ns)
{
	char key[32];

	vd_add_u64(o, "queue_pairs_running", ns->pairs_running);
	vd_add_u64(o, "rx_dropped", ns->rx_dropped);
	vd_add_u64(o, "tx_gso", ns->tx_gso);
	vd_add_u64(o, "rx_gso", ns->rx_gso);
	vd_add_u64(o, "rx_csum_done", ns->rx_csum_done);
	for (unsigned int q = 0; q < 2 * ns->queue_pairs && q < 2 * VIRTIO_NET_MAX_PAIRS; q++) {
		snprintf(key, sizeof(key), "%s_packets_q%u", q & 1 ? "tx" : "rx", q / 2);
		vd_add_u64(o, key, ns->vq_packets[q]);
		snprintf(key, sizeof(key), "%s_bytes_q%u", q & 1 ? "tx" : "rx", q / 2);
		vd_add_u64(o, key, ns->vq_bytes[q]);
	}
}

static struct json_object *vd_net_stats_json(struct vd_device *d)
{
	struct json_object *o = json_object_new_object();
	struct virtio_net_stats ns;
	struct vu_dev_stats vs;
	char mac[18];

	virtio_net_get_stats(d->net, &ns);
	virtio_net_vu_stats(d->net, &vs);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", ns.mac[0], ns.mac[1], ns.mac[2],
		 ns.mac[3], ns.mac[4], ns.mac[5]);
	json_object_object_add(o, "id", json_object_new_string(d->spec.id));
	json_object_object_add(o, "class", json_object_new_string("net"));
	vd_add_vu_state(o, &vs);
	json_object_object_add(o, "mac", json_object_new_string(mac));
	vd_add_u64(o, "mtu", ns.mtu);
	vd_add_u64(o, "queue_pairs", ns.queue_pairs);
	vd_add_u64(o, "tx_packets", ns.tx_packets);
	vd_add_u64(o, "tx_bytes", ns.tx_bytes);
	vd_add_u64(o, "tx_dropped", ns.tx_dropped);
	vd_add_u64(o, "rx_packets", ns.rx_packets);
	vd_add_u64(o, "rx_bytes", ns.rx_bytes);
	vd_add_u64(o, "rx_buffers", ns.rx_buffers);
	vd_add_u64(o, "rx_no_buffers", ns.rx_no_buffers);
	vd_add_u64(o, "driver_errors", ns.driver_errors);
	vd_add_net_queues(o, &ns);
	for (unsigned int i = 0; i < VNET_REFUSE_MAX; i++)
		vd_add_u64(o, virtio_net_refusal_name(i), ns.refused[i]);
	if (ns.driver_stats_rc == 0)
		for (unsigned int i = 0; i < 8; i++)
			vd_add_u64(o, g_net_drv_keys[i], ns.drv[i]);
	vd_add_vu_counters(o, &vs);
	return o;
}

static struct json_object *vd_vsock_stats_json(struct vd_device *d)
{
	struct json_object *o = json_object_new_object();
	struct vsock_engine_stats es;
	struct vu_dev_stats vs;

	virtio_vsock_get_stats(d->vsock, &es);
	virtio_vsock_vu_stats(d->vsock, &vs);
	json_object_object_add(o, "id", json_object_new_string(d->spec.id));
	json_object_object_add(o, "class", json_object_new_string("vsock"));
	vd_add_vu_state(o, &vs);
	vd_add_u64(o, "guest_cid", virtio_vsock_cid(d->vsock));
	vd_add_u64(o, "conns", es.conns);
	vd_add_u64(o, "conns_opened", es.conns_opened);
	vd_add_u64(o, "bytes_to_host", es.bytes_to_host);
	vd_add_u64(o, "bytes_to_guest", es.bytes_to_guest);
	vd_add_u64(o, "rst_sent", es.rst_sent);
	vd_add_u64(o, "rst_dropped", es.rst_dropped);
	vd_add_u64(o, "credit_updates", es.credit_updates);
	for (unsigned int i = 0; i < VSOCK_REFUSE_MAX; i++)
		vd_add_u64(o, vsock_refusal_name(i), es.refused[i]);
	vd_add_vu_counters(o, &vs);
	return o;
}

/* A sensor device's counts, summed over its channels (sensor.read has them per channel). */
static struct json_object *vd_sensor_stats_json(struct vd_device *d)
{
	struct json_object *o = json_object_new_object();
	unsigned int n = host_sensor_num_channels(d->sensor), failing = 0;
	uint64_t reads = 0, errors = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct host_sensor_reading r;

		host_sensor_get(d->sensor, i, &r);
		reads += r.reads;
		errors += r.errors;
		failing += r.error != 0;
	}
	json_object_object_add(o, "id", json_object_new_string(d->spec.id));
	json_object_object_add(o, "class", json_object_new_string("sensor"));
	vd_add_u64(o, "channels", n);
	vd_add_u64(o, "reads", reads);
	vd_add_u64(o, "read_errors", errors);
	vd_add_u64(o, "channels_failing", failing);
	return o;
}

static struct json_object *vd_i2c_sensor_json(const struct virtio_i2c_sensor_stats *ss)
{
	struct json_object *o = json_object_new_object();
	const struct lm75_state *st = &ss->lm75;
	char addr[8];

	snprintf(addr, sizeof(addr), "0x%02x", ss->addr);
	json_object_object_add(o, "address", json_object_new_string(addr));
	json_object_object_add(o, "model", json_object_new_string("lm75"));
	json_object_object_add(o, "source", json_object_new_string(ss->source));
	json_object_object_add(o, "temp_mc", json_object_new_int(st->temp_mc));
	json_object_object_add(o, "tos_mc", json_object_new_int(st->tos_mc));
	json_object_object_add(o, "thyst_mc", json_object_new_int(st->thyst_mc));
	json_object_object_add(o, "config", json_object_new_int(st->config));
	json_object_object_add(o, "shutdown", json_object_new_boolean(st->shutdown));
	json_object_object_add(
		o, "os_mode",
		json_object_new_string(st->interrupt_mode ? "interrupt" : "comparator"));
	json_object_object_add(o, "os_active", json_object_new_boolean(st->os_active));
	json_object_object_add(o, "os_pin",
			       json_object_new_string(st->os_pin_high ? "high" : "low"));
	vd_add_u64(o, "os_changes", st->os_changes);
	vd_add_u64(o, "conversions", st->conversions);
	vd_add_u64(o, "source_errors", st->source_errors);
	return o;
}

static struct json_object *vd_i2c_stats_json(struct vd_device *d)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	struct virtio_i2c_stats *is = malloc(sizeof(*is));
	struct vu_dev_stats vs;

	if (!is)
		return o;
	virtio_i2c_get_stats(d->i2c, is);
	virtio_i2c_vu_stats(d->i2c, &vs);
	json_object_object_add(o, "id", json_object_new_string(d->spec.id));
	json_object_object_add(o, "class", json_object_new_string("i2c"));
	vd_add_vu_state(o, &vs);
	json_object_object_add(o, "zero_length_requests", json_object_new_boolean(is->zero_length));
	vd_add_u64(o, "requests", is->bus.requests);
	vd_add_u64(o, "ok", is->bus.ok);
	vd_add_u64(o, "nak", is->bus.nak);
	vd_add_u64(o, "group_failed", is->bus.group_failed);
	vd_add_u64(o, "reads", is->bus.reads);
	vd_add_u64(o, "writes", is->bus.writes);
	vd_add_u64(o, "zero_length", is->bus.zero_length);
	vd_add_u64(o, "bytes_read", is->bus.bytes_read);
	vd_add_u64(o, "bytes_written", is->bus.bytes_written);
	for (unsigned int i = 1; i < I2C_REFUSE_MAX; i++) {
		char key[64];

		snprintf(key, sizeof(key), "refused_%s", i2c_refusal_name(i));
		vd_add_u64(o, key, is->bus.refused[i]);
	}
	for (unsigned int i = 0; i < is->nsensors; i++)
		json_object_array_add(arr, vd_i2c_sensor_json(&is->sensors[i]));
	json_object_object_add(o, "sensors", arr);
	vd_add_vu_counters(o, &vs);
	free(is);
	return o;
}

struct json_object *vd_device_stats_json(struct vd_devices *devs, const char *id)
{
	struct json_object *o = NULL;
	struct vd_device *d;

	pthread_mutex_lock(&devs->lock);
	d = vd_find(devs, id);
	if (d && d->blk) {
		struct virtio_blk_stats bs;
		struct vu_dev_stats vs;

		virtio_blk_get_stats(d->blk, &bs);
		virtio_blk_vu_stats(d->blk, &vs);
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_string(id));
		json_object_object_add(o, "class", json_object_new_string("blk"));
		vd_add_vu_state(o, &vs);
		vd_add_u64(o, "capacity_bytes", bs.capacity);
		vd_add_u64(o, "queues", bs.queues);
		vd_add_u64(o, "reads", bs.reads);
		vd_add_u64(o, "writes", bs.writes);
		vd_add_u64(o, "flushes", bs.flushes);
		vd_add_u64(o, "discards", bs.discards);
		vd_add_u64(o, "write_zeroes", bs.write_zeroes);
		vd_add_u64(o, "get_ids", bs.get_ids);
		vd_add_u64(o, "bytes_read", bs.bytes_read);
		vd_add_u64(o, "bytes_written", bs.bytes_written);
		vd_add_u64(o, "errors", bs.errors);
		vd_add_u64(o, "unsupported", bs.unsupported);
		vd_add_vu_counters(o, &vs);
	}
	if (d && d->net)
		o = vd_net_stats_json(d);
	if (d && d->vsock)
		o = vd_vsock_stats_json(d);
	if (d && d->sensor)
		o = vd_sensor_stats_json(d);
	if (d && d->i2c)
		o = vd_i2c_stats_json(d);
	pthread_mutex_unlock(&devs->lock);
	return o;
}

/* ---- sensors ---- */

static struct json_object *vd_channel_json(struct host_sensor *hs, unsigned int i)
{
	struct json_object *o = json_object_new_object();
	struct vireo_sensor_channel ch;

	host_sensor_channel(hs, i, &ch);
	json_object_object_add(o, "index", json_object_new_int((int)i));
	json_object_object_add(o, "label", json_object_new_string(ch.label));
	json_object_object_add(o, "type", json_object_new_string(host_sensor_type_name(ch.type)));
	json_object_object_add(o, "unit", json_object_new_string(host_sensor_unit(ch.type)));
	json_object_object_add(
		o, "min", ch.flags & VIREO_SENSOR_CH_MIN ? json_object_new_int64(ch.min) : NULL);
	json_object_object_add(
		o, "max", ch.flags & VIREO_SENSOR_CH_MAX ? json_object_new_int64(ch.max) : NULL);
	json_object_object_add(
		o, "crit", ch.flags & VIREO_SENSOR_CH_CRIT ? json_object_new_int64(ch.crit) : NULL);
	json_object_object_add(o, "writable",
			       json_object_new_boolean(!!(ch.flags & VIREO_SENSOR_CH_WRITABLE)));
	json_object_object_add(o, "update_interval_ms",
			       json_object_new_int64(ch.update_interval_ms));
	return o;
}

static struct json_object *vd_reading_json(struct host_sensor *hs, unsigned int i, uint64_t now)
{
	struct json_object *o = json_object_new_object();
	struct vireo_sensor_channel ch;
	struct host_sensor_reading r;

	host_sensor_channel(hs, i, &ch);
	host_sensor_get(hs, i, &r);
	json_object_object_add(o, "index", json_object_new_int((int)i));
	json_object_object_add(o, "label", json_object_new_string(ch.label));
	json_object_object_add(o, "type", json_object_new_string(host_sensor_type_name(ch.type)));
	json_object_object_add(o, "unit", json_object_new_string(host_sensor_unit(ch.type)));
	json_object_object_add(o, "value", r.valid ? json_object_new_int64(r.value) : NULL);
	json_object_object_add(o, "error",
			       r.error ? json_object_new_string(strerror(-r.error)) : NULL);
	json_object_object_add(
		o, "age_ms",
		r.valid ? json_object_new_int64((int64_t)((now - r.timestamp_ns) / 1000000))
			: NULL);
	vd_add_u64(o, "reads", r.reads);
	vd_add_u64(o, "errors", r.errors);
	return o;
}

/* The sensor device @id, or NULL with @err set. Caller holds the list's lock. */
static struct host_sensor *vd_find_sensor(struct vd_devices *devs, const char *id, char *err,
					  size_t errlen)
{
	struct vd_device *d = vd_find(devs, id);

	if (!d || !d->sensor) {
		snprintf(err, errlen, "no sensor device '%s'", id);
		return NULL;
	}
	return d->sensor;
}

static int vd_find_channel(struct host_sensor *hs, const char *channel, char *err, size_t errlen)
{
	int i = host_sensor_find(hs, channel);

	if (i < 0)
		snprintf(err, errlen, "sensor device '%s' has no channel '%s'", host_sensor_id(hs),
			 channel);
	return i;
}

struct json_object *vd_sensors_json(struct vd_devices *devs, const char *id, char *err,
				    size_t errlen)
{
	struct json_object *arr = json_object_new_array();

	pthread_mutex_lock(&devs->lock);
	if (id && !vd_find_sensor(devs, id, err, errlen)) {
		json_object_put(arr);
		arr = NULL;
		goto out_unlock;
	}
	for (struct vd_device *d = devs->head; d; d = d->next) {
		struct json_object *o, *chans;

		if (!d->sensor || (id && strcmp(d->spec.id, id) != 0))
			continue;
		o = json_object_new_object();
		chans = json_object_new_array();
		json_object_object_add(o, "id", json_object_new_string(d->spec.id));
		json_object_object_add(o, "driver",
				       json_object_new_string(host_sensor_driver(d->sensor)));
		for (unsigned int i = 0; i < host_sensor_num_channels(d->sensor); i++)
			json_object_array_add(chans, vd_channel_json(d->sensor, i));
		json_object_object_add(o, "channels", chans);
		json_object_array_add(arr, o);
	}
out_unlock:
	pthread_mutex_unlock(&devs->lock);
	return arr;
}

struct json_object *vd_sensor_read_json(struct vd_devices *devs, const char *id,
					const char *channel, char *err, size_t errlen)
{
	struct json_object *o = NULL, *chans;
	struct host_sensor *hs;
	struct timespec ts;
	uint64_t now;
	int first = 0, last;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	pthread_mutex_lock(&devs->lock);
	hs = vd_find_sensor(devs, id, err, errlen);
	if (!hs)
		goto out_unlock;
	last = (int)host_sensor_num_channels(hs) - 1;
	if (channel) {
		first = last = vd_find_channel(hs, channel, err, errlen);
		if (first < 0)
			goto out_unlock;
	}
	o = json_object_new_object();
	chans = json_object_new_array();
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "driver", json_object_new_string(host_sensor_driver(hs)));
	for (int i = first; i <= last; i++)
		json_object_array_add(chans, vd_reading_json(hs, (unsigned int)i, now));
	json_object_object_add(o, "channels", chans);
out_unlock:
	pthread_mutex_unlock(&devs->lock);
	return o;
}

struct json_object *vd_sensor_set(struct vd_devices *devs, const char *id, const char *channel,
				  const char *limit, int64_t value, char *err, size_t errlen)
{
	struct json_object *o = NULL;
	struct host_sensor *hs;
	unsigned int which;
	int i, rc;

	for (which = 0; which <= VIREO_SENSOR_CRIT; which++)
		if (strcmp(limit, host_sensor_threshold_name(which)) == 0)
			break;
	if (which > VIREO_SENSOR_CRIT) {
		snprintf(err, errlen, "limit '%s': min, max or crit", limit);
		return NULL;
	}
	pthread_mutex_lock(&devs->lock);
	hs = vd_find_sensor(devs, id, err, errlen);
	if (!hs)
		goto out_unlock;
	i = vd_find_channel(hs, channel, err, errlen);
	if (i < 0)
		goto out_unlock;
	rc = host_sensor_set_threshold(hs, (unsigned int)i, which, value);
	if (rc < 0) {
		snprintf(err, errlen, "%s channel '%s' %s: %s", id, channel, limit,
			 rc == -EINVAL	     ? "refused (no such limit, or out of order)"
			 : rc == -EOPNOTSUPP ? "the channel's limits are read-only"
			 : rc == -ERANGE     ? "the hardware cannot hold that value"
					     : strerror(-rc));
		goto out_unlock;
	}
	o = vd_channel_json(hs, (unsigned int)i);
out_unlock:
	pthread_mutex_unlock(&devs->lock);
	return o;
}

int vd_agent_command(struct vd_devices *devs, const char *id, const char *name,
		     struct json_object *args, struct ctl_pending *p, char *err, size_t errlen)
{
	struct vd_device *d;
	int rc;

	pthread_mutex_lock(&devs->lock);
	d = vd_find(devs, id);
	if (!d) {
		snprintf(err, errlen, "no device '%s'", id);
		rc = -ENOENT;
	} else if (!d->vsock) {
		snprintf(err, errlen, "device '%s' is a %s device: guest commands need a vsock one",
			 id, vd_class_name(d->spec.cls));
		rc = -ENOTSUP;
	} else if (!d->agent) {
		snprintf(err, errlen, "device '%s' has no agent client (agent-port=0)", id);
		rc = -ENOTSUP;
	} else {
		/* Only queues the request: the lock is not held while the guest answers. */
		rc = agent_command_start(d->agent, name, args, p, err, errlen);
	}
	pthread_mutex_unlock(&devs->lock);
	return rc;
}
