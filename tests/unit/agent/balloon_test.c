// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/agent/balloon.c against a real memfd: ranges punched (also
 * across two adjacent regions), checked as holes and counted; every refusal by its
 * reason with nothing punched (a bad range refuses its whole message); batches in
 * parts, out of order, cut short and reset; the reporting flag; no memory table; and
 * the memstats sample.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/balloon.h"
#include "vhost-user/dev.h"

#define PAGE   4096ull
#define NPAGES 32
#define A_GPA  0x100000ull	  /* region A: 8 pages at file page 0 */
#define B_GPA  (A_GPA + 8 * PAGE) /* region B: 8 pages at file page 8, touching A */
#define C_GPA  0x200000ull	  /* region C: 8 pages at file page 16, after a gap */
#define C_END  (C_GPA + 8 * PAGE)

struct fixture {
	int fd;
	bool no_table;
	struct agent_balloon *b;
	int ndone;
	struct json_object *last; /* the last balloon-done's args */
};

static int snapshot(void *arg, struct vu_mem_span *out, unsigned int cap)
{
	struct fixture *f = arg;
	const struct vu_mem_span spans[] = {
		{ A_GPA, 8 * PAGE, 0, -1 },
		{ B_GPA, 8 * PAGE, 8 * PAGE, -1 },
		{ C_GPA, 8 * PAGE, 16 * PAGE, -1 },
	};

	if (f->no_table)
		return 0;
	assert_true(cap >= 3);
	for (int i = 0; i < 3; i++) {
		out[i] = spans[i];
		out[i].fd = dup(f->fd);
	}
	return 3;
}

static void post(void *arg, const char *cmd, struct json_object *args)
{
	struct fixture *f = arg;

	assert_string_equal(cmd, "balloon-done");
	json_object_put(f->last);
	f->last = args;
	f->ndone++;
}

static int setup(void **state)
{
	static struct fixture f;
	uint8_t page[PAGE];

	memset(&f, 0, sizeof(f));
	f.fd = memfd_create("balloon-test", MFD_CLOEXEC);
	assert_true(f.fd >= 0);
	for (unsigned int i = 0; i < NPAGES; i++) {
		memset(page, 0x40 + (int)i, sizeof(page));
		assert_int_equal(pwrite(f.fd, page, PAGE, (off_t)(i * PAGE)), (ssize_t)PAGE);
	}
	f.b = agent_balloon_new("test", snapshot, &f, post, &f);
	assert_non_null(f.b);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	agent_balloon_free(f->b);
	json_object_put(f->last);
	close(f->fd);
	return 0;
}

