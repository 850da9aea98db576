// SPDX-License-Identifier: MIT
/*
 * vireo-certify's block class checks, run through the core's driver host as vireod
 * would drive the driver: open and geometry, seeded random writes and reads through
 * scattered iovecs verified byte for byte against a shadow copy, flush, write-zeroes
 * and discard semantics, the statistics op and exactly-once completion. The
 * request-limit checks (refusals, queue depth, queues in parallel) are in
 * blk_limits.c, the data helpers in blk_data.c. Owns these checks and the run's order;
 * not the plumbing (blk_dev.c) or the report (report.c).
 *
 * Destructive: the checks overwrite the device's first CERT_BLK_WINDOW bytes and its
 * last block.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk_run.h"

#define BLK_BATCH_MAX 8		   /* requests in flight at once in the random phase */
#define BLK_OP_MAX    (256u << 10) /* longest random read or write */

static void check_geometry(struct blk_run *run)
{
	const struct vireo_blk_geometry *g = &run->b.geo;
	const char *bad = NULL;
	char why[160];

	if (g->logical_block_size < 512 || g->logical_block_size & (g->logical_block_size - 1))
		bad = "logical block size is not a power of two >= 512";
	else if (g->physical_block_size < g->logical_block_size ||
		 g->physical_block_size & (g->physical_block_size - 1))
		bad = "physical block size is not a power of two >= logical";
	else if (g->capacity == 0 || g->capacity % g->logical_block_size)
		bad = "capacity is 0 or not a multiple of the logical block size";
	else if (g->max_queues < 1 || g->max_queues > VIREO_BLK_MAX_QUEUES)
		bad = "max_queues out of 1..64";
	else if (g->queue_depth < 1 || g->queue_depth > VIREO_BLK_MAX_QUEUE_DEPTH)
		bad = "queue_depth out of 1..1024";
	else if (g->max_segments < 1 || g->max_segments > VIREO_BLK_MAX_SEGMENTS)
		bad = "max_segments out of 1..1024";
	else if (g->max_transfer < g->logical_block_size || g->max_transfer % g->logical_block_size)
		bad = "max_transfer is not a multiple of the logical block size";
	else if (g->flags & ~VIREO_BLK_F_ALL)
		bad = "unknown geometry flags";
	snprintf(why, sizeof(why), "%s", bad ? bad : "");
	cert_report_add(run->r, "geometry", bad ? CERT_FAIL : CERT_PASS,
			"%s%scapacity %" PRIu64 ", blocks %u/%u, %u queue(s) of depth %u, "
			"%u segs, max transfer %u, flags%s%s%s%s",
			why, bad ? "; " : "", g->capacity, g->logical_block_size,
			g->physical_block_size, g->max_queues, g->queue_depth, g->max_segments,
			g->max_transfer, g->flags & VIREO_BLK_F_READ_ONLY ? " ro" : "",
			g->flags & VIREO_BLK_F_FLUSH ? " flush" : "",
			g->flags & VIREO_BLK_F_DISCARD ? " discard" : "",
			g->flags & VIREO_BLK_F_WRITE_ZEROES ? " write-zeroes" : "");
}

/* One request of the random phase, with its own buffers. */
struct blk_slot {
	struct cert_io c;
	struct blk_sg sg;
	uint8_t *flat; /* the data written, or the room to compare a read in */
};

static bool blk_overlaps(const struct blk_slot *slots, unsigned int n, uint64_t off, uint64_t len)
{
	for (unsigned int i = 0; i < n; i++)
		if (off < slots[i].c.io.offset + slots[i].c.io.length &&
		    slots[i].c.io.offset < off + len)
			return true;
	return false;
}

