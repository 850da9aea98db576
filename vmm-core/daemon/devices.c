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

#include <vireo/driver.h>

#include "agent/client.h"
#include "agent/commands.h"
#include "control/spec.h"
#include "host/blkdev.h"
#include "host/loader.h"
#include "vhost-user/dev.h"
#include "virtio/blk.h"
#include "virtio/net.h"
#include "virtio/vsock.h"

struct vd_device {
	struct vd_spec spec;
	struct host_driver *drv;
	struct virtio_blk *blk; /* class blk */
	struct virtio_net *net; /* class net */
	/* class vsock */
	struct virtio_vsock *vsock;
	struct agent_client *agent; /* NULL with agent-port=0 */
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
		if (strcmp(d->spec.socket, spec->socket) == 0) {
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
		json_object_object_add(o, "socket", json_object_new_string(d->spec.socket));
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
		json_object_array_add(arr, o);
	}
	pthread_mutex_unlock(&devs->lock);
	return arr;
}

static void vd_add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static const char *const g_net_drv_keys[8] = {
	"driver_rx_packets", "driver_rx_bytes", "driver_rx_dropped", "driver_rx_errors",
	"driver_tx_packets", "driver_tx_bytes", "driver_tx_dropped", "driver_tx_errors",
};

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
	for (unsigned int i = 0; i < VNET_REFUSE_MAX; i++)
		vd_add_u64(o, virtio_net_refusal_name(i), ns.refused[i]);
	if (ns.driver_stats_rc == 0)
		for (unsigned int i = 0; i < 8; i++)
			vd_add_u64(o, g_net_drv_keys[i], ns.drv[i]);
	vd_add_u64(o, "connections", vs.connections);
	vd_add_u64(o, "vhost_user_messages", vs.messages);
	vd_add_u64(o, "vhost_user_refused", vs.refused);
	vd_add_u64(o, "kicks", vs.kicks);
	vd_add_u64(o, "interrupts", vs.calls);
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
	vd_add_u64(o, "connections", vs.connections);
	vd_add_u64(o, "vhost_user_messages", vs.messages);
	vd_add_u64(o, "vhost_user_refused", vs.refused);
	vd_add_u64(o, "kicks", vs.kicks);
	vd_add_u64(o, "interrupts", vs.calls);
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
		vd_add_u64(o, "connections", vs.connections);
		vd_add_u64(o, "vhost_user_messages", vs.messages);
		vd_add_u64(o, "vhost_user_refused", vs.refused);
		vd_add_u64(o, "kicks", vs.kicks);
		vd_add_u64(o, "interrupts", vs.calls);
	}
	if (d && d->net)
		o = vd_net_stats_json(d);
	if (d && d->vsock)
		o = vd_vsock_stats_json(d);
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
