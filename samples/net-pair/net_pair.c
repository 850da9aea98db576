// SPDX-License-Identifier: MIT
/*
 * net-pair: two instances wired back to back, or one wired to itself. The skeleton a
 * partner copies to start a network driver: parameters, info and MTU, per-queue-pair
 * bounded rings, partial transmit bursts with vireo_net_tx_ready() when the receiver
 * frees room, vireo_net_rx_ready() to wake the receiver, link state that follows the
 * partner, checksum offload done in software, counters, and a descriptor that is the
 * only exported symbol.
 *
 * Instances opened with the same `pair=NAME` are partners: what one transmits on queue
 * pair Q lands in the other's receive ring Q (Q modulo its queue pairs). Their link is
 * down until both exist; frames sent with the link down are dropped and counted. An
 * instance without `pair=` (or with `loopback=on`) is its own partner, link always up.
 *
 * Threads (<vireo/net.h>): tx_burst() runs on a pair's transmit thread and writes the
 * partner's ring; rx_burst() runs on the receive thread and reads the instance's own
 * ring; both run at once, on several pairs and both instances. Each ring has its own
 * mutex (held for a copy, never across a call into the core). Who is whose partner
 * changes only in open() and close(), under a write lock the data path holds for
 * reading, so a partner is never freed under a running burst.
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L /* pthread_rwlock_t under plain -std=c11 */
#endif
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vireo/driver.h>
#include <vireo/log.h>
#include <vireo/net.h>
#include <vireo/params.h>

#define PAIR_MAX_QUEUES	 16
#define PAIR_NAME_MAX	 63
#define PAIR_MIN_MTU	 68
#define PAIR_MAX_MTU	 65500
#define PAIR_L2_OVERHEAD 18  /* Ethernet header and one VLAN tag on top of the MTU */
#define PAIR_BURST	 256 /* queue_size: frames per burst the core may offer */

/* A frame waiting in a ring: its bytes are in the ring's slot of the same index. */
struct pair_slot {
	uint32_t len;
	uint32_t flags; /* VIREO_PKT_F_CSUM_VALID when this driver computed the checksum */
};

/* Frames waiting for one receive queue: written by the partner, read by rx_burst(). */
struct pair_ring {
	pthread_mutex_t lock; /* guards everything below */
	bool started;	      /* between queue_start() and queue_stop() */
	uint32_t head;	      /* oldest frame */
	uint32_t count;	      /* frames waiting */
	uint64_t waiters;     /* partner's transmit queues told "full", one bit each */
	struct pair_slot *slots;
	uint8_t *data; /* ring_size slots of slot_size bytes */
};

struct pair_dev {
	struct vireo_net *net;
	char name[PAIR_NAME_MAX + 1]; /* the pair's; empty: loopback */
	struct pair_dev *peer;	      /* g_lock; self for loopback, NULL while alone */
	struct pair_dev *next;	      /* g_devs, under g_registry */
	unsigned int queues;
	uint32_t ring_size;
	uint32_t slot_size; /* max_mtu + PAIR_L2_OVERHEAD */
	uint16_t max_mtu;
	atomic_uint mtu;
	uint8_t mac[6];
	struct pair_ring rings[PAIR_MAX_QUEUES];
	/* Counters: bursts run on several threads at once. */
	atomic_uint_fast64_t rx_packets, rx_bytes, rx_dropped, tx_packets, tx_bytes, tx_dropped;
};

/* Serialises open() and close(), which pair instances up and notify partners. */
static pthread_mutex_t g_registry = PTHREAD_MUTEX_INITIALIZER;
/* Who is whose peer: written (briefly) by open/close, read by the bursts. */
static pthread_rwlock_t g_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct pair_dev *g_devs; /* instances with a pair name */

static const struct vireo_param_decl pair_params[] = {
	{ VIREO_PARAM_STRING("pair", "",
			     "name shared by the two instances to connect; "
			     "empty: loopback") },
	{ VIREO_PARAM_BOOL("loopback", "off", "echo frames to this instance itself") },
	{ VIREO_PARAM_UINT("queues", "1", "queue pairs, 1 to 16") },
	{ VIREO_PARAM_UINT("mtu", "1500", "initial MTU, 68 to max-mtu") },
	{ VIREO_PARAM_UINT("max-mtu", "9000", "largest MTU set_mtu accepts, 68 to 65500") },
	{ VIREO_PARAM_UINT("ring-size", "256", "frames each receive ring holds, 1 to 4096") },
	{ VIREO_PARAM_MAC("mac", "00:00:00:00:00:00",
			  "the device's address; zero: the core makes one up") },
	{ 0 } /* sentinel */
};

