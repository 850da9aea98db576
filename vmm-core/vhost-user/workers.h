/* SPDX-License-Identifier: MIT */
/*
 * Who runs the queues: by default a thread per running queue; or a fixed set of
 * worker threads, one per core, each serving the queues given to it.
 *
 * Every queue keeps its own struct vireo_loop either way, so device models and
 * drivers see no difference: in the shared mode a worker watches the epoll fd of each
 * of its queues' loops and runs a loop when it has something to do. What changes is
 * the number of threads (a host with 40 queues and 4 cores runs 4 threads, not 40)
 * and where they run (each worker is pinned to one core of the process's CPU set).
 */
#ifndef VIREO_VHOST_USER_WORKERS_H
#define VIREO_VHOST_USER_WORKERS_H

#include <stdbool.h>

struct vu_queue;

/**
 * vu_workers_configure() - Choose the threading for every device of the process.
 * @nworkers: 0 for a thread per queue (the default); otherwise the number of shared
 *	workers. vu_workers_per_core() gives the CPU count.
 * Return: 0, -EINVAL (over VU_MAX_WORKERS), or -EBUSY once a queue has started.
 * Context: start-up, before any device starts.
 */
int vu_workers_configure(unsigned int nworkers);

/** Most shared workers; more cores than this share workers. */
#define VU_MAX_WORKERS 256

/** vu_workers_per_core() - The number of CPUs this process may run on (at least 1). */
unsigned int vu_workers_per_core(void);

/** vu_workers_count() - Shared workers configured; 0 means a thread per queue. */
unsigned int vu_workers_count(void);

/**
 * vu_workers_shutdown() - Stop and join the shared workers. Every queue must be
 * stopped (every device stopped) first.
 */
void vu_workers_shutdown(void);

/* ---- for queue.c ---- */

/**
 * vu_workers_start_queue() - Give a set-up queue to the least loaded worker, which
 * runs the model's queue_start, watches the kick fd and serves the ring from then on.
 * Return: 0 (the queue runs), or the start's negative errno (it does not).
 * Context: the device's control thread.
 */
int vu_workers_start_queue(struct vu_queue *q);

/**
 * vu_workers_stop_queue() - Stop serving @q once the model has completed every
 * request it holds (queue_idle), then run queue_stop; waits for all of it.
 * Context: the device's control thread.
 */
void vu_workers_stop_queue(struct vu_queue *q);

#endif /* VIREO_VHOST_USER_WORKERS_H */
