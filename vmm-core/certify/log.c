// SPDX-License-Identifier: MIT
/*
 * vireo-certify's log sink: every line libvireo would print (the driver's own, the
 * core's) comes here. Lines go to stderr with --verbose; error lines in which the core
 * reports a driver misusing the ABI (a double completion, a completion of a request
 * that is not outstanding, a bad status, a submit that completed and refused) are
 * counted, so that the completion check can name them. Owns the sink; not the verdicts.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "certify.h"
#include "lib/internal.h"

static bool g_verbose;
static atomic_uint g_misuse;
static char g_first_misuse[256]; /* written once, under libvireo's log lock */

/* Runs under libvireo's log lock: must not log. */
static void log_sink(void *ctx, enum vireo_log_level level, const char *tag, const char *line)
{
	(void)ctx;
	if (level == VIREO_LOG_ERR && (!strcmp(tag, "blk") || !strcmp(tag, "host"))) {
		if (atomic_fetch_add(&g_misuse, 1) == 0)
			snprintf(g_first_misuse, sizeof(g_first_misuse), "%s: %s", tag, line);
	}
	if (g_verbose || level == VIREO_LOG_ERR)
		fprintf(stderr, "[%s] %s: %s\n", vireo_core_log_level_name(level), tag, line);
}

void cert_log_start(bool verbose)
{
	g_verbose = verbose;
	vireo_core_log_set_level(verbose ? VIREO_LOG_DEBUG : VIREO_LOG_INFO);
	vireo_core_log_set_sink(log_sink, NULL);
}

void cert_log_stop(void)
{
	vireo_core_log_set_sink(NULL, NULL);
}

unsigned int cert_log_misuse(char *first, size_t len)
{
	unsigned int n = atomic_load(&g_misuse);

	if (n && first && len)
		snprintf(first, len, "%s", g_first_misuse);
	return n;
}
