/* An ATA disk controller channel (one or two drives) driven by PIO, as a PC's primary IDE channel:
 * command block 0x1f0-0x1f7, control block 0x3f6, IRQ 14 (ATA/ATAPI-6 and ATA8-ACS register and PIO
 * protocols). Enough for SeaBIOS's int 13h and for Linux's legacy IDE drivers; no DMA, no ATAPI.
 * Guest side: the two bus_ops; disk side: one struct blk_backend per drive. */
#ifndef CKVM_DEV_ATA_H
#define CKVM_DEV_ATA_H

#include <stdint.h>

#include "backend/blk_file.h"
#include "core/bus.h"
#include "core/device.h"
#include "core/vmm_ops.h"

/* bus_add(pio, 0x1f0, ATA_NR_CMD_PORTS, &ata_cmd_bus_ops, a, "ide0") and
 * bus_add(pio, 0x3f6, ATA_NR_CTL_PORTS, &ata_ctl_bus_ops, a, "ide0-ctl"): 0x3f7 is not the disk's. */
#define ATA_NR_CMD_PORTS	8
#define ATA_NR_CTL_PORTS	1
#define ATA_SECTOR_SIZE		512

/* Status register */
#define ATA_SR_BSY	0x80
#define ATA_SR_DRDY	0x40
#define ATA_SR_DF	0x20
#define ATA_SR_DSC	0x10
#define ATA_SR_DRQ	0x08
#define ATA_SR_ERR	0x01
/* Error register */
#define ATA_ER_UNC	0x40
#define ATA_ER_IDNF	0x10
#define ATA_ER_ABRT	0x04
/* Device control register */
#define ATA_DC_HOB	0x80
#define ATA_DC_SRST	0x04
#define ATA_DC_NIEN	0x02
/* Device register */
#define ATA_DEV_LBA	0x40
#define ATA_DEV_DEV	0x10

/* Commands */
#define ATA_CMD_RECALIBRATE		0x10	/* 0x10-0x1f: obsolete, accepted */
#define ATA_CMD_READ_SECTORS		0x20
#define ATA_CMD_READ_SECTORS_NORETRY	0x21
#define ATA_CMD_READ_SECTORS_EXT	0x24
#define ATA_CMD_WRITE_SECTORS		0x30
#define ATA_CMD_WRITE_SECTORS_NORETRY	0x31
#define ATA_CMD_WRITE_SECTORS_EXT	0x34
#define ATA_CMD_EXEC_DEVICE_DIAGNOSTIC	0x90
#define ATA_CMD_INIT_DEVICE_PARAMS	0x91
#define ATA_CMD_STANDBY_IMMEDIATE	0xe0
#define ATA_CMD_IDLE_IMMEDIATE		0xe1
#define ATA_CMD_CHECK_POWER_MODE	0xe5
#define ATA_CMD_FLUSH_CACHE		0xe7
#define ATA_CMD_FLUSH_CACHE_EXT		0xea
#define ATA_CMD_IDENTIFY_DEVICE		0xec
#define ATA_CMD_SET_FEATURES		0xef

struct ata;

struct ata_config {
	const char *name;		/* the device's name on the board; NULL = "ide0" */
	const struct vmm_ops *vmm;	/* irq_line() is driven on level changes only */
	uint32_t gsi;			/* 14 for the primary channel */
	/* Device 0 and device 1; NULL = absent, at least one present. On success the channel owns them
	 * (closed by ata_destroy); on failure the caller still does. */
	struct blk_backend *drive[2];
};

/* 0, -EINVAL (no drive, or one smaller than a sector) or -errno. */
int ata_create(struct ata **out, const struct ata_config *cfg);
void ata_destroy(struct ata *a);
struct device *ata_device(struct ata *a);

/* Offset 0 is the data register (16-bit; a 32-bit access moves two words, an 8-bit one nothing, reads
 * 0xff), 1-7 the byte registers (error/features, count, LBA low/mid/high, device, status/command); a
 * wider access there touches the following registers like an ISA bus. All writes and commands come
 * from the guest and are checked: out-of-range LBAs and counts end in ERR status, data reads with no
 * transfer pending give 0xffff and such writes are dropped. Backend I/O happens on the vCPU thread
 * that completes a sector, under the channel's lock. */
extern const struct bus_ops ata_cmd_bus_ops;
/* Offset 0: alternate status (read, leaves the interrupt pending) / device control (write). */
extern const struct bus_ops ata_ctl_bus_ops;

#endif
