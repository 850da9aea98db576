// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/lib/usb*.c without USB hardware: argument checks, and a
 * context's life on a real core loop (libusb's fds become watches and go again,
 * hotplug registration and removal, lookups that find nothing). Real devices are
 * driven by the integration test usb/usb-net (a lab guest with QEMU's xHCI).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <vireo/usb.h>

#include "lib/internal.h"

static struct vireo_loop *g_loop;

static int setup(void **state)
{
	(void)state;
	return vireo_core_loop_new(&g_loop);
}

static int teardown(void **state)
{
	(void)state;
	vireo_core_loop_free(g_loop);
	return 0;
}

static void test_new_args(void **state)
{
	struct vireo_usb *usb;

	(void)state;
	assert_int_equal(vireo_usb_new(NULL, &usb), -EINVAL);
	assert_int_equal(vireo_usb_new(g_loop, NULL), -EINVAL);
}

static void hp_cb(void *arg, int event, const struct vireo_usb_dev_info *info)
{
	int *calls = arg;

	(void)event;
	(void)info;
	(*calls)++;
}

static void test_context(void **state)
{
	struct vireo_usb_select sel = { .struct_size = sizeof(sel), .vid = 0xffff, .pid = 0xfffe };
	struct vireo_usb_hotplug *hp, *hp2;
	struct vireo_usb_dev *dev;
	struct vireo_usb *usb;
	int calls = 0;

	(void)state;
	assert_int_equal(vireo_usb_new(g_loop, &usb), 0);
	/* libusb's event fd (and timerfd) are loop watches now: events are handled there. */
	assert_true(vireo_core_loop_run_once(g_loop, 0) >= 0);

	/* Selections the API refuses, then one that matches nothing. */
	assert_int_equal(vireo_usb_open(usb, NULL, &dev), -EINVAL);
	sel.vid = 0;
	assert_int_equal(vireo_usb_open(usb, &sel, &dev), -EINVAL);
	sel.vid = 0xffff;
	sel.nports = VIREO_USB_PORTS_MAX + 1;
	assert_int_equal(vireo_usb_open(usb, &sel, &dev), -EINVAL);
	sel.nports = 0;
	sel.reserved0[3] = 1;
	assert_int_equal(vireo_usb_open(usb, &sel, &dev), -EINVAL);
	sel.reserved0[3] = 0;
	sel.struct_size = 8;
	assert_int_equal(vireo_usb_open(usb, &sel, &dev), -EINVAL);
	sel.struct_size = sizeof(sel);
	assert_int_equal(vireo_usb_open(usb, &sel, &dev), -ENOENT);
	sel.serial = "none";
	assert_int_equal(vireo_usb_open(usb, &sel, &dev), -ENOENT);
	assert_int_equal(vireo_usb_open_addr(usb, 255, 255, &dev), -ENOENT);

	/* Hotplug: bad filters, then registrations the context frees or we remove. */
	assert_int_equal(
		vireo_usb_hotplug_register(usb, 0x10000, VIREO_USB_ANY, 0, hp_cb, &calls, &hp),
		-EINVAL);
	assert_int_equal(vireo_usb_hotplug_register(usb, VIREO_USB_ANY, VIREO_USB_ANY, 0x80, hp_cb,
						    &calls, &hp),
			 -EINVAL);
	assert_int_equal(vireo_usb_hotplug_register(usb, 1, 2, 0, NULL, &calls, &hp), -EINVAL);
	assert_int_equal(vireo_usb_hotplug_register(usb, 0xffff, 0xfffe,
						    VIREO_USB_HOTPLUG_ENUMERATE, hp_cb, &calls,
						    &hp),
			 0);
	assert_int_equal(vireo_usb_hotplug_register(usb, VIREO_USB_ANY, VIREO_USB_ANY, 0, hp_cb,
						    &calls, &hp2),
			 0);
	vireo_core_loop_run_once(g_loop, 10);
	assert_int_equal(calls, 0); /* no such device to enumerate */
	vireo_usb_hotplug_remove(hp);
	vireo_usb_hotplug_remove(NULL);
	/* hp2 goes with the context; ASan's leak check sees that nothing stays behind. */
	vireo_usb_free(usb);
	vireo_usb_free(NULL);
	vireo_usb_close(NULL);
	vireo_usb_xfer_free(NULL);
	/* Every watch and timer of the context is gone with it. */
	assert_int_equal(vireo_core_loop_run_once(g_loop, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_args),
		cmocka_unit_test(test_context),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
