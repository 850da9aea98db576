// SPDX-License-Identifier: MIT
/*
 * The vsock connection engine (see engine.h): a table of stream connections, each
 * a guest port, a host port and a host socket, with the credit counters of both
 * directions (VIRTIO 1.2, 5.10.6.3). Guest data goes straight from guest memory to
 * the host socket; what the socket will not take now waits in a ring of at most
 * buf_alloc bytes, which is the credit the guest was given, so a guest that honours
 * the rules never overflows it and one that does not is reset. Host data goes
 * straight from the socket into the guest's receive buffers, never more than the
 * guest's own credit allows, so nothing is buffered on the way in.
 *
 * This file: the connection table, packets from the guest, set-up, reset and the
 * services' ports. Host sockets are engine_host.c's, packets for the guest
 * engine_rx.c's; their shared state is engine_internal.h's.
 */
#include "vsock/engine_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/unix_listen.h"
#include "virtqueue/iov.h"

/* ---- connections ---- */

struct vsock_conn *vsock_conn_find(struct vsock_engine *eng, uint32_t host_port,
				   uint32_t guest_port)
{
	for (unsigned int i = 0; i < eng->nconns; i++) {
		struct vsock_conn *c = eng->conns[i];

		if (c->state != VC_DEAD && c->state != VC_HELLO && c->host_port == host_port &&
		    c->guest_port == guest_port)
			return c;
	}
	return NULL;
}

struct vsock_conn *vsock_conn_new(struct vsock_engine *eng, enum conn_state state,
				  uint32_t host_port, uint32_t guest_port, int fd)
{
	struct vsock_conn *c;

	if (eng->nconns >= eng->max_conns)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->eng = eng;
	c->state = state;
	c->host_port = host_port;
	c->guest_port = guest_port;
	c->fd = fd;
	eng->conns[eng->nconns++] = c;
	eng->st.conns = eng->nconns;
	return c;
}

/* Ends @c; with @rst the guest is told. The fd is closed later, on the loop's thread. */
void vsock_conn_kill(struct vsock_engine *eng, struct vsock_conn *c, bool rst)
{
	if (c->state == VC_DEAD)
		return;
	vireo_log(VIREO_LOG_DEBUG, TAG, "connection host %u guest %u closed%s", c->host_port,
		  c->guest_port, rst ? " (RST to the guest)" : "");
	/* Only a connection the guest knows of is told (a host client still saying
	 * CONNECT is not). */
	c->owe_rst = rst && c->state != VC_HELLO && !(c->state == VC_HOST_REQ && c->owe_request);
	c->state = VC_DEAD;
	c->owe_request = c->owe_response = c->owe_shutdown = c->owe_credit = false;
	if (c->fd >= 0)
		shutdown(c->fd, SHUT_RDWR); /* the host side sees the end now */
	eng->wake_owed = true;
}

void vsock_conn_free(struct vsock_conn *c)
{
	vireo_watch_remove(c->watch);
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c);
}

/* The guest reuses the address of a connection we are still to reset: it has
 * forgotten the old one, so the RST owed to it would hit the new one instead. */
static void conn_forget_rst(struct vsock_engine *eng, uint32_t host_port, uint32_t guest_port)
{
	for (unsigned int i = 0; i < eng->nconns; i++) {
		struct vsock_conn *c = eng->conns[i];

		if (c->state == VC_DEAD && c->host_port == host_port && c->guest_port == guest_port)
			c->owe_rst = false;
	}
}

void vsock_hdr_for(struct vsock_engine *eng, struct vsock_conn *c, uint16_t op,
		   struct virtio_vsock_hdr *h)
{
	*h = (struct virtio_vsock_hdr){ .src_cid = VSOCK_CID_HOST,
					.dst_cid = eng->cid,
					.src_port = c->host_port,
					.dst_port = c->guest_port,
					.type = VIRTIO_VSOCK_TYPE_STREAM,
					.op = op,
					.buf_alloc = eng->buf_alloc,
					.fwd_cnt = c->fwd_cnt };
	c->fwd_reported = c->fwd_cnt;
}

