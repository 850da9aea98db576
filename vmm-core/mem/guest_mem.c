// SPDX-License-Identifier: MIT
/*
 * The guest memory table: checking and mapping the regions the frontend shares,
 * and turning guest-physical / frontend-virtual addresses into host pointers and
 * iovecs. Everything here is bounds arithmetic on untrusted numbers, done on
 * inclusive last-byte addresses so that no sum can wrap. Which messages change
 * the table, and when, is the vhost-user layer's business.
 */
#include "mem/guest_mem.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const mem_err_str[VIREO_MEM_ERR_MAX] = {
	[VIREO_MEM_OK] = "ok",
	[VIREO_MEM_ERR_ZERO_SIZE] = "region size is 0",
	[VIREO_MEM_ERR_GPA_WRAP] = "guest_phys_addr + size wraps",
	[VIREO_MEM_ERR_UVA_WRAP] = "userspace_addr + size wraps",
	[VIREO_MEM_ERR_OFFSET_WRAP] = "mmap_offset + size is past the largest file offset",
	[VIREO_MEM_ERR_OVERLAP] = "region overlaps a mapped region",
	[VIREO_MEM_ERR_TOO_MANY] = "too many memory regions",
	[VIREO_MEM_ERR_BAD_FD] = "region has no usable fd",
	[VIREO_MEM_ERR_PAST_EOF] = "region runs past the end of its file",
	[VIREO_MEM_ERR_MMAP] = "mmap of the region failed",
	[VIREO_MEM_ERR_NOT_FOUND] = "no region matches",
	[VIREO_MEM_ERR_LEN_WRAP] = "buffer address + length wraps",
	[VIREO_MEM_ERR_UNMAPPED] = "buffer is outside guest memory",
	[VIREO_MEM_ERR_IOV_FULL] = "buffer needs more iovecs than allowed",
};

const char *vireo_mem_err_str(enum vireo_mem_err err)
{
	if ((unsigned int)err >= VIREO_MEM_ERR_MAX || !mem_err_str[err])
		return "unknown reason";
	return mem_err_str[err];
}

static int mem_refuse(enum vireo_mem_err *why, enum vireo_mem_err err, int rc)
{
	if (why)
		*why = err;
	return rc;
}

/* The inclusive last byte of [start, start + size), or false if it wraps. */
static bool mem_last(uint64_t start, uint64_t size, uint64_t *last)
{
	if (size - 1 > UINT64_MAX - start)
		return false;
	*last = start + (size - 1);
	return true;
}

void vireo_mem_init(struct vireo_mem *mem)
{
	memset(mem, 0, sizeof(*mem));
}

/*
 * The alignment mmap() needs for the file offset: the fd's block size when that is
 * a power of two (hugetlbfs reports the huge page size there), else the page size.
 */
static uint64_t mem_map_align(const struct stat *st)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t blk = st->st_blksize > 0 ? (uint64_t)st->st_blksize : 0;

	if (blk >= page && (blk & (blk - 1)) == 0)
		return blk;
	return page;
}

int vireo_mem_add(struct vireo_mem *mem, const struct vireo_mem_desc *desc, int fd,
		  enum vireo_mem_err *why)
{
	struct vireo_mem_region *r;
	uint64_t gpa_last, uaddr_last, off_last, align, map_off, delta;
	struct stat st;
	void *base;
	unsigned int i;

