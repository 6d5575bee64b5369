/* libFuzzer target for PCI configuration space and MMIO dispatch (src/dev/pci.c), MSI-X (msix.c) and
 * the virtio-pci transport (src/virtio/virtio_pci.c, virtio 1.2 §4.1): the input is a sequence of
 * guest operations (fuzz_pci.h) against the host bridge and one virtio-pci function whose stub device
 * serves its queues. A fresh bus per input; the fake vmm_ops record interrupts. Single-threaded. */
#include <assert.h>
#include <stdlib.h>
#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>

#include "arch/x86/layout.h"
#include "fake_vmm.h"
#include "fuzz_input.h"
#include "fuzz_pci.h"
#include "log.h"
#include "virtio/virtio_pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t ram[FUZZ_PCI_RAM_LEN] __attribute__((aligned(4096)));
static struct vq_chain chain;

/* A stub virtio device: two queues whose chains are popped and returned as fully written. */
struct stub {
	struct virtio_dev vdev;
	struct virtq vq[2];
	uint8_t cfg[12];
	bool active;
};

static uint64_t stub_features(struct virtio_dev *d)
{
	(void)d;
	return 1ULL << VIRTIO_RING_F_EVENT_IDX | 1ULL << VIRTIO_RING_F_INDIRECT_DESC | 1ULL << 3 | 1ULL << 40;
}

static void stub_cfg_read(struct virtio_dev *d, uint32_t off, void *data, uint32_t len)
{
	struct stub *s = virtio_container_of(d, struct stub, vdev);

	assert(off < sizeof(s->cfg) && len <= sizeof(s->cfg) - off);
	memcpy(data, s->cfg + off, len);
}

static void stub_cfg_write(struct virtio_dev *d, uint32_t off, const void *data, uint32_t len)
{
	struct stub *s = virtio_container_of(d, struct stub, vdev);

	assert(off < sizeof(s->cfg) && len <= sizeof(s->cfg) - off);
	memcpy(s->cfg + off, data, len);
}

static int stub_activate(struct virtio_dev *d)
{
	struct stub *s = virtio_container_of(d, struct stub, vdev);

	s->active = true;
	return s->cfg[0] == 0xee ? -EIO : 0;	/* let the input reach the failing-activate path */
}

static void stub_reset(struct virtio_dev *d)
{
	virtio_container_of(d, struct stub, vdev)->active = false;
}

static void stub_notify(struct virtio_dev *d, uint16_t q)
{
	struct stub *s = virtio_container_of(d, struct stub, vdev);
	struct virtq *vq = &s->vq[q];
	int r, n = 0;

	assert(q < d->num_queues);
	if (!s->active)
		return;
	chain.max = vq->size ? vq->size : 1;
	while (n++ < 2 * FUZZ_PCI_QMAX && (r = vq_pop(vq, &chain)) > 0)
		vq_push(vq, chain.head, chain.wr_len);
	if (r < 0)
		virtio_needs_reset(d);
	if (vq_should_notify(vq))
		virtio_signal_used(d, q);
}

static const struct virtio_dev_ops stub_ops = {
	.get_features = stub_features, .cfg_read = stub_cfg_read, .cfg_write = stub_cfg_write,
	.activate = stub_activate, .reset = stub_reset, .notify = stub_notify,
};

struct env {
	struct fake_vmm fv;
	struct vmm_ops ops;
	struct guest_mem gm;
	struct pci *pci;
	struct stub st;
	struct virtio_pci *vp;
	struct pci_dev *pd;
};

static uint32_t cfg_addr(uint8_t devfn, uint8_t reg)
{
	return 0x80000000u | (uint32_t)devfn << 8 | (reg & 0xfcu);
}

static uint64_t cfg_io(struct env *e, uint32_t addr, uint32_t off, uint32_t len, const uint64_t *wval)
{
	uint64_t v = 0;

	pci_cfg_io_ops.write(e->pci, 0, &addr, 4);
	if (wval)
		pci_cfg_io_ops.write(e->pci, off, wval, len);
	else
		pci_cfg_io_ops.read(e->pci, off, &v, len);
	return v;
}

/* Window offset of BAR-relative offset off of the virtio function, where its BAR decodes now
 * (or where it was placed at boot, if it does not decode). */
static uint64_t bar_off(struct env *e, uint64_t off)
{
	uint64_t gpa = e->pd->bar[VPCI_BAR].mapped_gpa;

	if (!gpa)
		gpa = LAYOUT_PCI_MMIO_GPA;
	return gpa - LAYOUT_PCI_MMIO_GPA + off;
}

static void mmio(struct env *e, uint64_t win_off, uint32_t len, bool write, uint64_t v)
{
	uint64_t r = 0;

	if (win_off > LAYOUT_PCI_MMIO_SIZE - len)
		return;	/* the bus only hands the window accesses that lie inside it */
	if (write)
		pci_mmio_ops.write(e->pci, win_off, &v, len);
	else
		pci_mmio_ops.read(e->pci, win_off, &r, len);
}

