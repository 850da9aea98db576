// SPDX-License-Identifier: MIT
/*
 * vireo-certify's net class checks, through the core's driver host as vireod drives a
 * net driver, with no guest: frames both ways through a pair (or one instance's
 * loopback) intact, in order and once; every queue pair at once; checksum offload;
 * MTU limits and set_mtu; partial bursts and vireo_net_tx_ready(); link events when
 * the partner goes and comes back; the driver's counters against what moved. Owns
 * these checks and their order; not the instances (net_dev.c) or the frames
 * (net_traffic.c).
 *
 * A pair is two instances of the driver: A with --param's, B with the same and
 * --peer-param's on top (--peer alone: the same parameters). Without --peer the
 * driver's one instance must echo what it sends (a loopback).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net_run.h"

#define NET_JUMBO 9000u /* the set-mtu check's large MTU, when the driver allows it */

static const char *chk_off_str(uint32_t off, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s%s", off ? "" : "none",
		 off & VIREO_NET_OFF_TX_CSUM ? " tx-csum" : "",
		 off & VIREO_NET_OFF_RX_CSUM ? " rx-csum" : "",
		 off & VIREO_NET_OFF_TSO4 ? " tso4" : "", off & VIREO_NET_OFF_TSO6 ? " tso6" : "",
		 off & VIREO_NET_OFF_RX_GSO ? " rx-gso" : "");
	return buf;
}

static void check_info(struct net_run *run)
{
	const struct vireo_net_info *a = &run->inst[0].info, *b = &run->inst[run->ninst - 1].info;
	char off[64];

	if (run->ninst == 2 && !memcmp(a->mac, b->mac, 6)) {
		cert_report_add(run->r, "info", CERT_FAIL,
				"both instances report MAC %02x:%02x:%02x:%02x:%02x:%02x",
				a->mac[0], a->mac[1], a->mac[2], a->mac[3], a->mac[4], a->mac[5]);
		return;
	}
	cert_report_add(run->r, "info", CERT_PASS,
			"MTU %u (%u..%u), %u of %u queue pair(s) started, bursts of %u, "
			"offloads:%s",
			a->mtu, a->min_mtu, a->max_mtu, run->inst[0].npairs, a->max_queue_pairs,
			a->queue_size, chk_off_str(a->offloads, off, sizeof(off)));
}

/*
 * Whether frames get through at all, before any check counts them: a real network may
 * take a moment after the instances open (a bridge port forwards once the TAP's carrier
 * is seen). Probes go every 50 ms until one arrives each way; lost probes are not
 * failures, only a path that stays silent is.
 */
static int chk_path(struct net_run *run, uint64_t *took, unsigned int *sent, char *why,
		    size_t whylen)
{
	struct net_spec spec = { .frames = 1024,
				 .min_len = NET_MIN_FRAME,
				 .max_len = NET_MIN_FRAME };
	uint64_t start = net_now_ms();
	unsigned int done = 0;
	struct net_phase *ph;
	struct net_tally t;

	if (net_phase_new(run, &spec, &ph) < 0) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < run->ninst; i++)
		took[i] = sent[i] = 0;
	while (done < run->ninst && net_now_ms() - start < NET_PATH_MS) {
		for (unsigned int i = 0; i < run->ninst; i++) {
			struct net_inst *to = net_peer_of(run, i);

			if (took[i])
				continue;
			if (sent[i] < spec.frames && net_phase_tx(ph, i, 1, 0) == 1)
				sent[i]++;
			for (unsigned int q = 0; q < to->npairs; q++)
				(void)net_phase_rx(ph, to, q);
			if (net_phase_received(ph, i)) {
				took[i] = net_now_ms() - start + 1;
				done++;
			}
		}
		if (done < run->ninst)
			(void)net_wait_ready(net_peer_of(run, 0), 0, false, 50);
	}
	net_phase_tally(ph, &t);
	net_phase_free(ph);
	if (t.why[0] || done < run->ninst) {
		snprintf(why, whylen, "%s", t.why[0] ? t.why : "no frame got through in 10 s");
		run->stuck |= done < run->ninst; /* silence, not a bad frame, stops the rest */
		return -EIO;
	}
	return 0;
}

