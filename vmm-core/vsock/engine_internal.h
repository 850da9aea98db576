/* SPDX-License-Identifier: MIT */
/*
 * The vsock engine's state, shared by its three files: engine.c (connections,
 * packets from the guest, set-up and services), engine_host.c (host sockets on the
 * loop's thread) and engine_rx.c (packets for the guest). Nothing outside
 * vmm-core/vsock/ includes this.
 */
#ifndef VIREO_VSOCK_ENGINE_INTERNAL_H
#define VIREO_VSOCK_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include <vireo/log.h>
#include <vireo/loop.h>

#include "vsock/engine.h"

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

/* engine.c: the connection table (all with eng->lock held). */
struct vsock_conn *vsock_conn_find(struct vsock_engine *eng, uint32_t host_port,
				   uint32_t guest_port);
struct vsock_conn *vsock_conn_new(struct vsock_engine *eng, enum conn_state state,
				  uint32_t host_port, uint32_t guest_port, int fd);
/* Ends @c; with @rst the guest is told. The fd is closed later, on the loop's thread. */
void vsock_conn_kill(struct vsock_engine *eng, struct vsock_conn *c, bool rst);
void vsock_conn_free(struct vsock_conn *c);
/* A header from the host side of @c, reporting its receive credit. */
void vsock_hdr_for(struct vsock_engine *eng, struct vsock_conn *c, uint16_t op,
		   struct virtio_vsock_hdr *h);
/* Writes what the guest-to-host ring holds to the host socket. */
void vsock_conn_flush(struct vsock_engine *eng, struct vsock_conn *c);
/* Drops eng->lock, then wakes the device if a packet for the guest became owed. */
void vsock_engine_unlock(struct vsock_engine *eng);

/* engine_host.c: a free host port for a connection to @guest_port (lock held); the
 * unix listener's watch callback (a host client connected). */
uint32_t vsock_engine_next_port(struct vsock_engine *eng, uint32_t guest_port);
void vsock_engine_on_accept(void *arg, int fd, uint32_t events);
#endif /* VIREO_VSOCK_ENGINE_INTERNAL_H */
