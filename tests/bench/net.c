// SPDX-License-Identifier: MIT
/*
 * vireo-bench's virtio-net run, control side: options, negotiation over vu.c,
 * the memfd guest RAM, starting one worker per queue pair (net_worker.c),
 * watching the socket while they run, and the end-of-run checks and totals.
 * Printing is main.c's.
 */
#include "net.h"

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "virtio/net_wire.h"
#include "virtio/virtio_wire.h"
#include "net_internal.h"
#include "vu.h"

#define BIT(n) (1ull << (n))

/* Where "guest RAM" starts: not 0, so a backend confusing GPA and offset fails. */
#define GUEST_GPA 0x100000000ull
/* How long the control plane waits for the socket and for each reply. */
#define CONNECT_TIMEOUT_MS 5000
#define IO_TIMEOUT_MS	   5000
/* How often the socket watch looks at the workers. */
#define WATCH_SLICE_MS 100

atomic_bool g_net_stop;

void bench_net_stop(void)
{
	atomic_store(&g_net_stop, true);
}

int net_fail(char *buf, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return rc;
}

static int net_check_opts(const struct bench_net_opts *o, struct bench_net_result *res)
{
	char *e = res->error;
	size_t n = sizeof(res->error);

	if (o->pairs < 1 || o->pairs > BENCH_NET_MAX_PAIRS)
		return net_fail(e, n, -EINVAL, "--pairs must be 1..%u", BENCH_NET_MAX_PAIRS);
	if (o->frame_len < BENCH_FRAME_MIN_LEN || o->frame_len > BENCH_FRAME_MAX_LEN)
		return net_fail(e, n, -EINVAL, "--frame must be %u..%u bytes", BENCH_FRAME_MIN_LEN,
				BENCH_FRAME_MAX_LEN);
	if (o->qsize < 2 || o->qsize > 4096 || (o->qsize & (o->qsize - 1)))
		return net_fail(e, n, -EINVAL, "--qsize must be a power of 2, 2..4096");
	if (o->verify < 1)
		return net_fail(e, n, -EINVAL, "--verify must be >= 1");
	if (!(o->seconds > 0) || o->warmup < 0 || !(o->timeout > 0))
		return net_fail(e, n, -EINVAL,
				"--seconds and --timeout must be > 0, --warmup >= 0");
	return 0;
}

/* Negotiation and features: everything before memory is shared. */
static int net_negotiate(struct bench_vu *vu, const struct bench_net_opts *o,
			 struct bench_net_result *res)
{
	/* No offloads: the figure is frames per second, each one a plain frame. */
	uint64_t want = BIT(VIRTIO_F_VERSION_1);
	int rc;

	rc = bench_vu_negotiate(vu);
	if (rc < 0)
		return net_fail(res->error, sizeof(res->error), rc, "%s", vu->last_error);
	res->features = vu->features;
	res->protocol_features = vu->protocol_features;
	res->protocol_acked = vu->protocol_acked;
	res->max_queues = vu->max_queues;
	/* GET_QUEUE_NUM counts queue pairs for net in QEMU's reading; allow either. */
	if (o->pairs > vu->max_queues)
		return net_fail(res->error, sizeof(res->error), -ENOTSUP,
				"backend serves %u queue(s), --pairs %u", vu->max_queues, o->pairs);
	if (o->pairs > 1) {
		if (!(vu->features & BIT(VIRTIO_NET_F_MQ)))
			return net_fail(res->error, sizeof(res->error), -ENOTSUP,
					"--pairs %u needs VIRTIO_NET_F_MQ", o->pairs);
		want |= BIT(VIRTIO_NET_F_MQ);
	}
	if (!o->no_mrg_rxbuf)
		want |= BIT(VIRTIO_NET_F_MRG_RXBUF);
	if (!o->no_event_idx)
		want |= BIT(VIRTIO_F_EVENT_IDX);
	rc = bench_vu_set_features(vu, want);
	if (rc < 0)
		return net_fail(res->error, sizeof(res->error), rc, "%s", vu->last_error);
	res->acked = vu->acked;
	res->event_idx = vu->acked & BIT(VIRTIO_F_EVENT_IDX);
	res->mrg_rxbuf = vu->acked & BIT(VIRTIO_NET_F_MRG_RXBUF);
	res->hdr_len = VIRTIO_NET_HDR_LEN; /* VERSION_1: always the 12-byte header */
	return 0;
}

/* Lays out, fills and starts queue pair w->index; the worker is not running yet. */
static int net_setup_pair(struct bench_vu *vu, struct net_worker *w, uint8_t *ram, uint64_t area,
			  struct bench_net_result *res)
{
	const struct net_run *run = w->run;
	uint64_t off = (uint64_t)w->index * 2 * area;
	struct bench_nring *rings[2] = { &w->rx, &w->tx };
	int rc;

