/* ATA disk channel with PIO transfers: the task-file registers, the PIO data-in, data-out and non-data
 * protocols, SRST and nIEN (ATA/ATAPI-6 §6, §9; commands from ATA8-ACS). IDENTIFY data and the
 * lifecycle are in ata_dev.c. Runs on vCPU threads; one mutex covers registers, transfer, backends. */
#include "dev/ata_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/uio.h>

#include "dev/isa_split.h"
#include "log.h"

static unsigned cur_dev(const struct ata *a)
{
	return a->st.r.device & ATA_DEV_DEV ? 1 : 0;
}

/* After every access, with the lock held: the line follows pending && !nIEN, driven on changes. */
void ata_irq_update(struct ata *a)
{
	int level = a->st.irq_pending && !(a->st.r.devctl & ATA_DC_NIEN);

	if (level != a->irq_level) {
		a->irq_level = level;
		vmm_irq_line(a->vmm, a->gsi, level);
	}
}

/* No transfer pending: the data register reads 0xffff, the position is back at the start. */
static void end_xfer(struct ata *a)
{
	a->st.xfer = XFER_NONE;
	a->st.pos = 0;
}

/* A new interrupt event. The ISA line is edge-triggered at the PIC: if the guest has not yet
 * acknowledged the last one, drop the line first so that this one is an edge of its own. */
static void end_cmd(struct ata *a, unsigned d, uint8_t status)
{
	a->st.drv[d].status = status;
	if (a->irq_level) {
		a->irq_level = 0;
		vmm_irq_line(a->vmm, a->gsi, 0);
	}
	a->st.irq_pending = 1;
}

static void abort_cmd(struct ata *a, unsigned d, uint8_t err)
{
	end_xfer(a);
	a->st.drv[d].error = err;
	end_cmd(a, d, STATUS_READY | ATA_SR_ERR);
}

/* The signature an ATA device leaves after a reset or a diagnostic (ATA/ATAPI-6 §9.12). */
void ata_set_signature(struct ata *a)
{
	struct ata_taskfile *r = &a->st.r;

	r->count[0] = r->lbal[0] = 1;
	r->lbam[0] = r->lbah[0] = 0;
	for (unsigned d = 0; d < 2; d++) {
		a->st.drv[d].status = a->drive[d] ? STATUS_READY : 0;
		a->st.drv[d].error = a->drive[d] ? 0x01 : 0;	/* 01h: passed */
	}
}

static int backend_io(struct ata *a, unsigned d, uint64_t lba, bool write)
{
	struct blk_backend *b = a->drive[d];
	struct iovec iov = { .iov_base = a->st.buf, .iov_len = SECTOR };
	int ret;

	ret = write ? b->ops->pwritev(b, &iov, 1, lba * SECTOR) : b->ops->preadv(b, &iov, 1, lba * SECTOR);
	if (!ret && write && !a->st.drv[d].wcache && b->ops->flush)
		ret = b->ops->flush(b);
	if (ret)
		log_guest("ata", "%s: %s of sector %llu failed", a->dev.name, write ? "write" : "read",
			  (unsigned long long)lba);
	return ret;
}

/* Fill buf with the sector at st.lba and offer it (PIO data-in: DRQ and an interrupt per sector). */
static void load_sector(struct ata *a)
{
	unsigned d = a->st.xfer_dev;

	if (backend_io(a, d, a->st.lba, false)) {
		abort_cmd(a, d, ATA_ER_UNC);
		return;
	}
	a->st.pos = 0;
	end_cmd(a, d, STATUS_READY | ATA_SR_DRQ);
}

/* The command's first sector and count from the task file; false for a CHS address outside the
 * current geometry. Count 0 means 256 (LBA28) or 65536 (LBA48). */
