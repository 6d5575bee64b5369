/* virtio-pci modern transport with a fake virtio device: capabilities, feature negotiation, status
 * state machine, queue registers, doorbells (MMIO and ioeventfd), interrupts (INTx/ISR and MSI-X). */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>

#include "arch/x86/acpi.h"
#include "virtio/virtio_pci.h"
#include "fake_vmm.h"
#include "test.h"

#define RAM_GPA 0x100000ULL
#define RAM_LEN 0x10000ULL
#define FEAT_A (1ULL << 5)
#define FEAT_B (1ULL << 40)

struct fdev {
	struct virtio_dev vdev;
	struct virtq vq[2];
	int resets, activates, activate_ret, notifies[2], cfg_reads, cfg_writes;
	struct evloop *stop_ev;		/* notify stops this loop (ioeventfd test) */
	uint8_t cfg[8];
};

static uint64_t fd_get_features(struct virtio_dev *d)
{
	(void)d;
	return FEAT_A | FEAT_B;
}

static void fd_cfg_read(struct virtio_dev *d, uint32_t off, void *data, uint32_t len)
{
	struct fdev *f = virtio_container_of(d, struct fdev, vdev);

	f->cfg_reads++;
	memcpy(data, f->cfg + off, len);
}

static void fd_cfg_write(struct virtio_dev *d, uint32_t off, const void *data, uint32_t len)
{
	struct fdev *f = virtio_container_of(d, struct fdev, vdev);

	f->cfg_writes++;
	memcpy(f->cfg + off, data, len);
}

static int fd_activate(struct virtio_dev *d)
{
	struct fdev *f = virtio_container_of(d, struct fdev, vdev);

	f->activates++;
	return f->activate_ret;
}

static void fd_reset(struct virtio_dev *d)
{
	struct fdev *f = virtio_container_of(d, struct fdev, vdev);

	f->resets++;
}

static void fd_notify(struct virtio_dev *d, uint16_t q)
{
	struct fdev *f = virtio_container_of(d, struct fdev, vdev);

	f->notifies[q]++;
	if (f->stop_ev)
		evloop_stop(f->stop_ev);
}

static const struct virtio_dev_ops fd_ops = {
	.get_features = fd_get_features, .cfg_read = fd_cfg_read, .cfg_write = fd_cfg_write,
	.activate = fd_activate, .reset = fd_reset, .notify = fd_notify,
};

struct env {
	struct fake_vmm fv;
	struct vmm_ops ops;
	struct guest_mem gm;
	uint8_t *ram;
	struct pci *pci;
	struct evloop *ev;
	struct fdev f;
	struct virtio_pci *vp;
	uint64_t bar;
	int slot;
};

static uint32_t cfgr(struct env *e, uint32_t reg, uint32_t len)
{
	uint32_t a = 0x80000000u | (uint32_t)e->slot << 11 | (reg & 0xfc), v = 0;

	pci_cfg_io_ops.write(e->pci, 0, &a, 4);
	pci_cfg_io_ops.read(e->pci, 4 + (reg & 3), &v, len);
	return v;
}

static void cfgw(struct env *e, uint32_t reg, uint32_t len, uint32_t v)
{
	uint32_t a = 0x80000000u | (uint32_t)e->slot << 11 | (reg & 0xfc);

	pci_cfg_io_ops.write(e->pci, 0, &a, 4);
	pci_cfg_io_ops.write(e->pci, 4 + (reg & 3), &v, len);
}

static uint64_t rd(struct env *e, uint64_t off, uint32_t len)
{
	uint64_t v = 0;

	pci_mmio_ops.read(e->pci, e->bar + off - LAYOUT_PCI_MMIO_GPA, &v, len);
	return v;
}

static void wr(struct env *e, uint64_t off, uint32_t len, uint64_t v)
{
	pci_mmio_ops.write(e->pci, e->bar + off - LAYOUT_PCI_MMIO_GPA, &v, len);
}