	rc = bench_nring_init(&w->rx, ram + off, GUEST_GPA + off, res->qsize, NET_BUF_SIZE, true,
			      res->event_idx);
	if (rc == 0)
		rc = bench_nring_init(&w->tx, ram + off + area, GUEST_GPA + off + area, res->qsize,
				      NET_BUF_SIZE, false, res->event_idx);
	if (rc < 0)
		return net_fail(res->error, sizeof(res->error), rc, "queue pair %u: %s", w->index,
				strerror(-rc));
	/* Every transmit buffer holds its frame from now on; a send stamps its seq. */
	for (unsigned int i = 0; i < res->qsize; i++) {
		uint8_t *b = bench_nring_buf(&w->tx, i);

		memset(b, 0, run->hdr_len);
		bench_frame_build(b + run->hdr_len, run->o->frame_len, &run->addr,
				  (uint16_t)w->index, (uint16_t)i);
	}
	for (unsigned int k = 0; k < 2; k++) {
		struct bench_vu_vring q;

		w->kick[k] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		w->call[k] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (w->kick[k] < 0 || w->call[k] < 0)
			return net_fail(res->error, sizeof(res->error), -errno, "eventfd: %s",
					strerror(errno));
		q = (struct bench_vu_vring){
			.index = 2 * w->index + k,
			.size = res->qsize,
			.desc = (uintptr_t)rings[k]->desc,
			.avail = (uintptr_t)rings[k]->avail,
			.used = (uintptr_t)rings[k]->used,
			.kick = w->kick[k],
			.call = w->call[k],
		};
		rc = bench_vu_start_queue(vu, &q);
		if (rc < 0)
			return net_fail(res->error, sizeof(res->error), rc, "queue %u: %s", q.index,
					vu->last_error);
		w->started[k] = true;
	}
	return 0;
}

/* Stops every started queue; the transmit queues must have ended clean. */
static int net_stop_queues(struct bench_vu *vu, struct net_worker *ws, unsigned int n,
			   struct bench_net_result *res, int rc)
{
	for (unsigned int i = 0; i < n; i++) {
		for (unsigned int k = 0; k < 2; k++) {
			uint16_t base = 0;
			int qrc;

			if (!ws[i].started[k])
				continue;
			qrc = bench_vu_stop_queue(vu, 2 * i + k, &base);
			if (rc < 0)
				continue; /* already failing: stop what we can */
			if (qrc < 0) {
				rc = net_fail(res->error, sizeof(res->error), qrc, "%s",
					      vu->last_error);
				continue;
			}
			if (k == 1 && (ws[i].tx.inflight || base != ws[i].tx.avail_idx))
				rc = net_fail(res->error, sizeof(res->error), -EPROTO,
					      "transmit queue %u did not end clean: %u frames in "
					      "flight, avail idx %u, backend's base %u",
					      2 * i + 1, ws[i].tx.inflight, ws[i].tx.avail_idx,
					      base);
		}
	}
	return rc;
}

static void net_totals(struct bench_net_result *res)
{
	struct bench_net_stats *t = &res->total;

	memset(t, 0, sizeof(*t));
	for (unsigned int i = 0; i < res->npairs; i++) {
		const struct bench_net_stats *q = &res->pairs[i];

		t->sent += q->sent;
		t->tx_done += q->tx_done;
		t->received += q->received;
		t->rx_window += q->rx_window;
		t->tx_window += q->tx_window;
		t->verified += q->verified;
		t->bad += q->bad;
		t->out_of_order += q->out_of_order;
		t->seq_gaps += q->seq_gaps;
		t->foreign += q->foreign;
		t->bad_hdr += q->bad_hdr;
		t->kicks += q->kicks;
		t->wakeups += q->wakeups;
	}
}

