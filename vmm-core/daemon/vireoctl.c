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
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
		static const char *const cols[] = { "id",	  "class",  "driver", "connected",
						    "num_queues", "socket", NULL };
		static const int widths[] = { 12, 7, 10, 11, 12, 0 };

		print_table(result, cols, widths);
	} else if (json_object_is_type(result, json_type_object)) {
		print_pairs(result);
	} else {
		printf("%s\n", json_object_get_string(result));
	}
}

/* Maps the words of a command onto a request: "device stats X" -> device.stats {id}. */
static int build_request(int argc, char **argv, const char **cmd, struct json_object **args)
{
	const char *a = argc > 0 ? argv[0] : "", *b = argc > 1 ? argv[1] : "";

	*args = json_object_new_object();
	if (strcmp(a, "version") == 0 && argc == 1) {
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = getenv("VIREO_CONTROL"), *cmd;
	struct json_object *args, *reply, *ok, *v;
	struct ctl_reader *r;
	bool json = false;
	int c, fd, rc;

	while ((c = getopt_long(argc, argv, "s:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (build_request(argc - optind, argv + optind, &cmd, &args) < 0) {
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