static bool decode_rw(const struct ata *a, unsigned d, bool lba48, uint64_t *lba, uint32_t *count)
{
	const struct ata_taskfile *r = &a->st.r;
	const struct ata_drive_state *ds = &a->st.drv[d];
	unsigned cyl, head, sect;

	if (lba48) {
		*count = (uint32_t)(r->count[1] << 8 | r->count[0]);
		*count = *count ? *count : 65536;
		*lba = (uint64_t)r->lbah[1] << 40 | (uint64_t)r->lbam[1] << 32 | (uint64_t)r->lbal[1] << 24 |
		       (uint64_t)r->lbah[0] << 16 | (uint64_t)r->lbam[0] << 8 | r->lbal[0];
		return true;
	}
	*count = r->count[0] ? r->count[0] : 256;
	if (r->device & ATA_DEV_LBA) {
		*lba = (uint64_t)(r->device & 0x0f) << 24 | (uint64_t)r->lbah[0] << 16 |
		       (uint64_t)r->lbam[0] << 8 | r->lbal[0];
		return true;
	}
	cyl = (unsigned)r->lbah[0] << 8 | r->lbam[0];
	head = r->device & 0x0f;
	sect = r->lbal[0];
	if (!sect || sect > ds->spt || head >= ds->heads)
		return false;
	*lba = ((uint64_t)cyl * ds->heads + head) * ds->spt + sect - 1;
	return true;
}

static void start_rw(struct ata *a, unsigned d, bool lba48, bool write)
{
	uint64_t lba;
	uint32_t count;

	if (!decode_rw(a, d, lba48, &lba, &count) || lba > a->sectors[d] ||
	    count > a->sectors[d] - lba) {
		log_guest("ata", "%s: sectors past the end of the disk", a->dev.name);
		abort_cmd(a, d, ATA_ER_IDNF | ATA_ER_ABRT);
		return;
	}
	if (write && a->drive[d]->readonly) {
		abort_cmd(a, d, ATA_ER_ABRT);
		return;
	}
	a->st.xfer = write ? XFER_OUT : XFER_IN;
	a->st.xfer_dev = (uint8_t)d;
	a->st.xfer_ident = 0;
	a->st.lba = lba;
	a->st.sectors_left = count;
	a->st.pos = 0;
	if (write)
		a->st.drv[d].status = STATUS_READY | ATA_SR_DRQ;	/* first block: no interrupt */
	else
		load_sector(a);
}

static void set_features(struct ata *a, unsigned d)
{
	const struct ata_taskfile *r = &a->st.r;
	uint8_t mode = r->count[0];

	switch (r->feature[0]) {
	case 0x02:			/* enable write cache */
	case 0x82:			/* disable it */
		a->st.drv[d].wcache = r->feature[0] == 0x02;
		break;
	case 0x03:			/* set transfer mode: PIO default, or PIO flow control 0-4 */
		if (mode > 0x01 && (mode < 0x08 || mode > 0x0c)) {
			abort_cmd(a, d, ATA_ER_ABRT);	/* DMA modes: none here */
			return;
		}
		break;
	case 0x55: case 0xaa:		/* read look-ahead off/on */
	case 0x66: case 0xcc:		/* power-on defaults off/on */
		break;
	default:
		abort_cmd(a, d, ATA_ER_ABRT);
		return;
	}
	end_cmd(a, d, STATUS_READY);
}

