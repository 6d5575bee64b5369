/* virtio_hostile: a 64-bit guest acting as a broken virtio-blk (modern, 1af4:1042) driver.
 * Finds the device by PCI type-1 config cycles, maps its common config from the vendor capabilities
 * (virtio 1.2 §4.1.4), then feeds queue 0 (a) a descriptor loop, (b) a descriptor at an address
 * outside guest RAM, (c) an avail index far ahead of the ring; each must set DEVICE_NEEDS_RESET
 * (§2.1.2) and the VMM must keep running. Prints "HOSTILE OK" and exits through the test port. */
#include <stdint.h>

#define COM1		0x3f8
#define PCI_ADDR	0xcf8
#define PCI_DATA	0xcfc
#define EXIT_OK		0x14
#define EXIT_FAIL	0x70
#define QSIZE		8
#define POLL_MAX	100000		/* device_status reads before giving up (each is one exit) */
#define FALLBACK_BAR	0xc8000000u	/* used only if nobody placed the BAR */

/* status bits, §2.1 */
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

#define VRING_DESC_F_NEXT 1

struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct avail { uint16_t flags, idx, ring[QSIZE], used_event; };
struct used { uint16_t flags, idx; struct { uint32_t id, len; } ring[QSIZE]; uint16_t avail_event; };

static struct desc descs[QSIZE] __attribute__((aligned(4096)));
static struct avail avail __attribute__((aligned(4096)));
static struct used used __attribute__((aligned(4096)));
static uint8_t buf[64] __attribute__((aligned(64)));

static volatile uint8_t *common;	/* common config in the BAR */
static volatile uint16_t *notify;	/* queue 0's notify address */

int guest_main(void);

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void barrier(void) { __asm__ volatile("mfence" ::: "memory"); }

static void putc_serial(char c)
{
	for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
		;
	outb(COM1, (uint8_t)c);
}

static void puts_serial(const char *s)
{
	while (*s)
		putc_serial(*s++);
}

static void puthex(uint64_t v)
{
	puts_serial("0x");
	for (int shift = 60; shift >= 0; shift -= 4)
		if (v >> shift || shift == 0)
			putc_serial("0123456789abcdef"[(v >> shift) & 0xf]);
}

static int fail(const char *why, uint64_t val)
{
	puts_serial("FAIL: ");
	puts_serial(why);
	puts_serial(" ");
	puthex(val);
	puts_serial("\n");
	return EXIT_FAIL;
}

static uint32_t cfg_addr(int dev, int off) { return 0x80000000u | (uint32_t)dev << 11 | (uint32_t)(off & 0xfc); }
static uint32_t cfg_read32(int dev, int off) { outl(PCI_ADDR, cfg_addr(dev, off)); return inl(PCI_DATA); }
static void cfg_write32(int dev, int off, uint32_t v) { outl(PCI_ADDR, cfg_addr(dev, off)); outl(PCI_DATA, v); }
static uint8_t cfg_read8(int dev, int off) { return (uint8_t)(cfg_read32(dev, off) >> (8 * (off & 3))); }

static uint8_t  rd8(int off)  { return *(volatile uint8_t *)(common + off); }
static uint16_t rd16(int off) { return *(volatile uint16_t *)(common + off); }
static uint32_t rd32(int off) { return *(volatile uint32_t *)(common + off); }
static void wr8(int off, uint8_t v)   { *(volatile uint8_t *)(common + off) = v; }
static void wr16(int off, uint16_t v) { *(volatile uint16_t *)(common + off) = v; }
static void wr32(int off, uint32_t v) { *(volatile uint32_t *)(common + off) = v; }
static void wr64(int off, uint64_t v) { wr32(off, (uint32_t)v); wr32(off + 4, (uint32_t)(v >> 32)); }

/* Base address of memory BAR bar of dev, placing it ourselves if nobody did. */
static uint64_t bar_base(int dev, int bar)
{
	uint32_t lo = cfg_read32(dev, 0x10 + 4 * bar);
	uint64_t base = lo & ~0xfu;

	if (lo & 1)
		return 0;			/* I/O BAR: not what virtio modern caps point at */
	if ((lo & 6) == 4)
		base |= (uint64_t)cfg_read32(dev, 0x14 + 4 * bar) << 32;
	if (base == 0) {
		cfg_write32(dev, 0x10 + 4 * bar, FALLBACK_BAR);
		if ((lo & 6) == 4)
			cfg_write32(dev, 0x14 + 4 * bar, 0);
		base = cfg_read32(dev, 0x10 + 4 * bar) & ~0xfu;
	}
	return base;
}

static int find_device(void)
{
	for (int dev = 0; dev < 32; dev++)
		if (cfg_read32(dev, 0) == (0x1042u << 16 | 0x1af4u))
			return dev;
	return -1;
}

