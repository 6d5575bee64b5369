/* blkread: a 64-bit guest with a minimal virtio-blk (modern, 1af4:1042) driver that reads sector 0
 * once: prints "read submitted", waits for the used entry, prints the status and the first byte
 * (the scratch disk is zeros) and exits through the test port. Built with -DBLK_RESET (blkreset),
 * it queues a GET_ID (no back-end I/O) before the read, and once the GET_ID is used (the device is
 * then at the read) resets the device with the read in flight (virtio 1.2 §2.4: the reset completes
 * once the device is done with it). The stop tests run both on a disk whose
 * back-end never answers: a stop must not wait forever for in-flight I/O, nor for a vCPU inside
 * that reset. PCI and virtio plumbing as in virtio_hostile.c (virtio 1.2 §4.1.4, §5.2.6). */
#include <stdint.h>

#define COM1		0x3f8
#define PCI_ADDR	0xcf8
#define PCI_DATA	0xcfc
#ifdef BLK_RESET
#define EXIT_OK		0x16
#else
#define EXIT_OK		0x15
#endif
#define EXIT_FAIL	0x70
#define QSIZE		8
#define WAIT_POLLS	1000000		/* status reads (exits) while waiting: seconds, not forever */
#define FALLBACK_BAR	0xc8000000u

#define S_ACK		1
#define S_DRIVER	2
#define S_DRIVER_OK	4
#define S_FEATURES_OK	8

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

struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct avail { uint16_t flags, idx, ring[QSIZE], used_event; };
struct used { uint16_t flags, idx; struct { uint32_t id, len; } ring[QSIZE]; uint16_t avail_event; };
struct req_hdr { uint32_t type, reserved; uint64_t sector; };

static struct desc descs[QSIZE] __attribute__((aligned(4096)));
static struct avail avail __attribute__((aligned(4096)));
static struct used used __attribute__((aligned(4096)));
static struct req_hdr hdr __attribute__((aligned(16)));
#ifdef BLK_RESET
static struct req_hdr id_hdr __attribute__((aligned(16)));
static uint8_t id[20], id_status;
#endif
static uint8_t data[512] __attribute__((aligned(512)));
static uint8_t status = 0xee;

static volatile uint8_t *common;

int guest_main(void);

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void barrier(void) { __asm__ volatile("mfence" ::: "memory"); }

static void puts_serial(const char *s)
{
	for (; *s; s++) {
		for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
			;
		outb(COM1, (uint8_t)*s);
	}
}

static void puthex8(uint8_t v)
{
	char s[3] = { "0123456789abcdef"[v >> 4], "0123456789abcdef"[v & 15], 0 };

	puts_serial(s);
}

static int fail(const char *why)
{
	puts_serial("blkread: FAIL: ");
	puts_serial(why);
	puts_serial("\n");
	return EXIT_FAIL;
}

static uint32_t cfg_addr(int dev, int off) { return 0x80000000u | (uint32_t)dev << 11 | (uint32_t)(off & 0xfc); }
static uint32_t cfg_read32(int dev, int off) { outl(PCI_ADDR, cfg_addr(dev, off)); return inl(PCI_DATA); }
static void cfg_write32(int dev, int off, uint32_t v) { outl(PCI_ADDR, cfg_addr(dev, off)); outl(PCI_DATA, v); }
static uint8_t cfg_read8(int dev, int off) { return (uint8_t)(cfg_read32(dev, off) >> (8 * (off & 3))); }

static uint8_t rd8(int off) { return *(volatile uint8_t *)(common + off); }
static uint16_t rd16(int off) { return *(volatile uint16_t *)(common + off); }
static void wr8(int off, uint8_t v) { *(volatile uint8_t *)(common + off) = v; }
static void wr16(int off, uint16_t v) { *(volatile uint16_t *)(common + off) = v; }
static void wr32(int off, uint32_t v) { *(volatile uint32_t *)(common + off) = v; }
static void wr64(int off, uint64_t v) { wr32(off, (uint32_t)v); wr32(off + 4, (uint32_t)(v >> 32)); }

static uint64_t bar_base(int dev, int bar)
{
	uint32_t lo = cfg_read32(dev, 0x10 + 4 * bar);
	uint64_t base = lo & ~0xfu;

	if (lo & 1)
		return 0;
	if ((lo & 6) == 4)
		base |= (uint64_t)cfg_read32(dev, 0x14 + 4 * bar) << 32;
	if (base == 0) {
		cfg_write32(dev, 0x10 + 4 * bar, FALLBACK_BAR);
		base = cfg_read32(dev, 0x10 + 4 * bar) & ~0xfu;
	}
	return base;
}

