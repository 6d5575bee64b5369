/* Saved state of the virtio devices and their PCI functions (device.h records): a driver (the
 * virtqueue mock behind the virtio-pci registers) runs requests on one machine, which is paused and
 * saved; a fresh machine restores the records and shows the same guest-visible registers, re-routes
 * MSI-X, and the driver continues its requests there. Hostile records (each field out of range,
 * truncated, wrong version) are refused and change nothing. The hostile offsets follow the record
 * layouts in virtio_pci_state.c (vp_state 40 bytes, then 40 per queue, then the PCI function). */
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

static struct vq_mock ram;		/* guest RAM shared by both machines (as if migrated) */
static struct vq_mock q[3];		/* the driver's view of each queue */
static uint8_t rec_a[8192], rec_b[8192], tmp[8192];

static int64_t deadline(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec + 5000000000LL;
}

static uint32_t cfgr(struct side *s, uint32_t reg, uint32_t len)
{
	uint32_t a = 0x80000000u | 1u << 11 | (reg & 0xfc), v = 0;

	pci_cfg_io_ops.write(s->pci, 0, &a, 4);
	pci_cfg_io_ops.read(s->pci, 4 + (reg & 3), &v, len);
	return v;
}

static void cfgw(struct side *s, uint32_t reg, uint32_t len, uint32_t v)
{
	uint32_t a = 0x80000000u | 1u << 11 | (reg & 0xfc);

	pci_cfg_io_ops.write(s->pci, 0, &a, 4);
	pci_cfg_io_ops.write(s->pci, 4 + (reg & 3), &v, len);
}

static uint64_t rd(struct side *s, uint64_t off, uint32_t len)
{
	uint64_t v = 0;

	pci_mmio_ops.read(s->pci, s->bar + off - LAYOUT_PCI_MMIO_GPA, &v, len);
	return v;
}

static void wr(struct side *s, uint64_t off, uint32_t len, uint64_t v)
{
	pci_mmio_ops.write(s->pci, s->bar + off - LAYOUT_PCI_MMIO_GPA, &v, len);
}

/* Queue k's rings in their own 64 KiB of the shared RAM (queue 0 keeps the mock's own). */
static void ram_init(void)
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

static void side_init(struct side *s, bool net, int tap_fd)
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

static void side_free(struct side *s)
{
	devreg_destroy(&s->reg);
	pci_destroy(s->pci);
}

/* What a driver does: features, MSI-X on with every vector unmasked (config 0, queue k -> k + 1),
 * the queues, DRIVER_OK. The guest first moves the BAR, so a restore must move it too. */
static void driver_up(struct side *s, uint64_t feat, unsigned nq)
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

static void kick(struct side *s, uint16_t k)
{
	wr(s, VPCI_NOTIFY_OFF + VPCI_NOTIFY_MULT * k, 2, k);
}

/* Everything the guest can read without side effects (the ISR read acknowledges: left out). */
static size_t regs(struct side *s, uint8_t *out, unsigned nq, uint32_t cfg_len)
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
static size_t save_all(struct side *s, uint8_t *buf, size_t cap)
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

