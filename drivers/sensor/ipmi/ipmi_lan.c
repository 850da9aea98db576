// SPDX-License-Identifier: MIT
/*
 * sensor-ipmi: the lan transport. A session with the BMC's LAN interface (RMCP+ / IPMI
 * 2.0, or an IPMI 1.5 LAN session) through OpenIPMI's connection layer (libOpenIPMI,
 * LGPL: linked dynamically, so this MIT driver stays MIT; ddk-docs/sensors.md). Only the
 * wire protocol comes from the library: the driver sends the same raw commands as over
 * /dev/ipmi0 and keeps its own SDR walk and conversions.
 *
 * OpenIPMI's posix OS handler is unthreaded and process-wide (ipmi_init() takes one):
 * every instance shares it, created by the first open and freed by the last close, and
 * g_lan_lock serialises every call into the library, since each instance's sensor
 * thread calls in. No thread of its own: a command runs the handler's event loop in the
 * caller's thread (perform_one_op) until its response or the deadline.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <OpenIPMI/ipmi_auth.h>
#include <OpenIPMI/ipmi_conn.h>
#include <OpenIPMI/ipmi_lan.h>
#include <OpenIPMI/ipmi_msgbits.h>
#include <OpenIPMI/ipmi_posix.h>
#include <OpenIPMI/ipmiif.h>

#include <vireo/log.h>

#include "ipmi_dev.h"

#define LAN_STEP_MS 50 /* longest wait in the library's loop before the deadline is checked */

struct lan {
	ipmi_con_t *con;
	int up;	      /* 1: session up; 0: not yet; < 0: -errno of the last failure */
	bool changed; /* the library reported the session's state (open waits on it) */
	bool closed;  /* close_connection_done reported */
	uint64_t seq; /* the request being waited for; older answers are dropped */
	bool done;    /* its response (or the library's error) came */
	int rsp_len;
	uint8_t rsp[IPMI_MAX_MSG_LENGTH];
	uint8_t netfn, cmd; /* what the response must name */
	const char *id;
};

static pthread_mutex_t g_lan_lock = PTHREAD_MUTEX_INITIALIZER; /* protects: g_os, g_users,
								   every OpenIPMI call */
static os_handler_t *g_os;
static unsigned int g_users;

/* The library's log lines, in vireod's log: its "connection up/lost" lines are useful. */
static void lan_vlog(os_handler_t *h, const char *fmt, enum ipmi_log_type_e type, va_list ap)
{
	enum vireo_log_level lvl = VIREO_LOG_DEBUG;

	(void)h;
	if (type == IPMI_LOG_SEVERE || type == IPMI_LOG_FATAL || type == IPMI_LOG_ERR_INFO)
		lvl = VIREO_LOG_WARN;
	else if (type == IPMI_LOG_INFO || type == IPMI_LOG_WARNING)
		lvl = VIREO_LOG_INFO;
	vireo_logv(lvl, "openipmi", fmt, ap);
}

/*
 * OpenIPMI's error values: an errno, or an IPMI completion code, RMCP+ status or SOL
 * error with a type in the top byte (IPMI_IPMI_ERR_VAL() ...). Return: a -errno.
 */
static int lan_errno(int err)
{
	if (err <= 0 || (err & 0xff000000))
		return -EIO;
	return -err;
}

/* Takes a reference on the shared OS handler. Caller holds g_lan_lock. */
static int lan_get_os(void)
{
	int rc;

	if (g_users++)
		return 0;
	g_os = ipmi_posix_setup_os_handler();
	if (!g_os) {
		g_users = 0;
		return -ENOMEM;
	}
	g_os->set_log_handler(g_os, lan_vlog);
	rc = ipmi_init(g_os);
	if (rc) {
		g_os->free_os_handler(g_os);
		g_os = NULL;
		g_users = 0;
		return lan_errno(rc);
	}
	return 0;
}

