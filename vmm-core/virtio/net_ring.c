// SPDX-License-Identifier: MIT
/*
 * virtio-net queue plumbing shared by transmit and receive: popping a chain into a
 * slot (a violation breaks the queue), giving the last chains popped back, pushing
 * used entries and signalling once per batch, and the iovec helpers the header and
 * frame travel through. Not the meaning of a chain (net_tx.c, net_rx.c).
 */
#include "virtio/net_internal.h"

#include <errno.h>
#include <string.h>

#include "vhost-user/dev.h"

/* ---- iovec helpers ---- */

void net_iov_write(const struct iovec *iov, unsigned int n, const void *src, size_t len)
{
	const uint8_t *in = src;

	for (unsigned int i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(iov[i].iov_base, in, l);
		in += l;
		len -= l;
	}
}

/* Appends bytes [skip, end) of an iovec list to @dst at *k; false if @cap ran out. */
bool net_iov_tail(const struct iovec *iov, unsigned int n, size_t skip, struct iovec *dst,
		  unsigned int *k, unsigned int cap)
{
	for (unsigned int i = 0; i < n; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		if (*k >= cap)
			return false;
		dst[*k].iov_base = (uint8_t *)iov[i].iov_base + skip;
		dst[*k].iov_len = l - skip;
		(*k)++;
		skip = 0;
	}
	return true;
}

/* Gives back the last @n chains popped (none pushed): the next pops take them again. */
void net_unpop(struct net_queue *nq, unsigned int n)
{
	/* Only chains this worker popped and has not pushed, so unpop cannot refuse them. */
	if (n && vireo_vq_unpop(vu_queue_vq(nq->q), n) < 0)
		nq->broken = true;
}

int net_pop(struct net_queue *nq, struct net_slot *s)
{
	enum vireo_vq_err why;
	int rc;

	vireo_vq_chain_init(&s->chain, s->chain_iov, NET_CHAIN_IOV);
	rc = vireo_vq_pop(vu_queue_vq(nq->q), &s->chain, &why);
	if (rc < 0) {
		if (rc == -EPROTO)
			vu_queue_broken(nq->q, vireo_vq_err_str(why));
		nq->broken = true;
	}
	return rc;
}

void net_push(struct net_queue *nq, uint16_t head, uint32_t len)
{
	/* The head came from pop on this queue, so push cannot refuse it. */
	vireo_vq_push(vu_queue_vq(nq->q), head, len, NULL);
	nq->pushed = true;
}

void net_signal(struct net_queue *nq)
{
	if (nq->pushed) {
		nq->pushed = false;
		vu_queue_signal(nq->q);
	}
}
