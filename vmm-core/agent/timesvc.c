// SPDX-License-Identifier: MIT
/*
 * The time service (timesvc.h, ddk-docs/time-sync.md): a thread per vsock device that
 * answers each 16-byte request with the host's clocks. The engine hands over each
 * guest connection on its loop thread; epoll_ctl() is thread-safe, so the accept
 * callback adds the fd to the service's epoll set under the lock and returns at once.
 */
#include "agent/timesvc.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <vireo/log.h>

#include "vsock/engine.h"

#define TAG "timesvc"

#define TAG_STOP      UINT64_MAX
#define COST_NS	      (1000000000ll / TIMESVC_RATE)
#define BUCKET_NS     (COST_NS * TIMESVC_BURST)
#define REQS_PER_WAKE 32 /* then give the other connections a turn */

struct tconn {
	int fd; /* -1: free slot */
	uint32_t guest_port;
	uint8_t buf[TIMESVC_REQ_LEN];
	size_t len;
	int64_t tokens_ns; /* the rate budget left, in exchange costs of COST_NS */
	int64_t refill_ns; /* monotonic: when tokens_ns was last topped up */
	int64_t resume_ns; /* monotonic: paused (not read) until then; 0: reading */
};

struct timesvc {
	char id[64];
	struct vsock_engine *eng;
	int epfd, stopfd;
	pthread_t thread;
	pthread_mutex_t lock; /* protects: conns[] slots (fd), stats */
	struct tconn conns[TIMESVC_MAX_CONNS];
	struct timesvc_stats stats;
};

