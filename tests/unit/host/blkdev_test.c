// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/host/blkdev.c with real drivers: samples/blk-ram for I/O
 * (write a pattern and read it back through scattered iovecs, flush, discard,
 * write-zeroes, write protection), the core's request checks (out of range, misaligned,
 * bad iovecs, bad queue: refused before the driver sees them, with no completion), the
 * parameter checks at open, and tests/unit/host/async_driver.c for completions that
 * come later, from another thread, twice, or together with a refusal: every accepted
 * request is completed exactly once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "host/blkdev.h"
#include "host/loader.h"

static const char *g_moddir;
static const char *g_blk_ram;

struct fixture {
	struct host_registry *reg;
	struct host_driver *drv;
};

/* What a done callback saw; one per request. */
struct done_rec {
	int calls;
	int status;
	pthread_t thread;
};

static void on_done(struct host_blk_io *io, int status)
{
	struct done_rec *d = io->ctx;

	d->calls++;
	d->status = status;
	d->thread = pthread_self();
}

static int setup_blk_ram(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || host_registry_new(&f->reg) < 0)
		return -1;
	cap_start();
	if (host_load(f->reg, g_blk_ram, &f->drv, NULL) < 0)
		return -1;
	cap_clear();
	*state = f;
	return 0;
}

static int setup_async(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[PATH_MAX];

	if (!f || host_registry_new(&f->reg) < 0)
		return -1;
	cap_start();
	snprintf(path, sizeof(path), "%s/async_driver.so", g_moddir);
	if (host_load(f->reg, path, &f->drv, NULL) < 0)
		return -1;
	cap_clear();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	host_registry_free(f->reg);
	free(f);
	cap_stop();
	return 0;
}

/* Opens an instance with "key=value" strings. */
static int open_blk(struct fixture *f, const char *const *kv, size_t n, unsigned int queues,
		    struct host_blk **hb, char *err, size_t errlen)
{
	const char *keys[8], *values[8];
	char buf[8][64];

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		char *eq;

		snprintf(buf[i], sizeof(buf[i]), "%s", kv[i]);
		eq = strchr(buf[i], '=');
		assert_non_null(eq);
		*eq = '\0';
		keys[i] = buf[i];
		values[i] = eq + 1;
	}
	return host_blk_open(f->drv, "disk0", keys, values, n, queues, NULL, 0, hb, err, errlen);
}

static struct host_blk_io make_io(uint32_t op, uint64_t offset, uint64_t length,
				  const struct iovec *iov, uint32_t iovcnt, struct done_rec *d)
{
	return (struct host_blk_io){ .op = op,
				     .offset = offset,
				     .length = length,
				     .iov = iov,
				     .iovcnt = iovcnt,
				     .done = on_done,
				     .ctx = d };
}

/* Submits one request that must complete at once with @status. */
static void io_sync(struct host_blk *hb, uint32_t op, uint64_t offset, uint64_t length,
		    const struct iovec *iov, uint32_t iovcnt, int status)
{
	struct done_rec d = { 0 };
	struct host_blk_io io = make_io(op, offset, length, iov, iovcnt, &d);

	assert_int_equal(host_blk_submit(hb, &io), 0);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, status);
}

/* Submits one request the core must refuse with @err, without a completion. */
static void io_refused(struct host_blk *hb, struct host_blk_io io, int err)
{
	struct done_rec *d = io.ctx;

	assert_int_equal(host_blk_submit(hb, &io), err);
	assert_int_equal(d->calls, 0);
}

static void fill_pattern(uint8_t *buf, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((i * 31 + seed) ^ (i >> 8));
}

static void read_back(struct host_blk *hb, uint64_t offset, uint8_t *buf, size_t len)
{
	struct iovec iov = { buf, len };

	io_sync(hb, VIREO_BLK_OP_READ, offset, len, &iov, 1, 0);
}

