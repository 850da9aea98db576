/* SPDX-License-Identifier: MIT */
/**
 * @file
 * A small vhost-user frontend for tests (audience: tests only): it plays QEMU's
 * part over a real socket, sharing a struct mock_guest's memfd as guest RAM, so a
 * backend can be driven message by message, well-formed or not.
 *
 * Helpers return negative errnos; they abort only on test bugs.
 */
#ifndef VIREO_TESTS_VU_FRONTEND_H
#define VIREO_TESTS_VU_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mock_guest.h"
#include "vhost-user/wire.h"

struct vu_fe {
	int sock;		    /**< connected socket, -1 when closed */
	uint64_t features;	    /**< what the backend offered */
	uint64_t protocol_features; /**< what the backend offered */
	bool reply_ack;		    /**< REPLY_ACK negotiated: every set gets an ack */
};

/**
 * vu_fe_connect() - Connect to @path, waiting up to @timeout_ms for it to appear.
 * @return 0 or a negative errno.
 */
int vu_fe_connect(struct vu_fe *fe, const char *path, int timeout_ms);

/** vu_fe_close() - Close the connection (the backend sees a disconnect). */
void vu_fe_close(struct vu_fe *fe);

/**
 * vu_fe_get_u64() - Send a payload-less GET_* request and read its u64 reply.
 * @return 0 with *@value set, or a negative errno (-EPROTO for a bad reply).
 */
int vu_fe_get_u64(struct vu_fe *fe, uint32_t request, uint64_t *value);

/**
 * vu_fe_set() - Send a request with a payload and fds; with REPLY_ACK negotiated,
 * wait for the ack.
 * @return 0, -EREMOTEIO if the backend acked a failure, or a negative errno.
 */
int vu_fe_set(struct vu_fe *fe, uint32_t request, const void *payload, uint32_t size,
	      const int *fds, unsigned int nfds);

/**
 * vu_fe_call() - Send any request and read the reply into @reply (up to @reply_cap
 * bytes).
 * @return the reply's payload size, or a negative errno.
 */
int vu_fe_call(struct vu_fe *fe, uint32_t request, const void *payload, uint32_t size, void *reply,
	       size_t reply_cap);

/**
 * vu_fe_negotiate() - GET_FEATURES, SET_FEATURES (all offered of @want), protocol
 * features (MQ, REPLY_ACK, CONFIG if offered), SET_OWNER.
 * @return 0 or a negative errno.
 */
int vu_fe_negotiate(struct vu_fe *fe, uint64_t want);

/**
 * vu_fe_set_mem_table() - Share @g's RAM as its one or two regions.
 * @return 0 or a negative errno.
 */
int vu_fe_set_mem_table(struct vu_fe *fe, struct mock_guest *g);

/**
 * vu_fe_start_queue() - SET_VRING_NUM/BASE/ADDR/KICK/CALL and ENABLE for queue
 * @index over the ring laid out in @g (mock_queue_init() first). Makes the kick
 * and call eventfds.
 * @return 0 or a negative errno; *@kick and *@call are the test's to close.
 */
int vu_fe_start_queue(struct vu_fe *fe, struct mock_guest *g, unsigned int index, int *kick,
		      int *call);

/** vu_fe_kick() - Write 1 to a kick eventfd. */
void vu_fe_kick(int kick);

/**
 * vu_fe_wait_call() - Wait up to @timeout_ms for the call eventfd.
 * @return 1 if signalled, 0 on timeout.
 */
int vu_fe_wait_call(int call, int timeout_ms);

#endif /* VIREO_TESTS_VU_FRONTEND_H */
