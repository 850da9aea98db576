// SPDX-License-Identifier: MIT
/*
 * vireo-bench's virtio-blk run, control side: options, negotiation and config
 * over vu.c, the memfd guest RAM, starting one worker per queue (blk_worker.c),
 * watching the socket while they run, and the end-of-run checks and totals.
 * Printing is main.c's.
 */
#include "blk.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "virtio/blk_wire.h"
#include "virtio/virtio_wire.h"
#include "blk_internal.h"
#include "ring.h"
#include "vu.h"

#define BIT(n) (1ull << (n))

/* Where "guest RAM" starts: not 0, so a backend confusing GPA and offset fails. */
#define GUEST_GPA 0x100000000ull
/* How long the control plane waits for the socket and for each reply. */
#define CONNECT_TIMEOUT_MS 5000
#define IO_TIMEOUT_MS	   5000

atomic_bool g_blk_stop;

const char *bench_rw_name(enum bench_rw rw)
{
	static const char *const names[] = {
		[BENCH_RW_RANDREAD] = "randread",
		[BENCH_RW_RANDWRITE] = "randwrite",
		[BENCH_RW_READ] = "read",
		[BENCH_RW_WRITE] = "write",
	};

	return (unsigned int)rw < sizeof(names) / sizeof(names[0]) ? names[rw] : "?";
}

int bench_rw_parse(const char *s, enum bench_rw *rw)
{
	for (int i = BENCH_RW_RANDREAD; i <= BENCH_RW_WRITE; i++) {
		if (strcmp(s, bench_rw_name((enum bench_rw)i)) == 0) {
			*rw = (enum bench_rw)i;
			return 0;
		}
	}
	return -EINVAL;
}

void bench_blk_stop(void)
{
	atomic_store(&g_blk_stop, true);
}

