// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/host/{loader,validate,image}.c: every deliberately broken
 * driver in bad_driver.c is refused with its exact reason, errno and one log line
 * naming it, and the core carries on; good drivers load, are listed with their
 * versions, are found by name, alias, PCI and USB ids, and have only the declared
 * prefix of their ops table read. Driver modules come from $VIREO_TEST_MODDIR and
 * $VIREO_TEST_BLK_RAM (set by meson).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "host/blkdev.h"
#include "host/loader.h"

static const char *g_moddir;
static const char *g_blk_ram;

static void mod_path(char *buf, size_t len, const char *module)
{
	snprintf(buf, len, "%s/%s.so", g_moddir, module);
}

struct bad_case {
	const char *module;
	enum host_refusal reason;
	int err;
	const char *detail; /* must appear in the line */
	const char *name;   /* the driver's name, when the line can name it; else NULL */
};

static const struct bad_case bad_cases[] = {
	{ "bad_major", HOST_REFUSE_ABI_MAJOR, -ENOTSUP,
	  "built for ABI 2.1; this core has ABI 1.1 and loads major 1 only", "bad_major" },
	{ "bad_minor", HOST_REFUSE_ABI_MINOR, -ENOTSUP,
	  "built for ABI 1.99; this core has ABI 1.1 and loads minors up to 1", "bad_minor" },
	{ "bad_desc_size", HOST_REFUSE_DESC_SIZE, -EINVAL,
	  "descriptor struct_size is 16; this core needs at least 72", NULL },
	{ "bad_magic", HOST_REFUSE_BAD_MAGIC, -ENOEXEC,
	  "starts with magic 0x12345678; a descriptor has 0x5649524f", NULL },
	{ "no_descriptor", HOST_REFUSE_NO_DESCRIPTOR, -ENOEXEC,
	  "exports no 'vireo_driver_descriptor' symbol", NULL },
	{ "no_name", HOST_REFUSE_NAME, -EINVAL, "descriptor name is NULL", NULL },
	{ "bad_name", HOST_REFUSE_NAME, -EINVAL,
	  "descriptor name 'bad name!' is not 1-31 of [A-Za-z0-9_.-]", NULL },
	{ "wild_name", HOST_REFUSE_NAME, -EINVAL, "name is outside the driver's image", NULL },
	{ "no_version", HOST_REFUSE_STRINGS, -EINVAL, "descriptor has no version", "no_version" },
	{ "bad_class", HOST_REFUSE_CLASS, -EINVAL,
	  "class 42; this core knows net (1), blk (2), sensor (3)", "bad_class" },
	{ "no_ops", HOST_REFUSE_NO_OPS, -EINVAL, "descriptor has no blk ops table", "no_ops" },
	{ "tiny_ops", HOST_REFUSE_OPS_SIZE, -EINVAL,
	  "blk ops struct_size is 8; this core needs at least 32 (through 'submit')", "tiny_ops" },
	{ "no_submit", HOST_REFUSE_OP_MISSING, -EINVAL,
	  "blk op 'submit' is NULL; this core requires open, get_geometry, submit", "no_submit" },
	{ "ops_reserved", HOST_REFUSE_OPS_INVALID, -EINVAL, "blk ops reserved0 is 0x1",
	  "ops_reserved" },
	{ "wild_op", HOST_REFUSE_OPS_INVALID, -EINVAL,
	  "blk op 'close' points outside the driver's code", "wild_op" },
	{ "unterminated_match", HOST_REFUSE_MATCH_TABLE, -EINVAL,
	  "match table entry 2 has struct_size 1515870810 but entry 0 has 40 (no { 0 } sentinel?)",
	  "unterminated_match" },
	{ "oversized_match", HOST_REFUSE_MATCH_TABLE, -EINVAL,
	  "match table has no { 0 } sentinel within 256 entries", "oversized_match" },
	{ "wild_match", HOST_REFUSE_MATCH_TABLE, -EINVAL,
	  "match table entry 0 lies outside the driver's image", "wild_match" },
	{ "any_pci_match", HOST_REFUSE_MATCH_TABLE, -EINVAL,
	  "match entry 0 matches every PCI function", "any_pci_match" },
	{ "unterminated_params", HOST_REFUSE_PARAM_TABLE, -EINVAL,
	  "parameter table entry 1 has struct_size 1515870810 but entry 0 has 40",
	  "unterminated_params" },
	{ "dup_param", HOST_REFUSE_PARAM_TABLE, -EINVAL, "parameter 'size' is declared twice",
	  "dup_param" },
	{ "reserved_param", HOST_REFUSE_PARAM_TABLE, -EINVAL,
	  "parameter 'readonly' is a key the core reserves", "reserved_param" },
	{ "no_help", HOST_REFUSE_PARAM_TABLE, -EINVAL, "parameter 'verbose' needs help text",
	  "no_help" },
	{ "bad_default", HOST_REFUSE_PARAM_DEFAULT, -EINVAL,
	  "parameter 'block-size' (uint): default '12abc' is not a uint", "bad_default" },
	{ "bad_mac_default", HOST_REFUSE_PARAM_DEFAULT, -EINVAL,
	  "parameter 'mac' (mac): default '52:54:00:zz:00:01' is not a MAC address",
	  "bad_mac_default" },
	{ "unresolved", HOST_REFUSE_DLOPEN, -ENOEXEC, "undefined symbol: vireo_future_call", NULL },
	{ "bad_net_no_rx", HOST_REFUSE_OP_MISSING, -EINVAL,
	  "net op 'rx_burst' is NULL; this core requires open, get_info, tx_burst, rx_burst",
	  "test-net" },
	{ "bad_sensor_tiny", HOST_REFUSE_OPS_SIZE, -EINVAL,
	  "sensor ops struct_size is 16; this core needs at least 32 (through 'read')",
	  "test-sensor" },
};