	if (desc->size == 0)
		return mem_refuse(why, VIREO_MEM_ERR_ZERO_SIZE, -EINVAL);
	if (!mem_last(desc->gpa, desc->size, &gpa_last))
		return mem_refuse(why, VIREO_MEM_ERR_GPA_WRAP, -EINVAL);
	if (!mem_last(desc->uaddr, desc->size, &uaddr_last))
		return mem_refuse(why, VIREO_MEM_ERR_UVA_WRAP, -EINVAL);
	/* The last byte's file offset must fit off_t (mmap takes a signed offset). */
	if (!mem_last(desc->mmap_offset, desc->size, &off_last) || off_last >= (uint64_t)INT64_MAX)
		return mem_refuse(why, VIREO_MEM_ERR_OFFSET_WRAP, -EINVAL);
	if (fd < 0)
		return mem_refuse(why, VIREO_MEM_ERR_BAD_FD, -EBADF);
	if (mem->nregions >= VIREO_MEM_MAX_REGIONS)
		return mem_refuse(why, VIREO_MEM_ERR_TOO_MANY, -ENOSPC);
	for (i = 0; i < mem->nregions; i++) {
		r = &mem->regions[i];
		if (!(gpa_last < r->gpa || desc->gpa > r->gpa_last))
			return mem_refuse(why, VIREO_MEM_ERR_OVERLAP, -EEXIST);
	}
	if (fstat(fd, &st) < 0)
		return mem_refuse(why, VIREO_MEM_ERR_BAD_FD, -EBADF);
	/*
	 * Pages past the end of a file map fine but raise SIGBUS when touched, and the
	 * guest decides what is touched. (Shrinking the file later is the frontend's
	 * own foot-gun; this catches a bad region up front.)
	 */
	if (S_ISREG(st.st_mode) && (st.st_size < 0 || (uint64_t)st.st_size <= off_last))
		return mem_refuse(why, VIREO_MEM_ERR_PAST_EOF, -EINVAL);

	/* Map from the aligned offset below mmap_offset; host points past the slack. */
	align = mem_map_align(&st);
	map_off = desc->mmap_offset & ~(align - 1);
	delta = desc->mmap_offset - map_off;
#if SIZE_MAX < UINT64_MAX
	/* A 32-bit host cannot map what does not fit its address space. */
	if (desc->size > SIZE_MAX - delta)
		return mem_refuse(why, VIREO_MEM_ERR_MMAP, -ENOMEM);
#endif
	base = mmap(NULL, (size_t)(desc->size + delta), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_NORESERVE, fd, (off_t)map_off);
	if (base == MAP_FAILED)
		return mem_refuse(why, VIREO_MEM_ERR_MMAP, -errno);

	r = &mem->regions[mem->nregions++];
	r->gpa = desc->gpa;
	r->gpa_last = gpa_last;
	r->size = desc->size;
	r->uaddr = desc->uaddr;
	r->uaddr_last = uaddr_last;
	r->mmap_offset = desc->mmap_offset;
	r->map_base = base;
	r->map_len = (size_t)(desc->size + delta);
	r->host = (uint8_t *)base + delta;
	r->fd = fd;
	if (why)
		*why = VIREO_MEM_OK;
	return 0;
}

static void mem_region_release(struct vireo_mem_region *r)
{
	munmap(r->map_base, r->map_len);
	close(r->fd);
}

int vireo_mem_remove(struct vireo_mem *mem, const struct vireo_mem_desc *desc,
		     enum vireo_mem_err *why)
{
	unsigned int i;

	for (i = 0; i < mem->nregions; i++) {
		struct vireo_mem_region *r = &mem->regions[i];

		if (r->gpa != desc->gpa || r->size != desc->size || r->uaddr != desc->uaddr)
			continue;
		mem_region_release(r);
		/* Keep the table dense; order carries no meaning. */
		mem->regions[i] = mem->regions[--mem->nregions];
		memset(&mem->regions[mem->nregions], 0, sizeof(mem->regions[0]));
		if (why)
			*why = VIREO_MEM_OK;
		return 0;
	}
	return mem_refuse(why, VIREO_MEM_ERR_NOT_FOUND, -ENOENT);
}

void vireo_mem_clear(struct vireo_mem *mem)
{
	unsigned int i;

	for (i = 0; i < mem->nregions; i++)
		mem_region_release(&mem->regions[i]);
	vireo_mem_init(mem);
}

static const struct vireo_mem_region *mem_find_gpa(const struct vireo_mem *mem, uint64_t gpa)
{
	unsigned int i;

	for (i = 0; i < mem->nregions; i++) {
		const struct vireo_mem_region *r = &mem->regions[i];

		if (gpa >= r->gpa && gpa <= r->gpa_last)
			return r;
	}
	return NULL;
}

