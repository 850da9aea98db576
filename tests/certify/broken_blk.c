// SPDX-License-Identifier: MIT
/*
 * A deliberately broken block driver, to prove that vireo-certify fails what it
 * should: a small RAM disk that, built with -DBROKEN_CORRUPT_READ, flips a byte of
 * every 7th read; with -DBROKEN_DOUBLE_COMPLETE, completes every 5th write twice; with
 * -DBROKEN_LOSE_WRITE, accepts every 50th write and never completes it. Test-only;
 * not a sample to copy.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <vireo/blk.h>
#include <vireo/driver.h>

#define BROKEN_SIZE (4u << 20)

struct broken_disk {
	uint8_t *mem;
	atomic_uint reads;
	atomic_uint writes;
};

static int broken_open(struct vireo_blk *blk, const struct vireo_params *params)
{
	struct broken_disk *d;

	(void)params;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->mem = calloc(1, BROKEN_SIZE);
	if (!d->mem) {
		free(d);
		return -ENOMEM;
	}
	vireo_blk_set_priv(blk, d);
	return 0;
}

static void broken_close(struct vireo_blk *blk)
{
	struct broken_disk *d = vireo_blk_priv(blk);

	free(d->mem);
	free(d);
}

static int broken_get_geometry(struct vireo_blk *blk, struct vireo_blk_geometry *geo)
{
	(void)blk;
	geo->capacity = BROKEN_SIZE;
	geo->logical_block_size = 512;
	geo->queue_depth = 32;
	return 0;
}

static void broken_copy(struct broken_disk *d, const struct vireo_blk_req *req, bool to_disk)
{
	uint8_t *p = d->mem + req->offset;

	for (uint32_t i = 0; i < req->iovcnt; i++) {
		if (to_disk)
			memcpy(p, req->iov[i].iov_base, req->iov[i].iov_len);
		else
			memcpy(req->iov[i].iov_base, p, req->iov[i].iov_len);
		p += req->iov[i].iov_len;
	}
}

static int broken_submit(struct vireo_blk *blk, struct vireo_blk_req *req)
{
	struct broken_disk *d = vireo_blk_priv(blk);

	switch (req->op) {
	case VIREO_BLK_OP_READ:
		broken_copy(d, req, false);
#ifdef BROKEN_CORRUPT_READ
		if (atomic_fetch_add(&d->reads, 1) % 7 == 6)
			((uint8_t *)req->iov[0].iov_base)[0] ^= 0x01;
#endif
		break;
	case VIREO_BLK_OP_WRITE:
		broken_copy(d, req, true);
#ifdef BROKEN_LOSE_WRITE
		if (atomic_fetch_add(&d->writes, 1) % 50 == 49)
			return 0; /* taken, never completed */
#endif
#ifdef BROKEN_DOUBLE_COMPLETE
		if (atomic_fetch_add(&d->writes, 1) % 5 == 4)
			vireo_blk_complete(req, 0);
#endif
		break;
	default:
		return -EOPNOTSUPP;
	}
	vireo_blk_complete(req, 0);
	return 0;
}

static const struct vireo_blk_ops broken_ops = {
	.struct_size = sizeof(struct vireo_blk_ops),
	.open = broken_open,		     /* required */
	.get_geometry = broken_get_geometry, /* required */
	.submit = broken_submit,	     /* required; completes before returning */
	.close = broken_close,		     /* optional */
};

VIREO_DRIVER(.name = "blk-broken", .version = "0.0.1", .license = "MIT",
	     .description = "deliberately broken (vireo-certify's own test)",
	     .dev_class = VIREO_CLASS_BLK, .ops.blk = &broken_ops);