/* Find the device, map its common config, return queue 0's notify address (0 on failure). */
static volatile uint16_t *probe(void)
{
	uint64_t notify_base = 0;
	uint32_t notify_mult = 0;
	int dev, guard = 0;

	for (dev = 0; dev < 32; dev++)
		if (cfg_read32(dev, 0) == (0x1042u << 16 | 0x1af4u))
			break;
	if (dev == 32)
		return 0;
	for (int cap = cfg_read8(dev, 0x34) & 0xfc; cap && guard < 48; cap = cfg_read8(dev, cap + 1) & 0xfc, guard++) {
		uint8_t type = cfg_read8(dev, cap + 3), bar = cfg_read8(dev, cap + 4);
		uint32_t off = cfg_read32(dev, cap + 8);

		if (cfg_read8(dev, cap) != 0x09 || bar > 5)
			continue;
		if (type == 1)
			common = (volatile uint8_t *)(uintptr_t)(bar_base(dev, bar) + off);
		else if (type == 2) {
			notify_base = bar_base(dev, bar) + off;
			notify_mult = cfg_read32(dev, cap + 16);
		}
	}
	if (!common || !notify_base)
		return 0;
	cfg_write32(dev, 0x04, (cfg_read32(dev, 0x04) & 0xffff) | 0x6);
	wr16(C_Q_SELECT, 0);
	return (volatile uint16_t *)(uintptr_t)(notify_base + (uint64_t)rd16(C_Q_NOFF) * notify_mult);
}

int guest_main(void)
{
	volatile uint16_t *notify = probe();

	if (!notify)
		return fail("no virtio-blk device");
	wr8(C_STATUS, 0);
	wr8(C_STATUS, S_ACK | S_DRIVER);
	wr32(C_GFSELECT, 1);
	wr32(C_GF, 1);		/* VERSION_1, nothing else */
	wr8(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (!(rd8(C_STATUS) & S_FEATURES_OK))
		return fail("FEATURES_OK refused");
	wr16(C_Q_SELECT, 0);
	if (rd16(C_Q_SIZE) < QSIZE)
		return fail("queue too small");
	wr16(C_Q_SIZE, QSIZE);
	wr64(C_Q_DESC, (uintptr_t)descs);
	wr64(C_Q_AVAIL, (uintptr_t)&avail);
	wr64(C_Q_USED, (uintptr_t)&used);
	wr16(C_Q_ENABLE, 1);
	wr8(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);

	hdr = (struct req_hdr){ .type = 0 /* VIRTIO_BLK_T_IN */, .sector = 0 };
	data[0] = 0x5a;
	descs[0] = (struct desc){ (uintptr_t)&hdr, sizeof(hdr), F_NEXT, 1 };
	descs[1] = (struct desc){ (uintptr_t)data, sizeof(data), F_NEXT | F_WRITE, 2 };
	descs[2] = (struct desc){ (uintptr_t)&status, 1, F_WRITE, 0 };
#ifdef BLK_RESET
	id_hdr = (struct req_hdr){ .type = 8 /* VIRTIO_BLK_T_GET_ID */ };
	descs[3] = (struct desc){ (uintptr_t)&id_hdr, sizeof(id_hdr), F_NEXT, 4 };
	descs[4] = (struct desc){ (uintptr_t)id, sizeof(id), F_NEXT | F_WRITE, 5 };
	descs[5] = (struct desc){ (uintptr_t)&id_status, 1, F_WRITE, 0 };
	avail.ring[0] = 3;
	avail.ring[1] = 0;
	barrier();
	*(volatile uint16_t *)&avail.idx = 2;
#else
	avail.ring[0] = 0;
	barrier();
	*(volatile uint16_t *)&avail.idx = 1;
#endif
	barrier();
	*notify = 0;
	puts_serial("blkread: read submitted\n");
#ifdef BLK_RESET
	for (int i = 0; i < WAIT_POLLS && *(volatile uint16_t *)&used.idx < 1; i++)
		(void)rd8(C_STATUS);
	for (int i = 0; i < 200; i++)	/* a moment for the device to take up the read */
		(void)rd8(C_STATUS);
	wr8(C_STATUS, 0);
	if (rd8(C_STATUS) != 0)
		return fail("status not 0 after reset");
	puts_serial("blkread: reset with the read in flight\n");
	return EXIT_OK;
#endif
	for (int i = 0; i < WAIT_POLLS && *(volatile uint16_t *)&used.idx != 1; i++)
		(void)rd8(C_STATUS);
	if (*(volatile uint16_t *)&used.idx != 1)
		return fail("no completion");
	barrier();
	puts_serial("blkread: status ");
	puthex8(*(volatile uint8_t *)&status);
	puts_serial(", first byte ");
	puthex8(data[0]);
	puts_serial("\n");
	return EXIT_OK;
}
