/* SPDX-License-Identifier: MIT */
/*
 * Checking a driver's descriptor before the core uses any of it: every rule of
 * <vireo/driver.h> and the class headers, each refusal a named reason with one line of
 * detail saying what the driver has and what the core needs. On success the core
 * keeps its own copies (zero-extended to its struct sizes), so nothing is read from the
 * driver's tables again. Owns the rules; not loading or unloading (loader.c).
 */
#ifndef VIREO_HOST_VALIDATE_H
#define VIREO_HOST_VALIDATE_H

#include <vireo/blk.h>
#include <vireo/driver.h>
#include <vireo/net.h>
#include <vireo/sensor.h>

#include "host/image.h"

/** Why the host refused a driver. Tests assert on these; keep host_refusal_name() in step. */
enum host_refusal {
	HOST_OK = 0,
	HOST_REFUSE_FILE,	   /* the path cannot be resolved or is not a regular file */
	HOST_REFUSE_DLOPEN,	   /* the dynamic loader refused it (not ELF, missing symbol) */
	HOST_REFUSE_NO_DESCRIPTOR, /* no vireo_driver_descriptor in the driver's image */
	HOST_REFUSE_BAD_MAGIC,	   /* the symbol does not start with VIREO_DRIVER_MAGIC */
	HOST_REFUSE_ABI_MAJOR,	   /* built for another ABI major */
	HOST_REFUSE_ABI_MINOR,	   /* built for a newer minor than the core's */
	HOST_REFUSE_DESC_SIZE,	   /* descriptor struct_size too small or past the image */
	HOST_REFUSE_NAME,	   /* no name, or not 1..31 of [A-Za-z0-9_.-] */
	HOST_REFUSE_STRINGS,	   /* version, licence or description missing or malformed */
	HOST_REFUSE_CLASS,	   /* unknown class */
	HOST_REFUSE_NO_OPS,	   /* no ops table, or outside the driver's image */
	HOST_REFUSE_OPS_SIZE,	   /* ops struct_size short of the last required op */
	HOST_REFUSE_OP_MISSING,	   /* a required op is NULL */
	HOST_REFUSE_OPS_INVALID,   /* an op outside the driver's code; reserved bits set */
	HOST_REFUSE_MATCH_TABLE,   /* unterminated, oversized or a malformed entry */
	HOST_REFUSE_PARAM_TABLE,   /* unterminated, oversized or a malformed entry */
	HOST_REFUSE_PARAM_DEFAULT, /* a default that does not parse as its type */
	HOST_REFUSE_DUPLICATE,	   /* a driver of that name is already loaded */
	HOST_REFUSE_NO_MEMORY,	   /* the core ran out of memory */
	HOST_REFUSE_MAX,
};

/** host_refusal_name() - "abi-major", ...; "?" out of range. */
const char *host_refusal_name(enum host_refusal reason);

/** host_refusal_errno() - The negative errno the loader returns for @reason (0 for OK). */
int host_refusal_errno(enum host_refusal reason);

#define HOST_DETAIL_MAX 320
#define HOST_LINE_MAX	(HOST_DETAIL_MAX + 4096 + 96)

/** The outcome of a load: a reason, and the words the log line is made of. */
struct host_verdict {
	enum host_refusal reason;
	char name[VIREO_DRIVER_NAME_MAX + 1]; /* the driver's name if it could be read */
	char detail[HOST_DETAIL_MAX];	      /* what the driver has; what the core needs */
	char line[HOST_LINE_MAX];	      /* the one line the loader logs (loader.c) */
};

/** A descriptor as the core keeps it: copies, zero-extended to the core's sizes. */
struct host_checked {
	struct vireo_driver desc;
	union {
		struct vireo_blk_ops blk;
		struct vireo_net_ops net;
		struct vireo_sensor_ops sensor;
	} ops;
	struct vireo_match *match; /* nmatch entries, no sentinel; NULL if none */
	size_t nmatch;
	struct vireo_param_decl *params; /* nparams entries, no sentinel; NULL if none */
	size_t nparams;
};

/**
 * host_check_descriptor() - Check the descriptor at @sym (what dlsym() returned)
 * against every rule, reading only inside @img.
 * @out: on success, the core's copies; release with host_checked_release().
 * @v: on failure, the reason and detail (v->name set when the name was readable).
 * Return: 0, or host_refusal_errno() of the reason.
 */
int host_check_descriptor(const struct host_image *img, const void *sym, struct host_checked *out,
			  struct host_verdict *v);

/** host_checked_release() - Free the copies; safe on a zeroed struct. */
void host_checked_release(struct host_checked *c);

/** host_class_name() - "net", "blk", "sensor"; "?" for anything else. */
const char *host_class_name(uint32_t dev_class);

#endif /* VIREO_HOST_VALIDATE_H */
