// SPDX-License-Identifier: MIT
/*
 * Queue workers: starting a queue once the frontend has given it everything the
 * spec requires, the thread that serves its kicks (its own, or a shared one from
 * workers.c), handing fd changes to a running worker, and stopping it only after the
 * model has completed every request.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vireo/log.h>

#include "lib/internal.h"
#include "vhost-user/internal.h"
#include "vhost-user/workers.h"

#define TAG "vhost-user"

int vu_queue_init(struct vu_dev *dev, struct vu_queue *q, unsigned int index)
{
	memset(q, 0, sizeof(*q));
	q->dev = dev;
	q->index = index;
	q->kick_fd = -1;
	q->err_fd = -1;
	atomic_init(&q->call_fd, -1);
	pthread_mutex_init(&q->start_lock, NULL);
	pthread_cond_init(&q->start_cond, NULL);
	/*
	 * The loop outlives connections: drivers add their fds to it when their queue
	 * starts, which is before any frontend connects, and keep them across reconnects.
	 */
	return vireo_core_loop_new(&q->loop);
}

void vu_queue_fini(struct vu_queue *q)
{
	vireo_vq_fini(&q->vq);
	free(q->resubmit);
	vireo_core_loop_free(q->loop);
	q->loop = NULL;
	pthread_mutex_destroy(&q->start_lock);
	pthread_cond_destroy(&q->start_cond);
}

struct vireo_vq *vu_queue_vq(struct vu_queue *q)
{
	return &q->vq;
}

unsigned int vu_queue_index(const struct vu_queue *q)
{
	return q->index;
}

struct vireo_loop *vu_queue_loop(struct vu_queue *q)
{
	return q->loop;
}

struct vu_dev *vu_queue_dev(struct vu_queue *q)
{
	return q->dev;
}

int vu_queue_pop(struct vu_queue *q, struct vireo_vq_chain *chain, enum vireo_vq_err *why)
{
	int rc;

	if (q->resubmit_pos < q->nresubmit) {
		uint16_t head = q->resubmit[q->resubmit_pos++];

		rc = vireo_vq_chain_walk(&q->vq, head, chain, why);
		return rc < 0 ? rc : 1;
	}
	rc = vireo_vq_pop(&q->vq, chain, why);
	if (rc == 1 && q->ifq && chain->head < q->num) {
		q->ifq->desc[chain->head].counter = ++q->if_counter;
		q->ifq->desc[chain->head].inflight = 1;
	}
	return rc;
}

int vu_queue_push(struct vu_queue *q, uint16_t head, uint32_t len)
{
	struct vu_inflight_queue *ifq = head < q->num ? q->ifq : NULL;
	int rc;

	/* The spec's order: link the batch, publish it, then clear and record it. */
	if (ifq) {
		ifq->desc[head].next = ifq->last_batch_head;
		ifq->last_batch_head = head;
	}
	rc = vireo_vq_push(&q->vq, head, len, NULL);
	if (rc == 0 && ifq) {
		ifq->desc[head].inflight = 0;
		ifq->used_idx = q->vq.used_idx;
	}
	return rc;
}

void vu_queues_attach_inflight(struct vu_dev *dev)
{
	for (unsigned int i = 0; i < dev->nqueues; i++)
		dev->queues[i].ifq = vu_inflight_queue_at(&dev->inflight, i);
}

