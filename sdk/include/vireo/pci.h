/* SPDX-License-Identifier: MIT */
/**
 * @file
 * @brief Vireo SDK: PCI devices through VFIO, for drivers of real hardware (added in
 * ABI 1.1).
 *
 * Audience: authors of drivers for PCI functions (NVMe, AHCI, NICs). The device must be
 * bound to the kernel's `vfio-pci` driver, behind an IOMMU (VFIO's type1 back end), and
 * its IOMMU group must be *viable*: every function in the group bound to vfio-pci (or
 * to no driver). See ddk-docs/pci-and-dma.md for binding a device and for the lab
 * recipe that tests a driver against QEMU's emulated devices.
 *
 * How a driver gets its device: it declares a string parameter, by convention `pci`
 * (`--device blk,id=d0,driver=nvme,pci=0000:01:00.0,...`), reads it in its open op with
 * vireo_param_get_string(), passes it to vireo_pci_open(), and checks the function
 * against its own match table with vireo_pci_match():
 * @code
 * rc = vireo_pci_open(bdf, &pdev);
 * if (rc == 0)
 *         rc = vireo_pci_match(pdev, vireo_driver_descriptor.match, &hit);
 * @endcode
 *
 * What the library does for the driver: config space reads and writes; each BAR's size
 * and kind, and BARs mapped into the process at open (vireo_pci_bar_map()); bounds-
 * checked, ordered register accessors (vireo_pci_read32() and friends) that work on
 * mapped and unmapped BARs alike; DMA buffers (<vireo/mem.h>) mapped into the device's
 * IOVA space; interrupts (MSI-X, MSI or INTx) delivered as eventfds that the driver
 * watches on its loop (<vireo/loop.h>); function reset. Closing the device undoes all of
 * it.
 *
 * Limits of this version: one open device per IOMMU group per process (a second
 * vireo_pci_open() in an open group fails with -EBUSY); no I/O port BAR mapping (the
 * accessors still reach I/O BARs); no hot-unplug notification.
 *
 * Thread safety: config, register, DMA-map and query functions may be called from any
 * thread. vireo_pci_irq_enable(), vireo_pci_irq_disable(), vireo_pci_reset() and
 * vireo_pci_close() change the device's state: call them from one thread at a time,
 * and never concurrently with other calls on the same device.
 */
#ifndef VIREO_PCI_H
#define VIREO_PCI_H

#include <vireo/common.h>

VIREO_BEGIN_DECLS

/** A PCI function opened through VFIO (opaque; owned by the driver that opened it). */
struct vireo_pci_dev;
/** A DMA buffer (see <vireo/mem.h>). */
struct vireo_dma_buf;
/** A match table entry (see <vireo/driver.h>). */
struct vireo_match;

/** Most BARs a PCI function has (BAR0 to BAR5). */
#define VIREO_PCI_NUM_BARS 6

/** BAR flag: a memory BAR (else an I/O port BAR). */
#define VIREO_PCI_BAR_MEM (1u << 0)
/** BAR flag: a 64-bit memory BAR (it uses the next BAR's slot too). */
#define VIREO_PCI_BAR_64BIT (1u << 1)
/** BAR flag: a prefetchable memory BAR. */
#define VIREO_PCI_BAR_PREFETCH (1u << 2)
/** BAR flag: mapped into the process; vireo_pci_bar_map() gives its address. */
#define VIREO_PCI_BAR_MAPPED (1u << 3)
/**
 * BAR flag: only parts of the BAR are mapped (VFIO keeps, say, an MSI-X table from user
 * space on some kernels); the rest faults through the pointer, but the register
 * accessors reach it.
 */
#define VIREO_PCI_BAR_SPARSE (1u << 4)

/** What vireo_pci_bar_info() tells about one BAR. */
struct vireo_pci_bar_info {
	uint32_t struct_size; /**< set by the caller to sizeof(struct vireo_pci_bar_info);
				   the core fills in no more than that */
	uint32_t flags;	      /**< VIREO_PCI_BAR_* bits */
	uint64_t size;	      /**< bytes; 0 if the BAR is not implemented */
};
VIREO_ABI_SIZE(struct vireo_pci_bar_info, 16);

