// SPDX-License-Identifier: MIT
/*
 * The network instances under vireo-certify's net checks: each is opened with
 * host_net_open() as vireod's virtio-net opens one, with bind hooks that record the
 * driver's notifications instead of scheduling guest work. Every queue pair gets a
 * receive loop (vireo_net_queue_loop(), where a driver watches its fds) and a transmit
 * loop, made on first use; a notification sets a flag and wakes the loop, so a thread
 * waiting for it runs the loop as vireod's workers do. Owns the instances and loops;
 * not the traffic (net_traffic.c) or the checks (net_checks.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/internal.h"
#include "net_run.h"

uint64_t net_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Deferred work that does nothing: it only makes a waiting run_once() return. */
static void dev_wake(void *arg)
{
	(void)arg;
}

struct vireo_loop *net_loop(struct net_inst *in, unsigned int q, bool tx)
{
	struct vireo_loop *loop;

	if (q >= NET_MAX_PAIRS)
		return NULL;
	pthread_mutex_lock(&in->loops_lock);
	loop = in->loops[tx][q];
	if (!loop && vireo_core_loop_new(&loop) == 0)
		in->loops[tx][q] = loop;
	pthread_mutex_unlock(&in->loops_lock);
	return loop;
}

static void dev_ready(struct net_inst *in, unsigned int q, bool tx)
{
	struct vireo_loop *loop;

	atomic_fetch_add(&in->ready_calls[tx], 1);
	if (q >= NET_MAX_PAIRS)
		return;
	atomic_store(&in->ready[tx][q], true);
	loop = net_loop(in, q, tx);
	if (loop)
		(void)vireo_loop_defer(loop, dev_wake, NULL);
}

static void dev_rx_ready(void *core, unsigned int q)
{
	dev_ready(core, q, false);
}

static void dev_tx_ready(void *core, unsigned int q)
{
	dev_ready(core, q, true);
}

/* Any thread: only counted here; the checks call host_net_link() on their thread. */
static void dev_link_changed(void *core)
{
	struct net_inst *in = core;

	atomic_fetch_add(&in->link_events, 1);
}

static struct vireo_loop *dev_queue_loop(void *core, unsigned int q)
{
	return net_loop(core, q, false);
}

bool net_wait_ready(struct net_inst *in, unsigned int q, bool tx, unsigned int ms)
{
	uint64_t deadline = net_now_ms() + ms;
	struct vireo_loop *loop = net_loop(in, q, tx);

	for (;;) {
		if (atomic_exchange(&in->ready[tx][q], false))
			return true;
		if (net_now_ms() > deadline || !loop)
			return false;
		(void)vireo_core_loop_run_once(loop, 10);
	}
}

struct net_inst *net_peer_of(struct net_run *run, unsigned int i)
{
	return &run->inst[run->ninst == 1 ? 0 : 1 - i];
}

int net_inst_open(struct net_run *run, unsigned int i, char *err, size_t errlen)
{
	const struct cert_opts *o = run->opts;
	struct net_inst *in = &run->inst[i];
	const char *keys[2 * CERT_MAX_PARAMS], *values[2 * CERT_MAX_PARAMS];
	size_t n = 0;
	struct host_net_bind bind = {
		.core = in,
		.rx_ready = dev_rx_ready,
		.tx_ready = dev_tx_ready,
		.link_changed = dev_link_changed,
		.queue_loop = dev_queue_loop,
	};
	int rc;

	/* B takes A's parameters, with --peer-param's replacing or adding keys. */
	for (size_t k = 0; k < o->nparams; k++) {
		bool replaced = false;

		for (size_t p = 0; i == 1 && p < run->peer->n; p++)
			replaced |= !strcmp(run->peer->keys[p], o->keys[k]);
		if (!replaced) {
			keys[n] = o->keys[k];
			values[n++] = o->values[k];
		}
	}
	for (size_t p = 0; i == 1 && p < run->peer->n; p++) {
		keys[n] = run->peer->keys[p];
		values[n++] = run->peer->values[p];
	}
	in->run = run;
	in->index = i;
	snprintf(in->id, sizeof(in->id), "certify%u", i);
	for (unsigned int q = 0; q < NET_MAX_PAIRS; q++) {
		atomic_store(&in->ready[0][q], false);
		atomic_store(&in->ready[1][q], false);
	}
	rc = host_net_open(run->drv, in->id, keys, values, n, NET_MAX_PAIRS, &bind, &in->hn, err,
			   errlen);
	if (rc < 0)
		return rc;
	in->info = *host_net_info(in->hn);
	in->npairs = host_net_num_pairs(in->hn);
	return 0;
}

void net_inst_close(struct net_run *run, unsigned int i)
{
	struct net_inst *in = &run->inst[i];

	host_net_close(in->hn);
	in->hn = NULL;
}

void net_inst_free(struct net_inst *in)
{
	if (in->hn) {
		host_net_close(in->hn);
		in->hn = NULL;
	}
	for (unsigned int t = 0; t < 2; t++) {
		for (unsigned int q = 0; q < NET_MAX_PAIRS; q++) {
			if (in->loops[t][q])
				vireo_core_loop_free(in->loops[t][q]);
			in->loops[t][q] = NULL;
		}
	}
}
