// SPDX-License-Identifier: MIT
/*
 * The control server thread: poll() over the listening socket, a stop eventfd and up
 * to CTL_MAX_CLIENTS clients. Clients are untrusted local processes: lines are
 * bounded, every request is answered (or the client dropped), and nothing a client
 * sends can stop the thread.
 */
#include "control/server.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/proto.h"

struct ctl_server {
	int listen_fd;
	int stop_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const struct ctl_command *cmds;
	const struct ctl_async_command *acmds; /* may be NULL */
	void *ctx;
	pthread_t thread;
	struct ctl_reader *clients[CTL_MAX_CLIENTS]; /* control thread only */
	bool busy[CTL_MAX_CLIENTS];		     /* a reply is pending; control thread */
	uint64_t gen[CTL_MAX_CLIENTS];		     /* bumped when a slot is dropped */
	int done_fd;				     /* pending replies are ready */
	pthread_mutex_t done_lock;		     /* protects: done, npending, stopped */
	struct ctl_pending *done;
	unsigned int npending; /* started and not yet freed */
	bool stopped;
};

struct ctl_pending {
	struct ctl_server *srv;
	unsigned int slot;
	uint64_t gen;
	int64_t id;
	struct json_object *rep;
	struct ctl_pending *next;
};

static const struct ctl_command *ctl_find(const struct ctl_server *srv, const char *name)
{
	for (const struct ctl_command *c = srv->cmds; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static const struct ctl_async_command *ctl_find_async(const struct ctl_server *srv,
						      const char *name)
{
	for (const struct ctl_async_command *c = srv->acmds; c && c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void ctl_server_release(struct ctl_server *srv)
{
	close(srv->done_fd);
	pthread_mutex_destroy(&srv->done_lock);
	free(srv);
}

void ctl_pending_done(struct ctl_pending *p, struct json_object *result, const char *err)
{
	struct ctl_server *srv = p->srv;
	uint64_t one = 1;
	bool last;

	p->rep = result ? ctl_reply_ok(p->id, result)
			: ctl_reply_error(p->id, "%s", err && err[0] ? err : "command failed");
	pthread_mutex_lock(&srv->done_lock);
	if (srv->stopped) {
		last = --srv->npending == 0;
		pthread_mutex_unlock(&srv->done_lock);
		json_object_put(p->rep);
		free(p);
		if (last)
			ctl_server_release(srv);
		return;
	}
	p->next = srv->done;
	srv->done = p;
	pthread_mutex_unlock(&srv->done_lock);
	(void)!write(srv->done_fd, &one, sizeof(one));
}

/* Starts an async command; NULL and *@pending when its reply comes later. */
static struct json_object *ctl_start_async(struct ctl_server *srv,
					   const struct ctl_async_command *cmd, unsigned int slot,
					   int64_t id, struct json_object *args, bool *pending)
{
	struct ctl_pending *p = calloc(1, sizeof(*p));
	char err[512] = "";

	if (!p)
		return ctl_reply_error(id, "out of memory");
	p->srv = srv;
	p->slot = slot;
	p->gen = srv->gen[slot];
	p->id = id;
	pthread_mutex_lock(&srv->done_lock);
	srv->npending++;
	pthread_mutex_unlock(&srv->done_lock);
	if (cmd->handler(srv->ctx, args, p, err, sizeof(err)) == 0) {
		*pending = true;
		return NULL;
	}
	pthread_mutex_lock(&srv->done_lock);
	srv->npending--;
	pthread_mutex_unlock(&srv->done_lock);
	free(p);
	return ctl_reply_error(id, "%s", err[0] ? err : "command failed");
}

/*
 * Builds the reply to one request line; NULL only when out of memory or, with
 * *@pending set, when an async command answers later.
 */
static struct json_object *ctl_answer(struct ctl_server *srv, unsigned int slot, const char *line,
				      bool *pending)
{
	struct json_object *req = json_tokener_parse(line), *jid, *jcmd, *args, *result, *rep;
	const struct ctl_async_command *acmd = NULL;
	const struct ctl_command *cmd;
	char err[512] = "";
	int64_t id = 0;

	if (!req || !json_object_is_type(req, json_type_object)) {
		json_object_put(req);
		return ctl_reply_error(0, "request is not a JSON object");
	}
	if (json_object_object_get_ex(req, "id", &jid))
		id = json_object_get_int64(jid);
	if (!json_object_object_get_ex(req, "cmd", &jcmd) ||
	    !json_object_is_type(jcmd, json_type_string)) {
		rep = ctl_reply_error(id, "request has no \"cmd\" string");
		goto out_put_req;
	}
	cmd = ctl_find(srv, json_object_get_string(jcmd));
	if (!cmd)
		acmd = ctl_find_async(srv, json_object_get_string(jcmd));
	if (!cmd && !acmd) {
		rep = ctl_reply_error(id, "unknown command '%s'", json_object_get_string(jcmd));
		goto out_put_req;
	}
	if (!json_object_object_get_ex(req, "args", &args) || !args) {
		args = json_object_new_object();
		json_object_object_add(req, "args", args);
	}
	if (!json_object_is_type(args, json_type_object)) {
		rep = ctl_reply_error(id, "\"args\" must be an object");
		goto out_put_req;
	}
	if (acmd) {
		rep = ctl_start_async(srv, acmd, slot, id, args, pending);
		goto out_put_req;
	}
	result = cmd->handler(srv->ctx, args, err, sizeof(err));
	if (result)
		rep = ctl_reply_ok(id, result);
	else
		rep = ctl_reply_error(id, "%s", err[0] ? err : "command failed");

out_put_req:
	json_object_put(req);
	return rep;
}

static void ctl_drop(struct ctl_server *srv, unsigned int i)
{
	close(srv->clients[i]->fd);
	free(srv->clients[i]);
	srv->clients[i] = NULL;
	srv->busy[i] = false;
	srv->gen[i]++; /* a reply still pending for it is dropped */
}

/* Serves every whole line a readable client has sent; drops it on error or EOF. */
static void ctl_serve_client(struct ctl_server *srv, unsigned int i)
{
	struct ctl_reader *r = srv->clients[i];
	struct json_object *rep;
	char *line;
	int rc;

	for (;;) {
		bool pending = false;

		if (srv->busy[i])
			return; /* replies keep request order: the rest waits */
		rc = ctl_read_line(r, &line);
		if (rc == -EAGAIN)
			return;
		if (rc < 0) {
			if (rc == -EMSGSIZE) {
				rep = ctl_reply_error(0, "request longer than %d bytes",
						      CTL_MAX_LINE);
				if (rep) {
					ctl_write_json(r->fd, rep);
					json_object_put(rep);
				}
			}
			ctl_drop(srv, i);
			return;
		}
		rep = ctl_answer(srv, i, line, &pending);
		if (pending) {
			srv->busy[i] = true;
			return;
		}
		if (!rep || ctl_write_json(r->fd, rep) < 0) {
			json_object_put(rep);
			ctl_drop(srv, i);
			return;
		}
		json_object_put(rep);
	}
}

/* Writes the replies async commands finished, then serves what their clients sent since. */
static void ctl_flush_done(struct ctl_server *srv)
{
	struct ctl_pending *list;
	uint64_t count;

	(void)!read(srv->done_fd, &count, sizeof(count));
	pthread_mutex_lock(&srv->done_lock);
	list = srv->done;
	srv->done = NULL;
	pthread_mutex_unlock(&srv->done_lock);
	while (list) {
		struct ctl_pending *p = list;
		unsigned int i = p->slot;

		list = p->next;
		if (srv->clients[i] && srv->gen[i] == p->gen) {
			srv->busy[i] = false;
			if (!p->rep || ctl_write_json(srv->clients[i]->fd, p->rep) < 0)
				ctl_drop(srv, i);
			else
				ctl_serve_client(srv, i); /* lines that arrived meanwhile */
		}
		json_object_put(p->rep);
		free(p);
		pthread_mutex_lock(&srv->done_lock);
		srv->npending--;
		pthread_mutex_unlock(&srv->done_lock);
	}
}

static void ctl_accept(struct ctl_server *srv)
{
	int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	/* A reply to a slow client must not block the thread for long. */
	struct timeval tv = { .tv_sec = 5 };

	if (fd < 0)
		return;
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (srv->clients[i])
			continue;
		srv->clients[i] = calloc(1, sizeof(*srv->clients[i]));
		if (!srv->clients[i])
			break;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		srv->clients[i]->fd = fd;
		return;
	}
	close(fd); /* full (or out of memory): the client sees EOF */
}

static void *ctl_thread(void *arg)
{
	struct ctl_server *srv = arg;
	struct pollfd pfd[3 + CTL_MAX_CLIENTS];
	unsigned int who[CTL_MAX_CLIENTS];

	for (;;) {
		nfds_t n = 3;

		pfd[0] = (struct pollfd){ .fd = srv->stop_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = srv->listen_fd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = srv->done_fd, .events = POLLIN };
		for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
			if (!srv->clients[i])
				continue;
			who[n - 3] = i;
			/* A busy client is only watched for hanging up. */
			pfd[n++] = (struct pollfd){ .fd = srv->clients[i]->fd,
						    .events = srv->busy[i] ? 0 : POLLIN };
		}
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents)
			break;
		for (nfds_t k = 3; k < n; k++) {
			unsigned int i = who[k - 3];

			if (!pfd[k].revents || !srv->clients[i])
				continue;
			if (srv->busy[i])
				ctl_drop(srv, i); /* hung up while its reply was pending */
			else
				ctl_serve_client(srv, i);
		}
		if (pfd[2].revents & POLLIN)
			ctl_flush_done(srv);
		if (pfd[1].revents & POLLIN)
			ctl_accept(srv);
	}
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (srv->clients[i])
			ctl_drop(srv, i);
	return NULL;
}

/* Removes a socket file nobody answers on; refuses to touch a live one. */
static int ctl_claim_path(const char *path)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = ctl_connect(path);
	if (fd >= 0) {
		close(fd);
		return -EADDRINUSE;
	}
	return unlink(path) < 0 ? -errno : 0;
}

