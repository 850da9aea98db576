/* SPDX-License-Identifier: MIT */
/**
 * @file
 * @brief Vireo SDK: the core's event loops, for drivers' fds, timers and deferred work.
 *
 * Audience: driver authors. Every core thread that calls a driver runs an event loop;
 * a driver adds its file descriptors (an io_uring's eventfd, a TAP fd, a libusb fd, a
 * VFIO MSI-X eventfd) and timers to the loop of the queue they serve, and its callbacks
 * then run on that queue's thread, the same that calls its submit op. So a driver needs
 * no thread of its own, and its completions need no locks against its submissions.
 *
 * A driver gets a loop from its class: vireo_blk_queue_loop() for a block queue. The
 * loop belongs to the core; the watches and timers a driver adds are the driver's to
 * remove, at the latest in its queue_stop op.
 */
#ifndef VIREO_LOOP_H
#define VIREO_LOOP_H

#include <vireo/common.h>

VIREO_BEGIN_DECLS

/** A core event loop (one per core thread). */
struct vireo_loop;
/** An fd watched by a loop. */
struct vireo_watch;
/** A timer of a loop. */
struct vireo_timer;

/** The fd is readable. */
#define VIREO_POLL_IN 0x001u
/** The fd is writable. */
#define VIREO_POLL_OUT 0x004u
/** An error condition (always reported). */
#define VIREO_POLL_ERR 0x008u
/** The peer hung up (always reported). */
#define VIREO_POLL_HUP 0x010u

/**
 * @brief Called when a watched fd is ready.
 * @param arg the pointer given with the watch.
 * @param fd the watched fd.
 * @param events VIREO_POLL_* bits that are ready.
 */
typedef void (*vireo_watch_cb_t)(void *arg, int fd, uint32_t events);

/**
 * @brief Called when a timer expires.
 * @param arg the pointer given with the timer.
 * @param expirations how many periods passed since the last call (>= 1).
 */
typedef void (*vireo_timer_cb_t)(void *arg, uint64_t expirations);

/**
 * @brief Deferred work, run once.
 * @param arg the pointer given with the work.
 */
typedef void (*vireo_work_cb_t)(void *arg);

/**
 * @brief Watch @p fd for @p events, level-triggered.
 *
 * @param loop the loop (from the driver's class, e.g. vireo_blk_queue_loop()).
 * @param fd an fd the driver owns; it stays the driver's to close, after removing the
 *        watch.
 * @param events VIREO_POLL_IN and/or VIREO_POLL_OUT.
 * @param cb called on the loop's thread while the fd is ready.
 * @param arg passed to @p cb.
 * @param out the new watch.
 *
 * @return 0 on success.
 * @return -EEXIST if @p fd is already watched by this loop.
 * @return -ENOMEM, or another negative errno from epoll_ctl().
 *
 * Context: the loop's thread, or a control-thread op (queue_start) while the loop's
 * thread is not running the driver's queue.
 */
VIREO_API int vireo_loop_watch_fd(struct vireo_loop *loop, int fd, uint32_t events,
				  vireo_watch_cb_t cb, void *arg, struct vireo_watch **out);

/**
 * @brief Change the events a watch waits for (0: pause it).
 *
 * @param w the watch.
 * @param events VIREO_POLL_* bits.
 *
 * @return 0 on success, or a negative errno from epoll_ctl().
 *
 * Context: the loop's thread.
 */
VIREO_API int vireo_watch_set_events(struct vireo_watch *w, uint32_t events);

/**
 * @brief Stop watching and free the watch. NULL is ignored.
 *
 * Safe inside any callback of the same loop: the watch's callback is not called again,
 * even for an event already collected.
 *
 * @param w the watch.
 *
 * Context: the loop's thread, or the op that added it (queue_stop) when the loop's
 * thread no longer runs the queue.
 */
VIREO_API void vireo_watch_remove(struct vireo_watch *w);

/**
 * @brief Call @p cb after @p first_ns nanoseconds, then every @p period_ns.
 *
 * @param loop the loop.
 * @param first_ns delay before the first call; must not be 0.
 * @param period_ns interval after that; 0 for a one-shot timer (remove it anyway).
 * @param cb called on the loop's thread.
 * @param arg passed to @p cb.
 * @param out the new timer.
 *
 * @return 0 on success.
 * @return -EINVAL if @p first_ns is 0.
 * @return -ENOMEM, or another negative errno from timerfd_create()/epoll_ctl().
 *
 * Context: as vireo_loop_watch_fd().
 */
VIREO_API int vireo_loop_add_timer(struct vireo_loop *loop, uint64_t first_ns, uint64_t period_ns,
				   vireo_timer_cb_t cb, void *arg, struct vireo_timer **out);

/**
 * @brief Cancel and free a timer. NULL is ignored. Safe inside callbacks.
 *
 * @param t the timer.
 *
 * Context: as vireo_watch_remove().
 */
VIREO_API void vireo_timer_remove(struct vireo_timer *t);

/**
 * @brief Run @p cb(@p arg) once on the loop's thread, soon.
 *
 * The way for a thread that is not the loop's (a library's callback thread, say) to
 * hand work, such as a completion, to the thread that owns the queue.
 *
 * @param loop the loop.
 * @param cb the work.
 * @param arg passed to @p cb.
 *
 * @return 0 on success, or -ENOMEM.
 *
 * Context: any thread.
 */
VIREO_API int vireo_loop_defer(struct vireo_loop *loop, vireo_work_cb_t cb, void *arg);

VIREO_END_DECLS

#endif /* VIREO_LOOP_H */
