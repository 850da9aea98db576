/* SPDX-License-Identifier: MIT */
/*
 * The state of one vhost-user device, shared by dev.c (socket and control thread),
 * dispatch.c (request handlers) and queue.c (queue workers). Nothing outside
 * vmm-core/vhost-user/ includes this.
 */
#ifndef VIREO_VHOST_USER_INTERNAL_H
#define VIREO_VHOST_USER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include "mem/guest_mem.h"
#include "vhost-user/inflight.h"
#include "vhost-user/dev.h"
#include "vhost-user/msg.h"
#include "virtqueue/split.h"

/* Most queues any device may have (virtio-blk num-queues is at most 64 here). */
#define VU_MAX_QUEUES 64

/* Ring sizes QEMU may ask for; the virtqueue layer checks the power of two. */
#define VU_MAX_RING 32768

struct vu_worker;

struct vu_queue {
	struct vu_dev *dev;
	unsigned int index;

	/* Set by the control thread while the worker is stopped. */
	unsigned int num;	   /* SET_VRING_NUM */
	struct vu_vring_addr addr; /* SET_VRING_ADDR */
	bool addr_set;
	uint32_t base;	    /* SET_VRING_BASE (packed: 32 bits); updated on stop */
	bool base_set;	    /* base came from the frontend or a stop, not the reset */
	int kick_fd;	    /* -1 until SET_VRING_KICK */
	bool kick_set;	    /* SET_VRING_KICK seen: the ring is started (spec) */
	bool enabled;	    /* SET_VRING_ENABLE */
	atomic_int call_fd; /* -1: no notifications; swapped by the control thread */
	int err_fd;

	struct vireo_vq vq;	       /* owned by the worker while it runs */
	struct vu_inflight_queue *ifq; /* in-flight tracking, if negotiated */
	uint64_t if_counter;	       /* last counter given to a head */
	uint16_t *resubmit;	       /* heads in flight when we last died */
	unsigned int nresubmit, resubmit_pos;
	uint16_t signalled_used; /* vq.used_idx at the last vu_queue_signal() */
	bool running;		 /* a worker owns vq */
	bool shared_worker;	 /* served by workers.c, not a thread of its own */
	pthread_t worker;
	struct vu_worker *wk;		/* the shared worker serving it */
	struct vireo_watch *loop_watch; /* its loop's fd on the shared worker's loop */
	struct vu_queue *next_draining; /* the shared worker's list of stopping queues */
	struct vireo_loop *loop;
	atomic_bool stopping;
	struct vireo_watch *kick_watch;
	int start_rc; /* the worker's start result, for the control thread */
	pthread_mutex_t start_lock;
	pthread_cond_t start_cond;
	bool start_done;
};

/* A region added with ADD_MEM_REG, and how many times (QEMU adds the same region once
 * per vhost device, and a multi-queue net device is several on one connection). */
struct vu_mem_ref {
	uint64_t gpa, size, uaddr;
	unsigned int refs;
};

struct vu_dev {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const struct vdev_ops *ops;
	void *model;

	int listen_fd;
	int conn_fd; /* the frontend; -1 when none */
	int stop_fd; /* eventfd: stop the control thread */
	pthread_t control;
	bool control_started;

	/* Session state: the control thread's. */
	uint64_t features;	    /* acked by SET_FEATURES */
	uint64_t protocol_features; /* acked by SET_PROTOCOL_FEATURES */
	bool features_set;
	bool owner;
	struct vireo_mem mem;
	/* Held by the control thread around changes of mem, and by vu_dev_mem_snapshot()
	 * (another thread's read); queue workers need no lock (see guest_mem.h). */
	pthread_mutex_t mem_lock;
	struct vu_mem_ref mem_refs[VIREO_MEM_MAX_REGIONS]; /* one per mapped region */
	unsigned int nmem_refs;
	struct vu_inflight_region inflight; /* GET/SET_INFLIGHT_FD */
	unsigned int nqueues;
	struct vu_queue queues[VU_MAX_QUEUES];

	/* Counters: any thread. */
	atomic_uint_fast64_t n_connections, n_messages, n_refused, n_kicks, n_calls;
	atomic_bool broken;
	atomic_bool connected;
	atomic_uint queues_running;
};

/* Protocol features every device gets; models add their own (CONFIG, INFLIGHT...). */
#define VU_BASE_PROTOCOL_FEATURES                                         \
	((1ull << VU_PROTOCOL_F_MQ) | (1ull << VU_PROTOCOL_F_REPLY_ACK) | \
	 (1ull << VU_PROTOCOL_F_RESET_DEVICE) | (1ull << VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS))

/* dispatch.c: handle one checked message; returns 0 or a negative errno (counted in
 * n_refused before any reply is sent). */
int vu_dispatch(struct vu_dev *dev, struct vu_msg *msg);

/* queue.c */
int vu_queue_init(struct vu_dev *dev, struct vu_queue *q, unsigned int index);
void vu_queue_fini(struct vu_queue *q);
int vu_queue_maybe_start(struct vu_queue *q);
void vu_queue_stop(struct vu_queue *q);
void vu_queue_reset(struct vu_queue *q);
/* queue.c, for whichever thread serves the queue: the model's start, the kick watch
 * and a first look at the ring; its result (or a shared worker's "stopped") handed to
 * the control thread waiting in vu_queue_wait_done(); whether
 * a stopping queue has completed every request; the watch removed and the model's stop. */
int vu_queue_begin(struct vu_queue *q);
void vu_queue_start_done(struct vu_queue *q, int rc);
int vu_queue_wait_done(struct vu_queue *q); /* waits for vu_queue_start_done(): its rc */
bool vu_queue_drained(struct vu_queue *q);
void vu_queue_end(struct vu_queue *q);
/* Runs fn on the queue's worker (or here, if it has none) and waits for it. */
void vu_queue_sync(struct vu_queue *q, void (*fn)(struct vu_queue *q, void *arg), void *arg);
void vu_queues_stop_all(struct vu_dev *dev, bool *was_running);
void vu_queues_restart(struct vu_dev *dev, const bool *was_running);

/* queue.c: point every queue at its part of dev->inflight (or at none). */
void vu_queues_attach_inflight(struct vu_dev *dev);

/* dev.c: forget the session (disconnect or RESET_OWNER/RESET_DEVICE). */
void vu_dev_reset_session(struct vu_dev *dev);

#endif /* VIREO_VHOST_USER_INTERNAL_H */
