// SPDX-License-Identifier: MIT
/*
 * The descriptor rules. Checks run in a fixed order: first what every ABI major shares
 * (magic, then the 12-byte frozen header), then ABI 1's layout, strings, class and ops,
 * then the two tables. Every read of driver memory is preceded by a host_image check,
 * and every message prints driver strings through check_quote() (bounded, printable).
 */
#include "host/validate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/internal.h"

/* What every ABI major keeps in place: struct_size, magic, abi_major, abi_minor. */
#define CHECK_FROZEN_SIZE 12
/* ...and, after dev_class, the name pointer, for naming any driver in a refusal. */
#define CHECK_FROZEN_NAME_END (offsetof(struct vireo_driver, name) + sizeof(const char *))
/* The longest string quoted in a message. */
#define CHECK_QUOTE_MAX 40

static const char *const refusal_names[HOST_REFUSE_MAX] = {
	[HOST_OK] = "ok",
	[HOST_REFUSE_FILE] = "file",
	[HOST_REFUSE_DLOPEN] = "dlopen",
	[HOST_REFUSE_NO_DESCRIPTOR] = "no-descriptor",
	[HOST_REFUSE_BAD_MAGIC] = "bad-magic",
	[HOST_REFUSE_ABI_MAJOR] = "abi-major",
	[HOST_REFUSE_ABI_MINOR] = "abi-minor",
	[HOST_REFUSE_DESC_SIZE] = "descriptor-size",
	[HOST_REFUSE_NAME] = "name",
	[HOST_REFUSE_STRINGS] = "strings",
	[HOST_REFUSE_CLASS] = "class",
	[HOST_REFUSE_NO_OPS] = "no-ops",
	[HOST_REFUSE_OPS_SIZE] = "ops-size",
	[HOST_REFUSE_OP_MISSING] = "op-missing",
	[HOST_REFUSE_OPS_INVALID] = "ops-invalid",
	[HOST_REFUSE_MATCH_TABLE] = "match-table",
	[HOST_REFUSE_PARAM_TABLE] = "param-table",
	[HOST_REFUSE_PARAM_DEFAULT] = "param-default",
	[HOST_REFUSE_DUPLICATE] = "duplicate",
	[HOST_REFUSE_NO_MEMORY] = "no-memory",
};

const char *host_refusal_name(enum host_refusal reason)
{
	if ((unsigned int)reason >= HOST_REFUSE_MAX)
		return "?";
	return refusal_names[reason];
}

int host_refusal_errno(enum host_refusal reason)
{
	switch (reason) {
	case HOST_OK:
		return 0;
	case HOST_REFUSE_FILE:
		return -ENOENT;
	case HOST_REFUSE_DLOPEN:
	case HOST_REFUSE_NO_DESCRIPTOR:
	case HOST_REFUSE_BAD_MAGIC:
		return -ENOEXEC;
	case HOST_REFUSE_ABI_MAJOR:
	case HOST_REFUSE_ABI_MINOR:
		return -ENOTSUP;
	case HOST_REFUSE_DUPLICATE:
		return -EEXIST;
	case HOST_REFUSE_NO_MEMORY:
		return -ENOMEM;
	default:
		return -EINVAL;
	}
}

/* ---- classes and their ops ---- */

struct check_op {
	const char *name;
	size_t off;
	bool required;
};

struct check_class {
	uint32_t id;
	const char *name;
	size_t core_size; /* sizeof the core's ops struct */
	const struct check_op *ops;
	size_t nops;
};

#define CHECK_OP(type, member, req)                  \
	{                                            \
#member, offsetof(type, member), req \
	}

static const struct check_op check_blk_ops[] = {
	CHECK_OP(struct vireo_blk_ops, open, true),
	CHECK_OP(struct vireo_blk_ops, get_geometry, true),
	CHECK_OP(struct vireo_blk_ops, submit, true),
	CHECK_OP(struct vireo_blk_ops, close, false),
	CHECK_OP(struct vireo_blk_ops, queue_start, false),
	CHECK_OP(struct vireo_blk_ops, queue_stop, false),
	CHECK_OP(struct vireo_blk_ops, get_stats, false),
};

