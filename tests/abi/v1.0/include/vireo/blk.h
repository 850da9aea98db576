/* SPDX-License-Identifier: MIT */
/**
 * @file
 * @brief Vireo SDK: the block device class (struct vireo_blk_ops).
 *
 * Audience: authors of block drivers (file, iSCSI, NVMe, AHCI, RAM...). The core turns
 * each guest virtio-blk request into a struct vireo_blk_req and hands it to the
 * driver's submit op; the driver completes it, now or later, with vireo_blk_complete().
 *
 * Life of a device instance:
 * 1. open(): the driver reads its parameters and sets up; it keeps its state with
 *    vireo_blk_set_priv().
 * 2. get_geometry(): capacity, block sizes, queue count and depth, read-only, and which
 *    optional requests (flush, discard, write-zeroes) the device serves.
 * 3. queue_start() for each queue the guest uses, then submit() of requests.
 * 4. queue_stop() for each started queue, once its requests have all completed.
 * 5. close().
 *
 * What the core guarantees to submit(), so that drivers need not re-check: the op is
 * one the geometry announced; offset and length are multiples of logical_block_size
 * and lie inside the capacity; a read or write has 1..max_segments iovecs whose lengths
 * add up to its length, at most max_transfer; a discard or write-zeroes has no iovecs
 * and at most max_discard bytes; a flush has offset and length 0; nothing that writes
 * reaches a read-only device; a queue never has more than queue_depth requests
 * outstanding; submit() calls on one queue never overlap (different queues may run in
 * parallel, each from its own core thread).
 */
#ifndef VIREO_BLK_H
#define VIREO_BLK_H

#include <sys/uio.h>

#include <vireo/common.h>
#include <vireo/loop.h>
#include <vireo/params.h>

VIREO_BEGIN_DECLS

/** A block device instance; owned by the core, passed to every op. */
struct vireo_blk;

/** Request operations. */
enum vireo_blk_op {
	VIREO_BLK_OP_READ = 0,	       /**< device to iov */
	VIREO_BLK_OP_WRITE = 1,	       /**< iov to device */
	VIREO_BLK_OP_FLUSH = 2,	       /**< make every completed write durable */
	VIREO_BLK_OP_DISCARD = 3,      /**< the range's contents may be dropped */
	VIREO_BLK_OP_WRITE_ZEROES = 4, /**< the range must read back as zeroes */
};

/** Request flag (write-zeroes): the driver may deallocate the range instead of writing. */
#define VIREO_BLK_REQ_F_UNMAP (1u << 0)

/**
 * One I/O request. The core owns it and fills it in; the driver reads it and may use
 * driver_data, and must not change anything else. It stays valid from submit() until
 * the driver calls vireo_blk_complete() on it, and must not be touched after that.
 * struct_size is the core's: a driver built against an older minor reads only the
 * members it knows.
 */
struct vireo_blk_req {
	uint32_t struct_size;	 /**< sizeof(struct vireo_blk_req) of the core */
	uint16_t op;		 /**< an enum vireo_blk_op */
	uint16_t queue;		 /**< the queue it came in on, < the queues started */
	uint32_t flags;		 /**< VIREO_BLK_REQ_F_* */
	uint32_t iovcnt;	 /**< entries of iov; 0 unless read or write */
	uint64_t offset;	 /**< first byte, a multiple of logical_block_size */
	uint64_t length;	 /**< bytes, a multiple of logical_block_size; 0 for flush */
	const struct iovec *iov; /**< guest buffers: the data of a write, the room for a read */
	void *driver_data;	 /**< the driver's, between submit and completion */
};
VIREO_ABI_SIZE(struct vireo_blk_req, 48);

/** Geometry flag: the guest may only read. */
#define VIREO_BLK_F_READ_ONLY (1u << 0)
/**
 * Geometry flag: the device has a volatile write cache, so the core sends FLUSH
 * requests. Without it the core answers the guest's flushes itself, with success.
 */
#define VIREO_BLK_F_FLUSH (1u << 1)
/** Geometry flag: the driver serves DISCARD (else the guest is not offered it). */
#define VIREO_BLK_F_DISCARD (1u << 2)
/** Geometry flag: the driver serves WRITE_ZEROES (else the guest is not offered it). */
#define VIREO_BLK_F_WRITE_ZEROES (1u << 3)
/** Every geometry flag of this ABI minor; the core refuses others. */
#define VIREO_BLK_F_ALL \
	(VIREO_BLK_F_READ_ONLY | VIREO_BLK_F_FLUSH | VIREO_BLK_F_DISCARD | VIREO_BLK_F_WRITE_ZEROES)

