// SPDX-License-Identifier: MIT
/*
 * "time" reports the guest's clocks; "set-time" steps the realtime clock to the
 * host's. Stepping is for a clock that is far off (after a long pause, at boot);
 * keeping it close is the time-sync service's job (discipline.c: slewing, never
 * backwards), whose state "time" reports under "sync".
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "toolsd.h"

/* 2001-09-09: no host clock is earlier; a value before it is a bug or an attack. */
#define MIN_SANE_REALTIME_NS (1000000000LL * 1000000000LL)

static int64_t now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int toolsd_cmd_time(struct json_object *args, struct json_object **result, char *err, size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	*result = json_object_new_object();
	json_object_object_add(*result, "realtime_ns",
			       json_object_new_int64(now_ns(CLOCK_REALTIME)));
	json_object_object_add(*result, "monotonic_ns",
			       json_object_new_int64(now_ns(CLOCK_MONOTONIC)));
	json_object_object_add(*result, "boottime_ns",
			       json_object_new_int64(now_ns(CLOCK_BOOTTIME)));
	json_object_object_add(*result, "sync", toolsd_discipline_json());
	return 0;
}

int toolsd_cmd_set_time(struct json_object *args, struct json_object **result, char *err,
			size_t errlen)
{
	struct json_object *v;
	struct timespec ts;
	int64_t ns, before;

	if (!json_object_object_get_ex(args, "realtime_ns", &v) ||
	    !json_object_is_type(v, json_type_int)) {
		snprintf(err, errlen, "set-time needs \"realtime_ns\", an integer");
		return -EINVAL;
	}
	ns = json_object_get_int64(v);
	if (ns < MIN_SANE_REALTIME_NS) {
		snprintf(err, errlen, "refusing realtime_ns %lld: before 2001", (long long)ns);
		return -ERANGE;
	}
	before = now_ns(CLOCK_REALTIME);
	ts.tv_sec = ns / 1000000000;
	ts.tv_nsec = ns % 1000000000;
	if (clock_settime(CLOCK_REALTIME, &ts) < 0) {
		int rc = -errno;

		snprintf(err, errlen, "clock_settime: %s", strerror(errno));
		return rc;
	}
	toolsd_log("clock stepped by %+lld ns at the host's request", (long long)(ns - before));
	*result = json_object_new_object();
	json_object_object_add(*result, "stepped_ns", json_object_new_int64(ns - before));
	return 0;
}
