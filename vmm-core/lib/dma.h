/* SPDX-License-Identifier: MIT */
/*
 * What lib/mem.c (DMA buffers) and lib/pci.c (VFIO devices) share, and nothing else
 * sees: the concrete buffer, the record of one buffer mapped for one device, and the
 * lock over every such record. A mapping sits on two lists at once, its buffer's and
 * its device's, so that freeing either end unmaps it.
 */
#ifndef VIREO_LIB_DMA_H
#define VIREO_LIB_DMA_H

#include <pthread.h>

#include <vireo/mem.h>
#include <vireo/pci.h>

struct dma_map;

struct vireo_dma_buf {
	void *va;	      /* page-aligned start */
	size_t size;	      /* rounded to page_size */
	size_t page_size;     /* VIREO_DMA_HUGE_PAGE_SIZE or VIREO_DMA_SMALL_PAGE_SIZE */
	struct dma_map *maps; /* protects: g_dma_lock */
};

/* One buffer mapped into one device's IOVA space. */
struct dma_map {
	struct vireo_dma_buf *buf;
	struct vireo_pci_dev *dev;
	uint64_t iova;
	struct dma_map *buf_next; /* the buffer's list, any order */
	struct dma_map *dev_next; /* the device's list, by ascending iova */
};

/* Held around every change to and walk of the mapping lists (control path only). */
extern pthread_mutex_t g_dma_lock;

/* lib/pci.c: unmap @map from its device, unlink it from both lists and free it. */
void pci_dma_unmap_locked(struct dma_map *map);

#endif /* VIREO_LIB_DMA_H */