/** Most queues a block device may have. */
#define VIREO_BLK_MAX_QUEUES 64
/** Largest queue depth. */
#define VIREO_BLK_MAX_QUEUE_DEPTH 1024
/** Most iovecs per request the core will ever send. */
#define VIREO_BLK_MAX_SEGMENTS 1024

/**
 * The device's shape, filled in by the get_geometry op. The core zeroes it and sets
 * struct_size to its own size before the call; a zero member left by the driver takes
 * the default given here. The core refuses (and closes) an instance whose geometry
 * breaks a rule below.
 */
struct vireo_blk_geometry {
	uint32_t struct_size;	      /**< set by the core: how much of this it reads */
	uint32_t flags;		      /**< VIREO_BLK_F_*; unknown bits are refused */
	uint64_t capacity;	      /**< bytes, a multiple of logical_block_size */
	uint32_t logical_block_size;  /**< power of two, 512..65536; 0: 512 */
	uint32_t physical_block_size; /**< power of two >= logical; 0: logical */
	uint32_t optimal_io_size;     /**< bytes, multiple of logical; 0: no preference */
	uint32_t max_queues;	      /**< 1..VIREO_BLK_MAX_QUEUES; 0: 1 */
	uint32_t queue_depth;	      /**< per queue, 1..VIREO_BLK_MAX_QUEUE_DEPTH; 0: 64 */
	uint32_t max_segments;	      /**< iovecs per request, 1..1024; 0: 128 */
	uint32_t max_transfer;	      /**< bytes per read/write, multiple of logical; 0: 1 MiB */
	uint32_t max_discard;	      /**< bytes per discard/write-zeroes; 0: 1 GiB */
	uint32_t discard_granularity; /**< bytes, multiple of logical; 0: logical */
	uint32_t reserved0;	      /**< must be zero */
};
VIREO_ABI_SIZE(struct vireo_blk_geometry, 56);

/** Counters a driver keeps, for `vireoctl device stats`; the core sets struct_size. */
struct vireo_blk_stats {
	uint32_t struct_size; /**< set by the core */
	uint32_t reserved0;   /**< must be zero */
	uint64_t read_ops;    /**< reads completed */
	uint64_t read_bytes;  /**< bytes read */
	uint64_t write_ops;   /**< writes completed */
	uint64_t write_bytes; /**< bytes written */
	uint64_t flush_ops;   /**< flushes completed */
	uint64_t discard_ops; /**< discards and write-zeroes completed */
	uint64_t errors;      /**< requests completed with an error */
};
VIREO_ABI_SIZE(struct vireo_blk_stats, 64);

/**
 * @brief Open a device instance. Required.
 *
 * Read the parameters, acquire the backing store, keep state with vireo_blk_set_priv().
 *
 * @param blk the new instance.
 * @param params the instance's parameters, already checked against the driver's table;
 *        valid until close.
 *
 * @return 0 on success; a negative errno to refuse (log why first): the core then
 *         calls no other op on @p blk.
 *
 * Context: the core's control thread; may block (opening files, probing hardware).
 */
typedef int (*vireo_blk_open_t)(struct vireo_blk *blk, const struct vireo_params *params);

/**
 * @brief Describe the device. Required.
 *
 * @param blk the instance.
 * @param geo zeroed by the core but for struct_size; fill in what applies.
 *
 * @return 0 on success; a negative errno fails the open (close() is then called).
 *
 * Context: the core's control thread, after open() and again whenever the core
 * re-reads the geometry (e.g. after a resize); may block.
 */
typedef int (*vireo_blk_get_geometry_t)(struct vireo_blk *blk, struct vireo_blk_geometry *geo);

/**
 * @brief Start one request. Required.
 *
 * @param blk the instance.
 * @param req the request, checked by the core as the file comment says.
 *
 * @return 0 if the driver took the request: it calls vireo_blk_complete() exactly
 *         once, before or after returning.
 * @return -EBUSY if the driver cannot take it now; the core retries after one of the
 *         queue's requests completes, and the driver must not complete @p req.
 * @return another negative errno to fail it at once; the core completes it with that
 *         status, and the driver must not complete @p req.
 *
 * Context: the core thread serving req->queue; must not block: start the I/O and
 * return.
 */
typedef int (*vireo_blk_submit_t)(struct vireo_blk *blk, struct vireo_blk_req *req);

/**
 * @brief Release the instance. Optional: NULL means there is nothing to release.
 *
 * @param blk the instance; every request has completed and every queue is stopped.
 *
 * Context: the core's control thread; may block.
 */
typedef void (*vireo_blk_close_t)(struct vireo_blk *blk);

/**
 * @brief Prepare queue @p queue before its first submit(). Optional: NULL means queues
 * need no set-up.
 *
 * @param blk the instance.
 * @param queue 0..(queues the core uses - 1), at most max_queues - 1.
 *
 * @return 0 on success; a negative errno fails the device's activation.
 *
 * Context: the core's control thread, before the queue's thread submits; may block.
 */
