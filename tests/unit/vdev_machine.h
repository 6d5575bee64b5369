/* One machine for the virtio saved-state tests (test_vdevstate*.c): a PCI bus with one virtio function
 * and its device in a registry, driven through the virtio-pci registers by the virtqueue mock, over
 * guest RAM both machines share (as if migrated). Helpers are static inline: each test includes it. */
#ifndef CKVM_VDEV_MACHINE_H
#define CKVM_VDEV_MACHINE_H

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/virtio_net.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_blk.h>

#include "arch/x86/layout.h"
#include "backend/blk_file.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_pci.h"
#include "fake_vmm.h"
#include "test.h"
#include "vq_mock.h"

#define QSIZE	16
#define RAM_LEN	0x80000ULL
#define VP_HDR	40	/* struct vp_state */
#define VP_Q	40	/* struct vp_qstate */
#define DISK	(64 * 1024)

/* One machine: a PCI bus with one virtio function and its device, both in a registry. */
struct side {
	struct fake_vmm fv;
	struct vmm_ops ops;
	struct pci *pci;
	struct virtio_pci *vp;
	struct devreg reg;
	struct vblk *blk;
	struct vnet *net;
	struct blk_backend *be;	/* the blk's, for the test to copy images */
	uint64_t bar;
};

static struct vq_mock ram __attribute__((unused));		/* guest RAM shared by both machines (as if migrated) */
static struct vq_mock q[3] __attribute__((unused));		/* the driver's view of each queue */
static uint8_t rec_a[8192] __attribute__((unused)), rec_b[8192] __attribute__((unused)),
	tmp[8192] __attribute__((unused));

static inline int64_t deadline(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec + 5000000000LL;
}

static inline uint32_t cfgr(struct side *s, uint32_t reg, uint32_t len)
{
	uint32_t a = 0x80000000u | 1u << 11 | (reg & 0xfc), v = 0;

	pci_cfg_io_ops.write(s->pci, 0, &a, 4);
	pci_cfg_io_ops.read(s->pci, 4 + (reg & 3), &v, len);
	return v;
}

static inline void cfgw(struct side *s, uint32_t reg, uint32_t len, uint32_t v)
{
	uint32_t a = 0x80000000u | 1u << 11 | (reg & 0xfc);

	pci_cfg_io_ops.write(s->pci, 0, &a, 4);
	pci_cfg_io_ops.write(s->pci, 4 + (reg & 3), &v, len);
}

static inline uint64_t rd(struct side *s, uint64_t off, uint32_t len)
{
	uint64_t v = 0;

	pci_mmio_ops.read(s->pci, s->bar + off - LAYOUT_PCI_MMIO_GPA, &v, len);
	return v;
}

static inline void wr(struct side *s, uint64_t off, uint32_t len, uint64_t v)
{
	pci_mmio_ops.write(s->pci, s->bar + off - LAYOUT_PCI_MMIO_GPA, &v, len);
}

/* Queue k's rings in their own 64 KiB of the shared RAM (queue 0 keeps the mock's own). */
static inline void ram_init(void)
{
	CHECK_EQ(vqm_init(&ram, QSIZE, RAM_LEN), 0);
	for (unsigned k = 0; k < 3; k++) {
		uint64_t base = VQM_RAM_GPA + 0x10000ULL * (k + 1);

		q[k] = ram;
		q[k].desc_gpa = base;
		q[k].avail_gpa = base + 16 * QSIZE;
		q[k].used_gpa = base + 0x400;
		q[k].heap_gpa = base + 0x1000;
	}
}

