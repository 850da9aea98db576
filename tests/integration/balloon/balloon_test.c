// SPDX-License-Identifier: MIT
/*
 * The agent's side of /dev/vireo-balloon, for tests (built -static, run in a guest):
 *   balloon_test target BYTES [TIMEOUT_S]  sets the target, waits until the size is
 *                                         there (or stops moving), prints the status
 *   balloon_test read [ack]   reads every batch, checks the ranges (page-aligned,
 *                             non-overlapping, inside System RAM of /proc/iomem, adding
 *                             up to what was reported), acks the last batch if asked;
 *                             prints "ranges N bytes B batches K seq S"
 *   balloon_test ack SEQ      acknowledges batches up to SEQ
 *   balloon_test readfault    a read() into a bad buffer fails with EFAULT and leaves
 *                             every page unreported
 *   balloon_test status       prints the status
 *   balloon_test hog MIB      allocates and touches MIB MiB, prints "touched MIB"
 * Exits non-zero with a message on any failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../../../guest-tools/kmod/balloon/vireo_balloon.h"

#define DEV	   "/dev/vireo-balloon"
#define MAX_RANGES (1 << 20)
#define MAX_RAM	   64

static void die(const char *what)
{
	fprintf(stderr, "balloon_test: %s: %s\n", what, errno ? strerror(errno) : "failed");
	exit(1);
}

static int open_dev(int flags)
{
	int fd = open(DEV, O_RDWR | flags);

	if (fd < 0)
		die("open " DEV);
	return fd;
}

static void get_status(int fd, struct vireo_balloon_status *s)
{
	if (ioctl(fd, VIREO_BALLOON_STATUS, s))
		die("VIREO_BALLOON_STATUS");
}

static void print_status(const struct vireo_balloon_status *s)
{
	printf("target %" PRIu64 " size %" PRIu64 " blocks_2m %" PRIu64 " pages_4k %" PRIu64
	       " unreported %" PRIu64 " pending %" PRIu64 " acked %" PRIu64 " shrunk %" PRIu64
	       " failures %" PRIu64 " oom_shrunk %" PRIu64 "\n",
	       (uint64_t)s->target, (uint64_t)s->size, (uint64_t)s->blocks_2m,
	       (uint64_t)s->pages_4k, (uint64_t)s->unreported, (uint64_t)s->pending,
	       (uint64_t)s->acked, (uint64_t)s->shrunk, (uint64_t)s->alloc_failures,
	       (uint64_t)s->oom_shrunk);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmd_target(uint64_t bytes, double timeout)
{
	struct vireo_balloon_status s;
	double start = now(), moved;
	uint64_t last = UINT64_MAX;
	int fd = open_dev(0);

	if (ioctl(fd, VIREO_BALLOON_SET_TARGET, &bytes))
		die("VIREO_BALLOON_SET_TARGET");
	moved = now();
	for (;;) {
		get_status(fd, &s);
		if (s.size == bytes)
			break;
		if (s.size != last) {
			last = s.size;
			moved = now();
		}
		/* Stuck (pending pages, or nothing left to take) or out of time. */
		if (now() - moved > 3 || now() - start > timeout)
			break;
		usleep(20000);
	}
	fprintf(stderr, "balloon_test: %.2f s\n", now() - start);
	print_status(&s);
	close(fd);
	return 0;
}

