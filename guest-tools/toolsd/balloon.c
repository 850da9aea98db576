// SPDX-License-Identifier: MIT
/*
 * The balloon relay: toolsd is the agent side of /dev/vireo-balloon (ddk-docs/balloon.md).
 * It reads the module's batches while a host relay is attached (the connection that
 * subscribed with "balloon": true), sends each as "balloon-batch" events (split in
 * parts of at most TOOLSD_BALLOON_PART ranges, so a line stays well under 64 KiB), and
 * acknowledges a batch to the module only once the host answered "balloon-done" for it
 * and for every batch before it. Nothing is ever acknowledged before the host's answer:
 * batches in flight when the host goes away stay pending in the module, are kept here,
 * and are sent again to the next relay.
 *
 * A batch the host refused ("ok": false: a range it would not punch) is acknowledged
 * too: the host punched nothing of the refused message, so its pages hold their data
 * and may go back to the guest; the refusal is logged and counted (`nacked`).
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "control/proto.h"
#include "kmod/balloon/vireo_balloon.h"
#include "toolsd.h"

/* The free page reporting switch of newer modules (ENOTTY from older ones). */
#ifndef VIREO_BALLOON_SET_REPORTING
#define VIREO_BALLOON_SET_REPORTING _IOW(VIREO_BALLOON_IOC, 4, __u32)
#endif

#define BALLOON_DEV	     "/dev/vireo-balloon"
#define BALLOON_SYSFS	     "/sys/class/misc/vireo-balloon/status"
#define BALLOON_MAX_RANGES   4095
#define BALLOON_MAX_INFLIGHT 16 /* batches read and not yet answered */
#define BALLOON_PAGE	     4096ull
#define BALLOON_RESEND_S     30 /* a batch unanswered this long is sent again */

struct batch {
	struct batch *next;
	uint64_t seq;
	uint32_t flags, count;
	bool sent, done, ok;
	time_t sent_at; /* CLOCK_MONOTONIC seconds */
	struct vireo_balloon_range r[];
};

static time_t bl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static struct {
	int fd;	      /* /dev/vireo-balloon, -1 when not open */
	int open_err; /* the last open() errno, to log each new one once */
	int epfd;
	uint64_t tag;
	bool watched;	     /* fd is in the epoll set */
	int relay;	     /* the host connection's fd, -1: none */
	bool broken;	     /* a send to it failed: it is being shut down */
	uint64_t orphan_seq; /* batches a previous toolsd read: acked once a host attaches */
	struct batch *head, **tail;
	unsigned int inflight;
	int reporting; /* -1 unknown, 0 off, 1 on, -2 unsupported */
	uint64_t sent, acked, nacked, resent;
} bl = { .fd = -1, .relay = -1, .reporting = -1 };

void toolsd_balloon_init(int epfd, uint64_t tag)
{
	bl.epfd = epfd;
	bl.tag = tag;
	bl.tail = &bl.head;
	toolsd_balloon_tick();
}

/* Reads batches only while a host can take them and not too many are in flight. */
static void bl_update_watch(void)
{
	bool want = bl.fd >= 0 && bl.relay >= 0 && !bl.broken && bl.inflight < BALLOON_MAX_INFLIGHT;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = bl.tag };

	if (want == bl.watched)
		return;
	if (epoll_ctl(bl.epfd, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, bl.fd, &ev) == 0)
		bl.watched = want;
}

static int bl_send(struct batch *b);

/*
 * A batch the relay never answered (its answer was lost: the host could not send it)
 * goes again after a while; punching twice is harmless, and only an answer frees it.
 */
static void bl_resend_stale(void)
{
	time_t now = bl_now();

	if (bl.relay < 0 || bl.broken)
		return;
	for (struct batch *b = bl.head; b && !bl.broken; b = b->next) {
		if (b->done || !b->sent || now - b->sent_at < BALLOON_RESEND_S)
			continue;
		bl.resent++;
		bl_send(b);
	}
}

