// SPDX-License-Identifier: MIT
/*
 * vireod: the Vireo I/O core as a daemon. Loads drivers, creates the devices given
 * on the command line and in the config file, serves the control socket, tells
 * systemd it is ready, and on SIGTERM/SIGINT stops every device after its in-flight
 * requests complete.
 *
 *   vireod [--config FILE] [--control PATH] [--driver-dir DIR]... [--device SPEC]...
 *          [--log-level err|warn|notice|info|debug]
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <vireo/log.h>
#include <vireo/version.h>

#include "control/proto.h"
#include "control/server.h"
#include "control/spec.h"
#include "daemon/devices.h"
#include "host/loader.h"
#include "lib/internal.h"

#define TAG "vireod"

#define VIREO_STR_(x)  #x
#define VIREO_STR(x)   VIREO_STR_(x)
#define VIREO_ABI_TEXT VIREO_STR(VIREO_ABI_MAJOR) "." VIREO_STR(VIREO_ABI_MINOR)

/* In-tree driver modules, when vireod runs from the build tree (meson fills these). */
static const char *const g_build_drivers[] = { VIREO_BUILD_DRIVERS NULL };

struct vireod {
	struct host_registry *reg;
	struct vd_devices *devs;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vireod [--config FILE] [--control PATH] [--driver-dir DIR]...\n"
		"              [--device CLASS,id=ID,driver=NAME,socket=PATH[,KEY=VALUE...]]...\n"
		"              [--device sensor,id=ID,driver=NAME[,KEY=VALUE...]]...\n"
		"              [--log-level err|warn|notice|info|debug] [--version]\n");
}

/* ---- control commands ---- */

static struct json_object *cmd_version(void *ctx, struct json_object *args, char *err,
				       size_t errlen)
{
	struct json_object *o = json_object_new_object();

	(void)ctx;
	(void)args;
	(void)err;
	(void)errlen;
	json_object_object_add(o, "vireod", json_object_new_string(VIREO_VERSION));
	json_object_object_add(o, "abi", json_object_new_string(VIREO_ABI_TEXT));
	json_object_object_add(o, "protocol", json_object_new_int(CTL_PROTO_VERSION));
	return o;
}

static struct json_object *cmd_driver_list(void *ctx, struct json_object *args, char *err,
					   size_t errlen)
{
	struct vireod *d = ctx;
	struct json_object *arr = json_object_new_array();

	(void)args;
	(void)err;
	(void)errlen;
	for (size_t i = 0; i < host_driver_count(d->reg); i++) {
		struct host_driver *drv = host_driver_at(d->reg, i);
		const struct host_checked *info = host_driver_info(drv);
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(host_driver_name(drv)));
		json_object_object_add(o, "version",
				       json_object_new_string(host_driver_version(drv)));
		json_object_object_add(
			o, "class", json_object_new_string(host_class_name(info->desc.dev_class)));
		json_object_object_add(o, "path", json_object_new_string(host_driver_path(drv)));
		json_object_array_add(arr, o);
	}
	return arr;
}

