/* PCI host bridge, config space through 0xcf8/0xcfc, BARs, MMIO dispatch, INTx and MSI-X. */
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "arch/x86/layout.h"
#include "dev/pci.h"
#include "fake_vmm.h"
#include "test.h"

static struct fake_vmm fv;
static struct vmm_ops ops;
static const struct pci_config x86_cfg = LAYOUT_PCI_CONFIG(&ops);

struct tdev {
	struct pci_dev pci;
	uint64_t last_off;
	uint32_t last_len, writes, reads;
	int last_bar;
	uint8_t regs[4096];
	int remaps;
	uint64_t remap_old, remap_new;
};

static void tdev_read(struct pci_dev *d, int bar, uint64_t off, void *data, uint32_t len)
{
	struct tdev *t = d->priv;

	t->reads++;
	t->last_bar = bar;
	t->last_off = off;
	t->last_len = len;
	memcpy(data, t->regs + (off % 4000), len);
}

static void tdev_write(struct pci_dev *d, int bar, uint64_t off, const void *data, uint32_t len)
{
	struct tdev *t = d->priv;

	t->writes++;
	t->last_bar = bar;
	t->last_off = off;
	t->last_len = len;
	memcpy(t->regs + (off % 4000), data, len);
}

static const struct pci_bar_ops tdev_ops = { .read = tdev_read, .write = tdev_write };

static void tdev_remap(struct pci_dev *d, int bar, uint64_t old_gpa, uint64_t new_gpa)
{
	struct tdev *t = d->priv;

	if (bar == 0) {
		t->remaps++;
		t->remap_old = old_gpa;
		t->remap_new = new_gpa;
	}
}

static uint32_t cfg_addr(int slot, uint32_t reg)
{
	return 0x80000000u | (uint32_t)slot << 11 | (reg & 0xfc);
}

static uint32_t cfgr(struct pci *pci, int slot, uint32_t reg, uint32_t len)
{
	uint32_t a = cfg_addr(slot, reg), v = 0;

	pci_cfg_io_ops.write(pci, 0, &a, 4);
	pci_cfg_io_ops.read(pci, 4 + (reg & 3), &v, len);
	return v;
}

static void cfgw(struct pci *pci, int slot, uint32_t reg, uint32_t len, uint32_t v)
{
	uint32_t a = cfg_addr(slot, reg);

	pci_cfg_io_ops.write(pci, 0, &a, 4);
	pci_cfg_io_ops.write(pci, 4 + (reg & 3), &v, len);
}

static uint64_t mmio_r(struct pci *pci, uint64_t gpa, uint32_t len)
{
	uint64_t v = 0;

	pci_mmio_ops.read(pci, gpa - LAYOUT_PCI_MMIO_GPA, &v, len);
	return v;
}

static void mmio_w(struct pci *pci, uint64_t gpa, uint32_t len, uint64_t v)
{
	pci_mmio_ops.write(pci, gpa - LAYOUT_PCI_MMIO_GPA, &v, len);
}

/* Device in slot 1: BAR0 4 KiB (32-bit), BAR2 16 KiB 64-bit holding an MSI-X table (4 vectors) at 0
 * and the PBA at 0x800, one vendor capability, INTA. */
static uint32_t gsi_of(unsigned slot, unsigned pin)
{
	return pci_intx_gsi(LAYOUT_PCI_INTX_GSI_BASE, LAYOUT_PCI_INTX_NR_LINES, slot, pin);
}

static struct pci *setup(struct tdev *t)
{
	struct pci *pci;
	uint8_t vcap[8] = { PCI_CAP_ID_VNDR, 0xee, 8, 0x42 };

