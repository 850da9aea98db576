/* SPDX-License-Identifier: MIT */
/*
 * sensor-ipmi: one command at a time to the BMC, through one of two transports behind a
 * small interface (open, cmd, close): the OpenIPMI kernel interface (/dev/ipmiN,
 * <linux/ipmi.h>, addressed to the system interface; ipmi_dev.c) or the BMC's LAN
 * interface (RMCP+ or IPMI 1.5 LAN through OpenIPMI's library; ipmi_lan.c). The SDR walk,
 * conversions and thresholds (ipmi.c, ipmi_sdr.c) see only ipmi_dev_cmd().
 */
#ifndef VIREO_DRIVERS_SENSOR_IPMI_DEV_H
#define VIREO_DRIVERS_SENSOR_IPMI_DEV_H

#include <stddef.h>
#include <stdint.h>

struct ipmi_dev;

/* A transport: both members required; called with the sensor instance's op lock held. */
struct ipmi_xport_ops {
	const char *name; /* "kcs" (any /dev/ipmiN interface) or "lan" */
	/* As ipmi_dev_cmd() below. */
	int (*cmd)(struct ipmi_dev *d, uint8_t lun, uint8_t netfn, uint8_t cmd, const uint8_t *req,
		   size_t req_len, uint8_t *rsp, size_t rsp_cap);
	/* Ends the session or closes the file; frees the transport's state. */
	void (*close)(struct ipmi_dev *d);
};

struct ipmi_dev {
	const struct ipmi_xport_ops *ops;
	int fd;			 /* kcs: the /dev/ipmiN file */
	long msgid;		 /* kcs: the last request's; responses must carry it */
	void *lan;		 /* lan: the transport's state (ipmi_lan.c) */
	unsigned int timeout_ms; /* how long to wait for one response */
	const char *id;		 /* the instance's id, for log lines */
	char where[96];		 /* "/dev/ipmi0" or "lan 127.0.0.1:623", for log lines */
};

/* What the LAN transport needs; strings are the instance's parameters (NUL-terminated). */
struct ipmi_lan_cfg {
	const char *host;
	const char *port;
	const char *user;	/* empty: the anonymous user (user 1) */
	const char *password;	/* at most 20 bytes (RMCP+), 16 for IPMI 1.5 */
	unsigned int version;	/* 0: what the BMC offers (RMCP+ first), 15 or 20 */
	unsigned int privilege; /* IPMI privilege level: 2 user, 3 operator, 4 admin */
};

/* Opens /dev/ipmiN at @path. Return: 0 or -errno (logged). */
int ipmi_dev_open(struct ipmi_dev *d, const char *path, unsigned int timeout_ms, const char *id);

/*
 * Opens a session with the BMC at @cfg's host and port (a LAN session up, or an error).
 * Return: 0, -EOPNOTSUPP if this build has no LAN transport, -EHOSTUNREACH if the BMC did
 * not answer or refused the session in timeout_ms, or another -errno (all logged).
 */
int ipmi_lan_open(struct ipmi_dev *d, const struct ipmi_lan_cfg *cfg, unsigned int timeout_ms,
		  const char *id);

void ipmi_dev_close(struct ipmi_dev *d);

/*
 * Sends @cmd of @netfn with @req to the BMC's @lun and waits for its response. Return:
 * the response's length (>= 1: rsp[0] is the completion code, data follows) or -errno:
 * -ETIMEDOUT if no response came in timeout_ms, -EIO for a malformed one, -ENOTCONN if
 * a LAN session is down (it comes back by itself).
 */
int ipmi_dev_cmd(struct ipmi_dev *d, uint8_t lun, uint8_t netfn, uint8_t cmd, const uint8_t *req,
		 size_t req_len, uint8_t *rsp, size_t rsp_cap);

#endif /* VIREO_DRIVERS_SENSOR_IPMI_DEV_H */
