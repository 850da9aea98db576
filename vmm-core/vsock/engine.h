/* SPDX-License-Identifier: MIT */
/*
 * The vsock connection engine: the guest's stream connections and the host sockets
 * behind them. It knows packets and fds, never a virtqueue: the device model
 * (virtio/vsock.c) hands it each packet the guest sent and each buffer the guest
 * offered for receiving.
 *
 * Host side (Firecracker's hybrid-vsock convention):
 * - a guest connecting to port P reaches the unix listener at "<uds>_P";
 * - a host program connecting to "<uds>" (the engine listens there) writes
 *   "CONNECT <port>\n", and reads "OK <host port>\n" once the guest accepted; if the
 *   guest refuses, the connection is closed instead;
 * - vireod's own services own ports without a unix socket: vsock_engine_bind_port()
 *   and vsock_engine_connect() hand them one end of a socketpair instead.
 *
 * Limits (a hostile guest cannot grow host memory without bound): at most max_conns
 * connections; guest data waiting for a slow host socket is buffered per connection
 * up to buf_alloc, the credit the engine advertises, and data beyond it resets the
 * connection; RSTs owed to packets that have no connection wait in a fixed ring.
 *
 * Threads: one mutex guards everything. vsock_engine_guest_tx() runs on the tx
 * queue's worker; every other call, every fd watch and every close of an fd happen on
 * the loop's thread (the rx queue's worker), or while that loop is not running.
 * The engine calls cfg->wake when the loop's thread has work (output for the guest, a
 * socket to connect, an fd to close).
 */
#ifndef VIREO_VSOCK_ENGINE_H
#define VIREO_VSOCK_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vsock/proto.h"

struct vireo_loop;
struct vsock_engine;

struct vsock_engine_cfg {
	uint64_t guest_cid;	 /**< the guest's CID (>= 3) */
	const char *uds;	 /**< host socket path prefix; NULL: no unix side */
	uint32_t buf_alloc;	 /**< per-connection receive buffer advertised */
	unsigned int max_conns;	 /**< connections at most, both directions */
	struct vireo_loop *loop; /**< where fds are watched (the rx worker's loop) */
	void (*wake)(void *arg); /**< the loop's thread has work; any thread */
	void *wake_arg;
};

/** Counters; read with vsock_engine_get_stats(). */
struct vsock_engine_stats {
	uint64_t conns;			    /**< connections now */
	uint64_t conns_opened;		    /**< connections ever established */
	uint64_t bytes_to_host;		    /**< guest payload written to host sockets */
	uint64_t bytes_to_guest;	    /**< host payload given to the guest */
	uint64_t rst_sent;		    /**< RSTs sent to the guest */
	uint64_t rst_dropped;		    /**< RSTs owed but dropped (ring full) */
	uint64_t credit_updates;	    /**< CREDIT_UPDATEs sent */
	uint64_t refused[VSOCK_REFUSE_MAX]; /**< per enum vsock_refusal */
};

/**
 * vsock_engine_new() - An engine with no connections; with cfg->uds set it listens
 * on that path (replacing a stale socket file, refusing a live one).
 * Return: 0, -EINVAL (cid, path length), -EADDRINUSE, -ENOMEM or another errno.
 * Context: the loop is not running.
 */
int vsock_engine_new(const struct vsock_engine_cfg *cfg, struct vsock_engine **out);

/** vsock_engine_free() - Close everything. Context: the loop is not running. */
void vsock_engine_free(struct vsock_engine *eng);

/**
 * vsock_engine_guest_tx() - One packet from the guest: the 44-byte header and its
 * payload, in @iov (@n entries, @len bytes, all device-readable).
 * Return: VSOCK_REFUSE_MAX if accepted, else why it was refused (already counted;
 * an RST was queued when the rules say so).
 * Context: the tx worker (or any one thread at a time).
 */
enum vsock_refusal vsock_engine_guest_tx(struct vsock_engine *eng, const struct iovec *iov,
					 unsigned int n, uint32_t len);

/**
 * vsock_engine_refuse() - Count a refusal the model decided (a bad chain).
 * Context: any thread.
 */
void vsock_engine_refuse(struct vsock_engine *eng, enum vsock_refusal why);

/**
 * vsock_engine_service() - Connect sockets the guest asked for, accept and read
 * host clients' CONNECT lines, re-arm fd watches, close what is finished.
 * Context: the loop's thread.
 */
void vsock_engine_service(struct vsock_engine *eng);

/**
 * vsock_engine_has_output() - Whether vsock_engine_guest_rx() would write a packet.
 * Context: the loop's thread.
 */
bool vsock_engine_has_output(struct vsock_engine *eng);

/**
 * vsock_engine_guest_rx() - Write the next packet for the guest into one receive
 * buffer: @iov (@n device-writable entries, @len >= 44 bytes).
 * Return: the bytes written (header and payload), 0 if nothing is to be sent.
 * Context: the loop's thread.
 */
uint32_t vsock_engine_guest_rx(struct vsock_engine *eng, const struct iovec *iov, unsigned int n,
			       uint32_t len);

/**
 * vsock_engine_reset() - Forget every connection the guest knows of (closing its
 * host socket): the guest's driver reset the device or went away. Host clients still
 * waiting for their REQUEST to go out stay.
 * Context: the loop's thread, or the loop is not running.
 */
void vsock_engine_reset(struct vsock_engine *eng);

/** vsock_engine_get_stats() - The counters. Context: any thread. */
void vsock_engine_get_stats(struct vsock_engine *eng, struct vsock_engine_stats *s);

/* ---- vireod's own services (agent client, time): ports without a unix socket ---- */

/**
 * Called when the guest connected to a bound port: @fd is the service's end of a
 * stream socketpair (non-blocking, close-on-exec; the service owns and closes it),
 * @guest_port the guest's port. Runs on the loop's thread with the engine locked: it
 * must not block nor call the engine.
 */
typedef void (*vsock_accept_fn)(void *arg, int fd, uint32_t guest_port);

/**
 * vsock_engine_bind_port() - Let a service own host port @port: guests connecting
 * there reach @fn instead of "<uds>_<port>". @fn NULL unbinds.
 * Return: 0, -EEXIST (bound already), -ENOSPC (too many bound ports).
 * Context: any thread.
 */
int vsock_engine_bind_port(struct vsock_engine *eng, uint32_t port, vsock_accept_fn fn, void *arg);

/**
 * vsock_engine_connect() - Connect to guest port @port for a service. Returns at
 * once with *@fd, the service's end of a socketpair: bytes flow once the guest
 * accepts; if it refuses (or resets later), the service reads EOF.
 * Return: 0, -EMFILE (connection limit), or a negative errno.
 * Context: any thread.
 */
int vsock_engine_connect(struct vsock_engine *eng, uint32_t port, int *fd);

#endif /* VIREO_VSOCK_ENGINE_H */