static const struct check_op check_net_ops[] = {
	CHECK_OP(struct vireo_net_ops, open, true),
	CHECK_OP(struct vireo_net_ops, get_info, true),
	CHECK_OP(struct vireo_net_ops, tx_burst, true),
	CHECK_OP(struct vireo_net_ops, rx_burst, true),
	CHECK_OP(struct vireo_net_ops, close, false),
	CHECK_OP(struct vireo_net_ops, get_link, false),
	CHECK_OP(struct vireo_net_ops, set_mtu, false),
	CHECK_OP(struct vireo_net_ops, queue_start, false),
	CHECK_OP(struct vireo_net_ops, queue_stop, false),
	CHECK_OP(struct vireo_net_ops, get_stats, false),
	CHECK_OP(struct vireo_net_ops, set_offloads, false),
};

static const struct check_op check_sensor_ops[] = {
	CHECK_OP(struct vireo_sensor_ops, open, true),
	CHECK_OP(struct vireo_sensor_ops, get_channel, true),
	CHECK_OP(struct vireo_sensor_ops, read, true),
	CHECK_OP(struct vireo_sensor_ops, close, false),
	CHECK_OP(struct vireo_sensor_ops, set_threshold, false),
};

#define CHECK_NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct check_class check_classes[] = {
	{ VIREO_CLASS_NET, "net", sizeof(struct vireo_net_ops), check_net_ops,
	  CHECK_NELEM(check_net_ops) },
	{ VIREO_CLASS_BLK, "blk", sizeof(struct vireo_blk_ops), check_blk_ops,
	  CHECK_NELEM(check_blk_ops) },
	{ VIREO_CLASS_SENSOR, "sensor", sizeof(struct vireo_sensor_ops), check_sensor_ops,
	  CHECK_NELEM(check_sensor_ops) },
};

const char *host_class_name(uint32_t dev_class)
{
	for (size_t i = 0; i < CHECK_NELEM(check_classes); i++)
		if (check_classes[i].id == dev_class)
			return check_classes[i].name;
	return "?";
}

/* The smallest struct_size that still holds every required op. */
static size_t check_min_ops_size(const struct check_class *cls, const char **last)
{
	size_t min = sizeof(uint32_t);

	for (size_t i = 0; i < cls->nops; i++) {
		if (cls->ops[i].required && cls->ops[i].off + sizeof(void (*)(void)) > min) {
			min = cls->ops[i].off + sizeof(void (*)(void));
			*last = cls->ops[i].name;
		}
	}
	return min;
}

/* ---- messages ---- */

VIREO_PRINTF(3, 4)
static int check_refuse(struct host_verdict *v, enum host_refusal reason, const char *fmt, ...)
{
	va_list ap;

	v->reason = reason;
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
	return host_refusal_errno(reason);
}

/* A driver string, made safe to print: printable ASCII, cut to fit @len with "...". */
static const char *check_quote(char *buf, size_t len, const char *s, size_t slen)
{
	size_t n = 0;

	for (; n < slen && n + 4 < len; n++)
		buf[n] = s[n] >= 0x20 && s[n] < 0x7f ? s[n] : '?';
	buf[n] = '\0';
	if (slen > n && len > n + 3)
		strcpy(buf + n, "...");
	return buf;
}

static bool check_charset(const char *s, size_t len, bool upper_dot)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
			continue;
		if (upper_dot && ((c >= 'A' && c <= 'Z') || c == '.'))
			continue;
		return false;
	}
	return true;
}

static bool check_printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] >= 0x7f)
			return false;
	return true;
}

/* ---- descriptor ---- */

/* A name: 1..max of the charset. Returns its length, or -1 with @why filled in. */
static ssize_t check_name(const struct host_image *img, const char *s, size_t max, bool upper_dot,
			  char *why, size_t whylen)
{
	char q[CHECK_QUOTE_MAX + 4];
	ssize_t len;

	if (!s) {
		snprintf(why, whylen, "is NULL");
		return -1;
	}
	len = host_image_strnlen(img, s, max);
	if (len < 0) {
		snprintf(why, whylen, "is outside the driver's image or longer than %zu bytes",
			 max);
		return -1;
	}
	if (len == 0 || !check_charset(s, (size_t)len, upper_dot)) {
		snprintf(why, whylen, "'%s' is not 1-%zu of %s",
			 check_quote(q, sizeof(q), s, (size_t)len), max,
			 upper_dot ? "[A-Za-z0-9_.-]" : "[a-z0-9_-]");
		return -1;
	}
	return len;
}

