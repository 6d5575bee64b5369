/* ELF vmlinux loader against synthetic images: PT_LOAD copy and bss zeroing, virtual->physical entry,
 * the PVH note and the hvm_start_info it produces, and hostile headers (errors, never crashes). */
#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "test.h"

#include <asm/bootparam.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>

#define MIB		(1ULL << 20)
#define RAM_LEN		(64 * MIB)
#define SEG_GPA		0x200000ULL
#define SEG_VADDR	0xffffffff81000000ULL
#define SEG_FILESZ	0x100
#define SEG_MEMSZ	0x2000
#define IMG_LEN		0x1000
#define PH_OFF		0x40
#define NOTE_OFF	0x200
#define SEG_OFF		0x400

static struct guest_mem gm;
static uint8_t *ram;
static struct e820_table e820;
static uint8_t img[IMG_LEN];
static uint8_t initrd[5000];

static void setup_ram(void)
{
	memset(&gm, 0, sizeof(gm));
	free(ram);
	ram = malloc(RAM_LEN);
	memset(ram, 0xaa, RAM_LEN);	/* stale contents: bss must be zeroed by the loader */
	gm_add_region(&gm, 0, RAM_LEN, ram);
	memset(&e820, 0, sizeof(e820));
	e820_add(&e820, 0, LAYOUT_EBDA_GPA, E820_RAM);
	e820_add(&e820, LAYOUT_BIOS_GPA, LAYOUT_BIOS_END - LAYOUT_BIOS_GPA, E820_RESERVED);
	e820_add(&e820, LAYOUT_KERNEL_GPA, RAM_LEN - LAYOUT_KERNEL_GPA, E820_RAM);
}

static Elf64_Phdr *phdr(int i)
{
	return (Elf64_Phdr *)(img + PH_OFF + i * sizeof(Elf64_Phdr));
}

static Elf64_Ehdr *ehdr(void)
{
	return (Elf64_Ehdr *)img;
}

/* One PT_LOAD (vaddr SEG_VADDR -> paddr SEG_GPA) and one PT_NOTE with a GNU note, and the Xen
 * PHYS32_ENTRY note after it when pvh. */
static void make_elf(int pvh)
{
	Elf64_Ehdr *eh = ehdr();
	Elf64_Nhdr nh;
	size_t off = NOTE_OFF, i;
	uint64_t pvh_entry = SEG_GPA + 0x40;

	memset(img, 0, sizeof(img));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = SEG_VADDR + 0x10;
	eh->e_phoff = PH_OFF;
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 2;

	*phdr(0) = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = SEG_OFF, .p_vaddr = SEG_VADDR,
				 .p_paddr = SEG_GPA, .p_filesz = SEG_FILESZ, .p_memsz = SEG_MEMSZ };
	for (i = 0; i < SEG_FILESZ; i++)
		img[SEG_OFF + i] = (uint8_t)(i + 1);

	nh = (Elf64_Nhdr){ .n_namesz = 4, .n_descsz = 5, .n_type = 3 };
	memcpy(img + off, &nh, sizeof(nh));
	memcpy(img + off + sizeof(nh), "GNU", 4);
	off += sizeof(nh) + 4 + 8;	/* desc 5 bytes padded to 8 */
	if (pvh) {
		nh = (Elf64_Nhdr){ .n_namesz = 4, .n_descsz = 8, .n_type = 18 };
		memcpy(img + off, &nh, sizeof(nh));
		memcpy(img + off + sizeof(nh), "Xen", 4);
		memcpy(img + off + sizeof(nh) + 4, &pvh_entry, 8);
		off += sizeof(nh) + 4 + 8;
	}
	*phdr(1) = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = NOTE_OFF, .p_filesz = off - NOTE_OFF };
}

static struct boot_args args(void)
{
	return (struct boot_args){ .kernel = img, .kernel_len = sizeof(img), .initrd = initrd,
				   .initrd_len = sizeof(initrd), .cmdline = "console=hvc0",
				   .e820 = &e820, .rsdp_gpa = 0xe0000 };
}

static int bytes_are(const uint8_t *p, uint8_t v, size_t n)
{
	while (n--)
		if (*p++ != v)
			return 0;
	return 1;
}

