// SPDX-License-Identifier: MIT
/*
 * vireo-certify's net class checks, through the core's driver host as vireod drives a
 * net driver, with no guest: frames both ways through a pair (or one instance's
 * loopback) intact, in order and once; every queue pair at once; checksum offload;
 * the instances closed. Owns these checks and the order of the whole run, with the
 * limit checks of net_limits.c in it; not the instances (net_dev.c) or the frames
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
int net_path_probe(struct net_run *run, uint64_t *took, unsigned int *sent, char *why,
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

	if (net_path_probe(run, took, sent, why, sizeof(why)) < 0) {
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
	net_check_mtu_limits(&run);
	net_check_set_mtu(&run);
	net_check_backpressure(&run);
	net_check_link(&run);
	net_check_stats(&run);
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
