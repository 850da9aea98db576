// SPDX-License-Identifier: MIT
/*
 * The guest agent client: one thread and event loop per vsock device. Everything about
 * the connection (the fd, the buffers, the requests in flight) belongs to that thread;
 * other threads only queue requests (under the lock) and read the info snapshot (under
 * the lock). A periodic tick does the timing: retries, request timeouts, staleness.
 */
#include "agent/client.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <vireo/log.h>
#include <vireo/loop.h>

#include "lib/internal.h"
#include "vsock/engine.h"

#define TAG "agent"

#define AGENT_TICK_NS	       (100 * 1000 * 1000ll)
#define AGENT_BACKOFF_MIN_MS   200u
#define AGENT_BACKOFF_REFUSED  1000u  /* nothing listens yet: look again soon */
#define AGENT_BACKOFF_ERROR    10000u /* the agent misbehaved: give it room */
#define AGENT_HANDSHAKE_MS     10000  /* after its first byte, the agent answers this fast */
#define AGENT_MAX_JUNK	       8u     /* bad lines per connection before it is dropped */
#define AGENT_WBUF	       (256 * 1024)
#define AGENT_READS_PER_WAKE   4 /* then let the tick and other work run */
#define AGENT_HEARTBEAT_MISSES 3

struct agent_req {
	struct agent_req *next;
	char cmd[32];
	struct json_object *args;
	unsigned int timeout_ms;
	agent_done_fn done;
	void *arg;
	int64_t id;
	int64_t deadline_ns; /* monotonic */
	int64_t sent_ns;     /* realtime */
};

struct agent_client {
	char id[64];
	struct vsock_engine *eng;
	uint32_t port;
	struct vireo_loop *loop;
	pthread_t thread;
	bool thread_started;
	struct vireo_timer *tick;

	/* The client's thread only (or agent_client_free() once it stopped). */
	int fd;
	struct vireo_watch *watch;
	bool want_out;
	char *rbuf;
	size_t rlen;
	char *wbuf;
	size_t wlen;
	int64_t next_id;
	int64_t hs_version_id, hs_sub_id; /* 0 once answered */
	int64_t conn_ns;		  /* monotonic: the attempt began */
	int64_t first_rx_ns;		  /* monotonic: its first byte; 0: none */
	int64_t retry_ns;		  /* monotonic: the next attempt */
	unsigned int backoff_ms;
	unsigned int junk;
	bool waiting_logged;
	struct agent_req *pending;
	unsigned int npending;

	pthread_mutex_t lock; /* protects: queue, closing, info */
	struct agent_req *queue, **queue_tail;
	bool closing;
	struct agent_info info;
};

static struct vireo_ratelimit g_rl = VIREO_RATELIMIT_INIT(5000, 5);

int64_t agent_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static int64_t agent_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

const char *agent_state_name(enum agent_state st)
{
	switch (st) {
	case AGENT_UP:
		return "up";
	case AGENT_CONNECTING:
		return "connecting";
	default:
		return "down";
	}
}

static void agent_set_state(struct agent_client *ac, enum agent_state st, const char *why)
{
	pthread_mutex_lock(&ac->lock);
	ac->info.state = st;
	if (why)
		snprintf(ac->info.last_error, sizeof(ac->info.last_error), "%s", why);
	pthread_mutex_unlock(&ac->lock);
}

static void agent_req_free(struct agent_req *r)
{
	json_object_put(r->args);
	free(r);
}

static void agent_fail(struct agent_req *r, const char *why)
{
	r->done(r->arg, NULL, why, r->sent_ns, 0);
	agent_req_free(r);
}

/* ---- the connection ---- */

static void agent_fail_pending(struct agent_client *ac, const char *why)
{
	while (ac->pending) {
		struct agent_req *r = ac->pending;

		ac->pending = r->next;
		agent_fail(r, why);
	}
	ac->npending = 0;
}

