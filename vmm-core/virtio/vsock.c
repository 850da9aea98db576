// SPDX-License-Identifier: MIT
/*
 * virtio-vsock (VIRTIO 1.2, 5.10) over vhost-user. Queue 0 is rx (device to guest),
 * 1 tx (guest to device), 2 the event queue, which QEMU's vhost-user-vsock keeps for
 * itself; a frontend that hands it over gets a TRANSPORT_RESET on it after every
 * reset of ours. The guest's CID is the backend's: QEMU reads config space with
 * GET_CONFIG (protocol feature CONFIG) when it realizes the device.
 *
 * Threads: the tx worker hands each packet to the engine; the rx worker's loop is the
 * engine's loop (host sockets, the host listener, the wake eventfd), and it fills the
 * guest's receive buffers whenever the engine has output. Every chain is checked here
 * (direction, header room) or by the engine (every header field).
 */
#include "virtio/vsock.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vireo/log.h>
#include <vireo/loop.h>

#include "control/spec.h"
#include "vhost-user/dev.h"
#include "vhost-user/wire.h"
#include "virtio/device.h"
#include "virtio/virtio_wire.h"
#include "virtio/vsock_wire.h"
#include "virtqueue/split.h"

#define TAG "virtio-vsock"

#define VSOCK_CHAIN_IOV	 64u
#define VSOCK_BURST	 64u /* chains per pass, then signal */
#define VSOCK_DEF_BUF	 (256u * 1024u)
#define VSOCK_MIN_BUF	 4096u
#define VSOCK_MAX_BUF	 (64u * 1024u * 1024u)
#define VSOCK_DEF_CONNS	 256u
#define VSOCK_MAX_CONNS	 4096u
#define VSOCK_NUM_QUEUES 3u
#define VSOCK_HDR_LEN	 ((uint32_t)sizeof(struct virtio_vsock_hdr))

struct vsock_queue {
	struct vu_queue *q; /* set while the queue runs; its worker's */
	bool broken;
	struct vireo_vq_chain chain;
	struct iovec iov[VSOCK_CHAIN_IOV];
};

struct virtio_vsock {
	char id[VD_ID_MAX + 1];
	struct virtio_vsock_config cfg;
	struct vu_dev *vu;
	struct vsock_engine *eng;
	struct vireo_loop *rx_loop;
	int wake_fd;
	struct vireo_watch *wake_watch;
	atomic_bool rx_running;
	atomic_bool event_owed; /* a TRANSPORT_RESET for the event queue */
	struct vsock_queue queues[VSOCK_NUM_QUEUES];
};

/* ---- helpers ---- */

static int vsock_pop(struct vsock_queue *vq)
{
	enum vireo_vq_err why;
	int rc;

	vireo_vq_chain_init(&vq->chain, vq->iov, VSOCK_CHAIN_IOV);
	rc = vu_queue_pop(vq->q, &vq->chain, &why);
	if (rc < 0) {
		if (rc == -EPROTO)
			vu_queue_broken(vq->q, vireo_vq_err_str(why));
		vq->broken = true;
	}
	return rc;
}

/* A chain that breaks the device's rules: the queue stops until the driver resets. */
static void vsock_break(struct virtio_vsock *vs, struct vsock_queue *vq, enum vsock_refusal why)
{
	vsock_engine_refuse(vs->eng, why);
	vu_queue_broken(vq->q, vsock_refusal_str(why));
	vq->broken = true;
	vu_queue_push(vq->q, vq->chain.head, 0);
}

/* ---- tx: guest to host ---- */

static void vsock_tx_run(struct virtio_vsock *vs, struct vsock_queue *vq)
{
	while (!vq->broken) {
		unsigned int n = 0;

		while (n < VSOCK_BURST && vsock_pop(vq) == 1) {
			if (vq->chain.in_num)
				vsock_engine_refuse(vs->eng, VSOCK_REFUSE_TX_WRITABLE);
			else
				vsock_engine_guest_tx(vs->eng, vq->chain.iov, vq->chain.out_num,
						      vq->chain.out_len);
			vu_queue_push(vq->q, vq->chain.head, 0);
			n++;
		}
		vu_queue_signal(vq->q);
		if (n < VSOCK_BURST)
			break;
	}
}

