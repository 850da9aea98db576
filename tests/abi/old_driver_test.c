// SPDX-License-Identifier: MIT
/*
 * Old drivers keep working: tests/abi/v1.0/ram_v1_0.c, built against the frozen ABI
 * 1.0 headers, is loaded by the current driver host (vmm-core/host/loader.c) and does
 * I/O through the current block host (vmm-core/host/blkdev.c): the core's defaults
 * fill in the geometry it leaves zero, and data written through it reads back. The
 * driver's own behaviour is not under test here; that it still runs is.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/blkdev.h"
#include "host/loader.h"

static const char *g_old_driver;

struct fixture {
	struct host_registry *reg;
	struct host_driver *drv;
	struct host_blk *hb;
};

/* What the done callback saw. */
struct done_rec {
	int calls;
	int status;
};

static void on_done(struct host_blk_io *io, int status)
{
	struct done_rec *d = io->ctx;

	d->calls++;
	d->status = status;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256] = "";

	if (!f || host_registry_new(&f->reg) < 0)
		return -1;
	if (host_load(f->reg, g_old_driver, &f->drv, NULL) < 0) {
		fprintf(stderr, "host_load(%s) failed\n", g_old_driver);
		return -1;
	}
	if (host_blk_open(f->drv, "old0", NULL, NULL, 0, 1, NULL, 0, &f->hb, err, sizeof(err)) <
	    0) {
		fprintf(stderr, "host_blk_open: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(host_blk_close(f->hb), 0);
	host_registry_free(f->reg);
	free(f);
	return 0;
}

/* Submits one read or write that the driver completes before returning. */
static void io_sync(struct host_blk *hb, uint32_t op, uint64_t offset, const struct iovec *iov,
		    uint32_t iovcnt)
{
	struct done_rec d = { 0 };
	struct host_blk_io io = { .op = op, .offset = offset, .iov = iov, .iovcnt = iovcnt };

	for (uint32_t i = 0; i < iovcnt; i++)
		io.length += iov[i].iov_len;
	io.done = on_done;
	io.ctx = &d;
	assert_int_equal(host_blk_submit(hb, &io), 0);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, 0);
}

/* The 1.0 driver is accepted, and what it left zero gets the current core's defaults. */
static void test_loads_with_defaults(void **state)
{
	struct fixture *f = *state;
	const struct vireo_blk_geometry *geo = host_blk_geometry(f->hb);

	assert_string_equal(host_driver_name(f->drv), "ram-v1.0");
	assert_int_equal(host_blk_num_queues(f->hb), 1);
	assert_int_equal(geo->capacity, 1u << 20);
	assert_int_equal(geo->logical_block_size, 512);
	assert_int_equal(geo->physical_block_size, 512);
	assert_int_equal(geo->max_queues, 1);
	assert_int_equal(geo->queue_depth, 64);
}

/* A pattern written through two iovecs reads back whole through three others. */
static void test_write_read_back(void **state)
{
	struct fixture *f = *state;
	static uint8_t out[8192], in[8192];
	struct iovec wr[2] = { { out, 512 }, { out + 512, sizeof(out) - 512 } };
	struct iovec rd[3] = { { in, 4096 }, { in + 4096, 1024 }, { in + 5120, 3072 } };

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 3);
	memset(in, 0xaa, sizeof(in));
	io_sync(f->hb, VIREO_BLK_OP_WRITE, 65536, wr, 2);
	io_sync(f->hb, VIREO_BLK_OP_READ, 65536, rd, 3);
	assert_memory_equal(in, out, sizeof(out));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_loads_with_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_read_back, setup, teardown),
	};

	g_old_driver = getenv("VIREO_TEST_OLD_DRIVER");
	if (!g_old_driver) {
		fprintf(stderr, "VIREO_TEST_OLD_DRIVER must be set (meson does)\n");
		return 1;
	}
	return cmocka_run_group_tests_name("abi/old-driver", tests, NULL, NULL);
}
