// SPDX-License-Identifier: MIT
/*
 * blk/file: a raw image file or a host block device, through io_uring (liburing).
 * One ring per queue, created when the queue starts; its completions are signalled
 * on an eventfd that the queue's core thread watches, so requests complete on the
 * thread that submitted them and the driver has no thread of its own. Discard punches
 * holes, write-zeroes asks fallocate for zeroed ranges, flush is fdatasync.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vireo/blk.h>
#include <vireo/driver.h>
#include <vireo/log.h>
#include <vireo/loop.h>
#include <vireo/params.h>

#define FILE_QUEUE_DEPTH  128
#define FILE_MAX_QUEUES	  16
#define FILE_MAX_SEGMENTS 256

struct file_queue {
	struct file_dev *dev;
	struct io_uring ring;
	bool ring_ready;
	int efd;
	struct vireo_watch *watch;
	unsigned int queued;	 /* SQEs prepared but not yet submitted */
	struct vireo_loop *loop; /* the queue's: completions and batched submits */
};

struct file_dev {
	char path[256];
	int fd;
	bool direct;
	bool readonly;
	bool is_blockdev;
	uint64_t size;
	uint32_t logical;
	uint32_t physical;
	unsigned int queues;
	struct vireo_blk *blk;
	struct file_queue q[FILE_MAX_QUEUES];
	atomic_uint_fast64_t read_ops, read_bytes, write_ops, write_bytes, flush_ops, discard_ops,
		errors;
};

static const struct vireo_param_decl file_params[] = {
	{ VIREO_PARAM_STRING("path", NULL, "image file or block device to serve"),
	  .flags = VIREO_PARAM_F_REQUIRED },
	{ VIREO_PARAM_BOOL("direct", "off", "open with O_DIRECT (bypass the host page cache)") },
	{ VIREO_PARAM_UINT("queues", "4", "most queues the guest may use, 1 to 16") },
	{ 0 } /* sentinel */
};

