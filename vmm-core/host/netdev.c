// SPDX-License-Identifier: MIT
/*
 * Network driver instances: open with checked parameters and info, queue pairs,
 * per-frame checks on transmit, per-buffer checks of what the driver received, and
 * the counters. What <vireo/net.h> promises a driver is enforced here, so a guest's
 * bad frame never reaches it and a driver's bad count never reaches a guest.
 */
#include "host/netdev.h"
#include "host/instance.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/internal.h"

#define NET_DEFAULT_MTU	       1500u
#define NET_MIN_MTU	       68u
#define NET_DEFAULT_QUEUE_SIZE 256u
#define NET_MAX_QUEUE_SIZE     4096u

struct host_net {
	struct vireo_net handle; /* what the driver sees */
	struct host_driver *drv;
	const struct vireo_net_ops *ops; /* the core's checked copy */
	const char *name;		 /* the driver's */
	char *id;
	struct vireo_params *params;
	struct vireo_net_info info;
	unsigned int npairs;
	uint32_t *rx_cap;     /* per pair, queue_size entries: capacities offered to rx_burst */
	atomic_bool *running; /* per pair: queue_start done, queue_stop not yet */
	atomic_uint_fast64_t tx_packets, tx_bytes, rx_packets, rx_bytes, tx_rejected, driver_errors;
};

static struct vireo_ratelimit g_netdev_rl = VIREO_RATELIMIT_INIT(5000, 5);

/* A driver's int result as a negative errno (positive values are driver bugs). */
static int net_driver_rc(struct host_net *hn, const char *op, int rc)
{
	if (rc <= 0)
		return rc;
	atomic_fetch_add(&hn->driver_errors, 1);
	return host_driver_rc(&g_netdev_rl, hn->name, hn->id, op, rc);
}

