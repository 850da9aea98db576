// SPDX-License-Identifier: MIT
/*
 * vireo-bench's virtio-net data path: one thread per queue pair keeps the
 * transmit queue full of stamped frames and the receive queue full of buffers,
 * checks every frame that comes back (its payload whole for every Nth), follows
 * the sequence numbers, and sleeps on both call eventfds when neither queue moves
 * (or busy-polls). A driver's NAPI, in short: calls are off while there is work.
 * Set-up and tear-down are net.c's.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "virtio/net_wire.h"
#include "net_internal.h"

/* Transmit frames posted per round before the receive side is looked at again. */
#define NET_TX_ROUND 64u

enum { RXQ, TXQ };

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void net_kick(struct net_worker *w, int which)
{
	uint64_t one = 1;

	if (write(w->kick[which], &one, sizeof(one)) == sizeof(one))
		w->st->kicks++;
}

/* Follows the sequence numbers: a jump forward is frames lost, back is a duplicate. */
static void net_seq(struct net_worker *w, uint64_t seq)
{
	if (seq < w->expect_seq) {
		w->st->out_of_order++;
		return;
	}
	w->st->seq_gaps += seq - w->expect_seq;
	w->expect_seq = seq + 1;
}

/* One used receive buffer: header, then the frame. */
static void net_rx_one(struct net_worker *w, unsigned int id, uint32_t len, bool in_window)
{
	const struct net_run *run = w->run;
	const uint8_t *buf = bench_nring_buf(&w->rx, id);
	struct virtio_net_hdr_v1 h;
	enum bench_frame_err err;
	uint64_t seq = 0;
	bool full;

	if (len < run->hdr_len) {
		w->st->bad_hdr++;
		return;
	}
	memcpy(&h, buf, sizeof(h));
	if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE ||
	    (run->mrg_rxbuf && le16toh(h.num_buffers) != 1)) {
		w->st->bad_hdr++;
		return;
	}
	full = (w->st->received + w->st->bad) % run->o->verify == 0;
	err = bench_frame_check(buf + run->hdr_len, len - run->hdr_len, run->o->frame_len,
				&run->addr, (uint16_t)w->index, (uint16_t)w->tx.size, full, &seq);
	if (err == BENCH_FRAME_ERR_FOREIGN) {
		w->st->foreign++;
		return;
	}
	if (err != BENCH_FRAME_OK) {
		w->st->bad++;
		return;
	}
	w->st->verified += full;
	w->st->received++;
	w->st->rx_window += in_window;
	net_seq(w, seq);
}

/* Reaps the receive queue and posts each buffer again. Returns frames, or -EPROTO. */
static int net_rx_reap(struct net_worker *w, bool in_window, enum bench_nring_err *why)
{
	unsigned int id, n = 0;
	uint32_t len;
	int rc;

	while ((rc = bench_nring_next(&w->rx, &id, &len, why)) == 1) {
		net_rx_one(w, id, len, in_window);
		bench_nring_post(&w->rx, 0);
		n++;
	}
	if (rc < 0)
		return rc;
	if (n && bench_nring_publish(&w->rx))
		net_kick(w, RXQ);
	return (int)n;
}

/* Reaps transmit completions. Returns buffers, or -EPROTO. */
static int net_tx_reap(struct net_worker *w, bool in_window, enum bench_nring_err *why)
{
	unsigned int id, n = 0;
	uint32_t len;
	int rc;

	while ((rc = bench_nring_next(&w->tx, &id, &len, why)) == 1)
		n++;
	if (rc < 0)
		return rc;
	w->st->tx_done += n;
	if (in_window)
		w->st->tx_window += n;
	return (int)n;
}

/* Fills free transmit entries with the next sequence numbers. Returns frames. */
static unsigned int net_tx_fill(struct net_worker *w)
{
	const struct net_run *run = w->run;
	unsigned int n = 0;
	int id;

	while (n < NET_TX_ROUND && (id = bench_nring_peek_free(&w->tx)) >= 0) {
		bench_frame_stamp(bench_nring_buf(&w->tx, (unsigned int)id) + run->hdr_len,
				  w->next_seq++);
		bench_nring_post(&w->tx, run->hdr_len + run->o->frame_len);
		n++;
	}
	w->st->sent += n;
	if (n && bench_nring_publish(&w->tx))
		net_kick(w, TXQ);
	return n;
}

