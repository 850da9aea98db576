/* SPDX-License-Identifier: MIT */
/*
 * A log sink for the host tests: collects the lines libvireo would have written, so
 * tests can assert that a refusal is exactly one line, at which level, with what text.
 */
#ifndef VIREO_TEST_CAPTURE_H
#define VIREO_TEST_CAPTURE_H

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "lib/internal.h"

#define CAP_MAX	     128
#define CAP_LINE_MAX (VIREO_LOG_LINE_MAX + 8)

struct cap_line {
	enum vireo_log_level level;
	char tag[64];
	char text[CAP_LINE_MAX];
};

/* Written by the sink (under libvireo's log lock), read by the test thread. */
static struct {
	int n;
	struct cap_line l[CAP_MAX];
} g_cap;

static inline void cap_sink(void *ctx, enum vireo_log_level level, const char *tag,
			    const char *line)
{
	(void)ctx;
	if (g_cap.n == CAP_MAX)
		return;
	g_cap.l[g_cap.n].level = level;
	snprintf(g_cap.l[g_cap.n].tag, sizeof(g_cap.l[0].tag), "%s", tag);
	snprintf(g_cap.l[g_cap.n].text, sizeof(g_cap.l[0].text), "%s", line);
	g_cap.n++;
}

/* Starts capturing (everything down to DEBUG), forgetting earlier lines. */
static inline void cap_start(void)
{
	memset(&g_cap, 0, sizeof(g_cap));
	vireo_core_log_set_sink(cap_sink, NULL);
	vireo_core_log_set_level(VIREO_LOG_DEBUG);
}

static inline void cap_stop(void)
{
	vireo_core_log_set_sink(NULL, NULL);
	vireo_core_log_set_level(VIREO_LOG_INFO);
}

static inline void cap_clear(void)
{
	g_cap.n = 0;
}

/* Lines at @level exactly. */
static inline int cap_count(enum vireo_log_level level)
{
	int n = 0;

	for (int i = 0; i < g_cap.n; i++)
		n += g_cap.l[i].level == level;
	return n;
}

/* The first line at @level that contains @needle, or NULL. */
static inline const struct cap_line *cap_find(enum vireo_log_level level, const char *needle)
{
	for (int i = 0; i < g_cap.n; i++)
		if (g_cap.l[i].level == level && strstr(g_cap.l[i].text, needle))
			return &g_cap.l[i];
	return NULL;
}

#endif /* VIREO_TEST_CAPTURE_H */
