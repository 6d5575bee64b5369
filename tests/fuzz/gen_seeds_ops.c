/* Seeds for the PCI fuzz target (operation sequences in the fuzz_pci.h format: a virtio-pci driver
 * bringing a device up over MSI-X or INTx, moving its BAR, masking vectors) and for the loader target
 * (fuzz_loaders.h: a small bzImage, ELF vmlinux with and without the PVH note, a raw binary).
 * Part of gen_seeds; runs on the host at check time. */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <asm/bootparam.h>
#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>

#include "fuzz_loaders.h"
#include "fuzz_pci.h"
#include "gen_seeds.h"

/* ---- PCI operation sequences ---- */

struct ops {
	uint8_t b[4096];
	size_t n;
};

static void put(struct ops *o, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes && o->n < sizeof(o->b); i++)
		o->b[o->n++] = (uint8_t)(v >> (8 * i));
}

static unsigned wcode(unsigned width)
{
	return width == 1 ? 0 : width == 2 ? 1 : width == 4 ? 2 : 3;
}

#define DEV1 (1 << 3)		/* devfn of slot 1: the virtio function */

static void cfgw(struct ops *o, uint8_t devfn, uint8_t reg, unsigned width, uint32_t v)
{
	put(o, FZ_PCI_CFG_WRITE, 1);
	put(o, devfn, 1);
	put(o, reg, 1);
	put(o, wcode(width), 1);
	put(o, v, 4);
}

static void cfgr(struct ops *o, uint8_t devfn, uint8_t reg, unsigned width)
{
	put(o, FZ_PCI_CFG_READ, 1);
	put(o, devfn, 1);
	put(o, reg, 1);
	put(o, wcode(width), 1);
}

static void barw(struct ops *o, uint16_t off, unsigned width, uint64_t v)
{
	put(o, FZ_PCI_BAR_WRITE, 1);
	put(o, off, 2);
	put(o, wcode(width), 1);
	put(o, v, 8);
}

static void barr(struct ops *o, uint16_t off, unsigned width)
{
	put(o, FZ_PCI_BAR_READ, 1);
	put(o, off, 2);
	put(o, wcode(width), 1);
}

static void ram(struct ops *o, uint16_t off, const void *p, uint8_t n)
{
	put(o, FZ_PCI_RAM, 1);
	put(o, off, 2);
	put(o, n, 1);
	for (uint8_t i = 0; i < n; i++)
		put(o, ((const uint8_t *)p)[i], 1);
}

static void op1(struct ops *o, uint8_t op, uint8_t arg)
{
	put(o, op, 1);
	put(o, arg, 1);
}