/** Interrupt kinds a PCI function may offer. Zero is not a kind. */
enum vireo_pci_irq_type {
	VIREO_PCI_IRQ_INTX = 1, /**< the legacy pin: one vector, level-triggered */
	VIREO_PCI_IRQ_MSI = 2,	/**< MSI: up to 32 vectors */
	VIREO_PCI_IRQ_MSIX = 3, /**< MSI-X: up to 2048 vectors */
};

/**
 * @brief Open a PCI function bound to vfio-pci.
 *
 * Opens the function's IOMMU group and a VFIO container of its own (type1 IOMMU), gets
 * the device, reads its regions and maps every BAR that VFIO lets user space map. Each
 * refusal logs one line that names the function and the reason, e.g. "0000:00:03.0 is
 * bound to nvme, not vfio-pci".
 *
 * @param bdf the function's address, `DDDD:BB:DD.F` or `BB:DD.F` (domain 0), in hex.
 * @param out the opened device; close it with vireo_pci_close().
 *
 * @return 0 on success.
 * @return -EINVAL if an argument is NULL or @p bdf is not a PCI address.
 * @return -ENODEV if there is no PCI function at @p bdf.
 * @return -ENXIO if the function is not bound to vfio-pci.
 * @return -ENOENT if the function has no IOMMU group or its /dev/vfio node is missing
 *         (no IOMMU, or the vfio modules are not loaded).
 * @return -EACCES if this process may not open /dev/vfio/vfio or the group's node.
 * @return -EBUSY if the group is already open (by another process, or by this one).
 * @return -EPERM if the group is not viable: another function of the group is bound to
 *         a host driver.
 * @return -EOPNOTSUPP if the kernel's VFIO has no type1 IOMMU or another API version.
 * @return -ENOMEM, or another negative errno from the VFIO ioctls.
 *
 * Context: any thread; may sleep. Typically the driver's open op.
 */
VIREO_API int vireo_pci_open(const char *bdf, struct vireo_pci_dev **out);

/**
 * @brief Close a device. NULL is ignored.
 *
 * Disables its interrupts (closing their eventfds: remove their loop watches first),
 * unmaps its BARs, unmaps every DMA buffer still mapped for it (the buffers stay
 * allocated, unmapped) and releases the group, so that another process may open it.
 * Does not reset the function: call vireo_pci_reset() first to quiesce it.
 *
 * @param dev the device; invalid afterwards.
 *
 * Context: any thread; may sleep. Not concurrently with other calls on @p dev.
 */
VIREO_API void vireo_pci_close(struct vireo_pci_dev *dev);

/**
 * @brief The device's address in canonical form, for log lines.
 *
 * @param dev the device.
 *
 * @return e.g. "0000:00:03.0", valid until vireo_pci_close(); "?" if @p dev is NULL.
 *
 * Context: any thread.
 */
VIREO_API const char *vireo_pci_bdf(const struct vireo_pci_dev *dev);

/**
 * @brief Check the device against a match table: its vendor, device, subsystem ids and
 * class code, with the rules the core uses to bind drivers.
 *
 * @param dev the device.
 * @param table a `{ 0 }`-terminated match table, typically the driver's own
 *        (`vireo_driver_descriptor.match`); entries of other kinds are skipped.
 * @param entry where to store the first entry that matches (its driver_data is the
 *        driver's), or NULL.
 *
 * @return 0 if an entry matches.
 * @return -ENODEV if none does (logged with the device's ids).
 * @return -EINVAL if @p dev or @p table is NULL.
 * @return a negative errno if config space cannot be read.
 *
 * Context: any thread.
 */
VIREO_API int vireo_pci_match(struct vireo_pci_dev *dev, const struct vireo_match *table,
			      const struct vireo_match **entry);