static void lan_put_os(void)
{
	if (--g_users)
		return;
	ipmi_shutdown();
	g_os->free_os_handler(g_os);
	g_os = NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs the library's loop until *@flag or @deadline. Caller holds g_lan_lock. */
static void lan_run(const bool *flag, int64_t deadline)
{
	while (!*flag) {
		int64_t left = deadline - now_ms();
		struct timeval tv;

		if (left <= 0)
			return;
		if (left > LAN_STEP_MS)
			left = LAN_STEP_MS;
		tv.tv_sec = 0;
		tv.tv_usec = (suseconds_t)left * 1000;
		g_os->perform_one_op(g_os, &tv);
	}
}

static void lan_con_changed(ipmi_con_t *con, int err, unsigned int port, int any_up, void *data)
{
	struct lan *l = data;

	(void)con;
	(void)port;
	l->changed = true;
	if (!err || any_up) {
		l->up = 1;
		return;
	}
	/* A completion code or RMCP+ status (no answer, refused): the BMC is not there. */
	l->up = err & 0xff000000 ? -EHOSTUNREACH : lan_errno(err);
	VIREO_WARN("%s: LAN session down (OpenIPMI error 0x%x)", l->id, (unsigned int)err);
}

static void lan_closed(ipmi_con_t *con, void *data)
{
	struct lan *l = data;

	(void)con;
	l->closed = true;
}

static int lan_rsp(ipmi_con_t *con, ipmi_msgi_t *rspi)
{
	struct lan *l = rspi->data1;
	uint64_t seq = (uint64_t)(uintptr_t)rspi->data2;

	(void)con;
	if (seq != l->seq || l->done)
		return IPMI_MSG_ITEM_NOT_USED; /* the answer to a request that timed out here */
	if (rspi->msg.netfn != (l->netfn | 1) || rspi->msg.cmd != l->cmd) {
		l->rsp_len = -EIO;
	} else if (rspi->msg.data_len < 1 || rspi->msg.data_len > sizeof(l->rsp)) {
		l->rsp_len = -EIO;
	} else {
		l->rsp_len = rspi->msg.data_len;
		memcpy(l->rsp, rspi->msg.data, rspi->msg.data_len);
	}
	l->done = true;
	return IPMI_MSG_ITEM_NOT_USED; /* the library frees the item */
}

static int lan_cmd(struct ipmi_dev *d, uint8_t lun, uint8_t netfn, uint8_t cmd, const uint8_t *req,
		   size_t req_len, uint8_t *rsp, size_t rsp_cap)
{
	ipmi_system_interface_addr_t si = {
		.addr_type = IPMI_SYSTEM_INTERFACE_ADDR_TYPE,
		.channel = IPMI_BMC_CHANNEL,
		.lun = lun & 3,
	};
	uint8_t data[IPMI_MAX_MSG_LENGTH];
	struct lan *l = d->lan;
	ipmi_msgi_t *rspi;
	ipmi_msg_t msg;
	int rc;

	if (req_len > sizeof(data) || rsp_cap < 1)
		return -EINVAL;
	if (req_len)
		memcpy(data, req, req_len);
	msg.netfn = netfn;
	msg.cmd = cmd;
	msg.data = data;
	msg.data_len = (unsigned short)req_len;
	pthread_mutex_lock(&g_lan_lock);
	if (l->up <= 0) {
		bool never = false;

		/* The library reconnects by itself; give it one step to report that. */
		lan_run(&never, now_ms() + LAN_STEP_MS);
		if (l->up <= 0) {
			rc = -ENOTCONN;
			goto out_unlock;
		}
	}
	rspi = ipmi_alloc_msg_item();
	if (!rspi) {
		rc = -ENOMEM;
		goto out_unlock;
	}
	l->seq++;
	l->done = false;
	l->netfn = netfn;
	l->cmd = cmd;
	rspi->data1 = l;
	rspi->data2 = (void *)(uintptr_t)l->seq;
	rc = l->con->send_command(l->con, (ipmi_addr_t *)&si, sizeof(si), &msg, lan_rsp, rspi);
	if (rc) {
		ipmi_free_msg_item(rspi);
		rc = lan_errno(rc);
		goto out_unlock;
	}
	lan_run(&l->done, now_ms() + d->timeout_ms);
	if (!l->done) {
		rc = -ETIMEDOUT;
	} else if (l->rsp_len < 0) {
		rc = l->rsp_len;
	} else {
		rc = l->rsp_len < (int)rsp_cap ? l->rsp_len : (int)rsp_cap;
		memcpy(rsp, l->rsp, (size_t)rc);
	}
out_unlock:
	pthread_mutex_unlock(&g_lan_lock);
	return rc;
}

/* Ends the session and waits (bounded) for the library to say so. Caller holds g_lan_lock. */
static void lan_end(struct lan *l, unsigned int timeout_ms)
{
	if (l->con->close_connection_done(l->con, lan_closed, l) == 0)
		lan_run(&l->closed, now_ms() + timeout_ms);
	if (!l->closed)
		VIREO_WARN("%s: the LAN session did not close in %u ms", l->id, timeout_ms);
	else {
		bool never = false;

		/* The socket's fd handler is freed from the loop, a turn after the close. */
		lan_run(&never, now_ms() + 2 * LAN_STEP_MS);
	}
	/* Requests still queued were answered with errors during the close. */
	l->seq++;
}

static void lan_close(struct ipmi_dev *d)
{
	struct lan *l = d->lan;

	if (!l)
		return;
	pthread_mutex_lock(&g_lan_lock);
	lan_end(l, d->timeout_ms);
	lan_put_os();
	pthread_mutex_unlock(&g_lan_lock);
	free(l);
	d->lan = NULL;
}

static const struct ipmi_xport_ops lan_ops = {
	.name = "lan",
	.cmd = lan_cmd,
	.close = lan_close,
};

int ipmi_lan_open(struct ipmi_dev *d, const struct ipmi_lan_cfg *cfg, unsigned int timeout_ms,
		  const char *id)
{
	char *addrs[1] = { (char *)cfg->host }, *ports[1] = { (char *)cfg->port };
	ipmi_lanp_parm_t parm[6];
	unsigned int np = 0;
	struct lan *l;
	int rc;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->id = id;
	d->timeout_ms = timeout_ms;
	snprintf(d->where, sizeof(d->where), "lan %s:%s", cfg->host, cfg->port);
	if (strlen(cfg->user) > 16 || strlen(cfg->password) > 20) {
		VIREO_ERR("%s: user (16 bytes) or password (20 bytes) too long", id);
		return -EINVAL;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->id = id;
	parm[np++] = (ipmi_lanp_parm_t){ .parm_id = IPMI_LANP_PARMID_ADDRS,
					 .parm_data = addrs,
					 .parm_data_len = 1 };
	parm[np++] = (ipmi_lanp_parm_t){ .parm_id = IPMI_LANP_PARMID_PORTS,
					 .parm_data = ports,
					 .parm_data_len = 1 };
	parm[np++] = (ipmi_lanp_parm_t){ .parm_id = IPMI_LANP_PARMID_USERNAME,
					 .parm_data = (void *)cfg->user,
					 .parm_data_len = (unsigned int)strlen(cfg->user) };
	parm[np++] = (ipmi_lanp_parm_t){ .parm_id = IPMI_LANP_PARMID_PASSWORD,
					 .parm_data = (void *)cfg->password,
					 .parm_data_len = (unsigned int)strlen(cfg->password) };
	parm[np++] = (ipmi_lanp_parm_t){ .parm_id = IPMI_LANP_PARMID_PRIVILEGE,
					 .parm_val = (int)cfg->privilege };
	/* 2.0: RMCP+ only; 1.5: the best IPMI 1.5 session the BMC offers (MD5 here). */
	if (cfg->version == 20)
		parm[np++] = (ipmi_lanp_parm_t){ .parm_id = IPMI_LANP_PARMID_AUTHTYPE,
						 .parm_val = IPMI_AUTHTYPE_RMCP_PLUS };
	else if (cfg->version == 15)
		parm[np++] = (ipmi_lanp_parm_t){ .parm_id = IPMI_LANP_PARMID_AUTHTYPE,
						 .parm_val = IPMI_AUTHTYPE_MD5 };

	pthread_mutex_lock(&g_lan_lock);
	rc = lan_get_os();
	if (rc < 0) {
		VIREO_ERR("%s: OpenIPMI did not start: %s", id, strerror(-rc));
		goto out_unlock;
	}
	rc = ipmi_lanp_setup_con(parm, np, g_os, NULL, &l->con);
	if (rc) {
		rc = lan_errno(rc);
		VIREO_ERR("%s: %s: cannot set up a LAN connection: %s", id, d->where,
			  strerror(-rc));
		goto out_put_os;
	}
	rc = l->con->add_con_change_handler(l->con, lan_con_changed, l);
	if (rc == 0)
		rc = l->con->start_con(l->con);
	if (rc == 0) {
		int64_t deadline = now_ms() + timeout_ms;

		/* Until the library says up or down (an "up" may follow a first failure). */
		while (l->up <= 0 && now_ms() < deadline) {
			l->changed = false;
			lan_run(&l->changed, deadline);
			if (l->up < 0 && l->up != -EHOSTUNREACH)
				break; /* refused (credentials): no retry will help */
		}
		rc = l->up > 0 ? 0 : l->up < 0 ? l->up : -EHOSTUNREACH;
	} else {
		rc = lan_errno(rc);
	}
	if (rc < 0) {
		VIREO_ERR("%s: %s: no LAN session with the BMC in %u ms: %s (user, password, "
			  "privilege?)",
			  id, d->where, timeout_ms, strerror(-rc));
		goto out_end_con;
	}
	pthread_mutex_unlock(&g_lan_lock);
	d->lan = l;
	d->ops = &lan_ops;
	VIREO_INFO("%s: LAN session up with the BMC at %s:%s (%s)", id, cfg->host, cfg->port,
		   cfg->version == 20	? "RMCP+"
		   : cfg->version == 15 ? "IPMI 1.5"
					: "auto");
	return 0;

out_end_con:
	lan_end(l, timeout_ms);
out_put_os:
	lan_put_os();
out_unlock:
	pthread_mutex_unlock(&g_lan_lock);
	free(l);
	return rc;
}
