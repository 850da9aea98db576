/* SPDX-License-Identifier: MIT */
/**
 * @file
 * @brief Vireo SDK: the driver descriptor, the one symbol a driver exports.
 *
 * Audience: driver authors. A driver is a shared object built against the SDK alone
 * (`pkg-config --cflags --libs vireo-sdk`). It exports exactly one symbol,
 * `vireo_driver_descriptor`, best written with VIREO_DRIVER(); everything else stays
 * hidden (link with a version script or -fvisibility=hidden). The descriptor names the
 * driver, its version and licence, its class, the ABI it was built for, its class ops
 * table, the devices it matches and the parameters it takes.
 *
 * What the core checks when it loads a driver (each failure is refused with one log
 * line naming the driver, what it wants and what the core has; the core keeps running):
 * - the symbol exists, lies in the driver's own image and starts with VIREO_DRIVER_MAGIC;
 * - abi_major equals the core's and abi_minor is not newer than the core's;
 * - struct_size covers every member of ABI 1.0;
 * - name, version and licence are present, printable and short; class is known;
 * - the ops table lies in the driver image, its struct_size reaches the class's last
 *   required op, every required op is set and every op points into the driver's code;
 * - the match and parameter tables end in a `{ 0 }` sentinel within their limits, and
 *   every entry (and every parameter default) is well formed.
 * Every string and table the descriptor points to must live in the driver's own image
 * (static const data): the core checks each address before reading it.
 */
#ifndef VIREO_DRIVER_H
#define VIREO_DRIVER_H

#include <vireo/common.h>
#include <vireo/params.h>
#include <vireo/version.h>

VIREO_BEGIN_DECLS

struct vireo_blk_ops;
struct vireo_net_ops;
struct vireo_sensor_ops;

/** "VIRO" in ASCII: the first check that a symbol really is a descriptor. */
#define VIREO_DRIVER_MAGIC 0x5649524fu

/** Longest driver name (and name match), in bytes. */
#define VIREO_DRIVER_NAME_MAX 31
/** Longest version string, in bytes. */
#define VIREO_DRIVER_VERSION_MAX 31
/** Longest licence string (an SPDX expression), in bytes. */
#define VIREO_DRIVER_LICENSE_MAX 63
/** Longest description, in bytes. */
#define VIREO_DRIVER_DESCRIPTION_MAX 127
/** Most entries a match table may have, sentinel excluded. */
#define VIREO_MATCH_MAX 256

/** Driver classes: which ops table the descriptor carries. Zero is not a class. */
enum vireo_class {
	VIREO_CLASS_NET = 1,	/**< network uplink: struct vireo_net_ops (net.h) */
	VIREO_CLASS_BLK = 2,	/**< block device: struct vireo_blk_ops (blk.h) */
	VIREO_CLASS_SENSOR = 3, /**< hardware sensors: struct vireo_sensor_ops (sensor.h) */
};

/** Kinds of match table entry. Zero is the sentinel's. */
enum vireo_match_type {
	VIREO_MATCH_PCI = 1,  /**< a PCI function, by ids and/or class code */
	VIREO_MATCH_USB = 2,  /**< a USB device, by vendor and product id */
	VIREO_MATCH_NAME = 3, /**< a name devices may ask for (an alias of the driver) */
};

/** In a PCI match: any vendor, device, subsystem vendor or subsystem device. */
#define VIREO_PCI_ANY 0xffffu

/** PCI part of a match entry. A function matches when every id and the class agree. */
struct vireo_match_pci {
	uint16_t vendor;     /**< vendor id, or VIREO_PCI_ANY */
	uint16_t device;     /**< device id, or VIREO_PCI_ANY */
	uint16_t subvendor;  /**< subsystem vendor id, or VIREO_PCI_ANY */
	uint16_t subdevice;  /**< subsystem device id, or VIREO_PCI_ANY */
	uint32_t class_code; /**< class << 16 | subclass << 8 | prog-if */
	uint32_t class_mask; /**< bits of class_code that must agree; 0: any class */
};
VIREO_ABI_SIZE(struct vireo_match_pci, 16);

/** USB part of a match entry. */
struct vireo_match_usb {
	uint16_t vid;	    /**< idVendor; 0 is refused */
	uint16_t pid;	    /**< idProduct */
	uint32_t reserved0; /**< must be zero */
};
VIREO_ABI_SIZE(struct vireo_match_usb, 8);

/**
 * One match table entry. The table is a static const array ending in a `{ 0 }`
 * sentinel; build entries with VIREO_MATCH_PCI_DEVICE() and friends, which fill in
 * struct_size and type, and add `.driver_data = ...` when the driver wants a value back
 * for the entry that matched.
 */
struct vireo_match {
	uint32_t struct_size; /**< sizeof(struct vireo_match); 0 ends the table */
	uint32_t type;	      /**< an enum vireo_match_type */
	union {
		struct vireo_match_pci pci; /**< type VIREO_MATCH_PCI */
		struct vireo_match_usb usb; /**< type VIREO_MATCH_USB */
		const char *name;	    /**< type VIREO_MATCH_NAME: like a driver name */
		uint64_t reserved[3];	    /**< the union's size; room for later kinds */
	};
	uint64_t driver_data; /**< handed back to the driver for the matching entry */
};
VIREO_ABI_SIZE(struct vireo_match, 40);