/**
 * @brief Read 1, 2 or 4 bytes of the device's config space (through VFIO, which
 * virtualises some registers, such as the BARs and MSI-X control).
 *
 * @param dev the device.
 * @param off the offset, aligned to @p width; below 4096.
 * @param width 1, 2 or 4.
 * @param val where to store the value, in host byte order.
 *
 * @return 0 on success.
 * @return -EINVAL if an argument is NULL, @p width is not 1, 2 or 4, or @p off is
 *         misaligned or out of the config space.
 * @return -EIO, or another negative errno, if the read fails.
 *
 * Context: any thread.
 */
VIREO_API int vireo_pci_cfg_read(struct vireo_pci_dev *dev, uint32_t off, unsigned int width,
				 uint32_t *val);

/**
 * @brief Write 1, 2 or 4 bytes of the device's config space.
 *
 * @param dev the device.
 * @param off the offset, aligned to @p width; below 4096.
 * @param width 1, 2 or 4.
 * @param val the value, in host byte order; for widths below 4 only the low bytes.
 *
 * @return 0 on success.
 * @return -EINVAL if @p dev is NULL, @p width is not 1, 2 or 4, or @p off is misaligned
 *         or out of the config space.
 * @return -EIO, or another negative errno, if the write fails.
 *
 * Context: any thread.
 */
VIREO_API int vireo_pci_cfg_write(struct vireo_pci_dev *dev, uint32_t off, unsigned int width,
				  uint32_t val);

/**
 * @brief Turn the device's bus mastering (its right to do DMA) on or off: the Bus
 * Master Enable bit of the command register. Needed before the first DMA; a
 * vireo_pci_reset() keeps it (config space is restored after the reset).
 *
 * @param dev the device.
 * @param on true to enable, false to disable.
 *
 * @return 0 on success, or a negative errno as vireo_pci_cfg_write().
 *
 * Context: any thread.
 */
VIREO_API int vireo_pci_set_bus_master(struct vireo_pci_dev *dev, bool on);

/**
 * @brief Tell a BAR's size and kind.
 *
 * @param dev the device.
 * @param bar 0 to VIREO_PCI_NUM_BARS - 1.
 * @param info set info->struct_size first; the rest is filled in (size 0 for a BAR the
 *        function does not implement, e.g. the upper half of a 64-bit BAR).
 *
 * @return 0 on success.
 * @return -EINVAL if an argument is NULL, @p bar is out of range, or info->struct_size
 *         is smaller than the ABI 1.1 struct (16 bytes).
 *
 * Context: any thread.
 */
VIREO_API int vireo_pci_bar_info(struct vireo_pci_dev *dev, unsigned int bar,
				 struct vireo_pci_bar_info *info);

/**
 * @brief The address of a memory BAR mapped into the process, for drivers that want
 * raw access (a controller memory buffer, a big register window). Most drivers use the
 * register accessors instead.
 *
 * The mapping is uncached device memory, made at vireo_pci_open() and valid until
 * vireo_pci_close(). Access it with volatile loads and stores of the width the device
 * expects, with the barriers your architecture needs; the accessors do both.
 *
 * @param dev the device.
 * @param bar 0 to VIREO_PCI_NUM_BARS - 1.
 * @param va where to store the BAR's start.
 *
 * @return 0 on success.
 * @return -EINVAL if an argument is NULL or @p bar is out of range.
 * @return -ENOENT if the function does not implement @p bar.
 * @return -EOPNOTSUPP if VFIO does not let user space map it (I/O port BARs, some
 *         ROM-like regions).
 *
 * Context: any thread.
 */
VIREO_API int vireo_pci_bar_map(struct vireo_pci_dev *dev, unsigned int bar, void **va);

/**
 * @brief Read a 32-bit little-endian device register.
 *
 * Bounds- and alignment-checked against the BAR. Goes through the BAR's mapping when
 * it covers the register, else through VFIO's read. Ordered like Linux's readl(): the
 * read completes before the caller's later loads from DMA memory.
 *
 * @param dev the device.
 * @param bar the BAR, 0 to VIREO_PCI_NUM_BARS - 1.
 * @param off the register's offset in the BAR, 4-byte aligned.
 *
 * @return the value in host byte order. On a bad argument or a failed read, all ones
 *         (0xffffffff, what a PCI read of an absent device gives), logged (rate-limited).
 *
 * Context: any thread.
 */
