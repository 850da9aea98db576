// SPDX-License-Identifier: MIT
/*
 * virtio-net (VIRTIO 1.2, 5.1) over a network driver. Queue 2N is receiveq N, 2N+1
 * transmitq N; each runs on its own vhost-user worker. Frames go to and from the
 * driver as iovecs into guest memory (no copy): transmit chains lose their header,
 * which may be split from the data anywhere; receive buffers are offered past the
 * header's room, and with VIRTIO_NET_F_MRG_RXBUF one frame may span several chains.
 * Chains popped but not used are put back on the available ring (the worker owns
 * last_avail_idx), so a receive burst never holds guest buffers between calls.
 * Everything the guest puts on a queue is checked here or by host_net_tx().
 */
#include "virtio/net.h"

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
#include "virtqueue/split.h"

#define TAG "virtio-net"

#define NET_BURST     64u /* chains per burst */
#define NET_CHAIN_IOV 64u /* iovecs one chain may map into */
#define NET_VLAN_HLEN 4u

struct net_slot {
	struct vireo_vq_chain chain;
	struct vireo_pkt pkt;
	struct iovec chain_iov[NET_CHAIN_IOV];
	struct iovec pkt_iov[NET_CHAIN_IOV];
};

struct net_queue {
	struct virtio_net *net;
	struct vu_queue *q; /* set while the queue runs */
	unsigned int pair;
	bool tx;
	bool broken;
	bool pushed;		  /* used entries since the last signal */
	atomic_bool ready_posted; /* a rx_ready/tx_ready is deferred to the loop */
	struct net_slot **slots;  /* rx: chains of a burst; tx: frames of a burst */
	struct vireo_pkt **pkts;  /* NET_BURST */
	unsigned int nslots;	  /* rx: NET_BURST + a max frame's chains; tx: NET_BURST */
	unsigned int npending;	  /* tx: leading slots the driver has not taken yet */
	struct iovec *span_iov;	  /* rx: one frame across chains */
	unsigned int span_cap;
};

struct virtio_net {
	char id[VD_ID_MAX + 1];
	struct host_net *hn;
	struct vu_dev *vu;
	unsigned int npairs;
	uint64_t features;    /* offered */
	uint64_t acked;	      /* accepted by the driver */
	unsigned int hdr_len; /* 12, or 10 for a legacy driver without MRG_RXBUF */
	bool mrg_rxbuf;
	uint32_t max_frame; /* largest frame the driver may deliver */
	struct net_queue *queues;
	struct vireo_ratelimit refuse_rl;

	atomic_uint_fast64_t tx_dropped, rx_buffers, rx_no_buffers, refused[VNET_REFUSE_MAX];
};

static const char *const g_refusal_str[VNET_REFUSE_MAX] = {
	[VNET_REFUSE_TX_WRITABLE] = "transmit chain has device-writable buffers",
	[VNET_REFUSE_TX_SHORT] = "transmit chain shorter than the virtio-net header",
	[VNET_REFUSE_TX_RUNT] = "transmit frame shorter than an Ethernet header",
	[VNET_REFUSE_TX_OVERSIZE] = "transmit frame longer than 65550 bytes",
	[VNET_REFUSE_TX_OFFLOAD] = "transmit header asks for an offload not negotiated",
	[VNET_REFUSE_TX_HOST] = "transmit frame refused by the driver host's checks",
	[VNET_REFUSE_RX_READABLE] = "receive chain has device-readable buffers",
	[VNET_REFUSE_RX_SHORT] = "receive chain too small for the virtio-net header",
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
};

const char *virtio_net_refusal_str(enum virtio_net_refusal why)
{
	return (unsigned int)why < VNET_REFUSE_MAX ? g_refusal_str[why] : "?";
}

const char *virtio_net_refusal_name(enum virtio_net_refusal why)
{
	return (unsigned int)why < VNET_REFUSE_MAX ? g_refusal_name[why] : "?";
}

static void net_refuse(struct net_queue *nq, enum virtio_net_refusal why)
{
	atomic_fetch_add(&nq->net->refused[why], 1);
	vireo_log_ratelimited(&nq->net->refuse_rl, VIREO_LOG_WARN, TAG, "%s: queue %u: %s",
			      nq->net->id, vu_queue_index(nq->q), g_refusal_str[why]);
}

/* ---- iovec helpers ---- */

static bool iov_read(const struct iovec *iov, unsigned int n, void *dst, size_t len)
{
	uint8_t *out = dst;

	for (unsigned int i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(out, iov[i].iov_base, l);
		out += l;
		len -= l;
	}
	return len == 0;
}

static void iov_write(const struct iovec *iov, unsigned int n, const void *src, size_t len)
{
	const uint8_t *in = src;

	for (unsigned int i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(iov[i].iov_base, in, l);
		in += l;
		len -= l;
	}
}