static inline void side_init(struct side *s, bool net, int tap_fd)
{
	struct virtio_dev *vd;

	memset(s, 0, sizeof(*s));
	fake_vmm_init(&s->fv, &s->ops);
	s->fv.no_irqfd = true;		/* every interrupt is an msi_send we can count */
	CHECK_EQ(pci_create(&s->pci, &(struct pci_config)LAYOUT_PCI_CONFIG(&s->ops)), 0);
	if (net) {
		struct vnet_config nc = { .tap_fd = tap_fd, .mac = { 2, 0, 0, 0, 0, 1 }, .gm = &ram.gm,
					  .name = "net0", .queue_size = QSIZE };

		CHECK_EQ(vnet_create(&s->net, &nc), 0);
		vd = vnet_virtio(s->net);
		CHECK_EQ(devreg_add(&s->reg, vnet_device(s->net)), 0);
	} else {
		CHECK_EQ(blk_mem_create(&s->be, DISK, false), 0);
		CHECK_EQ(vblk_create(&s->blk, &(struct vblk_config){ .backend = s->be, .gm = &ram.gm,
				     .name = "disk0", .queue_size = QSIZE }), 0);
		vd = vblk_virtio(s->blk);
		CHECK_EQ(devreg_add(&s->reg, vblk_device(s->blk)), 0);
	}
	CHECK_EQ(virtio_pci_create(&s->vp, s->pci, vd, NULL), 0);
	CHECK_EQ(devreg_add(&s->reg, virtio_pci_device(s->vp)), 0);
	s->bar = cfgr(s, PCI_BASE_ADDRESS_0, 4) & ~0xfull;
}

/* As the board ends a VM: stop every device (the blk worker leaves the queue), then destroy. */
static inline void side_free(struct side *s)
{
	devreg_stop(&s->reg, deadline());
	devreg_destroy(&s->reg);
	pci_destroy(s->pci);
}

/* What a driver does: features, MSI-X on with every vector unmasked (config 0, queue k -> k + 1),
 * the queues, DRIVER_OK. The guest first moves the BAR, so a restore must move it too. */
