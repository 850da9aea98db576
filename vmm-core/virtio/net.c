// SPDX-License-Identifier: MIT
/*
 * virtio-net (VIRTIO 1.2, 5.1) over a network driver: the device. Queue 2N is
 * receiveq N, 2N+1 transmitq N; each runs on its own vhost-user worker. This file owns
 * the features offered and accepted, the queue hooks the vhost-user layer calls, the
 * driver's notifications, set-up and the counters; transmit is net_tx.c's, receive
 * net_rx.c's, the queue plumbing net_ring.c's. Frames go to and from the driver as
 * iovecs into guest memory (no copy). Everything the guest puts on a queue is checked
 * by the model or by host_net_tx().
 */
#include "virtio/net_internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vireo/log.h>

#include "control/spec.h"
#include "host/netdev.h"
#include "lib/internal.h"
#include "vhost-user/dev.h"
#include "virtio/device.h"
#include "virtio/net_wire.h"
#include "virtio/virtio_wire.h"

static const char *const g_refusal_str[VNET_REFUSE_MAX] = {
	[VNET_REFUSE_TX_WRITABLE] = "transmit chain has device-writable buffers",
	[VNET_REFUSE_TX_SHORT] = "transmit chain shorter than the virtio-net header",
	[VNET_REFUSE_TX_RUNT] = "transmit frame shorter than an Ethernet header",
	[VNET_REFUSE_TX_OVERSIZE] = "transmit frame longer than 65550 bytes",
	[VNET_REFUSE_TX_OFFLOAD] = "transmit header asks for an offload not negotiated",
	[VNET_REFUSE_TX_HOST] = "transmit frame refused by the driver host's checks",
	[VNET_REFUSE_RX_READABLE] = "receive chain has device-readable buffers",
	[VNET_REFUSE_RX_SHORT] = "receive chain too small for the virtio-net header",
	[VNET_REFUSE_TX_CSUM] = "transmit checksum offsets outside the frame",
	[VNET_REFUSE_TX_GSO] = "transmit segment size or header length out of range",
};

static const char *const g_refusal_name[VNET_REFUSE_MAX] = {
	[VNET_REFUSE_TX_WRITABLE] = "refused_tx_writable",
	[VNET_REFUSE_TX_SHORT] = "refused_tx_short",
	[VNET_REFUSE_TX_RUNT] = "refused_tx_runt",
	[VNET_REFUSE_TX_OVERSIZE] = "refused_tx_oversize",
	[VNET_REFUSE_TX_OFFLOAD] = "refused_tx_offload",
	[VNET_REFUSE_TX_HOST] = "refused_tx_host",
	[VNET_REFUSE_RX_READABLE] = "refused_rx_readable",
	[VNET_REFUSE_RX_SHORT] = "refused_rx_short",
	[VNET_REFUSE_TX_CSUM] = "refused_tx_csum",
	[VNET_REFUSE_TX_GSO] = "refused_tx_gso",
};

const char *virtio_net_refusal_str(enum virtio_net_refusal why)
{
	return (unsigned int)why < VNET_REFUSE_MAX ? g_refusal_str[why] : "?";
}

const char *virtio_net_refusal_name(enum virtio_net_refusal why)
{
	return (unsigned int)why < VNET_REFUSE_MAX ? g_refusal_name[why] : "?";
}

void net_refuse(struct net_queue *nq, enum virtio_net_refusal why)
{
	atomic_fetch_add(&nq->net->refused[why], 1);
	vireo_log_ratelimited(&nq->net->refuse_rl, VIREO_LOG_WARN, NET_TAG, "%s: queue %u: %s",
			      nq->net->id, vu_queue_index(nq->q), g_refusal_str[why]);
}

/* ---- notifications from the driver (any thread) ---- */

static void net_ready_work(void *arg)
{
	struct net_queue *nq = arg;

	atomic_store(&nq->ready_posted, false);
	if (!nq->q)
		return;
	if (nq->tx)
		net_tx_process(nq);
	else
		net_rx_process(nq);
}