VIREO_API uint32_t vireo_pci_read32(struct vireo_pci_dev *dev, unsigned int bar, uint64_t off);

/**
 * @brief Write a 32-bit little-endian device register.
 *
 * Checked and routed as vireo_pci_read32(). Ordered like Linux's writel(): the
 * caller's earlier stores to DMA memory (a queue entry) are visible to the device
 * before the register write (the doorbell) reaches it.
 *
 * @param dev the device.
 * @param bar the BAR, 0 to VIREO_PCI_NUM_BARS - 1.
 * @param off the register's offset in the BAR, 4-byte aligned.
 * @param val the value, in host byte order.
 *
 * A bad argument or a failed write drops the write and logs (rate-limited).
 *
 * Context: any thread.
 */
VIREO_API void vireo_pci_write32(struct vireo_pci_dev *dev, unsigned int bar, uint64_t off,
				 uint32_t val);

/**
 * @brief Read a 64-bit little-endian device register in one access.
 *
 * As vireo_pci_read32(), for devices that accept 64-bit accesses (NVMe's CAP); a
 * device that does not needs two vireo_pci_read32() calls.
 *
 * @param dev the device.
 * @param bar the BAR, 0 to VIREO_PCI_NUM_BARS - 1.
 * @param off the register's offset in the BAR, 8-byte aligned.
 *
 * @return the value in host byte order, or all ones on a bad argument or failed read.
 *
 * Context: any thread.
 */
VIREO_API uint64_t vireo_pci_read64(struct vireo_pci_dev *dev, unsigned int bar, uint64_t off);

/**
 * @brief Write a 64-bit little-endian device register in one access.
 *
 * As vireo_pci_write32(), for devices that accept 64-bit accesses (NVMe's ASQ, ACQ).
 *
 * @param dev the device.
 * @param bar the BAR, 0 to VIREO_PCI_NUM_BARS - 1.
 * @param off the register's offset in the BAR, 8-byte aligned.
 * @param val the value, in host byte order.
 *
 * Context: any thread.
 */
VIREO_API void vireo_pci_write64(struct vireo_pci_dev *dev, unsigned int bar, uint64_t off,
				 uint64_t val);

/**
 * @brief Map a DMA buffer into the device's IOVA space, readable and writable by the
 * device.
 *
 * The library picks the IOVA: the lowest free range of the device's usable IOVA
 * ranges (as the IOMMU reports them), aligned to the buffer's page size. Mapping the
 * same buffer for several devices gives each its own IOVA.
 *
 * @param dev the device.
 * @param buf the buffer, from vireo_dma_alloc().
 * @param iova where to store the IOVA of the buffer's first byte (also given later by
 *        vireo_dma_iova()), or NULL.
 *
 * @return 0 on success.
 * @return -EINVAL if @p dev or @p buf is NULL.
 * @return -EEXIST if @p buf is already mapped for @p dev.
 * @return -ENOSPC if no free IOVA range is big enough.
 * @return -ENOMEM, or another negative errno from VFIO_IOMMU_MAP_DMA (which pins the
 *         pages and counts them against RLIMIT_MEMLOCK).
 *
 * Context: any thread; may sleep.
 */
VIREO_API int vireo_pci_dma_map(struct vireo_pci_dev *dev, struct vireo_dma_buf *buf,
				uint64_t *iova);

/**
 * @brief Unmap a DMA buffer from the device's IOVA space. The device must no longer
 * use it: a later access by the device faults in the IOMMU.
 *
 * @param dev the device.
 * @param buf the buffer.
 *
 * @return 0 on success.
 * @return -EINVAL if an argument is NULL.
 * @return -ENOENT if @p buf is not mapped for @p dev.
 *
 * Context: any thread; may sleep.
 */
VIREO_API int vireo_pci_dma_unmap(struct vireo_pci_dev *dev, struct vireo_dma_buf *buf);

