/* A builder for the fw_cfg file "etc/table-loader": the linker/loader script with which QEMU hands
 * ACPI tables to SeaBIOS (src/fw/romfile_loader.h there). The firmware runs it in order: ALLOCATE
 * copies a fw_cfg file into its memory, ADD_POINTER adds one allocated file's address to a field of
 * another, ADD_CHECKSUM fixes a checksum byte after the pointers moved. Host side only; main thread. */
#ifndef CKVM_DEV_FW_CFG_LOADER_H
#define CKVM_DEV_FW_CFG_LOADER_H

#include <stddef.h>
#include <stdint.h>

#define FW_LOADER_ENTRY_LEN	128	/* every command, little-endian, zero-padded */
#define FW_LOADER_FILESZ	56	/* a file name's bytes including its NUL */

enum {
	FW_LOADER_ALLOCATE = 1,
	FW_LOADER_ADD_POINTER = 2,
	FW_LOADER_ADD_CHECKSUM = 3,
};

enum {
	FW_LOADER_ZONE_HIGH = 1,	/* anywhere in RAM (tables) */
	FW_LOADER_ZONE_FSEG = 2,	/* 0xe0000-0xfffff, where an OS looks for the RSDP */
};

/* The script so far: buf holds len bytes (len / FW_LOADER_ENTRY_LEN commands). Zero it to start. */
struct fw_loader {
	uint8_t *buf;
	size_t len, cap;
};

void fw_loader_free(struct fw_loader *l);

/* Load fw_cfg file `file` into firmware memory aligned to align (a power of two), in zone. Each file
 * once, before any command names it: -EEXIST for a second time. -EINVAL for a bad name, alignment or
 * zone, -ENOMEM. */
int fw_loader_allocate(struct fw_loader *l, const char *file, uint32_t align, uint8_t zone);
/* Add the address where `src` was loaded to the size-byte (1, 2, 4 or 8) little-endian field at
 * offset in `dest`: the field holds the offset into src that the pointer should reach. -ENOENT when
 * either file was not allocated before, -EINVAL for a bad size or an offset + size that wraps. */
int fw_loader_add_pointer(struct fw_loader *l, const char *dest, const char *src, uint32_t offset,
			  uint8_t size);
/* Make the bytes [start, start + length) of `file` sum to 0 mod 256 by adjusting the byte at offset
 * (which lies inside that range for an ACPI table). -ENOENT, -EINVAL as above. */
int fw_loader_add_checksum(struct fw_loader *l, const char *file, uint32_t offset, uint32_t start,
			   uint32_t length);

#endif
