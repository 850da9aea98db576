/* SPDX-License-Identifier: MIT */
/*
 * The virtio-net device model: a vhost-user-net device whose frames go to and come
 * from a network driver instance (host/netdev.h). Owns the guest-facing semantics
 * (features, the virtio-net header, mergeable receive buffers, checks of what the
 * guest puts on its queues); not the driver, not the protocol. QEMU owns virtio-net's
 * config space (MAC, status, MTU) and its control queue for vhost-user-net.
 */
#ifndef VIREO_VIRTIO_NET_H
#define VIREO_VIRTIO_NET_H

#include <stddef.h>
#include <stdint.h>

struct virtio_net;
struct vd_spec;
struct host_driver;
struct vu_dev_stats;

/** Most queue pairs a device has (num-queues). */
#define VIRTIO_NET_MAX_PAIRS 32

/** Why a chain from the guest was refused; each has a counter and a string. */
enum virtio_net_refusal {
	VNET_REFUSE_TX_WRITABLE, /**< a transmit chain with device-writable buffers */
	VNET_REFUSE_TX_SHORT,	 /**< a transmit chain shorter than its header */
	VNET_REFUSE_TX_RUNT,	 /**< a transmit frame shorter than an Ethernet header */
	VNET_REFUSE_TX_OVERSIZE, /**< a transmit frame longer than HOST_NET_MAX_FRAME */
	VNET_REFUSE_TX_OFFLOAD,	 /**< a header asking for an offload not negotiated */
	VNET_REFUSE_TX_HOST,	 /**< a frame the driver host's checks refused */
	VNET_REFUSE_RX_READABLE, /**< a receive chain with device-readable buffers */
	VNET_REFUSE_RX_SHORT,	 /**< a receive chain too small for the header */
	VNET_REFUSE_TX_CSUM,	 /**< checksum offsets outside the frame */
	VNET_REFUSE_TX_GSO,	 /**< a segment size or header length out of range */
	VNET_REFUSE_MAX,
};

/** virtio_net_refusal_str() - The reason as a sentence fragment; "?" out of range. */
const char *virtio_net_refusal_str(enum virtio_net_refusal why);

/** virtio_net_refusal_name() - The reason's counter name ("refused_tx_runt"); "?". */
const char *virtio_net_refusal_name(enum virtio_net_refusal why);

/**
 * virtio_net_new() - Open @drv for @spec (its id, socket, num-queues = queue pairs and
 * driver parameters) and prepare the vhost-user device; nothing listens yet.
 * @err: on failure, one line naming the device and the problem.
 * Return: 0, -EINVAL (spec or driver refused), -ENOMEM, or the driver's error.
 * Context: control thread.
 */
int virtio_net_new(const struct vd_spec *spec, struct host_driver *drv, struct virtio_net **out,
		   char *err, size_t errlen);

/** virtio_net_start() - Listen on the socket. Return: 0 or a negative errno. */
int virtio_net_start(struct virtio_net *net);

/** virtio_net_free() - Disconnect the frontend, stop the queues, close the driver. */
void virtio_net_free(struct virtio_net *net);

/** Counters for `vireoctl device stats`. */
struct virtio_net_stats {
	uint32_t queue_pairs;	/**< pairs the driver instance has */
	uint32_t pairs_running; /**< of those, pairs the guest runs now */
	uint32_t mtu;		/**< the driver's MTU */
	uint8_t mac[6];		/**< the driver's address */
	uint64_t tx_packets;	/**< frames taken from the guest and sent */
	uint64_t tx_bytes;	/**< their bytes (no virtio-net header) */
	uint64_t tx_dropped;	/**< frames dropped: refused or the driver failed */
	uint64_t rx_packets;	/**< frames given to the guest */
	uint64_t rx_bytes;	/**< their bytes (no virtio-net header) */
	uint64_t rx_buffers;	/**< guest chains used for them (mergeable) */
	uint64_t rx_no_buffers; /**< times frames waited for guest buffers */
	uint64_t rx_dropped;	/**< frames the guest could not take (offloads it refused) */
	uint64_t tx_gso;	/**< frames the guest sent for the device to segment */
	uint64_t rx_gso;	/**< coalesced frames given to the guest (GUEST_TSO) */
	uint64_t rx_csum_done;	/**< partial checksums completed for the guest */
	uint64_t driver_errors; /**< bad bursts, counts or lengths from the driver */
	uint64_t refused[VNET_REFUSE_MAX]; /**< per enum virtio_net_refusal */
	int driver_stats_rc;		   /**< 0 if @drv is valid, else why not */
	uint64_t drv[8]; /**< the driver's rx_packets, rx_bytes, rx_dropped, rx_errors,
			      tx_packets, tx_bytes, tx_dropped, tx_errors */
	uint64_t vq_packets[2 * VIRTIO_NET_MAX_PAIRS]; /**< per virtqueue (2N rx, 2N+1 tx) */
	uint64_t vq_bytes[2 * VIRTIO_NET_MAX_PAIRS];   /**< their bytes */
};

/** virtio_net_get_stats() - The counters. Context: control thread. */
void virtio_net_get_stats(struct virtio_net *net, struct virtio_net_stats *s);

/** virtio_net_vu_stats() - The vhost-user device's counters. */
void virtio_net_vu_stats(struct virtio_net *net, struct vu_dev_stats *s);

#endif /* VIREO_VIRTIO_NET_H */