/* version, licence, description: printable, 1..max bytes (description may be NULL). */
static int check_string(const struct host_image *img, const char *what, const char *s, size_t max,
			bool optional, struct host_verdict *v)
{
	ssize_t len;

	if (!s) {
		if (optional)
			return 0;
		return check_refuse(v, HOST_REFUSE_STRINGS, "descriptor has no %s", what);
	}
	len = host_image_strnlen(img, s, max);
	if (len < 0)
		return check_refuse(v, HOST_REFUSE_STRINGS,
				    "%s is outside the driver's image or longer than %zu bytes",
				    what, max);
	if (len == 0 || !check_printable(s, (size_t)len))
		return check_refuse(v, HOST_REFUSE_STRINGS,
				    "%s must be 1-%zu printable ASCII characters", what, max);
	return 0;
}

static int check_header(const struct host_image *img, const void *sym, struct host_checked *out,
			struct host_verdict *v)
{
	const struct vireo_driver *d = sym;
	const size_t min_size = offsetof(struct vireo_driver, params) + sizeof(d->params);
	char why[160];
	ssize_t len;

	if (!host_image_holds(img, sym, CHECK_FROZEN_SIZE, _Alignof(struct vireo_driver)))
		return check_refuse(
			v, HOST_REFUSE_NO_DESCRIPTOR,
			"symbol '%s' is not an aligned object in the driver's own image",
			VIREO_DRIVER_SYMBOL);
	if (d->magic != VIREO_DRIVER_MAGIC)
		return check_refuse(v, HOST_REFUSE_BAD_MAGIC,
				    "'%s' starts with magic 0x%08x; a descriptor has 0x%08x",
				    VIREO_DRIVER_SYMBOL, d->magic, VIREO_DRIVER_MAGIC);
	/* Name the driver in the messages that follow, whatever its major, if it has one. */
	if (d->struct_size >= CHECK_FROZEN_NAME_END &&
	    host_image_holds(img, sym, CHECK_FROZEN_NAME_END, 1)) {
		len = check_name(img, d->name, VIREO_DRIVER_NAME_MAX, true, why, sizeof(why));
		if (len > 0)
			memcpy(v->name, d->name, (size_t)len + 1);
	}
	if (d->abi_major != VIREO_ABI_MAJOR)
		return check_refuse(v, HOST_REFUSE_ABI_MAJOR,
				    "built for ABI %u.%u; this core has ABI %d.%d and loads "
				    "major %d only",
				    d->abi_major, d->abi_minor, VIREO_ABI_MAJOR, VIREO_ABI_MINOR,
				    VIREO_ABI_MAJOR);
	if (d->abi_minor > VIREO_ABI_MINOR)
		return check_refuse(v, HOST_REFUSE_ABI_MINOR,
				    "built for ABI %u.%u; this core has ABI %d.%d and loads "
				    "minors up to %d",
				    d->abi_major, d->abi_minor, VIREO_ABI_MAJOR, VIREO_ABI_MINOR,
				    VIREO_ABI_MINOR);
	if (d->struct_size < min_size)
		return check_refuse(v, HOST_REFUSE_DESC_SIZE,
				    "descriptor struct_size is %u; this core needs at least %zu",
				    d->struct_size, min_size);
	if (!host_image_holds(img, sym, d->struct_size, 1))
		return check_refuse(v, HOST_REFUSE_DESC_SIZE,
				    "descriptor struct_size %u runs past the driver's image",
				    d->struct_size);
	memcpy(&out->desc, d,
	       d->struct_size < sizeof(out->desc) ? d->struct_size : sizeof(out->desc));
	return 0;
}

static int check_strings(const struct host_image *img, struct host_checked *out,
			 struct host_verdict *v)
{
	const struct vireo_driver *d = &out->desc;
	char why[160];
	int rc;

	if (check_name(img, d->name, VIREO_DRIVER_NAME_MAX, true, why, sizeof(why)) < 0)
		return check_refuse(v, HOST_REFUSE_NAME, "descriptor name %s", why);
	rc = check_string(img, "version", d->version, VIREO_DRIVER_VERSION_MAX, false, v);
	if (rc == 0)
		rc = check_string(img, "license", d->license, VIREO_DRIVER_LICENSE_MAX, false, v);
	if (rc == 0)
		rc = check_string(img, "description", d->description, VIREO_DRIVER_DESCRIPTION_MAX,
				  true, v);
	return rc;
}

