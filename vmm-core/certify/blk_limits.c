// SPDX-License-Identifier: MIT
/*
 * vireo-certify's blk checks of the request limits: malformed requests refused by
 * host_blk_submit() and never completed, a queue driven to its depth and one past it
 * (each request accepted or -EBUSY, none lost), and every queue the driver offers
 * driven from its own thread at once, each running its own loop, data verified. Owns
 * these three checks; the shared run state is blk_run.h's.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk_run.h"

#define LIM_CASES	 20
#define LIM_MQ_OP_MAX	 (64u << 10)
#define LIM_MQ_MIN_OPS	 16u
#define LIM_GOLDEN_RATIO 0x9e3779b97f4a7c15ull

/* One malformed request and what the core should answer. */
struct lim_case {
	const char *what;
	struct cert_io c;
	int rc;
};

static void lim_add(struct blk_run *run, struct lim_case *cases, unsigned int *n, const char *what,
		    uint32_t op, unsigned int queue, uint64_t off, uint64_t len,
		    const struct iovec *iov, uint32_t iovcnt, uint32_t flags)
{
	struct lim_case *lc = &cases[(*n)++];

	lc->what = what;
	cert_io_prep(&run->b, &lc->c, op, queue, off, len, iov, iovcnt);
	lc->c.io.flags = flags;
}

