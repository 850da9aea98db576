/* SPDX-License-Identifier: MIT */
/*
 * The host half of the memory balloon (ddk-docs/balloon.md): the guest agent relays
 * the ranges vireo_balloon.ko took as "balloon-batch" events; each range is checked
 * against the vsock device's guest memory table, punched out of the region's memfd
 * (fallocate PUNCH_HOLE), and checked to be a hole afterwards; then the batch is
 * answered with a "balloon-done" request (ok, or refused with the reason). The
 * agent's "memstats" events are kept here too (the last sample and when it came).
 *
 * Everything the guest sends is hostile: a batch with one bad range is refused whole
 * (nothing of that message is punched), the reason is logged (rate-limited) and
 * counted, and nothing here can fail vireod.
 */
#ifndef VIREO_AGENT_BALLOON_H
#define VIREO_AGENT_BALLOON_H

#include <stdbool.h>
#include <stdint.h>

struct json_object;
struct vu_mem_span;
struct agent_balloon;

/** Fills @out with the guest memory table; see vu_dev_mem_snapshot(). */
typedef int (*agent_mem_fn)(void *arg, struct vu_mem_span *out, unsigned int cap);

/** Why a range or batch was refused; names in agent_balloon_refusal_name(). */
enum agent_balloon_refusal {
	BALLOON_REFUSE_MALFORMED, /* not {seq, part, parts, ranges: [[gpa, len]...]} */
	BALLOON_REFUSE_ZERO,	  /* a range of length 0 */
	BALLOON_REFUSE_UNALIGNED, /* gpa or len not a multiple of 4 KiB */
	BALLOON_REFUSE_WRAP,	  /* gpa + len past 2^64 */
	BALLOON_REFUSE_FOREIGN,	  /* a byte outside the guest's RAM regions */
	BALLOON_REFUSE_NO_TABLE,  /* no memory table (the frontend is not connected) */
	BALLOON_REFUSE_PUNCH,	  /* fallocate() failed */
	BALLOON_REFUSE_NOT_HOLE,  /* the range still held data after the punch */
	BALLOON_REFUSE_MAX,
};

/** Counters and the last memory statistics, for `vireoctl device stats`. */
struct agent_balloon_stats {
	uint64_t batches;	  /**< batches answered */
	uint64_t batches_acked;	  /**< ... with ok */
	uint64_t batches_nacked;  /**< ... refused */
	uint64_t ranges;	  /**< ranges punched */
	uint64_t bytes_punched;	  /**< bytes punched (all batches) */
	uint64_t bytes_reported;  /**< the part of bytes_punched from free page reporting */
	uint64_t bytes_released;  /**< drop of the memfds' allocated bytes over the punches */
	uint64_t memfd_allocated; /**< the memfds' allocated bytes (st_blocks), last measured */
	uint64_t refused[BALLOON_REFUSE_MAX];
	int64_t last_batch_ns; /**< CLOCK_MONOTONIC of the last answer; 0: none */
	/* The last "memstats" event (bytes, counts); stats_ns 0: none yet. */
	int64_t stats_ns;
	uint64_t mem_total, mem_free, mem_available, mem_cached, swap_in, swap_out, major_faults;
};

/** Sends one request to the agent, on the client's thread (args: ownership passes). */
typedef void (*agent_post_fn)(void *ac, const char *cmd, struct json_object *args);

/** agent_balloon_new() - State for one agent client; NULL when out of memory. */
struct agent_balloon *agent_balloon_new(const char *id, agent_mem_fn mem, void *mem_arg,
					agent_post_fn post, void *post_arg);

/** agent_balloon_free() - NULL is ignored. */
void agent_balloon_free(struct agent_balloon *b);

/**
 * agent_balloon_event() - Handle event @name ("balloon-batch", "memstats") from the
 * agent. Return: true if it was a balloon event. Context: the client's thread.
 */
bool agent_balloon_event(struct agent_balloon *b, const char *name, struct json_object *ev);

/** agent_balloon_reset() - The connection ended: forget a half-received batch. */
void agent_balloon_reset(struct agent_balloon *b);

/** agent_balloon_get_stats() - A snapshot. Context: any thread. */
void agent_balloon_get_stats(struct agent_balloon *b, struct agent_balloon_stats *st);

/** agent_balloon_refusal_name() - "refused_foreign"... for the stats. */
const char *agent_balloon_refusal_name(enum agent_balloon_refusal r);

/** agent_balloon_stats_json() - The counters as the device's "balloon" stats object. */
struct json_object *agent_balloon_stats_json(const struct agent_balloon_stats *st);

/** agent_balloon_memstats_json() - The last memory sample for guest.balloon-stats. */
struct json_object *agent_balloon_memstats_json(const struct agent_balloon_stats *st);

#endif /* VIREO_AGENT_BALLOON_H */
