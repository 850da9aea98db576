// SPDX-License-Identifier: MIT
/*
 * A hostile frontend against a real vireod process (ASan+UBSan in `make check`): bad
 * memory tables, descriptors outside guest memory, looping and nested chains, huge
 * lengths, malformed virtio-blk requests and malformed messages, one after another
 * on one vireod. After each, vireod must still run, answer its control socket, report
 * what happened (refused messages, a broken queue) and serve a well-behaved frontend.
 *   abuse_test VIREOD   (vireod from the build tree finds the blk-ram sample)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control/proto.h"
#include "mock_guest.h"
#include "virtio/blk_wire.h"
#include "vu_frontend.h"

#define GPA   0x100000ull
#define RAM   (4ull << 20)
#define QSIZE 32

static const char *g_vireod;
static const char *g_threads = "per-queue"; /* vireod --threads */
static char g_dir[64], g_sock[128], g_ctl[128];
static pid_t g_pid;

struct fx {
	struct mock_guest g;
	struct vu_fe fe;
	int kick, call;
};

static int start_vireod(void **state)
{
	char spec[256];

	(void)state;
	strcpy(g_dir, "/tmp/vireo-abuse-XXXXXX");
	if (!mkdtemp(g_dir))
		return -1;
	snprintf(g_sock, sizeof(g_sock), "%s/ram0.sock", g_dir);
	snprintf(g_ctl, sizeof(g_ctl), "%s/control.sock", g_dir);
	snprintf(spec, sizeof(spec), "blk,id=ram0,driver=blk-ram,socket=%s,size=16M", g_sock);
	g_pid = fork();
	if (g_pid == 0) {
		execl(g_vireod, "vireod", "--control", g_ctl, "--log-level", "warn", "--threads",
		      g_threads, "--device", spec, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		if (access(g_ctl, F_OK) == 0)
			return 0;
		usleep(50000);
	}
	return -1;
}

static int stop_vireod(void **state)
{
	int status;

	(void)state;
	kill(g_pid, SIGTERM);
	if (waitpid(g_pid, &status, 0) != g_pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "vireod did not exit cleanly (status %#x)\n", status);
		return -1;
	}
	unlink(g_sock);
	rmdir(g_dir);
	return 0;
}

/* The device's stats as JSON, through the control socket (asserts vireod answers). */
static struct json_object *stats(void)
{
	struct ctl_reader *r = calloc(1, sizeof(*r));
	struct json_object *args = json_object_new_object(), *rep, *res;
	int fd = ctl_connect(g_ctl);

	assert_true(fd >= 0);
	r->fd = fd;
	json_object_object_add(args, "id", json_object_new_string("ram0"));
	assert_int_equal(ctl_call(fd, r, "device.stats", args, &rep), 0);
	assert_true(json_object_object_get_ex(rep, "result", &res));
	res = json_object_get(res);
	json_object_put(rep);
	free(r);
	close(fd);
	return res;
}

static int64_t stat_int(const char *key)
{
	struct json_object *s = stats(), *v;
	int64_t n;

	assert_true(json_object_object_get_ex(s, key, &v));
	n = json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v)
						      : json_object_get_int64(v);
	json_object_put(s);
	return n;
}

static void assert_vireod_alive(void)
{
	assert_int_equal(waitpid(g_pid, NULL, WNOHANG), 0);
}

static int setup(void **state)
{
	static struct fx f;

	memset(&f, 0, sizeof(f));
	f.kick = f.call = -1;
	if (mock_guest_init(&f.g, GPA, RAM, RAM / 2) < 0)
		return -1;
	mock_queue_init(&f.g, QSIZE);
	if (vu_fe_connect(&f.fe, g_sock, 3000) < 0)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vu_fe_close(&f->fe);
	if (f->kick >= 0)
		close(f->kick);
	if (f->call >= 0)
		close(f->call);
	mock_guest_fini(&f->g);
	/* The session ends with the connection; let vireod notice before the next. */
	usleep(50000);
	assert_vireod_alive();
	return 0;
}

static void bring_up(struct fx *f)
{
	assert_int_equal(vu_fe_negotiate(&f->fe, ~0ull), 0);
	assert_int_equal(vu_fe_set_mem_table(&f->fe, &f->g), 0);
	assert_int_equal(vu_fe_start_queue(&f->fe, &f->g, 0, &f->kick, &f->call), 0);
}

