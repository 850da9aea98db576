// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/lib/mem.c: argument checks, 4 KiB buffers (rounded, aligned,
 * zeroed, locked, kept out of children), and both sides of the huge-page fallback on
 * the real kernel: with no 2 MiB pages reserved, then with some (root only: the test
 * changes the 2 MiB pool and puts it back).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vireo/mem.h>

#define HUGE_DIR "/sys/kernel/mm/hugepages/hugepages-2048kB"

/* Sums field @key (kB) over the smaps entries that start inside [va, va + len). */
static long smaps_kb(const void *va, size_t len, const char *key)
{
	uintptr_t lo = (uintptr_t)va, hi = lo + len, start = 0, end = 0;
	char line[512];
	long total = 0, v;
	bool in = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = start >= lo && start < hi;
			continue;
		}
		if (in && strncmp(line, key, strlen(key)) == 0 &&
		    sscanf(line + strlen(key), ": %ld kB", &v) == 1)
			total += v;
	}
	fclose(f);
	return total;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_refusals(void **state)
{
	struct vireo_dma_buf *buf = (void *)1;

	(void)state;
	assert_int_equal(vireo_dma_alloc(0, 0, &buf), -EINVAL);
	assert_int_equal(vireo_dma_alloc(4096, 0, NULL), -EINVAL);
	assert_int_equal(vireo_dma_alloc(4096, 1u << 7, &buf), -EINVAL);
	assert_int_equal(vireo_dma_alloc(4096, VIREO_DMA_NO_HUGE | VIREO_DMA_HUGE_ONLY, &buf),
			 -EINVAL);
	assert_int_equal(vireo_dma_alloc((size_t)1 << 41, 0, &buf), -EINVAL);
	assert_ptr_equal(buf, (void *)1);
	/* NULL is harmless everywhere. */
	vireo_dma_free(NULL);
	assert_null(vireo_dma_va(NULL));
	assert_int_equal(vireo_dma_size(NULL), 0);
	assert_int_equal(vireo_dma_page_size(NULL), 0);
}

static void test_small_pages(void **state)
{
	struct vireo_dma_buf *buf;
	uint64_t iova;
	unsigned char *p;
	int dummy;

	(void)state;
	assert_int_equal(vireo_dma_alloc(5000, VIREO_DMA_NO_HUGE, &buf), 0);
	p = vireo_dma_va(buf);
	assert_non_null(p);
	assert_int_equal(vireo_dma_page_size(buf), VIREO_DMA_SMALL_PAGE_SIZE);
	assert_int_equal(vireo_dma_size(buf), 8192);
	assert_int_equal((uintptr_t)p % 4096, 0);
	assert_true(all_zero(p, 8192));
	memset(p, 0xa5, 8192);
	/* Pinned: every page resident and locked. */
	assert_int_equal(smaps_kb(p, 8192, "Locked"), 8);
	assert_int_equal(smaps_kb(p, 8192, "Rss"), 8);
	/* Not mapped for any device: no IOVA, and a NULL device is a misuse. */
	assert_int_equal(vireo_dma_iova(buf, (const struct vireo_pci_dev *)&dummy, &iova), -ENOENT);
	assert_int_equal(vireo_dma_iova(buf, NULL, &iova), -EINVAL);
	assert_int_equal(vireo_dma_iova(NULL, (const struct vireo_pci_dev *)&dummy, &iova),
			 -EINVAL);
	vireo_dma_free(buf);
}

