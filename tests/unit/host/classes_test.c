// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/lib/{blk,net,sensor}.c: the instance handles' accessors, the
 * net notifications reaching whatever the core bound (and nothing when it bound
 * nothing), and vireo_blk_complete()'s refusal of pointers that are not core requests.
 */
#define VIREO_ALLOW_EXPERIMENTAL 1

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "capture.h"

struct fake_core {
	unsigned int rx[4];
	unsigned int tx[4];
	unsigned int link;
};

static void fake_rx_ready(void *core, unsigned int queue)
{
	((struct fake_core *)core)->rx[queue]++;
}

static void fake_tx_ready(void *core, unsigned int queue)
{
	((struct fake_core *)core)->tx[queue]++;
}

static void fake_link_changed(void *core)
{
	((struct fake_core *)core)->link++;
}

static void test_net_handle(void **state)
{
	struct fake_core core = { 0 };
	struct vireo_net net = { .id = "net0" };
	int priv;

	(void)state;
	assert_string_equal(vireo_net_id(&net), "net0");
	assert_null(vireo_net_priv(&net));
	vireo_net_set_priv(&net, &priv);
	assert_ptr_equal(vireo_net_priv(&net), &priv);

	/* Nothing bound yet: notifications are dropped, not crashed on. */
	vireo_net_rx_ready(&net, 0);
	vireo_net_tx_ready(&net, 0);
	vireo_net_link_changed(&net);

	net.core = &core;
	net.rx_ready = fake_rx_ready;
	net.tx_ready = fake_tx_ready;
	net.link_changed = fake_link_changed;
	vireo_net_rx_ready(&net, 1);
	vireo_net_rx_ready(&net, 1);
	vireo_net_tx_ready(&net, 3);
	vireo_net_link_changed(&net);
	assert_int_equal(core.rx[1], 2);
	assert_int_equal(core.rx[0], 0);
	assert_int_equal(core.tx[3], 1);
	assert_int_equal(core.link, 1);

	/* NULL handles are tolerated everywhere. */
	vireo_net_rx_ready(NULL, 0);
	vireo_net_tx_ready(NULL, 0);
	vireo_net_link_changed(NULL);
	vireo_net_set_priv(NULL, &priv);
	assert_null(vireo_net_priv(NULL));
	assert_string_equal(vireo_net_id(NULL), "?");
}

static void test_sensor_and_blk_handles(void **state)
{
	struct vireo_sensor sensor = { .id = "temp0" };
	struct vireo_blk blk = { .magic = VIREO_CORE_BLK_MAGIC, .id = "disk0" };
	int priv;

	(void)state;
	assert_string_equal(vireo_sensor_id(&sensor), "temp0");
	vireo_sensor_set_priv(&sensor, &priv);
	assert_ptr_equal(vireo_sensor_priv(&sensor), &priv);
	assert_null(vireo_sensor_priv(NULL));
	assert_string_equal(vireo_sensor_id(NULL), "?");

	assert_string_equal(vireo_blk_id(&blk), "disk0");
	vireo_blk_set_priv(&blk, &priv);
	assert_ptr_equal(vireo_blk_priv(&blk), &priv);
	assert_null(vireo_blk_priv(NULL));
	assert_string_equal(vireo_blk_id(NULL), "?");
}

static int g_completions;

static void count_completion(struct vireo_core_blk_req *req, int status)
{
	(void)req;
	(void)status;
	g_completions++;
}

static void test_blk_complete_checks(void **state)
{
	struct vireo_core_blk_req creq = { .magic = VIREO_CORE_BLK_REQ_MAGIC,
					   .complete = count_completion };
	struct vireo_core_blk_req fake = { .magic = 0xdeadbeef, .complete = count_completion };

	(void)state;
	cap_start();
	atomic_store(&creq.state, VIREO_CORE_REQ_SUBMITTED);
	vireo_blk_complete(&creq.pub, 0);
	assert_int_equal(g_completions, 1);
	assert_int_equal(atomic_load(&creq.state), VIREO_CORE_REQ_COMPLETED);
	/* Again, on a foreign pointer, on NULL: each logged once, none delivered. */
	vireo_blk_complete(&creq.pub, 0);
	atomic_store(&fake.state, VIREO_CORE_REQ_SUBMITTED);
	vireo_blk_complete(&fake.pub, 0);
	vireo_blk_complete(NULL, 0);
	assert_int_equal(g_completions, 1);
	assert_int_equal(cap_count(VIREO_LOG_ERR), 3);
	assert_non_null(cap_find(VIREO_LOG_ERR, "which is not a core request"));
	/* A positive status is a driver bug, reported as -EIO. */
	atomic_store(&creq.state, VIREO_CORE_REQ_SUBMITTED);
	vireo_blk_complete(&creq.pub, 5);
	assert_int_equal(g_completions, 2);
	assert_non_null(cap_find(VIREO_LOG_ERR, "status 5, not 0 or -errno"));
	cap_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_handle),
		cmocka_unit_test(test_sensor_and_blk_handles),
		cmocka_unit_test(test_blk_complete_checks),
	};

	return cmocka_run_group_tests_name("host/classes", tests, NULL, NULL);
}