static void net_post(struct virtio_net *net, unsigned int queue)
{
	struct net_queue *nq = &net->queues[queue];

	if (atomic_exchange(&nq->ready_posted, true))
		return;
	if (vireo_loop_defer(vu_dev_queue_loop(net->vu, queue), net_ready_work, nq) < 0)
		atomic_store(&nq->ready_posted, false);
}

static void net_rx_ready(void *core, unsigned int pair)
{
	struct virtio_net *net = core;

	if (pair < net->npairs)
		net_post(net, 2 * pair);
}

static void net_tx_ready(void *core, unsigned int pair)
{
	struct virtio_net *net = core;

	if (pair < net->npairs)
		net_post(net, 2 * pair + 1);
}

static void net_link_changed(void *core)
{
	struct virtio_net *net = core;
	struct vireo_net_link link;

	/* QEMU owns the config space (and its status field) for vhost-user-net. */
	host_net_link(net->hn, &link);
	vireo_log(VIREO_LOG_INFO, NET_TAG, "%s: link %s", net->id, link.up ? "up" : "down");
}

static struct vireo_loop *net_queue_loop(void *core, unsigned int pair)
{
	struct virtio_net *net = core;

	return pair < net->npairs ? vu_dev_queue_loop(net->vu, 2 * pair) : NULL;
}

/* ---- vdev_ops ---- */

static uint64_t net_features(void *model)
{
	return ((struct virtio_net *)model)->features;
}

static unsigned int net_num_queues(void *model)
{
	return 2 * ((struct virtio_net *)model)->npairs;
}

/* The SDK's offload bits for what the guest accepted of the features offered. */
static uint32_t net_offloads_accepted(uint64_t features)
{
	uint32_t off = 0;

	if (features & (1ull << VIRTIO_NET_F_CSUM))
		off |= VIREO_NET_OFF_TX_CSUM;
	if (features & (1ull << VIRTIO_NET_F_HOST_TSO4))
		off |= VIREO_NET_OFF_TSO4;
	if (features & (1ull << VIRTIO_NET_F_HOST_TSO6))
		off |= VIREO_NET_OFF_TSO6;
	if (features & (1ull << VIRTIO_NET_F_GUEST_CSUM))
		off |= VIREO_NET_OFF_RX_CSUM;
	/* One bit for both: a driver that coalesces both kinds needs the guest to take both. */
	if ((features & (1ull << VIRTIO_NET_F_GUEST_TSO4)) &&
	    (features & (1ull << VIRTIO_NET_F_GUEST_TSO6)))
		off |= VIREO_NET_OFF_RX_GSO;
	return off;
}

static int net_set_features(void *model, uint64_t features)
{
	struct virtio_net *net = model;
	int rc;
	const struct vireo_net_info *info = host_net_info(net->hn);
	const uint64_t tso_host =
		(1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6);
	const uint64_t tso_guest =
		(1ull << VIRTIO_NET_F_GUEST_TSO4) | (1ull << VIRTIO_NET_F_GUEST_TSO6);

	/* 5.1.3.1: segmentation needs the matching checksum feature. */
	if (((features & tso_host) && !(features & (1ull << VIRTIO_NET_F_CSUM))) ||
	    ((features & tso_guest) && !(features & (1ull << VIRTIO_NET_F_GUEST_CSUM)))) {
		vireo_log(VIREO_LOG_WARN, NET_TAG,
			  "%s: features %#llx: TSO without its checksum feature", net->id,
			  (unsigned long long)features);
		return -EINVAL;
	}
	rc = host_net_set_offloads(net->hn, net_offloads_accepted(features));
	if (rc < 0) {
		vireo_log(VIREO_LOG_WARN, NET_TAG,
			  "%s: the driver refused the guest's offloads: %s", net->id,
			  strerror(-rc));
		return rc;
	}
	net->acked = features;
	net->mrg_rxbuf = features & (1ull << VIRTIO_NET_F_MRG_RXBUF);
	net->hdr_len = (net->mrg_rxbuf || (features & (1ull << VIRTIO_F_VERSION_1)))
			       ? VIRTIO_NET_HDR_LEN
			       : VIRTIO_NET_HDR_LEGACY_LEN;
	net->max_frame = info->mtu + 14u + NET_VLAN_HLEN;
	if (features & ((1ull << VIRTIO_NET_F_GUEST_TSO4) | (1ull << VIRTIO_NET_F_GUEST_TSO6)))
		net->max_frame = HOST_NET_MAX_FRAME;
	return 0;
}

