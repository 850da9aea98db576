// SPDX-License-Identifier: MIT
/*
 * PCI functions through VFIO for drivers (<vireo/pci.h>): opening a function bound to
 * vfio-pci (group, type1 container, device fd), reading what it has (regions, BARs
 * mapped, IOVA ranges, interrupt counts) and closing it. Using an open function
 * (config space, registers, interrupts, reset) is lib/pci_access.c's; DMA mappings
 * into its IOVA space are lib/pci_dma.c's; the buffers are lib/mem.c's. Everything here is kernel
 * ABI (linux/vfio.h); the kernel enforces the IOMMU, this file only says clearly why an open fails.
 */
#include "pci_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vireo/driver.h>

#define PCI_SYSFS	 "/sys/bus/pci/devices"
#define PCI_CFG_BAR0	 0x10u
#define PCI_BAR_IO	 0x1u
#define PCI_BAR_TYPE_64	 0x4u
#define PCI_BAR_PREFETCH 0x8u

/* ---- addresses ---- */

static int pci_hex(const char **p, unsigned int ndig, unsigned int *v)
{
	*v = 0;
	for (unsigned int i = 0; i < ndig; i++) {
		char c = (*p)[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned int)(c - 'A' + 10);
		else
			return -1;
		*v = *v << 4 | d;
	}
	*p += ndig;
	return 0;
}