static int restore_all(struct side *s, const uint8_t *buf, size_t len)
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
static void write_seeds(const char *what, uint8_t first, const uint8_t *rec, size_t len)
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
static int wait_used(struct vq_mock *m, uint32_t *id, uint32_t *len)
{
	for (int i = 0; i < 5000; i++) {
		if (vqm_get_used(m, id, len))
			return 1;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	return 0;
}

/* A blk request: header, data (512 bytes), status. Returns the data's gpa. */
static uint64_t blk_req(uint32_t type, uint64_t sector, uint8_t fill, uint64_t *status_gpa)
{
	uint64_t h = vqm_alloc(&q[0], 16), d = vqm_alloc(&q[0], 512), st = vqm_alloc(&q[0], 16);
	struct virtio_blk_outhdr hdr = { .type = type, .sector = sector };
	bool in = type == VIRTIO_BLK_T_IN;

	memcpy(vqm_host(&q[0], h), &hdr, sizeof(hdr));
	memset(vqm_host(&q[0], d), in ? 0 : fill, 512);
	*(uint8_t *)vqm_host(&q[0], st) = 0xff;
	vqm_add(&q[0], (struct vqm_seg[]){ { h, 16, false }, { d, 512, in }, { st, 1, true } }, 3);
	*status_gpa = st;
	return d;
}

/* Record bytes at off (inside the record after the CKDV header) XORed with x: refused, nothing
 * changed on s (whose registers were `before`). */
static void refuse(struct side *s, struct device *d, const uint8_t *rec, size_t len, size_t off,
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

static void test_blk_round_trip(void)
{
	struct side a, b;
	uint8_t ra[2048], rb[2048];
	uint64_t st, data, feat = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_BLK_F_FLUSH;
	uint32_t id, len;
	size_t na, nb, len_a;
	struct device *vpdev;

	ram_init();
	side_init(&a, false, -1);
	driver_up(&a, feat, 1);
	CHECK_EQ(rd(&a, VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_DRIVER_OK);
	blk_req(VIRTIO_BLK_T_OUT, 3, 0x5a, &st);
	kick(&a, 0);
	CHECK(wait_used(&q[0], &id, &len));
	CHECK_EQ(*(uint8_t *)vqm_host(&q[0], st), VIRTIO_BLK_S_OK);
	CHECK(a.fv.sends > 0);		/* the used interrupt went out as MSI-X vector 1 */
	CHECK_EQ(a.fv.send_data, 0x41);

	CHECK_EQ(devreg_pause(&a.reg, deadline()), 0);
	len_a = save_all(&a, rec_a, sizeof(rec_a));
	CHECK(len_a > 0);
	write_seeds("blk", 0, rec_a, len_a);
	na = regs(&a, ra, 1, sizeof(struct virtio_blk_config));

	/* The new machine: its disk is the same image (shared storage), its devices paused. */
	side_init(&b, false, -1);
	memcpy(blk_mem_data(b.be), blk_mem_data(a.be), DISK);
	CHECK_EQ(devreg_pause(&b.reg, deadline()), 0);
	CHECK_EQ(restore_all(&b, rec_a, len_a), 0);
	b.bar = cfgr(&b, PCI_BASE_ADDRESS_0, 4) & ~0xfull;
	CHECK_EQ(b.bar, a.bar);		/* the BAR decodes where the guest put it */
	nb = regs(&b, rb, 1, sizeof(struct virtio_blk_config));
	CHECK_EQ(na, nb);
	CHECK(!memcmp(ra, rb, na));
	/* Every unmasked vector has a route again, with the guest's message. */
	CHECK_EQ(b.fv.routes, 2);
	CHECK_EQ(b.fv.route_data[0], 0x40);
	CHECK_EQ(b.fv.route_data[1], 0x41);

	/* A second save of the restored machine is the same record. */
	CHECK_EQ(save_all(&b, rec_b, sizeof(rec_b)), len_a);
	CHECK(!memcmp(rec_a, rec_b, len_a));

	/* Hostile transport records, each refused with b unchanged. */
	vpdev = virtio_pci_device(b.vp);
	{
		size_t off = 0, used;
		const uint8_t *vrec;
		size_t vlen;
		struct { size_t off; uint8_t x; } bad[] = {
			{ 0, 1 }, { 2, 1 }, { 4, 1 },			/* device id, queues, vectors */
			{ 16 + 7, 0x80 }, { 24 + 7, 0x80 },		/* features not offered */
			{ 24, 0x01 },					/* negotiated != written */
			{ 32, 0x07 },					/* config vector out of range */
			{ 34, 0x10 }, { 34, VIRTIO_CONFIG_S_FEATURES_OK },	/* status bits */
			{ 36, 0x04 }, { 37, 1 }, { 39, 0x80 },		/* ISR bit, padding */
			{ VP_HDR + 0, 0x08 },				/* desc misaligned */
			{ VP_HDR + 3, 0x80 }, { VP_HDR + 8 + 4, 0x10 },	/* desc, avail outside RAM */
			{ VP_HDR + 16 + 2, 0x80 },			/* used outside RAM */
			{ VP_HDR + 24, 0x13 }, { VP_HDR + 25, 0x01 },	/* size: not 2^n, > max */
			{ VP_HDR + 26, 0x07 },				/* queue vector out of range */
			{ VP_HDR + 28, 0x02 },				/* enable = 2 */
			{ VP_HDR + 30, 0x01 }, { VP_HDR + 32, 0x01 },	/* requests in flight */
			{ VP_HDR + 34, 0x02 }, { VP_HDR + 36, 0x01 },	/* broken = 2, padding */
			{ VP_HDR + VP_Q + 0, 0x01 },			/* PCI vendor id (read-only) */
			{ VP_HDR + VP_Q + PCI_HEADER_TYPE, 0x80 },	/* header type */
			{ VP_HDR + VP_Q + PCI_BASE_ADDRESS_0, 0x04 },	/* BAR flags (64-bit) */
			{ VP_HDR + VP_Q + 256 + 12, 0x02 },		/* MSI-X ctrl reserved bit */
			{ VP_HDR + VP_Q + 256 + 32, 0x04 },		/* PBA bit past the last vector */
		};

		CHECK_EQ(device_restore(vblk_device(b.blk), rec_a, len_a, &off), 0);
		vrec = rec_a + off;
		vlen = len_a - off;
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			refuse(&b, vpdev, vrec, vlen, bad[i].off, bad[i].x, rb, nb, 1,
			       sizeof(struct virtio_blk_config));
		/* truncated, one byte longer, another version, another device's name */
		memcpy(tmp, vrec, vlen);
		CHECK_EQ(device_restore(vpdev, tmp, vlen - 1, &used), -EINVAL);
		memcpy(tmp + 8, &(uint32_t){ (uint32_t)(vlen - 64 + 1) }, 4);
		memset(tmp + vlen, 0, 1);
		CHECK_EQ(device_restore(vpdev, tmp, vlen + 1, &used), -EINVAL);
		memcpy(tmp, vrec, vlen);
		tmp[4]++;
		CHECK_EQ(device_restore(vpdev, tmp, vlen, &used), -EINVAL);
		memcpy(tmp, vrec, vlen);
		tmp[32] ^= 1;
		CHECK_EQ(device_restore(vpdev, tmp, vlen, &used), -EINVAL);
		nb = regs(&b, ra, 1, sizeof(struct virtio_blk_config));
		CHECK(!memcmp(ra, rb, nb));

		/* the blk record: segment limit, block size, read-only, flag, padding */
		for (size_t o = 8; o < 24; o++) {
			if (o == 17)	/* cfg_pending: 0 and 1 are both fine; 0xfe is not */
				continue;
			memcpy(tmp, rec_a, off);
			tmp[64 + o] ^= 0x21;
			CHECK_EQ(device_restore(vblk_device(b.blk), tmp, off, &used), -EINVAL);
		}
		memcpy(tmp, rec_a, off);
		tmp[64 + 17] = 2;
		CHECK_EQ(device_restore(vblk_device(b.blk), tmp, off, &used), -EINVAL);
	}

	/* The driver continues on b: read back what it wrote on a (the image travelled with it). */
	devreg_resume(&b.reg);
	data = blk_req(VIRTIO_BLK_T_IN, 3, 0, &st);
	kick(&b, 0);
	CHECK(wait_used(&q[0], &id, &len));
	CHECK_EQ(len, 513);
	CHECK_EQ(*(uint8_t *)vqm_host(&q[0], st), VIRTIO_BLK_S_OK);
	CHECK_EQ(vqm_used(&q[0])->idx, 2);	/* continued the ring: nothing lost or repeated */
	CHECK_EQ(*(uint8_t *)vqm_host(&q[0], data), 0x5a);
	CHECK_EQ(*(uint8_t *)vqm_host(&q[0], data + 511), 0x5a);

	side_free(&a);
	side_free(&b);
	vqm_free(&ram);
}

#define NET_HDR 12	/* struct virtio_net_hdr_v1 */

/* A receive buffer of 2 KiB on queue 0; returns its gpa. */
static uint64_t net_rx_buf(void)
{
	uint64_t g = vqm_alloc(&q[0], 2048);

	vqm_add(&q[0], (struct vqm_seg[]){ { g, 2048, true } }, 1);
	return g;
}

/* A 60-byte frame filled with `fill` sent by the driver on queue 1. */
static void net_tx(uint8_t fill)
{
	uint64_t g = vqm_alloc(&q[1], NET_HDR + 60);

	memset(vqm_host(&q[1], g), 0, NET_HDR);
	memset(vqm_host(&q[1], g + NET_HDR), fill, 60);
	vqm_add(&q[1], (struct vqm_seg[]){ { g, NET_HDR + 60, false } }, 1);
}

/* A frame from the host side of the tap: header + 60 bytes of `fill`. */
static void tap_send(int fd, uint8_t fill)
{
	uint8_t f[NET_HDR + 60];

	memset(f, 0, NET_HDR);
	memset(f + NET_HDR, fill, 60);
	CHECK_EQ(write(fd, f, sizeof(f)), sizeof(f));
}

/* The announce ack on the control queue; returns the ack byte the device wrote. */
static uint8_t net_ctrl(struct side *s, uint8_t class, uint8_t cmd)
{
	uint64_t h = vqm_alloc(&q[2], 16), ack = vqm_alloc(&q[2], 16);
	uint32_t id, len;

	((uint8_t *)vqm_host(&q[2], h))[0] = class;
	((uint8_t *)vqm_host(&q[2], h))[1] = cmd;
	*(uint8_t *)vqm_host(&q[2], ack) = 0xee;
	vqm_add(&q[2], (struct vqm_seg[]){ { h, 2, false }, { ack, 1, true } }, 2);
	kick(s, 2);
	CHECK(vqm_get_used(&q[2], &id, &len));
	CHECK_EQ(len, 1);
	return *(uint8_t *)vqm_host(&q[2], ack);
}

static uint16_t net_status(struct side *s)
{
	return (uint16_t)rd(s, VPCI_DEVICE_OFF + 6, 2);
}

static void test_net_round_trip(void)
{
	struct side a, b;
	int ta[2], tb[2], spare[2];
	uint8_t ra[2048], rb[2048], frame[128];
	uint64_t feat = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_STATUS |
			1ULL << VIRTIO_NET_F_CTRL_VQ | 1ULL << VIRTIO_NET_F_GUEST_ANNOUNCE;
	uint64_t rx2;
	uint32_t id, len;
	size_t len_a, na, nb, used;
	struct vnet_stats sa, sb;
	uint8_t gen;
	int sends;

	ram_init();
	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, ta), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, tb), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, spare), 0);
	side_init(&a, true, ta[0]);
	driver_up(&a, feat, 3);
	CHECK_EQ(rd(&a, VIRTIO_PCI_COMMON_STATUS, 1) & 0xf, 0xf);
	CHECK_EQ(net_status(&a), VIRTIO_NET_S_LINK_UP);

	/* One frame received, one sent; a second receive buffer is taken and held (no frame yet). */
	net_rx_buf();
	rx2 = net_rx_buf();
	tap_send(ta[1], 0x11);
	kick(&a, 0);
	CHECK(vqm_get_used(&q[0], &id, &len));
	CHECK_EQ(len, NET_HDR + 60);
	net_tx(0x22);
	kick(&a, 1);
	CHECK(vqm_get_used(&q[1], &id, &len));
	CHECK_EQ(read(ta[1], frame, sizeof(frame)), NET_HDR + 60);
	CHECK_EQ(frame[NET_HDR], 0x22);
	/* An unknown control command is answered, not fatal. */
	CHECK_EQ(net_ctrl(&a, 0, 0), VIRTIO_NET_ERR);

	CHECK_EQ(devreg_pause(&a.reg, deadline()), 0);
	len_a = save_all(&a, rec_a, sizeof(rec_a));
	CHECK(len_a > 0);
	write_seeds("net", 2, rec_a, len_a);
	na = regs(&a, ra, 3, 8);
	vnet_get_stats(a.net, &sa);
	CHECK_EQ(sa.rx_frames, 1);
	CHECK_EQ(sa.tx_frames, 1);

	/* The new machine, with a network override: its own tap, set while paused. */
	side_init(&b, true, spare[0]);
	CHECK_EQ(devreg_pause(&b.reg, deadline()), 0);
	CHECK_EQ(vnet_set_tap(b.net, tb[0]), 0);
	CHECK_EQ(vnet_set_tap(b.net, -1), -EINVAL);
	CHECK_EQ(restore_all(&b, rec_a, len_a), 0);
	b.bar = cfgr(&b, PCI_BASE_ADDRESS_0, 4) & ~0xfull;
	nb = regs(&b, rb, 3, 8);
	CHECK_EQ(na, nb);
	CHECK(!memcmp(ra, rb, na));
	vnet_get_stats(b.net, &sb);
	CHECK(!memcmp(&sa, &sb, sizeof(sa)));

	/* Hostile net records: another MAC, an unknown link bit; a truncated one. */
	{
		size_t nlen = 64 + 40;

		memcpy(tmp, rec_a, nlen);
		tmp[64 + 32 + 5] ^= 1;
		CHECK_EQ(device_restore(vnet_device(b.net), tmp, nlen, &used), -EINVAL);
		memcpy(tmp, rec_a, nlen);
		tmp[64 + 38] |= 4;
		CHECK_EQ(device_restore(vnet_device(b.net), tmp, nlen, &used), -EINVAL);
		memcpy(tmp, rec_a, nlen);
		CHECK_EQ(device_restore(vnet_device(b.net), tmp, nlen - 1, &used), -EINVAL);
		CHECK_EQ(device_restore(vnet_device(b.net), rec_a, nlen, &used), 0);
	}

	/* Resume: the guest is asked to announce itself (status bit + config interrupt, vector 0), and
	 * the receive queue's unseen used entry is signalled again. */
	gen = (uint8_t)rd(&b, VIRTIO_PCI_COMMON_CFGGENERATION, 1);
	sends = b.fv.sends;
	devreg_resume(&b.reg);
	CHECK_EQ(net_status(&b), VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE);
	/* the config interrupt, and one per queue with used entries (no EVENT_IDX: the device cannot
	 * tell what the driver saw) */
	CHECK_EQ(b.fv.sends - sends, 1 + 3);
	CHECK_EQ(b.fv.send_data, 0x40);	/* the config vector came last (device resume) */
	CHECK(rd(&b, VIRTIO_PCI_COMMON_CFGGENERATION, 1) != gen);
	CHECK_EQ(net_ctrl(&b, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK), VIRTIO_NET_OK);
	CHECK_EQ(net_status(&b), VIRTIO_NET_S_LINK_UP);

	/* The held buffer was given back at pause: b fills it with the next frame of the new tap. */
	tap_send(tb[1], 0x33);
	kick(&b, 0);
	CHECK(vqm_get_used(&q[0], &id, &len));
	CHECK_EQ(len, NET_HDR + 60);
	CHECK_EQ(((uint8_t *)vqm_host(&q[0], rx2))[NET_HDR], 0x33);
	CHECK_EQ(vqm_used(&q[0])->idx, 2);
	net_tx(0x44);
	kick(&b, 1);
	CHECK(vqm_get_used(&q[1], &id, &len));
	CHECK_EQ(read(tb[1], frame, sizeof(frame)), NET_HDR + 60);
	CHECK_EQ(frame[NET_HDR], 0x44);
	CHECK(read(ta[1], frame, sizeof(frame)) < 0);	/* nothing went to the old machine's tap */
	vnet_get_stats(b.net, &sb);
	CHECK_EQ(sb.rx_frames, 2);
	CHECK_EQ(sb.tx_frames, 2);

	side_free(&a);
	side_free(&b);
	close(ta[1]);
	close(tb[1]);
	close(spare[1]);
	vqm_free(&ram);
}

