// SPDX-License-Identifier: MIT
/*
 * The class-independent part of opening and closing a device instance (see
 * instance.h), so that each class's file holds only what is its own.
 */
#include "host/instance.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/validate.h"
#include "lib/internal.h"

int host_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

int host_instance_get(struct host_driver *drv, uint32_t cls, const char *id,
		      const char *const *keys, const char *const *values, size_t nparams,
		      char **id_out, struct vireo_params **params_out, char *err, size_t errlen)
{
	const struct host_checked *info = host_driver_info(drv);
	char why[512];
	int rc;

	if (info->desc.dev_class != cls)
		return host_fail(err, errlen, -EINVAL, "driver '%s' is a %s driver, not %s",
				 info->desc.name, host_class_name(info->desc.dev_class),
				 host_class_name(cls));
	*id_out = strdup(id);
	if (!*id_out)
		return -ENOMEM;
	rc = vireo_core_params_new(info->params, info->nparams, keys, values, nparams, params_out,
				   why, sizeof(why));
	if (rc < 0) {
		host_fail(err, errlen, rc, "driver '%s' device '%s': %s", info->desc.name, id,
			  rc == -ENOMEM ? "out of memory" : why);
		free(*id_out);
		*id_out = NULL;
		return rc;
	}
	host_driver_get(drv);
	return 0;
}

void host_instance_put(struct host_driver *drv, char *id, struct vireo_params *params)
{
	host_driver_put(drv);
	vireo_core_params_free(params);
	free(id);
}

int host_driver_rc(struct vireo_ratelimit *rl, const char *driver, const char *id, const char *op,
		   int rc)
{
	if (rc <= 0)
		return rc;
	vireo_log_ratelimited(rl, VIREO_LOG_ERR, HOST_LOG_TAG,
			      "driver '%s' device '%s': %s returned %d, not 0 or -errno: "
			      "taken as -EIO",
			      driver, id, op, rc);
	return -EIO;
}
