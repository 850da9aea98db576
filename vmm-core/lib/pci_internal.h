/* SPDX-License-Identifier: MIT */
/*
 * The concrete struct vireo_pci_dev, shared by lib/pci.c (opening), lib/pci_access.c
 * (config, BARs, registers, interrupts, reset) and lib/pci_dma.c (the device's IOVA
 * space). Nothing outside libvireo sees it.
 */
#ifndef VIREO_LIB_PCI_INTERNAL_H
#define VIREO_LIB_PCI_INTERNAL_H

#include <linux/vfio.h>

#include "dma.h"
#include "internal.h"

#define PCI_BDF_LEN   sizeof("dddd:bb:dd.f")
#define PCI_MAX_AREAS 8u /* mapped pieces of a sparse BAR; the rest goes through pread */
#define PCI_IRQ_KINDS 3u /* INTx, MSI, MSI-X: VFIO's indexes 0 to 2 */

/* One VFIO region: a BAR or config space. */
struct pci_region {
	uint64_t size;
	uint64_t offset; /* in the device fd */
	uint32_t vflags; /* VFIO_REGION_INFO_FLAG_* */
	uint32_t flags;	 /* VIREO_PCI_BAR_* */
	void *va;	 /* mapping, or NULL */
	uint32_t nareas; /* sparse BARs: which parts of va are really mapped */
	struct {
		uint64_t off;
		uint64_t size;
	} areas[PCI_MAX_AREAS];
};

struct pci_iova_range {
	uint64_t start;
	uint64_t end; /* inclusive */
};

struct vireo_pci_dev {
	char bdf[PCI_BDF_LEN]; /* canonical */
	int group;
	int container_fd;
	int group_fd;
	int device_fd;
	bool can_reset;
	struct pci_region cfg;
	struct pci_region bars[VIREO_PCI_NUM_BARS];
	uint32_t irq_counts[PCI_IRQ_KINDS]; /* by VFIO index */
	uint32_t irq_type;		    /* enum vireo_pci_irq_type enabled, 0: none */
	unsigned int nirq;
	int *irq_fds;
	struct pci_iova_range *ranges; /* usable IOVA, ascending, from the IOMMU */
	size_t nranges;
	uint64_t iova_pgsizes;
	struct dma_map *maps; /* protects: g_dma_lock; ascending iova */
};

/* lib/pci_dma.c: unmap every buffer still mapped for @dev (on close). */
void pci_dma_unmap_all(struct vireo_pci_dev *dev);

#endif /* VIREO_LIB_PCI_INTERNAL_H */
