// SPDX-License-Identifier: MIT
/*
 * Block driver instances: open with checked parameters and geometry, per-request
 * checks, completion accounting. Everything the driver may rely on (see <vireo/blk.h>)
 * is enforced here, so a guest's bad request never reaches a driver.
 */
#include "host/blkdev.h"
#include "host/instance.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLK_DEFAULT_LBS		 512u
#define BLK_MAX_LBS		 65536u
#define BLK_MAX_PBS		 (1u << 20)
#define BLK_DEFAULT_QUEUE_DEPTH	 64u
#define BLK_DEFAULT_MAX_SEGMENTS 128u
#define BLK_DEFAULT_MAX_TRANSFER (1u << 20)
#define BLK_DEFAULT_MAX_DISCARD	 (1u << 30)

struct host_blk {
	struct vireo_blk handle; /* what the driver sees */
	struct host_driver *drv;
	const struct vireo_blk_ops *ops; /* the core's checked copy */
	const char *name;		 /* the driver's */
	char *id;
	struct vireo_params *params;
	struct vireo_blk_geometry geo;
	unsigned int nqueues;
	atomic_uint inflight[VIREO_BLK_MAX_QUEUES]; /* per queue: accepted, not completed */
	atomic_uint_fast64_t submitted;
	atomic_uint_fast64_t completed;
	atomic_uint_fast64_t errors;
	atomic_uint_fast64_t rejected;
};

static struct vireo_ratelimit g_blkdev_rl = VIREO_RATELIMIT_INIT(5000, 5);

static bool blk_pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

/* Applies the documented defaults, then the rules; @why gets the first broken one. */
static int blk_check_geometry(struct vireo_blk_geometry *g, char *why, size_t len)
{
	uint32_t lbs;

	if (!g->logical_block_size)
		g->logical_block_size = BLK_DEFAULT_LBS;
	lbs = g->logical_block_size;
	if (!g->physical_block_size)
		g->physical_block_size = lbs;
	if (!g->max_queues)
		g->max_queues = 1;
	if (!g->queue_depth)
		g->queue_depth = BLK_DEFAULT_QUEUE_DEPTH;
	if (!g->max_segments)
		g->max_segments = BLK_DEFAULT_MAX_SEGMENTS;
	if (!g->max_transfer)
		g->max_transfer = BLK_DEFAULT_MAX_TRANSFER;
	if (!g->max_discard)
		g->max_discard = BLK_DEFAULT_MAX_DISCARD;
	if (!g->discard_granularity)
		g->discard_granularity = lbs;

	if (g->flags & ~VIREO_BLK_F_ALL || g->reserved0)
		return host_fail(why, len, -EINVAL, "flags 0x%x reserved0 0x%x; known flags 0x%x",
				 g->flags, g->reserved0, VIREO_BLK_F_ALL);
	if (!blk_pow2(lbs) || lbs < BLK_DEFAULT_LBS || lbs > BLK_MAX_LBS)
		return host_fail(why, len, -EINVAL,
				 "logical_block_size %u is not a power of two in 512..65536", lbs);
	if (!blk_pow2(g->physical_block_size) || g->physical_block_size < lbs ||
	    g->physical_block_size > BLK_MAX_PBS)
		return host_fail(why, len, -EINVAL,
				 "physical_block_size %u is not a power of two in %u..%u",
				 g->physical_block_size, lbs, BLK_MAX_PBS);
	if (g->capacity % lbs)
		return host_fail(why, len, -EINVAL,
				 "capacity %" PRIu64 " is not a multiple of the %u-byte block",
				 g->capacity, lbs);
	if (g->optimal_io_size % lbs || g->max_transfer % lbs || g->max_discard % lbs ||
	    g->discard_granularity % lbs)
		return host_fail(why, len, -EINVAL,
				 "optimal_io_size %u, max_transfer %u, max_discard %u and "
				 "discard_granularity %u must be multiples of %u",
				 g->optimal_io_size, g->max_transfer, g->max_discard,
				 g->discard_granularity, lbs);
	if (g->max_queues > VIREO_BLK_MAX_QUEUES || g->queue_depth > VIREO_BLK_MAX_QUEUE_DEPTH ||
	    g->max_segments > VIREO_BLK_MAX_SEGMENTS)
		return host_fail(why, len, -EINVAL,
				 "max_queues %u, queue_depth %u, max_segments %u exceed %d, %d, %d",
				 g->max_queues, g->queue_depth, g->max_segments,
				 VIREO_BLK_MAX_QUEUES, VIREO_BLK_MAX_QUEUE_DEPTH,
				 VIREO_BLK_MAX_SEGMENTS);
	return 0;
}

static void blk_stop_queues(struct host_blk *hb, unsigned int n)
{
	if (!hb->ops->queue_stop)
		return;
	for (unsigned int q = 0; q < n; q++)
		hb->ops->queue_stop(&hb->handle, q);
}

/* A driver's int result as a negative errno (positive values are driver bugs). */
static int blk_driver_rc(const struct host_blk *hb, const char *op, int rc)
{
	return host_driver_rc(&g_blkdev_rl, hb->name, hb->id, op, rc);
}

