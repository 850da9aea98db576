// SPDX-License-Identifier: MIT
/*
 * virtio-blk (VIRTIO 1.2, 5.2) over a block driver. Each available chain becomes one
 * host_blk_io from a per-queue pool sized to the driver's queue depth; guest buffers
 * go to the driver as iovecs into guest memory (no copy), and the completion writes
 * the status byte and returns the chain on the used ring. Everything a guest puts in
 * a request is checked here or by host_blk_submit() before a driver sees it.
 */
#include "virtio/blk.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vireo/log.h>

#include "control/spec.h"
#include "host/blkdev.h"
#include "lib/internal.h"
#include "vhost-user/dev.h"
#include "vhost-user/wire.h"
#include "virtio/blk_wire.h"
#include "virtio/device.h"
#include "virtio/virtio_wire.h"
#include "virtqueue/split.h"
#include "virtqueue/iov.h"

#define TAG "virtio-blk"

/* iovecs a chain may map into: data segments, header, status, and slack for buffers
 * that straddle guest memory regions. */
#define BLK_IOV_SLACK 8

struct blk_queue;

struct blk_req {
	struct host_blk_io io;
	struct blk_queue *bq;
	uint16_t head;
	uint32_t type;	   /* VIRTIO_BLK_T_* */
	uint8_t *status;   /* the chain's last writable byte */
	uint32_t used_len; /* bytes written into the chain on success */
	struct iovec *chain_iov;
	struct iovec *data_iov;
	struct blk_req *next_free;
};

struct blk_queue {
	struct virtio_blk *blk;
	struct vu_queue *q; /* set when the queue starts */
	struct blk_req *reqs;
	struct blk_req *free;
	struct blk_req *busy; /* the driver said -EBUSY: submit it again first */
	unsigned int inflight;
	bool broken; /* a request broke the device's rules: serve nothing more */
	bool pushed; /* used entries since the last signal */
};

struct virtio_blk {
	char id[VD_ID_MAX + 1];
	bool readonly;
	struct host_blk *hb;
	const struct vireo_blk_geometry *geo;
	struct vu_dev *vu;
	unsigned int nq;
	unsigned int iov_cap;
	unsigned int depth; /* requests per queue: the driver's queue depth */
	uint64_t features;
	struct virtio_blk_config cfg;
	struct blk_queue *queues;
	struct vireo_loop **loops; /* each queue's, for the driver */
	struct vireo_ratelimit refuse_rl;

	atomic_uint_fast64_t n_reads, n_writes, n_flushes, n_discards, n_write_zeroes, n_get_ids,
		bytes_read, bytes_written, n_errors, n_unsupported;
};

/* ---- completion ---- */

static void blk_finish(struct blk_req *req, uint8_t vstatus, uint32_t used_len)
{
	struct blk_queue *bq = req->bq;
	struct virtio_blk *blk = bq->blk;

	*req->status = vstatus;
	if (vstatus == VIRTIO_BLK_S_IOERR)
		atomic_fetch_add(&blk->n_errors, 1);
	else if (vstatus == VIRTIO_BLK_S_UNSUPP)
		atomic_fetch_add(&blk->n_unsupported, 1);
	/* The head came from pop on this queue, so push cannot refuse it. */
	vu_queue_push(bq->q, req->head, used_len);
	bq->pushed = true;
	req->next_free = bq->free;
	bq->free = req;
	bq->inflight--;
}

static uint8_t blk_status_of(int rc)
{
	if (rc == 0)
		return VIRTIO_BLK_S_OK;
	return rc == -EOPNOTSUPP ? VIRTIO_BLK_S_UNSUPP : VIRTIO_BLK_S_IOERR;
}

