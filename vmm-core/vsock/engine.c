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
 */
#include "vsock/engine.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <vireo/log.h>
#include <vireo/loop.h>

#include "virtqueue/iov.h"

#define TAG "vsock"

#define VSOCK_RST_RING	     64u	 /* RSTs owed to packets with no connection */
#define VSOCK_MAX_BOUND	     16u	 /* ports vireod's services may own */
#define VSOCK_EPHEMERAL_BASE 0x40000000u /* host ports of host-initiated connections */
#define VSOCK_SLICE_MAX	     130u	 /* iovecs of one payload (a chain's, at most) */
#define HDR_LEN		     ((uint32_t)sizeof(struct virtio_vsock_hdr))

enum conn_state {
	VC_HELLO,     /* a host client: reading its CONNECT line */
	VC_GUEST_REQ, /* the guest asked; the host side is not connected yet */
	VC_HOST_REQ,  /* the host asked; REQUEST owed or sent, waiting for RESPONSE */
	VC_OPEN,      /* established */
	VC_DEAD,      /* finished: owed an RST at most, then closed on the loop's thread */
};

struct vsock_conn {
	struct vsock_engine *eng;
	enum conn_state state;
	uint32_t host_port, guest_port;
	int fd; /* the host socket; -1 before connecting */
	struct vireo_watch *watch;
	uint32_t events; /* what watch asks for */
	bool service;	 /* fd is a socketpair end: no OK line */
	char hello[VSOCK_CONNECT_LINE_MAX];
	size_t hello_len;

	bool readable;		 /* the socket has data or EOF for us (or may have) */
	bool host_eof;		 /* read EOF: the host sends no more */
	bool guest_no_send;	 /* SHUTDOWN SEND from the guest */
	bool guest_no_rcv;	 /* SHUTDOWN RCV from the guest */
	bool close_when_flushed; /* the guest shut both ways: RST once the ring drains */
	bool shut_wr;		 /* shutdown(SHUT_WR) done */

	/* Owed to the guest. */
	bool owe_request, owe_response, owe_rst, owe_shutdown, owe_credit;
	bool credit_req_sent; /* a CREDIT_REQUEST is out; cleared by any guest packet */

	/* Guest to host: ring of buf_alloc bytes, allocated only while it holds data. */
	uint8_t *buf;
	uint32_t buf_head, buf_used;
	uint32_t rx_cnt, fwd_cnt, fwd_reported;

	/* Host to guest: the guest's credit. */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
};

struct vsock_bound {
	uint32_t port;
	vsock_accept_fn fn;
	void *arg;
};

