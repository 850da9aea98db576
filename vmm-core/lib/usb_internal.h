/* SPDX-License-Identifier: MIT */
/*
 * What the three files behind <vireo/usb.h> share: the concrete context, device,
 * transfer and hotplug structs, and libusb's error codes as negative errnos. usb.c
 * owns the context (libusb on the core loop), devices and hotplug; usb_xfer.c the
 * transfers; usb_desc.c the descriptor queries. Private to libvireo.
 */
#ifndef VIREO_LIB_USB_INTERNAL_H
#define VIREO_LIB_USB_INTERNAL_H

#include <libusb.h>

#include <vireo/usb.h>

/* One libusb pollfd and the loop watch that stands for it. */
struct usb_pollfd {
	int fd;
	struct vireo_watch *watch;
};

/* A hotplug event caught inside libusb's event handling, delivered after it. */
struct usb_hp_event {
	struct vireo_usb_hotplug *hp;
	int event;
	struct vireo_usb_dev_info info;
	struct usb_hp_event *next;
};

struct vireo_usb {
	libusb_context *ctx;
	struct vireo_loop *loop;
	struct usb_pollfd *pollfds; /* libusb's fds, each watched on loop */
	size_t npollfds, cap_pollfds;
	struct vireo_timer *timeout;   /* libusb's next timeout, when it has no timerfd */
	struct vireo_timer *kick;      /* delivers queued hotplug events soon */
	bool libusb_timeouts;	       /* libusb handles its timeouts through a pollfd */
	unsigned int in_events;	       /* depth of libusb event handling on this thread */
	struct vireo_usb_dev *devs;    /* open devices */
	struct vireo_usb_dev *zombies; /* closed, waiting for cancelled transfers */
	struct vireo_usb_hotplug *hps; /* registrations */
	struct usb_hp_event *hp_head, *hp_tail;
};

struct vireo_usb_dev {
	struct vireo_usb *usb;
	libusb_device_handle *handle;
	struct vireo_usb_xfer *xfers; /* every transfer of this device */
	unsigned int inflight;	      /* of xfers, submitted and not completed */
	bool closed;		      /* vireo_usb_close() ran; freed once inflight is 0 */
	uint64_t claimed[4];	      /* interface numbers claimed, a bit each */
	uint64_t detached[4];	      /* interfaces whose kernel driver we detached */
	struct vireo_usb_dev *next;
};

struct vireo_usb_xfer {
	struct vireo_usb_dev *dev;
	struct libusb_transfer *t;
	vireo_usb_xfer_cb_t cb;
	void *arg;
	bool inflight;
	bool cancelling;
	bool freeing;			    /* free on completion, without calling cb */
	uint32_t flags;			    /* VIREO_USB_XFER_* of the submission */
	uint32_t len;			    /* requested length, for SHORT_NOT_OK */
	void *ctrl_data;		    /* the caller's data stage of a control IN */
	uint8_t *ctrl_buf;		    /* setup packet + data stage of a control transfer */
	size_t ctrl_cap;		    /* bytes of ctrl_buf */
	struct vireo_usb_xfer *prev, *next; /* in dev->xfers */
};

struct vireo_usb_hotplug {
	struct vireo_usb *usb;
	libusb_hotplug_callback_handle handle;
	bool registered;
	vireo_usb_hotplug_cb_t cb;
	void *arg;
	struct vireo_usb_hotplug *next;
};

/* A libusb_error (or any negative libusb return) as a negative errno. */
int usb_errno(int libusb_rc);

/* A transfer status as the status the driver sees. */
int usb_status_errno(enum libusb_transfer_status status);

/* Fills a core-sized dev info from a libusb device (no I/O). */
void usb_fill_dev_info(libusb_device *d, struct vireo_usb_dev_info *info);

/* Copies @src (a core-sized struct of @size bytes) into the caller's @out. */
int usb_copy_out(void *out, const void *src, size_t size);

/* Frees a closed device whose transfers are all done, now or after event handling. */
void usb_dev_reap(struct vireo_usb_dev *dev);

/* Called after each round of libusb event handling: zombies, hotplug, timeouts. */
void usb_after_events(struct vireo_usb *usb);

/* Arms a loop timer for libusb's next timeout, when libusb has no timerfd. */
void usb_rearm_timeout(struct vireo_usb *usb);

/* After a synchronous libusb call: what its event handling left is done soon. */
void usb_after_sync(struct vireo_usb *usb);

/* Frees every transfer of a device being closed (cancelling those in flight). */
void usb_xfers_close(struct vireo_usb_dev *dev);

#endif /* VIREO_LIB_USB_INTERNAL_H */
