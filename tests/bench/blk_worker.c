// SPDX-License-Identifier: MIT
/*
 * vireo-bench's virtio-blk data path: one thread per queue keeps the queue
 * depth in flight through ring.c, times each request from submission to reaping,
 * counts statuses inside and outside the window, and sleeps on the call eventfd
 * (or busy-polls). Set-up and tear-down are blk.c's.
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <unistd.h>

#include "virtio/blk_wire.h"
#include "virtio/virtio_wire.h"
#include "blk_internal.h"

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static uint64_t blk_next_offset(struct blk_worker *w)
{
	const struct blk_run *run = w->run;
	uint64_t off;

	if (run->o->rw == BENCH_RW_RANDREAD || run->o->rw == BENCH_RW_RANDWRITE) {
		uint64_t nblocks = (run->capacity - run->o->bs) / BLK_OFFSET_ALIGN + 1;

		return (blk_xorshift(&w->rng) % nblocks) * BLK_OFFSET_ALIGN;
	}
	off = w->next_off;
	if (off + run->o->bs > run->capacity)
		off = 0;
	w->next_off = off + run->o->bs;
	return off;
}

static void blk_submit(struct blk_worker *w, unsigned int slot, uint64_t now)
{
	uint32_t type = blk_is_write(w->run->o->rw) ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;

	bench_ring_submit(&w->ring, slot, type, blk_next_offset(w) >> VIRTIO_BLK_SECTOR_SHIFT, now);
	w->st->submitted++;
}

static void blk_complete(struct blk_worker *w, const struct bench_done *d, uint64_t now)
{
	const struct blk_run *run = w->run;
	uint32_t want_len = blk_is_write(run->o->rw) ? 1u : run->o->bs + 1u;
	enum bench_status st;

	switch (d->status) {
	case VIRTIO_BLK_S_OK:
		st = BENCH_ST_OK;
		break;
	case VIRTIO_BLK_S_IOERR:
		st = BENCH_ST_IOERR;
		break;
	case VIRTIO_BLK_S_UNSUPP:
		st = BENCH_ST_UNSUPP;
		break;
	default:
		st = BENCH_ST_OTHER;
		break;
	}
	w->st->completed++;
	w->st->status[st]++;
	if (d->len != want_len)
		w->st->len_mismatch++;
	if (st == BENCH_ST_OK && now >= run->t_start && now < run->t_end) {
		w->st->ios++;
		bench_hist_add(&w->st->hist, now - d->submit_ns);
	}
}

static void blk_kick(struct blk_worker *w)
{
	uint64_t one = 1;

	if (write(w->kick, &one, sizeof(one)) == sizeof(one))
		w->st->kicks++;
}

static void blk_wait_call(struct blk_worker *w)
{
	struct pollfd p = { .fd = w->call, .events = POLLIN };
	uint64_t v;

	if (poll(&p, 1, BLK_WAIT_SLICE_MS) > 0 && read(w->call, &v, sizeof(v)) == sizeof(v))
		w->st->wakeups++;
}

static bool blk_should_stop(struct blk_worker *w, uint64_t now)
{
	return now >= w->run->t_end || atomic_load(&g_blk_stop) || atomic_load(&w->run->abort);
}

void *blk_worker_main(void *arg)
{
	struct blk_worker *w = arg;
	struct bench_ring *r = &w->ring;
	const struct bench_blk_opts *o = w->run->o;
	uint64_t now = blk_now_ns(), last_progress = now;
	bool stopping = false;

	if (o->poll)
		bench_ring_no_calls(r);
	for (unsigned int i = 0; i < r->nslots; i++)
		blk_submit(w, i, now);
	if (bench_ring_publish(r))
		blk_kick(w);

	for (;;) {
		enum bench_ring_err why;
		struct bench_done d;
		unsigned int reaped = 0;
		int rc, gone;

		while ((rc = bench_ring_next(r, &d, &why)) == 1) {
			now = blk_now_ns();
			reaped++;
			blk_complete(w, &d, now);
			if (!stopping && blk_should_stop(w, now))
				stopping = true;
			if (!stopping)
				blk_submit(w, d.slot, now);
		}
		if (rc < 0) {
			w->rc = blk_fail(w->error, sizeof(w->error), -EPROTO,
					 "queue %u: %s (used idx %u, next used %u, %u in flight)",
					 w->index, bench_ring_err_str(why), r->used_seen,
					 r->last_used, r->inflight);
			break;
		}
		if (reaped) {
			last_progress = now;
			if (bench_ring_publish(r))
				blk_kick(w);
			if (o->poll)
				bench_ring_no_calls(r);
		}
		now = blk_now_ns();
		if (!stopping && blk_should_stop(w, now))
			stopping = true;
		if (stopping && r->inflight == 0)
			break;
		gone = atomic_load(&w->run->gone);
		if (gone) {
			w->rc = blk_fail(w->error, sizeof(w->error), gone,
					 "queue %u: the backend %s with %u in flight", w->index,
					 gone == -EPIPE ? "closed the vhost-user connection"
							: "sent an unrequested vhost-user message",
					 r->inflight);
			break;
		}
		if (now - last_progress > w->run->stall_ns) {
			w->rc = blk_fail(
				w->error, sizeof(w->error), -ETIMEDOUT,
				"queue %u: no request completed for %.1f s with %u in flight",
				w->index, (double)(now - last_progress) / 1e9, r->inflight);
			break;
		}
		if (o->poll)
			cpu_relax();
		else if (!bench_ring_want_calls(r))
			blk_wait_call(w);
	}
	if (w->rc < 0)
		atomic_store(&w->run->abort, true);
	atomic_fetch_add(&w->run->finished, 1);
	return NULL;
}