static void test_geometry_defaults(void **state)
{
	struct fixture *f = *state;
	const struct vireo_blk_geometry *g;
	struct host_blk *hb;
	char err[256];

	assert_int_equal(open_blk(f, NULL, 0, 4, &hb, err, sizeof(err)), 0);
	g = host_blk_geometry(hb);
	assert_int_equal(g->struct_size, sizeof(*g));
	assert_int_equal(g->capacity, 16u << 20);
	assert_int_equal(g->logical_block_size, 512);
	assert_int_equal(g->physical_block_size, 512);
	assert_int_equal(g->max_queues, 1);
	assert_int_equal(host_blk_num_queues(hb), 1); /* asked for 4, the device has 1 */
	assert_int_equal(g->queue_depth, 128);
	assert_int_equal(g->max_segments, 128);	     /* core default */
	assert_int_equal(g->max_transfer, 1u << 20); /* core default */
	assert_int_equal(g->max_discard, 1u << 30);  /* core default */
	assert_int_equal(g->flags, VIREO_BLK_F_DISCARD | VIREO_BLK_F_WRITE_ZEROES);
	assert_non_null(cap_find(VIREO_LOG_INFO, "disk0: 16777216 bytes of RAM"));
	assert_non_null(cap_find(VIREO_LOG_INFO, "device 'disk0': driver 'blk-ram'"));
	assert_int_equal(host_blk_close(hb), 0);
}

static void test_params_given(void **state)
{
	struct fixture *f = *state;
	const char *kv[] = { "size=1M", "block-size=4096", "queues=4" };
	const struct vireo_blk_geometry *g;
	struct host_blk *hb;
	char err[256];

	assert_int_equal(open_blk(f, kv, 3, 2, &hb, err, sizeof(err)), 0);
	g = host_blk_geometry(hb);
	assert_int_equal(g->capacity, 1u << 20);
	assert_int_equal(g->logical_block_size, 4096);
	assert_int_equal(g->max_queues, 4);
	assert_int_equal(host_blk_num_queues(hb), 2);
	assert_int_equal(host_blk_close(hb), 0);
}