int host_blk_open(struct host_driver *drv, const char *id, const char *const *keys,
		  const char *const *values, size_t nparams, unsigned int num_queues,
		  struct vireo_loop *const *loops, unsigned int flags, struct host_blk **out,
		  char *err, size_t errlen)
{
	const struct host_checked *info = host_driver_info(drv);
	struct host_blk *hb;
	char why[512];
	unsigned int q = 0;
	int rc;

	*out = NULL;
	if (info->desc.dev_class == VIREO_CLASS_BLK && (!id || !*id || num_queues == 0))
		return host_fail(err, errlen, -EINVAL,
				 "driver '%s': need a device id and >= 1 queue", info->desc.name);
	hb = calloc(1, sizeof(*hb));
	if (!hb)
		return -ENOMEM;
	rc = host_instance_get(drv, VIREO_CLASS_BLK, id, keys, values, nparams, &hb->id,
			       &hb->params, err, errlen);
	if (rc < 0)
		goto out_free_hb;
	hb->drv = drv;
	hb->ops = &info->ops.blk;
	hb->name = info->desc.name;
	hb->handle = (struct vireo_blk){ .magic = VIREO_CORE_BLK_MAGIC,
					 .id = hb->id,
					 .loops = loops,
					 .nloops = loops ? num_queues : 0,
					 .read_only = flags & HOST_BLK_OPEN_READ_ONLY };
	rc = blk_driver_rc(hb, "open", hb->ops->open(&hb->handle, hb->params));
	if (rc < 0) {
		host_fail(err, errlen, rc, "driver '%s' device '%s': open failed: %s", hb->name, id,
			  strerror(-rc));
		goto out_put_instance;
	}
	hb->geo.struct_size = sizeof(hb->geo);
	rc = blk_driver_rc(hb, "get_geometry", hb->ops->get_geometry(&hb->handle, &hb->geo));
	if (rc < 0) {
		host_fail(err, errlen, rc, "driver '%s' device '%s': get_geometry failed: %s",
			  hb->name, id, strerror(-rc));
		goto out_close_driver;
	}
	hb->geo.struct_size = sizeof(hb->geo);
	rc = blk_check_geometry(&hb->geo, why, sizeof(why));
	if (rc < 0) {
		host_fail(err, errlen, rc, "driver '%s' device '%s': bad geometry: %s", hb->name,
			  id, why);
		goto out_close_driver;
	}
	hb->nqueues = num_queues < hb->geo.max_queues ? num_queues : hb->geo.max_queues;
	for (; q < hb->nqueues && hb->ops->queue_start; q++) {
		rc = blk_driver_rc(hb, "queue_start", hb->ops->queue_start(&hb->handle, q));
		if (rc < 0) {
			host_fail(err, errlen, rc,
				  "driver '%s' device '%s': queue_start(%u) failed: %s", hb->name,
				  id, q, strerror(-rc));
			goto out_stop_queues;
		}
	}
	vireo_log(VIREO_LOG_INFO, HOST_LOG_TAG,
		  "device '%s': driver '%s', %" PRIu64 " bytes, %u-byte blocks, %u queue(s) of "
		  "depth %u%s",
		  id, hb->name, hb->geo.capacity, hb->geo.logical_block_size, hb->nqueues,
		  hb->geo.queue_depth, hb->geo.flags & VIREO_BLK_F_READ_ONLY ? ", read-only" : "");
	*out = hb;
	return 0;

out_stop_queues:
	blk_stop_queues(hb, q);
out_close_driver:
	if (hb->ops->close)
		hb->ops->close(&hb->handle);
out_put_instance:
	hb->handle.magic = 0;
	host_instance_put(drv, hb->id, hb->params);
out_free_hb:
	free(hb);
	return rc;
}

const struct vireo_blk_geometry *host_blk_geometry(const struct host_blk *hb)
{
	return &hb->geo;
}

unsigned int host_blk_num_queues(const struct host_blk *hb)
{
	return hb->nqueues;
}

