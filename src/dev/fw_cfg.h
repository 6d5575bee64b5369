/* QEMU's firmware configuration interface (fw_cfg) as an ISA device: selector 0x510, data 0x511, DMA
 * address register 0x514-0x51b (QEMU docs/specs/fw_cfg.rst), the interface SeaBIOS reads its
 * configuration from (src/fw/paravirt.c): signature, id, legacy numeric items and named files.
 * The board fills it before the guest runs; every guest access goes through fw_cfg_bus_ops. */
#ifndef CKVM_DEV_FW_CFG_H
#define CKVM_DEV_FW_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/device.h"
#include "core/guest_mem.h"

/* bus_add(pio, 0x510, FW_CFG_NR_PORTS, &fw_cfg_bus_ops, f, "fw_cfg"): offset 0 the selector (16-bit
 * write), 1 the data byte, 4-7 and 8-11 the DMA address register's high and low halves. */
#define FW_CFG_NR_PORTS		12

/* Selector keys (the spec's names). Keys below FW_CFG_FILE_FIRST and from FW_CFG_ARCH_LOCAL are the
 * legacy numeric items: numbers in them are little-endian, unlike the directory and DMA structs. */
#define FW_CFG_SIGNATURE	0x0000	/* "QEMU" */
#define FW_CFG_ID		0x0001	/* le32: bit 0 traditional interface, bit 1 DMA */
#define FW_CFG_UUID		0x0002
#define FW_CFG_RAM_SIZE		0x0003	/* le64 */
#define FW_CFG_NOGRAPHIC	0x0004
#define FW_CFG_NB_CPUS		0x0005	/* le16 */
#define FW_CFG_NUMA		0x000d	/* le64 count, then per-CPU and per-node le64s */
#define FW_CFG_BOOT_MENU	0x000e	/* le16 */
#define FW_CFG_MAX_CPUS		0x000f	/* le16 */
#define FW_CFG_FILE_DIR		0x0019	/* be32 count + struct {be32 size; be16 select; be16 0; name[56]} */
#define FW_CFG_FILE_FIRST	0x0020
#define FW_CFG_WRITE_CHANNEL	0x4000	/* selector bit ignored: items are read-only here */
#define FW_CFG_ARCH_LOCAL	0x8000
#define FW_CFG_ACPI_TABLES	(FW_CFG_ARCH_LOCAL + 0)
#define FW_CFG_SMBIOS_ENTRIES	(FW_CFG_ARCH_LOCAL + 1)
#define FW_CFG_IRQ0_OVERRIDE	(FW_CFG_ARCH_LOCAL + 2)
#define FW_CFG_E820_TABLE	(FW_CFG_ARCH_LOCAL + 3)

#define FW_CFG_MAX_FILES	64	/* files take keys 0x20 .. 0x20 + 63 */
#define FW_CFG_NAME_LEN		56	/* a file name's bytes including its NUL */

/* FWCfgDmaAccess.control bits */
#define FW_CFG_DMA_CTL_ERROR	0x01
#define FW_CFG_DMA_CTL_READ	0x02
#define FW_CFG_DMA_CTL_SKIP	0x04
#define FW_CFG_DMA_CTL_SELECT	0x08
#define FW_CFG_DMA_CTL_WRITE	0x10

struct fw_cfg;

struct fw_cfg_config {
	const char *name;		/* the device's name on the board; NULL = "fw_cfg" */
	bool dma;			/* offer the DMA interface (ID bit 1, the 0x514 register) */
	const struct guest_mem *gm;	/* where DMA reads and writes; required when dma is set */
};

/* 0, -EINVAL (dma without gm) or -ENOMEM. The device starts with the signature, the id and an empty
 * directory; fw_cfg_device() gives its lifecycle half for the board's registry. */
int fw_cfg_create(struct fw_cfg **out, const struct fw_cfg_config *cfg);
void fw_cfg_destroy(struct fw_cfg *f);
struct device *fw_cfg_device(struct fw_cfg *f);

/* A legacy numeric item (key below 0x20, or 0x8000-0x801f), replacing any earlier one; the bytes are
 * COPIED (the caller's buffer may go at once). -EINVAL for the keys the device owns (signature, id,
 * directory) or any other key, -EFBIG past 4 GiB - 1, -ENOMEM. */
int fw_cfg_add_item(struct fw_cfg *f, uint16_t key, const void *data, size_t len);
/* The same for a little-endian number of 2, 4 or 8 bytes. */
int fw_cfg_add_u16(struct fw_cfg *f, uint16_t key, uint16_t v);
int fw_cfg_add_u32(struct fw_cfg *f, uint16_t key, uint32_t v);
int fw_cfg_add_u64(struct fw_cfg *f, uint16_t key, uint64_t v);

/* A named file ("etc/e820", "bootorder", ...) at the next free key from 0x20, in the order added (the
 * same calls give the same keys, which a restore on another host relies on), and listed in the
 * directory. The bytes are COPIED. *key_out (may be NULL) gets its key. -EINVAL for an empty name,
 * -ENAMETOOLONG for one of 56 bytes or more, -EEXIST when taken, -ENOSPC past FW_CFG_MAX_FILES,
 * -EFBIG past 4 GiB - 1, -ENOMEM. */
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, size_t len, uint16_t *key_out);

/* The guest side. Accepted accesses (others are ignored, reads of them give zeros): a 16-bit write at
 * 0 selects an item and rewinds it; reads at 1 return the item's next bytes, zeros past its end or
 * for an absent key (data writes are ignored); with DMA, a 32-bit big-endian write at 4 holds the
 * address's high half, one at 8 (or a 64-bit one at 4) starts the transfer described at that guest
 * address, and reads at 4-11 return "QEMU CFG". The DMA struct and the memory it names are untrusted:
 * a range outside guest RAM, or a write request (items are read-only), ends with the error bit. */
extern const struct bus_ops fw_cfg_bus_ops;

#endif
