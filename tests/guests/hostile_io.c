/* hostile_io: a 64-bit guest that, from the seed in its command line ("seed=N[,ops=N]", read through
 * the zero page of the 64-bit boot protocol), issues thousands of random port reads/writes over 0-0xffff,
 * MMIO reads/writes in the PCI window (biased to the devices' BARs, MSI-X tables included), the IOAPIC
 * page and unassigned space, and PCI configuration writes through 0xcf8/0xcfc, at widths 1/2/4/8.
 * Then it restores the UART, checks that the PCI bus still answers, prints "HOSTILE IO OK" and exits
 * through the test port. The VMM must keep running (tests/guests/run.sh: no sanitizer report).
 * Writes that would make the guest stop or wreck itself are defused, so one seed runs to the end:
 * the test-exit port, i8042 reset/output-port commands, the 0xcf9 reset, ACPI SLP_EN, and
 * NMI/SMI/INIT/ExtINT delivery modes in IOAPIC redirection entries and MSI-X messages (an INIT leaves the vCPU waiting for a SIPI
 * forever); with "stops=1" the reset and S5 writes go through and the VM may end early with status 0.
 * Guest RAM is never written at random, and the LAPIC page is left alone. */
#include <stdint.h>

#define TEST_EXIT	0x501
#define I8042_CMD	0x64
#define PCI_RESET_CTL	0xcf9		/* reset control: bit 2 reboots */
#define PM1A_CNT_HI	0x605		/* byte holding SLP_EN (bit 13 of PM1a_CNT at 0x604) */
#define EXIT_OK		0x16		/* status 45 */
#define NOPS		4000		/* default; "ops=N" on the command line overrides */

#define PCI_WIN		0xc0000000ull
#define PCI_WIN_LEN	0x20000000ull
#define IOAPIC		0xfec00000ull
#define UNASSIGNED_LO	0x80000000ull	/* RAM must end below (checked against the e820 map) */

/* struct boot_params offsets (Documentation/x86/zero-page.rst) */
#define ZP_E820_ENTRIES	0x1e8
#define ZP_CMD_LINE_PTR	0x228
#define ZP_E820_TABLE	0x2d0

#include "cguest.h"

int guest_main(uint64_t unused, const uint8_t *zero_page);

static uint64_t rng;

/* xorshift64* */
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

/* Values devices care about more often than uniform noise. */
static uint64_t rnd_val(void)
{
	uint64_t r = rnd();

	switch (r % 8) {
	case 0: return (r >> 8) % 16;
	case 1: return ~0ull;
	case 2: return 0;
	case 3: return 1ull << ((r >> 8) % 64);
	default: return rnd();
	}
}

static int fail(const char *why, uint64_t v)
{
	puts_serial("\nFAIL: ");
	puts_serial(why);
	puts_serial(" ");
	putdec(v);
	puts_serial("\n");
	return EXIT_FAIL;
}

/* ---- defusing ---- */

/* Byte i of a little-endian value. */
static uint8_t byte_of(uint64_t v, unsigned i) { return (uint8_t)(v >> (8 * i)); }
static uint64_t with_byte(uint64_t v, unsigned i, uint8_t b)
{
	return (v & ~(0xffull << (8 * i))) | (uint64_t)b << (8 * i);
}

static uint64_t allow_stops;	/* "stops=1": let i8042 resets and ACPI S5 through (status 0) */

/* A port write [port, port + w) of v: keep the VM running and the guest alive. */
static int port_defuse(uint32_t port, unsigned w, uint64_t *v)
{
	for (unsigned i = 0; i < w; i++) {
		uint32_t p = port + i;
		uint8_t b = byte_of(*v, i);

		if (p == TEST_EXIT || p == TEST_EXIT + 1)
			return -1;			/* would end the VM with that status */
		if (allow_stops)
			continue;
		if (p == I8042_CMD && (b >= 0xf0 || b == 0xd1))
			*v = with_byte(*v, i, 0x20);	/* pulse reset / write output port -> read CTR */
		if (p == PM1A_CNT_HI)
			*v = with_byte(*v, i, b & (uint8_t)~0x20);	/* SLP_EN */
		if (p == PCI_RESET_CTL)
			*v = with_byte(*v, i, b & (uint8_t)~0x04);	/* RST_CPU */
	}
	return 0;
}

/* Interrupt messages: clear the delivery mode (bits 8-10) so only fixed interrupts remain. */
static uint32_t ioapic_sel;

static void ioapic_defuse(uint64_t off, uint64_t *v)
{
	if (off == 0x00)
		ioapic_sel = (uint32_t)*v & 0xff;
	else if (off == 0x10 && ioapic_sel >= 0x10 && ioapic_sel <= 0x3f && !(ioapic_sel & 1))
		*v &= ~0x700ull;
}

struct msix_dev {
	uint32_t bdf;
	uint8_t bir;
	uint32_t table_off, nvec;
};

static struct msix_dev msix[8];
static int nmsix;

