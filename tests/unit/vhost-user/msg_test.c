// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/vhost-user/msg.c: a frontend end of a socketpair writes
 * messages (good, malformed, split, fd-laden) and the backend end must accept or
 * refuse each with its named reason, never leaking an fd.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vhost-user/msg.h"

struct pair {
	int frontend;
	int backend;
};

static int setup_pair(void **state)
{
	static struct pair p;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	p.frontend = sv[0];
	p.backend = sv[1];
	*state = &p;
	return 0;
}

static int teardown_pair(void **state)
{
	struct pair *p = *state;

	if (p->frontend >= 0)
		close(p->frontend);
	close(p->backend);
	return 0;
}

static int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static int new_memfd(void)
{
	int fd = memfd_create("vu-test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static void send_req(struct pair *p, uint32_t req, uint32_t flags, const void *payload,
		     uint32_t size, const int *fds, unsigned int nfds)
{
	struct vu_hdr hdr = { .request = req, .flags = flags, .size = size };

	assert_int_equal(vu_msg_send(p->frontend, &hdr, payload, fds, nfds), 0);
}

/* Receives and checks one message; returns the reason of the first refusal. */
static enum vu_msg_err recv_and_check(struct pair *p, struct vu_msg *msg)
{
	enum vu_msg_err why;

	if (vu_msg_recv(p->backend, msg, &why) < 0)
		return why;
	if (vu_msg_check(msg, &why) < 0)
		vu_msg_close_fds(msg);
	return why;
}

static void test_get_features_and_reply(void **state)
{
	struct pair *p = *state;
	struct vu_msg msg, reply;
	enum vu_msg_err why;
	uint64_t features = 1ull << VU_F_PROTOCOL_FEATURES;

	send_req(p, VU_REQ_GET_FEATURES, VU_VERSION, NULL, 0, NULL, 0);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_OK);
	assert_int_equal(msg.hdr.request, VU_REQ_GET_FEATURES);
	assert_string_equal(vu_request_name(msg.hdr.request), "GET_FEATURES");

	assert_int_equal(vu_msg_send_reply(p->backend, &msg, &features, sizeof(features)), 0);
	/* The reply carries the REPLY flag, which vu_msg_recv refuses on requests. */
	assert_int_equal(vu_msg_recv(p->frontend, &reply, &why), -EPROTO);
	assert_int_equal(why, VU_MSG_ERR_REPLY_FLAG);
}

static void test_reply_payload_bytes(void **state)
{
	struct pair *p = *state;
	struct vu_msg msg;
	struct vu_hdr hdr;
	uint64_t got, features = 0x1234567890abcdefull;

	send_req(p, VU_REQ_GET_PROTOCOL_FEATURES, VU_VERSION, NULL, 0, NULL, 0);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_OK);
	assert_int_equal(vu_msg_send_reply(p->backend, &msg, &features, sizeof(features)), 0);
	assert_int_equal(read(p->frontend, &hdr, sizeof(hdr)), sizeof(hdr));
	assert_int_equal(hdr.request, VU_REQ_GET_PROTOCOL_FEATURES);
	assert_int_equal(hdr.flags, VU_VERSION | VU_FLAG_REPLY);
	assert_int_equal(hdr.size, 8);
	assert_int_equal(read(p->frontend, &got, sizeof(got)), sizeof(got));
	assert_true(got == features);
}

static void test_mem_table_with_fds(void **state)
{
	struct pair *p = *state;
	struct vu_mem_table mem = { .nregions = 2 };
	int fds[2] = { new_memfd(), new_memfd() };
	struct vu_msg msg;
	int before = count_open_fds();
	int fd;

	mem.regions[0] = (struct vu_mem_region){ 0, 4096, 0x7f0000000000, 0 };
	mem.regions[1] = (struct vu_mem_region){ 0x100000, 4096, 0x7f0000100000, 0 };
	send_req(p, VU_REQ_SET_MEM_TABLE, VU_VERSION, &mem,
		 offsetof(struct vu_mem_table, regions) + 2 * sizeof(struct vu_mem_region), fds, 2);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_OK);
	assert_int_equal(msg.nfds, 2);
	assert_int_equal(msg.payload.mem.regions[1].guest_phys_addr, 0x100000);
	assert_int_equal(count_open_fds(), before + 2);

	fd = vu_msg_take_fd(&msg, 0);
	assert_true(fd >= 0);
	assert_int_equal(vu_msg_take_fd(&msg, 0), -1);
	assert_int_equal(vu_msg_take_fd(&msg, 7), -1);
	vu_msg_close_fds(&msg);
	assert_int_equal(count_open_fds(), before + 1);
	close(fd);
	close(fds[0]);
	close(fds[1]);
}