/* Waits for the batch, then checks each request: once, OK, guards, data. */
static int blk_finish_batch(struct blk_run *run, struct blk_slot *slots, unsigned int n, char *why,
			    size_t whylen)
{
	if (cert_wait(&run->b, 0) < 0) {
		snprintf(why, whylen, "%u request(s) of a batch never completed",
			 atomic_load(&run->b.pending[0]));
		run->lost = true;
		return -ETIMEDOUT;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct blk_slot *s = &slots[i];
		const struct host_blk_io *io = &s->c.io;

		if (atomic_load(&s->c.calls) != 1 || s->c.status != 0) {
			snprintf(why, whylen, "%s at %" PRIu64 ": %d callback(s), status %d",
				 blk_op_name(io->op), io->offset, atomic_load(&s->c.calls),
				 s->c.status);
			return -EIO;
		}
		if (!blk_sg_guards_ok(&s->sg)) {
			snprintf(why, whylen,
				 "%s at %" PRIu64 ": bytes written outside the request's iovecs",
				 blk_op_name(io->op), io->offset);
			return -EIO;
		}
		if (io->op != VIREO_BLK_OP_READ)
			continue;
		blk_sg_copy_out(&s->sg, s->flat);
		if (!blk_shadow_cmp(run, io->offset, s->flat, io->length, why, whylen))
			return -EIO;
	}
	return 0;
}

/* The random phase: batches of non-overlapping reads and writes, each verified. */
static int blk_random_ops(struct blk_run *run, struct blk_slot *slots, unsigned int batch,
			  unsigned int *nreads, unsigned int *nwrites, char *why, size_t whylen)
{
	const struct vireo_blk_geometry *g = &run->b.geo;
	bool ro = g->flags & VIREO_BLK_F_READ_ONLY;
	uint64_t lbs = g->logical_block_size, maxlen = run->chunk;
	unsigned int n = 0;
	int rc;

	if (maxlen > BLK_OP_MAX)
		maxlen = BLK_OP_MAX;
	if (maxlen > run->win)
		maxlen = run->win;
	for (unsigned int i = 0; i < run->opts->ops; i++) {
		uint64_t len = lbs * (1 + blk_rand(&run->rng) % (maxlen / lbs));
		uint64_t off = lbs * (blk_rand(&run->rng) % ((run->win - len) / lbs + 1));
		bool write = !ro && (blk_rand(&run->rng) & 1);
		struct blk_slot *s;

		if (n == batch || blk_overlaps(slots, n, off, len)) {
			rc = blk_finish_batch(run, slots, n, why, whylen);
			if (rc < 0)
				return rc;
			n = 0;
		}
		s = &slots[n];
		blk_sg_build(&s->sg, &run->rng, len, g->max_segments);
		if (write) {
			blk_fill_random(&run->rng, s->flat, len);
			blk_sg_copy_in(&s->sg, s->flat);
			memcpy(run->shadow + off, s->flat, len);
		}
		cert_io_prep(&run->b, &s->c, write ? VIREO_BLK_OP_WRITE : VIREO_BLK_OP_READ, 0, off,
			     len, s->sg.iov, s->sg.n);
		rc = cert_io_submit(&run->b, &s->c);
		if (rc == -EBUSY) {
			/* The queue is full after all: drain it and retry once. */
			rc = blk_finish_batch(run, slots, n, why, whylen);
			if (rc < 0)
				return rc;
			if (n) {
				struct blk_slot tmp = slots[0];

				slots[0] = *s;
				*s = tmp;
			}
			n = 0;
			s = &slots[0];
			cert_io_prep(&run->b, &s->c, s->c.io.op, 0, off, len, s->sg.iov, s->sg.n);
			rc = cert_io_submit(&run->b, &s->c);
		}
		if (rc < 0) {
			snprintf(why, whylen, "%s at %" PRIu64 " (%" PRIu64 " bytes) refused: %s",
				 write ? "write" : "read", off, len, strerror(-rc));
			return rc;
		}
		n++;
		*(write ? nwrites : nreads) += 1;
	}
	return blk_finish_batch(run, slots, n, why, whylen);
}

