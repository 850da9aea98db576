/* SPDX-License-Identifier: MIT */
/*
 * What the virtio-net model's files share (net.c: device, features, set-up, stats;
 * net_ring.c: queue plumbing and iovec helpers; net_tx.c: transmit; net_rx.c:
 * receive). Not an interface outside vmm-core/virtio/net*.
 *
 * Threading: a struct net_queue belongs to its queue's worker; struct virtio_net's
 * counters are atomics read by the control thread, the rest is set before the queues
 * run (set_features) and read-only while they do.
 */
#ifndef VIREO_VIRTIO_NET_INTERNAL_H
#define VIREO_VIRTIO_NET_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <vireo/log.h>
#include <vireo/net.h>

#include "control/spec.h"
#include "lib/internal.h"
#include "virtio/net.h"
#include "virtqueue/split.h"

#define NET_TAG "virtio-net"

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
	atomic_uint_fast64_t packets, bytes; /* frames this queue carried, for stats */
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
	atomic_uint pair_queues[VIRTIO_NET_MAX_PAIRS]; /* running queues of each pair */
	struct vireo_ratelimit refuse_rl;

	atomic_uint_fast64_t tx_dropped, rx_buffers, rx_no_buffers, rx_dropped,
		refused[VNET_REFUSE_MAX];
	atomic_uint_fast64_t tx_gso, rx_gso, rx_csum_done; /* offload use, for stats */
};

/* net.c */
void net_refuse(struct net_queue *nq, enum virtio_net_refusal why);

void net_iov_write(const struct iovec *iov, unsigned int n, const void *src, size_t len);
bool net_iov_tail(const struct iovec *iov, unsigned int n, size_t skip, struct iovec *dst,
		  unsigned int *k, unsigned int cap);

/* net_ring.c: the queue */
int net_pop(struct net_queue *nq, struct net_slot *s);
void net_unpop(struct net_queue *nq, unsigned int n);
void net_push(struct net_queue *nq, uint16_t head, uint32_t len);
void net_signal(struct net_queue *nq);

/* net_hdr.c */
struct virtio_net_hdr_v1;
/*
 * virtio_net_hdr_to_pkt() - A transmit header's offload request into @p (len set,
 * flags and offload fields zero), checked against the @acked features and the frame.
 * Return: VNET_REFUSE_MAX if good, else why the frame is refused.
 */
enum virtio_net_refusal virtio_net_hdr_to_pkt(const struct virtio_net_hdr_v1 *h, uint64_t acked,
					      struct vireo_pkt *p);
/*
 * virtio_net_pkt_to_hdr() - The header of a received frame (all but num_buffers).
 * Return: 0; 1 if the checksum is partial and the guest did not accept GUEST_CSUM
 * (complete it with virtio_net_csum_complete()); -1 if the guest cannot take the frame
 * (segmented, but GUEST_TSO4/6 not accepted).
 */
int virtio_net_pkt_to_hdr(const struct vireo_pkt *p, uint64_t acked, struct virtio_net_hdr_v1 *h);
/* virtio_net_csum_complete() - Fill in @p's partial checksum (csum_start/offset checked). */
void virtio_net_csum_complete(const struct vireo_pkt *p);

/* net_tx.c */
void net_tx_process(struct net_queue *nq);
void net_tx_retire(struct net_queue *nq, unsigned int n, unsigned int total);

/* net_rx.c */
void net_rx_process(struct net_queue *nq);

#endif /* VIREO_VIRTIO_NET_INTERNAL_H */