static void blk_count(struct virtio_blk *blk, const struct blk_req *req)
{
	switch (req->type) {
	case VIRTIO_BLK_T_IN:
		atomic_fetch_add(&blk->n_reads, 1);
		atomic_fetch_add(&blk->bytes_read, req->io.length);
		break;
	case VIRTIO_BLK_T_OUT:
		atomic_fetch_add(&blk->n_writes, 1);
		atomic_fetch_add(&blk->bytes_written, req->io.length);
		break;
	case VIRTIO_BLK_T_FLUSH:
		atomic_fetch_add(&blk->n_flushes, 1);
		break;
	case VIRTIO_BLK_T_DISCARD:
		atomic_fetch_add(&blk->n_discards, 1);
		break;
	case VIRTIO_BLK_T_WRITE_ZEROES:
		atomic_fetch_add(&blk->n_write_zeroes, 1);
		break;
	}
}

static void blk_process(struct blk_queue *bq);

static void blk_signal(struct blk_queue *bq)
{
	if (bq->pushed) {
		bq->pushed = false;
		vu_queue_signal(bq->q);
	}
}

/* Runs on the queue's worker: finish, then take more chains if we had stopped. */
static void blk_complete_on_worker(struct blk_req *req, int status)
{
	struct blk_queue *bq = req->bq;

	if (status == 0)
		blk_count(bq->blk, req);
	blk_finish(req, blk_status_of(status), status == 0 ? req->used_len : 1);
	blk_process(bq);
	blk_signal(bq);
}

struct blk_deferred {
	struct blk_req *req;
	int status;
};

static void blk_deferred_done(void *arg)
{
	struct blk_deferred *d = arg;

	blk_complete_on_worker(d->req, d->status);
	free(d);
}

static void blk_io_done(struct host_blk_io *io, int status)
{
	struct blk_req *req = io->ctx;
	struct vireo_loop *loop = vu_queue_loop(req->bq->q);
	struct blk_deferred *d;

	if (vireo_core_loop_in_thread(loop)) {
		blk_complete_on_worker(req, status);
		return;
	}
	/* A driver completed on a thread of its own: hand the ring back to its owner. */
	d = malloc(sizeof(*d));
	if (d) {
		d->req = req;
		d->status = status;
		if (vireo_loop_defer(loop, blk_deferred_done, d) == 0)
			return;
		free(d);
	}
	/* Cannot hand it over without memory; the ring cannot be touched from here. */
	vireo_log(VIREO_LOG_ERR, TAG, "%s: lost a completion (out of memory)", req->bq->blk->id);
}

/* ---- request parsing ---- */

static void blk_get_id(struct virtio_blk *blk, struct blk_req *req, const struct vireo_vq_chain *c)
{
	const struct iovec *in = c->iov + c->out_num;
	uint8_t serial[VIRTIO_BLK_ID_BYTES] = { 0 };
	size_t room = c->in_len - 1, n = strnlen(blk->id, sizeof(serial));
	struct iovec dst[BLK_IOV_SLACK];
	unsigned int k;

	memcpy(serial, blk->id, n);
	if (room > sizeof(serial))
		room = sizeof(serial);
	k = vq_iov_slice(in, c->in_num, 0, room, dst, BLK_IOV_SLACK);
	for (unsigned int i = 0, off = 0; i < k; off += dst[i].iov_len, i++)
		memcpy(dst[i].iov_base, serial + off, dst[i].iov_len);
	atomic_fetch_add(&blk->n_get_ids, 1);
	blk_finish(req, VIRTIO_BLK_S_OK, (uint32_t)room + 1);
}

/* Fills req->io for a DISCARD or WRITE_ZEROES; returns a VIRTIO_BLK_S_* to fail. */
static int blk_parse_range(struct blk_req *req, const struct vireo_vq_chain *c, bool zeroes)
{
	struct virtio_blk_discard_wz seg;
	uint32_t allowed = zeroes ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;

	/* One segment per request: we offer max_discard_seg = max_write_zeroes_seg = 1. */
	if (c->out_len - sizeof(struct virtio_blk_outhdr) != sizeof(seg) ||
	    !vq_iov_read(c->iov, c->out_num, sizeof(struct virtio_blk_outhdr), &seg, sizeof(seg)))
		return VIRTIO_BLK_S_UNSUPP;
	if (seg.flags & ~allowed)
		return VIRTIO_BLK_S_UNSUPP;
	if (seg.sector > (UINT64_MAX >> VIRTIO_BLK_SECTOR_SHIFT))
		return VIRTIO_BLK_S_IOERR;
	req->io.op = zeroes ? VIREO_BLK_OP_WRITE_ZEROES : VIREO_BLK_OP_DISCARD;
	req->io.flags =
		(seg.flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) ? VIREO_BLK_REQ_F_UNMAP : 0;
	req->io.offset = seg.sector << VIRTIO_BLK_SECTOR_SHIFT;
	req->io.length = (uint64_t)seg.num_sectors << VIRTIO_BLK_SECTOR_SHIFT;
	req->used_len = 1;
	return VIRTIO_BLK_S_OK;
}