static int check_ops(const struct host_image *img, struct host_checked *out, struct host_verdict *v)
{
	const struct check_class *cls = NULL;
	const char *last_required = "?";
	const void *ops = out->desc.ops.any;
	uint32_t size, reserved;
	size_t min, copied;

	for (size_t i = 0; i < CHECK_NELEM(check_classes); i++)
		if (check_classes[i].id == out->desc.dev_class)
			cls = &check_classes[i];
	if (!cls)
		return check_refuse(v, HOST_REFUSE_CLASS,
				    "class %u; this core knows net (%d), blk (%d), sensor (%d)",
				    out->desc.dev_class, VIREO_CLASS_NET, VIREO_CLASS_BLK,
				    VIREO_CLASS_SENSOR);
	if (!ops)
		return check_refuse(v, HOST_REFUSE_NO_OPS, "descriptor has no %s ops table",
				    cls->name);
	if (!host_image_holds(img, ops, 2 * sizeof(uint32_t), _Alignof(void *)))
		return check_refuse(v, HOST_REFUSE_NO_OPS,
				    "%s ops table is not an aligned object in the driver's image",
				    cls->name);
	memcpy(&size, ops, sizeof(size));
	memcpy(&reserved, (const char *)ops + sizeof(size), sizeof(reserved));
	min = check_min_ops_size(cls, &last_required);
	if (size < min)
		return check_refuse(v, HOST_REFUSE_OPS_SIZE,
				    "%s ops struct_size is %u; this core needs at least %zu "
				    "(through '%s')",
				    cls->name, size, min, last_required);
	if (!host_image_holds(img, ops, size, 1))
		return check_refuse(v, HOST_REFUSE_OPS_SIZE,
				    "%s ops struct_size %u runs past the driver's image", cls->name,
				    size);
	if (reserved)
		return check_refuse(v, HOST_REFUSE_OPS_INVALID,
				    "%s ops reserved0 is 0x%x; it must be 0", cls->name, reserved);
	copied = size < cls->core_size ? size : cls->core_size;
	memcpy(&out->ops, ops, copied);
	for (size_t i = 0; i < cls->nops; i++) {
		const struct check_op *op = &cls->ops[i];
		uintptr_t fn = 0;

		if (op->off + sizeof(fn) <= copied)
			memcpy(&fn, (const char *)&out->ops + op->off, sizeof(fn));
		if (!fn && op->required) {
			char need[160] = "";

			for (size_t j = 0, n = 0; j < cls->nops && n < sizeof(need); j++)
				if (cls->ops[j].required)
					n += (size_t)snprintf(need + n, sizeof(need) - n, "%s%s",
							      n ? ", " : "", cls->ops[j].name);
			return check_refuse(v, HOST_REFUSE_OP_MISSING,
					    "%s op '%s' is NULL; this core requires %s", cls->name,
					    op->name, need);
		}
		if (fn && !host_image_code(img, fn))
			return check_refuse(v, HOST_REFUSE_OPS_INVALID,
					    "%s op '%s' points outside the driver's code",
					    cls->name, op->name);
	}
	return 0;
}

/* ---- tables ---- */

/*
 * Walks a `{ 0 }`-terminated table of entries that start with struct_size, reading only
 * inside @img. Entries are @min_size or larger, all of one size (the driver's sizeof).
 * Returns the entry count, or -1 with the refusal made.
 */
static ssize_t check_table_walk(const struct host_image *img, const void *base, const char *what,
				size_t min_size, size_t max, enum host_refusal reason,
				size_t *stride_out, struct host_verdict *v)
{
	const char *p = base;
	uint32_t size, stride = 0;

	for (size_t i = 0;; i++, p += stride) {
		if (!host_image_holds(img, p, sizeof(size), _Alignof(void *))) {
			check_refuse(v, reason,
				     "%s entry %zu lies outside the driver's image (no { 0 } "
				     "sentinel?)",
				     what, i);
			return -1;
		}
		memcpy(&size, p, sizeof(size));
		if (size == 0) {
			*stride_out = stride;
			return (ssize_t)i;
		}
		if (i == max) {
			check_refuse(
				v, reason,
				"%s has no { 0 } sentinel within %zu entries, this core's limit",
				what, max);
			return -1;
		}
		if (i == 0) {
			if (size < min_size) {
				check_refuse(v, reason,
					     "%s entry struct_size is %u; this core needs at least "
					     "%zu",
					     what, size, min_size);
				return -1;
			}
			stride = size;
		} else if (size != stride) {
			check_refuse(v, reason,
				     "%s entry %zu has struct_size %u but entry 0 has %u (no { 0 } "
				     "sentinel?)",
				     what, i, size, stride);
			return -1;
		}
		if (!host_image_holds(img, p, size, 1)) {
			check_refuse(v, reason, "%s entry %zu runs past the driver's image", what,
				     i);
			return -1;
		}
	}
}