void blk_check_refusals(struct blk_run *run)
{
	const struct vireo_blk_geometry *g = &run->b.geo;
	uint64_t lbs = g->logical_block_size, cap = g->capacity, big_len;
	bool ro = g->flags & VIREO_BLK_F_READ_ONLY;
	struct lim_case *cases = calloc(LIM_CASES, sizeof(*cases));
	struct iovec *many = calloc(VIREO_BLK_MAX_SEGMENTS + 1, sizeof(*many));
	struct iovec one, across, odd, over;
	unsigned int n = 0, i;
	uint8_t *buf = NULL, *bigbuf = NULL;

	if (run->lost) {
		cert_report_add(run->r, "reject-invalid", CERT_SKIP, BLK_LOST_REASON);
		goto out_free;
	}
	big_len = (uint64_t)g->max_transfer + lbs;
	buf = malloc(lbs);
	bigbuf = malloc(big_len);
	if (!cases || !many || !buf || !bigbuf) {
		cert_report_add(run->r, "reject-invalid", CERT_FAIL, "out of memory");
		goto out_free;
	}
	/* Each iovec carries exactly its request's length, so only the named rule breaks. */
	one = (struct iovec){ buf, lbs };
	across = (struct iovec){ bigbuf, 2 * lbs };
	odd = (struct iovec){ bigbuf, lbs + lbs / 2 };
	over = (struct iovec){ bigbuf, big_len };
	for (i = 0; i <= g->max_segments; i++)
		many[i] = one;
	lim_add(run, cases, &n, "read past the end", VIREO_BLK_OP_READ, 0, cap, lbs, &one, 1, 0);
	lim_add(run, cases, &n, "read across the end", VIREO_BLK_OP_READ, 0, cap - lbs, 2 * lbs,
		&across, 1, 0);
	if (!ro)
		lim_add(run, cases, &n, "write past the end", VIREO_BLK_OP_WRITE, 0, cap, lbs, &one,
			1, 0);
	else
		lim_add(run, cases, &n, "write to a read-only device", VIREO_BLK_OP_WRITE, 0, 0,
			lbs, &one, 1, 0);
	lim_add(run, cases, &n, "misaligned offset", VIREO_BLK_OP_READ, 0, lbs / 2, lbs, &one, 1,
		0);
	lim_add(run, cases, &n, "misaligned length", VIREO_BLK_OP_READ, 0, 0, lbs + lbs / 2, &odd,
		1, 0);
	lim_add(run, cases, &n, "zero length", VIREO_BLK_OP_READ, 0, 0, 0, &one, 1, 0);
	lim_add(run, cases, &n, "iovecs short of the length", VIREO_BLK_OP_READ, 0, 0, 2 * lbs,
		&one, 1, 0);
	lim_add(run, cases, &n, "no iovecs", VIREO_BLK_OP_READ, 0, 0, lbs, NULL, 0, 0);
	lim_add(run, cases, &n, "more iovecs than max_segments", VIREO_BLK_OP_READ, 0, 0,
		(uint64_t)(g->max_segments + 1) * lbs, many, g->max_segments + 1, 0);
	lim_add(run, cases, &n, "longer than max_transfer", VIREO_BLK_OP_READ, 0, 0, big_len, &over,
		1, 0);
	lim_add(run, cases, &n, "queue out of range", VIREO_BLK_OP_READ, run->b.nqueues, 0, lbs,
		&one, 1, 0);
	lim_add(run, cases, &n, "flush with a length", VIREO_BLK_OP_FLUSH, 0, 0, lbs, NULL, 0, 0);
	lim_add(run, cases, &n, "unknown op", 7, 0, 0, lbs, &one, 1, 0);
	lim_add(run, cases, &n, "read with a flag", VIREO_BLK_OP_READ, 0, 0, lbs, &one, 1,
		VIREO_BLK_REQ_F_UNMAP);
	if ((g->flags & VIREO_BLK_F_DISCARD) && !ro)
		lim_add(run, cases, &n, "discard past the end", VIREO_BLK_OP_DISCARD, 0, cap, lbs,
			NULL, 0, 0);
	if ((g->flags & VIREO_BLK_F_WRITE_ZEROES) && !ro)
		lim_add(run, cases, &n, "write-zeroes with an unknown flag",
			VIREO_BLK_OP_WRITE_ZEROES, 0, 0, lbs, NULL, 0, 0x80);
	if (!(g->flags & VIREO_BLK_F_DISCARD))
		lim_add(run, cases, &n, "discard not announced", VIREO_BLK_OP_DISCARD, 0, 0, lbs,
			NULL, 0, 0);
	for (i = 0; i < n; i++)
		cases[i].rc = cert_io_submit(&run->b, &cases[i].c);
	cert_settle(&run->b);
	for (i = 0; i < n; i++) {
		int calls = atomic_load(&cases[i].c.calls);

		if (cases[i].rc >= 0 || calls) {
			cert_report_add(run->r, "reject-invalid", CERT_FAIL,
					"%s: submit returned %d, %d completion(s)", cases[i].what,
					cases[i].rc, calls);
			/* Accepted by mistake: let it finish before its buffers go. */
			if (cert_wait(&run->b, cases[i].c.io.queue < run->b.nqueues
						       ? cases[i].c.io.queue
						       : 0) < 0) {
				run->lost = true;
				return; /* the driver holds the buffers: leaked on purpose */
			}
			goto out_free;
		}
	}
	cert_report_add(run->r, "reject-invalid", CERT_PASS,
			"%u malformed requests (out of range, misaligned, bad iovecs, bad queue, "
			"op or flags) refused by submit, none completed",
			n);

out_free:
	free(bigbuf);
	free(buf);
	free(many);
	free(cases);
}