static void test_param_errors(void **state)
{
	struct fixture *f = *state;
	const char *unknown[] = { "sise=1M" };
	const char *bad_value[] = { "size=lots" };
	const char *twice[] = { "size=1M", "size=2M" };
	const char *refused[] = { "block-size=1000" };
	struct host_blk *hb = (struct host_blk *)&hb;
	char err[512];

	assert_int_equal(open_blk(f, unknown, 1, 1, &hb, err, sizeof(err)), -EINVAL);
	assert_null(hb);
	assert_string_equal(err,
			    "driver 'blk-ram' device 'disk0': unknown parameter 'sise' "
			    "(known: size, block-size, queues, write-protect, volatile-cache)");
	assert_int_equal(open_blk(f, bad_value, 1, 1, &hb, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "driver 'blk-ram' device 'disk0': parameter 'size' (uint): "
				 "'lots' is not a uint (4096, 0x1000, 64M)");
	assert_int_equal(open_blk(f, twice, 2, 1, &hb, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "parameter 'size' given twice"));

	/* A value of the right type that the driver itself refuses: its line, then ours. */
	cap_clear();
	assert_int_equal(open_blk(f, refused, 1, 1, &hb, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "driver 'blk-ram' device 'disk0': open failed: Invalid argument");
	assert_non_null(cap_find(VIREO_LOG_ERR, "disk0: block-size 1000: expected 512"));
	assert_string_equal(cap_find(VIREO_LOG_ERR, "block-size")->tag, "blk-ram");

	/* Nothing stayed open: the driver unloads. */
	assert_int_equal(host_unload(f->reg, f->drv), 0);
}

static void test_write_read_pattern(void **state)
{
	struct fixture *f = *state;
	const char *kv[] = { "size=1M" };
	uint8_t out[8192], in[8192];
	struct iovec wiov[2] = { { out, 3000 }, { out + 3000, 5192 } };
	struct iovec riov[3] = { { in, 100 }, { in + 100, 4000 }, { in + 4100, 4092 } };
	struct vireo_blk_stats st;
	struct host_blk_counters c;
	struct host_blk *hb;
	char err[256];

	assert_int_equal(open_blk(f, kv, 1, 1, &hb, err, sizeof(err)), 0);
	fill_pattern(out, sizeof(out), 7);
	io_sync(hb, VIREO_BLK_OP_WRITE, 4096, sizeof(out), wiov, 2, 0);
	memset(in, 0, sizeof(in));
	io_sync(hb, VIREO_BLK_OP_READ, 4096, sizeof(in), riov, 3, 0);
	assert_memory_equal(in, out, sizeof(out));

	/* The last block of the disk, and the blocks around the pattern are untouched. */
	io_sync(hb, VIREO_BLK_OP_WRITE, (1u << 20) - 512, 512, &(struct iovec){ out, 512 }, 1, 0);
	read_back(hb, (1u << 20) - 512, in, 512);
	assert_memory_equal(in, out, 512);
	read_back(hb, 0, in, 4096);
	for (size_t i = 0; i < 4096; i++)
		assert_int_equal(in[i], 0);

	assert_int_equal(host_blk_stats(hb, &st), 0);
	assert_int_equal(st.struct_size, sizeof(st));
	assert_int_equal(st.write_ops, 2);
	assert_int_equal(st.write_bytes, 8192 + 512);
	assert_int_equal(st.read_ops, 3);
	assert_int_equal(st.read_bytes, 8192 + 512 + 4096);
	host_blk_counters(hb, &c);
	assert_int_equal(c.submitted, 5);
	assert_int_equal(c.completed, 5);
	assert_int_equal(c.errors, 0);
	assert_int_equal(c.rejected, 0);
	assert_int_equal(host_blk_close(hb), 0);
}

static void test_flush(void **state)
{
	struct fixture *f = *state;
	const char *cache[] = { "volatile-cache=on" };
	struct vireo_blk_stats st;
	struct done_rec d = { 0 };
	struct host_blk *hb;
	char err[256];

	/* No write cache: the core answers the flush itself. */
	assert_int_equal(open_blk(f, NULL, 0, 1, &hb, err, sizeof(err)), 0);
	io_sync(hb, VIREO_BLK_OP_FLUSH, 0, 0, NULL, 0, 0);
	assert_int_equal(host_blk_stats(hb, &st), 0);
	assert_int_equal(st.flush_ops, 0);
	io_refused(hb, make_io(VIREO_BLK_OP_FLUSH, 512, 0, NULL, 0, &d), -EINVAL);
	assert_int_equal(host_blk_close(hb), 0);

	/* A write cache: flushes reach the driver. */
	assert_int_equal(open_blk(f, cache, 1, 1, &hb, err, sizeof(err)), 0);
	assert_true(host_blk_geometry(hb)->flags & VIREO_BLK_F_FLUSH);
	io_sync(hb, VIREO_BLK_OP_FLUSH, 0, 0, NULL, 0, 0);
	assert_int_equal(host_blk_stats(hb, &st), 0);
	assert_int_equal(st.flush_ops, 1);
	assert_int_equal(host_blk_close(hb), 0);
}

/* Writes @seed's pattern over [0, 64 KiB), zeroes [off, off+len) with @op, checks. */
static void check_zeroing(struct host_blk *hb, uint32_t op, uint32_t flags, uint64_t off,
			  uint64_t len)
{
	static uint8_t out[65536], in[65536];
	struct iovec iov = { out, 16384 };
	struct done_rec d = { 0 };
	struct host_blk_io io;

	fill_pattern(out, sizeof(out), (unsigned int)off);
	for (uint64_t o = 0; o < sizeof(out); o += 16384) {
		iov.iov_base = out + o;
		io_sync(hb, VIREO_BLK_OP_WRITE, o, 16384, &iov, 1, 0);
	}
	io = make_io(op, off, len, NULL, 0, &d);
	io.flags = flags;
	assert_int_equal(host_blk_submit(hb, &io), 0);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, 0);
	for (uint64_t o = 0; o < sizeof(in); o += 16384)
		read_back(hb, o, in + o, 16384);
	for (uint64_t i = 0; i < sizeof(in); i++) {
		if (i >= off && i < off + len)
			assert_int_equal(in[i], 0);
		else
			assert_int_equal(in[i], out[i]);
	}
}

static void test_discard_and_write_zeroes(void **state)
{
	struct fixture *f = *state;
	struct done_rec d = { 0 };
	struct host_blk *hb;
	char err[256];

	assert_int_equal(open_blk(f, NULL, 0, 1, &hb, err, sizeof(err)), 0);
	/* Ranges with partial pages at both ends, inside one page, and whole pages. */
	check_zeroing(hb, VIREO_BLK_OP_DISCARD, 0, 2048, 12288);
	check_zeroing(hb, VIREO_BLK_OP_DISCARD, 0, 512, 1024);
	check_zeroing(hb, VIREO_BLK_OP_WRITE_ZEROES, 0, 8192, 16384);
	check_zeroing(hb, VIREO_BLK_OP_WRITE_ZEROES, VIREO_BLK_REQ_F_UNMAP, 1536, 30720);
	/* UNMAP means nothing to a discard; a discard carries no data. */
	struct host_blk_io io = make_io(VIREO_BLK_OP_DISCARD, 0, 512, NULL, 0, &d);
	io.flags = VIREO_BLK_REQ_F_UNMAP;
	io_refused(hb, io, -EINVAL);
	io_refused(hb, make_io(VIREO_BLK_OP_DISCARD, 0, 0, NULL, 0, &d), -EINVAL);
	assert_int_equal(host_blk_close(hb), 0);
}

static void test_out_of_range_and_malformed(void **state)
{
	struct fixture *f = *state;
	const char *kv[] = { "size=64K" };
	const uint64_t cap = 65536;
	uint8_t buf[1024];
	struct iovec iov = { buf, 512 }, iov2[2] = { { buf, 512 }, { buf + 512, 512 } };
	struct done_rec d = { 0 };
	struct host_blk_counters c;
	struct host_blk_io io;
	struct host_blk *hb;
	char err[256];

	assert_int_equal(open_blk(f, kv, 1, 1, &hb, err, sizeof(err)), 0);
	/* Past the end, straddling it, and an offset that wraps around. */
	io_refused(hb, make_io(VIREO_BLK_OP_READ, cap, 512, &iov, 1, &d), -ERANGE);
	io_refused(hb, make_io(VIREO_BLK_OP_WRITE, cap - 512, 1024, iov2, 2, &d), -ERANGE);
	io_refused(hb, make_io(VIREO_BLK_OP_READ, UINT64_MAX - 511, 512, &iov, 1, &d), -ERANGE);
	io_refused(hb, make_io(VIREO_BLK_OP_DISCARD, cap - 512, 1024, NULL, 0, &d), -ERANGE);
	/* Misaligned offset or length. */
	io_refused(hb, make_io(VIREO_BLK_OP_READ, 100, 512, &iov, 1, &d), -EINVAL);
	iov.iov_len = 100;
	io_refused(hb, make_io(VIREO_BLK_OP_READ, 0, 100, &iov, 1, &d), -EINVAL);
	iov.iov_len = 512;
	/* iovecs that do not add up to the length, none at all, or a wrapping sum. */
	io_refused(hb, make_io(VIREO_BLK_OP_READ, 0, 1024, &iov, 1, &d), -EINVAL);
	io_refused(hb, make_io(VIREO_BLK_OP_READ, 0, 512, NULL, 0, &d), -EINVAL);
	iov2[1].iov_len = SIZE_MAX;
	io_refused(hb, make_io(VIREO_BLK_OP_READ, 0, 511, iov2, 2, &d), -EINVAL);
	iov2[1].iov_len = 512;
	/* A queue the device does not have, an unknown op, flags on a read. */
	io = make_io(VIREO_BLK_OP_READ, 0, 512, &iov, 1, &d);
	io.queue = 1;
	io_refused(hb, io, -EINVAL);
	io_refused(hb, make_io(9, 0, 512, &iov, 1, &d), -EINVAL);
	io = make_io(VIREO_BLK_OP_READ, 0, 512, &iov, 1, &d);
	io.flags = VIREO_BLK_REQ_F_UNMAP;
	io_refused(hb, io, -EINVAL);
	/* No done callback: refused, not crashed. */
	io = make_io(VIREO_BLK_OP_READ, 0, 512, &iov, 1, &d);
	io.done = NULL;
	io_refused(hb, io, -EINVAL);

	host_blk_counters(hb, &c);
	assert_int_equal(c.rejected, 13);
	assert_int_equal(c.submitted, 0);
	assert_int_equal(c.completed, 0);
	/* The device still works. */
	io_sync(hb, VIREO_BLK_OP_READ, cap - 512, 512, &iov, 1, 0);
	assert_int_equal(host_blk_close(hb), 0);
}

static void test_write_protect(void **state)
{
	struct fixture *f = *state;
	const char *kv[] = { "write-protect=on" };
	uint8_t buf[512] = { 0 };
	struct iovec iov = { buf, sizeof(buf) };
	struct done_rec d = { 0 };
	struct host_blk *hb;
	char err[256];

	assert_int_equal(open_blk(f, kv, 1, 1, &hb, err, sizeof(err)), 0);
	assert_true(host_blk_geometry(hb)->flags & VIREO_BLK_F_READ_ONLY);
	io_refused(hb, make_io(VIREO_BLK_OP_WRITE, 0, 512, &iov, 1, &d), -EROFS);
	io_refused(hb, make_io(VIREO_BLK_OP_DISCARD, 0, 512, NULL, 0, &d), -EROFS);
	io_refused(hb, make_io(VIREO_BLK_OP_WRITE_ZEROES, 0, 512, NULL, 0, &d), -EROFS);
	io_sync(hb, VIREO_BLK_OP_READ, 0, 512, &iov, 1, 0);
	io_sync(hb, VIREO_BLK_OP_FLUSH, 0, 0, NULL, 0, 0);
	assert_int_equal(host_blk_close(hb), 0);
}

/* ---- the asynchronous driver ---- */

struct async_hooks {
	void *handle;
	int (*pending)(void);
	int (*complete_all)(int status);
	void (*complete_last_again)(void);
};

static void async_hooks_get(struct async_hooks *h)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/async_driver.so", g_moddir);
	/* Already loaded by the host: RTLD_NOLOAD only takes another reference. */
	h->handle = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
	assert_non_null(h->handle);
	*(void **)&h->pending = dlsym(h->handle, "async_test_pending");
	*(void **)&h->complete_all = dlsym(h->handle, "async_test_complete_all");
	*(void **)&h->complete_last_again = dlsym(h->handle, "async_test_complete_last_again");
	assert_non_null(h->pending);
	assert_non_null(h->complete_all);
	assert_non_null(h->complete_last_again);
}

