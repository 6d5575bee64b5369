/* x86 kernel loaders: bzImage (Linux boot protocol, 64-bit entry), ELF vmlinux (PVH or 64-bit entry
 * with a zero page) and raw flat binaries (real mode). Loaders take the image as a memory buffer, write
 * guest memory only through gm_ptr()/gm_write(), and describe the entry state in struct boot_info,
 * which cpu.c turns into registers. Nothing here needs /dev/kvm. */
#ifndef CKVM_X86_BOOT_H
#define CKVM_X86_BOOT_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/guest_mem.h"

/* E820 memory types (values of the BIOS interface, also used by PVH's hvm_memmap_table_entry). */
#define E820_RAM	1
#define E820_RESERVED	2
#define E820_ACPI	3
#define E820_NVS	4
#define E820_UNUSABLE	5

#define E820_TABLE_MAX	32

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/* Built by the board, sorted by address, non-overlapping. */
struct e820_table {
	struct e820_entry e[E820_TABLE_MAX];
	int nr;
};

/* Append [addr, addr+size) of type; merges with the previous entry when contiguous and of the same type.
 * 0, -EINVAL (size 0, overflow, not above the previous entry) or -ENOSPC (table full). */
int e820_add(struct e820_table *t, uint64_t addr, uint64_t size, uint32_t type);
/* 0 if t is non-NULL, has 1..E820_TABLE_MAX entries, sorted and non-overlapping; else -EINVAL. */
int e820_check(const struct e820_table *t);
/* End (exclusive) of the E820_RAM entry containing gpa, or 0 if gpa is not in RAM. */
uint64_t e820_ram_end(const struct e820_table *t, uint64_t gpa);

enum boot_format { BOOT_FMT_UNKNOWN, BOOT_FMT_BZIMAGE, BOOT_FMT_ELF, BOOT_FMT_RAW };

/* How the boot CPU must be set up (cpu.c):
 * REAL16:  real mode, CS = real_cs, IP = entry_gpa - real_cs * 16, DS = ES = SS = real_cs; interrupts off.
 * PVH32:   32-bit protected mode, flat 4 GiB code/data segments, paging off, EIP = entry_gpa,
 *          EBX = start_info_gpa (Xen PVH boot ABI). Interrupts off.
 * LINUX64: long mode, identity-mapped page tables, flat __BOOT_CS(0x10)/__BOOT_DS(0x18) GDT,
 *          RIP = entry_gpa, RSI = zero_page_gpa, RSP = LAYOUT_BOOT_STACK_GPA, interrupts off
 *          (Documentation/x86/boot.rst "64-bit Boot Protocol"). */
enum boot_entry_mode { BOOT_ENTRY_REAL16, BOOT_ENTRY_PVH32, BOOT_ENTRY_LINUX64 };

struct boot_args {
	const void *kernel;		/* whole image file, e.g. mmap'ed by main */
	size_t kernel_len;
	const void *initrd;		/* NULL: no initrd */
	size_t initrd_len;
	const char *cmdline;		/* NULL or "" : empty command line */
	const struct e820_table *e820;	/* required for bzImage/ELF */
	uint64_t rsdp_gpa;		/* 0: no ACPI; else zero page acpi_rsdp_addr / PVH rsdp_paddr */
	uint64_t load_gpa;		/* raw only: where the file is copied */
	uint64_t entry_gpa;		/* raw only: linear entry address */
	bool host_decompress;		/* bzImage: inflate the payload here (else the guest's decompressor) */
	uint64_t kaslr_seed;		/* host decompression: 0 = getrandom(), else a fixed seed (tests) */
};

struct boot_info {
	enum boot_format format;
	enum boot_entry_mode mode;
	uint64_t entry_gpa;		/* RIP (LINUX64), EIP (PVH32) or linear entry (REAL16) */
	uint64_t zero_page_gpa;		/* LINUX64: RSI */
	uint64_t start_info_gpa;	/* PVH32: EBX */
	uint16_t real_cs;		/* REAL16: CS selector */
	uint64_t kernel_gpa;		/* first byte the kernel occupies */
	uint64_t kernel_end_gpa;	/* exclusive; includes bss / decompression room (init_size) */
	uint64_t cmdline_gpa;		/* 0 when not passed (raw) */
	uint64_t cmdline_max;		/* bytes of command line the kernel takes (without the NUL);
					 * set before the command line is written, so also on -E2BIG */
	uint64_t initrd_gpa;		/* 0 when no initrd */
	uint64_t initrd_len;
	const char *inflated;		/* bzImage inflated on the host: its compression ("lz4"), else NULL */
	uint64_t virt_offset;		/* host-relocated kernel: virtual KASLR offset from its link address */
};

/* Loader errors (negative errno); boot_strerror() gives the text for "<file>: <text>".
 *   -ENOEXEC          not a bzImage or ELF kernel (bad magic, wrong ELF machine/type)
 *   -EBADMSG          image truncated or corrupt (headers point outside the file, filesz > memsz, ...)
 *   -EPROTONOSUPPORT  bzImage boot protocol older than 2.12
 *   -EOPNOTSUPP       kernel has no 64-bit entry point (XLF_KERNEL_64 clear)
 *   -EFBIG            kernel does not fit in guest RAM
 *   -EFAULT           ELF segment outside guest RAM or below 1 MiB (boot structures live there)
 *   -ENOSPC           no room for the initrd in guest RAM
 *   -E2BIG            command line too long for the kernel
 *   -EINVAL           bad arguments: raw load/entry address, missing/oversized e820 table
 *   -EILSEQ           bzImage payload corrupt or truncated (host-side decompression) */
