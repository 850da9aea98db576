// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/virtio/i2c_req.c: requests as walked chains (iovecs cut
 * anywhere, as the spec allows) against a bus of LM75 models and a target that
 * NAKs; absent addresses, FAIL_NEXT groups, zero-length requests with and without
 * the feature, and hostile chains (no status byte, short header, bad flags, two
 * buffers, wrong direction, oversize, bad address), each refused by name.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "virtio/i2c_req.h"
#include "virtio/i2c_wire.h"
#include "virtio/lm75.h"
#include "virtqueue/chain.h"

static int64_t g_mc = 25000;

static int src_read(void *ctx, int64_t *mc)
{
	(void)ctx;
	*mc = g_mc;
	return 0;
}

static int lm75_xfer(void *ctx, bool read, uint8_t *buf, size_t len)
{
	return read ? lm75_read(ctx, buf, len, 0) : lm75_write(ctx, buf, len, 0);
}

static unsigned int g_nak_calls;

static int nak_xfer(void *ctx, bool read, uint8_t *buf, size_t len)
{
	(void)ctx;
	(void)read;
	(void)buf;
	(void)len;
	g_nak_calls++;
	return -EIO;
}

struct fx {
	struct i2c_bus *bus;
	struct lm75 lm48, lm4f;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->bus = malloc(sizeof(*f->bus));
	i2c_bus_init(f->bus);
	f->bus->zero_length = true;
	lm75_init(&f->lm48, src_read, NULL);
	lm75_init(&f->lm4f, src_read, NULL);
	assert_int_equal(i2c_bus_add(f->bus, 0x48, lm75_xfer, &f->lm48), 0);
	assert_int_equal(i2c_bus_add(f->bus, 0x4f, lm75_xfer, &f->lm4f), 0);
	assert_int_equal(i2c_bus_add(f->bus, 0x20, nak_xfer, NULL), 0);
	g_nak_calls = 0;
	g_mc = 25000;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	free(f->bus);
	free(f);
	return 0;
}

/* A request built in one flat buffer, then cut into iovecs at @cuts. */
struct req {
	uint8_t out[64];
	uint32_t out_len;
	uint8_t in[64];
	uint32_t in_len;
	struct iovec iov[16];
	struct vireo_vq_chain c;
};

static void hdr(struct req *r, uint16_t addr, uint32_t flags)
{
	struct virtio_i2c_out_hdr h = { .addr = addr, .flags = flags };

	memcpy(r->out, &h, sizeof(h));
	r->out_len = sizeof(h);
}

/* Makes the chain: readable bytes cut every @step, writable ones likewise. */
static struct vireo_vq_chain *chain(struct req *r, uint32_t step)
{
	unsigned int n = 0;

	memset(&r->c, 0, sizeof(r->c));
	vireo_vq_chain_init(&r->c, r->iov, 16);
	for (uint32_t o = 0; o < r->out_len; o += step) {
		r->iov[n].iov_base = r->out + o;
		r->iov[n++].iov_len = o + step > r->out_len ? r->out_len - o : step;
	}
	r->c.out_num = n;
	for (uint32_t o = 0; o < r->in_len; o += step) {
		r->iov[n].iov_base = r->in + o;
		r->iov[n++].iov_len = o + step > r->in_len ? r->in_len - o : step;
	}
	r->c.in_num = n - r->c.out_num;
	r->c.out_len = r->out_len;
	r->c.in_len = r->in_len;
	return &r->c;
}

static struct i2c_result run(struct fx *f, struct req *r, uint32_t step)
{
	struct i2c_result res;

	memset(r->in, 0xee, sizeof(r->in));
	i2c_bus_request(f->bus, chain(r, step), &res);
	return res;
}

/* A write of @n bytes to 7-bit @addr. */
static void wreq(struct req *r, uint16_t addr, uint32_t flags, const uint8_t *b, uint32_t n)
{
	hdr(r, (uint16_t)(addr << 1), flags);
	memcpy(r->out + 8, b, n);
	r->out_len += n;
	r->in_len = 1;
}