static void setup(struct env *e)
{
	memset(e, 0, sizeof(*e));
	fake_vmm_init(&e->fv, &e->ops);
	e->ram = calloc(1, RAM_LEN);
	CHECK_EQ(gm_add_region(&e->gm, RAM_GPA, RAM_LEN, e->ram), 0);
	CHECK_EQ(pci_create(&e->pci, &(struct pci_config)LAYOUT_PCI_CONFIG(&e->ops)), 0);
	CHECK_EQ(evloop_create(&e->ev), 0);
	e->f.vdev = (struct virtio_dev){
		.ops = &fd_ops, .name = "fake", .device_id = 1, .num_queues = 2, .queue_size_max = 16,
		.cfg_len = 6, .vq = e->f.vq, .gm = &e->gm,
	};
	memcpy(e->f.cfg, "abcdef", 6);
	CHECK_EQ(virtio_pci_create(&e->vp, e->pci, &e->f.vdev, e->ev), 0);
	e->slot = virtio_pci_dev(e->vp)->slot;
	CHECK_EQ(e->slot, 1);
	e->bar = cfgr(e, PCI_BASE_ADDRESS_0, 4) & ~0xfull;
	CHECK(e->bar >= LAYOUT_PCI_MMIO_GPA);
	CHECK_EQ(e->f.resets, 1);	/* the transport starts from a reset device */
}

static void teardown(struct env *e)
{
	virtio_pci_destroy(e->vp);
	CHECK_EQ(e->fv.ioev_nr, 0);
	evloop_destroy(e->ev);
	pci_destroy(e->pci);
	free(e->ram);
}

static void status_w(struct env *e, uint8_t s)
{
	wr(e, VIRTIO_PCI_COMMON_STATUS, 1, s);
}

static uint8_t status_r(struct env *e)
{
	return (uint8_t)rd(e, VIRTIO_PCI_COMMON_STATUS, 1);
}