static void rst_queue(struct vsock_engine *eng, uint32_t host_port, uint32_t guest_port)
{
	unsigned int slot;

	if (eng->rst_n == VSOCK_RST_RING) {
		eng->st.rst_dropped++;
		return;
	}
	slot = (eng->rst_head + eng->rst_n++) % VSOCK_RST_RING;
	eng->rst[slot].host_port = host_port;
	eng->rst[slot].guest_port = guest_port;
	eng->wake_owed = true;
}

/* Owes the guest a CREDIT_UPDATE once a quarter of its buffer was freed unreported:
 * a sender stalled on zero credit is always owed one when the ring drains. */
static void conn_credit_check(struct vsock_engine *eng, struct vsock_conn *c)
{
	if (c->fwd_cnt - c->fwd_reported >= eng->buf_alloc / 4) {
		c->owe_credit = true;
		eng->wake_owed = true;
	}
}

/* After the ring drained: act on the guest's SHUTDOWN. */
static void conn_drained(struct vsock_engine *eng, struct vsock_conn *c)
{
	if (c->buf_used)
		return;
	free(c->buf);
	c->buf = NULL;
	c->buf_head = 0;
	if (c->close_when_flushed) {
		vsock_conn_kill(eng, c, true);
		return;
	}
	if (c->guest_no_send && !c->shut_wr && c->fd >= 0) {
		shutdown(c->fd, SHUT_WR);
		c->shut_wr = true;
	}
}

/* Writes what the ring holds to the host socket. */
void vsock_conn_flush(struct vsock_engine *eng, struct vsock_conn *c)
{
	while (c->buf_used && c->state == VC_OPEN) {
		uint32_t first = eng->buf_alloc - c->buf_head;
		struct iovec v[2] = { { c->buf + c->buf_head,
					c->buf_used < first ? c->buf_used : first },
				      { c->buf, c->buf_used > first ? c->buf_used - first : 0 } };
		struct msghdr m = { .msg_iov = v, .msg_iovlen = v[1].iov_len ? 2 : 1 };
		ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				vsock_conn_kill(eng, c, true);
			return;
		}
		c->buf_head = (uint32_t)((c->buf_head + (uint32_t)w) % eng->buf_alloc);
		c->buf_used -= (uint32_t)w;
		c->fwd_cnt += (uint32_t)w;
		eng->st.bytes_to_host += (uint64_t)w;
	}
	conn_credit_check(eng, c);
	conn_drained(eng, c);
}

/* An RW packet's payload: straight to the socket, what it will not take to the ring. */
static void conn_from_guest(struct vsock_engine *eng, struct vsock_conn *c, const struct iovec *iov,
			    unsigned int n, uint32_t len)
{
	struct iovec piov[VSOCK_SLICE_MAX];
	uint32_t done = 0;

	if (c->buf_used == 0) {
		struct msghdr m = { .msg_iov = piov };
		ssize_t w;

		m.msg_iovlen = vq_iov_slice(iov, n, HDR_LEN, len, piov, VSOCK_SLICE_MAX);
		w = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			vsock_conn_kill(eng, c, true);
			return;
		}
		if (w > 0)
			done = (uint32_t)w;
	}
	c->rx_cnt += len;
	c->fwd_cnt += done;
	eng->st.bytes_to_host += done;
	if (done < len) {
		uint32_t left = len - done, tail;
		unsigned int k;

		if (!c->buf) {
			c->buf = malloc(eng->buf_alloc);
			if (!c->buf) {
				vsock_conn_kill(eng, c, true);
				return;
			}
		}
		k = vq_iov_slice(iov, n, HDR_LEN + done, left, piov, VSOCK_SLICE_MAX);
		tail = (c->buf_head + c->buf_used) % eng->buf_alloc;
		for (unsigned int i = 0; i < k; i++) {
			const uint8_t *src = piov[i].iov_base;
			size_t l = piov[i].iov_len;

			while (l) {
				size_t room = eng->buf_alloc - tail, m = l < room ? l : room;

				memcpy(c->buf + tail, src, m);
				tail = (uint32_t)((tail + m) % eng->buf_alloc);
				src += m;
				l -= m;
			}
		}
		c->buf_used += left;
		eng->wake_owed = true; /* the watch must ask for POLLOUT */
	}
	conn_credit_check(eng, c);
}

