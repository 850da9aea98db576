/* SPDX-License-Identifier: MIT */
/*
 * virtio-i2c requests (VIRTIO 1.2, 5.19.6) against a bus of I2C targets: taking a
 * walked descriptor chain apart, refusing what breaks the request rules, running
 * the transfer on the addressed target, FAIL_NEXT groups, and writing the status
 * byte. No vhost-user, no threads: virtio/i2c.c feeds it chains from the queue.
 *
 * A request is, in bytes (the spec fixes no descriptor layout): the 8-byte out
 * header, then either a device-readable write buffer or a device-writable read
 * buffer or (with VIRTIO_I2C_F_ZERO_LENGTH_REQUEST) neither, then the status byte,
 * the chain's last writable byte. Rules, each refusal answered with
 * VIRTIO_I2C_MSG_ERR and counted by reason (enum i2c_refusal):
 * - fewer than 8 readable bytes; flag bits other than FAIL_NEXT and M_RD;
 * - both a write and a read buffer (the spec has no combined request);
 * - no buffer at all without the zero-length feature; with it, a buffer whose
 *   direction disagrees with M_RD;
 * - more than I2C_MAX_XFER bytes of data;
 * - an address with bit 0 or bits 15..8 set (R/W bit, 10-bit addressing).
 * A chain without any writable byte cannot be answered: it goes back with used
 * length 0 (I2C_REFUSE_NO_STATUS).
 *
 * FAIL_NEXT: requests are served in ring order. When a request fails (refused,
 * absent address, target error, or failed by its group) and has FAIL_NEXT set, the
 * next request fails without reaching the bus, and so on to the end of the group
 * (the first request without FAIL_NEXT). The state lives in the bus, across kicks.
 */
#ifndef VIREO_VIRTIO_I2C_REQ_H
#define VIREO_VIRTIO_I2C_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vireo_vq_chain;

/** Targets one bus holds. */
#define I2C_MAX_TARGETS 8
/** Data bytes one request may carry (Linux's I2C_RDWR allows 8192 per message). */
#define I2C_MAX_XFER 8192u

/** Why a request was refused before reaching the bus. */
enum i2c_refusal {
	I2C_REFUSE_NONE = 0,
	I2C_REFUSE_NO_STATUS,	/**< no writable byte for the status */
	I2C_REFUSE_SHORT_HDR,	/**< fewer than 8 readable bytes */
	I2C_REFUSE_FLAGS,	/**< reserved flag bits set */
	I2C_REFUSE_TWO_BUFFERS, /**< a write and a read buffer */
	I2C_REFUSE_ZERO_LENGTH, /**< no buffer, zero-length feature not negotiated */
	I2C_REFUSE_DIRECTION,	/**< the buffer's direction disagrees with M_RD */
	I2C_REFUSE_OVERSIZE,	/**< more than I2C_MAX_XFER bytes */
	I2C_REFUSE_ADDRESS,	/**< R/W bit or 10-bit address bits set */
	I2C_REFUSE_MAX,
};

/** i2c_refusal_name() - "short_header", ...: for logs and stats keys. */
const char *i2c_refusal_name(enum i2c_refusal r);

/**
 * One transfer on a target. @read: fill @buf; else @buf holds the bytes to write.
 * @len may be 0 (an address-only transfer, SMBus quick).
 * Return: 0 if the target acknowledged, a negative errno for a NAK.
 */
typedef int (*i2c_xfer_fn)(void *ctx, bool read, uint8_t *buf, size_t len);

/** A target: a 7-bit address and its transfer function. */
struct i2c_target {
	uint16_t addr; /**< 7-bit */
	i2c_xfer_fn xfer;
	void *ctx;
};

/** Counters; plain integers, read under the owner's lock. */
struct i2c_bus_counters {
	uint64_t requests;		     /**< chains answered (or dropped: no status) */
	uint64_t ok;			     /**< completed with VIRTIO_I2C_MSG_OK */
	uint64_t nak;			     /**< absent address or target NAK */
	uint64_t group_failed;		     /**< failed because of FAIL_NEXT */
	uint64_t refused[I2C_REFUSE_MAX];    /**< by reason; [0] unused */
	uint64_t reads, writes, zero_length; /**< transfers that reached a target */
	uint64_t bytes_read, bytes_written;  /**< data bytes moved */
};

/** A bus: its targets, the negotiated zero-length feature and the FAIL_NEXT state. */
struct i2c_bus {
	struct i2c_target targets[I2C_MAX_TARGETS];
	unsigned int ntargets;
	bool zero_length; /**< VIRTIO_I2C_F_ZERO_LENGTH_REQUEST negotiated */
	bool fail_next;	  /**< the previous request failed with FAIL_NEXT set */
	struct i2c_bus_counters c;
	uint8_t buf[I2C_MAX_XFER]; /**< private copy of a request's data */
};

/** i2c_bus_init() - An empty bus. */
void i2c_bus_init(struct i2c_bus *bus);

/**
 * i2c_bus_add() - Attach a target at 7-bit @addr (0x08..0x77).
 * Return: 0, -EINVAL (address out of range), -EEXIST (taken), -ENOSPC (full).
 */
int i2c_bus_add(struct i2c_bus *bus, uint16_t addr, i2c_xfer_fn xfer, void *ctx);

/** i2c_bus_reset() - A device reset: no group in progress. Counters stay. */
void i2c_bus_reset(struct i2c_bus *bus);

/** What became of one request. */
struct i2c_result {
	uint8_t status;		  /**< VIRTIO_I2C_MSG_* written (unless NO_STATUS) */
	uint32_t used_len;	  /**< for the used ring */
	enum i2c_refusal refusal; /**< I2C_REFUSE_NONE if the request was well formed */
	uint16_t addr;		  /**< the raw addr field, for logs (0 if unreadable) */
	uint32_t flags;		  /**< the raw flags field, for logs */
};

/**
 * i2c_bus_request() - Serve one request chain and write its status byte.
 * @chain: a chain from vireo_vq_pop() (its iovecs map guest memory; the guest may
 *         change them meanwhile: every byte is read once, into private copies).
 * Return: nothing; the outcome is in @res.
 */
void i2c_bus_request(struct i2c_bus *bus, const struct vireo_vq_chain *chain,
		     struct i2c_result *res);

#endif /* VIREO_VIRTIO_I2C_REQ_H */