static void command(struct ata *a, uint8_t cmd)
{
	unsigned d = cur_dev(a);
	struct blk_backend *b = a->drive[d];
	struct ata_taskfile *r = &a->st.r;

	if (!b || (r->devctl & ATA_DC_SRST))
		return;				/* an absent device or one in reset takes no command */
	end_xfer(a);				/* a new command ends an unfinished transfer */
	a->st.irq_pending = 0;
	a->st.drv[d].error = 0;
	switch (cmd) {
	case ATA_CMD_IDENTIFY_DEVICE:
		ata_identify(a, d, a->st.buf);
		a->st.xfer = XFER_IN;
		a->st.xfer_dev = (uint8_t)d;
		a->st.xfer_ident = 1;
		a->st.sectors_left = 1;
		a->st.lba = 0;
		a->st.pos = 0;
		end_cmd(a, d, STATUS_READY | ATA_SR_DRQ);
		break;
	case ATA_CMD_READ_SECTORS: case ATA_CMD_READ_SECTORS_NORETRY:
		start_rw(a, d, false, false);
		break;
	case ATA_CMD_READ_SECTORS_EXT:
		start_rw(a, d, true, false);
		break;
	case ATA_CMD_WRITE_SECTORS: case ATA_CMD_WRITE_SECTORS_NORETRY:
		start_rw(a, d, false, true);
		break;
	case ATA_CMD_WRITE_SECTORS_EXT:
		start_rw(a, d, true, true);
		break;
	case ATA_CMD_SET_FEATURES:
		set_features(a, d);
		break;
	case ATA_CMD_INIT_DEVICE_PARAMS:
		if (!r->count[0]) {
			abort_cmd(a, d, ATA_ER_ABRT);
			break;
		}
		a->st.drv[d].spt = r->count[0];
		a->st.drv[d].heads = (uint8_t)((r->device & 0x0f) + 1);
		end_cmd(a, d, STATUS_READY);
		break;
	case ATA_CMD_FLUSH_CACHE: case ATA_CMD_FLUSH_CACHE_EXT:
		if (b->ops->flush && b->ops->flush(b))
			abort_cmd(a, d, ATA_ER_ABRT);
		else
			end_cmd(a, d, STATUS_READY);
		break;
	case ATA_CMD_EXEC_DEVICE_DIAGNOSTIC:
		ata_set_signature(a);
		end_cmd(a, d, STATUS_READY);
		break;
	case ATA_CMD_CHECK_POWER_MODE:
		r->count[0] = 0xff;		/* active or idle */
		end_cmd(a, d, STATUS_READY);
		break;
	case ATA_CMD_STANDBY_IMMEDIATE: case ATA_CMD_IDLE_IMMEDIATE:
		end_cmd(a, d, STATUS_READY);
		break;
	default:
		if ((cmd & 0xf0) == ATA_CMD_RECALIBRATE)
			end_cmd(a, d, STATUS_READY);
		else
			abort_cmd(a, d, ATA_ER_ABRT);	/* DMA, MULTIPLE, PACKET, ... */
		break;
	}
}

/* One word from a PIO data-in transfer; 0xffff when none is pending. */
static uint16_t data_in(struct ata *a)
{
	struct ata_state *s = &a->st;
	uint16_t v;

	if (s->xfer != XFER_IN || s->pos >= SECTOR)
		return 0xffff;
	v = (uint16_t)(s->buf[s->pos] | s->buf[s->pos + 1] << 8);
	s->pos += 2;
	if (s->pos < SECTOR)
		return v;
	if (s->xfer_ident || --s->sectors_left == 0) {
		end_xfer(a);			/* data-in ends without another interrupt */
		s->drv[s->xfer_dev].status = STATUS_READY;
	} else {
		s->lba++;
		load_sector(a);
	}
	return v;
}

/* One word into a PIO data-out transfer; dropped when none is pending. */
static void data_out(struct ata *a, uint16_t v)
{
	struct ata_state *s = &a->st;
	unsigned d = s->xfer_dev;

	if (s->xfer != XFER_OUT || s->pos >= SECTOR)
		return;
	s->buf[s->pos] = (uint8_t)v;
	s->buf[s->pos + 1] = (uint8_t)(v >> 8);
	s->pos += 2;
	if (s->pos < SECTOR)
		return;
	if (backend_io(a, d, s->lba, true)) {
		abort_cmd(a, d, ATA_ER_ABRT);
		return;
	}
	if (--s->sectors_left == 0) {
		end_xfer(a);
		end_cmd(a, d, STATUS_READY);
	} else {
		s->lba++;
		s->pos = 0;
		end_cmd(a, d, STATUS_READY | ATA_SR_DRQ);
	}
}

static uint8_t reg_read(void *dev, unsigned reg)
{
	struct ata *a = dev;
	const struct ata_taskfile *r = &a->st.r;
	unsigned d = cur_dev(a), hob = r->devctl & ATA_DC_HOB ? 1 : 0;

	if (reg == REG_STATUS)
		a->st.irq_pending = 0;		/* reading status acknowledges the interrupt */
	if (reg == REG_DEVICE)
		return r->device;
	if (!a->drive[d])
		return 0;			/* an absent device's registers read as zeros */
	switch (reg) {
	case REG_ERROR:  return a->st.drv[d].error;
	case REG_COUNT:  return r->count[hob];
	case REG_LBAL:   return r->lbal[hob];
	case REG_LBAM:   return r->lbam[hob];
	case REG_LBAH:   return r->lbah[hob];
	case REG_STATUS: return a->st.drv[d].status;
	}
	return 0xff;
}