/* ---- packets from the guest ---- */

static enum vsock_refusal on_packet(struct vsock_engine *eng, const struct virtio_vsock_hdr *h,
				    const struct iovec *iov, unsigned int n,
				    struct vsock_conn **conn)
{
	struct vsock_conn *c = vsock_conn_find(eng, h->dst_port, h->src_port);

	*conn = c;
	if (c) {
		/* Every packet carries the guest's credit (5.10.6.3). */
		c->peer_buf_alloc = h->buf_alloc;
		c->peer_fwd_cnt = h->fwd_cnt;
		if (c->credit_req_sent) {
			c->credit_req_sent = false;
			eng->wake_owed = true;
		}
	}
	switch (h->op) {
	case VIRTIO_VSOCK_OP_REQUEST:
		if (c)
			return VSOCK_REFUSE_STATE; /* a second request on a live connection */
		conn_forget_rst(eng, h->dst_port, h->src_port);
		c = vsock_conn_new(eng, VC_GUEST_REQ, h->dst_port, h->src_port, -1);
		if (!c)
			return VSOCK_REFUSE_CONN_LIMIT;
		c->peer_buf_alloc = h->buf_alloc;
		c->peer_fwd_cnt = h->fwd_cnt;
		eng->wake_owed = true;
		return VSOCK_REFUSE_MAX;
	case VIRTIO_VSOCK_OP_RST:
		if (c)
			vsock_conn_kill(eng, c, false);
		return VSOCK_REFUSE_MAX; /* an RST for nothing is not answered */
	default:
		break;
	}
	if (!c)
		return VSOCK_REFUSE_NO_CONN;
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (c->state != VC_HOST_REQ || c->owe_request)
			return VSOCK_REFUSE_STATE;
		c->state = VC_OPEN;
		c->readable = true; /* the host may have written already */
		eng->st.conns_opened++;
		if (!c->service) {
			char line[32];
			int l = snprintf(line, sizeof(line), "OK %u\n", c->host_port);

			if (send(c->fd, line, (size_t)l, MSG_NOSIGNAL | MSG_DONTWAIT) != l)
				vsock_conn_kill(eng, c, true);
		}
		eng->wake_owed = true;
		return VSOCK_REFUSE_MAX;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		if (c->state != VC_OPEN)
			return VSOCK_REFUSE_STATE;
		if (h->flags & VIRTIO_VSOCK_SHUTDOWN_SEND)
			c->guest_no_send = true;
		if (h->flags & VIRTIO_VSOCK_SHUTDOWN_RCV)
			c->guest_no_rcv = true;
		/* Both ways: the guest waits for our RST, after the data it sent (5.10.6.5). */
		if (c->guest_no_send && c->guest_no_rcv)
			c->close_when_flushed = true;
		conn_drained(eng, c);
		eng->wake_owed = true;
		return VSOCK_REFUSE_MAX;
	case VIRTIO_VSOCK_OP_RW:
		if (c->state != VC_OPEN || c->guest_no_send)
			return VSOCK_REFUSE_STATE;
		/* The guest may have in flight at most the buf_alloc we advertised. */
		if (h->len > eng->buf_alloc - c->buf_used)
			return VSOCK_REFUSE_CREDIT;
		conn_from_guest(eng, c, iov, n, h->len);
		return VSOCK_REFUSE_MAX;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		eng->wake_owed = true; /* reading may resume */
		return VSOCK_REFUSE_MAX;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		if (c->state != VC_OPEN)
			return VSOCK_REFUSE_STATE;
		c->owe_credit = true;
		eng->wake_owed = true;
		return VSOCK_REFUSE_MAX;
	default:
		return VSOCK_REFUSE_OP; /* vsock_hdr_check() let no other op through */
	}
}

