// SPDX-License-Identifier: MIT
/*
 * DMA buffers for drivers (<vireo/mem.h>): anonymous memory, 2 MiB huge pages when the
 * system has free ones, else 4 KiB pages, zeroed, populated, locked and kept out of
 * children. Owns the buffers and the lock over their device mappings; the mappings
 * themselves (VFIO ioctls, IOVA choice) are lib/pci.c's.
 */
#include "dma.h"
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
/* The page size is part of the request: the default huge page may be 1 GiB. */
#define DMA_MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
/* A sanity bound, far above what a driver needs, far below size_t overflow. */
#define DMA_SIZE_MAX (1ull << 40)

pthread_mutex_t g_dma_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t dma_round(size_t size, size_t page)
{
	return (size + page - 1) & ~(page - 1);
}

/* Maps, populates and pins @size bytes of @page-sized pages; 0 or a negative errno. */
static int dma_map_pages(size_t size, size_t page, void **out)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE;
	void *va;
	int rc;

	if (page == VIREO_DMA_HUGE_PAGE_SIZE)
		flags |= MAP_HUGETLB | DMA_MAP_HUGE_2MB;
	va = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (va == MAP_FAILED)
		return -errno;
	/*
	 * Hugetlb pages never swap, yet mlock also makes the 4 KiB case resident for good.
	 * The raw system call: sanitizer runtimes turn mlock() into a silent no-op.
	 */
	if (syscall(SYS_mlock, va, size) < 0) {
		rc = -errno;
		goto out_unmap;
	}
	/* A fork() must not make pinned pages copy-on-write in the parent. */
	if (madvise(va, size, MADV_DONTFORK) < 0) {
		rc = -errno;
		goto out_unmap;
	}
	*out = va;
	return 0;

out_unmap:
	munmap(va, size);
	return rc;
}

int vireo_dma_alloc(size_t size, uint32_t flags, struct vireo_dma_buf **out)
{
	struct vireo_dma_buf *buf;
	int rc = -ENOMEM;

	if (!out || size == 0 || size > DMA_SIZE_MAX ||
	    (flags & ~(VIREO_DMA_NO_HUGE | VIREO_DMA_HUGE_ONLY)) ||
	    (flags & VIREO_DMA_NO_HUGE && flags & VIREO_DMA_HUGE_ONLY)) {
		vireo_log(VIREO_LOG_ERR, "dma", "vireo_dma_alloc(%zu, 0x%x): invalid arguments",
			  size, flags);
		return -EINVAL;
	}
	buf = calloc(1, sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	if (!(flags & VIREO_DMA_NO_HUGE)) {
		buf->page_size = VIREO_DMA_HUGE_PAGE_SIZE;
		buf->size = dma_round(size, buf->page_size);
		rc = dma_map_pages(buf->size, buf->page_size, &buf->va);
		if (rc < 0 && flags & VIREO_DMA_HUGE_ONLY) {
			vireo_log(VIREO_LOG_ERR, "dma",
				  "no %zu bytes of free 2 MiB huge pages (%d); "
				  "see /sys/kernel/mm/hugepages/hugepages-2048kB/",
				  buf->size, rc);
			/* The kernel says ENOMEM or EINVAL (no pool at all): both mean none. */
			rc = -ENOMEM;
			goto out_free_buf;
		}
		if (rc < 0)
			vireo_log(VIREO_LOG_DEBUG, "dma",
				  "no free 2 MiB huge pages for %zu bytes (%d): using 4 KiB pages",
				  size, rc);
	}
	if (rc < 0) {
		buf->page_size = VIREO_DMA_SMALL_PAGE_SIZE;
		buf->size = dma_round(size, buf->page_size);
		rc = dma_map_pages(buf->size, buf->page_size, &buf->va);
		if (rc < 0) {
			vireo_log(VIREO_LOG_ERR, "dma",
				  "cannot pin %zu bytes of DMA memory (%d): "
				  "is RLIMIT_MEMLOCK (ulimit -l) too low?",
				  buf->size, rc);
			goto out_free_buf;
		}
	}
	*out = buf;
	return 0;

out_free_buf:
	free(buf);
	return rc;
}

void vireo_dma_free(struct vireo_dma_buf *buf)
{
	if (!buf)
		return;
	pthread_mutex_lock(&g_dma_lock);
	while (buf->maps)
		pci_dma_unmap_locked(buf->maps);
	pthread_mutex_unlock(&g_dma_lock);
	munmap(buf->va, buf->size);
	free(buf);
}

void *vireo_dma_va(const struct vireo_dma_buf *buf)
{
	return buf ? buf->va : NULL;
}

size_t vireo_dma_size(const struct vireo_dma_buf *buf)
{
	return buf ? buf->size : 0;
}

size_t vireo_dma_page_size(const struct vireo_dma_buf *buf)
{
	return buf ? buf->page_size : 0;
}

int vireo_dma_iova(const struct vireo_dma_buf *buf, const struct vireo_pci_dev *dev, uint64_t *iova)
{
	const struct dma_map *m;
	int rc = -ENOENT;

	if (!buf || !dev || !iova)
		return -EINVAL;
	pthread_mutex_lock(&g_dma_lock);
	for (m = buf->maps; m; m = m->buf_next) {
		if (m->dev == dev) {
			*iova = m->iova;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&g_dma_lock);
	return rc;
}