#define NBAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

static int setup_registry(void **state)
{
	struct host_registry *reg;

	if (host_registry_new(&reg) < 0)
		return -1;
	cap_start();
	*state = reg;
	return 0;
}

static int teardown_registry(void **state)
{
	host_registry_free(*state);
	cap_stop();
	return 0;
}

/* The one refusal line: at ERR, tag "host", the verdict's, naming path and reason. */
static void assert_one_refusal_line(const struct host_verdict *v, const char *path)
{
	char reason[64];

	assert_int_equal(cap_count(VIREO_LOG_ERR), 1);
	assert_int_equal(g_cap.n, 1);
	assert_string_equal(g_cap.l[0].tag, "host");
	assert_string_equal(g_cap.l[0].text, v->line);
	assert_non_null(strstr(v->line, path));
	snprintf(reason, sizeof(reason), "refused, %s: ", host_refusal_name(v->reason));
	assert_non_null(strstr(v->line, reason));
}

static void test_refusal(void **state)
{
	const struct bad_case *c = *state;
	struct host_registry *reg = NULL;
	struct host_driver *drv = (struct host_driver *)&drv;
	struct host_verdict v;
	char path[PATH_MAX], named[96];
	int rc;

	assert_int_equal(setup_registry((void **)&reg), 0);
	assert_non_null(reg);
	mod_path(path, sizeof(path), c->module);
	rc = host_load(reg, path, &drv, &v);
	print_message("%s: %s\n", c->module, v.line);
	assert_int_equal(rc, c->err);
	assert_int_equal(v.reason, c->reason);
	assert_null(drv);
	assert_int_equal(host_driver_count(reg), 0);
	assert_one_refusal_line(&v, path);
	assert_non_null(strstr(v.line, c->detail));
	if (c->name) {
		snprintf(named, sizeof(named), "driver '%s' (", c->name);
		assert_non_null(strstr(v.line, named));
		assert_string_equal(v.name, c->name);
	} else {
		assert_null(strstr(v.line, "driver '"));
		assert_string_equal(v.name, "");
	}
	teardown_registry((void **)&reg);
}

static void test_file_refusals(void **state)
{
	struct host_registry *reg = *state;
	struct host_verdict v;
	char dir[] = "/tmp/vireo-host-XXXXXX", path[PATH_MAX];
	int fd;

	assert_int_equal(host_load(reg, "/nonexistent/driver.so", NULL, &v), -ENOENT);
	assert_int_equal(v.reason, HOST_REFUSE_FILE);
	assert_non_null(strstr(v.line, "cannot resolve the path"));
	assert_non_null(mkdtemp(dir));
	cap_clear();
	assert_int_equal(host_load(reg, dir, NULL, &v), -EINVAL);
	assert_int_equal(v.reason, HOST_REFUSE_FILE);
	assert_one_refusal_line(&v, dir);

	/* Not an ELF object at all. */
	snprintf(path, sizeof(path), "%s/text.so", dir);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a driver\n", 13), 13);
	close(fd);
	cap_clear();
	assert_int_equal(host_load(reg, path, NULL, &v), -ENOEXEC);
	assert_int_equal(v.reason, HOST_REFUSE_DLOPEN);
	assert_one_refusal_line(&v, path);
	assert_int_equal(host_driver_count(reg), 0);
	unlink(path);
	rmdir(dir);
}

