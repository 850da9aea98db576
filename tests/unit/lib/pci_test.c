// SPDX-License-Identifier: MIT
/*
 * Unit tests of vmm-core/lib/pci.c that need no VFIO device: PCI address parsing and
 * the refusals of every call given a bad handle or argument. Opening, BARs, DMA and
 * interrupts are tested against a real (emulated) NVMe controller by
 * tests/integration/pci/.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include <vireo/driver.h>
#include <vireo/mem.h>
#include <vireo/pci.h>

static void test_bad_addresses(void **state)
{
	static const char *const bad[] = {
		"",
		"0",
		"00:00",
		"00:00.",
		"0000:00:00.0 ",
		"00:20.0",
		"00:1f.8",
		"0000:00:1g.0",
		"000:00:00.0",
		"0000.00:00.0",
		"+0:00.0",
		"0x0:00.0",
		"00:00:00.0",
		"00000:00:00.0",
		" 00:00.0",
		"0000:00:00:0",
		"00:1F.7\n",
	};
	struct vireo_pci_dev *dev = (void *)1;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("'%s'\n", bad[i]);
		assert_int_equal(vireo_pci_open(bad[i], &dev), -EINVAL);
	}
	assert_int_equal(vireo_pci_open(NULL, &dev), -EINVAL);
	assert_int_equal(vireo_pci_open("00:00.0", NULL), -EINVAL);
	assert_ptr_equal(dev, (void *)1);
}

static void test_absent_function(void **state)
{
	struct vireo_pci_dev *dev = NULL;

	(void)state;
	/* Well-formed, both spellings and upper case, but no such function. */
	assert_int_equal(vireo_pci_open("ffff:fe:1f.7", &dev), -ENODEV);
	assert_int_equal(vireo_pci_open("FFFF:FE:1F.7", &dev), -ENODEV);
	assert_null(dev);
}

static void test_null_handle(void **state)
{
	struct vireo_pci_bar_info info = { .struct_size = sizeof(info) };
	static const struct vireo_match table[] = { { VIREO_MATCH_PCI_DEVICE(0x1b36, 0x0010) },
						    { 0 } };
	struct vireo_dma_buf *buf;
	uint32_t v;
	void *va;

	(void)state;
	vireo_pci_close(NULL);
	assert_string_equal(vireo_pci_bdf(NULL), "?");
	assert_int_equal(vireo_pci_match(NULL, table, NULL), -EINVAL);
	assert_int_equal(vireo_pci_cfg_read(NULL, 0, 4, &v), -EINVAL);
	assert_int_equal(vireo_pci_cfg_write(NULL, 0, 4, 0), -EINVAL);
	assert_int_equal(vireo_pci_set_bus_master(NULL, true), -EINVAL);
	assert_int_equal(vireo_pci_bar_info(NULL, 0, &info), -EINVAL);
	assert_int_equal(vireo_pci_bar_map(NULL, 0, &va), -EINVAL);
	/* A bad register access reads as all ones, like an absent device, and a write is dropped.
	 */
	assert_int_equal(vireo_pci_read32(NULL, 0, 0), UINT32_MAX);
	assert_true(vireo_pci_read64(NULL, 0, 0) == UINT64_MAX);
	vireo_pci_write32(NULL, 0, 0, 1);
	vireo_pci_write64(NULL, 0, 0, 1);
	assert_int_equal(vireo_pci_irq_count(NULL, VIREO_PCI_IRQ_MSIX), -EINVAL);
	assert_int_equal(vireo_pci_irq_enable(NULL, VIREO_PCI_IRQ_MSIX, 1), -EINVAL);
	assert_int_equal(vireo_pci_irq_fd(NULL, 0), -EINVAL);
	assert_int_equal(vireo_pci_irq_disable(NULL), -EINVAL);
	assert_int_equal(vireo_pci_intx_unmask(NULL), -EINVAL);
	assert_int_equal(vireo_pci_reset(NULL), -EINVAL);
	assert_int_equal(vireo_dma_alloc(4096, VIREO_DMA_NO_HUGE, &buf), 0);
	assert_int_equal(vireo_pci_dma_map(NULL, buf, NULL), -EINVAL);
	assert_int_equal(vireo_pci_dma_unmap(NULL, buf), -EINVAL);
	vireo_dma_free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_absent_function),
		cmocka_unit_test(test_null_handle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