int ctl_server_start(const char *path, const struct ctl_command *cmds, void *ctx,
		     struct ctl_server **out)
{
	return ctl_server_start_async(path, cmds, NULL, ctx, out);
}

int ctl_server_start_async(const char *path, const struct ctl_command *cmds,
			   const struct ctl_async_command *acmds, void *ctx,
			   struct ctl_server **out)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct ctl_server *srv;
	int rc;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	rc = ctl_claim_path(path);
	if (rc < 0)
		return rc;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->cmds = cmds;
	srv->acmds = acmds;
	srv->ctx = ctx;
	strcpy(srv->path, path);
	strcpy(addr.sun_path, path);

	pthread_mutex_init(&srv->done_lock, NULL);
	srv->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv->done_fd < 0) {
		rc = -errno;
		goto out_free_srv;
	}
	srv->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (srv->stop_fd < 0) {
		rc = -errno;
		goto out_close_done;
	}
	srv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (srv->listen_fd < 0) {
		rc = -errno;
		goto out_close_stop;
	}
	if (bind(srv->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    chmod(path, 0660) < 0 || listen(srv->listen_fd, CTL_MAX_CLIENTS) < 0) {
		rc = -errno;
		goto out_close_listen;
	}
	rc = -pthread_create(&srv->thread, NULL, ctl_thread, srv);
	if (rc < 0)
		goto out_unlink;
	*out = srv;
	return 0;

out_unlink:
	unlink(path);
out_close_listen:
	close(srv->listen_fd);
out_close_stop:
	close(srv->stop_fd);
out_close_done:
	close(srv->done_fd);
out_free_srv:
	pthread_mutex_destroy(&srv->done_lock);
	free(srv);
	return rc;
}

void ctl_server_stop(struct ctl_server *srv)
{
	struct ctl_pending *list;
	uint64_t one = 1;
	bool last;

	if (!srv)
		return;
	if (write(srv->stop_fd, &one, sizeof(one)) != sizeof(one))
		abort(); /* an eventfd write of 1 cannot fail; if it did we would hang */
	pthread_join(srv->thread, NULL);
	close(srv->listen_fd);
	close(srv->stop_fd);
	unlink(srv->path);
	/* Replies still to come (a guest that has not answered) free it when they do. */
	pthread_mutex_lock(&srv->done_lock);
	srv->stopped = true;
	list = srv->done;
	srv->done = NULL;
	while (list) {
		struct ctl_pending *p = list;

		list = p->next;
		json_object_put(p->rep);
		free(p);
		srv->npending--;
	}
	last = srv->npending == 0;
	pthread_mutex_unlock(&srv->done_lock);
	if (last)
		ctl_server_release(srv);
}
