/* SPDX-License-Identifier: MIT */
/*
 * The core's event loop: one per worker thread, over epoll. Watches fds, runs timers
 * (one timerfd each) and deferred work posted from any thread. Queue workers, the
 * vhost-user sessions and the drivers (through the SDK's loop calls) all run on it,
 * so no driver needs a poll thread of its own.
 */
#ifndef VIREO_LOOP_LOOP_H
#define VIREO_LOOP_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct vl_loop;
struct vl_watch;
struct vl_timer;

/* Event bits for fd watches (the epoll ones, named). */
#define VL_IN  0x001u
#define VL_OUT 0x004u
#define VL_ERR 0x008u
#define VL_HUP 0x010u

/** Called on the loop's thread when a watched fd has events (VL_* bits). */
typedef void (*vl_fd_cb)(void *arg, int fd, uint32_t events);
/** Called on the loop's thread when a timer expires (expirations since the last call). */
typedef void (*vl_timer_cb)(void *arg, uint64_t expirations);
/** Deferred work, run once on the loop's thread. */
typedef void (*vl_work_cb)(void *arg);

/**
 * vl_loop_new() - Create a loop.
 * Return: 0, or a negative errno (epoll_create1/eventfd failures, -ENOMEM).
 */
int vl_loop_new(struct vl_loop **out);

/**
 * vl_loop_free() - Free a loop that is not running, after its owner removed every
 * watch and timer. Deferred work never run is dropped.
 */
void vl_loop_free(struct vl_loop *loop);

/**
 * vl_loop_add_fd() - Watch @fd for @events (level-triggered).
 * Return: 0 with *@out set, or a negative errno (-EEXIST: fd already watched).
 * Context: the loop's thread, or any thread while the loop is not running.
 */
int vl_loop_add_fd(struct vl_loop *loop, int fd, uint32_t events, vl_fd_cb cb, void *arg,
		   struct vl_watch **out);

/** vl_watch_modify() - Change the events of a watch. Return: 0 or a negative errno. */
int vl_watch_modify(struct vl_watch *w, uint32_t events);

/**
 * vl_watch_remove() - Stop watching; safe from inside any callback of the same loop
 * (the watch's callback is not called again, even for events already collected).
 */
void vl_watch_remove(struct vl_watch *w);

/**
 * vl_loop_add_timer() - Run @cb after @first_ns, then every @period_ns (0: once).
 * Return: 0 with *@out set, or a negative errno (-EINVAL: first_ns is 0).
 * Context: as vl_loop_add_fd().
 */
int vl_loop_add_timer(struct vl_loop *loop, uint64_t first_ns, uint64_t period_ns, vl_timer_cb cb,
		      void *arg, struct vl_timer **out);

/** vl_timer_remove() - Cancel and free a timer; safe from inside callbacks. */
void vl_timer_remove(struct vl_timer *t);

/**
 * vl_loop_defer() - Run @cb(@arg) once on the loop's thread, soon.
 * Return: 0, or -ENOMEM.
 * Context: any thread (this is how other threads hand work to a loop).
 */
int vl_loop_defer(struct vl_loop *loop, vl_work_cb cb, void *arg);

/**
 * vl_loop_run() - Dispatch events until vl_loop_stop().
 * Return: 0 after a stop, or the negative errno of a failed epoll_wait.
 * Context: the thread that owns the loop from now on.
 */
int vl_loop_run(struct vl_loop *loop);

/**
 * vl_loop_run_once() - Wait up to @timeout_ms (-1: forever) and dispatch one batch.
 * Return: the number of callbacks run (>= 0), or a negative errno.
 */
int vl_loop_run_once(struct vl_loop *loop, int timeout_ms);

/** vl_loop_stop() - Make vl_loop_run() return. Context: any thread. */
void vl_loop_stop(struct vl_loop *loop);

/** vl_loop_in_thread() - Whether the caller is the thread running the loop. */
bool vl_loop_in_thread(const struct vl_loop *loop);

#endif /* VIREO_LOOP_LOOP_H */
