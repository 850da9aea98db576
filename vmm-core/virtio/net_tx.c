// SPDX-License-Identifier: MIT
/*
 * virtio-net transmit (VIRTIO 1.2, 5.1.6.2): chains from transmitq N become struct
 * vireo_pkt frames (the header stripped, its offload request checked against what
 * was negotiated) and go to the driver in bursts; frames the driver does not take
 * yet stay in their slots until it calls vireo_net_tx_ready(). A refused chain is
 * dropped, counted by reason and returned to the guest.
 */
#include "virtio/net_internal.h"

#include <errno.h>
#include <string.h>

#include "host/netdev.h"
#include "virtio/net_wire.h"
#include "virtio/virtio_wire.h"
#include "virtqueue/iov.h"

/* Turns a transmit chain into s->pkt; returns a refusal, or VNET_REFUSE_MAX if good. */
static enum virtio_net_refusal net_tx_parse(struct virtio_net *net, struct net_slot *s)
{
	const struct vireo_vq_chain *c = &s->chain;
	struct virtio_net_hdr_v1 h = { 0 };
	struct vireo_pkt *p = &s->pkt;
	enum virtio_net_refusal why;
	unsigned int k = 0;

	if (c->in_num)
		return VNET_REFUSE_TX_WRITABLE;
	if (c->out_len < net->hdr_len || !vq_iov_read(c->iov, c->out_num, 0, &h, net->hdr_len))
		return VNET_REFUSE_TX_SHORT;
	if (c->out_len - net->hdr_len < HOST_NET_MIN_FRAME)
		return VNET_REFUSE_TX_RUNT;
	if (c->out_len - net->hdr_len > HOST_NET_MAX_FRAME)
		return VNET_REFUSE_TX_OVERSIZE;
	*p = (struct vireo_pkt){ .struct_size = sizeof(*p), .len = c->out_len - net->hdr_len };
	why = virtio_net_hdr_to_pkt(&h, net->acked, p);
	if (why != VNET_REFUSE_MAX)
		return why;
	if (!net_iov_tail(c->iov, c->out_num, net->hdr_len, s->pkt_iov, &k, NET_CHAIN_IOV))
		return VNET_REFUSE_TX_OVERSIZE; /* cannot happen: as many iovecs as the chain */
	p->iov = s->pkt_iov;
	p->iovcnt = (uint16_t)k;
	return VNET_REFUSE_MAX;
}

/* Counts the @n leading frames of a burst the driver took. */
static void net_tx_count(struct net_queue *nq, unsigned int n)
{
	uint64_t bytes = 0, gso = 0;

	for (unsigned int i = 0; i < n; i++) {
		bytes += nq->pkts[i]->len;
		gso += nq->pkts[i]->gso_type != VIREO_PKT_GSO_NONE;
	}
	atomic_fetch_add(&nq->net->tx_gso, gso);
	atomic_fetch_add(&nq->packets, n);
	atomic_fetch_add(&nq->bytes, bytes);
}

/* Drops the @n leading slots of @nq (pushing them empty) and moves the rest up. */
void net_tx_retire(struct net_queue *nq, unsigned int n, unsigned int total)
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

void net_tx_process(struct net_queue *nq)
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
			net_tx_count(nq, (unsigned int)rc);
		}
		net_tx_retire(nq, (unsigned int)rc, n);
		n -= (unsigned int)rc;
		if (partial)
			break; /* the rest waits for tx_ready */
	}
	nq->npending = n;
	net_signal(nq);
}