/* A locally administered unicast address from the device id (FNV-1a). */
static void net_make_mac(const char *id, uint8_t mac[6])
{
	uint32_t h = 2166136261u;

	for (const char *p = id; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	mac[0] = 0x02;
	mac[1] = 0x56; /* 'V' */
	mac[2] = (uint8_t)(h >> 24);
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

/* Applies the documented defaults, then the rules; @why gets the first broken one. */
static int net_check_info(struct host_net *hn, char *why, size_t len)
{
	struct vireo_net_info *i = &hn->info;
	static const uint8_t zero[6];

	if (!i->mtu)
		i->mtu = NET_DEFAULT_MTU;
	if (!i->min_mtu)
		i->min_mtu = NET_MIN_MTU;
	if (!i->max_mtu)
		i->max_mtu = i->mtu;
	if (!i->max_queue_pairs)
		i->max_queue_pairs = 1;
	if (!i->queue_size)
		i->queue_size = NET_DEFAULT_QUEUE_SIZE;
	if (memcmp(i->mac, zero, sizeof(zero)) == 0)
		net_make_mac(hn->id, i->mac);

	if (i->offloads & ~VIREO_NET_OFF_ALL)
		return host_fail(why, len, -EINVAL, "offloads 0x%x; known 0x%x", i->offloads,
				 VIREO_NET_OFF_ALL);
	if (i->mac[0] & 1)
		return host_fail(why, len, -EINVAL,
				 "MAC %02x:%02x:%02x:%02x:%02x:%02x is multicast", i->mac[0],
				 i->mac[1], i->mac[2], i->mac[3], i->mac[4], i->mac[5]);
	if (i->min_mtu < NET_MIN_MTU || i->min_mtu > i->mtu || i->mtu > i->max_mtu)
		return host_fail(why, len, -EINVAL, "MTU %u outside min_mtu %u..max_mtu %u (>= %u)",
				 i->mtu, i->min_mtu, i->max_mtu, NET_MIN_MTU);
	if (i->max_queue_pairs > VIREO_NET_MAX_QUEUE_PAIRS || i->queue_size > NET_MAX_QUEUE_SIZE)
		return host_fail(why, len, -EINVAL,
				 "max_queue_pairs %u, queue_size %u exceed %d, %u",
				 i->max_queue_pairs, i->queue_size, VIREO_NET_MAX_QUEUE_PAIRS,
				 NET_MAX_QUEUE_SIZE);
	return 0;
}

static void net_stop_pairs(struct host_net *hn, unsigned int n)
{
	for (unsigned int q = 0; q < n; q++)
		host_net_pair_stop(hn, q);
}

int host_net_pair_start(struct host_net *hn, unsigned int queue)
{
	int rc = 0;

	if (queue >= hn->npairs)
		return -EINVAL;
	if (atomic_load(&hn->running[queue]))
		return 0;
	if (hn->ops->queue_start)
		rc = net_driver_rc(hn, "queue_start", hn->ops->queue_start(&hn->handle, queue));
	if (rc < 0) {
		vireo_log(VIREO_LOG_ERR, HOST_LOG_TAG,
			  "driver '%s' device '%s': queue_start(%u) failed: %s", hn->name, hn->id,
			  queue, strerror(-rc));
		return rc;
	}
	atomic_store(&hn->running[queue], true);
	return 0;
}

void host_net_pair_stop(struct host_net *hn, unsigned int queue)
{
	if (queue >= hn->npairs || !atomic_load(&hn->running[queue]))
		return;
	if (hn->ops->queue_stop)
		hn->ops->queue_stop(&hn->handle, queue);
	atomic_store(&hn->running[queue], false);
}

unsigned int host_net_pairs_running(const struct host_net *hn)
{
	unsigned int n = 0;

	for (unsigned int q = 0; q < hn->npairs; q++)
		n += atomic_load(&hn->running[q]);
	return n;
}

int host_net_open(struct host_driver *drv, const char *id, const char *const *keys,
		  const char *const *values, size_t nparams, unsigned int num_pairs,
		  const struct host_net_bind *bind, struct host_net **out, char *err, size_t errlen)
{
	const struct host_checked *info = host_driver_info(drv);
	struct host_net *hn;
	char why[512];
	unsigned int q = 0;
	int rc;

	*out = NULL;
	if (info->desc.dev_class == VIREO_CLASS_NET && (!id || !*id || num_pairs == 0 || !bind))
		return host_fail(err, errlen, -EINVAL,
				 "driver '%s': need a device id and >= 1 queue pair",
				 info->desc.name);
	hn = calloc(1, sizeof(*hn));
	if (!hn)
		return -ENOMEM;
	rc = host_instance_get(drv, VIREO_CLASS_NET, id, keys, values, nparams, &hn->id,
			       &hn->params, err, errlen);
	if (rc < 0)
		goto out_free_hn;
	hn->drv = drv;
	hn->ops = &info->ops.net;
	hn->name = info->desc.name;
	hn->handle = (struct vireo_net){ .id = hn->id,
					 .core = bind->core,
					 .rx_ready = bind->rx_ready,
					 .tx_ready = bind->tx_ready,
					 .link_changed = bind->link_changed,
					 .queue_loop = bind->queue_loop };
	rc = net_driver_rc(hn, "open", hn->ops->open(&hn->handle, hn->params));
	if (rc < 0) {
		host_fail(err, errlen, rc, "driver '%s' device '%s': open failed: %s", hn->name, id,
			  strerror(-rc));
		goto out_put_instance;
	}
	hn->info.struct_size = sizeof(hn->info);
	rc = net_driver_rc(hn, "get_info", hn->ops->get_info(&hn->handle, &hn->info));
	if (rc < 0) {
		host_fail(err, errlen, rc, "driver '%s' device '%s': get_info failed: %s", hn->name,
			  id, strerror(-rc));
		goto out_close_driver;
	}
	hn->info.struct_size = sizeof(hn->info);
	rc = net_check_info(hn, why, sizeof(why));
	if (rc < 0) {
		host_fail(err, errlen, rc, "driver '%s' device '%s': bad info: %s", hn->name, id,
			  why);
		goto out_close_driver;
	}
	hn->npairs = num_pairs < hn->info.max_queue_pairs ? num_pairs : hn->info.max_queue_pairs;
	hn->rx_cap = calloc((size_t)hn->npairs * hn->info.queue_size, sizeof(*hn->rx_cap));
	hn->running = calloc(hn->npairs, sizeof(*hn->running));
	if (!hn->rx_cap || !hn->running) {
		rc = host_fail(err, errlen, -ENOMEM, "device '%s': out of memory", id);
		goto out_close_driver;
	}
	for (; q < hn->npairs && !bind->lazy_pairs; q++) {
		rc = host_net_pair_start(hn, q);
		if (rc < 0) {
			host_fail(err, errlen, rc,
				  "driver '%s' device '%s': queue_start(%u) failed: %s", hn->name,
				  id, q, strerror(-rc));
			goto out_stop_pairs;
		}
	}
	vireo_log(VIREO_LOG_INFO, HOST_LOG_TAG,
		  "device '%s': driver '%s', MAC %02x:%02x:%02x:%02x:%02x:%02x, MTU %u, "
		  "%u queue pair(s), offloads 0x%x",
		  id, hn->name, hn->info.mac[0], hn->info.mac[1], hn->info.mac[2], hn->info.mac[3],
		  hn->info.mac[4], hn->info.mac[5], hn->info.mtu, hn->npairs, hn->info.offloads);
	*out = hn;
	return 0;

out_stop_pairs:
	net_stop_pairs(hn, q);
out_close_driver:
	free(hn->rx_cap);
	free(hn->running);
	if (hn->ops->close)
		hn->ops->close(&hn->handle);
out_put_instance:
	host_instance_put(drv, hn->id, hn->params);
out_free_hn:
	free(hn);
	return rc;
}

const struct vireo_net_info *host_net_info(const struct host_net *hn)
{
	return &hn->info;
}

unsigned int host_net_num_pairs(const struct host_net *hn)
{
	return hn->npairs;
}

/* The transmit rules of <vireo/net.h>: lengths, flags and offloads the device has. */
static int net_check_tx(const struct host_net *hn, const struct vireo_pkt *p)
{
	uint32_t off = hn->info.offloads;
	uint64_t total = 0;

	if (!p->iov || p->iovcnt == 0)
		return -EINVAL;
	for (unsigned int i = 0; i < p->iovcnt; i++)
		total += p->iov[i].iov_len;
	if (total != p->len || p->len < HOST_NET_MIN_FRAME || p->len > HOST_NET_MAX_FRAME)
		return -EINVAL;
	if (p->flags & ~VIREO_PKT_F_NEEDS_CSUM)
		return -EINVAL;
	if (p->flags & VIREO_PKT_F_NEEDS_CSUM) {
		if (!(off & VIREO_NET_OFF_TX_CSUM) || p->csum_start < HOST_NET_MIN_FRAME ||
		    (uint32_t)p->csum_start + p->csum_offset + 2u > p->len)
			return -EINVAL;
	}
	switch (p->gso_type) {
	case VIREO_PKT_GSO_NONE:
		return 0;
	case VIREO_PKT_GSO_TCPV4:
		if (!(off & VIREO_NET_OFF_TSO4))
			return -EINVAL;
		break;
	case VIREO_PKT_GSO_TCPV6:
		if (!(off & VIREO_NET_OFF_TSO6))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (!p->gso_size || !(p->flags & VIREO_PKT_F_NEEDS_CSUM) || p->hdr_len > p->len)
		return -EINVAL;
	return 0;
}

int host_net_tx(struct host_net *hn, unsigned int queue, struct vireo_pkt *const *pkts,
		unsigned int n)
{
	unsigned int ok = 0;
	uint64_t bytes = 0;
	int rc;

	if (queue >= hn->npairs || n == 0)
		return -EINVAL;
	/* The driver only sees bursts of pairs it started (the guest enabled). */
	if (!atomic_load(&hn->running[queue]))
		return -ENOTCONN;
	if (n > hn->info.queue_size)
		n = hn->info.queue_size;
	/* Offer only the leading frames that pass; the caller drops the first bad one. */
	while (ok < n && net_check_tx(hn, pkts[ok]) == 0)
		ok++;
	if (ok == 0) {
		atomic_fetch_add(&hn->tx_rejected, 1);
		return -EINVAL;
	}
	/* A count, not 0/-errno: more than offered is the driver's bug, taken as all. */
	rc = hn->ops->tx_burst(&hn->handle, queue, pkts, ok);
	if (rc < 0) {
		atomic_fetch_add(&hn->driver_errors, 1);
		return rc;
	}
	if ((unsigned int)rc > ok) {
		atomic_fetch_add(&hn->driver_errors, 1);
		rc = (int)ok;
	}
	for (int i = 0; i < rc; i++)
		bytes += pkts[i]->len;
	atomic_fetch_add(&hn->tx_packets, (unsigned int)rc);
	atomic_fetch_add(&hn->tx_bytes, bytes);
	return rc;
}

/*
 * The receive rules: a verified or a partial checksum (offsets inside the frame) with
 * VIREO_NET_OFF_RX_CSUM, a coalesced TCP frame (partial checksum, a segment size, a
 * header length inside the frame) with VIREO_NET_OFF_RX_GSO.
 */
static int net_check_rx(const struct host_net *hn, const struct vireo_pkt *p)
{
	uint32_t off = hn->info.offloads;

	if (p->flags & ~(VIREO_PKT_F_CSUM_VALID | VIREO_PKT_F_NEEDS_CSUM))
		return -EINVAL;
	if (p->flags && !(off & VIREO_NET_OFF_RX_CSUM))
		return -EINVAL;
	if ((p->flags & VIREO_PKT_F_NEEDS_CSUM) &&
	    (p->csum_start < HOST_NET_MIN_FRAME ||
	     (uint32_t)p->csum_start + p->csum_offset + 2u > p->len))
		return -EINVAL;
	if (p->gso_type == VIREO_PKT_GSO_NONE)
		return 0;
	if (!(off & VIREO_NET_OFF_RX_GSO) ||
	    (p->gso_type != VIREO_PKT_GSO_TCPV4 && p->gso_type != VIREO_PKT_GSO_TCPV6))
		return -EINVAL;
	if (!(p->flags & VIREO_PKT_F_NEEDS_CSUM) || !p->gso_size || p->hdr_len > p->len)
		return -EINVAL;
	return 0;
}

int host_net_rx(struct host_net *hn, unsigned int queue, struct vireo_pkt *const *pkts,
		unsigned int n)
{
	uint64_t bytes = 0, good = 0;
	uint32_t *cap;
	int rc;

	if (queue >= hn->npairs || n == 0)
		return -EINVAL;
	if (!atomic_load(&hn->running[queue]))
		return -ENOTCONN;
	if (n > hn->info.queue_size)
		n = hn->info.queue_size;
	cap = hn->rx_cap + (size_t)queue * hn->info.queue_size;
	for (unsigned int i = 0; i < n; i++) {
		cap[i] = pkts[i]->len;
		pkts[i]->flags = 0;
		pkts[i]->gso_type = VIREO_PKT_GSO_NONE;
		pkts[i]->gso_size = pkts[i]->hdr_len = 0;
		pkts[i]->csum_start = pkts[i]->csum_offset = 0;
	}
	rc = hn->ops->rx_burst(&hn->handle, queue, pkts, n);
	if (rc < 0) {
		atomic_fetch_add(&hn->driver_errors, 1);
		return rc;
	}
	if ((unsigned int)rc > n) {
		atomic_fetch_add(&hn->driver_errors, 1);
		rc = (int)n;
	}
	for (int i = 0; i < rc; i++) {
		struct vireo_pkt *p = pkts[i];

		/* Metadata the device cannot have produced is dropped with the frame. */
		if (p->len < HOST_NET_MIN_FRAME || p->len > cap[i] || net_check_rx(hn, p) < 0) {
			atomic_fetch_add(&hn->driver_errors, 1);
			p->len = 0;
			continue;
		}
		good++;
		bytes += p->len;
	}
	atomic_fetch_add(&hn->rx_packets, good);
	atomic_fetch_add(&hn->rx_bytes, bytes);
	return rc;
}

void host_net_link(struct host_net *hn, struct vireo_net_link *link)
{
	memset(link, 0, sizeof(*link));
	link->struct_size = sizeof(*link);
	if (!hn->ops->get_link) {
		link->up = 1;
		return;
	}
	if (net_driver_rc(hn, "get_link", hn->ops->get_link(&hn->handle, link)) < 0)
		link->up = 0;
	link->struct_size = sizeof(*link);
	link->up = link->up ? 1 : 0;
}

int host_net_set_mtu(struct host_net *hn, unsigned int mtu)
{
	int rc;

	if (!hn->ops->set_mtu)
		return -EOPNOTSUPP;
	if (mtu < hn->info.min_mtu || mtu > hn->info.max_mtu)
		return -ERANGE;
	rc = net_driver_rc(hn, "set_mtu", hn->ops->set_mtu(&hn->handle, mtu));
	if (rc == 0)
		hn->info.mtu = (uint16_t)mtu;
	return rc;
}

int host_net_set_offloads(struct host_net *hn, uint32_t offloads)
{
	if (!hn->ops->set_offloads)
		return 0;
	return net_driver_rc(hn, "set_offloads",
			     hn->ops->set_offloads(&hn->handle, offloads & hn->info.offloads));
}

void host_net_stop_pairs(struct host_net *hn)
{
	net_stop_pairs(hn, hn->npairs);
}

int host_net_start_pairs(struct host_net *hn)
{
	for (unsigned int q = 0; q < hn->npairs; q++) {
		int rc = host_net_pair_start(hn, q);

		if (rc < 0) {
			net_stop_pairs(hn, q);
			return rc;
		}
	}
	return 0;
}

int host_net_stats(struct host_net *hn, struct vireo_net_stats *stats)
{
	if (!hn->ops->get_stats)
		return -EOPNOTSUPP;
	memset(stats, 0, sizeof(*stats));
	stats->struct_size = sizeof(*stats);
	return net_driver_rc(hn, "get_stats", hn->ops->get_stats(&hn->handle, stats));
}

void host_net_counters(const struct host_net *hn, struct host_net_counters *c)
{
	c->tx_packets = atomic_load(&hn->tx_packets);
	c->tx_bytes = atomic_load(&hn->tx_bytes);
	c->rx_packets = atomic_load(&hn->rx_packets);
	c->rx_bytes = atomic_load(&hn->rx_bytes);
	c->tx_rejected = atomic_load(&hn->tx_rejected);
	c->driver_errors = atomic_load(&hn->driver_errors);
}

void host_net_close(struct host_net *hn)
{
	if (!hn)
		return;
	net_stop_pairs(hn, hn->npairs);
	if (hn->ops->close)
		hn->ops->close(&hn->handle);
	host_instance_put(hn->drv, hn->id, hn->params);
	free(hn->rx_cap);
	free(hn->running);
	free(hn);
}
