// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/control/{proto,server}.c: a real server thread on a unix
 * socket in a temporary directory, driven by real clients.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/proto.h"
#include "control/server.h"

struct fixture {
	char dir[64];
	char path[128];
	struct ctl_server *srv;
	int calls;
};

static struct json_object *cmd_echo(void *ctx, struct json_object *args, char *err, size_t errlen)
{
	struct fixture *f = ctx;

	(void)err;
	(void)errlen;
	f->calls++;
	return json_object_get(args);
}

static struct json_object *cmd_fail(void *ctx, struct json_object *args, char *err, size_t errlen)
{
	(void)ctx;
	(void)args;
	snprintf(err, errlen, "no device 'disk9'");
	return NULL;
}

static const struct ctl_command commands[] = {
	{ "echo", cmd_echo },
	{ "device.stats", cmd_fail },
	{ NULL, NULL },
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	strcpy(f.dir, "/tmp/vireo-ctl-XXXXXX");
	if (!mkdtemp(f.dir))
		return -1;
	snprintf(f.path, sizeof(f.path), "%s/control.sock", f.dir);
	if (ctl_server_start(f.path, commands, &f, &f.srv) < 0)
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

static struct ctl_reader *new_reader(int fd)
{
	struct ctl_reader *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->fd = fd;
	return r;
}

static void test_call_and_reply(void **state)
{
	struct fixture *f = *state;
	int fd = ctl_connect(f->path);
	struct ctl_reader *r = new_reader(fd);
	struct json_object *args = json_object_new_object(), *rep, *v, *res;

	assert_true(fd >= 0);
	json_object_object_add(args, "id", json_object_new_string("disk0"));
	assert_int_equal(ctl_call(fd, r, "echo", args, &rep), 0);
	assert_true(json_object_object_get_ex(rep, "ok", &v) && json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(rep, "result", &res));
	assert_true(json_object_object_get_ex(res, "id", &v));
	assert_string_equal(json_object_get_string(v), "disk0");
	assert_int_equal(f->calls, 1);
	json_object_put(rep);

	assert_int_equal(ctl_call(fd, r, "device.stats", NULL, &rep), 0);
	assert_true(json_object_object_get_ex(rep, "ok", &v) && !json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(rep, "error", &v));
	assert_string_equal(json_object_get_string(v), "no device 'disk9'");
	json_object_put(rep);

	assert_int_equal(ctl_call(fd, r, "reboot.host", NULL, &rep), 0);
	assert_true(json_object_object_get_ex(rep, "error", &v));
	assert_string_equal(json_object_get_string(v), "unknown command 'reboot.host'");
	json_object_put(rep);
	free(r);
	close(fd);
}

/* Sends raw bytes and returns the "error" of the one reply line. */
static char *raw_error(const char *path, const char *bytes, size_t len)
{
	int fd = ctl_connect(path);
	struct ctl_reader *r = new_reader(fd);
	struct json_object *rep, *v;
	char *line, *msg;

	assert_true(fd >= 0);
	assert_int_equal(send(fd, bytes, len, MSG_NOSIGNAL), (ssize_t)len);
	assert_true(ctl_read_line(r, &line) >= 0);
	rep = json_tokener_parse(line);
	assert_non_null(rep);
	assert_true(json_object_object_get_ex(rep, "error", &v));
	msg = strdup(json_object_get_string(v));
	json_object_put(rep);
	free(r);
	close(fd);
	return msg;
}

static void test_malformed_requests(void **state)
{
	struct fixture *f = *state;
	char *m;

	m = raw_error(f->path, "not json\n", 9);
	assert_string_equal(m, "request is not a JSON object");
	free(m);
	m = raw_error(f->path, "[1,2]\n", 6);
	assert_string_equal(m, "request is not a JSON object");
	free(m);
	m = raw_error(f->path, "{\"id\": 3}\n", 10);
	assert_string_equal(m, "request has no \"cmd\" string");
	free(m);
	m = raw_error(f->path, "{\"cmd\": \"echo\", \"args\": 5}\n", 27);
	assert_string_equal(m, "\"args\" must be an object");
	free(m);
	assert_int_equal(f->calls, 0);
}

static void test_oversized_line_drops_client(void **state)
{
	struct fixture *f = *state;
	size_t len = CTL_MAX_LINE + 100;
	char *big = malloc(len);
	int fd = ctl_connect(f->path);
	struct ctl_reader *r = new_reader(fd);
	char *line;
	int rc;

	assert_non_null(big);
	memset(big, 'x', len);
	/* The server reads only up to its limit, so part of this may stay unsent. */
	send(fd, big, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	assert_true(ctl_read_line(r, &line) >= 0);
	assert_non_null(strstr(line, "longer than"));
	/* Closed with our bytes unread, the server's end resets rather than EOFs. */
	rc = ctl_read_line(r, &line);
	assert_true(rc == -EPIPE || rc == -ECONNRESET);
	free(big);
	free(r);
	close(fd);

	/* The server still serves others. */
	fd = ctl_connect(f->path);
	r = new_reader(fd);
	struct json_object *rep;
	assert_int_equal(ctl_call(fd, r, "echo", NULL, &rep), 0);
	json_object_put(rep);
	free(r);
	close(fd);
}

static void test_requests_split_and_batched(void **state)
{
	struct fixture *f = *state;
	int fd = ctl_connect(f->path);
	struct ctl_reader *r = new_reader(fd);
	const char *two = "{\"id\": 1, \"cmd\": \"echo\"}\n{\"id\": 2, \"cmd\": \"echo\"}\n";
	char *line;

	assert_int_equal(send(fd, "{\"id\": 1, \"cm", 13, 0), 13);
	usleep(20000);
	assert_int_equal(send(fd, "d\": \"echo\"}\n", 12, 0), 12);
	assert_true(ctl_read_line(r, &line) > 0);
	assert_non_null(strstr(line, "\"ok\":true"));
	assert_int_equal(send(fd, two, strlen(two), 0), (ssize_t)strlen(two));
	assert_true(ctl_read_line(r, &line) > 0);
	assert_non_null(strstr(line, "\"id\":1"));
	assert_true(ctl_read_line(r, &line) > 0);
	assert_non_null(strstr(line, "\"id\":2"));
	assert_int_equal(f->calls, 3);
	free(r);
	close(fd);
}

static void test_client_limit(void **state)
{
	struct fixture *f = *state;
	int fds[CTL_MAX_CLIENTS + 1];
	struct ctl_reader *r;
	struct json_object *rep;
	char *line;

	for (int i = 0; i <= CTL_MAX_CLIENTS; i++) {
		fds[i] = ctl_connect(f->path);
		assert_true(fds[i] >= 0);
		/* Make sure the server has taken this one before the next connects. */
		r = new_reader(fds[i]);
		if (i < CTL_MAX_CLIENTS) {
			assert_int_equal(ctl_call(fds[i], r, "echo", NULL, &rep), 0);
			json_object_put(rep);
		} else {
			assert_int_equal(ctl_read_line(r, &line), -EPIPE);
		}
		free(r);
	}
	for (int i = 0; i <= CTL_MAX_CLIENTS; i++)
		close(fds[i]);
}

static void test_socket_path_rules(void **state)
{
	struct fixture *f = *state;
	struct ctl_server *other;
	char stale[160];
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	/* A live server's socket is not taken over. */
	assert_int_equal(ctl_server_start(f->path, commands, f, &other), -EADDRINUSE);

	/* A stale socket (bound, nobody listening) is replaced. */
	snprintf(stale, sizeof(stale), "%s/stale.sock", f->dir);
	strcpy(addr.sun_path, stale);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	assert_int_equal(ctl_server_start(stale, commands, f, &other), 0);
	ctl_server_stop(other);
	assert_int_equal(access(stale, F_OK), -1);

	/* A regular file is never removed. */
	fd = open(stale, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(ctl_server_start(stale, commands, f, &other), -EEXIST);
	unlink(stale);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_call_and_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_line_drops_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requests_split_and_batched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_path_rules, setup, teardown),
	};

	return cmocka_run_group_tests_name("control/server", tests, NULL, NULL);
}