void toolsd_balloon_tick(void)
{
	struct vireo_balloon_status st;
	int fd;

	if (bl.fd >= 0) {
		bl_resend_stale();
		return;
	}
	fd = open(BALLOON_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		/* Not loaded (yet), or another agent has it: look again next tick. */
		if (errno != bl.open_err && errno != ENOENT)
			toolsd_log("cannot open %s: %s", BALLOON_DEV, strerror(errno));
		bl.open_err = errno;
		return;
	}
	bl.open_err = 0;
	bl.fd = fd;
	if (ioctl(fd, VIREO_BALLOON_STATUS, &st) == 0 && st.last_seq > st.acked_seq) {
		bl.orphan_seq = st.last_seq;
		toolsd_log("balloon: batches %llu..%llu were read by a previous agent; "
			   "acknowledged once a host relay attaches",
			   (unsigned long long)st.acked_seq + 1, (unsigned long long)st.last_seq);
	}
	toolsd_log("balloon: %s open", BALLOON_DEV);
	bl_update_watch();
}

/* Sends one batch as events of at most TOOLSD_BALLOON_PART ranges each. */
static int bl_send(struct batch *b)
{
	uint32_t parts = b->count ? (b->count + TOOLSD_BALLOON_PART - 1) / TOOLSD_BALLOON_PART : 1;
	int rc = 0;

	for (uint32_t p = 0; p < parts && rc == 0; p++) {
		struct json_object *ev = json_object_new_object(), *arr = json_object_new_array();
		uint32_t first = p * TOOLSD_BALLOON_PART, n = b->count - first;

		if (n > TOOLSD_BALLOON_PART)
			n = TOOLSD_BALLOON_PART;
		if (!ev || !arr) {
			json_object_put(ev);
			json_object_put(arr);
			return -ENOMEM;
		}
		for (uint32_t i = first; i < first + n; i++) {
			struct json_object *r = json_object_new_array_ext(2);

			json_object_array_add(r, json_object_new_uint64(b->r[i].gpa));
			json_object_array_add(r, json_object_new_uint64(b->r[i].len));
			json_object_array_add(arr, r);
		}
		json_object_object_add(ev, "event", json_object_new_string("balloon-batch"));
		json_object_object_add(ev, "seq", json_object_new_uint64(b->seq));
		json_object_object_add(ev, "flags", json_object_new_int64(b->flags));
		json_object_object_add(ev, "part", json_object_new_int64(p));
		json_object_object_add(ev, "parts", json_object_new_int64(parts));
		json_object_object_add(ev, "ranges", arr);
		rc = ctl_write_json(bl.relay, ev);
		json_object_put(ev);
	}
	if (rc < 0) {
		/* A half-written line: end the connection (the main loop sees it close). */
		toolsd_log("balloon: sending batch %llu failed: %s", (unsigned long long)b->seq,
			   strerror(-rc));
		shutdown(bl.relay, SHUT_RDWR);
		bl.broken = true;
		bl_update_watch();
		return rc;
	}
	b->sent = true;
	b->sent_at = bl_now();
	return 0;
}

void toolsd_balloon_readable(void)
{
	static union {
		struct vireo_balloon_batch hdr;
		unsigned char buf[sizeof(struct vireo_balloon_batch) +
				  BALLOON_MAX_RANGES * sizeof(struct vireo_balloon_range)];
	} u;

	while (bl.fd >= 0 && bl.relay >= 0 && !bl.broken && bl.inflight < BALLOON_MAX_INFLIGHT) {
		ssize_t n = read(bl.fd, u.buf, sizeof(u.buf));
		uint64_t seq;
		uint32_t count, flags;
		struct batch *b;

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				toolsd_log("balloon: read: %s", strerror(errno));
			break;
		}
		/* The header by offset: newer modules call the last field "flags". */
		memcpy(&seq, u.buf, 8);
		memcpy(&count, u.buf + 8, 4);
		memcpy(&flags, u.buf + 12, 4);
		if ((size_t)n < 16 || count > BALLOON_MAX_RANGES ||
		    (size_t)n != 16 + (size_t)count * 16) {
			toolsd_log("balloon: a read of %zd bytes is not a batch", n);
			break;
		}
		b = malloc(sizeof(*b) + count * sizeof(b->r[0]));
		if (!b) {
			/* The module has handed it over: it stays pending until a restart. */
			toolsd_log("balloon: out of memory for batch %llu",
				   (unsigned long long)seq);
			break;
		}
		*b = (struct batch){ .seq = seq, .flags = flags, .count = count };
		memcpy(b->r, u.buf + 16, count * sizeof(b->r[0]));
		*bl.tail = b;
		bl.tail = &b->next;
		bl.inflight++;
		bl.sent++;
		if (bl_send(b) < 0)
			break;
	}
	bl_update_watch();
}