static inline void driver_up(struct side *s, uint64_t feat, unsigned nq)
{
	struct pci_dev *pd = virtio_pci_dev(s->vp);
	uint64_t moved = s->bar + 0x100000;

	cfgw(s, PCI_BASE_ADDRESS_0, 4, (uint32_t)moved);
	s->bar = moved;
	cfgw(s, pd->msix->cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	for (unsigned v = 0; v <= nq; v++) {
		wr(s, VPCI_MSIX_TABLE_OFF + 16 * v, 4, 0xfee00000u);
		wr(s, VPCI_MSIX_TABLE_OFF + 16 * v + 8, 4, 0x40 + v);
		wr(s, VPCI_MSIX_TABLE_OFF + 16 * v + 12, 4, 0);
	}
	wr(s, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(s, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	wr(s, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)feat);
	wr(s, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	wr(s, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)(feat >> 32));
	wr(s, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK);
	wr(s, VIRTIO_PCI_COMMON_MSIX, 2, 0);
	for (unsigned k = 0; k < nq; k++) {
		wr(s, VIRTIO_PCI_COMMON_Q_SELECT, 2, k);
		wr(s, VIRTIO_PCI_COMMON_Q_SIZE, 2, QSIZE);
		wr(s, VIRTIO_PCI_COMMON_Q_MSIX, 2, k + 1);
		wr(s, VIRTIO_PCI_COMMON_Q_DESCLO, 8, q[k].desc_gpa);
		wr(s, VIRTIO_PCI_COMMON_Q_AVAILLO, 8, q[k].avail_gpa);
		wr(s, VIRTIO_PCI_COMMON_Q_USEDLO, 8, q[k].used_gpa);
		wr(s, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	}
	wr(s, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);	/* something else than the reset value */
	wr(s, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

static inline void kick(struct side *s, uint16_t k)
{
	wr(s, VPCI_NOTIFY_OFF + VPCI_NOTIFY_MULT * k, 2, k);
}

/* Everything the guest can read without side effects (the ISR read acknowledges: left out). */
static inline size_t regs(struct side *s, uint8_t *out, unsigned nq, uint32_t cfg_len)
{
	size_t n = 0;
	uint16_t sel = (uint16_t)rd(s, VIRTIO_PCI_COMMON_Q_SELECT, 2);
	struct pci_dev *pd = virtio_pci_dev(s->vp);

	for (uint32_t r = 0; r < PCI_CFG_SIZE; r += 4, n += 4) {
		uint32_t v = cfgr(s, r, 4);

		memcpy(out + n, &v, 4);
	}
	for (uint32_t o = 0; o < 0x38; o++)
		out[n++] = (uint8_t)rd(s, o, 1);
	for (unsigned k = 0; k < nq; k++) {
		wr(s, VIRTIO_PCI_COMMON_Q_SELECT, 2, k);
		for (uint32_t o = VIRTIO_PCI_COMMON_Q_SIZE; o < 0x38; o++)
			out[n++] = (uint8_t)rd(s, o, 1);
	}
	wr(s, VIRTIO_PCI_COMMON_Q_SELECT, 2, sel);
	for (uint32_t o = 0; o < cfg_len; o++)
		out[n++] = (uint8_t)rd(s, VPCI_DEVICE_OFF + o, 1);
	for (uint32_t o = 0; o < pd->msix->nvec * 16u; o += 4, n += 4) {
		uint32_t v = (uint32_t)rd(s, VPCI_MSIX_TABLE_OFF + o, 4);

		memcpy(out + n, &v, 4);
	}
	out[n++] = (uint8_t)rd(s, VPCI_MSIX_PBA_OFF, 1);
	return n;
}

/* Save every device of a (paused) machine in registry order. */
static inline size_t save_all(struct side *s, uint8_t *buf, size_t cap)
{
	struct device *d;
	size_t off = 0;

	devreg_for_each(&s->reg, d) {
		ssize_t n = device_save(d, buf + off, cap - off);

		CHECK(n > 0);
		if (n <= 0)
			return 0;
		off += (size_t)n;
	}
	return off;
}

static inline int restore_all(struct side *s, const uint8_t *buf, size_t len)
{
	struct device *d;
	size_t off = 0, used = 0;
	int ret;

	devreg_for_each(&s->reg, d) {
		if ((ret = device_restore(d, buf + off, len - off, &used)))
			return ret;
		off += used;
	}
	return off == len ? 0 : -EINVAL;
}

/* With VDEVSTATE_SEEDS=DIR, the records of a registry (as save_all wrote them) become seeds of
 * tests/fuzz/fuzz_devstate.c: one file per device and form (payload alone, whole record). first is
 * the fuzzer's selector of the registry's first device. */
static inline void write_seeds(const char *what, uint8_t first, const uint8_t *rec, size_t len)
{
	const char *dir = getenv("VDEVSTATE_SEEDS");
	size_t off = 0;

	for (uint8_t sel = first; dir && off + 64 <= len; sel++) {
		uint32_t plen;

		memcpy(&plen, rec + off + 8, 4);
		for (int whole = 0; whole < 2; whole++) {
			char path[512];
			FILE *f;
			uint8_t s = (uint8_t)(sel | (whole ? 4 : 0));

			snprintf(path, sizeof(path), "%s/%s-%u", dir, what, s);
			f = fopen(path, "wb");
			if (!f)
				continue;
			fwrite(&s, 1, 1, f);
			fwrite(rec + off + (whole ? 0 : 64), 1, whole ? 64 + plen : plen, f);
			fclose(f);
		}
		off += 64 + plen;
	}
}

/* Poll the driver side of queue k for a used entry (bounded: 5 s). */
static inline int wait_used(struct vq_mock *m, uint32_t *id, uint32_t *len)
{
	for (int i = 0; i < 5000; i++) {
		if (vqm_get_used(m, id, len))
			return 1;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	return 0;
}

/* Record bytes at off (inside the record after the CKDV header) XORed with x: refused, nothing
 * changed on s (whose registers were `before`). */
static inline void refuse(struct side *s, struct device *d, const uint8_t *rec, size_t len, size_t off,
		   uint8_t x, const uint8_t *before, size_t blen, unsigned nq, uint32_t cfg_len)
{
	size_t used = 0, hdr = 64;	/* struct device_record */
	uint8_t now[2048];

	memcpy(tmp, rec, len);
	tmp[hdr + off] ^= x;
	CHECK_EQ(device_restore(d, tmp, len, &used), -EINVAL);
	CHECK_EQ(regs(s, now, nq, cfg_len), blen);
	if (memcmp(now, before, blen)) {
		printf("  record offset %zu ^ %#x changed the device\n", off, x);
		CHECK(0);
	}
}

#endif
