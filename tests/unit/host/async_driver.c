// SPDX-License-Identifier: MIT
/*
 * An asynchronous block driver for tests/unit/host/blkdev_test.c: submit() only queues
 * requests; the test completes them later, from any thread, through the async_test_*
 * hooks (exported for the test alone, found with dlsym). Also misbehaves on purpose at
 * two offsets, to exercise the core's exactly-once rules:
 * - ASYNC_FAIL_OFFSET: refuse with -EIO and do not complete;
 * - ASYNC_BOTH_OFFSET: complete, then return -EIO anyway.
 * 64 KiB of memory, 2 queues of depth 2.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <vireo/blk.h>
#include <vireo/driver.h>

#define ASYNC_SIZE	  65536
#define ASYNC_DEPTH	  2
#define ASYNC_QUEUES	  2
#define ASYNC_MAX_PENDING (ASYNC_DEPTH * ASYNC_QUEUES)
#define ASYNC_FAIL_OFFSET 4096
#define ASYNC_BOTH_OFFSET 8192

static uint8_t async_disk[ASYNC_SIZE];
static pthread_mutex_t async_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vireo_blk_req *async_pending[ASYNC_MAX_PENDING]; /* protects: async_lock */
static int async_npending;
static struct vireo_blk_req *async_last; /* the last request completed by the hooks */

VIREO_API int async_test_pending(void);
VIREO_API int async_test_complete_all(int status);
VIREO_API void async_test_complete_last_again(void);

static int async_open(struct vireo_blk *blk, const struct vireo_params *params)
{
	(void)blk;
	(void)params;
	memset(async_disk, 0, sizeof(async_disk));
	return 0;
}

static int async_get_geometry(struct vireo_blk *blk, struct vireo_blk_geometry *geo)
{
	(void)blk;
	geo->capacity = ASYNC_SIZE;
	geo->max_queues = ASYNC_QUEUES;
	geo->queue_depth = ASYNC_DEPTH;
	geo->flags = VIREO_BLK_F_FLUSH;
	return 0;
}

static int async_submit(struct vireo_blk *blk, struct vireo_blk_req *req)
{
	int rc = 0;

	(void)blk;
	if (req->offset == ASYNC_FAIL_OFFSET)
		return -EIO;
	if (req->offset == ASYNC_BOTH_OFFSET) {
		vireo_blk_complete(req, 0);
		return -EIO;
	}
	pthread_mutex_lock(&async_lock);
	if (async_npending == ASYNC_MAX_PENDING)
		rc = -EBUSY; /* cannot happen while the core keeps to queue_depth */
	else
		async_pending[async_npending++] = req;
	pthread_mutex_unlock(&async_lock);
	return rc;
}

static void async_do(struct vireo_blk_req *req)
{
	uint8_t *p = async_disk + req->offset;

	for (uint32_t i = 0; i < req->iovcnt; i++) {
		if (req->op == VIREO_BLK_OP_WRITE)
			memcpy(p, req->iov[i].iov_base, req->iov[i].iov_len);
		else if (req->op == VIREO_BLK_OP_READ)
			memcpy(req->iov[i].iov_base, p, req->iov[i].iov_len);
		p += req->iov[i].iov_len;
	}
}

int async_test_pending(void)
{
	int n;

	pthread_mutex_lock(&async_lock);
	n = async_npending;
	pthread_mutex_unlock(&async_lock);
	return n;
}

int async_test_complete_all(int status)
{
	struct vireo_blk_req *reqs[ASYNC_MAX_PENDING];
	int n;

	pthread_mutex_lock(&async_lock);
	n = async_npending;
	memcpy(reqs, async_pending, sizeof(reqs[0]) * (size_t)n);
	async_npending = 0;
	pthread_mutex_unlock(&async_lock);
	for (int i = 0; i < n; i++) {
		if (status == 0)
			async_do(reqs[i]);
		async_last = reqs[i];
		vireo_blk_complete(reqs[i], status);
	}
	return n;
}

void async_test_complete_last_again(void)
{
	if (async_last)
		vireo_blk_complete(async_last, 0);
}

static const struct vireo_blk_ops async_ops = {
	.struct_size = sizeof(struct vireo_blk_ops),
	.open = async_open,
	.get_geometry = async_get_geometry,
	.submit = async_submit,
};

VIREO_DRIVER(.name = "async", .version = "0.1", .license = "MIT", .dev_class = VIREO_CLASS_BLK,
	     .ops.blk = &async_ops);
