// SPDX-License-Identifier: MIT
/*
 * The event loop every core thread runs, over epoll: fd watches, timers (a timerfd
 * each) and deferred work posted from any thread. Drivers reach it through
 * <vireo/loop.h>; the core creates and runs loops through lib/internal.h. Watches and
 * timers removed from inside a callback are only marked dead and freed after the
 * current batch, so an event already collected for them is skipped instead of
 * touching freed memory.
 */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define VL_BATCH 64

enum vl_kind { VL_KIND_FD, VL_KIND_TIMER, VL_KIND_WAKE };

/* What an epoll event points at: a watch, a timer, or the loop's wake eventfd. */
struct vl_source {
	enum vl_kind kind;
	bool dead;
	struct vl_source *next_dead;
};

struct vireo_watch {
	struct vl_source src;
	struct vireo_loop *loop;
	int fd;
	vireo_watch_cb_t cb;
	void *arg;
};

struct vireo_timer {
	struct vl_source src;
	struct vireo_loop *loop;
	int tfd;
	vireo_timer_cb_t cb;
	void *arg;
};

struct vl_work {
	vireo_work_cb_t cb;
	void *arg;
	struct vl_work *next;
};

struct vireo_loop {
	int epfd;
	int wake_fd;
	struct vl_source wake_src;
	atomic_bool stop;
	pthread_t owner;
	atomic_bool running;
	struct vl_source *dead; /* freed after the batch */
	pthread_mutex_t work_lock;
	struct vl_work *work_head; /* protects: work_head, work_tail */
	struct vl_work *work_tail;
};

static void vl_wake(struct vireo_loop *loop)
{
	uint64_t one = 1;

	/* Can only fail if the counter is full, and then the loop is awake anyway. */
	(void)!write(loop->wake_fd, &one, sizeof(one));
}

int vireo_core_loop_new(struct vireo_loop **out)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct vireo_loop *loop = calloc(1, sizeof(*loop));
	int rc;

	if (!loop)
		return -ENOMEM;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		rc = -errno;
		goto out_free_loop;
	}
	loop->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->wake_fd < 0) {
		rc = -errno;
		goto out_close_epoll;
	}
	loop->wake_src.kind = VL_KIND_WAKE;
	ev.data.ptr = &loop->wake_src;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wake_fd, &ev) < 0) {
		rc = -errno;
		goto out_close_wake;
	}
	pthread_mutex_init(&loop->work_lock, NULL);
	*out = loop;
	return 0;

out_close_wake:
	close(loop->wake_fd);
out_close_epoll:
	close(loop->epfd);
out_free_loop:
	free(loop);
	return rc;
}

static void vl_free_dead(struct vireo_loop *loop)
{
	while (loop->dead) {
		struct vl_source *s = loop->dead;

		loop->dead = s->next_dead;
		free(s); /* src is the first member of both watch and timer */
	}
}

void vireo_core_loop_free(struct vireo_loop *loop)
{
	struct vl_work *w;

	if (!loop)
		return;
	vl_free_dead(loop);
	while ((w = loop->work_head)) {
		loop->work_head = w->next;
		free(w);
	}
	pthread_mutex_destroy(&loop->work_lock);
	close(loop->wake_fd);
	close(loop->epfd);
	free(loop);
}

int vireo_loop_watch_fd(struct vireo_loop *loop, int fd, uint32_t events, vireo_watch_cb_t cb,
			void *arg, struct vireo_watch **out)
{
	struct vireo_watch *w = calloc(1, sizeof(*w));
	struct epoll_event ev = { .events = events };

	if (!w)
		return -ENOMEM;
	w->src.kind = VL_KIND_FD;
	w->loop = loop;
	w->fd = fd;
	w->cb = cb;
	w->arg = arg;
	ev.data.ptr = &w->src;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int rc = -errno;

		free(w);
		return rc;
	}
	*out = w;
	return 0;
}

int vireo_watch_set_events(struct vireo_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = &w->src };

	return epoll_ctl(w->loop->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0 ? -errno : 0;
}

static void vl_bury(struct vireo_loop *loop, struct vl_source *s)
{
	s->dead = true;
	s->next_dead = loop->dead;
	loop->dead = s;
	/* Outside a dispatch, nothing can still refer to it. */
	if (!atomic_load(&loop->running))
		vl_free_dead(loop);
}