static void test_not_inherited(void **state)
{
	struct vireo_dma_buf *buf;
	unsigned char vec[2];
	pid_t pid;
	int st;

	(void)state;
	assert_int_equal(vireo_dma_alloc(8192, VIREO_DMA_NO_HUGE, &buf), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* MADV_DONTFORK: the range is not mapped in the child at all. */
		int rc = mincore(vireo_dma_va(buf), 8192, vec);

		_exit(rc < 0 && errno == ENOMEM ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(mincore(vireo_dma_va(buf), 8192, vec), 0);
	vireo_dma_free(buf);
}

/* The 2 MiB pool, saved at the start and put back by pool_restore(). */
struct pool {
	int lock_fd;
	long nr, overcommit;
};

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int write_long(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -errno;
	rc = fprintf(f, "%ld\n", v) < 0 ? -EIO : 0;
	if (fclose(f) != 0)
		rc = -errno;
	return rc;
}

static int pool_setup(void **state)
{
	struct pool *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	/* Other tests that resize the pool wait for this one. */
	p->lock_fd = open("/tmp/vireo-hugepages.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (p->lock_fd >= 0)
		flock(p->lock_fd, LOCK_EX);
	p->nr = read_long(HUGE_DIR "/nr_hugepages");
	p->overcommit = read_long(HUGE_DIR "/nr_overcommit_hugepages");
	*state = p;
	return 0;
}

static int pool_restore(void **state)
{
	struct pool *p = *state;

	if (p->nr >= 0 && access(HUGE_DIR "/nr_hugepages", W_OK) == 0) {
		write_long(HUGE_DIR "/nr_overcommit_hugepages", p->overcommit);
		write_long(HUGE_DIR "/nr_hugepages", p->nr);
	}
	if (p->lock_fd >= 0)
		close(p->lock_fd);
	free(p);
	return 0;
}

static void skip_unless_pool_writable(const struct pool *p)
{
	if (p->nr < 0) {
		fprintf(stderr, "SKIP: no 2 MiB huge page pool (%s) on this kernel\n", HUGE_DIR);
		skip();
	}
	if (geteuid() != 0 || access(HUGE_DIR "/nr_hugepages", W_OK) != 0) {
		fprintf(stderr, "SKIP: resizing the huge page pool needs root\n");
		skip();
	}
}

static void test_fallback_without_huge_pages(void **state)
{
	struct pool *p = *state;
	struct vireo_dma_buf *buf;
	unsigned char *va;

	skip_unless_pool_writable(p);
	assert_int_equal(write_long(HUGE_DIR "/nr_overcommit_hugepages", 0), 0);
	assert_int_equal(write_long(HUGE_DIR "/nr_hugepages", 0), 0);
	/* Pages other processes hold stay theirs (as surplus); none are free. */
	assert_int_equal(read_long(HUGE_DIR "/free_hugepages"), 0);

	assert_int_equal(vireo_dma_alloc(3u << 20, VIREO_DMA_HUGE_ONLY, &buf), -ENOMEM);
	assert_int_equal(vireo_dma_alloc(3u << 20, 0, &buf), 0);
	va = vireo_dma_va(buf);
	assert_int_equal(vireo_dma_page_size(buf), VIREO_DMA_SMALL_PAGE_SIZE);
	assert_int_equal(vireo_dma_size(buf), 3u << 20);
	assert_int_equal((uintptr_t)va % 4096, 0);
	assert_true(all_zero(va, 3u << 20));
	assert_int_equal(smaps_kb(va, 3u << 20, "Locked"), 3 * 1024);
	vireo_dma_free(buf);
}

static void test_huge_pages(void **state)
{
	struct pool *p = *state;
	struct vireo_dma_buf *buf, *buf2;
	unsigned char *va;
	long want;

	skip_unless_pool_writable(p);
	/* Two more than whatever is reserved now, so nobody else loses theirs. */
	want = (p->nr > 0 ? p->nr : 0) + 3;
	assert_int_equal(write_long(HUGE_DIR "/nr_hugepages", want), 0);
	if (read_long(HUGE_DIR "/free_hugepages") < 3) {
		fprintf(stderr, "SKIP: the kernel could not reserve 3 free 2 MiB pages "
				"(memory too fragmented)\n");
		skip();
	}
	/* 3 MiB rounds up to two huge pages. */
	assert_int_equal(vireo_dma_alloc((3u << 20), 0, &buf), 0);
	va = vireo_dma_va(buf);
	assert_int_equal(vireo_dma_page_size(buf), VIREO_DMA_HUGE_PAGE_SIZE);
	assert_int_equal(vireo_dma_size(buf), 4u << 20);
	assert_int_equal((uintptr_t)va % (2u << 20), 0);
	assert_true(all_zero(va, 4u << 20));
	memset(va, 0x5a, 4u << 20);
	assert_int_equal(smaps_kb(va, 4u << 20, "KernelPageSize"), 2048);
	/* One left: a second 2-page buffer cannot have huge pages; with HUGE_ONLY, none. */
	assert_int_equal(vireo_dma_alloc(4u << 20, VIREO_DMA_HUGE_ONLY, &buf2), -ENOMEM);
	assert_int_equal(vireo_dma_alloc(1, VIREO_DMA_HUGE_ONLY, &buf2), 0);
	assert_int_equal(vireo_dma_page_size(buf2), VIREO_DMA_HUGE_PAGE_SIZE);
	assert_int_equal(vireo_dma_size(buf2), 2u << 20);
	vireo_dma_free(buf2);
	/* NO_HUGE leaves the pool alone. */
	assert_int_equal(vireo_dma_alloc(1, VIREO_DMA_NO_HUGE, &buf2), 0);
	assert_int_equal(vireo_dma_page_size(buf2), VIREO_DMA_SMALL_PAGE_SIZE);
	assert_int_equal(vireo_dma_size(buf2), 4096);
	vireo_dma_free(buf2);
	vireo_dma_free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_small_pages),
		cmocka_unit_test(test_not_inherited),
		cmocka_unit_test_setup_teardown(test_fallback_without_huge_pages, pool_setup,
						pool_restore),
		cmocka_unit_test_setup_teardown(test_huge_pages, pool_setup, pool_restore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