/* ACKNOWLEDGE, DRIVER, features, FEATURES_OK; returns the status read back. */
static uint8_t negotiate(struct env *e, uint64_t feat)
{
	status_w(e, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	status_w(e, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(e, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	wr(e, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)feat);
	wr(e, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	wr(e, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)(feat >> 32));
	status_w(e, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	return status_r(e);
}

/* Rings for queue q inside RAM: desc at RAM_GPA + q*0x1000, avail +0x400, used +0x800. */
static void setup_queue(struct env *e, uint16_t q, uint16_t size)
{
	uint64_t base = RAM_GPA + q * 0x1000ULL;

	wr(e, VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
	wr(e, VIRTIO_PCI_COMMON_Q_SIZE, 2, size);
	wr(e, VIRTIO_PCI_COMMON_Q_DESCLO, 8, base);
	wr(e, VIRTIO_PCI_COMMON_Q_AVAILLO, 4, (uint32_t)(base + 0x400));
	wr(e, VIRTIO_PCI_COMMON_Q_AVAILHI, 4, 0);
	wr(e, VIRTIO_PCI_COMMON_Q_USEDLO, 4, (uint32_t)(base + 0x800));
	wr(e, VIRTIO_PCI_COMMON_Q_USEDHI, 4, 0);
	wr(e, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
}

static void test_ids_and_caps(void)
{
	struct env e;
	uint32_t ptr, seen = 0;

	setup(&e);
	CHECK_EQ(cfgr(&e, PCI_VENDOR_ID, 2), 0x1af4);
	CHECK_EQ(cfgr(&e, PCI_DEVICE_ID, 2), 0x1041);
	CHECK_EQ(cfgr(&e, PCI_REVISION_ID, 1), 1);
	CHECK_EQ(cfgr(&e, PCI_CLASS_REVISION, 4) >> 8, 0x020000);
	CHECK_EQ(cfgr(&e, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	CHECK_EQ(cfgr(&e, PCI_INTERRUPT_PIN, 1), 1);
	for (ptr = cfgr(&e, PCI_CAPABILITY_LIST, 1); ptr; ptr = cfgr(&e, ptr + 1, 1)) {
		uint32_t type, off, len;

		if (cfgr(&e, ptr, 1) == PCI_CAP_ID_MSIX) {
			CHECK_EQ(cfgr(&e, ptr + PCI_MSIX_FLAGS, 2), 2);	/* 3 vectors */
			seen |= 1u << 7;
			continue;
		}
		CHECK_EQ(cfgr(&e, ptr, 1), PCI_CAP_ID_VNDR);
		type = cfgr(&e, ptr + VIRTIO_PCI_CAP_CFG_TYPE, 1);
		off = cfgr(&e, ptr + VIRTIO_PCI_CAP_OFFSET, 4);
		len = cfgr(&e, ptr + VIRTIO_PCI_CAP_LENGTH, 4);
		CHECK_EQ(cfgr(&e, ptr + VIRTIO_PCI_CAP_BAR, 1), 0);
		CHECK(off + len <= VPCI_BAR_SIZE);
		seen |= 1u << type;
		if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
			CHECK_EQ(cfgr(&e, ptr + VIRTIO_PCI_CAP_LEN, 1), sizeof(struct virtio_pci_notify_cap));
			CHECK_EQ(cfgr(&e, ptr + VIRTIO_PCI_NOTIFY_CAP_MULT, 4), VPCI_NOTIFY_MULT);
		}
		if (type == VIRTIO_PCI_CAP_DEVICE_CFG)
			CHECK_EQ(len, 6);
		if (type == VIRTIO_PCI_CAP_COMMON_CFG)
			CHECK_EQ(len, 0x38);
	}
	CHECK_EQ(seen, (1u << 7) | (1u << VIRTIO_PCI_CAP_COMMON_CFG) | (1u << VIRTIO_PCI_CAP_NOTIFY_CFG) |
			       (1u << VIRTIO_PCI_CAP_ISR_CFG) | (1u << VIRTIO_PCI_CAP_DEVICE_CFG));
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_NUMQ, 2), 2);
	teardown(&e);
}

static void test_features(void)
{
	struct env e;

	setup(&e);
	wr(&e, VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_DF, 4), FEAT_A);
	wr(&e, VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_DF, 4), (FEAT_B >> 32) | 1);	/* VERSION_1 is bit 32 */
	wr(&e, VIRTIO_PCI_COMMON_DFSELECT, 4, 7);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_DF, 4), 0);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_DFSELECT, 4), 7);
	/* an unoffered bit: FEATURES_OK does not stick */
	CHECK(!(negotiate(&e, FEAT_A | (1ULL << VIRTIO_F_VERSION_1) | (1ULL << 3)) & VIRTIO_CONFIG_S_FEATURES_OK));
	status_w(&e, 0);
	CHECK_EQ(e.f.resets, 2);
	CHECK_EQ(status_r(&e), 0);
	/* no VERSION_1: refused */
	CHECK(!(negotiate(&e, FEAT_A) & VIRTIO_CONFIG_S_FEATURES_OK));
	status_w(&e, 0);
	/* a proper subset is accepted and becomes d->features; later feature writes are ignored */
	CHECK(negotiate(&e, FEAT_B | (1ULL << VIRTIO_F_VERSION_1)) & VIRTIO_CONFIG_S_FEATURES_OK);
	CHECK_EQ(e.f.vdev.features, FEAT_B | (1ULL << VIRTIO_F_VERSION_1));
	wr(&e, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	wr(&e, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)FEAT_A);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_GF, 4), 0);
	CHECK_EQ(e.f.vdev.features, FEAT_B | (1ULL << VIRTIO_F_VERSION_1));
	/* the driver cannot clear bits or set NEEDS_RESET itself */
	status_w(&e, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK_EQ(status_r(&e), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	/* DRIVER_OK -> activate */
	status_w(&e, status_r(&e) | VIRTIO_CONFIG_S_DRIVER_OK);
	CHECK_EQ(e.f.activates, 1);
	CHECK(status_r(&e) & VIRTIO_CONFIG_S_DRIVER_OK);
	/* reset clears the negotiated features */
	status_w(&e, 0);
	CHECK_EQ(e.f.vdev.features, 0);
	/* DRIVER_OK without FEATURES_OK is not accepted; a failing activate means NEEDS_RESET */
	status_w(&e, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK);
	CHECK(!(status_r(&e) & VIRTIO_CONFIG_S_DRIVER_OK));
	CHECK_EQ(e.f.activates, 1);
	status_w(&e, 0);
	e.f.activate_ret = -EIO;
	negotiate(&e, 1ULL << VIRTIO_F_VERSION_1);
	status_w(&e, status_r(&e) | VIRTIO_CONFIG_S_DRIVER_OK);
	CHECK(status_r(&e) & VIRTIO_CONFIG_S_NEEDS_RESET);
	teardown(&e);
}

static void test_queues(void)
{
	struct env e;
	uint8_t isr;

	setup(&e);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_SIZE, 2), 16);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	/* enabling before FEATURES_OK is refused */
	setup_queue(&e, 0, 8);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	CHECK(!vq_enabled(&e.f.vq[0]));
	negotiate(&e, 1ULL << VIRTIO_F_VERSION_1);
	setup_queue(&e, 0, 8);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	CHECK(vq_enabled(&e.f.vq[0]));
	CHECK_EQ(e.f.vq[0].size, 8);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_DESCLO, 8), RAM_GPA);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_NOFF, 2), 0);
	/* frozen after enable */
	wr(&e, VIRTIO_PCI_COMMON_Q_SIZE, 2, 4);
	wr(&e, VIRTIO_PCI_COMMON_Q_DESCLO, 4, 0x1234);
	wr(&e, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 0);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_SIZE, 2), 8);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_DESCLO, 4), RAM_GPA);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	/* vectors beyond the table read back NO_VECTOR */
	wr(&e, VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_MSIX, 2), 2);
	wr(&e, VIRTIO_PCI_COMMON_Q_MSIX, 2, 3);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	/* bad queue_select: reads 0, writes vanish */
	wr(&e, VIRTIO_PCI_COMMON_Q_SELECT, 2, 9);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_SELECT, 2), 9);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	wr(&e, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	wr(&e, VIRTIO_PCI_COMMON_Q_DESCLO, 4, 0);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	/* a ring outside RAM: NEEDS_RESET plus a config interrupt (INTx, MSI-X is off) */
	CHECK_EQ(e.fv.line[x86_pci_intx_gsi(1, 0)], 0);
	wr(&e, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	wr(&e, VIRTIO_PCI_COMMON_Q_DESCLO, 8, 0x80000000ULL);
	wr(&e, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	CHECK(status_r(&e) & VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK_EQ(e.fv.line[x86_pci_intx_gsi(1, 0)], 1);
	isr = (uint8_t)rd(&e, VPCI_ISR_OFF, 1);
	CHECK_EQ(isr, VIRTIO_PCI_ISR_CONFIG);
	CHECK_EQ(e.fv.line[x86_pci_intx_gsi(1, 0)], 0);
	CHECK_EQ(rd(&e, VPCI_ISR_OFF, 1), 0);
	/* a non-power-of-two size is refused too */
	status_w(&e, 0);
	negotiate(&e, 1ULL << VIRTIO_F_VERSION_1);
	setup_queue(&e, 1, 12);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	/* reset disables the queues and restores defaults */
	status_w(&e, 0);
	CHECK(!vq_enabled(&e.f.vq[0]));
	wr(&e, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_SIZE, 2), 16);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	teardown(&e);
}

static void test_mmio_notify_and_ranges(void)
{
	struct env e;

	setup(&e);
	negotiate(&e, 1ULL << VIRTIO_F_VERSION_1);
	setup_queue(&e, 0, 16);
	wr(&e, VPCI_NOTIFY_OFF, 2, 0);
	CHECK_EQ(e.f.notifies[0], 0);		/* before DRIVER_OK */
	status_w(&e, status_r(&e) | VIRTIO_CONFIG_S_DRIVER_OK);
	wr(&e, VPCI_NOTIFY_OFF, 2, 0);
	CHECK_EQ(e.f.notifies[0], 1);
	wr(&e, VPCI_NOTIFY_OFF + 4, 2, 1);	/* queue 1 is not enabled */
	CHECK_EQ(e.f.notifies[1], 0);
	wr(&e, VPCI_NOTIFY_OFF + 2, 2, 0);	/* between doorbells */
	wr(&e, VPCI_NOTIFY_OFF + 8, 2, 2);	/* beyond the last queue */
	CHECK_EQ(e.f.notifies[0] + e.f.notifies[1], 1);
	/* device config window: bounded by cfg_len */
	CHECK_EQ(rd(&e, VPCI_DEVICE_OFF + 2, 4), 0x66656463);
	CHECK_EQ(e.f.cfg_reads, 1);
	CHECK_EQ(rd(&e, VPCI_DEVICE_OFF + 4, 4), 0);
	wr(&e, VPCI_DEVICE_OFF + 5, 2, 0x4141);
	CHECK_EQ(e.f.cfg_reads + e.f.cfg_writes, 1);
	wr(&e, VPCI_DEVICE_OFF + 5, 1, 0x41);
	CHECK_EQ(e.f.cfg[5], 0x41);
	/* odd widths and holes in the common config are ignored */
	wr(&e, VIRTIO_PCI_COMMON_STATUS, 4, 0);
	CHECK(status_r(&e) & VIRTIO_CONFIG_S_DRIVER_OK);
	wr(&e, VIRTIO_PCI_COMMON_Q_SELECT, 1, 1);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
	wr(&e, VIRTIO_PCI_COMMON_NUMQ, 2, 9);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_NUMQ, 2), 2);
	wr(&e, VIRTIO_PCI_COMMON_Q_DESCHI, 8, 0);
	CHECK_EQ(rd(&e, 0x36, 4), 0);		/* runs past the common window */
	CHECK_EQ(rd(&e, 0x7ff0, 8), 0);	/* a hole in the BAR */
	wr(&e, 0x7ff0, 8, 1);
	CHECK_EQ(e.f.resets, 1);
	teardown(&e);
}

