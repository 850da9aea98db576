/* SPDX-License-Identifier: MIT */
/*
 * A network driver bound to one device: the core side of struct vireo_net_ops. Opens
 * an instance with the user's parameters, checks what get_info reports (defaults
 * applied), starts and stops queue pairs, checks every frame before the driver sees
 * it and every count and length the driver hands back, and binds the driver's
 * notifications (vireo_net_rx_ready() ...) to the device model that opened it.
 * Owns the instance and its counters; not the guest side (virtio/net.c turns virtqueue
 * chains into struct vireo_pkt and back).
 *
 * Threading: open, close, set_mtu, link and stats run on the control thread (stats may
 * run concurrently with bursts). Bursts of one queue pair run on that pair's threads:
 * rx on the receive queue's worker, tx on the transmit queue's worker.
 */
#ifndef VIREO_HOST_NETDEV_H
#define VIREO_HOST_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vireo/net.h>

#include "host/loader.h"

struct host_net;
struct vireo_loop;

/** Largest frame (Ethernet header on) any instance carries: 64 KiB of IP plus L2. */
#define HOST_NET_MAX_FRAME 65550u
/** Smallest frame: an Ethernet header. */
#define HOST_NET_MIN_FRAME 14u

/** Where an instance's notifications go: the device model's hooks, any thread. */
struct host_net_bind {
	void *core;							  /* passed to each hook */
	void (*rx_ready)(void *core, unsigned int queue);		  /* frames wait */
	void (*tx_ready)(void *core, unsigned int queue);		  /* can send again */
	void (*link_changed)(void *core);				  /* call host_net_link() */
	struct vireo_loop *(*queue_loop)(void *core, unsigned int queue); /* rx loop */
	bool lazy_pairs; /* pairs start with host_net_pair_start(), not at open */
};

/** The core's own counts for one instance (what `vireoctl device stats` shows). */
struct host_net_counters {
	uint64_t tx_packets;	/* frames the driver took */
	uint64_t tx_bytes;	/* their bytes */
	uint64_t rx_packets;	/* frames the driver delivered */
	uint64_t rx_bytes;	/* their bytes */
	uint64_t tx_rejected;	/* frames refused by the core's checks */
	uint64_t driver_errors; /* bursts failed, bad counts or lengths from the driver */
};

/**
 * host_net_open() - Open an instance of net driver @drv for device @id with
 * min(@num_pairs, max_queue_pairs) queue pairs, and start them all unless
 * @bind->lazy_pairs (then each starts with host_net_pair_start()).
 * @keys: the driver parameters the user gave, @nparams of them, with @values.
 * @bind: the model's hooks; copied. queue_loop must work from this call on.
 * @err: on failure, one line naming the driver, the device and the problem.
 * Return: 0, -EINVAL (not a net driver, bad parameter, bad info), -ENOMEM, or the
 * driver's open/get_info/queue_start error.
 */
int host_net_open(struct host_driver *drv, const char *id, const char *const *keys,
		  const char *const *values, size_t nparams, unsigned int num_pairs,
		  const struct host_net_bind *bind, struct host_net **out, char *err,
		  size_t errlen);

/** host_net_info() - The checked info, defaults applied (the MAC made up if zero). */
const struct vireo_net_info *host_net_info(const struct host_net *hn);

/** host_net_num_pairs() - How many queue pairs the instance runs. */
unsigned int host_net_num_pairs(const struct host_net *hn);

/**
 * host_net_pair_start() - Start queue pair @queue (the driver's queue_start) if it is
 * not running: the guest enabled it. Return: 0, -EINVAL (out of range), or the
 * driver's error (the pair stays stopped).
 * Context: control thread, or the pair's receive worker while the control thread
 * waits for it (starting or stopping it).
 */
int host_net_pair_start(struct host_net *hn, unsigned int queue);

/**
 * host_net_pair_stop() - Stop queue pair @queue (the driver's queue_stop) if it runs:
 * the guest disabled it or went away. No burst of the pair runs any more.
 * Context: as host_net_pair_start().
 */
void host_net_pair_stop(struct host_net *hn, unsigned int queue);

/** host_net_pairs_running() - How many queue pairs run now. Context: any thread. */
unsigned int host_net_pairs_running(const struct host_net *hn);

/**
 * host_net_tx() - Check @n frames and hand them to the driver.
 * Return: how many leading frames were taken (the rest wait for tx_ready), -EINVAL if
 * the first frame breaks a rule (pkts[0] is to be dropped; later ones are not looked
 * at), -ENOTCONN if the pair is not running, or the driver's negative errno (the
 * burst is to be dropped).
 * Context: queue pair @queue's transmit thread.
 */
int host_net_tx(struct host_net *hn, unsigned int queue, struct vireo_pkt *const *pkts,
		unsigned int n);

/**
 * host_net_rx() - Have the driver fill up to @n empty buffers.
 * Return: how many leading buffers were filled, -ENOTCONN if the pair is not running,
 * or the driver's negative errno. A filled buffer
 * whose length the driver got wrong comes back with len 0 (counted as a driver error).
 * Context: queue pair @queue's receive thread.
 */
int host_net_rx(struct host_net *hn, unsigned int queue, struct vireo_pkt *const *pkts,
		unsigned int n);

/**
 * host_net_link() - The link state (always up if the driver does not say).
 * Context: control thread.
 */
void host_net_link(struct host_net *hn, struct vireo_net_link *link);

/**
 * host_net_set_mtu() - Change the MTU.
 * Return: 0, -EOPNOTSUPP (fixed MTU), -ERANGE (outside min..max), or the driver's error.
 * Context: control thread, every queue pair stopped.
 */
int host_net_set_mtu(struct host_net *hn, unsigned int mtu);

/**
 * host_net_set_offloads() - Tell the driver which of its offloads the guest accepted
 * (VIREO_NET_OFF_* bits; those it did not announce are dropped first).
 * Return: 0 (also when the driver has no set_offloads op), or the driver's error.
 * Context: control thread, every queue pair stopped.
 */
int host_net_set_offloads(struct host_net *hn, uint32_t offloads);

/**
 * host_net_stop_pairs() - Stop every queue pair (queue_stop), as set_mtu needs. No
 * burst may run on any pair from now until host_net_start_pairs().
 * Context: control thread.
 */
void host_net_stop_pairs(struct host_net *hn);

/**
 * host_net_start_pairs() - Start the queue pairs again after host_net_stop_pairs().
 * Return: 0, or the driver's queue_start error (the pairs before it are stopped again).
 * Context: control thread.
 */
int host_net_start_pairs(struct host_net *hn);

/**
 * host_net_stats() - The driver's counters.
 * Return: 0, -EOPNOTSUPP if the driver keeps none, or the driver's error.
 */
int host_net_stats(struct host_net *hn, struct vireo_net_stats *stats);

/** host_net_counters() - The core's counts. Context: any thread. */
void host_net_counters(const struct host_net *hn, struct host_net_counters *c);

/** host_net_close() - Stop the queue pairs and close the instance. */
void host_net_close(struct host_net *hn);

#endif /* VIREO_HOST_NETDEV_H */