void toolsd_balloon_relay(int fd)
{
	uint64_t seq = bl.orphan_seq;

	bl.relay = fd;
	bl.broken = false;
	/*
	 * Batches a previous toolsd read: this host connection is a new one, so the host
	 * finished with every message of the old one before it (one thread reads a
	 * connection to its end before it connects again). Nothing can be punched
	 * any more: the pages may go back.
	 */
	if (seq && bl.fd >= 0) {
		if (ioctl(bl.fd, VIREO_BALLOON_ACK, &seq) < 0)
			toolsd_log("balloon: ack of orphaned batches up to %llu: %s",
				   (unsigned long long)seq, strerror(errno));
		bl.orphan_seq = 0;
	}
	for (struct batch *b = bl.head; b && !bl.broken; b = b->next) {
		if (b->done)
			continue;
		bl.resent++;
		bl_send(b);
	}
	bl_update_watch();
}

bool toolsd_balloon_is_relay(int fd)
{
	return fd == bl.relay && !bl.broken;
}

bool toolsd_balloon_client_gone(int fd)
{
	if (fd != bl.relay)
		return false;
	bl.relay = -1;
	bl.broken = false;
	for (struct batch *b = bl.head; b; b = b->next)
		b->sent = false;
	bl_update_watch();
	return true;
}

/* Acknowledges the longest run of answered batches at the head. */
static void bl_ack_done(void)
{
	uint64_t seq = 0;

	while (bl.head && bl.head->done) {
		struct batch *b = bl.head;

		seq = b->seq;
		bl.head = b->next;
		bl.inflight--;
		free(b);
	}
	if (!bl.head)
		bl.tail = &bl.head;
	if (seq && ioctl(bl.fd, VIREO_BALLOON_ACK, &seq) < 0)
		toolsd_log("balloon: ack %llu: %s", (unsigned long long)seq, strerror(errno));
}

static int bl_need_dev(char *err, size_t errlen)
{
	toolsd_balloon_tick();
	if (bl.fd >= 0)
		return 0;
	snprintf(err, errlen, "no balloon device: %s (is vireo_balloon loaded?)",
		 strerror(bl.open_err ? bl.open_err : ENOENT));
	return -ENODEV;
}

int toolsd_cmd_balloon_done(struct json_object *args, struct json_object **result, char *err,
			    size_t errlen)
{
	struct json_object *v, *ok;
	struct batch *b;
	uint64_t seq;

	if (!json_object_object_get_ex(args, "seq", &v) || !json_object_is_type(v, json_type_int) ||
	    !json_object_object_get_ex(args, "ok", &ok) ||
	    !json_object_is_type(ok, json_type_boolean)) {
		snprintf(err, errlen, "balloon-done needs seq and ok");
		return -EINVAL;
	}
	seq = json_object_get_uint64(v);
	for (b = bl.head; b && b->seq != seq; b = b->next)
		;
	if (!b || b->done || !b->sent) {
		snprintf(err, errlen, "no batch %llu awaits an answer", (unsigned long long)seq);
		return -ENOENT;
	}
	b->done = true;
	b->ok = json_object_get_boolean(ok);
	if (b->ok) {
		bl.acked++;
	} else {
		bl.nacked++;
		toolsd_log("balloon: the host refused batch %llu: %.200s", (unsigned long long)seq,
			   json_object_object_get_ex(args, "error", &v) ? json_object_get_string(v)
									: "no reason");
	}
	bl_ack_done();
	bl_update_watch();
	(void)result;
	return 0;
}

int toolsd_cmd_balloon_set(struct json_object *args, struct json_object **result, char *err,
			   size_t errlen)
{
	struct json_object *v;
	uint64_t target;
	int rc = bl_need_dev(err, errlen);

	if (rc < 0)
		return rc;
	if (!json_object_object_get_ex(args, "target", &v) ||
	    !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
		snprintf(err, errlen, "target must be a size in bytes");
		return -EINVAL;
	}
	target = json_object_get_uint64(v) & ~(BALLOON_PAGE - 1);
	if (ioctl(bl.fd, VIREO_BALLOON_SET_TARGET, &target) < 0) {
		snprintf(err, errlen, "%s",
			 errno == EINVAL ? "target exceeds the guest's RAM" : strerror(errno));
		return -errno;
	}
	*result = json_object_new_object();
	json_object_object_add(*result, "target", json_object_new_uint64(target));
	return 0;
}

