/* SPDX-License-Identifier: MIT */
/*
 * What a virtio device model (blk, net, vsock, i2c) gives the vhost-user layer: its
 * features, config space and per-queue hooks. A model sees queues and guest memory,
 * never a vhost-user message; the vhost-user layer never sees a request.
 *
 * Threads: get_config/set_config/reset run on the device's control thread;
 * queue_start, queue_kick and queue_idle on the queue's worker thread, which owns the
 * queue's struct vireo_vq. The control thread calls no hook of a queue while its
 * worker runs, and stops a worker only once queue_idle says every request it took
 * has been completed and pushed.
 */
#ifndef VIREO_VIRTIO_DEVICE_H
#define VIREO_VIRTIO_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

struct vu_queue;

/** A device model's hooks and constants. `static const`, one per model. */
struct vdev_ops {
	const char *name;	    /**< "blk", "net", ...: for logs */
	uint32_t device_id;	    /**< VIRTIO_ID_* */
	uint64_t protocol_features; /**< protocol features beyond the common set */

	/**
	 * features() - Virtio feature bits offered to the driver. Required.
	 * Context: control thread.
	 */
	uint64_t (*features)(void *model);

	/**
	 * num_queues() - Queues the device has. Required.
	 * Context: control thread.
	 */
	unsigned int (*num_queues)(void *model);

	/**
	 * get_config() - Copy @len bytes of config space from @off into @buf. Optional:
	 * NULL means no config space (GET_CONFIG fails).
	 * Return: 0, or a negative errno. The range is within 256 bytes; bytes past the
	 * model's config space must read as zero.
	 * Context: control thread.
	 */
	int (*get_config)(void *model, void *buf, uint32_t off, uint32_t len);

	/**
	 * set_config() - The driver wrote config space. Optional: NULL refuses writes.
	 * Return: 0, or a negative errno.
	 * Context: control thread.
	 */
	int (*set_config)(void *model, const void *buf, uint32_t off, uint32_t len);

	/**
	 * set_features() - The driver's accepted features, before any queue starts.
	 * Optional. Return: 0, or a negative errno to refuse them.
	 * Context: control thread.
	 */
	int (*set_features)(void *model, uint64_t features);

	/**
	 * queue_start() - Queue @q is about to run. Optional.
	 * Return: 0, or a negative errno (the queue does not start).
	 * Context: the queue's worker thread, before its first queue_kick.
	 */
	int (*queue_start)(void *model, struct vu_queue *q);

	/**
	 * queue_kick() - The guest made buffers available (or may have). Required.
	 * Pop chains with vireo_vq_pop(vu_queue_vq(q)), start them, push completions and
	 * call vu_queue_signal().
	 * Context: the queue's worker thread.
	 */
	void (*queue_kick)(void *model, struct vu_queue *q);

	/**
	 * queue_idle() - Whether every chain taken from @q has been pushed back.
	 * Optional: NULL means always (a model that completes before returning).
	 * Context: the queue's worker thread.
	 */
	bool (*queue_idle)(void *model, struct vu_queue *q);

	/**
	 * queue_stop() - Queue @q stops; queue_idle() was true. Optional.
	 * Context: the queue's worker thread, last call on it.
	 */
	void (*queue_stop)(void *model, struct vu_queue *q);

	/**
	 * reset() - The frontend went away or reset the device; every queue is stopped.
	 * Optional. Context: control thread.
	 */
	void (*reset)(void *model);
};

#endif /* VIREO_VIRTIO_DEVICE_H */