void vireo_watch_remove(struct vireo_watch *w)
{
	if (!w)
		return;
	/* The fd may already be closed by its owner; the watch goes either way. */
	epoll_ctl(w->loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	vl_bury(w->loop, &w->src);
}

int vireo_loop_add_timer(struct vireo_loop *loop, uint64_t first_ns, uint64_t period_ns,
			 vireo_timer_cb_t cb, void *arg, struct vireo_timer **out)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)(first_ns / 1000000000u),
			      .tv_nsec = (long)(first_ns % 1000000000u) },
		.it_interval = { .tv_sec = (time_t)(period_ns / 1000000000u),
				 .tv_nsec = (long)(period_ns % 1000000000u) },
	};
	struct epoll_event ev = { .events = EPOLLIN };
	struct vireo_timer *t;
	int rc;

	if (first_ns == 0)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->src.kind = VL_KIND_TIMER;
	t->loop = loop;
	t->cb = cb;
	t->arg = arg;
	t->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (t->tfd < 0) {
		rc = -errno;
		goto out_free_timer;
	}
	if (timerfd_settime(t->tfd, 0, &its, NULL) < 0) {
		rc = -errno;
		goto out_close_tfd;
	}
	ev.data.ptr = &t->src;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, t->tfd, &ev) < 0) {
		rc = -errno;
		goto out_close_tfd;
	}
	*out = t;
	return 0;

out_close_tfd:
	close(t->tfd);
out_free_timer:
	free(t);
	return rc;
}

void vireo_timer_remove(struct vireo_timer *t)
{
	if (!t)
		return;
	epoll_ctl(t->loop->epfd, EPOLL_CTL_DEL, t->tfd, NULL);
	close(t->tfd);
	t->tfd = -1;
	vl_bury(t->loop, &t->src);
}

int vireo_loop_defer(struct vireo_loop *loop, vireo_work_cb_t cb, void *arg)
{
	struct vl_work *w = malloc(sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->cb = cb;
	w->arg = arg;
	w->next = NULL;
	pthread_mutex_lock(&loop->work_lock);
	if (loop->work_tail)
		loop->work_tail->next = w;
	else
		loop->work_head = w;
	loop->work_tail = w;
	pthread_mutex_unlock(&loop->work_lock);
	vl_wake(loop);
	return 0;
}

/* Runs the deferred work queued so far; work queued by these callbacks waits a turn. */
static int vl_run_work(struct vireo_loop *loop)
{
	struct vl_work *w, *next;
	uint64_t count;
	int n = 0;

	(void)!read(loop->wake_fd, &count, sizeof(count));
	pthread_mutex_lock(&loop->work_lock);
	w = loop->work_head;
	loop->work_head = loop->work_tail = NULL;
	pthread_mutex_unlock(&loop->work_lock);
	for (; w; w = next) {
		next = w->next;
		w->cb(w->arg);
		free(w);
		n++;
	}
	return n;
}

static int vl_dispatch(struct vireo_loop *loop, struct epoll_event *evs, int nev)
{
	int ran = 0;

	for (int i = 0; i < nev; i++) {
		struct vl_source *s = evs[i].data.ptr;

		if (s->dead)
			continue;
		switch (s->kind) {
		case VL_KIND_WAKE:
			ran += vl_run_work(loop);
			break;
		case VL_KIND_FD: {
			struct vireo_watch *w = (struct vireo_watch *)s;

			w->cb(w->arg, w->fd, evs[i].events);
			ran++;
			break;
		}
		case VL_KIND_TIMER: {
			struct vireo_timer *t = (struct vireo_timer *)s;
			uint64_t exp = 0;

			if (read(t->tfd, &exp, sizeof(exp)) == sizeof(exp) && exp) {
				t->cb(t->arg, exp);
				ran++;
			}
			break;
		}
		}
	}
	return ran;
}

int vireo_core_loop_run_once(struct vireo_loop *loop, int timeout_ms)
{
	struct epoll_event evs[VL_BATCH];
	int nev, ran;

	loop->owner = pthread_self();
	atomic_store(&loop->running, true);
	nev = epoll_wait(loop->epfd, evs, VL_BATCH, timeout_ms);
	if (nev < 0) {
		int rc = errno == EINTR ? 0 : -errno;

		atomic_store(&loop->running, false);
		return rc;
	}
	ran = vl_dispatch(loop, evs, nev);
	atomic_store(&loop->running, false);
	vl_free_dead(loop);
	return ran;
}

int vireo_core_loop_run(struct vireo_loop *loop)
{
	int rc;

	while (!atomic_load(&loop->stop)) {
		rc = vireo_core_loop_run_once(loop, -1);
		if (rc < 0)
			return rc;
	}
	atomic_store(&loop->stop, false);
	return 0;
}

int vireo_core_loop_fd(const struct vireo_loop *loop)
{
	return loop->epfd;
}

void vireo_core_loop_stop(struct vireo_loop *loop)
{
	atomic_store(&loop->stop, true);
	vl_wake(loop);
}

bool vireo_core_loop_in_thread(const struct vireo_loop *loop)
{
	return atomic_load(&loop->running) && pthread_equal(loop->owner, pthread_self());
}
