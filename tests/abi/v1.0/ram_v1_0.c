// SPDX-License-Identifier: MIT
/*
 * A block driver built against the frozen ABI 1.0 headers (tests/abi/v1.0/include),
 * never against sdk/include: a RAM disk of 1 MiB, 512-byte blocks, read and write only,
 * completing each request before submit returns. It owns nothing but that; it stands
 * for a partner's driver compiled at 1.0, which every later 1.x core must load and run
 * (tests/abi/old_driver_test.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vireo/blk.h>
#include <vireo/driver.h>
#include <vireo/version.h>

#if VIREO_ABI_MAJOR != 1 || VIREO_ABI_MINOR != 0
#error "ram_v1_0.c must be built against the frozen 1.0 headers"
#endif

#define RAM_SIZE (1u << 20)

struct ram_v1_0 {
	uint8_t mem[RAM_SIZE];
};

static int ram_open(struct vireo_blk *blk, const struct vireo_params *params)
{
	struct ram_v1_0 *rd;

	(void)params;
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	vireo_blk_set_priv(blk, rd);
	return 0;
}

static void ram_close(struct vireo_blk *blk)
{
	free(vireo_blk_priv(blk));
	vireo_blk_set_priv(blk, NULL);
}

static int ram_get_geometry(struct vireo_blk *blk, struct vireo_blk_geometry *geo)
{
	(void)blk;
	geo->capacity = RAM_SIZE;
	geo->logical_block_size = 512;
	return 0;
}

static int ram_submit(struct vireo_blk *blk, struct vireo_blk_req *req)
{
	struct ram_v1_0 *rd = vireo_blk_priv(blk);
	uint8_t *p;

	if (req->offset > RAM_SIZE || req->length > RAM_SIZE - req->offset)
		return -ERANGE;
	if (req->op != VIREO_BLK_OP_READ && req->op != VIREO_BLK_OP_WRITE)
		return -EOPNOTSUPP;
	p = rd->mem + req->offset;
	for (uint32_t i = 0; i < req->iovcnt; i++) {
		if (req->op == VIREO_BLK_OP_WRITE)
			memcpy(p, req->iov[i].iov_base, req->iov[i].iov_len);
		else
			memcpy(req->iov[i].iov_base, p, req->iov[i].iov_len);
		p += req->iov[i].iov_len;
	}
	vireo_blk_complete(req, 0);
	return 0;
}

static const struct vireo_blk_ops ram_ops = {
	.struct_size = sizeof(struct vireo_blk_ops),
	.open = ram_open,		  /* required */
	.get_geometry = ram_get_geometry, /* required */
	.submit = ram_submit,		  /* required; completes before returning */
	.close = ram_close,		  /* optional */
};

VIREO_DRIVER(.name = "ram-v1.0", .version = "1.0.0", .license = "MIT",
	     .description = "RAM disk built against the frozen ABI 1.0 headers",
	     .dev_class = VIREO_CLASS_BLK, .ops.blk = &ram_ops);
