/* Synthetic kernels for the host-decompression tests and fuzz seeds: a small vmlinux.bin-like ELF
 * (three PT_LOADs linked at 16 MiB / 0xffffffff81000000, section headers, optional relocation table),
 * compressed the way Linux's scripts/Makefile.lib does it, wrapped in a bzImage setup header. */
#ifndef CKVM_TEST_KIMG_MOCK_H
#define CKVM_TEST_KIMG_MOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/decompress.h"

#define KIMG_LINK_GPA	0x1000000ULL			/* LOAD_PHYSICAL_ADDR */
#define KIMG_VA(off)	(0xffffffff80000000ULL + KIMG_LINK_GPA + (off))
#define KIMG_TEXT_LEN	0x3000				/* segment 0: text, entry at +0x40 */
#define KIMG_PCPU_OFF	0x3000				/* segment 1: "percpu" (virtual address 0) */
#define KIMG_PCPU_LEN	0x1000
#define KIMG_DATA_OFF	0x4000				/* segment 2: data + bss */
#define KIMG_DATA_LEN	0x2000
#define KIMG_ENTRY_OFF	0x40

/* Relocation sites (offsets from the kernel's start) and their link-time values. */
#define KIMG_R64_A	0x100		/* 64-bit: KIMG_VA(0x40) */
#define KIMG_R64_B	KIMG_DATA_OFF + 0x18	/* 64-bit: KIMG_VA(KIMG_DATA_OFF) */
#define KIMG_R32_A	0x200		/* 32-bit: (uint32_t)KIMG_VA(0x80) */
#define KIMG_R32_B	KIMG_PCPU_OFF + 0x20	/* 32-bit: (uint32_t)KIMG_VA(0x1000) */
#define KIMG_R32NEG	KIMG_DATA_OFF + 0x30	/* inverse 32-bit: 0x12345678 */

/* The bzImage wrapper: 4 setup sectors, a 0x200-byte stand-in decompressor, then the payload. */
#define KIMG_SETUP_LEN	(5 * 512)
#define KIMG_PAYLOAD_OFF 0x200

struct kimg {
	uint8_t *data;		/* ELF file, then the relocation table when asked for */
	size_t len;
	size_t elf_len;		/* the ELF file alone */
	uint64_t extent;	/* bytes from KIMG_LINK_GPA the kernel occupies (bss included) */
};

/* Build the ELF; bss_len extends the last segment's memsz. 0 or -ENOMEM. */
int kimg_make(struct kimg *k, uint64_t bss_len, bool relocs);
void kimg_free(struct kimg *k);

/* Compress in[0, len) as Linux would for CONFIG_KERNEL_<f>: the format's stream, then (all but gzip,
 * whose trailer already ends in it) the inflated size as a little-endian u32. Output malloc'ed. */
int kimg_compress(enum decomp_format f, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len);

/* A bzImage (protocol 2.15, relocatable, 64-bit) carrying payload; malloc'ed. */
int kimg_bzimage(const uint8_t *payload, size_t plen, uint8_t **img, size_t *img_len);

/* Everything above in one call: ELF (+relocs) compressed with f in a bzImage. */
int kimg_build(enum decomp_format f, uint64_t bss_len, bool relocs, uint8_t **img, size_t *img_len);

/* Seeds for tests/fuzz/fuzz_kdecomp.c in DIR (its input: a mode byte, then a bzImage, or with mode
 * bit 0 an inflated payload). 0 or -errno. */
int kimg_write_seeds(const char *dir);

#endif