/* ---- rx: host to guest, on the rx worker ---- */

static void vsock_rx_run(struct virtio_vsock *vs)
{
	struct vsock_queue *vq = &vs->queues[VSOCK_QUEUE_RX];
	struct vireo_vq *ring;

	if (!vq->q || vq->broken)
		return;
	ring = vu_queue_vq(vq->q);
	vsock_engine_service(vs->eng);
	while (!vq->broken && vsock_engine_has_output(vs->eng)) {
		unsigned int n = 0;
		uint32_t len = 1;

		while (n < VSOCK_BURST && vsock_pop(vq) == 1) {
			if (vq->chain.out_num) {
				vsock_break(vs, vq, VSOCK_REFUSE_RX_READABLE);
				break;
			}
			if (vq->chain.in_len < VSOCK_HDR_LEN) {
				vsock_break(vs, vq, VSOCK_REFUSE_RX_SHORT);
				break;
			}
			len = vsock_engine_guest_rx(vs->eng, vireo_vq_chain_in_iov(&vq->chain),
						    vq->chain.in_num, vq->chain.in_len);
			if (len == 0) {
				/* Nothing after all: the chain goes back on the ring. */
				vireo_vq_set_base(ring, (uint16_t)(vireo_vq_get_base(ring) - 1));
				break;
			}
			vu_queue_push(vq->q, vq->chain.head, len);
			n++;
		}
		vu_queue_signal(vq->q);
		vsock_engine_service(vs->eng);
		if (n < VSOCK_BURST || len == 0)
			break; /* out of buffers (a kick comes) or of output */
	}
}

static void vsock_on_wake(void *arg, int fd, uint32_t events)
{
	uint64_t count;

	(void)events;
	(void)!read(fd, &count, sizeof(count));
	vsock_rx_run(arg);
}

static void vsock_wake(void *arg)
{
	struct virtio_vsock *vs = arg;
	uint64_t one = 1;

	/* EAGAIN: the counter is already set, the rx worker will look. */
	(void)!write(vs->wake_fd, &one, sizeof(one));
}

/* ---- event queue ---- */

static void vsock_event_run(struct virtio_vsock *vs, struct vsock_queue *vq)
{
	struct virtio_vsock_event ev = { .id = VIRTIO_VSOCK_EVENT_TRANSPORT_RESET };
	const uint8_t *src = (const uint8_t *)&ev;
	size_t left = sizeof(ev);
	struct iovec *iov;

	if (vq->broken || !atomic_exchange(&vs->event_owed, false))
		return;
	if (vsock_pop(vq) != 1) {
		atomic_store(&vs->event_owed, true); /* when the driver offers a buffer */
		return;
	}
	if (vq->chain.out_num || vq->chain.in_len < sizeof(ev)) {
		vsock_break(vs, vq, VSOCK_REFUSE_RX_SHORT);
		return;
	}
	iov = vireo_vq_chain_in_iov(&vq->chain);
	/* The event may straddle buffers like anything else. */
	for (unsigned int i = 0; i < vq->chain.in_num && left; i++) {
		size_t l = iov[i].iov_len < left ? iov[i].iov_len : left;

		memcpy(iov[i].iov_base, src, l);
		src += l;
		left -= l;
	}
	vu_queue_push(vq->q, vq->chain.head, sizeof(ev));
	vu_queue_signal(vq->q);
	vireo_log(VIREO_LOG_INFO, TAG, "%s: TRANSPORT_RESET sent", vs->id);
}

/* ---- vdev_ops ---- */

static uint64_t vsock_features(void *model)
{
	(void)model;
	return 0; /* stream only: no feature bit (5.10.3) */
}

static unsigned int vsock_num_queues(void *model)
{
	(void)model;
	return VSOCK_NUM_QUEUES;
}

static int vsock_get_config(void *model, void *buf, uint32_t off, uint32_t len)
{
	const struct virtio_vsock *vs = model;

	/* Bytes past the 8 of the config read as zero (buf is zeroed). */
	if (off < sizeof(vs->cfg)) {
		uint32_t n = (uint32_t)sizeof(vs->cfg) - off;

		memcpy(buf, (const uint8_t *)&vs->cfg + off, n < len ? n : len);
	}
	return 0;
}

