/* SPDX-License-Identifier: MIT */
/**
 * @file
 * @brief Vireo SDK: USB devices through libusb-1.0, on the core's event loop.
 *
 * Audience: authors of drivers for USB hardware (the RTL8153 NIC, say). A driver makes
 * one USB context on the loop of the queue it serves (vireo_usb_new()); libusb's file
 * descriptors and timeouts become watches and timers of that loop, so every callback
 * (transfer completions, hotplug arrivals and departures) runs on the loop's thread and
 * libusb runs no event thread of its own that calls the driver. (libusb's Linux backend
 * keeps one private thread that only listens for udev's device events; it never calls
 * the driver.)
 *
 * Typical use by a NIC driver:
 * 1. vireo_usb_new() on its queue's loop, then vireo_usb_open() by vendor/product id
 *    (bus/port or serial number to pick one of several) or vireo_usb_open_addr().
 * 2. Descriptors: vireo_usb_dev_info(), vireo_usb_config_info(),
 *    vireo_usb_interface_info(), vireo_usb_find_endpoint() for its bulk IN/OUT and
 *    interrupt IN endpoints.
 * 3. vireo_usb_detach_kernel_driver(), vireo_usb_set_configuration(),
 *    vireo_usb_claim_interface(), vireo_usb_set_interface().
 * 4. Transfers: a struct vireo_usb_xfer each, made once with its completion callback
 *    and submitted again and again (vireo_usb_submit_bulk() with many receive buffers
 *    in flight, vireo_usb_submit_interrupt() for link status, vireo_usb_submit_control()
 *    for vendor registers).
 * 5. vireo_usb_close(), vireo_usb_free().
 *
 * Statuses are 0 or a negative errno. A transfer completes with:
 * 0 (done; @c actual says how many bytes moved), -ETIMEDOUT, -ECANCELED (cancelled or
 * freed), -EPIPE (the endpoint stalled), -EOVERFLOW (the device sent more than the
 * buffer holds), -ENODEV (the device is gone), -EREMOTEIO (short transfer with
 * VIREO_USB_XFER_SHORT_NOT_OK) or -EIO (any other error).
 *
 * When a device disappears, every transfer in flight to it completes with -ENODEV and
 * later submissions fail with -ENODEV; the handles stay valid until the driver closes
 * them, so nothing is freed under the driver's feet.
 *
 * Threading: a context and everything made from it (devices, transfers, hotplug
 * registrations) belong to the context's loop. Call these functions on that loop's
 * thread, or before the loop runs them (a control-thread op such as queue_start while
 * the loop does not run the driver's queue). None of them is thread-safe.
 */
#ifndef VIREO_USB_H
#define VIREO_USB_H

#include <vireo/common.h>
#include <vireo/loop.h>

VIREO_BEGIN_DECLS

/** A USB context: one libusb context bound to one core loop. */
struct vireo_usb;
/** An open USB device. */
struct vireo_usb_dev;
/** An asynchronous transfer, reusable: submit it again after it completed. */
struct vireo_usb_xfer;
/** A hotplug registration. */
struct vireo_usb_hotplug;

/** bmRequestType / bEndpointAddress direction bit: device to host. */
#define VIREO_USB_DIR_IN 0x80u
/** bmRequestType / bEndpointAddress direction: host to device. */
#define VIREO_USB_DIR_OUT 0x00u
/** bmRequestType type: a standard request (USB 2.0 §9.4). */
#define VIREO_USB_TYPE_STANDARD 0x00u
/** bmRequestType type: a class request. */
#define VIREO_USB_TYPE_CLASS 0x20u
/** bmRequestType type: a vendor request. */
#define VIREO_USB_TYPE_VENDOR 0x40u
/** bmRequestType recipient: the device. */
#define VIREO_USB_RECIP_DEVICE 0x00u
/** bmRequestType recipient: an interface (wIndex holds its number). */
#define VIREO_USB_RECIP_INTERFACE 0x01u
/** bmRequestType recipient: an endpoint (wIndex holds its address). */
#define VIREO_USB_RECIP_ENDPOINT 0x02u