struct vsock_engine {
	pthread_mutex_t lock; /* guards everything below */
	uint64_t cid;
	char uds[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint32_t buf_alloc;
	unsigned int max_conns;
	struct vireo_loop *loop;
	void (*wake)(void *arg);
	void *wake_arg;
	bool wake_owed; /* set under the lock, acted on after unlocking */

	int listen_fd;
	struct vireo_watch *listen_watch;

	struct vsock_conn **conns;
	unsigned int nconns, cursor;
	struct {
		uint32_t host_port, guest_port;
	} rst[VSOCK_RST_RING];
	unsigned int rst_head, rst_n;
	struct vsock_bound bound[VSOCK_MAX_BOUND];
	unsigned int nbound;
	uint32_t next_port;

	struct vsock_engine_stats st;
	struct vireo_ratelimit rl;
};

/* ---- iovec helpers ---- */

/* ---- connections ---- */

static struct vsock_conn *conn_find(struct vsock_engine *eng, uint32_t host_port,
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

static struct vsock_conn *conn_new(struct vsock_engine *eng, enum conn_state state,
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
static void conn_kill(struct vsock_engine *eng, struct vsock_conn *c, bool rst)
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

static void conn_free(struct vsock_conn *c)
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

static void hdr_for(struct vsock_engine *eng, struct vsock_conn *c, uint16_t op,
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
		conn_kill(eng, c, true);
		return;
	}
	if (c->guest_no_send && !c->shut_wr && c->fd >= 0) {
		shutdown(c->fd, SHUT_WR);
		c->shut_wr = true;
	}
}

/* Writes what the ring holds to the host socket. */
static void conn_flush(struct vsock_engine *eng, struct vsock_conn *c)
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
				conn_kill(eng, c, true);
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
			conn_kill(eng, c, true);
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
				conn_kill(eng, c, true);
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
	struct vsock_conn *c = conn_find(eng, h->dst_port, h->src_port);

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
		c = conn_new(eng, VC_GUEST_REQ, h->dst_port, h->src_port, -1);
		if (!c)
			return VSOCK_REFUSE_CONN_LIMIT;
		c->peer_buf_alloc = h->buf_alloc;
		c->peer_fwd_cnt = h->fwd_cnt;
		eng->wake_owed = true;
		return VSOCK_REFUSE_MAX;
	case VIRTIO_VSOCK_OP_RST:
		if (c)
			conn_kill(eng, c, false);
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
				conn_kill(eng, c, true);
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

static void engine_unlock(struct vsock_engine *eng)
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
		c = conn_find(eng, h.dst_port, h.src_port);
	if (why != VSOCK_REFUSE_MAX) {
		refuse_locked(eng, why);
		if (vsock_refusal_answered(why, h.op)) {
			if (c)
				conn_kill(eng, c, true);
			else
				rst_queue(eng, h.dst_port, h.src_port);
		}
	}
	engine_unlock(eng);
	return why;
}

/* ---- the loop's thread: sockets ---- */

static uint32_t conn_want(const struct vsock_conn *c)
{
	uint32_t ev = 0;

	if (c->fd < 0 || c->state == VC_DEAD)
		return 0;
	if (c->state == VC_HELLO)
		return VIREO_POLL_IN;
	if (c->state == VC_OPEN && !c->readable && !c->host_eof && !c->guest_no_rcv)
		ev |= VIREO_POLL_IN;
	if (c->buf_used)
		ev |= VIREO_POLL_OUT;
	return ev;
}

static void conn_on_event(void *arg, int fd, uint32_t events);

/* Makes the watch ask for what the connection wants; no watch when it wants nothing
 * (epoll reports a hang-up even to a watch asking for nothing, which would spin). */
static void conn_watch_update(struct vsock_engine *eng, struct vsock_conn *c)
{
	uint32_t want = conn_want(c);

	if (want == 0) {
		vireo_watch_remove(c->watch);
		c->watch = NULL;
		c->events = 0;
		return;
	}
	if (c->watch && want == c->events)
		return;
	if (c->watch) {
		if (vireo_watch_set_events(c->watch, want) == 0) {
			c->events = want;
			return;
		}
		vireo_watch_remove(c->watch);
		c->watch = NULL;
	}
	if (vireo_loop_watch_fd(eng->loop, c->fd, want, conn_on_event, c, &c->watch) < 0) {
		c->watch = NULL;
		conn_kill(eng, c, true);
		return;
	}
	c->events = want;
}

static uint32_t engine_next_port(struct vsock_engine *eng, uint32_t guest_port)
{
	for (;;) {
		uint32_t p = eng->next_port++;

		if (eng->next_port < VSOCK_EPHEMERAL_BASE)
			eng->next_port = VSOCK_EPHEMERAL_BASE;
		if (!conn_find(eng, p, guest_port))
			return p;
	}
}

/* A host client's CONNECT line, a byte at a time so nothing after it is consumed. */
static void conn_hello(struct vsock_engine *eng, struct vsock_conn *c)
{
	uint32_t port;
	size_t used;

	while (c->hello_len < sizeof(c->hello)) {
		ssize_t r = recv(c->fd, c->hello + c->hello_len, 1, MSG_DONTWAIT);
		int rc;

		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (r <= 0)
			break;
		c->hello_len++;
		rc = vsock_parse_connect(c->hello, c->hello_len, &port, &used);
		if (rc == 0)
			continue;
		if (rc < 0)
			break;
		c->guest_port = port;
		c->host_port = engine_next_port(eng, port);
		c->state = VC_HOST_REQ;
		c->owe_request = true;
		eng->wake_owed = true;
		return;
	}
	vireo_log(VIREO_LOG_INFO, TAG, "host client refused: no 'CONNECT <port>' line");
	conn_kill(eng, c, false);
}

static void conn_on_event(void *arg, int fd, uint32_t events)
{
	struct vsock_conn *c = arg;
	struct vsock_engine *eng = c->eng;

	(void)fd;
	pthread_mutex_lock(&eng->lock);
	if (c->state == VC_HELLO) {
		conn_hello(eng, c);
	} else if (c->state != VC_DEAD) {
		if (events & (VIREO_POLL_IN | VIREO_POLL_HUP | VIREO_POLL_ERR))
			c->readable = true;
		if ((events & (VIREO_POLL_OUT | VIREO_POLL_HUP | VIREO_POLL_ERR)) && c->buf_used)
			conn_flush(eng, c);
	}
	conn_watch_update(eng, c);
	eng->wake_owed = true;
	engine_unlock(eng);
}

static void on_accept(void *arg, int fd, uint32_t events)
{
	struct vsock_engine *eng = arg;
	struct vsock_conn *c;
	int cfd;

	(void)events;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	pthread_mutex_lock(&eng->lock);
	c = conn_new(eng, VC_HELLO, 0, 0, cfd);
	if (!c) {
		vireo_log_ratelimited(&eng->rl, VIREO_LOG_WARN, TAG,
				      "host client refused: %u connections already",
				      eng->max_conns);
		close(cfd);
	} else {
		conn_watch_update(eng, c);
	}
	engine_unlock(eng);
}

static const struct vsock_bound *engine_bound(struct vsock_engine *eng, uint32_t port)
{
	for (unsigned int i = 0; i < eng->nbound; i++)
		if (eng->bound[i].port == port)
			return &eng->bound[i];
	return NULL;
}

/* The guest asked for host port P: a bound service, or "<uds>_P". */
static void conn_connect(struct vsock_engine *eng, struct vsock_conn *c)
{
	const struct vsock_bound *b = engine_bound(eng, c->host_port);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, sv[2];

	if (b) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
			conn_kill(eng, c, true);
			return;
		}
		fd = sv[0];
		c->service = true;
		b->fn(b->arg, sv[1], c->guest_port);
	} else {
		fd = -1;
		if (eng->uds[0] && (size_t)snprintf(addr.sun_path, sizeof(addr.sun_path), "%s_%u",
						    eng->uds, c->host_port) < sizeof(addr.sun_path))
			fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
			vireo_log(VIREO_LOG_DEBUG, TAG, "guest port %u -> %s: %s", c->guest_port,
				  addr.sun_path, strerror(errno));
			close(fd);
			fd = -1;
		}
		if (fd < 0) {
			conn_kill(eng, c, true);
			return;
		}
	}
	c->fd = fd;
	c->state = VC_OPEN;
	c->owe_response = true;
	c->readable = true; /* the host may have written already */
	eng->st.conns_opened++;
	vireo_log(VIREO_LOG_DEBUG, TAG, "guest port %u connected to host port %u", c->guest_port,
		  c->host_port);
}