/*
 * Turns a chain into req->io. Returns VIRTIO_BLK_S_OK when the request goes to the
 * driver, another status to complete it at once, or -1 when it was completed here.
 */
static int blk_parse(struct virtio_blk *blk, struct blk_req *req, const struct vireo_vq_chain *c)
{
	const size_t hdr_len = sizeof(struct virtio_blk_outhdr);
	struct virtio_blk_outhdr hdr;
	const struct iovec *in = c->iov + c->out_num;

	memset(&req->io, 0, sizeof(req->io));
	if (c->out_len < hdr_len || !vq_iov_read(c->iov, c->out_num, 0, &hdr, hdr_len))
		return VIRTIO_BLK_S_IOERR;
	req->type = hdr.type;
	if (hdr.sector > (UINT64_MAX >> VIRTIO_BLK_SECTOR_SHIFT))
		return VIRTIO_BLK_S_IOERR;

	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		req->io.op = VIREO_BLK_OP_READ;
		req->io.length = c->in_len - 1;
		req->io.iovcnt =
			vq_iov_slice(in, c->in_num, 0, req->io.length, req->data_iov, blk->iov_cap);
		req->used_len = c->in_len;
		break;
	case VIRTIO_BLK_T_OUT:
		if (blk->readonly)
			return VIRTIO_BLK_S_IOERR;
		req->io.op = VIREO_BLK_OP_WRITE;
		req->io.length = c->out_len - hdr_len;
		req->io.iovcnt = vq_iov_slice(c->iov, c->out_num, hdr_len, req->io.length,
					      req->data_iov, blk->iov_cap);
		req->used_len = 1;
		break;
	case VIRTIO_BLK_T_FLUSH:
		req->io.op = VIREO_BLK_OP_FLUSH;
		req->used_len = 1;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		blk_get_id(blk, req, c);
		return -1;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		bool zeroes = hdr.type == VIRTIO_BLK_T_WRITE_ZEROES;
		int bit = zeroes ? VIRTIO_BLK_F_WRITE_ZEROES : VIRTIO_BLK_F_DISCARD;

		if (!(blk->features & (1ull << bit)))
			return VIRTIO_BLK_S_UNSUPP;
		if (blk->readonly)
			return VIRTIO_BLK_S_IOERR;
		return blk_parse_range(req, c, zeroes);
	}
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
	req->io.offset = hdr.sector << VIRTIO_BLK_SECTOR_SHIFT;
	req->io.iov = req->data_iov;
	return VIRTIO_BLK_S_OK;
}

/* Submits; returns false when the driver is busy (the request waits in bq->busy). */
static bool blk_submit(struct blk_queue *bq, struct blk_req *req)
{
	int rc;

	req->io.queue = vu_queue_index(bq->q);
	req->io.done = blk_io_done;
	req->io.ctx = req;
	rc = host_blk_submit(bq->blk->hb, &req->io);
	if (rc == -EBUSY) {
		bq->busy = req;
		return false;
	}
	if (rc < 0) {
		vireo_log_ratelimited(&bq->blk->refuse_rl, VIREO_LOG_WARN, TAG,
				      "%s: request type %u at byte %llu, %llu bytes, %u segments "
				      "refused: %s",
				      bq->blk->id, req->type, (unsigned long long)req->io.offset,
				      (unsigned long long)req->io.length, req->io.iovcnt,
				      strerror(-rc));
		blk_finish(req, blk_status_of(rc), 1);
	}
	return true;
}