void *vireo_mem_gpa_to_host(const struct vireo_mem *mem, uint64_t gpa, uint64_t *len)
{
	const struct vireo_mem_region *r = mem_find_gpa(mem, gpa);
	uint64_t avail;

	if (!r)
		return NULL;
	/* Cannot wrap: a region holds at most 2^64 - 1 bytes. */
	avail = r->gpa_last - gpa + 1;
	if (*len > avail)
		*len = avail;
	return r->host + (gpa - r->gpa);
}

void *vireo_mem_uva_to_host(const struct vireo_mem *mem, uint64_t uva, uint64_t *len)
{
	unsigned int i;

	for (i = 0; i < mem->nregions; i++) {
		const struct vireo_mem_region *r = &mem->regions[i];
		uint64_t avail;

		if (uva < r->uaddr || uva > r->uaddr_last)
			continue;
		avail = r->uaddr_last - uva + 1;
		if (*len > avail)
			*len = avail;
		return r->host + (uva - r->uaddr);
	}
	return NULL;
}

/*
 * Walk [gpa, gpa + len) region by region. For each piece call emit (if not NULL)
 * with its host pointer and size. Returns the number of pieces or a negative errno.
 */
typedef int (*mem_piece_fn)(void *arg, unsigned int n, uint8_t *host, uint64_t size);

static int mem_walk(const struct vireo_mem *mem, uint64_t gpa, uint64_t len, mem_piece_fn emit,
		    void *arg, enum vireo_mem_err *why)
{
	uint64_t last, cur = gpa, left = len;
	unsigned int n = 0;
	int rc;

	if (why)
		*why = VIREO_MEM_OK;
	if (len == 0)
		return 0;
	if (!mem_last(gpa, len, &last))
		return mem_refuse(why, VIREO_MEM_ERR_LEN_WRAP, -EFAULT);
	for (;;) {
		const struct vireo_mem_region *r = mem_find_gpa(mem, cur);
		uint64_t piece;

		if (!r)
			return mem_refuse(why, VIREO_MEM_ERR_UNMAPPED, -EFAULT);
		piece = r->gpa_last - cur + 1;
		if (piece > left)
			piece = left;
		if (emit) {
			rc = emit(arg, n, r->host + (cur - r->gpa), piece);
			if (rc < 0)
				return mem_refuse(why, VIREO_MEM_ERR_IOV_FULL, rc);
		}
		n++;
		left -= piece;
		if (left == 0)
			return (int)n;
		/*
		 * cur + piece <= last here, so this cannot wrap; and the next piece lies
		 * in another region, so n never exceeds the number of regions.
		 */
		cur += piece;
	}
}

struct mem_iov_sink {
	struct iovec *iov;
	unsigned int cap;
};

static int mem_emit_iov(void *arg, unsigned int n, uint8_t *host, uint64_t size)
{
	struct mem_iov_sink *s = arg;

	if (n >= s->cap)
		return -ENOBUFS;
	s->iov[n].iov_base = host;
	s->iov[n].iov_len = (size_t)size;
	return 0;
}

int vireo_mem_map(const struct vireo_mem *mem, uint64_t gpa, uint64_t len, struct iovec *iov,
		  unsigned int iov_cap, enum vireo_mem_err *why)
{
	struct mem_iov_sink sink = { .iov = iov, .cap = iov_cap };

	return mem_walk(mem, gpa, len, mem_emit_iov, &sink, why);
}

int vireo_mem_check(const struct vireo_mem *mem, uint64_t gpa, uint64_t len,
		    enum vireo_mem_err *why)
{
	int rc = mem_walk(mem, gpa, len, NULL, NULL, why);

	return rc < 0 ? rc : 0;
}

static int mem_emit_copy(void *arg, unsigned int n, uint8_t *host, uint64_t size)
{
	uint8_t **dst = arg;

	(void)n;
	memcpy(*dst, host, (size_t)size);
	*dst += size;
	return 0;
}

int vireo_mem_read(const struct vireo_mem *mem, uint64_t gpa, void *dst, size_t len,
		   enum vireo_mem_err *why)
{
	uint8_t *cursor = dst;
	int rc = mem_walk(mem, gpa, len, mem_emit_copy, &cursor, why);

	return rc < 0 ? rc : 0;
}
