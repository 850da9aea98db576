// SPDX-License-Identifier: MIT
/*
 * Device spec parsing for the command line and the JSON config file. Both feed the
 * same key/value setter, so a key means the same thing, and is refused for the same
 * reason, wherever it is written.
 */
#include "control/spec.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/internal.h"

static const char *const vd_class_names[VD_CLASS_MAX] = {
	[VD_CLASS_BLK] = "blk",
	[VD_CLASS_NET] = "net",
	[VD_CLASS_VSOCK] = "vsock",
	[VD_CLASS_I2C] = "i2c",
	/* no socket: a sensor device is served on the control socket only */
	[VD_CLASS_SENSOR] = "sensor",
};

/* Keys that may appear more than once (each is passed on as its own parameter). */
static const char *const vd_repeatable_keys[] = { "sensor" };

const char *vd_class_name(enum vd_class cls)
{
	if ((unsigned int)cls >= VD_CLASS_MAX)
		return "?";
	return vd_class_names[cls];
}

static int vd_class_from_name(const char *name, enum vd_class *cls)
{
	for (unsigned int i = 0; i < VD_CLASS_MAX; i++) {
		if (strcmp(name, vd_class_names[i]) == 0) {
			*cls = (enum vd_class)i;
			return 0;
		}
	}
	return -EINVAL;
}

__attribute__((format(printf, 3, 4))) static int vd_fail(char *err, size_t errlen, const char *fmt,
							 ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool vd_id_valid(const char *id)
{
	size_t len = strlen(id);

	if (len == 0 || len > VD_ID_MAX)
		return false;
	for (const char *c = id; *c; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '.'))
			return false;
	}
	return true;
}

static bool vd_repeatable(const char *key)
{
	for (size_t i = 0; i < sizeof(vd_repeatable_keys) / sizeof(vd_repeatable_keys[0]); i++)
		if (strcmp(key, vd_repeatable_keys[i]) == 0)
			return true;
	return false;
}

static int vd_set_string(char **field, const char *key, const char *value, char *err, size_t errlen)
{
	if (*field)
		return vd_fail(err, errlen, "key '%s' given twice", key);
	*field = strdup(value);
	return *field ? 0 : -ENOMEM;
}

