// SPDX-License-Identifier: MIT
/*
 * vhost-user message framing and per-request validation. Every byte and fd here
 * comes from the frontend, which we do not trust: nothing is used before it has been
 * checked against the rules table below, and no fd is leaked on any path.
 */
#include "vhost-user/msg.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How a request's payload size is checked. */
enum vu_size_rule {
	SZ_NONE,       /* no payload */
	SZ_U64,	       /* one u64 */
	SZ_STATE,      /* struct vu_vring_state */
	SZ_ADDR,       /* struct vu_vring_addr */
	SZ_MEM_TABLE,  /* nregions (1..8) regions after an 8-byte head */
	SZ_MEM_SINGLE, /* struct vu_mem_single */
	SZ_CONFIG,     /* 12-byte head plus config.size bytes */
	SZ_INFLIGHT,   /* struct vu_inflight */
};

/* How many fds a request may carry. */
enum vu_fd_rule {
	FD_NONE,
	FD_ONE,
	FD_OPTIONAL,   /* zero or one */
	FD_VRING,      /* one, unless the NOFD bit of the u64 payload is set */
	FD_PER_REGION, /* one per memory-table region */
};

struct vu_rule {
	const char *name;
	enum vu_size_rule size;
	enum vu_fd_rule fds;
};

#define RULE(req, sz, fd) [VU_REQ_##req] = { #req, sz, fd }

/* Requests this backend understands; a NULL name means unknown. */
static const struct vu_rule vu_rules[VU_REQ_MAX] = {
	RULE(GET_FEATURES, SZ_NONE, FD_NONE),
	RULE(SET_FEATURES, SZ_U64, FD_NONE),
	RULE(SET_OWNER, SZ_NONE, FD_NONE),
	RULE(RESET_OWNER, SZ_NONE, FD_NONE),
	RULE(SET_MEM_TABLE, SZ_MEM_TABLE, FD_PER_REGION),
	RULE(SET_LOG_BASE, SZ_U64, FD_ONE),
	RULE(SET_LOG_FD, SZ_NONE, FD_ONE),
	RULE(SET_VRING_NUM, SZ_STATE, FD_NONE),
	RULE(SET_VRING_ADDR, SZ_ADDR, FD_NONE),
	RULE(SET_VRING_BASE, SZ_STATE, FD_NONE),
	RULE(GET_VRING_BASE, SZ_STATE, FD_NONE),
	RULE(SET_VRING_KICK, SZ_U64, FD_VRING),
	RULE(SET_VRING_CALL, SZ_U64, FD_VRING),
	RULE(SET_VRING_ERR, SZ_U64, FD_VRING),
	RULE(GET_PROTOCOL_FEATURES, SZ_NONE, FD_NONE),
	RULE(SET_PROTOCOL_FEATURES, SZ_U64, FD_NONE),
	RULE(GET_QUEUE_NUM, SZ_NONE, FD_NONE),
	RULE(SET_VRING_ENABLE, SZ_STATE, FD_NONE),
	RULE(SEND_RARP, SZ_U64, FD_NONE),
	RULE(NET_SET_MTU, SZ_U64, FD_NONE),
	RULE(SET_BACKEND_REQ_FD, SZ_NONE, FD_ONE),
	RULE(SET_VRING_ENDIAN, SZ_STATE, FD_NONE),
	RULE(GET_CONFIG, SZ_CONFIG, FD_NONE),
	RULE(SET_CONFIG, SZ_CONFIG, FD_NONE),
	RULE(GET_INFLIGHT_FD, SZ_INFLIGHT, FD_NONE),
	RULE(SET_INFLIGHT_FD, SZ_INFLIGHT, FD_ONE),
	RULE(RESET_DEVICE, SZ_NONE, FD_NONE),
	RULE(VRING_KICK, SZ_STATE, FD_NONE),
	RULE(GET_MAX_MEM_SLOTS, SZ_NONE, FD_NONE),
	RULE(ADD_MEM_REG, SZ_MEM_SINGLE, FD_ONE),
	RULE(REM_MEM_REG, SZ_MEM_SINGLE, FD_OPTIONAL),
	RULE(SET_STATUS, SZ_U64, FD_NONE),
	RULE(GET_STATUS, SZ_NONE, FD_NONE),
};

