// SPDX-License-Identifier: MIT
/*
 * The test frontend: QEMU's half of vhost-user, just enough of it to drive a backend
 * from unit tests and the protocol-abuse tests.
 */
#include "vu_frontend.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vhost-user/msg.h"

int vu_fe_connect(struct vu_fe *fe, const char *path, int timeout_ms)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int waited = 0;

	memset(fe, 0, sizeof(*fe));
	fe->sock = -1;
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
			fe->sock = fd;
			return 0;
		}
		close(fd);
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		usleep(10000);
		waited += 10;
	}
}

void vu_fe_close(struct vu_fe *fe)
{
	if (fe->sock >= 0)
		close(fe->sock);
	fe->sock = -1;
}

/* Reads one reply to @request; returns its payload size or a negative errno. */
static int vu_fe_read_reply(struct vu_fe *fe, uint32_t request, void *reply, size_t cap)
{
	struct vu_hdr hdr;
	uint8_t sink[sizeof(union vu_payload)];
	ssize_t n;

	n = recv(fe->sock, &hdr, sizeof(hdr), MSG_WAITALL);
	if (n != (ssize_t)sizeof(hdr))
		return n < 0 ? -errno : -EPIPE;
	if (hdr.request != request || !(hdr.flags & VU_FLAG_REPLY) ||
	    hdr.size > sizeof(union vu_payload))
		return -EPROTO;
	if (hdr.size) {
		n = recv(fe->sock, sink, hdr.size, MSG_WAITALL);
		if (n != (ssize_t)hdr.size)
			return n < 0 ? -errno : -EPIPE;
		memcpy(reply, sink, hdr.size < cap ? hdr.size : cap);
	}
	return (int)hdr.size;
}

int vu_fe_call(struct vu_fe *fe, uint32_t request, const void *payload, uint32_t size, void *reply,
	       size_t reply_cap)
{
	struct vu_hdr hdr = { .request = request, .flags = VU_VERSION, .size = size };
	int rc = vu_msg_send(fe->sock, &hdr, payload, NULL, 0);

	if (rc < 0)
		return rc;
	return vu_fe_read_reply(fe, request, reply, reply_cap);
}

int vu_fe_get_u64(struct vu_fe *fe, uint32_t request, uint64_t *value)
{
	int rc = vu_fe_call(fe, request, NULL, 0, value, sizeof(*value));

	if (rc < 0)
		return rc;
	return rc == sizeof(*value) ? 0 : -EPROTO;
}

int vu_fe_set(struct vu_fe *fe, uint32_t request, const void *payload, uint32_t size,
	      const int *fds, unsigned int nfds)
{
	struct vu_hdr hdr = { .request = request, .flags = VU_VERSION, .size = size };
	uint64_t ack = 0;
	int rc;

	if (fe->reply_ack)
		hdr.flags |= VU_FLAG_NEED_REPLY;
	rc = vu_msg_send(fe->sock, &hdr, payload, fds, nfds);
	if (rc < 0 || !fe->reply_ack)
		return rc;
	rc = vu_fe_read_reply(fe, request, &ack, sizeof(ack));
	if (rc < 0)
		return rc;
	if (rc != sizeof(ack))
		return -EPROTO;
	return ack ? -EREMOTEIO : 0;
}

