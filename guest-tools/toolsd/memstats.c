// SPDX-License-Identifier: MIT
/*
 * The "memstats" event: the guest's memory statistics, sent to subscribers with every
 * heartbeat, for the host's view of a ballooned guest (vireoctl guest ID balloon
 * stats): /proc/meminfo's totals and /proc/vmstat's swap and major-fault counters.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "toolsd.h"

#define PAGE 4096ull

struct json_object *toolsd_memstats_event(void)
{
	static const struct {
		const char *key, *name;
		unsigned long long scale;
	} vm[] = {
		{ "pswpin", "swap_in", PAGE },	 /* pages swapped in: bytes */
		{ "pswpout", "swap_out", PAGE }, /* pages swapped out: bytes */
		{ "pgmajfault", "major_faults", 1 },
		{ "pgfault", "minor_faults", 1 },
	};
	struct json_object *ev = toolsd_memory_info();
	FILE *f = fopen("/proc/vmstat", "re");
	char key[64];
	unsigned long long v;

	if (!ev) {
		if (f)
			fclose(f);
		return NULL;
	}
	json_object_object_add(ev, "event", json_object_new_string("memstats"));
	while (f && fscanf(f, "%63s %llu", key, &v) == 2)
		for (size_t i = 0; i < sizeof(vm) / sizeof(vm[0]); i++)
			if (strcmp(key, vm[i].key) == 0)
				json_object_object_add(ev, vm[i].name,
						       json_object_new_uint64(v * vm[i].scale));
	if (f)
		fclose(f);
	return ev;
}