/** Standard request GET_DESCRIPTOR (wValue: type << 8 | index). */
#define VIREO_USB_REQ_GET_DESCRIPTOR 0x06u
/** Standard request GET_CONFIGURATION. */
#define VIREO_USB_REQ_GET_CONFIGURATION 0x08u
/** Standard request GET_INTERFACE. */
#define VIREO_USB_REQ_GET_INTERFACE 0x0au

/** Descriptor type: device. */
#define VIREO_USB_DT_DEVICE 0x01u
/** Descriptor type: configuration (with all its interface and endpoint descriptors). */
#define VIREO_USB_DT_CONFIG 0x02u
/** Descriptor type: string (index 0: the language ids). */
#define VIREO_USB_DT_STRING 0x03u
/** Descriptor type: interface. */
#define VIREO_USB_DT_INTERFACE 0x04u
/** Descriptor type: endpoint. */
#define VIREO_USB_DT_ENDPOINT 0x05u
/** Descriptor type: class-specific interface descriptor (CDC functional descriptors). */
#define VIREO_USB_DT_CS_INTERFACE 0x24u

/** Endpoint transfer types (bmAttributes bits 1..0). */
enum vireo_usb_ep_type {
	VIREO_USB_EP_CONTROL = 0,     /**< control */
	VIREO_USB_EP_ISOCHRONOUS = 1, /**< isochronous (no transfers through this API) */
	VIREO_USB_EP_BULK = 2,	      /**< bulk */
	VIREO_USB_EP_INTERRUPT = 3,   /**< interrupt */
};

/** Device speeds. */
enum vireo_usb_speed {
	VIREO_USB_SPEED_UNKNOWN = 0,	/**< not reported */
	VIREO_USB_SPEED_LOW = 1,	/**< 1.5 Mbit/s */
	VIREO_USB_SPEED_FULL = 2,	/**< 12 Mbit/s */
	VIREO_USB_SPEED_HIGH = 3,	/**< 480 Mbit/s */
	VIREO_USB_SPEED_SUPER = 4,	/**< 5 Gbit/s */
	VIREO_USB_SPEED_SUPER_PLUS = 5, /**< 10 Gbit/s */
};

/** Longest port path (hub depth) of a device, USB 3.x §10.1.3. */
#define VIREO_USB_PORTS_MAX 7

/**
 * Which device vireo_usb_open() opens. vid is required; every other criterion is
 * optional and narrows the choice. The caller fills it and sets struct_size.
 */
struct vireo_usb_select {
	uint32_t struct_size;		    /**< sizeof(struct vireo_usb_select) of the caller */
	uint16_t vid;			    /**< idVendor; 0 is refused */
	uint16_t pid;			    /**< idProduct */
	uint8_t bus;			    /**< bus number, or 0: any bus */
	uint8_t nports;			    /**< entries of ports; 0: any port */
	uint8_t ports[VIREO_USB_PORTS_MAX]; /**< port path from the root hub */
	uint8_t reserved0[7];		    /**< must be zero */
	const char *serial;		    /**< iSerialNumber string, or NULL: any */
};
VIREO_ABI_SIZE(struct vireo_usb_select, 32);

/**
 * A device's identity and device descriptor (USB 2.0 §9.6.1), in host byte order. The
 * core fills it: for vireo_usb_dev_info() up to the caller's struct_size, in a hotplug
 * callback with the core's own struct_size.
 */
struct vireo_usb_dev_info {
	uint32_t struct_size;		    /**< bytes valid (set by the caller, then the core) */
	uint16_t vid;			    /**< idVendor */
	uint16_t pid;			    /**< idProduct */
	uint16_t bcd_usb;		    /**< bcdUSB, e.g. 0x0200 */
	uint16_t bcd_device;		    /**< bcdDevice: the device's release */
	uint8_t dev_class;		    /**< bDeviceClass */
	uint8_t dev_subclass;		    /**< bDeviceSubClass */
	uint8_t dev_protocol;		    /**< bDeviceProtocol */
	uint8_t max_packet0;		    /**< bMaxPacketSize0 */
	uint8_t num_configs;		    /**< bNumConfigurations */
	uint8_t i_manufacturer;		    /**< iManufacturer string index, 0: none */
	uint8_t i_product;		    /**< iProduct string index, 0: none */
	uint8_t i_serial;		    /**< iSerialNumber string index, 0: none */
	uint8_t bus;			    /**< bus number */
	uint8_t address;		    /**< device address on the bus */
	uint8_t speed;			    /**< an enum vireo_usb_speed */
	uint8_t nports;			    /**< entries of ports (0 for a root hub) */
	uint8_t ports[VIREO_USB_PORTS_MAX]; /**< port path from the root hub */
	uint8_t reserved0;		    /**< zero */
};
VIREO_ABI_SIZE(struct vireo_usb_dev_info, 32);

