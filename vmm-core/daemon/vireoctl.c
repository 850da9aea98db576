// SPDX-License-Identifier: MIT
/*
 * vireoctl: talks to a running vireod over its control socket. Tables for people,
 * the daemon's JSON with --json.
 *
 *   vireoctl [--control PATH] [--json] version
 *   vireoctl [--control PATH] [--json] driver list
 *   vireoctl [--control PATH] [--json] device list|add SPEC|remove ID|stats ID
 *   vireoctl [--control PATH] [--json] sensor list [ID] | read ID [CHANNEL] |
 *                                      set ID CHANNEL min|max|crit VALUE
 *   vireoctl [--control PATH] [--json] guest ID ping|info|time|... (the guest's agent)
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control/proto.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vireoctl [--control PATH] [--json] COMMAND\n"
		"commands:\n"
		"  version\n"
		"  driver list\n"
		"  device list\n"
		"  device add CLASS,id=ID,driver=NAME,socket=PATH[,KEY=VALUE...]\n"
		"  device remove ID\n"
		"  device stats ID\n"
		"  sensor list [ID]\n"
		"  sensor read ID [CHANNEL]          CHANNEL: a label or an index\n"
		"  sensor set ID CHANNEL min|max|crit VALUE\n"
		"  guest ID ping|version|info|shutdown|reboot|halt|thaw|fsfreeze-status|time\n"
		"  guest ID fsfreeze [--timeout S] [MOUNTPOINT...]\n"
		"  guest ID set-time now|NS\n"
		"  (guest commands go to the agent in the guest behind vsock device ID)\n"
		"The control socket is --control, else $VIREO_CONTROL, else %s.\n",
		CTL_DEFAULT_PATH);
}

static const char *str_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return "-";
	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v) ? "yes" : "no";
	return json_object_get_string(v);
}

/* Prints an array of objects as a table with the given columns. */
static void print_table(struct json_object *arr, const char *const *cols, const int *widths)
{
	for (int c = 0; cols[c]; c++)
		printf("%-*s", widths[c], cols[c]);
	printf("\n");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *row = json_object_array_get_idx(arr, i);

		for (int c = 0; cols[c]; c++)
			printf("%-*s", widths[c], str_of(row, cols[c]));
		printf("\n");
	}
}

static void print_pairs(struct json_object *obj)
{
	json_object_object_foreach(obj, key, val)
	{
		printf("%-22s %s\n", key, json_object_get_string(val));
	}
}

/* A reading in the unit people use: "45.500 C", "1.200 V", "96.000 W", "2400 RPM". */
static void human_value(const char *unit, int64_t v, char *buf, size_t len)
{
	static const struct {
		const char *unit, *human;
		int64_t div;
	} units[] = { { "mC", "C", 1000 },
		      { "mV", "V", 1000 },
		      { "mA", "A", 1000 },
		      { "uW", "W", 1000000 } };

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(unit, units[i].unit) == 0) {
			snprintf(buf, len, "%s%" PRId64 ".%03" PRId64 " %s", v < 0 ? "-" : "",
				 (int64_t)(llabs(v) / units[i].div),
				 (int64_t)(llabs(v) % units[i].div / (units[i].div / 1000)),
				 units[i].human);
			return;
		}
	}
	snprintf(buf, len, "%" PRId64 " %s", v, unit);
}

/* sensor.list: one row per channel of every device. */
static void print_sensor_list(struct json_object *arr)
{
	printf("%-10s %-3s %-24s %-12s %-5s %-10s %-10s %-10s %-9s %s\n", "id", "#", "label",
	       "type", "unit", "min", "max", "crit", "writable", "interval_ms");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *dev = json_object_array_get_idx(arr, i), *chans;

		if (!json_object_object_get_ex(dev, "channels", &chans))
			continue;
		for (size_t c = 0; c < json_object_array_length(chans); c++) {
			struct json_object *ch = json_object_array_get_idx(chans, c);

			printf("%-10s %-3s %-24s %-12s %-5s %-10s %-10s %-10s %-9s %s\n",
			       str_of(dev, "id"), str_of(ch, "index"), str_of(ch, "label"),
			       str_of(ch, "type"), str_of(ch, "unit"), str_of(ch, "min"),
			       str_of(ch, "max"), str_of(ch, "crit"), str_of(ch, "writable"),
			       str_of(ch, "update_interval_ms"));
		}
	}
}

