/* SPDX-License-Identifier: MIT */
/**
 * @file
 * @brief Vireo SDK: logging with levels and rate limiting.
 *
 * Audience: driver authors. Drivers never write to stdout or stderr themselves: they log
 * through the core, which prefixes each line with its tag (by default the driver's
 * name), applies the daemon's level threshold and sends it where the daemon logs
 * (stderr or the journal). A message is one line: the core cuts it at
 * VIREO_LOG_LINE_MAX bytes and turns embedded newlines into spaces.
 *
 * On the data path, log through a struct vireo_ratelimit so that a failing device
 * cannot flood the log.
 */
#ifndef VIREO_LOG_H
#define VIREO_LOG_H

#include <stdarg.h>

#include <vireo/common.h>
#include <vireo/driver.h>

VIREO_BEGIN_DECLS

/** Log levels; the numbers are syslog's, so a journal sink maps them one to one. */
enum vireo_log_level {
	VIREO_LOG_ERR = 3,    /**< an operation failed; the device may be unusable */
	VIREO_LOG_WARN = 4,   /**< something is wrong but the device carries on */
	VIREO_LOG_NOTICE = 5, /**< normal but significant: link up, media change */
	VIREO_LOG_INFO = 6,   /**< start-up and configuration facts */
	VIREO_LOG_DEBUG = 7,  /**< for the driver's author; off by default */
};

/** Longest line the core writes, in bytes, tag and prefix excluded. */
#define VIREO_LOG_LINE_MAX 480

/**
 * @brief Log one line.
 *
 * @param level an enum vireo_log_level; lines above the core's threshold are dropped.
 * @param tag who is speaking, usually the driver's name (VIREO_LOG_TAG); NULL: "driver".
 * @param fmt printf format of the message, without a trailing newline.
 *
 * Context: any thread; does not block on anything but the sink's write.
 */
VIREO_API void vireo_log(enum vireo_log_level level, const char *tag, const char *fmt, ...)
	VIREO_PRINTF(3, 4);

/**
 * @brief Log one line, with the arguments in a va_list.
 *
 * @param level an enum vireo_log_level.
 * @param tag who is speaking; NULL: "driver".
 * @param fmt printf format of the message.
 * @param ap the arguments of @p fmt.
 *
 * Context: any thread.
 */
VIREO_API void vireo_logv(enum vireo_log_level level, const char *tag, const char *fmt, va_list ap)
	VIREO_PRINTF(3, 0);

/**
 * State of one rate limit: at most @c burst lines per @c interval_ms. Define one per
 * call site (usually `static`) with VIREO_RATELIMIT_INIT(); the core owns the state
 * words and guards them itself, so one limit may be shared by several threads.
 */
struct vireo_ratelimit {
	uint32_t struct_size; /**< sizeof(struct vireo_ratelimit) */
	uint32_t interval_ms; /**< length of a window; 0: 5000 */
	uint32_t burst;	      /**< lines allowed per window; 0: 10 */
	uint32_t reserved0;   /**< must be zero */
	uint64_t state[3];    /**< the core's; zero-initialise and leave alone */
};
VIREO_ABI_SIZE(struct vireo_ratelimit, 40);

/** Initializer of a struct vireo_ratelimit: @p ms long windows, @p n lines in each. */
#define VIREO_RATELIMIT_INIT(ms, n)                                                               \
	{                                                                                         \
		.struct_size = sizeof(struct vireo_ratelimit), .interval_ms = (ms), .burst = (n), \
		.reserved0 = 0, .state = {                                                        \
			0,                                                                        \
			0,                                                                        \
			0                                                                         \
		}                                                                                 \
	}

/**
 * @brief Log one line unless @p rl has used up its burst in the current window.
 *
 * When a new window opens after lines were dropped, the core first writes one line
 * saying how many (at VIREO_LOG_WARN, with the same tag).
 *
 * @param rl the call site's limit; NULL logs unconditionally.
 * @param level an enum vireo_log_level.
 * @param tag who is speaking; NULL: "driver".
 * @param fmt printf format of the message.
 *
 * Context: any thread; takes a core-internal lock for a few instructions.
 */
VIREO_API void vireo_log_ratelimited(struct vireo_ratelimit *rl, enum vireo_log_level level,
				     const char *tag, const char *fmt, ...) VIREO_PRINTF(4, 5);

/**
 * @brief Log a buffer as hex, 16 bytes a line, at most 256 bytes. Experimental.
 *
 * @param level an enum vireo_log_level.
 * @param tag who is speaking; NULL: "driver".
 * @param title first line, e.g. "bad descriptor"; NULL: none.
 * @param buf the bytes.
 * @param len how many; bytes past 256 are counted, not shown.
 *
 * Context: any thread.
 */
VIREO_EXPERIMENTAL void vireo_log_hexdump(enum vireo_log_level level, const char *tag,
					  const char *title, const void *buf, size_t len);

#ifndef VIREO_LOG_TAG
/** The tag of the VIREO_ERR()... macros; define it before including to change it. */
#define VIREO_LOG_TAG (vireo_driver_descriptor.name)
#endif

/** Log an error line tagged VIREO_LOG_TAG: `VIREO_ERR("open %s: %d", path, rc)`. */
#define VIREO_ERR(...) vireo_log(VIREO_LOG_ERR, VIREO_LOG_TAG, __VA_ARGS__)
/** Log a warning line tagged VIREO_LOG_TAG. */
#define VIREO_WARN(...) vireo_log(VIREO_LOG_WARN, VIREO_LOG_TAG, __VA_ARGS__)
/** Log a notice line tagged VIREO_LOG_TAG. */
#define VIREO_NOTICE(...) vireo_log(VIREO_LOG_NOTICE, VIREO_LOG_TAG, __VA_ARGS__)
/** Log an info line tagged VIREO_LOG_TAG. */
#define VIREO_INFO(...) vireo_log(VIREO_LOG_INFO, VIREO_LOG_TAG, __VA_ARGS__)
/** Log a debug line tagged VIREO_LOG_TAG. */
#define VIREO_DEBUG(...) vireo_log(VIREO_LOG_DEBUG, VIREO_LOG_TAG, __VA_ARGS__)
/** Log an error line through rate limit @p rl (a struct vireo_ratelimit *). */
#define VIREO_ERR_RL(rl, ...) vireo_log_ratelimited((rl), VIREO_LOG_ERR, VIREO_LOG_TAG, __VA_ARGS__)
/** Log a warning line through rate limit @p rl. */
#define VIREO_WARN_RL(rl, ...) \
	vireo_log_ratelimited((rl), VIREO_LOG_WARN, VIREO_LOG_TAG, __VA_ARGS__)

VIREO_END_DECLS

#endif /* VIREO_LOG_H */
