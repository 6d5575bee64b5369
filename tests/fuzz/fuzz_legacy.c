/* libFuzzer target for the legacy firmware-facing devices: fw_cfg (src/dev/fw_cfg.c, with DMA into a
 * small guest RAM) and the ATA PIO channel (src/dev/ata.c, ata_dev.c, two RAM disks, one read-only).
 * The input is a sequence of guest operations: port reads and writes of any width, RAM pokes that
 * build DMA descriptors, whole-sector data bursts, and lifecycle calls (save/restore, hostile records,
 * reset). After each operation the ATA transfer state must stay within its buffer and disk.
 * A fresh pair of devices per input; single-threaded. */
#include <assert.h>
#include <stdlib.h>

#include "dev/ata_int.h"
#include "dev/fw_cfg.h"
#include "fake_vmm.h"
#include "fuzz_input.h"
#include "log.h"

#define RAM_LEN		0x10000		/* guest RAM at 0: 16-bit DMA addresses land in it */
#define MAX_OPS		4096
#define DISK0_SECTORS	96
#define DISK1_SECTORS	8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t ram[RAM_LEN];

enum {
	OP_CFG_WRITE, OP_CFG_READ, OP_ATA_WRITE, OP_ATA_READ, OP_CTL_WRITE, OP_CTL_READ,
	OP_POKE, OP_BURST, OP_LIFECYCLE, OP_CFG_DMA, OP_NR
};

struct env {
	struct fake_vmm fv;
	struct vmm_ops ops;
	struct guest_mem gm;
	struct fw_cfg *cfg;
	struct ata *ata;
};

static void check_ata(const struct ata *a)
{
	const struct ata_state *s = &a->st;

	assert(s->pos < SECTOR && !(s->pos & 1) && s->xfer <= XFER_OUT && s->xfer_dev < 2);
	if (s->xfer != XFER_NONE) {
		assert(a->drive[s->xfer_dev]);
		if (!s->xfer_ident)
			assert(s->sectors_left && s->lba + s->sectors_left <= a->sectors[s->xfer_dev]);
	}
	assert(s->irq_pending <= 1);
}

/* Save a device, restore that record (must work), then a copy with input bytes over it (may fail,
 * must not crash or leave an inconsistent device). */
static void lifecycle(struct fz *f, struct device *d)
{
	uint8_t rec[1024];
	ssize_t n = d->ops->save(d, rec, sizeof(rec));
	size_t got, at;
	const uint8_t *p;

	assert(n > 0);
	switch (fz_u8(f) % 4) {
	case 0:
		assert(d->ops->restore(d, rec, (size_t)n) == 0);
		break;
	case 1:
		at = fz_u16(f) % (size_t)n;
		p = fz_bytes(f, 8, &got);
		memcpy(rec + at, p, got < (size_t)n - at ? got : (size_t)n - at);
		d->ops->restore(d, rec, (size_t)n);
		break;
	case 2:
		d->ops->restore(d, rec, fz_u16(f) % sizeof(rec));
		break;
	default:
		d->ops->reset(d);
		break;
	}
}

static void one_op(struct env *e, struct fz *f)
{
	uint8_t buf[8] = { 0 }, op = fz_u8(f) % OP_NR;
	uint32_t len = fz_width(f);
	uint64_t v = fz_u64(f);
	size_t got;
	const uint8_t *p;

	memcpy(buf, &v, sizeof(buf));
	switch (op) {
	case OP_CFG_WRITE:
		fw_cfg_bus_ops.write(e->cfg, fz_u8(f) % FW_CFG_NR_PORTS, buf, len);
		break;
	case OP_CFG_READ:
		fw_cfg_bus_ops.read(e->cfg, fz_u8(f) % FW_CFG_NR_PORTS, buf, len);
		break;
	case OP_ATA_WRITE:
		ata_cmd_bus_ops.write(e->ata, fz_u8(f) % ATA_NR_CMD_PORTS, buf, len > 4 ? 4 : len);
		break;
	case OP_ATA_READ:
		ata_cmd_bus_ops.read(e->ata, fz_u8(f) % ATA_NR_CMD_PORTS, buf, len > 4 ? 4 : len);
		break;
	case OP_CTL_WRITE:
		ata_ctl_bus_ops.write(e->ata, 0, buf, 1);
		break;
	case OP_CTL_READ:
		ata_ctl_bus_ops.read(e->ata, 0, buf, 1);
		break;
	case OP_POKE:				/* guest RAM, e.g. a DMA descriptor */
		p = fz_bytes(f, 16, &got);
		memcpy(ram + (v % (RAM_LEN - 16)), p, got);
		break;
	case OP_BURST:				/* a whole sector through the data register */
		for (int i = 0; i < SECTOR / 2; i++) {
			if (v & 1)
				ata_cmd_bus_ops.write(e->ata, 0, buf + 2, 2);
			else
				ata_cmd_bus_ops.read(e->ata, 0, buf, 2);
		}
		break;
	case OP_LIFECYCLE:
		lifecycle(f, v & 1 ? ata_device(e->ata) : fw_cfg_device(e->cfg));
		break;
	case OP_CFG_DMA:			/* descriptor at a 16-bit address, big-endian low half */
		buf[0] = buf[1] = 0;
		fw_cfg_bus_ops.write(e->cfg, 8, buf, 4);
		break;
	}
	check_ata(e->ata);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fw_cfg_config cfg_cfg = { .dma = true };
	struct fw_cfg_config cc = cfg_cfg;
	struct ata_config ac = { .gsi = 14 };
	struct fz f = { data, size };
	struct env e;
	int ops = 0;

	log_threshold = LOG_ERR;
	memset(&e, 0, sizeof(e));
	memset(ram, 0, sizeof(ram));
	fake_vmm_init(&e.fv, &e.ops);
	if (gm_add_region(&e.gm, 0, RAM_LEN, ram))
		abort();
	cc.gm = &e.gm;
	if (fw_cfg_create(&e.cfg, &cc) || fw_cfg_add_u16(e.cfg, FW_CFG_NB_CPUS, 2) ||
	    fw_cfg_add_file(e.cfg, "etc/e820", ram, 40, NULL) ||
	    fw_cfg_add_file(e.cfg, "bootorder", "/pci@i0cf8/*@1\n", 15, NULL))
		abort();
	ac.vmm = &e.ops;
	if (blk_mem_create(&ac.drive[0], DISK0_SECTORS * SECTOR, false) ||
	    blk_mem_create(&ac.drive[1], DISK1_SECTORS * SECTOR, true) || ata_create(&e.ata, &ac))
		abort();
	while (fz_more(&f) && ops++ < MAX_OPS)
		one_op(&e, &f);
	ata_destroy(e.ata);
	fw_cfg_destroy(e.cfg);
	return 0;
}
