// SPDX-License-Identifier: MIT
/*
 * blk-ram: a block device backed by anonymous memory. The skeleton a partner copies to
 * start a block driver: parameters, geometry, the submit path with synchronous
 * completions, stats, and a descriptor that is the only exported symbol. It owns its
 * memory; it does not own the checks the core makes before submit (see <vireo/blk.h>),
 * though it repeats the range check because a driver should never trust its caller
 * with memory safety.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE, madvise() */
#endif
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vireo/blk.h>
#include <vireo/driver.h>
#include <vireo/log.h>
#include <vireo/params.h>

/* Address space reserved, not memory: pages are only allocated when written. */
#define RAM_MAX_SIZE	(64ull << 30)
#define RAM_QUEUE_DEPTH 128

struct ram_disk {
	uint8_t *mem;
	uint64_t size;
	uint32_t block_size;
	uint32_t queues;
	bool write_protect;
	bool volatile_cache;
	size_t page;
	/* Counters: submit runs on several queue threads at once. */
	atomic_uint_fast64_t read_ops;
	atomic_uint_fast64_t read_bytes;
	atomic_uint_fast64_t write_ops;
	atomic_uint_fast64_t write_bytes;
	atomic_uint_fast64_t flush_ops;
	atomic_uint_fast64_t discard_ops;
};

static const struct vireo_param_decl ram_params[] = {
	{ VIREO_PARAM_UINT("size", "16M", "capacity in bytes (K, M, G suffixes), up to 64G") },
	{ VIREO_PARAM_UINT("block-size", "512", "logical block size: 512, 1024, 2048 or 4096") },
	{ VIREO_PARAM_UINT("queues", "1", "most queues the guest may use, 1 to 64") },
	{ VIREO_PARAM_BOOL("write-protect", "off", "present the disk read-only") },
	{ VIREO_PARAM_BOOL("volatile-cache", "off",
			   "announce a write cache so that guests send flushes (RAM has none)") },
	{ 0 } /* sentinel */
};

/* Reads the parameters into @rd; logs and fails on a value the driver cannot use. */
static int ram_configure(struct ram_disk *rd, const char *id, const struct vireo_params *params)
{
	uint64_t size, block_size, queues;
	int rc;

	rc = vireo_param_get_uint(params, "size", &size);
	if (rc == 0)
		rc = vireo_param_get_uint(params, "block-size", &block_size);
	if (rc == 0)
		rc = vireo_param_get_uint(params, "queues", &queues);
	if (rc == 0)
		rc = vireo_param_get_bool(params, "write-protect", &rd->write_protect);
	if (rc == 0)
		rc = vireo_param_get_bool(params, "volatile-cache", &rd->volatile_cache);
	if (rc < 0) {
		VIREO_ERR("%s: reading parameters: %s", id, strerror(-rc));
		return rc;
	}
	if (block_size < 512 || block_size > 4096 || (block_size & (block_size - 1))) {
		VIREO_ERR("%s: block-size %llu: expected 512, 1024, 2048 or 4096", id,
			  (unsigned long long)block_size);
		return -EINVAL;
	}
	if (size == 0 || size > RAM_MAX_SIZE || size % block_size) {
		VIREO_ERR("%s: size %llu: expected a multiple of %llu, at most 64G", id,
			  (unsigned long long)size, (unsigned long long)block_size);
		return -EINVAL;
	}
	if (queues < 1 || queues > VIREO_BLK_MAX_QUEUES) {
		VIREO_ERR("%s: queues %llu: expected 1 to %d", id, (unsigned long long)queues,
			  VIREO_BLK_MAX_QUEUES);
		return -EINVAL;
	}
	rd->size = size;
	rd->block_size = (uint32_t)block_size;
	rd->queues = (uint32_t)queues;
	return 0;
}