void blk_check_queue_depth(struct blk_run *run)
{
	const struct vireo_blk_geometry *g = &run->b.geo;
	unsigned int n = g->queue_depth + 1, accepted = 0, busy = 0, peak = 0, i;
	uint64_t lbs = g->logical_block_size, blocks = g->capacity / lbs;
	struct cert_io *ios = calloc(n, sizeof(*ios));
	struct iovec *iov = calloc(n, sizeof(*iov));
	uint8_t *bufs = malloc(n * lbs);
	int *rcs = calloc(n, sizeof(*rcs));
	char why[256] = "";

	if (run->lost) {
		cert_report_add(run->r, "queue-depth", CERT_SKIP, BLK_LOST_REASON);
		goto out_free;
	}
	if (!ios || !iov || !bufs || !rcs) {
		cert_report_add(run->r, "queue-depth", CERT_FAIL, "out of memory");
		goto out_free;
	}
	/* Reads of distinct blocks, none waited for until all are submitted. */
	for (i = 0; i < n; i++) {
		iov[i] = (struct iovec){ bufs + i * lbs, lbs };
		cert_io_prep(&run->b, &ios[i], VIREO_BLK_OP_READ, 0, (i % blocks) * lbs, lbs,
			     &iov[i], 1);
		rcs[i] = cert_io_submit(&run->b, &ios[i]);
		if (rcs[i] == 0)
			accepted++;
		else if (rcs[i] == -EBUSY)
			busy++;
		else if (!why[0])
			snprintf(why, sizeof(why), "request %u of %u refused: %s", i + 1, n,
				 strerror(-rcs[i]));
		if (atomic_load(&run->b.pending[0]) > peak)
			peak = atomic_load(&run->b.pending[0]);
	}
	if (cert_wait(&run->b, 0) < 0) {
		snprintf(why, sizeof(why), "%u of %u accepted requests never completed",
			 atomic_load(&run->b.pending[0]), accepted);
		run->lost = true;
	}
	for (i = 0; i < n && !why[0]; i++) {
		int calls = atomic_load(&ios[i].calls);

		if (rcs[i] == 0 && (calls != 1 || ios[i].status != 0))
			snprintf(why, sizeof(why), "request %u: %d completion(s), status %d", i + 1,
				 calls, ios[i].status);
		else if (rcs[i] != 0 && calls)
			snprintf(why, sizeof(why), "request %u was refused (%d) and completed",
				 i + 1, rcs[i]);
	}
	if (!why[0] && peak > g->queue_depth)
		snprintf(why, sizeof(why), "%u in flight, more than the depth %u", peak,
			 g->queue_depth);
	if (why[0]) {
		cert_report_add(run->r, "queue-depth", CERT_FAIL, "%s", why);
		goto out_free;
	}
	if (peak == 0)
		snprintf(why, sizeof(why), "each completed inside submit");
	else
		snprintf(why, sizeof(why), "peak %u in flight", peak);
	cert_report_add(run->r, "queue-depth", CERT_PASS,
			"depth %u, %u submitted at once: %u accepted, %u -EBUSY, %s; every "
			"accepted one completed once",
			g->queue_depth, n, accepted, busy, why);

out_free:
	if (run->lost && accepted)
		return; /* the driver may still complete into them: leaked on purpose */
	free(rcs);
	free(bufs);
	free(iov);
	free(ios);
}

/* One queue's worker: write, read back, compare, in its own slice of the window. */
struct lim_worker {
	struct blk_run *run;
	unsigned int queue;
	uint64_t base, len; /* the slice */
	unsigned int ops;
	int rc;
	char why[256];
};

