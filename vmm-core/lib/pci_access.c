// SPDX-License-Identifier: MIT
/*
 * Using an open PCI function (<vireo/pci.h>): config space, the bus-master bit and the
 * driver's match table; BAR info and mappings; ordered, bounds-checked register
 * accessors (mapped BARs directly, the rest through the device fd); interrupts as
 * eventfds; function reset. Opening and closing are lib/pci.c's.
 */
#include "pci_internal.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <vireo/driver.h>

#define PCI_CFG_SIZE	4096u
#define PCI_CFG_COMMAND 0x04u
#define PCI_CMD_MASTER	0x0004u

static struct vireo_ratelimit g_pci_rl = VIREO_RATELIMIT_INIT(5000, 5);

/* ---- config space ---- */

static bool pci_cfg_ok(const struct vireo_pci_dev *dev, uint32_t off, unsigned int width)
{
	return dev && (width == 1 || width == 2 || width == 4) && off % width == 0 &&
	       off < PCI_CFG_SIZE && off + width <= dev->cfg.size;
}

int vireo_pci_cfg_read(struct vireo_pci_dev *dev, uint32_t off, unsigned int width, uint32_t *val)
{
	uint8_t b[4] = { 0 };
	ssize_t n;

	if (!val || !pci_cfg_ok(dev, off, width))
		return -EINVAL;
	n = pread(dev->device_fd, b, width, (off_t)(dev->cfg.offset + off));
	if (n != (ssize_t)width)
		return n < 0 ? -errno : -EIO;
	/* Config space is little-endian. */
	*val = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return 0;
}

int vireo_pci_cfg_write(struct vireo_pci_dev *dev, uint32_t off, unsigned int width, uint32_t val)
{
	uint8_t b[4] = { (uint8_t)val, (uint8_t)(val >> 8), (uint8_t)(val >> 16),
			 (uint8_t)(val >> 24) };
	ssize_t n;

	if (!pci_cfg_ok(dev, off, width))
		return -EINVAL;
	n = pwrite(dev->device_fd, b, width, (off_t)(dev->cfg.offset + off));
	if (n != (ssize_t)width)
		return n < 0 ? -errno : -EIO;
	return 0;
}

int vireo_pci_set_bus_master(struct vireo_pci_dev *dev, bool on)
{
	uint32_t cmd;
	int rc;

	rc = vireo_pci_cfg_read(dev, PCI_CFG_COMMAND, 2, &cmd);
	if (rc < 0)
		return rc;
	cmd = on ? cmd | PCI_CMD_MASTER : cmd & ~PCI_CMD_MASTER;
	return vireo_pci_cfg_write(dev, PCI_CFG_COMMAND, 2, cmd);
}

static bool pci_id_ok(uint16_t want, uint32_t have)
{
	return want == VIREO_PCI_ANY || want == have;
}

int vireo_pci_match(struct vireo_pci_dev *dev, const struct vireo_match *table,
		    const struct vireo_match **entry)
{
	uint32_t vid, did, svid, sdid, cls;
	int rc;

	if (!dev || !table)
		return -EINVAL;
	if ((rc = vireo_pci_cfg_read(dev, 0x00, 2, &vid)) < 0 ||
	    (rc = vireo_pci_cfg_read(dev, 0x02, 2, &did)) < 0 ||
	    (rc = vireo_pci_cfg_read(dev, 0x2c, 2, &svid)) < 0 ||
	    (rc = vireo_pci_cfg_read(dev, 0x2e, 2, &sdid)) < 0 ||
	    (rc = vireo_pci_cfg_read(dev, 0x08, 4, &cls)) < 0)
		return rc;
	cls >>= 8;
	for (size_t i = 0; i < VIREO_MATCH_MAX && table[i].struct_size; i++) {
		const struct vireo_match_pci *m = &table[i].pci;

		if (table[i].type != VIREO_MATCH_PCI)
			continue;
		if (pci_id_ok(m->vendor, vid) && pci_id_ok(m->device, did) &&
		    pci_id_ok(m->subvendor, svid) && pci_id_ok(m->subdevice, sdid) &&
		    ((m->class_code ^ cls) & m->class_mask) == 0) {
			if (entry)
				*entry = &table[i];
			return 0;
		}
	}
	vireo_log(VIREO_LOG_ERR, "pci",
		  "%s (%04x:%04x, subsystem %04x:%04x, class %06x) matches no entry of the table",
		  dev->bdf, vid, did, svid, sdid, cls);
	return -ENODEV;
}

/* ---- BARs and registers ---- */

int vireo_pci_bar_info(struct vireo_pci_dev *dev, unsigned int bar, struct vireo_pci_bar_info *info)
{
	struct vireo_pci_bar_info full;
	uint32_t size;

	if (!dev || !info || bar >= VIREO_PCI_NUM_BARS || info->struct_size < sizeof(full))
		return -EINVAL;
	full.struct_size = sizeof(full);
	full.flags = dev->bars[bar].flags;
	full.size = dev->bars[bar].size;
	/* Fill no more than the caller's struct, and no more than this core knows. */
	size = info->struct_size < sizeof(full) ? info->struct_size : (uint32_t)sizeof(full);
	memcpy(info, &full, size);
	info->struct_size = size;
	return 0;
}