/* Size and block sizes of a regular file or a block device. */
static int file_probe(struct file_dev *fd)
{
	struct stat st;
	int ssz = 512;
	unsigned int psz = 0;

	if (fstat(fd->fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		fd->is_blockdev = true;
		if (ioctl(fd->fd, BLKGETSIZE64, &fd->size) < 0 ||
		    ioctl(fd->fd, BLKSSZGET, &ssz) < 0)
			return -errno;
		if (ioctl(fd->fd, BLKPBSZGET, &psz) < 0)
			psz = 0;
		fd->logical = (uint32_t)ssz;
		fd->physical = psz ? psz : (uint32_t)ssz;
	} else if (S_ISREG(st.st_mode)) {
		fd->size = (uint64_t)st.st_size;
		/* O_DIRECT on files wants the file system's block alignment. */
		fd->logical = fd->direct ? (uint32_t)st.st_blksize : 512;
		if (fd->logical < 512 || fd->logical > 4096)
			fd->logical = 4096;
		fd->physical = (uint32_t)st.st_blksize;
		if (fd->physical < fd->logical)
			fd->physical = fd->logical;
	} else {
		return -ENOTBLK;
	}
	fd->size -= fd->size % fd->logical;
	return fd->size ? 0 : -ENOSPC;
}

static int file_open(struct vireo_blk *blk, const struct vireo_params *params)
{
	const char *id = vireo_blk_id(blk), *path = NULL;
	struct file_dev *fd;
	uint64_t queues;
	int rc, flags;

	fd = calloc(1, sizeof(*fd));
	if (!fd)
		return -ENOMEM;
	fd->blk = blk;
	/* The spec's readonly=on: the backing store is opened read-only too. */
	fd->readonly = vireo_blk_read_only(blk);
	rc = vireo_param_get_string(params, "path", &path);
	if (rc == 0)
		rc = vireo_param_get_bool(params, "direct", &fd->direct);
	if (rc == 0)
		rc = vireo_param_get_uint(params, "queues", &queues);
	if (rc < 0) {
		VIREO_ERR("%s: reading parameters: %s", id, strerror(-rc));
		goto out_free;
	}
	if (queues < 1 || queues > FILE_MAX_QUEUES) {
		VIREO_ERR("%s: queues %llu: expected 1 to %d", id, (unsigned long long)queues,
			  FILE_MAX_QUEUES);
		rc = -EINVAL;
		goto out_free;
	}
	fd->queues = (unsigned int)queues;
	snprintf(fd->path, sizeof(fd->path), "%s", path);
	flags = (fd->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (fd->direct ? O_DIRECT : 0);
	fd->fd = open(path, flags);
	if (fd->fd < 0) {
		rc = -errno;
		VIREO_ERR("%s: open %s: %s", id, path, strerror(-rc));
		goto out_free;
	}
	rc = file_probe(fd);
	if (rc < 0) {
		VIREO_ERR("%s: %s: %s", id, path,
			  rc == -ENOTBLK  ? "not a regular file or block device"
			  : rc == -ENOSPC ? "empty"
					  : strerror(-rc));
		goto out_close;
	}
	vireo_blk_set_priv(blk, fd);
	VIREO_INFO("%s: %s, %llu bytes, %u-byte blocks%s%s", id, path, (unsigned long long)fd->size,
		   fd->logical, fd->direct ? ", O_DIRECT" : "", fd->readonly ? ", read-only" : "");
	return 0;

out_close:
	close(fd->fd);
out_free:
	free(fd);
	return rc;
}

static void file_close(struct vireo_blk *blk)
{
	struct file_dev *fd = vireo_blk_priv(blk);

	if (!fd->readonly && fdatasync(fd->fd) < 0)
		VIREO_WARN("%s: final fdatasync: %s", vireo_blk_id(blk), strerror(errno));
	close(fd->fd);
	free(fd);
	vireo_blk_set_priv(blk, NULL);
}

static int file_get_geometry(struct vireo_blk *blk, struct vireo_blk_geometry *geo)
{
	const struct file_dev *fd = vireo_blk_priv(blk);

	geo->capacity = fd->size;
	geo->logical_block_size = fd->logical;
	geo->physical_block_size = fd->physical;
	geo->max_queues = fd->queues;
	geo->queue_depth = FILE_QUEUE_DEPTH;
	geo->max_segments = FILE_MAX_SEGMENTS;
	geo->discard_granularity = fd->physical;
	/* The host page cache (or the disk's) is a volatile cache: guests must flush. */
	geo->flags = VIREO_BLK_F_FLUSH;
	if (fd->readonly)
		geo->flags |= VIREO_BLK_F_READ_ONLY;
	else
		geo->flags |= VIREO_BLK_F_DISCARD | VIREO_BLK_F_WRITE_ZEROES;
	return 0;
}

static void file_count(struct file_dev *fd, const struct vireo_blk_req *req, int res)
{
	if (res < 0) {
		atomic_fetch_add(&fd->errors, 1);
		return;
	}
	switch (req->op) {
	case VIREO_BLK_OP_READ:
		atomic_fetch_add(&fd->read_ops, 1);
		atomic_fetch_add(&fd->read_bytes, req->length);
		break;
	case VIREO_BLK_OP_WRITE:
		atomic_fetch_add(&fd->write_ops, 1);
		atomic_fetch_add(&fd->write_bytes, req->length);
		break;
	case VIREO_BLK_OP_FLUSH:
		atomic_fetch_add(&fd->flush_ops, 1);
		break;
	default:
		atomic_fetch_add(&fd->discard_ops, 1);
	}
}

/* The queue's eventfd fired: complete every finished request. */
/* Completes every request the ring has finished. */
static void file_reap(struct file_queue *q)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	io_uring_for_each_cqe(&q->ring, head, cqe)
	{
		struct vireo_blk_req *req = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		n++;
		if (!req)
			continue; /* a defused SQE (see file_submit) */
		/* A short read or write of a raw image is an error, not a retry. */
		if (res >= 0 && (req->op == VIREO_BLK_OP_READ || req->op == VIREO_BLK_OP_WRITE) &&
		    (uint64_t)res != req->length)
			res = -EIO;
		else if (res > 0)
			res = 0;
		file_count(q->dev, req, res);
		vireo_blk_complete(req, res);
	}
	io_uring_cq_advance(&q->ring, n);
}

/* The queue's eventfd fired: io_uring finished something. */
static void file_on_completions(void *arg, int efd, uint32_t events)
{
	uint64_t count;

	(void)events;
	(void)!read(efd, &count, sizeof(count));
	file_reap(arg);
}

static int file_queue_start(struct vireo_blk *blk, unsigned int queue)
{
	struct file_dev *fd = vireo_blk_priv(blk);
	struct file_queue *q = &fd->q[queue];
	int rc;

	q->dev = fd;
	rc = io_uring_queue_init(FILE_QUEUE_DEPTH, &q->ring, 0);
	if (rc < 0) {
		VIREO_ERR("%s: io_uring for queue %u: %s", vireo_blk_id(blk), queue, strerror(-rc));
		return rc;
	}
	q->ring_ready = true;
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->efd < 0) {
		rc = -errno;
		goto out_exit_ring;
	}
	rc = io_uring_register_eventfd(&q->ring, q->efd);
	if (rc < 0)
		goto out_close_efd;
	q->loop = vireo_blk_queue_loop(blk, queue);
	if (!q->loop) {
		VIREO_ERR("%s: queue %u has no event loop to complete on", vireo_blk_id(blk),
			  queue);
		rc = -EINVAL;
		goto out_exit_ring;
	}
	rc = vireo_loop_watch_fd(q->loop, q->efd, VIREO_POLL_IN, file_on_completions, q, &q->watch);
	if (rc < 0)
		goto out_close_efd;
	return 0;

out_close_efd:
	close(q->efd);
out_exit_ring:
	io_uring_queue_exit(&q->ring);
	q->ring_ready = false;
	return rc;
}