static struct vireo_ratelimit g_rl = VIREO_RATELIMIT_INIT(5000, 5);

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* Runs on the engine's loop thread with the engine locked: no blocking, no engine. */
static void on_accept(void *arg, int fd, uint32_t guest_port)
{
	struct timesvc *ts = arg;
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned int slot;

	pthread_mutex_lock(&ts->lock);
	for (slot = 0; slot < TIMESVC_MAX_CONNS && ts->conns[slot].fd >= 0; slot++)
		;
	if (slot == TIMESVC_MAX_CONNS) {
		ts->stats.refused++;
		pthread_mutex_unlock(&ts->lock);
		close(fd);
		vireo_log_ratelimited(&g_rl, VIREO_LOG_WARN, TAG,
				      "%s: guest port %u: refused, %u time connections already",
				      ts->id, guest_port, TIMESVC_MAX_CONNS);
		return;
	}
	ts->conns[slot] = (struct tconn){
		.fd = fd,
		.guest_port = guest_port,
		.tokens_ns = BUCKET_NS,
		.refill_ns = clock_ns(CLOCK_MONOTONIC),
	};
	ev.data.u64 = slot;
	if (epoll_ctl(ts->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		ts->conns[slot].fd = -1;
		close(fd);
	} else {
		ts->stats.accepted++;
		ts->stats.conns++;
	}
	pthread_mutex_unlock(&ts->lock);
}

/* Context: the service's thread, with the lock held. */
static void drop_conn(struct timesvc *ts, struct tconn *c)
{
	epoll_ctl(ts->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	ts->stats.conns--;
}

/* The reply to @seq, its clocks read as late as possible. Returns false on failure. */
static bool reply(int fd, uint64_t seq)
{
	uint8_t rsp[TIMESVC_RSP_LEN];
	ssize_t n;

	put_le32(rsp, TIMESVC_RSP_MAGIC);
	put_le32(rsp + 4, 0);
	put_le64(rsp + 8, seq);
	put_le64(rsp + 16, (uint64_t)clock_ns(CLOCK_REALTIME));
	put_le64(rsp + 24, (uint64_t)clock_ns(CLOCK_MONOTONIC_RAW));
	do
		n = send(fd, rsp, sizeof(rsp), MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	/* A guest that lets 200 kB of replies pile up is not reading them: drop it. */
	return n == (ssize_t)sizeof(rsp);
}

/* Whether @c may have one more exchange now; pauses it when not. */
static bool take_token(struct timesvc *ts, struct tconn *c, int64_t now)
{
	struct epoll_event ev = { .events = 0, .data.u64 = (uint64_t)(c - ts->conns) };

	c->tokens_ns += now - c->refill_ns;
	if (c->tokens_ns > BUCKET_NS)
		c->tokens_ns = BUCKET_NS;
	c->refill_ns = now;
	if (c->tokens_ns >= COST_NS) {
		c->tokens_ns -= COST_NS;
		return true;
	}
	c->resume_ns = now + (COST_NS - c->tokens_ns);
	epoll_ctl(ts->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	ts->stats.throttled++;
	return false;
}

/* Answers what @c sent. Context: the service's thread, with the lock held. */
static void serve(struct timesvc *ts, struct tconn *c)
{
	for (int i = 0; i < REQS_PER_WAKE; i++) {
		ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			drop_conn(ts, c); /* the guest closed it, or the engine reset it */
			return;
		}
		c->len += (size_t)n;
		if (c->len < sizeof(c->buf))
			continue;
		c->len = 0;
		if (get_le32(c->buf) != TIMESVC_REQ_MAGIC || get_le32(c->buf + 4) != 0) {
			vireo_log_ratelimited(&g_rl, VIREO_LOG_WARN, TAG,
					      "%s: guest port %u sent a bad time request "
					      "(magic %#x, flags %#x): dropped",
					      ts->id, c->guest_port, get_le32(c->buf),
					      get_le32(c->buf + 4));
			ts->stats.bad++;
			drop_conn(ts, c);
			return;
		}
		if (!reply(c->fd, get_le64(c->buf + 8))) {
			drop_conn(ts, c);
			return;
		}
		ts->stats.exchanges++;
		if (!take_token(ts, c, clock_ns(CLOCK_MONOTONIC)))
			return;
	}
}

/* Turns paused connections back on; returns the ms until the next is due, or -1. */
static int resume_due(struct timesvc *ts)
{
	int64_t now = clock_ns(CLOCK_MONOTONIC), next = INT64_MAX;

	for (unsigned int i = 0; i < TIMESVC_MAX_CONNS; i++) {
		struct tconn *c = &ts->conns[i];
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = i };

		if (c->fd < 0 || !c->resume_ns)
			continue;
		if (c->resume_ns <= now) {
			c->resume_ns = 0;
			epoll_ctl(ts->epfd, EPOLL_CTL_MOD, c->fd, &ev);
		} else if (c->resume_ns < next) {
			next = c->resume_ns;
		}
	}
	return next == INT64_MAX ? -1 : (int)((next - now + 999999) / 1000000);
}

static void *timesvc_thread(void *arg)
{
	struct timesvc *ts = arg;
	int timeout = -1;

	for (;;) {
		struct epoll_event evs[TIMESVC_MAX_CONNS + 1];
		int n = epoll_wait(ts->epfd, evs, TIMESVC_MAX_CONNS + 1, timeout);

		pthread_mutex_lock(&ts->lock);
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;

			if (tag == TAG_STOP) {
				pthread_mutex_unlock(&ts->lock);
				return NULL;
			}
			if (tag < TIMESVC_MAX_CONNS && ts->conns[tag].fd >= 0 &&
			    !ts->conns[tag].resume_ns)
				serve(ts, &ts->conns[tag]);
		}
		timeout = resume_due(ts);
		pthread_mutex_unlock(&ts->lock);
	}
}

int timesvc_new(const char *id, struct vsock_engine *eng, struct timesvc **out)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_STOP };
	struct timesvc *ts = calloc(1, sizeof(*ts));
	int rc;

	if (!ts)
		return -ENOMEM;
	snprintf(ts->id, sizeof(ts->id), "%s", id);
	ts->eng = eng;
	for (unsigned int i = 0; i < TIMESVC_MAX_CONNS; i++)
		ts->conns[i].fd = -1;
	pthread_mutex_init(&ts->lock, NULL);
	ts->epfd = epoll_create1(EPOLL_CLOEXEC);
	ts->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ts->epfd < 0 || ts->stopfd < 0 ||
	    epoll_ctl(ts->epfd, EPOLL_CTL_ADD, ts->stopfd, &ev) < 0) {
		rc = -errno;
		goto out_close;
	}
	rc = -pthread_create(&ts->thread, NULL, timesvc_thread, ts);
	if (rc < 0)
		goto out_close;
	rc = vsock_engine_bind_port(eng, TIMESVC_PORT, on_accept, ts);
	if (rc < 0) {
		eventfd_write(ts->stopfd, 1);
		pthread_join(ts->thread, NULL);
		goto out_close;
	}
	vireo_log(VIREO_LOG_INFO, TAG, "%s: time service on host port %u", id, TIMESVC_PORT);
	*out = ts;
	return 0;

out_close:
	if (ts->epfd >= 0)
		close(ts->epfd);
	if (ts->stopfd >= 0)
		close(ts->stopfd);
	pthread_mutex_destroy(&ts->lock);
	free(ts);
	return rc;
}

void timesvc_free(struct timesvc *ts)
{
	if (!ts)
		return;
	/* Unbinding takes the engine's lock: no accept callback runs after it. */
	vsock_engine_bind_port(ts->eng, TIMESVC_PORT, NULL, NULL);
	eventfd_write(ts->stopfd, 1);
	pthread_join(ts->thread, NULL);
	for (unsigned int i = 0; i < TIMESVC_MAX_CONNS; i++)
		if (ts->conns[i].fd >= 0)
			close(ts->conns[i].fd);
	close(ts->epfd);
	close(ts->stopfd);
	pthread_mutex_destroy(&ts->lock);
	free(ts);
}

void timesvc_get_stats(struct timesvc *ts, struct timesvc_stats *s)
{
	pthread_mutex_lock(&ts->lock);
	*s = ts->stats;
	pthread_mutex_unlock(&ts->lock);
}