/* The rules of <vireo/blk.h>'s file comment, in the order a guest is likeliest to break. */
static int blk_check_io(const struct host_blk *hb, const struct host_blk_io *io)
{
	const struct vireo_blk_geometry *g = &hb->geo;
	bool ro = g->flags & VIREO_BLK_F_READ_ONLY;
	uint64_t total = 0;
	uint32_t need;

	if (!io->done || io->queue >= hb->nqueues)
		return -EINVAL;
	switch (io->op) {
	case VIREO_BLK_OP_READ:
	case VIREO_BLK_OP_WRITE:
		if (io->op == VIREO_BLK_OP_WRITE && ro)
			return -EROFS;
		if (io->flags || !io->iov || io->iovcnt == 0 || io->iovcnt > g->max_segments)
			return -EINVAL;
		for (uint32_t i = 0; i < io->iovcnt; i++)
			if (__builtin_add_overflow(total, io->iov[i].iov_len, &total))
				return -EINVAL;
		if (total != io->length || io->length == 0 || io->length > g->max_transfer)
			return -EINVAL;
		break;
	case VIREO_BLK_OP_FLUSH:
		if (io->flags || io->iovcnt || io->offset || io->length)
			return -EINVAL;
		return 0;
	case VIREO_BLK_OP_DISCARD:
	case VIREO_BLK_OP_WRITE_ZEROES:
		need = io->op == VIREO_BLK_OP_DISCARD ? VIREO_BLK_F_DISCARD
						      : VIREO_BLK_F_WRITE_ZEROES;
		if (!(g->flags & need))
			return -EOPNOTSUPP;
		if (ro)
			return -EROFS;
		if (io->iovcnt || io->length == 0 || io->length > g->max_discard)
			return -EINVAL;
		if (io->flags & ~(io->op == VIREO_BLK_OP_WRITE_ZEROES ? VIREO_BLK_REQ_F_UNMAP : 0u))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (io->offset % g->logical_block_size || io->length % g->logical_block_size)
		return -EINVAL;
	if (io->offset > g->capacity || io->length > g->capacity - io->offset)
		return -ERANGE;
	return 0;
}

/* vireo_blk_complete() lands here, once per accepted request. */
static void blk_complete(struct vireo_core_blk_req *creq, int status)
{
	struct host_blk_io *io =
		(struct host_blk_io *)((char *)creq - offsetof(struct host_blk_io, req));
	struct host_blk *hb = io->hb;

	atomic_fetch_sub(&hb->inflight[io->queue], 1);
	atomic_fetch_add(&hb->completed, 1);
	if (status)
		atomic_fetch_add(&hb->errors, 1);
	io->done(io, status);
}

int host_blk_submit(struct host_blk *hb, struct host_blk_io *io)
{
	unsigned int expected = VIREO_CORE_REQ_SUBMITTED;
	int rc = blk_check_io(hb, io);

	if (rc < 0) {
		atomic_fetch_add(&hb->rejected, 1);
		return rc;
	}
	io->hb = hb;
	if (io->op == VIREO_BLK_OP_FLUSH && !(hb->geo.flags & VIREO_BLK_F_FLUSH)) {
		/* No volatile cache: every completed write is already durable. */
		atomic_fetch_add(&hb->submitted, 1);
		atomic_fetch_add(&hb->completed, 1);
		io->done(io, 0);
		return 0;
	}
	if (atomic_load(&hb->inflight[io->queue]) >= hb->geo.queue_depth)
		return -EBUSY;
	io->req.pub = (struct vireo_blk_req){
		.struct_size = sizeof(io->req.pub),
		.op = (uint16_t)io->op,
		.queue = (uint16_t)io->queue,
		.flags = io->flags,
		.iovcnt = io->iovcnt,
		.offset = io->offset,
		.length = io->length,
		.iov = io->iovcnt ? io->iov : NULL,
	};
	io->req.magic = VIREO_CORE_BLK_REQ_MAGIC;
	io->req.complete = blk_complete;
	atomic_store(&io->req.state, VIREO_CORE_REQ_SUBMITTED);
	atomic_fetch_add(&hb->inflight[io->queue], 1);
	atomic_fetch_add(&hb->submitted, 1);
	rc = hb->ops->submit(&hb->handle, &io->req.pub);
	if (rc == 0)
		return 0;
	if (atomic_compare_exchange_strong(&io->req.state, &expected, VIREO_CORE_REQ_IDLE)) {
		atomic_fetch_sub(&hb->inflight[io->queue], 1);
		atomic_fetch_sub(&hb->submitted, 1);
		rc = blk_driver_rc(hb, "submit", rc);
		if (rc != -EBUSY)
			atomic_fetch_add(&hb->rejected, 1);
		return rc;
	}
	/* The driver completed the request and then refused it: the completion stands. */
	vireo_log_ratelimited(&g_blkdev_rl, VIREO_LOG_ERR, HOST_LOG_TAG,
			      "driver '%s' device '%s': submit returned %d after completing the "
			      "request; the completion stands",
			      hb->name, hb->id, rc);
	return 0;
}

int host_blk_stats(struct host_blk *hb, struct vireo_blk_stats *stats)
{
	if (!hb->ops->get_stats)
		return -EOPNOTSUPP;
	memset(stats, 0, sizeof(*stats));
	stats->struct_size = sizeof(*stats);
	return blk_driver_rc(hb, "get_stats", hb->ops->get_stats(&hb->handle, stats));
}

void host_blk_counters(const struct host_blk *hb, struct host_blk_counters *c)
{
	c->submitted = atomic_load(&hb->submitted);
	c->completed = atomic_load(&hb->completed);
	c->errors = atomic_load(&hb->errors);
	c->rejected = atomic_load(&hb->rejected);
}

int host_blk_close(struct host_blk *hb)
{
	for (unsigned int q = 0; q < hb->nqueues; q++)
		if (atomic_load(&hb->inflight[q]))
			return -EBUSY;
	blk_stop_queues(hb, hb->nqueues);
	if (hb->ops->close)
		hb->ops->close(&hb->handle);
	hb->handle.magic = 0;
	host_instance_put(hb->drv, hb->id, hb->params);
	free(hb);
	return 0;
}