/* Copies @n entries of @stride bytes into a new array of @core_size entries. */
static void *check_table_copy(const void *base, size_t n, size_t stride, size_t core_size)
{
	char *copy = calloc(n, core_size);

	if (!copy)
		return NULL;
	for (size_t i = 0; i < n; i++)
		memcpy(copy + i * core_size, (const char *)base + i * stride,
		       stride < core_size ? stride : core_size);
	return copy;
}

static int check_match_entry(const struct host_image *img, const struct vireo_match *m, size_t i,
			     struct host_verdict *v)
{
	char why[160];

	switch (m->type) {
	case VIREO_MATCH_PCI:
		if (m->pci.class_code > 0xffffff || m->pci.class_mask > 0xffffff)
			return check_refuse(
				v, HOST_REFUSE_MATCH_TABLE,
				"match entry %zu: PCI class 0x%x mask 0x%x exceed 24 bits", i,
				m->pci.class_code, m->pci.class_mask);
		if (m->pci.vendor == VIREO_PCI_ANY && m->pci.device == VIREO_PCI_ANY &&
		    m->pci.subvendor == VIREO_PCI_ANY && m->pci.subdevice == VIREO_PCI_ANY &&
		    m->pci.class_mask == 0)
			return check_refuse(v, HOST_REFUSE_MATCH_TABLE,
					    "match entry %zu matches every PCI function", i);
		return 0;
	case VIREO_MATCH_USB:
		if (m->usb.vid == 0 || m->usb.reserved0)
			return check_refuse(
				v, HOST_REFUSE_MATCH_TABLE,
				"match entry %zu: USB vid 0x%04x reserved0 0x%x; need a "
				"vid and reserved0 0",
				i, m->usb.vid, m->usb.reserved0);
		return 0;
	case VIREO_MATCH_NAME:
		if (check_name(img, m->name, VIREO_DRIVER_NAME_MAX, true, why, sizeof(why)) < 0)
			return check_refuse(v, HOST_REFUSE_MATCH_TABLE, "match entry %zu: name %s",
					    i, why);
		return 0;
	default:
		return check_refuse(v, HOST_REFUSE_MATCH_TABLE,
				    "match entry %zu has type %u; this core knows pci (%d), usb "
				    "(%d), name (%d)",
				    i, m->type, VIREO_MATCH_PCI, VIREO_MATCH_USB, VIREO_MATCH_NAME);
	}
}

static int check_match(const struct host_image *img, struct host_checked *out,
		       struct host_verdict *v)
{
	const void *base = out->desc.match;
	size_t stride = 0;
	ssize_t n;
	int rc;

