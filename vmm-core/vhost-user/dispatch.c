// SPDX-License-Identifier: MIT
/*
 * vhost-user request handlers, one per row of the table at the bottom. A message
 * reaches a handler only after msg.c checked its size and fds against its request;
 * handlers check what depends on the session (queue index, ring size, features) and
 * take the fds they keep. Replies: the GET_* requests answer themselves; the others
 * answer a REPLY_ACK when the frontend asked for one.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <vireo/log.h>

#include "vhost-user/internal.h"
#include "virtio/virtio_wire.h"

#define TAG "vhost-user"

/* Ring features the vhost-user layer implements for every device model. */
#define VU_RING_FEATURES                                                   \
	((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_INDIRECT_DESC) | \
	 (1ull << VIRTIO_F_EVENT_IDX) | (1ull << VU_F_PROTOCOL_FEATURES))

typedef int (*vu_handler_t)(struct vu_dev *dev, struct vu_msg *msg);

static int vu_reply_u64(struct vu_dev *dev, struct vu_msg *msg, uint64_t value)
{
	return vu_msg_send_reply(dev->conn_fd, msg, &value, sizeof(value));
}

static uint64_t vu_offered_features(struct vu_dev *dev)
{
	return dev->ops->features(dev->model) | VU_RING_FEATURES;
}

static uint64_t vu_offered_protocol_features(struct vu_dev *dev)
{
	return VU_BASE_PROTOCOL_FEATURES | dev->ops->protocol_features;
}

/* The queue a state/u64 payload names, or NULL (logged). */
static struct vu_queue *vu_queue_of(struct vu_dev *dev, unsigned int index)
{
	if (index >= dev->nqueues) {
		vireo_log(VIREO_LOG_WARN, TAG, "%s: queue %u does not exist (%u queues)", dev->path,
			  index, dev->nqueues);
		return NULL;
	}
	return &dev->queues[index];
}

static int get_features(struct vu_dev *dev, struct vu_msg *msg)
{
	return vu_reply_u64(dev, msg, vu_offered_features(dev));
}

static int set_features(struct vu_dev *dev, struct vu_msg *msg)
{
	uint64_t features = msg->payload.u64;

	if (features & ~vu_offered_features(dev)) {
		vireo_log(VIREO_LOG_WARN, TAG,
			  "%s: frontend accepted features never offered: %#llx", dev->path,
			  (unsigned long long)(features & ~vu_offered_features(dev)));
		return -EINVAL;
	}
	if (dev->ops->set_features) {
		int rc = dev->ops->set_features(dev->model, features);

		if (rc < 0)
			return rc;
	}
	dev->features = features;
	dev->features_set = true;
	return 0;
}

static int set_owner(struct vu_dev *dev, struct vu_msg *msg)
{
	(void)msg;
	dev->owner = true;
	return 0;
}

static int reset_owner(struct vu_dev *dev, struct vu_msg *msg)
{
	(void)msg;
	vu_dev_reset_session(dev);
	return 0;
}

static int get_protocol_features(struct vu_dev *dev, struct vu_msg *msg)
{
	return vu_reply_u64(dev, msg, vu_offered_protocol_features(dev));
}

static int set_protocol_features(struct vu_dev *dev, struct vu_msg *msg)
{
	if (msg->payload.u64 & ~vu_offered_protocol_features(dev))
		return -EINVAL;
	dev->protocol_features = msg->payload.u64;
	return 0;
}

static int get_queue_num(struct vu_dev *dev, struct vu_msg *msg)
{
	return vu_reply_u64(dev, msg, dev->nqueues);
}

static int get_max_mem_slots(struct vu_dev *dev, struct vu_msg *msg)
{
	return vu_reply_u64(dev, msg, VIREO_MEM_MAX_REGIONS);
}

static void vu_desc_from_wire(const struct vu_mem_region *r, struct vireo_mem_desc *d)
{
	d->gpa = r->guest_phys_addr;
	d->size = r->memory_size;
	d->uaddr = r->userspace_addr;
	d->mmap_offset = r->mmap_offset;
}

