// SPDX-License-Identifier: MIT
/*
 * Loading and unloading driver shared objects, the registry of loaded ones, and the
 * lookups by name, PCI ids and USB ids. Every refusal ends the same way: one line,
 * logged and left in the verdict, and the object closed again; the core carries on.
 */
#include "host/loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <vireo/log.h>

#define HOST_LOG_TAG "host"

struct host_driver {
	void *handle;		  /* from dlopen() */
	char *path;		  /* resolved, owned */
	struct host_checked info; /* the core's copies of descriptor and tables */
	unsigned int instances;	  /* open device instances; unloading waits for 0 */
};

struct host_registry {
	struct host_driver **drivers; /* in load order */
	size_t n;
	size_t cap;
};

int host_registry_new(struct host_registry **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void loader_free_driver(struct host_driver *drv)
{
	if (drv->handle)
		dlclose(drv->handle);
	host_checked_release(&drv->info);
	free(drv->path);
	free(drv);
}

void host_registry_free(struct host_registry *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->n; i++) {
		struct host_driver *drv = reg->drivers[i];

		if (drv->instances) {
			vireo_log(VIREO_LOG_ERR, HOST_LOG_TAG,
				  "driver '%s' still has %u open instances: left loaded",
				  drv->info.desc.name, drv->instances);
			continue;
		}
		loader_free_driver(drv);
	}
	free(reg->drivers);
	free(reg);
}

VIREO_PRINTF(3, 4)
static void loader_set(struct host_verdict *v, enum host_refusal reason, const char *fmt, ...)
{
	va_list ap;

	v->reason = reason;
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
}

/*
 * Writes and logs the one line of a refusal, with the path as the caller gave it (the
 * file in the drivers directory rather than where a link points); returns the errno.
 */
static int loader_refuse(struct host_verdict *v, const char *path, int err)
{
	if (v->name[0])
		snprintf(v->line, sizeof(v->line), "driver '%s' (%s): refused, %s: %s", v->name,
			 path, host_refusal_name(v->reason), v->detail);
	else
		snprintf(v->line, sizeof(v->line), "driver %s: refused, %s: %s", path,
			 host_refusal_name(v->reason), v->detail);
	vireo_log(VIREO_LOG_ERR, HOST_LOG_TAG, "%s", v->line);
	return err ? err : host_refusal_errno(v->reason);
}

static struct host_driver *loader_find_exact(const struct host_registry *reg, const char *name)
{
	for (size_t i = 0; i < reg->n; i++)
		if (strcmp(reg->drivers[i]->info.desc.name, name) == 0)
			return reg->drivers[i];
	return NULL;
}

static int loader_append(struct host_registry *reg, struct host_driver *drv)
{
	if (reg->n == reg->cap) {
		size_t cap = reg->cap ? reg->cap * 2 : 8;
		struct host_driver **d = realloc(reg->drivers, cap * sizeof(*d));

		if (!d)
			return -ENOMEM;
		reg->drivers = d;
		reg->cap = cap;
	}
	reg->drivers[reg->n++] = drv;
	return 0;
}

/* dlopen() and the checks; on success *drv holds the new (unregistered) driver. */
static int loader_open(const struct host_registry *reg, const char *path, struct host_driver **drv,
		       struct host_verdict *v)
{
	struct host_image img;
	struct host_driver *d;
	struct host_driver *other;
	const char *why;
	void *handle, *sym;
	int rc;

	dlerror();
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		why = dlerror();
		loader_set(v, HOST_REFUSE_DLOPEN, "%s", why ? why : "dlopen failed");
		return host_refusal_errno(v->reason);
	}
	if (host_image_of(handle, &img) < 0) {
		loader_set(v, HOST_REFUSE_DLOPEN, "the dynamic loader reports no segments for it");
		rc = host_refusal_errno(v->reason);
		goto out_close_handle;
	}
	dlerror();
	sym = dlsym(handle, VIREO_DRIVER_SYMBOL);
	if (!sym) {
		loader_set(v, HOST_REFUSE_NO_DESCRIPTOR,
			   "exports no '%s' symbol; a driver defines it with VIREO_DRIVER()",
			   VIREO_DRIVER_SYMBOL);
		rc = host_refusal_errno(v->reason);
		goto out_close_handle;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		loader_set(v, HOST_REFUSE_NO_MEMORY, "allocating the driver");
		rc = -ENOMEM;
		goto out_close_handle;
	}
	rc = host_check_descriptor(&img, sym, &d->info, v);
	if (rc < 0)
		goto out_free_driver;
	other = loader_find_exact(reg, d->info.desc.name);
	if (other) {
		loader_set(v, HOST_REFUSE_DUPLICATE,
			   "a driver named '%s' is already loaded from %s", other->info.desc.name,
			   other->path);
		rc = host_refusal_errno(v->reason);
		goto out_free_driver;
	}
	d->path = strdup(path);
	if (!d->path) {
		loader_set(v, HOST_REFUSE_NO_MEMORY, "copying the path");
		rc = -ENOMEM;
		goto out_free_driver;
	}
	d->handle = handle;
	*drv = d;
	return 0;