static void refuse_locked(struct vsock_engine *eng, enum vsock_refusal why)
{
	eng->st.refused[why]++;
	vireo_log_ratelimited(&eng->rl, VIREO_LOG_WARN, TAG, "cid %llu: packet refused: %s",
			      (unsigned long long)eng->cid, vsock_refusal_str(why));
}

void vsock_engine_refuse(struct vsock_engine *eng, enum vsock_refusal why)
{
	pthread_mutex_lock(&eng->lock);
	refuse_locked(eng, why);
	pthread_mutex_unlock(&eng->lock);
}

void vsock_engine_unlock(struct vsock_engine *eng)
{
	bool wake = eng->wake_owed;

	eng->wake_owed = false;
	pthread_mutex_unlock(&eng->lock);
	if (wake && eng->wake)
		eng->wake(eng->wake_arg);
}

enum vsock_refusal vsock_engine_guest_tx(struct vsock_engine *eng, const struct iovec *iov,
					 unsigned int n, uint32_t len)
{
	struct vsock_conn *c = NULL;
	struct virtio_vsock_hdr h;
	enum vsock_refusal why;

	if (len < HDR_LEN || !vq_iov_read(iov, n, 0, &h, sizeof(h))) {
		vsock_engine_refuse(eng, VSOCK_REFUSE_TX_SHORT);
		return VSOCK_REFUSE_TX_SHORT;
	}
	pthread_mutex_lock(&eng->lock);
	why = vsock_hdr_check(&h, len - HDR_LEN, eng->cid);
	if (why == VSOCK_REFUSE_MAX)
		why = on_packet(eng, &h, iov, n, &c);
	else if (vsock_refusal_answered(why, h.op))
		c = vsock_conn_find(eng, h.dst_port, h.src_port);
	if (why != VSOCK_REFUSE_MAX) {
		refuse_locked(eng, why);
		if (vsock_refusal_answered(why, h.op)) {
			if (c)
				vsock_conn_kill(eng, c, true);
			else
				rst_queue(eng, h.dst_port, h.src_port);
		}
	}
	vsock_engine_unlock(eng);
	return why;
}

/* ---- set-up, reset, services ---- */

/* Host clients the guest has not heard of yet survive a driver reset. */
static bool conn_unknown_to_guest(const struct vsock_conn *c)
{
	return c->state == VC_HELLO || (c->state == VC_HOST_REQ && c->owe_request);
}

static void engine_drop(struct vsock_engine *eng, bool all)
{
	unsigned int closed = 0;

	pthread_mutex_lock(&eng->lock);
	for (unsigned int i = 0; i < eng->nconns;) {
		struct vsock_conn *c = eng->conns[i];

		if (!all && conn_unknown_to_guest(c)) {
			i++;
			continue;
		}
		vsock_conn_free(c);
		eng->conns[i] = eng->conns[--eng->nconns];
		closed++;
	}
	if (closed)
		vireo_log(VIREO_LOG_INFO, TAG, "cid %llu: %u connections closed (driver reset)",
			  (unsigned long long)eng->cid, closed);
	eng->st.conns = eng->nconns;
	eng->cursor = 0;
	eng->rst_n = eng->rst_head = 0;
	pthread_mutex_unlock(&eng->lock);
}

void vsock_engine_reset(struct vsock_engine *eng)
{
	engine_drop(eng, false);
}

static int engine_listen(struct vsock_engine *eng)
{
	int rc;

	eng->listen_fd = unix_listen(eng->uds, SOCK_NONBLOCK, 16, 0);
	if (eng->listen_fd < 0) {
		rc = eng->listen_fd;
		eng->listen_fd = -1;
		return rc;
	}
	rc = vireo_loop_watch_fd(eng->loop, eng->listen_fd, VIREO_POLL_IN, vsock_engine_on_accept,
				 eng, &eng->listen_watch);
	if (rc < 0) {
		unlink(eng->uds);
		goto out_close;
	}
	return 0;

out_close:
	close(eng->listen_fd);
	eng->listen_fd = -1;
	return rc;
}

