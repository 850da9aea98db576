/* SPDX-License-Identifier: MIT */
/**
 * @file
 * @brief Vireo SDK: DMA-able memory for drivers of real devices (added in ABI 1.1).
 *
 * Audience: authors of drivers that let a device read and write host memory (NVMe
 * queues, NIC descriptor rings, packet and block buffers), today through VFIO
 * (<vireo/pci.h>). A DMA buffer is memory the kernel may never move or swap out while a
 * device uses it:
 * - **Pinned and zeroed.** Every page is allocated, zero-filled and locked (mlock) before
 *   vireo_dma_alloc() returns, so the first device write never meets a missing page.
 *   The pages are also kept out of any child process (MADV_DONTFORK): a fork() does not
 *   turn them copy-on-write under the device's feet.
 * - **Huge pages where available.** By default a buffer is made of 2 MiB huge pages
 *   (MAP_HUGETLB) when the system has free ones, and of ordinary 4 KiB pages otherwise;
 *   vireo_dma_page_size() says which the buffer got. VIREO_DMA_NO_HUGE asks for 4 KiB
 *   pages (small rings: a huge page for a 4 KiB queue wastes 2 MiB), VIREO_DMA_HUGE_ONLY
 *   refuses the fallback. Huge pages are reserved by the administrator
 *   (`/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages`).
 * - **Aligned.** The start is aligned to the page size (4 KiB or 2 MiB) and the size is
 *   rounded up to a whole number of pages; vireo_dma_size() gives the rounded size.
 * - **IOVA per device.** A device does not see the process's virtual addresses: it sees
 *   the I/O virtual addresses (IOVA) its IOMMU translates. vireo_pci_dma_map() maps a
 *   buffer into one device's IOVA space, as one contiguous IOVA range however the pages
 *   lie in physical memory; the same buffer may be mapped for several devices, each
 *   with its own IOVA, which vireo_dma_iova() looks up. vireo_dma_free() unmaps the
 *   buffer from every device before it frees it.
 *
 * Thread safety: every function may be called from any thread. Mapping, unmapping,
 * IOVA look-ups and frees are serialised inside libvireo; the VA and sizes never change
 * after allocation. The driver must not free a buffer that another of its threads is
 * still using, nor one its device may still write to (stop the device's queue first:
 * the unmap protects the host from a late write, not the driver from lost data).
 */
#ifndef VIREO_MEM_H
#define VIREO_MEM_H

#include <vireo/common.h>

VIREO_BEGIN_DECLS

/** A DMA buffer: pinned, zeroed, page-aligned memory (opaque; owned by the driver). */
struct vireo_dma_buf;
/** A PCI device opened through VFIO (see <vireo/pci.h>). */
struct vireo_pci_dev;

/** Flag for vireo_dma_alloc(): use 4 KiB pages only, never huge pages. */
#define VIREO_DMA_NO_HUGE (1u << 0)
/** Flag for vireo_dma_alloc(): use 2 MiB huge pages, or fail with -ENOMEM. */
#define VIREO_DMA_HUGE_ONLY (1u << 1)

/** The size of a huge page of a DMA buffer: 2 MiB. */
#define VIREO_DMA_HUGE_PAGE_SIZE (2u << 20)
/** The size of an ordinary page of a DMA buffer: 4 KiB. */
#define VIREO_DMA_SMALL_PAGE_SIZE 4096u

/**
 * @brief Allocate a pinned, zeroed DMA buffer of at least @p size bytes.
 *
 * Without flags, tries 2 MiB huge pages first and falls back to 4 KiB pages (logged at
 * debug level) when none are free. The size is rounded up to the page size the buffer
 * gets, and the start is aligned to it.
 *
 * @param size bytes wanted, 1 to 2^40 (1 TiB).
 * @param flags 0, VIREO_DMA_NO_HUGE or VIREO_DMA_HUGE_ONLY.
 * @param out the new buffer; free it with vireo_dma_free().
 *
 * @return 0 on success.
 * @return -EINVAL if @p out is NULL, @p size is 0 or too big, a flag is unknown, or both
 *         flags are given.
 * @return -ENOMEM if the memory cannot be had: no free huge pages with
 *         VIREO_DMA_HUGE_ONLY, no memory, or the locked-memory limit (RLIMIT_MEMLOCK,
 *         which VFIO's pinning also counts against) is reached.
 * @return another negative errno from mmap() or mlock() (-EPERM, -EAGAIN).
 *
 * Context: any thread; may sleep (the kernel zeroes and pins every page). Not for a
 * data path: allocate at open or queue start and reuse.
 */
VIREO_API int vireo_dma_alloc(size_t size, uint32_t flags, struct vireo_dma_buf **out);

/**
 * @brief Unmap a buffer from every device it is mapped for, then free it. NULL is
 * ignored.
 *
 * @param buf the buffer; invalid afterwards, and so is every IOVA it had.
 *
 * Context: any thread; may sleep. Not while another thread uses @p buf.
 */
VIREO_API void vireo_dma_free(struct vireo_dma_buf *buf);

/**
 * @brief The buffer's address in this process.
 *
 * @param buf the buffer.
 *
 * @return its start, aligned to vireo_dma_page_size(); NULL if @p buf is NULL.
 *
 * Context: any thread.
 */
VIREO_API void *vireo_dma_va(const struct vireo_dma_buf *buf);

/**
 * @brief The buffer's usable size.
 *
 * @param buf the buffer.
 *
 * @return the size asked for, rounded up to a multiple of vireo_dma_page_size(); 0 if
 *         @p buf is NULL.
 *
 * Context: any thread.
 */
VIREO_API size_t vireo_dma_size(const struct vireo_dma_buf *buf);

/**
 * @brief The size of the pages the buffer is made of: says whether it got huge pages.
 *
 * @param buf the buffer.
 *
 * @return VIREO_DMA_HUGE_PAGE_SIZE or VIREO_DMA_SMALL_PAGE_SIZE; 0 if @p buf is NULL.
 *
 * Context: any thread.
 */
VIREO_API size_t vireo_dma_page_size(const struct vireo_dma_buf *buf);

/**
 * @brief The buffer's I/O virtual address for one device: what to program into that
 * device's registers and descriptors.
 *
 * The IOVA of byte N of the buffer is the returned address plus N: the buffer is one
 * contiguous range in the device's IOVA space, aligned as its pages are.
 *
 * @param buf the buffer.
 * @param dev the device it was mapped for with vireo_pci_dma_map().
 * @param iova where to store the IOVA of the buffer's first byte.
 *
 * @return 0 on success.
 * @return -EINVAL if an argument is NULL.
 * @return -ENOENT if @p buf is not mapped for @p dev.
 *
 * Context: any thread.
 */
VIREO_API int vireo_dma_iova(const struct vireo_dma_buf *buf, const struct vireo_pci_dev *dev,
			     uint64_t *iova);

VIREO_END_DECLS

#endif /* VIREO_MEM_H */