/* Queue q: size 8, rings at RAM + q * 0x1000 (desc), + 0x100 (avail), + 0x200 (used); vector vec. */
static void queue_setup(struct ops *o, uint16_t q, uint16_t vec)
{
	uint64_t base = FUZZ_PCI_RAM_GPA + q * 0x1000u;

	barw(o, VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
	barr(o, VIRTIO_PCI_COMMON_Q_SIZE, 2);
	barw(o, VIRTIO_PCI_COMMON_Q_SIZE, 2, 8);
	barw(o, VIRTIO_PCI_COMMON_Q_MSIX, 2, vec);
	barw(o, VIRTIO_PCI_COMMON_Q_DESCLO, 8, base);
	barw(o, VIRTIO_PCI_COMMON_Q_AVAILLO, 4, base + 0x100);
	barw(o, VIRTIO_PCI_COMMON_Q_AVAILHI, 4, 0);
	barw(o, VIRTIO_PCI_COMMON_Q_USEDLO, 8, base + 0x200);
	barw(o, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
}

/* One chain in queue q: a readable and a writable descriptor, published in avail slot 0. */
static void queue_chain(struct ops *o, uint16_t q)
{
	uint16_t base = (uint16_t)(q * 0x1000u);
	struct { uint64_t addr; uint32_t len; uint16_t flags, next; } d[2] = {
		{ FUZZ_PCI_RAM_GPA + 0x3000, 16, 1, 1 }, { FUZZ_PCI_RAM_GPA + 0x3100, 32, 2, 0 },
	};
	uint16_t avail[3] = { 0, 1, 0 };	/* flags, idx, ring[0] */

	ram(o, base, d, sizeof(d));
	ram(o, (uint16_t)(base + 0x100), avail, sizeof(avail));
}

/* Reset, ACKNOWLEDGE, DRIVER, features (VERSION_1 and what the stub offers), FEATURES_OK. */
static void negotiate(struct ops *o)
{
	barw(o, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	barw(o, VIRTIO_PCI_COMMON_STATUS, 1, 1);
	barw(o, VIRTIO_PCI_COMMON_STATUS, 1, 3);
	barw(o, VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	barr(o, VIRTIO_PCI_COMMON_DF, 4);
	barw(o, VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
	barr(o, VIRTIO_PCI_COMMON_DF, 4);
	barw(o, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	barw(o, VIRTIO_PCI_COMMON_GF, 4, 1u << 3 | 1u << 29);
	barw(o, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	barw(o, VIRTIO_PCI_COMMON_GF, 4, 1u | 1u << 8);
	barw(o, VIRTIO_PCI_COMMON_STATUS, 1, 0xb);
	barr(o, VIRTIO_PCI_COMMON_STATUS, 1);
}

static int pci_msix_seed(void)
{
	static struct ops o;

	o.n = 0;
	for (uint8_t dev = 0; dev < 3; dev++)
		cfgr(&o, (uint8_t)(dev << 3), PCI_VENDOR_ID, 4);
	cfgr(&o, DEV1, PCI_CAPABILITY_LIST, 1);
	cfgw(&o, DEV1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cfgw(&o, DEV1, PCI_BASE_ADDRESS_0, 4, 0xffffffff);	/* sizing */
	cfgr(&o, DEV1, PCI_BASE_ADDRESS_0, 4);
	cfgw(&o, DEV1, PCI_BASE_ADDRESS_0, 4, 0xc0000000);
	cfgw(&o, DEV1, 0x40 + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);	/* MSI-X is the first capability */
	for (uint16_t v = 0; v < 3; v++) {
		barw(&o, (uint16_t)(0x4000 + 16 * v), 4, 0xfee00000);
		barw(&o, (uint16_t)(0x4000 + 16 * v + 4), 4, 0);
		barw(&o, (uint16_t)(0x4000 + 16 * v + 8), 4, 0x30 + v);
		barw(&o, (uint16_t)(0x4000 + 16 * v + 12), 4, 0);
	}
	negotiate(&o);
	barw(&o, VIRTIO_PCI_COMMON_MSIX, 2, 0);
	queue_setup(&o, 0, 1);
	queue_setup(&o, 1, 2);
	queue_chain(&o, 0);
	barw(&o, VIRTIO_PCI_COMMON_STATUS, 1, 0xf);
	barw(&o, 0x3000, 2, 0);				/* doorbell queue 0 */
	op1(&o, FZ_PCI_NOTIFY, 1);
	barw(&o, 0x4000 + 12, 4, 1);			/* mask vector 0, raise config, unmask */
	op1(&o, FZ_PCI_SIGNAL, 1);
	barr(&o, 0x5000, 8);
	barw(&o, 0x4000 + 12, 4, 0);
	cfgw(&o, DEV1, 0x40 + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	op1(&o, FZ_PCI_SIGNAL, 0);
	cfgw(&o, DEV1, 0x40 + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	cfgw(&o, DEV1, PCI_BASE_ADDRESS_0, 4, 0xc0100000);	/* move the BAR, use it there */
	barr(&o, VIRTIO_PCI_COMMON_NUMQ, 2);
	barr(&o, 0x2000, 4);
	barw(&o, 0x2004, 2, 0xabcd);
	barw(&o, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	return seed_emit(o.b, o.n, NULL, 0);
}

static int pci_intx_seed(void)
{
	static struct ops o;

	o.n = 0;
	negotiate(&o);
	queue_setup(&o, 0, VIRTIO_MSI_NO_VECTOR);
	queue_chain(&o, 0);
	barw(&o, VIRTIO_PCI_COMMON_STATUS, 1, 0xf);
	barw(&o, 0x3000, 2, 0);
	barr(&o, 0x1000, 1);				/* ISR read acknowledges */
	cfgw(&o, DEV1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
	op1(&o, FZ_PCI_SIGNAL, 2);			/* needs reset */
	cfgr(&o, DEV1, PCI_STATUS, 2);
	cfgw(&o, DEV1, PCI_STATUS, 2, 0xffff);
	cfgw(&o, DEV1, PCI_COMMAND, 2, 0);		/* decoding off: BAR accesses float */
	barr(&o, VIRTIO_PCI_COMMON_STATUS, 1);
	put(&o, FZ_PCI_PORT, 1);			/* a byte write to 0xcf9 */
	put(&o, 1 | 8, 1);
	put(&o, 6, 8);
	put(&o, FZ_PCI_WIN, 1);
	put(&o, 0x100000 - 4, 4);
	put(&o, 7, 1);
	put(&o, 1, 1);
	put(&o, 0x1122334455667788ULL, 8);
	return seed_emit(o.b, o.n, NULL, 0);
}

int gen_pci(void)
{
	return pci_msix_seed() | pci_intx_seed();
}

/* ---- Kernel images ---- */

static uint8_t img[16384];

static int ld_seed(uint8_t format, uint32_t load, uint32_t entry, const char *cmdline, uint32_t initrd_len,
		   size_t img_len)
{
	static uint8_t buf[sizeof(struct fuzz_ld_hdr) + 64 + 4 + 256 + sizeof(img)];
	struct fuzz_ld_hdr h = { format, load, entry, 1, (uint16_t)strlen(cmdline) };
	size_t n = 0;

	memcpy(buf, &h, sizeof(h));
	n += sizeof(h);
	memcpy(buf + n, cmdline, h.cmdline_len);
	n += h.cmdline_len;
	memcpy(buf + n, &initrd_len, 4);
	n += 4;
	for (uint32_t i = 0; i < initrd_len && i < 256; i++)
		buf[n++] = (uint8_t)(0x30 + i % 10);
	memcpy(buf + n, img, img_len);
	return seed_emit(buf, n + img_len, NULL, 0);
}

/* A 2.15 bzImage: one setup sector + boot sector, 1 KiB of "kernel". */
static size_t make_bzimage(void)
{
	struct setup_header h = {
		.setup_sects = 1, .syssize = 1024 / 16, .boot_flag = 0xaa55, .header = 0x53726448,
		.version = 0x020f, .loadflags = LOADED_HIGH, .initrd_addr_max = 0x7fffffff,
		.kernel_alignment = 0x200000, .relocatable_kernel = 1,
		.xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G, .cmdline_size = 2047,
		.pref_address = 0x1000000, .init_size = 0x100000,
	};

	memset(img, 0, 1024 + 1024);
	h.jump = (uint16_t)(0xeb | (0x1f1 + sizeof(h) - 0x202) << 8);
	memcpy(img + 0x1f1, &h, sizeof(h));
	for (int i = 0; i < 1024; i++)
		img[1024 + i] = (uint8_t)(i * 7 + 3);
	return 2048;
}

/* An x86-64 ET_EXEC: one PT_LOAD (p_paddr 1 MiB, virtual at vaddr) and, with pvh, a PT_NOTE
 * carrying Xen's PHYS32_ENTRY. */
static size_t make_elf(int pvh, uint64_t vaddr)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(*eh));
	uint32_t *note = (uint32_t *)(img + 0x100);

	memset(img, 0, 0x400);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = vaddr + 0x10;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = pvh ? 2 : 1;
	ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0x200, .p_vaddr = vaddr,
			      .p_paddr = 0x100000, .p_filesz = 0x200, .p_memsz = 0x3000, .p_align = 0x1000 };
	if (pvh) {
		ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 0x100, .p_filesz = 20, .p_align = 4 };
		note[0] = 4;			/* namesz "Xen" */
		note[1] = 4;			/* descsz */
		note[2] = 18;			/* XEN_ELFNOTE_PHYS32_ENTRY */
		memcpy(&note[3], "Xen", 4);
		note[4] = 0x100000;
	}
	for (int i = 0; i < 0x200; i++)
		img[0x200 + i] = (uint8_t)(0xf4 ^ i);
	return 0x400;
}

int gen_loaders(void)
{
	size_t n;
	int ret = 0;

	n = make_bzimage();
	ret |= ld_seed(0, 0, 0, "console=ttyS0 root=/dev/vda", 100, n);
	ret |= ld_seed(3, 0, 0, "", 0, n);
	n = make_elf(1, 0x100000);
	ret |= ld_seed(1, 0, 0, "hello-pvh", 64, n);
	n = make_elf(0, 0xffffffff81000000ULL);
	ret |= ld_seed(3, 0, 0, "quiet", 0, n);
	memset(img, 0xf4, 64);
	ret |= ld_seed(2, 0x1000, 0x1010, "", 0, 64);
	return ret;
}