static int vu_mem_add_logged(struct vu_dev *dev, const struct vu_mem_region *r, int fd)
{
	struct vireo_mem_desc d;
	enum vireo_mem_err why;
	int rc;

	vu_desc_from_wire(r, &d);
	pthread_mutex_lock(&dev->mem_lock);
	rc = vireo_mem_add(&dev->mem, &d, fd, &why);
	pthread_mutex_unlock(&dev->mem_lock);
	if (rc < 0)
		vireo_log(VIREO_LOG_WARN, TAG, "%s: memory region gpa %#llx size %#llx refused: %s",
			  dev->path, (unsigned long long)d.gpa, (unsigned long long)d.size,
			  vireo_mem_err_str(why));
	return rc;
}

/* Memory changes under running rings: park every worker, change, restart. */
static struct vu_mem_ref *vu_mem_ref_find(struct vu_dev *dev, const struct vu_mem_region *r)
{
	for (unsigned int i = 0; i < dev->nmem_refs; i++) {
		struct vu_mem_ref *m = &dev->mem_refs[i];

		if (m->gpa == r->guest_phys_addr && m->size == r->memory_size &&
		    m->uaddr == r->userspace_addr)
			return m;
	}
	return NULL;
}

static void vu_mem_ref_add(struct vu_dev *dev, const struct vu_mem_region *r)
{
	/* vireo_mem_add() refused a region past VIREO_MEM_MAX_REGIONS already. */
	dev->mem_refs[dev->nmem_refs++] =
		(struct vu_mem_ref){ r->guest_phys_addr, r->memory_size, r->userspace_addr, 1 };
}

/* Memory changes under running rings: park every worker, change, restart. */
static int set_mem_table(struct vu_dev *dev, struct vu_msg *msg)
{
	bool was_running[VU_MAX_QUEUES];
	int rc = 0;

	vu_queues_stop_all(dev, was_running);
	pthread_mutex_lock(&dev->mem_lock);
	vireo_mem_clear(&dev->mem);
	pthread_mutex_unlock(&dev->mem_lock);
	dev->nmem_refs = 0;
	for (unsigned int i = 0; i < msg->payload.mem.nregions && rc == 0; i++) {
		rc = vu_mem_add_logged(dev, &msg->payload.mem.regions[i], msg->fds[i]);
		if (rc == 0) {
			vu_msg_take_fd(msg, i);
			vu_mem_ref_add(dev, &msg->payload.mem.regions[i]);
		}
	}
	if (rc < 0) {
		/* All or nothing: a half table would let rings point at the wrong memory. */
		pthread_mutex_lock(&dev->mem_lock);
		vireo_mem_clear(&dev->mem);
		pthread_mutex_unlock(&dev->mem_lock);
		dev->nmem_refs = 0;
		return rc;
	}
	vu_queues_restart(dev, was_running);
	return 0;
}

static int add_mem_reg(struct vu_dev *dev, struct vu_msg *msg)
{
	const struct vu_mem_region *r = &msg->payload.mem_reg.region;
	struct vu_mem_ref *ref = vu_mem_ref_find(dev, r);
	bool was_running[VU_MAX_QUEUES];
	int rc;

	/* The same region again: count it; the fd that came with it is closed. */
	if (ref) {
		ref->refs++;
		return 0;
	}
	vu_queues_stop_all(dev, was_running);
	rc = vu_mem_add_logged(dev, r, msg->fds[0]);
	if (rc == 0) {
		vu_msg_take_fd(msg, 0);
		vu_mem_ref_add(dev, r);
	}
	vu_queues_restart(dev, was_running);
	return rc;
}

static int rem_mem_reg(struct vu_dev *dev, struct vu_msg *msg)
{
	const struct vu_mem_region *r = &msg->payload.mem_reg.region;
	struct vu_mem_ref *ref = vu_mem_ref_find(dev, r);
	bool was_running[VU_MAX_QUEUES];
	struct vireo_mem_desc d;
	enum vireo_mem_err why;
	int rc;

	if (ref && --ref->refs > 0)
		return 0; /* another user of the region remains */
	if (ref)
		*ref = dev->mem_refs[--dev->nmem_refs];
	vu_desc_from_wire(r, &d);
	vu_queues_stop_all(dev, was_running);
	pthread_mutex_lock(&dev->mem_lock);
	rc = vireo_mem_remove(&dev->mem, &d, &why);
	pthread_mutex_unlock(&dev->mem_lock);
	if (rc < 0)
		vireo_log(VIREO_LOG_WARN, TAG, "%s: REM_MEM_REG: %s", dev->path,
			  vireo_mem_err_str(why));
	vu_queues_restart(dev, was_running);
	return rc;
}

