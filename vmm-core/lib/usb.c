// SPDX-License-Identifier: MIT
/*
 * <vireo/usb.h>: a libusb context driven by a core loop, devices and hotplug. libusb's
 * pollfds become loop watches (kept in step through its pollfd notifiers), its
 * timeouts a loop timer when it has no timerfd of its own, and every ready fd runs one
 * round of non-blocking event handling, so transfer and hotplug callbacks run on the
 * loop's thread. What must not happen inside libusb's event handling (closing a
 * handle: libusb still touches it after a transfer callback; the driver's hotplug
 * callback, which may open or close devices) waits until the round is over
 * (usb_after_events). Transfers live in usb_xfer.c, descriptor queries in usb_desc.c.
 */
#include "internal.h"
#include "usb_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define USB_TAG "usb"
/* How long vireo_usb_free() waits for cancelled transfers to drain. */
#define USB_DRAIN_ROUNDS   20
#define USB_DRAIN_ROUND_MS 50

int usb_errno(int rc)
{
	switch (rc) {
	case LIBUSB_SUCCESS:
		return 0;
	case LIBUSB_ERROR_INVALID_PARAM:
		return -EINVAL;
	case LIBUSB_ERROR_ACCESS:
		return -EACCES;
	case LIBUSB_ERROR_NO_DEVICE:
		return -ENODEV;
	case LIBUSB_ERROR_NOT_FOUND:
		return -ENOENT;
	case LIBUSB_ERROR_BUSY:
		return -EBUSY;
	case LIBUSB_ERROR_TIMEOUT:
		return -ETIMEDOUT;
	case LIBUSB_ERROR_OVERFLOW:
		return -EOVERFLOW;
	case LIBUSB_ERROR_PIPE:
		return -EPIPE;
	case LIBUSB_ERROR_INTERRUPTED:
		return -EINTR;
	case LIBUSB_ERROR_NO_MEM:
		return -ENOMEM;
	case LIBUSB_ERROR_NOT_SUPPORTED:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

int usb_copy_out(void *out, const void *src, size_t size)
{
	uint32_t want;

	if (!out)
		return -EINVAL;
	memcpy(&want, out, sizeof(want));
	if (want < sizeof(uint32_t))
		return -EINVAL;
	if (want > size)
		want = (uint32_t)size;
	memcpy(out, src, want);
	memcpy(out, &want, sizeof(want));
	return 0;
}

void usb_fill_dev_info(libusb_device *d, struct vireo_usb_dev_info *info)
{
	struct libusb_device_descriptor dd;
	uint8_t ports[VIREO_USB_PORTS_MAX];
	int n;

	memset(info, 0, sizeof(*info));
	info->struct_size = sizeof(*info);
	/* Cached by libusb since enumeration; cannot fail since libusb 1.0.16. */
	if (libusb_get_device_descriptor(d, &dd) == 0) {
		info->vid = dd.idVendor;
		info->pid = dd.idProduct;
		info->bcd_usb = dd.bcdUSB;
		info->bcd_device = dd.bcdDevice;
		info->dev_class = dd.bDeviceClass;
		info->dev_subclass = dd.bDeviceSubClass;
		info->dev_protocol = dd.bDeviceProtocol;
		info->max_packet0 = dd.bMaxPacketSize0;
		info->num_configs = dd.bNumConfigurations;
		info->i_manufacturer = dd.iManufacturer;
		info->i_product = dd.iProduct;
		info->i_serial = dd.iSerialNumber;
	}
	info->bus = libusb_get_bus_number(d);
	info->address = libusb_get_device_address(d);
	n = libusb_get_device_speed(d);
	info->speed = n >= 0 && n <= VIREO_USB_SPEED_SUPER_PLUS ? (uint8_t)n : 0;
	n = libusb_get_port_numbers(d, ports, sizeof(ports));
	if (n > 0) {
		info->nports = (uint8_t)n;
		memcpy(info->ports, ports, (size_t)n);
	}
}

/* ---- libusb on the loop ---- */

static void usb_kick_fired(void *arg, uint64_t expirations)
{
	(void)expirations;
	usb_after_events(arg);
}

void usb_after_sync(struct vireo_usb *usb)
{
	usb_rearm_timeout(usb);
	if ((usb->hp_head || usb->zombies) && !usb->kick &&
	    vireo_loop_add_timer(usb->loop, 1, 0, usb_kick_fired, usb, &usb->kick) < 0)
		vireo_log(VIREO_LOG_ERR, USB_TAG, "cannot schedule hotplug delivery");
}

static void usb_run_events(struct vireo_usb *usb)
{
	struct timeval zero = { 0, 0 };

	usb->in_events++;
	libusb_handle_events_timeout_completed(usb->ctx, &zero, NULL);
	usb->in_events--;
	usb_after_events(usb);
}

static void usb_fd_ready(void *arg, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	usb_run_events(arg);
}

static void usb_timeout_fired(void *arg, uint64_t expirations)
{
	struct vireo_usb *usb = arg;

	(void)expirations;
	vireo_timer_remove(usb->timeout);
	usb->timeout = NULL;
	usb_run_events(usb);
}

/* Without a timerfd, libusb's next timeout is a one-shot loop timer. */
void usb_rearm_timeout(struct vireo_usb *usb)
{
	struct timeval tv;
	uint64_t ns;

	if (usb->libusb_timeouts)
		return;
	vireo_timer_remove(usb->timeout);
	usb->timeout = NULL;
	if (libusb_get_next_timeout(usb->ctx, &tv) != 1)
		return;
	ns = (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
	if (vireo_loop_add_timer(usb->loop, ns ? ns : 1, 0, usb_timeout_fired, usb, &usb->timeout) <
	    0)
		vireo_log(VIREO_LOG_ERR, USB_TAG,
			  "cannot arm libusb's timeout; transfer "
			  "timeouts may fire late");
}

static uint32_t usb_poll_events(short events)
{
	return (events & POLLIN ? VIREO_POLL_IN : 0) | (events & POLLOUT ? VIREO_POLL_OUT : 0);
}

static void usb_pollfd_added(int fd, short events, void *arg)
{
	struct vireo_usb *usb = arg;
	struct usb_pollfd *p;
	int rc;

	if (usb->npollfds == usb->cap_pollfds) {
		size_t cap = usb->cap_pollfds ? usb->cap_pollfds * 2 : 8;

		p = realloc(usb->pollfds, cap * sizeof(*p));
		if (!p) {
			vireo_log(VIREO_LOG_ERR, USB_TAG, "no memory to watch libusb fd %d", fd);
			return;
		}
		usb->pollfds = p;
		usb->cap_pollfds = cap;
	}
	p = &usb->pollfds[usb->npollfds];
	rc = vireo_loop_watch_fd(usb->loop, fd, usb_poll_events(events), usb_fd_ready, usb,
				 &p->watch);
	if (rc < 0) {
		vireo_log(VIREO_LOG_ERR, USB_TAG, "cannot watch libusb fd %d: %s", fd,
			  strerror(-rc));
		return;
	}
	p->fd = fd;
	usb->npollfds++;
}

static void usb_pollfd_removed(int fd, void *arg)
{
	struct vireo_usb *usb = arg;

	for (size_t i = 0; i < usb->npollfds; i++) {
		if (usb->pollfds[i].fd != fd)
			continue;
		vireo_watch_remove(usb->pollfds[i].watch);
		usb->pollfds[i] = usb->pollfds[--usb->npollfds];
		return;
	}
}

static void usb_log_cb(libusb_context *ctx, enum libusb_log_level level, const char *str)
{
	size_t n = strlen(str);

	(void)ctx;
	while (n && (str[n - 1] == '\n' || str[n - 1] == '\r'))
		n--;
	vireo_log(level <= LIBUSB_LOG_LEVEL_ERROR     ? VIREO_LOG_ERR
		  : level == LIBUSB_LOG_LEVEL_WARNING ? VIREO_LOG_WARN
		  : level == LIBUSB_LOG_LEVEL_INFO    ? VIREO_LOG_INFO
						      : VIREO_LOG_DEBUG,
		  "libusb", "%.*s", (int)n, str);
}

int vireo_usb_new(struct vireo_loop *loop, struct vireo_usb **out)
{
	const struct libusb_pollfd **fds;
	struct vireo_usb *usb;
	int rc;

	if (!loop || !out)
		return -EINVAL;
	usb = calloc(1, sizeof(*usb));
	if (!usb)
		return -ENOMEM;
	usb->loop = loop;
	rc = libusb_init(&usb->ctx);
	if (rc < 0) {
		vireo_log(VIREO_LOG_ERR, USB_TAG, "libusb_init: %s", libusb_error_name(rc));
		rc = rc == LIBUSB_ERROR_NO_MEM ? -ENOMEM : -EIO;
		goto out_free_usb;
	}
	/*
	 * libusb writes every line to stderr unless a global handler takes it, and hands
	 * it to a context's handler as well: the global one alone puts each line once
	 * into the core's log. The level stays per context.
	 */
	libusb_set_log_cb(NULL, usb_log_cb, LIBUSB_LOG_CB_GLOBAL);
	libusb_set_option(usb->ctx, LIBUSB_OPTION_LOG_LEVEL, LIBUSB_LOG_LEVEL_WARNING);
	usb->libusb_timeouts = libusb_pollfds_handle_timeouts(usb->ctx) == 1;
	libusb_set_pollfd_notifiers(usb->ctx, usb_pollfd_added, usb_pollfd_removed, usb);
	/* The fds libusb opened in libusb_init(), before it could tell us. */
	fds = libusb_get_pollfds(usb->ctx);
	if (!fds) {
		rc = -ENOMEM;
		goto out_exit_libusb;
	}
	for (size_t i = 0; fds[i]; i++)
		usb_pollfd_added(fds[i]->fd, fds[i]->events, usb);
	libusb_free_pollfds(fds);
	*out = usb;
	return 0;

out_exit_libusb:
	libusb_set_pollfd_notifiers(usb->ctx, NULL, NULL, NULL);
	for (size_t i = 0; i < usb->npollfds; i++)
		vireo_watch_remove(usb->pollfds[i].watch);
	free(usb->pollfds);
	libusb_exit(usb->ctx);
out_free_usb:
	free(usb);
	return rc;
}

/* ---- devices ---- */

static void usb_dev_unlink(struct vireo_usb_dev **list, struct vireo_usb_dev *dev)
{
	for (; *list; list = &(*list)->next) {
		if (*list == dev) {
			*list = dev->next;
			return;
		}
	}
}

static void usb_dev_finish(struct vireo_usb_dev *dev)
{
	usb_dev_unlink(&dev->usb->zombies, dev);
	libusb_close(dev->handle);
	free(dev);
}

void usb_dev_reap(struct vireo_usb_dev *dev)
{
	/* libusb touches a handle after its transfer callbacks: close between rounds. */
	if (dev->closed && dev->inflight == 0 && dev->usb->in_events == 0)
		usb_dev_finish(dev);
}

static int usb_dev_new(struct vireo_usb *usb, libusb_device *d, struct vireo_usb_dev **out)
{
	struct vireo_usb_dev *dev = calloc(1, sizeof(*dev));
	int rc;

	if (!dev)
		return -ENOMEM;
	rc = libusb_open(d, &dev->handle);
	if (rc < 0) {
		free(dev);
		return usb_errno(rc);
	}
	dev->usb = usb;
	dev->next = usb->devs;
	usb->devs = dev;
	*out = dev;
	return 0;
}

static bool usb_bit(const uint64_t *set, uint8_t n)
{
	return set[n / 64] >> (n % 64) & 1;
}

static void usb_bit_set(uint64_t *set, uint8_t n, bool on)
{
	if (on)
		set[n / 64] |= UINT64_C(1) << (n % 64);
	else
		set[n / 64] &= ~(UINT64_C(1) << (n % 64));
}

void vireo_usb_close(struct vireo_usb_dev *dev)
{
	if (!dev || dev->closed)
		return;
	dev->closed = true;
	usb_dev_unlink(&dev->usb->devs, dev);
	dev->next = dev->usb->zombies;
	dev->usb->zombies = dev;
	usb_xfers_close(dev);
	for (unsigned int i = 0; i < 256; i++)
		if (usb_bit(dev->claimed, (uint8_t)i))
			libusb_release_interface(dev->handle, (int)i);
	/*
	 * Only once all are released: a kernel driver may bind more than the interface
	 * it is attached to (cdc_ether takes the data interface too). Best effort: this
	 * fails harmlessly when the device is gone.
	 */
	for (unsigned int i = 0; i < 256; i++)
		if (usb_bit(dev->detached, (uint8_t)i))
			libusb_attach_kernel_driver(dev->handle, (int)i);
	usb_dev_reap(dev);
}

static bool usb_select_valid(const struct vireo_usb_select *sel)
{
	if (!sel || sel->struct_size < offsetof(struct vireo_usb_select, serial) || sel->vid == 0 ||
	    sel->nports > VIREO_USB_PORTS_MAX)
		return false;
	for (size_t i = 0; i < sizeof(sel->reserved0); i++)
		if (sel->reserved0[i])
			return false;
	return true;
}

/* Whether @d matches @sel, serial number aside. */
static bool usb_select_matches(const struct vireo_usb_select *sel, libusb_device *d)
{
	struct vireo_usb_dev_info info;

	usb_fill_dev_info(d, &info);
	if (info.vid != sel->vid || info.pid != sel->pid)
		return false;
	if (sel->bus && info.bus != sel->bus)
		return false;
	if (sel->nports &&
	    (info.nports != sel->nports || memcmp(info.ports, sel->ports, sel->nports) != 0))
		return false;
	return true;
}

static bool usb_serial_matches(struct vireo_usb_dev *dev, const char *serial)
{
	struct vireo_usb_dev_info info;
	char buf[256];
	int rc = -1;

	usb_fill_dev_info(libusb_get_device(dev->handle), &info);
	if (info.i_serial) {
		dev->usb->in_events++;
		rc = libusb_get_string_descriptor_ascii(dev->handle, info.i_serial,
							(unsigned char *)buf, sizeof(buf));
		dev->usb->in_events--;
		usb_after_sync(dev->usb);
	}
	return rc >= 0 && strcmp(buf, serial) == 0;
}

int vireo_usb_open(struct vireo_usb *usb, const struct vireo_usb_select *sel,
		   struct vireo_usb_dev **out)
{
	const char *serial = NULL;
	struct vireo_usb_dev *found = NULL;
	libusb_device **list;
	ssize_t n;
	int rc = -ENOENT;

	if (!usb || !out || !usb_select_valid(sel))
		return -EINVAL;
	if (sel->struct_size >= offsetof(struct vireo_usb_select, serial) + sizeof(sel->serial))
		serial = sel->serial;
	/* Reading serial numbers is synchronous I/O: not inside libusb's event handling. */
	if (serial && usb->in_events)
		return -EDEADLK;
	n = libusb_get_device_list(usb->ctx, &list);
	if (n < 0)
		return usb_errno((int)n);
	for (ssize_t i = 0; i < n; i++) {
		struct vireo_usb_dev *dev;
		int orc;

		if (!usb_select_matches(sel, list[i]))
			continue;
		orc = usb_dev_new(usb, list[i], &dev);
		if (orc < 0) {
			/* A device we cannot open may still be the one meant: say why. */
			if (rc == -ENOENT)
				rc = orc;
			continue;
		}
		if (serial && !usb_serial_matches(dev, serial)) {
			vireo_usb_close(dev);
			continue;
		}
		if (found) {
			vireo_usb_close(dev);
			vireo_usb_close(found);
			found = NULL;
			rc = -ENOTUNIQ;
			break;
		}
		found = dev;
	}
	libusb_free_device_list(list, 1);
	if (!found)
		return rc;
	*out = found;
	return 0;
}

int vireo_usb_open_addr(struct vireo_usb *usb, uint8_t bus, uint8_t address,
			struct vireo_usb_dev **out)
{
	libusb_device **list;
	ssize_t n;
	int rc = -ENOENT;

	if (!usb || !out)
		return -EINVAL;
	n = libusb_get_device_list(usb->ctx, &list);
	if (n < 0)
		return usb_errno((int)n);
	for (ssize_t i = 0; i < n; i++) {
		if (libusb_get_bus_number(list[i]) == bus &&
		    libusb_get_device_address(list[i]) == address) {
			rc = usb_dev_new(usb, list[i], out);
			break;
		}
	}
	libusb_free_device_list(list, 1);
	return rc;
}

int vireo_usb_dev_info(struct vireo_usb_dev *dev, struct vireo_usb_dev_info *out)
{
	struct vireo_usb_dev_info info;

	if (!dev)
		return -EINVAL;
	usb_fill_dev_info(libusb_get_device(dev->handle), &info);
	return usb_copy_out(out, &info, sizeof(info));
}

/* ---- configuration and interfaces ---- */

int vireo_usb_get_configuration(struct vireo_usb_dev *dev)
{
	int value = 0;
	int rc = libusb_get_configuration(dev->handle, &value);

	return rc < 0 ? usb_errno(rc) : value;
}

int vireo_usb_set_configuration(struct vireo_usb_dev *dev, uint8_t value)
{
	return usb_errno(libusb_set_configuration(dev->handle, value));
}

/* Whether the active configuration has interface @ifnum. */
static int usb_has_interface(struct vireo_usb_dev *dev, uint8_t ifnum)
{
	struct libusb_config_descriptor *cfg;
	bool found = false;
	int rc = libusb_get_active_config_descriptor(libusb_get_device(dev->handle), &cfg);

	if (rc < 0)
		return rc == LIBUSB_ERROR_NOT_FOUND ? -ENOENT : usb_errno(rc);
	for (int i = 0; i < cfg->bNumInterfaces && !found; i++)
		for (int a = 0; a < cfg->interface[i].num_altsetting; a++)
			if (cfg->interface[i].altsetting[a].bInterfaceNumber == ifnum)
				found = true;
	libusb_free_config_descriptor(cfg);
	return found ? 0 : -ENOENT;
}

int vireo_usb_detach_kernel_driver(struct vireo_usb_dev *dev, uint8_t ifnum)
{
	int rc = usb_has_interface(dev, ifnum);

	if (rc < 0)
		return rc;
	rc = libusb_kernel_driver_active(dev->handle, ifnum);
	if (rc <= 0)
		return usb_errno(rc);
	rc = libusb_detach_kernel_driver(dev->handle, ifnum);
	if (rc == LIBUSB_ERROR_NOT_FOUND)
		return 0; /* it went between the two calls */
	if (rc < 0)
		return usb_errno(rc);
	usb_bit_set(dev->detached, ifnum, true);
	return 1;
}

int vireo_usb_claim_interface(struct vireo_usb_dev *dev, uint8_t ifnum)
{
	int rc = usb_has_interface(dev, ifnum);

	if (rc < 0)
		return rc;
	rc = libusb_claim_interface(dev->handle, ifnum);
	if (rc < 0)
		return usb_errno(rc);
	usb_bit_set(dev->claimed, ifnum, true);
	return 0;
}

int vireo_usb_release_interface(struct vireo_usb_dev *dev, uint8_t ifnum)
{
	int rc;

	if (!usb_bit(dev->claimed, ifnum))
		return -ENOENT;
	rc = libusb_release_interface(dev->handle, ifnum);
	usb_bit_set(dev->claimed, ifnum, false);
	return usb_errno(rc);
}

int vireo_usb_set_interface(struct vireo_usb_dev *dev, uint8_t ifnum, uint8_t alt)
{
	if (!usb_bit(dev->claimed, ifnum))
		return -ENOENT;
	/*
	 * libusb 1.0.26 (Debian 12) unlocks a mutex it never locked when the device is
	 * gone, and its libusb_close() then aborts. Ask first with a call that checks
	 * the same flag without that bug (the window left is the few instructions
	 * between the two calls).
	 */
	if (libusb_kernel_driver_active(dev->handle, ifnum) == LIBUSB_ERROR_NO_DEVICE)
		return -ENODEV;
	return usb_errno(libusb_set_interface_alt_setting(dev->handle, ifnum, alt));
}

int vireo_usb_clear_halt(struct vireo_usb_dev *dev, uint8_t endpoint)
{
	return usb_errno(libusb_clear_halt(dev->handle, endpoint));
}

int vireo_usb_get_string(struct vireo_usb_dev *dev, uint8_t index, char *buf, size_t len)
{
	int rc;

	if (!dev || !buf || index == 0 || len < 2)
		return -EINVAL;
	if (dev->usb->in_events)
		return -EDEADLK;
	if (len > 256)
		len = 256; /* a string descriptor holds at most 126 characters */
	dev->usb->in_events++;
	rc = libusb_get_string_descriptor_ascii(dev->handle, index, (unsigned char *)buf, (int)len);
	dev->usb->in_events--;
	usb_after_sync(dev->usb);
	if (rc < 0)
		return usb_errno(rc);
	buf[(size_t)rc < len ? (size_t)rc : len - 1] = '\0';
	return (int)strlen(buf);
}

/* ---- hotplug ---- */

static int LIBUSB_CALL usb_hp_event(libusb_context *ctx, libusb_device *d,
				    libusb_hotplug_event event, void *arg)
{
	struct vireo_usb_hotplug *hp = arg;
	struct vireo_usb *usb = hp->usb;
	struct usb_hp_event *e = calloc(1, sizeof(*e));

	(void)ctx;
	if (!e) {
		vireo_log(VIREO_LOG_ERR, USB_TAG, "no memory: a hotplug event is lost");
		return 0;
	}
	e->hp = hp;
	e->event =
		event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED ? VIREO_USB_ARRIVED : VIREO_USB_LEFT;
	usb_fill_dev_info(d, &e->info);
	if (usb->hp_tail)
		usb->hp_tail->next = e;
	else
		usb->hp_head = e;
	usb->hp_tail = e;
	/* Outside event handling (enumeration at registration), nothing else would run it. */
	if (!usb->in_events)
		usb_after_sync(usb);
	return 0;
}

/* Delivers the queued hotplug events; the callbacks may do anything, even free hp. */
static void usb_hp_deliver(struct vireo_usb *usb)
{
	struct usb_hp_event *e;

	while ((e = usb->hp_head)) {
		usb->hp_head = e->next;
		if (!usb->hp_head)
			usb->hp_tail = NULL;
		e->hp->cb(e->hp->arg, e->event, &e->info);
		free(e);
	}
}

void usb_after_events(struct vireo_usb *usb)
{
	struct vireo_usb_dev *dev, *next;

	if (usb->in_events)
		return;
	if (usb->kick) {
		vireo_timer_remove(usb->kick);
		usb->kick = NULL;
	}
	usb_hp_deliver(usb);
	for (dev = usb->zombies; dev; dev = next) {
		next = dev->next;
		usb_dev_reap(dev);
	}
	usb_rearm_timeout(usb);
}

int vireo_usb_hotplug_register(struct vireo_usb *usb, uint32_t vid, uint32_t pid, uint32_t flags,
			       vireo_usb_hotplug_cb_t cb, void *arg, struct vireo_usb_hotplug **out)
{
	struct vireo_usb_hotplug *hp;
	int rc;

	if (!usb || !cb || !out || (vid > 0xffff && vid != VIREO_USB_ANY) ||
	    (pid > 0xffff && pid != VIREO_USB_ANY) || (flags & ~VIREO_USB_HOTPLUG_ENUMERATE))
		return -EINVAL;
	if (!libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG))
		return -EOPNOTSUPP;
	hp = calloc(1, sizeof(*hp));
	if (!hp)
		return -ENOMEM;
	hp->usb = usb;
	hp->cb = cb;
	hp->arg = arg;
	hp->next = usb->hps;
	usb->hps = hp;
	rc = libusb_hotplug_register_callback(
		usb->ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT,
		flags & VIREO_USB_HOTPLUG_ENUMERATE ? LIBUSB_HOTPLUG_ENUMERATE : 0,
		vid == VIREO_USB_ANY ? LIBUSB_HOTPLUG_MATCH_ANY : (int)vid,
		pid == VIREO_USB_ANY ? LIBUSB_HOTPLUG_MATCH_ANY : (int)pid,
		LIBUSB_HOTPLUG_MATCH_ANY, usb_hp_event, hp, &hp->handle);
	if (rc < 0) {
		vireo_usb_hotplug_remove(hp);
		return usb_errno(rc);
	}
	hp->registered = true;
	*out = hp;
	return 0;
}

void vireo_usb_hotplug_remove(struct vireo_usb_hotplug *hp)
{
	struct vireo_usb *usb;
	struct usb_hp_event **pe, *prev = NULL;

	if (!hp)
		return;
	usb = hp->usb;
	if (hp->registered)
		libusb_hotplug_deregister_callback(usb->ctx, hp->handle);
	/* Events queued for it are dropped; the one being delivered is off the queue. */
	for (pe = &usb->hp_head; *pe;) {
		struct usb_hp_event *e = *pe;

		if (e->hp == hp) {
			*pe = e->next;
			free(e);
		} else {
			prev = e;
			pe = &e->next;
		}
	}
	usb->hp_tail = prev;
	for (struct vireo_usb_hotplug **p = &usb->hps; *p; p = &(*p)->next) {
		if (*p == hp) {
			*p = hp->next;
			break;
		}
	}
	free(hp);
}

/* ---- the end ---- */

void vireo_usb_free(struct vireo_usb *usb)
{
	struct timeval tv = { 0, USB_DRAIN_ROUND_MS * 1000 };

	if (!usb)
		return;
	while (usb->hps)
		vireo_usb_hotplug_remove(usb->hps);
	while (usb->devs)
		vireo_usb_close(usb->devs);
	/* Cancelled transfers complete through event handling; give them a moment. */
	for (int i = 0; usb->zombies && i < USB_DRAIN_ROUNDS; i++) {
		usb->in_events++;
		libusb_handle_events_timeout_completed(usb->ctx, &tv, NULL);
		usb->in_events--;
		for (struct vireo_usb_dev *d = usb->zombies, *next; d; d = next) {
			next = d->next;
			usb_dev_reap(d);
		}
	}
	if (usb->zombies)
		vireo_log(VIREO_LOG_WARN, USB_TAG,
			  "closing devices with transfers still in "
			  "flight");
	while (usb->zombies) {
		struct vireo_usb_dev *dev = usb->zombies;
		struct vireo_usb_xfer *x;

		/* libusb_close() forgets what is still in flight; the transfers go after it. */
		usb->zombies = dev->next;
		libusb_close(dev->handle);
		while ((x = dev->xfers)) {
			dev->xfers = x->next;
			libusb_free_transfer(x->t);
			free(x->ctrl_buf);
			free(x);
		}
		free(dev);
	}
	while (usb->hp_head) {
		struct usb_hp_event *e = usb->hp_head;

		usb->hp_head = e->next;
		free(e);
	}
	vireo_timer_remove(usb->kick);
	vireo_timer_remove(usb->timeout);
	libusb_set_pollfd_notifiers(usb->ctx, NULL, NULL, NULL);
	for (size_t i = 0; i < usb->npollfds; i++)
		vireo_watch_remove(usb->pollfds[i].watch);
	free(usb->pollfds);
	libusb_exit(usb->ctx);
	free(usb);
}
