// SPDX-License-Identifier: MIT
/*
 * virtio-net receive (VIRTIO 1.2, 5.1.6.3-4): empty chains from receiveq N are
 * offered to the driver past the header's room, one per frame, or, with mergeable
 * buffers, as many as a largest frame needs; the header (num_buffers, checksum and
 * segmentation metadata) is written after the driver filled the frame. Chains popped
 * but not filled are given back (net_unpop()), so a burst never holds guest buffers
 * between calls. A malformed receive chain breaks the queue.
 */
#include "virtio/net_internal.h"

#include <errno.h>
#include <string.h>

#include "host/netdev.h"
#include "vhost-user/dev.h"
#include "virtio/net_wire.h"

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
	int rc;

	if (p->len == 0) {
		/* A driver error: give the buffer back holding nothing the guest can take. */
		net_push(nq, nq->slots[first]->chain.head, 0);
		return 1;
	}
	rc = virtio_net_pkt_to_hdr(p, net->acked, &h);
	if (rc < 0) {
		atomic_fetch_add(&net->rx_dropped, 1);
		net_push(nq, nq->slots[first]->chain.head, 0);
		return 1;
	}
	if (rc > 0) {
		virtio_net_csum_complete(p);
		atomic_fetch_add(&net->rx_csum_done, 1);
	}
	if (p->gso_type != VIREO_PKT_GSO_NONE)
		atomic_fetch_add(&net->rx_gso, 1);
	for (unsigned int i = 0; i < nchains && left; i++, used++) {
		uint32_t cap = nq->slots[first + i]->chain.in_len;

		left -= cap < left ? cap : left;
	}
	h.num_buffers = (uint16_t)used;
	net_iov_write(nq->slots[first]->chain.iov, nq->slots[first]->chain.in_num, &h,
		      net->hdr_len);
	left = net->hdr_len + p->len;
	for (unsigned int i = 0; i < used; i++) {
		const struct net_slot *s = nq->slots[first + i];
		uint32_t l = s->chain.in_len < left ? s->chain.in_len : left;

		net_push(nq, s->chain.head, l);
		left -= l;
	}
	atomic_fetch_add(&net->rx_buffers, used);
	atomic_fetch_add(&nq->packets, 1);
	atomic_fetch_add(&nq->bytes, p->len);
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
			vu_queue_broken(nq->q, virtio_net_refusal_str(why));
			nq->broken = true;
			net_push(nq, s->chain.head, 0);
			return 0;
		}
		(*popped)++;
		if (!net->mrg_rxbuf || s->chain.in_len >= need) {
			s->pkt = (struct vireo_pkt){ .struct_size = sizeof(s->pkt),
						     .len = s->chain.in_len - net->hdr_len };
			k = 0;
			net_iov_tail(s->chain.iov, s->chain.in_num, net->hdr_len, s->pkt_iov, &k,
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
				vu_queue_broken(nq->q, virtio_net_refusal_str(why));
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
		net_iov_tail(s->chain.iov, s->chain.in_num, net->hdr_len, nq->span_iov, &k,
			     nq->span_cap);
		for (unsigned int i = 1; i < *popped; i++)
			net_iov_tail(nq->slots[i]->chain.iov, nq->slots[i]->chain.in_num, 0,
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

void net_rx_process(struct net_queue *nq)
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