/** A configuration descriptor (USB 2.0 §9.6.3), as vireo_usb_config_info() fills it. */
struct vireo_usb_config_info {
	uint32_t struct_size;	 /**< bytes valid (set by the caller, then the core) */
	uint8_t value;		 /**< bConfigurationValue, for vireo_usb_set_configuration() */
	uint8_t num_interfaces;	 /**< bNumInterfaces */
	uint8_t attributes;	 /**< bmAttributes (0x40 self-powered, 0x20 remote wakeup) */
	uint8_t i_configuration; /**< iConfiguration string index, 0: none */
	uint16_t max_power_ma;	 /**< maximum power drawn, in mA */
	uint16_t total_length;	 /**< wTotalLength of the whole descriptor set */
};
VIREO_ABI_SIZE(struct vireo_usb_config_info, 12);

/** An interface descriptor (USB 2.0 §9.6.5), as vireo_usb_interface_info() fills it. */
struct vireo_usb_interface_info {
	uint32_t struct_size;	/**< bytes valid (set by the caller, then the core) */
	uint8_t number;		/**< bInterfaceNumber */
	uint8_t alt;		/**< bAlternateSetting */
	uint8_t iface_class;	/**< bInterfaceClass */
	uint8_t iface_subclass; /**< bInterfaceSubClass */
	uint8_t iface_protocol; /**< bInterfaceProtocol */
	uint8_t num_endpoints;	/**< bNumEndpoints */
	uint8_t i_interface;	/**< iInterface string index, 0: none */
	uint8_t num_alts;	/**< alternate settings this interface has */
};
VIREO_ABI_SIZE(struct vireo_usb_interface_info, 12);

/** An endpoint descriptor (USB 2.0 §9.6.6), as the endpoint queries fill it. */
struct vireo_usb_endpoint_info {
	uint32_t struct_size; /**< bytes valid (set by the caller, then the core) */
	uint8_t address;      /**< bEndpointAddress: number, VIREO_USB_DIR_IN for IN */
	uint8_t type;	      /**< an enum vireo_usb_ep_type */
	uint8_t interval;     /**< bInterval (polling interval, speed-dependent units) */
	uint8_t mult;	      /**< transactions per microframe (1..3; 1 unless high speed) */
	uint16_t max_packet;  /**< maximum packet size in bytes (wMaxPacketSize bits 10..0) */
	uint8_t max_burst;    /**< SuperSpeed bMaxBurst + 1 (packets per burst); 1 else */
	uint8_t reserved0;    /**< zero */
};
VIREO_ABI_SIZE(struct vireo_usb_endpoint_info, 12);

/**
 * @brief Make a USB context on a loop.
 *
 * @param loop the loop every callback of the context runs on (from the driver's
 *        class, e.g. vireo_net_queue_loop()).
 * @param out the new context.
 *
 * @return 0 on success.
 * @return -EINVAL if @p loop or @p out is NULL.
 * @return -ENOMEM.
 * @return -EIO if libusb could not start (no usbfs, say).
 *
 * Context: as vireo_loop_watch_fd().
 */
VIREO_API int vireo_usb_new(struct vireo_loop *loop, struct vireo_usb **out);

/**
 * @brief Free a context with everything still made from it. NULL is ignored.
 *
 * Closes every device still open (as vireo_usb_close()) and removes every hotplug
 * registration; may block for up to a second while cancelled transfers drain.
 *
 * @param usb the context.
 *
 * Context: the context's loop's thread, outside any of its callbacks, or when the loop
 * does not run.
 */