static int net_queue_start(void *model, struct vu_queue *q)
{
	struct net_queue *nq = &((struct virtio_net *)model)->queues[vu_queue_index(q)];
	int rc;

	/*
	 * A pair runs in the driver while the guest runs either of its queues: a TAP,
	 * say, must not steer frames to a queue of a pair the guest left disabled.
	 */
	if (atomic_fetch_add(&nq->net->pair_queues[nq->pair], 1) == 0) {
		rc = host_net_pair_start(nq->net->hn, nq->pair);
		if (rc < 0) {
			atomic_fetch_sub(&nq->net->pair_queues[nq->pair], 1);
			return rc;
		}
	}
	nq->broken = false;
	nq->npending = 0;
	nq->q = q;
	return 0;
}

static void net_queue_kick(void *model, struct vu_queue *q)
{
	struct net_queue *nq = &((struct virtio_net *)model)->queues[vu_queue_index(q)];

	if (nq->tx) {
		if (!nq->npending) /* else: waiting for tx_ready */
			net_tx_process(nq);
	} else {
		net_rx_process(nq);
	}
}

static bool net_queue_idle(void *model, struct vu_queue *q)
{
	struct net_queue *nq = &((struct virtio_net *)model)->queues[vu_queue_index(q)];

	/* Stopping: frames the driver would not take are dropped, their chains returned. */
	if (nq->tx && nq->npending) {
		atomic_fetch_add(&nq->net->tx_dropped, nq->npending);
		net_tx_retire(nq, nq->npending, nq->npending);
		nq->npending = 0;
		net_signal(nq);
	}
	return true;
}

static void net_queue_stop(void *model, struct vu_queue *q)
{
	struct net_queue *nq = &((struct virtio_net *)model)->queues[vu_queue_index(q)];

	nq->q = NULL;
	if (atomic_fetch_sub(&nq->net->pair_queues[nq->pair], 1) == 1)
		host_net_pair_stop(nq->net->hn, nq->pair);
}

static const struct vdev_ops net_ops = {
	.name = "net",
	.device_id = VIRTIO_ID_NET,
	.protocol_features = 0,
	.features = net_features,
	.num_queues = net_num_queues,
	.set_features = net_set_features,
	.queue_start = net_queue_start,
	.queue_kick = net_queue_kick,
	.queue_idle = net_queue_idle,
	.queue_stop = net_queue_stop,
};

/* ---- set-up ---- */

static uint64_t net_offered(const struct virtio_net *net)
{
	uint32_t off = host_net_info(net->hn)->offloads;
	uint64_t f = (1ull << VIRTIO_NET_F_MRG_RXBUF) | (1ull << VIRTIO_F_VERSION_1);

	if (net->npairs > 1)
		f |= 1ull << VIRTIO_NET_F_MQ;
	if (off & VIREO_NET_OFF_TX_CSUM) {
		f |= 1ull << VIRTIO_NET_F_CSUM;
		if (off & VIREO_NET_OFF_TSO4)
			f |= 1ull << VIRTIO_NET_F_HOST_TSO4;
		if (off & VIREO_NET_OFF_TSO6)
			f |= 1ull << VIRTIO_NET_F_HOST_TSO6;
	}
	if (off & VIREO_NET_OFF_RX_CSUM) {
		f |= 1ull << VIRTIO_NET_F_GUEST_CSUM;
		if (off & VIREO_NET_OFF_RX_GSO)
			f |= (1ull << VIRTIO_NET_F_GUEST_TSO4) | (1ull << VIRTIO_NET_F_GUEST_TSO6);
	}
	return f;
}

