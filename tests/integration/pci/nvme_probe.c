// SPDX-License-Identifier: MIT
/*
 * nvme_probe: drives a real (QEMU-emulated) NVMe controller through <vireo/pci.h> and
 * <vireo/mem.h> alone, as a driver would: open by BDF, ids from config space, BAR0,
 * controller reset and enable, admin queues in DMA memory mapped to the device's IOVA,
 * IDENTIFY CONTROLLER completed through an MSI-X eventfd watched on a loop; then a
 * function reset and the whole bring-up again, DMA unmaps, close; and the refusals
 * (bad address, absent function, function not bound to vfio-pci, group already open).
 * Register layout and command formats: NVM Express Base Specification 2.0, §3.1
 * (controller registers), §4.1-4.2 (SQ/CQ entries), §5.17 (Identify), §3.5.1
 * (initialisation). Run by pci/nvme-vfio.sh in a lab guest; exit 0 only if all holds.
 *
 * Usage: nvme_probe BDF SERIAL NOT_VFIO_BDF [--second BDF2 SERIAL2] [--expect-huge]
 * With --second, a second controller shares the data buffer (mapped for both at once).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vireo/driver.h>
#include <vireo/loop.h>
#include <vireo/mem.h>
#include <vireo/pci.h>

#include "probe_loop.h"

/* Controller registers (§3.1), in BAR0. */
#define NVME_REG_CAP  0x00u
#define NVME_REG_VS   0x08u
#define NVME_REG_CC   0x14u
#define NVME_REG_CSTS 0x1cu
#define NVME_REG_AQA  0x24u
#define NVME_REG_ASQ  0x28u
#define NVME_REG_ACQ  0x30u
#define NVME_REG_DBS  0x1000u

#define NVME_CAP_MQES(cap)  ((uint32_t)((cap)&0xffff))
#define NVME_CAP_TO(cap)    ((uint32_t)(((cap) >> 24) & 0xff)) /* 500 ms units */
#define NVME_CAP_DSTRD(cap) ((uint32_t)(((cap) >> 32) & 0xf))
#define NVME_CC_EN	    (1u << 0)
#define NVME_CC_IOSQES(n)   ((uint32_t)(n) << 16) /* log2 of the SQ entry size */
#define NVME_CC_IOCQES(n)   ((uint32_t)(n) << 20) /* log2 of the CQ entry size */
#define NVME_CSTS_RDY	    (1u << 0)
#define NVME_CSTS_CFS	    (1u << 1)
#define NVME_ADMIN_IDENTIFY 0x06u
#define NVME_CNS_CONTROLLER 0x01u
#define NVME_ID_SN_OFF	    4u /* serial number, 20 ASCII bytes */
#define NVME_ID_SN_LEN	    20u
#define NVME_ID_MN_OFF	    24u /* model number, 40 ASCII bytes */
#define NVME_ID_MN_LEN	    40u
#define NVME_PCI_CLASS	    0x010802u /* mass storage, NVM, NVMe */

#define QDEPTH 8u /* admin queue entries */

struct nvme_sqe {
	uint32_t cdw0; /* opcode 7:0, command id 31:16 */
	uint32_t nsid;
	uint64_t rsvd;
	uint64_t mptr;
	uint64_t prp1;
	uint64_t prp2;
	uint32_t cdw10_15[6];
};
_Static_assert(sizeof(struct nvme_sqe) == 64, "NVMe SQ entries are 64 bytes");

struct nvme_cqe {
	uint32_t dw0;
	uint32_t dw1;
	uint16_t sqhd;
	uint16_t sqid;
	uint16_t cid;
	uint16_t status; /* phase tag in bit 0 */
};
_Static_assert(sizeof(struct nvme_cqe) == 16, "NVMe CQ entries are 16 bytes");

