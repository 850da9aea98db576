/* SPDX-License-Identifier: MIT */
/**
 * @file
 * @brief Vireo SDK: the network uplink class (struct vireo_net_ops).
 *
 * Audience: authors of network drivers (TAP, AF_PACKET, USB NICs, SmartNIC ports). The
 * core turns a guest's virtio-net queues into bursts of struct vireo_pkt: it hands
 * frames to transmit to tx_burst() and empty guest buffers to fill to rx_burst(), on
 * the thread that owns the queue pair. Frames are plain Ethernet (no virtio-net
 * header); checksum and segmentation offload travel as metadata with the virtio-net
 * header's meaning (VIRTIO 1.2, 5.1.6.2), so a driver passes them to hardware or does
 * the work itself.
 *
 * Stable from ABI 1.1 (experimental in 1.0): the functions below are in libvireo's
 * VIREO_1.1 node and the structs grow only at their ends, as ddk-docs/abi-policy.md says.
 *
 * Life of an instance: open(); get_info(); queue_start() of a queue pair when the guest
 * starts using it; then tx_burst() and rx_burst() on the pair's threads, prompted by
 * vireo_net_rx_ready() and vireo_net_tx_ready(); queue_stop() when the guest stops
 * using it; close(). A pair the guest never enables is never started; one may start
 * and stop several times (guest reset, reconnect). Queue pair N is virtio-net's
 * receiveq N and transmitq N.
 *
 * Threads: each virtqueue has its own core thread, so a pair has two. rx_burst() runs
 * on the pair's receive thread, whose loop is vireo_net_queue_loop() (watch the
 * device's receive fds there); tx_burst() runs on the pair's transmit thread. The two
 * may run at the same time: state they share must be atomic or locked.
 */
#ifndef VIREO_NET_H
#define VIREO_NET_H

#include <sys/uio.h>

#include <vireo/common.h>
#include <vireo/params.h>

VIREO_BEGIN_DECLS

struct vireo_loop;

/** A network device instance; owned by the core, passed to every op. */
struct vireo_net;

/** Offload: the device fills in checksums of transmitted frames (VIREO_PKT_F_NEEDS_CSUM). */
#define VIREO_NET_OFF_TX_CSUM (1u << 0)
/** Offload: the device marks received frames whose checksums it verified. */
#define VIREO_NET_OFF_RX_CSUM (1u << 1)
/** Offload: the device segments TCP over IPv4 on transmit (gso_type TCPV4). */
#define VIREO_NET_OFF_TSO4 (1u << 2)
/** Offload: the device segments TCP over IPv6 on transmit (gso_type TCPV6). */
#define VIREO_NET_OFF_TSO6 (1u << 3)
/** Offload: the device may deliver coalesced TCP frames on receive (with gso metadata). */
#define VIREO_NET_OFF_RX_GSO (1u << 4)
/** Every offload of this ABI minor; the core refuses others. */
#define VIREO_NET_OFF_ALL                                                                          \
	(VIREO_NET_OFF_TX_CSUM | VIREO_NET_OFF_RX_CSUM | VIREO_NET_OFF_TSO4 | VIREO_NET_OFF_TSO6 | \
	 VIREO_NET_OFF_RX_GSO)

/**
 * Packet flag: checksum the bytes from csum_start, store it at csum_start + csum_offset.
 * On transmit, a request to the driver; on receive (a driver with VIREO_NET_OFF_RX_CSUM),
 * the frame's checksum is left partial for the guest, as the virtio-net header allows.
 */
#define VIREO_PKT_F_NEEDS_CSUM (1u << 0)
/** Packet flag (rx): the device verified the frame's checksums. */
#define VIREO_PKT_F_CSUM_VALID (1u << 1)

/** Segmentation of a packet; the numbers are virtio-net's gso_type values. */
enum vireo_pkt_gso {
	VIREO_PKT_GSO_NONE = 0,	 /**< one frame */
	VIREO_PKT_GSO_TCPV4 = 1, /**< TCP over IPv4, to cut into gso_size segments */
	VIREO_PKT_GSO_TCPV6 = 4, /**< TCP over IPv6, to cut into gso_size segments */
};

/**
 * One frame and its offload metadata. On transmit the core fills it and the driver reads
 * it; on receive the core supplies iov (an empty guest buffer, @c len its capacity) and
 * the driver writes the frame, @c len and the metadata.
 */
