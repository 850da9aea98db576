// SPDX-License-Identifier: MIT
/*
 * sensor-ipmi: the lan transport's stand-in in builds without OpenIPMI's library
 * (libopenipmi-dev): transport=lan is refused with a reason.
 */
#include <errno.h>

#include <vireo/log.h>

#include "ipmi_dev.h"

int ipmi_lan_open(struct ipmi_dev *d, const struct ipmi_lan_cfg *cfg, unsigned int timeout_ms,
		  const char *id)
{
	(void)d;
	(void)cfg;
	(void)timeout_ms;
	VIREO_ERR("%s: transport=lan: this sensor-ipmi was built without OpenIPMI "
		  "(libopenipmi-dev)",
		  id);
	return -EOPNOTSUPP;
}