typedef int (*vireo_blk_queue_start_t)(struct vireo_blk *blk, unsigned int queue);

/**
 * @brief Tear down queue @p queue. Optional: NULL means nothing to tear down.
 *
 * @param blk the instance.
 * @param queue a started queue with no request outstanding.
 *
 * Context: the core's control thread; may block.
 */
typedef void (*vireo_blk_queue_stop_t)(struct vireo_blk *blk, unsigned int queue);

/**
 * @brief Report the driver's counters. Optional: NULL means the core reports its own
 * counts of completed requests only.
 *
 * @param blk the instance.
 * @param stats zeroed by the core but for struct_size; fill in what the driver counts.
 *
 * @return 0 on success, or a negative errno.
 *
 * Context: the core's control thread, concurrently with submit() on any queue.
 */
typedef int (*vireo_blk_get_stats_t)(struct vireo_blk *blk, struct vireo_blk_stats *stats);

/**
 * The block class ops table: `static const`, pointed to by the descriptor's ops.blk.
 * Required ops come first; the core reads only the first struct_size bytes and treats
 * any op beyond them as NULL.
 */
struct vireo_blk_ops {
	uint32_t struct_size;		       /**< sizeof(struct vireo_blk_ops) */
	uint32_t reserved0;		       /**< must be zero */
	vireo_blk_open_t open;		       /**< required */
	vireo_blk_get_geometry_t get_geometry; /**< required */
	vireo_blk_submit_t submit;	       /**< required */
	vireo_blk_close_t close;	       /**< optional: NULL = nothing to release */
	vireo_blk_queue_start_t queue_start;   /**< optional: NULL = no per-queue set-up */
	vireo_blk_queue_stop_t queue_stop;     /**< optional: NULL = no per-queue tear-down */
	vireo_blk_get_stats_t get_stats;       /**< optional: NULL = the core's counts only */
};
VIREO_ABI_SIZE(struct vireo_blk_ops, 64);

/**
 * @brief Complete a request the driver accepted.
 *
 * The core hands the status to the guest (0: OK; -EOPNOTSUPP: unsupported; anything
 * else: I/O error) and may reuse @p req at once. Completing a request twice, or one the
 * driver refused, is a driver bug: the core logs it and ignores the second completion
 * if it can still tell.
 *
 * @param req the request, as passed to submit().
 * @param status 0 on success, else a negative errno (-EIO, -ENOSPC, -EOPNOTSUPP...);
 *        positive values are logged and treated as -EIO.
 *
 * Context: any thread, including inside submit() (synchronous completion); does not
 * block.
 */
VIREO_API void vireo_blk_complete(struct vireo_blk_req *req, int status);

/**
 * @brief Attach the driver's private state to an instance.
 *
 * @param blk the instance.
 * @param priv anything; the core never looks at it.
 *
 * Context: any thread; usually open().
 */
VIREO_API void vireo_blk_set_priv(struct vireo_blk *blk, void *priv);

/**
 * @brief The private state attached with vireo_blk_set_priv().
 *
 * @param blk the instance.
 *
 * @return the pointer; NULL if none was set.
 *
 * Context: any thread.
 */
VIREO_API void *vireo_blk_priv(const struct vireo_blk *blk);

/**
 * @brief The instance's device id (the `id=` of its device spec), for log lines.
 *
 * @param blk the instance.
 *
 * @return a NUL-terminated string owned by the core, valid until close.
 *
 * Context: any thread.
 */
VIREO_API const char *vireo_blk_id(const struct vireo_blk *blk);

/**
 * @brief The event loop of queue @p queue: where a driver watches the fds that tell it
 * a request finished (an io_uring eventfd, say), so that it completes requests on the
 * queue's own thread.
 *
 * @param blk the instance.
 * @param queue a queue the core started (0..queues - 1).
 *
 * @return the loop, valid from the queue's queue_start until its queue_stop; NULL if
 *         @p queue is out of range or the core runs this instance without loops (unit
 *         tests), in which case the driver must complete from submit() or its own means.
 *
 * Context: queue_start, submit and callbacks of that queue.
 */
VIREO_API struct vireo_loop *vireo_blk_queue_loop(struct vireo_blk *blk, unsigned int queue);

/**
 * @brief Whether the user asked for a read-only device (the spec's `readonly=on`).
 *
 * The core never sends writes, discards or write-zeroes to such a device and tells the
 * guest it is read-only; a driver should also open its backing store read-only.
 *
 * @param blk the instance.
 *
 * @return true for a read-only device.
 *
 * Context: any op.
 */
VIREO_API bool vireo_blk_read_only(const struct vireo_blk *blk);

VIREO_END_DECLS

#endif /* VIREO_BLK_H */
