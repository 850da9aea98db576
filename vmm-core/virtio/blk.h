/* SPDX-License-Identifier: MIT */
/*
 * The virtio-blk device model: a vhost-user-blk device whose requests go to a block
 * driver instance (host/blkdev.h). Owns the guest-facing semantics (features, config
 * space, request parsing, status codes); not the driver, not the protocol.
 */
#ifndef VIREO_VIRTIO_BLK_H
#define VIREO_VIRTIO_BLK_H

#include <stddef.h>
#include <stdint.h>

struct virtio_blk;
struct vd_spec;
struct host_driver;
struct vu_dev_stats;
struct host_blk_counters;

/**
 * virtio_blk_new() - Open @drv for @spec (its id, socket, num-queues, readonly and
 * driver parameters) and prepare the vhost-user device; nothing listens yet.
 * @err: on failure, one line naming the device and the problem.
 * Return: 0, -EINVAL (spec or driver refused), -ENOMEM, or the driver's error.
 * Context: control thread.
 */
int virtio_blk_new(const struct vd_spec *spec, struct host_driver *drv, struct virtio_blk **out,
		   char *err, size_t errlen);

/** virtio_blk_start() - Listen on the socket. Return: 0 or a negative errno. */
int virtio_blk_start(struct virtio_blk *blk);

/**
 * virtio_blk_free() - Disconnect the frontend, wait for in-flight requests, flush
 * and close the driver instance.
 */
void virtio_blk_free(struct virtio_blk *blk);

/** Counters for `vireoctl device stats`. */
struct virtio_blk_stats {
	uint64_t capacity; /**< bytes */
	uint32_t queues;   /**< virtqueues */
	uint64_t reads;	   /**< requests completed, by type */
	uint64_t writes;
	uint64_t flushes;
	uint64_t discards;
	uint64_t write_zeroes;
	uint64_t get_ids;
	uint64_t bytes_read;
	uint64_t bytes_written;
	uint64_t errors;      /**< completed with IOERR */
	uint64_t unsupported; /**< completed with UNSUPP */
};

/** virtio_blk_get_stats() - Request counters. Context: any thread. */
void virtio_blk_get_stats(struct virtio_blk *blk, struct virtio_blk_stats *s);

/** virtio_blk_vu_stats() - The vhost-user device's counters. */
void virtio_blk_vu_stats(struct virtio_blk *blk, struct vu_dev_stats *s);

#endif /* VIREO_VIRTIO_BLK_H */
