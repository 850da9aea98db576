/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Guest memory as a vhost-user backend sees it (audience: vmm-core only).
 *
 * Owns the table of guest RAM regions the frontend shared with us (ADD_MEM_REG /
 * SET_MEM_TABLE): mapping each region's fd, refusing malformed regions, and
 * translating guest-physical and frontend-virtual addresses into pointers in this
 * process. Does not own the vhost-user messages (vhost-user/) nor any ring (virtqueue/).
 *
 * Every address and length that reaches this layer comes from the frontend or the
 * guest. All range arithmetic is done on inclusive last-byte addresses, so a region
 * or buffer may end exactly at 2^64 - 1 and nothing ever wraps.
 *
 * Threading contract: the table has no lock. Queue workers read it (translation,
 * mapping) concurrently with each other; vireo_mem_add(), vireo_mem_remove() and
 * vireo_mem_clear() may only run while no worker can be reading it, i.e. while every
 * queue that uses this table is stopped or its worker is parked. The frontend may
 * send ADD_MEM_REG/REM_MEM_REG with rings running (memory hotplug), so the
 * vhost-user layer must quiesce its workers itself before applying them; it cannot
 * rely on the frontend having stopped the queues. Pointers and iovecs handed out
 * are valid only until the next change of the table.
 */
#ifndef VIREO_MEM_GUEST_MEM_H
#define VIREO_MEM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/** Most regions a table holds, like VHOST_USER_MAX_RAM_SLOTS (GET_MAX_MEM_SLOTS). */
#define VIREO_MEM_MAX_REGIONS 32

/** Why a memory operation was refused. Each maps to one line in vireo_mem_err_str(). */
enum vireo_mem_err {
	VIREO_MEM_OK = 0,
	VIREO_MEM_ERR_ZERO_SIZE,   /**< a region of size 0 */
	VIREO_MEM_ERR_GPA_WRAP,	   /**< guest_phys_addr + size wraps past 2^64 */
	VIREO_MEM_ERR_UVA_WRAP,	   /**< userspace_addr + size wraps past 2^64 */
	VIREO_MEM_ERR_OFFSET_WRAP, /**< mmap_offset + size does not fit a file offset */
	VIREO_MEM_ERR_OVERLAP,	   /**< the GPA range overlaps a region already mapped */
	VIREO_MEM_ERR_TOO_MANY,	   /**< the table already holds VIREO_MEM_MAX_REGIONS */
	VIREO_MEM_ERR_BAD_FD,	   /**< the region came without a usable fd */
	VIREO_MEM_ERR_PAST_EOF,	   /**< the region runs past the end of its file */
	VIREO_MEM_ERR_MMAP,	   /**< mmap() of the region's fd failed */
	VIREO_MEM_ERR_NOT_FOUND,   /**< no region matches the one to remove */
	VIREO_MEM_ERR_LEN_WRAP,	   /**< gpa + len of a buffer wraps past 2^64 */
	VIREO_MEM_ERR_UNMAPPED,	   /**< a byte of the buffer is in no region */
	VIREO_MEM_ERR_IOV_FULL,	   /**< the buffer needs more iovecs than the caller gave */
	VIREO_MEM_ERR_MAX,
};

/** A region as the frontend describes it (the vhost-user memory region payload). */
struct vireo_mem_desc {
	uint64_t gpa;	      /**< guest-physical address of the first byte */
	uint64_t size;	      /**< bytes; never 0 */
	uint64_t uaddr;	      /**< the frontend's virtual address of the first byte */
	uint64_t mmap_offset; /**< offset of the first byte in the fd */
};

/** One mapped region. Read-only outside guest_mem.c. */
struct vireo_mem_region {
	uint64_t gpa;	      /**< guest-physical address of the first byte */
	uint64_t gpa_last;    /**< guest-physical address of the last byte */
	uint64_t size;	      /**< bytes */
	uint64_t uaddr;	      /**< frontend virtual address of the first byte */
	uint64_t uaddr_last;  /**< frontend virtual address of the last byte */
	uint64_t mmap_offset; /**< offset of the first byte in @fd */
	uint8_t *host;	      /**< the first byte in this process */
	void *map_base;	      /**< what mmap() returned (page-aligned, before host) */
	size_t map_len;	      /**< bytes mapped at map_base */
	int fd;		      /**< owned: closed when the region goes */
};

/** The region table. Embed it and call vireo_mem_init() first. */
struct vireo_mem {
	struct vireo_mem_region regions[VIREO_MEM_MAX_REGIONS]; /**< [0, nregions) valid */
	unsigned int nregions;					/**< regions in use */
};

/**
 * vireo_mem_err_str() - A one-line description of a refusal.
 * @param err the reason.
 * @return a static string; "unknown reason" for values out of range.
 * Context: any.
 */
const char *vireo_mem_err_str(enum vireo_mem_err err);