/* After the ring is set up: take stock of what a previous vireod left in flight. */
static int vu_queue_recover(struct vu_queue *q)
{
	free(q->resubmit);
	q->resubmit = NULL;
	q->nresubmit = q->resubmit_pos = 0;
	if (!q->ifq)
		return 0;
	/* The in-flight region has another layout for packed rings: not implemented. */
	if (q->vq.packed) {
		vireo_log(VIREO_LOG_WARN, TAG,
			  "%s: queue %u: in-flight tracking of packed rings is not supported",
			  q->dev->path, q->index);
		q->ifq = NULL;
		return 0;
	}
	if (q->dev->inflight.queue_size != q->num) {
		vireo_log(VIREO_LOG_WARN, TAG,
			  "%s: queue %u: in-flight region is for %u entries, "
			  "ring has %u: not tracked",
			  q->dev->path, q->index, q->dev->inflight.queue_size, q->num);
		q->ifq = NULL;
		return 0;
	}
	q->resubmit = calloc(q->num, sizeof(*q->resubmit));
	if (!q->resubmit)
		return -ENOMEM;
	q->nresubmit = vu_inflight_recover(q->ifq, (uint16_t)q->num, q->vq.used_idx, q->resubmit,
					   &q->if_counter);
	if (q->nresubmit) {
		vireo_log(VIREO_LOG_NOTICE, TAG,
			  "%s: queue %u: resubmitting %u requests that were "
			  "in flight",
			  q->dev->path, q->index, q->nresubmit);
		/* Those sit between used->idx and the next slot to take; skip them there. */
		return vireo_vq_set_base(&q->vq, (uint16_t)(q->vq.used_idx + q->nresubmit));
	}
	return 0;
}

void vu_queue_signal(struct vu_queue *q)
{
	uint64_t one = 1;
	int fd;

	/* Nothing pushed since the last look: nothing to tell (and no spurious call). */
	if (q->vq.used_idx == q->signalled_used)
		return;
	q->signalled_used = q->vq.used_idx;
	if (vireo_vq_should_notify(&q->vq) != 1)
		return;
	fd = atomic_load(&q->call_fd);
	if (fd < 0)
		return;
	/* Counted first, so that whoever the call wakes sees it in the stats. */
	atomic_fetch_add(&q->dev->n_calls, 1);
	/* EAGAIN means the counter is already non-zero: the guest will be told. */
	(void)!write(fd, &one, sizeof(one));
}

void vu_queue_broken(struct vu_queue *q, const char *why)
{
	if (!atomic_exchange(&q->dev->broken, true))
		vireo_log(VIREO_LOG_ERR, TAG, "%s: queue %u broken (%s): device needs reset",
			  q->dev->path, q->index, why);
}

static void vu_on_kick(void *arg, int fd, uint32_t events)
{
	struct vu_queue *q = arg;
	uint64_t count;

	(void)events;
	if (read(fd, &count, sizeof(count)) < 0 && errno == EAGAIN)
		return;
	atomic_fetch_add(&q->dev->n_kicks, 1);
	if (vireo_vq_is_broken(&q->vq, NULL))
		return;
	q->dev->ops->queue_kick(q->dev->model, q);
}

static void vu_wake(void *arg)
{
	(void)arg; /* only here to make epoll_wait return */
}

static bool vu_queue_idle(struct vu_queue *q)
{
	const struct vdev_ops *ops = q->dev->ops;

	return !ops->queue_idle || ops->queue_idle(q->dev->model, q);
}

void vu_queue_start_done(struct vu_queue *q, int rc)
{
	pthread_mutex_lock(&q->start_lock);
	q->start_rc = rc;
	q->start_done = true;
	pthread_cond_broadcast(&q->start_cond);
	pthread_mutex_unlock(&q->start_lock);
}

int vu_queue_begin(struct vu_queue *q)
{
	const struct vdev_ops *ops = q->dev->ops;
	int rc = 0;

	if (ops->queue_start)
		rc = ops->queue_start(q->dev->model, q);
	if (rc < 0)
		return rc;
	rc = vireo_loop_watch_fd(q->loop, q->kick_fd, VIREO_POLL_IN, vu_on_kick, q, &q->kick_watch);
	if (rc < 0) {
		/* The model started: it gets its stop, or its driver's queue stays open. */
		if (ops->queue_stop)
			ops->queue_stop(q->dev->model, q);
		return rc;
	}
	/* Buffers made available before we watched the kick fd get no kick of their own. */
	ops->queue_kick(q->dev->model, q);
	return 0;
}