struct completer {
	struct async_hooks *h;
	int status;
	int completed;
};

static void *completer_thread(void *arg)
{
	struct completer *c = arg;

	c->completed = c->h->complete_all(c->status);
	return NULL;
}

static void test_async_exactly_once(void **state)
{
	struct fixture *f = *state;
	struct async_hooks h;
	uint8_t out[3][512], in[512];
	struct iovec wiov[3] = { { out[0], 512 }, { out[1], 512 }, { out[2], 512 } };
	struct iovec riov = { in, 512 };
	struct done_rec d[4] = { 0 };
	struct host_blk_io io[4];
	struct completer comp;
	struct host_blk_counters c;
	struct host_blk *hb;
	pthread_t t;
	char err[256];

	async_hooks_get(&h);
	assert_int_equal(open_blk(f, NULL, 0, 2, &hb, err, sizeof(err)), 0);
	assert_int_equal(host_blk_num_queues(hb), 2);
	for (int i = 0; i < 3; i++)
		memset(out[i], 0x10 + i, 512);

	/* Queue 0 takes two (its depth); the third waits; queue 1 has room of its own. */
	io[0] = make_io(VIREO_BLK_OP_WRITE, 0, 512, &wiov[0], 1, &d[0]);
	io[1] = make_io(VIREO_BLK_OP_WRITE, 512, 512, &wiov[1], 1, &d[1]);
	io[2] = make_io(VIREO_BLK_OP_WRITE, 1024, 512, &wiov[2], 1, &d[2]);
	assert_int_equal(host_blk_submit(hb, &io[0]), 0);
	assert_int_equal(host_blk_submit(hb, &io[1]), 0);
	assert_int_equal(host_blk_submit(hb, &io[2]), -EBUSY);
	io[2].queue = 1;
	assert_int_equal(host_blk_submit(hb, &io[2]), 0);
	assert_int_equal(h.pending(), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(d[i].calls, 0);
	/* Outstanding requests keep the instance (and so the driver) open. */
	assert_int_equal(host_blk_close(hb), -EBUSY);
	assert_int_equal(host_unload(f->reg, f->drv), -EBUSY);

	/* Completions from another thread: each done runs once, on that thread. */
	comp = (struct completer){ .h = &h, .status = 0 };
	assert_int_equal(pthread_create(&t, NULL, completer_thread, &comp), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(comp.completed, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(d[i].calls, 1);
		assert_int_equal(d[i].status, 0);
		assert_true(pthread_equal(d[i].thread, t));
	}

	/* A second completion of the same request is logged and dropped. */
	cap_clear();
	h.complete_last_again();
	assert_int_equal(d[2].calls, 1);
	assert_int_equal(cap_count(VIREO_LOG_ERR), 1);
	assert_non_null(cap_find(VIREO_LOG_ERR, "a double completion? ignored"));

	/* The data arrived. */
	io[3] = make_io(VIREO_BLK_OP_READ, 512, 512, &riov, 1, &d[3]);
	assert_int_equal(host_blk_submit(hb, &io[3]), 0);
	assert_int_equal(h.complete_all(0), 1);
	assert_int_equal(d[3].calls, 1);
	assert_memory_equal(in, out[1], 512);

	/* Refused by the driver: the error comes back, no completion. */
	memset(d, 0, sizeof(d));
	io[0] = make_io(VIREO_BLK_OP_WRITE, 4096, 512, &wiov[0], 1, &d[0]);
	assert_int_equal(host_blk_submit(hb, &io[0]), -EIO);
	assert_int_equal(d[0].calls, 0);
	assert_int_equal(h.pending(), 0);
	/* Completed and then refused: the completion stands, once. */
	cap_clear();
	io[1] = make_io(VIREO_BLK_OP_WRITE, 8192, 512, &wiov[1], 1, &d[1]);
	assert_int_equal(host_blk_submit(hb, &io[1]), 0);
	assert_int_equal(d[1].calls, 1);
	assert_int_equal(d[1].status, 0);
	assert_non_null(cap_find(VIREO_LOG_ERR, "after completing the request"));
	/* Completed with an error; flushes go to a driver that has a cache. */
	io[2] = make_io(VIREO_BLK_OP_READ, 0, 512, &riov, 1, &d[2]);
	io[3] = make_io(VIREO_BLK_OP_FLUSH, 0, 0, NULL, 0, &d[3]);
	assert_int_equal(host_blk_submit(hb, &io[2]), 0);
	assert_int_equal(host_blk_submit(hb, &io[3]), 0);
	assert_int_equal(h.complete_all(-EIO), 2);
	assert_int_equal(d[2].calls, 1);
	assert_int_equal(d[2].status, -EIO);
	assert_int_equal(d[3].calls, 1);

	host_blk_counters(hb, &c);
	assert_int_equal(c.completed, 7);
	assert_int_equal(c.submitted, 7);
	assert_int_equal(c.errors, 2);
	assert_int_equal(c.rejected, 1);
	assert_int_equal(host_blk_close(hb), 0);
	dlclose(h.handle);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_geometry_defaults, setup_blk_ram, teardown),
		cmocka_unit_test_setup_teardown(test_params_given, setup_blk_ram, teardown),
		cmocka_unit_test_setup_teardown(test_param_errors, setup_blk_ram, teardown),
		cmocka_unit_test_setup_teardown(test_write_read_pattern, setup_blk_ram, teardown),
		cmocka_unit_test_setup_teardown(test_flush, setup_blk_ram, teardown),
		cmocka_unit_test_setup_teardown(test_discard_and_write_zeroes, setup_blk_ram,
						teardown),
		cmocka_unit_test_setup_teardown(test_out_of_range_and_malformed, setup_blk_ram,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_protect, setup_blk_ram, teardown),
		cmocka_unit_test_setup_teardown(test_async_exactly_once, setup_async, teardown),
	};

	g_moddir = getenv("VIREO_TEST_MODDIR");
	g_blk_ram = getenv("VIREO_TEST_BLK_RAM");
	if (!g_moddir || !g_blk_ram) {
		fprintf(stderr,
			"VIREO_TEST_MODDIR and VIREO_TEST_BLK_RAM must be set (meson does)\n");
		return 1;
	}
	return cmocka_run_group_tests_name("host/blkdev", tests, NULL, NULL);
}