struct vireo_pkt {
	uint32_t struct_size; /**< sizeof(struct vireo_pkt) of the core */
	uint32_t flags;	      /**< VIREO_PKT_F_* */
	uint32_t len;	      /**< frame bytes in iov (rx: capacity on entry, length on return) */
	uint16_t gso_type;    /**< an enum vireo_pkt_gso */
	uint16_t gso_size;    /**< payload bytes per segment when gso_type is set */
	uint16_t hdr_len;     /**< Ethernet + IP + TCP header bytes when gso_type is set */
	uint16_t csum_start;  /**< offset where checksumming starts (NEEDS_CSUM) */
	uint16_t csum_offset; /**< where, after csum_start, the checksum goes (NEEDS_CSUM) */
	uint16_t iovcnt;      /**< entries of iov, >= 1 */
	const struct iovec *iov; /**< the frame's bytes, Ethernet header first */
	void *driver_data;	 /**< the driver's, for the duration of the call */
};
VIREO_ABI_SIZE(struct vireo_pkt, 40);

/** What the driver tells the core about the device, from get_info; struct_size is the core's. */
struct vireo_net_info {
	uint32_t struct_size;	  /**< set by the core */
	uint32_t offloads;	  /**< VIREO_NET_OFF_*; unknown bits are refused */
	uint8_t mac[6];		  /**< the device's address; all zero: the core makes one up */
	uint16_t mtu;		  /**< current MTU, 68..65535; 0: 1500 */
	uint16_t min_mtu;	  /**< 0: 68 */
	uint16_t max_mtu;	  /**< 0: mtu (the MTU cannot change) */
	uint16_t max_queue_pairs; /**< 1..VIREO_NET_MAX_QUEUE_PAIRS; 0: 1 */
	uint16_t queue_size;	  /**< packets per burst the driver can take, 1..4096; 0: 256 */
};
VIREO_ABI_SIZE(struct vireo_net_info, 24);

/** Most queue pairs a network device may have. */
#define VIREO_NET_MAX_QUEUE_PAIRS 64

/** Link state, from get_link; struct_size is the core's. */
struct vireo_net_link {
	uint32_t struct_size; /**< set by the core */
	uint32_t up;	      /**< 1: carrier; 0: none */
	uint32_t speed_mbps;  /**< 0: unknown */
	uint32_t full_duplex; /**< 1: full, 0: half or unknown */
};
VIREO_ABI_SIZE(struct vireo_net_link, 16);

/** Counters the driver keeps; the core zeroes the struct and sets struct_size. */
struct vireo_net_stats {
	uint32_t struct_size; /**< set by the core */
	uint32_t reserved0;   /**< must be zero */
	uint64_t rx_packets;  /**< frames received */
	uint64_t rx_bytes;    /**< bytes received */
	uint64_t rx_dropped;  /**< frames dropped for want of guest buffers or memory */
	uint64_t rx_errors;   /**< bad frames */
	uint64_t tx_packets;  /**< frames sent */
	uint64_t tx_bytes;    /**< bytes sent */
	uint64_t tx_dropped;  /**< frames the driver took and could not send */
	uint64_t tx_errors;   /**< transmit failures */
};
VIREO_ABI_SIZE(struct vireo_net_stats, 72);

/**
 * @brief Open a device instance. Required.
 *
 * @param net the new instance.
 * @param params its parameters, checked against the driver's table; valid until close.
 *
 * @return 0 on success; a negative errno to refuse (log why first).
 *
 * Context: the core's control thread; may block.
 */
typedef int (*vireo_net_open_t)(struct vireo_net *net, const struct vireo_params *params);

/**
 * @brief Describe the device. Required.
 *
 * @param net the instance.
 * @param info zeroed by the core but for struct_size.
 *
 * @return 0 on success; a negative errno fails the open.
 *
 * Context: the core's control thread, after open(); may block.
 */
typedef int (*vireo_net_get_info_t)(struct vireo_net *net, struct vireo_net_info *info);

/**
 * @brief Send up to @p n frames. Required.
 *
 * The driver is done with every frame it counts by the time it returns (copied to its
 * own buffers or sent); the core gives those buffers back to the guest. A frame longer
 * than the MTU + 18 bytes (Ethernet header and a VLAN tag) that is not a GSO frame
 * cannot go on the wire: the driver takes it, drops it and counts it in tx_dropped (the
 * core checks only the absolute limits).
 *
 * @param net the instance.
 * @param queue a started queue pair.
 * @param pkts the frames, in order.
 * @param n how many, 1..queue_size.
 *
 * @return how many leading frames were taken (0..@p n); when fewer than @p n, the core
 *         keeps the rest until the driver calls vireo_net_tx_ready().
 * @return a negative errno if the device failed; the core drops the burst.
 *
 * Context: the queue pair's transmit thread; must not block.
 */
