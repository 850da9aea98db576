// SPDX-License-Identifier: MIT
/*
 * Unit tests of the control server's async commands (vmm-core/control/server.c), the
 * ones a guest answers: a real server thread and real clients; the "guest" is the
 * test, completing pending replies when it chooses, from its own thread.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/proto.h"
#include "control/server.h"

struct fixture {
	char dir[64];
	char path[128];
	struct ctl_server *srv;
	struct ctl_pending *pending[4];
	int npending;
};

static struct json_object *cmd_echo(void *ctx, struct json_object *args, char *err, size_t errlen)
{
	(void)ctx;
	(void)err;
	(void)errlen;
	return json_object_get(args);
}

static int cmd_slow(void *ctx, struct json_object *args, struct ctl_pending *p, char *err,
		    size_t errlen)
{
	struct fixture *f = ctx;

	(void)args;
	if (f->npending == 4) {
		snprintf(err, errlen, "busy");
		return -EBUSY;
	}
	__atomic_store_n(&f->pending[f->npending], p, __ATOMIC_RELEASE);
	__atomic_add_fetch(&f->npending, 1, __ATOMIC_ACQ_REL);
	return 0;
}

static int cmd_refuse(void *ctx, struct json_object *args, struct ctl_pending *p, char *err,
		      size_t errlen)
{
	(void)ctx;
	(void)args;
	(void)p;
	snprintf(err, errlen, "no device 'vs9'");
	return -ENOENT;
}

static const struct ctl_command commands[] = {
	{ "echo", cmd_echo },
	{ NULL, NULL },
};

static const struct ctl_async_command async_commands[] = {
	{ "slow", cmd_slow },
	{ "refuse", cmd_refuse },
	{ NULL, NULL },
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	strcpy(f.dir, "/tmp/vireo-actl-XXXXXX");
	if (!mkdtemp(f.dir))
		return -1;
	snprintf(f.path, sizeof(f.path), "%s/control.sock", f.dir);
	if (ctl_server_start_async(f.path, commands, async_commands, &f, &f.srv) < 0)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ctl_server_stop(f->srv);
	rmdir(f->dir);
	return 0;
}

/* Waits until the server has started @n async commands. */
static struct ctl_pending *wait_pending(struct fixture *f, int n)
{
	for (int i = 0; i < 500 && __atomic_load_n(&f->npending, __ATOMIC_ACQUIRE) < n; i++)
		usleep(10000);
	assert_int_equal(__atomic_load_n(&f->npending, __ATOMIC_ACQUIRE), n);
	return __atomic_load_n(&f->pending[n - 1], __ATOMIC_ACQUIRE);
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static struct json_object *read_reply(struct ctl_reader *r)
{
	char *line;

	assert_true(ctl_read_line(r, &line) >= 0);
	return json_tokener_parse(line);
}

static struct ctl_reader *client(struct fixture *f)
{
	struct ctl_reader *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->fd = ctl_connect(f->path);
	assert_true(r->fd >= 0);
	return r;
}

static void client_free(struct ctl_reader *r)
{
	close(r->fd);
	free(r);
}

static void send_line(int fd, const char *line)
{
	assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
}

static int64_t get_int(struct json_object *o, const char *k)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, k, &v));
	return json_object_get_int64(v);
}

/* A pending reply holds its client's later requests, not other clients. */
static void test_pending_keeps_order_and_serves_others(void **state)
{
	struct fixture *f = *state;
	struct ctl_reader *a = client(f), *b = client(f);
	struct json_object *rep, *res;

	send_line(a->fd, "{\"id\": 1, \"cmd\": \"slow\"}\n{\"id\": 2, \"cmd\": \"echo\", "
			 "\"args\": {\"x\": 5}}\n");
	wait_pending(f, 1);
	assert_false(readable(a->fd, 200)); /* echo waits behind slow */
	send_line(b->fd, "{\"id\": 3, \"cmd\": \"echo\"}\n");
	assert_true(readable(b->fd, 5000));
	rep = read_reply(b);
	assert_int_equal(get_int(rep, "id"), 3);
	json_object_put(rep);

	res = json_object_new_object();
	json_object_object_add(res, "pong", json_object_new_boolean(1));
	ctl_pending_done(f->pending[0], res, NULL);
	rep = read_reply(a);
	assert_int_equal(get_int(rep, "id"), 1);
	assert_true(json_object_object_get_ex(rep, "result", &res));
	assert_true(json_object_object_get_ex(res, "pong", NULL));
	json_object_put(rep);
	rep = read_reply(a);
	assert_int_equal(get_int(rep, "id"), 2); /* then the one that waited */
	json_object_put(rep);
	client_free(a);
	client_free(b);
}

static void test_errors(void **state)
{
	struct fixture *f = *state;
	struct ctl_reader *a = client(f);
	struct json_object *rep, *v;

	send_line(a->fd, "{\"id\": 4, \"cmd\": \"refuse\"}\n");
	rep = read_reply(a);
	assert_true(json_object_object_get_ex(rep, "error", &v));
	assert_string_equal(json_object_get_string(v), "no device 'vs9'");
	json_object_put(rep);
	send_line(a->fd, "{\"id\": 5, \"cmd\": \"slow\"}\n");
	ctl_pending_done(wait_pending(f, 1), NULL, "the agent did not answer ping within 5000 ms");
	rep = read_reply(a);
	assert_int_equal(get_int(rep, "id"), 5);
	assert_true(json_object_object_get_ex(rep, "error", &v));
	assert_string_equal(json_object_get_string(v),
			    "the agent did not answer ping within 5000 ms");
	json_object_put(rep);
	client_free(a);
}

/* The client hangs up while waiting: its reply is dropped, its slot reused. */
static void test_client_gone(void **state)
{
	struct fixture *f = *state;
	struct ctl_reader *a = client(f), *b;
	struct json_object *rep;

	send_line(a->fd, "{\"id\": 6, \"cmd\": \"slow\"}\n");
	wait_pending(f, 1);
	client_free(a);
	usleep(100000);
	b = client(f);
	ctl_pending_done(f->pending[0], json_object_new_object(), NULL);
	send_line(b->fd, "{\"id\": 7, \"cmd\": \"echo\"}\n");
	rep = read_reply(b);
	assert_int_equal(get_int(rep, "id"), 7);
	json_object_put(rep);
	client_free(b);
}

/* The server stops with a reply still to come; it comes later and is dropped. */
static void test_stop_with_pending(void **state)
{
	struct fixture *f = *state;
	struct ctl_reader *a = client(f);

	send_line(a->fd, "{\"id\": 8, \"cmd\": \"slow\"}\n");
	wait_pending(f, 1);
	ctl_server_stop(f->srv);
	f->srv = NULL;
	ctl_pending_done(f->pending[0], json_object_new_object(), NULL); /* frees the server */
	client_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pending_keeps_order_and_serves_others, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_with_pending, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