VIREO_API void vireo_usb_free(struct vireo_usb *usb);

/**
 * @brief Open the one device that @p sel selects.
 *
 * @param usb the context.
 * @param sel the criteria: vendor id (required), product id, and optionally bus, port
 *        path and serial number.
 * @param out the open device.
 *
 * @return 0 on success.
 * @return -EINVAL if @p sel is malformed (vid 0, struct_size too small, nports too big,
 *         reserved bytes set).
 * @return -ENOENT if no device matches.
 * @return -ENOTUNIQ if several match: narrow @p sel with a bus, port path or serial.
 * @return -EACCES if the device node may not be opened.
 * @return -ENODEV if the device went away while being opened.
 * @return -EDEADLK if @p sel has a serial number and this runs inside a transfer
 *         callback (reading it is synchronous).
 * @return -ENOMEM, or -EIO.
 *
 * Context: the context's loop's thread (may block briefly: it reads serial numbers).
 */
VIREO_API int vireo_usb_open(struct vireo_usb *usb, const struct vireo_usb_select *sel,
			     struct vireo_usb_dev **out);

/**
 * @brief Open the device at @p bus / @p address (as hotplug or lsusb name it).
 *
 * @param usb the context.
 * @param bus bus number.
 * @param address device address on that bus.
 * @param out the open device.
 *
 * @return 0 on success.
 * @return -ENOENT if there is no such device.
 * @return -EACCES, -ENODEV, -ENOMEM or -EIO as vireo_usb_open().
 *
 * Context: the context's loop's thread.
 */
VIREO_API int vireo_usb_open_addr(struct vireo_usb *usb, uint8_t bus, uint8_t address,
				  struct vireo_usb_dev **out);

/**
 * @brief Close a device. NULL is ignored.
 *
 * Frees every transfer of the device: those in flight are cancelled and their callbacks
 * are not called. Releases the claimed interfaces and, while the device is still there,
 * gives back to their kernel drivers the interfaces vireo_usb_detach_kernel_driver()
 * took. The device's memory goes once its cancelled transfers drained, on the loop.
 *
 * @param dev the device.
 *
 * Context: the context's loop's thread; may be called from a transfer or hotplug
 * callback.
 */
VIREO_API void vireo_usb_close(struct vireo_usb_dev *dev);

/**
 * @brief Read a device's identity and device descriptor.
 *
 * @param dev the device.
 * @param out filled up to the smaller of its struct_size (which the caller sets) and
 *        the core's; struct_size is set to the bytes filled.
 *
 * @return 0 on success.
 * @return -EINVAL if struct_size is smaller than 4.
 *
 * Context: any thread that may use @p dev; does no I/O.
 */
VIREO_API int vireo_usb_dev_info(struct vireo_usb_dev *dev, struct vireo_usb_dev_info *out);

/**
 * @brief Read configuration descriptor number @p index (0..num_configs - 1).
 *
 * @param dev the device.
 * @param index the descriptor's position, not its bConfigurationValue.
 * @param out filled as with vireo_usb_dev_info().
 *
 * @return 0 on success.
 * @return -EINVAL if struct_size is smaller than 4.
 * @return -ENOENT if there is no such configuration.
 * @return -ENOMEM, or -EIO.
 *
 * Context: the context's loop's thread; does no USB I/O (the kernel caches descriptors).
 */
VIREO_API int vireo_usb_config_info(struct vireo_usb_dev *dev, uint8_t index,
				    struct vireo_usb_config_info *out);

/**
 * @brief Read the descriptor of interface @p ifnum, alternate setting @p alt.
 *
 * @param dev the device.
 * @param config_index the configuration's position (as vireo_usb_config_info()).
 * @param ifnum bInterfaceNumber.
 * @param alt bAlternateSetting.
 * @param out filled as with vireo_usb_dev_info().
 *
 * @return 0 on success.
 * @return -EINVAL if struct_size is smaller than 4.
 * @return -ENOENT if there is no such configuration, interface or setting.
 * @return -ENOMEM, or -EIO.
 *
 * Context: as vireo_usb_config_info().
 */
