// SPDX-License-Identifier: MIT
/*
 * Shared queue workers: a fixed set of threads, each pinned to one core, each serving
 * the queues given to it (see workers.h). A worker runs a loop of its own that
 * watches the epoll fd of each of its queues' loops; when one is readable it runs
 * that loop once without waiting. Starting and stopping a queue are deferred work on
 * the worker's loop, so a queue's loop is only ever run by the worker that owns it.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include <vireo/log.h>

#include "lib/internal.h"
#include "vhost-user/internal.h"
#include "vhost-user/workers.h"

#define TAG "vhost-user"

/* How often a worker with stopping queues looks whether their requests completed. */
#define VU_DRAIN_POLL_MS 10

struct vu_worker {
	unsigned int index;
	int cpu; /* pinned to; -1 if pinning failed */
	pthread_t thread;
	struct vireo_loop *loop;
	atomic_bool stop;
	unsigned int nqueues;	   /* queues given to it; under g_workers.lock */
	struct vu_queue *draining; /* stopping queues; the worker's own */
};

static struct {
	pthread_mutex_t lock;
	unsigned int count; /* configured; 0: a thread per queue */
	bool running;	    /* the threads exist */
	bool used;	    /* a queue started: the configuration is fixed */
	struct vu_worker *workers;
} g_workers = { .lock = PTHREAD_MUTEX_INITIALIZER };

unsigned int vu_workers_per_core(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	n = CPU_COUNT(&set);
	return n > 0 ? (unsigned int)n : 1;
}

int vu_workers_configure(unsigned int nworkers)
{
	int rc = 0;

	if (nworkers > VU_MAX_WORKERS)
		return -EINVAL;
	pthread_mutex_lock(&g_workers.lock);
	if (g_workers.used)
		rc = -EBUSY;
	else
		g_workers.count = nworkers;
	pthread_mutex_unlock(&g_workers.lock);
	return rc;
}

unsigned int vu_workers_count(void)
{
	unsigned int n;

	pthread_mutex_lock(&g_workers.lock);
	n = g_workers.count;
	pthread_mutex_unlock(&g_workers.lock);
	return n;
}

/* The @index-th CPU of the process's set, so workers spread over the allowed cores. */
static int vu_nth_cpu(unsigned int index)
{
	cpu_set_t set;
	unsigned int seen = 0, n;

	if (sched_getaffinity(0, sizeof(set), &set) < 0 || CPU_COUNT(&set) == 0)
		return -1;
	n = (unsigned int)CPU_COUNT(&set);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set) && seen++ == index % n)
			return cpu;
	return -1;
}

/* Stopping queues whose requests have all completed leave the worker. */
static void vu_worker_reap(struct vu_worker *w)
{
	struct vu_queue **pp = &w->draining;

	while (*pp) {
		struct vu_queue *q = *pp;

		if (!vu_queue_drained(q)) {
			pp = &q->next_draining;
			continue;
		}
		*pp = q->next_draining;
		q->next_draining = NULL;
		vireo_watch_remove(q->loop_watch);
		q->loop_watch = NULL;
		vu_queue_end(q);
		/* The control thread waits for this; after it, q is not ours. */
		vu_queue_start_done(q, 0);
	}
}

static void *vu_worker_main(void *arg)
{
	struct vu_worker *w = arg;

	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
			w->cpu = -1;
	}
	while (!atomic_load(&w->stop)) {
		if (vireo_core_loop_run_once(w->loop, w->draining ? VU_DRAIN_POLL_MS : -1) < 0)
			break;
		vu_worker_reap(w);
	}
	return NULL;
}

/* The queue's loop has something to do: run it once, without waiting. */
static void vu_worker_on_queue(void *arg, int fd, uint32_t events)
{
	struct vu_queue *q = arg;

	(void)fd;
	(void)events;
	vireo_core_loop_run_once(q->loop, 0);
}

static void vu_worker_begin(void *arg)
{
	struct vu_queue *q = arg;
	int rc = vu_queue_begin(q);

	if (rc == 0) {
		rc = vireo_loop_watch_fd(q->wk->loop, vireo_core_loop_fd(q->loop), VIREO_POLL_IN,
					 vu_worker_on_queue, q, &q->loop_watch);
		if (rc < 0) {
			atomic_store(&q->stopping, true);
			vu_queue_end(q);
		}
	}
	vu_queue_start_done(q, rc);
}