static void check_rw(struct blk_run *run)
{
	const struct vireo_blk_geometry *g = &run->b.geo;
	bool ro = g->flags & VIREO_BLK_F_READ_ONLY;
	unsigned int batch = g->queue_depth < BLK_BATCH_MAX ? g->queue_depth : BLK_BATCH_MAX;
	struct blk_slot slots[BLK_BATCH_MAX] = { 0 };
	unsigned int nreads = 0, nwrites = 0, i;
	uint64_t last = g->capacity - g->logical_block_size;
	char why[256] = "";
	int rc = -ENOMEM;

	for (i = 0; i < batch; i++) {
		slots[i].flat = malloc(BLK_OP_MAX);
		if (!slots[i].flat || blk_sg_init(&slots[i].sg, BLK_OP_MAX) < 0)
			goto out_free;
	}
	/* A known starting point: the window written (or, read-only, read) in full. */
	rc = ro ? blk_verify_range(run, 0, run->win, true, why, sizeof(why))
		: blk_write_range(run, 0, run->win, why, sizeof(why));
	if (rc < 0)
		goto out_free;
	run->shadow_ok = true;
	rc = blk_random_ops(run, slots, batch, &nreads, &nwrites, why, sizeof(why));
	if (rc < 0)
		goto out_free;
	/* The device's last block, through the same checks, then the whole window again. */
	if (!ro && last >= run->win) {
		uint8_t *want = malloc(g->logical_block_size);
		struct iovec iov = { run->buf, g->logical_block_size };

		if (!want) {
			rc = -ENOMEM;
			goto out_free;
		}
		blk_fill_random(&run->rng, want, g->logical_block_size);
		memcpy(run->buf, want, g->logical_block_size);
		rc = blk_sync(run, VIREO_BLK_OP_WRITE, 0, last, g->logical_block_size, &iov, 1, 0,
			      why, sizeof(why));
		memset(run->buf, 0, g->logical_block_size);
		if (rc == 0)
			rc = blk_sync(run, VIREO_BLK_OP_READ, 0, last, g->logical_block_size, &iov,
				      1, 0, why, sizeof(why));
		if (rc == 0 && memcmp(want, run->buf, g->logical_block_size)) {
			snprintf(why, sizeof(why), "the last block (%" PRIu64 ") read back wrong",
				 last);
			rc = -EIO;
		}
		free(want);
		if (rc < 0)
			goto out_free;
	}
	rc = blk_verify_range(run, 0, run->win, false, why, sizeof(why));

out_free:
	/* After a lost request the driver may still write into the slots: leave them. */
	for (i = 0; i < batch && !run->lost; i++) {
		free(slots[i].flat);
		blk_sg_free(&slots[i].sg);
	}
	if (rc == -ENOMEM && !why[0])
		snprintf(why, sizeof(why), "out of memory");
	if (rc < 0) {
		run->shadow_ok = rc != -EIO && run->shadow_ok;
		cert_report_add(run->r, "rw-verify", CERT_FAIL, "%s (seed %" PRIu64 ")", why,
				run->opts->seed);
		return;
	}
	cert_report_add(run->r, "rw-verify", CERT_PASS,
			"%u reads, %u writes at random offsets in the first %" PRIu64
			" bytes, 1..%u iovecs each, up to %u in flight, verified byte for byte "
			"(seed %" PRIu64 ")",
			nreads, nwrites, run->win,
			g->max_segments < BLK_SG_MAX ? g->max_segments : BLK_SG_MAX, batch,
			run->opts->seed);
}

static void check_flush(struct blk_run *run)
{
	bool cache = run->b.geo.flags & VIREO_BLK_F_FLUSH;
	char why[256];

	if (run->lost) {
		cert_report_add(run->r, "flush", CERT_SKIP, BLK_LOST_REASON);
		return;
	}
	if (blk_sync(run, VIREO_BLK_OP_FLUSH, 0, 0, 0, NULL, 0, 0, why, sizeof(why)) < 0) {
		cert_report_add(run->r, "flush", CERT_FAIL, "%s", why);
		return;
	}
	cert_report_add(run->r, "flush", CERT_PASS, "%s",
			cache ? "completed by the driver (volatile cache announced)"
			      : "no volatile cache announced: the core answers flushes");
}

