/* Input format of the loader fuzz target and its seeds (little-endian):
 *   u8  format     % 4: bzImage, ELF, raw, or probe (BOOT_FMT_UNKNOWN)
 *   u32 load_gpa   % 2 MiB (raw only)
 *   u32 entry_gpa  % 2 MiB (raw only)
 *   u8  flags      bit 0: pass an RSDP address
 *   u16 cmdline_len % (FUZZ_LD_CMDLINE_MAX + 1), then that many command-line bytes
 *   u32 initrd_len  % (FUZZ_LD_INITRD_MAX + 1), then that many initrd bytes
 *   the kernel file: the rest of the input */
#ifndef CKVM_FUZZ_LOADERS_H
#define CKVM_FUZZ_LOADERS_H

#include <stdint.h>

#define FUZZ_LD_RAM_LEN		(32u << 20)
#define FUZZ_LD_CMDLINE_MAX	4096
#define FUZZ_LD_INITRD_MAX	8192

struct fuzz_ld_hdr {
	uint8_t format;
	uint32_t load_gpa, entry_gpa;
	uint8_t flags;
	uint16_t cmdline_len;
} __attribute__((packed));

#endif