static int set_vring_num(struct vu_dev *dev, struct vu_msg *msg)
{
	struct vu_queue *q = vu_queue_of(dev, msg->payload.state.index);
	unsigned int num = msg->payload.state.num;

	if (!q)
		return -EINVAL;
	if (num == 0 || num > VU_MAX_RING || (num & (num - 1))) {
		vireo_log(VIREO_LOG_WARN, TAG, "%s: queue %u: size %u is not a power of 2 <= %u",
			  dev->path, q->index, num, VU_MAX_RING);
		return -EINVAL;
	}
	vu_queue_stop(q);
	q->num = num;
	return 0;
}

static int set_vring_addr(struct vu_dev *dev, struct vu_msg *msg)
{
	struct vu_queue *q = vu_queue_of(dev, msg->payload.addr.index);
	bool was_running;

	if (!q)
		return -EINVAL;
	was_running = q->running;
	vu_queue_stop(q);
	q->addr = msg->payload.addr;
	q->addr_set = true;
	return was_running ? vu_queue_maybe_start(q) : 0;
}

static int set_vring_base(struct vu_dev *dev, struct vu_msg *msg)
{
	struct vu_queue *q = vu_queue_of(dev, msg->payload.state.index);

	if (!q)
		return -EINVAL;
	/* Packed: avail slot | wrap << 15, and QEMU puts the used one above (32 bits). */
	if (msg->payload.state.num > UINT16_MAX &&
	    !(dev->features & (1ull << VIRTIO_F_RING_PACKED)))
		return -EINVAL;
	vu_queue_stop(q);
	q->base = msg->payload.state.num;
	q->base_set = true;
	return 0;
}

/* GET_VRING_BASE stops the ring: it restarts only with a new SET_VRING_KICK. */
static int get_vring_base(struct vu_dev *dev, struct vu_msg *msg)
{
	struct vu_queue *q = vu_queue_of(dev, msg->payload.state.index);
	struct vu_vring_state state;

	if (!q)
		return -EINVAL;
	vu_queue_stop(q);
	state.index = q->index;
	state.num = q->base;
	q->kick_set = false;
	if (q->kick_fd >= 0)
		close(q->kick_fd);
	q->kick_fd = -1;
	return vu_msg_send_reply(dev->conn_fd, msg, &state, sizeof(state));
}

static int set_vring_kick(struct vu_dev *dev, struct vu_msg *msg)
{
	struct vu_queue *q = vu_queue_of(dev, msg->payload.u64 & VU_VRING_IDX_MASK);

	if (!q)
		return -EINVAL;
	if (msg->payload.u64 & VU_VRING_NOFD) {
		vireo_log(VIREO_LOG_WARN, TAG,
			  "%s: queue %u: polling without a kick fd is not "
			  "supported",
			  dev->path, q->index);
		return -EINVAL;
	}
	vu_queue_stop(q);
	if (q->kick_fd >= 0)
		close(q->kick_fd);
	q->kick_fd = vu_msg_take_fd(msg, 0);
	q->kick_set = true;
	/* Without protocol features a ring is enabled as soon as it starts. */
	if (!(dev->features & (1ull << VU_F_PROTOCOL_FEATURES)))
		q->enabled = true;
	return vu_queue_maybe_start(q);
}

static void vu_swap_call(struct vu_queue *q, void *arg)
{
	int old = atomic_exchange(&q->call_fd, *(int *)arg);

	if (old >= 0)
		close(old);
}

static int set_vring_call(struct vu_dev *dev, struct vu_msg *msg)
{
	struct vu_queue *q = vu_queue_of(dev, msg->payload.u64 & VU_VRING_IDX_MASK);
	int fd;

	if (!q)
		return -EINVAL;
	fd = (msg->payload.u64 & VU_VRING_NOFD) ? -1 : vu_msg_take_fd(msg, 0);
	/* The worker may be signalling the old fd: swap it there, then close it. */
	vu_queue_sync(q, vu_swap_call, &fd);
	return 0;
}