int vu_queue_wait_done(struct vu_queue *q)
{
	int rc;

	pthread_mutex_lock(&q->start_lock);
	while (!q->start_done)
		pthread_cond_wait(&q->start_cond, &q->start_lock);
	rc = q->start_rc;
	pthread_mutex_unlock(&q->start_lock);
	return rc;
}

bool vu_queue_drained(struct vu_queue *q)
{
	return atomic_load(&q->stopping) && vu_queue_idle(q);
}

void vu_queue_end(struct vu_queue *q)
{
	const struct vdev_ops *ops = q->dev->ops;

	vireo_watch_remove(q->kick_watch);
	q->kick_watch = NULL;
	if (ops->queue_stop)
		ops->queue_stop(q->dev->model, q);
}

/* A thread of the queue's own (the default threading). */
static void *vu_worker(void *arg)
{
	struct vu_queue *q = arg;
	int rc = vu_queue_begin(q);

	vu_queue_start_done(q, rc);
	if (rc < 0)
		return NULL;
	while (!vu_queue_drained(q))
		if (vireo_core_loop_run_once(q->loop, atomic_load(&q->stopping) ? 10 : -1) < 0)
			break;
	vu_queue_end(q);
	return NULL;
}

/* Translates one ring part; it must lie whole inside one region. */
static void *vu_ring_ptr(struct vu_dev *dev, uint64_t uva, uint64_t len)
{
	uint64_t got = len;
	void *p = vireo_mem_uva_to_host(&dev->mem, uva, &got);

	return p && got == len ? p : NULL;
}

int vu_queue_maybe_start(struct vu_queue *q)
{
	struct vu_dev *dev = q->dev;
	enum vireo_vq_err why;
	void *desc, *avail, *used;
	int rc;

	if (q->running || !q->kick_set || !q->enabled || !q->addr_set || !q->num ||
	    q->kick_fd < 0 || dev->mem.nregions == 0)
		return 0;

	if (dev->features & (1ull << VIREO_VIRTIO_F_RING_PACKED)) {
		/* Packed: the descriptor ring, the driver area and the device area. */
		desc = vu_ring_ptr(dev, q->addr.desc_uaddr, VIREO_VRING_PACKED_DESC_BYTES(q->num));
		avail = vu_ring_ptr(dev, q->addr.avail_uaddr, VIREO_VRING_PACKED_EVENT_BYTES);
		used = vu_ring_ptr(dev, q->addr.used_uaddr, VIREO_VRING_PACKED_EVENT_BYTES);
	} else {
		desc = vu_ring_ptr(dev, q->addr.desc_uaddr, VIREO_VRING_DESC_BYTES(q->num));
		avail = vu_ring_ptr(dev, q->addr.avail_uaddr, VIREO_VRING_AVAIL_BYTES(q->num));
		used = vu_ring_ptr(dev, q->addr.used_uaddr, VIREO_VRING_USED_BYTES(q->num));
	}
	if (!desc || !avail || !used) {
		vireo_log(VIREO_LOG_ERR, TAG, "%s: queue %u: ring addresses outside guest memory",
			  dev->path, q->index);
		return -EFAULT;
	}
	vireo_vq_fini(&q->vq);
	vireo_vq_init(&q->vq, &dev->mem, q->index);
	rc = vireo_vq_setup(&q->vq, q->num, desc, avail, used, dev->features, &why);
	q->signalled_used = q->vq.used_idx;
	/* A packed ring with no base given starts at slot 0 with wrap counters 1, not 0. */
	if (rc == 0 && (q->base_set || !q->vq.packed))
		rc = vireo_vq_set_base(&q->vq, q->base);
	if (rc < 0) {
		vireo_log(VIREO_LOG_ERR, TAG, "%s: queue %u: cannot set up the ring: %s", dev->path,
			  q->index, vireo_vq_err_str(why));
		return rc;
	}
	rc = vu_queue_recover(q);
	if (rc < 0)
		return rc;

	atomic_store(&q->stopping, false);
	q->start_done = false;
	if (vu_workers_count()) {
		rc = vu_workers_start_queue(q);
		if (rc < 0)
			return rc;
		q->shared_worker = true;
	} else {
		rc = -pthread_create(&q->worker, NULL, vu_worker, q);
		if (rc < 0)
			return rc;
		rc = vu_queue_wait_done(q);
		if (rc < 0) {
			pthread_join(q->worker, NULL);
			return rc;
		}
		q->shared_worker = false;
	}
	q->running = true;
	atomic_fetch_add(&dev->queues_running, 1);
	return 0;
}