static void vsock_reset_work(void *arg)
{
	struct virtio_vsock *vs = arg;

	vsock_engine_reset(vs->eng);
}

/* A new driver session: the guest knows none of our connections any more. */
static int vsock_set_features(void *model, uint64_t features)
{
	struct virtio_vsock *vs = model;

	(void)features;
	if (!atomic_load(&vs->rx_running) ||
	    vireo_loop_defer(vs->rx_loop, vsock_reset_work, vs) < 0)
		vsock_engine_reset(vs->eng);
	atomic_store(&vs->event_owed, true);
	return 0;
}

static int vsock_queue_start(void *model, struct vu_queue *q)
{
	struct virtio_vsock *vs = model;
	struct vsock_queue *vq = &vs->queues[vu_queue_index(q)];

	vq->broken = false;
	vq->q = q;
	if (vu_queue_index(q) == VSOCK_QUEUE_RX)
		atomic_store(&vs->rx_running, true);
	return 0;
}

static void vsock_queue_kick(void *model, struct vu_queue *q)
{
	struct virtio_vsock *vs = model;
	struct vsock_queue *vq = &vs->queues[vu_queue_index(q)];

	switch (vu_queue_index(q)) {
	case VSOCK_QUEUE_RX:
		vsock_rx_run(vs);
		break;
	case VSOCK_QUEUE_TX:
		vsock_tx_run(vs, vq);
		break;
	default:
		vsock_event_run(vs, vq);
		break;
	}
}

static void vsock_queue_stop(void *model, struct vu_queue *q)
{
	struct virtio_vsock *vs = model;

	vs->queues[vu_queue_index(q)].q = NULL;
	if (vu_queue_index(q) == VSOCK_QUEUE_RX)
		atomic_store(&vs->rx_running, false);
}

static void vsock_reset(void *model)
{
	struct virtio_vsock *vs = model;

	vsock_engine_reset(vs->eng); /* every queue is stopped */
	atomic_store(&vs->event_owed, true);
}

static const struct vdev_ops vsock_ops = {
	.name = "vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.protocol_features = 1ull << VU_PROTOCOL_F_CONFIG,
	.features = vsock_features,
	.num_queues = vsock_num_queues,
	.get_config = vsock_get_config,
	.set_features = vsock_set_features,
	.queue_start = vsock_queue_start,
	.queue_kick = vsock_queue_kick,
	.queue_stop = vsock_queue_stop,
	.reset = vsock_reset,
};

/* ---- set-up ---- */