static void run_op(struct env *e, struct fz *f)
{
	uint8_t op = fz_u8(f) % FZ_PCI_NR_OPS;
	uint64_t v;
	uint32_t a, len;
	uint8_t reg;
	size_t got;

	switch (op) {
	case FZ_PCI_CFG_WRITE:		/* devfn, register, width, value: one aligned type-1 write */
	case FZ_PCI_CFG_READ:
		a = fz_u8(f);
		reg = fz_u8(f);
		len = fz_width(f);
		len = len > 4 ? 4 : len;
		v = op == FZ_PCI_CFG_WRITE ? fz_u32(f) : 0;
		cfg_io(e, cfg_addr((uint8_t)a, reg), 4 + (reg & (4 - len)), len,
		       op == FZ_PCI_CFG_WRITE ? &v : NULL);
		break;
	case FZ_PCI_PORT:		/* any access to 0xcf8..0xcff, any width 1..8 */
		a = fz_u8(f);
		len = 1 + (a >> 4) % 8;
		v = fz_u64(f);
		if (a & 8)
			pci_cfg_io_ops.write(e->pci, a & 7, &v, len);
		else
			pci_cfg_io_ops.read(e->pci, a & 7, &v, len);
		break;
	case FZ_PCI_BAR_WRITE:		/* offset in the virtio BAR, width, value */
		a = fz_u16(f) % VPCI_BAR_SIZE;
		len = fz_width(f);
		mmio(e, bar_off(e, a), len, true, fz_u64(f));
		break;
	case FZ_PCI_BAR_READ:
		a = fz_u16(f) % VPCI_BAR_SIZE;
		mmio(e, bar_off(e, a), fz_width(f), false, 0);
		break;
	case FZ_PCI_WIN:		/* anywhere in the window, any width 1..8 */
		a = fz_u32(f) % LAYOUT_PCI_MMIO_SIZE;
		len = 1 + fz_u8(f) % 8;
		mmio(e, a, len, fz_u8(f) & 1, fz_u64(f));
		break;
	case FZ_PCI_RAM: {		/* the driver writes its rings: offset, length, bytes */
		uint32_t off = fz_u16(f) % FUZZ_PCI_RAM_LEN;
		const uint8_t *p = fz_bytes(f, fz_u8(f) % 33, &got);

		if (got > FUZZ_PCI_RAM_LEN - off)
			got = FUZZ_PCI_RAM_LEN - off;
		memcpy(ram + off, p, got);
		break;
	}
	case FZ_PCI_SIGNAL:		/* the device side: used buffers, config change, needs reset */
		a = fz_u8(f);
		if (a % 3 == 0)
			virtio_signal_used(&e->st.vdev, (uint16_t)(a >> 2) % 3);
		else if (a % 3 == 1)
			virtio_signal_config(&e->st.vdev);
		else
			virtio_needs_reset(&e->st.vdev);
		break;
	case FZ_PCI_NOTIFY:		/* a doorbell as the ioeventfd path delivers it */
		a = fz_u8(f) % 2;
		e->st.vdev.ops->notify(&e->st.vdev, (uint16_t)a);
		break;
	}
}

/* What no guest access may change: identities, header types, BAR types; empty slots float. */
static void check_invariants(struct env *e)
{
	assert(cfg_io(e, cfg_addr(0, PCI_VENDOR_ID), 4, 4, NULL) == (0x29c0u << 16 | 0x8086u));
	assert(cfg_io(e, cfg_addr(1 << 3, PCI_VENDOR_ID), 4, 4, NULL) == ((0x1040u + 1) << 16 | 0x1af4u));
	assert((cfg_io(e, cfg_addr(1 << 3, PCI_HEADER_TYPE), 6, 1, NULL) & 0x7f) == PCI_HEADER_TYPE_NORMAL);
	assert((cfg_io(e, cfg_addr(1 << 3, PCI_BASE_ADDRESS_0), 4, 4, NULL) & 0xf) == 0);
	assert(cfg_io(e, cfg_addr(7 << 3, PCI_VENDOR_ID), 4, 4, NULL) == 0xffffffffu);
	assert(cfg_io(e, cfg_addr(1 << 3 | 1, PCI_VENDOR_ID), 4, 4, NULL) == 0xffffffffu);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct fz f = { data, size };
	struct env e;
	int ops = 0;

	if (!ready) {
		log_threshold = LOG_ERR;
		if (vq_chain_init(&chain, FUZZ_PCI_QMAX))
			abort();
		ready = 1;
	}
	memset(&e, 0, sizeof(e));
	memset(ram, 0, sizeof(ram));
	fake_vmm_init(&e.fv, &e.ops);
	e.fv.no_irqfd = size && (data[0] & 0x80);	/* deliver with msi_send instead */
	if (gm_add_region(&e.gm, FUZZ_PCI_RAM_GPA, FUZZ_PCI_RAM_LEN, ram) || 
	    pci_create(&e.pci, &(struct pci_config)LAYOUT_PCI_CONFIG(&e.ops)))
		abort();
	e.st.vdev = (struct virtio_dev){
		.ops = &stub_ops, .name = "stub", .device_id = 1, .num_queues = 2,
		.queue_size_max = FUZZ_PCI_QMAX, .cfg_len = sizeof(e.st.cfg), .vq = e.st.vq, .gm = &e.gm,
	};
	if (virtio_pci_create(&e.vp, e.pci, &e.st.vdev, NULL))
		abort();
	e.pd = virtio_pci_dev(e.vp);
	assert(e.pd->slot == 1 && e.pd->bar[VPCI_BAR].mapped_gpa == LAYOUT_PCI_MMIO_GPA);
	while (fz_more(&f) && ops++ < FUZZ_PCI_MAX_OPS)
		run_op(&e, &f);
	check_invariants(&e);
	virtio_pci_destroy(e.vp);
	pci_destroy(e.pci);
	return 0;
}