static void test_linux64(void)
{
	struct boot_args a = args();
	struct boot_info bi;
	const struct boot_params *bp;

	setup_ram();
	make_elf(0);
	CHECK_EQ(boot_probe(img, sizeof(img)), BOOT_FMT_ELF);
	CHECK_EQ(elf_load(&gm, &a, &bi), 0);
	CHECK_EQ(bi.format, BOOT_FMT_ELF);
	CHECK_EQ(bi.mode, BOOT_ENTRY_LINUX64);
	CHECK_EQ(bi.entry_gpa, SEG_GPA + 0x10);		/* virtual e_entry mapped to physical */
	CHECK_EQ(bi.kernel_gpa, SEG_GPA);
	CHECK_EQ(bi.kernel_end_gpa, SEG_GPA + SEG_MEMSZ);
	CHECK(!memcmp(ram + SEG_GPA, img + SEG_OFF, SEG_FILESZ));
	CHECK(bytes_are(ram + SEG_GPA + SEG_FILESZ, 0, SEG_MEMSZ - SEG_FILESZ));
	CHECK_EQ(ram[SEG_GPA + SEG_MEMSZ], 0xaa);	/* nothing beyond memsz touched */

	CHECK_EQ(bi.zero_page_gpa, LAYOUT_ZERO_PAGE_GPA);
	bp = gm_ptr(&gm, LAYOUT_ZERO_PAGE_GPA, sizeof(*bp));
	CHECK(bytes_are((const uint8_t *)bp, 0, 0x70));	/* zeroed page, not stale 0xaa */
	CHECK_EQ(bp->hdr.boot_flag, 0xaa55);
	CHECK_EQ(bp->hdr.header, 0x53726448);
	CHECK_EQ(bp->hdr.type_of_loader, 0xff);
	CHECK_EQ(bp->hdr.cmd_line_ptr, LAYOUT_CMDLINE_GPA);
	CHECK_STR((const char *)ram + LAYOUT_CMDLINE_GPA, "console=hvc0");
	CHECK_EQ(bp->e820_entries, e820.nr);
	CHECK_EQ(bp->e820_table[2].addr, LAYOUT_KERNEL_GPA);
	CHECK_EQ(bp->acpi_rsdp_addr, 0xe0000);
	CHECK_EQ(bp->hdr.ramdisk_image, bi.initrd_gpa);
	CHECK_EQ(bp->hdr.ramdisk_size, sizeof(initrd));
	CHECK_EQ(bi.initrd_gpa, (RAM_LEN - sizeof(initrd)) & ~0xfffULL);

	/* a physical e_entry (what Linux's vmlinux actually has: phys_startup_64) is used as is */
	setup_ram();
	ehdr()->e_entry = SEG_GPA + 0x20;
	CHECK_EQ(elf_load(&gm, &a, &bi), 0);
	CHECK_EQ(bi.entry_gpa, SEG_GPA + 0x20);
	/* ... and one outside every segment is corrupt */
	ehdr()->e_entry = 0x12345678;
	CHECK_EQ(elf_load(&gm, &a, &bi), -EBADMSG);
}

