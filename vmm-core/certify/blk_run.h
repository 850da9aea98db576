/* SPDX-License-Identifier: MIT */
/*
 * What blk_checks.c (data checks) and blk_limits.c (refusals, queue depth, queues in
 * parallel) share: the state of one blk certification run, the shadow copy of the
 * device's test window, scattered iovec buffers with guard gaps, and the seeded
 * random generator, whose helpers blk_data.c implements. Internal to vireo-certify's
 * blk class.
 */
#ifndef VIREO_CERTIFY_BLK_RUN_H
#define VIREO_CERTIFY_BLK_RUN_H

#include "certify.h"

/* The part of the device the data checks overwrite and mirror. */
#define CERT_BLK_WINDOW (32ull << 20)

#define BLK_SG_MAX   16	  /* iovecs per random request, at most */
#define BLK_SG_GUARD 512  /* gap around each iovec, checked after every request */
#define BLK_SG_FILL  0xa5 /* what the gaps (and unread buffers) hold */

/** A request's buffer split into scattered iovecs with guard gaps between them. */
struct blk_sg {
	uint8_t *mem;
	size_t memlen;
	struct iovec iov[BLK_SG_MAX];
	uint32_t n;
};

/* Why a check that submits is skipped once a request was lost. */
#define BLK_LOST_REASON "an earlier request never completed: its queue cannot drain"

/** One blk run. */
struct blk_run {
	struct cert_blk b;
	struct cert_report *r;
	const struct cert_opts *opts;
	uint64_t rng;		       /* xorshift64* state, from --seed */
	uint64_t win;		       /* bytes of the device under the shadow, from offset 0 */
	uint64_t chunk;		       /* largest single transfer the helpers use */
	uint8_t *shadow;	       /* what the window must read back as */
	uint8_t *buf;		       /* chunk bytes, 4 KiB aligned */
	bool shadow_ok;		       /* the shadow matches the device */
	atomic_bool lost;	       /* a request never completed (set by any queue's thread) */
	bool has_stats;		       /* get_stats worked at open */
	struct vireo_blk_stats stats0; /* counters right after open */
};

/** blk_rand() - The next xorshift64* value of @s (never 0 if seeded non-zero). */
uint64_t blk_rand(uint64_t *s);
/** blk_fill_random() - @len random bytes into @buf. */
void blk_fill_random(uint64_t *rng, uint8_t *buf, size_t len);
/** blk_op_name() - "read", "write", ...; "op?" out of range. */
const char *blk_op_name(uint32_t op);

/** blk_sg_init() - Room for @maxlen bytes in BLK_SG_MAX pieces. Return: 0 or -ENOMEM. */
int blk_sg_init(struct blk_sg *sg, size_t maxlen);
/** blk_sg_free() - Free the buffer. */
void blk_sg_free(struct blk_sg *sg);
/** blk_sg_build() - Split @len (a multiple of 512) into 1..@max_segs random iovecs. */
void blk_sg_build(struct blk_sg *sg, uint64_t *rng, size_t len, uint32_t max_segs);
/** blk_sg_copy_in() - Scatter @flat into the iovecs. */
void blk_sg_copy_in(struct blk_sg *sg, const uint8_t *flat);
/** blk_sg_copy_out() - Gather the iovecs into @flat. */
void blk_sg_copy_out(const struct blk_sg *sg, uint8_t *flat);
/** blk_sg_guards_ok() - Whether every guard gap is untouched. */
bool blk_sg_guards_ok(const struct blk_sg *sg);

/** blk_shadow_cmp() - Whether @got matches the shadow at @off; else why, in @why. */
bool blk_shadow_cmp(struct blk_run *run, uint64_t off, const uint8_t *got, size_t len, char *why,
		    size_t whylen);

/**
 * blk_sync() - One request on @queue, waited for.
 * Return: 0 if it completed OK; else a negative errno, with one line in @why.
 */
int blk_sync(struct blk_run *run, uint32_t op, unsigned int queue, uint64_t off, uint64_t len,
	     const struct iovec *iov, uint32_t iovcnt, uint32_t flags, char *why, size_t whylen);

/** blk_write_range() - Random data over a window range; the shadow follows. */
int blk_write_range(struct blk_run *run, uint64_t off, uint64_t len, char *why, size_t whylen);

/** blk_verify_range() - Read a window range and compare it (or, @load, copy it) to the shadow. */
int blk_verify_range(struct blk_run *run, uint64_t off, uint64_t len, bool load, char *why,
		     size_t whylen);

/* blk_limits.c */

/** blk_check_refusals() - Malformed requests are refused by submit and never completed. */
void blk_check_refusals(struct blk_run *run);
/** blk_check_queue_depth() - queue_depth + 1 at once: each accepted or -EBUSY, none lost. */
void blk_check_queue_depth(struct blk_run *run);
/** blk_check_queues() - Every queue from its own thread at once, data verified. */
void blk_check_queues(struct blk_run *run);

#endif /* VIREO_CERTIFY_BLK_RUN_H */