/* "DDDD:BB:DD.F" or "BB:DD.F", exactly sysfs's digit counts; canonical lower case out. */
static int pci_parse_bdf(const char *s, char out[PCI_BDF_LEN])
{
	unsigned int dom = 0, bus, dev, fn;
	const char *p = s;

	if (strlen(s) == 12) {
		if (pci_hex(&p, 4, &dom) < 0 || *p++ != ':')
			return -EINVAL;
	} else if (strlen(s) != 7) {
		return -EINVAL;
	}
	if (pci_hex(&p, 2, &bus) < 0 || *p++ != ':' || pci_hex(&p, 2, &dev) < 0 || *p++ != '.' ||
	    pci_hex(&p, 1, &fn) < 0 || *p != '\0' || dev > 0x1f || fn > 7)
		return -EINVAL;
	snprintf(out, PCI_BDF_LEN, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

/* The last path element of symlink @dir/@name, e.g. a driver's or group's name. */
static int pci_link_name(const char *dir, const char *name, char *out, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	memcpy(out, base, strlen(base) + 1);
	return 0;
}

/* ---- opening ---- */

/* Checks sysfs so that the common mistakes get their own message; returns the group. */
static int pci_sysfs_check(const char *bdf, int *group)
{
	char dir[PATH_MAX], drv[64], grp[32];
	struct stat st;
	char *end;
	long g;
	int rc;

	snprintf(dir, sizeof(dir), PCI_SYSFS "/%s", bdf);
	if (stat(dir, &st) < 0) {
		vireo_log(VIREO_LOG_ERR, "pci", "%s: no such PCI function (%s missing)", bdf, dir);
		return -ENODEV;
	}
	rc = pci_link_name(dir, "driver", drv, sizeof(drv));
	if (rc < 0) {
		vireo_log(VIREO_LOG_ERR, "pci",
			  "%s is bound to no driver, not vfio-pci; hand it over with: "
			  "modprobe vfio-pci && echo vfio-pci >%s/driver_override && "
			  "echo %s >/sys/bus/pci/drivers_probe",
			  bdf, dir, bdf);
		return -ENXIO;
	}
	if (strcmp(drv, "vfio-pci") != 0) {
		vireo_log(VIREO_LOG_ERR, "pci",
			  "%s is bound to %s, not vfio-pci; hand it over with: "
			  "modprobe vfio-pci && echo vfio-pci >%s/driver_override && "
			  "echo %s >%s/driver/unbind && echo %s >/sys/bus/pci/drivers_probe",
			  bdf, drv, dir, bdf, dir, bdf);
		return -ENXIO;
	}
	rc = pci_link_name(dir, "iommu_group", grp, sizeof(grp));
	if (rc < 0) {
		vireo_log(VIREO_LOG_ERR, "pci",
			  "%s has no IOMMU group: is an IOMMU enabled (intel_iommu=on, "
			  "amd_iommu=on)?",
			  bdf);
		return -ENOENT;
	}
	errno = 0;
	g = strtol(grp, &end, 10);
	if (errno || *end || g < 0 || g > INT_MAX) {
		vireo_log(VIREO_LOG_ERR, "pci", "%s: IOMMU group '%s' is not a number", bdf, grp);
		return -ENOENT;
	}
	*group = (int)g;
	return 0;
}

/* Names the functions that make group @group not viable, in one log line. */
static void pci_log_not_viable(const char *bdf, int group)
{
	char dir[PATH_MAX], others[256] = "", drv[64];
	struct dirent *de;
	size_t used = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/sys/kernel/iommu_groups/%d/devices", group);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		char fdir[PATH_MAX];
		int n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(fdir, sizeof(fdir), PCI_SYSFS "/%s", de->d_name);
		if (pci_link_name(fdir, "driver", drv, sizeof(drv)) < 0 ||
		    strcmp(drv, "vfio-pci") == 0)
			continue;
		n = snprintf(others + used, sizeof(others) - used, " %s (%s)", de->d_name, drv);
		if (n < 0 || (size_t)n >= sizeof(others) - used)
			break;
		used += (size_t)n;
	}
	if (d)
		closedir(d);
	vireo_log(VIREO_LOG_ERR, "pci",
		  "%s: IOMMU group %d is not viable: every function in it must be bound to "
		  "vfio-pci or to no driver; bound to a host driver:%s",
		  bdf, group, used ? others : " (none found in sysfs)");
}

static int pci_open_container(struct vireo_pci_dev *dev, int *type)
{
	int rc;

	dev->container_fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (dev->container_fd < 0) {
		rc = -errno;
		vireo_log(VIREO_LOG_ERR, "pci", "%s: cannot open /dev/vfio/vfio (%s)%s", dev->bdf,
			  strerror(-rc), rc == -ENOENT ? ": is the vfio module loaded?" : "");
		return rc;
	}
	if (ioctl(dev->container_fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		vireo_log(VIREO_LOG_ERR, "pci", "%s: the kernel's VFIO API is not version %d",
			  dev->bdf, VFIO_API_VERSION);
		return -EOPNOTSUPP;
	}
	/* Type1v2 unmaps whole mappings only, which is all this library does. */
	if (ioctl(dev->container_fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0) {
		*type = VFIO_TYPE1v2_IOMMU;
	} else if (ioctl(dev->container_fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) > 0) {
		*type = VFIO_TYPE1_IOMMU;
	} else {
		vireo_log(VIREO_LOG_ERR, "pci", "%s: the kernel's VFIO has no type1 IOMMU",
			  dev->bdf);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int pci_open_group(struct vireo_pci_dev *dev, int type)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64];
	int rc;

	snprintf(path, sizeof(path), "/dev/vfio/%d", dev->group);
	dev->group_fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->group_fd < 0) {
		rc = -errno;
		if (rc == -EPERM)
			rc = -EACCES;
		vireo_log(VIREO_LOG_ERR, "pci", "%s: cannot open %s (%s)%s", dev->bdf, path,
			  strerror(-rc),
			  rc == -EBUSY ? ": the group is already open, by another process or "
					 "by this one (one open device per group)"
				       : "");
		return rc;
	}
	if (ioctl(dev->group_fd, VFIO_GROUP_GET_STATUS, &status) < 0)
		return -errno;
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		pci_log_not_viable(dev->bdf, dev->group);
		return -EPERM;
	}
	if (ioctl(dev->group_fd, VFIO_GROUP_SET_CONTAINER, &dev->container_fd) < 0 ||
	    ioctl(dev->container_fd, VFIO_SET_IOMMU, type) < 0) {
		rc = -errno;
		vireo_log(VIREO_LOG_ERR, "pci",
			  "%s: cannot set up a type1 container for group %d (%s)", dev->bdf,
			  dev->group, strerror(-rc));
		return rc;
	}
	return 0;
}

/*
 * Calls a VFIO info ioctl whose answer may be longer than the struct (capability
 * chains): grows the buffer to the argsz the kernel asks for.
 */
static void *pci_info_ioctl(int fd, unsigned long req, const void *in, size_t len)
{
	void *info = malloc(len);
	uint32_t want;

	if (!info)
		return NULL;
	memcpy(info, in, len);
	*(uint32_t *)info = (uint32_t)len;
	if (ioctl(fd, req, info) < 0)
		goto out_free_info;
	want = *(uint32_t *)info;
	if (want <= len)
		return info;
	free(info);
	info = calloc(1, want);
	if (!info)
		return NULL;
	memcpy(info, in, len);
	*(uint32_t *)info = want;
	if (ioctl(fd, req, info) < 0)
		goto out_free_info;
	return info;

out_free_info:
	free(info);
	return NULL;
}

/*
 * Copies @len bytes at offset @off of an info answer of @argsz bytes, if they lie
 * inside it. Capabilities sit at any 4-byte offset, so they are read by copy, never
 * through a pointer to a struct with 64-bit members.
 */
static bool pci_cap_read(const void *info, uint32_t argsz, uint64_t off, void *dst, size_t len)
{
	if (off > argsz || len > argsz - off)
		return false;
	memcpy(dst, (const char *)info + off, len);
	return true;
}

/* The offset of capability @id in the chain of an info answer, or 0. */
static uint32_t pci_find_cap(const void *info, uint32_t argsz, uint32_t first, uint16_t id)
{
	struct vfio_info_cap_header h;
	uint32_t off = first;

	/* Bounded: each hop must move forward and stay inside the answer. */
	while (off >= sizeof(uint32_t) && pci_cap_read(info, argsz, off, &h, sizeof(h))) {
		if (h.id == id)
			return off;
		if (h.next <= off)
			break;
		off = h.next;
	}
	return 0;
}

/* The usable IOVA ranges of the container (all of 48 bits if the kernel says nothing). */
static int pci_read_iova_ranges(struct vireo_pci_dev *dev)
{
	struct vfio_iommu_type1_info in = { .argsz = sizeof(in) };
	const size_t hdr = offsetof(struct vfio_iommu_type1_info_cap_iova_range, iova_ranges);
	struct vfio_iommu_type1_info *info;
	uint32_t cap = 0, nr = 0;

	info = pci_info_ioctl(dev->container_fd, VFIO_IOMMU_GET_INFO, &in, sizeof(in));
	if (!info)
		return errno ? -errno : -ENOMEM;
	dev->iova_pgsizes = info->flags & VFIO_IOMMU_INFO_PGSIZES ? info->iova_pgsizes : 0;
	if (dev->iova_pgsizes == 0)
		dev->iova_pgsizes = 4096; /* what every IOMMU maps */
	if (info->flags & VFIO_IOMMU_INFO_CAPS)
		cap = pci_find_cap(info, info->argsz, info->cap_offset,
				   VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	if (cap &&
	    pci_cap_read(info, info->argsz,
			 cap + offsetof(struct vfio_iommu_type1_info_cap_iova_range, nr_iovas), &nr,
			 sizeof(nr)) &&
	    nr > 0 && nr <= 1024 &&
	    (uint64_t)cap + hdr + (uint64_t)nr * sizeof(struct vfio_iova_range) <= info->argsz) {
		dev->nranges = nr;
		dev->ranges = calloc(dev->nranges, sizeof(*dev->ranges));
		if (!dev->ranges)
			goto out_free_info;
		for (size_t i = 0; i < dev->nranges; i++) {
			struct vfio_iova_range r;

			pci_cap_read(info, info->argsz, cap + hdr + i * sizeof(r), &r, sizeof(r));
			dev->ranges[i].start = r.start;
			dev->ranges[i].end = r.end;
		}
	} else {
		dev->nranges = 1;
		dev->ranges = calloc(1, sizeof(*dev->ranges));
		if (!dev->ranges)
			goto out_free_info;
		dev->ranges[0].start = 0;
		dev->ranges[0].end = (1ull << 48) - 1;
	}
	free(info);
	return 0;

out_free_info:
	free(info);
	return -ENOMEM;
}

/* Maps what VFIO lets user space map of BAR @i: all of it, or its sparse areas. */
static void pci_map_bar(struct vireo_pci_dev *dev, unsigned int i,
			const struct vfio_region_info *info)
{
	struct pci_region *r = &dev->bars[i];
	const size_t hdr = offsetof(struct vfio_region_info_cap_sparse_mmap, areas);
	uint32_t sp = 0, nr = 0;
	void *va;

	if (!(info->flags & VFIO_REGION_INFO_FLAG_MMAP) || r->size == 0 ||
	    !(r->flags & VIREO_PCI_BAR_MEM))
		return;
	if (info->flags & VFIO_REGION_INFO_FLAG_CAPS)
		sp = pci_find_cap(info, info->argsz, info->cap_offset,
				  VFIO_REGION_INFO_CAP_SPARSE_MMAP);
	if (sp && !pci_cap_read(info, info->argsz,
				sp + offsetof(struct vfio_region_info_cap_sparse_mmap, nr_areas),
				&nr, sizeof(nr)))
		sp = 0;
	if (!sp) {
		va = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, dev->device_fd,
			  (off_t)r->offset);
		if (va == MAP_FAILED) {
			vireo_log(VIREO_LOG_DEBUG, "pci",
				  "%s: BAR%u not mapped (%s): using read/write", dev->bdf, i,
				  strerror(errno));
			return;
		}
		r->va = va;
		r->flags |= VIREO_PCI_BAR_MAPPED;
		return;
	}
	/* Sparse: reserve the whole BAR, then map each allowed area over the reservation. */
	va = mmap(NULL, r->size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (va == MAP_FAILED)
		return;
	for (uint32_t a = 0; a < nr && r->nareas < PCI_MAX_AREAS; a++) {
		struct vfio_region_sparse_mmap_area area;
		uint64_t off, size;

		if (!pci_cap_read(info, info->argsz, sp + hdr + (uint64_t)a * sizeof(area), &area,
				  sizeof(area)))
			break;
		off = area.offset;
		size = area.size;
		if (size == 0 || off > r->size || size > r->size - off)
			continue;
		if (mmap((char *)va + off, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 dev->device_fd, (off_t)(r->offset + off)) == MAP_FAILED)
			continue;
		r->areas[r->nareas].off = off;
		r->areas[r->nareas].size = size;
		r->nareas++;
	}
	if (r->nareas == 0) {
		munmap(va, r->size);
		return;
	}
	r->va = va;
	r->flags |= VIREO_PCI_BAR_MAPPED | VIREO_PCI_BAR_SPARSE;
}

static int pci_read_region(struct vireo_pci_dev *dev, uint32_t index, struct pci_region *r,
			   struct vfio_region_info **keep)
{
	struct vfio_region_info in = { .argsz = sizeof(in), .index = index };
	struct vfio_region_info *info;

	info = pci_info_ioctl(dev->device_fd, VFIO_DEVICE_GET_REGION_INFO, &in, sizeof(in));
	if (!info)
		return errno ? -errno : -ENOMEM;
	r->size = info->size;
	r->offset = info->offset;
	r->vflags = info->flags;
	*keep = info;
	return 0;
}

static int pci_read_regions(struct vireo_pci_dev *dev)
{
	struct vfio_region_info *info;
	int rc;

	rc = pci_read_region(dev, VFIO_PCI_CONFIG_REGION_INDEX, &dev->cfg, &info);
	if (rc < 0)
		return rc;
	free(info);
	for (unsigned int i = 0; i < VIREO_PCI_NUM_BARS; i++) {
		struct pci_region *r = &dev->bars[i];
		uint32_t bar;

		rc = pci_read_region(dev, VFIO_PCI_BAR0_REGION_INDEX + i, r, &info);
		if (rc < 0)
			return rc;
		if (r->size && vireo_pci_cfg_read(dev, PCI_CFG_BAR0 + 4 * i, 4, &bar) == 0) {
			if (!(bar & PCI_BAR_IO))
				r->flags |= VIREO_PCI_BAR_MEM;
			if (!(bar & PCI_BAR_IO) && (bar & 0x6u) == PCI_BAR_TYPE_64)
				r->flags |= VIREO_PCI_BAR_64BIT;
			if (!(bar & PCI_BAR_IO) && (bar & PCI_BAR_PREFETCH))
				r->flags |= VIREO_PCI_BAR_PREFETCH;
		}
		pci_map_bar(dev, i, info);
		free(info);
	}
	return 0;
}

static int pci_read_irqs(struct vireo_pci_dev *dev)
{
	for (uint32_t i = 0; i < PCI_IRQ_KINDS; i++) {
		struct vfio_irq_info info = { .argsz = sizeof(info), .index = i };

		/* VFIO_PCI_{INTX,MSI,MSIX}_IRQ_INDEX are 0, 1, 2. */
		if (ioctl(dev->device_fd, VFIO_DEVICE_GET_IRQ_INFO, &info) < 0)
			return -errno;
		dev->irq_counts[i] = info.count;
	}
	return 0;
}

static void pci_unmap_bars(struct vireo_pci_dev *dev)
{
	for (unsigned int i = 0; i < VIREO_PCI_NUM_BARS; i++) {
		if (dev->bars[i].va)
			munmap(dev->bars[i].va, dev->bars[i].size);
		dev->bars[i].va = NULL;
	}
}

/* Releases what an open acquired; also the tail of vireo_pci_close(). */
static void pci_release(struct vireo_pci_dev *dev)
{
	pci_unmap_bars(dev);
	if (dev->device_fd >= 0)
		close(dev->device_fd);
	if (dev->group_fd >= 0) {
		ioctl(dev->group_fd, VFIO_GROUP_UNSET_CONTAINER);
		close(dev->group_fd);
	}
	if (dev->container_fd >= 0)
		close(dev->container_fd);
	free(dev->ranges);
	free(dev);
}

int vireo_pci_open(const char *bdf, struct vireo_pci_dev **out)
{
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	struct vireo_pci_dev *dev;
	int rc, type = 0;

	if (!bdf || !out)
		return -EINVAL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->container_fd = dev->group_fd = dev->device_fd = -1;
	if (pci_parse_bdf(bdf, dev->bdf) < 0) {
		vireo_log(VIREO_LOG_ERR, "pci",
			  "'%.32s' is not a PCI address (DDDD:BB:DD.F or BB:DD.F, in hex)", bdf);
		rc = -EINVAL;
		goto out_release;
	}
	rc = pci_sysfs_check(dev->bdf, &dev->group);
	if (rc < 0)
		goto out_release;
	rc = pci_open_container(dev, &type);
	if (rc < 0)
		goto out_release;
	rc = pci_open_group(dev, type);
	if (rc < 0)
		goto out_release;
	rc = pci_read_iova_ranges(dev);
	if (rc < 0)
		goto out_release;
	dev->device_fd = ioctl(dev->group_fd, VFIO_GROUP_GET_DEVICE_FD, dev->bdf);
	if (dev->device_fd < 0) {
		rc = -errno;
		vireo_log(VIREO_LOG_ERR, "pci", "%s: VFIO_GROUP_GET_DEVICE_FD failed (%s)",
			  dev->bdf, strerror(-rc));
		goto out_release;
	}
	if (ioctl(dev->device_fd, VFIO_DEVICE_GET_INFO, &dinfo) < 0) {
		rc = -errno;
		goto out_release;
	}
	if (!(dinfo.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    dinfo.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX || dinfo.num_irqs < PCI_IRQ_KINDS) {
		vireo_log(VIREO_LOG_ERR, "pci", "%s: VFIO does not present it as a PCI device",
			  dev->bdf);
		rc = -ENODEV;
		goto out_release;
	}
	dev->can_reset = dinfo.flags & VFIO_DEVICE_FLAGS_RESET;
	rc = pci_read_regions(dev);
	if (rc < 0)
		goto out_release;
	rc = pci_read_irqs(dev);
	if (rc < 0)
		goto out_release;
	vireo_log(VIREO_LOG_DEBUG, "pci", "%s: open (IOMMU group %d, %zu IOVA ranges)", dev->bdf,
		  dev->group, dev->nranges);
	*out = dev;
	return 0;

out_release:
	pci_release(dev);
	return rc;
}

void vireo_pci_close(struct vireo_pci_dev *dev)
{
	if (!dev)
		return;
	vireo_pci_irq_disable(dev);
	pci_dma_unmap_all(dev);
	pci_release(dev);
}

const char *vireo_pci_bdf(const struct vireo_pci_dev *dev)
{
	return dev ? dev->bdf : "?";
}
