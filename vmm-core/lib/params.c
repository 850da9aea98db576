// SPDX-License-Identifier: MIT
/*
 * libvireo parameters: the text forms of each type, the per-instance value set built
 * from a driver's declarations and the user's key=value pairs, and the typed getters
 * drivers call. Owns parsing and the checks of user values; checking the declaration
 * table itself (names, flags, sentinel) is the driver host's job at load time.
 */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vp_entry {
	char name[VIREO_PARAM_NAME_MAX + 1];
	uint32_t type;
	bool has_value; /* given by the user or by a default */
	bool user_set;	/* given by the user */
	union vireo_core_param_value v;
	char *str; /* string values: the owned copy v.s points to */
};

struct vireo_params {
	size_t n;
	struct vp_entry e[];
};

static const char *const vp_type_names[] = {
	[VIREO_PARAM_BOOL] = "bool",	 [VIREO_PARAM_INT] = "int", [VIREO_PARAM_UINT] = "uint",
	[VIREO_PARAM_STRING] = "string", [VIREO_PARAM_MAC] = "mac",
};

const char *vireo_core_param_type_name(uint32_t type)
{
	if (type < VIREO_PARAM_BOOL || type > VIREO_PARAM_MAC)
		return "?";
	return vp_type_names[type];
}

VIREO_PRINTF(3, 4)
static int vp_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int vp_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "on", "true", "yes", "1" };
	static const char *const no[] = { "off", "false", "no", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int vp_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* An unsigned magnitude: decimal or 0x hex, then an optional K/M/G/T; no sign, no space. */
static int vp_parse_magnitude(const char *s, uint64_t *out)
{
	unsigned int base = 10, shift = 0;
	uint64_t v = 0;
	const char *p = s;
	int d;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p || vp_hex_digit(*p) < 0)
		return -EINVAL;
	for (; *p; p++) {
		d = vp_hex_digit(*p);
		if (d < 0 || (unsigned int)d >= base)
			break;
		if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, d, &v))
			return -ERANGE;
	}
	switch (*p) {
	case '\0':
		break;
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	case 'T':
	case 't':
		shift = 40;
		break;
	default:
		return -EINVAL;
	}
	if (shift && p[1] != '\0')
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

static int vp_parse_int(const char *s, int64_t *out)
{
	bool neg = s[0] == '-';
	uint64_t mag;
	int rc;

	rc = vp_parse_magnitude(s + (s[0] == '-' || s[0] == '+'), &mag);
	if (rc < 0)
		return rc;
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			return -ERANGE;
		*out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return -ERANGE;
		*out = (int64_t)mag;
	}
	return 0;
}