out_free_driver:
	host_checked_release(&d->info);
	free(d);
out_close_handle:
	dlclose(handle);
	return rc;
}

int host_load(struct host_registry *reg, const char *path, struct host_driver **out,
	      struct host_verdict *v_out)
{
	struct host_verdict scratch, *v = v_out ? v_out : &scratch;
	struct host_driver *drv = NULL;
	const struct vireo_driver *d;
	char *real;
	struct stat st;
	int rc;

	if (out)
		*out = NULL;
	memset(v, 0, sizeof(*v));
	if (!path || !*path) {
		loader_set(v, HOST_REFUSE_FILE, "no path given");
		return loader_refuse(v, "(none)", -EINVAL);
	}
	real = realpath(path, NULL);
	if (!real) {
		rc = -errno;
		loader_set(v, HOST_REFUSE_FILE, "cannot resolve the path: %s", strerror(-rc));
		return loader_refuse(v, path, rc);
	}
	if (stat(real, &st) < 0 || !S_ISREG(st.st_mode)) {
		loader_set(v, HOST_REFUSE_FILE, "not a regular file");
		rc = loader_refuse(v, path, -EINVAL);
		goto out_free_real;
	}
	rc = loader_open(reg, real, &drv, v);
	if (rc < 0) {
		rc = loader_refuse(v, path, rc);
		goto out_free_real;
	}
	rc = loader_append(reg, drv);
	if (rc < 0) {
		loader_set(v, HOST_REFUSE_NO_MEMORY, "growing the registry");
		loader_free_driver(drv);
		rc = loader_refuse(v, path, rc);
		goto out_free_real;
	}
	d = &drv->info.desc;
	snprintf(v->name, sizeof(v->name), "%s", d->name);
	snprintf(v->line, sizeof(v->line), "driver '%s' %s (%s, ABI %u.%u, %s) loaded from %s",
		 d->name, d->version, host_class_name(d->dev_class), d->abi_major, d->abi_minor,
		 d->license, drv->path);
	vireo_log(VIREO_LOG_INFO, HOST_LOG_TAG, "%s", v->line);
	if (out)
		*out = drv;
out_free_real:
	free(real);
	return rc;
}

static int loader_so_filter(const struct dirent *de)
{
	size_t len = strlen(de->d_name);

	return de->d_name[0] != '.' && len > 3 && strcmp(de->d_name + len - 3, ".so") == 0;
}

int host_load_dir(struct host_registry *reg, const char *dir, unsigned int *refused)
{
	struct dirent **names;
	char path[PATH_MAX];
	unsigned int bad = 0;
	int n, loaded = 0;

	if (refused)
		*refused = 0;
	n = scandir(dir, &names, loader_so_filter, alphasort);
	if (n < 0) {
		int rc = -errno;

		vireo_log(VIREO_LOG_ERR, HOST_LOG_TAG, "cannot read driver directory %s: %s", dir,
			  strerror(-rc));
		return rc;
	}
	for (int i = 0; i < n; i++) {
		int w = snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);

		if (w < 0 || (size_t)w >= sizeof(path)) {
			vireo_log(VIREO_LOG_ERR, HOST_LOG_TAG, "driver %s/%s: path too long", dir,
				  names[i]->d_name);
			bad++;
		} else if (host_load(reg, path, NULL, NULL) == 0) {
			loaded++;
		} else {
			bad++;
		}
		free(names[i]);
	}
	free(names);
	if (refused)
		*refused = bad;
	return loaded;
}

