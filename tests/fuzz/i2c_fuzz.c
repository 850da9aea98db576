// SPDX-License-Identifier: MIT
/*
 * Fuzz target: virtio-i2c requests as a guest writes them (vmm-core/virtio/i2c_req.c)
 * on a bus holding an LM75 at 0x48 and a TMP75 at 0x49 (vmm-core/virtio/lm75.c).
 * Input: a sequence of requests, each a control byte (bit 0: zero-length feature,
 * bits 1-3: how many readable pieces, 4-6: how many writable pieces), a length byte
 * per piece, then the readable bytes. Pieces are separate allocations, so a read or
 * write past any of them is caught by ASan. Checked: the status is OK or ERR and
 * written only into the chain's last writable byte, the used length never exceeds
 * the writable bytes, and the counters add up.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "virtio/i2c_req.h"
#include "virtio/i2c_wire.h"
#include "virtio/lm75.h"
#include "virtqueue/chain.h"

#define MAX_PIECES 7

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fixed_temp(void *ctx, int64_t *millideg)
{
	*millideg = *(const int64_t *)ctx;
	return 0;
}

struct sensor {
	struct lm75 chip;
	uint64_t now_ms;
};

static int sensor_xfer(void *ctx, bool read, uint8_t *buf, size_t len)
{
	struct sensor *s = ctx;

	s->now_ms += 30; /* time moves: conversions, one-shots and faults run */
	lm75_tick(&s->chip, s->now_ms);
	return read ? lm75_read(&s->chip, buf, len, s->now_ms)
		    : lm75_write(&s->chip, buf, len, s->now_ms);
}

/* One request from the input at *pos; false when the input is used up. */
static bool run_one(struct i2c_bus *bus, const uint8_t *data, size_t size, size_t *pos)
{
	struct iovec iov[2 * MAX_PIECES];
	uint8_t *piece[2 * MAX_PIECES] = { 0 };
	struct vireo_vq_chain chain;
	struct i2c_result res;
	unsigned int nout, nin, n, i;
	const uint8_t *lens;
	uint8_t ctl, *last = NULL;
	uint64_t before = bus->c.requests;
	bool ok = true;

	if (*pos >= size)
		return false;
	ctl = data[(*pos)++];
	bus->zero_length = ctl & 1;
	nout = (ctl >> 1) & 7;
	nin = (ctl >> 4) & 7;
	if (nout > MAX_PIECES)
		nout = MAX_PIECES;
	if (nin > MAX_PIECES)
		nin = MAX_PIECES;
	n = nout + nin;
	if (size - *pos < n)
		return false;
	vireo_vq_chain_init(&chain, iov, 2 * MAX_PIECES);
	lens = data + *pos; /* all the length bytes first, then the readable bytes */
	*pos += n;
	for (i = 0; i < n; i++) {
		size_t len = lens[i];

		/* malloc(0) may return NULL: keep one byte so every piece has an address. */
		piece[i] = malloc(len ? len : 1);
		if (!piece[i]) {
			ok = false;
			goto out_free;
		}
		iov[i] = (struct iovec){ piece[i], len };
		if (i < nout) {
			size_t take = len < size - *pos ? len : size - *pos;

			memset(piece[i], 0, len);
			memcpy(piece[i], data + *pos, take);
			*pos += take;
			chain.out_len += (uint32_t)len;
		} else {
			memset(piece[i], 0xa5, len);
			chain.in_len += (uint32_t)len;
			if (len)
				last = piece[i] + len - 1;
		}
	}
	chain.out_num = nout;
	chain.in_num = nin;
	chain.ndesc = n;

	i2c_bus_request(bus, &chain, &res);

	if (bus->c.requests != before + 1)
		abort();
	if (res.used_len > chain.in_len)
		abort();
	if (res.refusal == I2C_REFUSE_NO_STATUS) {
		if (chain.in_len || res.used_len)
			abort();
	} else {
		if (res.status != VIRTIO_I2C_MSG_OK && res.status != VIRTIO_I2C_MSG_ERR)
			abort();
		if (!last || *last != res.status || res.used_len == 0)
			abort();
		if (res.refusal != I2C_REFUSE_NONE && res.status != VIRTIO_I2C_MSG_ERR)
			abort();
	}
out_free:
	for (i = 0; i < n; i++)
		free(piece[i]);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct i2c_bus bus; /* large (8 KiB buffer): not on the stack */
	struct sensor lm75, tmp75;
	int64_t temp = size ? (int64_t)data[0] * 1000 - 55000 : 25000;
	uint64_t refused = 0;
	size_t pos = 1;

	i2c_bus_init(&bus);
	lm75 = (struct sensor){ .now_ms = 0 };
	tmp75 = (struct sensor){ .now_ms = 0 };
	lm75_init(&lm75.chip, fixed_temp, &temp);
	lm75_init(&tmp75.chip, fixed_temp, &temp);
	lm75_set_model(&tmp75.chip, LM75_MODEL_TMP75);
	if (i2c_bus_add(&bus, 0x48, sensor_xfer, &lm75) < 0 ||
	    i2c_bus_add(&bus, 0x49, sensor_xfer, &tmp75) < 0)
		abort();
	while (run_one(&bus, data, size, &pos))
		;
	for (unsigned int r = 1; r < I2C_REFUSE_MAX; r++)
		refused += bus.c.refused[r];
	if (bus.c.ok + bus.c.nak + bus.c.group_failed + refused > bus.c.requests)
		abort();
	return 0;
}
