/* SPDX-License-Identifier: MIT */
/*
 * vhost-user messages: reading one from the frontend's socket (header, payload and
 * the fds passed with it), checking it against the rules of its request, and sending
 * replies. Owns framing and validation; what a request does is dispatch.c's business.
 */
#ifndef VIREO_VHOST_USER_MSG_H
#define VIREO_VHOST_USER_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "vhost-user/wire.h"

/** One message as received: header, payload and the fds that came with it. */
struct vu_msg {
	struct vu_hdr hdr;
	union vu_payload payload;
	int fds[VU_MAX_FDS]; /**< owned by the message until taken or closed */
	unsigned int nfds;
};

/** Why a message was refused. Each maps to one line in vu_msg_err_str(). */
enum vu_msg_err {
	VU_MSG_OK = 0,
	VU_MSG_ERR_EOF,		  /**< the frontend closed the socket */
	VU_MSG_ERR_IO,		  /**< recvmsg/read failed */
	VU_MSG_ERR_SHORT_HEADER,  /**< the socket closed inside a header */
	VU_MSG_ERR_VERSION,	  /**< header version is not 1 */
	VU_MSG_ERR_REPLY_FLAG,	  /**< a request must not carry the REPLY flag */
	VU_MSG_ERR_TOO_BIG,	  /**< size is larger than any payload */
	VU_MSG_ERR_SHORT_PAYLOAD, /**< the socket closed inside a payload */
	VU_MSG_ERR_CTRUNC,	  /**< more fds than VU_MAX_FDS were sent */
	VU_MSG_ERR_UNKNOWN,	  /**< request code this backend does not know */
	VU_MSG_ERR_SIZE,	  /**< payload size wrong for the request */
	VU_MSG_ERR_FDS,		  /**< number of fds wrong for the request */
	VU_MSG_ERR_NREGIONS,	  /**< memory table with 0 or more than 8 regions */
	VU_MSG_ERR_CONFIG_RANGE,  /**< config offset/size outside the config space */
	VU_MSG_ERR_MAX,
};

/**
 * vu_msg_err_str() - A one-line description of a refusal.
 * @err: the reason.
 * Return: a static string; "unknown reason" for values out of range.
 */
const char *vu_msg_err_str(enum vu_msg_err err);

/**
 * vu_request_name() - The spec's name of a request ("SET_MEM_TABLE").
 * @request: request code from a header.
 * Return: a static string; "UNKNOWN" for codes the backend does not know.
 */
const char *vu_request_name(unsigned int request);

/**
 * vu_msg_recv() - Read one whole message from a stream socket.
 * @sock: the connected vhost-user socket (blocking).
 * @msg: filled in; fds it holds must be released with vu_msg_close_fds().
 * @why: the reason on failure.
 *
 * Checks the framing only (version, flags, size against the largest payload, fd
 * count); vu_msg_check() applies the rules of the request.
 * Return: 0, or -EPIPE on end of file, -EPROTO on a framing error, or the negative
 * errno of a failed read. On failure no fd is left open.
 * Context: the device's control thread.
 */
int vu_msg_recv(int sock, struct vu_msg *msg, enum vu_msg_err *why);

/**
 * vu_msg_check() - Apply the rules of msg's request to its size and fds.
 * @msg: a message from vu_msg_recv().
 * @why: the reason on failure.
 * Return: 0 if the message may be handed to its handler, -EPROTO otherwise.
 */
int vu_msg_check(const struct vu_msg *msg, enum vu_msg_err *why);

/**
 * vu_msg_take_fd() - Move fd number @i out of the message (the caller owns it now).
 * Return: the fd, or -1 if there is none at @i.
 */
int vu_msg_take_fd(struct vu_msg *msg, unsigned int i);

/** vu_msg_close_fds() - Close every fd the message still owns. */
void vu_msg_close_fds(struct vu_msg *msg);

/**
 * vu_msg_send_reply() - Answer @req with @size bytes of @payload.
 * @sock: the vhost-user socket.
 * @req: the request being answered (its code is echoed).
 * @payload: reply payload (may be NULL when @size is 0).
 * @size: payload bytes, at most sizeof(union vu_payload).
 * Return: 0, or a negative errno (-EMSGSIZE for an oversized payload).
 */
int vu_msg_send_reply(int sock, const struct vu_msg *req, const void *payload, size_t size);

/**
 * vu_msg_send() - Send a message with optional fds (used by test frontends and by
 * backend-initiated requests).
 * Return: 0, or a negative errno.
 */
int vu_msg_send(int sock, const struct vu_hdr *hdr, const void *payload, const int *fds,
		unsigned int nfds);

#endif /* VIREO_VHOST_USER_MSG_H */