static void rreq(struct req *r, uint16_t addr, uint32_t flags, uint32_t n)
{
	hdr(r, (uint16_t)(addr << 1), flags | VIRTIO_I2C_FLAGS_M_RD);
	r->in_len = n + 1;
}

static void test_read_temperature(void **state)
{
	struct fx *f = *state;
	struct req w, r;
	uint8_t p = LM75_REG_TEMP;

	for (uint32_t step = 1; step <= 9; step += 4) {
		wreq(&w, 0x48, VIRTIO_I2C_FLAGS_FAIL_NEXT, &p, 1);
		struct i2c_result a = run(f, &w, step);
		assert_int_equal(a.status, VIRTIO_I2C_MSG_OK);
		assert_int_equal(a.refusal, I2C_REFUSE_NONE);
		assert_int_equal(a.used_len, 1);
		assert_int_equal(w.in[0], VIRTIO_I2C_MSG_OK);
		rreq(&r, 0x48, 0, 2);
		struct i2c_result b = run(f, &r, step);
		assert_int_equal(b.status, VIRTIO_I2C_MSG_OK);
		assert_int_equal(b.used_len, 3);
		assert_int_equal(r.in[0], 0x19);
		assert_int_equal(r.in[1], 0x00);
		assert_int_equal(r.in[2], VIRTIO_I2C_MSG_OK);
	}
	assert_int_equal(f->bus->c.reads, 3);
	assert_int_equal(f->bus->c.writes, 3);
	assert_int_equal(f->bus->c.bytes_read, 6);
}

static void test_limits_write_read_back(void **state)
{
	struct fx *f = *state;
	struct req w, p, r;
	uint8_t tos[3] = { LM75_REG_TOS, 0x3c, 0x80 }, ptr = LM75_REG_TOS;

	wreq(&w, 0x4f, 0, tos, 3);
	assert_int_equal(run(f, &w, 2).status, VIRTIO_I2C_MSG_OK);
	wreq(&p, 0x4f, VIRTIO_I2C_FLAGS_FAIL_NEXT, &ptr, 1);
	assert_int_equal(run(f, &p, 8).status, VIRTIO_I2C_MSG_OK);
	rreq(&r, 0x4f, 0, 2);
	assert_int_equal(run(f, &r, 8).status, VIRTIO_I2C_MSG_OK);
	assert_int_equal(r.in[0], 0x3c);
	assert_int_equal(r.in[1], 0x80);
	/* The other sensor kept its own. */
	assert_int_equal(f->lm48.tos, LM75_TOS_RESET);
}

static void test_absent_and_groups(void **state)
{
	struct fx *f = *state;
	struct req a, b, c, d;
	uint8_t p = 0;

	/* Absent address: ERR, nothing written but the status. */
	rreq(&a, 0x49, 0, 2);
	struct i2c_result r = run(f, &a, 8);
	assert_int_equal(r.status, VIRTIO_I2C_MSG_ERR);
	assert_int_equal(r.refusal, I2C_REFUSE_NONE);
	assert_int_equal(r.used_len, 1);
	assert_int_equal(a.in[0], 0xee);
	assert_int_equal(a.in[2], VIRTIO_I2C_MSG_ERR);
	/* No FAIL_NEXT: the next request is served. */
	rreq(&b, 0x48, 0, 2);
	assert_int_equal(run(f, &b, 8).status, VIRTIO_I2C_MSG_OK);

	/* A group of three whose first fails: all three fail, the target is not reached. */
	wreq(&a, 0x20, VIRTIO_I2C_FLAGS_FAIL_NEXT, &p, 1);
	wreq(&b, 0x48, VIRTIO_I2C_FLAGS_FAIL_NEXT, &p, 1);
	rreq(&c, 0x48, 0, 2);
	assert_int_equal(run(f, &a, 8).status, VIRTIO_I2C_MSG_ERR);
	assert_int_equal(g_nak_calls, 1);
	assert_int_equal(run(f, &b, 8).status, VIRTIO_I2C_MSG_ERR);
	assert_int_equal(run(f, &c, 8).status, VIRTIO_I2C_MSG_ERR);
	assert_int_equal(c.in[0], 0xee);
	assert_int_equal(f->bus->c.group_failed, 2);
	/* The group ended: the next one is served. */
	rreq(&d, 0x48, 0, 2);
	assert_int_equal(run(f, &d, 8).status, VIRTIO_I2C_MSG_OK);

	/* A group whose last member fails leaves nothing pending. */
	wreq(&a, 0x48, VIRTIO_I2C_FLAGS_FAIL_NEXT, &p, 1);
	rreq(&b, 0x4a, 0, 2);
	assert_int_equal(run(f, &a, 8).status, VIRTIO_I2C_MSG_OK);
	assert_int_equal(run(f, &b, 8).status, VIRTIO_I2C_MSG_ERR);
	assert_int_equal(run(f, &d, 8).status, VIRTIO_I2C_MSG_OK);

	/* A refused request with FAIL_NEXT fails its group too; a reset ends a group. */
	wreq(&a, 0x48, VIRTIO_I2C_FLAGS_FAIL_NEXT | 0x80, &p, 1);
	assert_int_equal(run(f, &a, 8).refusal, I2C_REFUSE_FLAGS);
	assert_int_equal(run(f, &d, 8).status, VIRTIO_I2C_MSG_ERR);
	wreq(&a, 0x4a, VIRTIO_I2C_FLAGS_FAIL_NEXT, &p, 1);
	assert_int_equal(run(f, &a, 8).status, VIRTIO_I2C_MSG_ERR);
	i2c_bus_reset(f->bus);
	assert_int_equal(run(f, &d, 8).status, VIRTIO_I2C_MSG_OK);
}

