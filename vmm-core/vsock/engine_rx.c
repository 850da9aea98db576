// SPDX-License-Identifier: MIT
/*
 * The vsock engine's packets for the guest, on the loop's thread: which connection
 * has something owed (a request, response, RST, shutdown, credit update or data the
 * guest has credit for), and writing it into the guest's receive buffers straight
 * from the host socket (vsock_engine_guest_rx()).
 */
#include "vsock/engine_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "virtqueue/iov.h"

static bool conn_can_read(const struct vsock_conn *c)
{
	return c->state == VC_OPEN && c->readable && !c->host_eof && !c->guest_no_rcv &&
	       c->fd >= 0 && !c->owe_response;
}

static bool conn_has_output(const struct vsock_conn *c)
{
	if (c->owe_rst)
		return true;
	if (c->state == VC_DEAD)
		return false;
	if (c->owe_request || c->owe_response)
		return true;
	if (c->state != VC_OPEN)
		return false;
	if (c->owe_shutdown || c->owe_credit)
		return true;
	return conn_can_read(c) &&
	       (vsock_credit_free(c->peer_buf_alloc, c->peer_fwd_cnt, c->tx_cnt) ||
		!c->credit_req_sent);
}

static uint32_t put_hdr(const struct iovec *iov, unsigned int n, const struct virtio_vsock_hdr *h)
{
	vq_iov_write(iov, n, 0, h, sizeof(*h));
	return HDR_LEN;
}

/* Host data into one receive buffer; 0 if the socket had none (EOF and errors noted). */
static uint32_t conn_read(struct vsock_engine *eng, struct vsock_conn *c, const struct iovec *iov,
			  unsigned int n, uint32_t room)
{
	struct iovec piov[VSOCK_SLICE_MAX];
	struct msghdr m = { .msg_iov = piov };
	struct virtio_vsock_hdr h;
	ssize_t r;

	m.msg_iovlen = vq_iov_slice(iov, n, HDR_LEN, room, piov, VSOCK_SLICE_MAX);
	r = recvmsg(c->fd, &m, MSG_DONTWAIT);
	if (r > 0) {
		vsock_hdr_for(eng, c, VIRTIO_VSOCK_OP_RW, &h);
		h.len = (uint32_t)r;
		c->tx_cnt += (uint32_t)r;
		eng->st.bytes_to_guest += (uint64_t)r;
		return put_hdr(iov, n, &h) + (uint32_t)r;
	}
	c->readable = false;
	if (r == 0) {
		c->host_eof = true;
		c->owe_shutdown = true;
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		vsock_conn_kill(eng, c, true);
	}
	return 0;
}

static uint32_t conn_output(struct vsock_engine *eng, struct vsock_conn *c, const struct iovec *iov,
			    unsigned int n, uint32_t len)
{
	struct virtio_vsock_hdr h;
	uint32_t room, got;

	if (c->owe_rst) {
		vsock_hdr_for(eng, c, VIRTIO_VSOCK_OP_RST, &h);
		c->owe_rst = false;
		eng->st.rst_sent++;
		eng->wake_owed = true; /* to be closed */
		return put_hdr(iov, n, &h);
	}
	if (c->state == VC_DEAD)
		return 0;
	if (c->owe_request) {
		vsock_hdr_for(eng, c, VIRTIO_VSOCK_OP_REQUEST, &h);
		c->owe_request = false;
		return put_hdr(iov, n, &h);
	}
	if (c->owe_response) {
		vsock_hdr_for(eng, c, VIRTIO_VSOCK_OP_RESPONSE, &h);
		c->owe_response = false;
		return put_hdr(iov, n, &h);
	}
	if (c->state != VC_OPEN)
		return 0;
	if (conn_can_read(c)) {
		room = vsock_credit_free(c->peer_buf_alloc, c->peer_fwd_cnt, c->tx_cnt);
		if (room == 0 && !c->credit_req_sent) {
			vsock_hdr_for(eng, c, VIRTIO_VSOCK_OP_CREDIT_REQUEST, &h);
			c->credit_req_sent = true;
			return put_hdr(iov, n, &h);
		}
		if (room > len - HDR_LEN)
			room = len - HDR_LEN;
		if (room > VSOCK_MAX_PKT)
			room = VSOCK_MAX_PKT;
		if (room) {
			got = conn_read(eng, c, iov, n, room);
			if (got)
				return got;
			if (c->owe_rst)
				return conn_output(eng, c, iov, n, len);
		}
	}
	if (c->owe_shutdown) {
		vsock_hdr_for(eng, c, VIRTIO_VSOCK_OP_SHUTDOWN, &h);
		h.flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
		c->owe_shutdown = false;
		return put_hdr(iov, n, &h);
	}
	if (c->owe_credit) {
		vsock_hdr_for(eng, c, VIRTIO_VSOCK_OP_CREDIT_UPDATE, &h);
		c->owe_credit = false;
		eng->st.credit_updates++;
		return put_hdr(iov, n, &h);
	}
	return 0;
}

bool vsock_engine_has_output(struct vsock_engine *eng)
{
	bool yes;

	pthread_mutex_lock(&eng->lock);
	yes = eng->rst_n > 0;
	for (unsigned int i = 0; !yes && i < eng->nconns; i++)
		yes = conn_has_output(eng->conns[i]);
	pthread_mutex_unlock(&eng->lock);
	return yes;
}

uint32_t vsock_engine_guest_rx(struct vsock_engine *eng, const struct iovec *iov, unsigned int n,
			       uint32_t len)
{
	uint32_t out = 0;

	if (len < HDR_LEN)
		return 0;
	pthread_mutex_lock(&eng->lock);
	if (eng->rst_n) {
		struct virtio_vsock_hdr h = { .src_cid = VSOCK_CID_HOST,
					      .dst_cid = eng->cid,
					      .src_port = eng->rst[eng->rst_head].host_port,
					      .dst_port = eng->rst[eng->rst_head].guest_port,
					      .type = VIRTIO_VSOCK_TYPE_STREAM,
					      .op = VIRTIO_VSOCK_OP_RST,
					      .buf_alloc = eng->buf_alloc };

		eng->rst_head = (eng->rst_head + 1) % VSOCK_RST_RING;
		eng->rst_n--;
		eng->st.rst_sent++;
		out = put_hdr(iov, n, &h);
	}
	/* Round robin, so one busy connection cannot starve the others. */
	for (unsigned int i = 0; !out && i < eng->nconns; i++) {
		unsigned int k = (eng->cursor + i) % eng->nconns;

		out = conn_output(eng, eng->conns[k], iov, n, len);
		if (out)
			eng->cursor = (k + 1) % eng->nconns;
	}
	eng->wake_owed = false; /* the rx worker services after its batch */
	pthread_mutex_unlock(&eng->lock);
	return out;
}