static void event(struct fixture *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void event(struct fixture *f, const char *fmt, ...)
{
	char text[1024];
	struct json_object *ev;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ev = json_tokener_parse(text);
	assert_non_null(ev);
	assert_true(agent_balloon_event(f->b, "balloon-batch", ev));
	json_object_put(ev);
}

/* A one-part batch SEQ with RANGES (JSON text). */
static void batch(struct fixture *f, int seq, const char *ranges)
{
	event(f, "{\"seq\": %d, \"flags\": 0, \"part\": 0, \"parts\": 1, \"ranges\": %s}", seq,
	      ranges);
}

static bool page_is_hole(struct fixture *f, unsigned int page)
{
	off_t d = lseek(f->fd, (off_t)(page * PAGE), SEEK_DATA);

	return (d < 0 && errno == ENXIO) || (d >= 0 && (uint64_t)d >= (page + 1) * PAGE);
}

static uint64_t allocated(struct fixture *f)
{
	struct stat s;

	assert_int_equal(fstat(f->fd, &s), 0);
	return (uint64_t)s.st_blocks * 512;
}

static void expect_done(struct fixture *f, int seq, bool ok, const char *error_prefix)
{
	struct json_object *v;

	assert_non_null(f->last);
	assert_true(json_object_object_get_ex(f->last, "seq", &v));
	assert_int_equal(json_object_get_int64(v), seq);
	assert_true(json_object_object_get_ex(f->last, "ok", &v));
	assert_int_equal(json_object_get_boolean(v), ok);
	if (ok) {
		assert_false(json_object_object_get_ex(f->last, "error", NULL));
	} else {
		assert_true(json_object_object_get_ex(f->last, "error", &v));
		assert_memory_equal(json_object_get_string(v), error_prefix, strlen(error_prefix));
	}
}

static void test_punch(void **state)
{
	struct fixture *f = *state;
	struct agent_balloon_stats st;
	uint64_t before = allocated(f);
	uint8_t byte;
	char r[200];

	/* Pages 6..9 straddle A and B; one page of C. */
	snprintf(r, sizeof(r), "[[%llu, %llu], [%llu, %llu]]", A_GPA + 6 * PAGE, 4 * PAGE, C_GPA,
		 PAGE);
	batch(f, 1, r);
	assert_int_equal(f->ndone, 1);
	expect_done(f, 1, true, NULL);
	for (unsigned int p = 6; p < 10; p++)
		assert_true(page_is_hole(f, p));
	assert_true(page_is_hole(f, 16));
	assert_false(page_is_hole(f, 5));
	assert_false(page_is_hole(f, 10));
	assert_false(page_is_hole(f, 17));
	assert_int_equal(pread(f->fd, &byte, 1, (off_t)(5 * PAGE)), 1);
	assert_int_equal(byte, 0x45);
	assert_int_equal(pread(f->fd, &byte, 1, (off_t)(7 * PAGE)), 1);
	assert_int_equal(byte, 0); /* a hole reads as zeroes */
	assert_int_equal(allocated(f), before - 5 * PAGE);
	agent_balloon_get_stats(f->b, &st);
	assert_int_equal(st.batches, 1);
	assert_int_equal(st.batches_acked, 1);
	assert_int_equal(st.ranges, 2);
	assert_int_equal(st.bytes_punched, 5 * PAGE);
	assert_int_equal(st.bytes_released, 5 * PAGE);
	assert_int_equal(st.bytes_reported, 0);
	assert_int_equal(st.memfd_allocated, before - 5 * PAGE);

	/* Again: harmless (a batch re-sent after a reconnect). */
	batch(f, 2, r);
	expect_done(f, 2, true, NULL);
	agent_balloon_get_stats(f->b, &st);
	assert_int_equal(st.bytes_punched, 10 * PAGE);
	assert_int_equal(st.bytes_released, 5 * PAGE);
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *prefix;
		enum agent_balloon_refusal why;
		unsigned long long gpa, len;
		const char *raw; /* instead of [[gpa, len]] */
	} cases[] = {
		{ "foreign:", BALLOON_REFUSE_FOREIGN, B_GPA + 8 * PAGE, PAGE, NULL }, /* the gap */
		{ "foreign:", BALLOON_REFUSE_FOREIGN, C_END - PAGE, 2 * PAGE, NULL }, /* past C */
		{ "foreign:", BALLOON_REFUSE_FOREIGN, A_GPA - PAGE, 2 * PAGE, NULL }, /* before A */
		{ "foreign:", BALLOON_REFUSE_FOREIGN, A_GPA, 0x7ffffffffffff000ull, NULL },
		{ "foreign:", BALLOON_REFUSE_FOREIGN, 0x100000000000ull, PAGE, NULL },
		{ "unaligned:", BALLOON_REFUSE_UNALIGNED, A_GPA + 1, PAGE, NULL },
		{ "unaligned:", BALLOON_REFUSE_UNALIGNED, A_GPA, PAGE + 512, NULL },
		{ "wrap:", BALLOON_REFUSE_WRAP, UINT64_MAX - PAGE + 1, 2 * PAGE, NULL },
		{ "zero_length:", BALLOON_REFUSE_ZERO, A_GPA, 0, NULL },
		{ "malformed:", BALLOON_REFUSE_MALFORMED, 0, 0, "[[-4096, 4096]]" },
		{ "malformed:", BALLOON_REFUSE_MALFORMED, 0, 0, "[[1048576, 4096, 1]]" },
		{ "malformed:", BALLOON_REFUSE_MALFORMED, 0, 0, "[[1048576, \"4096\"]]" },
		{ "malformed:", BALLOON_REFUSE_MALFORMED, 0, 0, "[]" },
		{ "malformed:", BALLOON_REFUSE_MALFORMED, 0, 0, "{}" },
		{ "malformed:", BALLOON_REFUSE_MALFORMED, 0, 0, "[4096]" },
		/* One good range, then a bad one: the good one is not punched either. */
		{ "unaligned:", BALLOON_REFUSE_UNALIGNED, 0, 0,
		  "[[1048576, 4096], [1048577, 4096]]" },
	};
	struct agent_balloon_stats st;
	uint64_t before = allocated(f), refused[BALLOON_REFUSE_MAX] = { 0 };
	char r[200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].raw)
			snprintf(r, sizeof(r), "%s", cases[i].raw);
		else
			snprintf(r, sizeof(r), "[[%llu, %llu]]", cases[i].gpa, cases[i].len);
		batch(f, (int)i + 1, r);
		assert_int_equal(f->ndone, (int)i + 1);
		expect_done(f, (int)i + 1, false, cases[i].prefix);
		refused[cases[i].why]++;
	}
	agent_balloon_get_stats(f->b, &st);
	for (int i = 0; i < BALLOON_REFUSE_MAX; i++)
		assert_int_equal(st.refused[i], refused[i]);
	assert_int_equal(st.batches_nacked, sizeof(cases) / sizeof(cases[0]));
	assert_int_equal(st.bytes_punched, 0);
	assert_int_equal(allocated(f), before);
	for (unsigned int p = 0; p < NPAGES; p++)
		assert_false(page_is_hole(f, p));
}