static void test_zero_length(void **state)
{
	struct fx *f = *state;
	struct req q;

	/* SMBus quick write and read: acknowledged by present targets only. */
	hdr(&q, 0x48 << 1, 0);
	q.in_len = 1;
	assert_int_equal(run(f, &q, 8).status, VIRTIO_I2C_MSG_OK);
	hdr(&q, 0x48 << 1, VIRTIO_I2C_FLAGS_M_RD);
	assert_int_equal(run(f, &q, 8).status, VIRTIO_I2C_MSG_OK);
	assert_int_equal(q.in[0], VIRTIO_I2C_MSG_OK);
	hdr(&q, 0x4c << 1, 0);
	assert_int_equal(run(f, &q, 8).status, VIRTIO_I2C_MSG_ERR);
	assert_int_equal(f->bus->c.zero_length, 2);
	/* Without the feature a request needs a buffer. */
	f->bus->zero_length = false;
	hdr(&q, 0x48 << 1, 0);
	struct i2c_result r = run(f, &q, 8);
	assert_int_equal(r.status, VIRTIO_I2C_MSG_ERR);
	assert_int_equal(r.refusal, I2C_REFUSE_ZERO_LENGTH);
	/* ... and a read without M_RD is fine then (the bit is the feature's). */
	rreq(&q, 0x48, 0, 2);
	hdr(&q, 0x48 << 1, 0);
	assert_int_equal(run(f, &q, 8).status, VIRTIO_I2C_MSG_OK);
}

