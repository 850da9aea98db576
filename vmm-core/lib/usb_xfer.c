// SPDX-License-Identifier: MIT
/*
 * <vireo/usb.h> transfers: one libusb_transfer per struct vireo_usb_xfer, made once
 * and submitted again and again (a NIC keeps its receive transfers in flight for its
 * whole life). Completions arrive inside libusb's event handling on the context's
 * loop (usb.c); this file maps their status to a negative errno and calls the driver.
 * A transfer freed or closed while in flight is cancelled and freed by its own
 * completion, so neither the transfer nor its device goes while libusb still holds
 * them. The synchronous control transfer is here too.
 */
#include "internal.h"
#include "usb_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int usb_status_errno(enum libusb_transfer_status status)
{
	switch (status) {
	case LIBUSB_TRANSFER_COMPLETED:
		return 0;
	case LIBUSB_TRANSFER_TIMED_OUT:
		return -ETIMEDOUT;
	case LIBUSB_TRANSFER_CANCELLED:
		return -ECANCELED;
	case LIBUSB_TRANSFER_STALL:
		return -EPIPE;
	case LIBUSB_TRANSFER_NO_DEVICE:
		return -ENODEV;
	case LIBUSB_TRANSFER_OVERFLOW:
		return -EOVERFLOW;
	default:
		return -EIO;
	}
}

static void usb_xfer_unlink_free(struct vireo_usb_xfer *x)
{
	struct vireo_usb_dev *dev = x->dev;

	if (x->prev)
		x->prev->next = x->next;
	else
		dev->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	libusb_free_transfer(x->t);
	free(x->ctrl_buf);
	free(x);
}

static void LIBUSB_CALL usb_xfer_done(struct libusb_transfer *t)
{
	struct vireo_usb_xfer *x = t->user_data;
	struct vireo_usb_dev *dev = x->dev;
	uint32_t actual = t->actual_length > 0 ? (uint32_t)t->actual_length : 0;
	int status = usb_status_errno(t->status);

	x->inflight = false;
	x->cancelling = false;
	dev->inflight--;
	if (x->freeing) {
		usb_xfer_unlink_free(x);
		/* The device itself goes after this round (usb_after_events). */
		return;
	}
	if (t->type == LIBUSB_TRANSFER_TYPE_CONTROL) {
		if (actual > x->len)
			actual = x->len; /* never more than the caller's room */
		if (x->ctrl_data && actual)
			memcpy(x->ctrl_data, x->ctrl_buf + LIBUSB_CONTROL_SETUP_SIZE, actual);
	}
	if (status == 0 && (x->flags & VIREO_USB_XFER_SHORT_NOT_OK) && actual < x->len)
		status = -EREMOTEIO;
	x->cb(x->arg, x, status, actual);
}

int vireo_usb_xfer_new(struct vireo_usb_dev *dev, vireo_usb_xfer_cb_t cb, void *arg,
		       struct vireo_usb_xfer **out)
{
	struct vireo_usb_xfer *x;

	if (!dev || !cb || !out || dev->closed)
		return -EINVAL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->t = libusb_alloc_transfer(0);
	if (!x->t) {
		free(x);
		return -ENOMEM;
	}
	x->dev = dev;
	x->cb = cb;
	x->arg = arg;
	x->next = dev->xfers;
	if (x->next)
		x->next->prev = x;
	dev->xfers = x;
	*out = x;
	return 0;
}

void vireo_usb_xfer_free(struct vireo_usb_xfer *x)
{
	if (!x || x->freeing)
		return;
	if (!x->inflight) {
		usb_xfer_unlink_free(x);
		return;
	}
	x->freeing = true;
	if (!x->cancelling)
		libusb_cancel_transfer(x->t);
	x->cancelling = true;
}

void usb_xfers_close(struct vireo_usb_dev *dev)
{
	struct vireo_usb_xfer *x, *next;

	for (x = dev->xfers; x; x = next) {
		next = x->next;
		vireo_usb_xfer_free(x);
	}
}

static int usb_xfer_submit(struct vireo_usb_xfer *x)
{
	int rc;

	rc = libusb_submit_transfer(x->t);
	if (rc < 0)
		return usb_errno(rc);
	x->inflight = true;
	x->dev->inflight++;
	/* A new transfer may time out before what libusb waited for so far. */
	if (!x->dev->usb->in_events)
		usb_rearm_timeout(x->dev->usb);
	return 0;
}

static int usb_xfer_check(struct vireo_usb_xfer *x, const void *buf, uint32_t len, uint32_t flags)
{
	if (!x || x->freeing)
		return -EINVAL;
	if (x->inflight)
		return -EBUSY;
	if (x->dev->closed)
		return -ENODEV;
	if ((!buf && len) || len > INT32_MAX ||
	    (flags & ~(VIREO_USB_XFER_SHORT_NOT_OK | VIREO_USB_XFER_ZERO_PACKET)))
		return -EINVAL;
	return 0;
}