int blk_fail(char *buf, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- set-up and tear-down, main thread ---- */

static unsigned int blk_qsize(const struct bench_blk_opts *o)
{
	unsigned int n = 128;

	if (o->qsize)
		return o->qsize;
	while (n < BENCH_RING_DESCS_PER_REQ * o->qd)
		n <<= 1;
	return n;
}

static int blk_check_opts(const struct bench_blk_opts *o, struct bench_blk_result *res)
{
	char *e = res->error;
	size_t n = sizeof(res->error);

	if (o->queues < 1 || o->queues > BENCH_MAX_QUEUES)
		return blk_fail(e, n, -EINVAL, "--queues must be 1..%u", BENCH_MAX_QUEUES);
	if (o->qd < 1 || o->qd > BENCH_MAX_QD)
		return blk_fail(e, n, -EINVAL, "--qd must be 1..%u", BENCH_MAX_QD);
	if (o->bs < 512 || o->bs > BENCH_MAX_BS || o->bs % 512)
		return blk_fail(e, n, -EINVAL, "--bs must be a multiple of 512 up to %u",
				BENCH_MAX_BS);
	if (!(o->seconds > 0) || o->warmup < 0 || !(o->timeout > 0))
		return blk_fail(e, n, -EINVAL,
				"--seconds and --timeout must be > 0, --warmup >= 0");
	if (o->qsize && (o->qsize & (o->qsize - 1) || o->qsize > 32768 ||
			 o->qsize < BENCH_RING_DESCS_PER_REQ * o->qd))
		return blk_fail(e, n, -EINVAL,
				"--qsize must be a power of 2 <= 32768 and >= 3 * qd");
	return 0;
}

/* GET_CONFIG and what it means for this run. */
static int blk_read_config(struct bench_vu *vu, const struct bench_blk_opts *o,
			   struct bench_blk_result *res)
{
	uint8_t raw[sizeof(struct virtio_blk_config)] = { 0 };
	struct virtio_blk_config cfg;
	char *e = res->error;
	size_t n = sizeof(res->error);
	int rc;

	/* Ask for what QEMU asks for; the fields we read are its first bytes. */
	rc = bench_vu_get_config(vu, raw, sizeof(raw));
	if (rc < 0)
		return blk_fail(e, n, rc, "%s", vu->last_error);
	memcpy(&cfg, raw, sizeof(cfg));
	res->capacity = le64toh(cfg.capacity) << VIRTIO_BLK_SECTOR_SHIFT;
	res->blk_size = 512;
	if (vu->features & BIT(VIRTIO_BLK_F_BLK_SIZE))
		res->blk_size = le32toh(cfg.blk_size);
	if (vu->features & BIT(VIRTIO_BLK_F_CONFIG_WCE))
		res->writeback = cfg.writeback;
	else
		res->writeback = vu->features & BIT(VIRTIO_BLK_F_FLUSH);

	if (res->capacity < o->bs)
		return blk_fail(e, n, -ENOTSUP, "capacity %" PRIu64 " bytes is below --bs %u",
				res->capacity, o->bs);
	if (res->blk_size < 512 || res->blk_size > BLK_OFFSET_ALIGN || o->bs % res->blk_size ||
	    BLK_OFFSET_ALIGN % res->blk_size)
		return blk_fail(e, n, -ENOTSUP, "--bs %u does not suit blk_size %u", o->bs,
				res->blk_size);
	if ((vu->features & BIT(VIRTIO_BLK_F_SIZE_MAX)) && cfg.size_max &&
	    o->bs > le32toh(cfg.size_max))
		return blk_fail(e, n, -ENOTSUP, "--bs %u is above the device's size_max %u", o->bs,
				le32toh(cfg.size_max));
	if ((vu->features & BIT(VIRTIO_BLK_F_MQ)) && le16toh(cfg.num_queues) < o->queues)
		return blk_fail(e, n, -ENOTSUP, "config num_queues is %u, --queues %u",
				le16toh(cfg.num_queues), o->queues);
	if ((vu->features & BIT(VIRTIO_BLK_F_RO)) && blk_is_write(o->rw))
		return blk_fail(e, n, -ENOTSUP, "the device is read-only (VIRTIO_BLK_F_RO)");
	return 0;
}

/* Negotiation, config and features: everything before memory is shared. */
static int blk_negotiate(struct bench_vu *vu, const struct bench_blk_opts *o,
			 struct bench_blk_result *res)
{
	uint64_t want = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_BLK_SIZE) |
			BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_SIZE_MAX) |
			BIT(VIRTIO_BLK_F_MQ) | BIT(VIRTIO_BLK_F_RO) | BIT(VIRTIO_BLK_F_FLUSH) |
			BIT(VIRTIO_BLK_F_CONFIG_WCE);
	const uint8_t one = 1;
	int rc;

	rc = bench_vu_negotiate(vu);
	if (rc < 0)
		return blk_fail(res->error, sizeof(res->error), rc, "%s", vu->last_error);
	res->features = vu->features;
	res->protocol_features = vu->protocol_features;
	res->protocol_acked = vu->protocol_acked;
	res->max_queues = vu->max_queues;
	if (o->queues > vu->max_queues)
		return blk_fail(res->error, sizeof(res->error), -ENOTSUP,
				"backend serves %u queue(s), --queues %u", vu->max_queues,
				o->queues);
	rc = blk_read_config(vu, o, res);
	if (rc < 0)
		return rc;
	if (!o->no_event_idx)
		want |= BIT(VIRTIO_F_EVENT_IDX);
	rc = bench_vu_set_features(vu, want);
	if (rc < 0)
		return blk_fail(res->error, sizeof(res->error), rc, "%s", vu->last_error);
	res->acked = vu->acked;
	res->event_idx = vu->acked & BIT(VIRTIO_F_EVENT_IDX);
	if (o->writeback && !res->writeback) {
		if (!(vu->acked & BIT(VIRTIO_BLK_F_CONFIG_WCE)))
			return blk_fail(res->error, sizeof(res->error), -ENOTSUP,
					"--writeback needs VIRTIO_BLK_F_CONFIG_WCE");
		rc = bench_vu_set_config(vu, offsetof(struct virtio_blk_config, writeback), &one,
					 1);
		if (rc < 0)
			return blk_fail(res->error, sizeof(res->error), rc, "%s", vu->last_error);
		res->writeback = true;
	}
	return 0;
}

/* Stops every started queue and checks each request came back exactly once. */
static int blk_stop_queues(struct bench_vu *vu, struct blk_worker *ws, unsigned int n,
			   struct bench_blk_result *res, int rc)
{
	for (unsigned int i = 0; i < n; i++) {
		struct bench_ring *r = &ws[i].ring;
		uint16_t base = 0, used;
		int qrc;

		if (!ws[i].started)
			continue;
		qrc = bench_vu_stop_queue(vu, i, &base);
		if (rc < 0)
			continue; /* already failing: stop what we can, report the first error */
		if (qrc < 0) {
			rc = blk_fail(res->error, sizeof(res->error), qrc, "%s", vu->last_error);
			continue;
		}
		used = le16toh(r->used->idx);
		if (r->inflight || used != r->avail_idx || base != r->avail_idx ||
		    ws[i].st->submitted != ws[i].st->completed)
			rc = blk_fail(res->error, sizeof(res->error), -EPROTO,
				      "queue %u did not end clean: %" PRIu64 " submitted, %" PRIu64
				      " completed, avail idx %u, used idx %u, backend's base %u",
				      i, ws[i].st->submitted, ws[i].st->completed, r->avail_idx,
				      used, base);
	}
	return rc;
}