static void *lim_worker_main(void *arg)
{
	struct lim_worker *w = arg;
	struct blk_run *run = w->run;
	uint64_t lbs = run->b.geo.logical_block_size, rng = run->opts->seed ^ LIM_GOLDEN_RATIO;
	uint64_t maxlen = w->len < LIM_MQ_OP_MAX ? w->len : LIM_MQ_OP_MAX;
	struct blk_sg wsg, rsg;
	uint8_t *flat = malloc(maxlen), *got = malloc(maxlen);

	rng += w->queue * LIM_GOLDEN_RATIO;
	w->rc = -ENOMEM;
	if (!flat || !got || blk_sg_init(&wsg, maxlen) < 0)
		goto out_free;
	if (blk_sg_init(&rsg, maxlen) < 0)
		goto out_free_wsg;
	w->rc = 0;
	for (unsigned int i = 0; i < w->ops && w->rc == 0; i++) {
		uint64_t len = lbs * (1 + blk_rand(&rng) % (maxlen / lbs));
		uint64_t off = w->base + lbs * (blk_rand(&rng) % ((w->len - len) / lbs + 1));

		blk_sg_build(&wsg, &rng, len, run->b.geo.max_segments);
		blk_fill_random(&rng, flat, len);
		blk_sg_copy_in(&wsg, flat);
		w->rc = blk_sync(run, VIREO_BLK_OP_WRITE, w->queue, off, len, wsg.iov, wsg.n, 0,
				 w->why, sizeof(w->why));
		if (w->rc < 0)
			break;
		memcpy(run->shadow + off, flat, len); /* this thread's slice only */
		blk_sg_build(&rsg, &rng, len, run->b.geo.max_segments);
		w->rc = blk_sync(run, VIREO_BLK_OP_READ, w->queue, off, len, rsg.iov, rsg.n, 0,
				 w->why, sizeof(w->why));
		if (w->rc < 0)
			break;
		blk_sg_copy_out(&rsg, got);
		if (!blk_sg_guards_ok(&rsg) ||
		    !blk_shadow_cmp(run, off, got, len, w->why, sizeof(w->why))) {
			if (!w->why[0])
				snprintf(w->why, sizeof(w->why),
					 "read at %" PRIu64 ": bytes written outside the iovecs",
					 off);
			w->rc = -EIO;
		}
	}
	if (w->rc == -ETIMEDOUT)
		return NULL; /* the driver may still complete into the buffers: leave them */
	blk_sg_free(&rsg);
out_free_wsg:
	blk_sg_free(&wsg);
out_free:
	free(got);
	free(flat);
	if (w->rc == -ENOMEM && !w->why[0])
		snprintf(w->why, sizeof(w->why), "out of memory");
	return NULL;
}

void blk_check_queues(struct blk_run *run)
{
	unsigned int nq = run->b.nqueues, started = 0, i, ops;
	uint64_t lbs = run->b.geo.logical_block_size, slice = run->win / nq / lbs * lbs;
	struct lim_worker *w;
	pthread_t *tids;
	char why[300] = "";

	if (run->lost) {
		cert_report_add(run->r, "multi-queue", CERT_SKIP, BLK_LOST_REASON);
		return;
	}
	if (nq < 2) {
		cert_report_add(run->r, "multi-queue", CERT_SKIP, "the driver offers one queue");
		return;
	}
	if (!run->shadow_ok || slice < 2 * lbs) {
		cert_report_add(run->r, "multi-queue", CERT_SKIP,
				"no verified window to work in (rw-verify failed)");
		return;
	}
	ops = run->opts->ops / nq > LIM_MQ_MIN_OPS ? run->opts->ops / nq : LIM_MQ_MIN_OPS;
	w = calloc(nq, sizeof(*w));
	tids = calloc(nq, sizeof(*tids));
	if (!w || !tids) {
		cert_report_add(run->r, "multi-queue", CERT_FAIL, "out of memory");
		goto out_free;
	}
	for (i = 0; i < nq; i++) {
		w[i] = (struct lim_worker){
			.run = run, .queue = i, .base = i * slice, .len = slice, .ops = ops
		};
		if (pthread_create(&tids[i], NULL, lim_worker_main, &w[i]) != 0)
			break;
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (started < nq)
		snprintf(why, sizeof(why), "could not start thread %u", started);
	for (i = 0; i < started && !why[0]; i++)
		if (w[i].rc < 0)
			snprintf(why, sizeof(why), "queue %u: %s", i, w[i].why);
	if (why[0]) {
		run->shadow_ok = false;
		cert_report_add(run->r, "multi-queue", CERT_FAIL, "%s", why);
		goto out_free;
	}
	cert_report_add(run->r, "multi-queue", CERT_PASS,
			"%u queues, each from its own thread running its own loop: %u write+read "
			"pairs each, verified",
			nq, ops);

out_free:
	free(tids);
	free(w);
}