/* A virtio-blk request: header, data, status; returns the status byte's GPA. */
static uint64_t blk_request(struct fx *f, uint32_t type, uint64_t sector, uint32_t len)
{
	uint64_t hdr = mock_alloc(&f->g, 16, 16), data = mock_alloc(&f->g, len ? len : 1, 512);
	uint64_t st = mock_alloc(&f->g, 1, 1);
	struct virtio_blk_outhdr *h = mock_ptr(&f->g, hdr);
	struct mock_buf bufs[3] = {
		{ hdr, 16, false },
		{ data, len, type == VIRTIO_BLK_T_IN },
		{ st, 1, true },
	};

	h->type = type;
	h->reserved = 0;
	h->sector = sector;
	*(uint8_t *)mock_ptr(&f->g, st) = 0xff;
	if (len)
		mock_chain(&f->g, bufs, 3);
	else
		mock_chain(&f->g, (struct mock_buf[]){ bufs[0], bufs[2] }, 2);
	return st;
}

static uint8_t complete_one(struct fx *f, uint64_t status_gpa)
{
	/* As a driver does with EVENT_IDX: interrupt me at the next used entry. */
	mock_set_used_event(&f->g, mock_used_idx(&f->g));
	vu_fe_kick(f->kick);
	if (!vu_fe_wait_call(f->call, 3000))
		fail_msg("no completion in 3 s: used idx %u, status byte %#x", mock_used_idx(&f->g),
			 *(uint8_t *)mock_ptr(&f->g, status_gpa));
	return *(uint8_t *)mock_ptr(&f->g, status_gpa);
}

static void test_good_session(void **state)
{
	struct fx *f = *state;

	bring_up(f);
	assert_int_equal(complete_one(f, blk_request(f, VIRTIO_BLK_T_OUT, 8, 4096)), 0);
	assert_int_equal(complete_one(f, blk_request(f, VIRTIO_BLK_T_IN, 8, 4096)), 0);
	assert_int_equal(stat_int("broken"), 0);
}

static void test_bad_memory_tables(void **state)
{
	struct fx *f = *state;
	struct vu_mem_table mem = { .nregions = 2 };
	int fds[2] = { f->g.fd, f->g.fd };
	const uint32_t two = offsetof(struct vu_mem_table, regions) + 2 * sizeof(mem.regions[0]);
	int64_t refused = stat_int("vhost_user_refused");

	assert_int_equal(vu_fe_negotiate(&f->fe, ~0ull), 0);
	/* Overlapping guest-physical ranges. */
	mem.regions[0] = (struct vu_mem_region){ GPA, RAM, MOCK_UVA_BASE, 0 };
	mem.regions[1] = (struct vu_mem_region){ GPA + 4096, 4096, MOCK_UVA_BASE + RAM, 0 };
	assert_int_equal(vu_fe_set(&f->fe, VU_REQ_SET_MEM_TABLE, &mem, two, fds, 2), -EREMOTEIO);
	/* A region that wraps past 2^64. */
	mem.nregions = 1;
	mem.regions[0] = (struct vu_mem_region){ UINT64_MAX - 4095, 8192, MOCK_UVA_BASE, 0 };
	assert_int_equal(vu_fe_set(&f->fe, VU_REQ_SET_MEM_TABLE, &mem, two - 32, fds, 1),
			 -EREMOTEIO);
	/* A region larger than its file: touching it would be SIGBUS. */
	mem.regions[0] = (struct vu_mem_region){ GPA, 1ull << 40, MOCK_UVA_BASE, 0 };
	assert_int_equal(vu_fe_set(&f->fe, VU_REQ_SET_MEM_TABLE, &mem, two - 32, fds, 1),
			 -EREMOTEIO);
	assert_true(stat_int("vhost_user_refused") >= refused + 3);
	/* The session is still usable with a good table. */
	assert_int_equal(vu_fe_set_mem_table(&f->fe, &f->g), 0);
	assert_int_equal(vu_fe_start_queue(&f->fe, &f->g, 0, &f->kick, &f->call), 0);
	assert_int_equal(complete_one(f, blk_request(f, VIRTIO_BLK_T_IN, 0, 512)), 0);
}

/* Guest requests that break ring rules: each must break the queue, nothing else. */
static void expect_broken(struct fx *f)
{
	vu_fe_kick(f->kick);
	for (int i = 0; i < 200 && !stat_int("broken"); i++)
		usleep(10000);
	assert_int_equal(stat_int("broken"), 1);
	assert_vireod_alive();
}

static void test_buffer_outside_guest_memory(void **state)
{
	struct fx *f = *state;

	bring_up(f);
	mock_desc(&f->g, 0, GPA + RAM + 4096, 512, VIREO_VRING_DESC_F_NEXT, 1);
	mock_desc(&f->g, 1, GPA, 1, VIREO_VRING_DESC_F_WRITE, 0);
	mock_avail_add(&f->g, 0);
	expect_broken(f);
}