static const char *arg_string(struct json_object *args, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(args, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *cmd_device_list(void *ctx, struct json_object *args, char *err,
					   size_t errlen)
{
	(void)args;
	(void)err;
	(void)errlen;
	return vd_devices_json(((struct vireod *)ctx)->devs);
}

static struct json_object *cmd_device_add(void *ctx, struct json_object *args, char *err,
					  size_t errlen)
{
	struct vireod *d = ctx;
	const char *text = arg_string(args, "spec");
	struct vd_spec spec;
	int rc;

	if (!text) {
		snprintf(err, errlen, "device.add needs \"spec\"");
		return NULL;
	}
	if (vd_spec_parse(text, &spec, err, errlen) < 0)
		return NULL;
	rc = vd_device_add(d->devs, &spec, err, errlen);
	if (rc < 0) {
		vd_spec_free(&spec);
		return NULL;
	}
	vireo_log(VIREO_LOG_NOTICE, TAG, "device added: %s", text);
	return json_object_new_string("added");
}

static struct json_object *cmd_device_remove(void *ctx, struct json_object *args, char *err,
					     size_t errlen)
{
	const char *id = arg_string(args, "id");

	if (!id) {
		snprintf(err, errlen, "device.remove needs \"id\"");
		return NULL;
	}
	if (vd_device_remove(((struct vireod *)ctx)->devs, id) < 0) {
		snprintf(err, errlen, "no device '%s'", id);
		return NULL;
	}
	vireo_log(VIREO_LOG_NOTICE, TAG, "device removed: %s", id);
	return json_object_new_string("removed");
}

static struct json_object *cmd_device_stats(void *ctx, struct json_object *args, char *err,
					    size_t errlen)
{
	const char *id = arg_string(args, "id");
	struct json_object *o;

	if (!id) {
		snprintf(err, errlen, "device.stats needs \"id\"");
		return NULL;
	}
	o = vd_device_stats_json(((struct vireod *)ctx)->devs, id);
	if (!o)
		snprintf(err, errlen, "no device '%s'", id);
	return o;
}

static struct json_object *cmd_sensor_list(void *ctx, struct json_object *args, char *err,
					   size_t errlen)
{
	return vd_sensors_json(((struct vireod *)ctx)->devs, arg_string(args, "id"), err, errlen);
}

static struct json_object *cmd_sensor_read(void *ctx, struct json_object *args, char *err,
					   size_t errlen)
{
	const char *id = arg_string(args, "id");

	if (!id) {
		snprintf(err, errlen, "sensor.read needs \"id\"");
		return NULL;
	}
	return vd_sensor_read_json(((struct vireod *)ctx)->devs, id, arg_string(args, "channel"),
				   err, errlen);
}

static struct json_object *cmd_sensor_set(void *ctx, struct json_object *args, char *err,
					  size_t errlen)
{
	const char *id = arg_string(args, "id"), *channel = arg_string(args, "channel");
	const char *limit = arg_string(args, "limit");
	struct json_object *v;
	struct json_object *o;

	if (!id || !channel || !limit || !json_object_object_get_ex(args, "value", &v) ||
	    !json_object_is_type(v, json_type_int)) {
		snprintf(
			err, errlen,
			"sensor.set needs \"id\", \"channel\", \"limit\" and an integer \"value\"");
		return NULL;
	}
	o = vd_sensor_set(((struct vireod *)ctx)->devs, id, channel, limit,
			  json_object_get_int64(v), err, errlen);
	if (o)
		vireo_log(VIREO_LOG_NOTICE, TAG, "sensor %s channel %s: %s set to %lld", id,
			  channel, limit, (long long)json_object_get_int64(v));
	return o;
}

/* guest.*: answered by the guest's agent, later; the control thread does not wait. */
static int cmd_guest(void *ctx, const char *name, struct json_object *args, struct ctl_pending *p,
		     char *err, size_t errlen)
{
	const char *id = arg_string(args, "id");

	if (!id) {
		snprintf(err, errlen, "%s needs \"id\" (a vsock device)", name);
		return -EINVAL;
	}
	return vd_agent_command(((struct vireod *)ctx)->devs, id, name, args, p, err, errlen);
}

#define GUEST_CMD(fn, name)                                                                  \
	static int fn(void *ctx, struct json_object *args, struct ctl_pending *p, char *err, \
		      size_t errlen)                                                         \
	{                                                                                    \
		return cmd_guest(ctx, name, args, p, err, errlen);                           \
	}
GUEST_CMD(cmd_guest_ping, "guest.ping")
GUEST_CMD(cmd_guest_version, "guest.version")
GUEST_CMD(cmd_guest_info, "guest.info")
GUEST_CMD(cmd_guest_shutdown, "guest.shutdown")
GUEST_CMD(cmd_guest_reboot, "guest.reboot")
GUEST_CMD(cmd_guest_halt, "guest.halt")
GUEST_CMD(cmd_guest_fsfreeze, "guest.fsfreeze")
GUEST_CMD(cmd_guest_thaw, "guest.thaw")
GUEST_CMD(cmd_guest_fsfreeze_status, "guest.fsfreeze-status")
GUEST_CMD(cmd_guest_time, "guest.time")
GUEST_CMD(cmd_guest_set_time, "guest.set-time")

static const struct ctl_command g_commands[] = {
	{ "version", cmd_version },
	{ "driver.list", cmd_driver_list },
	{ "device.list", cmd_device_list },
	{ "device.add", cmd_device_add },
	{ "device.remove", cmd_device_remove },
	{ "device.stats", cmd_device_stats },
	{ "sensor.list", cmd_sensor_list },
	{ "sensor.read", cmd_sensor_read },
	{ "sensor.set", cmd_sensor_set },
	{ NULL, NULL },
};

static const struct ctl_async_command g_async_commands[] = {
	{ "guest.ping", cmd_guest_ping },
	{ "guest.version", cmd_guest_version },
	{ "guest.info", cmd_guest_info },
	{ "guest.shutdown", cmd_guest_shutdown },
	{ "guest.reboot", cmd_guest_reboot },
	{ "guest.halt", cmd_guest_halt },
	{ "guest.fsfreeze", cmd_guest_fsfreeze },
	{ "guest.thaw", cmd_guest_thaw },
	{ "guest.fsfreeze-status", cmd_guest_fsfreeze_status },
	{ "guest.time", cmd_guest_time },
	{ "guest.set-time", cmd_guest_set_time },
	{ NULL, NULL },
};

/* ---- start-up ---- */

struct options {
	const char *config;
	const char *control;
	const char *dirs[16];
	unsigned int ndirs;
	const char *specs[64];
	unsigned int nspecs;
	enum vireo_log_level level;
};

static int parse_level(const char *s, enum vireo_log_level *out)
{
	static const struct {
		const char *name;
		enum vireo_log_level level;
	} levels[] = {
		{ "err", VIREO_LOG_ERR },	{ "warn", VIREO_LOG_WARN },
		{ "notice", VIREO_LOG_NOTICE }, { "info", VIREO_LOG_INFO },
		{ "debug", VIREO_LOG_DEBUG },
	};

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (strcmp(s, levels[i].name) == 0) {
			*out = levels[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "control", required_argument, NULL, 's' },
		{ "driver-dir", required_argument, NULL, 'd' },
		{ "device", required_argument, NULL, 'D' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->level = VIREO_LOG_INFO;
	while ((c = getopt_long(argc, argv, "c:s:d:D:l:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 's':
			o->control = optarg;
			break;
		case 'd':
			if (o->ndirs == sizeof(o->dirs) / sizeof(o->dirs[0]))
				goto out_too_many;
			o->dirs[o->ndirs++] = optarg;
			break;
		case 'D':
			if (o->nspecs == sizeof(o->specs) / sizeof(o->specs[0]))
				goto out_too_many;
			o->specs[o->nspecs++] = optarg;
			break;
		case 'l':
			if (parse_level(optarg, &o->level) < 0) {
				fprintf(stderr, "vireod: --log-level: unknown level '%s'\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'V':
			printf("vireod %s (driver ABI %s)\n", VIREO_VERSION, VIREO_ABI_TEXT);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vireod: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;

out_too_many:
	fprintf(stderr, "vireod: too many --%s options\n", c == 'd' ? "driver-dir" : "device");
	return -EINVAL;
}

/* Whether this executable runs from the build tree it was built in. */
static bool in_build_tree(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0)
		return false;
	exe[n] = '\0';
	return strncmp(exe, VIREO_BUILD_ROOT "/", strlen(VIREO_BUILD_ROOT) + 1) == 0;
}

static int load_drivers(struct vireod *d, const struct options *o)
{
	unsigned int refused = 0;
	int rc;

	if (in_build_tree()) {
		for (const char *const *p = g_build_drivers; *p; p++)
			if (host_load(d->reg, *p, NULL, NULL) < 0)
				refused++;
	} else if (o->ndirs == 0 && access(VIREO_DRIVER_DIR, R_OK) == 0) {
		rc = host_load_dir(d->reg, VIREO_DRIVER_DIR, &refused);
		if (rc < 0)
			vireo_log(VIREO_LOG_WARN, TAG, "cannot read %s: %s", VIREO_DRIVER_DIR,
				  strerror(-rc));
	}
	for (unsigned int i = 0; i < o->ndirs; i++) {
		rc = host_load_dir(d->reg, o->dirs[i], &refused);
		if (rc < 0) {
			fprintf(stderr, "vireod: --driver-dir %s: %s\n", o->dirs[i], strerror(-rc));
			return rc;
		}
	}
	vireo_log(VIREO_LOG_INFO, TAG, "%zu drivers loaded, %u refused", host_driver_count(d->reg),
		  refused);
	return 0;
}

static int add_spec(struct vireod *d, struct vd_spec *spec, const char *where)
{
	char err[512] = "";
	int rc = vd_device_add(d->devs, spec, err, sizeof(err));

	if (rc < 0) {
		fprintf(stderr, "vireod: %s: %s\n", where, err);
		vd_spec_free(spec);
	}
	return rc;
}

/* The config file: {"control": PATH, "driver-dir": [DIR...], "devices": [{...}]}. */
static int load_config(struct vireod *d, const char *path, const char **control)
{
	struct json_object *root = json_object_from_file(path), *v;
	char err[512], where[PATH_MAX + 32];
	int rc = 0;

	if (!root) {
		fprintf(stderr, "vireod: %s: %s\n", path, json_util_get_last_err());
		return -EINVAL;
	}
	if (!json_object_is_type(root, json_type_object)) {
		fprintf(stderr, "vireod: %s: the top level must be an object\n", path);
		rc = -EINVAL;
		goto out_put;
	}
	json_object_object_foreach(root, key, val)
	{
		if (strcmp(key, "control") != 0 && strcmp(key, "devices") != 0 &&
		    strcmp(key, "driver-dir") != 0) {
			fprintf(stderr, "vireod: %s: unknown key '%s'\n", path, key);
			rc = -EINVAL;
			goto out_put;
		}
		(void)val;
	}
	if (json_object_object_get_ex(root, "driver-dir", &v)) {
		for (size_t i = 0;
		     json_object_is_type(v, json_type_array) && i < json_object_array_length(v);
		     i++) {
			const char *dir = json_object_get_string(json_object_array_get_idx(v, i));

			if (dir && host_load_dir(d->reg, dir, NULL) < 0) {
				fprintf(stderr, "vireod: %s: driver-dir %s cannot be read\n", path,
					dir);
				rc = -EINVAL;
				goto out_put;
			}
		}
	}
	if (json_object_object_get_ex(root, "control", &v) && !*control)
		*control = strdup(json_object_get_string(v));
	if (json_object_object_get_ex(root, "devices", &v)) {
		if (!json_object_is_type(v, json_type_array)) {
			fprintf(stderr, "vireod: %s: \"devices\" must be a list\n", path);
			rc = -EINVAL;
			goto out_put;
		}
		for (size_t i = 0; i < json_object_array_length(v) && rc == 0; i++) {
			struct vd_spec spec;

			snprintf(where, sizeof(where), "%s: device %zu", path, i + 1);
			rc = vd_spec_from_json(json_object_array_get_idx(v, i), &spec, err,
					       sizeof(err));
			if (rc < 0)
				fprintf(stderr, "vireod: %s: %s\n", where, err);
			else
				rc = add_spec(d, &spec, where);
		}
	}
out_put:
	json_object_put(root);
	return rc;
}

static int add_cli_specs(struct vireod *d, const struct options *o)
{
	for (unsigned int i = 0; i < o->nspecs; i++) {
		struct vd_spec spec;
		char err[512] = "";
		int rc = vd_spec_parse(o->specs[i], &spec, err, sizeof(err));

		if (rc < 0) {
			fprintf(stderr, "vireod: --device %s: %s\n", o->specs[i], err);
			return rc;
		}
		rc = add_spec(d, &spec, o->specs[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Creates the directory a socket goes in, as root would expect /run/vireo to exist. */
static void ensure_parent_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct vireod d = { 0 };
	struct ctl_server *srv = NULL;
	const char *control = NULL;
	sigset_t set;
	int rc, sig;

	if (parse_args(argc, argv, &o) < 0)
		return 2;
	vireo_core_log_set_level(o.level);

	/* Every thread inherits this mask; only the main thread takes the signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (host_registry_new(&d.reg) < 0 || vd_devices_new(d.reg, &d.devs) < 0)
		return 1;
	rc = load_drivers(&d, &o);
	if (rc == 0 && o.config)
		rc = load_config(&d, o.config, &control);
	if (rc == 0)
		rc = add_cli_specs(&d, &o);
	if (rc < 0)
		goto out_free;

	control = o.control ? o.control : control;
	if (!control)
		control = getenv("VIREO_CONTROL") ? getenv("VIREO_CONTROL") : CTL_DEFAULT_PATH;
	ensure_parent_dir(control);
	rc = ctl_server_start_async(control, g_commands, g_async_commands, &d, &srv);
	if (rc < 0) {
		fprintf(stderr, "vireod: control socket %s: %s\n", control, strerror(-rc));
		goto out_free;
	}
	vireo_log(VIREO_LOG_NOTICE, TAG, "ready: %zu devices, control socket %s",
		  vd_device_count(d.devs), control);
	sd_notifyf(0, "READY=1\nSTATUS=%zu devices\nMAINPID=%lu", vd_device_count(d.devs),
		   (unsigned long)getpid());

	do {
		if (sigwait(&set, &sig) != 0)
			break;
	} while (sig == SIGHUP); /* nothing to reload yet; keep running */

	vireo_log(VIREO_LOG_NOTICE, TAG, "stopping (%s): draining in-flight requests",
		  strsignal(sig));
	sd_notify(0, "STOPPING=1");
	ctl_server_stop(srv);
	rc = 0;
out_free:
	vd_devices_free(d.devs);
	host_registry_free(d.reg);
	return rc < 0 ? 1 : 0;
}