static void check_path(struct net_run *run)
{
	unsigned int sent[2];
	uint64_t took[2];
	char why[320];

	if (chk_path(run, took, sent, why, sizeof(why)) < 0) {
		cert_report_add(run->r, "path", CERT_FAIL, "%s", why);
		return;
	}
	if (run->ninst == 1)
		cert_report_add(run->r, "path", CERT_PASS,
				"the first frame came back within %" PRIu64 " ms (%u probe(s))",
				took[0], sent[0]);
	else
		cert_report_add(run->r, "path", CERT_PASS,
				"the first frame got through within %" PRIu64 " ms A to B, %" PRIu64
				" ms B to A (%u probe(s))",
				took[0], took[1], sent[0] + sent[1]);
}

/* The traffic checks: pair 0 both ways, every pair at once, checksum offload. */
static void check_traffic(struct net_run *run, const char *name, bool all_pairs, bool csum,
			  unsigned int frames)
{
	struct net_spec spec = {
		.frames = frames, .min_len = NET_MIN_FRAME, .all_pairs = all_pairs, .csum = csum
	};
	struct net_tally t;

	if (run->stuck) {
		cert_report_add(run->r, name, CERT_SKIP, "an earlier check left frames stuck");
		return;
	}
	if (net_traffic(run, &spec, &t) < 0) {
		cert_report_add(run->r, name, CERT_FAIL, "%s (seed %" PRIu64 ")", t.why,
				run->opts->seed);
		return;
	}
	cert_report_add(
		run->r, name, CERT_PASS,
		"%u flow(s) of %u frames (%u..MTU+14 bytes, %s), %" PRIu64
		" bytes: all intact, in order, once; %" PRIu64 " partial burst(s)%s%s%s",
		t.flows, frames, NET_MIN_FRAME,
		run->ninst == 2 ? "both ways through the pair" : "looped back", t.received_bytes,
		t.partial, csum ? "; checksums filled in, " : "",
		csum ? (t.csum_valid ? "frames marked CSUM_VALID" : "none marked CSUM_VALID") : "",
		csum && t.csum_partial ? ", some delivered still partial (completed by the guest)"
				       : "");
}

static void check_queues(struct net_run *run)
{
	if (run->inst[0].npairs < 2) {
		cert_report_add(run->r, "queues", CERT_SKIP,
				"one queue pair (max_queue_pairs %u); give the driver more to "
				"check them",
				run->inst[0].info.max_queue_pairs);
		return;
	}
	check_traffic(run, "queues", true, false, run->opts->ops);
}

static void check_offloads(struct net_run *run)
{
	uint32_t a = run->inst[0].info.offloads, b = run->inst[run->ninst - 1].info.offloads;

	if (!(a & b & VIREO_NET_OFF_TX_CSUM)) {
		cert_report_add(run->r, "offload-csum", CERT_SKIP,
				"tx checksum offload not announced");
		return;
	}
	check_traffic(run, "offload-csum", false, true, 128);
}

static int chk_stats(struct net_inst *in, struct vireo_net_stats *s)
{
	return host_net_stats(in->hn, s);
}