static int set_vring_err(struct vu_dev *dev, struct vu_msg *msg)
{
	struct vu_queue *q = vu_queue_of(dev, msg->payload.u64 & VU_VRING_IDX_MASK);

	if (!q)
		return -EINVAL;
	if (q->err_fd >= 0)
		close(q->err_fd);
	q->err_fd = (msg->payload.u64 & VU_VRING_NOFD) ? -1 : vu_msg_take_fd(msg, 0);
	return 0;
}

static int set_vring_enable(struct vu_dev *dev, struct vu_msg *msg)
{
	struct vu_queue *q = vu_queue_of(dev, msg->payload.state.index);

	if (!q || msg->payload.state.num > 1)
		return -EINVAL;
	q->enabled = msg->payload.state.num == 1;
	if (!q->enabled) {
		vu_queue_stop(q);
		return 0;
	}
	return vu_queue_maybe_start(q);
}

static int get_config(struct vu_dev *dev, struct vu_msg *msg)
{
	struct vu_config *cfg = &msg->payload.config;
	const size_t head = offsetof(struct vu_config, payload);
	int rc = -ENOTSUP;

	memset(cfg->payload, 0, sizeof(cfg->payload));
	if (dev->ops->get_config)
		rc = dev->ops->get_config(dev->model, cfg->payload, cfg->offset, cfg->size);
	if (rc < 0) {
		/* A header-only answer tells the frontend the read failed. */
		vu_msg_send_reply(dev->conn_fd, msg, cfg, head);
		return rc;
	}
	return vu_msg_send_reply(dev->conn_fd, msg, cfg, head + cfg->size);
}

static int set_config(struct vu_dev *dev, struct vu_msg *msg)
{
	const struct vu_config *cfg = &msg->payload.config;

	if (!dev->ops->set_config)
		return -ENOTSUP;
	return dev->ops->set_config(dev->model, cfg->payload, cfg->offset, cfg->size);
}

static bool vu_inflight_negotiated(struct vu_dev *dev)
{
	return dev->protocol_features & (1ull << VU_PROTOCOL_F_INFLIGHT_SHMFD);
}

/* A new, zeroed region for the frontend to keep (it asks before starting rings). */
static int get_inflight_fd(struct vu_dev *dev, struct vu_msg *msg)
{
	struct vu_inflight ask = msg->payload.inflight, reply;
	struct vu_hdr hdr = { .request = msg->hdr.request,
			      .flags = VU_VERSION | VU_FLAG_REPLY,
			      .size = sizeof(reply) };
	int fd, rc;

	if (!vu_inflight_negotiated(dev) || ask.num_queues > dev->nqueues)
		return -EINVAL;
	vu_queues_stop_all(dev, (bool[VU_MAX_QUEUES]){ 0 });
	vu_inflight_unmap(&dev->inflight);
	fd = vu_inflight_create(ask.num_queues, ask.queue_size, &dev->inflight);
	if (fd < 0) {
		vu_queues_attach_inflight(dev);
		return fd;
	}
	vu_queues_attach_inflight(dev);
	reply = (struct vu_inflight){ .mmap_size = dev->inflight.size,
				      .mmap_offset = 0,
				      .num_queues = ask.num_queues,
				      .queue_size = ask.queue_size };
	rc = vu_msg_send(dev->conn_fd, &hdr, &reply, &fd, 1);
	close(fd); /* our mapping stays; the frontend has its own fd now */
	return rc;
}

/* The region a previous session (maybe a previous vireod) was given. */
static int set_inflight_fd(struct vu_dev *dev, struct vu_msg *msg)
{
	const struct vu_inflight *in = &msg->payload.inflight;
	int rc;

	if (!vu_inflight_negotiated(dev) || in->num_queues > dev->nqueues)
		return -EINVAL;
	vu_queues_stop_all(dev, (bool[VU_MAX_QUEUES]){ 0 });
	vu_inflight_unmap(&dev->inflight);
	rc = vu_inflight_map(msg->fds[0], in->mmap_size, in->mmap_offset, in->num_queues,
			     in->queue_size, &dev->inflight);
	if (rc < 0)
		vireo_log(VIREO_LOG_WARN, TAG,
			  "%s: in-flight region refused (%llu bytes for %u "
			  "queues of %u)",
			  dev->path, (unsigned long long)in->mmap_size, in->num_queues,
			  in->queue_size);
	else
		vireo_log(VIREO_LOG_INFO, TAG, "%s: in-flight region handed back: %u queues of %u",
			  dev->path, in->num_queues, in->queue_size);
	vu_queues_attach_inflight(dev);
	return rc;
}

