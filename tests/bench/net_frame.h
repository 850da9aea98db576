/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The frames vireo-bench's net run sends and expects back (audience: tests/bench
 * only): an Ethernet frame of a fixed length with a bench header after the
 * Ethernet header (magic, queue pair, transmit entry, sequence number) and a
 * payload pattern that depends on the transmit entry and the byte's offset, so a
 * frame can be checked whole without remembering what was sent.
 *
 * A transmit buffer is built once (bench_frame_build()); each send only stamps a
 * new sequence number (bench_frame_stamp()). A received frame is checked cheaply
 * (bench_frame_check(): length, Ethernet addresses either way round, since a
 * forwarder may swap them, magic, queue pair, and the sequence number out), or
 * whole (with @full: the payload pattern too).
 *
 * No state, no I/O: pure functions over buffers.
 */
#ifndef VIREO_BENCH_NET_FRAME_H
#define VIREO_BENCH_NET_FRAME_H

#include <stdbool.h>
#include <stdint.h>

/** Ethernet header length, and the bench header that follows it. */
#define BENCH_FRAME_ETH_LEN 14u
#define BENCH_FRAME_HDR_LEN 16u
/** The shortest frame the format holds: Ethernet header and bench header. */
#define BENCH_FRAME_MIN_LEN (BENCH_FRAME_ETH_LEN + BENCH_FRAME_HDR_LEN)
/** The longest frame (a 1500-byte MTU, an Ethernet header and one VLAN tag). */
#define BENCH_FRAME_MAX_LEN 1518u
/** IEEE 802 local experimental ethertype: no host stack takes these frames. */
#define BENCH_FRAME_ETHERTYPE 0x88b5u
/** "VrBn", at the start of the bench header. */
#define BENCH_FRAME_MAGIC 0x5672426eu

/** What bench_frame_check() found. Each has a line in bench_frame_err_str(). */
enum bench_frame_err {
	BENCH_FRAME_OK = 0,
	BENCH_FRAME_ERR_FOREIGN, /**< not a bench frame (ethertype or magic): someone else's */
	BENCH_FRAME_ERR_LEN,	 /**< a bench frame, but not of the length sent */
	BENCH_FRAME_ERR_MAC,	 /**< Ethernet addresses are not the ones sent */
	BENCH_FRAME_ERR_QUEUE,	 /**< sent on another queue pair */
	BENCH_FRAME_ERR_ENTRY,	 /**< transmit entry out of range */
	BENCH_FRAME_ERR_PAYLOAD, /**< payload bytes differ from the pattern */
	BENCH_FRAME_ERR_MAX,
};

/** bench_frame_err_str() - One line describing @err. */
const char *bench_frame_err_str(enum bench_frame_err err);

/** Who sends and who receives. */
struct bench_frame_addr {
	uint8_t dst[6]; /**< destination MAC as sent */
	uint8_t src[6]; /**< source MAC as sent */
};

/**
 * bench_frame_build() - Write a whole frame of @len bytes into @buf: Ethernet
 * header, bench header (sequence number 0) and the payload pattern of @entry.
 * @return 0, or -EINVAL when @len is outside BENCH_FRAME_MIN_LEN..MAX_LEN.
 */
int bench_frame_build(uint8_t *buf, uint32_t len, const struct bench_frame_addr *a, uint16_t queue,
		      uint16_t entry);

/** bench_frame_stamp() - Set the sequence number of a built frame. */
void bench_frame_stamp(uint8_t *buf, uint64_t seq);

/**
 * bench_frame_check() - Check a received frame of @len bytes against what this
 * run sends: @want_len bytes from @a on queue pair @queue, entries below
 * @nentries; with @full, the payload pattern too.
 * @param seq the frame's sequence number, set when BENCH_FRAME_OK is returned.
 */
enum bench_frame_err bench_frame_check(const uint8_t *buf, uint32_t len, uint32_t want_len,
				       const struct bench_frame_addr *a, uint16_t queue,
				       uint16_t nentries, bool full, uint64_t *seq);

#endif /* VIREO_BENCH_NET_FRAME_H */
