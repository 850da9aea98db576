/* SPDX-License-Identifier: MIT */
/*
 * The core's part of nvme_probe: a loop to run. A driver gets its loop from its class
 * (vireo_blk_queue_loop()); this test has no class instance, so probe_loop.c plays the
 * core through lib/internal.h, and nvme_probe.c (the driver's part) sees only this.
 */
#ifndef PROBE_LOOP_H
#define PROBE_LOOP_H

#include <vireo/loop.h>

/* A new loop, or NULL. */
struct vireo_loop *probe_loop_new(void);
/* Dispatch what is ready within @timeout_ms; callbacks run (>= 0) or a negative errno. */
int probe_loop_run_once(struct vireo_loop *loop, int timeout_ms);
void probe_loop_free(struct vireo_loop *loop);

#endif /* PROBE_LOOP_H */
