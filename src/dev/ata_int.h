/* Internals of the ATA channel shared by ata.c (registers and PIO protocols) and ata_dev.c (IDENTIFY
 * data, power-on state, lifecycle). Not for other files: they use ata.h. */
#ifndef CKVM_DEV_ATA_INT_H
#define CKVM_DEV_ATA_INT_H

#include <pthread.h>
#include <stdint.h>

#include "dev/ata.h"

#define SECTOR		ATA_SECTOR_SIZE
#define REG_DATA	0
#define REG_ERROR	1	/* write: features */
#define REG_COUNT	2
#define REG_LBAL	3
#define REG_LBAM	4
#define REG_LBAH	5
#define REG_DEVICE	6
#define REG_STATUS	7	/* write: command */

#define STATUS_READY	(ATA_SR_DRDY | ATA_SR_DSC)
#define MAX_SECTORS	(1ULL << 48)	/* what LBA48 can address */
#define DEF_HEADS	16
#define DEF_SPT		63
#define MAX_CYLS	16383		/* IDENTIFY word 1's limit */

enum { XFER_NONE, XFER_IN, XFER_OUT };

/* The command block as the guest sees it: each LBA48 register is a two-deep FIFO, [0] the value last
 * written and [1] the one before it, which reads back while the HOB bit is set. */
struct ata_taskfile {
	uint8_t feature[2], count[2], lbal[2], lbam[2], lbah[2];
	uint8_t device, devctl;
};

struct ata_drive_state {
	uint8_t status, error;
	uint8_t heads, spt;	/* CHS translation, INITIALIZE DEVICE PARAMETERS sets it */
	uint8_t wcache;		/* write cache on (SET FEATURES 02h/82h): off flushes every sector */
	uint8_t pad[3];
};

/* Everything guest-visible, saved byte for byte (host order; no implicit padding). */
struct ata_state {
	struct ata_taskfile r;
	struct ata_drive_state drv[2];
	uint8_t irq_pending;		/* INTRQ pending; the line is this and not nIEN */
	uint8_t xfer;			/* XFER_*: a PIO transfer waiting on the data register */
	uint8_t xfer_dev;		/* the drive it belongs to */
	uint8_t xfer_ident;		/* 1: IDENTIFY data, no sector behind it */
	uint16_t pos;			/* bytes of buf moved so far */
	uint16_t pad;
	uint32_t sectors_left;		/* including the one in buf */
	uint64_t lba;			/* the sector in buf */
	uint8_t buf[SECTOR];
};

_Static_assert(sizeof(struct ata_state) == 48 + SECTOR, "ata_state has no padding holes");

struct ata {
	struct device dev;
	pthread_mutex_t lock;
	const struct vmm_ops *vmm;
	uint32_t gsi;
	int irq_level;			/* last level driven */
	struct blk_backend *drive[2];
	uint64_t sectors[2];
	struct ata_state st;
};

static inline void ata_put_word(uint8_t *buf, unsigned w, uint16_t v)
{
	buf[2 * w] = (uint8_t)v;
	buf[2 * w + 1] = (uint8_t)(v >> 8);
}

/* ata.c; the channel's lock is held. */
void ata_irq_update(struct ata *a);
void ata_set_signature(struct ata *a);
/* ata_dev.c */
void ata_default_chs(uint64_t sectors, unsigned *cyls, unsigned *heads, unsigned *spt);
void ata_identify(const struct ata *a, unsigned d, uint8_t *buf);

#endif
