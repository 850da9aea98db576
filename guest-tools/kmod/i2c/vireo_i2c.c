// SPDX-License-Identifier: GPL-2.0
/*
 * vireo_i2c: a virtio-i2c adapter (VIRTIO 1.2, section 5.19 "I2C Adapter Device",
 * device ID 34) for kernels built without CONFIG_I2C_VIRTIO, such as Debian's 6.1
 * and 6.12. Written from the specification.
 *
 * One transfer (an i2c_transfer() of N messages) becomes N requests on the single
 * request queue, all but the last flagged FAIL_NEXT, so that the device fails the
 * rest of the transfer once one message fails. Rings can be tiny (QEMU's
 * vhost-user-i2c-pci has 4 entries): the driver queues what fits, kicks, waits for
 * all of those, then queues the next ones. Every message of a transfer is sent even
 * after one failed, so the device's group always ends with the transfer and never
 * fails the first message of the next one.
 *
 * Data goes through bounce buffers the driver owns, so that a request the device
 * still holds after a timeout never points at the caller's memory: such a batch is
 * parked until the device returns it (or the device is reset on removal).
 */
#include <linux/completion.h>
#include <linux/err.h>
#include <linux/i2c.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/version.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

/* Wire format (5.19.3, 5.19.6). */
#define VIREO_I2C_F_ZERO_LENGTH_REQUEST 0
#define VIREO_I2C_FLAGS_FAIL_NEXT	BIT(0)
#define VIREO_I2C_FLAGS_M_RD		BIT(1)
#define VIREO_I2C_MSG_OK		0

/**
 * struct vireo_i2c_out_hdr - the device-readable header of a request
 * @addr: 7-bit address in bits 7..1
 * @padding: zero
 * @flags: VIREO_I2C_FLAGS_*
 */
struct vireo_i2c_out_hdr {
	__le16 addr;
	__le16 padding;
	__le32 flags;
};

struct vireo_i2c_batch;

/**
 * struct vireo_i2c_req - one message's request
 * @out: the header
 * @status: the in header, written by the device
 * @buf: bounce buffer of @len bytes; NULL for a zero-length message
 * @len: data bytes
 * @done: the device returned it
 * @batch: the transfer it belongs to
 */
struct vireo_i2c_req {
	struct vireo_i2c_out_hdr out;
	u8 status;
	u8 *buf;
	u16 len;
	bool done;
	struct vireo_i2c_batch *batch;
};

/**
 * struct vireo_i2c_batch - the requests of one transfer
 * @n: requests
 * @queued: handed to the device so far
 * @completed: returned by the device so far
 * @reqs: the requests
 */
struct vireo_i2c_batch {
	unsigned int n;
	unsigned int queued;
	unsigned int completed;
	struct vireo_i2c_req reqs[];
};

/**
 * struct vireo_i2c - one adapter
 * @vdev: the virtio device
 * @vq: its request queue
 * @adap: the I2C adapter
 * @done: signalled by the queue's callback (counts; waiters re-check the ring)
 * @parked: a timed-out batch the device still holds, or NULL
 * @zero_length: VIRTIO_I2C_F_ZERO_LENGTH_REQUEST negotiated
 *
 * The I2C core runs one transfer at a time per adapter (the bus lock), so the
 * queue, @parked and the batches are only touched by that transfer, by probe and
 * by remove; the callback only signals @done.
 */
struct vireo_i2c {
	struct virtio_device *vdev;
	struct virtqueue *vq;
	struct i2c_adapter adap;
	struct completion done;
	struct vireo_i2c_batch *parked;
	bool zero_length;
};

static void vireo_i2c_batch_free(struct vireo_i2c_batch *b)
{
	unsigned int i;

	if (!b)
		return;
	for (i = 0; i < b->n; i++)
		kfree(b->reqs[i].buf);
	kfree(b);
}

static void vireo_i2c_vq_done(struct virtqueue *vq)
{
	struct vireo_i2c *vi = vq->vdev->priv;

	complete(&vi->done);
}

/* Takes every used request off the ring; frees the parked batch once it is whole. */
static void vireo_i2c_reap(struct vireo_i2c *vi)
{
	struct vireo_i2c_req *req;
	unsigned int len;

	while ((req = virtqueue_get_buf(vi->vq, &len))) {
		req->done = true;
		req->batch->completed++;
	}
	if (vi->parked && vi->parked->completed == vi->parked->queued) {
		vireo_i2c_batch_free(vi->parked);
		vi->parked = NULL;
	}
}

