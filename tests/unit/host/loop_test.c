// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/loop/loop.c: fd watches, removal from inside callbacks,
 * timers, deferred work and stop from other threads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/internal.h"

struct counter {
	int calls;
	uint32_t events;
	struct vireo_watch *other; /* removed by the first callback that runs */
	struct vireo_loop *loop;
	bool in_thread;
};

static void on_fd(void *arg, int fd, uint32_t events)
{
	struct counter *c = arg;
	uint64_t v;

	c->calls++;
	c->events = events;
	c->in_thread = vireo_core_loop_in_thread(c->loop);
	(void)!read(fd, &v, sizeof(v));
	if (c->other) {
		vireo_watch_remove(c->other);
		c->other = NULL;
	}
}

static void kick(int fd)
{
	uint64_t one = 1;

	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
}

static void test_fd_watch(void **state)
{
	struct vireo_loop *loop;
	struct vireo_watch *w;
	struct counter c = { 0 };
	int fd = eventfd(0, EFD_NONBLOCK);

	(void)state;
	assert_int_equal(vireo_core_loop_new(&loop), 0);
	c.loop = loop;
	assert_int_equal(vireo_loop_watch_fd(loop, fd, VIREO_POLL_IN, on_fd, &c, &w), 0);
	assert_int_equal(vireo_core_loop_run_once(loop, 0), 0);
	assert_int_equal(c.calls, 0);
	kick(fd);
	assert_int_equal(vireo_core_loop_run_once(loop, 1000), 1);
	assert_int_equal(c.calls, 1);
	assert_true(c.events & VIREO_POLL_IN);
	assert_true(c.in_thread);
	assert_false(vireo_core_loop_in_thread(loop));

	/* Level-triggered, and modify turns it off. */
	assert_int_equal(vireo_watch_set_events(w, 0), 0);
	kick(fd);
	assert_int_equal(vireo_core_loop_run_once(loop, 0), 0);
	vireo_watch_remove(w);
	vireo_core_loop_free(loop);
	close(fd);
}

static void test_remove_other_watch_in_same_batch(void **state)
{
	struct vireo_loop *loop;
	struct vireo_watch *wa, *wb;
	struct counter a = { 0 }, b = { 0 };
	int fa = eventfd(0, EFD_NONBLOCK), fb = eventfd(0, EFD_NONBLOCK);

	(void)state;
	assert_int_equal(vireo_core_loop_new(&loop), 0);
	a.loop = b.loop = loop;
	assert_int_equal(vireo_loop_watch_fd(loop, fa, VIREO_POLL_IN, on_fd, &a, &wa), 0);
	assert_int_equal(vireo_loop_watch_fd(loop, fb, VIREO_POLL_IN, on_fd, &b, &wb), 0);
	/* Whichever runs first removes the other, whose event is already collected. */
	a.other = wb;
	b.other = wa;
	kick(fa);
	kick(fb);
	assert_int_equal(vireo_core_loop_run_once(loop, 1000), 1);
	assert_int_equal(a.calls + b.calls, 1);
	vireo_watch_remove(a.calls ? wa : wb);
	vireo_core_loop_free(loop);
	close(fa);
	close(fb);
}

static void on_timer(void *arg, uint64_t expirations)
{
	uint64_t *total = arg;

	*total += expirations;
}

static void test_timers(void **state)
{
	struct vireo_loop *loop;
	struct vireo_timer *once, *periodic;
	uint64_t n_once = 0, n_periodic = 0;

	(void)state;
	assert_int_equal(vireo_core_loop_new(&loop), 0);
	assert_int_equal(vireo_loop_add_timer(loop, 0, 0, on_timer, &n_once, &once), -EINVAL);
	assert_int_equal(vireo_loop_add_timer(loop, 1000000, 0, on_timer, &n_once, &once), 0);
	assert_int_equal(
		vireo_loop_add_timer(loop, 2000000, 2000000, on_timer, &n_periodic, &periodic), 0);
	for (int i = 0; i < 200 && n_periodic < 3; i++)
		assert_true(vireo_core_loop_run_once(loop, 100) >= 0);
	assert_int_equal(n_once, 1);
	assert_true(n_periodic >= 3);
	vireo_timer_remove(once);
	vireo_timer_remove(periodic);
	vireo_core_loop_free(loop);
}

struct deferred {
	struct vireo_loop *loop;
	int ran;
	bool on_loop_thread;
};

static void work(void *arg)
{
	struct deferred *d = arg;

	d->ran++;
	d->on_loop_thread = vireo_core_loop_in_thread(d->loop);
	if (d->ran == 3)
		vireo_core_loop_stop(d->loop);
}

static void *poster(void *arg)
{
	struct deferred *d = arg;

	for (int i = 0; i < 3; i++) {
		usleep(1000);
		assert_int_equal(vireo_loop_defer(d->loop, work, d), 0);
	}
	return NULL;
}

static void test_defer_and_stop_from_other_thread(void **state)
{
	struct deferred d = { 0 };
	pthread_t t;

	(void)state;
	assert_int_equal(vireo_core_loop_new(&d.loop), 0);
	assert_int_equal(pthread_create(&t, NULL, poster, &d), 0);
	assert_int_equal(vireo_core_loop_run(d.loop), 0);
	pthread_join(t, NULL);
	assert_int_equal(d.ran, 3);
	assert_true(d.on_loop_thread);

	/* Work never run is dropped by free without leaking. */
	assert_int_equal(vireo_loop_defer(d.loop, work, &d), 0);
	vireo_core_loop_free(d.loop);
}

static void *stopper(void *arg)
{
	usleep(5000);
	vireo_core_loop_stop(arg);
	return NULL;
}

static void test_stop_idle_loop(void **state)
{
	struct vireo_loop *loop;
	pthread_t t;

	(void)state;
	assert_int_equal(vireo_core_loop_new(&loop), 0);
	assert_int_equal(pthread_create(&t, NULL, stopper, loop), 0);
	assert_int_equal(vireo_core_loop_run(loop), 0);
	pthread_join(t, NULL);
	vireo_core_loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_watch),
		cmocka_unit_test(test_remove_other_watch_in_same_batch),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_defer_and_stop_from_other_thread),
		cmocka_unit_test(test_stop_idle_loop),
	};

	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
