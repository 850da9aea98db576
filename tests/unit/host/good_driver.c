// SPDX-License-Identifier: MIT
/*
 * Valid but unusual drivers for the host tests, one source built per variant:
 * - GOOD_PREFIX_OPS: an ops table whose struct_size stops right after the last
 *   required op, with poison beyond it: the core must read only the declared prefix
 *   and treat the rest as NULL (loading would fail, or closing crash, otherwise).
 * - GOOD_MATCHER: a match table with every kind of entry, for the lookups.
 * - GOOD_DUP: a second driver named "blk-ram", which the host must refuse as a duplicate.
 * The device is one 4 KiB block of memory; requests complete before submit returns.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vireo/blk.h>
#include <vireo/driver.h>

#define GOOD_SIZE 4096

#ifdef GOOD_PREFIX_OPS
/* No close op in the prefix, so nothing to free: the disk is static. */
static uint8_t good_disk[GOOD_SIZE];
#endif

static int good_open(struct vireo_blk *blk, const struct vireo_params *params)
{
#ifdef GOOD_PREFIX_OPS
	void *mem = good_disk;
#else
	void *mem = calloc(1, GOOD_SIZE);
#endif

	(void)params;
	if (!mem)
		return -ENOMEM;
	vireo_blk_set_priv(blk, mem);
	return 0;
}

#ifndef GOOD_PREFIX_OPS
static void good_close(struct vireo_blk *blk)
{
	free(vireo_blk_priv(blk));
}
#endif

static int good_get_geometry(struct vireo_blk *blk, struct vireo_blk_geometry *geo)
{
	(void)blk;
	geo->capacity = GOOD_SIZE;
	return 0;
}

static int good_submit(struct vireo_blk *blk, struct vireo_blk_req *req)
{
	uint8_t *mem = vireo_blk_priv(blk);

	if (req->op == VIREO_BLK_OP_READ || req->op == VIREO_BLK_OP_WRITE) {
		uint8_t *p = mem + req->offset;

		for (uint32_t i = 0; i < req->iovcnt; i++) {
			if (req->op == VIREO_BLK_OP_WRITE)
				memcpy(p, req->iov[i].iov_base, req->iov[i].iov_len);
			else
				memcpy(req->iov[i].iov_base, p, req->iov[i].iov_len);
			p += req->iov[i].iov_len;
		}
	}
	vireo_blk_complete(req, 0);
	return 0;
}

#ifdef GOOD_PREFIX_OPS
/* Nothing past struct_size may be read: these would be refused, or crash, if it were. */
#define GOOD_POISON ((uintptr_t)0x1000)
static const struct vireo_blk_ops good_ops = {
	.struct_size = offsetof(struct vireo_blk_ops, submit) + sizeof(vireo_blk_submit_t),
	.open = good_open,
	.get_geometry = good_get_geometry,
	.submit = good_submit,
	.close = (vireo_blk_close_t)GOOD_POISON,
	.queue_start = (vireo_blk_queue_start_t)GOOD_POISON,
	.queue_stop = (vireo_blk_queue_stop_t)GOOD_POISON,
	.get_stats = (vireo_blk_get_stats_t)GOOD_POISON,
};
#define GOOD_NAME "prefix-ops"
#else
static const struct vireo_blk_ops good_ops = {
	.struct_size = sizeof(struct vireo_blk_ops),
	.open = good_open,
	.get_geometry = good_get_geometry,
	.submit = good_submit,
	.close = good_close,
};
#endif

#ifdef GOOD_MATCHER
static const struct vireo_match good_match[] = {
	{ VIREO_MATCH_PCI_DEVICE(0x1af4, 0x1042), .driver_data = 1 },
	{ VIREO_MATCH_PCI_SUBSYS(0x8086, 0x10d3, 0x8086, 0xa01f), .driver_data = 2 },
	{ VIREO_MATCH_PCI_CLASS(0x010802, 0xffffff), .driver_data = 3 }, /* NVMe */
	{ VIREO_MATCH_USB_DEVICE(0x0bda, 0x8153), .driver_data = 4 },
	{ VIREO_MATCH_NAME("test-alias"), .driver_data = 5 },
	{ 0 } /* sentinel */
};
#define GOOD_NAME  "matcher"
#define GOOD_MATCH good_match
#else
#define GOOD_MATCH NULL
#endif

#ifdef GOOD_DUP
#define GOOD_NAME "blk-ram"
#endif

VIREO_DRIVER(.name = GOOD_NAME, .version = "2.3.4", .license = "MIT OR Apache-2.0",
	     .dev_class = VIREO_CLASS_BLK, .ops.blk = &good_ops, .match = GOOD_MATCH);