static void test_mem_table_region_counts(void **state)
{
	struct pair *p = *state;
	struct vu_mem_table mem = { .nregions = 0 };
	int fd = new_memfd();
	struct vu_msg msg;

	send_req(p, VU_REQ_SET_MEM_TABLE, VU_VERSION, &mem, 8, NULL, 0);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_NREGIONS);

	mem.nregions = 9;
	send_req(p, VU_REQ_SET_MEM_TABLE, VU_VERSION, &mem, sizeof(mem), NULL, 0);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_NREGIONS);

	/* One region announced, two described. */
	mem.nregions = 1;
	send_req(p, VU_REQ_SET_MEM_TABLE, VU_VERSION, &mem, 8 + 2 * 32, &fd, 1);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_SIZE);

	/* One region but no fd for it. */
	send_req(p, VU_REQ_SET_MEM_TABLE, VU_VERSION, &mem, 8 + 32, NULL, 0);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_FDS);
	close(fd);
}

static void test_vring_kick_fd_rules(void **state)
{
	struct pair *p = *state;
	uint64_t idx = 1;
	int fd = new_memfd();
	struct vu_msg msg;

	send_req(p, VU_REQ_SET_VRING_KICK, VU_VERSION, &idx, 8, &fd, 1);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_OK);
	vu_msg_close_fds(&msg);

	send_req(p, VU_REQ_SET_VRING_KICK, VU_VERSION, &idx, 8, NULL, 0);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_FDS);

	idx = 1 | VU_VRING_NOFD;
	send_req(p, VU_REQ_SET_VRING_CALL, VU_VERSION, &idx, 8, NULL, 0);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_OK);

	send_req(p, VU_REQ_SET_VRING_CALL, VU_VERSION, &idx, 8, &fd, 1);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_FDS);
	close(fd);
}

static void test_fd_where_none_allowed_is_closed(void **state)
{
	struct pair *p = *state;
	int fd = new_memfd();
	int before = count_open_fds();
	struct vu_msg msg;

	send_req(p, VU_REQ_GET_FEATURES, VU_VERSION, NULL, 0, &fd, 1);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_FDS);
	assert_int_equal(count_open_fds(), before);
	close(fd);
}

static void test_too_many_fds_truncated(void **state)
{
	struct pair *p = *state;
	int fds[VU_MAX_FDS + 4];
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} control;
	struct vu_hdr hdr = { .request = VU_REQ_GET_FEATURES, .flags = VU_VERSION };
	struct iovec iov = { .iov_base = &hdr, .iov_len = sizeof(hdr) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	struct vu_msg msg;
	int before;

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		fds[i] = new_memfd();
	before = count_open_fds();
	memset(&control, 0, sizeof(control));
	mh.msg_control = control.buf;
	mh.msg_controllen = sizeof(control.buf);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	assert_int_equal(sendmsg(p->frontend, &mh, 0), sizeof(hdr));

	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_CTRUNC);
	assert_int_equal(count_open_fds(), before);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		close(fds[i]);
}

static void test_bad_header_flags(void **state)
{
	struct pair *p = *state;
	struct vu_msg msg;

	send_req(p, VU_REQ_GET_FEATURES, 0x2, NULL, 0, NULL, 0);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_VERSION);
}

static void test_oversized_payload(void **state)
{
	struct pair *p = *state;
	struct vu_hdr hdr = { .request = VU_REQ_SET_FEATURES,
			      .flags = VU_VERSION,
			      .size = 0xffffff00u };
	struct vu_msg msg;

	assert_int_equal(write(p->frontend, &hdr, sizeof(hdr)), sizeof(hdr));
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_TOO_BIG);
}

static void test_short_payload_and_eof(void **state)
{
	struct pair *p = *state;
	struct vu_hdr hdr = { .request = VU_REQ_SET_FEATURES, .flags = VU_VERSION, .size = 8 };
	struct vu_msg msg;
	enum vu_msg_err why;

	assert_int_equal(write(p->frontend, &hdr, sizeof(hdr)), sizeof(hdr));
	assert_int_equal(write(p->frontend, "abc", 3), 3);
	close(p->frontend);
	p->frontend = -1;
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_SHORT_PAYLOAD);
	assert_int_equal(vu_msg_recv(p->backend, &msg, &why), -EPIPE);
	assert_int_equal(why, VU_MSG_ERR_EOF);
}

static void test_short_header(void **state)
{
	struct pair *p = *state;
	struct vu_msg msg;

	assert_int_equal(write(p->frontend, "\x01\x00\x00\x00\x01", 5), 5);
	close(p->frontend);
	p->frontend = -1;
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_SHORT_HEADER);
}