VIREO_API int vireo_usb_interface_info(struct vireo_usb_dev *dev, uint8_t config_index,
				       uint8_t ifnum, uint8_t alt,
				       struct vireo_usb_interface_info *out);

/**
 * @brief Read endpoint descriptor number @p n of an interface setting.
 *
 * @param dev the device.
 * @param config_index the configuration's position.
 * @param ifnum bInterfaceNumber.
 * @param alt bAlternateSetting.
 * @param n the endpoint's position, 0..num_endpoints - 1.
 * @param out filled as with vireo_usb_dev_info().
 *
 * @return 0 on success.
 * @return -EINVAL if struct_size is smaller than 4.
 * @return -ENOENT if there is no such configuration, interface, setting or endpoint.
 * @return -ENOMEM, or -EIO.
 *
 * Context: as vireo_usb_config_info().
 */
VIREO_API int vireo_usb_endpoint_info(struct vireo_usb_dev *dev, uint8_t config_index,
				      uint8_t ifnum, uint8_t alt, uint8_t n,
				      struct vireo_usb_endpoint_info *out);

/**
 * @brief Find the first endpoint of a type and direction in an interface setting:
 * how a NIC driver finds its bulk IN, bulk OUT and interrupt IN endpoints.
 *
 * @param dev the device.
 * @param config_index the configuration's position.
 * @param ifnum bInterfaceNumber.
 * @param alt bAlternateSetting.
 * @param type an enum vireo_usb_ep_type.
 * @param dir VIREO_USB_DIR_IN or VIREO_USB_DIR_OUT.
 * @param out filled as with vireo_usb_dev_info().
 *
 * @return 0 on success.
 * @return -EINVAL if struct_size is smaller than 4, or @p type or @p dir is unknown.
 * @return -ENOENT if the setting has no such endpoint (or does not exist).
 * @return -ENOMEM, or -EIO.
 *
 * Context: as vireo_usb_config_info().
 */
VIREO_API int vireo_usb_find_endpoint(struct vireo_usb_dev *dev, uint8_t config_index,
				      uint8_t ifnum, uint8_t alt, uint8_t type, uint8_t dir,
				      struct vireo_usb_endpoint_info *out);

/**
 * @brief Read a string descriptor as ASCII (others become '?'), NUL-terminated.
 *
 * @param dev the device.
 * @param index the string's index (from a descriptor); not 0.
 * @param buf where the string goes.
 * @param len room in @p buf, at least 2.
 *
 * @return the string's length in bytes (without the NUL) on success.
 * @return -EINVAL if @p index is 0 or @p len is smaller than 2.
 * @return -EDEADLK if called from inside one of the context's callbacks.
 * @return -EPIPE if the device refused (no such string), -ETIMEDOUT, -ENODEV or -EIO.
 *
 * Context: the context's loop's thread, outside its callbacks. Synchronous: blocks on
 * up to two control transfers (1 s timeout each), so use it while setting up.
 */
VIREO_API int vireo_usb_get_string(struct vireo_usb_dev *dev, uint8_t index, char *buf, size_t len);

/**
 * @brief The active configuration's bConfigurationValue (0: unconfigured).
 *
 * @param dev the device.
 *
 * @return the value (>= 0) on success.
 * @return -ENODEV if the device is gone, or -EIO.
 *
 * Context: the context's loop's thread.
 */
VIREO_API int vireo_usb_get_configuration(struct vireo_usb_dev *dev);

/**
 * @brief Make configuration @p value active (SET_CONFIGURATION, USB 2.0 §9.4.7).
 *
 * Interfaces must not be claimed, and kernel drivers must be detached from them first.
 * Setting the active configuration again resets the device's interfaces to setting 0.
 *
 * @param dev the device.
 * @param value a bConfigurationValue (vireo_usb_config_info()).
 *
 * @return 0 on success.
 * @return -EBUSY if an interface is claimed, by the driver or by a kernel driver.
 * @return -ENOENT if there is no such configuration.
 * @return -ENODEV if the device is gone, or -EIO.
 *
 * Context: the context's loop's thread. Synchronous: one control transfer.
 */
VIREO_API int vireo_usb_set_configuration(struct vireo_usb_dev *dev, uint8_t value);