static void vu_worker_begin_stop(void *arg)
{
	struct vu_queue *q = arg;

	/* Served on as before until vu_worker_reap() finds it has completed everything. */
	q->next_draining = q->wk->draining;
	q->wk->draining = q;
}

static void vu_workers_free(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		vireo_core_loop_free(g_workers.workers[i].loop);
	free(g_workers.workers);
	g_workers.workers = NULL;
}

/* Creates the threads on first use. Called with g_workers.lock held. */
static int vu_workers_spawn(void)
{
	unsigned int n = g_workers.count, i;
	int rc = 0;

	g_workers.workers = calloc(n, sizeof(*g_workers.workers));
	if (!g_workers.workers)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct vu_worker *w = &g_workers.workers[i];

		w->index = i;
		w->cpu = vu_nth_cpu(i);
		rc = vireo_core_loop_new(&w->loop);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		vu_workers_free(i);
		return rc;
	}
	for (i = 0; i < n; i++) {
		rc = -pthread_create(&g_workers.workers[i].thread, NULL, vu_worker_main,
				     &g_workers.workers[i]);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		for (unsigned int j = 0; j < i; j++) {
			atomic_store(&g_workers.workers[j].stop, true);
			vireo_core_loop_stop(g_workers.workers[j].loop);
			pthread_join(g_workers.workers[j].thread, NULL);
		}
		vu_workers_free(n);
		return rc;
	}
	g_workers.running = true;
	vireo_log(VIREO_LOG_INFO, TAG, "%u shared queue workers", n);
	return 0;
}

/* The worker with the fewest queues (the first of them on a tie). */
static struct vu_worker *vu_workers_pick(void)
{
	struct vu_worker *best = &g_workers.workers[0];

	for (unsigned int i = 1; i < g_workers.count; i++)
		if (g_workers.workers[i].nqueues < best->nqueues)
			best = &g_workers.workers[i];
	return best;
}

int vu_workers_start_queue(struct vu_queue *q)
{
	struct vu_worker *w;
	int rc = 0;

	pthread_mutex_lock(&g_workers.lock);
	g_workers.used = true;
	if (!g_workers.running)
		rc = vu_workers_spawn();
	if (rc == 0) {
		w = vu_workers_pick();
		w->nqueues++;
	}
	pthread_mutex_unlock(&g_workers.lock);
	if (rc < 0)
		return rc;

	q->wk = w;
	rc = vireo_loop_defer(w->loop, vu_worker_begin, q);
	if (rc == 0)
		rc = vu_queue_wait_done(q);
	if (rc < 0) {
		pthread_mutex_lock(&g_workers.lock);
		w->nqueues--;
		pthread_mutex_unlock(&g_workers.lock);
		q->wk = NULL;
		return rc;
	}
	vireo_log(VIREO_LOG_DEBUG, TAG, "%s: queue %u on worker %u (cpu %d)", q->dev->path,
		  q->index, w->index, w->cpu);
	return 0;
}

void vu_workers_stop_queue(struct vu_queue *q)
{
	struct vu_worker *w = q->wk;

	q->start_done = false;
	if (vireo_loop_defer(w->loop, vu_worker_begin_stop, q) < 0)
		abort(); /* cannot reach the worker: the queue would never stop */
	vu_queue_wait_done(q);
	pthread_mutex_lock(&g_workers.lock);
	w->nqueues--;
	pthread_mutex_unlock(&g_workers.lock);
	q->wk = NULL;
}

void vu_workers_shutdown(void)
{
	pthread_mutex_lock(&g_workers.lock);
	if (g_workers.running) {
		for (unsigned int i = 0; i < g_workers.count; i++) {
			atomic_store(&g_workers.workers[i].stop, true);
			vireo_core_loop_stop(g_workers.workers[i].loop);
		}
		for (unsigned int i = 0; i < g_workers.count; i++)
			pthread_join(g_workers.workers[i].thread, NULL);
		vu_workers_free(g_workers.count);
		g_workers.running = false;
	}
	pthread_mutex_unlock(&g_workers.lock);
}