static int ram_open(struct vireo_blk *blk, const struct vireo_params *params)
{
	const char *id = vireo_blk_id(blk);
	long page = sysconf(_SC_PAGESIZE);
	struct ram_disk *rd;
	int rc;

	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	rd->page = page > 0 ? (size_t)page : 4096;
	rc = ram_configure(rd, id, params);
	if (rc < 0)
		goto out_free_rd;
	rd->mem = mmap(NULL, rd->size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (rd->mem == MAP_FAILED) {
		rc = -errno;
		VIREO_ERR("%s: reserving %llu bytes: %s", id, (unsigned long long)rd->size,
			  strerror(-rc));
		goto out_free_rd;
	}
	vireo_blk_set_priv(blk, rd);
	VIREO_INFO("%s: %llu bytes of RAM, %u-byte blocks%s", id, (unsigned long long)rd->size,
		   rd->block_size, rd->write_protect ? ", write-protected" : "");
	return 0;

out_free_rd:
	free(rd);
	return rc;
}

static void ram_close(struct vireo_blk *blk)
{
	struct ram_disk *rd = vireo_blk_priv(blk);

	munmap(rd->mem, rd->size);
	free(rd);
	vireo_blk_set_priv(blk, NULL);
}

static int ram_get_geometry(struct vireo_blk *blk, struct vireo_blk_geometry *geo)
{
	const struct ram_disk *rd = vireo_blk_priv(blk);

	geo->capacity = rd->size;
	geo->logical_block_size = rd->block_size;
	geo->physical_block_size = rd->block_size;
	geo->max_queues = rd->queues;
	geo->queue_depth = RAM_QUEUE_DEPTH;
	geo->discard_granularity = rd->block_size;
	geo->flags = VIREO_BLK_F_DISCARD | VIREO_BLK_F_WRITE_ZEROES;
	if (rd->write_protect)
		geo->flags |= VIREO_BLK_F_READ_ONLY;
	if (rd->volatile_cache)
		geo->flags |= VIREO_BLK_F_FLUSH;
	return 0;
}

/* Copies between the disk and the request's iovecs (their total is req->length). */
static void ram_copy(struct ram_disk *rd, const struct vireo_blk_req *req, bool to_disk)
{
	uint8_t *p = rd->mem + req->offset;

	for (uint32_t i = 0; i < req->iovcnt; i++) {
		size_t len = req->iov[i].iov_len;

		if (to_disk)
			memcpy(p, req->iov[i].iov_base, len);
		else
			memcpy(req->iov[i].iov_base, p, len);
		p += len;
	}
}

/* Zeroes a range, giving whole pages back to the host instead of writing them. */
static void ram_zero(struct ram_disk *rd, uint64_t off, uint64_t len)
{
	uint64_t start = (off + rd->page - 1) / rd->page * rd->page;
	uint64_t end = (off + len) / rd->page * rd->page;

	if (start >= end || madvise(rd->mem + start, end - start, MADV_DONTNEED) < 0) {
		memset(rd->mem + off, 0, len);
		return;
	}
	memset(rd->mem + off, 0, start - off);
	memset(rd->mem + end, 0, off + len - end);
}

static int ram_submit(struct vireo_blk *blk, struct vireo_blk_req *req)
{
	struct ram_disk *rd = vireo_blk_priv(blk);

	if (req->offset > rd->size || req->length > rd->size - req->offset)
		return -ERANGE;
	switch (req->op) {
	case VIREO_BLK_OP_READ:
		ram_copy(rd, req, false);
		atomic_fetch_add(&rd->read_ops, 1);
		atomic_fetch_add(&rd->read_bytes, req->length);
		break;
	case VIREO_BLK_OP_WRITE:
		ram_copy(rd, req, true);
		atomic_fetch_add(&rd->write_ops, 1);
		atomic_fetch_add(&rd->write_bytes, req->length);
		break;
	case VIREO_BLK_OP_FLUSH:
		/* Nothing is cached: memory is as durable as this device gets. */
		atomic_fetch_add(&rd->flush_ops, 1);
		break;
	case VIREO_BLK_OP_DISCARD:
	case VIREO_BLK_OP_WRITE_ZEROES:
		ram_zero(rd, req->offset, req->length);
		atomic_fetch_add(&rd->discard_ops, 1);
		break;
	default:
		return -EOPNOTSUPP;
	}
	vireo_blk_complete(req, 0);
	return 0;
}

static int ram_get_stats(struct vireo_blk *blk, struct vireo_blk_stats *stats)
{
	struct ram_disk *rd = vireo_blk_priv(blk);

	stats->read_ops = atomic_load(&rd->read_ops);
	stats->read_bytes = atomic_load(&rd->read_bytes);
	stats->write_ops = atomic_load(&rd->write_ops);
	stats->write_bytes = atomic_load(&rd->write_bytes);
	stats->flush_ops = atomic_load(&rd->flush_ops);
	stats->discard_ops = atomic_load(&rd->discard_ops);
	return 0;
}

static const struct vireo_blk_ops ram_ops = {
	.struct_size = sizeof(struct vireo_blk_ops),
	.open = ram_open,		  /* required */
	.get_geometry = ram_get_geometry, /* required */
	.submit = ram_submit,		  /* required; completes before returning */
	.close = ram_close,		  /* optional */
	.get_stats = ram_get_stats,	  /* optional; queue_start/stop: none needed */
};

static const struct vireo_match ram_match[] = {
	{ VIREO_MATCH_NAME("ramdisk") }, /* `driver=ramdisk` finds this driver too */
	{ 0 }				 /* sentinel */
};

VIREO_DRIVER(.name = "blk-ram", .version = "1.0.0", .license = "MIT",
	     .description = "RAM-backed block device (SDK sample)", .dev_class = VIREO_CLASS_BLK,
	     .ops.blk = &ram_ops, .match = ram_match, .params = ram_params);