static void blk_totals(struct bench_blk_result *res)
{
	struct bench_queue_stats *t = &res->total;

	memset(t, 0, sizeof(*t));
	bench_hist_init(&t->hist);
	for (unsigned int i = 0; i < res->nqueues; i++) {
		const struct bench_queue_stats *q = &res->queues[i];

		t->ios += q->ios;
		t->submitted += q->submitted;
		t->completed += q->completed;
		for (unsigned int s = 0; s < BENCH_ST_MAX; s++)
			t->status[s] += q->status[s];
		t->len_mismatch += q->len_mismatch;
		t->kicks += q->kicks;
		t->wakeups += q->wakeups;
		bench_hist_merge(&t->hist, &q->hist);
	}
}

/* Lays out, shares and starts queue i; the worker is not running yet. */
static int blk_setup_queue(struct bench_vu *vu, struct blk_worker *w, uint8_t *ram, uint64_t area,
			   const struct bench_blk_opts *o, struct bench_blk_result *res)
{
	struct bench_ring *r = &w->ring;
	struct bench_vu_vring q;
	int rc;

	rc = bench_ring_init(r, ram + w->index * area, GUEST_GPA + w->index * area, res->qsize,
			     o->qd, o->bs, res->event_idx);
	if (rc < 0)
		return blk_fail(res->error, sizeof(res->error), rc, "ring %u: %s", w->index,
				strerror(-rc));
	/* Written data is pseudo-random; read buffers start as a pattern. */
	for (unsigned int s = 0; s < o->qd; s++) {
		uint64_t *p = bench_ring_data(r, s);

		for (uint32_t b = 0; b < o->bs / sizeof(*p); b++)
			p[b] = blk_is_write(o->rw) ? blk_xorshift(&w->rng) : 0x5a5a5a5a5a5a5a5aull;
	}
	w->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->kick < 0 || w->call < 0)
		return blk_fail(res->error, sizeof(res->error), -errno, "eventfd: %s",
				strerror(errno));
	q = (struct bench_vu_vring){
		.index = w->index,
		.size = res->qsize,
		.desc = (uintptr_t)r->desc,
		.avail = (uintptr_t)r->avail,
		.used = (uintptr_t)r->used,
		.kick = w->kick,
		.call = w->call,
	};
	rc = bench_vu_start_queue(vu, &q);
	if (rc < 0)
		return blk_fail(res->error, sizeof(res->error), rc, "queue %u: %s", w->index,
				vu->last_error);
	w->started = true;
	return 0;
}

/*
 * While the workers run, the socket must stay silent: a hang-up means the
 * backend died (its requests will never complete), and it has nothing to say
 * unasked on this channel. Either ends the run at once, not at the stall timeout.
 */