static void test_parts(void **state)
{
	struct fixture *f = *state;
	struct agent_balloon_stats st;

	/* Two parts: one answer, after the last. */
	event(f, "{\"seq\": 5, \"part\": 0, \"parts\": 2, \"ranges\": [[%llu, %llu]]}", A_GPA,
	      PAGE);
	assert_int_equal(f->ndone, 0);
	event(f, "{\"seq\": 5, \"part\": 1, \"parts\": 2, \"ranges\": [[%llu, %llu]]}", C_GPA,
	      PAGE);
	assert_int_equal(f->ndone, 1);
	expect_done(f, 5, true, NULL);
	assert_true(page_is_hole(f, 0) && page_is_hole(f, 16));

	/* The last part first: refused. */
	event(f, "{\"seq\": 6, \"part\": 1, \"parts\": 2, \"ranges\": [[%llu, %llu]]}", A_GPA,
	      PAGE);
	assert_int_equal(f->ndone, 2);
	expect_done(f, 6, false, "malformed: parts out of order");

	/* Cut short by the next batch: the first is refused, the second goes through. */
	event(f, "{\"seq\": 7, \"part\": 0, \"parts\": 2, \"ranges\": [[%llu, %llu]]}",
	      A_GPA + PAGE, PAGE);
	event(f, "{\"seq\": 8, \"part\": 0, \"parts\": 1, \"ranges\": [[%llu, %llu]]}",
	      A_GPA + 2 * PAGE, PAGE);
	assert_int_equal(f->ndone, 4);
	expect_done(f, 8, true, NULL);

	/* The connection ends mid-batch: it is forgotten, and the re-sent batch is fine. */
	event(f, "{\"seq\": 9, \"part\": 0, \"parts\": 2, \"ranges\": [[%llu, %llu]]}",
	      A_GPA + 3 * PAGE, PAGE);
	agent_balloon_reset(f->b);
	event(f, "{\"seq\": 9, \"part\": 0, \"parts\": 2, \"ranges\": [[%llu, %llu]]}",
	      A_GPA + 3 * PAGE, PAGE);
	event(f, "{\"seq\": 9, \"part\": 1, \"parts\": 2, \"ranges\": [[%llu, %llu]]}",
	      A_GPA + 4 * PAGE, PAGE);
	assert_int_equal(f->ndone, 5);
	expect_done(f, 9, true, NULL);

	/* No usable header: nothing to answer, counted. */
	event(f, "{\"part\": 0, \"parts\": 1, \"ranges\": [[%llu, %llu]]}", A_GPA, PAGE);
	event(f, "{\"seq\": 10, \"part\": 2, \"parts\": 1, \"ranges\": []}");
	event(f, "{\"seq\": 11, \"flags\": -1, \"part\": 0, \"parts\": 1, \"ranges\": []}");
	event(f, "{\"seq\": 12, \"part\": 0, \"parts\": 65, \"ranges\": []}");
	assert_int_equal(f->ndone, 5);
	agent_balloon_get_stats(f->b, &st);
	assert_int_equal(st.refused[BALLOON_REFUSE_MALFORMED], 2 + 4);
	assert_int_equal(st.batches_acked, 3);
}

static void test_reported_and_no_table(void **state)
{
	struct fixture *f = *state;
	struct agent_balloon_stats st;

	event(f,
	      "{\"seq\": 1, \"flags\": 1, \"part\": 0, \"parts\": 1, \"ranges\": [[%llu, %llu]]}",
	      B_GPA, 2 * PAGE);
	expect_done(f, 1, true, NULL);
	f->no_table = true;
	batch(f, 2, "[[1048576, 4096]]");
	expect_done(f, 2, false, "no_memory_table:");
	agent_balloon_get_stats(f->b, &st);
	assert_int_equal(st.bytes_reported, 2 * PAGE);
	assert_int_equal(st.bytes_punched, 2 * PAGE);
	assert_int_equal(st.refused[BALLOON_REFUSE_NO_TABLE], 1);
	assert_false(page_is_hole(f, 0));
}

static void test_memstats(void **state)
{
	struct fixture *f = *state;
	struct agent_balloon_stats st;
	struct json_object *ev = json_tokener_parse(
		"{\"event\": \"memstats\", \"total\": 1000, \"free\": 200, \"available\": 300, "
		"\"cached\": 50, \"swap_in\": -5, \"swap_out\": \"x\", \"major_faults\": 7}");

	agent_balloon_get_stats(f->b, &st);
	assert_int_equal(st.stats_ns, 0);
	assert_true(agent_balloon_event(f->b, "memstats", ev));
	assert_false(agent_balloon_event(f->b, "heartbeat", ev));
	json_object_put(ev);
	agent_balloon_get_stats(f->b, &st);
	assert_true(st.stats_ns > 0);
	assert_int_equal(st.mem_total, 1000);
	assert_int_equal(st.mem_free, 200);
	assert_int_equal(st.mem_available, 300);
	assert_int_equal(st.mem_cached, 50);
	assert_int_equal(st.swap_in, 0); /* not a count: 0 */
	assert_int_equal(st.swap_out, 0);
	assert_int_equal(st.major_faults, 7);
	ev = agent_balloon_memstats_json(&st);
	assert_true(json_object_get_boolean(json_object_object_get(ev, "sampled")));
	json_object_put(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_punch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reported_and_no_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memstats, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
