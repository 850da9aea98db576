/* SPDX-License-Identifier: MIT */
/*
 * What vireo-certify's net checks share: one or two instances of the driver opened
 * through the core's driver host (host_net_open(), as vireod's virtio-net does), each
 * queue pair with a receive loop and a transmit loop as vireod's workers have, the
 * bind hooks that record the driver's notifications, the test frames (EtherType
 * 0x88b5, a header naming flow and sequence, bytes derived from the seed so that a
 * receiver checks them without a copy), and the traffic engine that runs senders and
 * receivers on their own threads. Internal to vireo-certify's net class.
 */
#ifndef VIREO_CERTIFY_NET_RUN_H
#define VIREO_CERTIFY_NET_RUN_H

#include <pthread.h>

#include "certify.h"
#include "host/netdev.h"

#define NET_ETHERTYPE 0x88b5u	  /* IEEE local experimental: nothing else uses it */
#define NET_MAGIC     0x56435254u /* "VCRT" */
#define NET_HDR_END   30u	  /* Ethernet (14) + magic, phase, flow, seq, len (16) */
#define NET_MIN_FRAME 60u	  /* smallest frame sent: Ethernet's minimum */
#define NET_L2	      18u	  /* receive buffers hold MTU + 18, as vireod's do */
#define NET_MAX_PAIRS VIREO_NET_MAX_QUEUE_PAIRS
#define NET_BATCH     32u    /* frames per burst the harness offers, at most */
#define NET_WINDOW    64u    /* frames of a flow in flight, so a TAP's queue never overflows */
#define NET_STALL_MS  5000u  /* no progress for this long: frames are lost */
#define NET_PATH_MS   10000u /* how long a path may take to carry its first frame */

/** The second instance: --peer, and --peer-param overrides of --param. */
struct cert_peer {
	bool on;
	const char *keys[CERT_MAX_PARAMS];
	const char *values[CERT_MAX_PARAMS];
	size_t n;
};

struct net_run;

/** One open instance and what the harness saw of it. */
struct net_inst {
	struct net_run *run;
	unsigned int index; /* 0 (A) or 1 (B) */
	char id[16];
	struct host_net *hn;
	struct vireo_net_info info; /* host_net_info() at open */
	unsigned int npairs;
	pthread_mutex_t loops_lock;
	struct vireo_loop *loops[2][NET_MAX_PAIRS]; /* [0] receive, [1] transmit */
	atomic_bool ready[2][NET_MAX_PAIRS];	    /* rx_ready / tx_ready since cleared */
	atomic_uint_fast64_t ready_calls[2];
	atomic_uint link_events;
	atomic_uint_fast64_t foreign; /* frames received that no check of this run sent */
};

/** One net certification run. */
struct net_run {
	struct cert_report *r;
	const struct cert_opts *opts;
	const struct cert_peer *peer;
	struct host_driver *drv;
	struct net_inst inst[2];
	unsigned int ninst; /* 1: loopback; 2: a pair */
	uint64_t rng;
	uint32_t phase; /* in every frame: frames of earlier phases count as foreign */
	bool stuck;	/* a burst never returned or a ring never drained: stop sending */
};

/* net_dev.c */

/** net_inst_open() - Open instance @i with its parameters. Return: 0 or a negative errno. */
int net_inst_open(struct net_run *run, unsigned int i, char *err, size_t errlen);
/** net_inst_close() - Close instance @i (loops kept for a reopen). */
void net_inst_close(struct net_run *run, unsigned int i);
/** net_inst_free() - Close and free the loops. */
void net_inst_free(struct net_inst *in);
/** net_loop() - The receive (@tx false) or transmit loop of pair @q, made on first use. */
struct vireo_loop *net_loop(struct net_inst *in, unsigned int q, bool tx);
/**
 * net_wait_ready() - Run the loop of pair @q until the driver's rx_ready (@tx false) or
 * tx_ready is seen (and clear it). Return: true if seen within @ms.
 */
bool net_wait_ready(struct net_inst *in, unsigned int q, bool tx, unsigned int ms);
/** net_peer_of() - The instance frames from instance @i arrive at. */
struct net_inst *net_peer_of(struct net_run *run, unsigned int i);
/** net_now_ms() - CLOCK_MONOTONIC in ms. */
uint64_t net_now_ms(void);

/* net_traffic.c */

/** What one traffic phase sends. */
struct net_spec {
	unsigned int frames; /* per flow */
	uint32_t min_len;    /* frame length range */
	uint32_t max_len;    /* 0: each sender's MTU + 14 */
	bool all_pairs;	     /* every queue pair, else pair 0 */
	bool csum;	     /* frames ask for VIREO_PKT_F_NEEDS_CSUM */
};

/** What a traffic phase saw. */
struct net_tally {
	uint64_t sent, sent_bytes; /* frames the driver took */
	uint64_t received, received_bytes;
	uint64_t partial;      /* bursts taken in part */
	uint64_t csum_valid;   /* frames received marked CSUM_VALID */
	uint64_t csum_partial; /* frames received still partial (NEEDS_CSUM), completed */
	unsigned int flows;
	char why[256]; /* the first failure; empty: none */
};

/**
 * net_traffic() - Run @spec: every sending instance's flows on their own threads (one
 * sender per instance and pair, one receiver per instance and pair), each frame checked
 * intact, in order, once. Return: 0 or -EIO (why in @t).
 */
int net_traffic(struct net_run *run, const struct net_spec *spec, struct net_tally *t);

/* One phase stepped by hand (mtu, back-pressure and link checks), on pair 0. */
struct net_phase;

/** net_phase_new() - A phase with @spec's flows; frames of earlier phases turn foreign. */
int net_phase_new(struct net_run *run, const struct net_spec *spec, struct net_phase **out);
/** net_phase_free() - NULL is fine. */
void net_phase_free(struct net_phase *ph);
/**
 * net_phase_tx() - Offer the next @count frames (at most NET_BATCH) of instance @from's
 * flow on pair 0, each of @len bytes (0: the spec's random length) to host_net_tx().
 * Return: how many it took, or its negative errno.
 */
int net_phase_tx(struct net_phase *ph, unsigned int from, unsigned int count, uint32_t len);
/** net_phase_rx() - One receive burst on @in pair @q, frames checked. Return: frames, or < 0. */
int net_phase_rx(struct net_phase *ph, struct net_inst *in, unsigned int q);
/** net_phase_seen() - Whether frame @seq of @from's flow has arrived. */
bool net_phase_seen(struct net_phase *ph, unsigned int from, uint32_t seq);
/** net_phase_received() - How many frames of @from's flow have arrived. */
unsigned int net_phase_received(struct net_phase *ph, unsigned int from);
/** net_phase_tally() - What the phase saw; @t->why holds its first failure. */
void net_phase_tally(struct net_phase *ph, struct net_tally *t);

/* net_checks.c */

/** cert_net_run() - Every net check on @drv, verdicts into @r. Return: 0. */
int cert_net_run(struct host_driver *drv, const struct cert_opts *opts,
		 const struct cert_peer *peer, struct cert_report *r);

#endif /* VIREO_CERTIFY_NET_RUN_H */