int vsock_engine_new(const struct vsock_engine_cfg *cfg, struct vsock_engine **out)
{
	struct vsock_engine *eng;
	int rc;

	/* "<uds>_4294967295" must fit a socket address too. */
	if (cfg->guest_cid < 3 || cfg->guest_cid >= VSOCK_CID_ANY || cfg->buf_alloc == 0 ||
	    cfg->max_conns == 0 || (cfg->uds && strlen(cfg->uds) + 12 > sizeof(eng->uds)))
		return -EINVAL;
	eng = calloc(1, sizeof(*eng));
	if (!eng)
		return -ENOMEM;
	eng->conns = calloc(cfg->max_conns, sizeof(*eng->conns));
	if (!eng->conns) {
		free(eng);
		return -ENOMEM;
	}
	pthread_mutex_init(&eng->lock, NULL);
	eng->cid = cfg->guest_cid;
	if (cfg->uds)
		strcpy(eng->uds, cfg->uds);
	eng->buf_alloc = cfg->buf_alloc;
	eng->max_conns = cfg->max_conns;
	eng->loop = cfg->loop;
	eng->wake = cfg->wake;
	eng->wake_arg = cfg->wake_arg;
	eng->listen_fd = -1;
	eng->next_port = VSOCK_EPHEMERAL_BASE;
	eng->rl = (struct vireo_ratelimit)VIREO_RATELIMIT_INIT(5000, 10);
	if (eng->uds[0]) {
		rc = engine_listen(eng);
		if (rc < 0) {
			vsock_engine_free(eng);
			return rc;
		}
	}
	*out = eng;
	return 0;
}

void vsock_engine_free(struct vsock_engine *eng)
{
	if (!eng)
		return;
	engine_drop(eng, true);
	vireo_watch_remove(eng->listen_watch);
	if (eng->listen_fd >= 0) {
		close(eng->listen_fd);
		unlink(eng->uds);
	}
	pthread_mutex_destroy(&eng->lock);
	free(eng->conns);
	free(eng);
}

void vsock_engine_get_stats(struct vsock_engine *eng, struct vsock_engine_stats *s)
{
	pthread_mutex_lock(&eng->lock);
	*s = eng->st;
	pthread_mutex_unlock(&eng->lock);
}

int vsock_engine_bind_port(struct vsock_engine *eng, uint32_t port, vsock_accept_fn fn, void *arg)
{
	int rc = 0;

	pthread_mutex_lock(&eng->lock);
	for (unsigned int i = 0; i < eng->nbound; i++) {
		if (eng->bound[i].port != port)
			continue;
		if (fn)
			rc = -EEXIST;
		else
			eng->bound[i] = eng->bound[--eng->nbound];
		goto out;
	}
	if (!fn)
		goto out;
	if (eng->nbound == VSOCK_MAX_BOUND) {
		rc = -ENOSPC;
		goto out;
	}
	eng->bound[eng->nbound++] = (struct vsock_bound){ port, fn, arg };
out:
	pthread_mutex_unlock(&eng->lock);
	return rc;
}

int vsock_engine_connect(struct vsock_engine *eng, uint32_t port, int *fd)
{
	struct vsock_conn *c;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pthread_mutex_lock(&eng->lock);
	c = vsock_conn_new(eng, VC_HOST_REQ, 0, port, sv[0]);
	if (!c) {
		pthread_mutex_unlock(&eng->lock);
		close(sv[0]);
		close(sv[1]);
		return -EMFILE;
	}
	c->host_port = vsock_engine_next_port(eng, port);
	c->service = true;
	c->owe_request = true;
	eng->wake_owed = true;
	vsock_engine_unlock(eng);
	*fd = sv[1];
	return 0;
}
