// SPDX-License-Identifier: MIT
/*
 * Names of virtqueue refusals and the single reporting function for broken
 * queues. When the SDK logger exists, vireo_vq_report() is the one line to change.
 */
#include "virtqueue/err.h"

#include <stdio.h>

static const char *const vq_err_str[VIREO_VQ_ERR_MAX] = {
	[VIREO_VQ_OK] = "ok",
	[VIREO_VQ_ERR_NOT_READY] = "queue has no rings",
	[VIREO_VQ_ERR_SIZE] = "queue size is not a power of 2 in [1, 32768]",
	[VIREO_VQ_ERR_RING_ADDR] = "ring address is NULL",
	[VIREO_VQ_ERR_RING_ALIGN] = "ring address is misaligned",
	[VIREO_VQ_ERR_USED_ID] = "used id is not a descriptor index",
	[VIREO_VQ_ERR_BASE] = "saved ring position is outside the ring",
	[VIREO_VQ_ERR_NOMEM] = "no memory for the ring's bookkeeping",
	[VIREO_VQ_ERR_BROKEN] = "queue is broken until reset",
	[VIREO_VQ_ERR_AVAIL_JUMP] = "available index moved more than the queue size",
	[VIREO_VQ_ERR_HEAD_RANGE] = "available ring head is out of range",
	[VIREO_VQ_ERR_NEXT_RANGE] = "descriptor next is out of range",
	[VIREO_VQ_ERR_CHAIN_LOOP] = "descriptor chain is longer than the queue size (loop)",
	[VIREO_VQ_ERR_DESC_RANGE] = "descriptor buffer is outside guest memory",
	[VIREO_VQ_ERR_READ_AFTER_WRITE] = "readable descriptor after a writable one",
	[VIREO_VQ_ERR_TOTAL_OVERFLOW] = "descriptor chain holds more than 2^32 - 1 bytes",
	[VIREO_VQ_ERR_IOV_FULL] = "descriptor chain needs too many iovecs",
	[VIREO_VQ_ERR_INDIRECT_NOT_NEGOTIATED] = "indirect descriptor without INDIRECT_DESC",
	[VIREO_VQ_ERR_INDIRECT_NESTED] = "indirect descriptor inside an indirect table",
	[VIREO_VQ_ERR_INDIRECT_NEXT] = "indirect descriptor with NEXT set",
	[VIREO_VQ_ERR_INDIRECT_LEN] = "indirect table length is 0 or not a multiple of 16",
	[VIREO_VQ_ERR_INDIRECT_RANGE] = "indirect table is outside guest memory",
	[VIREO_VQ_ERR_INDIRECT_NEXT_RANGE] = "indirect descriptor next is out of range",
	[VIREO_VQ_ERR_ID_IN_USE] = "buffer id made available while still in use",
	[VIREO_VQ_ERR_RING_OVERRUN] = "more descriptors made available than the ring has free",
};

static vireo_vq_log_fn g_vq_log_hook;

const char *vireo_vq_err_str(enum vireo_vq_err err)
{
	if ((unsigned int)err >= VIREO_VQ_ERR_MAX || !vq_err_str[err])
		return "unknown reason";
	return vq_err_str[err];
}

int vireo_vq_err_is_guest(enum vireo_vq_err err)
{
	return err > VIREO_VQ_ERR_BROKEN && err < VIREO_VQ_ERR_MAX;
}

void vireo_vq_set_log_hook(vireo_vq_log_fn fn)
{
	g_vq_log_hook = fn;
}

void vireo_vq_report(unsigned int queue, enum vireo_vq_err why, uint16_t last_avail)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "virtqueue %u broken at avail %u: %s", queue,
		 (unsigned int)last_avail, vireo_vq_err_str(why));
	if (g_vq_log_hook)
		g_vq_log_hook(queue, why, msg);
	else
		fprintf(stderr, "vireo: %s\n", msg);
}
