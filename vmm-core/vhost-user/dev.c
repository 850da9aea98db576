// SPDX-License-Identifier: MIT
/*
 * A vhost-user device's socket and control thread: listen, accept one frontend at a
 * time, read and dispatch its messages, and on disconnect (or a malformed message)
 * stop the queues, forget the session and wait for the next connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vireo/log.h>

#include "util/unix_listen.h"
#include "vhost-user/internal.h"

#define TAG "vhost-user"

int vu_dev_new(const char *socket_path, const struct vdev_ops *ops, void *model,
	       struct vu_dev **out)
{
	struct vu_dev *dev;
	unsigned int nq;

	if (strlen(socket_path) >= sizeof(dev->path))
		return -ENAMETOOLONG;
	nq = ops->num_queues(model);
	if (nq == 0 || nq > VU_MAX_QUEUES)
		return -EINVAL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	strcpy(dev->path, socket_path);
	dev->ops = ops;
	dev->model = model;
	dev->listen_fd = dev->conn_fd = dev->stop_fd = -1;
	dev->nqueues = nq;
	vireo_mem_init(&dev->mem);
	pthread_mutex_init(&dev->mem_lock, NULL);
	for (unsigned int i = 0; i < nq; i++) {
		int rc = vu_queue_init(dev, &dev->queues[i], i);

		if (rc < 0) {
			while (i--)
				vu_queue_fini(&dev->queues[i]);
			free(dev);
			return rc;
		}
	}
	*out = dev;
	return 0;
}

void vu_dev_reset_session(struct vu_dev *dev)
{
	for (unsigned int i = 0; i < dev->nqueues; i++)
		vu_queue_reset(&dev->queues[i]);
	pthread_mutex_lock(&dev->mem_lock);
	vireo_mem_clear(&dev->mem);
	pthread_mutex_unlock(&dev->mem_lock);
	dev->nmem_refs = 0;
	/* The frontend keeps the region and hands it back when it reconnects. */
	vu_inflight_unmap(&dev->inflight);
	vu_queues_attach_inflight(dev);
	dev->features = 0;
	dev->protocol_features = 0;
	dev->features_set = false;
	dev->owner = false;
	atomic_store(&dev->broken, false);
	if (dev->ops->reset)
		dev->ops->reset(dev->model);
}

static void vu_disconnect(struct vu_dev *dev, const char *why)
{
	if (dev->conn_fd < 0)
		return;
	vireo_log(VIREO_LOG_NOTICE, TAG, "%s: frontend disconnected (%s)", dev->path, why);
	vu_dev_reset_session(dev);
	close(dev->conn_fd);
	dev->conn_fd = -1;
	atomic_store(&dev->connected, false);
}

/* Reads and handles one message; false when the connection must end. */
static bool vu_handle_one(struct vu_dev *dev)
{
	enum vu_msg_err why;
	struct vu_msg msg;
	int rc;

	rc = vu_msg_recv(dev->conn_fd, &msg, &why);
	if (rc < 0) {
		vu_disconnect(dev, vu_msg_err_str(why));
		return false;
	}
	atomic_fetch_add(&dev->n_messages, 1);
	if (vu_msg_check(&msg, &why) < 0) {
		atomic_fetch_add(&dev->n_refused, 1);
		vireo_log(VIREO_LOG_WARN, TAG, "%s: malformed %s (request %u): %s", dev->path,
			  vu_request_name(msg.hdr.request), msg.hdr.request, vu_msg_err_str(why));
		vu_msg_close_fds(&msg);
		vu_disconnect(dev, "malformed message");
		return false;
	}
	rc = vu_dispatch(dev, &msg); /* counts a refusal itself, before any reply */
	vu_msg_close_fds(&msg);
	if (rc < 0) {
		vireo_log(VIREO_LOG_WARN, TAG, "%s: %s failed: %s", dev->path,
			  vu_request_name(msg.hdr.request), strerror(-rc));
	}
	return true;
}