static void blk_watch_socket(int sock, struct blk_run *run, unsigned int running)
{
	while (atomic_load(&run->finished) < running) {
		struct pollfd p = { .fd = sock, .events = POLLIN | POLLRDHUP };
		char c;

		if (atomic_load(&run->gone)) {
			poll(NULL, 0, 10); /* the workers are on their way out */
			continue;
		}
		if (poll(&p, 1, BLK_WAIT_SLICE_MS) <= 0)
			continue;
		if (p.revents & (POLLRDHUP | POLLHUP | POLLERR) ||
		    recv(sock, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
			atomic_store(&run->gone, -EPIPE);
		else
			atomic_store(&run->gone, -EPROTO);
	}
}

/* Starts the workers, waits for them, and collects the first failure. */
static int blk_run_workers(int sock, struct blk_worker *ws, unsigned int n, struct blk_run *run,
			   struct bench_blk_result *res)
{
	uint64_t t0 = blk_now_ns();
	unsigned int running = 0;
	int rc = 0;

	run->t_start = t0 + (uint64_t)(run->o->warmup * 1e9);
	run->t_end = run->t_start + (uint64_t)(run->o->seconds * 1e9);
	for (; running < n; running++) {
		rc = -pthread_create(&ws[running].tid, NULL, blk_worker_main, &ws[running]);
		if (rc < 0) {
			blk_fail(res->error, sizeof(res->error), rc, "pthread_create: %s",
				 strerror(-rc));
			atomic_store(&run->abort, true);
			break;
		}
	}
	blk_watch_socket(sock, run, running);
	for (unsigned int i = 0; i < running; i++) {
		pthread_join(ws[i].tid, NULL);
		if (ws[i].rc < 0 && rc == 0)
			rc = blk_fail(res->error, sizeof(res->error), ws[i].rc, "%s", ws[i].error);
	}
	if (rc == 0 && atomic_load(&g_blk_stop) && blk_now_ns() < run->t_end) {
		uint64_t end = blk_now_ns();

		/* The figures cover what ran of the window (and say the run failed). */
		res->window_s = end > run->t_start ? (double)(end - run->t_start) / 1e9 : 0;
		rc = blk_fail(res->error, sizeof(res->error), -EINTR,
			      "stopped %.2f s into the %.2f s window", res->window_s,
			      run->o->seconds);
	}
	return rc;
}

int bench_blk_run(const struct bench_blk_opts *o, struct bench_blk_result *res)
{
	struct blk_run run = { .o = o, .stall_ns = (uint64_t)(o->timeout * 1e9) };
	struct blk_worker *ws = NULL;
	struct bench_ring_layout lay;
	struct bench_vu vu;
	uint64_t area, total;
	uint8_t *ram = MAP_FAILED;
	int memfd = -1, rc;

	memset(res, 0, sizeof(*res));
	res->window_s = o->seconds;
	rc = blk_check_opts(o, res);
	if (rc < 0)
		return rc;
	res->qsize = blk_qsize(o);
	if (bench_ring_layout(res->qsize, o->qd, o->bs, &lay) < 0)
		return blk_fail(res->error, sizeof(res->error), -EINVAL, "bad ring layout");
	area = lay.bytes;
	total = area * o->queues;

	res->nqueues = o->queues;
	res->queues = calloc(o->queues, sizeof(*res->queues));
	ws = calloc(o->queues, sizeof(*ws));
	if (!res->queues || !ws) {
		rc = blk_fail(res->error, sizeof(res->error), -ENOMEM, "out of memory");
		goto out_free;
	}
	for (unsigned int i = 0; i < o->queues; i++) {
		ws[i] = (struct blk_worker){
			.index = i,
			.run = &run,
			.kick = -1,
			.call = -1,
			.rng = (o->seed + i + 1) * 0x9e3779b97f4a7c15ull | 1,
			.st = &res->queues[i],
		};
		bench_hist_init(&ws[i].st->hist);
	}

	rc = bench_vu_connect(&vu, o->socket, CONNECT_TIMEOUT_MS, IO_TIMEOUT_MS);
	if (rc < 0) {
		blk_fail(res->error, sizeof(res->error), rc, "%s", vu.last_error);
		goto out_free;
	}
	rc = blk_negotiate(&vu, o, res);
	if (rc < 0)
		goto out_close;
	run.capacity = res->capacity;
	/* Sequential patterns: each queue starts in its own part of the disk. */
	for (unsigned int i = 0; i < o->queues; i++)
		ws[i].next_off = (res->capacity / o->queues * i) & ~(BLK_OFFSET_ALIGN - 1);

	memfd = memfd_create("vireo-bench-guest-ram", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, (off_t)total) < 0) {
		rc = blk_fail(res->error, sizeof(res->error), -errno, "guest RAM memfd: %s",
			      strerror(errno));
		goto out_close;
	}
	ram = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, memfd, 0);
	if (ram == MAP_FAILED) {
		rc = blk_fail(res->error, sizeof(res->error), -errno, "mmap guest RAM: %s",
			      strerror(errno));
		goto out_close;
	}
	rc = bench_vu_set_mem_table(&vu, memfd, GUEST_GPA, total, (uintptr_t)ram);
	if (rc < 0) {
		blk_fail(res->error, sizeof(res->error), rc, "%s", vu.last_error);
		goto out_close;
	}

	for (unsigned int i = 0; i < o->queues && rc == 0; i++)
		rc = blk_setup_queue(&vu, &ws[i], ram, area, o, res);
	if (rc == 0)
		rc = blk_run_workers(vu.sock, ws, o->queues, &run, res);
	rc = blk_stop_queues(&vu, ws, o->queues, res, rc);
	blk_totals(res);

out_close:
	bench_vu_close(&vu);
	for (unsigned int i = 0; ws && i < o->queues; i++) {
		bench_ring_fini(&ws[i].ring);
		if (ws[i].kick >= 0)
			close(ws[i].kick);
		if (ws[i].call >= 0)
			close(ws[i].call);
	}
	if (ram != MAP_FAILED)
		munmap(ram, total);
	if (memfd >= 0)
		close(memfd);
out_free:
	free(ws);
	return rc;
}

void bench_blk_result_free(struct bench_blk_result *res)
{
	free(res->queues);
	res->queues = NULL;
}