void vsock_engine_service(struct vsock_engine *eng)
{
	pthread_mutex_lock(&eng->lock);
	for (unsigned int i = 0; i < eng->nconns;) {
		struct vsock_conn *c = eng->conns[i];

		if (c->state == VC_DEAD && !c->owe_rst) {
			conn_free(c);
			eng->conns[i] = eng->conns[--eng->nconns];
			eng->st.conns = eng->nconns;
			continue;
		}
		if (c->state == VC_GUEST_REQ)
			conn_connect(eng, c);
		if (c->state == VC_OPEN && c->buf_used && !c->events)
			conn_flush(eng, c);
		conn_watch_update(eng, c);
		i++;
	}
	if (eng->cursor >= eng->nconns)
		eng->cursor = 0;
	eng->wake_owed = false; /* the caller is the one who would be woken */
	pthread_mutex_unlock(&eng->lock);
}

/* ---- the loop's thread: packets for the guest ---- */

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
		hdr_for(eng, c, VIRTIO_VSOCK_OP_RW, &h);
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
		conn_kill(eng, c, true);
	}
	return 0;
}

static uint32_t conn_output(struct vsock_engine *eng, struct vsock_conn *c, const struct iovec *iov,
			    unsigned int n, uint32_t len)
{
	struct virtio_vsock_hdr h;
	uint32_t room, got;

	if (c->owe_rst) {
		hdr_for(eng, c, VIRTIO_VSOCK_OP_RST, &h);
		c->owe_rst = false;
		eng->st.rst_sent++;
		eng->wake_owed = true; /* to be closed */
		return put_hdr(iov, n, &h);
	}
	if (c->state == VC_DEAD)
		return 0;
	if (c->owe_request) {
		hdr_for(eng, c, VIRTIO_VSOCK_OP_REQUEST, &h);
		c->owe_request = false;
		return put_hdr(iov, n, &h);
	}
	if (c->owe_response) {
		hdr_for(eng, c, VIRTIO_VSOCK_OP_RESPONSE, &h);
		c->owe_response = false;
		return put_hdr(iov, n, &h);
	}
	if (c->state != VC_OPEN)
		return 0;
	if (conn_can_read(c)) {
		room = vsock_credit_free(c->peer_buf_alloc, c->peer_fwd_cnt, c->tx_cnt);
		if (room == 0 && !c->credit_req_sent) {
			hdr_for(eng, c, VIRTIO_VSOCK_OP_CREDIT_REQUEST, &h);
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
		hdr_for(eng, c, VIRTIO_VSOCK_OP_SHUTDOWN, &h);
		h.flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
		c->owe_shutdown = false;
		return put_hdr(iov, n, &h);
	}
	if (c->owe_credit) {
		hdr_for(eng, c, VIRTIO_VSOCK_OP_CREDIT_UPDATE, &h);
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
		conn_free(c);
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

/* Removes a socket file nobody answers on; refuses a live one or a non-socket. */
static int engine_claim_path(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
	close(fd);
	if (rc == 0)
		return -EADDRINUSE;
	return unlink(path) < 0 ? -errno : 0;
}

static int engine_listen(struct vsock_engine *eng)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int rc;

	rc = engine_claim_path(eng->uds);
	if (rc < 0)
		return rc;
	strcpy(addr.sun_path, eng->uds);
	eng->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (eng->listen_fd < 0)
		return -errno;
	if (bind(eng->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(eng->listen_fd, 16) < 0) {
		rc = -errno;
		goto out_close;
	}
	rc = vireo_loop_watch_fd(eng->loop, eng->listen_fd, VIREO_POLL_IN, on_accept, eng,
				 &eng->listen_watch);
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
	c = conn_new(eng, VC_HOST_REQ, 0, port, sv[0]);
	if (!c) {
		pthread_mutex_unlock(&eng->lock);
		close(sv[0]);
		close(sv[1]);
		return -EMFILE;
	}
	c->host_port = engine_next_port(eng, port);
	c->service = true;
	c->owe_request = true;
	eng->wake_owed = true;
	engine_unlock(eng);
	*fd = sv[1];
	return 0;
}