static int usb_submit_data(struct vireo_usb_xfer *x, unsigned char type, uint8_t endpoint,
			   void *buf, uint32_t len, uint32_t flags, uint32_t timeout_ms)
{
	int rc = usb_xfer_check(x, buf, len, flags);

	if (rc < 0)
		return rc;
	if (type == LIBUSB_TRANSFER_TYPE_BULK)
		libusb_fill_bulk_transfer(x->t, x->dev->handle, endpoint, buf, (int)len,
					  usb_xfer_done, x, timeout_ms);
	else
		libusb_fill_interrupt_transfer(x->t, x->dev->handle, endpoint, buf, (int)len,
					       usb_xfer_done, x, timeout_ms);
	/* SHORT_NOT_OK is checked here (usb_xfer_done), not by the kernel. */
	x->t->flags = (flags & VIREO_USB_XFER_ZERO_PACKET) && !(endpoint & VIREO_USB_DIR_IN)
			      ? LIBUSB_TRANSFER_ADD_ZERO_PACKET
			      : 0;
	x->flags = flags;
	x->len = len;
	x->ctrl_data = NULL;
	return usb_xfer_submit(x);
}

int vireo_usb_submit_bulk(struct vireo_usb_xfer *x, uint8_t endpoint, void *buf, uint32_t len,
			  uint32_t flags, uint32_t timeout_ms)
{
	return usb_submit_data(x, LIBUSB_TRANSFER_TYPE_BULK, endpoint, buf, len, flags, timeout_ms);
}

int vireo_usb_submit_interrupt(struct vireo_usb_xfer *x, uint8_t endpoint, void *buf, uint32_t len,
			       uint32_t flags, uint32_t timeout_ms)
{
	return usb_submit_data(x, LIBUSB_TRANSFER_TYPE_INTERRUPT, endpoint, buf, len, flags,
			       timeout_ms);
}

int vireo_usb_submit_control(struct vireo_usb_xfer *x, uint8_t request_type, uint8_t request,
			     uint16_t value, uint16_t index, void *data, uint16_t length,
			     uint32_t timeout_ms)
{
	size_t need = LIBUSB_CONTROL_SETUP_SIZE + (size_t)length;
	int rc = usb_xfer_check(x, data, length, 0);

	if (rc < 0)
		return rc;
	if (x->ctrl_cap < need) {
		uint8_t *b = realloc(x->ctrl_buf, need);

		if (!b)
			return -ENOMEM;
		x->ctrl_buf = b;
		x->ctrl_cap = need;
	}
	/* libusb wants the setup packet in front of the data stage, little-endian. */
	libusb_fill_control_setup(x->ctrl_buf, request_type, request, value, index, length);
	if (!(request_type & VIREO_USB_DIR_IN) && length)
		memcpy(x->ctrl_buf + LIBUSB_CONTROL_SETUP_SIZE, data, length);
	libusb_fill_control_transfer(x->t, x->dev->handle, x->ctrl_buf, usb_xfer_done, x,
				     timeout_ms);
	x->t->flags = 0;
	x->flags = 0;
	x->len = length;
	x->ctrl_data = (request_type & VIREO_USB_DIR_IN) ? data : NULL;
	return usb_xfer_submit(x);
}

int vireo_usb_xfer_cancel(struct vireo_usb_xfer *x)
{
	int rc;

	if (!x || !x->inflight || x->cancelling)
		return -ENOENT;
	rc = libusb_cancel_transfer(x->t);
	if (rc == LIBUSB_ERROR_NOT_FOUND)
		return -ENOENT; /* completed already; its callback is on its way */
	if (rc < 0)
		return usb_errno(rc);
	x->cancelling = true;
	return 0;
}

int vireo_usb_control_sync(struct vireo_usb_dev *dev, uint8_t request_type, uint8_t request,
			   uint16_t value, uint16_t index, void *data, uint16_t length,
			   uint32_t timeout_ms)
{
	int rc;

	if (!dev || (!data && length))
		return -EINVAL;
	if (dev->closed)
		return -ENODEV;
	/* libusb's synchronous calls handle events themselves: not from inside them. */
	if (dev->usb->in_events)
		return -EDEADLK;
	dev->usb->in_events++;
	rc = libusb_control_transfer(dev->handle, request_type, request, value, index, data, length,
				     timeout_ms);
	dev->usb->in_events--;
	usb_after_sync(dev->usb);
	return rc < 0 ? usb_errno(rc) : rc;
}