static void test_looping_chain(void **state)
{
	struct fx *f = *state;
	uint64_t buf;

	bring_up(f);
	buf = mock_alloc(&f->g, 64, 16);
	mock_desc(&f->g, 0, buf, 16, VIREO_VRING_DESC_F_NEXT, 1);
	mock_desc(&f->g, 1, buf, 16, VIREO_VRING_DESC_F_NEXT, 0);
	mock_avail_add(&f->g, 0);
	expect_broken(f);
}

static void test_nested_indirect(void **state)
{
	struct fx *f = *state;
	uint64_t t1, t2, buf;

	bring_up(f);
	t1 = mock_alloc(&f->g, 16, 16);
	t2 = mock_alloc(&f->g, 16, 16);
	buf = mock_alloc(&f->g, 16, 16);
	mock_table_desc(&f->g, t2, 0, buf, 16, 0, 0);
	mock_table_desc(&f->g, t1, 0, t2, 16, VIREO_VRING_DESC_F_INDIRECT, 0);
	mock_desc(&f->g, 0, t1, 16, VIREO_VRING_DESC_F_INDIRECT, 0);
	mock_avail_add(&f->g, 0);
	expect_broken(f);
}

static void test_huge_length(void **state)
{
	struct fx *f = *state;
	uint64_t buf;

	bring_up(f);
	buf = mock_alloc(&f->g, 16, 16);
	mock_desc(&f->g, 0, buf, 0xffffffffu, VIREO_VRING_DESC_F_NEXT, 1);
	mock_desc(&f->g, 1, buf, 0xffffffffu, VIREO_VRING_DESC_F_WRITE, 0);
	mock_avail_add(&f->g, 0);
	expect_broken(f);
}

static void test_bad_blk_requests(void **state)
{
	struct fx *f = *state;

	bring_up(f);
	/* Unknown type: UNSUPP; past the end (16 MiB = 32768 sectors): IOERR. */
	assert_int_equal(complete_one(f, blk_request(f, 77, 0, 512)), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(complete_one(f, blk_request(f, VIRTIO_BLK_T_IN, 32768, 512)),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(complete_one(f, blk_request(f, VIRTIO_BLK_T_IN, UINT64_MAX / 2, 512)),
			 VIRTIO_BLK_S_IOERR);
	/* A length that is not whole sectors. */
	assert_int_equal(complete_one(f, blk_request(f, VIRTIO_BLK_T_OUT, 0, 100)),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(stat_int("broken"), 0);
	/* No status byte at all: nothing can be answered, the queue breaks. */
	mock_chain(&f->g, (struct mock_buf[]){ { mock_alloc(&f->g, 16, 16), 16, false } }, 1);
	expect_broken(f);
}

static void test_malformed_message_then_good_session(void **state)
{
	struct fx *f = *state;
	struct vu_hdr hdr = { .request = VU_REQ_SET_MEM_TABLE, .flags = VU_VERSION, .size = 8 };
	struct vu_mem_table mem = { .nregions = 9 };
	int64_t connections;
	char c;

	assert_int_equal(send(f->fe.sock, &hdr, sizeof(hdr), 0), sizeof(hdr));
	assert_int_equal(send(f->fe.sock, &mem, 8, 0), 8);
	assert_int_equal(recv(f->fe.sock, &c, 1, 0), 0); /* vireod hung up */
	/* Only now is this connection surely counted: vireod accepts on its own thread. */
	connections = stat_int("connections");
	vu_fe_close(&f->fe);

	assert_int_equal(vu_fe_connect(&f->fe, g_sock, 3000), 0);
	mock_queue_init(&f->g, QSIZE);
	bring_up(f);
	assert_int_equal(complete_one(f, blk_request(f, VIRTIO_BLK_T_IN, 0, 4096)), 0);
	assert_int_equal(stat_int("connections"), connections + 1);
	assert_int_equal(stat_int("broken"), 0);
}

#define ABUSE(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		ABUSE(test_good_session),
		ABUSE(test_bad_memory_tables),
		ABUSE(test_buffer_outside_guest_memory),
		ABUSE(test_looping_chain),
		ABUSE(test_nested_indirect),
		ABUSE(test_huge_length),
		ABUSE(test_bad_blk_requests),
		ABUSE(test_malformed_message_then_good_session),
		ABUSE(test_good_session),
	};

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s VIREOD [per-queue|per-core|N]\n", argv[0]);
		return 2;
	}
	g_vireod = argv[1];
	if (argc == 3)
		g_threads = argv[2];
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("vhost-user/abuse", tests, start_vireod, stop_vireod);
}