/* Walk the capability list for the common (type 1) and notify (type 2) structures. */
static int map_caps(int dev)
{
	uint32_t notify_mult = 0, notify_off = 0;
	uint64_t notify_base = 0;
	int guard = 0;

	if (!(cfg_read32(dev, 0x04) >> 16 & 0x10))
		return fail("no capability list, status", cfg_read32(dev, 0x04) >> 16);
	for (int cap = cfg_read8(dev, 0x34) & 0xfc; cap && guard < 48; cap = cfg_read8(dev, cap + 1) & 0xfc, guard++) {
		if (cfg_read8(dev, cap) != 0x09)
			continue;
		uint8_t type = cfg_read8(dev, cap + 3);
		uint8_t bar = cfg_read8(dev, cap + 4);
		uint32_t off = cfg_read32(dev, cap + 8);
		if (bar > 5)
			continue;
		uint64_t base = bar_base(dev, bar);
		if (type == 1) {
			if (base == 0 || base + off >= 0x100000000ull)
				return fail("common cfg BAR not below 4 GiB:", base);
			common = (volatile uint8_t *)(uintptr_t)(base + off);
		} else if (type == 2) {
			notify_base = base + off;
			notify_mult = cfg_read32(dev, cap + 16);
		}
	}
	if (!common || !notify_base)
		return fail("missing common/notify capability, notify at", notify_base);
	/* memory decoding + bus mastering on */
	cfg_write32(dev, 0x04, (cfg_read32(dev, 0x04) & 0xffff) | 0x6);
	wr16(C_Q_SELECT, 0);
	notify_off = rd16(C_Q_NOFF);
	notify = (volatile uint16_t *)(uintptr_t)(notify_base + (uint64_t)notify_off * notify_mult);
	return 0;
}

static int reset_device(void)
{
	wr8(C_STATUS, 0);
	for (int i = 0; i < POLL_MAX; i++)
		if (rd8(C_STATUS) == 0)
			return 0;
	return fail("device_status did not read 0 after reset:", rd8(C_STATUS));
}

/* Reset and bring the device up to DRIVER_OK with queue 0 on our (zeroed) rings. */
static int setup_device(void)
{
	int r = reset_device();
	if (r)
		return r;
	wr8(C_STATUS, S_ACK);
	wr8(C_STATUS, S_ACK | S_DRIVER);
	wr32(C_DFSELECT, 1);
	if (!(rd32(C_DF) & 1))
		return fail("device does not offer VERSION_1, features[63:32] =", rd32(C_DF));
	wr32(C_GFSELECT, 0);
	wr32(C_GF, 0);
	wr32(C_GFSELECT, 1);
	wr32(C_GF, 1);
	wr8(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (!(rd8(C_STATUS) & S_FEATURES_OK))
		return fail("FEATURES_OK not accepted, status", rd8(C_STATUS));

	uint8_t *p = (uint8_t *)descs;
	for (unsigned i = 0; i < sizeof(descs); i++)
		p[i] = 0;
	p = (uint8_t *)&avail;
	for (unsigned i = 0; i < sizeof(avail); i++)
		p[i] = 0;
	p = (uint8_t *)&used;
	for (unsigned i = 0; i < sizeof(used); i++)
		p[i] = 0;
	wr16(C_Q_SELECT, 0);
	uint16_t max = rd16(C_Q_SIZE);
	if (max < QSIZE)
		return fail("queue 0 smaller than 8:", max);
	wr16(C_Q_SIZE, QSIZE);
	wr64(C_Q_DESC, (uintptr_t)descs);
	wr64(C_Q_AVAIL, (uintptr_t)&avail);
	wr64(C_Q_USED, (uintptr_t)&used);
	wr16(C_Q_ENABLE, 1);
	wr8(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return 0;
}

/* Publish head 0 with avail idx new_idx, kick queue 0 and wait for NEEDS_RESET. */
static int kick_expect_reset(const char *what, uint16_t new_idx)
{
	if (rd8(C_STATUS) != (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK))
		return fail("device_status before the kick is not ACK|DRIVER|FEATURES_OK|DRIVER_OK:", rd8(C_STATUS));
	avail.ring[0] = 0;
	barrier();
	*(volatile uint16_t *)&avail.idx = new_idx;
	barrier();
	*notify = 0;
	for (int i = 0; i < POLL_MAX; i++) {
		if (rd8(C_STATUS) & S_NEEDS_RESET) {
			puts_serial(what);
			puts_serial(": NEEDS_RESET\n");
			return 0;
		}
	}
	puts_serial(what);
	puts_serial(": ");
	return fail("no DEVICE_NEEDS_RESET, device_status", rd8(C_STATUS));
}

int guest_main(void)
{
	int r, dev = find_device();

	if (dev < 0)
		return fail("no virtio-blk 1af4:1042 on bus 0, dev 0 id", cfg_read32(0, 0));
	puts_serial("virtio-blk found\n");
	if ((r = map_caps(dev)) || (r = setup_device()))
		return r;

	/* (a) two descriptors chained into a loop */
	descs[0] = (struct desc){ (uintptr_t)buf, 16, VRING_DESC_F_NEXT, 1 };
	descs[1] = (struct desc){ (uintptr_t)buf + 16, 16, VRING_DESC_F_NEXT, 0 };
	if ((r = kick_expect_reset("descriptor loop", 1)))
		return r;

	/* (b) one descriptor far outside guest RAM */
	if ((r = setup_device()))
		return r;
	descs[0] = (struct desc){ 0xfffffffff000ull, 4096, 0, 0 };
	if ((r = kick_expect_reset("out-of-range address", 1)))
		return r;

	/* (c) avail idx 1000 entries ahead of a ring of 8 */
	if ((r = setup_device()))
		return r;
	descs[0] = (struct desc){ (uintptr_t)buf, 16, 0, 0 };
	if ((r = kick_expect_reset("avail index jump", 1000)))
		return r;

	if ((r = reset_device()))
		return r;
	puts_serial("HOSTILE OK\n");
	return EXIT_OK;
}
