/* What the C test guests (blkread, virtio_hostile, hostile_io) share, as static inline helpers:
 * port I/O, COM1 output, PCI type-1 configuration cycles (PCI Local Bus 3.0 §3.2.2.3.2), and a
 * minimal modern virtio-pci transport (virtio 1.2 §4.1.4: the common and notify capabilities, the
 * split ring's layout). Freestanding: no libc; the guests run on one vCPU, so no locking. */
#ifndef CGUEST_H
#define CGUEST_H

#include <stddef.h>
#include <stdint.h>

#define COM1		0x3f8
#define PCI_ADDR	0xcf8
#define PCI_DATA	0xcfc
#define EXIT_FAIL	0x70		/* every guest's "check failed" value: status 225 */

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outw(uint16_t p, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint16_t inw(uint16_t p) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t inl(uint16_t p) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline void barrier(void) { __asm__ volatile("mfence" ::: "memory"); }

/* ---- COM1 ---- */

/* The wait for THRE is bounded: a broken LSR garbles the output instead of hanging the guest. */
static inline void putc_serial(char c)
{
	for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
		;
	outb(COM1, (uint8_t)c);
}

static inline void puts_serial(const char *s)
{
	while (*s)
		putc_serial(*s++);
}

/* "0x" and the hex digits of v without leading zeros. */
static inline void puthex(uint64_t v)
{
	puts_serial("0x");
	for (int shift = 60; shift >= 0; shift -= 4)
		if (v >> shift || shift == 0)
			putc_serial("0123456789abcdef"[(v >> shift) & 0xf]);
}

/* Exactly two hex digits, no prefix. */
static inline void puthex8(uint8_t v)
{
	putc_serial("0123456789abcdef"[v >> 4]);
	putc_serial("0123456789abcdef"[v & 15]);
}

static inline void putdec(uint64_t v)
{
	char b[21];
	int i = 20;

	b[i] = 0;
	do
		b[--i] = (char)('0' + v % 10);
	while (v /= 10);
	puts_serial(b + i);
}

/* ---- PCI configuration space, bus 0; bdf = device << 3 | function ---- */

#define PCI_BDF(dev)	((uint32_t)(dev) << 3)

static inline void cfg_select(uint32_t bdf, uint32_t reg)
{
	outl(PCI_ADDR, 0x80000000u | bdf << 8 | (reg & 0xfc));
}

static inline uint32_t cfg_read32(uint32_t bdf, uint32_t reg)
{
	cfg_select(bdf, reg);
	return inl(PCI_DATA);
}

static inline void cfg_write32(uint32_t bdf, uint32_t reg, uint32_t v)
{
	cfg_select(bdf, reg);
	outl(PCI_DATA, v);
}

static inline uint8_t cfg_read8(uint32_t bdf, uint32_t reg)
{
	return (uint8_t)(cfg_read32(bdf, reg) >> (8 * (reg & 3)));
}

/* Memory BAR bar where it decodes now (0 for an I/O BAR or an unset one). */
static inline uint64_t bar_addr(uint32_t bdf, unsigned bar)
{
	uint32_t lo = cfg_read32(bdf, 0x10 + 4 * bar);
	uint64_t a = lo & ~0xfull;

	if (lo & 1)
		return 0;
	if ((lo & 6) == 4 && bar < 5)
		a |= (uint64_t)cfg_read32(bdf, 0x14 + 4 * bar) << 32;
	return a;
}

/* ---- modern virtio-pci (virtio 1.2 §4.1.4) ---- */

#define VIRTIO_BLK_ID	(0x1042u << 16 | 0x1af4u)
#define VIO_FALLBACK_BAR 0xc8000000u	/* used only if nobody placed the BAR */

/* device_status bits, §2.1 */
#define S_ACK		1
#define S_DRIVER	2
#define S_DRIVER_OK	4
#define S_FEATURES_OK	8
#define S_NEEDS_RESET	0x40

/* struct virtio_pci_common_cfg offsets, §4.1.4.3 */
#define C_DFSELECT	0x00
#define C_DF		0x04
#define C_GFSELECT	0x08
#define C_GF		0x0c
#define C_STATUS	0x14
#define C_Q_SELECT	0x16
#define C_Q_SIZE	0x18
#define C_Q_ENABLE	0x1c
#define C_Q_NOFF	0x1e
#define C_Q_DESC	0x20
#define C_Q_AVAIL	0x28
#define C_Q_USED	0x30

#define F_NEXT		1
#define F_WRITE		2

/* The split ring (§2.7) of a QSIZE-entry queue; the guest defines QSIZE before including this. */
#ifdef QSIZE
struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct avail { uint16_t flags, idx, ring[QSIZE], used_event; };
struct used { uint16_t flags, idx; struct { uint32_t id, len; } ring[QSIZE]; uint16_t avail_event; };
#endif

/* A virtio-pci function as the driver found it. */
struct vio {
	uint32_t bdf;
	volatile uint8_t *common;	/* common config in its BAR */
	volatile uint16_t *notify;	/* queue 0's notify address */
};

static inline uint8_t vio_rd8(const struct vio *v, int off) { return v->common[off]; }
static inline uint16_t vio_rd16(const struct vio *v, int off) { return *(volatile uint16_t *)(v->common + off); }
static inline uint32_t vio_rd32(const struct vio *v, int off) { return *(volatile uint32_t *)(v->common + off); }
static inline void vio_wr8(const struct vio *v, int off, uint8_t x) { v->common[off] = x; }
static inline void vio_wr16(const struct vio *v, int off, uint16_t x) { *(volatile uint16_t *)(v->common + off) = x; }
static inline void vio_wr32(const struct vio *v, int off, uint32_t x) { *(volatile uint32_t *)(v->common + off) = x; }
static inline void vio_wr64(const struct vio *v, int off, uint64_t x)
{
	vio_wr32(v, off, (uint32_t)x);
	vio_wr32(v, off + 4, (uint32_t)(x >> 32));
}

/* Memory BAR bar of bdf, placed at VIO_FALLBACK_BAR first if nobody did. */
static inline uint64_t vio_bar(uint32_t bdf, unsigned bar)
{
	uint32_t lo = cfg_read32(bdf, 0x10 + 4 * bar);

	if (!(lo & 1) && !bar_addr(bdf, bar)) {
		cfg_write32(bdf, 0x10 + 4 * bar, VIO_FALLBACK_BAR);
		if ((lo & 6) == 4)
			cfg_write32(bdf, 0x14 + 4 * bar, 0);
	}
	return bar_addr(bdf, bar);
}

enum vio_probe_err { VIO_OK, VIO_NO_DEVICE, VIO_NO_CAPS, VIO_HIGH_BAR, VIO_NO_COMMON };

/* Find the first function with id (vendor | device << 16) on bus 0, walk its capability list for
 * the common (type 1) and notify (type 2) structures, turn on memory decoding and bus mastering,
 * and point v->notify at queue 0's doorbell. VIO_OK or why not. */
static inline enum vio_probe_err vio_probe(struct vio *v, uint32_t id)
{
	uint32_t notify_mult = 0, bdf;
	uint64_t notify_base = 0;
	int dev, guard = 0;

	for (dev = 0; dev < 32 && cfg_read32(PCI_BDF(dev), 0) != id; dev++)
		;
	if (dev == 32)
		return VIO_NO_DEVICE;
	v->bdf = bdf = PCI_BDF(dev);
	v->common = 0;
	if (!(cfg_read32(bdf, 0x04) >> 16 & 0x10))
		return VIO_NO_CAPS;
	for (uint32_t cap = cfg_read8(bdf, 0x34) & 0xfc; cap && guard < 48;
	     cap = cfg_read8(bdf, cap + 1) & 0xfc, guard++) {
		uint8_t type = cfg_read8(bdf, cap + 3), bar = cfg_read8(bdf, cap + 4);
		uint32_t off = cfg_read32(bdf, cap + 8);
		uint64_t base;

		if (cfg_read8(bdf, cap) != 0x09 || bar > 5 || (type != 1 && type != 2))
			continue;
		base = vio_bar(bdf, bar);
		if (type == 1) {
			if (base == 0 || base + off >= 0x100000000ull)
				return VIO_HIGH_BAR;
			v->common = (volatile uint8_t *)(uintptr_t)(base + off);
		} else {
			notify_base = base + off;
			notify_mult = cfg_read32(bdf, cap + 16);
		}
	}
	if (!v->common || !notify_base)
		return VIO_NO_COMMON;
	cfg_write32(bdf, 0x04, (cfg_read32(bdf, 0x04) & 0xffff) | 0x6);
	vio_wr16(v, C_Q_SELECT, 0);
	v->notify = (volatile uint16_t *)(uintptr_t)(notify_base +
						     (uint64_t)vio_rd16(v, C_Q_NOFF) * notify_mult);
	return VIO_OK;
}

/* ACKNOWLEDGE, DRIVER, accept VERSION_1 and nothing else, FEATURES_OK (§3.1.1 steps 2-6): whether
 * the device kept FEATURES_OK. */
static inline int vio_negotiate(const struct vio *v)
{
	vio_wr8(v, C_STATUS, S_ACK);
	vio_wr8(v, C_STATUS, S_ACK | S_DRIVER);
	vio_wr32(v, C_GFSELECT, 0);
	vio_wr32(v, C_GF, 0);
	vio_wr32(v, C_GFSELECT, 1);
	vio_wr32(v, C_GF, 1);
	vio_wr8(v, C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	return (vio_rd8(v, C_STATUS) & S_FEATURES_OK) != 0;
}

#ifdef QSIZE
/* Queue 0 on the given rings, QSIZE entries, then DRIVER_OK. Returns the device's maximum queue
 * size; below QSIZE nothing is set up. */
static inline uint16_t vio_start_queue0(const struct vio *v, struct desc *d, struct avail *a,
					struct used *u)
{
	uint16_t max;

	vio_wr16(v, C_Q_SELECT, 0);
	max = vio_rd16(v, C_Q_SIZE);
	if (max < QSIZE)
		return max;
	vio_wr16(v, C_Q_SIZE, QSIZE);
	vio_wr64(v, C_Q_DESC, (uintptr_t)d);
	vio_wr64(v, C_Q_AVAIL, (uintptr_t)a);
	vio_wr64(v, C_Q_USED, (uintptr_t)u);
	vio_wr16(v, C_Q_ENABLE, 1);
	vio_wr8(v, C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return max;
}

/* The plain drivers' whole bring-up of the first device with id: probe, reset, negotiate, queue 0
 * of QSIZE entries, DRIVER_OK. NULL, or what failed (for the guest's FAIL line). */
static inline const char *vio_setup(struct vio *v, uint32_t id, struct desc *d, struct avail *a,
				    struct used *u)
{
	if (vio_probe(v, id) != VIO_OK)
		return "no virtio device";
	vio_wr8(v, C_STATUS, 0);
	if (!vio_negotiate(v))
		return "FEATURES_OK refused";
	if (vio_start_queue0(v, d, a, u) < QSIZE)
		return "queue too small";
	return NULL;
}
#endif

#endif
