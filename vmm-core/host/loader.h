/* SPDX-License-Identifier: MIT */
/*
 * The driver host's registry: loading driver shared objects by path or from a
 * directory (dlopen RTLD_NOW | RTLD_LOCAL), refusing bad ones with one log line and a
 * named reason, listing what is loaded, and finding a driver by name or by the ids of a
 * device. Owns the dlopen handles and the core's checked copies of each descriptor;
 * device instances are blkdev.c's (and, later, the other classes').
 *
 * Threading: a registry belongs to one thread (vireod's control thread). Pointers it
 * returns stay valid until that driver is unloaded; a driver with open instances
 * cannot be unloaded.
 */
#ifndef VIREO_HOST_LOADER_H
#define VIREO_HOST_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "host/validate.h"

struct host_registry;
struct host_driver;

/** host_registry_new() - An empty registry. Return: 0 or -ENOMEM. */
int host_registry_new(struct host_registry **out);

/**
 * host_registry_free() - Unload every driver and free @reg; NULL is fine. Every
 * instance must have been closed (a driver that still has one is leaked, not unloaded,
 * and a line says so).
 */
void host_registry_free(struct host_registry *reg);

/**
 * host_load() - Load the driver at @path and check its descriptor. A refusal is logged
 * as one line (tag "host") naming the driver, what it has and what the core needs; the
 * same line is in @v->line.
 * @out: the loaded driver, or NULL (may be NULL itself).
 * @v: the verdict (may be NULL): reason HOST_OK on success.
 * Return: 0, or host_refusal_errno(@v->reason): -ENOENT (file), -ENOEXEC (not a
 * driver), -ENOTSUP (ABI), -EINVAL (malformed), -EEXIST (name taken), -ENOMEM.
 */
int host_load(struct host_registry *reg, const char *path, struct host_driver **out,
	      struct host_verdict *v);

/**
 * host_load_dir() - Load every "*.so" in @dir (not hidden files, in name order).
 * Refusals are logged one line each and do not stop the others.
 * @refused: how many were refused (may be NULL).
 * Return: how many were loaded, or a negative errno if @dir cannot be read.
 */
int host_load_dir(struct host_registry *reg, const char *dir, unsigned int *refused);

/** host_unload() - Unload @drv. Return: 0, or -EBUSY while it has open instances. */
int host_unload(struct host_registry *reg, struct host_driver *drv);

/** host_driver_count() - How many drivers are loaded. */
size_t host_driver_count(const struct host_registry *reg);

/** host_driver_at() - The @i-th loaded driver, in load order; NULL past the end. */
struct host_driver *host_driver_at(const struct host_registry *reg, size_t i);

/**
 * host_format_list() - One line per driver: "NAME VERSION CLASS abi=M.m LICENSE PATH".
 * Return: the length written (as snprintf), or -ENOSPC if @len was too small (the
 * output is then cut at a line boundary).
 */
int host_format_list(const struct host_registry *reg, char *buf, size_t len);

/** host_find_by_name() - The driver named @name, else the first with a name match entry @name. */
struct host_driver *host_find_by_name(const struct host_registry *reg, const char *name);

/** A PCI function's identity, as read from its config space. */
struct host_pci_id {
	uint16_t vendor;
	uint16_t device;
	uint16_t subvendor;
	uint16_t subdevice;
	uint32_t class_code; /* class << 16 | subclass << 8 | prog-if */
};

/**
 * host_find_by_pci() - The first driver (load order) with an entry matching @id.
 * @entry: the matching entry, for its driver_data (may be NULL).
 */
struct host_driver *host_find_by_pci(const struct host_registry *reg, const struct host_pci_id *id,
				     const struct vireo_match **entry);

/** host_find_by_usb() - The first driver with an entry matching @vid:@pid. */
struct host_driver *host_find_by_usb(const struct host_registry *reg, uint16_t vid, uint16_t pid,
				     const struct vireo_match **entry);

/** host_driver_name() - The descriptor's name. */
const char *host_driver_name(const struct host_driver *drv);
/** host_driver_version() - The descriptor's version string. */
const char *host_driver_version(const struct host_driver *drv);
/** host_driver_path() - The resolved path it was loaded from. */
const char *host_driver_path(const struct host_driver *drv);
/** host_driver_info() - The core's checked copies of the descriptor and its tables. */
const struct host_checked *host_driver_info(const struct host_driver *drv);
/** host_driver_get() - Count one open instance (blocks unloading). */
void host_driver_get(struct host_driver *drv);
/** host_driver_put() - Uncount one open instance. */
void host_driver_put(struct host_driver *drv);

#endif /* VIREO_HOST_LOADER_H */
