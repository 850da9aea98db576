// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/vsock/proto.c: every header rule of a guest packet, the
 * credit arithmetic at its edges (wrap-around, a peer claiming more in flight than
 * its buffer), and the host side's CONNECT line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "vsock/proto.h"

#define CID 5

static struct virtio_vsock_hdr good(uint16_t op, uint32_t len)
{
	return (struct virtio_vsock_hdr){ .src_cid = CID,
					  .dst_cid = VSOCK_CID_HOST,
					  .src_port = 1000,
					  .dst_port = 2000,
					  .len = len,
					  .type = VIRTIO_VSOCK_TYPE_STREAM,
					  .op = op,
					  .buf_alloc = 4096 };
}

static void test_hdr_rules(void **state)
{
	struct virtio_vsock_hdr h;

	(void)state;
	for (uint16_t op = VIRTIO_VSOCK_OP_REQUEST; op <= VIRTIO_VSOCK_OP_CREDIT_REQUEST; op++) {
		h = good(op, 0);
		assert_int_equal(vsock_hdr_check(&h, 0, CID), VSOCK_REFUSE_MAX);
	}
	h = good(VIRTIO_VSOCK_OP_RW, 100);
	assert_int_equal(vsock_hdr_check(&h, 100, CID), VSOCK_REFUSE_MAX);
	assert_int_equal(vsock_hdr_check(&h, 200, CID), VSOCK_REFUSE_MAX); /* slack after */
	assert_int_equal(vsock_hdr_check(&h, 99, CID), VSOCK_REFUSE_LEN);
	h = good(VIRTIO_VSOCK_OP_RW, VSOCK_MAX_PKT + 1);
	assert_int_equal(vsock_hdr_check(&h, UINT32_MAX, CID), VSOCK_REFUSE_OVERSIZE);
	h = good(VIRTIO_VSOCK_OP_RW, UINT32_MAX);
	assert_int_equal(vsock_hdr_check(&h, UINT32_MAX, CID), VSOCK_REFUSE_OVERSIZE);
	h = good(VIRTIO_VSOCK_OP_REQUEST, 1); /* payload on a control op */
	assert_int_equal(vsock_hdr_check(&h, 1, CID), VSOCK_REFUSE_LEN);
	h = good(VIRTIO_VSOCK_OP_RW, 0);
	h.src_cid = CID + 1; /* spoofing another guest */
	assert_int_equal(vsock_hdr_check(&h, 0, CID), VSOCK_REFUSE_SRC_CID);
	h.src_cid = CID | (1ull << 32); /* the upper half counts too */
	assert_int_equal(vsock_hdr_check(&h, 0, CID), VSOCK_REFUSE_SRC_CID);
	h = good(VIRTIO_VSOCK_OP_RW, 0);
	h.dst_cid = CID; /* itself, or another guest */
	assert_int_equal(vsock_hdr_check(&h, 0, CID), VSOCK_REFUSE_DST_CID);
	h = good(VIRTIO_VSOCK_OP_RW, 0);
	h.type = VIRTIO_VSOCK_TYPE_SEQPACKET; /* not offered */
	assert_int_equal(vsock_hdr_check(&h, 0, CID), VSOCK_REFUSE_TYPE);
	h.type = 0;
	assert_int_equal(vsock_hdr_check(&h, 0, CID), VSOCK_REFUSE_TYPE);
	h = good(VIRTIO_VSOCK_OP_INVALID, 0);
	assert_int_equal(vsock_hdr_check(&h, 0, CID), VSOCK_REFUSE_OP);
	h = good(8, 0);
	assert_int_equal(vsock_hdr_check(&h, 0, CID), VSOCK_REFUSE_OP);
	h = good(0xffff, 0);
	assert_int_equal(vsock_hdr_check(&h, 0, CID), VSOCK_REFUSE_OP);
}

