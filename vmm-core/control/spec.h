/* SPDX-License-Identifier: MIT */
/*
 * Device specs: the `--device CLASS,id=ID,driver=NAME,socket=PATH[,KEY=VALUE...]`
 * (a sensor device has no socket: `sensor,id=ID,driver=NAME[,KEY=VALUE...]`)
 * strings of vireod and `vireoctl device add`, and the same devices written as JSON
 * objects in vireod's config file. Owns parsing and the checks that need no driver;
 * the driver's own parameters are checked against its table by the driver host.
 */
#ifndef VIREO_CONTROL_SPEC_H
#define VIREO_CONTROL_SPEC_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

/** Guest-facing device classes vireod serves. */
enum vd_class {
	VD_CLASS_BLK,
	VD_CLASS_NET,
	VD_CLASS_VSOCK,
	VD_CLASS_I2C,
	VD_CLASS_SENSOR, /* host-side only: no socket, read through the control socket */
	VD_CLASS_MAX,
};

/** One driver parameter: a key the spec did not know, passed on as text. */
struct vd_param {
	char *key;
	char *value;
};

/** A parsed device spec. Strings are owned; free with vd_spec_free(). */
struct vd_spec {
	enum vd_class cls;
	char *id;		 /**< unique device name: [A-Za-z0-9_.-], 1..63 */
	char *driver;		 /**< driver name; required for blk, net and sensor */
	char *socket;		 /**< vhost-user socket path vireod listens on; NULL for sensor */
	unsigned int num_queues; /**< num-queues=, 1..VD_MAX_QUEUES, default 1 */
	bool readonly;		 /**< readonly=on|off, default off */
	struct vd_param *params; /**< every other key, in the order given */
	size_t nparams;
};

#define VD_MAX_QUEUES 64
#define VD_ID_MAX     63

/** vd_class_name() - "blk", "net", ...; "?" for values out of range. */
const char *vd_class_name(enum vd_class cls);

/**
 * vd_spec_parse() - Parse "CLASS,key=value,...". A literal comma in a value is
 * written ",," (as in QEMU's options).
 * @text: the spec.
 * @spec: filled in on success; untouched on failure.
 * @err: on failure, one line naming the bad part (the key and why).
 * @errlen: size of @err.
 * Return: 0, -EINVAL for a bad spec, -ENOMEM.
 */
int vd_spec_parse(const char *text, struct vd_spec *spec, char *err, size_t errlen);

/**
 * vd_spec_from_json() - The same, from a config-file object: {"class": "blk",
 * "id": ..., ...}; values may be strings, integers or booleans.
 * Return: 0, -EINVAL (message in @err), -ENOMEM.
 */
int vd_spec_from_json(struct json_object *obj, struct vd_spec *spec, char *err, size_t errlen);

/** vd_spec_param() - The value of driver parameter @key, or NULL. */
const char *vd_spec_param(const struct vd_spec *spec, const char *key);

/** vd_spec_free() - Free what @spec owns; safe on a zeroed spec. */
void vd_spec_free(struct vd_spec *spec);

#endif /* VIREO_CONTROL_SPEC_H */