	fake_vmm_init(&fv, &ops);
	CHECK_EQ(pci_create(&pci, &x86_cfg), 0);
	memset(t, 0, sizeof(*t));
	pci_dev_init(&t->pci, "tdev", 0x1234, 0x5678, 0x020000, 3);
	t->pci.priv = t;
	t->pci.intx_pin = 1;
	t->pci.bar_remap = tdev_remap;
	CHECK_EQ(pci_dev_add_bar(&t->pci, 0, 4096, false, &tdev_ops), 0);
	CHECK_EQ(pci_dev_add_bar(&t->pci, 2, 16384, true, &tdev_ops), 0);
	CHECK(pci_dev_add_bar(&t->pci, 3, 4096, false, &tdev_ops) < 0);	/* upper half of BAR2 */
	CHECK(pci_dev_add_bar(&t->pci, 4, 4000, false, &tdev_ops) < 0);	/* not a power of two */
	CHECK_EQ(pci_add_cap(&t->pci, vcap, sizeof(vcap)), PCI_CAP_START);
	CHECK_EQ(pci_msix_init(&t->pci, 4, 2, 0, 0x800), 0);
	CHECK_EQ(pci_add_device(pci, &t->pci), 0);
	CHECK_EQ(t->pci.slot, 1);
	return pci;
}

static void teardown(struct pci *pci, struct tdev *t)
{
	pci_msix_free(&t->pci);
	pci_destroy(pci);
}

static void test_ids_and_widths(void)
{
	struct tdev t;
	struct pci *pci = setup(&t);
	uint32_t a, v;

	CHECK_EQ(cfgr(pci, 0, 0, 4), 0x29c08086);		/* host bridge */
	CHECK_EQ(cfgr(pci, 0, PCI_CLASS_REVISION, 4) >> 8, 0x060000);
	CHECK_EQ(cfgr(pci, 1, 0, 4), 0x56781234);
	CHECK_EQ(cfgr(pci, 1, 0, 2), 0x1234);
	CHECK_EQ(cfgr(pci, 1, 2, 2), 0x5678);
	CHECK_EQ(cfgr(pci, 1, 1, 1), 0x12);
	CHECK_EQ(cfgr(pci, 1, 3, 1), 0x56);
	CHECK_EQ(cfgr(pci, 1, 1, 2), 0x7812);			/* unaligned word at 0xcfd */
	CHECK_EQ(cfgr(pci, 1, PCI_REVISION_ID, 1), 3);
	CHECK_EQ(cfgr(pci, 1, PCI_INTERRUPT_PIN, 1), 1);
	CHECK_EQ(cfgr(pci, 1, PCI_INTERRUPT_LINE, 1), gsi_of(1, 1));
	/* the address latch reads back (low two bits zero), only as a dword */
	a = 0x80000803;
	pci_cfg_io_ops.write(pci, 0, &a, 4);
	v = 0;
	pci_cfg_io_ops.read(pci, 0, &v, 4);
	CHECK_EQ(v, 0x80000800);
	v = 0;
	pci_cfg_io_ops.read(pci, 1, &v, 1);
	CHECK_EQ(v, 0xff);
	/* enable bit clear, empty slot, other bus, other function: all-ones; writes vanish */
	a = 0x00000800;
	pci_cfg_io_ops.write(pci, 0, &a, 4);
	v = 0;
	pci_cfg_io_ops.read(pci, 4, &v, 4);
	CHECK_EQ(v, 0xffffffff);
	CHECK_EQ(cfgr(pci, 7, 0, 4), 0xffffffff);
	CHECK_EQ(cfgr(pci, 31, 0, 2), 0xffff);
	a = 0x80010800;
	pci_cfg_io_ops.write(pci, 0, &a, 4);
	pci_cfg_io_ops.read(pci, 4, &v, 4);
	CHECK_EQ(v, 0xffffffff);
	a = 0x80000900;
	pci_cfg_io_ops.write(pci, 0, &a, 4);
	pci_cfg_io_ops.read(pci, 4, &v, 4);
	CHECK_EQ(v, 0xffffffff);
	cfgw(pci, 7, 0, 4, 0);
	/* an out-of-range request from a broken bus caller is refused, not overrun */
	v = 0;
	pci_cfg_io_ops.read(pci, 6, &v, 4);
	CHECK_EQ(v, 0xffffffff);
	teardown(pci, &t);
}

