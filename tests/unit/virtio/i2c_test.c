// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/virtio/i2c.c: a real vhost-user-i2c device (a 4-entry ring,
 * as QEMU's) driven by the test frontend over a mock guest's memory. Requests in
 * indirect tables and direct chains reach the LM75s; a FAIL_NEXT group split over two
 * kicks fails as one; hostile chains are refused and the device keeps serving; the
 * `sensor=` option is checked when the device is built.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/spec.h"
#include "mock_guest.h"
#include "vhost-user/dev.h"
#include "virtio/i2c.h"
#include "virtio/i2c_source.h"
#include "virtio/i2c_wire.h"
#include "virtio/virtio_wire.h"
#include "vu_frontend.h"

#define GUEST_GPA  0x100000ull
#define GUEST_SIZE (4ull << 20)
#define QSIZE	   4

struct fixture {
	char dir[64];
	char sock[128];
	struct virtio_i2c *i2c;
	struct mock_guest g;
	struct vu_fe fe;
	int kick, call;
	uint16_t used; /* used entries seen so far */
};

static int spec_new(const char *const *sensors, size_t n, const char *sock, struct virtio_i2c **out,
		    char *err, size_t errlen)
{
	struct vd_param params[10];
	struct vd_spec spec = { .cls = VD_CLASS_I2C,
				.id = "i2c0",
				.socket = (char *)sock,
				.num_queues = 1,
				.params = params,
				.nparams = n };

	for (size_t i = 0; i < n; i++)
		params[i] = (struct vd_param){ .key = "sensor", .value = (char *)sensors[i] };
	return virtio_i2c_new(&spec, out, err, errlen);
}

static struct fixture *fixture_new(uint64_t want)
{
	static struct fixture f;
	static const char *const sensors[] = { "0x48:const:25000", "0x4f:const:-500" };
	char err[256] = "";

