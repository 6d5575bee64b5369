/* KASLR for x86-64 kernels inflated on the host: where to put the kernel (physical and virtual), and
 * the relocation table Linux appends to a CONFIG_RANDOMIZE_BASE payload (vmlinux.relocs). Pure
 * functions over buffers; nothing here touches guest memory or /dev/kvm. */
#ifndef CKVM_X86_KASLR_H
#define CKVM_X86_KASLR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KASLR_START_KERNEL_MAP	0xffffffff80000000ULL	/* __START_KERNEL_map */
#define KASLR_KERNEL_IMAGE_SIZE	(1ULL << 30)		/* KERNEL_IMAGE_SIZE with RANDOMIZE_BASE */
#define KASLR_MIN_ALIGN		(2ULL << 20)		/* MIN_KERNEL_ALIGN on x86-64 (one PMD) */

/* Where the kernel may go. */
struct kaslr_window {
	uint64_t link_gpa;	/* LOAD_PHYSICAL_ADDR: the physical address the ELF was linked for */
	uint64_t size;		/* bytes the kernel occupies from its load address (incl. bss, brk) */
	uint64_t align;		/* CONFIG_PHYSICAL_ALIGN (the header's kernel_alignment), >= 2 MiB */
	uint64_t hi_gpa;	/* the kernel must end at or below this (RAM end, or the initrd) */
};

/* The table, parsed from the end of the inflated payload. Entries are 32-bit kernel virtual addresses
 * (sign-extended) of the places to fix: 64-bit values, inverse 32-bit values, 32-bit values. */
struct kaslr_relocs {
	const uint8_t *r64, *r32neg, *r32;	/* first entry of each list (little-endian u32s) */
	size_t nr64, nr32neg, nr32;
	size_t table_off;			/* where the table (its first zero word) starts */
};

/* 1 if the command line has the word "nokaslr" (as the guest's decompressor checks it). */
bool kaslr_cmdline_off(const char *cmdline);

/* Choose the load address and virtual offset (arch/x86/boot/compressed/kaslr.c's slot rules:
 * align-sized physical slots from link_gpa up to hi_gpa, virtual slots from link_gpa up to
 * KERNEL_IMAGE_SIZE). randomize false: link_gpa and offset 0. Randomness from getrandom() unless
 * seed != 0. 0, -EFBIG (does not fit), -EINVAL (bad window) or getrandom's -errno. */
int kaslr_choose(const struct kaslr_window *w, bool randomize, uint64_t seed, uint64_t *load_gpa,
		 uint64_t *virt_offset);

/* Find the table at the end of buf[min_off, len): three lists, each ended (read backwards) by a zero
 * word, and check every entry points inside an image of image_len bytes linked at link_gpa.
 * 0, -ENOENT (nothing after min_off: no table), -EBADMSG. */
int kaslr_relocs_find(const uint8_t *buf, size_t len, size_t min_off, uint64_t link_gpa,
		      uint64_t image_len, struct kaslr_relocs *r);

/* Apply a table kaslr_relocs_find() accepted to image (the kernel as loaded, image_len bytes, linked at
 * link_gpa) for a virtual offset, as misc.c handle_relocations() does. Offset 0 changes nothing. */
void kaslr_relocate(uint8_t *image, uint64_t image_len, uint64_t link_gpa, const struct kaslr_relocs *r,
		    uint64_t virt_offset);

#endif
