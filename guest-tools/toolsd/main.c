// SPDX-License-Identifier: MIT
/*
 * vireo-toolsd: the guest agent. Listens on an AF_VSOCK port, serves JSON-line
 * requests from the host (one object per line, the framing of vireod's control
 * protocol), and sends heartbeats to the connections that subscribed to them.
 * One thread: an epoll loop over the listener, the clients, the heartbeat and
 * auto-thaw timers and SIGTERM/SIGINT.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <linux/vm_sockets.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "control/proto.h"
#include "toolsd.h"

struct client {
	struct ctl_reader reader; /* large: clients are allocated one by one */
	bool subscribed;
	bool memstats; /* subscribed with "memstats": true */
	bool balloon;  /* subscribed with "balloon": true */
};

static struct toolsd_config cfg = {
	.port = TOOLSD_DEFAULT_PORT,
	.heartbeat_s = 5,
	.thaw_after_s = 60,
	.max_clients = 8,
};
static struct client **clients; /* cfg.max_clients slots */
static uint64_t heartbeat_seq;

static int cmd_ping(struct json_object *args, struct json_object **result, char *err, size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	*result = json_object_new_object();
	json_object_object_add(*result, "pong", json_object_new_boolean(1));
	return 0;
}

static int cmd_version(struct json_object *args, struct json_object **result, char *err,
		       size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	*result = json_object_new_object();
	json_object_object_add(*result, "version", json_object_new_string(VIREO_VERSION));
	json_object_object_add(*result, "protocol", json_object_new_int(TOOLSD_PROTOCOL));
	return 0;
}

/* "subscribe" is handled with the client at hand: see serve_line(). */
static const struct {
	const char *name;
	toolsd_cmd_fn fn;
} commands[] = {
	{ "ping", cmd_ping },
	{ "version", cmd_version },
	{ "info", toolsd_cmd_info },
	{ "shutdown", toolsd_cmd_shutdown },
	{ "reboot", toolsd_cmd_reboot },
	{ "halt", toolsd_cmd_halt },
	{ "fsfreeze", toolsd_cmd_fsfreeze },
	{ "thaw", toolsd_cmd_thaw },
	{ "fsfreeze-status", toolsd_cmd_fsfreeze_status },
	{ "time", toolsd_cmd_time },
	{ "set-time", toolsd_cmd_set_time },
	{ "balloon-set", toolsd_cmd_balloon_set },
	{ "balloon-status", toolsd_cmd_balloon_status },
	{ "balloon-done", toolsd_cmd_balloon_done },
	{ "balloon-reporting", toolsd_cmd_balloon_reporting },
};

static void drop_client(int epfd, int slot)
{
	struct client *c = clients[slot];
	bool was_relay;

	epoll_ctl(epfd, EPOLL_CTL_DEL, c->reader.fd, NULL);
	was_relay = toolsd_balloon_client_gone(c->reader.fd);
	close(c->reader.fd);
	free(c);
	clients[slot] = NULL;
	/* The balloon's batches go to another host connection that asked for them. */
	for (unsigned int i = 0; was_relay && i < cfg.max_clients; i++) {
		if (clients[i] && clients[i]->balloon) {
			toolsd_balloon_relay(clients[i]->reader.fd);
			break;
		}
	}
}

