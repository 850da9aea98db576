/* SPDX-License-Identifier: MIT */
/*
 * A block driver bound to one device: the core side of struct vireo_blk_ops. Opens an
 * instance with the user's parameters, checks the geometry the driver reports, checks
 * every request before the driver sees it (the guarantees <vireo/blk.h> lists), and
 * turns the driver's vireo_blk_complete() into exactly one callback per request.
 * Owns the instance and its counters; not the guest side (the virtio-blk model turns
 * virtqueue chains into host_blk_io and back).
 *
 * Threading: open, close, stats and counters run on the control thread. Submits on one
 * queue must not overlap (one core thread per queue); different queues may submit in
 * parallel. A done callback runs on whichever thread the driver completed on, possibly
 * inside host_blk_submit().
 */
#ifndef VIREO_HOST_BLKDEV_H
#define VIREO_HOST_BLKDEV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <vireo/blk.h>

#include "host/loader.h"
#include "lib/internal.h"

struct host_blk;
struct host_blk_io;

/** host_blk_open() flag: the device is read-only (readonly=on); vireo_blk_read_only(). */
#define HOST_BLK_OPEN_READ_ONLY (1u << 0)

/** typedef host_blk_done_t - A request finished: @status is 0 or a negative errno. */
typedef void (*host_blk_done_t)(struct host_blk_io *io, int status);

/**
 * One request, owned by the caller from host_blk_submit() until its done callback.
 * The caller fills the first block; the rest is the core's.
 */
struct host_blk_io {
	uint32_t op;		 /* enum vireo_blk_op */
	uint32_t queue;		 /* < host_blk_num_queues() */
	uint32_t flags;		 /* VIREO_BLK_REQ_F_* */
	uint32_t iovcnt;	 /* read/write: 1..max_segments; else 0 */
	uint64_t offset;	 /* bytes */
	uint64_t length;	 /* bytes; 0 for flush */
	const struct iovec *iov; /* read/write buffers */
	host_blk_done_t done;	 /* called exactly once for an accepted request */
	void *ctx;		 /* the caller's */
	/* core-private */
	struct host_blk *hb;
	struct vireo_core_blk_req req;
};

/** The core's own counts for one instance (what `vireoctl device stats` shows). */
struct host_blk_counters {
	uint64_t submitted; /* accepted by the driver */
	uint64_t completed; /* completions delivered */
	uint64_t errors;    /* completions with a non-zero status */
	uint64_t rejected;  /* refused by the core's checks or by submit() */
};

/**
 * host_blk_open() - Open an instance of block driver @drv for device @id.
 * @keys: the driver parameters the user gave, @nparams of them, with @values.
 * @num_queues: queues the device model wants (>= 1); the instance gets
 * min(@num_queues, geometry max_queues), each started with queue_start.
 * @loops: the event loop of each of the @num_queues queues, which the driver gets from
 * vireo_blk_queue_loop() (the array must outlive the instance); NULL: none.
 * @flags: HOST_BLK_OPEN_* (the device spec's choices the driver must know at open).
 * @err: on failure, one line naming the driver, the device and the problem.
 * Return: 0, -EINVAL (not a blk driver, bad parameter, bad geometry), -ENOMEM, or the
 * driver's open/queue_start error.
 */
int host_blk_open(struct host_driver *drv, const char *id, const char *const *keys,
		  const char *const *values, size_t nparams, unsigned int num_queues,
		  struct vireo_loop *const *loops, unsigned int flags, struct host_blk **out,
		  char *err, size_t errlen);

/** host_blk_geometry() - The checked geometry, defaults applied. */
const struct vireo_blk_geometry *host_blk_geometry(const struct host_blk *hb);

/** host_blk_num_queues() - How many queues the instance runs. */
unsigned int host_blk_num_queues(const struct host_blk *hb);

/**
 * host_blk_submit() - Check @io and hand it to the driver.
 * Return: 0 if accepted: @io->done is called exactly once, maybe before this returns
 * (a flush to a device without a write cache completes at once);
 * -EINVAL for a bad queue, op, flags, alignment or iovec list; -ERANGE if it reaches
 * past the capacity; -EROFS for a write to a read-only device; -EOPNOTSUPP for an op
 * the device does not serve; -EBUSY if the queue is full (retry after a completion);
 * or the driver's own refusal. @io->done is not called when this fails.
 */
int host_blk_submit(struct host_blk *hb, struct host_blk_io *io);

/**
 * host_blk_stats() - The driver's counters.
 * Return: 0, -EOPNOTSUPP if the driver keeps none, or the driver's error.
 */
int host_blk_stats(struct host_blk *hb, struct vireo_blk_stats *stats);

/** host_blk_counters() - The core's counts. */
void host_blk_counters(const struct host_blk *hb, struct host_blk_counters *c);

/**
 * host_blk_close() - Stop the queues and close the instance.
 * Return: 0, or -EBUSY while requests are outstanding (nothing is closed then).
 */
int host_blk_close(struct host_blk *hb);

#endif /* VIREO_HOST_BLKDEV_H */
