// SPDX-License-Identifier: MIT
/*
 * sensor-ipmi: the transport. The kernel's ipmi_devintf queues responses per open file;
 * each request gets a fresh msgid and anything else that arrives (events, a late answer
 * to a request that timed out here) is read and dropped, so one lost response never
 * shifts the answers of later requests.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/ipmi.h>

#include <vireo/log.h>

#include "ipmi_dev.h"

int ipmi_dev_open(struct ipmi_dev *d, const char *path, unsigned int timeout_ms, const char *id)
{
	memset(d, 0, sizeof(*d));
	d->id = id;
	d->timeout_ms = timeout_ms;
	d->fd = open(path, O_RDWR | O_CLOEXEC);
	if (d->fd < 0) {
		int rc = -errno;

		VIREO_ERR("%s: cannot open %s: %s (is ipmi_devintf loaded?)", id, path,
			  strerror(-rc));
		return rc;
	}
	return 0;
}

void ipmi_dev_close(struct ipmi_dev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ipmi_dev_cmd(struct ipmi_dev *d, uint8_t lun, uint8_t netfn, uint8_t cmd, const uint8_t *req,
		 size_t req_len, uint8_t *rsp, size_t rsp_cap)
{
	struct ipmi_system_interface_addr si = {
		.addr_type = IPMI_SYSTEM_INTERFACE_ADDR_TYPE,
		.channel = IPMI_BMC_CHANNEL,
		.lun = lun & 3,
	};
	uint8_t data[IPMI_MAX_MSG_LENGTH];
	struct ipmi_addr from;
	struct ipmi_req rq;
	int64_t deadline;

	if (req_len > sizeof(data) || rsp_cap < 1)
		return -EINVAL;
	if (req_len)
		memcpy(data, req, req_len); /* req may be NULL when empty */
	memset(&rq, 0, sizeof(rq));
	rq.addr = (unsigned char *)&si;
	rq.addr_len = sizeof(si);
	rq.msgid = ++d->msgid;
	rq.msg.netfn = netfn;
	rq.msg.cmd = cmd;
	rq.msg.data = data;
	rq.msg.data_len = (unsigned short)req_len;
	if (ioctl(d->fd, IPMICTL_SEND_COMMAND, &rq) < 0)
		return -errno;
	deadline = now_ms() + d->timeout_ms;
	for (;;) {
		struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
		int64_t left = deadline - now_ms();
		struct ipmi_recv rv;
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		memset(&rv, 0, sizeof(rv));
		rv.addr = (unsigned char *)&from;
		rv.addr_len = sizeof(from);
		rv.msg.data = data;
		rv.msg.data_len = sizeof(data);
		if (ioctl(d->fd, IPMICTL_RECEIVE_MSG_TRUNC, &rv) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno != EMSGSIZE) /* EMSGSIZE: truncated; checked below */
				return -errno;
		}
		if (rv.recv_type != IPMI_RESPONSE_RECV_TYPE || rv.msgid != d->msgid ||
		    rv.msg.netfn != (netfn | 1) || rv.msg.cmd != cmd) {
			VIREO_DEBUG("%s: dropped a message (type %d, msgid %ld, netfn 0x%02x, cmd "
				    "0x%02x) while waiting for msgid %ld",
				    d->id, rv.recv_type, rv.msgid, rv.msg.netfn, rv.msg.cmd,
				    d->msgid);
			continue;
		}
		if (rv.msg.data_len < 1 || rv.msg.data_len > sizeof(data))
			return -EIO;
		n = rv.msg.data_len < rsp_cap ? rv.msg.data_len : (int)rsp_cap;
		memcpy(rsp, data, (size_t)n);
		return n;
	}
}