typedef int (*vireo_net_tx_burst_t)(struct vireo_net *net, unsigned int queue,
				    struct vireo_pkt *const *pkts, unsigned int n);

/**
 * @brief Receive up to @p n frames into the guest buffers given. Required.
 *
 * @param net the instance.
 * @param queue a started queue pair.
 * @param pkts empty buffers: iov and len (capacity) set, the rest zero.
 * @param n how many, 1..queue_size.
 *
 * @return how many leading buffers were filled (0..@p n); a frame larger than its
 *         buffer is dropped and counted in rx_dropped.
 * @return a negative errno if the device failed.
 *
 * Context: the queue pair's receive thread (vireo_net_queue_loop()'s), after
 * vireo_net_rx_ready() or when guest buffers arrive; must not block.
 */
typedef int (*vireo_net_rx_burst_t)(struct vireo_net *net, unsigned int queue,
				    struct vireo_pkt *const *pkts, unsigned int n);

/**
 * @brief Release the instance. Optional: NULL means nothing to release.
 *
 * @param net the instance; every queue pair is stopped.
 *
 * Context: the core's control thread; may block.
 */
typedef void (*vireo_net_close_t)(struct vireo_net *net);

/**
 * @brief Report the link state. Optional: NULL means always up, speed unknown.
 *
 * @param net the instance.
 * @param link zeroed by the core but for struct_size.
 *
 * @return 0, or a negative errno (taken as link down).
 *
 * Context: the core's control thread, at start and after vireo_net_link_changed().
 */
typedef int (*vireo_net_get_link_t)(struct vireo_net *net, struct vireo_net_link *link);

/**
 * @brief Change the MTU. Optional: NULL means the MTU is fixed at get_info's.
 *
 * @param net the instance.
 * @param mtu min_mtu..max_mtu.
 *
 * @return 0, or a negative errno (the MTU stays as it was).
 *
 * Context: the core's control thread, with every queue pair stopped; may block.
 */
typedef int (*vireo_net_set_mtu_t)(struct vireo_net *net, unsigned int mtu);

/**
 * @brief Prepare queue pair @p queue. Optional: NULL means no per-queue set-up.
 *
 * @param net the instance.
 * @param queue 0..max_queue_pairs - 1.
 *
 * @return 0, or a negative errno (the pair does not start).
 *
 * Context: a core thread while the control thread waits for it (the guest enabling the
 * pair); no burst of the pair runs; may block briefly.
 */
typedef int (*vireo_net_queue_start_t)(struct vireo_net *net, unsigned int queue);

/**
 * @brief Tear down queue pair @p queue. Optional: NULL means nothing to tear down.
 *
 * @param net the instance.
 * @param queue a started pair; no burst call on it runs any more.
 *
 * Context: as queue_start(); the pair may be started again later.
 */
typedef void (*vireo_net_queue_stop_t)(struct vireo_net *net, unsigned int queue);

/**
 * @brief Report the driver's counters. Optional: NULL means the core's counts only.
 *
 * @param net the instance.
 * @param stats zeroed by the core but for struct_size.
 *
 * @return 0, or a negative errno.
 *
 * Context: the core's control thread, concurrently with bursts on any queue pair.
 */
typedef int (*vireo_net_get_stats_t)(struct vireo_net *net, struct vireo_net_stats *stats);

/**
 * @brief Learn which offloads the guest accepted. Optional: NULL means the driver
 * produces every offload it announced and the core fixes up what the guest refused
 * (it completes partial checksums in software and drops coalesced frames).
 *
 * The guest accepts a subset of get_info's offloads when it negotiates features, and
 * may negotiate again after a reset. A driver that can turn receive offloads off in
 * its hardware (or its kernel interface) does so here, so the guest gets no frame it
 * cannot take: no VIREO_PKT_F_NEEDS_CSUM on receive without VIREO_NET_OFF_RX_CSUM, no
 * gso_type on receive without VIREO_NET_OFF_RX_GSO. Transmit offloads only say what
 * the guest will ask for. Added in ABI 1.1.
 *
 * @param net the instance.
 * @param offloads VIREO_NET_OFF_* bits, a subset of get_info's offloads.
 *
 * @return 0, or a negative errno (the guest's feature negotiation fails).
 *
 * Context: the core's control thread, with every queue pair stopped; may block.
 */