struct probe {
	struct vireo_pci_dev *dev;
	struct vireo_loop *loop;
	struct vireo_dma_buf *asq, *acq;
	struct vireo_dma_buf *data; /* borrowed: may be shared by two probes */
	struct vireo_watch *watch;
	uint64_t cap;
	uint32_t sq_tail, cq_head, phase;
	uint16_t next_cid;
	/* What the MSI-X callback found. */
	int irqs;
	bool intx;	    /* INTx: unmask after each interrupt */
	int intx_unmask_rc; /* what the last unmask said */
	bool done;
	uint16_t done_cid, done_status;
};

static int g_failures;

#define CHECK(cond, ...)                                \
	do {                                            \
		if (cond) {                             \
			printf("ok: " __VA_ARGS__);     \
			printf("\n");                   \
		} else {                                \
			printf("FAILED (%s): ", #cond); \
			printf(__VA_ARGS__);            \
			printf("\n");                   \
			g_failures++;                   \
		}                                       \
	} while (0)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Waits for CSTS.RDY to become @rdy, within CAP.TO (§3.1.1); 0 or -ETIMEDOUT. */
static int nvme_wait_ready(struct probe *p, bool rdy)
{
	uint64_t limit = now_ns() + (NVME_CAP_TO(p->cap) + 1) * 500000000ull;
	const struct timespec tick = { .tv_nsec = 1000000 };

	for (;;) {
		uint32_t csts = vireo_pci_read32(p->dev, 0, NVME_REG_CSTS);

		if (csts == UINT32_MAX || csts & NVME_CSTS_CFS)
			return -EIO;
		if (!!(csts & NVME_CSTS_RDY) == rdy)
			return 0;
		if (now_ns() > limit)
			return -ETIMEDOUT;
		nanosleep(&tick, NULL); /* the spec offers nothing but polling CSTS here */
	}
}

static void on_msix(void *arg, int fd, uint32_t events)
{
	struct probe *p = arg;
	struct nvme_cqe *cq = vireo_dma_va(p->acq);
	uint64_t n;

	(void)events;
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	p->irqs++;
	while ((cq[p->cq_head].status & 1u) == p->phase) {
		p->done_cid = cq[p->cq_head].cid;
		p->done_status = cq[p->cq_head].status >> 1;
		p->done = true;
		if (++p->cq_head == QDEPTH) {
			p->cq_head = 0;
			p->phase ^= 1u;
		}
	}
	/* CQ 0 head doorbell: 0x1000 + (2y + 1) * (4 << CAP.DSTRD), y = 0 (§3.1.25). */
	vireo_pci_write32(p->dev, 0, NVME_REG_DBS + (4u << NVME_CAP_DSTRD(p->cap)), p->cq_head);
	/* The doorbell deasserted the pin; VFIO masked it when it fired. */
	if (p->intx)
		p->intx_unmask_rc = vireo_pci_intx_unmask(p->dev);
}

/* Moves @p's interrupts to @type (vector 0 only) and its watch to the new eventfd. */
static int probe_irq_switch(struct probe *p, uint32_t type)
{
	int rc, fd;

	vireo_watch_remove(p->watch);
	p->watch = NULL;
	rc = vireo_pci_irq_enable(p->dev, type, 1);
	fd = vireo_pci_irq_fd(p->dev, 0);
	CHECK(rc == 0 && fd >= 0, "interrupts switched to %s, eventfd %d (%d)",
	      type == VIREO_PCI_IRQ_INTX ? "INTx" : "MSI-X", fd, rc);
	if (rc < 0 || fd < 0)
		return rc < 0 ? rc : fd;
	p->intx = type == VIREO_PCI_IRQ_INTX;
	return vireo_loop_watch_fd(p->loop, fd, VIREO_POLL_IN, on_msix, p, &p->watch);
}

/* Reset and enable the controller with admin queues in @p's buffers (§3.5.1). */
static int nvme_bring_up(struct probe *p)
{
	uint64_t asq_iova, acq_iova;
	uint32_t vs;
	int rc;

	rc = vireo_pci_set_bus_master(p->dev, true);
	CHECK(rc == 0, "bus mastering on (%d)", rc);
	p->cap = vireo_pci_read64(p->dev, 0, NVME_REG_CAP);
	vs = vireo_pci_read32(p->dev, 0, NVME_REG_VS);
	CHECK(p->cap != UINT64_MAX && NVME_CAP_MQES(p->cap) >= QDEPTH - 1,
	      "CAP 0x%016" PRIx64 ": MQES %u, TO %u, DSTRD %u", p->cap, NVME_CAP_MQES(p->cap),
	      NVME_CAP_TO(p->cap), NVME_CAP_DSTRD(p->cap));
	CHECK(vs >> 16 >= 1 && vs >> 16 <= 2, "VS 0x%08x: NVMe %u.%u.%u", vs, vs >> 16,
	      (vs >> 8) & 0xff, vs & 0xff);
	/* Disable, and wait until the controller says it is. */
	vireo_pci_write32(p->dev, 0, NVME_REG_CC, 0);
	rc = nvme_wait_ready(p, false);
	CHECK(rc == 0, "controller disabled: CC.EN=0 gave CSTS.RDY=0 (%d)", rc);
	if (rc < 0)
		return rc;
	memset(vireo_dma_va(p->asq), 0, vireo_dma_size(p->asq));
	memset(vireo_dma_va(p->acq), 0, vireo_dma_size(p->acq));
	p->sq_tail = p->cq_head = 0;
	p->phase = 1;
	if (vireo_dma_iova(p->asq, p->dev, &asq_iova) < 0 ||
	    vireo_dma_iova(p->acq, p->dev, &acq_iova) < 0)
		return -ENOENT;
	vireo_pci_write32(p->dev, 0, NVME_REG_AQA, (QDEPTH - 1) << 16 | (QDEPTH - 1));
	vireo_pci_write64(p->dev, 0, NVME_REG_ASQ, asq_iova);
	vireo_pci_write64(p->dev, 0, NVME_REG_ACQ, acq_iova);
	CHECK(vireo_pci_read64(p->dev, 0, NVME_REG_ASQ) == asq_iova &&
		      vireo_pci_read64(p->dev, 0, NVME_REG_ACQ) == acq_iova,
	      "ASQ 0x%" PRIx64 ", ACQ 0x%" PRIx64 " read back", asq_iova, acq_iova);
	/* NVM command set, 4 KiB pages, round robin, 64-byte SQ and 16-byte CQ entries. */
	vireo_pci_write32(p->dev, 0, NVME_REG_CC,
			  NVME_CC_EN | NVME_CC_IOSQES(6) | NVME_CC_IOCQES(4));
	rc = nvme_wait_ready(p, true);
	CHECK(rc == 0, "controller enabled: CSTS.RDY=1 (%d)", rc);
	return rc;
}

static int nvme_identify(struct probe *p, const char *serial)
{
	struct nvme_sqe *sq = vireo_dma_va(p->asq);
	const char *id = vireo_dma_va(p->data);
	char mn[NVME_ID_MN_LEN + 1], sn[NVME_ID_SN_LEN + 1];
	uint64_t iova, t0, deadline;
	uint16_t cid = ++p->next_cid;
	int irqs0 = p->irqs, rc;

	if (vireo_dma_iova(p->data, p->dev, &iova) < 0)
		return -ENOENT;
	memset(vireo_dma_va(p->data), 0, 4096);
	memset(&sq[p->sq_tail], 0, sizeof(sq[0]));
	sq[p->sq_tail].cdw0 = NVME_ADMIN_IDENTIFY | (uint32_t)cid << 16;
	sq[p->sq_tail].prp1 = iova; /* 4 KiB, page-aligned: PRP1 alone covers it */
	sq[p->sq_tail].cdw10_15[0] = NVME_CNS_CONTROLLER;
	p->sq_tail = (p->sq_tail + 1) % QDEPTH;
	p->done = false;
	t0 = now_ns();
	/* SQ 0 tail doorbell; the write orders the entry's stores before it. */
	vireo_pci_write32(p->dev, 0, NVME_REG_DBS, p->sq_tail);
	deadline = t0 + 5000000000ull;
	while (!p->done && now_ns() < deadline) {
		rc = probe_loop_run_once(p->loop, 100);
		if (rc < 0)
			return rc;
	}
	CHECK(p->done && p->irqs > irqs0,
	      "IDENTIFY completed through the %s eventfd in %" PRIu64 " us (%d interrupts)",
	      p->intx ? "INTx" : "MSI-X", (now_ns() - t0) / 1000, p->irqs - irqs0);
	if (!p->done)
		return -ETIMEDOUT;
	CHECK(p->done_cid == cid && p->done_status == 0, "completion: command id %u, status 0x%x",
	      p->done_cid, p->done_status);
	memcpy(mn, id + NVME_ID_MN_OFF, NVME_ID_MN_LEN);
	mn[NVME_ID_MN_LEN] = '\0';
	memcpy(sn, id + NVME_ID_SN_OFF, NVME_ID_SN_LEN);
	sn[NVME_ID_SN_LEN] = '\0';
	for (int i = NVME_ID_MN_LEN - 1; i >= 0 && mn[i] == ' '; i--)
		mn[i] = '\0';
	for (int i = NVME_ID_SN_LEN - 1; i >= 0 && sn[i] == ' '; i--)
		sn[i] = '\0';
	CHECK(strcmp(mn, "QEMU NVMe Ctrl") == 0, "model number '%s'", mn);
	CHECK(strcmp(sn, serial) == 0, "serial number '%s'", sn);
	return 0;
}

static void probe_refusals(const char *bdf, const char *not_vfio)
{
	struct vireo_pci_dev *dev = NULL, *again = NULL;
	int rc;

	rc = vireo_pci_open("0000:00:1f", &dev);
	CHECK(rc == -EINVAL, "a malformed address is refused (%d)", rc);
	rc = vireo_pci_open("0000:fe:1f.7", &dev);
	CHECK(rc == -ENODEV, "an absent function is refused (%d)", rc);
	rc = vireo_pci_open(not_vfio, &dev);
	CHECK(rc == -ENXIO, "%s, not bound to vfio-pci, is refused (%d)", not_vfio, rc);
	rc = vireo_pci_open(bdf, &dev);
	CHECK(rc == 0, "%s opens again (%d)", bdf, rc);
	if (rc < 0)
		return;
	rc = vireo_pci_open(bdf, &again);
	CHECK(rc == -EBUSY, "a second open of its group is refused (%d)", rc);
	vireo_pci_close(dev);
	rc = vireo_pci_open(bdf, &again);
	CHECK(rc == 0, "after close the group opens again (%d)", rc);
	vireo_pci_close(again);
}

static void probe_ids(struct probe *p)
{
	static const struct vireo_match ours[] = {
		{ VIREO_MATCH_PCI_DEVICE(0x8086, 0x0953), .driver_data = 1 },
		{ VIREO_MATCH_PCI_CLASS(NVME_PCI_CLASS, 0xffffff), .driver_data = 2 },
		{ 0 },
	};
	static const struct vireo_match theirs[] = {
		{ VIREO_MATCH_PCI_DEVICE(0x8086, 0x0953) },
		{ VIREO_MATCH_USB_DEVICE(0x1b36, 0x0010) },
		{ 0 },
	};
	struct vireo_pci_bar_info bar = { .struct_size = sizeof(bar) };
	const struct vireo_match *hit = NULL;
	uint32_t vid = 0, did = 0, cls = 0;
	void *va = NULL;
	int rc;

	CHECK(vireo_pci_cfg_read(p->dev, 0x00, 2, &vid) == 0 &&
		      vireo_pci_cfg_read(p->dev, 0x02, 2, &did) == 0 && vid == 0x1b36 &&
		      did == 0x0010,
	      "config space: vendor:device %04x:%04x", vid, did);
	CHECK(vireo_pci_cfg_read(p->dev, 0x08, 4, &cls) == 0 && cls >> 8 == NVME_PCI_CLASS,
	      "config space: class %06x", cls >> 8);
	CHECK(vireo_pci_cfg_read(p->dev, 0x01, 2, &vid) == -EINVAL,
	      "a misaligned config read is refused");
	rc = vireo_pci_match(p->dev, ours, &hit);
	CHECK(rc == 0 && hit && hit->driver_data == 2, "the match table's class entry matches (%d)",
	      rc);
	rc = vireo_pci_match(p->dev, theirs, NULL);
	CHECK(rc == -ENODEV, "a table without it does not match (%d)", rc);
	rc = vireo_pci_bar_info(p->dev, 0, &bar);
	CHECK(rc == 0 && bar.flags & VIREO_PCI_BAR_MEM && bar.size >= 0x2000,
	      "BAR0: memory, %" PRIu64 " bytes, flags 0x%x", bar.size, bar.flags);
	rc = vireo_pci_bar_map(p->dev, 0, &va);
	CHECK(rc == 0 && va && bar.flags & VIREO_PCI_BAR_MAPPED, "BAR0 mapped at %p (%d)", va, rc);
	/* Out of the BAR: all ones, nothing touched. */
	CHECK(vireo_pci_read32(p->dev, 0, bar.size) == UINT32_MAX,
	      "a read past BAR0 gives all ones");
	CHECK(vireo_pci_read32(p->dev, 0, 2) == UINT32_MAX, "a misaligned read gives all ones");
	rc = vireo_pci_irq_count(p->dev, VIREO_PCI_IRQ_MSIX);
	CHECK(rc >= 1, "MSI-X vectors: %d", rc);
}

/* Opens @bdf with admin queues of its own and @data mapped, MSI-X vector 0 on the loop. */
static int probe_attach(struct probe *p, const char *bdf, struct vireo_dma_buf *data)
{
	uint64_t iova = 0, again = 0;
	int rc, fd;

	p->data = data;
	rc = vireo_pci_open(bdf, &p->dev);
	CHECK(rc == 0, "%s opens (%d)", bdf, rc);
	if (rc < 0)
		return rc;
	/* Small rings in 4 KiB pages. */
	rc = vireo_dma_alloc(QDEPTH * sizeof(struct nvme_sqe), VIREO_DMA_NO_HUGE, &p->asq);
	if (rc == 0)
		rc = vireo_dma_alloc(QDEPTH * sizeof(struct nvme_cqe), VIREO_DMA_NO_HUGE, &p->acq);
	if (rc == 0)
		rc = vireo_pci_dma_map(p->dev, p->asq, NULL);
	if (rc == 0)
		rc = vireo_pci_dma_map(p->dev, p->acq, NULL);
	if (rc == 0)
		rc = vireo_pci_dma_map(p->dev, data, &iova);
	if (rc == 0)
		rc = vireo_dma_iova(data, p->dev, &again);
	CHECK(rc == 0 && iova == again,
	      "%s: queues and data buffer mapped; data at IOVA 0x%" PRIx64 " (%d)", bdf, iova, rc);
	if (rc < 0)
		return rc;
	CHECK(iova % vireo_dma_page_size(data) == 0, "its IOVA is aligned to its pages");
	rc = vireo_pci_dma_map(p->dev, data, NULL);
	CHECK(rc == -EEXIST, "mapping it twice for one device is refused (%d)", rc);

	rc = vireo_pci_irq_enable(p->dev, VIREO_PCI_IRQ_MSIX, 1);
	CHECK(rc == 0, "MSI-X vector 0 enabled (%d)", rc);
	fd = vireo_pci_irq_fd(p->dev, 0);
	CHECK(fd >= 0 && vireo_pci_irq_fd(p->dev, 1) == -ENOENT, "its eventfd is %d", fd);
	if (rc < 0 || fd < 0)
		return rc < 0 ? rc : fd;
	return vireo_loop_watch_fd(p->loop, fd, VIREO_POLL_IN, on_msix, p, &p->watch);
}

/* Disables the controller, then unwinds what probe_attach() did but the data buffer. */
static void probe_detach(struct probe *p)
{
	int rc;

	if (p->dev && p->cap) {
		vireo_pci_write32(p->dev, 0, NVME_REG_CC, 0);
		CHECK(nvme_wait_ready(p, false) == 0, "%s disabled", vireo_pci_bdf(p->dev));
	}
	vireo_watch_remove(p->watch);
	p->watch = NULL;
	if (p->dev) {
		rc = vireo_pci_irq_disable(p->dev);
		CHECK(rc == 0 && vireo_pci_irq_fd(p->dev, 0) == -ENOENT, "MSI-X disabled (%d)", rc);
	}
	/* The admin CQ is still mapped here: close unmaps it. */
	vireo_pci_close(p->dev);
	p->dev = NULL;
	vireo_dma_free(p->asq);
	vireo_dma_free(p->acq);
}

/* The IOVA allocator reuses a hole: map three buffers, unmap the middle, map a fourth. */
static void probe_iova_reuse(struct probe *p)
{
	struct vireo_dma_buf *b[4] = { NULL };
	uint64_t iova[4] = { 0 };
	int rc = 0;

	for (int i = 0; i < 4 && rc == 0; i++)
		rc = vireo_dma_alloc(4096, VIREO_DMA_NO_HUGE, &b[i]);
	for (int i = 0; i < 3 && rc == 0; i++)
		rc = vireo_pci_dma_map(p->dev, b[i], &iova[i]);
	if (rc == 0)
		rc = vireo_pci_dma_unmap(p->dev, b[1]);
	if (rc == 0)
		rc = vireo_pci_dma_map(p->dev, b[3], &iova[3]);
	CHECK(rc == 0 && iova[3] == iova[1] && iova[0] != iova[1] && iova[2] != iova[1],
	      "a freed IOVA hole is reused: 0x%" PRIx64 ", 0x%" PRIx64 " (unmapped), 0x%" PRIx64
	      ", then 0x%" PRIx64 " (%d)",
	      iova[0], iova[1], iova[2], iova[3], rc);
	for (int i = 0; i < 4; i++)
		vireo_dma_free(b[i]); /* unmaps those still mapped */
}

static int probe_run(const char *bdf, const char *serial, const char *bdf2, const char *serial2,
		     bool expect_huge)
{
	struct probe p = { 0 }, q = { 0 };
	struct vireo_dma_buf *data = NULL;
	struct vireo_loop *loop;
	uint64_t iova;
	int rc;

	loop = probe_loop_new();
	if (!loop)
		return -ENOMEM;
	p.loop = q.loop = loop;
	/* The data buffer as the default gives it: huge pages when there are free ones. */
	rc = vireo_dma_alloc(4096, 0, &data);
	CHECK(rc == 0, "data buffer allocated (%d)", rc);
	if (rc < 0)
		goto out_free_loop;
	CHECK(vireo_dma_page_size(data) ==
		      (expect_huge ? VIREO_DMA_HUGE_PAGE_SIZE : VIREO_DMA_SMALL_PAGE_SIZE),
	      "data buffer in %zu-byte pages", vireo_dma_page_size(data));
	rc = probe_attach(&p, bdf, data);
	if (rc < 0)
		goto out_detach;
	probe_ids(&p);
	probe_iova_reuse(&p);

	if (nvme_bring_up(&p) == 0)
		nvme_identify(&p, serial);

	/* Function reset: the controller's state is gone, then it comes back. */
	rc = vireo_pci_reset(p.dev);
	CHECK(rc == 0, "function reset (%d)", rc);
	if (rc == 0) {
		uint32_t cc = vireo_pci_read32(p.dev, 0, NVME_REG_CC), cmd = 0;

		/* Config space is saved and restored around the reset: bus mastering stays on. */
		CHECK(vireo_pci_cfg_read(p.dev, 0x04, 2, &cmd) == 0 && cmd & 0x4,
		      "after the reset the command register is 0x%x", cmd);

		CHECK(cc == 0 && !(vireo_pci_read32(p.dev, 0, NVME_REG_CSTS) & NVME_CSTS_RDY),
		      "after the reset CC is 0x%x and the controller is not ready", cc);
		if (nvme_bring_up(&p) == 0)
			nvme_identify(&p, serial);
	}

	/* The legacy pin, level-triggered: VFIO masks it per interrupt, the driver unmasks. */
	rc = vireo_pci_irq_count(p.dev, VIREO_PCI_IRQ_INTX);
	CHECK(rc == 1, "INTx vectors: %d", rc);
	if (rc == 1 && probe_irq_switch(&p, VIREO_PCI_IRQ_INTX) == 0) {
		nvme_identify(&p, serial);
		nvme_identify(&p, serial); /* a second interrupt proves the unmask */
		CHECK(p.intx_unmask_rc == 0, "INTx unmasked after each (%d)", p.intx_unmask_rc);
		probe_irq_switch(&p, VIREO_PCI_IRQ_MSIX);
	}
	/* QEMU's NVMe has no MSI capability: asking for MSI is refused. */
	rc = vireo_pci_irq_count(p.dev, VIREO_PCI_IRQ_MSI);
	CHECK(rc == 0 && vireo_pci_irq_enable(p.dev, VIREO_PCI_IRQ_MSI, 1) == -ERANGE,
	      "MSI vectors: %d; enabling one is refused", rc);
	CHECK(vireo_pci_intx_unmask(p.dev) == -ENOENT,
	      "unmasking INTx while MSI-X is on is refused");

	/* A second controller shares the data buffer: mapped for both at once. */
	if (bdf2) {
		rc = probe_attach(&q, bdf2, data);
		if (rc == 0 && nvme_bring_up(&q) == 0) {
			nvme_identify(&q, serial2);
			nvme_identify(&p, serial);
		}
		rc = vireo_pci_dma_unmap(q.dev, data);
		CHECK(rc == 0 && vireo_dma_iova(data, q.dev, &iova) == -ENOENT &&
			      vireo_dma_iova(data, p.dev, &iova) == 0,
		      "unmapped from %s, the buffer stays mapped for %s (%d)", bdf2, bdf, rc);
		probe_detach(&q);
	}

	/* Quiesce, then take the buffers away from the device. */
	vireo_pci_write32(p.dev, 0, NVME_REG_CC, 0);
	CHECK(nvme_wait_ready(&p, false) == 0, "controller disabled again");
	rc = vireo_pci_dma_unmap(p.dev, p.asq);
	CHECK(rc == 0 && vireo_dma_iova(p.asq, p.dev, &iova) == -ENOENT,
	      "admin SQ unmapped; it has no IOVA any more (%d)", rc);
	rc = vireo_pci_dma_unmap(p.dev, p.asq);
	CHECK(rc == -ENOENT, "unmapping it again is refused (%d)", rc);
	/* Freed while mapped: the free unmaps it. */
	vireo_dma_free(data);
	data = NULL;
	rc = 0;

out_detach:
	probe_detach(&p);
	vireo_dma_free(data);
out_free_loop:
	probe_loop_free(loop);
	return rc;
}

int main(int argc, char **argv)
{
	const char *bdf2 = NULL, *serial2 = NULL;
	bool expect_huge = false;
	int rc;

	for (int i = 4; i < argc; i++) {
		if (strcmp(argv[i], "--expect-huge") == 0) {
			expect_huge = true;
		} else if (strcmp(argv[i], "--second") == 0 && i + 2 < argc) {
			bdf2 = argv[++i];
			serial2 = argv[++i];
		} else {
			argc = 0;
		}
	}
	if (argc < 4) {
		fprintf(stderr,
			"usage: %s BDF SERIAL NOT_VFIO_BDF [--second BDF2 SERIAL2] "
			"[--expect-huge]\n",
			argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = probe_run(argv[1], argv[2], bdf2, serial2, expect_huge);
	CHECK(rc == 0, "probe of %s ran to the end (%d)", argv[1], rc);
	probe_refusals(argv[1], argv[3]);
	printf("%s: %d failures\n", argv[0], g_failures);
	return g_failures ? 1 : 0;
}
