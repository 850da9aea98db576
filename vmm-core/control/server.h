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

/** A command table row; the table ends with a { NULL } row. */
struct ctl_command {
	const char *name; /**< "device.list" */
	ctl_handler_t handler;
};

/** Clients served at once; one more is accepted and closed at once. */
#define CTL_MAX_CLIENTS 16

/**
 * ctl_server_start() - Listen on @path (a stale socket there is replaced, a live
 * one is not) and serve @cmds from a new thread.
 * Return: 0, -EADDRINUSE when another server answers on @path, or a negative errno.
 */
int ctl_server_start(const char *path, const struct ctl_command *cmds, void *ctx,
		     struct ctl_server **out);

/** ctl_server_stop() - Stop the thread, close every client, remove the socket. */
void ctl_server_stop(struct ctl_server *srv);

#endif /* VIREO_CONTROL_SERVER_H */