	if (!base)
		return 0;
	n = check_table_walk(img, base, "match table", sizeof(struct vireo_match), VIREO_MATCH_MAX,
			     HOST_REFUSE_MATCH_TABLE, &stride, v);
	if (n < 0)
		return host_refusal_errno(v->reason);
	if (n == 0)
		return 0;
	out->match = check_table_copy(base, (size_t)n, stride, sizeof(struct vireo_match));
	if (!out->match)
		return check_refuse(v, HOST_REFUSE_NO_MEMORY, "copying the match table");
	out->nmatch = (size_t)n;
	for (size_t i = 0; i < out->nmatch; i++) {
		rc = check_match_entry(img, &out->match[i], i, v);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Device-spec keys the core consumes itself (vmm-core/control/spec.c). */
static const char *const check_reserved_params[] = {
	"class", "driver", "id", "num-queues", "readonly", "socket",
};

static int check_param_entry(const struct host_image *img, const struct host_checked *out, size_t i,
			     struct host_verdict *v)
{
	const struct vireo_param_decl *p = &out->params[i];
	union vireo_core_param_value val;
	char why[160], q[sizeof(why)];
	ssize_t len;

	if (check_name(img, p->name, VIREO_PARAM_NAME_MAX, false, why, sizeof(why)) < 0)
		return check_refuse(v, HOST_REFUSE_PARAM_TABLE, "parameter %zu: name %s", i, why);
	for (size_t j = 0; j < CHECK_NELEM(check_reserved_params); j++)
		if (strcmp(p->name, check_reserved_params[j]) == 0)
			return check_refuse(v, HOST_REFUSE_PARAM_TABLE,
					    "parameter '%s' is a key the core reserves (class, "
					    "driver, id, num-queues, readonly, socket)",
					    p->name);
	for (size_t j = 0; j < i; j++)
		if (strcmp(p->name, out->params[j].name) == 0)
			return check_refuse(v, HOST_REFUSE_PARAM_TABLE,
					    "parameter '%s' is declared twice", p->name);
	if (p->type < VIREO_PARAM_BOOL || p->type > VIREO_PARAM_MAC)
		return check_refuse(v, HOST_REFUSE_PARAM_TABLE,
				    "parameter '%s' has type %u; this core knows bool (1) to mac "
				    "(5)",
				    p->name, p->type);
	if ((p->flags & ~VIREO_PARAM_F_REQUIRED) || p->reserved0)
		return check_refuse(v, HOST_REFUSE_PARAM_TABLE,
				    "parameter '%s' has flags 0x%x reserved0 0x%x; this core knows "
				    "flags 0x%x and needs reserved0 0",
				    p->name, p->flags, p->reserved0, VIREO_PARAM_F_REQUIRED);
	len = p->help ? host_image_strnlen(img, p->help, VIREO_PARAM_HELP_MAX) : -1;
	if (len <= 0 || !check_printable(p->help, (size_t)len))
		return check_refuse(v, HOST_REFUSE_PARAM_TABLE,
				    "parameter '%s' needs help text: 1-%d printable characters",
				    p->name, VIREO_PARAM_HELP_MAX);
	if (!p->def)
		return 0;
	if (p->flags & VIREO_PARAM_F_REQUIRED)
		return check_refuse(v, HOST_REFUSE_PARAM_TABLE,
				    "parameter '%s' is required and has a default; drop one",
				    p->name);
	len = host_image_strnlen(img, p->def, VIREO_PARAM_STRING_MAX);
	if (len < 0)
		return check_refuse(v, HOST_REFUSE_PARAM_DEFAULT,
				    "parameter '%s': default is outside the driver's image or "
				    "longer than %d bytes",
				    p->name, VIREO_PARAM_STRING_MAX);
	if (vireo_core_param_parse(p->type, p->def, &val, why, sizeof(why)) < 0)
		return check_refuse(v, HOST_REFUSE_PARAM_DEFAULT, "parameter '%s' (%s): default %s",
				    p->name, vireo_core_param_type_name(p->type),
				    check_quote(q, sizeof(q), why, strlen(why)));
	return 0;
}

static int check_params(const struct host_image *img, struct host_checked *out,
			struct host_verdict *v)
{
	const void *base = out->desc.params;
	size_t stride = 0;
	ssize_t n;
	int rc;

	if (!base)
		return 0;
	n = check_table_walk(img, base, "parameter table", sizeof(struct vireo_param_decl),
			     VIREO_PARAM_MAX, HOST_REFUSE_PARAM_TABLE, &stride, v);
	if (n < 0)
		return host_refusal_errno(v->reason);
	if (n == 0)
		return 0;
	out->params = check_table_copy(base, (size_t)n, stride, sizeof(struct vireo_param_decl));
	if (!out->params)
		return check_refuse(v, HOST_REFUSE_NO_MEMORY, "copying the parameter table");
	out->nparams = (size_t)n;
	for (size_t i = 0; i < out->nparams; i++) {
		rc = check_param_entry(img, out, i, v);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int host_check_descriptor(const struct host_image *img, const void *sym, struct host_checked *out,
			  struct host_verdict *v)
{
	int rc;

	memset(out, 0, sizeof(*out));
	v->reason = HOST_OK;
	v->name[0] = '\0';
	v->detail[0] = '\0';
	rc = check_header(img, sym, out, v);
	if (rc == 0)
		rc = check_strings(img, out, v);
	if (rc == 0)
		rc = check_ops(img, out, v);
	if (rc == 0)
		rc = check_match(img, out, v);
	if (rc == 0)
		rc = check_params(img, out, v);
	if (rc < 0)
		host_checked_release(out);
	return rc;
}

void host_checked_release(struct host_checked *c)
{
	free(c->match);
	free(c->params);
	c->match = NULL;
	c->params = NULL;
	c->nmatch = 0;
	c->nparams = 0;
}