static const char *const vu_msg_err_strs[VU_MSG_ERR_MAX] = {
	[VU_MSG_OK] = "ok",
	[VU_MSG_ERR_EOF] = "frontend closed the connection",
	[VU_MSG_ERR_IO] = "socket read failed",
	[VU_MSG_ERR_SHORT_HEADER] = "connection closed inside a message header",
	[VU_MSG_ERR_VERSION] = "header version is not 1",
	[VU_MSG_ERR_REPLY_FLAG] = "request carries the REPLY flag",
	[VU_MSG_ERR_TOO_BIG] = "payload size larger than any request's payload",
	[VU_MSG_ERR_SHORT_PAYLOAD] = "connection closed inside a payload",
	[VU_MSG_ERR_CTRUNC] = "more file descriptors than a message may carry",
	[VU_MSG_ERR_UNKNOWN] = "unknown request",
	[VU_MSG_ERR_SIZE] = "payload size wrong for the request",
	[VU_MSG_ERR_FDS] = "wrong number of file descriptors for the request",
	[VU_MSG_ERR_NREGIONS] = "memory table needs 1 to 8 regions",
	[VU_MSG_ERR_CONFIG_RANGE] = "config access outside the config space",
};

const char *vu_msg_err_str(enum vu_msg_err err)
{
	if ((unsigned int)err >= VU_MSG_ERR_MAX)
		return "unknown reason";
	return vu_msg_err_strs[err];
}

const char *vu_request_name(unsigned int request)
{
	if (request >= VU_REQ_MAX || !vu_rules[request].name)
		return "UNKNOWN";
	return vu_rules[request].name;
}

void vu_msg_close_fds(struct vu_msg *msg)
{
	for (unsigned int i = 0; i < msg->nfds; i++) {
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
		msg->fds[i] = -1;
	}
	msg->nfds = 0;
}

int vu_msg_take_fd(struct vu_msg *msg, unsigned int i)
{
	int fd;

	if (i >= msg->nfds)
		return -1;
	fd = msg->fds[i];
	msg->fds[i] = -1;
	return fd;
}

/* Collects the fds of an SCM_RIGHTS message; refuses truncated control data. */
static int vu_collect_fds(struct msghdr *mh, struct vu_msg *msg, enum vu_msg_err *why)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (msg->nfds < VU_MAX_FDS)
				msg->fds[msg->nfds++] = fd;
			else
				close(fd);
		}
	}
	if (mh->msg_flags & MSG_CTRUNC) {
		*why = VU_MSG_ERR_CTRUNC;
		return -EPROTO;
	}
	return 0;
}