static int net_alloc_queues(struct virtio_net *net)
{
	net->queues = calloc(2 * net->npairs, sizeof(*net->queues));
	if (!net->queues)
		return -ENOMEM;
	for (unsigned int i = 0; i < 2 * net->npairs; i++) {
		struct net_queue *nq = &net->queues[i];

		nq->net = net;
		nq->pair = i / 2;
		nq->tx = i & 1;
		atomic_init(&nq->ready_posted, false);
		/* rx: a burst, or one largest frame in chains of at least a header each. */
		nq->nslots = nq->tx ? NET_BURST : NET_BURST + HOST_NET_MAX_FRAME / 1024 + 2;
		nq->slots = calloc(nq->nslots, sizeof(*nq->slots));
		nq->pkts = calloc(NET_BURST, sizeof(*nq->pkts));
		if (!nq->slots || !nq->pkts)
			return -ENOMEM;
		for (unsigned int s = 0; s < nq->nslots; s++) {
			nq->slots[s] = calloc(1, sizeof(**nq->slots));
			if (!nq->slots[s])
				return -ENOMEM;
			if (s < NET_BURST)
				nq->pkts[s] = &nq->slots[s]->pkt;
		}
		if (!nq->tx) {
			nq->span_cap = nq->nslots * NET_CHAIN_IOV;
			nq->span_iov = calloc(nq->span_cap, sizeof(*nq->span_iov));
			if (!nq->span_iov)
				return -ENOMEM;
		}
	}
	return 0;
}

static void net_free_queues(struct virtio_net *net)
{
	if (!net->queues)
		return;
	for (unsigned int i = 0; i < 2 * net->npairs; i++) {
		struct net_queue *nq = &net->queues[i];

		for (unsigned int s = 0; nq->slots && s < nq->nslots; s++)
			free(nq->slots[s]);
		free(nq->slots);
		free(nq->pkts);
		free(nq->span_iov);
	}
	free(net->queues);
	net->queues = NULL;
}

int virtio_net_new(const struct vd_spec *spec, struct host_driver *drv, struct virtio_net **out,
		   char *err, size_t errlen)
{
	const char **keys = NULL, **values = NULL;
	struct host_net_bind bind;
	struct virtio_net *net;
	int rc;

	net = calloc(1, sizeof(*net));
	if (!net)
		return -ENOMEM;
	snprintf(net->id, sizeof(net->id), "%s", spec->id);
	net->refuse_rl = (struct vireo_ratelimit)VIREO_RATELIMIT_INIT(5000, 10);
	net->npairs = spec->num_queues;
	if (net->npairs == 0 || net->npairs > VIRTIO_NET_MAX_PAIRS) {
		snprintf(err, errlen, "%s: num-queues=%u: 1 to %d queue pairs", spec->id,
			 net->npairs, VIRTIO_NET_MAX_PAIRS);
		rc = -EINVAL;
		goto out_free;
	}
	keys = calloc(spec->nparams + 1, sizeof(*keys));
	values = calloc(spec->nparams + 1, sizeof(*values));
	if (!keys || !values) {
		rc = -ENOMEM;
		goto out_free;
	}
	for (size_t i = 0; i < spec->nparams; i++) {
		keys[i] = spec->params[i].key;
		values[i] = spec->params[i].value;
	}
	/* The device first: its receive queues' loops are where the driver's fds live. */
	rc = vu_dev_new(spec->socket, &net_ops, net, &net->vu);
	if (rc < 0) {
		snprintf(err, errlen, "%s: socket %s: %s", spec->id, spec->socket, strerror(-rc));
		goto out_free;
	}
	rc = net_alloc_queues(net);
	if (rc < 0)
		goto out_free_queues;
	bind = (struct host_net_bind){ .core = net,
				       .rx_ready = net_rx_ready,
				       .tx_ready = net_tx_ready,
				       .link_changed = net_link_changed,
				       .queue_loop = net_queue_loop,
				       .lazy_pairs = true };
	rc = host_net_open(drv, spec->id, keys, values, spec->nparams, net->npairs, &bind, &net->hn,
			   err, errlen);
	if (rc < 0)
		goto out_free_queues;
	if (host_net_num_pairs(net->hn) < net->npairs) {
		snprintf(err, errlen, "%s: driver %s serves at most %u queue pairs, num-queues=%u",
			 spec->id, host_driver_name(drv), host_net_num_pairs(net->hn), net->npairs);
		rc = -EINVAL;
		goto out_close;
	}
	net->features = net_offered(net);
	net_set_features(net, net->features);
	free(keys);
	free(values);
	*out = net;
	return 0;

out_close:
	host_net_close(net->hn);
out_free_queues:
	net_free_queues(net);
	vu_dev_free(net->vu);
out_free:
	free(keys);
	free(values);
	free(net);
	return rc;
}