struct vu_sync {
	struct vu_queue *q;
	void (*fn)(struct vu_queue *q, void *arg);
	void *arg;
	bool done;
};

static void vu_sync_work(void *arg)
{
	struct vu_sync *s = arg;

	s->fn(s->q, s->arg);
	pthread_mutex_lock(&s->q->start_lock);
	s->done = true;
	pthread_cond_broadcast(&s->q->start_cond);
	pthread_mutex_unlock(&s->q->start_lock);
}

void vu_queue_sync(struct vu_queue *q, void (*fn)(struct vu_queue *q, void *arg), void *arg)
{
	struct vu_sync s = { .q = q, .fn = fn, .arg = arg };

	if (!q->running || vireo_loop_defer(q->loop, vu_sync_work, &s) < 0) {
		/* Stopped (or no memory to post): the worker cannot be touching q. */
		if (q->running)
			vu_queue_stop(q);
		fn(q, arg);
		return;
	}
	pthread_mutex_lock(&q->start_lock);
	while (!s.done)
		pthread_cond_wait(&q->start_cond, &q->start_lock);
	pthread_mutex_unlock(&q->start_lock);
}

void vu_queue_stop(struct vu_queue *q)
{
	if (!q->running)
		return;
	atomic_store(&q->stopping, true);
	if (q->shared_worker) {
		vu_workers_stop_queue(q);
	} else {
		if (vireo_loop_defer(q->loop, vu_wake, NULL) < 0)
			abort(); /* cannot wake the worker: it would never be joined */
		pthread_join(q->worker, NULL);
	}
	q->running = false;
	atomic_fetch_sub(&q->dev->queues_running, 1);
	q->base = vireo_vq_get_base(&q->vq);
	q->base_set = true;
}

static void vu_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void vu_queue_reset(struct vu_queue *q)
{
	int call;

	vu_queue_stop(q);
	vu_close_fd(&q->kick_fd);
	vu_close_fd(&q->err_fd);
	call = atomic_exchange(&q->call_fd, -1);
	vu_close_fd(&call);
	q->num = 0;
	q->addr_set = false;
	q->kick_set = false;
	q->enabled = false;
	q->base = 0;
	q->base_set = false;
	memset(&q->addr, 0, sizeof(q->addr));
	vireo_vq_fini(&q->vq);
	vireo_vq_init(&q->vq, &q->dev->mem, q->index);
	free(q->resubmit);
	q->resubmit = NULL;
	q->nresubmit = q->resubmit_pos = 0;
}

void vu_queues_stop_all(struct vu_dev *dev, bool *was_running)
{
	for (unsigned int i = 0; i < dev->nqueues; i++) {
		was_running[i] = dev->queues[i].running;
		vu_queue_stop(&dev->queues[i]);
	}
}

void vu_queues_restart(struct vu_dev *dev, const bool *was_running)
{
	for (unsigned int i = 0; i < dev->nqueues; i++)
		if (was_running[i] && vu_queue_maybe_start(&dev->queues[i]) < 0)
			vireo_log(VIREO_LOG_ERR, TAG, "%s: queue %u did not restart", dev->path, i);
}