/* Answers one request line. Returns false when the client must be dropped. */
static bool serve_line(struct client *c, const char *line)
{
	struct json_object *req = json_tokener_parse(line), *v, *args = NULL, *result = NULL;
	struct json_object *reply;
	const char *name = NULL;
	int64_t id = -1;
	char err[256] = "";
	bool relay = false;
	int rc = -EINVAL;

	if (!req || !json_object_is_type(req, json_type_object)) {
		reply = ctl_reply_error(-1, "not a JSON object");
		goto out;
	}
	if (json_object_object_get_ex(req, "id", &v) && json_object_is_type(v, json_type_int))
		id = json_object_get_int64(v);
	if (json_object_object_get_ex(req, "cmd", &v) && json_object_is_type(v, json_type_string))
		name = json_object_get_string(v);
	if (!json_object_object_get_ex(req, "args", &args) || !args)
		args = NULL;
	if (!name) {
		reply = ctl_reply_error(id, "no \"cmd\" string");
		goto out;
	}
	if (args && !json_object_is_type(args, json_type_object)) {
		reply = ctl_reply_error(id, "\"args\" is not an object");
		goto out;
	}
	if (!args) {
		args = json_object_new_object();
		json_object_object_add(req, "args", args);
	}
	if (cfg.verbose)
		toolsd_log("request %lld: %s", (long long)id, name);

	/* Only the relay that got the batches may answer for them. */
	if (strcmp(name, "balloon-done") == 0 && !toolsd_balloon_is_relay(c->reader.fd)) {
		reply = ctl_reply_error(id, "this connection is not the balloon relay");
		goto out;
	}
	if (strcmp(name, "subscribe") == 0) {
		c->subscribed = true;
		/* The host that punches the balloon's pages: it gets the batches. */
		if (json_object_object_get_ex(args, "balloon", &v) && json_object_get_boolean(v))
			relay = c->balloon = true;
		c->memstats = json_object_object_get_ex(args, "memstats", &v) &&
			      json_object_get_boolean(v);
		result = json_object_new_object();
		json_object_object_add(result, "heartbeat_s", json_object_new_int(cfg.heartbeat_s));
		reply = ctl_reply_ok(id, result);
		goto out;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(name, commands[i].name) == 0) {
			rc = commands[i].fn(args, &result, err, sizeof(err));
			if (rc == 0)
				reply = ctl_reply_ok(id,
						     result ? result : json_object_new_object());
			else
				reply = ctl_reply_error(id, "%s", err[0] ? err : strerror(-rc));
			goto out;
		}
	}
	reply = ctl_reply_error(id, "unknown command '%s'", name);
out:
	json_object_put(req);
	rc = reply ? ctl_write_json(c->reader.fd, reply) : -ENOMEM;
	json_object_put(reply);
	/* After the reply: batches (re-sent ones too) follow the subscription's answer. */
	if (rc == 0 && relay)
		toolsd_balloon_relay(c->reader.fd);
	return rc == 0;
}

/* Reads what a client sent and answers each whole line. */
static void serve_client(int epfd, int slot)
{
	struct client *c = clients[slot];
	char *line;
	int n;

	while ((n = ctl_read_line(&c->reader, &line)) >= 0) {
		if (n == 0)
			continue;
		if (!serve_line(c, line)) {
			drop_client(epfd, slot);
			return;
		}
		/* A power action runs once its reply is out. */
		toolsd_power_run();
	}
	if (n == -EAGAIN)
		return;
	if (n == -EMSGSIZE)
		toolsd_log("client sent a line over %d bytes: dropped", CTL_MAX_LINE);
	drop_client(epfd, slot);
}

static void accept_client(int epfd, int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	unsigned int slot;

	if (fd < 0)
		return;
	for (slot = 0; slot < cfg.max_clients && clients[slot]; slot++)
		;
	if (slot == cfg.max_clients) {
		toolsd_log("refused a connection: %u clients already", cfg.max_clients);
		close(fd);
		return;
	}
	/* A host that stops reading must not stall the agent for everyone. */
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	clients[slot] = calloc(1, sizeof(**clients));
	if (!clients[slot]) {
		close(fd);
		return;
	}
	clients[slot]->reader.fd = fd;
	ev.data.u64 = slot + 16;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		drop_client(epfd, slot);
}

static void send_heartbeats(int epfd)
{
	struct json_object *ev = json_object_new_object(), *ms = toolsd_memstats_event();
	struct sysinfo si;

	if (!ev) {
		json_object_put(ms);
		return;
	}
	sysinfo(&si);
	json_object_object_add(ev, "event", json_object_new_string("heartbeat"));
	json_object_object_add(ev, "seq", json_object_new_int64((int64_t)++heartbeat_seq));
	json_object_object_add(ev, "uptime_s", json_object_new_int64(si.uptime));
	json_object_object_add(ev, "version", json_object_new_string(VIREO_VERSION));
	json_object_object_add(ev, "protocol", json_object_new_int(TOOLSD_PROTOCOL));
	for (unsigned int i = 0; i < cfg.max_clients; i++)
		if (clients[i] && clients[i]->subscribed &&
		    (ctl_write_json(clients[i]->reader.fd, ev) < 0 ||
		     (ms && clients[i]->memstats && ctl_write_json(clients[i]->reader.fd, ms) < 0)))
			drop_client(epfd, (int)i);
	json_object_put(ev);
	json_object_put(ms);
}

static int listen_vsock(unsigned int port)
{
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
		.svm_port = port,
	};
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 8) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