/* Applies one key=value; `seen` tracks the common keys given so far. */
static int vd_set(struct vd_spec *s, unsigned int *seen, const char *key, const char *value,
		  char *err, size_t errlen)
{
	enum { SEEN_QUEUES = 1, SEEN_READONLY = 2 };
	union vireo_core_param_value v;
	struct vd_param *p;

	if (*key == '\0')
		return vd_fail(err, errlen, "empty key");
	if (*value == '\0')
		return vd_fail(err, errlen, "key '%s' has no value", key);

	if (strcmp(key, "id") == 0) {
		if (!vd_id_valid(value))
			return vd_fail(err, errlen, "key 'id': '%s' is not 1-%d of [A-Za-z0-9_.-]",
				       value, VD_ID_MAX);
		return vd_set_string(&s->id, key, value, err, errlen);
	}
	if (strcmp(key, "driver") == 0)
		return vd_set_string(&s->driver, key, value, err, errlen);
	if (strcmp(key, "socket") == 0)
		return vd_set_string(&s->socket, key, value, err, errlen);
	if (strcmp(key, "num-queues") == 0) {
		char *end;
		unsigned long n;

		if (*seen & SEEN_QUEUES)
			return vd_fail(err, errlen, "key '%s' given twice", key);
		*seen |= SEEN_QUEUES;
		errno = 0;
		n = strtoul(value, &end, 10);
		if (errno || *end || value[0] == '-' || n < 1 || n > VD_MAX_QUEUES)
			return vd_fail(err, errlen, "key 'num-queues': expected 1 to %d, got '%s'",
				       VD_MAX_QUEUES, value);
		s->num_queues = (unsigned int)n;
		return 0;
	}
	if (strcmp(key, "readonly") == 0) {
		if (*seen & SEEN_READONLY)
			return vd_fail(err, errlen, "key '%s' given twice", key);
		*seen |= SEEN_READONLY;
		/* The same spellings as a driver's bool parameters (on/off, yes/no...). */
		if (vireo_core_param_parse(VIREO_PARAM_BOOL, value, &v, NULL, 0) < 0)
			return vd_fail(err, errlen, "key 'readonly': expected on or off, got '%s'",
				       value);
		s->readonly = v.b;
		return 0;
	}
	if (strcmp(key, "class") == 0)
		return vd_fail(err, errlen, "key 'class': the class comes first, once");

	if (!vd_repeatable(key) && vd_spec_param(s, key))
		return vd_fail(err, errlen, "key '%s' given twice", key);
	p = realloc(s->params, (s->nparams + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	s->params = p;
	p[s->nparams].key = strdup(key);
	p[s->nparams].value = strdup(value);
	if (!p[s->nparams].key || !p[s->nparams].value) {
		free(p[s->nparams].key);
		free(p[s->nparams].value);
		return -ENOMEM;
	}
	s->nparams++;
	return 0;
}

/* The checks that need the whole spec. */
static int vd_finish(struct vd_spec *s, char *err, size_t errlen)
{
	if (!s->id)
		return vd_fail(err, errlen, "missing key 'id'");
	if (s->cls == VD_CLASS_SENSOR && s->socket)
		return vd_fail(err, errlen, "key 'socket': a sensor device has none");
	if (!s->socket && s->cls != VD_CLASS_SENSOR)
		return vd_fail(err, errlen, "missing key 'socket'");
	if (!s->driver &&
	    (s->cls == VD_CLASS_BLK || s->cls == VD_CLASS_NET || s->cls == VD_CLASS_SENSOR))
		return vd_fail(err, errlen, "missing key 'driver' (a %s device needs one)",
			       vd_class_name(s->cls));
	return 0;
}

void vd_spec_free(struct vd_spec *s)
{
	for (size_t i = 0; i < s->nparams; i++) {
		free(s->params[i].key);
		free(s->params[i].value);
	}
	free(s->params);
	free(s->id);
	free(s->driver);
	free(s->socket);
	memset(s, 0, sizeof(*s));
}

const char *vd_spec_param(const struct vd_spec *s, const char *key)
{
	for (size_t i = 0; i < s->nparams; i++)
		if (strcmp(s->params[i].key, key) == 0)
			return s->params[i].value;
	return NULL;
}

/*
 * Cuts the next comma-separated item out of *cursor into a fresh buffer, turning
 * ",," into ",". Sets *cursor to NULL after the last item. Returns NULL only when
 * out of memory.
 */
static char *vd_next_item(const char **cursor)
{
	const char *c = *cursor;
	size_t len = 0;
	char *item = malloc(strlen(c) + 1);

	if (!item)
		return NULL;
	while (*c) {
		if (*c == ',') {
			if (c[1] != ',')
				break;
			c++;
		}
		item[len++] = *c++;
	}
	item[len] = '\0';
	*cursor = *c == ',' ? c + 1 : NULL;
	return item;
}

int vd_spec_parse(const char *text, struct vd_spec *out, char *err, size_t errlen)
{
	struct vd_spec s = { .num_queues = 1 };
	const char *cursor = text;
	unsigned int seen = 0;
	char *item, *eq;
	int rc = 0;

	item = vd_next_item(&cursor);
	if (!item)
		return -ENOMEM;
	if (*item == '\0')
		rc = vd_fail(err, errlen, "empty device spec");
	else if (vd_class_from_name(item, &s.cls) < 0)
		rc = vd_fail(err, errlen,
			     "unknown device class '%s' (blk, net, vsock, i2c, sensor)", item);
	free(item);

	while (rc == 0 && cursor) {
		item = vd_next_item(&cursor);
		if (!item)
			rc = -ENOMEM;
		else if (*item == '\0')
			rc = vd_fail(err, errlen, "empty item (a trailing comma?)");
		else if (!(eq = strchr(item, '=')))
			rc = vd_fail(err, errlen, "'%s' is not KEY=VALUE", item);
		else {
			*eq = '\0';
			rc = vd_set(&s, &seen, item, eq + 1, err, errlen);
		}
		free(item);
	}
	if (rc == 0)
		rc = vd_finish(&s, err, errlen);
	if (rc < 0) {
		vd_spec_free(&s);
		return rc;
	}
	*out = s;
	return 0;
}

int vd_spec_from_json(struct json_object *obj, struct vd_spec *out, char *err, size_t errlen)
{
	struct vd_spec s = { .num_queues = 1 };
	struct json_object *cls;
	unsigned int seen = 0;
	int rc = 0;

	if (!json_object_is_type(obj, json_type_object))
		return vd_fail(err, errlen, "a device must be a JSON object");
	if (!json_object_object_get_ex(obj, "class", &cls) ||
	    !json_object_is_type(cls, json_type_string))
		return vd_fail(err, errlen, "missing key 'class' (blk, net, vsock, i2c, sensor)");
	if (vd_class_from_name(json_object_get_string(cls), &s.cls) < 0)
		return vd_fail(err, errlen,
			       "unknown device class '%s' (blk, net, vsock, i2c, sensor)",
			       json_object_get_string(cls));

	json_object_object_foreach(obj, key, val)
	{
		if (rc < 0)
			break;
		if (strcmp(key, "class") == 0)
			continue;
		switch (json_object_get_type(val)) {
		case json_type_string:
		case json_type_int:
		case json_type_boolean:
			rc = vd_set(&s, &seen, key, json_object_get_string(val), err, errlen);
			break;
		case json_type_array:
			/* A repeatable key may be a list of strings. */
			if (!vd_repeatable(key)) {
				rc = vd_fail(err, errlen, "key '%s' cannot be a list", key);
				break;
			}
			for (size_t i = 0; rc == 0 && i < json_object_array_length(val); i++) {
				struct json_object *v = json_object_array_get_idx(val, i);

				if (!json_object_is_type(v, json_type_string))
					rc = vd_fail(err, errlen, "key '%s': list of strings", key);
				else
					rc = vd_set(&s, &seen, key, json_object_get_string(v), err,
						    errlen);
			}
			break;
		default:
			rc = vd_fail(err, errlen, "key '%s' must be a string, number or boolean",
				     key);
		}
	}
	if (rc == 0)
		rc = vd_finish(&s, err, errlen);
	if (rc < 0) {
		vd_spec_free(&s);
		return rc;
	}
	*out = s;
	return 0;
}