/**
 * @brief Detach the kernel driver bound to interface @p ifnum, if any.
 *
 * vireo_usb_close() gives the interface back to the kernel, if the device is still
 * there.
 *
 * @param dev the device.
 * @param ifnum bInterfaceNumber in the active configuration.
 *
 * @return 1 if a kernel driver was detached, 0 if none was bound.
 * @return -ENOENT if there is no such interface.
 * @return -ENODEV if the device is gone, or -EIO.
 *
 * Context: the context's loop's thread.
 */
VIREO_API int vireo_usb_detach_kernel_driver(struct vireo_usb_dev *dev, uint8_t ifnum);

/**
 * @brief Claim interface @p ifnum for this driver: needed before transfers to its
 * endpoints and before vireo_usb_set_interface().
 *
 * @param dev the device.
 * @param ifnum bInterfaceNumber in the active configuration.
 *
 * @return 0 on success (also if already claimed by @p dev).
 * @return -EBUSY if a kernel driver or another program holds it.
 * @return -ENOENT if there is no such interface.
 * @return -ENODEV if the device is gone, or -EIO.
 *
 * Context: the context's loop's thread.
 */
VIREO_API int vireo_usb_claim_interface(struct vireo_usb_dev *dev, uint8_t ifnum);

/**
 * @brief Release a claimed interface. Transfers to its endpoints should be done.
 *
 * @param dev the device.
 * @param ifnum bInterfaceNumber.
 *
 * @return 0 on success.
 * @return -ENOENT if @p ifnum is not claimed.
 * @return -ENODEV if the device is gone (the claim is dropped anyway), or -EIO.
 *
 * Context: the context's loop's thread. Synchronous: one control transfer
 * (SET_INTERFACE 0).
 */
VIREO_API int vireo_usb_release_interface(struct vireo_usb_dev *dev, uint8_t ifnum);

/**
 * @brief Select alternate setting @p alt of a claimed interface (SET_INTERFACE, USB 2.0
 * §9.4.10): how a CDC Ethernet data interface turns its endpoints on.
 *
 * @param dev the device.
 * @param ifnum bInterfaceNumber, claimed.
 * @param alt bAlternateSetting.
 *
 * @return 0 on success.
 * @return -ENOENT if the interface is not claimed or has no such setting.
 * @return -ENODEV if the device is gone, or -EIO.
 *
 * Context: the context's loop's thread. Synchronous: one control transfer.
 */
VIREO_API int vireo_usb_set_interface(struct vireo_usb_dev *dev, uint8_t ifnum, uint8_t alt);

/**
 * @brief Clear an endpoint's halt (stall) condition and reset its data toggle.
 *
 * @param dev the device.
 * @param endpoint bEndpointAddress.
 *
 * @return 0 on success.
 * @return -ENOENT if the endpoint is not in a claimed interface's active setting.
 * @return -ENODEV if the device is gone, or -EIO.
 *
 * Context: the context's loop's thread. Synchronous: one control transfer.
 */
VIREO_API int vireo_usb_clear_halt(struct vireo_usb_dev *dev, uint8_t endpoint);

/**
 * @brief Called on the loop's thread when a transfer completes.
 *
 * The transfer may be submitted again (or freed) from the callback; its buffer is the
 * driver's again.
 *
 * @param arg the pointer given to vireo_usb_xfer_new().
 * @param xfer the transfer.
 * @param status 0, or a negative errno (the list in this file's description).
 * @param actual bytes transferred (data stage only, for control), also on error.
 */
typedef void (*vireo_usb_xfer_cb_t)(void *arg, struct vireo_usb_xfer *xfer, int status,
				    uint32_t actual);

/** Transfer flag: a short IN transfer completes with -EREMOTEIO instead of 0. */
#define VIREO_USB_XFER_SHORT_NOT_OK (1u << 0)
/**
 * Transfer flag (bulk and interrupt OUT): end with a zero-length packet when the length
 * is a multiple of the endpoint's packet size, as CDC and most NICs frame packets.
 */
#define VIREO_USB_XFER_ZERO_PACKET (1u << 1)