static void test_load_blk_ram(void **state)
{
	struct host_registry *reg = *state;
	const struct host_checked *info;
	struct host_driver *drv;
	struct host_verdict v;

	assert_int_equal(host_load(reg, g_blk_ram, &drv, &v), 0);
	assert_int_equal(v.reason, HOST_OK);
	assert_non_null(drv);
	assert_int_equal(host_driver_count(reg), 1);
	assert_ptr_equal(host_driver_at(reg, 0), drv);
	assert_null(host_driver_at(reg, 1));
	assert_string_equal(host_driver_name(drv), "blk-ram");
	assert_string_equal(host_driver_version(drv), "1.0.0");
	info = host_driver_info(drv);
	assert_int_equal(info->desc.dev_class, VIREO_CLASS_BLK);
	assert_int_equal(info->desc.abi_major, VIREO_ABI_MAJOR);
	assert_int_equal(info->desc.abi_minor, VIREO_ABI_MINOR);
	assert_string_equal(info->desc.license, "MIT");
	assert_int_equal(info->nparams, 5);
	assert_string_equal(info->params[0].name, "size");
	assert_string_equal(info->params[4].name, "volatile-cache");
	assert_int_equal(info->nmatch, 1);
	assert_int_equal(info->match[0].type, VIREO_MATCH_NAME);
	assert_non_null(info->ops.blk.close);
	assert_null(info->ops.blk.queue_start);
	/* One INFO line, no refusal. */
	assert_int_equal(cap_count(VIREO_LOG_ERR), 0);
	assert_non_null(cap_find(VIREO_LOG_INFO, "driver 'blk-ram' 1.0.0 (blk, ABI 1.1, MIT)"));
}

static void test_duplicate_refused(void **state)
{
	struct host_registry *reg = *state;
	struct host_driver *drv, *again;
	struct host_verdict v;
	char path[PATH_MAX];

	assert_int_equal(host_load(reg, g_blk_ram, &drv, NULL), 0);
	cap_clear();
	/* The same file again, then another file whose driver has the same name. */
	assert_int_equal(host_load(reg, g_blk_ram, &again, &v), -EEXIST);
	assert_int_equal(v.reason, HOST_REFUSE_DUPLICATE);
	assert_null(again);
	assert_one_refusal_line(&v, g_blk_ram);
	mod_path(path, sizeof(path), "good_dup");
	cap_clear();
	assert_int_equal(host_load(reg, path, &again, &v), -EEXIST);
	assert_int_equal(v.reason, HOST_REFUSE_DUPLICATE);
	assert_non_null(strstr(v.line, "driver 'blk-ram' ("));
	assert_non_null(strstr(v.line, "already loaded from"));
	assert_one_refusal_line(&v, path);
	assert_int_equal(host_driver_count(reg), 1);
	assert_ptr_equal(host_find_by_name(reg, "blk-ram"), drv);
	assert_string_equal(host_driver_version(drv), "1.0.0");
}

static void blk_done_count(struct host_blk_io *io, int status)
{
	assert_int_equal(status, 0);
	(*(int *)io->ctx)++;
}

/* Only the declared prefix of the ops table is read: the poison beyond it is never seen. */
static void test_prefix_ops(void **state)
{
	struct host_registry *reg = *state;
	const struct host_checked *info;
	struct host_driver *drv;
	struct host_blk *hb;
	uint8_t out[512], in[512];
	struct iovec iov = { out, sizeof(out) };
	struct host_blk_io io = { 0 };
	char path[PATH_MAX], err[256];
	int done = 0;

	mod_path(path, sizeof(path), "good_prefix_ops");
	assert_int_equal(host_load(reg, path, &drv, NULL), 0);
	info = host_driver_info(drv);
	assert_non_null(info->ops.blk.submit);
	assert_int_equal(info->ops.blk.struct_size, offsetof(struct vireo_blk_ops, close));
	assert_null(info->ops.blk.close);
	assert_null(info->ops.blk.queue_start);
	assert_null(info->ops.blk.queue_stop);
	assert_null(info->ops.blk.get_stats);

	/* NULL optional ops take their defaults: no queue set-up, no close, no stats. */
	assert_int_equal(host_blk_open(drv, "p0", NULL, NULL, 0, 1, NULL, 0, &hb, err, sizeof(err)),
			 0);
	memset(out, 0xa5, sizeof(out));
	io = (struct host_blk_io){ .op = VIREO_BLK_OP_WRITE,
				   .iov = &iov,
				   .iovcnt = 1,
				   .length = sizeof(out),
				   .done = blk_done_count,
				   .ctx = &done };
	assert_int_equal(host_blk_submit(hb, &io), 0);
	iov.iov_base = in;
	io.op = VIREO_BLK_OP_READ;
	assert_int_equal(host_blk_submit(hb, &io), 0);
	assert_int_equal(done, 2);
	assert_memory_equal(in, out, sizeof(out));
	assert_int_equal(host_blk_stats(hb, &(struct vireo_blk_stats){ 0 }), -EOPNOTSUPP);
	assert_int_equal(host_unload(reg, drv), -EBUSY);
	assert_int_equal(host_blk_close(hb), 0);
	assert_int_equal(host_unload(reg, drv), 0);
	assert_int_equal(host_driver_count(reg), 0);
}