/**
 * vireo_mem_init() - Start an empty table.
 * @param mem the table.
 * Context: any; before the table is shared with workers.
 */
void vireo_mem_init(struct vireo_mem *mem);

/**
 * vireo_mem_add() - Check a region and map it MAP_SHARED from its fd.
 * @param mem the table.
 * @param desc the region as the frontend described it.
 * @param fd its fd; the table owns it on success, the caller keeps it on failure.
 * @param why the reason on failure (may be NULL).
 * @return 0, or:
 *   -EINVAL for a zero size, gpa/uaddr/offset + size that wraps, or a region
 *   that runs past the end of its (regular or memfd) file, where touching it would
 *   raise SIGBUS;
 *   -EEXIST if the GPA range overlaps a mapped region;
 *   -ENOSPC if the table is full;
 *   -EBADF for a negative or closed fd;
 *   the negative errno of a failed mmap().
 * Context: control thread, with the table's workers quiesced (see file comment).
 */
int vireo_mem_add(struct vireo_mem *mem, const struct vireo_mem_desc *desc, int fd,
		  enum vireo_mem_err *why);

/**
 * vireo_mem_remove() - Unmap the region that matches @desc exactly (REM_MEM_REG).
 * @param mem the table.
 * @param desc gpa, size and uaddr must all match; mmap_offset is not compared (the
 *        fd sent with REM_MEM_REG is a new one, so the offset identifies nothing).
 * @param why the reason on failure (may be NULL).
 * @return 0, or -ENOENT if no region matches.
 * Context: control thread, with the table's workers quiesced.
 */
int vireo_mem_remove(struct vireo_mem *mem, const struct vireo_mem_desc *desc,
		     enum vireo_mem_err *why);

/**
 * vireo_mem_clear() - Unmap every region and close its fd (new SET_MEM_TABLE, reset).
 * @param mem the table; empty afterwards.
 * Context: control thread, with the table's workers quiesced.
 */
void vireo_mem_clear(struct vireo_mem *mem);

/**
 * vireo_mem_gpa_to_host() - Translate a guest-physical address.
 * @param mem the table.
 * @param gpa the address.
 * @param len in: bytes wanted; out: trimmed to what is contiguous in gpa's region.
 * @return the host pointer of @gpa, or NULL if no region holds it (len untouched).
 * Context: any thread, under the table's contract.
 */
void *vireo_mem_gpa_to_host(const struct vireo_mem *mem, uint64_t gpa, uint64_t *len);

/**
 * vireo_mem_uva_to_host() - Translate a frontend virtual address (vring addresses).
 * @param mem the table.
 * @param uva the frontend's address.
 * @param len in: bytes wanted; out: trimmed to what is contiguous in uva's region.
 * @return the host pointer of @uva, or NULL if no region holds it (len untouched).
 * Context: any thread, under the table's contract.
 */
void *vireo_mem_uva_to_host(const struct vireo_mem *mem, uint64_t uva, uint64_t *len);

/**
 * vireo_mem_map() - Map one guest buffer, which may straddle adjacent regions.
 * @param mem the table.
 * @param gpa first byte of the buffer.
 * @param len bytes; 0 maps nothing and succeeds without checking @gpa.
 * @param iov filled with one entry per region the buffer touches, in order.
 * @param iov_cap entries available at @iov.
 * @param why the reason on failure (may be NULL).
 * @return the number of iovecs used (>= 0), or:
 *   -EFAULT if gpa + len wraps or any byte is outside guest memory;
 *   -ENOBUFS if more than @iov_cap iovecs would be needed.
 * On failure the contents of @iov are unspecified.
 * Context: any thread, under the table's contract.
 */
int vireo_mem_map(const struct vireo_mem *mem, uint64_t gpa, uint64_t len, struct iovec *iov,
		  unsigned int iov_cap, enum vireo_mem_err *why);

/**
 * vireo_mem_check() - Whether every byte of [gpa, gpa + len) is guest memory.
 * @param mem the table.
 * @param gpa first byte.
 * @param len bytes; 0 always succeeds.
 * @param why the reason on failure (may be NULL).
 * @return 0, or -EFAULT (wrap or a byte outside guest memory).
 * Context: any thread, under the table's contract.
 */
int vireo_mem_check(const struct vireo_mem *mem, uint64_t gpa, uint64_t len,
		    enum vireo_mem_err *why);

/**
 * vireo_mem_read() - Copy guest bytes out, across region boundaries if need be.
 * @param mem the table.
 * @param gpa first byte.
 * @param dst destination, @len bytes.
 * @param len bytes.
 * @param why the reason on failure (may be NULL).
 * @return 0, or -EFAULT (wrap or a byte outside guest memory; @dst is then partly
 *   written).
 * Context: any thread, under the table's contract.
 */
int vireo_mem_read(const struct vireo_mem *mem, uint64_t gpa, void *dst, size_t len,
		   enum vireo_mem_err *why);

#endif /* VIREO_MEM_GUEST_MEM_H */
