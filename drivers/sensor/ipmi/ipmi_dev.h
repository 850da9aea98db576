/* SPDX-License-Identifier: MIT */
/*
 * sensor-ipmi: one command at a time to the BMC through the OpenIPMI kernel interface
 * (/dev/ipmiN, <linux/ipmi.h>), addressed to the system interface.
 */
#ifndef VIREO_DRIVERS_SENSOR_IPMI_DEV_H
#define VIREO_DRIVERS_SENSOR_IPMI_DEV_H

#include <stddef.h>
#include <stdint.h>

struct ipmi_dev {
	int fd;
	long msgid;		 /* the last request's; responses must carry it */
	unsigned int timeout_ms; /* how long to wait for one response */
	const char *id;		 /* the instance's id, for log lines */
};

/* Opens @path. Return: 0 or -errno (logged). */
int ipmi_dev_open(struct ipmi_dev *d, const char *path, unsigned int timeout_ms, const char *id);
void ipmi_dev_close(struct ipmi_dev *d);

/*
 * Sends @cmd of @netfn with @req to the BMC's @lun and waits for its response. Return:
 * the response's length (>= 1: rsp[0] is the completion code, data follows) or -errno:
 * -ETIMEDOUT if no response came in timeout_ms, -EIO for a malformed one.
 */
int ipmi_dev_cmd(struct ipmi_dev *d, uint8_t lun, uint8_t netfn, uint8_t cmd, const uint8_t *req,
		 size_t req_len, uint8_t *rsp, size_t rsp_cap);

#endif /* VIREO_DRIVERS_SENSOR_IPMI_DEV_H */