/* Ends the connection; the next attempt comes after the backoff (at most @cap_ms). */
static void agent_drop(struct agent_client *ac, unsigned int cap_ms, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void agent_drop(struct agent_client *ac, unsigned int cap_ms, const char *fmt, ...)
{
	char why[160], msg[200];
	bool was_up = ac->info.state == AGENT_UP;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	vireo_watch_remove(ac->watch);
	ac->watch = NULL;
	if (ac->fd >= 0)
		close(ac->fd);
	ac->fd = -1;
	ac->rlen = ac->wlen = 0;
	snprintf(msg, sizeof(msg), "agent connection lost: %s", why);
	agent_fail_pending(ac, msg);
	ac->backoff_ms = ac->backoff_ms ? ac->backoff_ms * 2 : AGENT_BACKOFF_MIN_MS;
	if (ac->backoff_ms > cap_ms)
		ac->backoff_ms = cap_ms;
	ac->retry_ns = agent_now_ns() + ac->backoff_ms * 1000000ll;
	agent_set_state(ac, AGENT_DOWN, why);
	if (was_up)
		vireo_log(VIREO_LOG_NOTICE, TAG, "%s: agent down: %s", ac->id, why);
	else
		vireo_log_ratelimited(&g_rl, VIREO_LOG_DEBUG, TAG, "%s: agent attempt ended: %s",
				      ac->id, why);
}

static void agent_update_watch(struct agent_client *ac)
{
	bool out = ac->wlen > 0;

	if (ac->watch && out != ac->want_out) {
		vireo_watch_set_events(ac->watch, VIREO_POLL_IN | (out ? VIREO_POLL_OUT : 0));
		ac->want_out = out;
	}
}

/* Writes what the guest takes now; the rest waits for POLL_OUT. */
static int agent_flush(struct agent_client *ac)
{
	while (ac->wlen) {
		ssize_t n = send(ac->fd, ac->wbuf, ac->wlen, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		memmove(ac->wbuf, ac->wbuf + n, ac->wlen - (size_t)n);
		ac->wlen -= (size_t)n;
	}
	agent_update_watch(ac);
	return 0;
}

/* Queues one request line; -ENOBUFS when the agent is not reading what it was sent. */
static int agent_send(struct agent_client *ac, int64_t id, const char *cmd,
		      struct json_object *args)
{
	struct json_object *req = json_object_new_object();
	const char *text;
	size_t len;
	int rc = 0;

	if (!req)
		return -ENOMEM;
	json_object_object_add(req, "id", json_object_new_int64(id));
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	json_object_object_add(req, "args",
			       args ? json_object_get(args) : json_object_new_object());
	text = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN, &len);
	if (!text)
		rc = -ENOMEM;
	else if (ac->wlen + len + 1 > AGENT_WBUF)
		rc = -ENOBUFS;
	else {
		memcpy(ac->wbuf + ac->wlen, text, len);
		ac->wbuf[ac->wlen + len] = '\n';
		ac->wlen += len + 1;
	}
	json_object_put(req);
	return rc;
}

static void agent_on_fd(void *arg, int fd, uint32_t events);

static void agent_connect(struct agent_client *ac)
{
	int rc = vsock_engine_connect(ac->eng, ac->port, &ac->fd);

	pthread_mutex_lock(&ac->lock);
	ac->info.connects++;
	pthread_mutex_unlock(&ac->lock);
	if (rc < 0) {
		ac->fd = -1;
		agent_drop(ac, AGENT_BACKOFF_ERROR, "cannot connect to guest port %u: %s", ac->port,
			   strerror(-rc));
		return;
	}
	rc = vireo_loop_watch_fd(ac->loop, ac->fd, VIREO_POLL_IN, agent_on_fd, ac, &ac->watch);
	if (rc < 0) {
		agent_drop(ac, AGENT_BACKOFF_ERROR, "cannot watch the connection: %s",
			   strerror(-rc));
		return;
	}
	ac->want_out = false;
	ac->conn_ns = agent_now_ns();
	ac->first_rx_ns = 0;
	ac->junk = 0;
	ac->waiting_logged = false;
	/* Sent now, read once the guest accepts: no round trip is spent on the connect. */
	ac->hs_version_id = ac->next_id++;
	ac->hs_sub_id = ac->next_id++;
	if (agent_send(ac, ac->hs_version_id, "version", NULL) < 0 ||
	    agent_send(ac, ac->hs_sub_id, "subscribe", NULL) < 0) {
		agent_drop(ac, AGENT_BACKOFF_ERROR, "out of memory");
		return;
	}
	agent_set_state(ac, AGENT_CONNECTING, NULL);
	rc = agent_flush(ac);
	if (rc < 0)
		agent_drop(ac, AGENT_BACKOFF_REFUSED, "write: %s", strerror(-rc));
}

/* ---- what the agent says ---- */

/* Copies a string the guest chose, keeping printable ASCII only. */
static void agent_copy_text(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	for (; src && *src && n + 1 < size; src++)
		dst[n++] = (*src >= 0x20 && *src < 0x7f) ? *src : '?';
	dst[n] = '\0';
}

static bool agent_reply_ok(struct json_object *rep, struct json_object **result)
{
	struct json_object *ok;

	if (!json_object_object_get_ex(rep, "ok", &ok) || !json_object_get_boolean(ok))
		return false;
	return json_object_object_get_ex(rep, "result", result) &&
	       json_object_is_type(*result, json_type_object);
}

static const char *agent_reply_error(struct json_object *rep)
{
	struct json_object *e;

	if (json_object_object_get_ex(rep, "error", &e) && json_object_is_type(e, json_type_string))
		return json_object_get_string(e);
	return "no error text";
}

static int64_t agent_get_int(struct json_object *o, const char *key, int64_t def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

/* A reply to `version` or `subscribe`; the agent is up once both are answered. */
static void agent_handshake(struct agent_client *ac, int64_t id, struct json_object *rep)
{
	struct json_object *result, *v;
	int64_t hb;

	if (!agent_reply_ok(rep, &result)) {
		agent_drop(ac, AGENT_BACKOFF_ERROR, "the agent refused %s: %.100s",
			   id == ac->hs_version_id ? "version" : "subscribe",
			   agent_reply_error(rep));
		return;
	}
	pthread_mutex_lock(&ac->lock);
	if (id == ac->hs_version_id) {
		ac->hs_version_id = 0;
		agent_copy_text(ac->info.version, sizeof(ac->info.version),
				json_object_object_get_ex(result, "version", &v)
					? json_object_get_string(v)
					: "");
		ac->info.protocol = (int)agent_get_int(result, "protocol", 0);
	} else {
		ac->hs_sub_id = 0;
		hb = agent_get_int(result, "heartbeat_s", 5);
		ac->info.heartbeat_s = (int)(hb < 1 ? 1 : hb > 3600 ? 3600 : hb);
	}
	pthread_mutex_unlock(&ac->lock);
	if (ac->hs_version_id || ac->hs_sub_id)
		return;
	pthread_mutex_lock(&ac->lock);
	ac->info.state = AGENT_UP;
	ac->info.ups++;
	ac->info.up_ns = agent_now_ns();
	ac->info.heartbeat_ns = 0;
	ac->info.last_error[0] = '\0';
	pthread_mutex_unlock(&ac->lock);
	ac->backoff_ms = 0;
	vireo_log(VIREO_LOG_NOTICE, TAG, "%s: agent up on port %u: vireo-toolsd %s, protocol %d",
		  ac->id, ac->port, ac->info.version, ac->info.protocol);
	if (ac->info.protocol != 1)
		vireo_log(VIREO_LOG_WARN, TAG, "%s: agent protocol %d; vireod speaks 1", ac->id,
			  ac->info.protocol);
}

static void agent_junk(struct agent_client *ac, const char *what)
{
	pthread_mutex_lock(&ac->lock);
	ac->info.bad_lines++;
	pthread_mutex_unlock(&ac->lock);
	vireo_log_ratelimited(&g_rl, VIREO_LOG_WARN, TAG, "%s: agent sent %s", ac->id, what);
	if (++ac->junk >= AGENT_MAX_JUNK)
		agent_drop(ac, AGENT_BACKOFF_ERROR, "%u bad lines from the agent (last: %s)",
			   ac->junk, what);
}

static void agent_event(struct agent_client *ac, struct json_object *obj, const char *name)
{
	if (strcmp(name, "heartbeat") != 0)
		return; /* events of later protocols */
	pthread_mutex_lock(&ac->lock);
	ac->info.heartbeat_ns = agent_now_ns();
	ac->info.heartbeat_seq = (uint64_t)agent_get_int(obj, "seq", 0);
	pthread_mutex_unlock(&ac->lock);
}

static void agent_line(struct agent_client *ac, const char *line, int64_t recv_ns)
{
	struct json_object *obj = json_tokener_parse(line), *v;
	struct agent_req **pp;
	int64_t id;

	if (!obj || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		agent_junk(ac, "a line that is not a JSON object");
		return;
	}
	if (json_object_object_get_ex(obj, "event", &v) &&
	    json_object_is_type(v, json_type_string)) {
		agent_event(ac, obj, json_object_get_string(v));
		json_object_put(obj);
		return;
	}
	if (!json_object_object_get_ex(obj, "id", &v) || !json_object_is_type(v, json_type_int) ||
	    !json_object_object_get_ex(obj, "ok", &v)) {
		json_object_put(obj);
		agent_junk(ac, "an object that is neither a reply nor an event");
		return;
	}
	id = agent_get_int(obj, "id", -1);
	if (id > 0 && (id == ac->hs_version_id || id == ac->hs_sub_id)) {
		agent_handshake(ac, id, obj);
		json_object_put(obj);
		return;
	}
	for (pp = &ac->pending; *pp; pp = &(*pp)->next) {
		struct agent_req *r = *pp;

		if (r->id != id)
			continue;
		*pp = r->next;
		ac->npending--;
		r->done(r->arg, obj, NULL, r->sent_ns, recv_ns);
		agent_req_free(r);
		return;
	}
	/* A late reply to a request that timed out, or a stray id: harmless. */
	json_object_put(obj);
}

/* Splits what was read into lines; false when the connection was dropped. */
static bool agent_parse(struct agent_client *ac, int64_t recv_ns)
{
	size_t start = 0;
	int fd = ac->fd;

	for (;;) {
		char *nl = memchr(ac->rbuf + start, '\n', ac->rlen - start);

		if (!nl)
			break;
		*nl = '\0';
		agent_line(ac, ac->rbuf + start, recv_ns);
		if (ac->fd != fd)
			return false; /* the line ended the connection */
		start = (size_t)(nl - ac->rbuf) + 1;
	}
	memmove(ac->rbuf, ac->rbuf + start, ac->rlen - start);
	ac->rlen -= start;
	if (ac->rlen >= AGENT_MAX_LINE) {
		pthread_mutex_lock(&ac->lock);
		ac->info.bad_lines++;
		pthread_mutex_unlock(&ac->lock);
		agent_drop(ac, AGENT_BACKOFF_ERROR, "a line longer than %d bytes from the agent",
			   AGENT_MAX_LINE);
		return false;
	}
	return true;
}

static void agent_on_fd(void *arg, int fd, uint32_t events)
{
	struct agent_client *ac = arg;
	int rc;

	if (events & VIREO_POLL_OUT) {
		rc = agent_flush(ac);
		if (rc < 0) {
			agent_drop(ac, AGENT_BACKOFF_REFUSED, "write: %s", strerror(-rc));
			return;
		}
	}
	if (!(events & VIREO_POLL_IN))
		return;
	for (int i = 0; i < AGENT_READS_PER_WAKE; i++) {
		ssize_t n = read(fd, ac->rbuf + ac->rlen, AGENT_MAX_LINE - ac->rlen);
		int64_t now = agent_realtime_ns();

		if (n == 0) {
			/* The guest refused the connection (RST) or closed it. */
			if (ac->first_rx_ns == 0)
				agent_drop(ac, AGENT_BACKOFF_REFUSED,
					   "nothing listens on guest port %u", ac->port);
			else
				agent_drop(ac, AGENT_BACKOFF_REFUSED,
					   "the guest closed the connection");
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				agent_drop(ac, AGENT_BACKOFF_REFUSED, "read: %s", strerror(errno));
			return;
		}
		if (ac->first_rx_ns == 0)
			ac->first_rx_ns = agent_now_ns();
		ac->rlen += (size_t)n;
		if (!agent_parse(ac, now))
			return;
	}
}

/* ---- requests ---- */

static void agent_start_req(struct agent_client *ac, struct agent_req *r)
{
	char why[200];
	int rc;

	if (ac->info.state != AGENT_UP) {
		pthread_mutex_lock(&ac->lock);
		snprintf(why, sizeof(why), "the agent is %s%s%s", agent_state_name(ac->info.state),
			 ac->info.last_error[0] ? ": " : "", ac->info.last_error);
		pthread_mutex_unlock(&ac->lock);
		agent_fail(r, why);
		return;
	}
	if (ac->npending >= AGENT_MAX_INFLIGHT) {
		agent_fail(r, "too many requests in flight to the agent");
		return;
	}
	r->id = ac->next_id++;
	rc = agent_send(ac, r->id, r->cmd, r->args);
	if (rc < 0) {
		agent_fail(r, rc == -ENOBUFS ? "the agent is not reading its requests"
					     : "out of memory");
		return;
	}
	r->sent_ns = agent_realtime_ns();
	r->deadline_ns = agent_now_ns() + r->timeout_ms * 1000000ll;
	r->next = ac->pending;
	ac->pending = r;
	ac->npending++;
	rc = agent_flush(ac);
	if (rc < 0)
		agent_drop(ac, AGENT_BACKOFF_REFUSED, "write: %s", strerror(-rc));
}

static void agent_drain(void *arg)
{
	struct agent_client *ac = arg;
	struct agent_req *list;

	pthread_mutex_lock(&ac->lock);
	list = ac->queue;
	ac->queue = NULL;
	ac->queue_tail = &ac->queue;
	pthread_mutex_unlock(&ac->lock);
	while (list) {
		struct agent_req *r = list;

		list = r->next;
		agent_start_req(ac, r);
	}
}

static void agent_expire(struct agent_client *ac, int64_t now)
{
	struct agent_req **pp = &ac->pending;
	char why[96];

	while (*pp) {
		struct agent_req *r = *pp;

		if (now < r->deadline_ns) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		ac->npending--;
		pthread_mutex_lock(&ac->lock);
		ac->info.timeouts++;
		pthread_mutex_unlock(&ac->lock);
		snprintf(why, sizeof(why), "the agent did not answer %s within %u ms", r->cmd,
			 r->timeout_ms);
		agent_fail(r, why);
	}
}

static void agent_tick(void *arg, uint64_t expirations)
{
	struct agent_client *ac = arg;
	int64_t now = agent_now_ns(), last;

	(void)expirations;
	agent_drain(ac);
	agent_expire(ac, now);
	if (ac->fd < 0) {
		if (now >= ac->retry_ns)
			agent_connect(ac);
		return;
	}
	if (ac->info.state == AGENT_CONNECTING) {
		/*
		 * No byte yet: the guest's driver may not run yet, and closing now would
		 * only leave the engine a connection to forget later. Once the agent
		 * talks, it must finish the handshake in time.
		 */
		if (ac->first_rx_ns && now - ac->first_rx_ns > AGENT_HANDSHAKE_MS * 1000000ll)
			agent_drop(ac, AGENT_BACKOFF_ERROR,
				   "the agent did not answer version and subscribe within %d ms",
				   AGENT_HANDSHAKE_MS);
		else if (!ac->first_rx_ns && !ac->waiting_logged &&
			 now - ac->conn_ns > AGENT_HANDSHAKE_MS * 1000000ll) {
			ac->waiting_logged = true;
			agent_set_state(ac, AGENT_CONNECTING,
					"waiting: the guest has not answered the connection");
		}
		return;
	}
	pthread_mutex_lock(&ac->lock);
	last = ac->info.heartbeat_ns > ac->info.up_ns ? ac->info.heartbeat_ns : ac->info.up_ns;
	pthread_mutex_unlock(&ac->lock);
	if (now - last > (AGENT_HEARTBEAT_MISSES * ac->info.heartbeat_s + 2) * 1000000000ll) {
		pthread_mutex_lock(&ac->lock);
		ac->info.stale++;
		pthread_mutex_unlock(&ac->lock);
		agent_drop(ac, AGENT_BACKOFF_REFUSED, "stale: no heartbeat for %lld s",
			   (long long)((now - last) / 1000000000ll));
	}
}

/* ---- life cycle ---- */

static void *agent_thread(void *arg)
{
	struct agent_client *ac = arg;

	vireo_core_loop_run(ac->loop);
	return NULL;
}

int agent_client_new(const char *id, struct vsock_engine *eng, uint32_t port,
		     struct agent_client **out)
{
	struct agent_client *ac = calloc(1, sizeof(*ac));
	int rc;

	if (!ac)
		return -ENOMEM;
	snprintf(ac->id, sizeof(ac->id), "%s", id);
	ac->eng = eng;
	ac->port = port;
	ac->fd = -1;
	ac->next_id = 1;
	ac->info.port = port;
	ac->queue_tail = &ac->queue;
	pthread_mutex_init(&ac->lock, NULL);
	ac->rbuf = malloc(AGENT_MAX_LINE + 1);
	ac->wbuf = malloc(AGENT_WBUF);
	rc = ac->rbuf && ac->wbuf ? vireo_core_loop_new(&ac->loop) : -ENOMEM;
	if (rc == 0)
		rc = vireo_loop_add_timer(ac->loop, AGENT_TICK_NS, AGENT_TICK_NS, agent_tick, ac,
					  &ac->tick);
	if (rc == 0)
		rc = -pthread_create(&ac->thread, NULL, agent_thread, ac);
	if (rc < 0) {
		agent_client_free(ac);
		return rc;
	}
	ac->thread_started = true;
	*out = ac;
	return 0;
}

void agent_client_free(struct agent_client *ac)
{
	struct agent_req *list;

	if (!ac)
		return;
	pthread_mutex_lock(&ac->lock);
	ac->closing = true;
	list = ac->queue;
	ac->queue = NULL;
	pthread_mutex_unlock(&ac->lock);
	if (ac->thread_started) {
		vireo_core_loop_stop(ac->loop);
		pthread_join(ac->thread, NULL);
	}
	/* The loop no longer runs: its watches and timers are ours to remove. */
	while (list) {
		struct agent_req *r = list;

		list = r->next;
		agent_fail(r, "the device was removed");
	}
	agent_fail_pending(ac, "the device was removed");
	vireo_watch_remove(ac->watch);
	vireo_timer_remove(ac->tick);
	if (ac->fd >= 0)
		close(ac->fd);
	if (ac->loop)
		vireo_core_loop_free(ac->loop);
	pthread_mutex_destroy(&ac->lock);
	free(ac->rbuf);
	free(ac->wbuf);
	free(ac);
}

int agent_client_request(struct agent_client *ac, const char *cmd, struct json_object *args,
			 unsigned int timeout_ms, agent_done_fn done, void *arg)
{
	struct agent_req *r = calloc(1, sizeof(*r));

	if (!r) {
		json_object_put(args);
		return -ENOMEM;
	}
	snprintf(r->cmd, sizeof(r->cmd), "%s", cmd);
	r->args = args;
	r->timeout_ms = timeout_ms;
	r->done = done;
	r->arg = arg;
	pthread_mutex_lock(&ac->lock);
	if (ac->closing) {
		pthread_mutex_unlock(&ac->lock);
		agent_fail(r, "the device is being removed");
		return 0;
	}
	*ac->queue_tail = r;
	ac->queue_tail = &r->next;
	pthread_mutex_unlock(&ac->lock);
	/* Sooner than the next tick; the tick drains the queue anyway if this fails. */
	vireo_loop_defer(ac->loop, agent_drain, ac);
	return 0;
}

void agent_client_get_info(struct agent_client *ac, struct agent_info *info)
{
	pthread_mutex_lock(&ac->lock);
	*info = ac->info;
	pthread_mutex_unlock(&ac->lock);
}