static int reset_device(struct vu_dev *dev, struct vu_msg *msg)
{
	(void)msg;
	for (unsigned int i = 0; i < dev->nqueues; i++)
		vu_queue_reset(&dev->queues[i]);
	dev->features = 0;
	dev->features_set = false;
	atomic_store(&dev->broken, false);
	if (dev->ops->reset)
		dev->ops->reset(dev->model);
	return 0;
}

/* Requests the backend knows but does not offer the feature for. */
static int not_offered(struct vu_dev *dev, struct vu_msg *msg)
{
	vireo_log(VIREO_LOG_WARN, TAG, "%s: %s refused: its feature was not offered", dev->path,
		  vu_request_name(msg->hdr.request));
	return -ENOTSUP;
}

struct vu_handler {
	vu_handler_t fn;
	bool replies; /* the request has a reply of its own */
};

#define H(req, fn, replies) [VU_REQ_##req] = { fn, replies }

static const struct vu_handler vu_handlers[VU_REQ_MAX] = {
	H(GET_FEATURES, get_features, true),
	H(SET_FEATURES, set_features, false),
	H(SET_OWNER, set_owner, false),
	H(RESET_OWNER, reset_owner, false),
	H(SET_MEM_TABLE, set_mem_table, false),
	H(SET_LOG_BASE, not_offered, false),
	H(SET_LOG_FD, not_offered, false),
	H(SET_VRING_NUM, set_vring_num, false),
	H(SET_VRING_ADDR, set_vring_addr, false),
	H(SET_VRING_BASE, set_vring_base, false),
	H(GET_VRING_BASE, get_vring_base, true),
	H(SET_VRING_KICK, set_vring_kick, false),
	H(SET_VRING_CALL, set_vring_call, false),
	H(SET_VRING_ERR, set_vring_err, false),
	H(GET_PROTOCOL_FEATURES, get_protocol_features, true),
	H(SET_PROTOCOL_FEATURES, set_protocol_features, false),
	H(GET_QUEUE_NUM, get_queue_num, true),
	H(SET_VRING_ENABLE, set_vring_enable, false),
	H(SEND_RARP, not_offered, false),
	H(NET_SET_MTU, not_offered, false),
	H(SET_BACKEND_REQ_FD, not_offered, false),
	H(SET_VRING_ENDIAN, not_offered, false),
	H(GET_CONFIG, get_config, true),
	H(SET_CONFIG, set_config, false),
	H(GET_INFLIGHT_FD, get_inflight_fd, true),
	H(SET_INFLIGHT_FD, set_inflight_fd, false),
	H(RESET_DEVICE, reset_device, false),
	H(VRING_KICK, not_offered, false),
	H(GET_MAX_MEM_SLOTS, get_max_mem_slots, true),
	H(ADD_MEM_REG, add_mem_reg, false),
	H(REM_MEM_REG, rem_mem_reg, false),
	H(SET_STATUS, not_offered, false),
	H(GET_STATUS, not_offered, false),
};

int vu_dispatch(struct vu_dev *dev, struct vu_msg *msg)
{
	const struct vu_handler *h = &vu_handlers[msg->hdr.request];
	int rc;

	if (!h->fn) {
		atomic_fetch_add(&dev->n_refused, 1);
		return -ENOTSUP; /* msg.c knows every request this table lacks */
	}
	rc = h->fn(dev, msg);
	/* Counted before the NACK goes out: a frontend it wakes sees the refusal counted. */
	if (rc < 0)
		atomic_fetch_add(&dev->n_refused, 1);
	if (!h->replies && (msg->hdr.flags & VU_FLAG_NEED_REPLY) &&
	    (dev->protocol_features & (1ull << VU_PROTOCOL_F_REPLY_ACK))) {
		int ack = vu_reply_u64(dev, msg, rc < 0 ? 1 : 0);

		if (ack < 0) {
			if (rc >= 0)
				atomic_fetch_add(&dev->n_refused, 1);
			return ack;
		}
	}
	return rc;
}