static void test_header_split_across_writes(void **state)
{
	struct pair *p = *state;
	struct vu_hdr hdr = { .request = VU_REQ_SET_FEATURES, .flags = VU_VERSION, .size = 8 };
	uint64_t features = 42;
	struct vu_msg msg;

	assert_int_equal(write(p->frontend, &hdr, 5), 5);
	assert_int_equal(write(p->frontend, (char *)&hdr + 5, sizeof(hdr) - 5), sizeof(hdr) - 5);
	assert_int_equal(write(p->frontend, &features, sizeof(features)), sizeof(features));
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_OK);
	assert_true(msg.payload.u64 == 42);
}

static void test_unknown_request(void **state)
{
	struct pair *p = *state;
	struct vu_msg msg;

	send_req(p, VU_REQ_CREATE_CRYPTO_SESSION, VU_VERSION, NULL, 0, NULL, 0);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_UNKNOWN);
	assert_string_equal(vu_request_name(VU_REQ_CREATE_CRYPTO_SESSION), "UNKNOWN");
	send_req(p, 9999, VU_VERSION, NULL, 0, NULL, 0);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_UNKNOWN);
	assert_string_equal(vu_request_name(9999), "UNKNOWN");
}

static void test_wrong_sizes(void **state)
{
	struct pair *p = *state;
	uint8_t junk[64] = { 0 };
	struct vu_msg msg;

	send_req(p, VU_REQ_SET_FEATURES, VU_VERSION, junk, 4, NULL, 0);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_SIZE);
	send_req(p, VU_REQ_SET_VRING_ADDR, VU_VERSION, junk, 32, NULL, 0);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_SIZE);
	send_req(p, VU_REQ_GET_FEATURES, VU_VERSION, junk, 8, NULL, 0);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_SIZE);
}

static void test_config_ranges(void **state)
{
	struct pair *p = *state;
	struct vu_config cfg = { .offset = 0, .size = 60 };
	const uint32_t head = offsetof(struct vu_config, payload);
	struct vu_msg msg;

	send_req(p, VU_REQ_GET_CONFIG, VU_VERSION, &cfg, head + 60, NULL, 0);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_OK);

	send_req(p, VU_REQ_GET_CONFIG, VU_VERSION, &cfg, head + 59, NULL, 0);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_SIZE);

	cfg.offset = 200;
	send_req(p, VU_REQ_SET_CONFIG, VU_VERSION, &cfg, head + 60, NULL, 0);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_CONFIG_RANGE);

	cfg.offset = 0xfffffff0u;
	send_req(p, VU_REQ_SET_CONFIG, VU_VERSION, &cfg, head + 60, NULL, 0);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_CONFIG_RANGE);

	cfg.offset = 0;
	cfg.size = 300;
	send_req(p, VU_REQ_SET_CONFIG, VU_VERSION, &cfg, sizeof(cfg), NULL, 0);
	assert_int_equal(recv_and_check(p, &msg), VU_MSG_ERR_SIZE);
}

static void test_err_strings(void **state)
{
	(void)state;
	for (int e = 0; e < VU_MSG_ERR_MAX; e++) {
		assert_non_null(vu_msg_err_str(e));
		assert_string_not_equal(vu_msg_err_str(e), "unknown reason");
	}
	assert_string_equal(vu_msg_err_str(VU_MSG_ERR_MAX), "unknown reason");
}

#define PAIR_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup_pair, teardown_pair)

int main(void)
{
	const struct CMUnitTest tests[] = {
		PAIR_TEST(test_get_features_and_reply),
		PAIR_TEST(test_reply_payload_bytes),
		PAIR_TEST(test_mem_table_with_fds),
		PAIR_TEST(test_mem_table_region_counts),
		PAIR_TEST(test_vring_kick_fd_rules),
		PAIR_TEST(test_fd_where_none_allowed_is_closed),
		PAIR_TEST(test_too_many_fds_truncated),
		PAIR_TEST(test_bad_header_flags),
		PAIR_TEST(test_oversized_payload),
		PAIR_TEST(test_short_payload_and_eof),
		PAIR_TEST(test_short_header),
		PAIR_TEST(test_header_split_across_writes),
		PAIR_TEST(test_unknown_request),
		PAIR_TEST(test_wrong_sizes),
		PAIR_TEST(test_config_ranges),
		cmocka_unit_test(test_err_strings),
	};

	return cmocka_run_group_tests_name("vhost-user/msg", tests, NULL, NULL);
}