/* Reads the parameters into @d; logs and fails on a value the driver cannot use. */
static int pair_configure(struct pair_dev *d, const char *id, const struct vireo_params *params)
{
	uint64_t queues, mtu, max_mtu, ring_size;
	const char *name = "";
	bool loopback = false;
	int rc;

	rc = vireo_param_get_string(params, "pair", &name);
	if (rc == 0)
		rc = vireo_param_get_bool(params, "loopback", &loopback);
	if (rc == 0)
		rc = vireo_param_get_uint(params, "queues", &queues);
	if (rc == 0)
		rc = vireo_param_get_uint(params, "mtu", &mtu);
	if (rc == 0)
		rc = vireo_param_get_uint(params, "max-mtu", &max_mtu);
	if (rc == 0)
		rc = vireo_param_get_uint(params, "ring-size", &ring_size);
	if (rc == 0)
		rc = vireo_param_get_mac(params, "mac", d->mac);
	if (rc < 0) {
		VIREO_ERR("%s: reading parameters: %s", id, strerror(-rc));
		return rc;
	}
	if (strlen(name) > PAIR_NAME_MAX || (loopback && *name)) {
		VIREO_ERR("%s: pair '%s': at most %d characters, and not with loopback=on", id,
			  name, PAIR_NAME_MAX);
		return -EINVAL;
	}
	if (queues < 1 || queues > PAIR_MAX_QUEUES || ring_size < 1 || ring_size > 4096) {
		VIREO_ERR("%s: queues %llu (1 to %d), ring-size %llu (1 to 4096)", id,
			  (unsigned long long)queues, PAIR_MAX_QUEUES,
			  (unsigned long long)ring_size);
		return -EINVAL;
	}
	if (max_mtu < PAIR_MIN_MTU || max_mtu > PAIR_MAX_MTU || mtu < PAIR_MIN_MTU ||
	    mtu > max_mtu) {
		VIREO_ERR("%s: mtu %llu, max-mtu %llu: expected 68 <= mtu <= max-mtu <= %d", id,
			  (unsigned long long)mtu, (unsigned long long)max_mtu, PAIR_MAX_MTU);
		return -EINVAL;
	}
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->queues = (unsigned int)queues;
	d->ring_size = (uint32_t)ring_size;
	d->max_mtu = (uint16_t)max_mtu;
	d->slot_size = (uint32_t)max_mtu + PAIR_L2_OVERHEAD;
	atomic_store(&d->mtu, (unsigned int)mtu);
	return 0;
}

static void pair_free(struct pair_dev *d)
{
	for (unsigned int q = 0; q < PAIR_MAX_QUEUES; q++) {
		free(d->rings[q].slots);
		free(d->rings[q].data);
		pthread_mutex_destroy(&d->rings[q].lock);
	}
	free(d);
}

/* Tells the transmit queues in @waiters of @producer that they may send again. */
static void pair_wake_producer(struct pair_dev *producer, uint64_t waiters)
{
	for (unsigned int q = 0; waiters && q < 64; q++)
		if (waiters & (1ull << q))
			vireo_net_tx_ready(producer->net, q);
}

/* Finds the instance waiting for a partner named @name; g_registry held. */
static struct pair_dev *pair_find(const char *name, int *count)
{
	struct pair_dev *found = NULL;

	*count = 0;
	for (struct pair_dev *d = g_devs; d; d = d->next) {
		if (strcmp(d->name, name))
			continue;
		(*count)++;
		found = d;
	}
	return found;
}

