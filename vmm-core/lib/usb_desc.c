// SPDX-License-Identifier: MIT
/*
 * <vireo/usb.h> descriptor queries: configurations, interface settings and endpoints,
 * from libusb's parse of the descriptors the kernel cached at enumeration (no USB
 * I/O), turned into the SDK's size-prefixed structs. Interfaces are found by their
 * bInterfaceNumber, not their position, since numbers may have gaps.
 */
#include "internal.h"
#include "usb_internal.h"

#include <errno.h>
#include <string.h>

/* Configuration @index, or a negative errno; free with libusb_free_config_descriptor. */
static int usb_config(struct vireo_usb_dev *dev, uint8_t index,
		      struct libusb_config_descriptor **cfg)
{
	int rc = libusb_get_config_descriptor(libusb_get_device(dev->handle), index, cfg);

	return rc == LIBUSB_ERROR_NOT_FOUND ? -ENOENT : usb_errno(rc);
}

static const struct libusb_interface_descriptor *
usb_find_alt(const struct libusb_config_descriptor *cfg, uint8_t ifnum, uint8_t alt, int *nalts)
{
	for (int i = 0; i < cfg->bNumInterfaces; i++) {
		const struct libusb_interface *intf = &cfg->interface[i];

		for (int a = 0; a < intf->num_altsetting; a++) {
			if (intf->altsetting[a].bInterfaceNumber == ifnum &&
			    intf->altsetting[a].bAlternateSetting == alt) {
				*nalts = intf->num_altsetting;
				return &intf->altsetting[a];
			}
		}
	}
	return NULL;
}

static bool usb_superspeed(struct vireo_usb_dev *dev)
{
	return libusb_get_device_speed(libusb_get_device(dev->handle)) >= LIBUSB_SPEED_SUPER;
}

int vireo_usb_config_info(struct vireo_usb_dev *dev, uint8_t index,
			  struct vireo_usb_config_info *out)
{
	struct libusb_config_descriptor *cfg;
	struct vireo_usb_config_info ci = { .struct_size = sizeof(ci) };
	int rc;

	if (!dev || !out || out->struct_size < sizeof(uint32_t))
		return -EINVAL;
	rc = usb_config(dev, index, &cfg);
	if (rc < 0)
		return rc;
	ci.value = cfg->bConfigurationValue;
	ci.num_interfaces = cfg->bNumInterfaces;
	ci.attributes = cfg->bmAttributes;
	ci.i_configuration = cfg->iConfiguration;
	/* bMaxPower counts 2 mA units, 8 mA at SuperSpeed (USB 3.2 §9.6.3). */
	ci.max_power_ma = (uint16_t)(cfg->MaxPower * (usb_superspeed(dev) ? 8u : 2u));
	ci.total_length = cfg->wTotalLength;
	libusb_free_config_descriptor(cfg);
	return usb_copy_out(out, &ci, sizeof(ci));
}

int vireo_usb_interface_info(struct vireo_usb_dev *dev, uint8_t config_index, uint8_t ifnum,
			     uint8_t alt, struct vireo_usb_interface_info *out)
{
	const struct libusb_interface_descriptor *id;
	struct libusb_config_descriptor *cfg;
	struct vireo_usb_interface_info ii = { .struct_size = sizeof(ii) };
	int rc, nalts = 0;

	if (!dev || !out || out->struct_size < sizeof(uint32_t))
		return -EINVAL;
	rc = usb_config(dev, config_index, &cfg);
	if (rc < 0)
		return rc;
	id = usb_find_alt(cfg, ifnum, alt, &nalts);
	if (!id) {
		libusb_free_config_descriptor(cfg);
		return -ENOENT;
	}
	ii.number = id->bInterfaceNumber;
	ii.alt = id->bAlternateSetting;
	ii.iface_class = id->bInterfaceClass;
	ii.iface_subclass = id->bInterfaceSubClass;
	ii.iface_protocol = id->bInterfaceProtocol;
	ii.num_endpoints = id->bNumEndpoints;
	ii.i_interface = id->iInterface;
	ii.num_alts = (uint8_t)nalts;
	libusb_free_config_descriptor(cfg);
	return usb_copy_out(out, &ii, sizeof(ii));
}

static void usb_fill_ep(struct vireo_usb_dev *dev, const struct libusb_endpoint_descriptor *ep,
			struct vireo_usb_endpoint_info *ei)
{
	struct libusb_ss_endpoint_companion_descriptor *comp;

	memset(ei, 0, sizeof(*ei));
	ei->struct_size = sizeof(*ei);
	ei->address = ep->bEndpointAddress;
	ei->type = ep->bmAttributes & 0x3u;
	ei->interval = ep->bInterval;
	ei->max_packet = ep->wMaxPacketSize & 0x7ffu;
	/* Bits 12..11: extra transactions per microframe, high speed (USB 2.0 §9.6.6). */
	ei->mult = (uint8_t)(((ep->wMaxPacketSize >> 11) & 0x3u) + 1u);
	if (ei->mult > 3)
		ei->mult = 3;
	ei->max_burst = 1;
	if (usb_superspeed(dev) &&
	    libusb_get_ss_endpoint_companion_descriptor(dev->usb->ctx, ep, &comp) == 0) {
		ei->max_burst = (uint8_t)(comp->bMaxBurst + 1u);
		libusb_free_ss_endpoint_companion_descriptor(comp);
	}
}

/* Endpoint @n of a setting, or the first of @type and @dir when @n < 0. */
static int usb_endpoint(struct vireo_usb_dev *dev, uint8_t config_index, uint8_t ifnum, uint8_t alt,
			int n, uint8_t type, uint8_t dir, struct vireo_usb_endpoint_info *out)
{
	const struct libusb_interface_descriptor *id;
	struct libusb_config_descriptor *cfg;
	struct vireo_usb_endpoint_info ei;
	int rc, nalts;

	if (!dev || !out || out->struct_size < sizeof(uint32_t))
		return -EINVAL;
	rc = usb_config(dev, config_index, &cfg);
	if (rc < 0)
		return rc;
	rc = -ENOENT;
	id = usb_find_alt(cfg, ifnum, alt, &nalts);
	for (int i = 0; id && i < id->bNumEndpoints; i++) {
		const struct libusb_endpoint_descriptor *ep = &id->endpoint[i];

		if (n >= 0 ? i != n
			   : ((ep->bmAttributes & 0x3u) != type ||
			      (ep->bEndpointAddress & VIREO_USB_DIR_IN) != dir))
			continue;
		usb_fill_ep(dev, ep, &ei);
		rc = 0;
		break;
	}
	libusb_free_config_descriptor(cfg);
	return rc < 0 ? rc : usb_copy_out(out, &ei, sizeof(ei));
}

int vireo_usb_endpoint_info(struct vireo_usb_dev *dev, uint8_t config_index, uint8_t ifnum,
			    uint8_t alt, uint8_t n, struct vireo_usb_endpoint_info *out)
{
	return usb_endpoint(dev, config_index, ifnum, alt, n, 0, 0, out);
}

int vireo_usb_find_endpoint(struct vireo_usb_dev *dev, uint8_t config_index, uint8_t ifnum,
			    uint8_t alt, uint8_t type, uint8_t dir,
			    struct vireo_usb_endpoint_info *out)
{
	if (type > VIREO_USB_EP_INTERRUPT || (dir != VIREO_USB_DIR_IN && dir != VIREO_USB_DIR_OUT))
		return -EINVAL;
	return usb_endpoint(dev, config_index, ifnum, alt, -1, type, dir, out);
}
