// SPDX-License-Identifier: MIT
/*
 * The block device plumbing under vireo-certify's blk checks: opens an instance through
 * the driver host with one core event loop per queue (as vireod's queue threads have),
 * submits requests with host_blk_submit(), counts every done callback per request and
 * waits for completions by running the queue's loop on the caller's thread, which is
 * where a driver such as blk-file completes. Owns the loops and the callback tallies;
 * not the checks (blk_checks.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "certify.h"
#include "lib/internal.h"

#define DEV_POLL_MS 20

static uint64_t dev_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The done callback: runs once per accepted request, on whichever thread completed it. */
static void dev_on_done(struct host_blk_io *io, int status)
{
	struct cert_io *c = (struct cert_io *)((char *)io - offsetof(struct cert_io, io));
	struct cert_blk *b = io->ctx;
	bool driver_saw = io->op != VIREO_BLK_OP_FLUSH || (b->geo.flags & VIREO_BLK_F_FLUSH);

	if (atomic_fetch_add(&c->calls, 1) > 0) {
		atomic_fetch_add(&b->extra_calls, 1);
		return; /* a duplicate: it must not count as a completion twice */
	}
	c->status = status;
	if (status)
		atomic_fetch_add(&b->errors, 1);
	else if (driver_saw && io->op < 5) {
		atomic_fetch_add(&b->ok_ops[io->op], 1);
		atomic_fetch_add(&b->ok_bytes[io->op], io->length);
	}
	/* Last: the waiter may reuse @c as soon as it sees the count drop. */
	atomic_fetch_sub(c->pending, 1);
}

int cert_blk_open(struct cert_blk *b, struct host_driver *drv, const struct cert_opts *opts,
		  unsigned int queues, char *err, size_t errlen)
{
	unsigned int i;
	int rc;

	memset(b, 0, sizeof(*b));
	b->drv = drv;
	if (queues < 1 || queues > VIREO_BLK_MAX_QUEUES)
		return -EINVAL;
	for (i = 0; i < queues; i++) {
		rc = vireo_core_loop_new(&b->loops[i]);
		if (rc < 0) {
			snprintf(err, errlen, "creating an event loop: %s", strerror(-rc));
			goto out_free_loops;
		}
	}
	rc = host_blk_open(drv, "certify0", opts->keys, opts->values, opts->nparams, queues,
			   b->loops, 0, &b->hb, err, errlen);
	if (rc < 0)
		goto out_free_loops;
	b->geo = *host_blk_geometry(b->hb);
	b->nqueues = host_blk_num_queues(b->hb);
	return 0;

out_free_loops:
	while (i-- > 0)
		vireo_core_loop_free(b->loops[i]);
	memset(b->loops, 0, sizeof(b->loops));
	return rc;
}

int cert_blk_close(struct cert_blk *b)
{
	int rc;

	if (!b->hb)
		return 0;
	for (unsigned int q = 0; q < b->nqueues; q++)
		(void)cert_wait(b, q);
	rc = host_blk_close(b->hb);
	if (rc < 0)
		return rc; /* requests still out: the loops stay, the driver may use them */
	b->hb = NULL;
	for (unsigned int i = 0; i < VIREO_BLK_MAX_QUEUES && b->loops[i]; i++) {
		vireo_core_loop_free(b->loops[i]);
		b->loops[i] = NULL;
	}
	return 0;
}

void cert_io_prep(struct cert_blk *b, struct cert_io *c, uint32_t op, unsigned int queue,
		  uint64_t offset, uint64_t length, const struct iovec *iov, uint32_t iovcnt)
{
	memset(&c->io, 0, sizeof(c->io));
	c->io.op = op;
	c->io.queue = queue;
	c->io.offset = offset;
	c->io.length = length;
	c->io.iov = iov;
	c->io.iovcnt = iovcnt;
	c->io.done = dev_on_done;
	c->io.ctx = b;
	atomic_store(&c->calls, 0);
	c->status = 1; /* not a status a callback can leave */
	c->pending = &b->pending[queue < VIREO_BLK_MAX_QUEUES ? queue : 0];
}

int cert_io_submit(struct cert_blk *b, struct cert_io *c)
{
	int rc;

	/* Counted before: the driver may complete inside host_blk_submit(). */
	atomic_fetch_add(c->pending, 1);
	rc = host_blk_submit(b->hb, &c->io);
	if (rc < 0)
		atomic_fetch_sub(c->pending, 1);
	return rc;
}

int cert_wait(struct cert_blk *b, unsigned int queue)
{
	uint64_t deadline = dev_now_ms() + CERT_IO_TIMEOUT_MS;

	while (atomic_load(&b->pending[queue]) > 0) {
		if (dev_now_ms() > deadline)
			return -ETIMEDOUT;
		if (b->loops[queue])
			(void)vireo_core_loop_run_once(b->loops[queue], DEV_POLL_MS);
	}
	return 0;
}

int cert_io_run(struct cert_blk *b, struct cert_io *c)
{
	int rc = cert_io_submit(b, c);

	if (rc < 0)
		return rc;
	rc = cert_wait(b, c->io.queue);
	if (rc < 0)
		return rc;
	return c->status;
}

void cert_settle(struct cert_blk *b)
{
	for (int round = 0; round < 3; round++)
		for (unsigned int q = 0; q < b->nqueues; q++)
			(void)vireo_core_loop_run_once(b->loops[q], round ? 0 : DEV_POLL_MS);
}
