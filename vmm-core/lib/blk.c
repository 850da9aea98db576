// SPDX-License-Identifier: MIT
/*
 * libvireo's block-class services: request completion and the instance handle's
 * accessors. Owns the exactly-once rule of completions (an atomic state per request);
 * what a completion then does (stats, the guest's used ring) is the host's callback.
 */
#include "internal.h"

#include <errno.h>

/* Completion statuses are 0 or -errno; the kernel's errno range ends at 4095. */
#define BLK_ERRNO_MAX 4095

static struct vireo_ratelimit g_blk_misuse_rl = VIREO_RATELIMIT_INIT(5000, 5);

void vireo_blk_complete(struct vireo_blk_req *req, int status)
{
	struct vireo_core_blk_req *creq;
	unsigned int expected = VIREO_CORE_REQ_SUBMITTED;

	if (!req) {
		vireo_log_ratelimited(&g_blk_misuse_rl, VIREO_LOG_ERR, "blk",
				      "vireo_blk_complete() called with NULL");
		return;
	}
	creq = (struct vireo_core_blk_req *)((char *)req -
					     offsetof(struct vireo_core_blk_req, pub));
	if (creq->magic != VIREO_CORE_BLK_REQ_MAGIC) {
		vireo_log_ratelimited(&g_blk_misuse_rl, VIREO_LOG_ERR, "blk",
				      "vireo_blk_complete() on %p, which is not a core request",
				      (void *)req);
		return;
	}
	if (!atomic_compare_exchange_strong(&creq->state, &expected, VIREO_CORE_REQ_COMPLETED)) {
		vireo_log_ratelimited(&g_blk_misuse_rl, VIREO_LOG_ERR, "blk",
				      "request %p completed while not outstanding (state %u): "
				      "a double completion? ignored",
				      (void *)req, expected);
		return;
	}
	if (status > 0 || status < -BLK_ERRNO_MAX) {
		vireo_log_ratelimited(&g_blk_misuse_rl, VIREO_LOG_ERR, "blk",
				      "request completed with status %d, not 0 or -errno: "
				      "reported as -EIO",
				      status);
		status = -EIO;
	}
	creq->complete(creq, status);
}

void vireo_blk_set_priv(struct vireo_blk *blk, void *priv)
{
	if (blk)
		blk->priv = priv;
}

void *vireo_blk_priv(const struct vireo_blk *blk)
{
	return blk ? blk->priv : NULL;
}

const char *vireo_blk_id(const struct vireo_blk *blk)
{
	return blk && blk->id ? blk->id : "?";
}

struct vireo_loop *vireo_blk_queue_loop(struct vireo_blk *blk, unsigned int queue)
{
	if (!blk || queue >= blk->nloops)
		return NULL;
	return blk->loops[queue];
}

bool vireo_blk_read_only(const struct vireo_blk *blk)
{
	return blk && blk->read_only;
}