static void vu_accept(struct vu_dev *dev)
{
	int fd = accept4(dev->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (dev->conn_fd >= 0) {
		/* One frontend per device; a second one is told no by the close. */
		vireo_log(VIREO_LOG_WARN, TAG, "%s: second frontend refused", dev->path);
		close(fd);
		return;
	}
	dev->conn_fd = fd;
	atomic_store(&dev->connected, true);
	atomic_fetch_add(&dev->n_connections, 1);
	vireo_log(VIREO_LOG_INFO, TAG, "%s: frontend connected", dev->path);
}

static void *vu_control_thread(void *arg)
{
	struct vu_dev *dev = arg;
	struct pollfd pfd[3];

	for (;;) {
		nfds_t n = 2;

		pfd[0] = (struct pollfd){ .fd = dev->stop_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = dev->listen_fd, .events = POLLIN };
		if (dev->conn_fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = dev->conn_fd, .events = POLLIN };
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents)
			break;
		if (n == 3 && pfd[2].revents)
			vu_handle_one(dev);
		if (pfd[1].revents & POLLIN)
			vu_accept(dev);
	}
	vu_disconnect(dev, "device stopping");
	return NULL;
}

int vu_dev_start(struct vu_dev *dev)
{
	int rc;

	dev->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (dev->stop_fd < 0)
		return -errno;
	/* One frontend at a time: a backlog of one. */
	dev->listen_fd = unix_listen(dev->path, 0, 1, 0);
	if (dev->listen_fd < 0) {
		rc = dev->listen_fd;
		dev->listen_fd = -1;
		goto out_close_stop;
	}
	rc = -pthread_create(&dev->control, NULL, vu_control_thread, dev);
	if (rc < 0)
		goto out_unlink;
	dev->control_started = true;
	return 0;

out_unlink:
	unlink(dev->path);
	close(dev->listen_fd);
	dev->listen_fd = -1;
out_close_stop:
	close(dev->stop_fd);
	dev->stop_fd = -1;
	return rc;
}

void vu_dev_stop(struct vu_dev *dev)
{
	uint64_t one = 1;

	if (!dev->control_started)
		return;
	if (write(dev->stop_fd, &one, sizeof(one)) != sizeof(one))
		abort(); /* an eventfd write of 1 cannot fail; if it did we would hang */
	pthread_join(dev->control, NULL);
	dev->control_started = false;
	close(dev->listen_fd);
	close(dev->stop_fd);
	dev->listen_fd = dev->stop_fd = -1;
	unlink(dev->path);
}

void vu_dev_free(struct vu_dev *dev)
{
	if (!dev)
		return;
	vu_dev_stop(dev);
	for (unsigned int i = 0; i < dev->nqueues; i++)
		vu_queue_fini(&dev->queues[i]);
	pthread_mutex_destroy(&dev->mem_lock);
	free(dev);
}

int vu_dev_mem_snapshot(struct vu_dev *dev, struct vu_mem_span *out, unsigned int cap)
{
	unsigned int n;
	int rc = 0;

	pthread_mutex_lock(&dev->mem_lock);
	n = dev->mem.nregions;
	if (n > cap)
		rc = -ENOBUFS;
	for (unsigned int i = 0; i < n && rc == 0; i++) {
		const struct vireo_mem_region *r = &dev->mem.regions[i];

		out[i] = (struct vu_mem_span){ r->gpa, r->size, r->mmap_offset,
					       fcntl(r->fd, F_DUPFD_CLOEXEC, 0) };
		if (out[i].fd < 0) {
			rc = -errno;
			while (i--)
				close(out[i].fd);
		}
	}
	pthread_mutex_unlock(&dev->mem_lock);
	return rc < 0 ? rc : (int)n;
}

void vu_dev_get_stats(struct vu_dev *dev, struct vu_dev_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->connections = atomic_load(&dev->n_connections);
	s->messages = atomic_load(&dev->n_messages);
	s->refused = atomic_load(&dev->n_refused);
	s->kicks = atomic_load(&dev->n_kicks);
	s->calls = atomic_load(&dev->n_calls);
	s->broken = atomic_load(&dev->broken);
	s->connected = atomic_load(&dev->connected);
	s->queues_running = atomic_load(&dev->queues_running);
}

uint64_t vu_dev_features(const struct vu_dev *dev)
{
	return dev->features;
}

struct vireo_loop *vu_dev_queue_loop(struct vu_dev *dev, unsigned int index)
{
	return index < dev->nqueues ? dev->queues[index].loop : NULL;
}