/* Appends bytes [skip, end) of an iovec list to @dst at *k; false if @cap ran out. */
static bool iov_tail(const struct iovec *iov, unsigned int n, size_t skip, struct iovec *dst,
		     unsigned int *k, unsigned int cap)
{
	for (unsigned int i = 0; i < n; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		if (*k >= cap)
			return false;
		dst[*k].iov_base = (uint8_t *)iov[i].iov_base + skip;
		dst[*k].iov_len = l - skip;
		(*k)++;
		skip = 0;
	}
	return true;
}

/* Gives back the last @n chains popped: they go on the available ring again. */
static void net_unpop(struct net_queue *nq, unsigned int n)
{
	struct vireo_vq *vq = vu_queue_vq(nq->q);

	if (n)
		vireo_vq_set_base(vq, (uint16_t)(vireo_vq_get_base(vq) - n));
}

static int net_pop(struct net_queue *nq, struct net_slot *s)
{
	enum vireo_vq_err why;
	int rc;

	vireo_vq_chain_init(&s->chain, s->chain_iov, NET_CHAIN_IOV);
	rc = vireo_vq_pop(vu_queue_vq(nq->q), &s->chain, &why);
	if (rc < 0) {
		if (rc == -EPROTO)
			vu_queue_broken(nq->q, vireo_vq_err_str(why));
		nq->broken = true;
	}
	return rc;
}

static void net_push(struct net_queue *nq, uint16_t head, uint32_t len)
{
	/* The head came from pop on this queue, so push cannot refuse it. */
	vireo_vq_push(vu_queue_vq(nq->q), head, len, NULL);
	nq->pushed = true;
}

static void net_signal(struct net_queue *nq)
{
	if (nq->pushed) {
		nq->pushed = false;
		vu_queue_signal(nq->q);
	}
}

/* ---- transmit ---- */

/* Turns a transmit chain into s->pkt; returns a refusal, or VNET_REFUSE_MAX if good. */
static enum virtio_net_refusal net_tx_parse(struct virtio_net *net, struct net_slot *s)
{
	const struct vireo_vq_chain *c = &s->chain;
	struct virtio_net_hdr_v1 h = { 0 };
	struct vireo_pkt *p = &s->pkt;
	unsigned int k = 0;

	if (c->in_num)
		return VNET_REFUSE_TX_WRITABLE;
	if (c->out_len < net->hdr_len || !iov_read(c->iov, c->out_num, &h, net->hdr_len))
		return VNET_REFUSE_TX_SHORT;
	if (c->out_len - net->hdr_len < HOST_NET_MIN_FRAME)
		return VNET_REFUSE_TX_RUNT;
	if (c->out_len - net->hdr_len > HOST_NET_MAX_FRAME)
		return VNET_REFUSE_TX_OVERSIZE;
	*p = (struct vireo_pkt){ .struct_size = sizeof(*p), .len = c->out_len - net->hdr_len };
	if (h.flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return VNET_REFUSE_TX_OFFLOAD;
	if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!(net->acked & (1ull << VIRTIO_NET_F_CSUM)))
			return VNET_REFUSE_TX_OFFLOAD;
		p->flags = VIREO_PKT_F_NEEDS_CSUM;
		p->csum_start = h.csum_start;
		p->csum_offset = h.csum_offset;
	}
	switch (h.gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		break;
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!(net->acked &
		      (1ull << (h.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 ? VIRTIO_NET_F_HOST_TSO4
								       : VIRTIO_NET_F_HOST_TSO6))))
			return VNET_REFUSE_TX_OFFLOAD;
		p->gso_type = h.gso_type;
		p->gso_size = h.gso_size;
		p->hdr_len = h.hdr_len;
		break;
	default:
		return VNET_REFUSE_TX_OFFLOAD;
	}
	if (!iov_tail(c->iov, c->out_num, net->hdr_len, s->pkt_iov, &k, NET_CHAIN_IOV))
		return VNET_REFUSE_TX_OVERSIZE; /* cannot happen: as many iovecs as the chain */
	p->iov = s->pkt_iov;
	p->iovcnt = (uint16_t)k;
	return VNET_REFUSE_MAX;
}

/* Drops the @n leading slots of @nq (pushing them empty) and moves the rest up. */
static void net_tx_retire(struct net_queue *nq, unsigned int n, unsigned int total)
{
	struct net_slot *tmp[NET_BURST];

	for (unsigned int i = 0; i < n; i++)
		net_push(nq, nq->slots[i]->chain.head, 0);
	memcpy(tmp, nq->slots, n * sizeof(*tmp));
	memmove(nq->slots, nq->slots + n, (total - n) * sizeof(*tmp));
	memcpy(nq->slots + total - n, tmp, n * sizeof(*tmp));
	for (unsigned int i = 0; i < total; i++)
		nq->pkts[i] = &nq->slots[i]->pkt;
}