static void blk_start(struct blk_queue *bq, struct blk_req *req, const struct vireo_vq_chain *c)
{
	int st;

	req->head = c->head;
	if (c->in_len < 1) {
		/* No status byte to answer in: nothing sane can be done with the chain. */
		vu_queue_broken(bq->q, "virtio-blk request without a status byte");
		bq->broken = true;
		req->next_free = bq->free;
		bq->free = req;
		bq->inflight--;
		return;
	}
	req->status = (uint8_t *)c->iov[c->out_num + c->in_num - 1].iov_base +
		      c->iov[c->out_num + c->in_num - 1].iov_len - 1;
	st = blk_parse(bq->blk, req, c);
	if (st < 0)
		return;
	if (st != VIRTIO_BLK_S_OK) {
		blk_finish(req, (uint8_t)st, 1);
		return;
	}
	blk_submit(bq, req);
}

static void blk_process(struct blk_queue *bq)
{
	struct vireo_vq_chain chain;
	enum vireo_vq_err why;
	struct blk_req *req;
	int rc;

	if (bq->broken)
		return;
	if (bq->busy) {
		req = bq->busy;
		bq->busy = NULL;
		if (!blk_submit(bq, req))
			return;
	}
	while ((req = bq->free)) {
		vireo_vq_chain_init(&chain, req->chain_iov, bq->blk->iov_cap);
		rc = vu_queue_pop(bq->q, &chain, &why);
		if (rc == 0)
			return;
		if (rc < 0) {
			if (rc == -EPROTO)
				vu_queue_broken(bq->q, vireo_vq_err_str(why));
			return;
		}
		bq->free = req->next_free;
		bq->inflight++;
		blk_start(bq, req, &chain);
		if (bq->broken || bq->busy)
			return;
	}
}

/* ---- vdev_ops ---- */

static uint64_t blk_features(void *model)
{
	return ((struct virtio_blk *)model)->features;
}

static unsigned int blk_num_queues(void *model)
{
	return ((struct virtio_blk *)model)->nq;
}

static int blk_get_config(void *model, void *buf, uint32_t off, uint32_t len)
{
	struct virtio_blk *blk = model;
	const uint8_t *cfg = (const uint8_t *)&blk->cfg;

	/* The caller zeroed buf; copy the part that exists. */
	if (off < sizeof(blk->cfg))
		memcpy(buf, cfg + off, len < sizeof(blk->cfg) - off ? len : sizeof(blk->cfg) - off);
	return 0;
}

static int blk_queue_start(void *model, struct vu_queue *q)
{
	struct virtio_blk *blk = model;
	struct blk_queue *bq = &blk->queues[vu_queue_index(q)];

	bq->q = q;
	bq->broken = false;
	return 0;
}

static void blk_queue_kick(void *model, struct vu_queue *q)
{
	struct blk_queue *bq = &((struct virtio_blk *)model)->queues[vu_queue_index(q)];

	blk_process(bq);
	blk_signal(bq);
}

static bool blk_queue_idle(void *model, struct vu_queue *q)
{
	struct blk_queue *bq = &((struct virtio_blk *)model)->queues[vu_queue_index(q)];

	/* A request the driver refused as busy with nothing else in flight: retry it. */
	if (bq->busy && bq->inflight == 1) {
		blk_process(bq);
		blk_signal(bq);
	}
	return bq->inflight == 0;
}

static const struct vdev_ops blk_ops = {
	.name = "blk",
	.device_id = VIRTIO_ID_BLOCK,
	.protocol_features =
		(1ull << VU_PROTOCOL_F_CONFIG) | (1ull << VU_PROTOCOL_F_INFLIGHT_SHMFD),
	.features = blk_features,
	.num_queues = blk_num_queues,
	.get_config = blk_get_config,
	.queue_start = blk_queue_start,
	.queue_kick = blk_queue_kick,
	.queue_idle = blk_queue_idle,
};

/* ---- set-up ---- */

