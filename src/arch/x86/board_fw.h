/* Firmware boot (--bios, board_fw.c): SeaBIOS's image in memory, the fw_cfg device it reads its
 * configuration from, and the legacy PC bits it and boot sectors use (port 0x92, the ATA channel
 * with its PCI IDE function). Used by board.c and board_devices.c; the builders are pure (unit tests). */
#ifndef CKVM_X86_BOARD_FW_H
#define CKVM_X86_BOARD_FW_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86/boot.h"
#include "config.h"

struct board;
struct fw_cfg;

/* QEMU's "etc/e820" entry (hw/i386/e820_memory_layout.h): le64 address, le64 length, le32 type. */
#define FW_E820_ENTRY_LEN	20
/* SeaBIOS's name for the PCI root (FW_PCI_DOMAIN in its src/boot.c): boot order paths start here. */
#define FW_PCI_ROOT		"/pci@i0cf8"
/* --floppy's fw_cfg file: SeaBIOS maps "floppyimg/..." files as RAM-disk floppies */
#define FW_FLOPPY_FILE		"floppyimg/floppy.img"
/* How long SeaBIOS waits before rebooting when no disk boots (ms, "etc/boot-fail-wait"). */
#define FW_BOOT_FAIL_WAIT_MS	1000

/* The e820 table as "etc/e820" (little-endian, packed): the length, or -ENOSPC when cap is short. */
int board_fw_e820(const struct e820_table *t, uint8_t *buf, size_t cap);
/* "bootorder": "/rom@" FW_FLOPPY_FILE first with --floppy, then one OpenFirmware path per disk in
 * command-line order, each line ending in '\n':
 * virtio-blk disk i as FW_PCI_ROOT "/scsi@SLOT/disk@0,0" (disk_slot[i]), IDE device n as
 * FW_PCI_ROOT "/ide@IDE_SLOT/drive@0/disk@n" (SeaBIOS matches "*@SLOT", whatever the name). The
 * length without a NUL (buf is NUL-terminated), 0 for no disks, or -ENOSPC. */
int board_fw_bootorder(const struct vm_config *cfg, const int *disk_slot, int ide_slot, char *buf,
		       size_t cap);

/* Map --bios's file (read-locked) and check its size again (it may have changed since config). */
int board_fw_load(struct board *b);
/* With --bios, instead of vm_map_memory: every RAM region as a slot, 0xe0000-0xfffff split off into
 * its own slot holding the image, and the image's read-only copy at LAYOUT_FW_HIGH_GPA. */
int board_fw_map_memory(struct board *b);
/* The ATA channel for the if=ide disks (device 0, 1 in order) at 0x1f0/0x3f6, IRQ 14, and its PCI
 * IDE function; after the virtio functions, so their slots do not move. 0 with no IDE disk. */
int board_fw_ide_create(struct board *b);
/* --bios: port 0x92 and fw_cfg (0x510-0x51b, DMA) filled with the machine: signature, id, CPUs, RAM,
 * e820, boot order, boot-fail wait, serial console port. After every device exists. */
int board_fw_create(struct board *b);
/* THE HOOK for the ACPI tables a BIOS-booted OS finds: add "etc/acpi/tables", "etc/acpi/rsdp" and
 * "etc/table-loader" (dev/fw_cfg_loader.h) to f. Called by board_fw_create; 0 or -errno (logged). */
int board_fw_acpi_files(struct board *b, struct fw_cfg *f);
/* Unmap what board_fw_load and board_fw_map_memory made (devices go with the registry). */
void board_fw_destroy(struct board *b);

#endif