static int vp_parse_mac(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = vp_hex_digit(s[i * 3]), lo = vp_hex_digit(s[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int vireo_core_param_parse(uint32_t type, const char *text, union vireo_core_param_value *out,
			   char *err, size_t errlen)
{
	int rc;

	if (!text)
		return vp_fail(err, errlen, "no value");
	switch (type) {
	case VIREO_PARAM_BOOL:
		if (vp_parse_bool(text, &out->b) < 0)
			return vp_fail(err, errlen,
				       "'%s' is not a bool (on, off, true, false, "
				       "yes, no, 1, 0)",
				       text);
		return 0;
	case VIREO_PARAM_INT:
		rc = vp_parse_int(text, &out->i);
		if (rc == -ERANGE)
			return vp_fail(err, errlen, "'%s' does not fit a 64-bit int", text);
		if (rc < 0)
			return vp_fail(err, errlen, "'%s' is not an int (-12, 0x1f, 4K)", text);
		return 0;
	case VIREO_PARAM_UINT:
		rc = vp_parse_magnitude(text, &out->u);
		if (rc == -ERANGE)
			return vp_fail(err, errlen, "'%s' does not fit a 64-bit uint", text);
		if (rc < 0)
			return vp_fail(err, errlen, "'%s' is not a uint (4096, 0x1000, 64M)", text);
		return 0;
	case VIREO_PARAM_STRING:
		if (strlen(text) > VIREO_PARAM_STRING_MAX)
			return vp_fail(err, errlen, "string of %zu bytes is longer than %d",
				       strlen(text), VIREO_PARAM_STRING_MAX);
		out->s = text;
		return 0;
	case VIREO_PARAM_MAC:
		if (vp_parse_mac(text, out->mac) < 0)
			return vp_fail(err, errlen, "'%s' is not a MAC address (52:54:00:12:34:56)",
				       text);
		return 0;
	default:
		return vp_fail(err, errlen, "unknown parameter type %u", (unsigned int)type);
	}
}

/* Stores @text as entry @e's value; string values are copied. */
static int vp_set(struct vp_entry *e, const char *text, char *err, size_t errlen)
{
	union vireo_core_param_value v;
	char why[160];
	char *copy = NULL;

	if (vireo_core_param_parse(e->type, text, &v, why, sizeof(why)) < 0)
		return vp_fail(err, errlen, "parameter '%s' (%s): %s", e->name,
			       vireo_core_param_type_name(e->type), why);
	if (e->type == VIREO_PARAM_STRING) {
		copy = strdup(text);
		if (!copy)
			return -ENOMEM;
		v.s = copy;
	}
	free(e->str);
	e->str = copy;
	e->v = v;
	e->has_value = true;
	return 0;
}

static struct vp_entry *vp_find(const struct vireo_params *params, const char *name)
{
	for (size_t i = 0; i < params->n; i++)
		if (strcmp(params->e[i].name, name) == 0)
			return (struct vp_entry *)&params->e[i];
	return NULL;
}

/* "size, block-size, ..." into @buf, for the unknown-parameter message. */
static void vp_known_names(const struct vireo_params *params, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < params->n && n < len; i++) {
		int w = snprintf(buf + n, len - n, "%s%s", i ? ", " : "", params->e[i].name);

		if (w < 0)
			break;
		n += (size_t)w;
	}
}

int vireo_core_params_new(const struct vireo_param_decl *decls, size_t ndecls,
			  const char *const *keys, const char *const *values, size_t nvalues,
			  struct vireo_params **out, char *err, size_t errlen)
{
	struct vireo_params *params;
	char known[VIREO_PARAM_MAX * (VIREO_PARAM_NAME_MAX + 2) + 1];
	int rc;

	if (ndecls > VIREO_PARAM_MAX || (ndecls && !decls) || (nvalues && (!keys || !values)))
		return vp_fail(err, errlen, "bad parameter table");
	params = calloc(1, sizeof(*params) + ndecls * sizeof(params->e[0]));
	if (!params)
		return -ENOMEM;
	params->n = ndecls;
	for (size_t i = 0; i < ndecls; i++) {
		struct vp_entry *e = &params->e[i];

		if (!decls[i].name || strlen(decls[i].name) > VIREO_PARAM_NAME_MAX) {
			rc = vp_fail(err, errlen, "parameter %zu has a bad name", i);
			goto out_free_params;
		}
		strcpy(e->name, decls[i].name);
		e->type = decls[i].type;
		if (decls[i].def) {
			rc = vp_set(e, decls[i].def, err, errlen);
			if (rc < 0)
				goto out_free_params;
		}
	}
	for (size_t i = 0; i < nvalues; i++) {
		struct vp_entry *e = keys[i] ? vp_find(params, keys[i]) : NULL;

		if (!e) {
			vp_known_names(params, known, sizeof(known));
			rc = vp_fail(err, errlen, "unknown parameter '%s' (%s%s)",
				     keys[i] ? keys[i] : "(null)", ndecls ? "known: " : "",
				     ndecls ? known : "the driver takes none");
			goto out_free_params;
		}
		if (e->user_set) {
			rc = vp_fail(err, errlen, "parameter '%s' given twice", e->name);
			goto out_free_params;
		}
		rc = vp_set(e, values[i], err, errlen);
		if (rc < 0)
			goto out_free_params;
		e->user_set = true;
	}
	for (size_t i = 0; i < ndecls; i++) {
		if ((decls[i].flags & VIREO_PARAM_F_REQUIRED) && !params->e[i].user_set) {
			rc = vp_fail(err, errlen, "missing required parameter '%s' (%s: %s)",
				     params->e[i].name, vireo_core_param_type_name(decls[i].type),
				     decls[i].help ? decls[i].help : "");
			goto out_free_params;
		}
	}
	*out = params;
	return 0;

out_free_params:
	vireo_core_params_free(params);
	return rc;
}

void vireo_core_params_free(struct vireo_params *params)
{
	if (!params)
		return;
	for (size_t i = 0; i < params->n; i++)
		free(params->e[i].str);
	free(params);
}

/* The entry the getters read, or a negative errno as their docs list. */
static int vp_lookup(const struct vireo_params *params, const char *name, uint32_t type,
		     const void *value, const struct vp_entry **out)
{
	const struct vp_entry *e;

	if (!params || !name || !value)
		return -EINVAL;
	e = vp_find(params, name);
	if (!e)
		return -ENOENT;
	if (e->type != type)
		return -EINVAL;
	if (!e->has_value)
		return -ENODATA;
	*out = e;
	return 0;
}

int vireo_param_get_bool(const struct vireo_params *params, const char *name, bool *value)
{
	const struct vp_entry *e;
	int rc = vp_lookup(params, name, VIREO_PARAM_BOOL, value, &e);

	if (rc == 0)
		*value = e->v.b;
	return rc;
}

int vireo_param_get_int(const struct vireo_params *params, const char *name, int64_t *value)
{
	const struct vp_entry *e;
	int rc = vp_lookup(params, name, VIREO_PARAM_INT, value, &e);

	if (rc == 0)
		*value = e->v.i;
	return rc;
}

int vireo_param_get_uint(const struct vireo_params *params, const char *name, uint64_t *value)
{
	const struct vp_entry *e;
	int rc = vp_lookup(params, name, VIREO_PARAM_UINT, value, &e);

	if (rc == 0)
		*value = e->v.u;
	return rc;
}

int vireo_param_get_string(const struct vireo_params *params, const char *name, const char **value)
{
	const struct vp_entry *e;
	int rc = vp_lookup(params, name, VIREO_PARAM_STRING, value, &e);

	if (rc == 0)
		*value = e->v.s;
	return rc;
}

int vireo_param_get_mac(const struct vireo_params *params, const char *name, uint8_t mac[6])
{
	const struct vp_entry *e;
	int rc = vp_lookup(params, name, VIREO_PARAM_MAC, mac, &e);

	if (rc == 0)
		memcpy(mac, e->v.mac, 6);
	return rc;
}

int vireo_param_is_set(const struct vireo_params *params, const char *name)
{
	const struct vp_entry *e;

	if (!params || !name)
		return -EINVAL;
	e = vp_find(params, name);
	if (!e)
		return -ENOENT;
	return e->user_set ? 1 : 0;
}
