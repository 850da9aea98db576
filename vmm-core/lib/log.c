// SPDX-License-Identifier: MIT
/*
 * libvireo logging: vireo_log() and friends for drivers, the sink and threshold for
 * the core. Owns line formatting (one line, bounded, no embedded newlines) and rate
 * limiting; not where lines end up (the core's sink decides, stderr by default).
 */
#include "internal.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define LOG_DEFAULT_INTERVAL_MS 5000u
#define LOG_DEFAULT_BURST	10u
#define LOG_HEXDUMP_MAX		256u

static pthread_mutex_t g_log_lock = PTHREAD_MUTEX_INITIALIZER;
static vireo_core_log_sink_t g_sink; /* protects: g_log_lock (with g_sink_ctx) */
static void *g_sink_ctx;
static _Atomic int g_level = VIREO_LOG_INFO;

static const char *const log_level_names[] = {
	[VIREO_LOG_ERR] = "err",   [VIREO_LOG_WARN] = "warn",	[VIREO_LOG_NOTICE] = "notice",
	[VIREO_LOG_INFO] = "info", [VIREO_LOG_DEBUG] = "debug",
};

const char *vireo_core_log_level_name(enum vireo_log_level level)
{
	if (level < VIREO_LOG_ERR || level > VIREO_LOG_DEBUG)
		return "?";
	return log_level_names[level];
}

static enum vireo_log_level log_clamp(enum vireo_log_level level)
{
	if ((int)level < VIREO_LOG_ERR)
		return VIREO_LOG_ERR;
	if ((int)level > VIREO_LOG_DEBUG)
		return VIREO_LOG_DEBUG;
	return level;
}

void vireo_core_log_set_sink(vireo_core_log_sink_t sink, void *ctx)
{
	pthread_mutex_lock(&g_log_lock);
	g_sink = sink;
	g_sink_ctx = ctx;
	pthread_mutex_unlock(&g_log_lock);
}

void vireo_core_log_set_level(enum vireo_log_level max)
{
	atomic_store(&g_level, (int)log_clamp(max));
}

static bool log_enabled(enum vireo_log_level level)
{
	return (int)log_clamp(level) <= atomic_load(&g_level);
}

/* Writes one finished line to the sink. */
static void log_emit(enum vireo_log_level level, const char *tag, const char *line)
{
	level = log_clamp(level);
	if (!tag || !*tag)
		tag = "driver";
	pthread_mutex_lock(&g_log_lock);
	if (g_sink)
		g_sink(g_sink_ctx, level, tag, line);
	else
		fprintf(stderr, "vireo: %s: %s: %s\n", vireo_core_log_level_name(level), tag, line);
	pthread_mutex_unlock(&g_log_lock);
}

void vireo_logv(enum vireo_log_level level, const char *tag, const char *fmt, va_list ap)
{
	char line[VIREO_LOG_LINE_MAX + 1];
	int n;

	if (!log_enabled(level))
		return;
	if (!fmt)
		fmt = "(null format)";
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		snprintf(line, sizeof(line), "(unformattable message: %s)", fmt);
	else if ((size_t)n >= sizeof(line))
		memcpy(line + sizeof(line) - 4, "...", 4);
	/* One line per call: a trailing newline goes, inner ones become spaces. */
	for (size_t len = strlen(line); len && (line[len - 1] == '\n' || line[len - 1] == '\r');)
		line[--len] = '\0';
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	log_emit(level, tag, line);
}

void vireo_log(enum vireo_log_level level, const char *tag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vireo_logv(level, tag, fmt, ap);
	va_end(ap);
}

static uint64_t log_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Counts one line against @rl: returns whether to write it, and in *missed the lines
 * dropped in the window that just closed (0 if none closed). state[0] is the window's
 * start (0: none yet), state[1] the lines written in it, state[2] the lines dropped.
 */
static bool log_ratelimit_pass(struct vireo_ratelimit *rl, uint64_t *missed)
{
	uint64_t interval, burst, now = log_now_ns();
	bool pass;

	interval =
		(uint64_t)(rl->interval_ms ? rl->interval_ms : LOG_DEFAULT_INTERVAL_MS) * 1000000u;
	burst = rl->burst ? rl->burst : LOG_DEFAULT_BURST;
	*missed = 0;
	pthread_mutex_lock(&g_log_lock);
	if (rl->state[0] == 0 || now - rl->state[0] >= interval) {
		*missed = rl->state[2];
		rl->state[0] = now;
		rl->state[1] = 0;
		rl->state[2] = 0;
	}
	pass = rl->state[1] < burst;
	if (pass)
		rl->state[1]++;
	else
		rl->state[2]++;
	pthread_mutex_unlock(&g_log_lock);
	return pass;
}

void vireo_log_ratelimited(struct vireo_ratelimit *rl, enum vireo_log_level level, const char *tag,
			   const char *fmt, ...)
{
	uint64_t missed;
	bool pass = true;
	va_list ap;

	if (!log_enabled(level))
		return;
	/* A limit zeroed by hand (struct_size 0) is taken as this version's. */
	if (rl && (rl->struct_size == 0 || rl->struct_size >= sizeof(*rl))) {
		pass = log_ratelimit_pass(rl, &missed);
		if (missed)
			vireo_log(VIREO_LOG_WARN, tag,
				  "%" PRIu64 " lines suppressed by a rate limit", missed);
	}
	if (!pass)
		return;
	va_start(ap, fmt);
	vireo_logv(level, tag, fmt, ap);
	va_end(ap);
}

void vireo_log_hexdump(enum vireo_log_level level, const char *tag, const char *title,
		       const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t shown = len < LOG_HEXDUMP_MAX ? len : LOG_HEXDUMP_MAX;
	char line[16 * 3 + 8];

	if (!log_enabled(level))
		return;
	if (title)
		vireo_log(level, tag, "%s (%zu bytes)", title, len);
	if (!p)
		return;
	for (size_t off = 0; off < shown; off += 16) {
		size_t n = 0;

		n += (size_t)snprintf(line, sizeof(line), "%04zx:", off);
		for (size_t i = off; i < off + 16 && i < shown; i++)
			n += (size_t)snprintf(line + n, sizeof(line) - n, " %02x", p[i]);
		vireo_log(level, tag, "%s", line);
	}
	if (len > shown)
		vireo_log(level, tag, "(%zu more bytes not shown)", len - shown);
}