static void push(uint8_t fifo[2], uint8_t v)
{
	fifo[1] = fifo[0];
	fifo[0] = v;
}

static void reg_write(void *dev, unsigned reg, uint8_t v)
{
	struct ata *a = dev;
	struct ata_taskfile *r = &a->st.r;

	r->devctl &= (uint8_t)~ATA_DC_HOB;	/* any command-block write clears HOB */
	switch (reg) {
	case REG_ERROR: push(r->feature, v); break;
	case REG_COUNT: push(r->count, v); break;
	case REG_LBAL:  push(r->lbal, v); break;
	case REG_LBAM:  push(r->lbam, v); break;
	case REG_LBAH:  push(r->lbah, v); break;
	case REG_DEVICE: r->device = v; break;
	case REG_STATUS: command(a, v); break;
	}
}

static void devctl_write(struct ata *a, uint8_t v)
{
	uint8_t old = a->st.r.devctl;

	a->st.r.devctl = v & (ATA_DC_HOB | ATA_DC_SRST | ATA_DC_NIEN);
	if ((v & ATA_DC_SRST) && !(old & ATA_DC_SRST)) {
		/* Reset asserted: both devices busy, any transfer and interrupt gone. */
		end_xfer(a);
		a->st.irq_pending = 0;
		for (unsigned d = 0; d < 2; d++)
			a->st.drv[d].status = a->drive[d] ? ATA_SR_BSY : 0;
	} else if (!(v & ATA_DC_SRST) && (old & ATA_DC_SRST)) {
		ata_set_signature(a);		/* reset released: done at once */
	}
}

static void cmd_read(void *dev, uint64_t off, void *data, uint32_t len)
{
	struct ata *a = dev;
	uint8_t *p = data;

	pthread_mutex_lock(&a->lock);
	if (off == REG_DATA && (len == 2 || len == 4)) {
		for (uint32_t i = 0; i < len; i += 2)
			ata_put_word(p, i / 2, data_in(a));
	} else if (off == REG_DATA) {
		memset(p, 0xff, len);
	} else {
		isa_split_read(off, data, len, ATA_NR_CMD_PORTS, reg_read, a);
	}
	ata_irq_update(a);
	pthread_mutex_unlock(&a->lock);
}

static void cmd_write(void *dev, uint64_t off, const void *data, uint32_t len)
{
	struct ata *a = dev;
	const uint8_t *p = data;

	pthread_mutex_lock(&a->lock);
	if (off == REG_DATA && (len == 2 || len == 4)) {
		for (uint32_t i = 0; i < len; i += 2)
			data_out(a, (uint16_t)(p[i] | p[i + 1] << 8));
	} else if (off != REG_DATA) {
		isa_split_write(off, data, len, ATA_NR_CMD_PORTS, reg_write, a);
	}
	ata_irq_update(a);
	pthread_mutex_unlock(&a->lock);
}

static void ctl_read(void *dev, uint64_t off, void *data, uint32_t len)
{
	struct ata *a = dev;
	uint8_t *p = data;
	unsigned d;

	memset(p, 0xff, len);
	if (off != 0 || !len)
		return;
	pthread_mutex_lock(&a->lock);
	d = cur_dev(a);
	p[0] = a->drive[d] ? a->st.drv[d].status : 0;	/* alternate status: no acknowledge */
	pthread_mutex_unlock(&a->lock);
}

static void ctl_write(void *dev, uint64_t off, const void *data, uint32_t len)
{
	struct ata *a = dev;

	if (off != 0 || !len)
		return;
	pthread_mutex_lock(&a->lock);
	devctl_write(a, *(const uint8_t *)data);
	ata_irq_update(a);
	pthread_mutex_unlock(&a->lock);
}

const struct bus_ops ata_cmd_bus_ops = { .read = cmd_read, .write = cmd_write };
const struct bus_ops ata_ctl_bus_ops = { .read = ctl_read, .write = ctl_write };