/* Any write overlapping an MSI-X table's message data, byte 1 (bits 8-10): clear those bits. */
static void msix_defuse(uint64_t addr, unsigned w, uint64_t *v)
{
	for (int d = 0; d < nmsix; d++) {
		uint64_t t = bar_addr(msix[d].bdf, msix[d].bir) + msix[d].table_off;

		for (unsigned i = 0; i < w; i++) {
			uint64_t a = addr + i;

			if (a >= t && a < t + 16ull * msix[d].nvec && (a - t) % 16 == 9)
				*v = with_byte(*v, i, byte_of(*v, i) & (uint8_t)~7);
		}
	}
}

/* Find the functions with an MSI-X capability on bus 0. */
static void msix_scan(void)
{
	for (uint32_t dev = 0; dev < 32 && nmsix < 8; dev++) {
		uint32_t bdf = dev << 3;
		int guard = 0;

		if ((cfg_read32(bdf, 0) & 0xffff) == 0xffff || !(cfg_read32(bdf, 4) >> 16 & 0x10))
			continue;
		for (uint32_t cap = cfg_read32(bdf, 0x34) & 0xfc; cap && guard++ < 48;
		     cap = (cfg_read32(bdf, cap) >> 8) & 0xfc) {
			uint32_t hdr = cfg_read32(bdf, cap), tbl = cfg_read32(bdf, cap + 4);

			if ((hdr & 0xff) != 0x11)
				continue;
			msix[nmsix++] = (struct msix_dev){ bdf, (uint8_t)(tbl & 7), tbl & ~7u,
							   ((hdr >> 16) & 0x7ff) + 1 };
		}
	}
}

/* ---- the random operations ---- */

/* The ports something lives at (PIC, PIT, i8042, CMOS, COM1, ELCR, test-exit, ACPI PM, PCI). */
static const uint16_t busy_ports[] = {
	0x20, 0x21, 0x40, 0x43, 0x60, 0x61, 0x64, 0x70, 0x71, 0x3f8, 0x3f9, 0x3fb, 0x3fc, 0x3fd, 0x4d0,
	0x500, 0x600, 0x602, 0x604, 0x608, 0xcf8, 0xcf9, 0xcfc, 0xcfe, 0xa0, 0xa1,
};

static void port_op(int write)
{
	unsigned w = 1u << (rnd() % 3);
	uint32_t port = (uint32_t)rnd() & 0xffff;
	uint64_t v = rnd_val();

	if (rnd() % 4 == 0)
		port = busy_ports[rnd() % (sizeof(busy_ports) / sizeof(busy_ports[0]))];
	if (!write) {
		if (w == 1)
			(void)inb((uint16_t)port);
		else if (w == 2)
			(void)inw((uint16_t)port);
		else
			(void)inl((uint16_t)port);
		return;
	}
	if (port_defuse(port, w, &v))
		return;
	if (w == 1)
		outb((uint16_t)port, (uint8_t)v);
	else if (w == 2)
		outw((uint16_t)port, (uint16_t)v);
	else
		outl((uint16_t)port, (uint32_t)v);
}

/* A non-RAM address: a device BAR (offsets where virtio-pci keeps its registers), anywhere in the
 * PCI window, the IOAPIC page, or unassigned space (below the window, above it, the HPET hole). */
static uint64_t mmio_addr(void)
{
	uint64_t r = rnd();

	switch (r % 8) {
	case 0: case 1: case 2: {
		uint32_t bdf = (uint32_t)(1 + (r >> 8) % 3) << 3;
		uint64_t base = bar_addr(bdf, 0);
		uint64_t off = ((r >> 16) % 6) * 0x1000 + (r >> 24) % 0x60;

		return base >= PCI_WIN && base < PCI_WIN + PCI_WIN_LEN ? base + off : PCI_WIN + off;
	}
	case 3:
		return PCI_WIN + (r >> 8) % PCI_WIN_LEN;
	case 4:
		return IOAPIC + ((r >> 8) % 4 ? ((r >> 16) % 5) * 0x10 : (r >> 16) % 0x1000);
	case 5:
		return UNASSIGNED_LO + (r >> 8) % (PCI_WIN - UNASSIGNED_LO);
	case 6:
		return PCI_WIN + PCI_WIN_LEN + (r >> 8) % (IOAPIC - PCI_WIN - PCI_WIN_LEN);
	default:
		return 0xfed00000ull + (r >> 8) % 0x100000;	/* HPET hole, up to the LAPIC */
	}
}