typedef int (*vireo_net_set_offloads_t)(struct vireo_net *net, uint32_t offloads);

/**
 * The network class ops table: `static const`, pointed to by the descriptor's ops.net.
 * Required ops come first; the core reads only the first struct_size bytes.
 */
struct vireo_net_ops {
	uint32_t struct_size;		       /**< sizeof(struct vireo_net_ops) */
	uint32_t reserved0;		       /**< must be zero */
	vireo_net_open_t open;		       /**< required */
	vireo_net_get_info_t get_info;	       /**< required */
	vireo_net_tx_burst_t tx_burst;	       /**< required */
	vireo_net_rx_burst_t rx_burst;	       /**< required */
	vireo_net_close_t close;	       /**< optional: NULL = nothing to release */
	vireo_net_get_link_t get_link;	       /**< optional: NULL = always up */
	vireo_net_set_mtu_t set_mtu;	       /**< optional: NULL = fixed MTU */
	vireo_net_queue_start_t queue_start;   /**< optional: NULL = no per-queue set-up */
	vireo_net_queue_stop_t queue_stop;     /**< optional: NULL = no per-queue tear-down */
	vireo_net_get_stats_t get_stats;       /**< optional: NULL = the core's counts only */
	vireo_net_set_offloads_t set_offloads; /**< optional (1.1): NULL = announced ones */
};
VIREO_ABI_SIZE(struct vireo_net_ops, 96);

/**
 * @brief Tell the core that frames wait on queue pair @p queue; it will call rx_burst().
 *
 * @param net the instance.
 * @param queue a started queue pair.
 *
 * Context: any thread (typically an fd callback on the core's loop); does not block.
 * Calls while a previous one is pending merge into one.
 */
VIREO_API void vireo_net_rx_ready(struct vireo_net *net, unsigned int queue);

/**
 * @brief Tell the core that queue pair @p queue can transmit again after tx_burst() took
 * fewer frames than offered.
 *
 * @param net the instance.
 * @param queue a started queue pair.
 *
 * Context: any thread; does not block.
 */
VIREO_API void vireo_net_tx_ready(struct vireo_net *net, unsigned int queue);

/**
 * @brief Tell the core that the link state may have changed; it calls get_link() and,
 * if it did change, notifies the guest.
 *
 * @param net the instance.
 *
 * Context: any thread; does not block. The core may call get_link() before this
 * returns, on the calling thread: do not hold a lock that get_link() takes. Not from
 * the instance's own open(): the core reads the link once open() has returned.
 */
VIREO_API void vireo_net_link_changed(struct vireo_net *net);

/**
 * @brief Attach the driver's private state to an instance.
 *
 * @param net the instance.
 * @param priv anything; the core never looks at it.
 *
 * Context: any thread; usually open().
 */
VIREO_API void vireo_net_set_priv(struct vireo_net *net, void *priv);

/**
 * @brief The private state attached with vireo_net_set_priv().
 *
 * @param net the instance.
 *
 * @return the pointer; NULL if none was set.
 *
 * Context: any thread.
 */
VIREO_API void *vireo_net_priv(const struct vireo_net *net);

/**
 * @brief The instance's device id, for log lines.
 *
 * @param net the instance.
 *
 * @return a string owned by the core, valid until close.
 *
 * Context: any thread.
 */
VIREO_API const char *vireo_net_id(const struct vireo_net *net);

/**
 * @brief The event loop of queue pair @p queue's receive thread, where rx_burst() runs.
 *
 * A driver adds the fds that tell it frames arrived (a TAP fd, say) to this loop in
 * queue_start() and calls vireo_net_rx_ready() from their callbacks. The loop exists
 * from open() to close(); it runs while the guest's receive queue runs.
 *
 * @param net the instance.
 * @param queue 0..max_queue_pairs - 1.
 *
 * @return the loop; NULL for a queue out of range or an instance no device model bound.
 *
 * Context: any thread.
 */
VIREO_API struct vireo_loop *vireo_net_queue_loop(struct vireo_net *net, unsigned int queue);

VIREO_END_DECLS

#endif /* VIREO_NET_H */