/* Runs @from's peer's receive bursts until frame @seq of @from arrives. */
static int chk_await(struct net_run *run, struct net_phase *ph, unsigned int from, uint32_t seq,
		     char *why, size_t whylen)
{
	struct net_inst *to = net_peer_of(run, from);
	uint64_t deadline = net_now_ms() + NET_STALL_MS;
	struct net_tally t;

	while (!net_phase_seen(ph, from, seq)) {
		bool full = false;

		for (unsigned int q = 0; q < to->npairs; q++) {
			int rc = net_phase_rx(ph, to, q);

			if (rc < 0) {
				net_phase_tally(ph, &t);
				snprintf(why, whylen, "%s", t.why[0] ? t.why : strerror(-rc));
				return -EIO;
			}
			full |= rc == (int)NET_BATCH;
		}
		if (net_phase_seen(ph, from, seq))
			break;
		if (net_now_ms() > deadline) {
			snprintf(why, whylen, "frame %u from %s never arrived at %s", seq,
				 run->inst[from].id, to->id);
			run->stuck = true;
			return -ETIMEDOUT;
		}
		if (!full)
			(void)net_wait_ready(to, 0, false, 20);
	}
	return 0;
}

/* Sum of the counters where a dropped over-MTU frame may be counted. */
static uint64_t chk_drops(const struct vireo_net_stats *tx, const struct vireo_net_stats *rx)
{
	return tx->tx_dropped + tx->tx_errors + rx->rx_dropped + rx->rx_errors;
}

/*
 * At the MTUs set now, from each instance to its peer: a frame of MTU + 14 arrives, a
 * frame over MTU + 18 does not and is counted, and the frame after it arrives.
 */
static int chk_mtu_probe(struct net_run *run, char *why, size_t whylen, unsigned int *dropped)
{
	struct net_spec spec = { .frames = 3, .min_len = NET_MIN_FRAME, .max_len = NET_MIN_FRAME };
	struct net_phase *ph;
	int rc = 0;

	*dropped = 0;
	if (net_phase_new(run, &spec, &ph) < 0) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	for (unsigned int from = 0; from < run->ninst && rc == 0; from++) {
		struct net_inst *in = &run->inst[from], *to = net_peer_of(run, from);
		uint32_t max = in->info.mtu + 14u, over = in->info.mtu + NET_L2 + 1u;
		struct vireo_net_stats tx0, rx0, tx1, rx1;
		bool stats = chk_stats(in, &tx0) == 0 && chk_stats(to, &rx0) == 0;

		if (max > to->info.mtu + NET_L2)
			max = to->info.mtu + NET_L2; /* the peer's buffers are the limit */
		over += (uint32_t)(run->rng++ % 32);
		if (over > HOST_NET_MAX_FRAME)
			over = HOST_NET_MAX_FRAME;
		rc = net_phase_tx(ph, from, 1, max);
		if (rc == 1)
			rc = chk_await(run, ph, from, 0, why, whylen);
		else
			snprintf(why, whylen, "%s: a %u-byte frame (MTU %u + 14) was not taken: %d",
				 in->id, max, in->info.mtu, rc);
		if (rc < 0 || (rc != 0 && rc != 1))
			break;
		if (over <= in->info.mtu + NET_L2) {
			rc = 0;
			continue; /* MTU 65532 and up: no frame is over it */
		}
		rc = net_phase_tx(ph, from, 1, over);
		if (rc == 1)
			rc = net_phase_tx(ph, from, 1, NET_MIN_FRAME);
		if (rc != 1) {
			snprintf(why, whylen, "%s: frames after a %u-byte one were not taken: %d",
				 in->id, over, rc);
			rc = -EIO;
			break;
		}
		rc = chk_await(run, ph, from, 2, why, whylen);
		if (rc < 0)
			break;
		if (net_phase_seen(ph, from, 1)) {
			snprintf(why, whylen,
				 "%s -> %s: a %u-byte frame (MTU %u + 18 is the limit) "
				 "was delivered",
				 in->id, to->id, over, in->info.mtu);
			rc = -EIO;
			break;
		}
		if (stats && chk_stats(in, &tx1) == 0 && chk_stats(to, &rx1) == 0) {
			uint64_t d = chk_drops(&tx1, &rx1) - chk_drops(&tx0, &rx0);

			if (d != 1) {
				snprintf(why, whylen,
					 "%s -> %s: a %u-byte frame over MTU %u was dropped but "
					 "counted %" PRIu64 " times (tx_dropped/tx_errors of the "
					 "sender, rx_dropped/rx_errors of the receiver)",
					 in->id, to->id, over, in->info.mtu, d);
				rc = -EIO;
				break;
			}
			(*dropped)++;
		}
	}
	net_phase_free(ph);
	return rc < 0 ? rc : 0;
}