struct span {
	uint64_t start, end; /* [start, end) */
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int read_ram(struct span *ram)
{
	char line[256];
	int n = 0;
	FILE *f = fopen("/proc/iomem", "r");

	if (!f)
		die("/proc/iomem");
	while (fgets(line, sizeof(line), f) && n < MAX_RAM) {
		unsigned long long a, b;

		/* Top-level entries only (no indentation). */
		if (line[0] == ' ' || !strstr(line, ": System RAM"))
			continue;
		if (sscanf(line, "%llx-%llx", &a, &b) == 2) {
			ram[n].start = a;
			ram[n].end = b + 1;
			n++;
		}
	}
	fclose(f);
	if (!n || !ram[0].end)
		die("no System RAM in /proc/iomem");
	return n;
}

static int cmd_read(int ack)
{
	static unsigned char buf[65536];
	struct span *all = calloc(MAX_RANGES, sizeof(*all)), ram[MAX_RAM];
	struct vireo_balloon_status before, after;
	uint64_t total = 0, seq = 0;
	size_t n = 0, batches = 0;
	int fd = open_dev(O_NONBLOCK), nram = read_ram(ram);

	if (!all)
		die("calloc");
	get_status(fd, &before);
	seq = before.last_seq;
	for (;;) {
		const struct vireo_balloon_batch *b = (const void *)buf;
		const struct vireo_balloon_range *r = (const void *)(b + 1);
		ssize_t got = read(fd, buf, sizeof(buf));
		uint32_t i;

		if (got < 0 && errno == EAGAIN)
			break;
		if (got < 0)
			die("read");
		if ((size_t)got != sizeof(*b) + b->count * sizeof(*r) || !b->count)
			die("short or empty batch");
		if (b->seq != seq + 1) {
			errno = 0;
			die("batch sequence numbers do not follow each other");
		}
		seq = b->seq;
		batches++;
		for (i = 0; i < b->count; i++) {
			if (n == MAX_RANGES)
				die("too many ranges");
			if ((r[i].gpa | r[i].len) & 4095 || !r[i].len) {
				errno = 0;
				die("range not page-aligned");
			}
			all[n].start = r[i].gpa;
			all[n].end = r[i].gpa + r[i].len;
			total += r[i].len;
			n++;
		}
	}
	qsort(all, n, sizeof(*all), cmp_span);
	errno = 0;
	for (size_t i = 0; i < n; i++) {
		int inside = 0;

		if (i && all[i].start < all[i - 1].end)
			die("ranges overlap");
		for (int j = 0; j < nram; j++)
			inside |= all[i].start >= ram[j].start && all[i].end <= ram[j].end;
		if (!inside) {
			fprintf(stderr, "range %#" PRIx64 "-%#" PRIx64 "\n", all[i].start,
				all[i].end);
			die("range outside System RAM");
		}
	}
	if (total != before.unreported)
		die("ranges do not add up to the unreported bytes");
	get_status(fd, &after);
	if (after.unreported || after.pending != before.pending + total)
		die("read pages are not all pending");
	if (ack && batches && ioctl(fd, VIREO_BALLOON_ACK, &seq))
		die("VIREO_BALLOON_ACK");
	printf("ranges %zu bytes %" PRIu64 " batches %zu seq %" PRIu64 "\n", n, total, batches,
	       seq);
	close(fd);
	free(all);
	return 0;
}

/*
 * In 1 MiB pieces: the kernel's heuristic overcommit refuses one mapping larger than
 * MemTotal, which the balloon lowered; the memory is there once the balloon shrinks.
 */
static int cmd_hog(long mib)
{
	unsigned char **p = calloc(mib, sizeof(*p));

	if (!p)
		die("calloc");
	for (long m = 0; m < mib; m++) {
		p[m] = malloc(1 << 20);
		if (!p[m])
			die("malloc");
		for (size_t i = 0; i < 1 << 20; i += 4096)
			p[m][i] = (unsigned char)(m + i / 4096) | 1;
	}
	for (long m = 0; m < mib; m++)
		for (size_t i = 0; i < 1 << 20; i += 4096)
			if (p[m][i] != ((unsigned char)(m + i / 4096) | 1))
				die("memory does not read back");
	printf("touched %ld\n", mib);
	return 0;
}

int main(int argc, char **argv)
{
	struct vireo_balloon_status s;
	int fd;

	if (argc >= 3 && !strcmp(argv[1], "target"))
		return cmd_target(strtoull(argv[2], NULL, 0), argc > 3 ? atof(argv[3]) : 60);
	if (argc >= 2 && !strcmp(argv[1], "read"))
		return cmd_read(argc > 2 && !strcmp(argv[2], "ack"));
	if (argc >= 3 && !strcmp(argv[1], "ack")) {
		uint64_t seq = strtoull(argv[2], NULL, 0);

		fd = open_dev(0);
		if (ioctl(fd, VIREO_BALLOON_ACK, &seq))
			die("VIREO_BALLOON_ACK");
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "readfault")) {
		struct vireo_balloon_status a;
		/* Read-only: the kernel's copy out faults. */
		void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (ro == MAP_FAILED)
			die("mmap");
		fd = open_dev(O_NONBLOCK);
		get_status(fd, &s);
		if (read(fd, ro, 4096) != -1 || errno != EFAULT)
			die("read into a bad buffer did not fail with EFAULT");
		get_status(fd, &a);
		errno = 0;
		if (!s.unreported || a.unreported != s.unreported || a.pending != s.pending)
			die("a failed read changed the page states");
		printf("efault ok\n");
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "hog"))
		return cmd_hog(atol(argv[2]));
	if (argc >= 2 && !strcmp(argv[1], "status")) {
		fd = open_dev(0);
		get_status(fd, &s);
		print_status(&s);
		return 0;
	}
	fprintf(stderr, "usage: balloon_test target BYTES|read [ack]|ack SEQ|status|hog MIB\n");
	return 2;
}