/**
 * @brief Make a transfer for @p dev, with its completion callback.
 *
 * @param dev the device.
 * @param cb called on the loop's thread each time a submission completes.
 * @param arg passed to @p cb.
 * @param out the new transfer, idle.
 *
 * @return 0 on success.
 * @return -EINVAL if @p cb is NULL.
 * @return -ENOMEM.
 *
 * Context: the context's loop's thread.
 */
VIREO_API int vireo_usb_xfer_new(struct vireo_usb_dev *dev, vireo_usb_xfer_cb_t cb, void *arg,
				 struct vireo_usb_xfer **out);

/**
 * @brief Free a transfer. NULL is ignored.
 *
 * A transfer in flight is cancelled and freed when the cancellation completes; its
 * callback is not called again. Its buffer must stay valid until then: free it from
 * the same loop, after this call, only once the transfer was idle, or keep it until
 * the device is closed.
 *
 * @param xfer the transfer.
 *
 * Context: the context's loop's thread, also from callbacks.
 */
VIREO_API void vireo_usb_xfer_free(struct vireo_usb_xfer *xfer);

/**
 * @brief Start a bulk transfer on @p endpoint of a claimed interface.
 *
 * @param xfer an idle transfer.
 * @param endpoint bEndpointAddress; VIREO_USB_DIR_IN set for IN.
 * @param buf the data (OUT) or room for it (IN); the driver's, untouched by the core,
 *        valid until the completion.
 * @param len bytes; up to INT32_MAX.
 * @param flags VIREO_USB_XFER_* bits.
 * @param timeout_ms 0: no timeout.
 *
 * @return 0 on success: the callback will run exactly once for this submission.
 * @return -EBUSY if @p xfer is in flight.
 * @return -EINVAL if @p buf is NULL with a length, @p len is too big or @p flags has
 *         unknown bits.
 * @return -ENODEV if the device is gone or closed.
 * @return -ENOMEM.
 * @return -EIO, also if the endpoint is not in a claimed interface's active setting.
 *
 * Context: the context's loop's thread, also from callbacks.
 */
VIREO_API int vireo_usb_submit_bulk(struct vireo_usb_xfer *xfer, uint8_t endpoint, void *buf,
				    uint32_t len, uint32_t flags, uint32_t timeout_ms);

/**
 * @brief Start an interrupt transfer (a NIC's link status, say); as
 * vireo_usb_submit_bulk().
 *
 * @param xfer an idle transfer.
 * @param endpoint bEndpointAddress; VIREO_USB_DIR_IN set for IN.
 * @param buf the data or room for it, valid until the completion.
 * @param len bytes.
 * @param flags VIREO_USB_XFER_* bits.
 * @param timeout_ms 0: no timeout.
 *
 * @return as vireo_usb_submit_bulk().
 *
 * Context: as vireo_usb_submit_bulk().
 */
VIREO_API int vireo_usb_submit_interrupt(struct vireo_usb_xfer *xfer, uint8_t endpoint, void *buf,
					 uint32_t len, uint32_t flags, uint32_t timeout_ms);

/**
 * @brief Start a control transfer on endpoint 0 (USB 2.0 §9.3: vendor registers,
 * class requests, descriptors).
 *
 * The direction is bit 7 of @p request_type. @p data is copied in at submission
 * (OUT) or out just before the callback (IN): it must stay valid until then.
 *
 * @param xfer an idle transfer.
 * @param request_type bmRequestType: VIREO_USB_DIR_*, VIREO_USB_TYPE_* and
 *        VIREO_USB_RECIP_* bits.
 * @param request bRequest.
 * @param value wValue.
 * @param index wIndex.
 * @param data the data stage, or NULL when @p length is 0.
 * @param length wLength.
 * @param timeout_ms 0: no timeout.
 *
 * @return as vireo_usb_submit_bulk().
 *
 * Context: as vireo_usb_submit_bulk().
 */
VIREO_API int vireo_usb_submit_control(struct vireo_usb_xfer *xfer, uint8_t request_type,
				       uint8_t request, uint16_t value, uint16_t index, void *data,
				       uint16_t length, uint32_t timeout_ms);