/* Builds the batch: headers and bounce buffers, before anything is queued. */
static struct vireo_i2c_batch *vireo_i2c_prepare(struct vireo_i2c *vi, struct i2c_msg *msgs,
						 int num)
{
	struct vireo_i2c_batch *b;
	int i;

	b = kzalloc(struct_size(b, reqs, num), GFP_KERNEL);
	if (!b)
		return NULL;
	b->n = num;
	for (i = 0; i < num; i++) {
		struct vireo_i2c_req *req = &b->reqs[i];
		u32 flags = 0;

		req->batch = b;
		req->len = msgs[i].len;
		/* Every message but the last: a failure fails the rest of the transfer. */
		if (i < num - 1)
			flags |= VIREO_I2C_FLAGS_FAIL_NEXT;
		if (msgs[i].flags & I2C_M_RD)
			flags |= VIREO_I2C_FLAGS_M_RD;
		req->out.addr = cpu_to_le16(msgs[i].addr << 1);
		req->out.flags = cpu_to_le32(flags);
		req->status = 0xff;
		if (!req->len)
			continue;
		if (msgs[i].flags & I2C_M_RD)
			req->buf = kzalloc(req->len, GFP_KERNEL);
		else
			req->buf = kmemdup(msgs[i].buf, req->len, GFP_KERNEL);
		if (!req->buf) {
			vireo_i2c_batch_free(b);
			return NULL;
		}
	}
	return b;
}

static int vireo_i2c_add(struct vireo_i2c *vi, struct vireo_i2c_req *req, bool read)
{
	struct scatterlist hdr, data, status, *sgs[3];
	unsigned int out = 0, in = 0;

	sg_init_one(&hdr, &req->out, sizeof(req->out));
	sgs[out++] = &hdr;
	if (req->len) {
		sg_init_one(&data, req->buf, req->len);
		if (read)
			sgs[out + in++] = &data;
		else
			sgs[out++] = &data;
	}
	sg_init_one(&status, &req->status, sizeof(req->status));
	sgs[out + in++] = &status;
	return virtqueue_add_sgs(vi->vq, sgs, out, in, req, GFP_KERNEL);
}

/* Waits until the device has returned every queued request of @b, or @deadline. */
static int vireo_i2c_wait(struct vireo_i2c *vi, struct vireo_i2c_batch *b, unsigned long deadline)
{
	for (;;) {
		long left;

		vireo_i2c_reap(vi);
		if (b->completed == b->queued)
			return 0;
		left = (long)(deadline - jiffies);
		if (left <= 0)
			return -ETIMEDOUT;
		wait_for_completion_timeout(&vi->done, left);
	}
}