static void check_mtu_limits(struct net_run *run)
{
	unsigned int counted;
	char why[320] = "";

	if (run->stuck) {
		cert_report_add(run->r, "mtu-limits", CERT_SKIP,
				"an earlier check left frames stuck");
		return;
	}
	if (chk_mtu_probe(run, why, sizeof(why), &counted) < 0) {
		cert_report_add(run->r, "mtu-limits", CERT_FAIL, "%s", why);
		return;
	}
	cert_report_add(run->r, "mtu-limits", CERT_PASS,
			"at MTU %u: MTU + 14 bytes arrive intact; over MTU + 18 never arrive%s",
			run->inst[0].info.mtu,
			counted ? " and are counted as dropped" : " (no get_stats: not counted)");
}

/* Every instance to @mtu, its queue pairs stopped around set_mtu as <vireo/net.h> says. */
static int chk_set_all(struct net_run *run, const unsigned int *mtu, char *why, size_t whylen)
{
	for (unsigned int i = 0; i < run->ninst; i++) {
		struct net_inst *in = &run->inst[i];
		int rc, rc2;

		host_net_stop_pairs(in->hn);
		rc = host_net_set_mtu(in->hn, mtu[i]);
		rc2 = host_net_start_pairs(in->hn);
		in->info = *host_net_info(in->hn);
		if ((rc < 0 || rc2 < 0) && why) {
			snprintf(why, whylen, "%s: set_mtu(%u) %s, queue_start after it %s", in->id,
				 mtu[i], strerror(-rc), strerror(-rc2));
		}
		if (rc2 < 0)
			run->stuck = true;
		if (rc < 0 || rc2 < 0)
			return -EIO;
	}
	return 0;
}

static void check_set_mtu(struct net_run *run)
{
	const struct host_checked *hc = host_driver_info(run->drv);
	unsigned int orig[2], lo[2], hi[2], counted = 0, n = 0;
	unsigned int lo_all = 0, hi_all = 65535;
	char why[320] = "", done[96] = "";
	int rc = 0;

	if (!hc->ops.net.set_mtu) {
		cert_report_add(run->r, "set-mtu", CERT_SKIP, "no set_mtu op: the MTU is fixed");
		return;
	}
	if (run->stuck) {
		cert_report_add(run->r, "set-mtu", CERT_SKIP, "an earlier check left frames stuck");
		return;
	}
	for (unsigned int i = 0; i < run->ninst; i++) {
		const struct vireo_net_info *in = &run->inst[i].info;

		orig[i] = in->mtu;
		if (in->min_mtu > lo_all)
			lo_all = in->min_mtu;
		if (in->max_mtu < hi_all)
			hi_all = in->max_mtu;
		/* The core refuses values outside the announced range before the driver. */
		if (in->min_mtu > 68 &&
		    host_net_set_mtu(run->inst[i].hn, in->min_mtu - 1u) != -ERANGE)
			rc = -EIO;
		if (in->max_mtu < 65535 &&
		    host_net_set_mtu(run->inst[i].hn, in->max_mtu + 1u) != -ERANGE)
			rc = -EIO;
	}
	if (rc < 0) {
		cert_report_add(run->r, "set-mtu", CERT_FAIL,
				"an MTU outside min_mtu..max_mtu was not refused with ERANGE");
		return;
	}
	if (hi_all > NET_JUMBO)
		hi_all = NET_JUMBO;
	for (unsigned int i = 0; i < 2; i++) {
		lo[i] = lo_all;
		hi[i] = hi_all;
	}
	const unsigned int *steps[] = { lo, hi };
	for (unsigned int s = 0; s < 2 && rc == 0; s++) {
		if (s == 1 && hi_all <= orig[0])
			continue;
		rc = chk_set_all(run, steps[s], why, sizeof(why));
		if (rc == 0)
			rc = chk_mtu_probe(run, why, sizeof(why), &n);
		counted += n;
		snprintf(done + strlen(done), sizeof(done) - strlen(done), "%s%u",
			 done[0] ? ", " : "", steps[s][0]);
	}
	/* Back to where it was, failed or not, so the checks after this one run as before. */
	if (chk_set_all(run, orig, rc < 0 ? NULL : why, sizeof(why)) < 0 && rc == 0)
		rc = -EIO;
	if (rc < 0) {
		cert_report_add(run->r, "set-mtu", CERT_FAIL, "%s", why);
		return;
	}
	cert_report_add(run->r, "set-mtu", CERT_PASS,
			"out-of-range MTUs refused; at MTU %s (queue pairs stopped around "
			"set_mtu) frames of MTU + 14 arrive, longer ones never do%s; back to %u",
			done, counted ? " and are counted" : "", orig[0]);
}

