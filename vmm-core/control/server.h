/* SPDX-License-Identifier: MIT */
/*
 * vireod's control server: a thread that accepts clients on the control socket,
 * reads one JSON request per line and answers each from a command table. Owns the
 * socket and the clients; the commands (and the locks they need) are the daemon's.
 */
#ifndef VIREO_CONTROL_SERVER_H
#define VIREO_CONTROL_SERVER_H

#include <stddef.h>

struct json_object;
struct ctl_server;

/**
 * typedef ctl_handler_t - Runs one command.
 * @ctx: the pointer given to ctl_server_start().
 * @args: the request's "args" object (borrowed).
 * @err: where to write a one-line error.
 * @errlen: size of @err.
 * Return: the result (ownership passes to the server), or NULL with @err set.
 * Context: the control thread; take the daemon's locks as needed.
 */
typedef struct json_object *(*ctl_handler_t)(void *ctx, struct json_object *args, char *err,
					     size_t errlen);

/** A reply still to come: see ctl_async_handler_t. */
struct ctl_pending;

/**
 * typedef ctl_async_handler_t - Starts a command whose answer comes later (from a
 * guest, say), so the control thread never waits for it.
 * @p: complete it exactly once with ctl_pending_done(), from any thread, at any time
 * (even before this returns); until then that client's later requests wait, other
 * clients are served.
 * Return: 0 when @p will be completed, or a negative errno with @err set (then @p must
 * not be touched).
 * Context: the control thread.
 */
typedef int (*ctl_async_handler_t)(void *ctx, struct json_object *args, struct ctl_pending *p,
				   char *err, size_t errlen);

/** A command table row; the table ends with a { NULL } row. */
struct ctl_command {
	const char *name; /**< "device.list" */
	ctl_handler_t handler;
};

/** A row of the async command table; it ends with a { NULL } row. */
struct ctl_async_command {
	const char *name; /**< "guest.info" */
	ctl_async_handler_t handler;
};

/**
 * ctl_pending_done() - Answer a pending request: @result (ownership taken) when it
 * worked, else NULL and @err. Safe after the server stopped (the answer is dropped).
 * Context: any thread.
 */
void ctl_pending_done(struct ctl_pending *p, struct json_object *result, const char *err);

/** Clients served at once; one more is accepted and closed at once. */
#define CTL_MAX_CLIENTS 16

/**
 * ctl_server_start() - Listen on @path (a stale socket there is replaced, a live
 * one is not) and serve @cmds from a new thread.
 * Return: 0, -EADDRINUSE when another server answers on @path, or a negative errno.
 */
int ctl_server_start(const char *path, const struct ctl_command *cmds, void *ctx,
		     struct ctl_server **out);

/**
 * ctl_server_start_async() - ctl_server_start() with async commands too (@acmds may be
 * NULL); a name in both tables is served by @cmds.
 */
int ctl_server_start_async(const char *path, const struct ctl_command *cmds,
			   const struct ctl_async_command *acmds, void *ctx,
			   struct ctl_server **out);

/** ctl_server_stop() - Stop the thread, close every client, remove the socket. */
void ctl_server_stop(struct ctl_server *srv);

#endif /* VIREO_CONTROL_SERVER_H */