struct pvh_info {	/* the hvm_start_info layout, read back by hand */
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

static void test_pvh(void)
{
	struct boot_args a = args();
	struct boot_info bi;
	struct pvh_info si;
	uint64_t mod[4], mm[3];
	uint32_t mmtype;
	size_t i;
	int ok = 1;

	setup_ram();
	make_elf(1);
	for (i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i * 13);
	CHECK_EQ(elf_load(&gm, &a, &bi), 0);
	CHECK_EQ(bi.mode, BOOT_ENTRY_PVH32);
	CHECK_EQ(bi.entry_gpa, SEG_GPA + 0x40);
	CHECK_EQ(bi.start_info_gpa, LAYOUT_PVH_INFO_GPA);
	CHECK_EQ(gm_read(&gm, &si, LAYOUT_PVH_INFO_GPA, sizeof(si)), 0);
	CHECK_EQ(si.magic, 0x336ec578);
	CHECK_EQ(si.version, 1);
	CHECK_EQ(si.flags, 0);
	CHECK_EQ(si.cmdline_paddr, LAYOUT_CMDLINE_GPA);
	CHECK_STR((const char *)ram + si.cmdline_paddr, "console=hvc0");
	CHECK_EQ(si.rsdp_paddr, 0xe0000);

	CHECK_EQ(si.nr_modules, 1);
	CHECK_EQ(gm_read(&gm, mod, si.modlist_paddr, sizeof(mod)), 0);
	CHECK_EQ(mod[0], bi.initrd_gpa);
	CHECK_EQ(mod[1], sizeof(initrd));
	CHECK_EQ(mod[2], 0);
	CHECK_EQ(mod[0] & 0xfff, 0);
	CHECK(mod[0] >= bi.kernel_end_gpa);
	CHECK(!memcmp(ram + mod[0], initrd, sizeof(initrd)));

	CHECK_EQ(si.memmap_entries, e820.nr);
	CHECK(si.memmap_paddr > LAYOUT_PVH_INFO_GPA && si.memmap_paddr < LAYOUT_ZERO_PAGE_GPA);
	for (i = 0; i < (size_t)e820.nr; i++) {
		gm_read(&gm, mm, si.memmap_paddr + i * 24, 16);
		gm_read(&gm, &mmtype, si.memmap_paddr + i * 24 + 16, 4);
		ok &= mm[0] == e820.e[i].addr && mm[1] == e820.e[i].size && mmtype == e820.e[i].type;
	}
	CHECK(ok);

	/* no initrd, no ACPI, no cmdline */
	setup_ram();
	a.initrd = NULL;
	a.initrd_len = 0;
	a.rsdp_gpa = 0;
	a.cmdline = NULL;
	CHECK_EQ(elf_load(&gm, &a, &bi), 0);
	gm_read(&gm, &si, LAYOUT_PVH_INFO_GPA, sizeof(si));
	CHECK_EQ(si.nr_modules, 0);
	CHECK_EQ(si.modlist_paddr, 0);
	CHECK_EQ(si.rsdp_paddr, 0);
	CHECK_STR((const char *)ram + si.cmdline_paddr, "");
	CHECK_EQ(bi.initrd_gpa, 0);

	/* a 4-byte PHYS32_ENTRY descriptor is accepted too */
	make_elf(1);
	{
		Elf64_Nhdr nh = { .n_namesz = 4, .n_descsz = 4, .n_type = 18 };
		uint32_t e32 = SEG_GPA + 0x80;
		size_t off = NOTE_OFF + sizeof(nh) + 4 + 8;

		memcpy(img + off, &nh, sizeof(nh));
		memcpy(img + off + sizeof(nh), "Xen", 4);
		memcpy(img + off + sizeof(nh) + 4, &e32, 4);
		phdr(1)->p_filesz = off + sizeof(nh) + 8 - NOTE_OFF;
	}
	CHECK_EQ(elf_load(&gm, &a, &bi), 0);
	CHECK_EQ(bi.mode, BOOT_ENTRY_PVH32);
	CHECK_EQ(bi.entry_gpa, SEG_GPA + 0x80);
}

static void test_hostile(void)
{
	struct boot_args a = args();
	struct boot_info bi;

	setup_ram();
	make_elf(1);
	ehdr()->e_phoff = IMG_LEN + 8;
	CHECK_EQ(elf_load(&gm, &a, &bi), -EBADMSG);
	ehdr()->e_phoff = UINT64_MAX - 8;
	CHECK_EQ(elf_load(&gm, &a, &bi), -EBADMSG);

	make_elf(1);
	ehdr()->e_phnum = 0xfffe;		/* table runs off the end of the file */
	CHECK_EQ(elf_load(&gm, &a, &bi), -EBADMSG);
	ehdr()->e_phnum = PN_XNUM;
	CHECK_EQ(elf_load(&gm, &a, &bi), -EBADMSG);
	ehdr()->e_phnum = 0;
	CHECK_EQ(elf_load(&gm, &a, &bi), -EBADMSG);

	make_elf(1);
	ehdr()->e_phentsize = 32;
	CHECK_EQ(elf_load(&gm, &a, &bi), -EBADMSG);

	make_elf(1);
	phdr(0)->p_filesz = SEG_MEMSZ + 1;
	CHECK_EQ(elf_load(&gm, &a, &bi), -EBADMSG);
	make_elf(1);
	phdr(0)->p_offset = UINT64_MAX - 0x10;	/* offset + filesz wraps */
	CHECK_EQ(elf_load(&gm, &a, &bi), -EBADMSG);
	make_elf(1);
	phdr(0)->p_offset = IMG_LEN - 0x10;	/* data runs past the file */
	CHECK_EQ(elf_load(&gm, &a, &bi), -EBADMSG);

	make_elf(1);
	phdr(0)->p_paddr = RAM_LEN - 0x1000;	/* memsz crosses the end of RAM */
	CHECK_EQ(elf_load(&gm, &a, &bi), -EFAULT);
	phdr(0)->p_paddr = 0x10000000;
	CHECK_EQ(elf_load(&gm, &a, &bi), -EFAULT);
	phdr(0)->p_paddr = UINT64_MAX - 0x100;	/* paddr + memsz wraps */
	CHECK_EQ(elf_load(&gm, &a, &bi), -EFAULT);
	phdr(0)->p_paddr = LAYOUT_ZERO_PAGE_GPA;	/* would be overwritten by boot structures */
	CHECK_EQ(elf_load(&gm, &a, &bi), -EFAULT);
	make_elf(1);
	phdr(0)->p_memsz = UINT64_MAX;
	phdr(0)->p_filesz = 0x10;
	CHECK_EQ(elf_load(&gm, &a, &bi), -EFAULT);

	/* notes: length fields larger than the segment, segment outside the file */
	make_elf(1);
	((Elf64_Nhdr *)(img + NOTE_OFF))->n_namesz = 0xffffffff;
	CHECK_EQ(elf_load(&gm, &a, &bi), -EBADMSG);
	make_elf(1);
	((Elf64_Nhdr *)(img + NOTE_OFF))->n_descsz = 0xfffffff0;
	CHECK_EQ(elf_load(&gm, &a, &bi), -EBADMSG);
	make_elf(1);
	phdr(1)->p_filesz = UINT64_MAX;
	CHECK_EQ(elf_load(&gm, &a, &bi), -EBADMSG);

	/* not an x86_64 executable / not ELF at all / truncated header */
	make_elf(0);
	ehdr()->e_machine = EM_386;
	CHECK_EQ(elf_load(&gm, &a, &bi), -ENOEXEC);
	make_elf(0);
	ehdr()->e_type = ET_REL;
	CHECK_EQ(elf_load(&gm, &a, &bi), -ENOEXEC);
	make_elf(0);
	ehdr()->e_ident[EI_CLASS] = ELFCLASS32;
	CHECK_EQ(elf_load(&gm, &a, &bi), -ENOEXEC);
	make_elf(0);
	a.kernel_len = 20;
	CHECK_EQ(elf_load(&gm, &a, &bi), -EBADMSG);
	a.kernel_len = 3;
	CHECK_EQ(elf_load(&gm, &a, &bi), -ENOEXEC);
	a.kernel_len = sizeof(img);

	/* no PT_LOAD at all */
	make_elf(0);
	phdr(0)->p_type = PT_NULL;
	CHECK_EQ(elf_load(&gm, &a, &bi), -EBADMSG);

	/* the command line must fit in the 64 KiB window */
	{
		char *cmd = malloc(LAYOUT_CMDLINE_MAX + 1);

		memset(cmd, 'c', LAYOUT_CMDLINE_MAX);
		cmd[LAYOUT_CMDLINE_MAX] = 0;
		make_elf(1);
		a.cmdline = cmd;
		CHECK_EQ(elf_load(&gm, &a, &bi), -E2BIG);
		make_elf(0);
		CHECK_EQ(elf_load(&gm, &a, &bi), -E2BIG);
		free(cmd);
		a.cmdline = NULL;
	}
	/* the initrd must fit above the kernel */
	make_elf(1);
	a.initrd_len = RAM_LEN;
	CHECK_EQ(elf_load(&gm, &a, &bi), -ENOSPC);
}

/* Random corruption of the headers: any result but a crash (ASan/UBSan watch the memory accesses). */
static void test_mutations(void)
{
	static uint8_t pristine[IMG_LEN];
	struct boot_args a = args();
	struct boot_info bi;
	uint64_t x = 0x2545f4914f6cdd1dULL;
	int i, j, ret, ok = 1;

	setup_ram();
	for (i = 0; i < 4000; i++) {
		if (i % 2000 == 0) {
			make_elf(i / 2000);
			memcpy(pristine, img, sizeof(img));
		}
		memcpy(img, pristine, sizeof(img));
		for (j = 0; j < 3; j++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			/* ELF header, program headers and the notes */
			img[(x >> 20) % 2 ? (x % 0xb0) : NOTE_OFF + x % 0x40] = (uint8_t)(x >> 40);
		}
		ret = elf_load(&gm, &a, &bi);
		if (!ret)
			ok &= bi.kernel_gpa >= LAYOUT_KERNEL_GPA && bi.kernel_end_gpa <= RAM_LEN;
	}
	CHECK(ok);
}

int main(void)
{
	RUN(test_linux64);
	RUN(test_pvh);
	RUN(test_hostile);
	RUN(test_mutations);
	free(ram);
	return test_summary();
}
