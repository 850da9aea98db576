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
 * Free page reporting:
 *   balloon_test reporting on|off       VIREO_BALLOON_SET_REPORTING
 *   balloon_test reports [--on] [--noack] MAX_S QUIET_S
 *                             reads reported batches for up to MAX_S seconds, until
 *                             none came for QUIET_S (--noack: until the first, left
 *                             unacknowledged); checks each (the flag, 2 MiB-aligned
 *                             ranges inside System RAM, not overlapping, the status's
 *                             report_waiting) and acks it; --on turns reporting on
 *                             through the same descriptor first; prints
 *                             "reports N bytes B ranges R seq S"
 *   balloon_test churn MIB ROUNDS       maps, fills, checks and unmaps MIB MiB, ROUNDS
 *                                      times a second apart: free 2 MiB blocks to report
 *   balloon_test hold SECONDS           keeps the device open without reading
 *   balloon_test mixed BYTES            a reported batch read and left waiting, then an
 *                                      inflation of BYTES read and acked under a later
 *                                      seq: that ack must release the reported batch
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
#include <poll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../../../guest-tools/kmod/balloon/vireo_balloon.h"

#define DEV	   "/dev/vireo-balloon"
#define MAX_RANGES (1 << 20)
#define MAX_RAM	   64
#define SZ_2M	   (2ULL << 20)

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
	       " failures %" PRIu64 " oom_shrunk %" PRIu64 " reporting %" PRIu64
	       " reported %" PRIu64 " report_batches %" PRIu64 " report_timeouts %" PRIu64
	       " report_waiting %" PRIu64 "\n",
	       (uint64_t)s->target, (uint64_t)s->size, (uint64_t)s->blocks_2m,
	       (uint64_t)s->pages_4k, (uint64_t)s->unreported, (uint64_t)s->pending,
	       (uint64_t)s->acked, (uint64_t)s->shrunk, (uint64_t)s->alloc_failures,
	       (uint64_t)s->oom_shrunk, (uint64_t)s->reporting, (uint64_t)s->reported,
	       (uint64_t)s->report_batches, (uint64_t)s->report_timeouts,
	       (uint64_t)s->report_waiting);
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
		if (b->flags) {
			errno = 0;
			die("an inflation batch with flags (reporting is off)");
		}
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

static void set_reporting(int fd, uint32_t on)
{
	if (ioctl(fd, VIREO_BALLOON_SET_REPORTING, &on))
		die("VIREO_BALLOON_SET_REPORTING");
}

/* Waits up to @ms for a batch and reads it into @buf; 0 when none came. */
static ssize_t read_batch(int fd, void *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t got;

	if (poll(&p, 1, ms) < 0)
		die("poll");
	if (!(p.revents & POLLIN))
		return 0;
	got = read(fd, buf, len);
	if (got < 0 && errno == EAGAIN)
		return 0;
	if (got < 0)
		die("read");
	return got;
}

/* Checks one reported batch; returns its bytes. */
static uint64_t check_report(int fd, const void *buf, ssize_t got, const struct span *ram, int nram,
			     size_t *nranges)
{
	const struct vireo_balloon_batch *b = buf;
	const struct vireo_balloon_range *r = (const void *)(b + 1);
	struct vireo_balloon_status s;
	uint64_t bytes = 0;

	errno = 0;
	if ((size_t)got != sizeof(*b) + b->count * sizeof(*r) || !b->count)
		die("short or empty batch");
	if (!(b->flags & VIREO_BALLOON_BATCH_REPORTED))
		die("a batch without VIREO_BALLOON_BATCH_REPORTED");
	if (b->count > VIREO_BALLOON_REPORT_MAX)
		die("a reported batch with too many ranges");
	for (uint32_t i = 0; i < b->count; i++) {
		int inside = 0;

		if ((r[i].gpa | r[i].len) & (SZ_2M - 1) || !r[i].len) {
			fprintf(stderr, "range %#" PRIx64 "+%#" PRIx64 "\n", (uint64_t)r[i].gpa,
				(uint64_t)r[i].len);
			die("reported range not 2 MiB-aligned");
		}
		/* Sorted and merged: each starts past the end of the one before. */
		if (i && r[i].gpa <= r[i - 1].gpa + r[i - 1].len)
			die("reported ranges unsorted, overlapping or unmerged");
		for (int j = 0; j < nram; j++)
			inside |= r[i].gpa >= ram[j].start && r[i].gpa + r[i].len <= ram[j].end;
		if (!inside)
			die("reported range outside System RAM");
		bytes += r[i].len;
	}
	get_status(fd, &s);
	if (s.report_waiting != bytes) {
		fprintf(stderr, "report_waiting %" PRIu64 " batch %" PRIu64 "\n",
			(uint64_t)s.report_waiting, bytes);
		die("the status does not show the batch waiting");
	}
	*nranges += b->count;
	return bytes;
}