	memset(&f, 0, sizeof(f));
	f.kick = f.call = -1;
	strcpy(f.dir, "/tmp/vireo-i2c-XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.sock, sizeof(f.sock), "%s/i2c.sock", f.dir);
	if (spec_new(sensors, 2, f.sock, &f.i2c, err, sizeof(err)) < 0)
		fail_msg("virtio_i2c_new: %s", err);
	assert_int_equal(virtio_i2c_start(f.i2c), 0);
	assert_int_equal(mock_guest_init(&f.g, GUEST_GPA, GUEST_SIZE, 0), 0);
	mock_queue_init(&f.g, QSIZE);
	assert_int_equal(vu_fe_connect(&f.fe, f.sock, 2000), 0);
	assert_int_equal(vu_fe_negotiate(&f.fe, want), 0);
	assert_true(f.fe.features & (1ull << VIRTIO_I2C_F_ZERO_LENGTH_REQUEST));
	assert_true(f.fe.features & (1ull << VIRTIO_F_INDIRECT_DESC));
	assert_int_equal(vu_fe_set_mem_table(&f.fe, &f.g), 0);
	assert_int_equal(vu_fe_start_queue(&f.fe, &f.g, 0, &f.kick, &f.call), 0);
	return &f;
}

static void fixture_free(struct fixture *f)
{
	vu_fe_close(&f->fe);
	virtio_i2c_free(f->i2c);
	if (f->kick >= 0)
		close(f->kick);
	if (f->call >= 0)
		close(f->call);
	mock_guest_fini(&f->g);
	rmdir(f->dir);
}

/* Kicks and waits until @n more chains came back. */
static void kick_wait(struct fixture *f, uint16_t n)
{
	vu_fe_kick(f->kick);
	f->used = (uint16_t)(f->used + n);
	for (int i = 0; i < 200 && mock_used_idx(&f->g) != f->used; i++)
		vu_fe_wait_call(f->call, 10);
	assert_int_equal(mock_used_idx(&f->g), f->used);
}

static uint64_t gbuf(struct fixture *f, const void *src, uint32_t len)
{
	uint64_t gpa = mock_alloc(&f->g, len ? len : 1, 8);

	if (src)
		memcpy(mock_ptr(&f->g, gpa), src, len);
	else
		memset(mock_ptr(&f->g, gpa), 0xee, len ? len : 1);
	return gpa;
}

static uint64_t ghdr(struct fixture *f, uint16_t addr7, uint32_t flags)
{
	struct virtio_i2c_out_hdr h = { .addr = (uint16_t)(addr7 << 1), .flags = flags };

	return gbuf(f, &h, sizeof(h));
}

/* A request: header, optional data (write or read), status; returns the status gpa. */
struct req {
	struct mock_buf b[3];
	unsigned int n;
	uint64_t data, status;
};

static void mkreq(struct fixture *f, struct req *r, uint16_t addr7, uint32_t flags,
		  const uint8_t *wdata, uint32_t len, bool read)
{
	r->n = 0;
	r->b[r->n++] =
		(struct mock_buf){ ghdr(f, addr7, flags | (read ? VIRTIO_I2C_FLAGS_M_RD : 0)), 8,
				   false };
	if (len) {
		r->data = gbuf(f, read ? NULL : wdata, len);
		r->b[r->n++] = (struct mock_buf){ r->data, len, read };
	}
	r->status = gbuf(f, NULL, 1);
	r->b[r->n++] = (struct mock_buf){ r->status, 1, true };
}

static uint8_t st(struct fixture *f, const struct req *r)
{
	return *(uint8_t *)mock_ptr(&f->g, r->status);
}

static void test_indirect_requests(void **state)
{
	struct fixture *f = fixture_new(~0ull);
	struct virtio_i2c_stats *s = malloc(sizeof(*s));
	uint8_t ptr = 0;
	struct req w, r, q, a;

	(void)state;
	/* Four indirect requests fill the 4-entry ring: pointer, read, quick, absent. */
	mkreq(f, &w, 0x4f, VIRTIO_I2C_FLAGS_FAIL_NEXT, &ptr, 1, false);
	mkreq(f, &r, 0x4f, 0, NULL, 2, true);
	mkreq(f, &q, 0x48, 0, NULL, 0, false);
	mkreq(f, &a, 0x49, 0, NULL, 0, true);
	mock_chain_indirect(&f->g, w.b, w.n);
	uint16_t hr = mock_chain_indirect(&f->g, r.b, r.n);
	mock_chain_indirect(&f->g, q.b, q.n);
	mock_chain_indirect(&f->g, a.b, a.n);
	kick_wait(f, 4);
	assert_int_equal(st(f, &w), VIRTIO_I2C_MSG_OK);
	assert_int_equal(st(f, &r), VIRTIO_I2C_MSG_OK);
	assert_int_equal(mock_used_elem(&f->g, 1).id, hr);
	assert_int_equal(mock_used_elem(&f->g, 1).len, 3);
	assert_memory_equal(mock_ptr(&f->g, r.data), "\xff\x80", 2); /* -0.5 °C */
	assert_int_equal(st(f, &q), VIRTIO_I2C_MSG_OK);
	assert_int_equal(st(f, &a), VIRTIO_I2C_MSG_ERR);
	virtio_i2c_get_stats(f->i2c, s);
	assert_true(s->zero_length);
	assert_int_equal(s->bus.ok, 3);
	assert_int_equal(s->bus.nak, 1);
	assert_int_equal(s->nsensors, 2);
	assert_int_equal(s->sensors[1].addr, 0x4f);
	assert_int_equal(s->sensors[1].lm75.temp_mc, -500);
	assert_string_equal(s->sensors[0].source, "const:25000");
	free(s);
	fixture_free(f);
}

static void test_group_across_kicks(void **state)
{
	struct fixture *f = fixture_new(~0ull);
	uint8_t ptr = 0;
	struct req a, b, c, d;

	(void)state;
	/* Direct chains, 3 descriptors each: one request per kick in a 4-entry ring. */
	mkreq(f, &a, 0x4a, VIRTIO_I2C_FLAGS_FAIL_NEXT, &ptr, 1, false);
	mock_chain(&f->g, a.b, a.n);
	kick_wait(f, 1);
	mkreq(f, &b, 0x48, VIRTIO_I2C_FLAGS_FAIL_NEXT, NULL, 2, true);
	mock_chain(&f->g, b.b, b.n);
	kick_wait(f, 1);
	mkreq(f, &c, 0x48, 0, NULL, 2, true);
	mock_chain(&f->g, c.b, c.n);
	kick_wait(f, 1);
	assert_int_equal(st(f, &a), VIRTIO_I2C_MSG_ERR);
	assert_int_equal(st(f, &b), VIRTIO_I2C_MSG_ERR);
	assert_int_equal(st(f, &c), VIRTIO_I2C_MSG_ERR);
	assert_int_equal(*(uint8_t *)mock_ptr(&f->g, c.data), 0xee); /* not read */
	mkreq(f, &d, 0x48, 0, NULL, 2, true);
	mock_chain(&f->g, d.b, d.n);
	kick_wait(f, 1);
	assert_int_equal(st(f, &d), VIRTIO_I2C_MSG_OK);
	assert_memory_equal(mock_ptr(&f->g, d.data), "\x19\x00", 2);
	fixture_free(f);
}

static void test_hostile_chains(void **state)
{
	struct fixture *f = fixture_new(~0ull);
	struct virtio_i2c_stats *s = malloc(sizeof(*s));
	struct vu_dev_stats vs;
	uint8_t ptr = 0;
	struct req r;

	(void)state;
	/* Only a header: no status byte to answer in. */
	struct mock_buf nostatus[] = { { ghdr(f, 0x48, 0), 8, false } };
	mock_chain(&f->g, nostatus, 1);
	kick_wait(f, 1);
	assert_int_equal(mock_used_elem(&f->g, 0).len, 0);
	/* A header the guest made writable. */
	struct mock_buf wrhdr[] = { { ghdr(f, 0x48, 0), 8, true } };
	uint64_t wst = wrhdr[0].gpa + 7;
	mock_chain(&f->g, wrhdr, 1);
	kick_wait(f, 1);
	assert_int_equal(*(uint8_t *)mock_ptr(&f->g, wst), VIRTIO_I2C_MSG_ERR);
	/* Read and write buffers at once, and a buffer over the limit. */
	struct mock_buf two[] = { { ghdr(f, 0x48, 0), 8, false },
				  { gbuf(f, &ptr, 1), 1, false },
				  { gbuf(f, NULL, 2), 2, true },
				  { gbuf(f, NULL, 1), 1, true } };
	mock_chain_indirect(&f->g, two, 4);
	struct mock_buf big[] = { { ghdr(f, 0x48, VIRTIO_I2C_FLAGS_M_RD), 8, false },
				  { gbuf(f, NULL, I2C_MAX_XFER + 1), I2C_MAX_XFER + 1, true },
				  { gbuf(f, NULL, 1), 1, true } };
	mock_chain_indirect(&f->g, big, 3);
	kick_wait(f, 2);
	/* Still serving, and nothing broken. */
	mkreq(f, &r, 0x48, 0, NULL, 2, true);
	mock_chain(&f->g, r.b, r.n);
	kick_wait(f, 1);
	assert_int_equal(st(f, &r), VIRTIO_I2C_MSG_OK);
	virtio_i2c_get_stats(f->i2c, s);
	assert_int_equal(s->bus.refused[I2C_REFUSE_NO_STATUS], 1);
	assert_int_equal(s->bus.refused[I2C_REFUSE_SHORT_HDR], 1);
	assert_int_equal(s->bus.refused[I2C_REFUSE_TWO_BUFFERS], 1);
	assert_int_equal(s->bus.refused[I2C_REFUSE_OVERSIZE], 1);
	assert_int_equal(s->bus.ok, 1);
	virtio_i2c_vu_stats(f->i2c, &vs);
	assert_false(vs.broken);
	free(s);
	fixture_free(f);
}

static void test_without_zero_length(void **state)
{
	struct fixture *f = fixture_new(~(1ull << VIRTIO_I2C_F_ZERO_LENGTH_REQUEST));
	struct req q;

	(void)state;
	mkreq(f, &q, 0x48, 0, NULL, 0, false);
	mock_chain(&f->g, q.b, q.n);
	kick_wait(f, 1);
	assert_int_equal(st(f, &q), VIRTIO_I2C_MSG_ERR);
	fixture_free(f);
}

static void test_spec(void **state)
{
	struct virtio_i2c *i2c = NULL;
	char err[256];
	static const struct {
		const char *sensor, *msg;
	} bad[] = {
		{ "0x48", "expected ADDR:SOURCE" },
		{ "0x78:const:1", "7-bit address" },
		{ "0x07:const:1", "7-bit address" },
		{ "-1:const:1", "7-bit address" },
		{ "0x48:const:warm", "is not millidegrees" },
		{ "0x48:const:", "expected DEV:CHANNEL" },
		{ "0x48:nosuchdev:0", "no sensor device of that id" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *one[] = { bad[i].sensor };

		err[0] = '\0';
		assert_int_not_equal(spec_new(one, 1, "/tmp/unused.sock", &i2c, err, sizeof(err)),
				     0);
		if (!strstr(err, bad[i].msg))
			fail_msg("sensor=%s: '%s' lacks '%s'", bad[i].sensor, err, bad[i].msg);
	}
	const char *dup[] = { "0x48:const:1", "72:const:2" };
	assert_int_not_equal(spec_new(dup, 2, "/tmp/unused.sock", &i2c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "given twice"));
	const char *nine[9];
	char names[9][32];
	for (int i = 0; i < 9; i++) {
		snprintf(names[i], sizeof(names[i]), "0x%x:const:1", 0x40 + i);
		nine[i] = names[i];
	}
	assert_int_not_equal(spec_new(nine, 9, "/tmp/unused.sock", &i2c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "at most 8"));
	assert_int_not_equal(spec_new(NULL, 0, "/tmp/unused.sock", &i2c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "no sensor="));
	/* Seven good ones: accepted. */
	assert_int_equal(spec_new(nine, 7, "/tmp/unused.sock", &i2c, err, sizeof(err)), 0);
	virtio_i2c_free(i2c);
}

static void test_sources(void **state)
{
	char dir[] = "/tmp/vireo-i2c-src-XXXXXX", path[64], text[80], err[256];
	struct i2c_source src;
	int64_t mc = 0;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/temp1_input", dir);
	snprintf(text, sizeof(text), "file:%s", path);
	/* A file source: read at each call; missing and garbage files are errors. */
	assert_int_equal(i2c_source_open(&src, text, err, sizeof(err)), 0);
	assert_int_equal(i2c_source_read(&src, &mc), -ENOENT);
	fp = fopen(path, "w");
	fputs("-4250\n", fp);
	fclose(fp);
	assert_int_equal(i2c_source_read(&src, &mc), 0);
	assert_int_equal(mc, -4250);
	fp = fopen(path, "w");
	fputs("hot\n", fp);
	fclose(fp);
	assert_int_equal(i2c_source_read(&src, &mc), -EINVAL);
	fp = fopen(path, "w");
	fclose(fp);
	assert_int_equal(i2c_source_read(&src, &mc), -EIO);
	i2c_source_close(&src);
	unlink(path);
	rmdir(dir);
	/* A constant, and what is not a source. */
	assert_int_equal(i2c_source_open(&src, "const:85000", err, sizeof(err)), 0);
	assert_int_equal(i2c_source_read(&src, &mc), 0);
	assert_int_equal(mc, 85000);
	i2c_source_close(&src);
	assert_int_equal(i2c_source_open(&src, "const:1e3", err, sizeof(err)), -EINVAL);
	assert_int_equal(i2c_source_open(&src, "nocolon", err, sizeof(err)), -EINVAL);
	assert_int_equal(i2c_source_open(&src, ":x", err, sizeof(err)), -EINVAL);
	assert_int_equal(i2c_source_open(&src, "file:", err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_indirect_requests),
		cmocka_unit_test(test_group_across_kicks),
		cmocka_unit_test(test_hostile_chains),
		cmocka_unit_test(test_without_zero_length),
		cmocka_unit_test(test_spec),
		cmocka_unit_test(test_sources),
	};

	mock_log_install();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