/* Reads exactly len bytes; returns the count read before EOF, or a negative errno. */
static ssize_t vu_read_full(int sock, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(sock, (char *)buf + done, len - done);

		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int vu_msg_recv(int sock, struct vu_msg *msg, enum vu_msg_err *why)
{
	union {
		char buf[CMSG_SPACE(VU_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = &msg->hdr, .iov_len = sizeof(msg->hdr) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n, rest;
	int rc;

	memset(msg, 0, sizeof(*msg));
	for (unsigned int i = 0; i < VU_MAX_FDS; i++)
		msg->fds[i] = -1;
	*why = VU_MSG_OK;

	do {
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		*why = VU_MSG_ERR_IO;
		return -errno;
	}
	if (n == 0) {
		*why = VU_MSG_ERR_EOF;
		return -EPIPE;
	}
	rc = vu_collect_fds(&mh, msg, why);
	if (rc < 0)
		goto out_close_fds;

	/* A stream socket may split the header; the fds came with its first byte. */
	if ((size_t)n < sizeof(msg->hdr)) {
		rest = vu_read_full(sock, (char *)&msg->hdr + n, sizeof(msg->hdr) - (size_t)n);
		if (rest < 0 || (size_t)rest != sizeof(msg->hdr) - (size_t)n) {
			*why = rest < 0 ? VU_MSG_ERR_IO : VU_MSG_ERR_SHORT_HEADER;
			rc = rest < 0 ? (int)rest : -EPROTO;
			goto out_close_fds;
		}
	}

	if ((msg->hdr.flags & VU_VERSION_MASK) != VU_VERSION) {
		*why = VU_MSG_ERR_VERSION;
		rc = -EPROTO;
		goto out_close_fds;
	}
	if (msg->hdr.flags & VU_FLAG_REPLY) {
		*why = VU_MSG_ERR_REPLY_FLAG;
		rc = -EPROTO;
		goto out_close_fds;
	}
	if (msg->hdr.size > sizeof(msg->payload)) {
		*why = VU_MSG_ERR_TOO_BIG;
		rc = -EPROTO;
		goto out_close_fds;
	}
	if (msg->hdr.size) {
		rest = vu_read_full(sock, &msg->payload, msg->hdr.size);
		if (rest < 0 || (size_t)rest != msg->hdr.size) {
			*why = rest < 0 ? VU_MSG_ERR_IO : VU_MSG_ERR_SHORT_PAYLOAD;
			rc = rest < 0 ? (int)rest : -EPROTO;
			goto out_close_fds;
		}
	}
	return 0;

out_close_fds:
	vu_msg_close_fds(msg);
	return rc;
}

static bool vu_size_ok(const struct vu_msg *msg, enum vu_size_rule rule, enum vu_msg_err *why)
{
	uint32_t size = msg->hdr.size;
	const size_t mem_head = offsetof(struct vu_mem_table, regions);
	const size_t cfg_head = offsetof(struct vu_config, payload);

	switch (rule) {
	case SZ_NONE:
		return size == 0;
	case SZ_U64:
		return size == sizeof(uint64_t);
	case SZ_STATE:
		return size == sizeof(struct vu_vring_state);
	case SZ_ADDR:
		return size == sizeof(struct vu_vring_addr);
	case SZ_MEM_SINGLE:
		return size == sizeof(struct vu_mem_single);
	case SZ_INFLIGHT:
		return size == sizeof(struct vu_inflight);
	case SZ_MEM_TABLE:
		if (size < mem_head)
			return false;
		if (msg->payload.mem.nregions == 0 ||
		    msg->payload.mem.nregions > VU_MEM_TABLE_MAX_REGIONS) {
			*why = VU_MSG_ERR_NREGIONS;
			return false;
		}
		return size == mem_head + msg->payload.mem.nregions * sizeof(struct vu_mem_region);
	case SZ_CONFIG:
		if (size < cfg_head || msg->payload.config.size > VU_CONFIG_MAX_SIZE ||
		    size != cfg_head + msg->payload.config.size)
			return false;
		/* offset + size must stay inside the config space; no overflow. */
		if (msg->payload.config.offset > VU_CONFIG_MAX_SIZE ||
		    msg->payload.config.size > VU_CONFIG_MAX_SIZE - msg->payload.config.offset) {
			*why = VU_MSG_ERR_CONFIG_RANGE;
			return false;
		}
		return true;
	}
	return false;
}

static bool vu_fds_ok(const struct vu_msg *msg, enum vu_fd_rule rule)
{
	switch (rule) {
	case FD_NONE:
		return msg->nfds == 0;
	case FD_ONE:
		return msg->nfds == 1;
	case FD_OPTIONAL:
		return msg->nfds <= 1;
	case FD_VRING:
		return msg->nfds == ((msg->payload.u64 & VU_VRING_NOFD) ? 0u : 1u);
	case FD_PER_REGION:
		return msg->nfds == msg->payload.mem.nregions;
	}
	return false;
}

int vu_msg_check(const struct vu_msg *msg, enum vu_msg_err *why)
{
	const struct vu_rule *rule;

	*why = VU_MSG_OK;
	if (msg->hdr.request >= VU_REQ_MAX || !vu_rules[msg->hdr.request].name) {
		*why = VU_MSG_ERR_UNKNOWN;
		return -EPROTO;
	}
	rule = &vu_rules[msg->hdr.request];
	if (!vu_size_ok(msg, rule->size, why)) {
		if (*why == VU_MSG_OK)
			*why = VU_MSG_ERR_SIZE;
		return -EPROTO;
	}
	if (!vu_fds_ok(msg, rule->fds)) {
		*why = VU_MSG_ERR_FDS;
		return -EPROTO;
	}
	return 0;
}

int vu_msg_send(int sock, const struct vu_hdr *hdr, const void *payload, const int *fds,
		unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(VU_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov[2] = {
		{ .iov_base = (void *)hdr, .iov_len = sizeof(*hdr) },
		{ .iov_base = (void *)payload, .iov_len = hdr->size },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = hdr->size ? 2 : 1 };
	size_t total = sizeof(*hdr) + hdr->size, sent = 0;

	if (hdr->size > sizeof(union vu_payload) || nfds > VU_MAX_FDS)
		return -EMSGSIZE;
	if (nfds) {
		struct cmsghdr *c;

		memset(&control, 0, sizeof(control));
		mh.msg_control = control.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	while (sent < total) {
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		sent += (size_t)n;
		/* Only the first sendmsg carries fds; advance the iovecs past what went. */
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		while (mh.msg_iovlen && (size_t)n >= mh.msg_iov[0].iov_len) {
			n -= (ssize_t)mh.msg_iov[0].iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen) {
			mh.msg_iov[0].iov_base = (char *)mh.msg_iov[0].iov_base + n;
			mh.msg_iov[0].iov_len -= (size_t)n;
		}
	}
	return 0;
}

int vu_msg_send_reply(int sock, const struct vu_msg *req, const void *payload, size_t size)
{
	struct vu_hdr hdr = {
		.request = req->hdr.request,
		.flags = VU_VERSION | VU_FLAG_REPLY,
		.size = (uint32_t)size,
	};

	if (size > sizeof(union vu_payload))
		return -EMSGSIZE;
	return vu_msg_send(sock, &hdr, payload, NULL, 0);
}