static void test_answers(void **state)
{
	(void)state;
	/* Forged addresses and unreadable chains get no answer; an RST never does. */
	assert_false(vsock_refusal_answered(VSOCK_REFUSE_SRC_CID, VIRTIO_VSOCK_OP_RW));
	assert_false(vsock_refusal_answered(VSOCK_REFUSE_DST_CID, VIRTIO_VSOCK_OP_RW));
	assert_false(vsock_refusal_answered(VSOCK_REFUSE_TX_SHORT, VIRTIO_VSOCK_OP_RW));
	assert_false(vsock_refusal_answered(VSOCK_REFUSE_TYPE, VIRTIO_VSOCK_OP_RST));
	assert_true(vsock_refusal_answered(VSOCK_REFUSE_TYPE, VIRTIO_VSOCK_OP_REQUEST));
	assert_true(vsock_refusal_answered(VSOCK_REFUSE_CREDIT, VIRTIO_VSOCK_OP_RW));
	assert_true(vsock_refusal_answered(VSOCK_REFUSE_NO_CONN, VIRTIO_VSOCK_OP_RW));
	for (int i = 0; i < VSOCK_REFUSE_MAX; i++) {
		assert_string_not_equal(vsock_refusal_str(i), "?");
		assert_memory_equal(vsock_refusal_name(i), "refused_", 8);
	}
	assert_string_equal(vsock_refusal_str(VSOCK_REFUSE_MAX), "?");
	assert_string_equal(vsock_refusal_name(-1), "?");
}

static void test_credit(void **state)
{
	(void)state;
	assert_int_equal(vsock_credit_free(4096, 0, 0), 4096);
	assert_int_equal(vsock_credit_free(4096, 0, 1000), 3096);
	assert_int_equal(vsock_credit_free(4096, 1000, 5096), 0);
	/* Counters wrap at 2^32: only the difference counts. */
	assert_int_equal(vsock_credit_free(4096, UINT32_MAX - 10, 100), 4096 - 111);
	/* A peer that shrank its buffer below what is in flight: nothing, not 4 GiB. */
	assert_int_equal(vsock_credit_free(100, 0, 1000), 0);
	/* A bogus fwd_cnt ahead of what was sent: in flight looks huge, so nothing. */
	assert_int_equal(vsock_credit_free(4096, 5000, 1000), 0);
	assert_int_equal(vsock_credit_free(0, 0, 0), 0);
}

static int parse(const char *s, uint32_t *port, size_t *used)
{
	return vsock_parse_connect(s, strlen(s), port, used);
}

static void test_connect_line(void **state)
{
	uint32_t port = 0;
	size_t used = 0;

	(void)state;
	assert_int_equal(parse("CONNECT 1234\n", &port, &used), 1);
	assert_int_equal(port, 1234);
	assert_int_equal(used, 13);
	assert_int_equal(parse("CONNECT 4294967295\nDATA", &port, &used), 1);
	assert_int_equal(port, UINT32_MAX);
	assert_int_equal(used, 19);
	assert_int_equal(parse("CONNECT 12", &port, &used), 0);
	assert_int_equal(parse("", &port, &used), 0);
	assert_int_equal(parse("CONNECT 4294967296\n", &port, &used), -1);
	assert_int_equal(parse("CONNECT \n", &port, &used), -1);
	assert_int_equal(parse("CONNECT -1\n", &port, &used), -1);
	assert_int_equal(parse("CONNECT 12 \n", &port, &used), -1);
	assert_int_equal(parse("connect 12\n", &port, &used), -1);
	assert_int_equal(parse("CONNECT 1\r\n", &port, &used), -1);
	assert_int_equal(parse("GET / HTTP/1.0\n", &port, &used), -1);
	/* No newline within the limit: refused, not waited for forever. */
	assert_int_equal(parse("CONNECT 000000000000000000000001", &port, &used), -1);
	assert_int_equal(parse("CONNECT 00000000000000001\n", &port, &used), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_rules),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_credit),
		cmocka_unit_test(test_connect_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
