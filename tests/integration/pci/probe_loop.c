// SPDX-License-Identifier: MIT
/* The core's part of nvme_probe (see probe_loop.h): a core loop, made and run. */
#include "probe_loop.h"

#include "lib/internal.h"

struct vireo_loop *probe_loop_new(void)
{
	struct vireo_loop *loop;

	return vireo_core_loop_new(&loop) < 0 ? NULL : loop;
}

int probe_loop_run_once(struct vireo_loop *loop, int timeout_ms)
{
	return vireo_core_loop_run_once(loop, timeout_ms);
}

void probe_loop_free(struct vireo_loop *loop)
{
	vireo_core_loop_free(loop);
}
