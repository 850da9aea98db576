// SPDX-License-Identifier: MIT
/* vq_iov_*: reads, writes and slices across pieces, at offsets, and past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "virtqueue/iov.h"

/* "abc" "defgh" "" "ij": ten bytes in four pieces, one of them empty. */
static char a[3], b[5], c[1], d[2];
static struct iovec list[4];

static int setup(void **state)
{
	(void)state;
	memcpy(a, "abc", 3);
	memcpy(b, "defgh", 5);
	memcpy(d, "ij", 2);
	list[0] = (struct iovec){ a, 3 };
	list[1] = (struct iovec){ b, 5 };
	list[2] = (struct iovec){ c, 0 };
	list[3] = (struct iovec){ d, 2 };
	return 0;
}

static void test_read(void **state)
{
	char out[11] = "";

	(void)state;
	assert_true(vq_iov_read(list, 4, 0, out, 10));
	assert_memory_equal(out, "abcdefghij", 10);
	memset(out, 0, sizeof(out));
	assert_true(vq_iov_read(list, 4, 2, out, 7)); /* across three pieces */
	assert_memory_equal(out, "cdefghi", 7);
	assert_true(vq_iov_read(list, 4, 10, out, 0));
	assert_false(vq_iov_read(list, 4, 8, out, 3)); /* one byte short */
	assert_memory_equal(out, "ij", 2);
	assert_false(vq_iov_read(list, 4, 11, out, 1));
	assert_false(vq_iov_read(list, 0, 0, out, 1));
}

static void test_write(void **state)
{
	char out[11] = "";

	(void)state;
	assert_int_equal(vq_iov_write(list, 4, 1, "XYZW", 4), 4);
	assert_true(vq_iov_read(list, 4, 0, out, 10));
	assert_memory_equal(out, "aXYZWfghij", 10);
	assert_int_equal(vq_iov_write(list, 4, 7, "1234", 4), 3); /* the list ends */
	assert_true(vq_iov_read(list, 4, 0, out, 10));
	assert_memory_equal(out, "aXYZWfg123", 10);
}

static void test_slice(void **state)
{
	struct iovec s[4];

	(void)state;
	assert_int_equal(vq_iov_slice(list, 4, 2, 7, s, 4), 3);
	assert_ptr_equal(s[0].iov_base, a + 2);
	assert_int_equal(s[0].iov_len, 1);
	assert_ptr_equal(s[1].iov_base, b);
	assert_int_equal(s[1].iov_len, 5);
	assert_ptr_equal(s[2].iov_base, d);
	assert_int_equal(s[2].iov_len, 1);
	assert_int_equal(vq_iov_slice(list, 4, 2, 7, s, 2), 2); /* cut at the cap */
	assert_int_equal(vq_iov_slice(list, 4, 10, 5, s, 4), 0);
	assert_int_equal(vq_iov_slice(list, 4, 0, 0, s, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_read, setup),
		cmocka_unit_test_setup(test_write, setup),
		cmocka_unit_test_setup(test_slice, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
