// SPDX-License-Identifier: MIT
/*
 * Control protocol framing: bounded line reads, one-line JSON writes, and the
 * request/reply objects. Used by vireod's control server and by vireoctl.
 */
#include "control/proto.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int ctl_read_line(struct ctl_reader *r, char **line)
{
	char *nl;
	ssize_t n;

	for (;;) {
		nl = memchr(r->buf + r->start, '\n', r->len);
		if (nl) {
			size_t len = (size_t)(nl - (r->buf + r->start));

			*nl = '\0';
			*line = r->buf + r->start;
			r->start += len + 1;
			r->len -= len + 1;
			return (int)len;
		}
		if (r->len >= CTL_MAX_LINE)
			return -EMSGSIZE;
		/* Move the partial line to the front, then read after it. */
		memmove(r->buf, r->buf + r->start, r->len);
		r->start = 0;
		n = read(r->fd, r->buf + r->len, CTL_MAX_LINE - r->len);
		if (n == 0)
			return -EPIPE;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		r->len += (size_t)n;
	}
}

static int ctl_write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int ctl_write_json(int fd, struct json_object *obj)
{
	size_t len;
	const char *text = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);
	int rc;

	if (!text)
		return -ENOMEM;
	rc = ctl_write_all(fd, text, len);
	if (rc == 0)
		rc = ctl_write_all(fd, "\n", 1);
	return rc;
}

struct json_object *ctl_request_new(int64_t id, const char *cmd, struct json_object *args)
{
	struct json_object *req = json_object_new_object();

	if (!req) {
		json_object_put(args);
		return NULL;
	}
	json_object_object_add(req, "id", json_object_new_int64(id));
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	json_object_object_add(req, "args", args ? args : json_object_new_object());
	return req;
}

struct json_object *ctl_reply_ok(int64_t id, struct json_object *result)
{
	struct json_object *rep = json_object_new_object();

	if (!rep) {
		json_object_put(result);
		return NULL;
	}
	json_object_object_add(rep, "id", json_object_new_int64(id));
	json_object_object_add(rep, "ok", json_object_new_boolean(1));
	json_object_object_add(rep, "result", result);
	return rep;
}

struct json_object *ctl_reply_error(int64_t id, const char *fmt, ...)
{
	struct json_object *rep = json_object_new_object();
	char msg[512];
	va_list ap;

	if (!rep)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(rep, "id", json_object_new_int64(id));
	json_object_object_add(rep, "ok", json_object_new_boolean(0));
	json_object_object_add(rep, "error", json_object_new_string(msg));
	return rep;
}

int ctl_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int ctl_call(int fd, struct ctl_reader *r, const char *cmd, struct json_object *args,
	     struct json_object **reply)
{
	static int64_t next_id = 1;
	int64_t id = next_id++;
	struct json_object *req = ctl_request_new(id, cmd, args), *rep, *ok, *rid;
	char *line;
	int rc;

	if (!req)
		return -ENOMEM;
	rc = ctl_write_json(fd, req);
	json_object_put(req);
	if (rc < 0)
		return rc;

	/* Replies come in request order; skip none, but refuse a mismatched id. */
	rc = ctl_read_line(r, &line);
	if (rc < 0)
		return rc;
	rep = json_tokener_parse(line);
	if (!rep || !json_object_is_type(rep, json_type_object) ||
	    !json_object_object_get_ex(rep, "ok", &ok) ||
	    !json_object_object_get_ex(rep, "id", &rid) || json_object_get_int64(rid) != id) {
		json_object_put(rep);
		return -EPROTO;
	}
	*reply = rep;
	return 0;
}
