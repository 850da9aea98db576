// SPDX-License-Identifier: GPL-2.0
/*
 * vireo_ptp's channel to vireod's time service: a kernel-side AF_VSOCK stream socket
 * to the host (CID 2), one 16-byte request and one 32-byte response per reading.
 *
 * The host is not trusted to be quick or sane: every send, receive and connect is
 * bounded by timeout_ms, exchanges are serialized by the channel's mutex (waiting for
 * it is interruptible), and any failure (timeout, short read, wrong magic, status or
 * sequence number) drops the connection, so that a late answer can never be taken
 * for the next one. The next reading connects again, but not before a short backoff,
 * so that a host that refuses does not turn every clock read into a connect attempt.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/time64.h>
#include <linux/uio.h>
#include <linux/vm_sockets.h>
#include <net/sock.h>

#include "vireo_ptp.h"

#define VIREO_PTP_BACKOFF (HZ / 5)
/* 2001-09-09: a host clock before this is a bug or an attack. */
#define VIREO_PTP_MIN_SANE_NS (1000000000LL * NSEC_PER_SEC)

void vireo_ptp_chan_init(struct vireo_ptp_chan *ch, u32 cid, u32 port, unsigned int timeout_ms)
{
	mutex_init(&ch->lock);
	ch->sock = NULL;
	ch->cid = cid;
	ch->port = port;
	ch->timeout_ms = timeout_ms;
	ch->retry_at = jiffies;
}

static void vireo_ptp_chan_drop(struct vireo_ptp_chan *ch)
{
	if (ch->sock) {
		kernel_sock_shutdown(ch->sock, SHUT_RDWR);
		sock_release(ch->sock);
		ch->sock = NULL;
	}
	ch->retry_at = jiffies + VIREO_PTP_BACKOFF;
}

void vireo_ptp_chan_close(struct vireo_ptp_chan *ch)
{
	mutex_lock(&ch->lock);
	vireo_ptp_chan_drop(ch);
	mutex_unlock(&ch->lock);
}

static int vireo_ptp_chan_connect(struct vireo_ptp_chan *ch)
{
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_cid = ch->cid,
		.svm_port = ch->port,
	};
	struct __kernel_sock_timeval tv = {
		.tv_sec = ch->timeout_ms / 1000,
		.tv_usec = (ch->timeout_ms % 1000) * 1000,
	};
	struct socket *sock;
	int rc;

	rc = sock_create_kern(&init_net, AF_VSOCK, SOCK_STREAM, 0, &sock);
	if (rc)
		return rc;
	sock->sk->sk_rcvtimeo = msecs_to_jiffies(ch->timeout_ms);
	sock->sk->sk_sndtimeo = msecs_to_jiffies(ch->timeout_ms);
	/* vsock's own connect timeout is 2 s: bound it like the rest. */
	rc = sock->ops->setsockopt(sock, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW,
				   KERNEL_SOCKPTR(&tv), sizeof(tv));
	if (!rc)
		rc = kernel_connect(sock, (struct sockaddr *)&addr, sizeof(addr), 0);
	if (rc) {
		sock_release(sock);
		return rc;
	}
	ch->sock = sock;
	return 0;
}

static int vireo_ptp_chan_send(struct vireo_ptp_chan *ch, void *buf, size_t len)
{
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	int n = kernel_sendmsg(ch->sock, &msg, &kv, 1, len);

	if (n == -EAGAIN)
		return -ETIMEDOUT;
	if (n >= 0 && n != len)
		return -EIO;
	return n < 0 ? n : 0;
}

static int vireo_ptp_chan_recv(struct vireo_ptp_chan *ch, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct msghdr msg = {};
		struct kvec kv = { .iov_base = buf + got, .iov_len = len - got };
		int n = kernel_recvmsg(ch->sock, &msg, &kv, 1, len - got, 0);

		if (n == -EAGAIN)
			return -ETIMEDOUT;
		if (n < 0)
			return n;
		if (n == 0)
			return -ECONNRESET;
		got += n;
	}
	return 0;
}

/**
 * vireo_ptp_chan_exchange() - Read the host's clock.
 * @ch: the channel
 * @host: the host's CLOCK_REALTIME, as the host read it during the exchange
 * @sts: the guest's clock just before the request and just after the response
 *       (may be NULL)
 *
 * Context: process context; sleeps for at most about 3 x timeout_ms.
 * Return: 0, -EINTR (a signal while waiting for the channel), -EAGAIN (in the backoff
 * after a failure), or the failure (-ETIMEDOUT, -ECONNRESET, -EPROTO, a connect error).
 */
int vireo_ptp_chan_exchange(struct vireo_ptp_chan *ch, struct timespec64 *host,
			    struct ptp_system_timestamp *sts)
{
	struct vireo_time_req req;
	struct vireo_time_rsp rsp;
	s64 ns;
	int rc;

	if (mutex_lock_interruptible(&ch->lock))
		return -EINTR;
	if (!ch->sock) {
		if (time_before(jiffies, ch->retry_at)) {
			rc = -EAGAIN;
			goto out_unlock;
		}
		rc = vireo_ptp_chan_connect(ch);
		if (rc) {
			pr_warn_ratelimited("cannot reach the time service (cid %u port %u): %d\n",
					    ch->cid, ch->port, rc);
			goto out_fail;
		}
	}
	req.magic = cpu_to_le32(VIREO_TIME_REQ_MAGIC);
	req.flags = 0;
	req.seq = cpu_to_le64(++ch->seq);

	ptp_read_system_prets(sts);
	rc = vireo_ptp_chan_send(ch, &req, sizeof(req));
	if (!rc)
		rc = vireo_ptp_chan_recv(ch, &rsp, sizeof(rsp));
	ptp_read_system_postts(sts);
	if (rc) {
		pr_warn_ratelimited("exchange with the host failed: %d\n", rc);
		goto out_fail;
	}
	ns = (s64)le64_to_cpu(rsp.realtime_ns);
	if (le32_to_cpu(rsp.magic) != VIREO_TIME_RSP_MAGIC || rsp.status ||
	    le64_to_cpu(rsp.seq) != ch->seq || ns < VIREO_PTP_MIN_SANE_NS) {
		pr_warn_ratelimited(
			"bad answer from the host (magic %#x status %u seq %llu/%llu)\n",
			le32_to_cpu(rsp.magic), le32_to_cpu(rsp.status), le64_to_cpu(rsp.seq),
			ch->seq);
		rc = -EPROTO;
		goto out_fail;
	}
	*host = ns_to_timespec64(ns);
	ch->exchanges++;
	goto out_unlock;

out_fail:
	ch->failures++;
	vireo_ptp_chan_drop(ch);
out_unlock:
	mutex_unlock(&ch->lock);
	return rc;
}
