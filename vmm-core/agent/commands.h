/* SPDX-License-Identifier: MIT */
/*
 * The control socket's guest.* commands (ddk-docs/control-protocol.md): each checks
 * its arguments, becomes one agent request, and answers the control client when the
 * agent does (or times out); guest.time adds the host's side of the clock reading.
 */
#ifndef VIREO_AGENT_COMMANDS_H
#define VIREO_AGENT_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

struct agent_client;
struct ctl_pending;
struct json_object;

/** agent_command_known() - Whether @name ("guest.info") is a guest command. */
bool agent_command_known(const char *name);

/**
 * agent_command_start() - Start control command @name with its @args (borrowed) on
 * @ac; @p is completed with ctl_pending_done() when the agent answers.
 * Return: 0 (@p will be completed), or a negative errno with @err set.
 * Context: any thread but the client's.
 */
int agent_command_start(struct agent_client *ac, const char *name, struct json_object *args,
			struct ctl_pending *p, char *err, size_t errlen);

#endif /* VIREO_AGENT_COMMANDS_H */