int vireo_pci_bar_map(struct vireo_pci_dev *dev, unsigned int bar, void **va)
{
	if (!dev || !va || bar >= VIREO_PCI_NUM_BARS)
		return -EINVAL;
	if (dev->bars[bar].size == 0)
		return -ENOENT;
	if (!dev->bars[bar].va)
		return -EOPNOTSUPP;
	*va = dev->bars[bar].va;
	return 0;
}

/* Orders earlier stores to DMA memory before a register write (Linux's writel()). */
static inline void pci_wmb(void)
{
#if defined(__x86_64__) || defined(__i386__)
	/* x86 keeps stores in order, uncached ones included: only the compiler may not. */
	__asm__ __volatile__("" ::: "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("dmb oshst" ::: "memory");
#else
	__sync_synchronize();
#endif
}

/* Orders a register read before later loads from DMA memory (Linux's readl()). */
static inline void pci_rmb(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("" ::: "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("dmb oshld" ::: "memory");
#else
	__sync_synchronize();
#endif
}

/* The mapped address of [off, off + width) of @bar, or NULL: then go through pread. */
static volatile void *pci_reg(struct vireo_pci_dev *dev, unsigned int bar, uint64_t off,
			      unsigned int width, bool *ok)
{
	const struct pci_region *r;

	*ok = false;
	if (!dev || bar >= VIREO_PCI_NUM_BARS)
		goto out_bad;
	r = &dev->bars[bar];
	if (off % width || off >= r->size || width > r->size - off)
		goto out_bad;
	*ok = true;
	if (!r->va)
		return NULL;
	if (!(r->flags & VIREO_PCI_BAR_SPARSE))
		return (volatile char *)r->va + off;
	for (uint32_t a = 0; a < r->nareas; a++)
		if (off >= r->areas[a].off && off - r->areas[a].off + width <= r->areas[a].size)
			return (volatile char *)r->va + off;
	return NULL;

out_bad:
	vireo_log_ratelimited(&g_pci_rl, VIREO_LOG_ERR, "pci",
			      "%s: bad register access: BAR%u offset 0x%" PRIx64 " width %u",
			      dev ? dev->bdf : "(NULL)", bar, off, width);
	return NULL;
}

static int pci_reg_rw(struct vireo_pci_dev *dev, unsigned int bar, uint64_t off, void *buf,
		      unsigned int width, bool write)
{
	off_t pos = (off_t)(dev->bars[bar].offset + off);
	ssize_t n;

	n = write ? pwrite(dev->device_fd, buf, width, pos)
		  : pread(dev->device_fd, buf, width, pos);
	if (n == (ssize_t)width)
		return 0;
	vireo_log_ratelimited(
		&g_pci_rl, VIREO_LOG_ERR, "pci", "%s: %s of BAR%u offset 0x%" PRIx64 " failed (%s)",
		dev->bdf, write ? "write" : "read", bar, off, n < 0 ? strerror(errno) : "short");
	return -EIO;
}

uint32_t vireo_pci_read32(struct vireo_pci_dev *dev, unsigned int bar, uint64_t off)
{
	volatile uint32_t *reg;
	uint32_t v;
	bool ok;

	reg = pci_reg(dev, bar, off, 4, &ok);
	if (!ok)
		return UINT32_MAX;
	if (reg) {
		v = *reg;
		pci_rmb();
	} else if (pci_reg_rw(dev, bar, off, &v, 4, false) < 0) {
		return UINT32_MAX;
	}
	return le32toh(v);
}

void vireo_pci_write32(struct vireo_pci_dev *dev, unsigned int bar, uint64_t off, uint32_t val)
{
	volatile uint32_t *reg;
	uint32_t v = htole32(val);
	bool ok;

	reg = pci_reg(dev, bar, off, 4, &ok);
	if (!ok)
		return;
	if (reg) {
		pci_wmb();
		*reg = v;
	} else {
		pci_reg_rw(dev, bar, off, &v, 4, true);
	}
}

uint64_t vireo_pci_read64(struct vireo_pci_dev *dev, unsigned int bar, uint64_t off)
{
	volatile uint64_t *reg;
	uint64_t v;
	bool ok;

	reg = pci_reg(dev, bar, off, 8, &ok);
	if (!ok)
		return UINT64_MAX;
	if (reg) {
		v = *reg;
		pci_rmb();
	} else if (pci_reg_rw(dev, bar, off, &v, 8, false) < 0) {
		return UINT64_MAX;
	}
	return le64toh(v);
}

void vireo_pci_write64(struct vireo_pci_dev *dev, unsigned int bar, uint64_t off, uint64_t val)
{
	volatile uint64_t *reg;
	uint64_t v = htole64(val);
	bool ok;

	reg = pci_reg(dev, bar, off, 8, &ok);
	if (!ok)
		return;
	if (reg) {
		pci_wmb();
		*reg = v;
	} else {
		pci_reg_rw(dev, bar, off, &v, 8, true);
	}
}

/* ---- interrupts ---- */

/* VFIO's IRQ index for a kind, or -1. */
static int pci_irq_index(uint32_t type)
{
	switch (type) {
	case VIREO_PCI_IRQ_INTX:
		return VFIO_PCI_INTX_IRQ_INDEX;
	case VIREO_PCI_IRQ_MSI:
		return VFIO_PCI_MSI_IRQ_INDEX;
	case VIREO_PCI_IRQ_MSIX:
		return VFIO_PCI_MSIX_IRQ_INDEX;
	default:
		return -1;
	}
}

int vireo_pci_irq_count(struct vireo_pci_dev *dev, uint32_t type)
{
	int idx = pci_irq_index(type);

	if (!dev || idx < 0)
		return -EINVAL;
	return (int)(dev->irq_counts[idx] > INT_MAX ? INT_MAX : dev->irq_counts[idx]);
}

static int pci_set_irqs(struct vireo_pci_dev *dev, uint32_t flags, int idx, uint32_t count,
			const int *fds)
{
	size_t len = sizeof(struct vfio_irq_set) + (fds ? count * sizeof(int32_t) : 0);
	struct vfio_irq_set *set = calloc(1, len);
	int rc = 0;

	if (!set)
		return -ENOMEM;
	set->argsz = (uint32_t)len;
	set->flags = flags;
	set->index = (uint32_t)idx;
	set->start = 0;
	set->count = count;
	if (fds)
		memcpy(set->data, fds, count * sizeof(int32_t));
	if (ioctl(dev->device_fd, VFIO_DEVICE_SET_IRQS, set) < 0)
		rc = -errno;
	free(set);
	return rc;
}

int vireo_pci_irq_enable(struct vireo_pci_dev *dev, uint32_t type, unsigned int nvec)
{
	int idx = pci_irq_index(type);
	int *fds;
	int rc;

	if (!dev || idx < 0 || nvec == 0)
		return -EINVAL;
	if (nvec > dev->irq_counts[idx]) {
		vireo_log(VIREO_LOG_ERR, "pci",
			  "%s: %u vectors of interrupt kind %u asked, %u offered", dev->bdf, nvec,
			  type, dev->irq_counts[idx]);
		return -ERANGE;
	}
	vireo_pci_irq_disable(dev);
	fds = calloc(nvec, sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	for (unsigned int i = 0; i < nvec; i++)
		fds[i] = -1;
	for (unsigned int i = 0; i < nvec; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fds[i] < 0) {
			rc = -errno;
			goto out_close_fds;
		}
	}
	rc = pci_set_irqs(dev, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, idx, nvec,
			  fds);
	if (rc < 0) {
		vireo_log(VIREO_LOG_ERR, "pci",
			  "%s: enabling %u vectors of interrupt kind %u failed (%s)", dev->bdf,
			  nvec, type, strerror(-rc));
		goto out_close_fds;
	}
	dev->irq_fds = fds;
	dev->nirq = nvec;
	dev->irq_type = type;
	return 0;

out_close_fds:
	for (unsigned int i = 0; i < nvec; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return rc;
}

int vireo_pci_irq_fd(struct vireo_pci_dev *dev, unsigned int vec)
{
	if (!dev)
		return -EINVAL;
	if (vec >= dev->nirq)
		return -ENOENT;
	return dev->irq_fds[vec];
}

int vireo_pci_irq_disable(struct vireo_pci_dev *dev)
{
	int rc;

	if (!dev)
		return -EINVAL;
	if (!dev->irq_type)
		return 0;
	rc = pci_set_irqs(dev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
			  pci_irq_index(dev->irq_type), 0, NULL);
	for (unsigned int i = 0; i < dev->nirq; i++)
		close(dev->irq_fds[i]);
	free(dev->irq_fds);
	dev->irq_fds = NULL;
	dev->nirq = 0;
	dev->irq_type = 0;
	return rc;
}

int vireo_pci_intx_unmask(struct vireo_pci_dev *dev)
{
	if (!dev)
		return -EINVAL;
	if (dev->irq_type != VIREO_PCI_IRQ_INTX)
		return -ENOENT;
	return pci_set_irqs(dev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
			    VFIO_PCI_INTX_IRQ_INDEX, 1, NULL);
}

/* ---- reset ---- */

int vireo_pci_reset(struct vireo_pci_dev *dev)
{
	if (!dev)
		return -EINVAL;
	if (!dev->can_reset) {
		vireo_log(VIREO_LOG_ERR, "pci", "%s: the kernel has no reset for this function",
			  dev->bdf);
		return -EOPNOTSUPP;
	}
	if (ioctl(dev->device_fd, VFIO_DEVICE_RESET) < 0) {
		int rc = -errno;

		vireo_log(VIREO_LOG_ERR, "pci", "%s: reset failed (%s)", dev->bdf, strerror(-rc));
		return rc;
	}
	return 0;
}
