// SPDX-License-Identifier: MIT
/*
 * virtio-i2c request parsing and execution (rules in i2c_req.h). Every byte taken
 * from the guest is copied out once before it is looked at; lengths come from the
 * walked chain, which chain.c has already bounded.
 */
#include "virtio/i2c_req.h"

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "virtio/i2c_wire.h"
#include "virtqueue/chain.h"
#include "virtqueue/iov.h"

static const char *const i2c_refusal_names[I2C_REFUSE_MAX] = {
	[I2C_REFUSE_NONE] = "none",
	[I2C_REFUSE_NO_STATUS] = "no_status_byte",
	[I2C_REFUSE_SHORT_HDR] = "short_header",
	[I2C_REFUSE_FLAGS] = "reserved_flags",
	[I2C_REFUSE_TWO_BUFFERS] = "two_buffers",
	[I2C_REFUSE_ZERO_LENGTH] = "zero_length_not_negotiated",
	[I2C_REFUSE_DIRECTION] = "direction_mismatch",
	[I2C_REFUSE_OVERSIZE] = "oversize",
	[I2C_REFUSE_ADDRESS] = "bad_address",
};

const char *i2c_refusal_name(enum i2c_refusal r)
{
	if ((unsigned int)r >= I2C_REFUSE_MAX)
		return "?";
	return i2c_refusal_names[r];
}

void i2c_bus_init(struct i2c_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
}

int i2c_bus_add(struct i2c_bus *bus, uint16_t addr, i2c_xfer_fn xfer, void *ctx)
{
	if (addr < 0x08 || addr > 0x77)
		return -EINVAL;
	for (unsigned int i = 0; i < bus->ntargets; i++)
		if (bus->targets[i].addr == addr)
			return -EEXIST;
	if (bus->ntargets >= I2C_MAX_TARGETS)
		return -ENOSPC;
	bus->targets[bus->ntargets++] =
		(struct i2c_target){ .addr = addr, .xfer = xfer, .ctx = ctx };
	return 0;
}

void i2c_bus_reset(struct i2c_bus *bus)
{
	bus->fail_next = false;
}

/* The last writable byte of the chain: where the status goes. NULL if none. */
static uint8_t *i2c_status_byte(const struct vireo_vq_chain *c)
{
	for (unsigned int i = c->out_num + c->in_num; i > c->out_num; i--) {
		const struct iovec *v = &c->iov[i - 1];

		if (v->iov_len)
			return (uint8_t *)v->iov_base + v->iov_len - 1;
	}
	return NULL;
}

static const struct i2c_target *i2c_find(const struct i2c_bus *bus, uint16_t addr)
{
	for (unsigned int i = 0; i < bus->ntargets; i++)
		if (bus->targets[i].addr == addr)
			return &bus->targets[i];
	return NULL;
}

/* Checks the header against the chain; returns the refusal, or NONE with @read set. */
static enum i2c_refusal i2c_check(const struct i2c_bus *bus, uint16_t addr, uint32_t flags,
				  uint32_t wlen, uint32_t rlen, bool *read)
{
	if (flags & ~(VIRTIO_I2C_FLAGS_FAIL_NEXT | VIRTIO_I2C_FLAGS_M_RD))
		return I2C_REFUSE_FLAGS;
	if (wlen && rlen)
		return I2C_REFUSE_TWO_BUFFERS;
	if (!wlen && !rlen) {
		if (!bus->zero_length)
			return I2C_REFUSE_ZERO_LENGTH;
		*read = flags & VIRTIO_I2C_FLAGS_M_RD;
	} else {
		*read = rlen != 0;
		/* M_RD is the driver's statement of direction; a buffer must agree with it.
		 * Without the feature the bit is reserved, so only a read may carry it. */
		if ((flags & VIRTIO_I2C_FLAGS_M_RD) ? !*read : (*read && bus->zero_length))
			return I2C_REFUSE_DIRECTION;
	}
	if (wlen > I2C_MAX_XFER || rlen > I2C_MAX_XFER)
		return I2C_REFUSE_OVERSIZE;
	if (addr & 0xff01u)
		return I2C_REFUSE_ADDRESS;
	return I2C_REFUSE_NONE;
}

/* Runs a well-formed request on the bus; returns its status. */
static uint8_t i2c_run(struct i2c_bus *bus, const struct vireo_vq_chain *c, uint16_t addr7,
		       bool read, uint32_t wlen, uint32_t rlen, uint32_t *used_len)
{
	const struct i2c_target *t = i2c_find(bus, addr7);
	uint32_t len = read ? rlen : wlen;

	if (!t) {
		bus->c.nak++;
		return VIRTIO_I2C_MSG_ERR;
	}
	if (!read)
		vq_iov_read(c->iov, c->out_num, sizeof(struct virtio_i2c_out_hdr), bus->buf, wlen);
	else
		memset(bus->buf, 0xff, rlen); /* what an idle bus reads, should a target not fill */
	if (t->xfer(t->ctx, read, bus->buf, len) < 0) {
		bus->c.nak++;
		return VIRTIO_I2C_MSG_ERR;
	}
	if (len == 0)
		bus->c.zero_length++;
	if (read) {
		vq_iov_write(vireo_vq_chain_in_iov(c), c->in_num, 0, bus->buf, rlen);
		bus->c.reads++;
		bus->c.bytes_read += rlen;
		*used_len = rlen + 1;
	} else {
		bus->c.writes++;
		bus->c.bytes_written += wlen;
	}
	return VIRTIO_I2C_MSG_OK;
}

void i2c_bus_request(struct i2c_bus *bus, const struct vireo_vq_chain *c, struct i2c_result *res)
{
	struct virtio_i2c_out_hdr hdr;
	uint8_t *status = i2c_status_byte(c);
	uint32_t wlen, rlen;
	bool read = false, group = false;

	memset(res, 0, sizeof(*res));
	res->status = VIRTIO_I2C_MSG_ERR;
	res->used_len = 1;
	bus->c.requests++;

	if (c->out_len >= sizeof(hdr)) {
		vq_iov_read(c->iov, c->out_num, 0, (uint8_t *)&hdr, sizeof(hdr));
		res->addr = le16toh(hdr.addr);
		res->flags = le32toh(hdr.flags);
		group = res->flags & VIRTIO_I2C_FLAGS_FAIL_NEXT;
	}
	if (!status) {
		res->refusal = I2C_REFUSE_NO_STATUS;
		res->used_len = 0;
	} else if (c->out_len < sizeof(hdr)) {
		res->refusal = I2C_REFUSE_SHORT_HDR;
	} else {
		wlen = c->out_len - (uint32_t)sizeof(hdr);
		rlen = c->in_len - 1;
		res->refusal = i2c_check(bus, res->addr, res->flags, wlen, rlen, &read);
		if (res->refusal == I2C_REFUSE_NONE) {
			if (bus->fail_next)
				bus->c.group_failed++;
			else
				res->status = i2c_run(bus, c, res->addr >> 1, read, wlen, rlen,
						      &res->used_len);
		}
	}
	if (res->refusal != I2C_REFUSE_NONE)
		bus->c.refused[res->refusal]++;
	if (res->status == VIRTIO_I2C_MSG_OK)
		bus->c.ok++;
	/* A failure with FAIL_NEXT set fails the next request too, and so on. */
	bus->fail_next = res->status != VIRTIO_I2C_MSG_OK && group;
	if (status)
		*status = res->status;
}
