/* SPDX-License-Identifier: MIT */
/*
 * vireo-toolsd: the guest agent. Shared by its parts: the configuration, the
 * command-handler shape, and the per-area entry points (info, power, freeze, time).
 * The protocol (JSON lines over AF_VSOCK) is ddk-docs/agent-protocol.md.
 */
#ifndef VIREO_TOOLSD_H
#define VIREO_TOOLSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/** The vsock port toolsd listens on unless told otherwise. */
#define TOOLSD_DEFAULT_PORT 5600
/** Version of the agent protocol, reported by "version" and heartbeats. */
#define TOOLSD_PROTOCOL 1

struct toolsd_config {
	unsigned int port;	   /**< AF_VSOCK port to listen on */
	unsigned int heartbeat_s;  /**< seconds between heartbeats to subscribers */
	unsigned int thaw_after_s; /**< default auto-thaw timeout of fsfreeze */
	unsigned int max_clients;  /**< connections served at once */
	bool verbose;		   /**< log every request */
};

/**
 * A command handler. @args is the request's "args" object (never NULL). On success
 * it stores a new object in @result (or leaves it NULL for {}) and returns 0; on
 * failure it writes a message to @err and returns a negative errno.
 */
typedef int (*toolsd_cmd_fn)(struct json_object *args, struct json_object **result, char *err,
			     size_t errlen);

/* info.c */
int toolsd_cmd_info(struct json_object *args, struct json_object **result, char *err,
		    size_t errlen);

/* power.c: the reply goes out first; toolsd_power_run() acts after it. */
int toolsd_cmd_shutdown(struct json_object *args, struct json_object **result, char *err,
			size_t errlen);
int toolsd_cmd_reboot(struct json_object *args, struct json_object **result, char *err,
		      size_t errlen);
int toolsd_cmd_halt(struct json_object *args, struct json_object **result, char *err,
		    size_t errlen);
/** Carries out a power action a command accepted; returns when none is pending. */
void toolsd_power_run(void);

/* freeze.c */
int toolsd_freeze_init(unsigned int default_timeout_s);
/** The auto-thaw timer's fd, for the main loop to watch. */
int toolsd_freeze_timer_fd(void);
/** The auto-thaw timer fired: thaw everything still frozen. */
void toolsd_freeze_timer_expired(void);
/** Thaw everything (exit path). */
void toolsd_freeze_thaw_all(void);
int toolsd_cmd_fsfreeze(struct json_object *args, struct json_object **result, char *err,
			size_t errlen);
int toolsd_cmd_thaw(struct json_object *args, struct json_object **result, char *err,
		    size_t errlen);
int toolsd_cmd_fsfreeze_status(struct json_object *args, struct json_object **result, char *err,
			       size_t errlen);

/* time.c */
int toolsd_cmd_time(struct json_object *args, struct json_object **result, char *err,
		    size_t errlen);
int toolsd_cmd_set_time(struct json_object *args, struct json_object **result, char *err,
			size_t errlen);

/* info.c: MemTotal and friends, in bytes. */
struct json_object *toolsd_memory_info(void);

/* memstats.c: the memstats event sent with every heartbeat (NULL: out of memory). */
struct json_object *toolsd_memstats_event(void);

/* balloon.c: the relay between /dev/vireo-balloon and the host (ddk-docs/balloon.md). */
/** Ranges per balloon-batch event: about 45 KiB of JSON at most, under the line limit. */
#define TOOLSD_BALLOON_PART 1024
/** Watch the device (when open) in @epfd with @tag; opens it if it is there. */
void toolsd_balloon_init(int epfd, uint64_t tag);
/** Every heartbeat: open the device if it appeared (the module was loaded later). */
void toolsd_balloon_tick(void);
/** The device has batches to read. */
void toolsd_balloon_readable(void);
/**
 * Client @fd subscribed with "balloon": true: batches go to it from now on (the latest
 * such client wins; when it goes, main.c hands the relay to another one that asked).
 */
void toolsd_balloon_relay(int fd);
/** Whether client @fd is the host relay now. */
bool toolsd_balloon_is_relay(int fd);
/** Client @fd is going away; true if it was the host relay. */
bool toolsd_balloon_client_gone(int fd);
/** Exit path: close the device (pending pages stay pending). */
void toolsd_balloon_close(void);
int toolsd_cmd_balloon_set(struct json_object *args, struct json_object **result, char *err,
			   size_t errlen);
int toolsd_cmd_balloon_status(struct json_object *args, struct json_object **result, char *err,
			      size_t errlen);
int toolsd_cmd_balloon_done(struct json_object *args, struct json_object **result, char *err,
			    size_t errlen);
int toolsd_cmd_balloon_reporting(struct json_object *args, struct json_object **result, char *err,
				 size_t errlen);

/* discipline.c: keeps the clock on the host's through vireo_ptp when chrony does not. */
/** --step-threshold SECONDS (a decimal); false if out of range. Before start. */
bool toolsd_discipline_set_threshold(const char *s);
/** --no-time-sync: only measure the offset, for "time". Before start. */
void toolsd_discipline_disable(void);
/** Starts the discipline's thread. Returns 0 or -errno. */
int toolsd_discipline_start(void);
/** The state for "time": mode (toolsd, chrony, off), offset, last step. */
struct json_object *toolsd_discipline_json(void);

/* log.c: one line to stderr (journald adds the rest under systemd). */
void toolsd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* VIREO_TOOLSD_H */