/* A driver that did not negotiate GUEST_ANNOUNCE is never shown the bit (it could not ack it). */
static void test_net_no_announce(void)
{
	struct side a;
	int t[2];

	ram_init();
	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, t), 0);
	side_init(&a, true, t[0]);
	driver_up(&a, 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_NET_F_STATUS, 2);
	CHECK_EQ(devreg_pause(&a.reg, deadline()), 0);
	CHECK(save_all(&a, rec_a, sizeof(rec_a)) > 0);
	vnet_announce(a.net);
	CHECK_EQ(net_status(&a), VIRTIO_NET_S_LINK_UP);
	devreg_resume(&a.reg);
	CHECK_EQ(net_status(&a), VIRTIO_NET_S_LINK_UP);
	side_free(&a);
	close(t[1]);
	vqm_free(&ram);
}

/* Save refuses a device that is not quiescent: a chain popped and not returned. */
static void test_save_busy(void)
{
	struct side a;
	struct vq_chain c;
	uint64_t st;

	ram_init();
	side_init(&a, false, -1);
	driver_up(&a, 1ULL << VIRTIO_F_VERSION_1, 1);
	CHECK_EQ(devreg_pause(&a.reg, deadline()), 0);
	blk_req(VIRTIO_BLK_T_OUT, 0, 1, &st);
	/* stand-in for a device that popped a request and did not finish it */
	CHECK_EQ(vq_chain_init(&c, QSIZE), 0);
	CHECK_EQ(vq_pop(&vblk_virtio(a.blk)->vq[0], &c), 1);
	CHECK_EQ(device_save(virtio_pci_device(a.vp), rec_a, sizeof(rec_a)), -EBUSY);
	vq_unpop(&vblk_virtio(a.blk)->vq[0]);
	CHECK(device_save(virtio_pci_device(a.vp), rec_a, sizeof(rec_a)) > 0);
	CHECK_EQ(device_save(virtio_pci_device(a.vp), rec_a, 100), -ENOSPC);
	vq_chain_free(&c);
	side_free(&a);
	vqm_free(&ram);
}

int main(void)
{
	RUN(test_blk_round_trip);
	RUN(test_net_round_trip);
	RUN(test_net_no_announce);
	RUN(test_save_busy);
	return test_summary();
}