static void mmio_op(int write)
{
	unsigned w = 1u << (rnd() % 4);
	uint64_t a = mmio_addr() & ~(uint64_t)(w - 1), v = rnd_val();
	volatile void *p = (volatile void *)(uintptr_t)a;

	if (a >= 0xfee00000ull)
		return;			/* the LAPIC: a self-INIT would end the guest, not test ckvm */
	if (!write) {
		if (w == 1)
			(void)*(volatile uint8_t *)p;
		else if (w == 2)
			(void)*(volatile uint16_t *)p;
		else if (w == 4)
			(void)*(volatile uint32_t *)p;
		else
			(void)*(volatile uint64_t *)p;
		return;
	}
	if (a >= IOAPIC && a < IOAPIC + 0x100)
		ioapic_defuse(a - IOAPIC, &v);
	if (a >= PCI_WIN && a < PCI_WIN + PCI_WIN_LEN)
		msix_defuse(a, w, &v);
	if (w == 1)
		*(volatile uint8_t *)p = (uint8_t)v;
	else if (w == 2)
		*(volatile uint16_t *)p = (uint16_t)v;
	else if (w == 4)
		*(volatile uint32_t *)p = (uint32_t)v;
	else
		*(volatile uint64_t *)p = v;
}

/* A configuration write: mostly the bridge and the first slots, sometimes any bus/device/function. */
static void cfg_op(int write)
{
	uint64_t r = rnd(), v = rnd_val();
	uint32_t bdf = (r % 4 == 0) ? (uint32_t)(r >> 8) & 0xffff : (uint32_t)((r >> 8) % 4) << 3;
	uint32_t reg = (uint32_t)(r >> 24) & 0xff;
	unsigned w = 1u << ((r >> 40) % 3);

	reg &= ~(w - 1);
	cfg_select(bdf, reg);
	if (!write) {
		(void)inl(PCI_DATA);
		return;
	}
	if (w == 1)
		outb((uint16_t)(PCI_DATA + (reg & 3)), (uint8_t)v);
	else if (w == 2)
		outw((uint16_t)(PCI_DATA + (reg & 2)), (uint16_t)v);
	else
		outl(PCI_DATA, (uint32_t)v);
}

/* ---- setup and check ---- */

/* The decimal value of "key=N" on the command line, or def; items are separated by spaces or commas
 * (tests/guests/run.sh splits arguments at spaces, so "seed=5,ops=20000"). */
static uint64_t cmdline_num(const uint8_t *zp, const char *key, uint64_t def)
{
	const char *line = (const char *)(uintptr_t)*(const uint32_t *)(zp + ZP_CMD_LINE_PTR);

	for (const char *s = line; s && *s; s++) {
		const char *k = key, *p = s;
		uint64_t v = 0;

		if (s != line && s[-1] != ' ' && s[-1] != ',')
			continue;
		while (*k && *p == *k)
			k++, p++;
		if (*k)
			continue;
		for (; *p >= '0' && *p <= '9'; p++)
			v = v * 10 + (uint64_t)(*p - '0');
		return v;
	}
	return def;
}

/* Random addresses below the PCI window must not be RAM. */
static int check_e820(const uint8_t *zp)
{
	for (int i = 0; i < zp[ZP_E820_ENTRIES]; i++) {
		const uint8_t *e = zp + ZP_E820_TABLE + 20 * i;
		uint64_t addr = *(const uint64_t *)e, size = *(const uint64_t *)(e + 8);

		if (addr + size > UNASSIGNED_LO && addr < PCI_WIN)
			return fail("e820 entry reaches the unassigned range at", addr);
	}
	return 0;
}

int guest_main(uint64_t unused, const uint8_t *zero_page)
{
	uint64_t seed = cmdline_num(zero_page, "seed=", 0), nops = cmdline_num(zero_page, "ops=", NOPS);
	int r;

	(void)unused;
	if (!seed)
		return fail("no seed=N on the command line, seed", 0);
	if ((r = check_e820(zero_page)))
		return r;
	allow_stops = cmdline_num(zero_page, "stops=", 0);
	rng = seed * 0x9e3779b97f4a7c15ull | 1;
	msix_scan();
	puts_serial("hostile-io seed ");
	putdec(seed);
	puts_serial(", MSI-X functions ");
	putdec((uint64_t)nmsix);
	puts_serial(", ");
	putdec(nops);
	puts_serial(" operations\n");
	for (uint64_t i = 0; i < nops; i++) {
		uint64_t k = rnd() % 100;

		if (k < 30)
			port_op(1);
		else if (k < 40)
			port_op(0);
		else if (k < 60)
			mmio_op(1);
		else if (k < 70)
			mmio_op(0);
		else if (k < 92)
			cfg_op(1);
		else
			cfg_op(0);
	}
	/* the UART as the messages below need it: DLAB off, no loopback, no interrupts */
	outb(COM1 + 3, 0x03);
	outb(COM1 + 1, 0x00);
	outb(COM1 + 4, 0x03);
	puts_serial("\n");
	if (cfg_read32(0, 0) != 0x29c08086u)
		return fail("host bridge id now", cfg_read32(0, 0));
	if ((cfg_read32(1 << 3, 0) & 0xffff) != 0x1af4)
		return fail("virtio function id now", cfg_read32(1 << 3, 0));
	puts_serial("HOSTILE IO OK\n");
	return EXIT_OK;
}