/* sensor.read: one row per channel, the value raw and in people's units. */
static void print_sensor_read(struct json_object *dev)
{
	struct json_object *chans, *v;
	char human[48];

	if (!json_object_object_get_ex(dev, "channels", &chans))
		return;
	printf("%-3s %-24s %-12s %-12s %-5s %-14s %-8s %s\n", "#", "label", "type", "value", "unit",
	       "reading", "age_ms", "error");
	for (size_t c = 0; c < json_object_array_length(chans); c++) {
		struct json_object *ch = json_object_array_get_idx(chans, c);

		if (json_object_object_get_ex(ch, "value", &v) && v)
			human_value(str_of(ch, "unit"), json_object_get_int64(v), human,
				    sizeof(human));
		else
			snprintf(human, sizeof(human), "-");
		printf("%-3s %-24s %-12s %-12s %-5s %-14s %-8s %s\n", str_of(ch, "index"),
		       str_of(ch, "label"), str_of(ch, "type"), str_of(ch, "value"),
		       str_of(ch, "unit"), human, str_of(ch, "age_ms"), str_of(ch, "error"));
	}
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (o && json_object_is_type(o, json_type_object))
		json_object_object_get_ex(o, key, &v);
	return v;
}

static int64_t get_i64(struct json_object *o, const char *key)
{
	return json_object_get_int64(get(o, key));
}

/* The agent column: "up 0.1.0, heartbeat 1.2 s ago", "connecting (why)", "-". */
static void agent_summary(struct json_object *agent, char *buf, size_t len)
{
	const char *st = str_of(agent, "state"), *err = str_of(agent, "last_error");
	struct json_object *age = get(agent, "heartbeat_age_s");

	if (!agent) {
		snprintf(buf, len, "-");
	} else if (strcmp(st, "up") == 0 && age) {
		snprintf(buf, len, "up %s, heartbeat %.1f s ago", str_of(agent, "version"),
			 json_object_get_double(age));
	} else if (strcmp(st, "up") == 0) {
		snprintf(buf, len, "up %s, no heartbeat yet", str_of(agent, "version"));
	} else {
		snprintf(buf, len, "%s%s%s%s", st, err[0] && strcmp(err, "-") ? " (" : "",
			 err[0] && strcmp(err, "-") ? err : "",
			 err[0] && strcmp(err, "-") ? ")" : "");
	}
}

static void print_devices(struct json_object *arr)
{
	char agent[256];

	printf("%-12s%-7s%-10s%-11s%-12s%-40s%s\n", "id", "class", "driver", "connected",
	       "num_queues", "socket", "agent");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *row = json_object_array_get_idx(arr, i);

		agent_summary(get(row, "agent"), agent, sizeof(agent));
		printf("%-12s%-7s%-10s%-11s%-12s%-40s%s\n", str_of(row, "id"), str_of(row, "class"),
		       str_of(row, "driver"), str_of(row, "connected"), str_of(row, "num_queues"),
		       str_of(row, "socket"), agent);
	}
}

static void print_list(const char *title, struct json_object *arr)
{
	printf("%-22s ", title);
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		printf("%s%s", i ? ", " : "",
		       json_object_get_string(json_object_array_get_idx(arr, i)));
	printf("%s\n", json_object_array_length(arr) ? "" : "(none)");
}

