// SPDX-License-Identifier: MIT
/*
 * vireo-bench's vhost-user control plane: the frontend (QEMU) side of the
 * messages in vu.h, over vmm-core's framing (vu_msg_send() passes the fds).
 * Replies are read and checked here; nothing the backend sends is used unchecked.
 */
#include "vu.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vhost-user/msg.h"
#include "vhost-user/wire.h"
#include "virtio/blk_wire.h"
#include "virtio/virtio_wire.h"

#define BIT(n) (1ull << (n))

static int vu_fail(struct bench_vu *vu, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records which step failed; returns rc so callers can `return vu_fail(...)`. */
static int vu_fail(struct bench_vu *vu, int rc, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(vu->last_error, sizeof(vu->last_error), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(vu->last_error))
		snprintf(vu->last_error + n, sizeof(vu->last_error) - (size_t)n, ": %s",
			 rc == -EPROTO ? "malformed reply" : strerror(-rc));
	return rc;
}

static int vu_sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	return nanosleep(&ts, NULL);
}

int bench_vu_connect(struct bench_vu *vu, const char *path, int timeout_ms, int io_timeout_ms)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = {
		.tv_sec = io_timeout_ms / 1000,
		.tv_usec = (io_timeout_ms % 1000) * 1000,
	};
	int waited = 0, rc;

	memset(vu, 0, sizeof(*vu));
	vu->sock = -1;
	vu->max_queues = 1;
	if (strlen(path) >= sizeof(addr.sun_path))
		return vu_fail(vu, -ENAMETOOLONG, "socket path %s", path);
	strcpy(addr.sun_path, path);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return vu_fail(vu, -errno, "socket");
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
			vu->sock = fd;
			break;
		}
		rc = -errno;
		close(fd);
		/* Only "not there yet" is worth waiting for. */
		if (rc != -ENOENT && rc != -ECONNREFUSED)
			return vu_fail(vu, rc, "connect %s", path);
		if (waited >= timeout_ms)
			return vu_fail(vu, -ETIMEDOUT, "no backend at %s after %d ms (%s)", path,
				       timeout_ms, strerror(-rc));
		vu_sleep_ms(20);
		waited += 20;
	}
	if (setsockopt(vu->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(vu->sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		rc = -errno;
		bench_vu_close(vu);
		return vu_fail(vu, rc, "setsockopt");
	}
	return 0;
}

void bench_vu_close(struct bench_vu *vu)
{
	if (vu->sock >= 0)
		close(vu->sock);
	vu->sock = -1;
}

/* recv() of exactly len bytes: 0, -EPIPE when the backend hung up, -ETIMEDOUT, or -errno. */
static int vu_recv_all(int sock, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = recv(sock, (char *)buf + done, len - done, MSG_WAITALL);

		if (n == 0)
			return -EPIPE;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -ETIMEDOUT;
			return errno == ECONNRESET ? -EPIPE : -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

/*
 * Reads the reply to @request: header checks, then exactly @want payload bytes
 * into @reply. A reply of any other size is -EPROTO, except that *@got (when
 * non-NULL) accepts any size and reports it.
 */
static int vu_read_reply(struct bench_vu *vu, uint32_t request, void *reply, uint32_t want,
			 uint32_t *got)
{
	union vu_payload sink;
	struct vu_hdr hdr;
	int rc;

	rc = vu_recv_all(vu->sock, &hdr, sizeof(hdr));
	if (rc < 0)
		return rc;
	/* Without a sane version and size the stream cannot be followed further. */
	if ((hdr.flags & VU_VERSION_MASK) != VU_VERSION || hdr.size > sizeof(sink))
		return -EPROTO;
	if (hdr.size) {
		rc = vu_recv_all(vu->sock, &sink, hdr.size);
		if (rc < 0)
			return rc;
	}
	if (!(hdr.flags & VU_FLAG_REPLY) || hdr.request != request)
		return -EPROTO;
	if (got) {
		*got = hdr.size;
		memcpy(reply, &sink, hdr.size < want ? hdr.size : want);
		return 0;
	}
	if (hdr.size != want)
		return -EPROTO;
	memcpy(reply, &sink, want);
	return 0;
}

static int vu_send(struct bench_vu *vu, uint32_t request, uint32_t flags, const void *payload,
		   uint32_t size, const int *fds, unsigned int nfds)
{
	struct vu_hdr hdr = { .request = request, .flags = VU_VERSION | flags, .size = size };
	int rc = vu_msg_send(vu->sock, &hdr, payload, fds, nfds);

	if (rc == -EAGAIN)
		return -ETIMEDOUT;
	return rc == -ECONNRESET ? -EPIPE : rc;
}

static int vu_get_u64(struct bench_vu *vu, uint32_t request, uint64_t *value)
{
	int rc = vu_send(vu, request, 0, NULL, 0, NULL, 0);

	if (rc == 0)
		rc = vu_read_reply(vu, request, value, sizeof(*value), NULL);
	if (rc < 0)
		return vu_fail(vu, rc, "%s", vu_request_name(request));
	return 0;
}

/* A request the backend acts on; with REPLY_ACK, its answer is awaited. */
static int vu_set(struct bench_vu *vu, uint32_t request, const void *payload, uint32_t size,
		  const int *fds, unsigned int nfds)
{
	uint64_t ack = 0;
	int rc;

	rc = vu_send(vu, request, vu->reply_ack ? VU_FLAG_NEED_REPLY : 0, payload, size, fds, nfds);
	if (rc == 0 && vu->reply_ack) {
		rc = vu_read_reply(vu, request, &ack, sizeof(ack), NULL);
		if (rc == 0 && ack)
			rc = -EREMOTEIO;
	}
	if (rc < 0)
		return vu_fail(vu, rc, "%s", vu_request_name(request));
	return 0;
}

int bench_vu_negotiate(struct bench_vu *vu)
{
	uint64_t want_pf =
		BIT(VU_PROTOCOL_F_MQ) | BIT(VU_PROTOCOL_F_REPLY_ACK) | BIT(VU_PROTOCOL_F_CONFIG);
	uint64_t n;
	int rc;

	rc = vu_get_u64(vu, VU_REQ_GET_FEATURES, &vu->features);
	if (rc < 0)
		return rc;
	if (!(vu->features & BIT(VIRTIO_F_VERSION_1)))
		return vu_fail(vu, -ENOTSUP, "backend does not offer VIRTIO_F_VERSION_1");
	if (!(vu->features & BIT(VU_F_PROTOCOL_FEATURES)))
		return vu_fail(vu, -ENOTSUP, "backend does not offer protocol features");

	rc = vu_get_u64(vu, VU_REQ_GET_PROTOCOL_FEATURES, &vu->protocol_features);
	if (rc < 0)
		return rc;
	vu->protocol_acked = vu->protocol_features & want_pf;
	rc = vu_set(vu, VU_REQ_SET_PROTOCOL_FEATURES, &vu->protocol_acked,
		    sizeof(vu->protocol_acked), NULL, 0);
	if (rc < 0)
		return rc;
	vu->reply_ack = vu->protocol_acked & BIT(VU_PROTOCOL_F_REPLY_ACK);

	if (vu->protocol_acked & BIT(VU_PROTOCOL_F_MQ)) {
		rc = vu_get_u64(vu, VU_REQ_GET_QUEUE_NUM, &n);
		if (rc < 0)
			return rc;
		if (n == 0 || n > VU_VRING_IDX_MASK + 1u)
			return vu_fail(vu, -EPROTO, "GET_QUEUE_NUM answered %llu",
				       (unsigned long long)n);
		vu->max_queues = (unsigned int)n;
	}
	return vu_set(vu, VU_REQ_SET_OWNER, NULL, 0, NULL, 0);
}

int bench_vu_set_features(struct bench_vu *vu, uint64_t want)
{
	vu->acked = vu->features & (want | BIT(VU_F_PROTOCOL_FEATURES));
	return vu_set(vu, VU_REQ_SET_FEATURES, &vu->acked, sizeof(vu->acked), NULL, 0);
}

int bench_vu_get_config(struct bench_vu *vu, void *cfg, uint32_t size)
{
	const uint32_t head = offsetof(struct vu_config, payload);
	struct vu_config req = { .offset = 0, .size = size, .flags = 0 };
	struct vu_config reply;
	uint32_t got = 0;
	int rc;

	if (!(vu->protocol_acked & BIT(VU_PROTOCOL_F_CONFIG)))
		return vu_fail(vu, -ENOTSUP, "backend does not offer the CONFIG protocol feature");
	if (size > VU_CONFIG_MAX_SIZE)
		return vu_fail(vu, -EINVAL, "GET_CONFIG of %u bytes", size);
	rc = vu_send(vu, VU_REQ_GET_CONFIG, 0, &req, head + size, NULL, 0);
	if (rc == 0)
		rc = vu_read_reply(vu, VU_REQ_GET_CONFIG, &reply, sizeof(reply), &got);
	if (rc < 0)
		return vu_fail(vu, rc, "GET_CONFIG");
	/* libvhost-user answers a failed get_config with an empty payload. */
	if (got == 0)
		return vu_fail(vu, -EREMOTEIO, "GET_CONFIG");
	if (got != head + size || reply.offset != 0 || reply.size != size)
		return vu_fail(vu, -EPROTO, "GET_CONFIG (%u bytes back)", got);
	memcpy(cfg, reply.payload, size);
	return 0;
}

int bench_vu_set_config(struct bench_vu *vu, uint32_t offset, const void *data, uint32_t size)
{
	const uint32_t head = offsetof(struct vu_config, payload);
	struct vu_config req = { .offset = offset, .size = size, .flags = 0 };

	if (!(vu->protocol_acked & BIT(VU_PROTOCOL_F_CONFIG)))
		return vu_fail(vu, -ENOTSUP, "backend does not offer the CONFIG protocol feature");
	if (size > VU_CONFIG_MAX_SIZE)
		return vu_fail(vu, -EINVAL, "SET_CONFIG of %u bytes", size);
	memcpy(req.payload, data, size);
	return vu_set(vu, VU_REQ_SET_CONFIG, &req, head + size, NULL, 0);
}

int bench_vu_set_mem_table(struct bench_vu *vu, int fd, uint64_t gpa, uint64_t size, uint64_t uaddr)
{
	struct vu_mem_table mem = {
		.nregions = 1,
		.regions[0] = {
			.guest_phys_addr = gpa,
			.memory_size = size,
			.userspace_addr = uaddr,
			.mmap_offset = 0,
		},
	};

	return vu_set(vu, VU_REQ_SET_MEM_TABLE, &mem,
		      (uint32_t)(offsetof(struct vu_mem_table, regions) + sizeof(mem.regions[0])),
		      &fd, 1);
}

int bench_vu_start_queue(struct bench_vu *vu, const struct bench_vu_vring *q)
{
	struct vu_vring_state num = { q->index, q->size }, base = { q->index, 0 };
	struct vu_vring_state on = { q->index, 1 };
	struct vu_vring_addr addr = {
		.index = q->index,
		.desc_uaddr = q->desc,
		.used_uaddr = q->used,
		.avail_uaddr = q->avail,
	};
	uint64_t idx = q->index;
	int rc;

	rc = vu_set(vu, VU_REQ_SET_VRING_NUM, &num, sizeof(num), NULL, 0);
	if (rc == 0)
		rc = vu_set(vu, VU_REQ_SET_VRING_BASE, &base, sizeof(base), NULL, 0);
	if (rc == 0)
		rc = vu_set(vu, VU_REQ_SET_VRING_ADDR, &addr, sizeof(addr), NULL, 0);
	/* The call fd first: the backend may start serving as soon as it has the kick. */
	if (rc == 0)
		rc = vu_set(vu, VU_REQ_SET_VRING_CALL, &idx, sizeof(idx), &q->call, 1);
	if (rc == 0)
		rc = vu_set(vu, VU_REQ_SET_VRING_KICK, &idx, sizeof(idx), &q->kick, 1);
	if (rc == 0)
		rc = vu_set(vu, VU_REQ_SET_VRING_ENABLE, &on, sizeof(on), NULL, 0);
	return rc;
}

int bench_vu_stop_queue(struct bench_vu *vu, unsigned int index, uint16_t *base)
{
	struct vu_vring_state st = { index, 0 }, reply;
	int rc;

	rc = vu_send(vu, VU_REQ_GET_VRING_BASE, 0, &st, sizeof(st), NULL, 0);
	if (rc == 0)
		rc = vu_read_reply(vu, VU_REQ_GET_VRING_BASE, &reply, sizeof(reply), NULL);
	if (rc == 0 && (reply.index != index || reply.num > UINT16_MAX))
		rc = -EPROTO;
	if (rc < 0)
		return vu_fail(vu, rc, "GET_VRING_BASE %u", index);
	*base = (uint16_t)reply.num;
	return 0;
}
