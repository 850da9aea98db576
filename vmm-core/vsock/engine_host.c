// SPDX-License-Identifier: MIT
/*
 * The vsock engine's host sockets, on the loop's thread: what each connection's watch
 * asks for, host clients' CONNECT lines, accepting on the unix listener, connecting
 * to "<uds>_<port>" or handing a bound port's service its socketpair, and the
 * service pass that acts on all of it (vsock_engine_service()).
 */
#include "vsock/engine_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
		vsock_conn_kill(eng, c, true);
		return;
	}
	c->events = want;
}

uint32_t vsock_engine_next_port(struct vsock_engine *eng, uint32_t guest_port)
{
	for (;;) {
		uint32_t p = eng->next_port++;

		if (eng->next_port < VSOCK_EPHEMERAL_BASE)
			eng->next_port = VSOCK_EPHEMERAL_BASE;
		if (!vsock_conn_find(eng, p, guest_port))
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
		c->host_port = vsock_engine_next_port(eng, port);
		c->state = VC_HOST_REQ;
		c->owe_request = true;
		eng->wake_owed = true;
		return;
	}
	vireo_log(VIREO_LOG_INFO, TAG, "host client refused: no 'CONNECT <port>' line");
	vsock_conn_kill(eng, c, false);
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
			vsock_conn_flush(eng, c);
	}
	conn_watch_update(eng, c);
	eng->wake_owed = true;
	vsock_engine_unlock(eng);
}

void vsock_engine_on_accept(void *arg, int fd, uint32_t events)
{
	struct vsock_engine *eng = arg;
	struct vsock_conn *c;
	int cfd;

	(void)events;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	pthread_mutex_lock(&eng->lock);
	c = vsock_conn_new(eng, VC_HELLO, 0, 0, cfd);
	if (!c) {
		vireo_log_ratelimited(&eng->rl, VIREO_LOG_WARN, TAG,
				      "host client refused: %u connections already",
				      eng->max_conns);
		close(cfd);
	} else {
		conn_watch_update(eng, c);
	}
	vsock_engine_unlock(eng);
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
			vsock_conn_kill(eng, c, true);
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
			vsock_conn_kill(eng, c, true);
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
			vsock_conn_free(c);
			eng->conns[i] = eng->conns[--eng->nconns];
			eng->st.conns = eng->nconns;
			continue;
		}
		if (c->state == VC_GUEST_REQ)
			conn_connect(eng, c);
		if (c->state == VC_OPEN && c->buf_used && !c->events)
			vsock_conn_flush(eng, c);
		conn_watch_update(eng, c);
		i++;
	}
	if (eng->cursor >= eng->nconns)
		eng->cursor = 0;
	eng->wake_owed = false; /* the caller is the one who would be woken */
	pthread_mutex_unlock(&eng->lock);
}