static void net_tx_process(struct net_queue *nq)
{
	struct virtio_net *net = nq->net;
	unsigned int n = nq->npending;
	enum virtio_net_refusal why;
	bool partial;
	int rc;

	while (!nq->broken) {
		while (n < NET_BURST) {
			struct net_slot *s = nq->slots[n];

			if (net_pop(nq, s) <= 0)
				break;
			why = net_tx_parse(net, s);
			if (why != VNET_REFUSE_MAX) {
				net_refuse(nq, why);
				atomic_fetch_add(&net->tx_dropped, 1);
				net_push(nq, s->chain.head, 0);
				continue;
			}
			n++;
		}
		if (n == 0)
			break;
		rc = host_net_tx(net->hn, nq->pair, nq->pkts, n);
		partial = false;
		if (rc == -EINVAL) {
			/* The first frame broke a rule: drop it, offer the rest again. */
			net_refuse(nq, VNET_REFUSE_TX_HOST);
			atomic_fetch_add(&net->tx_dropped, 1);
			rc = 1;
		} else if (rc < 0) {
			/* The device failed: the burst is lost. */
			atomic_fetch_add(&net->tx_dropped, n);
			rc = (int)n;
		} else if (rc == 0) {
			break; /* the driver is full: keep the burst until tx_ready */
		} else {
			partial = (unsigned int)rc < n;
		}
		net_tx_retire(nq, (unsigned int)rc, n);
		n -= (unsigned int)rc;
		if (partial)
			break; /* the rest waits for tx_ready */
	}
	nq->npending = n;
	net_signal(nq);
}

/* ---- receive ---- */

/*
 * Writes the header of a received frame into slot @first and returns the chains it
 * fills, of the @nchains from there; returns how many that is.
 */
static unsigned int net_rx_deliver(struct net_queue *nq, unsigned int first, unsigned int nchains,
				   const struct vireo_pkt *p)
{
	struct virtio_net *net = nq->net;
	struct virtio_net_hdr_v1 h = { 0 };
	uint32_t left = net->hdr_len + p->len;
	unsigned int used = 0;

	if (p->len == 0) {
		/* A driver error: give the buffer back holding nothing the guest can take. */
		net_push(nq, nq->slots[first]->chain.head, 0);
		return 1;
	}
	if ((p->flags & VIREO_PKT_F_CSUM_VALID) && (net->acked & (1ull << VIRTIO_NET_F_GUEST_CSUM)))
		h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	if (p->gso_type != VIREO_PKT_GSO_NONE) {
		h.gso_type = (uint8_t)p->gso_type;
		h.gso_size = p->gso_size;
		h.hdr_len = p->hdr_len;
	}
	for (unsigned int i = 0; i < nchains && left; i++, used++) {
		uint32_t cap = nq->slots[first + i]->chain.in_len;

		left -= cap < left ? cap : left;
	}
	h.num_buffers = (uint16_t)used;
	iov_write(nq->slots[first]->chain.iov, nq->slots[first]->chain.in_num, &h, net->hdr_len);
	left = net->hdr_len + p->len;
	for (unsigned int i = 0; i < used; i++) {
		const struct net_slot *s = nq->slots[first + i];
		uint32_t l = s->chain.in_len < left ? s->chain.in_len : left;

		net_push(nq, s->chain.head, l);
		left -= l;
	}
	atomic_fetch_add(&net->rx_buffers, used);
	return used;
}

/*
 * Pops chains for one burst: one per frame, or, with mergeable buffers, as many as a
 * largest frame needs when the first is too small (a burst of one). Returns the frames
 * offered (their packets in nq->pkts), with *popped the chains taken; 0 when there is
 * nothing to offer (every chain taken was given back).
 */
