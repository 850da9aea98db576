// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/mem/guest_mem.c: regions from real memfds, every refusal
 * asserted by its reason, translation trimmed at region ends, buffers straddling
 * adjacent regions, and arithmetic at the top of the 64-bit address space. Bytes
 * written through the backend's pointers are checked through a second mapping of
 * the same memfd, as the guest would see them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mem/guest_mem.h"

#define PAGE  4096ull
#define UVA   0x7f0000000000ull
#define TOP4K (UINT64_MAX - PAGE + 1) /* 2^64 - 4096 */

static int make_memfd(uint64_t size)
{
	int fd = memfd_create("guest-mem-test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

/* The guest's view of a memfd. */
static uint8_t *guest_view(int fd, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

static bool fd_is_closed(int fd)
{
	return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

/* Add [gpa, gpa + size) from a memfd of its own, at offset 0. */
static void add_ok(struct vireo_mem *mem, uint64_t gpa, uint64_t size, uint64_t uaddr)
{
	struct vireo_mem_desc d = { .gpa = gpa, .size = size, .uaddr = uaddr };
	enum vireo_mem_err why = VIREO_MEM_ERR_MAX;

	assert_int_equal(vireo_mem_add(mem, &d, make_memfd(size), &why), 0);
	assert_int_equal(why, VIREO_MEM_OK);
}

/* Expect vireo_mem_add() to refuse @d with @rc/@reason, leaving the fd to us. */
static void add_refused(struct vireo_mem *mem, const struct vireo_mem_desc *d, int rc,
			enum vireo_mem_err reason)
{
	enum vireo_mem_err why = VIREO_MEM_OK;
	unsigned int before = mem->nregions;
	int fd = make_memfd(PAGE);

	assert_int_equal(vireo_mem_add(mem, d, fd, &why), rc);
	assert_int_equal(why, reason);
	assert_int_equal(mem->nregions, before);
	assert_false(fd_is_closed(fd));
	close(fd);
}

static void test_add_and_translate_gpa(void **state)
{
	struct vireo_mem mem;
	struct vireo_mem_desc d = { .gpa = 0x10000, .size = 0x10000, .uaddr = UVA };
	int fd = make_memfd(0x10000);
	uint8_t *view = guest_view(fd, 0x10000);
	uint64_t len;
	uint8_t *p;

	(void)state;
	vireo_mem_init(&mem);
	assert_int_equal(vireo_mem_add(&mem, &d, fd, NULL), 0);
	assert_int_equal(mem.nregions, 1);

	len = 0x100;
	p = vireo_mem_gpa_to_host(&mem, 0x10010, &len);
	assert_non_null(p);
	assert_int_equal(len, 0x100);
	memcpy(p, "backend", 8);
	assert_memory_equal(view + 0x10, "backend", 8);

	/* Trimmed to the region's end. */
	len = 0x100;
	p = vireo_mem_gpa_to_host(&mem, 0x1fff0, &len);
	assert_non_null(p);
	assert_int_equal(len, 0x10);
	view[0xfff0] = 0x5a;
	assert_int_equal(p[0], 0x5a);

	/* Just outside on both sides: NULL, len untouched. */
	len = 7;
	assert_null(vireo_mem_gpa_to_host(&mem, 0xffff, &len));
	assert_null(vireo_mem_gpa_to_host(&mem, 0x20000, &len));
	assert_int_equal(len, 7);

	munmap(view, 0x10000);
	vireo_mem_clear(&mem);
}

static void test_translate_uva(void **state)
{
	struct vireo_mem mem;
	uint64_t len = 0x40, len2 = 0x40;
	void *by_uva, *by_gpa;

	(void)state;
	vireo_mem_init(&mem);
	add_ok(&mem, 0x100000, 0x4000, UVA);
	add_ok(&mem, 0x200000, 0x4000, UVA + 0x10000);

	by_uva = vireo_mem_uva_to_host(&mem, UVA + 0x10000 + 0x20, &len);
	by_gpa = vireo_mem_gpa_to_host(&mem, 0x200000 + 0x20, &len2);
	assert_non_null(by_uva);
	assert_ptr_equal(by_uva, by_gpa);
	assert_int_equal(len, 0x40);

	len = 0x1000;
	assert_non_null(vireo_mem_uva_to_host(&mem, UVA + 0x3ff8, &len));
	assert_int_equal(len, 8);
	len = 1;
	assert_null(vireo_mem_uva_to_host(&mem, UVA + 0x4000, &len));
	assert_null(vireo_mem_uva_to_host(&mem, 0x100000, &len)); /* a GPA, not a UVA */
	vireo_mem_clear(&mem);
}

static void test_refuse_zero_size(void **state)
{
	struct vireo_mem mem;
	struct vireo_mem_desc d = { .gpa = 0x1000, .size = 0, .uaddr = UVA };

	(void)state;
	vireo_mem_init(&mem);
	add_refused(&mem, &d, -EINVAL, VIREO_MEM_ERR_ZERO_SIZE);
}

static void test_refuse_gpa_wrap(void **state)
{
	struct vireo_mem mem;
	struct vireo_mem_desc d = { .gpa = TOP4K, .size = 2 * PAGE, .uaddr = UVA };

	(void)state;
	vireo_mem_init(&mem);
	add_refused(&mem, &d, -EINVAL, VIREO_MEM_ERR_GPA_WRAP);
	d.gpa = UINT64_MAX;
	d.size = 2;
	add_refused(&mem, &d, -EINVAL, VIREO_MEM_ERR_GPA_WRAP);
	d.gpa = 2; /* [2, 2^64 + 1) */
	d.size = UINT64_MAX;
	add_refused(&mem, &d, -EINVAL, VIREO_MEM_ERR_GPA_WRAP);
}

static void test_region_ending_at_top_of_gpa_space(void **state)
{
	struct vireo_mem mem;
	struct iovec iov[2];
	enum vireo_mem_err why;
	uint64_t len = 100;
	uint8_t *last, *first;

	(void)state;
	vireo_mem_init(&mem);
	add_ok(&mem, TOP4K, PAGE, UVA); /* last byte is 2^64 - 1: allowed */

	last = vireo_mem_gpa_to_host(&mem, UINT64_MAX, &len);
	assert_non_null(last);
	assert_int_equal(len, 1);
	len = PAGE;
	first = vireo_mem_gpa_to_host(&mem, TOP4K, &len);
	assert_ptr_equal(last, first + PAGE - 1);

	assert_int_equal(vireo_mem_map(&mem, UINT64_MAX - 9, 10, iov, 2, &why), 1);
	assert_int_equal(iov[0].iov_len, 10);
	assert_int_equal(vireo_mem_map(&mem, UINT64_MAX - 9, 11, iov, 2, &why), -EFAULT);
	assert_int_equal(why, VIREO_MEM_ERR_LEN_WRAP);
	vireo_mem_clear(&mem);
}

static void test_refuse_uva_wrap(void **state)
{
	struct vireo_mem mem;
	struct vireo_mem_desc d = { .gpa = 0x1000, .size = 2 * PAGE, .uaddr = TOP4K };

	(void)state;
	vireo_mem_init(&mem);
	add_refused(&mem, &d, -EINVAL, VIREO_MEM_ERR_UVA_WRAP);
	d.uaddr = TOP4K - PAGE; /* ends exactly at 2^64 - 1: fine */
	assert_int_equal(vireo_mem_add(&mem, &d, make_memfd(2 * PAGE), NULL), 0);
	vireo_mem_clear(&mem);
}

static void test_refuse_offset_wrap(void **state)
{
	struct vireo_mem mem;
	struct vireo_mem_desc d = { .gpa = 0, .size = PAGE, .uaddr = UVA };

	(void)state;
	vireo_mem_init(&mem);
	d.mmap_offset = UINT64_MAX - 10;
	add_refused(&mem, &d, -EINVAL, VIREO_MEM_ERR_OFFSET_WRAP);
	/* Fits in 64 bits but not in off_t. */
	d.mmap_offset = (uint64_t)INT64_MAX - 100;
	add_refused(&mem, &d, -EINVAL, VIREO_MEM_ERR_OFFSET_WRAP);
}

static void test_refuse_overlap(void **state)
{
	static const struct {
		uint64_t gpa, size;
	} bad[] = {
		{ 0x10000, 0x10000 }, /* the same range */
		{ 0x8000, 0x8001 },   /* covers its first byte */
		{ 0x1ffff, 0x1000 },  /* covers its last byte */
		{ 0x0, 0x100000 },    /* contains it */
		{ 0x14000, 0x1000 },  /* inside it */
	};
	struct vireo_mem mem;
	unsigned int i;

	(void)state;
	vireo_mem_init(&mem);
	add_ok(&mem, 0x10000, 0x10000, UVA);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vireo_mem_desc d = { .gpa = bad[i].gpa, .size = bad[i].size, .uaddr = UVA };

		add_refused(&mem, &d, -EEXIST, VIREO_MEM_ERR_OVERLAP);
	}
	/* Adjacent on both sides is not overlap. */
	add_ok(&mem, 0x20000, 0x10000, UVA + 0x10000);
	add_ok(&mem, 0x0, 0x10000, UVA + 0x20000);
	assert_int_equal(mem.nregions, 3);
	vireo_mem_clear(&mem);
}

static void test_refuse_too_many(void **state)
{
	struct vireo_mem mem;
	struct vireo_mem_desc d = { .size = PAGE };
	int fd = make_memfd(PAGE * (VIREO_MEM_MAX_REGIONS + 1));
	unsigned int i;

	(void)state;
	vireo_mem_init(&mem);
	for (i = 0; i < VIREO_MEM_MAX_REGIONS; i++) {
		d.gpa = 0x100000 + i * 2 * PAGE;
		d.uaddr = UVA + i * PAGE;
		d.mmap_offset = i * PAGE;
		assert_int_equal(vireo_mem_add(&mem, &d, dup(fd), NULL), 0);
	}
	d.gpa = 0x900000;
	d.mmap_offset = 0;
	add_refused(&mem, &d, -ENOSPC, VIREO_MEM_ERR_TOO_MANY);
	assert_int_equal(mem.nregions, VIREO_MEM_MAX_REGIONS);
	vireo_mem_clear(&mem);
	close(fd);
}

static void test_refuse_bad_fd(void **state)
{
	struct vireo_mem mem;
	struct vireo_mem_desc d = { .gpa = 0, .size = PAGE, .uaddr = UVA };
	enum vireo_mem_err why = VIREO_MEM_OK;
	int fd = make_memfd(PAGE);

	(void)state;
	vireo_mem_init(&mem);
	assert_int_equal(vireo_mem_add(&mem, &d, -1, &why), -EBADF);
	assert_int_equal(why, VIREO_MEM_ERR_BAD_FD);
	close(fd); /* a number that is no longer an fd */
	why = VIREO_MEM_OK;
	assert_int_equal(vireo_mem_add(&mem, &d, fd, &why), -EBADF);
	assert_int_equal(why, VIREO_MEM_ERR_BAD_FD);
	assert_int_equal(mem.nregions, 0);
}

static void test_refuse_region_past_end_of_file(void **state)
{
	struct vireo_mem mem;
	struct vireo_mem_desc d = { .gpa = 0, .size = 2 * PAGE, .uaddr = UVA };

	(void)state;
	vireo_mem_init(&mem);
	/* add_refused() hands over a one-page memfd. */
	add_refused(&mem, &d, -EINVAL, VIREO_MEM_ERR_PAST_EOF);
	d.size = PAGE;
	d.mmap_offset = 1;
	add_refused(&mem, &d, -EINVAL, VIREO_MEM_ERR_PAST_EOF);
	d.mmap_offset = 0; /* exactly the file: fine */
	assert_int_equal(vireo_mem_add(&mem, &d, make_memfd(PAGE), NULL), 0);
	vireo_mem_clear(&mem);
}

static void test_refuse_unmappable_fd(void **state)
{
	struct vireo_mem mem;
	struct vireo_mem_desc d = { .gpa = 0, .size = PAGE, .uaddr = UVA };
	enum vireo_mem_err why = VIREO_MEM_OK;
	int p[2];

	(void)state;
	vireo_mem_init(&mem);
	assert_int_equal(pipe(p), 0);
	assert_true(vireo_mem_add(&mem, &d, p[0], &why) < 0); /* pipes cannot be mmapped */
	assert_int_equal(why, VIREO_MEM_ERR_MMAP);
	assert_int_equal(mem.nregions, 0);
	close(p[0]);
	close(p[1]);
}

static void test_unaligned_mmap_offset(void **state)
{
	struct vireo_mem mem;
	struct vireo_mem_desc d = { .gpa = 0x40000, .size = 0x2000, .uaddr = UVA };
	int fd = make_memfd(0x8000);
	uint8_t *view = guest_view(fd, 0x8000);
	uint64_t len = 1;
	uint8_t *p;

	(void)state;
	vireo_mem_init(&mem);
	view[0x1234] = 0xa5;
	view[0x1234 + 0x1fff] = 0x5a;
	d.mmap_offset = 0x1234;
	assert_int_equal(vireo_mem_add(&mem, &d, fd, NULL), 0);
	p = vireo_mem_gpa_to_host(&mem, 0x40000, &len);
	assert_int_equal(p[0], 0xa5);
	assert_int_equal(p[0x1fff], 0x5a);
	munmap(view, 0x8000);
	vireo_mem_clear(&mem);
}

static void test_remove_exact_match(void **state)
{
	struct vireo_mem mem;
	struct vireo_mem_desc a = { .gpa = 0x10000, .size = 0x4000, .uaddr = UVA };
	struct vireo_mem_desc b = { .gpa = 0x20000, .size = 0x4000, .uaddr = UVA + 0x8000 };
	struct vireo_mem_desc probe;
	enum vireo_mem_err why = VIREO_MEM_OK;
	int fd_a = make_memfd(0x4000);
	uint64_t len = 1;

	(void)state;
	vireo_mem_init(&mem);
	assert_int_equal(vireo_mem_add(&mem, &a, fd_a, NULL), 0);
	assert_int_equal(vireo_mem_add(&mem, &b, make_memfd(0x4000), NULL), 0);

	probe = a;
	probe.size = 0x2000;
	assert_int_equal(vireo_mem_remove(&mem, &probe, &why), -ENOENT);
	assert_int_equal(why, VIREO_MEM_ERR_NOT_FOUND);
	probe = a;
	probe.gpa = 0x10001;
	assert_int_equal(vireo_mem_remove(&mem, &probe, &why), -ENOENT);
	probe = a;
	probe.uaddr = UVA + 1;
	assert_int_equal(vireo_mem_remove(&mem, &probe, &why), -ENOENT);
	assert_int_equal(mem.nregions, 2);

	/* mmap_offset is not part of the match (REM_MEM_REG carries a new fd). */
	probe = a;
	probe.mmap_offset = 0x1000;
	assert_int_equal(vireo_mem_remove(&mem, &probe, &why), 0);
	assert_int_equal(why, VIREO_MEM_OK);
	assert_int_equal(mem.nregions, 1);
	assert_true(fd_is_closed(fd_a));
	assert_null(vireo_mem_gpa_to_host(&mem, 0x10000, &len));
	assert_non_null(vireo_mem_gpa_to_host(&mem, 0x20000, &len));
	assert_int_equal(vireo_mem_remove(&mem, &a, &why), -ENOENT);
	vireo_mem_clear(&mem);
}

static void test_clear_unmaps_and_closes(void **state)
{
	struct vireo_mem mem;
	struct vireo_mem_desc d = { .size = PAGE };
	int fds[3];
	uint64_t len = 1;
	unsigned int i;

	(void)state;
	vireo_mem_init(&mem);
	for (i = 0; i < 3; i++) {
		fds[i] = make_memfd(PAGE);
		d.gpa = i * PAGE;
		d.uaddr = UVA + i * PAGE;
		assert_int_equal(vireo_mem_add(&mem, &d, fds[i], NULL), 0);
	}
	vireo_mem_clear(&mem);
	assert_int_equal(mem.nregions, 0);
	for (i = 0; i < 3; i++)
		assert_true(fd_is_closed(fds[i]));
	assert_null(vireo_mem_gpa_to_host(&mem, 0, &len));
}

/* Fixture: regions [0x10000, 0x14000) and [0x14000, 0x18000) from one memfd. */
struct adj {
	struct vireo_mem mem;
	uint8_t *view; /* the guest's view of the memfd */
	int fd;
};

static int adj_setup(void **state)
{
	static struct adj a;
	struct vireo_mem_desc lo = { .gpa = 0x10000, .size = 0x4000, .uaddr = UVA };
	struct vireo_mem_desc hi = {
		.gpa = 0x14000, .size = 0x4000, .uaddr = UVA + 0x4000, .mmap_offset = 0x4000
	};

	a.fd = make_memfd(0x8000);
	vireo_mem_init(&a.mem);
	if (vireo_mem_add(&a.mem, &lo, dup(a.fd), NULL) < 0 ||
	    vireo_mem_add(&a.mem, &hi, dup(a.fd), NULL) < 0)
		return -1;
	a.view = guest_view(a.fd, 0x8000);
	*state = &a;
	return 0;
}

static int adj_teardown(void **state)
{
	struct adj *a = *state;

	munmap(a->view, 0x8000);
	close(a->fd);
	vireo_mem_clear(&a->mem);
	return 0;
}

static void test_map_single_region(void **state)
{
	struct adj *a = *state;
	struct vireo_mem *mem = &a->mem;
	uint8_t *view = a->view;
	struct iovec iov[4];

	assert_int_equal(vireo_mem_map(mem, 0x10100, 0x200, iov, 4, NULL), 1);
	assert_int_equal(iov[0].iov_len, 0x200);
	memset(iov[0].iov_base, 0xee, 0x200);
	assert_int_equal(view[0x100], 0xee);
	assert_int_equal(view[0x2ff], 0xee);
	assert_int_equal(view[0x300], 0);
}

static void test_map_straddles_adjacent_regions(void **state)
{
	struct adj *a = *state;
	struct vireo_mem *mem = &a->mem;
	uint8_t *view = a->view;
	struct iovec iov[4];
	uint8_t expect[0x100];
	size_t i, k = 0;
	int n;

	n = vireo_mem_map(mem, 0x13f80, 0x100, iov, 4, NULL);
	assert_int_equal(n, 2);
	assert_int_equal(iov[0].iov_len, 0x80);
	assert_int_equal(iov[1].iov_len, 0x80);
	for (i = 0; i < sizeof(expect); i++)
		expect[i] = (uint8_t)(i * 7 + 1);
	for (n = 0; n < 2; n++) {
		memcpy(iov[n].iov_base, expect + k, iov[n].iov_len);
		k += iov[n].iov_len;
	}
	/* The guest sees one contiguous buffer. */
	assert_memory_equal(view + 0x3f80, expect, sizeof(expect));

	/* A third adjacent region: one buffer over all three. */
	{
		struct vireo_mem_desc d = { .gpa = 0x18000, .size = 0x1000, .uaddr = UVA + 0x8000 };

		assert_int_equal(vireo_mem_add(mem, &d, make_memfd(0x1000), NULL), 0);
		assert_int_equal(vireo_mem_map(mem, 0x13fff, 0x4002, iov, 4, NULL), 3);
		assert_int_equal(iov[0].iov_len, 1);
		assert_int_equal(iov[1].iov_len, 0x4000);
		assert_int_equal(iov[2].iov_len, 1);
	}
}

static void test_map_boundary_exact(void **state)
{
	struct adj *a = *state;
	struct vireo_mem *mem = &a->mem;
	struct iovec iov[4];
	enum vireo_mem_err why;

	/* Ends on the last byte of guest memory. */
	assert_int_equal(vireo_mem_map(mem, 0x17000, 0x1000, iov, 4, &why), 1);
	assert_int_equal(why, VIREO_MEM_OK);
	assert_int_equal(vireo_mem_map(mem, 0x17fff, 1, iov, 4, &why), 1);
	/* One byte more, or starting one past. */
	assert_int_equal(vireo_mem_map(mem, 0x17000, 0x1001, iov, 4, &why), -EFAULT);
	assert_int_equal(why, VIREO_MEM_ERR_UNMAPPED);
	assert_int_equal(vireo_mem_map(mem, 0x18000, 1, iov, 4, &why), -EFAULT);
	assert_int_equal(why, VIREO_MEM_ERR_UNMAPPED);
	/* Starts one byte before guest memory. */
	assert_int_equal(vireo_mem_map(mem, 0xffff, 2, iov, 4, &why), -EFAULT);
	assert_int_equal(why, VIREO_MEM_ERR_UNMAPPED);
}

static void test_map_refuses_hole(void **state)
{
	struct vireo_mem mem;
	struct iovec iov[4];
	enum vireo_mem_err why;

	(void)state;
	vireo_mem_init(&mem);
	add_ok(&mem, 0x10000, 0x10000, UVA);
	add_ok(&mem, 0x30000, 0x10000, UVA + 0x10000);
	assert_int_equal(vireo_mem_map(&mem, 0x1f000, 0x2000, iov, 4, &why), -EFAULT);
	assert_int_equal(why, VIREO_MEM_ERR_UNMAPPED);
	assert_int_equal(vireo_mem_map(&mem, 0x25000, 0x10, iov, 4, &why), -EFAULT);
	assert_int_equal(why, VIREO_MEM_ERR_UNMAPPED);
	vireo_mem_clear(&mem);
}

static void test_map_refuses_iov_overflow(void **state)
{
	struct adj *a = *state;
	struct vireo_mem *mem = &a->mem;
	struct iovec iov[2];
	enum vireo_mem_err why;

	assert_int_equal(vireo_mem_map(mem, 0x13f00, 0x200, iov, 1, &why), -ENOBUFS);
	assert_int_equal(why, VIREO_MEM_ERR_IOV_FULL);
	assert_int_equal(vireo_mem_map(mem, 0x10000, 0x10, iov, 0, &why), -ENOBUFS);
	assert_int_equal(why, VIREO_MEM_ERR_IOV_FULL);
}

static void test_map_refuses_len_wrap(void **state)
{
	struct vireo_mem mem;
	struct iovec iov[2];
	enum vireo_mem_err why;

	(void)state;
	vireo_mem_init(&mem);
	add_ok(&mem, 0x10000, 0x10000, UVA);
	assert_int_equal(vireo_mem_map(&mem, UINT64_MAX - 5, 10, iov, 2, &why), -EFAULT);
	assert_int_equal(why, VIREO_MEM_ERR_LEN_WRAP);
	assert_int_equal(vireo_mem_map(&mem, 0x10000, UINT64_MAX, iov, 2, &why), -EFAULT);
	assert_int_equal(why, VIREO_MEM_ERR_LEN_WRAP);
	/* [0, 2^64 - 1) does not wrap, but most of it is not guest memory. */
	assert_int_equal(vireo_mem_map(&mem, 0, UINT64_MAX, iov, 2, &why), -EFAULT);
	assert_int_equal(why, VIREO_MEM_ERR_UNMAPPED);
	vireo_mem_clear(&mem);
}

static void test_map_zero_length(void **state)
{
	struct vireo_mem mem;
	struct iovec iov[1];
	enum vireo_mem_err why = VIREO_MEM_ERR_MAX;

	(void)state;
	vireo_mem_init(&mem);
	assert_int_equal(vireo_mem_map(&mem, 0xdead0000, 0, iov, 1, &why), 0);
	assert_int_equal(why, VIREO_MEM_OK);
	assert_int_equal(vireo_mem_check(&mem, UINT64_MAX, 0, &why), 0);
}

static void test_read_and_check_across_regions(void **state)
{
	struct adj *a = *state;
	struct vireo_mem *mem = &a->mem;
	uint8_t *view = a->view;
	enum vireo_mem_err why;
	uint8_t buf[32];
	int i;

	for (i = 0; i < 32; i++)
		view[0x3ff0 + i] = (uint8_t)(0x80 + i);
	assert_int_equal(vireo_mem_read(mem, 0x13ff0, buf, sizeof(buf), &why), 0);
	for (i = 0; i < 32; i++)
		assert_int_equal(buf[i], 0x80 + i);
	assert_int_equal(vireo_mem_read(mem, 0x17ff0, buf, sizeof(buf), &why), -EFAULT);
	assert_int_equal(why, VIREO_MEM_ERR_UNMAPPED);

	assert_int_equal(vireo_mem_check(mem, 0x10000, 0x8000, &why), 0);
	assert_int_equal(vireo_mem_check(mem, 0x10000, 0x8001, &why), -EFAULT);
	assert_int_equal(why, VIREO_MEM_ERR_UNMAPPED);
	assert_int_equal(vireo_mem_check(mem, UINT64_MAX, 2, &why), -EFAULT);
	assert_int_equal(why, VIREO_MEM_ERR_LEN_WRAP);
}

static void test_every_reason_has_a_string(void **state)
{
	unsigned int i, j;

	(void)state;
	for (i = 0; i < VIREO_MEM_ERR_MAX; i++) {
		const char *s = vireo_mem_err_str((enum vireo_mem_err)i);

		assert_non_null(s);
		assert_string_not_equal(s, "unknown reason");
		for (j = 0; j < i; j++)
			assert_string_not_equal(s, vireo_mem_err_str((enum vireo_mem_err)j));
	}
	assert_string_equal(vireo_mem_err_str(VIREO_MEM_ERR_MAX), "unknown reason");
	assert_string_equal(vireo_mem_err_str((enum vireo_mem_err)(VIREO_MEM_ERR_MAX + 7)),
			    "unknown reason");
}

#define ADJ(fn) cmocka_unit_test_setup_teardown(fn, adj_setup, adj_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_and_translate_gpa),
		cmocka_unit_test(test_translate_uva),
		cmocka_unit_test(test_refuse_zero_size),
		cmocka_unit_test(test_refuse_gpa_wrap),
		cmocka_unit_test(test_region_ending_at_top_of_gpa_space),
		cmocka_unit_test(test_refuse_uva_wrap),
		cmocka_unit_test(test_refuse_offset_wrap),
		cmocka_unit_test(test_refuse_overlap),
		cmocka_unit_test(test_refuse_too_many),
		cmocka_unit_test(test_refuse_bad_fd),
		cmocka_unit_test(test_refuse_region_past_end_of_file),
		cmocka_unit_test(test_refuse_unmappable_fd),
		cmocka_unit_test(test_unaligned_mmap_offset),
		cmocka_unit_test(test_remove_exact_match),
		cmocka_unit_test(test_clear_unmaps_and_closes),
		ADJ(test_map_single_region),
		ADJ(test_map_straddles_adjacent_regions),
		ADJ(test_map_boundary_exact),
		cmocka_unit_test(test_map_refuses_hole),
		ADJ(test_map_refuses_iov_overflow),
		cmocka_unit_test(test_map_refuses_len_wrap),
		cmocka_unit_test(test_map_zero_length),
		ADJ(test_read_and_check_across_regions),
		cmocka_unit_test(test_every_reason_has_a_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