static unsigned int blk_log2(uint32_t v)
{
	unsigned int n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

static void blk_fill_config(struct virtio_blk *blk)
{
	const struct vireo_blk_geometry *g = blk->geo;
	struct virtio_blk_config *c = &blk->cfg;

	uint32_t seg_max = g->max_segments, size_max = g->max_transfer / g->max_segments;

	/*
	 * virtio-blk has no largest-request field: a guest sends up to seg_max segments
	 * of up to size_max bytes. Choose both so that no request exceeds the driver's
	 * max_transfer; segments of at least a page, fewer of them if need be.
	 */
	if (size_max < 4096) {
		size_max = 4096;
		seg_max = g->max_transfer / 4096 ? g->max_transfer / 4096 : 1;
	}
	memset(c, 0, sizeof(*c));
	c->capacity = g->capacity >> VIRTIO_BLK_SECTOR_SHIFT;
	c->size_max = size_max;
	c->seg_max = seg_max;
	c->blk_size = g->logical_block_size;
	c->topology.physical_block_exp =
		(uint8_t)blk_log2(g->physical_block_size / g->logical_block_size);
	c->topology.min_io_size = 1;
	c->topology.opt_io_size = g->optimal_io_size / g->logical_block_size;
	c->num_queues = (uint16_t)blk->nq;
	c->max_discard_sectors = g->max_discard >> VIRTIO_BLK_SECTOR_SHIFT;
	c->max_discard_seg = 1;
	c->discard_sector_alignment = g->discard_granularity >> VIRTIO_BLK_SECTOR_SHIFT;
	c->max_write_zeroes_sectors = g->max_discard >> VIRTIO_BLK_SECTOR_SHIFT;
	c->max_write_zeroes_seg = 1;
	c->write_zeroes_may_unmap = 1;

	blk->features = (1ull << VIRTIO_BLK_F_SIZE_MAX) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
			(1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_TOPOLOGY) |
			(1ull << VIRTIO_BLK_F_FLUSH);
	if (blk->readonly)
		blk->features |= 1ull << VIRTIO_BLK_F_RO;
	if (blk->nq > 1)
		blk->features |= 1ull << VIRTIO_BLK_F_MQ;
	if (!blk->readonly && (g->flags & VIREO_BLK_F_DISCARD))
		blk->features |= 1ull << VIRTIO_BLK_F_DISCARD;
	if (!blk->readonly && (g->flags & VIREO_BLK_F_WRITE_ZEROES))
		blk->features |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
}

static int blk_alloc_queues(struct virtio_blk *blk)
{
	unsigned int depth = blk->depth;

	blk->queues = calloc(blk->nq, sizeof(*blk->queues));
	if (!blk->queues)
		return -ENOMEM;
	for (unsigned int i = 0; i < blk->nq; i++) {
		struct blk_queue *bq = &blk->queues[i];

		bq->blk = blk;
		bq->reqs = calloc(depth, sizeof(*bq->reqs));
		if (!bq->reqs)
			return -ENOMEM;
		for (unsigned int r = 0; r < depth; r++) {
			struct blk_req *req = &bq->reqs[r];

			req->bq = bq;
			req->chain_iov = calloc(2u * blk->iov_cap, sizeof(struct iovec));
			if (!req->chain_iov)
				return -ENOMEM;
			req->data_iov = req->chain_iov + blk->iov_cap;
			req->next_free = bq->free;
			bq->free = req;
		}
	}
	return 0;
}

static void blk_free_queues(struct virtio_blk *blk)
{
	if (!blk->queues)
		return;
	for (unsigned int i = 0; i < blk->nq; i++) {
		struct blk_queue *bq = &blk->queues[i];

		for (unsigned int r = 0; bq->reqs && r < blk->depth; r++)
			free(bq->reqs[r].chain_iov);
		free(bq->reqs);
	}
	free(blk->queues);
}

int virtio_blk_new(const struct vd_spec *spec, struct host_driver *drv, struct virtio_blk **out,
		   char *err, size_t errlen)
{
	const char **keys = NULL, **values = NULL;
	struct virtio_blk *blk;
	int rc;

	blk = calloc(1, sizeof(*blk));
	if (!blk)
		return -ENOMEM;
	snprintf(blk->id, sizeof(blk->id), "%s", spec->id);
	blk->refuse_rl = (struct vireo_ratelimit)VIREO_RATELIMIT_INIT(5000, 10);
	blk->readonly = spec->readonly;
	blk->nq = spec->num_queues;
	keys = calloc(spec->nparams + 1, sizeof(*keys));
	values = calloc(spec->nparams + 1, sizeof(*values));
	blk->loops = calloc(blk->nq, sizeof(*blk->loops));
	if (!keys || !values || !blk->loops) {
		rc = -ENOMEM;
		goto out_free;
	}
	for (size_t i = 0; i < spec->nparams; i++) {
		keys[i] = spec->params[i].key;
		values[i] = spec->params[i].value;
	}

	/* The device first: its queues' loops are where the driver's queues will live. */
	rc = vu_dev_new(spec->socket, &blk_ops, blk, &blk->vu);
	if (rc < 0) {
		snprintf(err, errlen, "%s: socket %s: %s", spec->id, spec->socket, strerror(-rc));
		goto out_free;
	}
	for (unsigned int i = 0; i < blk->nq; i++)
		blk->loops[i] = vu_dev_queue_loop(blk->vu, i);
	rc = host_blk_open(drv, spec->id, keys, values, spec->nparams, blk->nq, blk->loops,
			   blk->readonly ? HOST_BLK_OPEN_READ_ONLY : 0, &blk->hb, err, errlen);
	if (rc < 0)
		goto out_free_vu;
	if (host_blk_num_queues(blk->hb) < blk->nq) {
		snprintf(err, errlen, "%s: driver %s serves at most %u queues, num-queues=%u asked",
			 spec->id, host_driver_name(drv), host_blk_num_queues(blk->hb), blk->nq);
		rc = -EINVAL;
		goto out_close;
	}
	blk->geo = host_blk_geometry(blk->hb);
	if (blk->geo->flags & VIREO_BLK_F_READ_ONLY)
		blk->readonly = true;
	blk->iov_cap = blk->geo->max_segments + 2 + BLK_IOV_SLACK;
	blk->depth = blk->geo->queue_depth;
	blk_fill_config(blk);
	rc = blk_alloc_queues(blk);
	if (rc < 0)
		goto out_free_queues;
	free(keys);
	free(values);
	*out = blk;
	return 0;

out_free_queues:
	blk_free_queues(blk);
out_close:
	host_blk_close(blk->hb);
out_free_vu:
	vu_dev_free(blk->vu);
out_free:
	free(blk->loops);
	free(keys);
	free(values);
	free(blk);
	return rc;
}

int virtio_blk_start(struct virtio_blk *blk)
{
	return vu_dev_start(blk->vu);
}

void virtio_blk_free(struct virtio_blk *blk)
{
	if (!blk)
		return;
	/* Stopping the device waits for every queue to go idle; the driver then removes
	 * its watches from the queues' loops, which go last. */
	vu_dev_stop(blk->vu);
	if (host_blk_close(blk->hb) < 0)
		vireo_log(VIREO_LOG_ERR, TAG, "%s: driver instance still busy at close", blk->id);
	vu_dev_free(blk->vu);
	blk_free_queues(blk);
	free(blk->loops);
	free(blk);
}

void virtio_blk_get_stats(struct virtio_blk *blk, struct virtio_blk_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->capacity = blk->geo->capacity;
	s->queues = blk->nq;
	s->reads = atomic_load(&blk->n_reads);
	s->writes = atomic_load(&blk->n_writes);
	s->flushes = atomic_load(&blk->n_flushes);
	s->discards = atomic_load(&blk->n_discards);
	s->write_zeroes = atomic_load(&blk->n_write_zeroes);
	s->get_ids = atomic_load(&blk->n_get_ids);
	s->bytes_read = atomic_load(&blk->bytes_read);
	s->bytes_written = atomic_load(&blk->bytes_written);
	s->errors = atomic_load(&blk->n_errors);
	s->unsupported = atomic_load(&blk->n_unsupported);
}

void virtio_blk_vu_stats(struct virtio_blk *blk, struct vu_dev_stats *s)
{
	vu_dev_get_stats(blk->vu, s);
}