int virtio_net_start(struct virtio_net *net)
{
	return vu_dev_start(net->vu);
}

void virtio_net_free(struct virtio_net *net)
{
	if (!net)
		return;
	/* Queues stop first; the driver then removes its watches from their loops. */
	vu_dev_stop(net->vu);
	host_net_close(net->hn);
	vu_dev_free(net->vu);
	net_free_queues(net);
	free(net);
}

void virtio_net_get_stats(struct virtio_net *net, struct virtio_net_stats *s)
{
	const struct vireo_net_info *info = host_net_info(net->hn);
	struct host_net_counters c;
	struct vireo_net_stats d;

	memset(s, 0, sizeof(*s));
	host_net_counters(net->hn, &c);
	s->queue_pairs = net->npairs;
	s->pairs_running = host_net_pairs_running(net->hn);
	for (unsigned int i = 0; i < 2 * net->npairs; i++) {
		s->vq_packets[i] = atomic_load(&net->queues[i].packets);
		s->vq_bytes[i] = atomic_load(&net->queues[i].bytes);
	}
	s->mtu = info->mtu;
	memcpy(s->mac, info->mac, sizeof(s->mac));
	s->tx_packets = c.tx_packets;
	s->tx_bytes = c.tx_bytes;
	s->tx_dropped = atomic_load(&net->tx_dropped);
	s->rx_packets = c.rx_packets;
	s->rx_bytes = c.rx_bytes;
	s->rx_buffers = atomic_load(&net->rx_buffers);
	s->rx_no_buffers = atomic_load(&net->rx_no_buffers);
	s->rx_dropped = atomic_load(&net->rx_dropped);
	s->tx_gso = atomic_load(&net->tx_gso);
	s->rx_gso = atomic_load(&net->rx_gso);
	s->rx_csum_done = atomic_load(&net->rx_csum_done);
	s->driver_errors = c.driver_errors;
	for (unsigned int i = 0; i < VNET_REFUSE_MAX; i++)
		s->refused[i] = atomic_load(&net->refused[i]);
	s->driver_stats_rc = host_net_stats(net->hn, &d);
	if (s->driver_stats_rc == 0) {
		s->drv[0] = d.rx_packets;
		s->drv[1] = d.rx_bytes;
		s->drv[2] = d.rx_dropped;
		s->drv[3] = d.rx_errors;
		s->drv[4] = d.tx_packets;
		s->drv[5] = d.tx_bytes;
		s->drv[6] = d.tx_dropped;
		s->drv[7] = d.tx_errors;
	}
}

void virtio_net_vu_stats(struct virtio_net *net, struct vu_dev_stats *s)
{
	vu_dev_get_stats(net->vu, s);
}