static void test_hostile(void **state)
{
	struct fx *f = *state;
	struct req q;
	struct i2c_result r;
	uint8_t p = 0;

	/* No writable byte at all: nothing can be answered; nothing is written. */
	wreq(&q, 0x48, 0, &p, 1);
	q.in_len = 0;
	r = run(f, &q, 8);
	assert_int_equal(r.refusal, I2C_REFUSE_NO_STATUS);
	assert_int_equal(r.used_len, 0);
	/* Header cut short (7 bytes), and no readable bytes at all. */
	hdr(&q, 0x48 << 1, 0);
	q.out_len = 7;
	q.in_len = 1;
	r = run(f, &q, 3);
	assert_int_equal(r.refusal, I2C_REFUSE_SHORT_HDR);
	assert_int_equal(q.in[0], VIRTIO_I2C_MSG_ERR);
	q.out_len = 0;
	assert_int_equal(run(f, &q, 3).refusal, I2C_REFUSE_SHORT_HDR);
	/* Reserved flags. */
	wreq(&q, 0x48, 1u << 31, &p, 1);
	assert_int_equal(run(f, &q, 8).refusal, I2C_REFUSE_FLAGS);
	/* A write and a read buffer in one request. */
	wreq(&q, 0x48, 0, &p, 1);
	q.in_len = 3;
	assert_int_equal(run(f, &q, 8).refusal, I2C_REFUSE_TWO_BUFFERS);
	/* Direction against M_RD, both ways. */
	wreq(&q, 0x48, VIRTIO_I2C_FLAGS_M_RD, &p, 1);
	assert_int_equal(run(f, &q, 8).refusal, I2C_REFUSE_DIRECTION);
	rreq(&q, 0x48, 0, 2);
	hdr(&q, 0x48 << 1, 0);
	assert_int_equal(run(f, &q, 8).refusal, I2C_REFUSE_DIRECTION);
	/* R/W bit and 10-bit addresses. */
	wreq(&q, 0x48, 0, &p, 1);
	hdr(&q, (0x48 << 1) | 1, 0);
	q.out_len = 9;
	assert_int_equal(run(f, &q, 8).refusal, I2C_REFUSE_ADDRESS);
	hdr(&q, 0x48f0, 0);
	q.out_len = 9;
	assert_int_equal(run(f, &q, 8).refusal, I2C_REFUSE_ADDRESS);
	assert_int_equal(f->bus->c.refused[I2C_REFUSE_ADDRESS], 2);
	assert_int_equal(f->bus->c.ok, 0);
}

static void test_oversize(void **state)
{
	struct fx *f = *state;
	uint8_t *big = calloc(1, I2C_MAX_XFER + 16);
	struct iovec iov[2];
	struct vireo_vq_chain c;
	struct i2c_result r;
	struct virtio_i2c_out_hdr h = { .addr = 0x48 << 1, .flags = VIRTIO_I2C_FLAGS_M_RD };
	uint8_t hb[8];

	memcpy(hb, &h, sizeof(h));
	vireo_vq_chain_init(&c, iov, 2);
	iov[0] = (struct iovec){ hb, 8 };
	/* The largest read allowed works and fills every byte with the register. */
	iov[1] = (struct iovec){ big, I2C_MAX_XFER + 1 };
	c.out_num = c.in_num = 1;
	c.out_len = 8;
	c.in_len = I2C_MAX_XFER + 1;
	i2c_bus_request(f->bus, &c, &r);
	assert_int_equal(r.status, VIRTIO_I2C_MSG_OK);
	assert_int_equal(r.used_len, I2C_MAX_XFER + 1);
	assert_int_equal(big[I2C_MAX_XFER - 2], 0x19);
	assert_int_equal(big[I2C_MAX_XFER], VIRTIO_I2C_MSG_OK);
	/* One byte more is refused. */
	iov[1].iov_len = I2C_MAX_XFER + 2;
	c.in_len = I2C_MAX_XFER + 2;
	i2c_bus_request(f->bus, &c, &r);
	assert_int_equal(r.refusal, I2C_REFUSE_OVERSIZE);
	assert_int_equal(big[I2C_MAX_XFER + 1], VIRTIO_I2C_MSG_ERR);
	free(big);
}

static void test_bus_add(void **state)
{
	struct fx *f = *state;

	assert_int_equal(i2c_bus_add(f->bus, 0x48, nak_xfer, NULL), -EEXIST);
	assert_int_equal(i2c_bus_add(f->bus, 0x07, nak_xfer, NULL), -EINVAL);
	assert_int_equal(i2c_bus_add(f->bus, 0x78, nak_xfer, NULL), -EINVAL);
	for (uint16_t a = 0x50; a < 0x55; a++)
		assert_int_equal(i2c_bus_add(f->bus, a, nak_xfer, NULL), 0);
	assert_int_equal(i2c_bus_add(f->bus, 0x60, nak_xfer, NULL), -ENOSPC);
	assert_string_equal(i2c_refusal_name(I2C_REFUSE_SHORT_HDR), "short_header");
	assert_string_equal(i2c_refusal_name(I2C_REFUSE_MAX), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_temperature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits_write_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent_and_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bus_add, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