static void check_backpressure(struct net_run *run)
{
	unsigned int total = 2048, waits = 0, pushed_at = 0;
	struct net_spec spec = { .frames = total, .min_len = NET_MIN_FRAME, .max_len = 256 };
	struct net_inst *in = &run->inst[0], *to = net_peer_of(run, 0);
	struct vireo_net_stats s0 = { 0 }, s1 = { 0 };
	struct net_phase *ph;
	struct net_tally t;
	char why[320] = "";
	bool stats;
	int rc = 0;

	if (run->stuck) {
		cert_report_add(run->r, "back-pressure", CERT_SKIP,
				"an earlier check left frames stuck");
		return;
	}
	if (net_phase_new(run, &spec, &ph) < 0) {
		cert_report_add(run->r, "back-pressure", CERT_FAIL, "out of memory");
		return;
	}
	stats = chk_stats(in, &s0) == 0;
	/* Nobody receives: send until the driver takes fewer than offered. */
	for (unsigned int sent = 0; sent < total;) {
		unsigned int want = total - sent < NET_BATCH ? total - sent : NET_BATCH;

		rc = net_phase_tx(ph, 0, want, 0);
		if (rc < 0)
			break;
		sent += (unsigned int)rc;
		if ((unsigned int)rc < want) {
			pushed_at = sent;
			break;
		}
	}
	if (rc < 0) {
		net_phase_free(ph);
		cert_report_add(run->r, "back-pressure", CERT_FAIL, "%s: tx_burst failed: %s",
				in->id, strerror(-rc));
		return;
	}
	if (!pushed_at) {
		/* Drain what arrived, so later checks start clean. */
		uint64_t quiet = net_now_ms() + 300;

		while (net_now_ms() < quiet) {
			for (unsigned int q = 0; q < to->npairs; q++)
				if (net_phase_rx(ph, to, q) > 0)
					quiet = net_now_ms() + 300;
			(void)net_wait_ready(to, 0, false, 20);
		}
		net_phase_tally(ph, &t);
		if (stats)
			chk_stats(in, &s1);
		net_phase_free(ph);
		cert_report_add(run->r, "back-pressure", t.why[0] ? CERT_FAIL : CERT_SKIP,
				"%s%sthe driver never pushed back: it took all %u frames with "
				"nobody receiving; %" PRIu64 " arrived, %" PRIu64
				" counted dropped",
				t.why, t.why[0] ? "; " : "", total, t.received,
				s1.tx_dropped - s0.tx_dropped);
		return;
	}
	/* Make room a burst at a time: each time, tx_ready must come, and sending resume. */
	for (unsigned int sent = pushed_at; rc >= 0 && sent < total;) {
		unsigned int want = total - sent < NET_BATCH ? total - sent : NET_BATCH;

		atomic_store(&in->ready[1][0], false);
		for (unsigned int q = 0; q < to->npairs && rc >= 0; q++)
			rc = net_phase_rx(ph, to, q);
		if (rc < 0)
			break;
		if (!net_wait_ready(in, 0, true, NET_STALL_MS)) {
			snprintf(why, sizeof(why),
				 "%s took %u of %u frames; the receiver then made room, but no "
				 "vireo_net_tx_ready() came in %u ms",
				 in->id, sent, total, NET_STALL_MS);
			run->stuck = true;
			rc = -ETIMEDOUT;
			break;
		}
		waits++;
		do {
			rc = net_phase_tx(ph, 0, want, 0);
			if (rc > 0)
				sent += (unsigned int)rc;
			want = total - sent < NET_BATCH ? total - sent : NET_BATCH;
		} while (rc > 0 && want && (unsigned int)rc == NET_BATCH);
	}
	if (rc >= 0)
		rc = chk_await(run, ph, 0, total - 1, why, sizeof(why));
	net_phase_tally(ph, &t);
	if (stats)
		chk_stats(in, &s1);
	net_phase_free(ph);
	if (rc >= 0 && t.received + (s1.tx_dropped - s0.tx_dropped) != total) {
		snprintf(why, sizeof(why),
			 "%" PRIu64 " of %u frames arrived, %" PRIu64 " counted dropped",
			 t.received, total, s1.tx_dropped - s0.tx_dropped);
		rc = -EIO;
	}
	if (rc < 0) {
		cert_report_add(run->r, "back-pressure", CERT_FAIL, "%s", t.why[0] ? t.why : why);
		return;
	}
	cert_report_add(run->r, "back-pressure", CERT_PASS,
			"pushed back after %u frames with nobody receiving; vireo_net_tx_ready() "
			"came each of the %u times the receiver made room; %" PRIu64
			" of %u frames arrived in order",
			pushed_at, waits, t.received, total);
}