/*
 * Picks a range inside the window, aligned to @align, of up to @maxlen bytes, with one
 * logical block of room on both sides for the neighbour check.
 */
static void blk_pick_range(struct blk_run *run, uint64_t align, uint64_t maxlen, uint64_t *off,
			   uint64_t *len)
{
	uint64_t lbs = run->b.geo.logical_block_size;
	uint64_t units = maxlen / align, slots;

	if (units > run->win / 4 / align)
		units = run->win / 4 / align;
	*len = align * (1 + blk_rand(&run->rng) % (units ? units : 1));
	slots = (run->win - *len - 2 * lbs) / align;
	*off = align * (1 + blk_rand(&run->rng) % (slots ? slots : 1));
}

/* Write-zeroes (plain, then with UNMAP): the range reads back as zeroes, its neighbours intact. */
static void check_write_zeroes(struct blk_run *run)
{
	const struct vireo_blk_geometry *g = &run->b.geo;
	uint64_t lbs = g->logical_block_size, maxlen = run->chunk - 2 * lbs;
	char why[256] = "";
	int rc = 0;

	if (!(g->flags & VIREO_BLK_F_WRITE_ZEROES) || (g->flags & VIREO_BLK_F_READ_ONLY)) {
		cert_report_add(run->r, "write-zeroes", CERT_SKIP, "not announced");
		return;
	}
	if (run->lost) {
		cert_report_add(run->r, "write-zeroes", CERT_SKIP, BLK_LOST_REASON);
		return;
	}
	if (!run->shadow_ok || run->win < 4 * lbs + 2 * g->physical_block_size) {
		cert_report_add(run->r, "write-zeroes", CERT_SKIP,
				"no verified data to check against (rw-verify failed)");
		return;
	}
	if (maxlen > g->max_discard)
		maxlen = g->max_discard;
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		uint64_t off, len;

		blk_pick_range(run, lbs, maxlen, &off, &len);
		rc = blk_write_range(run, off - lbs, len + 2 * lbs, why, sizeof(why));
		if (rc == 0)
			rc = blk_sync(run, VIREO_BLK_OP_WRITE_ZEROES, 0, off, len, NULL, 0,
				      pass ? VIREO_BLK_REQ_F_UNMAP : 0, why, sizeof(why));
		if (rc == 0) {
			memset(run->shadow + off, 0, len);
			rc = blk_verify_range(run, off - lbs, len + 2 * lbs, false, why,
					      sizeof(why));
		}
	}
	cert_report_add(run->r, "write-zeroes", rc ? CERT_FAIL : CERT_PASS, "%s",
			rc ? why
			   : "ranges read back as zeroes, with and without UNMAP; "
			     "neighbouring blocks intact");
}