/**
 * @brief How many vectors of a kind the function offers.
 *
 * @param dev the device.
 * @param type an enum vireo_pci_irq_type.
 *
 * @return the number of vectors (0 if the function lacks that kind).
 * @return -EINVAL if @p dev is NULL or @p type is not a kind.
 *
 * Context: any thread.
 */
VIREO_API int vireo_pci_irq_count(struct vireo_pci_dev *dev, uint32_t type);

/**
 * @brief Enable interrupts of one kind, vectors 0 to @p nvec - 1, each signalled on an
 * eventfd of its own.
 *
 * Watch each vector's fd (vireo_pci_irq_fd()) on a loop for VIREO_POLL_IN; in the
 * callback read its 8-byte counter (the watch is level-triggered), then handle the
 * device. INTx stays masked after each interrupt until vireo_pci_intx_unmask().
 * Only one kind is enabled at a time; enabling again first disables what was enabled.
 *
 * @param dev the device.
 * @param type an enum vireo_pci_irq_type.
 * @param nvec vectors to enable, 1 to vireo_pci_irq_count() (1 for INTx).
 *
 * @return 0 on success.
 * @return -EINVAL if @p dev is NULL, @p type is not a kind or @p nvec is 0.
 * @return -ERANGE if the function offers fewer than @p nvec vectors of @p type.
 * @return a negative errno from eventfd() or VFIO_DEVICE_SET_IRQS.
 *
 * Context: one thread at a time per device; may sleep.
 */
VIREO_API int vireo_pci_irq_enable(struct vireo_pci_dev *dev, uint32_t type, unsigned int nvec);

/**
 * @brief The eventfd of an enabled vector.
 *
 * @param dev the device.
 * @param vec the vector, below the @p nvec given to vireo_pci_irq_enable().
 *
 * @return the fd (the library's: do not close it; it stays valid until the vectors are
 *         disabled).
 * @return -EINVAL if @p dev is NULL.
 * @return -ENOENT if @p vec is not enabled.
 *
 * Context: any thread.
 */
VIREO_API int vireo_pci_irq_fd(struct vireo_pci_dev *dev, unsigned int vec);

/**
 * @brief Disable the enabled interrupts and close their eventfds (remove their loop
 * watches first). Nothing enabled is fine.
 *
 * @param dev the device.
 *
 * @return 0 on success.
 * @return -EINVAL if @p dev is NULL.
 * @return a negative errno from VFIO_DEVICE_SET_IRQS (the fds are closed anyway).
 *
 * Context: one thread at a time per device; may sleep.
 */
VIREO_API int vireo_pci_irq_disable(struct vireo_pci_dev *dev);

/**
 * @brief Unmask INTx after handling an interrupt (VFIO masks the level-triggered pin
 * each time it fires, so that it does not storm).
 *
 * @param dev the device.
 *
 * @return 0 on success.
 * @return -EINVAL if @p dev is NULL.
 * @return -ENOENT if INTx is not enabled.
 * @return a negative errno from VFIO_DEVICE_SET_IRQS.
 *
 * Context: any thread.
 */
VIREO_API int vireo_pci_intx_unmask(struct vireo_pci_dev *dev);

/**
 * @brief Reset the function (VFIO_DEVICE_RESET: a function-level reset, or whichever
 * reset the kernel has for it). Config space (bus mastering, the MSI-X set-up) is
 * saved and restored around it; BAR mappings, DMA mappings and interrupt eventfds stay.
 * The device's internal state (its queues, its enable bits) is gone: bring it up
 * again. Quiesce the device's users first.
 *
 * @param dev the device.
 *
 * @return 0 on success.
 * @return -EINVAL if @p dev is NULL.
 * @return -EOPNOTSUPP if the kernel has no reset for this function.
 * @return another negative errno from VFIO_DEVICE_RESET.
 *
 * Context: one thread at a time per device; may sleep (up to about a second).
 */
VIREO_API int vireo_pci_reset(struct vireo_pci_dev *dev);

VIREO_END_DECLS

#endif /* VIREO_PCI_H */
