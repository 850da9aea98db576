/* SPDX-License-Identifier: MIT */
/*
 * vireo-certify's internal interface: the options a run takes, the report every check
 * writes its verdict to (report.c), the block device plumbing the blk checks drive
 * through the core's driver host (blk_dev.c) and the class entry points (blk_checks.c).
 * Owns no policy of the core: a driver is loaded, opened and fed requests exactly as
 * vireod would, through host_load(), host_blk_open() and host_blk_submit().
 */
#ifndef VIREO_CERTIFY_H
#define VIREO_CERTIFY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vireo/common.h>

#include "host/blkdev.h"
#include "host/loader.h"

/* Exit codes, documented in `vireo-certify --help`. */
#define CERT_EXIT_PASS	  0  /* every check passed (skips allowed) */
#define CERT_EXIT_FAIL	  1  /* at least one check failed */
#define CERT_EXIT_USAGE	  2  /* bad arguments, or the run could not be set up */
#define CERT_EXIT_SKIPPED 77 /* the driver's class has no checks yet (Meson's skip) */

#define CERT_MAX_PARAMS 32

/** What one run was asked to do. */
struct cert_opts {
	const char *driver_path;
	const char *keys[CERT_MAX_PARAMS]; /* --param KEY=VALUE, split */
	const char *values[CERT_MAX_PARAMS];
	size_t nparams;
	uint64_t seed;
	unsigned int ops; /* random read/write operations */
};

/* ---- report.c ---- */

enum cert_result {
	CERT_PASS = 0,
	CERT_FAIL = 1,
	CERT_SKIP = 2,
};

struct cert_report;

/** cert_report_new() - An empty report for @driver (a label). Return: 0 or -ENOMEM. */
int cert_report_new(const char *driver, struct cert_report **out);

/** cert_report_free() - NULL is fine. */
void cert_report_free(struct cert_report *r);

/**
 * cert_report_add() - Record the verdict of check @name with a one-line reason, and
 * print "PASS name: reason" on stdout. The time since the previous verdict is the check's.
 * Return: 0 or -ENOMEM.
 */
VIREO_PRINTF(4, 5)
int cert_report_add(struct cert_report *r, const char *name, enum cert_result res, const char *fmt,
		    ...);

/** cert_report_count() - How many verdicts are @res. */
unsigned int cert_report_count(const struct cert_report *r, enum cert_result res);

/** cert_report_summary() - "certify: DRIVER: N passed, N failed, N skipped" on stdout. */
void cert_report_summary(const struct cert_report *r);

/** cert_report_write_tap() - TAP version 13 to @path. Return: 0 or a negative errno. */
int cert_report_write_tap(const struct cert_report *r, const char *path);

/** cert_report_write_junit() - JUnit XML to @path. Return: 0 or a negative errno. */
int cert_report_write_junit(const struct cert_report *r, const char *path);

/* ---- log.c: the core's and the driver's log lines ---- */

/** cert_log_start() - Catch libvireo's log lines; echo them to stderr if @verbose. */
void cert_log_start(bool verbose);

/** cert_log_stop() - Back to libvireo's default sink. */
void cert_log_stop(void);

/**
 * cert_log_misuse() - How many error lines the core logged about driver misuse (a
 * double completion, a completion of a request not outstanding, a bad status), with
 * the first one copied to @first. Context: no other thread may be logging the
 * harness's own lines at the same time.
 */
unsigned int cert_log_misuse(char *first, size_t len);

/* ---- blk_dev.c: one block device instance with a loop per queue ---- */

/** Time a request may take before the harness calls it lost. */
#define CERT_IO_TIMEOUT_MS 10000

/** One request as the harness tracks it: the core's io plus what its callback saw. */
struct cert_io {
	struct host_blk_io io;
	atomic_int calls;     /* done callbacks; must end at exactly 1 when accepted */
	int status;	      /* the last callback's status */
	atomic_uint *pending; /* decremented by the callback: the queue's count */
};

/** An open instance and the loops its queues run on. */
struct cert_blk {
	struct host_driver *drv;
	struct host_blk *hb;
	struct vireo_blk_geometry geo;
	unsigned int nqueues;
	struct vireo_loop *loops[VIREO_BLK_MAX_QUEUES];
	atomic_uint pending[VIREO_BLK_MAX_QUEUES]; /* accepted, not yet completed */
	atomic_uint_fast64_t extra_calls;	   /* callbacks past the first, any request */
	/* Successful completions by op, of requests the driver saw (for the stats check). */
	atomic_uint_fast64_t ok_ops[5];
	atomic_uint_fast64_t ok_bytes[5];
	atomic_uint_fast64_t errors;
};

/**
 * cert_blk_open() - Open @drv with @opts' parameters and @queues queues, each with its
 * own loop. @err gets the core's line on failure. Return: 0 or a negative errno.
 */
int cert_blk_open(struct cert_blk *b, struct host_driver *drv, const struct cert_opts *opts,
		  unsigned int queues, char *err, size_t errlen);

/** cert_blk_close() - Drain, close the instance and free the loops. Return: 0 or -EBUSY. */
int cert_blk_close(struct cert_blk *b);

/** cert_io_prep() - Fill @c for one request on @queue; clears the callback record. */
void cert_io_prep(struct cert_blk *b, struct cert_io *c, uint32_t op, unsigned int queue,
		  uint64_t offset, uint64_t length, const struct iovec *iov, uint32_t iovcnt);

/**
 * cert_io_submit() - host_blk_submit() @c, counting it pending if accepted.
 * Return: host_blk_submit()'s result.
 */
int cert_io_submit(struct cert_blk *b, struct cert_io *c);

/**
 * cert_wait() - Run @queue's loop on the calling thread until none of its accepted
 * requests is pending. Return: 0, or -ETIMEDOUT after CERT_IO_TIMEOUT_MS.
 */
int cert_wait(struct cert_blk *b, unsigned int queue);

/** cert_io_run() - Submit @c and wait for it. Return: its status, or the refusal. */
int cert_io_run(struct cert_blk *b, struct cert_io *c);

/** cert_settle() - Run every loop briefly, so that late (duplicate) completions land. */
void cert_settle(struct cert_blk *b);

/* ---- blk_checks.c ---- */

/**
 * cert_blk_run() - Every blk check on the driver @drv, verdicts into @r.
 * Return: 0 (failures are verdicts), or a negative errno if the run could not start.
 */
int cert_blk_run(struct host_driver *drv, const struct cert_opts *opts, struct cert_report *r);

#endif /* VIREO_CERTIFY_H */
