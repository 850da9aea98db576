/* SPDX-License-Identifier: MIT */
/*
 * libvireo's core-only interface: what vireod (the driver host, device models, tests)
 * uses of libvireo.so.1 and drivers must not. The functions are exported in the
 * VIREO_INTERNAL node of sdk/libvireo.map, which carries no compatibility promise (the
 * core and libvireo ship together) and which the ABI gate ignores. The structs are the
 * concrete forms of the SDK's opaque handles; only the core and libvireo see them.
 * Owns no policy: the host decides what to load and when, libvireo only carries it out.
 */
#ifndef VIREO_LIB_INTERNAL_H
#define VIREO_LIB_INTERNAL_H

#include <stdatomic.h>

#include <vireo/blk.h>
#include <vireo/log.h>
#include <vireo/loop.h>
#include <vireo/net.h>
#include <vireo/params.h>
#include <vireo/sensor.h>

/* ---- logging ---- */

/**
 * typedef vireo_core_log_sink_t - Where finished log lines go.
 * @ctx: the pointer given to vireo_core_log_set_sink().
 * @level: the line's level, clamped to VIREO_LOG_ERR..VIREO_LOG_DEBUG.
 * @tag: who spoke (never NULL).
 * @line: the message: one line, no newline, at most VIREO_LOG_LINE_MAX bytes.
 * Context: the logging thread, under libvireo's log lock: must not log itself.
 */
typedef void (*vireo_core_log_sink_t)(void *ctx, enum vireo_log_level level, const char *tag,
				      const char *line);

/** vireo_core_log_set_sink() - Send lines to @sink (NULL: back to stderr). */
VIREO_API void vireo_core_log_set_sink(vireo_core_log_sink_t sink, void *ctx);

/** vireo_core_log_set_level() - Drop lines whose level is above @max (default INFO). */
VIREO_API void vireo_core_log_set_level(enum vireo_log_level max);

/** vireo_core_log_level_name() - "err", "warn", ...; "?" out of range. */
VIREO_API const char *vireo_core_log_level_name(enum vireo_log_level level);

/* ---- parameters ---- */

/** A parsed parameter value; .s points into the parsed text (or the params' copy). */
union vireo_core_param_value {
	bool b;
	int64_t i;
	uint64_t u;
	const char *s;
	uint8_t mac[6];
};

/** vireo_core_param_type_name() - "bool", "int", "uint", "string", "mac"; "?" else. */
VIREO_API const char *vireo_core_param_type_name(uint32_t type);

/**
 * vireo_core_param_parse() - Parse @text as a value of @type (the forms params.h lists).
 * @err: on failure, why, e.g. "'12abc' is not a uint (4096, 0x1000, 64M)".
 * Return: 0, or -EINVAL (message in @err).
 */
VIREO_API int vireo_core_param_parse(uint32_t type, const char *text,
				     union vireo_core_param_value *out, char *err, size_t errlen);

/**
 * vireo_core_params_new() - Check user-given values against a driver's declarations
 * and build the set its open op reads.
 * @decls: the driver's table, already validated by the host (an array, no sentinel).
 * @ndecls: its length.
 * @keys: names the user gave, @nvalues of them, with @values their texts.
 * @out: the new set; free with vireo_core_params_free(). It copies everything it needs.
 * @err: on failure, one line naming the parameter and the problem.
 * Return: 0, -EINVAL (unknown name, given twice, bad value, missing required one,
 * bad default), -ENOMEM.
 */
VIREO_API int vireo_core_params_new(const struct vireo_param_decl *decls, size_t ndecls,
				    const char *const *keys, const char *const *values,
				    size_t nvalues, struct vireo_params **out, char *err,
				    size_t errlen);

/** vireo_core_params_free() - Free a set; NULL is fine. */
VIREO_API void vireo_core_params_free(struct vireo_params *params);

/* ---- blk ---- */

#define VIREO_CORE_BLK_MAGIC	 0x626c6b31u /* "blk1" */
#define VIREO_CORE_BLK_REQ_MAGIC 0x72657131u /* "req1" */

/** The concrete struct vireo_blk: embedded in the host's per-instance state. */
struct vireo_blk {
	uint32_t magic;			 /* VIREO_CORE_BLK_MAGIC while open */
	void *priv;			 /* the driver's */
	const char *id;			 /* device id, owned by the host */
	struct vireo_loop *const *loops; /* each queue's loop, owned by the device model */
	unsigned int nloops;
	bool read_only; /* the device spec's readonly=on */
};

/** States of a core request; moved only with atomic compare-and-swap. */
enum vireo_core_req_state {
	VIREO_CORE_REQ_IDLE = 0,      /* the core's: not with the driver */
	VIREO_CORE_REQ_SUBMITTED = 1, /* with the driver, not yet completed */
	VIREO_CORE_REQ_COMPLETED = 2, /* the driver completed it; the core finishes it */
};

/** A request as the core holds it: the driver sees only .pub. */
struct vireo_core_blk_req {
	struct vireo_blk_req pub;
	uint32_t magic;	   /* VIREO_CORE_BLK_REQ_MAGIC */
	atomic_uint state; /* enum vireo_core_req_state */
	/* Called once per accepted request by vireo_blk_complete(), on its thread. */
	void (*complete)(struct vireo_core_blk_req *req, int status);
};

/* ---- net (experimental: no net device model binds instances yet) ---- */

/** The concrete struct vireo_net. */
struct vireo_net {
	void *priv;	/* the driver's */
	const char *id; /* device id, owned by the core */
	/* What the driver's notifications call; NULL until a device model binds it. */
	void *core;
	void (*rx_ready)(void *core, unsigned int queue);
	void (*tx_ready)(void *core, unsigned int queue);
	void (*link_changed)(void *core);
	struct vireo_loop *(*queue_loop)(void *core, unsigned int queue);
};

/* ---- sensor (host/sensordev.c opens and serves instances) ---- */

/** The concrete struct vireo_sensor. */
struct vireo_sensor {
	void *priv;	/* the driver's */
	const char *id; /* device id, owned by the core */
};

/* ---- event loops (lib/loop.c); drivers use the vireo_loop_* half in <vireo/loop.h> ---- */

/**
 * vireo_core_loop_new() - Create a loop (epoll, a wake eventfd, deferred work).
 * Return: 0, or a negative errno.
 */
VIREO_API int vireo_core_loop_new(struct vireo_loop **out);

/**
 * vireo_core_loop_free() - Free a loop that is not running, after every watch and
 * timer was removed. Deferred work never run is dropped.
 */
VIREO_API void vireo_core_loop_free(struct vireo_loop *loop);

/**
 * vireo_core_loop_run() - Dispatch until vireo_core_loop_stop().
 * Return: 0 after a stop, or the negative errno of a failed epoll_wait.
 * Context: the thread that owns the loop from now on.
 */
VIREO_API int vireo_core_loop_run(struct vireo_loop *loop);

/**
 * vireo_core_loop_run_once() - Wait up to @timeout_ms (-1: forever), dispatch one batch.
 * Return: callbacks run (>= 0), or a negative errno.
 */
VIREO_API int vireo_core_loop_run_once(struct vireo_loop *loop, int timeout_ms);

/** vireo_core_loop_stop() - Make vireo_core_loop_run() return. Context: any thread. */
VIREO_API void vireo_core_loop_stop(struct vireo_loop *loop);

/** vireo_core_loop_in_thread() - Whether the caller is dispatching this loop now. */
VIREO_API bool vireo_core_loop_in_thread(const struct vireo_loop *loop);

#endif /* VIREO_LIB_INTERNAL_H */
