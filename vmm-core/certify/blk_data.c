// SPDX-License-Identifier: MIT
/*
 * The data helpers of vireo-certify's blk checks: the seeded xorshift64* generator,
 * scattered iovec buffers with guard gaps (so a driver that writes outside a request's
 * iovecs is caught), the comparison with the shadow copy of the device window, and
 * waited-for requests that fill or verify a range of the window. Owns no verdicts.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk_run.h"

uint64_t blk_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

void blk_fill_random(uint64_t *rng, uint8_t *buf, size_t len)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t v = blk_rand(rng);

		memcpy(buf + i, &v, 8);
	}
	for (; i < len; i++)
		buf[i] = (uint8_t)blk_rand(rng);
}

int blk_sg_init(struct blk_sg *sg, size_t maxlen)
{
	sg->memlen = maxlen + (BLK_SG_MAX + 1) * BLK_SG_GUARD;
	sg->mem = aligned_alloc(4096, (sg->memlen + 4095) / 4096 * 4096);
	sg->n = 0;
	return sg->mem ? 0 : -ENOMEM;
}

void blk_sg_free(struct blk_sg *sg)
{
	free(sg->mem);
	sg->mem = NULL;
}

/*
 * Splits @len bytes into up to @max_segs iovecs of 512-byte multiples, laid out in
 * sg->mem with a guard gap before, between and after them, filled with BLK_SG_FILL.
 */
void blk_sg_build(struct blk_sg *sg, uint64_t *rng, size_t len, uint32_t max_segs)
{
	size_t units = len / 512, pos = BLK_SG_GUARD;
	uint32_t n = max_segs < BLK_SG_MAX ? max_segs : BLK_SG_MAX;

	if (n > units)
		n = (uint32_t)units;
	n = 1 + (uint32_t)(blk_rand(rng) % n);
	memset(sg->mem, BLK_SG_FILL, sg->memlen);
	for (uint32_t i = 0; i < n; i++) {
		size_t left = units - (n - 1 - i); /* leave a unit for each later segment */
		size_t take = i == n - 1 ? units : 1 + (size_t)(blk_rand(rng) % left);

		if (i != n - 1 && take > left)
			take = left;
		sg->iov[i].iov_base = sg->mem + pos;
		sg->iov[i].iov_len = take * 512;
		pos += take * 512 + BLK_SG_GUARD;
		units -= take;
	}
	sg->n = n;
}

void blk_sg_copy_in(struct blk_sg *sg, const uint8_t *flat)
{
	for (uint32_t i = 0; i < sg->n; i++) {
		memcpy(sg->iov[i].iov_base, flat, sg->iov[i].iov_len);
		flat += sg->iov[i].iov_len;
	}
}

void blk_sg_copy_out(const struct blk_sg *sg, uint8_t *flat)
{
	for (uint32_t i = 0; i < sg->n; i++) {
		memcpy(flat, sg->iov[i].iov_base, sg->iov[i].iov_len);
		flat += sg->iov[i].iov_len;
	}
}

/* The guard gaps still hold BLK_SG_FILL: nothing was written outside the iovecs. */
bool blk_sg_guards_ok(const struct blk_sg *sg)
{
	const uint8_t *p = sg->mem;
	size_t pos = 0;

	for (uint32_t i = 0; i <= sg->n; i++) {
		size_t end = i < sg->n ? (size_t)((uint8_t *)sg->iov[i].iov_base - p)
				       : pos + BLK_SG_GUARD;

		for (size_t j = pos; j < end; j++)
			if (p[j] != BLK_SG_FILL)
				return false;
		if (i < sg->n)
			pos = end + sg->iov[i].iov_len;
	}
	return true;
}

/* Compares @got with the shadow at @off; describes the first difference in @why. */
bool blk_shadow_cmp(struct blk_run *run, uint64_t off, const uint8_t *got, size_t len, char *why,
		    size_t whylen)
{
	const uint8_t *want = run->shadow + off;

	if (!memcmp(want, got, len))
		return true;
	for (size_t i = 0; i < len; i++) {
		if (want[i] != got[i]) {
			snprintf(why, whylen,
				 "read of %zu bytes at %" PRIu64 ": byte %" PRIu64
				 " is 0x%02x, expected 0x%02x",
				 len, off, off + i, got[i], want[i]);
			break;
		}
	}
	return false;
}

/* One request on @queue, waited for; a one-line reason in @why unless it completed OK. */
int blk_sync(struct blk_run *run, uint32_t op, unsigned int queue, uint64_t off, uint64_t len,
	     const struct iovec *iov, uint32_t iovcnt, uint32_t flags, char *why, size_t whylen)
{
	struct cert_io *c = malloc(sizeof(*c));
	int rc;

	if (!c) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	cert_io_prep(&run->b, c, op, queue, off, len, iov, iovcnt);
	c->io.flags = flags;
	rc = cert_io_run(&run->b, c);
	if (rc == -ETIMEDOUT && atomic_load(&c->calls) == 0) {
		snprintf(why, whylen, "%s at %" PRIu64 " (%" PRIu64 " bytes) never completed",
			 blk_op_name(op), off, len);
		/* Left to the driver, which may still complete it: leaked on purpose. */
		run->lost = true;
		return rc;
	}
	free(c);
	if (rc != 0) {
		snprintf(why, whylen, "%s at %" PRIu64 " (%" PRIu64 " bytes) failed: %s",
			 blk_op_name(op), off, len, strerror(-rc));
		return rc < 0 ? rc : -EIO;
	}
	return 0;
}

/* Writes fresh random data over [off, off + len), in max_transfer pieces; the shadow follows. */
int blk_write_range(struct blk_run *run, uint64_t off, uint64_t len, char *why, size_t whylen)
{
	uint64_t chunk = run->chunk;

	for (uint64_t done = 0; done < len; done += chunk) {
		uint64_t n = len - done < chunk ? len - done : chunk;
		struct iovec iov = { run->buf, n };
		int rc;

		blk_fill_random(&run->rng, run->buf, n);
		rc = blk_sync(run, VIREO_BLK_OP_WRITE, 0, off + done, n, &iov, 1, 0, why, whylen);
		if (rc < 0)
			return rc;
		memcpy(run->shadow + off + done, run->buf, n);
	}
	return 0;
}

/* Reads [off, off + len) and compares it with the shadow (or loads the shadow). */
int blk_verify_range(struct blk_run *run, uint64_t off, uint64_t len, bool load, char *why,
		     size_t whylen)
{
	uint64_t chunk = run->chunk;

	for (uint64_t done = 0; done < len; done += chunk) {
		uint64_t n = len - done < chunk ? len - done : chunk;
		struct iovec iov = { run->buf, n };
		int rc;

		memset(run->buf, BLK_SG_FILL, n);
		rc = blk_sync(run, VIREO_BLK_OP_READ, 0, off + done, n, &iov, 1, 0, why, whylen);
		if (rc < 0)
			return rc;
		if (load)
			memcpy(run->shadow + off + done, run->buf, n);
		else if (!blk_shadow_cmp(run, off + done, run->buf, n, why, whylen))
			return -EIO;
	}
	return 0;
}

const char *blk_op_name(uint32_t op)
{
	static const char *const names[] = { "read", "write", "flush", "discard", "write-zeroes" };

	return op < 5 ? names[op] : "op?";
}