static int pair_open(struct vireo_net *net, const struct vireo_params *params)
{
	const char *id = vireo_net_id(net);
	struct pair_dev *d, *partner = NULL;
	int rc, count;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->net = net;
	for (unsigned int q = 0; q < PAIR_MAX_QUEUES; q++)
		pthread_mutex_init(&d->rings[q].lock, NULL);
	rc = pair_configure(d, id, params);
	if (rc < 0)
		goto out_free;
	for (unsigned int q = 0; q < d->queues; q++) {
		/* Address space: pages are only touched as frames of that size pass. */
		d->rings[q].slots = calloc(d->ring_size, sizeof(struct pair_slot));
		d->rings[q].data = malloc((size_t)d->ring_size * d->slot_size);
		if (!d->rings[q].slots || !d->rings[q].data) {
			rc = -ENOMEM;
			goto out_free;
		}
	}
	vireo_net_set_priv(net, d);
	if (!d->name[0]) {
		d->peer = d;
		VIREO_INFO("%s: loopback, %u queue pair(s), MTU %u", id, d->queues,
			   atomic_load(&d->mtu));
		return 0;
	}
	pthread_mutex_lock(&g_registry);
	partner = pair_find(d->name, &count);
	if (count >= 2) {
		pthread_mutex_unlock(&g_registry);
		VIREO_ERR("%s: pair '%s' already has two instances", id, d->name);
		rc = -EBUSY;
		goto out_unset;
	}
	pthread_rwlock_wrlock(&g_lock);
	d->next = g_devs;
	g_devs = d;
	if (partner) {
		d->peer = partner;
		partner->peer = d;
	}
	pthread_rwlock_unlock(&g_lock);
	/* Outside g_lock: the core may call get_link() from here. Not for ourselves: the
	 * core reads our link once open() returns. */
	if (partner)
		vireo_net_link_changed(partner->net);
	pthread_mutex_unlock(&g_registry);
	VIREO_INFO("%s: pair '%s' (%s), %u queue pair(s), MTU %u", id, d->name,
		   partner ? "link up" : "waiting for the partner", d->queues,
		   atomic_load(&d->mtu));
	return 0;

out_unset:
	vireo_net_set_priv(net, NULL);
out_free:
	pair_free(d);
	return rc;
}

static void pair_close(struct vireo_net *net)
{
	struct pair_dev *d = vireo_net_priv(net), *partner = NULL, **pp;
	uint64_t waiters[PAIR_MAX_QUEUES] = { 0 };

	if (d->name[0]) {
		pthread_mutex_lock(&g_registry);
		pthread_rwlock_wrlock(&g_lock);
		for (pp = &g_devs; *pp; pp = &(*pp)->next) {
			if (*pp == d) {
				*pp = d->next;
				break;
			}
		}
		partner = d->peer;
		if (partner)
			partner->peer = NULL;
		d->peer = NULL;
		/* The partner's transmit queues waiting on our rings: they will drop now. */
		for (unsigned int q = 0; q < d->queues; q++) {
			pthread_mutex_lock(&d->rings[q].lock);
			waiters[q] = d->rings[q].waiters;
			d->rings[q].waiters = 0;
			pthread_mutex_unlock(&d->rings[q].lock);
		}
		pthread_rwlock_unlock(&g_lock);
		if (partner) {
			for (unsigned int q = 0; q < d->queues; q++)
				pair_wake_producer(partner, waiters[q]);
			vireo_net_link_changed(partner->net);
		}
		pthread_mutex_unlock(&g_registry);
	}
	pair_free(d);
	vireo_net_set_priv(net, NULL);
}

static int pair_get_info(struct vireo_net *net, struct vireo_net_info *info)
{
	const struct pair_dev *d = vireo_net_priv(net);

	memcpy(info->mac, d->mac, sizeof(info->mac));
	/* Checksums are computed here on transmit, so received frames carry valid ones.
	 * No TSO: segmenting is real work, and the partner's guest may not take GSO. */
	info->offloads = VIREO_NET_OFF_TX_CSUM | VIREO_NET_OFF_RX_CSUM;
	info->mtu = (uint16_t)atomic_load(&d->mtu);
	info->min_mtu = PAIR_MIN_MTU;
	info->max_mtu = d->max_mtu;
	info->max_queue_pairs = (uint16_t)d->queues;
	info->queue_size = PAIR_BURST;
	return 0;
}

static int pair_get_link(struct vireo_net *net, struct vireo_net_link *link)
{
	struct pair_dev *d = vireo_net_priv(net);

	pthread_rwlock_rdlock(&g_lock);
	link->up = d->peer != NULL;
	pthread_rwlock_unlock(&g_lock);
	link->full_duplex = 1;
	return 0;
}