static void test_lookup(void **state)
{
	struct host_registry *reg = *state;
	struct host_driver *ram, *matcher;
	const struct vireo_match *m = NULL;
	char path[PATH_MAX];
	struct host_pci_id id;

	assert_int_equal(host_load(reg, g_blk_ram, &ram, NULL), 0);
	mod_path(path, sizeof(path), "good_matcher");
	assert_int_equal(host_load(reg, path, &matcher, NULL), 0);

	/* By name: the driver's own, then name-match aliases. */
	assert_ptr_equal(host_find_by_name(reg, "blk-ram"), ram);
	assert_ptr_equal(host_find_by_name(reg, "ramdisk"), ram);
	assert_ptr_equal(host_find_by_name(reg, "matcher"), matcher);
	assert_ptr_equal(host_find_by_name(reg, "test-alias"), matcher);
	assert_null(host_find_by_name(reg, "nope"));
	assert_null(host_find_by_name(reg, NULL));

	/* PCI: vendor/device with any subsystem. */
	id = (struct host_pci_id){ 0x1af4, 0x1042, 0x1af4, 0x1100, 0x010000 };
	assert_ptr_equal(host_find_by_pci(reg, &id, &m), matcher);
	assert_int_equal(m->driver_data, 1);
	/* PCI: subsystem must agree when the entry names one. */
	id = (struct host_pci_id){ 0x8086, 0x10d3, 0x8086, 0xa01f, 0x020000 };
	assert_ptr_equal(host_find_by_pci(reg, &id, &m), matcher);
	assert_int_equal(m->driver_data, 2);
	id.subdevice = 0x0000;
	assert_null(host_find_by_pci(reg, &id, NULL));
	/* PCI: class code under the mask, any vendor. */
	id = (struct host_pci_id){ 0x144d, 0xa808, 0x144d, 0xa801, 0x010802 };
	assert_ptr_equal(host_find_by_pci(reg, &id, &m), matcher);
	assert_int_equal(m->driver_data, 3);
	id.class_code = 0x010801;
	assert_null(host_find_by_pci(reg, &id, NULL));

	/* USB. */
	assert_ptr_equal(host_find_by_usb(reg, 0x0bda, 0x8153, &m), matcher);
	assert_int_equal(m->driver_data, 4);
	assert_null(host_find_by_usb(reg, 0x0bda, 0x8152, NULL));
}

static void link_module(const char *dir, const char *link, const char *target)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, link);
	assert_int_equal(symlink(target, path), 0);
}

static void test_load_dir_and_list(void **state)
{
	struct host_registry *reg = *state;
	char dir[] = "/tmp/vireo-drivers-XXXXXX", target[PATH_MAX], list[4096], line[PATH_MAX];
	const char *names[] = { "a-blk-ram.so",	  "b-matcher.so", "c-bad-major.so",
				"d-bad-class.so", ".hidden.so",	  "notes.txt" };
	unsigned int refused = 99;
	char *real;
	int n;

	assert_non_null(mkdtemp(dir));
	link_module(dir, names[0], g_blk_ram);
	mod_path(target, sizeof(target), "good_matcher");
	link_module(dir, names[1], target);
	mod_path(target, sizeof(target), "bad_major");
	link_module(dir, names[2], target);
	mod_path(target, sizeof(target), "bad_class");
	link_module(dir, names[3], target);
	mod_path(target, sizeof(target), "bad_minor");
	link_module(dir, names[4], target);
	link_module(dir, names[5], target);

	cap_clear();
	assert_int_equal(host_load_dir(reg, dir, &refused), 2);
	assert_int_equal(refused, 2);
	/* One line per refusal, none for the hidden file or the non-.so file. */
	assert_int_equal(cap_count(VIREO_LOG_ERR), 2);
	assert_non_null(cap_find(VIREO_LOG_ERR, "c-bad-major.so): refused, abi-major:"));
	assert_non_null(cap_find(VIREO_LOG_ERR, "driver 'bad_class' ("));
	assert_null(cap_find(VIREO_LOG_ERR, "bad_minor"));

	/* The list, in load order, with versions. */
	n = host_format_list(reg, list, sizeof(list));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(list));
	real = realpath(g_blk_ram, NULL);
	assert_non_null(real);
	snprintf(line, sizeof(line), "blk-ram 1.0.0 blk abi=1.1 MIT %s\n", real);
	free(real);
	assert_memory_equal(list, line, strlen(line));
	assert_non_null(strstr(list, "\nmatcher 2.3.4 blk abi=1.1 MIT OR Apache-2.0 /"));
	assert_int_equal(host_format_list(reg, list, 20), -ENOSPC);
	assert_string_equal(list, "");

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(target, sizeof(target), "%s/%s", dir, names[i]);
		unlink(target);
	}
	rmdir(dir);
	assert_int_equal(host_load_dir(reg, dir, &refused), -ENOENT);
	assert_int_equal(host_driver_count(reg), 2);
}

