/* SPDX-License-Identifier: MIT */
/*
 * What opening a device instance of any driver class shares: checking the driver's
 * class, copying the device id, building the parameter set the driver's open op
 * reads, holding a reference on the driver, and one-line errors. The classes'
 * instance files (blkdev.c, netdev.c) own everything after that.
 */
#ifndef VIREO_HOST_INSTANCE_H
#define VIREO_HOST_INSTANCE_H

#include <stddef.h>
#include <stdint.h>

#include "host/loader.h"

/* The log tag of the driver host. */
#define HOST_LOG_TAG "host"

struct vireo_params;
struct vireo_ratelimit;

/**
 * host_fail() - Write a one-line error into @err (may be NULL) and return @rc.
 */
int host_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/**
 * host_instance_get() - The common start of an instance of @drv for device @id.
 * @cls: the VIREO_CLASS_* the caller serves; another class is refused.
 * @keys, @values, @nparams: the user's driver parameters.
 * @id_out: a copy of @id; @params_out: the checked parameter set.
 * Return: 0 (a driver reference is held: release with host_instance_put()), -EINVAL
 * (wrong class, bad parameter; message in @err), or -ENOMEM.
 */
int host_instance_get(struct host_driver *drv, uint32_t cls, const char *id,
		      const char *const *keys, const char *const *values, size_t nparams,
		      char **id_out, struct vireo_params **params_out, char *err, size_t errlen);

/** host_instance_put() - Undo host_instance_get(): parameters, id copy, reference. */
void host_instance_put(struct host_driver *drv, char *id, struct vireo_params *params);

/**
 * host_driver_rc() - A driver op's int result as 0 or a negative errno: a positive
 * value is a driver bug, logged (rate-limited by @rl) and taken as -EIO.
 */
int host_driver_rc(struct vireo_ratelimit *rl, const char *driver, const char *id, const char *op,
		   int rc);

#endif /* VIREO_HOST_INSTANCE_H */
