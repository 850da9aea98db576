/* SPDX-License-Identifier: MIT */
/*
 * vireod's client of the guest agent (vireo-toolsd, ddk-docs/agent-protocol.md), one
 * per vsock device. It connects to the guest's agent port through the vsock engine's
 * service hook, retries with backoff while nothing listens there (the guest boots,
 * toolsd restarts), asks `version` and `subscribe`, follows the heartbeats (missed
 * ones make the connection stale: it is dropped and made again) and carries requests
 * from the control socket to the agent, matching replies by id, with a timeout each.
 *
 * The agent is untrusted: lines are bounded (AGENT_MAX_LINE), junk is counted and
 * ends the connection after a few lines, requests in flight are bounded, and no call
 * here ever waits for the guest. The client has its own thread and event loop; the
 * calls below only queue work for it.
 */
#ifndef VIREO_AGENT_CLIENT_H
#define VIREO_AGENT_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

struct json_object;
struct vsock_engine;
struct agent_client;

/** Longest line accepted from the agent (the agent protocol's limit). */
#define AGENT_MAX_LINE (64 * 1024)
/** Requests in flight at once per agent; more are refused at once. */
#define AGENT_MAX_INFLIGHT 32
/** The agent's port when the spec gives none. */
#define AGENT_DEFAULT_PORT 5600

enum agent_state {
	AGENT_DOWN,	  /**< no connection; the next attempt is due at retry time */
	AGENT_CONNECTING, /**< connected or connecting, `version`/`subscribe` unanswered */
	AGENT_UP,	  /**< the handshake was answered; heartbeats are followed */
};

/** What the control socket shows; see agent_client_get_info(). */
struct agent_info {
	enum agent_state state;
	uint32_t port;
	char version[32];     /**< the tools' version ("" until up) */
	int protocol;	      /**< the agent protocol version (0 until up) */
	int heartbeat_s;      /**< the agent's heartbeat period (0 until up) */
	int64_t heartbeat_ns; /**< CLOCK_MONOTONIC of the last heartbeat; 0: none yet */
	uint64_t heartbeat_seq;
	int64_t up_ns;	      /**< CLOCK_MONOTONIC when it last came up; 0: never */
	uint64_t connects;    /**< connection attempts */
	uint64_t ups;	      /**< times it came up */
	uint64_t stale;	      /**< connections dropped for missed heartbeats */
	uint64_t bad_lines;   /**< lines that were not JSON objects, or too long */
	uint64_t timeouts;    /**< requests that timed out */
	char last_error[160]; /**< why the last connection ended or failed */
};

/**
 * Called once per request, on the client's thread (or in agent_client_free()): @reply
 * is the agent's whole reply object ({"id", "ok", "result"|"error"}, ownership
 * passes), or NULL with @err saying why there is none (timeout, agent down, removed).
 * @sent_ns and @recv_ns are CLOCK_REALTIME just before the request was written and
 * just after its reply was read (0 without a reply): the round trip that bounds when
 * the agent answered.
 */
typedef void (*agent_done_fn)(void *arg, struct json_object *reply, const char *err,
			      int64_t sent_ns, int64_t recv_ns);

/**
 * agent_client_new() - Start a client for the agent behind @eng's guest port @port.
 * @id: the device's id, for log lines.
 * Return: 0, or a negative errno.
 */
int agent_client_new(const char *id, struct vsock_engine *eng, uint32_t port,
		     struct agent_client **out);

/**
 * agent_client_free() - Stop the thread, drop the connection, and complete every
 * queued or pending request with an error. NULL is ignored. Context: not the client's
 * thread.
 */
void agent_client_free(struct agent_client *ac);

/**
 * agent_client_request() - Send @cmd with @args (ownership taken, may be NULL) to the
 * agent; @done gets the reply within @timeout_ms. Never blocks on the guest.
 * Return: 0 (@done will be called exactly once), or -ENOMEM (@done is not called).
 * Context: any thread but the client's.
 */
int agent_client_request(struct agent_client *ac, const char *cmd, struct json_object *args,
			 unsigned int timeout_ms, agent_done_fn done, void *arg);

/** agent_client_get_info() - A snapshot of the state. Context: any thread. */
void agent_client_get_info(struct agent_client *ac, struct agent_info *info);

/** agent_state_name() - "down", "connecting", "up". */
const char *agent_state_name(enum agent_state st);

/** agent_now_ns() - CLOCK_MONOTONIC in ns (the clock of agent_info's times). */
int64_t agent_now_ns(void);

#endif /* VIREO_AGENT_CLIENT_H */