int host_unload(struct host_registry *reg, struct host_driver *drv)
{
	for (size_t i = 0; i < reg->n; i++) {
		if (reg->drivers[i] != drv)
			continue;
		if (drv->instances)
			return -EBUSY;
		memmove(&reg->drivers[i], &reg->drivers[i + 1],
			(reg->n - i - 1) * sizeof(reg->drivers[0]));
		reg->n--;
		vireo_log(VIREO_LOG_INFO, HOST_LOG_TAG, "driver '%s' unloaded",
			  drv->info.desc.name);
		loader_free_driver(drv);
		return 0;
	}
	return -ENOENT;
}

size_t host_driver_count(const struct host_registry *reg)
{
	return reg->n;
}

struct host_driver *host_driver_at(const struct host_registry *reg, size_t i)
{
	return i < reg->n ? reg->drivers[i] : NULL;
}

int host_format_list(const struct host_registry *reg, char *buf, size_t len)
{
	size_t n = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < reg->n; i++) {
		const struct host_driver *drv = reg->drivers[i];
		const struct vireo_driver *d = &drv->info.desc;
		int w = snprintf(buf + n, len - n, "%s %s %s abi=%u.%u %s %s\n", d->name,
				 d->version, host_class_name(d->dev_class), d->abi_major,
				 d->abi_minor, d->license, drv->path);

		if (w < 0 || (size_t)w >= len - n) {
			buf[n] = '\0';
			return -ENOSPC;
		}
		n += (size_t)w;
	}
	return (int)n;
}

struct host_driver *host_find_by_name(const struct host_registry *reg, const char *name)
{
	struct host_driver *drv = name ? loader_find_exact(reg, name) : NULL;

	if (drv || !name)
		return drv;
	for (size_t i = 0; i < reg->n; i++) {
		const struct host_checked *c = &reg->drivers[i]->info;

		for (size_t j = 0; j < c->nmatch; j++)
			if (c->match[j].type == VIREO_MATCH_NAME &&
			    strcmp(c->match[j].name, name) == 0)
				return reg->drivers[i];
	}
	return NULL;
}

static bool loader_pci_field(uint16_t want, uint16_t have)
{
	return want == VIREO_PCI_ANY || want == have;
}

static bool loader_pci_matches(const struct vireo_match_pci *m, const struct host_pci_id *id)
{
	return loader_pci_field(m->vendor, id->vendor) && loader_pci_field(m->device, id->device) &&
	       loader_pci_field(m->subvendor, id->subvendor) &&
	       loader_pci_field(m->subdevice, id->subdevice) &&
	       ((m->class_code ^ id->class_code) & m->class_mask) == 0;
}

struct host_driver *host_find_by_pci(const struct host_registry *reg, const struct host_pci_id *id,
				     const struct vireo_match **entry)
{
	for (size_t i = 0; i < reg->n; i++) {
		const struct host_checked *c = &reg->drivers[i]->info;

		for (size_t j = 0; j < c->nmatch; j++) {
			if (c->match[j].type != VIREO_MATCH_PCI ||
			    !loader_pci_matches(&c->match[j].pci, id))
				continue;
			if (entry)
				*entry = &c->match[j];
			return reg->drivers[i];
		}
	}
	return NULL;
}

struct host_driver *host_find_by_usb(const struct host_registry *reg, uint16_t vid, uint16_t pid,
				     const struct vireo_match **entry)
{
	for (size_t i = 0; i < reg->n; i++) {
		const struct host_checked *c = &reg->drivers[i]->info;

		for (size_t j = 0; j < c->nmatch; j++) {
			if (c->match[j].type != VIREO_MATCH_USB || c->match[j].usb.vid != vid ||
			    c->match[j].usb.pid != pid)
				continue;
			if (entry)
				*entry = &c->match[j];
			return reg->drivers[i];
		}
	}
	return NULL;
}

const char *host_driver_name(const struct host_driver *drv)
{
	return drv->info.desc.name;
}

const char *host_driver_version(const struct host_driver *drv)
{
	return drv->info.desc.version;
}

const char *host_driver_path(const struct host_driver *drv)
{
	return drv->path;
}

const struct host_checked *host_driver_info(const struct host_driver *drv)
{
	return &drv->info;
}

void host_driver_get(struct host_driver *drv)
{
	drv->instances++;
}

void host_driver_put(struct host_driver *drv)
{
	drv->instances--;
}