static int add_watch(int epfd, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

enum { TAG_LISTEN = 1, TAG_SIGNAL, TAG_HEARTBEAT, TAG_THAW, TAG_BALLOON };

static int run(void)
{
	struct itimerspec hb = { .it_interval = { .tv_sec = cfg.heartbeat_s },
				 .it_value = { .tv_sec = cfg.heartbeat_s } };
	int epfd, lfd, sfd, hfd;
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	lfd = listen_vsock(cfg.port);
	if (lfd < 0) {
		toolsd_log("cannot listen on vsock port %u: %s (is a vsock transport loaded?)",
			   cfg.port, strerror(-lfd));
		return 1;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	hfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (epfd < 0 || sfd < 0 || hfd < 0 || timerfd_settime(hfd, 0, &hb, NULL) < 0 ||
	    add_watch(epfd, lfd, TAG_LISTEN) < 0 || add_watch(epfd, sfd, TAG_SIGNAL) < 0 ||
	    add_watch(epfd, hfd, TAG_HEARTBEAT) < 0 ||
	    add_watch(epfd, toolsd_freeze_timer_fd(), TAG_THAW) < 0) {
		toolsd_log("cannot set up the event loop: %s", strerror(errno));
		return 1;
	}
	toolsd_balloon_init(epfd, TAG_BALLOON);
	toolsd_log("vireo-toolsd %s listening on vsock port %u (protocol %d)", VIREO_VERSION,
		   cfg.port, TOOLSD_PROTOCOL);

	for (;;) {
		struct epoll_event evs[16];
		int n = epoll_wait(epfd, evs, 16, -1);
		uint64_t ticks;

		if (n < 0 && errno != EINTR)
			return 1;
		for (int i = 0; i < n; i++) {
			switch (evs[i].data.u64) {
			case TAG_LISTEN:
				accept_client(epfd, lfd);
				break;
			case TAG_SIGNAL:
				toolsd_log("stopping");
				toolsd_freeze_thaw_all();
				toolsd_balloon_close();
				return 0;
			case TAG_HEARTBEAT:
				if (read(hfd, &ticks, sizeof(ticks)) == sizeof(ticks))
					send_heartbeats(epfd);
				toolsd_balloon_tick();
				break;
			case TAG_BALLOON:
				toolsd_balloon_readable();
				break;
			case TAG_THAW:
				toolsd_freeze_timer_expired();
				break;
			default:
				if (clients[evs[i].data.u64 - 16])
					serve_client(epfd, (int)(evs[i].data.u64 - 16));
				break;
			}
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vireo-toolsd [--port N] [--heartbeat SECONDS] [--thaw-after SECONDS]\n"
		"                    [--max-clients N] [--verbose]\n"
		"                    [--step-threshold SECONDS] [--no-time-sync]\n"
		"The Vireo guest agent: serves the host's requests on AF_VSOCK port N (default "
		"%d).\n",
		TOOLSD_DEFAULT_PORT);
}

static bool parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = (unsigned int)v;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "heartbeat", required_argument, NULL, 'b' },
		{ "thaw-after", required_argument, NULL, 't' },
		{ "max-clients", required_argument, NULL, 'm' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "step-threshold", required_argument, NULL, 'S' },
		{ "no-time-sync", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "p:b:t:m:vh", opts, NULL)) != -1) {
		bool ok = true;

		switch (opt) {
		case 'p':
			ok = parse_uint(optarg, 1, UINT32_MAX - 1, &cfg.port);
			break;
		case 'b':
			ok = parse_uint(optarg, 1, 3600, &cfg.heartbeat_s);
			break;
		case 't':
			ok = parse_uint(optarg, 1, 24 * 3600, &cfg.thaw_after_s);
			break;
		case 'm':
			ok = parse_uint(optarg, 1, 64, &cfg.max_clients);
			break;
		case 'v':
			cfg.verbose = true;
			break;
		case 'S':
			if (!toolsd_discipline_set_threshold(optarg)) {
				fprintf(stderr,
					"vireo-toolsd: bad --step-threshold '%s' (seconds)\n",
					optarg);
				return 2;
			}
			break;
		case 'N':
			toolsd_discipline_disable();
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (!ok) {
			fprintf(stderr, "vireo-toolsd: bad value '%s' for --%s\n", optarg,
				opts[opt == 'p'	  ? 0
				     : opt == 'b' ? 1
				     : opt == 't' ? 2
						  : 3]
					.name);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	clients = calloc(cfg.max_clients, sizeof(*clients));
	if (!clients || toolsd_freeze_init(cfg.thaw_after_s) < 0) {
		toolsd_log("out of memory or timers");
		return 1;
	}
	if (toolsd_discipline_start() < 0)
		toolsd_log("time sync: cannot start its thread");
	rc = run();
	for (unsigned int i = 0; i < cfg.max_clients; i++)
		free(clients[i]);
	free(clients);
	return rc;
}
