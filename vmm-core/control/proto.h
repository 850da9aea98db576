/* SPDX-License-Identifier: MIT */
/*
 * The control protocol between vireod and its clients (vireoctl, libvirt hooks,
 * tests): one JSON object per line over a unix stream socket.
 *   request:  {"id": 7, "cmd": "device.stats", "args": {"id": "disk0"}}
 *   reply:    {"id": 7, "ok": true, "result": ...}
 *             {"id": 7, "ok": false, "error": "no device 'disk0'"}
 * Owns framing and the request/reply shapes; what commands do is the server's
 * handler table. ddk-docs/control-protocol.md describes it for users.
 */
#ifndef VIREO_CONTROL_PROTO_H
#define VIREO_CONTROL_PROTO_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

/** Longest line either side accepts; a longer one ends the connection. */
#define CTL_MAX_LINE (64 * 1024)

/** The version of this protocol, reported by the "version" command. */
#define CTL_PROTO_VERSION 1

/** Buffered line reader over a socket. */
struct ctl_reader {
	int fd;
	size_t start; /**< offset of the first unread byte */
	size_t len;   /**< unread bytes buffered from start */
	char buf[CTL_MAX_LINE + 1];
};

/**
 * ctl_read_line() - Read the next '\n'-terminated line (without the newline).
 * @r: reader; @line gets a pointer into it, valid until the next call.
 * Return: the line length, -EPIPE at end of stream, -EMSGSIZE for a line longer
 * than CTL_MAX_LINE, -EAGAIN when a non-blocking fd has no whole line yet, or a
 * negative errno from read().
 */
int ctl_read_line(struct ctl_reader *r, char **line);

/**
 * ctl_write_json() - Write @obj as one line.
 * Return: 0, or a negative errno.
 */
int ctl_write_json(int fd, struct json_object *obj);

/**
 * ctl_request_new() - Build a request object (takes ownership of @args, may be NULL).
 * Return: the object, or NULL when out of memory.
 */
struct json_object *ctl_request_new(int64_t id, const char *cmd, struct json_object *args);

/** ctl_reply_ok() - {"id", "ok": true, "result"}; takes ownership of @result. */
struct json_object *ctl_reply_ok(int64_t id, struct json_object *result);

/** ctl_reply_error() - {"id", "ok": false, "error": message}. */
struct json_object *ctl_reply_error(int64_t id, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * ctl_connect() - Connect to a control socket.
 * Return: the fd, or a negative errno.
 */
int ctl_connect(const char *path);

/**
 * ctl_call() - Send one request on @fd and wait for its reply.
 * @fd: connected control socket.
 * @r: reader bound to @fd.
 * @cmd: command name; @args: its arguments (ownership taken, may be NULL).
 * @reply: the parsed reply object on success (caller puts it).
 * Return: 0 when a well-formed reply arrived (check its "ok"), -EPROTO for a reply
 * that is not JSON or lacks "ok", or a negative errno.
 */
int ctl_call(int fd, struct ctl_reader *r, const char *cmd, struct json_object *args,
	     struct json_object **reply);

/** Default control socket path when neither --control nor VIREO_CONTROL is given. */
#define CTL_DEFAULT_PATH "/run/vireo/control.sock"

#endif /* VIREO_CONTROL_PROTO_H */
