// SPDX-License-Identifier: MIT
/*
 * guest.* control commands over the agent client. The control client's arguments are
 * checked here, before anything reaches the guest; the agent's reply is passed on as
 * it is (its "result"), or its error prefixed with "guest: ".
 */
#include "agent/commands.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/client.h"
#include "control/server.h"

#define CMD_MAX_MOUNTS	 64
#define CMD_MAX_PATH	 4096
#define CMD_MIN_REALTIME 978307200ll /* 2001-01-01, as the agent wants */

struct guest_cmd {
	const char *name;  /* "guest.info" */
	const char *agent; /* "info" */
	unsigned int timeout_ms;
};

/* A freeze syncs first, which can take a while on a busy guest. */
static const struct guest_cmd g_cmds[] = {
	{ "guest.ping", "ping", 5000 },
	{ "guest.version", "version", 5000 },
	{ "guest.info", "info", 10000 },
	{ "guest.shutdown", "shutdown", 10000 },
	{ "guest.reboot", "reboot", 10000 },
	{ "guest.halt", "halt", 10000 },
	{ "guest.fsfreeze", "fsfreeze", 60000 },
	{ "guest.thaw", "thaw", 60000 },
	{ "guest.fsfreeze-status", "fsfreeze-status", 10000 },
	{ "guest.time", "time", 10000 },
	{ "guest.set-time", "set-time", 10000 },
	{ NULL, NULL, 0 },
};

struct cmd_call {
	struct ctl_pending *p;
	bool is_time;
};

static const struct guest_cmd *cmd_find(const char *name)
{
	for (const struct guest_cmd *c = g_cmds; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

bool agent_command_known(const char *name)
{
	return cmd_find(name) != NULL;
}

static int64_t cmd_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/*
 * guest.time: the guest read its clock somewhere between our send and our receive,
 * so against the host clock at the midpoint its offset is known to within half the
 * round trip (plus the two clocks' own reading costs, which are far smaller).
 */
static void cmd_add_offset(struct json_object *result, int64_t sent, int64_t recv)
{
	struct json_object *v;
	int64_t mid = sent + (recv - sent) / 2, guest;

	if (!json_object_object_get_ex(result, "realtime_ns", &v) ||
	    !json_object_is_type(v, json_type_int))
		return;
	guest = json_object_get_int64(v);
	json_object_object_add(result, "host_realtime_ns", json_object_new_int64(mid));
	json_object_object_add(result, "offset_ns", json_object_new_int64(guest - mid));
	json_object_object_add(result, "bound_ns", json_object_new_int64((recv - sent) / 2));
	json_object_object_add(result, "round_trip_ns", json_object_new_int64(recv - sent));
}

static void cmd_done(void *arg, struct json_object *reply, const char *err, int64_t sent,
		     int64_t recv)
{
	struct cmd_call *call = arg;
	struct json_object *ok, *result, *e;
	char msg[600];

	if (!reply) {
		ctl_pending_done(call->p, NULL, err);
	} else if (json_object_object_get_ex(reply, "ok", &ok) && json_object_get_boolean(ok) &&
		   json_object_object_get_ex(reply, "result", &result)) {
		result = json_object_get(result);
		if (call->is_time && json_object_is_type(result, json_type_object))
			cmd_add_offset(result, sent, recv);
		ctl_pending_done(call->p, result, NULL);
	} else {
		snprintf(msg, sizeof(msg), "guest: %.500s",
			 json_object_object_get_ex(reply, "error", &e) &&
					 json_object_is_type(e, json_type_string)
				 ? json_object_get_string(e)
				 : "error without text");
		ctl_pending_done(call->p, NULL, msg);
	}
	json_object_put(reply);
	free(call);
}

static int cmd_bad(char *err, size_t errlen, const char *what, const char *rule)
{
	snprintf(err, errlen, "%s %s", what, rule);
	return -EINVAL;
}

/* fsfreeze: mountpoints (strings), timeout_s (1..86400); both optional. */
static int cmd_fsfreeze_args(struct json_object *args, struct json_object *out, char *err,
			     size_t errlen)
{
	struct json_object *v;

	if (json_object_object_get_ex(args, "mountpoints", &v)) {
		size_t n;

		if (!json_object_is_type(v, json_type_array))
			return cmd_bad(err, errlen, "mountpoints", "must be a list of paths");
		n = json_object_array_length(v);
		if (n > CMD_MAX_MOUNTS)
			return cmd_bad(err, errlen, "mountpoints:", "at most 64");
		for (size_t i = 0; i < n; i++) {
			struct json_object *m = json_object_array_get_idx(v, i);

			if (!json_object_is_type(m, json_type_string) ||
			    json_object_get_string_len(m) == 0 ||
			    json_object_get_string_len(m) > CMD_MAX_PATH ||
			    json_object_get_string(m)[0] != '/')
				return cmd_bad(err, errlen, "mountpoints",
					       "must be absolute paths");
		}
		if (n)
			json_object_object_add(out, "mountpoints", json_object_get(v));
	}
	if (json_object_object_get_ex(args, "timeout_s", &v)) {
		int64_t t = json_object_get_int64(v);

		if (!json_object_is_type(v, json_type_int) || t < 1 || t > 86400)
			return cmd_bad(err, errlen, "timeout_s", "must be 1..86400");
		json_object_object_add(out, "timeout_s", json_object_new_int64(t));
	}
	return 0;
}

/* set-time: realtime_ns (ns since the epoch, after 2001) or "now": true (the host's). */
static int cmd_set_time_args(struct json_object *args, struct json_object *out, char *err,
			     size_t errlen)
{
	struct json_object *v;
	int64_t ns;

	if (json_object_object_get_ex(args, "now", &v) && json_object_get_boolean(v)) {
		ns = cmd_realtime_ns();
	} else if (json_object_object_get_ex(args, "realtime_ns", &v) &&
		   json_object_is_type(v, json_type_int)) {
		ns = json_object_get_int64(v);
		if (ns / 1000000000ll < CMD_MIN_REALTIME)
			return cmd_bad(err, errlen, "realtime_ns", "must be after 2001");
	} else {
		return cmd_bad(err, errlen, "guest.set-time",
			       "needs \"realtime_ns\" or \"now\": true");
	}
	json_object_object_add(out, "realtime_ns", json_object_new_int64(ns));
	return 0;
}

int agent_command_start(struct agent_client *ac, const char *name, struct json_object *args,
			struct ctl_pending *p, char *err, size_t errlen)
{
	const struct guest_cmd *c = cmd_find(name);
	struct json_object *aargs;
	struct cmd_call *call;
	int rc = 0;

	if (!c) {
		snprintf(err, errlen, "unknown guest command '%s'", name);
		return -EINVAL;
	}
	aargs = json_object_new_object();
	call = calloc(1, sizeof(*call));
	if (!aargs || !call) {
		json_object_put(aargs);
		free(call);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (strcmp(c->agent, "fsfreeze") == 0)
		rc = cmd_fsfreeze_args(args, aargs, err, errlen);
	else if (strcmp(c->agent, "set-time") == 0)
		rc = cmd_set_time_args(args, aargs, err, errlen);
	if (rc < 0) {
		json_object_put(aargs);
		free(call);
		return rc;
	}
	call->p = p;
	call->is_time = strcmp(c->agent, "time") == 0;
	rc = agent_client_request(ac, c->agent, aargs, c->timeout_ms, cmd_done, call);
	if (rc < 0) {
		free(call);
		snprintf(err, errlen, "%s: %s", name, strerror(-rc));
	}
	return rc;
}