/* Net and sensor descriptors are checked like blk ones (their instances come later). */
static void test_net_and_sensor_classes(void **state)
{
	struct host_registry *reg = *state;
	struct host_driver *net, *sensor;
	const struct host_checked *info;
	char path[PATH_MAX], list[2048];
	struct host_blk *hb = NULL;
	char err[256];

	mod_path(path, sizeof(path), "good_net");
	assert_int_equal(host_load(reg, path, &net, NULL), 0);
	info = host_driver_info(net);
	assert_int_equal(info->desc.dev_class, VIREO_CLASS_NET);
	assert_non_null(info->ops.net.rx_burst);
	assert_null(info->ops.net.get_link);
	assert_ptr_equal(host_find_by_usb(reg, 0x0bda, 0x8153, NULL), net);

	mod_path(path, sizeof(path), "good_sensor");
	assert_int_equal(host_load(reg, path, &sensor, NULL), 0);
	info = host_driver_info(sensor);
	assert_int_equal(info->desc.dev_class, VIREO_CLASS_SENSOR);
	assert_non_null(info->ops.sensor.read);
	assert_null(info->ops.sensor.set_threshold);
	assert_int_equal(info->nparams, 2);

	assert_true(host_format_list(reg, list, sizeof(list)) > 0);
	assert_non_null(strstr(list, "test-net 0.9 net abi=1.1 MIT /"));
	assert_non_null(strstr(list, "test-sensor 0.9 sensor abi=1.1 MIT /"));
	/* Not block drivers: the blk host says so instead of calling the wrong ops. */
	assert_int_equal(host_blk_open(net, "n0", NULL, NULL, 0, 1, NULL, 0, &hb, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "driver 'test-net' is a net driver, not blk");
	assert_null(hb);
}

static void test_refusal_names(void **state)
{
	(void)state;
	for (int i = 0; i < HOST_REFUSE_MAX; i++) {
		assert_string_not_equal(host_refusal_name(i), "?");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(host_refusal_name(i), host_refusal_name(j));
		assert_true(i == HOST_OK ? host_refusal_errno(i) == 0 : host_refusal_errno(i) < 0);
	}
	assert_string_equal(host_refusal_name(HOST_REFUSE_MAX), "?");
	assert_string_equal(host_class_name(VIREO_CLASS_BLK), "blk");
	assert_string_equal(host_class_name(0), "?");
}

int main(void)
{
	struct CMUnitTest tests[NBAD + 8];
	size_t n = 0;

	g_moddir = getenv("VIREO_TEST_MODDIR");
	g_blk_ram = getenv("VIREO_TEST_BLK_RAM");
	if (!g_moddir || !g_blk_ram) {
		fprintf(stderr,
			"VIREO_TEST_MODDIR and VIREO_TEST_BLK_RAM must be set (meson does)\n");
		return 1;
	}
	for (size_t i = 0; i < NBAD; i++)
		tests[n++] = (struct CMUnitTest){ bad_cases[i].module, test_refusal, NULL, NULL,
						  (void *)&bad_cases[i] };
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
		test_file_refusals, setup_registry, teardown_registry);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
		test_load_blk_ram, setup_registry, teardown_registry);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
		test_duplicate_refused, setup_registry, teardown_registry);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
		test_prefix_ops, setup_registry, teardown_registry);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(test_lookup, setup_registry,
									teardown_registry);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
		test_load_dir_and_list, setup_registry, teardown_registry);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
		test_net_and_sensor_classes, setup_registry, teardown_registry);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_refusal_names);
	return _cmocka_run_group_tests("host/loader", tests, n, NULL, NULL);
}