static unsigned int net_rx_gather(struct net_queue *nq, unsigned int *popped, bool *spans)
{
	struct virtio_net *net = nq->net;
	uint32_t need = net->hdr_len + net->max_frame;
	unsigned int n = 0, k = 0;
	uint64_t total = 0;
	int rc;

	*popped = 0;
	*spans = false;
	while (n < NET_BURST) {
		struct net_slot *s = nq->slots[*popped];

		rc = net_pop(nq, s);
		if (rc <= 0)
			break;
		if (s->chain.out_num || s->chain.in_len < net->hdr_len) {
			/* Latch: a give-back behind a pushed chain would hand it out twice. */
			enum virtio_net_refusal why =
				s->chain.out_num ? VNET_REFUSE_RX_READABLE : VNET_REFUSE_RX_SHORT;

			net_refuse(nq, why);
			vu_queue_broken(nq->q, g_refusal_str[why]);
			nq->broken = true;
			net_push(nq, s->chain.head, 0);
			return 0;
		}
		(*popped)++;
		if (!net->mrg_rxbuf || s->chain.in_len >= need) {
			s->pkt = (struct vireo_pkt){ .struct_size = sizeof(s->pkt),
						     .len = s->chain.in_len - net->hdr_len };
			k = 0;
			iov_tail(s->chain.iov, s->chain.in_num, net->hdr_len, s->pkt_iov, &k,
				 NET_CHAIN_IOV);
			s->pkt.iov = s->pkt_iov;
			s->pkt.iovcnt = (uint16_t)k;
			nq->pkts[n++] = &s->pkt;
			continue;
		}
		if (n > 0) {
			/* Serve the burst so far; this chain starts the next one. */
			net_unpop(nq, 1);
			(*popped)--;
			break;
		}
		/* A frame across chains: take them until a largest frame fits. */
		total = s->chain.in_len;
		while (total < need && *popped < nq->nslots) {
			struct net_slot *t = nq->slots[*popped];

			rc = net_pop(nq, t);
			if (rc <= 0)
				break;
			if (t->chain.out_num || t->chain.in_len == 0) {
				enum virtio_net_refusal why = t->chain.out_num
								      ? VNET_REFUSE_RX_READABLE
								      : VNET_REFUSE_RX_SHORT;

				net_refuse(nq, why);
				vu_queue_broken(nq->q, g_refusal_str[why]);
				nq->broken = true;
				return 0;
			}
			(*popped)++;
			total += t->chain.in_len;
		}
		if (total < need) {
			if (!nq->broken) {
				atomic_fetch_add(&net->rx_no_buffers, 1);
				net_unpop(nq, *popped);
			}
			*popped = 0;
			return 0;
		}
		k = 0;
		iov_tail(s->chain.iov, s->chain.in_num, net->hdr_len, nq->span_iov, &k,
			 nq->span_cap);
		for (unsigned int i = 1; i < *popped; i++)
			iov_tail(nq->slots[i]->chain.iov, nq->slots[i]->chain.in_num, 0,
				 nq->span_iov, &k, nq->span_cap);
		s->pkt = (struct vireo_pkt){ .struct_size = sizeof(s->pkt),
					     .len = (uint32_t)(total - net->hdr_len),
					     .iov = nq->span_iov,
					     .iovcnt = (uint16_t)k };
		nq->pkts[n++] = &s->pkt;
		*spans = true;
		break;
	}
	return n;
}

static void net_rx_process(struct net_queue *nq)
{
	unsigned int n, popped, got;
	bool spans;
	int rc;

	while (!nq->broken) {
		n = net_rx_gather(nq, &popped, &spans);
		if (n == 0)
			break;
		rc = host_net_rx(nq->net->hn, nq->pair, nq->pkts, n);
		got = rc > 0 ? (unsigned int)rc : 0;
		if (spans) {
			unsigned int used = got ? net_rx_deliver(nq, 0, popped, nq->pkts[0]) : 0;

			net_unpop(nq, popped - used);
		} else {
			for (unsigned int i = 0; i < got; i++)
				net_rx_deliver(nq, i, 1, nq->pkts[i]);
			net_unpop(nq, popped - got);
		}
		net_signal(nq);
		if (got < n)
			break; /* the driver has no more for now: it will call rx_ready */
	}
	net_signal(nq);
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
	vireo_log(VIREO_LOG_INFO, TAG, "%s: link %s", net->id, link.up ? "up" : "down");
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

static int net_set_features(void *model, uint64_t features)
{
	struct virtio_net *net = model;
	const struct vireo_net_info *info = host_net_info(net->hn);

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
	((struct virtio_net *)model)->queues[vu_queue_index(q)].q = NULL;
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
	if (net->npairs == 0 || net->npairs > VIREO_NET_MAX_QUEUE_PAIRS / 2) {
		snprintf(err, errlen, "%s: num-queues=%u: 1 to %d queue pairs", spec->id,
			 net->npairs, VIREO_NET_MAX_QUEUE_PAIRS / 2);
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
				       .queue_loop = net_queue_loop };
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
	s->mtu = info->mtu;
	memcpy(s->mac, info->mac, sizeof(s->mac));
	s->tx_packets = c.tx_packets;
	s->tx_bytes = c.tx_bytes;
	s->tx_dropped = atomic_load(&net->tx_dropped);
	s->rx_packets = c.rx_packets;
	s->rx_bytes = c.rx_bytes;
	s->rx_buffers = atomic_load(&net->rx_buffers);
	s->rx_no_buffers = atomic_load(&net->rx_no_buffers);
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