/**
 * @brief Cancel a transfer in flight; it completes (soon, on the loop) with -ECANCELED,
 * or with its real status if it finished first.
 *
 * @param xfer the transfer.
 *
 * @return 0 if the cancellation was started.
 * @return -ENOENT if @p xfer is not in flight (or already being cancelled).
 * @return -ENODEV if the device is gone: the transfer completes with -ENODEV anyway.
 * @return -EIO.
 *
 * Context: the context's loop's thread, also from callbacks.
 */
VIREO_API int vireo_usb_xfer_cancel(struct vireo_usb_xfer *xfer);

/**
 * @brief A synchronous control transfer, for bring-up code (register reads at open).
 *
 * @param dev the device.
 * @param request_type bmRequestType.
 * @param request bRequest.
 * @param value wValue.
 * @param index wIndex.
 * @param data the data stage, or NULL when @p length is 0.
 * @param length wLength.
 * @param timeout_ms 0: no timeout.
 *
 * @return bytes of the data stage transferred (>= 0) on success.
 * @return -EDEADLK if called from inside one of the context's callbacks.
 * @return -EPIPE (stall), -ETIMEDOUT, -EOVERFLOW, -ENODEV, -ENOMEM or -EIO.
 *
 * Context: the context's loop's thread, outside its callbacks. Blocks the loop until
 * the transfer completes; other transfers' callbacks may run meanwhile.
 */
VIREO_API int vireo_usb_control_sync(struct vireo_usb_dev *dev, uint8_t request_type,
				     uint8_t request, uint16_t value, uint16_t index, void *data,
				     uint16_t length, uint32_t timeout_ms);

/** Hotplug events. */
enum vireo_usb_hotplug_event {
	VIREO_USB_ARRIVED = 1, /**< a device appeared (or was there, with ENUMERATE) */
	VIREO_USB_LEFT = 2,    /**< a device went away */
};

/** Hotplug flag: report the devices already present as arrivals, at registration. */
#define VIREO_USB_HOTPLUG_ENUMERATE (1u << 0)
/** Hotplug filter value: any vendor or product id. */
#define VIREO_USB_ANY 0xffffffffu

/**
 * @brief Called on the loop's thread for a device that arrived or left.
 *
 * The callback may open the device (vireo_usb_open_addr() with @p info's bus and
 * address), close devices and remove registrations, this one included.
 *
 * @param arg the pointer given to vireo_usb_hotplug_register().
 * @param event an enum vireo_usb_hotplug_event.
 * @param info the device; valid during the call only. For VIREO_USB_LEFT the
 *        descriptor fields are those the device had.
 */
typedef void (*vireo_usb_hotplug_cb_t)(void *arg, int event, const struct vireo_usb_dev_info *info);

/**
 * @brief Be told when devices with these ids arrive or leave.
 *
 * @param usb the context.
 * @param vid idVendor, or VIREO_USB_ANY.
 * @param pid idProduct, or VIREO_USB_ANY.
 * @param flags VIREO_USB_HOTPLUG_* bits.
 * @param cb called on the loop's thread; with VIREO_USB_HOTPLUG_ENUMERATE also for the
 *        present devices, from the loop, soon after this call returns.
 * @param arg passed to @p cb.
 * @param out the registration.
 *
 * @return 0 on success.
 * @return -EINVAL if @p cb is NULL, or @p vid, @p pid or @p flags is out of range.
 * @return -EOPNOTSUPP if this libusb cannot report hotplug events.
 * @return -ENOMEM, or -EIO.
 *
 * Context: the context's loop's thread, also from callbacks.
 */
VIREO_API int vireo_usb_hotplug_register(struct vireo_usb *usb, uint32_t vid, uint32_t pid,
					 uint32_t flags, vireo_usb_hotplug_cb_t cb, void *arg,
					 struct vireo_usb_hotplug **out);

/**
 * @brief Remove a registration; its callback is not called again. NULL is ignored.
 *
 * @param hp the registration.
 *
 * Context: the context's loop's thread, also from callbacks (its own included).
 */
VIREO_API void vireo_usb_hotplug_remove(struct vireo_usb_hotplug *hp);

VIREO_END_DECLS

#endif /* VIREO_USB_H */