/* Waits for a link event on @in (the hook may come from any thread). */
static bool chk_link_event(struct net_inst *in, unsigned int before)
{
	uint64_t deadline = net_now_ms() + 2000;

	while (atomic_load(&in->link_events) == before) {
		if (net_now_ms() > deadline)
			return false;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	return true;
}

static void check_link(struct net_run *run)
{
	const struct host_checked *hc = host_driver_info(run->drv);
	struct net_inst *a = &run->inst[0], *b = &run->inst[1];
	struct vireo_net_link la, lb;
	struct net_spec spec = { .frames = 32, .min_len = NET_MIN_FRAME };
	struct net_tally t;
	char err[512] = "";
	unsigned int e, sent[2];
	uint64_t took[2];

	host_net_link(a->hn, &la);
	if (!hc->ops.net.get_link) {
		cert_report_add(run->r, "link", CERT_SKIP,
				"no get_link op: the core takes the "
				"link as always up");
		return;
	}
	if (run->stuck) {
		cert_report_add(run->r, "link", CERT_SKIP, "an earlier check left frames stuck");
		return;
	}
	if (run->ninst == 1) {
		cert_report_add(run->r, "link", la.up ? CERT_PASS : CERT_FAIL,
				"one instance (loopback): link %s; no partner to take away",
				la.up ? "up" : "down");
		return;
	}
	host_net_link(b->hn, &lb);
	if (!la.up || !lb.up) {
		cert_report_add(run->r, "link", CERT_FAIL, "link %s/%s with both instances open",
				la.up ? "up" : "down", lb.up ? "up" : "down");
		return;
	}
	e = atomic_load(&a->link_events);
	net_inst_close(run, 1);
	if (!chk_link_event(a, e)) {
		cert_report_add(run->r, "link", CERT_FAIL,
				"the partner closed: no vireo_net_link_changed() on %s", a->id);
		goto out_reopen;
	}
	host_net_link(a->hn, &la);
	if (la.up) {
		cert_report_add(run->r, "link", CERT_FAIL,
				"the partner closed: link_changed came but get_link says up");
		goto out_reopen;
	}
	e = atomic_load(&a->link_events);
	if (net_inst_open(run, 1, err, sizeof(err)) < 0) {
		cert_report_add(run->r, "link", CERT_FAIL, "reopening %s: %s", b->id, err);
		run->ninst = 1; /* A alone from here: its frames go nowhere */
		run->stuck = true;
		return;
	}
	host_net_link(b->hn, &lb);
	if (!chk_link_event(a, e) || (host_net_link(a->hn, &la), !la.up) || !lb.up) {
		cert_report_add(run->r, "link", CERT_FAIL,
				"the partner came back: link_changed %s, link %s/%s",
				atomic_load(&a->link_events) != e ? "came" : "did not come",
				la.up ? "up" : "down", lb.up ? "up" : "down");
		return;
	}
	if (chk_path(run, took, sent, err, sizeof(err)) < 0 || net_traffic(run, &spec, &t) < 0) {
		cert_report_add(run->r, "link", CERT_FAIL, "after the partner came back: %s",
				err[0] ? err : t.why);
		return;
	}
	cert_report_add(run->r, "link", CERT_PASS,
			"down with link_changed when the partner closed, up with link_changed "
			"when it reopened; traffic flows again");
	return;

out_reopen:
	if (net_inst_open(run, 1, err, sizeof(err)) < 0) {
		run->ninst = 1;
		run->stuck = true;
	}
}

/* A counter agrees when the driver does not keep it (0 throughout) or it moved as seen. */
static bool chk_stat(const char *inst, const char *name, uint64_t before, uint64_t after,
		     uint64_t seen, char *why, size_t whylen)
{
	if ((before == 0 && after == 0) || after - before == seen)
		return true;
	snprintf(why, whylen, "%s: %s moved by %" PRIu64 ", but %" PRIu64 " %s", inst, name,
		 after - before, seen, strstr(name, "tx") ? "were taken" : "were received");
	return false;
}

static void check_stats(struct net_run *run)
{
	struct vireo_net_stats s0[2], s1[2];
	struct host_net_counters c0[2], c1[2];
	struct net_spec spec = { .frames = 256, .min_len = NET_MIN_FRAME, .all_pairs = true };
	struct net_tally t;
	char why[320] = "";
	bool ok = true;

	if (chk_stats(&run->inst[0], &s0[0]) == -EOPNOTSUPP) {
		cert_report_add(run->r, "stats", CERT_SKIP, "the driver has no get_stats op");
		return;
	}
	if (run->stuck) {
		cert_report_add(run->r, "stats", CERT_SKIP, "an earlier check left frames stuck");
		return;
	}
	for (unsigned int i = 0; i < run->ninst; i++) {
		if (chk_stats(&run->inst[i], &s0[i]) < 0) {
			cert_report_add(run->r, "stats", CERT_FAIL, "get_stats failed");
			return;
		}
		host_net_counters(run->inst[i].hn, &c0[i]);
	}
	if (net_traffic(run, &spec, &t) < 0) {
		cert_report_add(run->r, "stats", CERT_FAIL, "traffic failed: %s", t.why);
		return;
	}
	for (unsigned int i = 0; i < run->ninst && ok; i++) {
		const struct vireo_net_stats *a = &s0[i], *b = &s1[i];
		const char *id = run->inst[i].id;

		if (chk_stats(&run->inst[i], &s1[i]) < 0) {
			snprintf(why, sizeof(why), "%s: get_stats failed", id);
			ok = false;
			break;
		}
		host_net_counters(run->inst[i].hn, &c1[i]);
		ok = chk_stat(id, "tx_packets", a->tx_packets, b->tx_packets,
			      c1[i].tx_packets - c0[i].tx_packets, why, sizeof(why)) &&
		     chk_stat(id, "tx_bytes", a->tx_bytes, b->tx_bytes,
			      c1[i].tx_bytes - c0[i].tx_bytes, why, sizeof(why)) &&
		     chk_stat(id, "rx_packets", a->rx_packets, b->rx_packets,
			      c1[i].rx_packets - c0[i].rx_packets, why, sizeof(why)) &&
		     chk_stat(id, "rx_bytes", a->rx_bytes, b->rx_bytes,
			      c1[i].rx_bytes - c0[i].rx_bytes, why, sizeof(why)) &&
		     chk_stat(id, "tx_dropped", a->tx_dropped, b->tx_dropped, 0, why,
			      sizeof(why)) &&
		     chk_stat(id, "tx_errors", a->tx_errors, b->tx_errors, 0, why, sizeof(why)) &&
		     chk_stat(id, "rx_dropped", a->rx_dropped, b->rx_dropped, 0, why,
			      sizeof(why)) &&
		     chk_stat(id, "rx_errors", a->rx_errors, b->rx_errors, 0, why, sizeof(why));
	}
	if (!ok) {
		cert_report_add(run->r, "stats", CERT_FAIL, "%s", why);
		return;
	}
	cert_report_add(run->r, "stats", CERT_PASS,
			"counters match the traffic: %" PRIu64 " frames (%" PRIu64
			" bytes) sent and received on every pair, nothing dropped",
			t.sent, t.sent_bytes);
}

static void check_close(struct net_run *run)
{
	uint64_t errors = 0, rejected = 0;

	for (unsigned int i = 0; i < run->ninst; i++) {
		struct host_net_counters c;

		host_net_counters(run->inst[i].hn, &c);
		errors += c.driver_errors;
		rejected += c.tx_rejected;
		net_inst_close(run, i);
	}
	cert_report_add(run->r, "close", errors ? CERT_FAIL : CERT_PASS,
			"%s; the core caught %" PRIu64 " driver error(s) (bad counts, lengths or "
			"flags) and refused %" PRIu64 " frame(s)",
			run->ninst == 2 ? "both instances closed" : "closed", errors, rejected);
}

int cert_net_run(struct host_driver *drv, const struct cert_opts *opts,
		 const struct cert_peer *peer, struct cert_report *r)
{
	struct net_run run = { .r = r,
			       .opts = opts,
			       .peer = peer,
			       .drv = drv,
			       .ninst = peer->on ? 2 : 1,
			       .rng = opts->seed ? opts->seed : 1,
			       .phase = (uint32_t)(opts->seed >> 8) };
	unsigned int frames = opts->ops;
	char err[512] = "";
	unsigned int i;

	for (i = 0; i < 2; i++)
		pthread_mutex_init(&run.inst[i].loops_lock, NULL);
	for (i = 0; i < run.ninst; i++) {
		if (net_inst_open(&run, i, err, sizeof(err)) < 0) {
			cert_report_add(r, "open", CERT_FAIL, "instance %u: %s", i, err);
			goto out_free;
		}
	}
	cert_report_add(r, "open", CERT_PASS,
			"%s, %u queue pair(s) each with a receive and a "
			"transmit loop",
			run.ninst == 2 ? "two instances (a pair)" : "one instance (loopback)",
			run.inst[0].npairs);
	check_info(&run);
	check_path(&run);
	check_traffic(&run, "pair-data", false, false, frames);
	check_queues(&run);
	check_offloads(&run);
	check_mtu_limits(&run);
	check_set_mtu(&run);
	check_backpressure(&run);
	check_link(&run);
	check_stats(&run);
	/* Every burst call has returned (the threads are joined): closing is safe even
	 * after frames got stuck, since a driver keeps no pointer into a burst's buffers. */
	check_close(&run);
out_free:
	for (i = 0; i < 2; i++) {
		net_inst_free(&run.inst[i]);
		pthread_mutex_destroy(&run.inst[i].loops_lock);
	}
	return 0;
}