/*
 * Nothing moved: ask for calls on the receive queue, and on the transmit queue
 * when its buffers are what we wait for, then sleep unless something arrived.
 */
static void net_wait(struct net_worker *w, bool tx_matters)
{
	struct pollfd p[2] = {
		{ .fd = w->call[RXQ], .events = POLLIN },
		{ .fd = w->call[TXQ], .events = POLLIN },
	};
	bool ready = bench_nring_want_calls(&w->rx);
	uint64_t v;

	if (tx_matters)
		ready |= bench_nring_want_calls(&w->tx);
	else
		bench_nring_no_calls(&w->tx);
	if (!ready && poll(p, 2, NET_WAIT_SLICE_MS) > 0) {
		for (unsigned int i = 0; i < 2; i++)
			if ((p[i].revents & POLLIN) && read(p[i].fd, &v, sizeof(v)) == sizeof(v))
				w->st->wakeups++;
	}
	/* Busy again: no calls until the next wait. */
	bench_nring_no_calls(&w->rx);
	bench_nring_no_calls(&w->tx);
}

static bool net_should_stop(struct net_worker *w, uint64_t now)
{
	return now >= w->run->t_end || atomic_load(&g_net_stop) || atomic_load(&w->run->abort);
}

static void *net_worker_done(struct net_worker *w)
{
	if (w->rc < 0)
		atomic_store(&w->run->abort, true);
	atomic_fetch_add(&w->run->finished, 1);
	return NULL;
}

void *net_worker_main(void *arg)
{
	struct net_worker *w = arg;
	struct net_run *run = w->run;
	uint64_t now = net_now_ns(), last_progress = now, last_rx = now;
	bool stopping = false;

	bench_nring_no_calls(&w->rx);
	bench_nring_no_calls(&w->tx);
	while (bench_nring_post(&w->rx, 0) >= 0)
		;
	if (bench_nring_publish(&w->rx))
		net_kick(w, RXQ);

	for (;;) {
		bool in_window = now >= run->t_start && now < run->t_end;
		enum bench_nring_err why;
		int nrx, ntx, gone;
		unsigned int sent = 0;

		nrx = net_rx_reap(w, in_window, &why);
		ntx = nrx < 0 ? 0 : net_tx_reap(w, in_window, &why);
		if (nrx < 0 || ntx < 0) {
			w->rc = net_fail(w->error, sizeof(w->error), -EPROTO,
					 "queue pair %u: %s queue: %s", w->index,
					 nrx < 0 ? "receive" : "transmit",
					 bench_nring_err_str(why));
			break;
		}
		if (!stopping)
			sent = net_tx_fill(w);
		now = net_now_ns();
		if (nrx)
			last_rx = now;
		if (nrx || ntx)
			last_progress = now;
		if (!stopping && net_should_stop(w, now))
			stopping = true;
		/* Done when every frame is back, or none came back for the grace period. */
		if (stopping && w->tx.inflight == 0 &&
		    (w->st->received + w->st->bad >= w->st->tx_done ||
		     now - last_rx > NET_DRAIN_GRACE_NS || atomic_load(&run->abort)))
			break;
		gone = atomic_load(&run->gone);
		if (gone) {
			w->rc = net_fail(w->error, sizeof(w->error), gone,
					 "queue pair %u: the backend %s with %u frames in flight",
					 w->index,
					 gone == -EPIPE ? "closed the vhost-user connection"
							: "sent an unrequested vhost-user message",
					 w->tx.inflight);
			break;
		}
		if (now - last_progress > run->stall_ns) {
			w->rc = net_fail(
				w->error, sizeof(w->error), -ETIMEDOUT,
				"queue pair %u: nothing moved for %.1f s (%u frames on the "
				"transmit queue)",
				w->index, (double)(now - last_progress) / 1e9, w->tx.inflight);
			break;
		}
		if (nrx || ntx || sent)
			continue;
		if (run->o->poll)
			cpu_relax();
		else
			net_wait(w, stopping || w->tx.nfree == 0);
		now = net_now_ns();
	}
	return net_worker_done(w);
}
