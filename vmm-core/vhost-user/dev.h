/* SPDX-License-Identifier: MIT */
/*
 * A vhost-user device: the listening socket one VMM connects to, the session with
 * it (features, guest memory, rings), and one worker thread per running queue. The
 * device model behind it is reached only through struct vdev_ops.
 *
 * Threads: a control thread per device accepts the frontend and handles its
 * messages; each started queue has a worker running a struct vireo_loop that watches
 * the queue's kick eventfd (and whatever the model or its driver adds to the loop).
 * When the frontend disconnects, queues stop, the model is reset and the device
 * waits for the next connection (QEMU's reconnect=).
 */
#ifndef VIREO_VHOST_USER_DEV_H
#define VIREO_VHOST_USER_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/device.h"
#include "virtqueue/err.h"

struct vu_dev;
struct vu_queue;
struct vireo_vq;
struct vireo_vq_chain;
struct vireo_loop;

/** Counters for `vireoctl device stats`; read with vu_dev_get_stats(). */
struct vu_dev_stats {
	uint64_t connections; /**< frontends accepted */
	uint64_t messages;    /**< vhost-user requests handled */
	uint64_t refused;     /**< requests refused (malformed or failed) */
	uint64_t kicks;	      /**< kick events handled, all queues */
	uint64_t calls;	      /**< guest notifications sent, all queues */
	bool connected;	      /**< a frontend is connected now */
	bool broken;	      /**< a queue saw a guest violation (NEEDS_RESET) */
	unsigned int queues_running;
};

/**
 * vu_dev_new() - Create a device that will serve @ops/@model on @socket_path.
 * Return: 0, or -ENOMEM / -ENAMETOOLONG.
 * Context: any thread, before vu_dev_start().
 */
int vu_dev_new(const char *socket_path, const struct vdev_ops *ops, void *model,
	       struct vu_dev **out);

/**
 * vu_dev_start() - Listen on the socket (replacing a stale one; refusing a live one)
 * and start the control thread.
 * Return: 0, -EADDRINUSE, or a negative errno.
 */
int vu_dev_start(struct vu_dev *dev);

/**
 * vu_dev_stop() - Disconnect the frontend, stop every queue (waiting for in-flight
 * requests to complete), stop the control thread and remove the socket.
 */
void vu_dev_stop(struct vu_dev *dev);

/** vu_dev_free() - Free a stopped (or never started) device. */
void vu_dev_free(struct vu_dev *dev);

/** vu_dev_get_stats() - A snapshot of the counters. Context: any thread. */
void vu_dev_get_stats(struct vu_dev *dev, struct vu_dev_stats *stats);

/**
 * vu_dev_queue_loop() - The event loop of queue @index. It exists from vu_dev_new()
 * to vu_dev_free(), across connections; the queue's worker runs it while the queue
 * runs. Return: the loop, or NULL if @index is out of range.
 */
struct vireo_loop *vu_dev_queue_loop(struct vu_dev *dev, unsigned int index);

/** vu_dev_features() - Features the driver accepted (valid while queues run). */
uint64_t vu_dev_features(const struct vu_dev *dev);

/** One guest RAM region as vu_dev_mem_snapshot() copies it. */
struct vu_mem_span {
	uint64_t gpa;	      /**< guest-physical address of the first byte */
	uint64_t size;	      /**< bytes */
	uint64_t mmap_offset; /**< offset of the first byte in @fd */
	int fd;		      /**< a dup of the region's fd: the caller closes it */
};

/**
 * vu_dev_mem_snapshot() - Copy the guest memory table, for a service outside the
 * queues (the balloon's hole punching). Each span gets its own dup of the region's
 * fd, so it stays usable whatever the frontend changes afterwards.
 * Return: the number of spans (0: no table yet), -ENOBUFS if more than @cap, or the
 * negative errno of a failed dup (nothing is left open on failure).
 * Context: any thread but the device's control thread.
 */
int vu_dev_mem_snapshot(struct vu_dev *dev, struct vu_mem_span *out, unsigned int cap);

/* ---- for device models, on a queue's worker thread ---- */

/** vu_queue_vq() - The ring of @q. */
struct vireo_vq *vu_queue_vq(struct vu_queue *q);

/** vu_queue_index() - The queue's number. */
unsigned int vu_queue_index(const struct vu_queue *q);

/** vu_queue_loop() - The worker's event loop (for driver fds and timers). */
struct vireo_loop *vu_queue_loop(struct vu_queue *q);

/** vu_queue_dev() - The device the queue belongs to. */
struct vu_dev *vu_queue_dev(struct vu_queue *q);

/**
 * vu_queue_pop() - The next chain to serve: first, once, the chains that were in
 * flight when a previous vireod died (in-flight tracking), then new ones from the
 * available ring. Same returns as vireo_vq_pop(). Models use this, not vireo_vq_pop().
 */
int vu_queue_pop(struct vu_queue *q, struct vireo_vq_chain *chain, enum vireo_vq_err *why);

/**
 * vu_queue_push() - Return a chain on the used ring (and clear it from the in-flight
 * record). Same returns as vireo_vq_push(). Models use this, not vireo_vq_push().
 */
int vu_queue_push(struct vu_queue *q, uint16_t head, uint32_t len);

/**
 * vu_queue_signal() - After pushes: signal the guest if it asked to be told.
 * Context: the queue's worker thread.
 */
void vu_queue_signal(struct vu_queue *q);

/**
 * vu_queue_broken() - Report that the guest broke queue @q's rules (the ring layer
 * already latched it): the device is marked broken (NEEDS_RESET) and the queue stops
 * being served until the frontend resets it.
 * Context: the queue's worker thread.
 */
void vu_queue_broken(struct vu_queue *q, const char *why);

#endif /* VIREO_VHOST_USER_DEV_H */