/* Discard: completes; the range may read anything after, but writes there still work. */
static void check_discard(struct blk_run *run)
{
	const struct vireo_blk_geometry *g = &run->b.geo;
	uint64_t lbs = g->logical_block_size, gran = g->discard_granularity, off, len;
	uint64_t maxlen = run->chunk - 2 * lbs;
	char why[256] = "";
	int rc;

	if (!(g->flags & VIREO_BLK_F_DISCARD) || (g->flags & VIREO_BLK_F_READ_ONLY)) {
		cert_report_add(run->r, "discard", CERT_SKIP, "not announced");
		return;
	}
	if (run->lost) {
		cert_report_add(run->r, "discard", CERT_SKIP, BLK_LOST_REASON);
		return;
	}
	if (!run->shadow_ok || gran < lbs || run->win < 4 * gran + 2 * lbs) {
		cert_report_add(run->r, "discard", CERT_SKIP,
				"no verified data to check against (rw-verify failed)");
		return;
	}
	if (maxlen > g->max_discard)
		maxlen = g->max_discard;
	if (maxlen < gran)
		maxlen = gran;
	blk_pick_range(run, gran, maxlen, &off, &len);
	rc = blk_write_range(run, off - lbs, len + 2 * lbs, why, sizeof(why));
	if (rc == 0)
		rc = blk_sync(run, VIREO_BLK_OP_DISCARD, 0, off, len, NULL, 0, 0, why, sizeof(why));
	/* Contents are undefined now: neighbours must hold, and new writes must stick. */
	if (rc == 0)
		rc = blk_verify_range(run, off - lbs, lbs, false, why, sizeof(why));
	if (rc == 0)
		rc = blk_verify_range(run, off + len, lbs, false, why, sizeof(why));
	if (rc == 0)
		rc = blk_write_range(run, off, len, why, sizeof(why));
	if (rc == 0)
		rc = blk_verify_range(run, off - lbs, len + 2 * lbs, false, why, sizeof(why));
	cert_report_add(run->r, "discard", rc ? CERT_FAIL : CERT_PASS, "%s",
			rc ? why
			   : "completed; neighbours intact; the range takes new writes that "
			     "read back correctly");
}

/* A counter agrees when the driver does not keep it (0 throughout) or it moved as we saw. */
static bool blk_stat_ok(const char *name, uint64_t before, uint64_t after, uint64_t seen, char *why,
			size_t whylen)
{
	if (after == 0 && before == 0)
		return true;
	if (after - before == seen)
		return true;
	snprintf(why, whylen, "%s went from %" PRIu64 " to %" PRIu64 ", but %" PRIu64 " completed",
		 name, before, after, seen);
	return false;
}

static void check_stats(struct blk_run *run)
{
	const struct vireo_blk_stats *s0 = &run->stats0;
	struct vireo_blk_stats s1;
	struct cert_blk *b = &run->b;
	char why[256] = "";
	bool ok;
	int rc;

	if (!run->has_stats) {
		cert_report_add(run->r, "stats", CERT_SKIP, "the driver has no get_stats op");
		return;
	}
	rc = host_blk_stats(b->hb, &s1);
	if (rc < 0) {
		cert_report_add(run->r, "stats", CERT_FAIL, "get_stats failed: %s", strerror(-rc));
		return;
	}
	ok = blk_stat_ok("read_ops", s0->read_ops, s1.read_ops, b->ok_ops[VIREO_BLK_OP_READ], why,
			 sizeof(why)) &&
	     blk_stat_ok("read_bytes", s0->read_bytes, s1.read_bytes,
			 b->ok_bytes[VIREO_BLK_OP_READ], why, sizeof(why)) &&
	     blk_stat_ok("write_ops", s0->write_ops, s1.write_ops, b->ok_ops[VIREO_BLK_OP_WRITE],
			 why, sizeof(why)) &&
	     blk_stat_ok("write_bytes", s0->write_bytes, s1.write_bytes,
			 b->ok_bytes[VIREO_BLK_OP_WRITE], why, sizeof(why)) &&
	     blk_stat_ok("flush_ops", s0->flush_ops, s1.flush_ops, b->ok_ops[VIREO_BLK_OP_FLUSH],
			 why, sizeof(why)) &&
	     blk_stat_ok("discard_ops", s0->discard_ops, s1.discard_ops,
			 b->ok_ops[VIREO_BLK_OP_DISCARD] + b->ok_ops[VIREO_BLK_OP_WRITE_ZEROES],
			 why, sizeof(why)) &&
	     blk_stat_ok("errors", s0->errors, s1.errors, b->errors, why, sizeof(why));
	if (!ok) {
		cert_report_add(run->r, "stats", CERT_FAIL, "%s", why);
		return;
	}
	cert_report_add(run->r, "stats", CERT_PASS,
			"counters match the completions: %" PRIu64 " reads (%" PRIu64
			" bytes), %" PRIu64 " writes (%" PRIu64 " bytes), %" PRIu64
			" flushes, %" PRIu64 " discards/write-zeroes",
			s1.read_ops - s0->read_ops, s1.read_bytes - s0->read_bytes,
			s1.write_ops - s0->write_ops, s1.write_bytes - s0->write_bytes,
			s1.flush_ops - s0->flush_ops, s1.discard_ops - s0->discard_ops);
}