const char *boot_strerror(int err);

/* Sniff the image: bzImage ("HdrS" at 0x202 and 0xAA55 at 0x1fe), ELF ("\177ELF"), else UNKNOWN.
 * Raw images cannot be recognised; they are only loaded when asked for explicitly. */
enum boot_format boot_probe(const void *img, size_t len);

/* Load with the given format; BOOT_FMT_UNKNOWN probes (and fails with -ENOEXEC if nothing matches). */
int boot_load(const struct guest_mem *gm, enum boot_format fmt, const struct boot_args *a,
	      struct boot_info *out);

int bzimage_load(const struct guest_mem *gm, const struct boot_args *a, struct boot_info *out);
int elf_load(const struct guest_mem *gm, const struct boot_args *a, struct boot_info *out);
/* Flat binary: copy to a->load_gpa; entry a->entry_gpa must be inside the image and, like the image,
 * below 1 MiB. real_cs = (entry >> 4) & 0xf000, i.e. the 64 KiB segment holding the entry, so
 * IP = entry & 0xffff and code assembled with "org (entry & 0xffff)" runs unchanged. */
int raw_load(const struct guest_mem *gm, const struct boot_args *a, struct boot_info *out);

/* bzImage with host-side decompression (bzimage_host.c): inflate the payload, load the ELF inside it
 * (relocated for KASLR unless the command line says nokaslr) and enter it at its 64-bit entry with the
 * zero page built from the bzImage's own setup header. hdr and setup_len come from bzimage_load.
 * 0, -EAGAIN when only the guest's decompressor can load this image (one info line says why; none when
 * the image has no payload at all, e.g. a hand-made one: it runs as it is), or a
 * loader error: -EILSEQ corrupt/truncated payload, -EFBIG too big for guest RAM, -EBADMSG bad ELF or
 * relocation table, -ENOSPC no room for the initrd, -ENOMEM. */
struct setup_header;
int bzimage_host_load(const struct guest_mem *gm, const struct boot_args *a,
		      const struct setup_header *hdr, size_t setup_len, struct boot_info *out);

/* --- ELF pieces (elf.c), also used by the bzImage host path --- */
struct elf_image {
	const uint8_t *img;
	size_t len;
	Elf64_Ehdr eh;
	const uint8_t *ph;		/* e_phnum entries of e_phentsize, inside img */
};

/* Validate the ELF header and program header table: -ENOEXEC not an x86-64 executable, -EBADMSG. */
int elf_parse(struct elf_image *e, const void *img, size_t len);
void elf_phdr(const struct elf_image *e, int i, Elf64_Phdr *p);
/* Check every PT_LOAD against the file and guest RAM at p_paddr + delta (>= 1 MiB); report the extent. */
int elf_check_segments(const struct elf_image *e, const struct guest_mem *gm, uint64_t delta,
		       uint64_t *start_gpa, uint64_t *end_gpa);
/* Copy every PT_LOAD to p_paddr + delta and zero its tail; elf_check_segments() must have passed. */
void elf_copy_segments(const struct elf_image *e, const struct guest_mem *gm, uint64_t delta);

/* --- Shared pieces of the Linux boot protocol (bzimage.c), also used by elf.c --- */

/* Copy a->cmdline (NUL-terminated) to LAYOUT_CMDLINE_GPA and set out->cmdline_gpa; -E2BIG if longer
 * than max_len bytes (at most LAYOUT_CMDLINE_MAX - 1). Sets out->cmdline_max either way. */
int boot_cmdline_write(const struct guest_mem *gm, const struct boot_args *a, uint64_t max_len,
		       struct boot_info *out);
/* End (exclusive) of the RAM an initrd may use when the kernel ends in the RAM entry holding gpa: the
 * entry's end, bounded by gm's region there and by limit_gpa. 0 when gpa is not RAM. */
uint64_t boot_initrd_top(const struct guest_mem *gm, const struct e820_table *e820, uint64_t gpa,
			 uint64_t limit_gpa);
/* The initrd limit a setup header allows: initrd_addr_max + 1 (by protocol version), at most 4 GiB. */
uint64_t linux_initrd_limit(const struct setup_header *hdr);
/* Place the initrd page-aligned as high as possible in the RAM entry holding kernel_end_gpa - 1,
 * below limit_gpa (exclusive) and at or above kernel_end_gpa, and copy it. No initrd: *initrd_gpa = 0.
 * -ENOSPC when it does not fit. */
int boot_initrd_place(const struct guest_mem *gm, const struct boot_args *a, uint64_t kernel_end_gpa,
		      uint64_t limit_gpa, uint64_t *initrd_gpa);
/* Build struct boot_params at LAYOUT_ZERO_PAGE_GPA from the kernel's setup header (copied into a zeroed
 * page): loader type, load flags, command line, initrd, e820 map, RSDP. Uses out->kernel_end_gpa;
 * fills out->zero_page_gpa, cmdline_gpa, initrd_gpa, initrd_len. */
int linux_zero_page_build(const struct guest_mem *gm, const struct setup_header *hdr,
			  const struct boot_args *a, struct boot_info *out);

#endif