static void test_readonly_fields(void)
{
	struct tdev t;
	struct pci *pci = setup(&t);

	cfgw(pci, 1, 0, 4, 0);
	CHECK_EQ(cfgr(pci, 1, 0, 4), 0x56781234);
	cfgw(pci, 1, PCI_CLASS_REVISION, 4, 0);
	CHECK_EQ(cfgr(pci, 1, PCI_CLASS_REVISION, 4), 0x02000003);
	cfgw(pci, 1, PCI_INTERRUPT_PIN, 1, 4);
	CHECK_EQ(cfgr(pci, 1, PCI_INTERRUPT_PIN, 1), 1);
	cfgw(pci, 1, PCI_INTERRUPT_LINE, 1, 5);
	CHECK_EQ(cfgr(pci, 1, PCI_INTERRUPT_LINE, 1), 5);
	/* status: capability bit read-only, error bits write-1-to-clear */
	CHECK(cfgr(pci, 1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	cfgw(pci, 1, PCI_STATUS, 2, 0xffff);
	CHECK(cfgr(pci, 1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	/* expansion ROM not implemented: sizing reads 0 */
	cfgw(pci, 1, PCI_ROM_ADDRESS, 4, 0xffffffff);
	CHECK_EQ(cfgr(pci, 1, PCI_ROM_ADDRESS, 4), 0);
	teardown(pci, &t);
}

static void test_bar_sizing_and_relocation(void)
{
	struct tdev t;
	struct pci *pci = setup(&t);
	uint32_t bar0 = cfgr(pci, 1, PCI_BASE_ADDRESS_0, 4), bar2 = cfgr(pci, 1, PCI_BASE_ADDRESS_2, 4);
	uint64_t newbase = LAYOUT_PCI_MMIO_GPA + 0x100000;

	CHECK(bar0 >= LAYOUT_PCI_MMIO_GPA && bar0 < LAYOUT_PCI_MMIO_GPA + LAYOUT_PCI_MMIO_SIZE);
	CHECK_EQ(bar0 & 0xfff, 0);
	CHECK_EQ(bar2 & 0xf, PCI_BASE_ADDRESS_MEM_TYPE_64);
	CHECK_EQ((bar2 & ~0xfu) % 16384, 0);
	CHECK_EQ(cfgr(pci, 1, PCI_BASE_ADDRESS_3, 4), 0);
	CHECK(cfgr(pci, 1, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY);
	CHECK_EQ(t.remaps, 1);
	CHECK_EQ(t.remap_new, bar0);

	/* MMIO at BAR0 + 0x10 reaches the device with a relative offset */
	mmio_w(pci, bar0 + 0x10, 4, 0xdeadbeef);
	CHECK_EQ(t.writes, 1);
	CHECK_EQ(t.last_off, 0x10);
	CHECK_EQ(t.last_bar, 0);
	CHECK_EQ(mmio_r(pci, bar0 + 0x10, 4), 0xdeadbeef);
	CHECK_EQ(mmio_r(pci, bar0 + 0x4ffff, 4), 0xffffffff);	/* nobody there */
	/* an access running off the end of the BAR is not dispatched */
	CHECK_EQ(mmio_r(pci, bar0 + 0xffe, 4), 0xffffffff);

	/* sizing: all-ones reads back the size mask with the type bits */
	cfgw(pci, 1, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	CHECK_EQ(cfgr(pci, 1, PCI_BASE_ADDRESS_0, 4), 0xfffff000);
	CHECK_EQ(t.remap_new, 0);		/* all-ones is outside the window: not decoding */
	cfgw(pci, 1, PCI_BASE_ADDRESS_2, 4, 0xffffffff);
	cfgw(pci, 1, PCI_BASE_ADDRESS_3, 4, 0xffffffff);
	CHECK_EQ(cfgr(pci, 1, PCI_BASE_ADDRESS_2, 4), 0xffffc004);
	CHECK_EQ(cfgr(pci, 1, PCI_BASE_ADDRESS_3, 4), 0xffffffff);
	cfgw(pci, 1, PCI_BASE_ADDRESS_2, 4, bar2);
	cfgw(pci, 1, PCI_BASE_ADDRESS_3, 4, 0);
	CHECK_EQ(cfgr(pci, 1, PCI_BASE_ADDRESS_2, 4), bar2);

	/* relocation: dispatch follows the register */
	cfgw(pci, 1, PCI_BASE_ADDRESS_0, 4, (uint32_t)newbase | 0x7ff);	/* low bits ignored */
	CHECK_EQ(cfgr(pci, 1, PCI_BASE_ADDRESS_0, 4), (uint32_t)newbase);
	CHECK_EQ(t.remap_new, newbase);
	t.writes = 0;
	mmio_w(pci, bar0 + 0x10, 4, 1);
	CHECK_EQ(t.writes, 0);
	mmio_w(pci, newbase + 0x20, 2, 0x55aa);
	CHECK_EQ(t.writes, 1);
	CHECK_EQ(t.last_off, 0x20);
	CHECK_EQ(t.last_len, 2);

	/* memory decoding off: nothing dispatched, reads all-ones */
	cfgw(pci, 1, PCI_COMMAND, 2, 0);
	CHECK_EQ(t.remap_new, 0);
	CHECK_EQ(mmio_r(pci, newbase + 0x20, 2), 0xffff);
	mmio_w(pci, newbase + 0x20, 2, 1);
	CHECK_EQ(t.writes, 1);
	cfgw(pci, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK_EQ(mmio_r(pci, newbase + 0x20, 2), 0x55aa);
	CHECK_EQ(t.remap_new, newbase);
	teardown(pci, &t);
}

static void test_cap_walk(void)
{
	struct tdev t;
	struct pci *pci = setup(&t);
	uint32_t ptr = cfgr(pci, 1, PCI_CAPABILITY_LIST, 1);
	int found_vndr = 0, found_msix = 0, n = 0;

	while (ptr && n++ < 48) {
		uint32_t id = cfgr(pci, 1, ptr, 1);

		CHECK_EQ(ptr & 3, 0);
		CHECK(ptr >= PCI_CAP_START);
		if (id == PCI_CAP_ID_VNDR) {
			found_vndr++;
			CHECK_EQ(cfgr(pci, 1, ptr + 3, 1), 0x42);
		}
		if (id == PCI_CAP_ID_MSIX) {
			found_msix++;
			CHECK_EQ(cfgr(pci, 1, ptr + PCI_MSIX_FLAGS, 2), 3);	/* 4 vectors */
			CHECK_EQ(cfgr(pci, 1, ptr + PCI_MSIX_TABLE, 4), 0x000 | 2);
			CHECK_EQ(cfgr(pci, 1, ptr + PCI_MSIX_PBA, 4), 0x800 | 2);
		}
		ptr = cfgr(pci, 1, ptr + 1, 1);
	}
	CHECK_EQ(found_vndr, 1);
	CHECK_EQ(found_msix, 1);
	CHECK_EQ(ptr, 0);
	teardown(pci, &t);
}

static void test_intx(void)
{
	struct tdev t;
	struct pci_dev other[8];
	struct pci *pci = setup(&t);
	uint32_t gsi = gsi_of(1, 1);

	/* slots 2..9: slot 9 INTA shares slot 1's line, the others have their own */
	CHECK_EQ(gsi, 17);
	for (int i = 0; i < 8; i++) {
		pci_dev_init(&other[i], "o", 0x1234, 0x1, 0xff0000, 0);
		other[i].intx_pin = 1;
		CHECK_EQ(pci_add_device(pci, &other[i]), 0);
		CHECK_EQ(other[i].slot, i + 2);
	}
	CHECK_EQ(gsi_of(2, 1), 18);
	CHECK_EQ(gsi_of(2, 2), 19);
	CHECK_EQ(gsi_of(9, 1), gsi);
	CHECK_EQ(cfgr(pci, 9, PCI_INTERRUPT_LINE, 1), gsi);

	pci_irq_set(&t.pci, true);
	CHECK_EQ(fv.line[gsi], 1);
	CHECK(cfgr(pci, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_irq_set(&other[0], true);		/* slot 2: another line */
	pci_irq_set(&other[7], true);		/* slot 9: the same line */
	pci_irq_set(&t.pci, false);
	CHECK_EQ(fv.line[gsi], 1);		/* still held by slot 9 */
	CHECK_EQ(fv.line[18], 1);
	CHECK(!(cfgr(pci, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT));
	pci_irq_set(&other[7], false);
	CHECK_EQ(fv.line[gsi], 0);
	pci_irq_set(&other[0], false);
	CHECK_EQ(fv.line[18], 0);
	/* INTx disable in the command register masks the line but not the status bit */
	cfgw(pci, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
	pci_irq_set(&t.pci, true);
	CHECK_EQ(fv.line[gsi], 0);
	CHECK(cfgr(pci, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	cfgw(pci, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK_EQ(fv.line[gsi], 1);
	pci_irq_set(&t.pci, false);
	CHECK_EQ(fv.line[gsi], 0);
	teardown(pci, &t);
}

static void test_msix(void)
{
	struct tdev t;
	struct pci *pci = setup(&t);
	uint64_t bar2 = cfgr(pci, 1, PCI_BASE_ADDRESS_2, 4) & ~0xfull;
	uint32_t cap = 0, ptr = cfgr(pci, 1, PCI_CAPABILITY_LIST, 1);
	uint64_t cnt = 0;
	int gsi;

	while (ptr) {
		if (cfgr(pci, 1, ptr, 1) == PCI_CAP_ID_MSIX)
			cap = ptr;
		ptr = cfgr(pci, 1, ptr + 1, 1);
	}
	CHECK(cap != 0);
	/* disabled: the device must fall back to INTx */
	CHECK(!pci_msix_enabled(&t.pci));
	CHECK_EQ(pci_msix_notify(&t.pci, 1), -ENODEV);
	/* vectors start masked */
	CHECK_EQ(mmio_r(pci, bar2 + 16 + 12, 4), 1);
	/* table size bits are read-only */
	cfgw(pci, 1, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | 0x7ff);
	CHECK_EQ(cfgr(pci, 1, cap + PCI_MSIX_FLAGS, 2), PCI_MSIX_FLAGS_ENABLE | 3);
	CHECK(pci_msix_enabled(&t.pci));
	/* program vector 1 while masked; signal -> pending bit, no delivery */
	mmio_w(pci, bar2 + 16, 4, 0xfee01000);
	mmio_w(pci, bar2 + 16 + 4, 4, 0);
	mmio_w(pci, bar2 + 16 + 8, 4, 0x4041);
	CHECK_EQ(mmio_r(pci, bar2 + 16 + 8, 4), 0x4041);
	CHECK_EQ(mmio_r(pci, bar2 + 16, 8), 0xfee01000);
	CHECK_EQ(pci_msix_notify(&t.pci, 1), 0);
	CHECK_EQ(fv.routes, 0);
	CHECK_EQ(mmio_r(pci, bar2 + 0x800, 8), 2);
	mmio_w(pci, bar2 + 0x800, 8, 0);		/* PBA is read-only */
	CHECK_EQ(mmio_r(pci, bar2 + 0x800, 8), 2);
	/* unmask: route programmed, irqfd bound, pending message delivered through it */
	mmio_w(pci, bar2 + 16 + 12, 4, 0xfffffffe);	/* reserved bits stay zero */
	CHECK_EQ(mmio_r(pci, bar2 + 16 + 12, 4), 0);
	gsi = t.pci.msix->vec[1].gsi;
	CHECK(gsi >= 0);
	CHECK_EQ(fv.routes, 1);
	CHECK_EQ(fv.route_addr[gsi], 0xfee01000);
	CHECK_EQ(fv.route_data[gsi], 0x4041);
	CHECK(fv.irqfd_efd[gsi] >= 0);
	CHECK_EQ(read(fv.irqfd_efd[gsi], &cnt, 8), 8);
	CHECK_EQ(cnt, 1);
	CHECK_EQ(mmio_r(pci, bar2 + 0x800, 8), 0);
	/* unmasked: direct delivery */
	CHECK_EQ(pci_msix_notify(&t.pci, 1), 0);
	CHECK_EQ(read(fv.irqfd_efd[gsi], &cnt, 8), 8);
	/* function mask: pending, then delivered on clear */
	cfgw(pci, 1, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	CHECK_EQ(pci_msix_notify(&t.pci, 1), 0);
	CHECK_EQ(read(fv.irqfd_efd[gsi], &cnt, 8), -1);	/* nothing yet (non-blocking) */
	CHECK_EQ(mmio_r(pci, bar2 + 0x800, 1), 2);
	cfgw(pci, 1, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	CHECK_EQ(read(fv.irqfd_efd[gsi], &cnt, 8), 8);
	/* reprogramming an unmasked vector updates the route */
	mmio_w(pci, bar2 + 16 + 8, 4, 0x4042);
	CHECK_EQ(fv.route_data[gsi], 0x4042);
	/* bad vector, straddling access */
	CHECK_EQ(pci_msix_notify(&t.pci, 4), -EINVAL);
	CHECK_EQ(mmio_r(pci, bar2 + 4 * 16 - 4, 8), 0xffffffffffffffffull);
	/* other BAR2 offsets still reach the device */
	t.writes = 0;
	mmio_w(pci, bar2 + 0x1000, 4, 7);
	CHECK_EQ(t.writes, 1);
	CHECK_EQ(t.last_bar, 2);
	/* without irqfd, vectors go out via msi_send */
	fv.no_irqfd = true;
	mmio_w(pci, bar2 + 0 + 0, 4, 0xfee02000);
	mmio_w(pci, bar2 + 0 + 8, 4, 0x31);
	mmio_w(pci, bar2 + 0 + 12, 4, 0);
	CHECK_EQ(pci_msix_notify(&t.pci, 0), 0);
	CHECK_EQ(fv.sends, 1);
	CHECK_EQ(fv.send_addr, 0xfee02000);
	CHECK_EQ(fv.send_data, 0x31);
	teardown(pci, &t);
}

static void test_bad_setup(void)
{
	struct pci *pci;
	struct pci_dev d[PCI_MAX_SLOTS];
	int i;

	fake_vmm_init(&fv, &ops);
	CHECK_EQ(pci_create(&pci, &x86_cfg), 0);
	for (i = 0; i < PCI_MAX_SLOTS - 1; i++) {
		pci_dev_init(&d[i], "x", 1, 2, 0, 0);
		CHECK_EQ(pci_add_device(pci, &d[i]), 0);
	}
	pci_dev_init(&d[i], "x", 1, 2, 0, 0);
	CHECK_EQ(pci_add_device(pci, &d[i]), -ENOSPC);
	pci_destroy(pci);

	/* a BAR bigger than the window does not fit */
	CHECK_EQ(pci_create(&pci, &x86_cfg), 0);
	pci_dev_init(&d[0], "big", 1, 2, 0, 0);
	CHECK_EQ(pci_dev_add_bar(&d[0], 0, 1ULL << 30, true, &tdev_ops), 0);
	CHECK_EQ(pci_add_device(pci, &d[0]), -ENOSPC);
	/* MSI-X table overlapping its PBA, or outside the BAR */
	pci_dev_init(&d[1], "m", 1, 2, 0, 0);
	CHECK_EQ(pci_dev_add_bar(&d[1], 0, 4096, false, &tdev_ops), 0);
	CHECK_EQ(pci_msix_init(&d[1], 4, 0, 0, 0x20), -EINVAL);
	CHECK_EQ(pci_msix_init(&d[1], 4, 0, 0, 0x1000), -EINVAL);
	CHECK_EQ(pci_msix_init(&d[1], 4, 1, 0, 0x800), -EINVAL);
	pci_destroy(pci);
}

/* The window and the INTx lines are the board's arguments: another machine's bus places and decodes
 * BARs only in its own window and drives its own lines; impossible windows are refused. */
static void test_config_arguments(void)
{
	struct pci_config c = { .vmm = &ops, .mmio_gpa = 0x80000000, .mmio_size = 0x100000,
				.intx_gsi_base = 5, .intx_nr_lines = 3 };
	struct pci *pci;
	struct pci_dev d[5];
	uint64_t v = 0x1234;

	fake_vmm_init(&fv, &ops);
	CHECK_EQ(pci_create(&pci, &c), 0);
	for (int i = 0; i < 4; i++) {
		pci_dev_init(&d[i], "w", 1, 2, 0, 0);
		d[i].intx_pin = 1;
		CHECK_EQ(pci_dev_add_bar(&d[i], 0, 0x20000, false, &tdev_ops), 0);
		CHECK_EQ(pci_add_device(pci, &d[i]), 0);
	}
	CHECK_EQ(d[0].bar[0].mapped_gpa, 0x80000000);
	CHECK_EQ(d[3].bar[0].mapped_gpa, 0x80060000);
	CHECK_EQ(d[0].intx_gsi, 6);		/* slot 1 INTA: 5 + (1 + 1 - 1) % 3 */
	CHECK_EQ(d[1].intx_gsi, 7);
	CHECK_EQ(d[2].intx_gsi, 5);
	CHECK_EQ(d[3].intx_gsi, 6);
	pci_irq_set(&d[0], true);
	CHECK_EQ(fv.line[6], 1);
	pci_irq_set(&d[3], true);		/* shares slot 1's line */
	pci_irq_set(&d[0], false);
	CHECK_EQ(fv.line[6], 1);
	pci_irq_set(&d[3], false);
	CHECK_EQ(fv.line[6], 0);
	pci_dev_init(&d[4], "full", 1, 2, 0, 0);
	CHECK_EQ(pci_dev_add_bar(&d[4], 0, 0x100000, false, &tdev_ops), 0);
	CHECK_EQ(pci_add_device(pci, &d[4]), -ENOSPC);	/* the rest of the window is too small */
	pci_mmio_ops.write(pci, 0x100000 - 8, &v, 8);	/* past the last BAR: dropped */
	pci_mmio_ops.read(pci, 0x100000 - 8, &v, 8);
	CHECK_EQ(v, ~0ULL);
	pci_destroy(pci);

	c.mmio_gpa = 0xfff00000;
	c.mmio_size = 0x200000;			/* crosses 4 GiB */
	CHECK_EQ(pci_create(&pci, &c), -EINVAL);
	c.mmio_size = 0x100800;			/* not page-sized */
	CHECK_EQ(pci_create(&pci, &c), -EINVAL);
	c.mmio_size = 0x100000;
	c.intx_nr_lines = 0;
	CHECK_EQ(pci_create(&pci, &c), -EINVAL);
	c.intx_nr_lines = PCI_INTX_MAX_LINES + 1;
	CHECK_EQ(pci_create(&pci, &c), -EINVAL);
}

int main(void)
{
	RUN(test_ids_and_widths);
	RUN(test_readonly_fields);
	RUN(test_bar_sizing_and_relocation);
	RUN(test_cap_walk);
	RUN(test_intx);
	RUN(test_msix);
	RUN(test_bad_setup);
	RUN(test_config_arguments);
	return test_summary();
}