/* The socket must stay silent while the workers run (see blk.c's twin). */
static void net_watch_socket(int sock, struct net_run *run, unsigned int running)
{
	while (atomic_load(&run->finished) < running) {
		struct pollfd p = { .fd = sock, .events = POLLIN | POLLRDHUP };
		char c;

		if (atomic_load(&run->gone)) {
			poll(NULL, 0, 10);
			continue;
		}
		if (poll(&p, 1, WATCH_SLICE_MS) <= 0)
			continue;
		if (p.revents & (POLLRDHUP | POLLHUP | POLLERR) ||
		    recv(sock, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
			atomic_store(&run->gone, -EPIPE);
		else
			atomic_store(&run->gone, -EPROTO);
	}
}

static int net_run_workers(int sock, struct net_worker *ws, unsigned int n, struct net_run *run,
			   struct bench_net_result *res)
{
	uint64_t t0 = net_now_ns();
	unsigned int running = 0;
	int rc = 0;

	run->t_start = t0 + (uint64_t)(run->o->warmup * 1e9);
	run->t_end = run->t_start + (uint64_t)(run->o->seconds * 1e9);
	for (; running < n; running++) {
		rc = -pthread_create(&ws[running].tid, NULL, net_worker_main, &ws[running]);
		if (rc < 0) {
			net_fail(res->error, sizeof(res->error), rc, "pthread_create: %s",
				 strerror(-rc));
			atomic_store(&run->abort, true);
			break;
		}
	}
	net_watch_socket(sock, run, running);
	for (unsigned int i = 0; i < running; i++) {
		pthread_join(ws[i].tid, NULL);
		if (ws[i].rc < 0 && rc == 0)
			rc = net_fail(res->error, sizeof(res->error), ws[i].rc, "%s", ws[i].error);
	}
	if (rc == 0 && atomic_load(&g_net_stop) && net_now_ns() < run->t_end) {
		uint64_t end = net_now_ns();

		res->window_s = end > run->t_start ? (double)(end - run->t_start) / 1e9 : 0;
		rc = net_fail(res->error, sizeof(res->error), -EINTR,
			      "stopped %.2f s into the %.2f s window", res->window_s,
			      run->o->seconds);
	}
	return rc;
}

int bench_net_run(const struct bench_net_opts *o, struct bench_net_result *res)
{
	struct net_run run = {
		.o = o,
		.stall_ns = (uint64_t)(o->timeout * 1e9),
		/* Locally administered, unicast: no real NIC's. */
		.addr = { .dst = { 0x02, 0x56, 0x42, 0x00, 0x00, 0x02 },
			  .src = { 0x02, 0x56, 0x42, 0x00, 0x00, 0x01 } },
	};
	struct net_worker *ws = NULL;
	struct bench_nring_layout lay;
	struct bench_vu vu;
	uint64_t area, total;
	uint8_t *ram = MAP_FAILED;
	int memfd = -1, rc;

	memset(res, 0, sizeof(*res));
	res->window_s = o->seconds;
	rc = net_check_opts(o, res);
	if (rc < 0)
		return rc;
	res->qsize = o->qsize;
	if (bench_nring_layout(res->qsize, NET_BUF_SIZE, &lay) < 0)
		return net_fail(res->error, sizeof(res->error), -EINVAL, "bad ring layout");
	area = lay.bytes;
	total = area * 2 * o->pairs;

	res->npairs = o->pairs;
	res->pairs = calloc(o->pairs, sizeof(*res->pairs));
	ws = calloc(o->pairs, sizeof(*ws));
	if (!res->pairs || !ws) {
		rc = net_fail(res->error, sizeof(res->error), -ENOMEM, "out of memory");
		goto out_free;
	}
	for (unsigned int i = 0; i < o->pairs; i++)
		ws[i] = (struct net_worker){ .index = i,
					     .run = &run,
					     .kick = { -1, -1 },
					     .call = { -1, -1 },
					     .st = &res->pairs[i] };

	rc = bench_vu_connect(&vu, o->socket, CONNECT_TIMEOUT_MS, IO_TIMEOUT_MS);
	if (rc < 0) {
		net_fail(res->error, sizeof(res->error), rc, "%s", vu.last_error);
		goto out_free;
	}
	rc = net_negotiate(&vu, o, res);
	if (rc < 0)
		goto out_close;
	run.hdr_len = res->hdr_len;
	run.mrg_rxbuf = res->mrg_rxbuf;

	memfd = memfd_create("vireo-bench-guest-ram", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, (off_t)total) < 0) {
		rc = net_fail(res->error, sizeof(res->error), -errno, "guest RAM memfd: %s",
			      strerror(errno));
		goto out_close;
	}
	ram = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, memfd, 0);
	if (ram == MAP_FAILED) {
		rc = net_fail(res->error, sizeof(res->error), -errno, "mmap guest RAM: %s",
			      strerror(errno));
		goto out_close;
	}
	rc = bench_vu_set_mem_table(&vu, memfd, GUEST_GPA, total, (uintptr_t)ram);
	if (rc < 0) {
		net_fail(res->error, sizeof(res->error), rc, "%s", vu.last_error);
		goto out_close;
	}
	for (unsigned int i = 0; i < o->pairs && rc == 0; i++)
		rc = net_setup_pair(&vu, &ws[i], ram, area, res);
	if (rc == 0)
		rc = net_run_workers(vu.sock, ws, o->pairs, &run, res);
	rc = net_stop_queues(&vu, ws, o->pairs, res, rc);
	net_totals(res);

out_close:
	bench_vu_close(&vu);
	for (unsigned int i = 0; ws && i < o->pairs; i++) {
		bench_nring_fini(&ws[i].rx);
		bench_nring_fini(&ws[i].tx);
		for (unsigned int k = 0; k < 2; k++) {
			if (ws[i].kick[k] >= 0)
				close(ws[i].kick[k]);
			if (ws[i].call[k] >= 0)
				close(ws[i].call[k]);
		}
	}
	if (ram != MAP_FAILED)
		munmap(ram, total);
	if (memfd >= 0)
		close(memfd);
out_free:
	free(ws);
	return rc;
}

void bench_net_result_free(struct bench_net_result *res)
{
	free(res->pairs);
	res->pairs = NULL;
}