static void print_realtime(const char *title, int64_t ns)
{
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;
	char buf[64];

	gmtime_r(&sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%-22s %s.%09lld UTC\n", title, buf, (long long)(ns % 1000000000));
}

static void print_info(struct json_object *r)
{
	struct json_object *os = get(r, "os"), *k = get(r, "kernel"), *m = get(r, "memory");
	struct json_object *load = get(r, "load"), *ifs = get(r, "interfaces");
	struct json_object *fss = get(r, "filesystems");

	printf("%-22s %s\n", "hostname", str_of(r, "hostname"));
	printf("%-22s %s\n", "os", str_of(os, "pretty_name"));
	printf("%-22s %s %s\n", "kernel", str_of(k, "release"), str_of(k, "machine"));
	printf("%-22s %s\n", "kernel version", str_of(k, "version"));
	printf("%-22s %s\n", "tools version", str_of(r, "tools_version"));
	printf("%-22s %s s\n", "uptime", str_of(r, "uptime_s"));
	if (json_object_is_type(load, json_type_array) && json_object_array_length(load) == 3)
		printf("%-22s %.2f %.2f %.2f\n", "load",
		       json_object_get_double(json_object_array_get_idx(load, 0)),
		       json_object_get_double(json_object_array_get_idx(load, 1)),
		       json_object_get_double(json_object_array_get_idx(load, 2)));
	printf("%-22s %lld MiB total, %lld MiB available\n", "memory",
	       (long long)(get_i64(m, "total") >> 20), (long long)(get_i64(m, "available") >> 20));
	printf("\n%-12s%-5s%-20s%s\n", "interface", "up", "mac", "addresses");
	for (size_t i = 0; ifs && i < json_object_array_length(ifs); i++) {
		struct json_object *it = json_object_array_get_idx(ifs, i),
				   *a = get(it, "addresses");

		printf("%-12s%-5s%-20s", str_of(it, "name"), str_of(it, "up"), str_of(it, "mac"));
		for (size_t j = 0; a && j < json_object_array_length(a); j++)
			printf("%s%s", j ? " " : "",
			       json_object_get_string(json_object_array_get_idx(a, j)));
		printf("\n");
	}
	printf("\n%-20s%-8s%-20s%-4s%12s%12s\n", "mountpoint", "type", "device", "ro", "size MiB",
	       "free MiB");
	for (size_t i = 0; fss && i < json_object_array_length(fss); i++) {
		struct json_object *f = json_object_array_get_idx(fss, i);

		printf("%-20s%-8s%-20s%-4s%12lld%12lld\n", str_of(f, "mountpoint"),
		       str_of(f, "type"), str_of(f, "device"), str_of(f, "read_only"),
		       (long long)(get_i64(f, "total_bytes") >> 20),
		       (long long)(get_i64(f, "free_bytes") >> 20));
	}
}

/* People's view of a guest.* result; --json shows the agent's own. */
static void print_guest(const char *what, struct json_object *r)
{
	if (strcmp(what, "info") == 0) {
		print_info(r);
	} else if (strcmp(what, "ping") == 0) {
		printf("pong\n");
	} else if (strcmp(what, "version") == 0) {
		printf("vireo-toolsd %s, agent protocol %s\n", str_of(r, "version"),
		       str_of(r, "protocol"));
	} else if (get(r, "accepted")) {
		printf("the guest accepted: %s\n", str_of(r, "accepted"));
	} else if (strcmp(what, "fsfreeze") == 0) {
		print_list("frozen", get(r, "frozen"));
		printf("%-22s %s s unless thawed\n", "auto-thaw after", str_of(r, "thaw_after_s"));
	} else if (strcmp(what, "thaw") == 0) {
		print_list("thawed", get(r, "thawed"));
	} else if (strcmp(what, "fsfreeze-status") == 0) {
		printf("%-22s %s\n", "frozen", str_of(r, "frozen"));
		if (json_object_get_boolean(get(r, "frozen"))) {
			print_list("mountpoints", get(r, "mountpoints"));
			printf("%-22s %s s\n", "auto-thaw in", str_of(r, "thaw_in_s"));
		}
	} else if (strcmp(what, "time") == 0) {
		print_realtime("guest time", get_i64(r, "realtime_ns"));
		print_realtime("host time", get_i64(r, "host_realtime_ns"));
		printf("%-22s %+.6f ms (guest minus host)\n", "offset",
		       (double)get_i64(r, "offset_ns") / 1e6);
		printf("%-22s +/- %.6f ms (half the %.6f ms round trip)\n", "bound",
		       (double)get_i64(r, "bound_ns") / 1e6,
		       (double)get_i64(r, "round_trip_ns") / 1e6);
	} else if (strcmp(what, "set-time") == 0) {
		printf("%-22s %+.9f s\n", "stepped by", (double)get_i64(r, "stepped_ns") / 1e9);
	} else {
		print_pairs(r);
	}
}

static void print_result(const char *cmd, struct json_object *result)
{
	if (strcmp(cmd, "sensor.list") == 0) {
		print_sensor_list(result);
	} else if (strcmp(cmd, "sensor.set") == 0) {
		/* The channel read back; absent limits are JSON nulls. */
		json_object_object_foreach(result, key, val)
		{
			(void)val;
			printf("%-22s %s\n", key, str_of(result, key));
		}
	} else if (strcmp(cmd, "sensor.read") == 0) {
		print_sensor_read(result);
	} else if (strcmp(cmd, "driver.list") == 0) {
		static const char *const cols[] = { "name", "version", "class", "path", NULL };
		static const int widths[] = { 16, 10, 8, 0 };

		print_table(result, cols, widths);
	} else if (strcmp(cmd, "device.list") == 0) {
		print_devices(result);
	} else if (strncmp(cmd, "guest.", 6) == 0) {
		print_guest(cmd + 6, result);
	} else if (json_object_is_type(result, json_type_object)) {
		print_pairs(result);
	} else {
		printf("%s\n", json_object_get_string(result));
	}
}

static const char *const g_guest_cmds[] = {
	"ping",	    "version",	       "info", "shutdown", "reboot",   "halt",
	"fsfreeze", "fsfreeze-status", "thaw", "time",	   "set-time", NULL,
};

/* "guest ID WHAT [ARGS]" -> guest.WHAT {id, ...}; @freeze_timeout from --timeout. */
static int build_guest(int argc, char **argv, long freeze_timeout, const char **cmd,
		       struct json_object *args)
{
	static char name[40];
	const char *what = argc > 2 ? argv[2] : "";
	bool known = false;

	for (int i = 0; g_guest_cmds[i]; i++)
		known |= strcmp(what, g_guest_cmds[i]) == 0;
	if (!known)
		return -EINVAL;
	snprintf(name, sizeof(name), "guest.%s", what);
	*cmd = name;
	json_object_object_add(args, "id", json_object_new_string(argv[1]));
	if (strcmp(what, "fsfreeze") == 0) {
		struct json_object *mps = json_object_new_array();

		for (int i = 3; i < argc; i++)
			json_object_array_add(mps, json_object_new_string(argv[i]));
		json_object_object_add(args, "mountpoints", mps);
		if (freeze_timeout > 0)
			json_object_object_add(args, "timeout_s",
					       json_object_new_int64(freeze_timeout));
		return 0;
	}
	if (freeze_timeout > 0)
		return -EINVAL; /* --timeout is fsfreeze's */
	if (strcmp(what, "set-time") == 0) {
		char *end;
		long long ns;

		if (argc != 4)
			return -EINVAL;
		if (strcmp(argv[3], "now") == 0) {
			json_object_object_add(args, "now", json_object_new_boolean(1));
			return 0;
		}
		errno = 0;
		ns = strtoll(argv[3], &end, 10);
		if (errno || *end || end == argv[3])
			return -EINVAL;
		json_object_object_add(args, "realtime_ns", json_object_new_int64(ns));
		return 0;
	}
	return argc == 3 ? 0 : -EINVAL;
}

/* Maps the words of a command onto a request: "device stats X" -> device.stats {id}. */
static int build_request(int argc, char **argv, long freeze_timeout, const char **cmd,
			 struct json_object **args)
{
	const char *a = argc > 0 ? argv[0] : "", *b = argc > 1 ? argv[1] : "";

	*args = json_object_new_object();
	if (strcmp(a, "guest") == 0 && argc >= 3) {
		if (build_guest(argc, argv, freeze_timeout, cmd, *args) < 0) {
			json_object_put(*args);
			return -EINVAL;
		}
	} else if (freeze_timeout > 0) {
		json_object_put(*args);
		return -EINVAL;
	} else if (strcmp(a, "version") == 0 && argc == 1) {
		*cmd = "version";
	} else if (strcmp(a, "driver") == 0 && strcmp(b, "list") == 0 && argc == 2) {
		*cmd = "driver.list";
	} else if (strcmp(a, "device") == 0 && strcmp(b, "list") == 0 && argc == 2) {
		*cmd = "device.list";
	} else if (strcmp(a, "device") == 0 && strcmp(b, "add") == 0 && argc == 3) {
		*cmd = "device.add";
		json_object_object_add(*args, "spec", json_object_new_string(argv[2]));
	} else if (strcmp(a, "device") == 0 &&
		   (strcmp(b, "remove") == 0 || strcmp(b, "stats") == 0) && argc == 3) {
		*cmd = strcmp(b, "remove") == 0 ? "device.remove" : "device.stats";
		json_object_object_add(*args, "id", json_object_new_string(argv[2]));
	} else if (strcmp(a, "sensor") == 0 && strcmp(b, "list") == 0 && argc <= 3) {
		*cmd = "sensor.list";
		if (argc == 3)
			json_object_object_add(*args, "id", json_object_new_string(argv[2]));
	} else if (strcmp(a, "sensor") == 0 && strcmp(b, "read") == 0 && (argc == 3 || argc == 4)) {
		*cmd = "sensor.read";
		json_object_object_add(*args, "id", json_object_new_string(argv[2]));
		if (argc == 4)
			json_object_object_add(*args, "channel", json_object_new_string(argv[3]));
	} else if (strcmp(a, "sensor") == 0 && strcmp(b, "set") == 0 && argc == 6) {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(argv[5], &end, 10);
		if (errno || !*argv[5] || *end) {
			json_object_put(*args);
			return -EINVAL;
		}
		*cmd = "sensor.set";
		json_object_object_add(*args, "id", json_object_new_string(argv[2]));
		json_object_object_add(*args, "channel", json_object_new_string(argv[3]));
		json_object_object_add(*args, "limit", json_object_new_string(argv[4]));
		json_object_object_add(*args, "value", json_object_new_int64(v));
	} else {
		json_object_put(*args);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "control", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = getenv("VIREO_CONTROL"), *cmd;
	struct json_object *args, *reply, *ok, *v;
	struct ctl_reader *r;
	bool json = false;
	long freeze_timeout = 0;
	char *end;
	int c, fd, rc;

	while ((c = getopt_long(argc, argv, "s:jt:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 't':
			freeze_timeout = strtol(optarg, &end, 10);
			if (*end || freeze_timeout < 1 || freeze_timeout > 86400) {
				fprintf(stderr, "vireoctl: --timeout takes 1 to 86400 seconds\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (build_request(argc - optind, argv + optind, freeze_timeout, &cmd, &args) < 0) {
		usage(stderr);
		return 2;
	}
	if (!path)
		path = CTL_DEFAULT_PATH;
	fd = ctl_connect(path);
	if (fd < 0) {
		fprintf(stderr, "vireoctl: cannot reach vireod at %s: %s\n", path, strerror(-fd));
		json_object_put(args);
		return 1;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return 1;
	r->fd = fd;
	rc = ctl_call(fd, r, cmd, args, &reply);
	free(r);
	close(fd);
	if (rc < 0) {
		fprintf(stderr, "vireoctl: %s: %s\n", cmd, strerror(-rc));
		return 1;
	}
	json_object_object_get_ex(reply, "ok", &ok);
	if (!json_object_get_boolean(ok)) {
		json_object_object_get_ex(reply, "error", &v);
		if (json)
			printf("%s\n",
			       json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PRETTY));
		else
			fprintf(stderr, "vireoctl: %s\n", json_object_get_string(v));
		json_object_put(reply);
		return 1;
	}
	json_object_object_get_ex(reply, "result", &v);
	if (json)
		printf("%s\n", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PRETTY));
	else
		print_result(cmd, v);
	json_object_put(reply);
	return 0;
}