static void file_queue_stop(struct vireo_blk *blk, unsigned int queue)
{
	struct file_dev *fd = vireo_blk_priv(blk);
	struct file_queue *q = &fd->q[queue];

	if (!q->ring_ready)
		return;
	vireo_watch_remove(q->watch);
	close(q->efd);
	io_uring_queue_exit(&q->ring);
	q->ring_ready = false;
}

/* Deferred on the queue's loop by the first request of a batch: start them all. */
static void file_flush(void *arg)
{
	struct file_queue *q = arg;
	int rc;

	rc = io_uring_submit(&q->ring);
	if (rc >= 0) {
		q->queued = 0;
		/* Page-cache hits often finish inside the submit: complete them now. */
		file_reap(q);
		return;
	}
	/*
	 * Nothing was taken (-EAGAIN, -EBUSY while completions are reaped): the
	 * requests stay in the ring; try again on the loop's next turn.
	 */
	VIREO_WARN("%s: io_uring_submit: %s; retrying", vireo_blk_id(q->dev->blk), strerror(-rc));
	if (vireo_loop_defer(q->loop, file_flush, q) < 0)
		VIREO_ERR("%s: cannot retry the submission", vireo_blk_id(q->dev->blk));
}

static int file_submit(struct vireo_blk *blk, struct vireo_blk_req *req)
{
	struct file_dev *fd = vireo_blk_priv(blk);
	struct file_queue *q = &fd->q[req->queue];
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);
	int rc, mode;

	if (!sqe)
		return -EBUSY;
	switch (req->op) {
	case VIREO_BLK_OP_READ:
		io_uring_prep_readv(sqe, fd->fd, req->iov, req->iovcnt, req->offset);
		break;
	case VIREO_BLK_OP_WRITE:
		io_uring_prep_writev(sqe, fd->fd, req->iov, req->iovcnt, req->offset);
		break;
	case VIREO_BLK_OP_FLUSH:
		io_uring_prep_fsync(sqe, fd->fd, IORING_FSYNC_DATASYNC);
		break;
	case VIREO_BLK_OP_DISCARD:
	case VIREO_BLK_OP_WRITE_ZEROES:
		/* A punched hole reads as zeroes too, so UNMAP may deallocate. */
		mode = req->op == VIREO_BLK_OP_DISCARD || (req->flags & VIREO_BLK_REQ_F_UNMAP)
			       ? FALLOC_FL_PUNCH_HOLE
			       : FALLOC_FL_ZERO_RANGE;
		io_uring_prep_fallocate(sqe, fd->fd, mode | FALLOC_FL_KEEP_SIZE, (off_t)req->offset,
					(off_t)req->length);
		break;
	default:
		return -EOPNOTSUPP;
	}
	io_uring_sqe_set_data(sqe, req);
	/*
	 * Batch: the first request of a batch asks the queue's loop to submit once
	 * the core has handed over everything it took from the ring this time (one
	 * io_uring_enter for a whole kick instead of one per request).
	 */
	if (q->queued++ == 0 && vireo_loop_defer(q->loop, file_flush, q) < 0) {
		q->queued = 0;
		rc = io_uring_submit(&q->ring);
		if (rc < 0) {
			/* The SQE stays in the ring and goes with the next submit: defuse it. */
			io_uring_prep_nop(sqe);
			io_uring_sqe_set_data(sqe, NULL);
			return rc;
		}
	}
	return 0;
}

static int file_get_stats(struct vireo_blk *blk, struct vireo_blk_stats *stats)
{
	struct file_dev *fd = vireo_blk_priv(blk);

	stats->read_ops = atomic_load(&fd->read_ops);
	stats->read_bytes = atomic_load(&fd->read_bytes);
	stats->write_ops = atomic_load(&fd->write_ops);
	stats->write_bytes = atomic_load(&fd->write_bytes);
	stats->flush_ops = atomic_load(&fd->flush_ops);
	stats->discard_ops = atomic_load(&fd->discard_ops);
	stats->errors = atomic_load(&fd->errors);
	return 0;
}

static const struct vireo_blk_ops file_ops = {
	.struct_size = sizeof(struct vireo_blk_ops),
	.open = file_open,		   /* required */
	.get_geometry = file_get_geometry, /* required */
	.submit = file_submit,		   /* required; completes from the queue's loop */
	.close = file_close,		   /* optional */
	.queue_start = file_queue_start,   /* optional: one io_uring per queue */
	.queue_stop = file_queue_stop,	   /* optional */
	.get_stats = file_get_stats,	   /* optional */
};

static const struct vireo_match file_match[] = {
	{ VIREO_MATCH_NAME("file") }, /* `driver=file` */
	{ 0 }			      /* sentinel */
};

VIREO_DRIVER(.name = "blk-file", .version = "1.0.0", .license = "MIT",
	     .description = "raw image file or host block device through io_uring",
	     .dev_class = VIREO_CLASS_BLK, .ops.blk = &file_ops, .match = file_match,
	     .params = file_params);