int vu_fe_negotiate(struct vu_fe *fe, uint64_t want)
{
	uint64_t features, pf;
	int rc;

	rc = vu_fe_get_u64(fe, VU_REQ_GET_FEATURES, &fe->features);
	if (rc < 0)
		return rc;
	/* This frontend lays out split rings only (as QEMU with packed=off): never ack 34. */
	features = fe->features & want & ~(1ull << 34);
	rc = vu_fe_set(fe, VU_REQ_SET_FEATURES, &features, sizeof(features), NULL, 0);
	if (rc < 0 || !(features & (1ull << VU_F_PROTOCOL_FEATURES)))
		return rc;
	rc = vu_fe_get_u64(fe, VU_REQ_GET_PROTOCOL_FEATURES, &fe->protocol_features);
	if (rc < 0)
		return rc;
	pf = fe->protocol_features &
	     ((1ull << VU_PROTOCOL_F_MQ) | (1ull << VU_PROTOCOL_F_REPLY_ACK) |
	      (1ull << VU_PROTOCOL_F_CONFIG) | (1ull << VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS));
	rc = vu_fe_set(fe, VU_REQ_SET_PROTOCOL_FEATURES, &pf, sizeof(pf), NULL, 0);
	if (rc < 0)
		return rc;
	fe->reply_ack = pf & (1ull << VU_PROTOCOL_F_REPLY_ACK);
	return vu_fe_set(fe, VU_REQ_SET_OWNER, NULL, 0, NULL, 0);
}

int vu_fe_set_mem_table(struct vu_fe *fe, struct mock_guest *g)
{
	struct vu_mem_table mem = { .nregions = g->mem.nregions };
	int fds[VU_MEM_TABLE_MAX_REGIONS];

	for (unsigned int i = 0; i < g->mem.nregions; i++) {
		const struct vireo_mem_region *r = &g->mem.regions[i];

		mem.regions[i] = (struct vu_mem_region){
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = r->uaddr,
			.mmap_offset = r->mmap_offset,
		};
		fds[i] = g->fd;
	}
	return vu_fe_set(fe, VU_REQ_SET_MEM_TABLE, &mem,
			 (uint32_t)(offsetof(struct vu_mem_table, regions) +
				    mem.nregions * sizeof(struct vu_mem_region)),
			 fds, mem.nregions);
}

static uint64_t vu_fe_uva(struct mock_guest *g, uint64_t gpa)
{
	return MOCK_UVA_BASE + (gpa - g->gpa);
}

int vu_fe_start_queue(struct vu_fe *fe, struct mock_guest *g, unsigned int index, int *kick,
		      int *call)
{
	struct vu_vring_state num = { index, g->qsize }, base = { index, 0 }, on = { index, 1 };
	struct vu_vring_addr addr = {
		.index = index,
		.desc_uaddr = vu_fe_uva(g, g->desc_gpa),
		.used_uaddr = vu_fe_uva(g, g->used_gpa),
		.avail_uaddr = vu_fe_uva(g, g->avail_gpa),
	};
	uint64_t idx = index;
	int rc;

	*kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	*call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (*kick < 0 || *call < 0)
		return -errno;
	rc = vu_fe_set(fe, VU_REQ_SET_VRING_NUM, &num, sizeof(num), NULL, 0);
	if (rc == 0)
		rc = vu_fe_set(fe, VU_REQ_SET_VRING_BASE, &base, sizeof(base), NULL, 0);
	if (rc == 0)
		rc = vu_fe_set(fe, VU_REQ_SET_VRING_ADDR, &addr, sizeof(addr), NULL, 0);
	if (rc == 0)
		rc = vu_fe_set(fe, VU_REQ_SET_VRING_CALL, &idx, sizeof(idx), call, 1);
	if (rc == 0)
		rc = vu_fe_set(fe, VU_REQ_SET_VRING_KICK, &idx, sizeof(idx), kick, 1);
	if (rc == 0 && (fe->features & (1ull << VU_F_PROTOCOL_FEATURES)))
		rc = vu_fe_set(fe, VU_REQ_SET_VRING_ENABLE, &on, sizeof(on), NULL, 0);
	return rc;
}

void vu_fe_kick(int kick)
{
	uint64_t one = 1;

	(void)!write(kick, &one, sizeof(one));
}

int vu_fe_wait_call(int call, int timeout_ms)
{
	struct pollfd p = { .fd = call, .events = POLLIN };
	uint64_t v;

	if (poll(&p, 1, timeout_ms) <= 0)
		return 0;
	(void)!read(call, &v, sizeof(v));
	return 1;
}