static int vsock_parse_u64(const char *id, const char *key, const char *value, uint64_t min,
			   uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = value ? strtoull(value, &end, 10) : 0;
	if (!value || errno || *end || value[0] == '-' || v < min || v > max) {
		snprintf(err, errlen, "%s: %s=%s: expected %llu to %llu", id, key,
			 value ? value : "(missing)", (unsigned long long)min,
			 (unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int vsock_parse_spec(const struct vd_spec *spec, struct vsock_engine_cfg *cfg,
			    const char **uds, char *err, size_t errlen)
{
	uint64_t v;
	int rc;

	for (size_t i = 0; i < spec->nparams; i++) {
		const char *k = spec->params[i].key;

		/* agent-port is vireod's agent client's (daemon/devices.c). */
		if (strcmp(k, "cid") && strcmp(k, "uds") && strcmp(k, "buf-size") &&
		    strcmp(k, "max-conns") && strcmp(k, "agent-port")) {
			snprintf(err, errlen,
				 "%s: unknown key '%s' (cid, uds, buf-size, max-conns, agent-port)",
				 spec->id, k);
			return -EINVAL;
		}
	}
	if (spec->driver) {
		snprintf(err, errlen, "%s: a vsock device takes no driver", spec->id);
		return -EINVAL;
	}
	/* 0, 1, 2 (hypervisor, local, host) and 2^32 - 1 (any) are not guest CIDs. */
	rc = vsock_parse_u64(spec->id, "cid", vd_spec_param(spec, "cid"), 3, 0xfffffffeull,
			     &cfg->guest_cid, err, errlen);
	if (rc < 0)
		return rc;
	*uds = vd_spec_param(spec, "uds");
	if (!*uds || strlen(*uds) + 12 > 108) {
		snprintf(err, errlen, "%s: uds=PATH is required (at most 96 bytes)", spec->id);
		return -EINVAL;
	}
	v = VSOCK_DEF_BUF;
	if (vd_spec_param(spec, "buf-size")) {
		rc = vsock_parse_u64(spec->id, "buf-size", vd_spec_param(spec, "buf-size"),
				     VSOCK_MIN_BUF, VSOCK_MAX_BUF, &v, err, errlen);
		if (rc < 0)
			return rc;
	}
	cfg->buf_alloc = (uint32_t)v;
	v = VSOCK_DEF_CONNS;
	if (vd_spec_param(spec, "max-conns")) {
		rc = vsock_parse_u64(spec->id, "max-conns", vd_spec_param(spec, "max-conns"), 1,
				     VSOCK_MAX_CONNS, &v, err, errlen);
		if (rc < 0)
			return rc;
	}
	cfg->max_conns = (unsigned int)v;
	return 0;
}

int virtio_vsock_new(const struct vd_spec *spec, struct virtio_vsock **out, char *err,
		     size_t errlen)
{
	struct vsock_engine_cfg cfg = { 0 };
	struct virtio_vsock *vs;
	const char *uds = NULL;
	int rc;

	rc = vsock_parse_spec(spec, &cfg, &uds, err, errlen);
	if (rc < 0)
		return rc;
	vs = calloc(1, sizeof(*vs));
	if (!vs)
		return -ENOMEM;
	snprintf(vs->id, sizeof(vs->id), "%s", spec->id);
	vs->cfg.guest_cid = cfg.guest_cid;
	vs->wake_fd = -1;
	atomic_init(&vs->rx_running, false);
	atomic_init(&vs->event_owed, true);
	rc = vu_dev_new(spec->socket, &vsock_ops, vs, &vs->vu);
	if (rc < 0) {
		snprintf(err, errlen, "%s: socket %s: %s", spec->id, spec->socket, strerror(-rc));
		free(vs);
		return rc;
	}
	vs->rx_loop = vu_dev_queue_loop(vs->vu, VSOCK_QUEUE_RX);
	vs->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vs->wake_fd < 0) {
		rc = -errno;
		goto out_free;
	}
	rc = vireo_loop_watch_fd(vs->rx_loop, vs->wake_fd, VIREO_POLL_IN, vsock_on_wake, vs,
				 &vs->wake_watch);
	if (rc < 0)
		goto out_free;
	cfg.uds = uds;
	cfg.loop = vs->rx_loop;
	cfg.wake = vsock_wake;
	cfg.wake_arg = vs;
	rc = vsock_engine_new(&cfg, &vs->eng);
	if (rc < 0) {
		snprintf(err, errlen, "%s: uds %s: %s", spec->id, uds, strerror(-rc));
		goto out_free;
	}
	*out = vs;
	return 0;

out_free:
	virtio_vsock_free(vs);
	return rc;
}

int virtio_vsock_start(struct virtio_vsock *vs)
{
	return vu_dev_start(vs->vu);
}

void virtio_vsock_free(struct virtio_vsock *vs)
{
	if (!vs)
		return;
	/* Queues stop first: the rx loop is then free to touch from here. */
	vu_dev_stop(vs->vu);
	vsock_engine_free(vs->eng);
	vireo_watch_remove(vs->wake_watch);
	if (vs->wake_fd >= 0)
		close(vs->wake_fd);
	vu_dev_free(vs->vu);
	free(vs);
}

void virtio_vsock_get_stats(struct virtio_vsock *vs, struct vsock_engine_stats *s)
{
	vsock_engine_get_stats(vs->eng, s);
}

void virtio_vsock_vu_stats(struct virtio_vsock *vs, struct vu_dev_stats *s)
{
	vu_dev_get_stats(vs->vu, s);
}

uint64_t virtio_vsock_cid(const struct virtio_vsock *vs)
{
	return vs->cfg.guest_cid;
}

struct vsock_engine *virtio_vsock_engine(struct virtio_vsock *vs)
{
	return vs->eng;
}