/* Every accepted request called back once: none twice, none late, none misreported. */
static void check_once(struct blk_run *run)
{
	struct host_blk_counters c;
	char line[256] = "";
	unsigned int misuse;
	uint64_t extra;

	cert_settle(&run->b);
	host_blk_counters(run->b.hb, &c);
	extra = atomic_load(&run->b.extra_calls);
	misuse = cert_log_misuse(line, sizeof(line));
	if (extra || misuse || c.submitted != c.completed || run->lost) {
		cert_report_add(run->r, "completions-once", CERT_FAIL,
				"%" PRIu64 " accepted, %" PRIu64 " completed, %" PRIu64
				" extra callback(s), %u misuse line(s)%s%s%s",
				c.submitted, c.completed, extra, misuse, misuse ? ": " : "", line,
				run->lost ? "; requests were lost" : "");
		return;
	}
	cert_report_add(run->r, "completions-once", CERT_PASS,
			"%" PRIu64 " accepted requests, each completed exactly once; %" PRIu64
			" refused, none completed",
			c.submitted, c.rejected);
}

int cert_blk_run(struct host_driver *drv, const struct cert_opts *opts, struct cert_report *r)
{
	struct blk_run run = { .r = r, .opts = opts, .rng = opts->seed ? opts->seed : 1 };
	const struct vireo_blk_geometry *g;
	char err[512] = "";
	int rc;

	rc = cert_blk_open(&run.b, drv, opts, VIREO_BLK_MAX_QUEUES, err, sizeof(err));
	if (rc < 0) {
		cert_report_add(r, "open", CERT_FAIL, "%s", err[0] ? err : strerror(-rc));
		return 0;
	}
	g = &run.b.geo;
	cert_report_add(r, "open", CERT_PASS,
			"%zu parameter(s), %u queue(s) started with a loop each", opts->nparams,
			run.b.nqueues);
	check_geometry(&run);
	run.win = g->capacity < CERT_BLK_WINDOW ? g->capacity : CERT_BLK_WINDOW;
	run.win -= run.win % g->logical_block_size;
	run.chunk = g->max_transfer < (1u << 20) ? g->max_transfer : (1u << 20);
	run.shadow = malloc(run.win);
	run.buf = aligned_alloc(4096, (run.chunk + 4095) / 4096 * 4096);
	if (!run.shadow || !run.buf || !run.win) {
		cert_report_add(r, "rw-verify", CERT_FAIL,
				"out of memory for a %" PRIu64 " byte shadow", run.win);
		goto out_close;
	}
	run.has_stats = host_blk_stats(run.b.hb, &run.stats0) == 0;
	check_rw(&run);
	check_flush(&run);
	check_write_zeroes(&run);
	check_discard(&run);
	blk_check_refusals(&run);
	blk_check_queue_depth(&run);
	blk_check_queues(&run);
	check_stats(&run);
	check_once(&run);
	if (run.lost) {
		/* The instance cannot close with a request out; run.buf may still be in use. */
		cert_report_add(r, "close", CERT_FAIL,
				"not closed: a request is still outstanding (left to the driver)");
		free(run.shadow);
		return 0;
	}

out_close:
	rc = cert_blk_close(&run.b);
	cert_report_add(r, "close", rc ? CERT_FAIL : CERT_PASS, "%s",
			rc ? "requests still outstanding at close" : "every queue stopped, closed");
	free(run.shadow);
	free(run.buf);
	return 0;
}