/** A match entry for one PCI vendor/device pair, any subsystem, any class. */
#define VIREO_MATCH_PCI_DEVICE(vid, did)                                    \
	.struct_size = sizeof(struct vireo_match), .type = VIREO_MATCH_PCI, \
	.pci = { .vendor = (vid),                                           \
		 .device = (did),                                           \
		 .subvendor = VIREO_PCI_ANY,                                \
		 .subdevice = VIREO_PCI_ANY,                                \
		 .class_code = 0,                                           \
		 .class_mask = 0 }
/** A match entry for a PCI vendor/device pair with one subsystem. */
#define VIREO_MATCH_PCI_SUBSYS(vid, did, svid, sdid)                        \
	.struct_size = sizeof(struct vireo_match), .type = VIREO_MATCH_PCI, \
	.pci = { .vendor = (vid),                                           \
		 .device = (did),                                           \
		 .subvendor = (svid),                                       \
		 .subdevice = (sdid),                                       \
		 .class_code = 0,                                           \
		 .class_mask = 0 }
/** A match entry for any PCI function whose class code agrees with @p cls under @p mask. */
#define VIREO_MATCH_PCI_CLASS(cls, mask)                                    \
	.struct_size = sizeof(struct vireo_match), .type = VIREO_MATCH_PCI, \
	.pci = { .vendor = VIREO_PCI_ANY,                                   \
		 .device = VIREO_PCI_ANY,                                   \
		 .subvendor = VIREO_PCI_ANY,                                \
		 .subdevice = VIREO_PCI_ANY,                                \
		 .class_code = (cls),                                       \
		 .class_mask = (mask) }
/** A match entry for one USB vendor/product pair. */
#define VIREO_MATCH_USB_DEVICE(v, p)                                        \
	.struct_size = sizeof(struct vireo_match), .type = VIREO_MATCH_USB, \
	.usb = { .vid = (v), .pid = (p), .reserved0 = 0 }
/** A match entry for a name devices may ask for instead of the driver's own. */
#define VIREO_MATCH_NAME(n) \
	.struct_size = sizeof(struct vireo_match), .type = VIREO_MATCH_NAME, .name = (n)

/**
 * The driver descriptor. The first six members (struct_size through name, 24 bytes on
 * LP64) are frozen for every ABI major, so that any core can tell which ABI a driver
 * was built for and name it when refusing it; the rest belongs to ABI 1 and only grows
 * at the end, announced by struct_size.
 */
struct vireo_driver {
	uint32_t struct_size;	 /**< sizeof(struct vireo_driver) as the driver was built */
	uint32_t magic;		 /**< VIREO_DRIVER_MAGIC */
	uint16_t abi_major;	 /**< VIREO_ABI_MAJOR of the driver's SDK */
	uint16_t abi_minor;	 /**< VIREO_ABI_MINOR of the driver's SDK */
	uint32_t dev_class;	 /**< an enum vireo_class; selects the ops member */
	const char *name;	 /**< [A-Za-z0-9_.-], 1..VIREO_DRIVER_NAME_MAX; unique */
	const char *version;	 /**< the driver's own version, printable, e.g. "1.2.0" */
	const char *license;	 /**< SPDX licence expression, e.g. "MIT" */
	const char *description; /**< one line, or NULL */
	union {
		const void *any;		       /**< whichever is set; never NULL */
		const struct vireo_net_ops *net;       /**< class VIREO_CLASS_NET */
		const struct vireo_blk_ops *blk;       /**< class VIREO_CLASS_BLK */
		const struct vireo_sensor_ops *sensor; /**< class VIREO_CLASS_SENSOR */
	} ops;				       /**< the class ops table (struct_size first) */
	const struct vireo_match *match;       /**< `{ 0 }`-terminated, or NULL: by name only */
	const struct vireo_param_decl *params; /**< `{ 0 }`-terminated, or NULL: none */
};
VIREO_ABI_OFFSET(struct vireo_driver, magic, 4);
VIREO_ABI_OFFSET(struct vireo_driver, abi_major, 8);
VIREO_ABI_OFFSET(struct vireo_driver, abi_minor, 10);
VIREO_ABI_OFFSET(struct vireo_driver, dev_class, 12);
VIREO_ABI_OFFSET(struct vireo_driver, name, 16);
VIREO_ABI_SIZE(struct vireo_driver, 72);

/** The name of the one symbol a driver exports. */
#define VIREO_DRIVER_SYMBOL "vireo_driver_descriptor"

/**
 * The descriptor of the driver being compiled. Declared here so that driver code can
 * refer to its own name (log.h's default tag does); defined by VIREO_DRIVER().
 */
VIREO_API extern const struct vireo_driver vireo_driver_descriptor;

/**
 * Defines and exports the driver's descriptor. Give the members as designated
 * initializers; struct_size, magic and the ABI version are filled in:
 * @code
 * VIREO_DRIVER(.name = "blk-ram", .version = "1.0.0", .license = "MIT",
 *              .dev_class = VIREO_CLASS_BLK, .ops.blk = &ram_ops,
 *              .match = ram_match, .params = ram_params);
 * @endcode
 * Use it once per driver, at file scope.
 */
#define VIREO_DRIVER(...)                                               \
	VIREO_API const struct vireo_driver vireo_driver_descriptor = { \
		.struct_size = sizeof(struct vireo_driver),             \
		.magic = VIREO_DRIVER_MAGIC,                            \
		.abi_major = VIREO_ABI_MAJOR,                           \
		.abi_minor = VIREO_ABI_MINOR,                           \
		__VA_ARGS__                                             \
	}

VIREO_END_DECLS

#endif /* VIREO_DRIVER_H */