static void *loop_thread(void *arg)
{
	evloop_run(arg);
	return NULL;
}

static void test_ioeventfd(void)
{
	struct env e;
	pthread_t th;
	struct timespec ts;
	uint64_t one = 1, moved = LAYOUT_PCI_MMIO_GPA + 0x200000;
	int efd;

	setup(&e);
	CHECK_EQ(e.fv.ioev_nr, 2);
	efd = fake_ioev_at(&e.fv, e.bar + VPCI_NOTIFY_OFF + 4);
	CHECK(efd >= 0);
	/* relocating the BAR moves the doorbells */
	cfgw(&e, PCI_BASE_ADDRESS_0, 4, (uint32_t)moved);
	CHECK_EQ(fake_ioev_at(&e.fv, e.bar + VPCI_NOTIFY_OFF + 4), -1);
	CHECK_EQ(fake_ioev_at(&e.fv, moved + VPCI_NOTIFY_OFF + 4), efd);
	cfgw(&e, PCI_COMMAND, 2, 0);
	CHECK_EQ(e.fv.ioev_nr, 0);
	cfgw(&e, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK_EQ(e.fv.ioev_nr, 2);
	e.bar = moved;
	negotiate(&e, 1ULL << VIRTIO_F_VERSION_1);
	setup_queue(&e, 1, 16);
	status_w(&e, status_r(&e) | VIRTIO_CONFIG_S_DRIVER_OK);
	/* the guest's doorbell write as KVM would signal it: the loop thread calls notify(1) */
	e.f.stop_ev = e.ev;
	CHECK_EQ(pthread_create(&th, NULL, loop_thread, e.ev), 0);
	CHECK_EQ(write(efd, &one, sizeof(one)), 8);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	if (pthread_timedjoin_np(th, NULL, &ts) != 0) {
		CHECK(!"notify not delivered through the event loop");
		evloop_stop(e.ev);
		pthread_join(th, NULL);
	}
	CHECK_EQ(e.f.notifies[1], 1);
	teardown(&e);
}

static void test_interrupts(void)
{
	struct env e;
	uint32_t cap = 0, ptr;
	uint64_t cnt = 0;
	int gsi;

	setup(&e);
	for (ptr = cfgr(&e, PCI_CAPABILITY_LIST, 1); ptr; ptr = cfgr(&e, ptr + 1, 1))
		if (cfgr(&e, ptr, 1) == PCI_CAP_ID_MSIX)
			cap = ptr;
	negotiate(&e, 1ULL << VIRTIO_F_VERSION_1);
	setup_queue(&e, 0, 16);
	/* a config change before DRIVER_OK (a drive swapped before the driver is up): no interrupt */
	e.f.vdev.signal_config(&e.f.vdev);
	CHECK_EQ(e.fv.line[x86_pci_intx_gsi(1, 0)], 0);
	CHECK_EQ(rd(&e, VPCI_ISR_OFF, 1), 0);
	status_w(&e, status_r(&e) | VIRTIO_CONFIG_S_DRIVER_OK);
	/* INTx: used buffer -> ISR bit 0, line up until the ISR is read */
	e.f.vdev.signal_used(&e.f.vdev, 0);
	CHECK_EQ(e.fv.line[x86_pci_intx_gsi(1, 0)], 1);
	CHECK_EQ(rd(&e, VPCI_ISR_OFF, 1), 1);
	CHECK_EQ(e.fv.line[x86_pci_intx_gsi(1, 0)], 0);
	/* config change bumps config_generation */
	cnt = rd(&e, VIRTIO_PCI_COMMON_CFGGENERATION, 1);
	e.f.vdev.signal_config(&e.f.vdev);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_CFGGENERATION, 1), (cnt + 1) & 0xff);
	CHECK_EQ(rd(&e, VPCI_ISR_OFF, 1), VIRTIO_PCI_ISR_CONFIG);
	/* MSI-X: vector 1 for queue 0 */
	cfgw(&e, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	wr(&e, VPCI_MSIX_TABLE_OFF + 16, 4, 0xfee00000);
	wr(&e, VPCI_MSIX_TABLE_OFF + 16 + 8, 4, 0x4051);
	wr(&e, VPCI_MSIX_TABLE_OFF + 16 + 12, 4, 0);
	wr(&e, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	wr(&e, VIRTIO_PCI_COMMON_Q_MSIX, 2, 1);
	gsi = virtio_pci_dev(e.vp)->msix->vec[1].gsi;
	CHECK(gsi >= 0 && e.fv.irqfd_efd[gsi] >= 0);
	e.f.vdev.signal_used(&e.f.vdev, 0);
	CHECK_EQ(read(e.fv.irqfd_efd[gsi], &cnt, 8), 8);
	CHECK_EQ(e.fv.line[x86_pci_intx_gsi(1, 0)], 0);
	CHECK_EQ(rd(&e, VPCI_ISR_OFF, 1), 0);
	/* NO_VECTOR for config: no interrupt at all */
	e.f.vdev.signal_config(&e.f.vdev);
	CHECK_EQ(e.fv.line[x86_pci_intx_gsi(1, 0)], 0);
	/* the config vector: a config change (a drive swap) is an MSI-X message, not ISR + INTx */
	wr(&e, VPCI_MSIX_TABLE_OFF + 0, 4, 0xfee00000);
	wr(&e, VPCI_MSIX_TABLE_OFF + 8, 4, 0x4052);
	wr(&e, VPCI_MSIX_TABLE_OFF + 12, 4, 0);
	wr(&e, VIRTIO_PCI_COMMON_MSIX, 2, 0);
	CHECK_EQ(rd(&e, VIRTIO_PCI_COMMON_MSIX, 2), 0);
	e.f.vdev.signal_config(&e.f.vdev);
	gsi = virtio_pci_dev(e.vp)->msix->vec[0].gsi;
	CHECK(gsi >= 0 && e.fv.irqfd_efd[gsi] >= 0);
	if (gsi >= 0)
		CHECK_EQ(read(e.fv.irqfd_efd[gsi], &cnt, 8), 8);
	CHECK_EQ(rd(&e, VPCI_ISR_OFF, 1), 0);
	CHECK_EQ(e.fv.line[x86_pci_intx_gsi(1, 0)], 0);
	gsi = virtio_pci_dev(e.vp)->msix->vec[1].gsi;
	/* a masked vector is held pending in the PBA */
	wr(&e, VPCI_MSIX_TABLE_OFF + 16 + 12, 4, 1);
	e.f.vdev.signal_used(&e.f.vdev, 0);
	CHECK_EQ(rd(&e, VPCI_MSIX_PBA_OFF, 8), 2);
	wr(&e, VPCI_MSIX_TABLE_OFF + 16 + 12, 4, 0);
	CHECK_EQ(read(e.fv.irqfd_efd[gsi], &cnt, 8), 8);
	/* signals for bad queues are ignored */
	e.f.vdev.signal_used(&e.f.vdev, 7);
	teardown(&e);
}

int main(void)
{
	RUN(test_ids_and_caps);
	RUN(test_features);
	RUN(test_queues);
	RUN(test_mmio_notify_and_ranges);
	RUN(test_ioeventfd);
	RUN(test_interrupts);
	return test_summary();
}