int toolsd_cmd_balloon_reporting(struct json_object *args, struct json_object **result, char *err,
				 size_t errlen)
{
	struct json_object *v;
	__u32 on;
	int rc = bl_need_dev(err, errlen);

	if (rc < 0)
		return rc;
	if (!json_object_object_get_ex(args, "on", &v) ||
	    !json_object_is_type(v, json_type_boolean)) {
		snprintf(err, errlen, "on must be true or false");
		return -EINVAL;
	}
	on = json_object_get_boolean(v) ? 1 : 0;
	if (ioctl(bl.fd, VIREO_BALLOON_SET_REPORTING, &on) < 0) {
		if (errno == ENOTTY) {
			bl.reporting = -2;
			snprintf(err, errlen,
				 "unsupported: this vireo_balloon has no free page "
				 "reporting");
			return -ENOTSUP;
		}
		snprintf(err, errlen, "%s", strerror(errno));
		return -errno;
	}
	bl.reporting = (int)on;
	*result = json_object_new_object();
	json_object_object_add(*result, "reporting", json_object_new_boolean(on));
	return 0;
}

static void bl_add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

/* Keys of the sysfs status that the ioctl's struct does not have (newer modules). */
static void bl_add_sysfs(struct json_object *o)
{
	FILE *f = fopen(BALLOON_SYSFS, "re");
	char key[64];
	unsigned long long v;

	if (!f)
		return;
	while (fscanf(f, "%63s %llu", key, &v) == 2)
		if (!json_object_object_get_ex(o, key, NULL))
			bl_add_u64(o, key, v);
	fclose(f);
}

int toolsd_cmd_balloon_status(struct json_object *args, struct json_object **result, char *err,
			      size_t errlen)
{
	struct vireo_balloon_status st;
	struct json_object *o, *relay;
	int rc = bl_need_dev(err, errlen);

	(void)args;
	if (rc < 0)
		return rc;
	if (ioctl(bl.fd, VIREO_BALLOON_STATUS, &st) < 0) {
		snprintf(err, errlen, "status: %s", strerror(errno));
		return -errno;
	}
	o = json_object_new_object();
	bl_add_u64(o, "target", st.target);
	bl_add_u64(o, "size", st.size);
	bl_add_u64(o, "blocks_2m", st.blocks_2m);
	bl_add_u64(o, "pages_4k", st.pages_4k);
	bl_add_u64(o, "unreported", st.unreported);
	bl_add_u64(o, "pending", st.pending);
	bl_add_u64(o, "acked", st.acked);
	bl_add_u64(o, "last_seq", st.last_seq);
	bl_add_u64(o, "acked_seq", st.acked_seq);
	bl_add_u64(o, "shrunk", st.shrunk);
	bl_add_u64(o, "alloc_failures", st.alloc_failures);
	bl_add_u64(o, "oom_shrunk", st.oom_shrunk);
	bl_add_sysfs(o);
	/* What the module says wins over what toolsd last set. */
	if (bl.reporting != -2 && json_object_object_get_ex(o, "reporting", &relay))
		bl.reporting = json_object_get_int64(relay) ? 1 : 0;
	json_object_object_add(o, "reporting",
			       json_object_new_string(bl.reporting == 1	   ? "on"
						      : bl.reporting == 0  ? "off"
						      : bl.reporting == -2 ? "unsupported"
									   : "unknown"));
	relay = json_object_new_object();
	json_object_object_add(relay, "attached", json_object_new_boolean(bl.relay >= 0));
	bl_add_u64(relay, "batches_sent", bl.sent);
	bl_add_u64(relay, "batches_resent", bl.resent);
	bl_add_u64(relay, "batches_acked", bl.acked);
	bl_add_u64(relay, "batches_nacked", bl.nacked);
	bl_add_u64(relay, "in_flight", bl.inflight);
	json_object_object_add(o, "relay", relay);
	*result = o;
	return 0;
}

void toolsd_balloon_close(void)
{
	while (bl.head) {
		struct batch *b = bl.head;

		bl.head = b->next;
		free(b);
	}
	bl.tail = &bl.head;
	/* Pending pages stay pending: closing never acknowledges (the module's rule). */
	if (bl.fd >= 0)
		close(bl.fd);
	bl.fd = -1;
}
