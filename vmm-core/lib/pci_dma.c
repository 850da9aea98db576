// SPDX-License-Identifier: MIT
/*
 * DMA buffers mapped into a VFIO device's IOVA space (vireo_pci_dma_map() and
 * vireo_pci_dma_unmap() of <vireo/pci.h>). Owns the choice of IOVA: first fit over the
 * ranges the IOMMU reports as usable (they leave out, say, the x86 MSI window), aligned
 * to the buffer's page size so that the IOMMU can use large pages. The buffers are
 * lib/mem.c's; the device is lib/pci.c's.
 */
#include "pci_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/* IOVA 0 is legal, but a device told to DMA to 0 is more often a bug than a plan. */
#define PCI_IOVA_BASE (1ull << 20)

/* @v rounded up to @align (a power of two), or 0 on overflow. */
static uint64_t pci_align_up(uint64_t v, uint64_t align)
{
	uint64_t r = (v + align - 1) & ~(align - 1);

	return r < v ? 0 : r;
}

/* First fit of @size bytes aligned to @align; 0 or -ENOSPC. Under g_dma_lock. */
static int pci_iova_pick(const struct vireo_pci_dev *dev, uint64_t size, uint64_t align,
			 uint64_t *out)
{
	for (size_t i = 0; i < dev->nranges; i++) {
		const struct pci_iova_range *r = &dev->ranges[i];
		uint64_t cand =
			pci_align_up(r->start > PCI_IOVA_BASE ? r->start : PCI_IOVA_BASE, align);

		for (const struct dma_map *m = dev->maps; m && cand; m = m->dev_next) {
			uint64_t mend = m->iova + m->buf->size;

			if (mend <= cand)
				continue;
			if (m->iova >= cand && m->iova - cand >= size)
				break; /* the gap before m fits */
			cand = pci_align_up(mend, align);
		}
		if (cand && cand >= r->start && cand <= r->end && r->end - cand >= size - 1) {
			*out = cand;
			return 0;
		}
	}
	return -ENOSPC;
}

static void pci_dma_link(struct vireo_pci_dev *dev, struct dma_map *map)
{
	struct dma_map **pp = &dev->maps;

	while (*pp && (*pp)->iova < map->iova)
		pp = &(*pp)->dev_next;
	map->dev_next = *pp;
	*pp = map;
	map->buf_next = map->buf->maps;
	map->buf->maps = map;
}

int vireo_pci_dma_map(struct vireo_pci_dev *dev, struct vireo_dma_buf *buf, uint64_t *iova)
{
	struct vfio_iommu_type1_dma_map req = { .argsz = sizeof(req) };
	struct dma_map *map;
	int rc;

	if (!dev || !buf)
		return -EINVAL;
	map = calloc(1, sizeof(*map));
	if (!map)
		return -ENOMEM;
	pthread_mutex_lock(&g_dma_lock);
	for (const struct dma_map *m = buf->maps; m; m = m->buf_next) {
		if (m->dev == dev) {
			rc = -EEXIST;
			goto out_unlock;
		}
	}
	/* The IOMMU's smallest page must divide the buffer's (4 KiB everywhere today). */
	if (buf->page_size & ((dev->iova_pgsizes & -dev->iova_pgsizes) - 1)) {
		vireo_log(VIREO_LOG_ERR, "pci",
			  "%s: the IOMMU's pages (0x%llx) are bigger than the "
			  "buffer's %zu-byte pages",
			  dev->bdf, (unsigned long long)dev->iova_pgsizes, buf->page_size);
		rc = -EINVAL;
		goto out_unlock;
	}
	rc = pci_iova_pick(dev, buf->size, buf->page_size, &map->iova);
	if (rc < 0) {
		vireo_log(VIREO_LOG_ERR, "pci", "%s: no free IOVA range of %zu bytes", dev->bdf,
			  buf->size);
		goto out_unlock;
	}
	req.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	req.vaddr = (uintptr_t)buf->va;
	req.iova = map->iova;
	req.size = buf->size;
	if (ioctl(dev->container_fd, VFIO_IOMMU_MAP_DMA, &req) < 0) {
		rc = -errno;
		vireo_log(VIREO_LOG_ERR, "pci", "%s: mapping %zu bytes for DMA failed (%s)",
			  dev->bdf, buf->size, strerror(-rc));
		goto out_unlock;
	}
	map->buf = buf;
	map->dev = dev;
	pci_dma_link(dev, map);
	if (iova)
		*iova = map->iova;
	pthread_mutex_unlock(&g_dma_lock);
	return 0;

out_unlock:
	pthread_mutex_unlock(&g_dma_lock);
	free(map);
	return rc;
}

void pci_dma_unmap_locked(struct dma_map *map)
{
	struct vfio_iommu_type1_dma_unmap req = {
		.argsz = sizeof(req),
		.iova = map->iova,
		.size = map->buf->size,
	};
	struct dma_map **pp;

	/* Can fail only if the kernel lost the mapping; the records go anyway. */
	if (ioctl(map->dev->container_fd, VFIO_IOMMU_UNMAP_DMA, &req) < 0)
		vireo_log(VIREO_LOG_WARN, "pci", "%s: unmapping IOVA 0x%llx failed (%s)",
			  map->dev->bdf, (unsigned long long)map->iova, strerror(errno));
	for (pp = &map->dev->maps; *pp != map; pp = &(*pp)->dev_next)
		;
	*pp = map->dev_next;
	for (pp = &map->buf->maps; *pp != map; pp = &(*pp)->buf_next)
		;
	*pp = map->buf_next;
	free(map);
}

int vireo_pci_dma_unmap(struct vireo_pci_dev *dev, struct vireo_dma_buf *buf)
{
	int rc = -ENOENT;

	if (!dev || !buf)
		return -EINVAL;
	pthread_mutex_lock(&g_dma_lock);
	for (struct dma_map *m = buf->maps; m; m = m->buf_next) {
		if (m->dev == dev) {
			pci_dma_unmap_locked(m);
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&g_dma_lock);
	return rc;
}

void pci_dma_unmap_all(struct vireo_pci_dev *dev)
{
	pthread_mutex_lock(&g_dma_lock);
	while (dev->maps)
		pci_dma_unmap_locked(dev->maps);
	pthread_mutex_unlock(&g_dma_lock);
}
