// SPDX-License-Identifier: MIT
/*
 * vireo-bench's net frames: building a transmit frame once, stamping a sequence
 * number per send, and checking a received frame (cheaply, or with its payload).
 * Byte layout after the Ethernet header, all little-endian:
 *   0 magic (u32), 4 queue pair (u16), 6 transmit entry (u16), 8 sequence (u64),
 *   16.. payload: byte at frame offset j of entry e is pattern(e, j).
 */
#include "net_frame.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#define OFF_MAGIC (BENCH_FRAME_ETH_LEN + 0)
#define OFF_QUEUE (BENCH_FRAME_ETH_LEN + 4)
#define OFF_ENTRY (BENCH_FRAME_ETH_LEN + 6)
#define OFF_SEQ	  (BENCH_FRAME_ETH_LEN + 8)

static const char *const frame_err_strs[BENCH_FRAME_ERR_MAX] = {
	[BENCH_FRAME_OK] = "ok",
	[BENCH_FRAME_ERR_FOREIGN] = "not a bench frame",
	[BENCH_FRAME_ERR_LEN] = "bench frame of the wrong length",
	[BENCH_FRAME_ERR_MAC] = "Ethernet addresses differ from those sent",
	[BENCH_FRAME_ERR_QUEUE] = "bench frame of another queue pair",
	[BENCH_FRAME_ERR_ENTRY] = "transmit entry out of range",
	[BENCH_FRAME_ERR_PAYLOAD] = "payload differs from what was sent",
};

const char *bench_frame_err_str(enum bench_frame_err err)
{
	if ((unsigned int)err >= BENCH_FRAME_ERR_MAX)
		return "unknown reason";
	return frame_err_strs[err];
}

/* Differs between entries and along the frame, so a shifted or mixed-up copy shows. */
static uint8_t pattern(uint16_t entry, uint32_t j)
{
	return (uint8_t)(entry * 131u + j * 7u + (j >> 8) + 0x5au);
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

int bench_frame_build(uint8_t *buf, uint32_t len, const struct bench_frame_addr *a, uint16_t queue,
		      uint16_t entry)
{
	uint32_t magic = htole32(BENCH_FRAME_MAGIC);
	uint16_t q = htole16(queue), e = htole16(entry);

	if (len < BENCH_FRAME_MIN_LEN || len > BENCH_FRAME_MAX_LEN)
		return -EINVAL;
	memcpy(buf, a->dst, 6);
	memcpy(buf + 6, a->src, 6);
	buf[12] = BENCH_FRAME_ETHERTYPE >> 8; /* network order */
	buf[13] = BENCH_FRAME_ETHERTYPE & 0xff;
	memcpy(buf + OFF_MAGIC, &magic, 4);
	memcpy(buf + OFF_QUEUE, &q, 2);
	memcpy(buf + OFF_ENTRY, &e, 2);
	bench_frame_stamp(buf, 0);
	for (uint32_t j = BENCH_FRAME_MIN_LEN; j < len; j++)
		buf[j] = pattern(entry, j);
	return 0;
}

void bench_frame_stamp(uint8_t *buf, uint64_t seq)
{
	uint64_t s = htole64(seq);

	memcpy(buf + OFF_SEQ, &s, sizeof(s));
}

enum bench_frame_err bench_frame_check(const uint8_t *buf, uint32_t len, uint32_t want_len,
				       const struct bench_frame_addr *a, uint16_t queue,
				       uint16_t nentries, bool full, uint64_t *seq)
{
	uint16_t entry;
	uint64_t s;

	if (len < BENCH_FRAME_MIN_LEN || buf[12] != (BENCH_FRAME_ETHERTYPE >> 8) ||
	    buf[13] != (BENCH_FRAME_ETHERTYPE & 0xff) ||
	    get32(buf + OFF_MAGIC) != BENCH_FRAME_MAGIC)
		return BENCH_FRAME_ERR_FOREIGN;
	if (len != want_len)
		return BENCH_FRAME_ERR_LEN;
	/* As sent, or swapped by a forwarder (testpmd's macswap). */
	if (!(memcmp(buf, a->dst, 6) == 0 && memcmp(buf + 6, a->src, 6) == 0) &&
	    !(memcmp(buf, a->src, 6) == 0 && memcmp(buf + 6, a->dst, 6) == 0))
		return BENCH_FRAME_ERR_MAC;
	if (get16(buf + OFF_QUEUE) != queue)
		return BENCH_FRAME_ERR_QUEUE;
	entry = get16(buf + OFF_ENTRY);
	if (entry >= nentries)
		return BENCH_FRAME_ERR_ENTRY;
	for (uint32_t j = BENCH_FRAME_MIN_LEN; full && j < len; j++)
		if (buf[j] != pattern(entry, j))
			return BENCH_FRAME_ERR_PAYLOAD;
	memcpy(&s, buf + OFF_SEQ, sizeof(s));
	*seq = le64toh(s);
	return BENCH_FRAME_OK;
}