static int cmd_reports(int argc, char **argv)
{
	static unsigned char buf[65536];
	int on = 0, noack = 0, nram, fd;
	struct span ram[MAX_RAM];
	size_t n = 0, nranges = 0;
	uint64_t bytes = 0, seq = 0;
	double start, last, max_s, quiet_s;

	for (; argc && argv[0][0] == '-'; argc--, argv++) {
		on |= !strcmp(argv[0], "--on");
		noack |= !strcmp(argv[0], "--noack");
	}
	if (argc < 2)
		die("reports: MAX_S QUIET_S");
	max_s = atof(argv[0]);
	quiet_s = atof(argv[1]);
	nram = read_ram(ram);
	fd = open_dev(O_NONBLOCK);
	if (on)
		set_reporting(fd, 1);
	start = last = now();
	while (now() - start < max_s && now() - last < quiet_s) {
		ssize_t got = read_batch(fd, buf, sizeof(buf), 200);
		const struct vireo_balloon_batch *b = (const void *)buf;

		if (!got)
			continue;
		bytes += check_report(fd, buf, got, ram, nram, &nranges);
		if (b->seq <= seq) {
			errno = 0;
			die("batch sequence numbers go backwards");
		}
		seq = b->seq;
		n++;
		last = now();
		if (noack)
			break;
		if (ioctl(fd, VIREO_BALLOON_ACK, &seq))
			die("VIREO_BALLOON_ACK");
	}
	printf("reports %zu bytes %" PRIu64 " ranges %zu seq %" PRIu64 "\n", n, bytes, nranges,
	       seq);
	close(fd);
	return 0;
}

/* Maps, fills, checks and unmaps @mib MiB, @rounds times. */
static int cmd_churn(long mib, int rounds)
{
	size_t len = (size_t)mib << 20;

	for (int k = 0; k < rounds; k++) {
		uint64_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

		if (p == MAP_FAILED)
			die("mmap");
		for (size_t i = 0; i < len / 8; i += 512)
			p[i] = i * 0x9e3779b97f4a7c15ULL + k;
		for (size_t i = 0; i < len / 8; i += 512)
			if (p[i] != i * 0x9e3779b97f4a7c15ULL + k)
				die("memory does not read back");
		munmap(p, len);
		sleep(1);
	}
	printf("churned %ld x %d\n", mib, rounds);
	return 0;
}

/*
 * The ack rule with both kinds of batch: a reported batch read and left waiting, an
 * inflation read after it (a later seq); acking that seq must release both.
 */
static int cmd_mixed(uint64_t target)
{
	static unsigned char buf[65536];
	const struct vireo_balloon_batch *b = (const void *)buf;
	struct vireo_balloon_status s0, s;
	struct span ram[MAX_RAM];
	int fd = open_dev(O_NONBLOCK), nram = read_ram(ram);
	uint64_t rep_seq, rep_bytes, zero = 0;
	size_t nranges = 0;
	double start = now();
	ssize_t got = 0;

	get_status(fd, &s0);
	while (!got && now() - start < 30)
		got = read_batch(fd, buf, sizeof(buf), 200);
	if (!got) {
		errno = 0;
		die("mixed: no reported batch within 30 s");
	}
	rep_bytes = check_report(fd, buf, got, ram, nram, &nranges);
	rep_seq = b->seq;
	if (ioctl(fd, VIREO_BALLOON_SET_TARGET, &target))
		die("VIREO_BALLOON_SET_TARGET");
	for (start = now(); now() - start < 30; usleep(20000)) {
		get_status(fd, &s);
		if (s.size == target)
			break;
	}
	errno = 0;
	if (s.size != target)
		die("mixed: the inflation did not get there");
	got = read_batch(fd, buf, sizeof(buf), 1000);
	if (!got || b->flags || b->seq <= rep_seq)
		die("mixed: no inflation batch after the reported one");
	get_status(fd, &s);
	if (s.report_waiting != rep_bytes)
		die("mixed: the reported batch stopped waiting on its own");
	if (ioctl(fd, VIREO_BALLOON_ACK, &b->seq))
		die("VIREO_BALLOON_ACK");
	for (start = now(); now() - start < 10; usleep(20000)) {
		get_status(fd, &s);
		if (!s.report_waiting)
			break;
	}
	errno = 0;
	if (s.report_waiting || s.report_batches != s0.report_batches + 1 ||
	    s.reported != s0.reported + rep_bytes)
		die("mixed: the later ack did not release the reported batch");
	if (s.acked != target)
		die("mixed: the inflation was not acked");
	if (ioctl(fd, VIREO_BALLOON_SET_TARGET, &zero))
		die("VIREO_BALLOON_SET_TARGET");
	printf("mixed ok: report seq %" PRIu64 " (%" PRIu64 " bytes), inflation seq %" PRIu64 "\n",
	       rep_seq, rep_bytes, (uint64_t)b->seq);
	close(fd);
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
	if (argc >= 3 && !strcmp(argv[1], "reporting")) {
		fd = open_dev(0);
		set_reporting(fd, !strcmp(argv[2], "on"));
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "reports"))
		return cmd_reports(argc - 2, argv + 2);
	if (argc >= 4 && !strcmp(argv[1], "churn"))
		return cmd_churn(atol(argv[2]), atoi(argv[3]));
	if (argc >= 3 && !strcmp(argv[1], "hold")) {
		fd = open_dev(0);
		sleep(atoi(argv[2]));
		close(fd);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "mixed"))
		return cmd_mixed(strtoull(argv[2], NULL, 0));
	if (argc >= 2 && !strcmp(argv[1], "status")) {
		fd = open_dev(0);
		get_status(fd, &s);
		print_status(&s);
		return 0;
	}
	fprintf(stderr, "usage: balloon_test target BYTES|read [ack]|ack SEQ|status|hog MIB|"
			"reporting on|off|reports [--on] [--noack] MAX_S QUIET_S|churn MIB ROUNDS|"
			"hold S|mixed BYTES\n");
	return 2;
}