/* Queues every request of @b, as many at a time as the ring takes. */
static int vireo_i2c_run(struct vireo_i2c *vi, struct vireo_i2c_batch *b, struct i2c_msg *msgs)
{
	unsigned long deadline = jiffies + vi->adap.timeout;
	int rc;

	while (b->queued < b->n) {
		unsigned int first = b->queued;

		while (b->queued < b->n) {
			struct vireo_i2c_req *req = &b->reqs[b->queued];

			rc = vireo_i2c_add(vi, req, msgs[b->queued].flags & I2C_M_RD);
			if (rc == -ENOSPC && b->queued > first)
				break; /* the ring is full: send these, then the rest */
			if (rc < 0)
				return rc == -ENOSPC ? -EIO : rc;
			b->queued++;
		}
		virtqueue_kick(vi->vq);
		rc = vireo_i2c_wait(vi, b, deadline);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int vireo_i2c_xfer(struct i2c_adapter *adap, struct i2c_msg *msgs, int num)
{
	struct vireo_i2c *vi = i2c_get_adapdata(adap);
	struct vireo_i2c_batch *b;
	int i, rc;

	for (i = 0; i < num; i++) {
		/* Neither is in the specification: 7-bit addresses, lengths known up front. */
		if (msgs[i].flags & (I2C_M_TEN | I2C_M_RECV_LEN))
			return -EOPNOTSUPP;
		if (!msgs[i].len && !vi->zero_length)
			return -EOPNOTSUPP;
	}
	vireo_i2c_reap(vi);
	if (vi->parked) {
		/* The device still holds an earlier transfer: it is not answering. */
		return -ETIMEDOUT;
	}
	b = vireo_i2c_prepare(vi, msgs, num);
	if (!b)
		return -ENOMEM;
	reinit_completion(&vi->done);
	rc = vireo_i2c_run(vi, b, msgs);
	if (rc < 0) {
		if (b->completed < b->queued) {
			dev_warn_ratelimited(&adap->dev, "device did not answer in %u ms\n",
					     jiffies_to_msecs(adap->timeout));
			vi->parked = b;
		} else {
			vireo_i2c_batch_free(b);
		}
		return rc;
	}
	/* Messages up to the first failure count as done; reads are copied back. */
	for (i = 0; i < num; i++) {
		struct vireo_i2c_req *req = &b->reqs[i];

		if (req->status != VIREO_I2C_MSG_OK)
			break;
		if ((msgs[i].flags & I2C_M_RD) && req->len)
			memcpy(msgs[i].buf, req->buf, req->len);
	}
	vireo_i2c_batch_free(b);
	/* No acknowledgement from the first message: as a bus reports an address NAK. */
	return i ? i : -ENXIO;
}

static u32 vireo_i2c_func(struct i2c_adapter *adap)
{
	struct vireo_i2c *vi = i2c_get_adapdata(adap);
	u32 f = I2C_FUNC_I2C | I2C_FUNC_SMBUS_EMUL;

	/* SMBus quick is an address-only transfer: only with zero-length requests. */
	if (!vi->zero_length)
		f &= ~I2C_FUNC_SMBUS_QUICK;
	return f;
}

static const struct i2c_algorithm vireo_i2c_algo = {
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
	.xfer = vireo_i2c_xfer,
#else
	.master_xfer = vireo_i2c_xfer,
#endif
	.functionality = vireo_i2c_func,
};

static const struct i2c_adapter_quirks vireo_i2c_no_zero_len = {
	.flags = I2C_AQ_NO_ZERO_LEN,
};

static int vireo_i2c_setup_vq(struct vireo_i2c *vi)
{
	vi->vq = virtio_find_single_vq(vi->vdev, vireo_i2c_vq_done, "requests");
	return PTR_ERR_OR_ZERO(vi->vq);
}

static void vireo_i2c_teardown_vq(struct vireo_i2c *vi)
{
	/* After the reset the device holds nothing: parked buffers can go. */
	virtio_reset_device(vi->vdev);
	vi->vdev->config->del_vqs(vi->vdev);
	vireo_i2c_batch_free(vi->parked);
	vi->parked = NULL;
}

static int vireo_i2c_probe(struct virtio_device *vdev)
{
	struct vireo_i2c *vi;
	int rc;

	vi = devm_kzalloc(&vdev->dev, sizeof(*vi), GFP_KERNEL);
	if (!vi)
		return -ENOMEM;
	vdev->priv = vi;
	vi->vdev = vdev;
	init_completion(&vi->done);
	vi->zero_length = virtio_has_feature(vdev, VIREO_I2C_F_ZERO_LENGTH_REQUEST);
	rc = vireo_i2c_setup_vq(vi);
	if (rc)
		return rc;

	vi->adap.owner = THIS_MODULE;
	snprintf(vi->adap.name, sizeof(vi->adap.name), "Vireo virtio-i2c at %s",
		 dev_name(&vdev->dev));
	vi->adap.algo = &vireo_i2c_algo;
	vi->adap.dev.parent = &vdev->dev;
	vi->adap.timeout = HZ;
	if (!vi->zero_length)
		vi->adap.quirks = &vireo_i2c_no_zero_len;
	i2c_set_adapdata(&vi->adap, vi);

	/* Ready before the adapter exists: registering it may already transfer. */
	virtio_device_ready(vdev);
	rc = i2c_add_adapter(&vi->adap);
	if (rc)
		goto out_teardown;
	dev_info(&vdev->dev, "%s: %u-entry queue%s%s\n", vi->adap.name,
		 virtqueue_get_vring_size(vi->vq),
		 virtio_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC) ? ", indirect" : "",
		 vi->zero_length ? ", zero-length requests" : "");
	return 0;

out_teardown:
	vireo_i2c_teardown_vq(vi);
	return rc;
}

static void vireo_i2c_remove(struct virtio_device *vdev)
{
	struct vireo_i2c *vi = vdev->priv;

	i2c_del_adapter(&vi->adap);
	vireo_i2c_teardown_vq(vi);
}

#ifdef CONFIG_PM_SLEEP
static int vireo_i2c_freeze(struct virtio_device *vdev)
{
	vireo_i2c_teardown_vq(vdev->priv);
	return 0;
}

static int vireo_i2c_restore(struct virtio_device *vdev)
{
	int rc = vireo_i2c_setup_vq(vdev->priv);

	if (!rc)
		virtio_device_ready(vdev);
	return rc;
}
#endif

static const struct virtio_device_id vireo_i2c_ids[] = {
	{ .device = VIRTIO_ID_I2C_ADAPTER, .vendor = VIRTIO_DEV_ANY_ID },
	/* sentinel */
	{},
};
MODULE_DEVICE_TABLE(virtio, vireo_i2c_ids);

static const unsigned int vireo_i2c_features[] = {
	VIREO_I2C_F_ZERO_LENGTH_REQUEST,
};

static struct virtio_driver vireo_i2c_driver = {
	.feature_table = vireo_i2c_features,
	.feature_table_size = ARRAY_SIZE(vireo_i2c_features),
	.id_table = vireo_i2c_ids,
	.probe = vireo_i2c_probe,
	.remove = vireo_i2c_remove,
	.driver = {
		.name = KBUILD_MODNAME,
	},
#ifdef CONFIG_PM_SLEEP
	.freeze = vireo_i2c_freeze,
	.restore = vireo_i2c_restore,
#endif
};
module_virtio_driver(vireo_i2c_driver);

MODULE_DESCRIPTION("Vireo virtio-i2c adapter (VIRTIO 1.2, 5.19)");
MODULE_AUTHOR("The Vireo authors");
MODULE_LICENSE("GPL");