static int pair_set_mtu(struct vireo_net *net, unsigned int mtu)
{
	struct pair_dev *d = vireo_net_priv(net);

	/* The core checked min_mtu..max_mtu; the rings were sized for max_mtu. */
	atomic_store(&d->mtu, mtu);
	VIREO_INFO("%s: MTU %u", vireo_net_id(net), mtu);
	return 0;
}

static int pair_queue_start(struct vireo_net *net, unsigned int queue)
{
	struct pair_dev *d = vireo_net_priv(net);
	struct pair_ring *r = &d->rings[queue];

	pthread_mutex_lock(&r->lock);
	r->started = true;
	r->head = 0;
	r->count = 0;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static void pair_queue_stop(struct vireo_net *net, unsigned int queue)
{
	struct pair_dev *d = vireo_net_priv(net);
	struct pair_ring *r = &d->rings[queue];
	uint64_t waiters;

	/* Frames nobody will read are dropped; blocked senders retry and drop theirs. */
	pthread_mutex_lock(&r->lock);
	r->started = false;
	atomic_fetch_add(&d->rx_dropped, r->count);
	r->count = 0;
	waiters = r->waiters;
	r->waiters = 0;
	pthread_mutex_unlock(&r->lock);
	pthread_rwlock_rdlock(&g_lock);
	if (d->peer)
		pair_wake_producer(d->peer, waiters);
	pthread_rwlock_unlock(&g_lock);
}

/* The Internet checksum (RFC 1071) of @len bytes, complemented, as virtio-net means it. */
static uint16_t pair_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Copies one frame into slot @i of @r; does the checksum the sender asked for. */
static void pair_store(struct pair_ring *r, uint32_t slot_size, uint32_t i,
		       const struct vireo_pkt *p)
{
	uint8_t *dst = r->data + (size_t)i * slot_size, *at = dst;

	for (unsigned int k = 0; k < p->iovcnt; k++) {
		memcpy(at, p->iov[k].iov_base, p->iov[k].iov_len);
		at += p->iov[k].iov_len;
	}
	r->slots[i].len = p->len;
	r->slots[i].flags = 0;
	if (p->flags & VIREO_PKT_F_NEEDS_CSUM) {
		/* The field holds the guest's seed (the pseudo-header sum): sum over it. */
		uint16_t c = pair_csum(dst + p->csum_start, p->len - p->csum_start);

		dst[p->csum_start + p->csum_offset] = (uint8_t)(c >> 8);
		dst[p->csum_start + p->csum_offset + 1] = (uint8_t)c;
		r->slots[i].flags = VIREO_PKT_F_CSUM_VALID;
	}
}

static int pair_tx_burst(struct vireo_net *net, unsigned int queue, struct vireo_pkt *const *pkts,
			 unsigned int n)
{
	struct pair_dev *d = vireo_net_priv(net), *peer;
	unsigned int taken = 0, stored = 0, rq = 0;
	uint32_t limit = atomic_load(&d->mtu) + PAIR_L2_OVERHEAD;
	struct pair_ring *r = NULL;

	pthread_rwlock_rdlock(&g_lock);
	peer = d->peer;
	if (peer) {
		rq = queue % peer->queues;
		r = &peer->rings[rq];
		pthread_mutex_lock(&r->lock);
		if (!r->started) {
			pthread_mutex_unlock(&r->lock);
			r = NULL;
		}
	}
	if (!r) {
		/* No carrier, or nobody receives on that queue: the frames are lost. */
		atomic_fetch_add(&d->tx_dropped, n);
		pthread_rwlock_unlock(&g_lock);
		return (int)n;
	}
	for (; taken < n; taken++) {
		const struct vireo_pkt *p = pkts[taken];

		if (p->len > limit) {
			atomic_fetch_add(&d->tx_dropped, 1); /* longer than our MTU allows */
			continue;
		}
		if (p->len > peer->slot_size) {
			atomic_fetch_add(&peer->rx_dropped, 1); /* too long for the partner */
			continue;
		}
		if (r->count == peer->ring_size) {
			r->waiters |= 1ull << queue; /* the receiver calls tx_ready() */
			break;
		}
		pair_store(r, peer->slot_size, (r->head + r->count) % peer->ring_size, p);
		r->count++;
		stored++;
		atomic_fetch_add(&d->tx_packets, 1);
		atomic_fetch_add(&d->tx_bytes, p->len);
	}
	pthread_mutex_unlock(&r->lock);
	if (stored)
		vireo_net_rx_ready(peer->net, rq);
	pthread_rwlock_unlock(&g_lock);
	return (int)taken;
}

/* Copies a stored frame into a receive buffer's iovecs, which hold at least @len. */
static void pair_load(const uint8_t *src, size_t len, const struct vireo_pkt *p)
{
	for (unsigned int k = 0; k < p->iovcnt && len; k++) {
		size_t l = p->iov[k].iov_len < len ? p->iov[k].iov_len : len;

		memcpy(p->iov[k].iov_base, src, l);
		src += l;
		len -= l;
	}
}

static int pair_rx_burst(struct vireo_net *net, unsigned int queue, struct vireo_pkt *const *pkts,
			 unsigned int n)
{
	struct pair_dev *d = vireo_net_priv(net);
	struct pair_ring *r = &d->rings[queue];
	unsigned int got = 0;
	uint64_t waiters = 0;
	bool freed = false;

	pthread_mutex_lock(&r->lock);
	while (got < n && r->count) {
		const struct pair_slot *s = &r->slots[r->head];
		struct vireo_pkt *p = pkts[got];

		if (s->len <= p->len) {
			pair_load(r->data + (size_t)r->head * d->slot_size, s->len, p);
			p->len = s->len;
			p->flags = s->flags;
			atomic_fetch_add(&d->rx_packets, 1);
			atomic_fetch_add(&d->rx_bytes, s->len);
			got++;
		} else {
			atomic_fetch_add(&d->rx_dropped, 1); /* larger than the guest's buffer */
		}
		r->head = (r->head + 1) % d->ring_size;
		r->count--;
		freed = true;
	}
	if (freed) {
		waiters = r->waiters;
		r->waiters = 0;
	}
	pthread_mutex_unlock(&r->lock);
	if (waiters) {
		pthread_rwlock_rdlock(&g_lock);
		if (d->peer) /* the peer writes into our rings */
			pair_wake_producer(d->peer, waiters);
		pthread_rwlock_unlock(&g_lock);
	}
	return (int)got;
}

static int pair_get_stats(struct vireo_net *net, struct vireo_net_stats *s)
{
	struct pair_dev *d = vireo_net_priv(net);

	s->rx_packets = atomic_load(&d->rx_packets);
	s->rx_bytes = atomic_load(&d->rx_bytes);
	s->rx_dropped = atomic_load(&d->rx_dropped);
	s->tx_packets = atomic_load(&d->tx_packets);
	s->tx_bytes = atomic_load(&d->tx_bytes);
	s->tx_dropped = atomic_load(&d->tx_dropped);
	return 0;
}

static const struct vireo_net_ops pair_ops = {
	.struct_size = sizeof(struct vireo_net_ops),
	.open = pair_open,		 /* required */
	.get_info = pair_get_info,	 /* required */
	.tx_burst = pair_tx_burst,	 /* required; the pair's transmit thread */
	.rx_burst = pair_rx_burst,	 /* required; the pair's receive thread */
	.close = pair_close,		 /* optional */
	.get_link = pair_get_link,	 /* optional: up while the partner exists */
	.set_mtu = pair_set_mtu,	 /* optional */
	.queue_start = pair_queue_start, /* optional: the ring takes frames */
	.queue_stop = pair_queue_stop,	 /* optional */
	.get_stats = pair_get_stats,	 /* optional */
};

static const struct vireo_match pair_match[] = {
	{ VIREO_MATCH_NAME("pair") }, /* `driver=pair` finds this driver too */
	{ 0 }			      /* sentinel */
};

VIREO_DRIVER(.name = "net-pair", .version = "1.0.0", .license = "MIT",
	     .description = "back-to-back or loopback Ethernet pair (SDK sample)",
	     .dev_class = VIREO_CLASS_NET, .ops.net = &pair_ops, .match = pair_match,
	     .params = pair_params);
