/* SPDX-License-Identifier: MIT */
/**
 * @file
 * vireo-bench's vhost-user frontend control plane (audience: tests/bench only).
 *
 * Owns the socket to the backend and QEMU's side of the messages a benchmark
 * needs: feature and protocol-feature negotiation, GET_QUEUE_NUM, GET_CONFIG,
 * SET_MEM_TABLE, starting a queue and stopping it with GET_VRING_BASE. Every
 * reply is checked (request code, REPLY flag, version, exact size), every set is
 * acked when REPLY_ACK is negotiated, and the socket has send and receive
 * timeouts, so a silent backend turns into -ETIMEDOUT, not a hang.
 *
 * Guest memory and rings are the caller's; this only passes their addresses.
 * Threading: the main thread only. tests/lib/vu_frontend.c is the unit tests'
 * frontend, tied to struct mock_guest and one queue; this one drives many queues
 * over real memory and reports which message failed.
 */
#ifndef VIREO_BENCH_VU_H
#define VIREO_BENCH_VU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The connection. Fields are read-only outside vu.c. */
struct bench_vu {
	int sock;		    /**< connected socket, -1 when closed */
	uint64_t features;	    /**< what the backend offered */
	uint64_t acked;		    /**< what SET_FEATURES acked */
	uint64_t protocol_features; /**< what the backend offered */
	uint64_t protocol_acked;    /**< what SET_PROTOCOL_FEATURES acked */
	bool reply_ack;		    /**< REPLY_ACK in force: every set is acked */
	unsigned int max_queues;    /**< GET_QUEUE_NUM, or 1 without MQ */
	char last_error[160];	    /**< which step failed and why, for the user */
};

/**
 * bench_vu_connect() - Connect to the backend's socket at @path, retrying until
 * it appears or @timeout_ms runs out; set @io_timeout_ms on sends and receives.
 * @return 0, -ENAMETOOLONG, -ETIMEDOUT or the connect errno.
 */
int bench_vu_connect(struct bench_vu *vu, const char *path, int timeout_ms, int io_timeout_ms);

/** bench_vu_close() - Close the socket (the backend sees the frontend leave). */
void bench_vu_close(struct bench_vu *vu);

/**
 * bench_vu_negotiate() - GET_FEATURES, GET/SET_PROTOCOL_FEATURES (MQ, REPLY_ACK,
 * CONFIG when offered), GET_QUEUE_NUM, SET_OWNER, in QEMU's order. Features are
 * acked later by bench_vu_set_features().
 * @return 0, -ENOTSUP when the backend lacks VERSION_1 or protocol features,
 * -EPROTO for a malformed reply, or a socket errno.
 */
int bench_vu_negotiate(struct bench_vu *vu);

/**
 * bench_vu_set_features() - SET_FEATURES with the offered subset of @want, plus
 * VHOST_USER_F_PROTOCOL_FEATURES.
 * @return 0, -EREMOTEIO when the backend nacks, or another negative errno.
 */
int bench_vu_set_features(struct bench_vu *vu, uint64_t want);

/**
 * bench_vu_get_config() - GET_CONFIG of @size bytes from offset 0 into @cfg.
 * @return 0, -ENOTSUP without the CONFIG protocol feature, -EREMOTEIO when the
 * backend answers with an empty payload (its error), -EPROTO for a bad size.
 */
int bench_vu_get_config(struct bench_vu *vu, void *cfg, uint32_t size);

/**
 * bench_vu_set_config() - SET_CONFIG of @size bytes at @offset (frontend-initiated).
 * @return 0, -ENOTSUP without the CONFIG protocol feature, -EREMOTEIO on a nack.
 */
int bench_vu_set_config(struct bench_vu *vu, uint32_t offset, const void *data, uint32_t size);

/**
 * bench_vu_set_mem_table() - Share one region: @size bytes of the memfd @fd from
 * offset 0, mapped at @uaddr in this process and at guest-physical @gpa.
 * @return 0 or a negative errno.
 */
int bench_vu_set_mem_table(struct bench_vu *vu, int fd, uint64_t gpa, uint64_t size,
			   uint64_t uaddr);

/** Where one queue's rings are, as this process's addresses. */
struct bench_vu_vring {
	unsigned int index; /**< queue number */
	unsigned int size;  /**< entries */
	uint64_t desc;	    /**< descriptor table uaddr */
	uint64_t avail;	    /**< available ring uaddr */
	uint64_t used;	    /**< used ring uaddr */
	int kick;	    /**< eventfd we write to notify the backend */
	int call;	    /**< eventfd the backend writes to notify us */
};

/**
 * bench_vu_start_queue() - SET_VRING_NUM, BASE (0), ADDR, CALL, KICK, then
 * SET_VRING_ENABLE 1.
 * @return 0 or a negative errno (last_error names the step).
 */
int bench_vu_start_queue(struct bench_vu *vu, const struct bench_vu_vring *q);

/**
 * bench_vu_stop_queue() - GET_VRING_BASE: the backend stops queue @index and says
 * where it stopped.
 * @param base the backend's next available index.
 * @return 0 or a negative errno.
 */
int bench_vu_stop_queue(struct bench_vu *vu, unsigned int index, uint16_t *base);

#endif /* VIREO_BENCH_VU_H */
