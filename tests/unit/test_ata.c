/* Unit tests for the ATA PIO channel (src/dev/ata.c, ata_dev.c): reset signature, IDENTIFY contents,
 * LBA28/LBA48/CHS read-write round trips with the PIO interrupt protocol, HOB read-back, nIEN, an
 * absent device 1, I/O errors, hostile register sequences (commands and SRST mid-transfer, LBA
 * overflow, count 0, reads with nothing pending, random accesses), save/restore and reset. */
#include <errno.h>
#include <stdlib.h>
#include <stddef.h>

#include "dev/ata_int.h"
#include "fake_vmm.h"
#include "port_io.h"
#include "test.h"

#define IRQ 14

/* A test disk: small ones are kept in memory; large ones (LBA48 tests) read a pattern made from the
 * sector number and remember only the last write. Failures can be switched on. */
struct tdisk {
	struct blk_backend b;
	uint8_t *mem;
	uint64_t last_write_off;
	uint8_t last_write[SECTOR];
	int writes, flushes, fail_read, fail_write, closed;
};

static int *closed_flag;

/* A sector starts with its LBA (little-endian), then bytes from a hash of every bit of it. */
static uint8_t pattern(uint64_t off)
{
	uint64_t lba = off / SECTOR, i = off % SECTOR;

	if (i < 8)
		return (uint8_t)(lba >> (8 * i));
	return (uint8_t)((lba * 0x9e3779b97f4a7c15ULL) >> 56) + (uint8_t)i;
}

static int td_preadv(struct blk_backend *b, struct iovec *iov, int iovcnt, uint64_t off)
{
	struct tdisk *t = (struct tdisk *)b;

	CHECK_EQ(iovcnt, 1);
	if (t->fail_read || off + iov[0].iov_len > b->size_bytes)
		return -EIO;
	for (size_t i = 0; i < iov[0].iov_len; i++)
		((uint8_t *)iov[0].iov_base)[i] = t->mem ? t->mem[off + i] : pattern(off + i);
	return 0;
}

static int td_pwritev(struct blk_backend *b, struct iovec *iov, int iovcnt, uint64_t off)
{
	struct tdisk *t = (struct tdisk *)b;

	CHECK_EQ(iovcnt, 1);
	CHECK(!b->readonly);
	if (t->fail_write || off + iov[0].iov_len > b->size_bytes)
		return -EIO;
	if (t->mem)
		memcpy(t->mem + off, iov[0].iov_base, iov[0].iov_len);
	t->last_write_off = off;
	memcpy(t->last_write, iov[0].iov_base, SECTOR);
	t->writes++;
	return 0;
}

static int td_flush(struct blk_backend *b)
{
	((struct tdisk *)b)->flushes++;
	return 0;
}

static void td_close(struct blk_backend *b)
{
	struct tdisk *t = (struct tdisk *)b;

	if (closed_flag)
		(*closed_flag)++;
	free(t->mem);
	free(t);
}

static const struct blk_backend_ops td_ops = {
	.preadv = td_preadv, .pwritev = td_pwritev, .flush = td_flush, .close = td_close,
};

static struct tdisk *tdisk(uint64_t sectors, bool in_memory, bool readonly)
{
	struct tdisk *t = calloc(1, sizeof(*t));

	t->b = (struct blk_backend){ .ops = &td_ops, .size_bytes = sectors * SECTOR,
				     .readonly = readonly, .name = "test" };
	if (in_memory) {
		t->mem = malloc(sectors * SECTOR);
		for (uint64_t i = 0; i < sectors * SECTOR; i++)
			t->mem[i] = pattern(i);
	}
	return t;
}

static struct fake_vmm fv;
static struct vmm_ops vops;

static struct ata *mk2(struct tdisk *d0, struct tdisk *d1)
{
	struct ata *a = NULL;
	struct ata_config cfg = { .vmm = &vops, .gsi = IRQ, .drive = { d0 ? &d0->b : NULL,
									d1 ? &d1->b : NULL } };

	fake_vmm_init(&fv, &vops);
	CHECK_EQ(ata_create(&a, &cfg), 0);
	return a;
}

static struct ata *mk(struct tdisk *d0)
{
	return mk2(d0, NULL);
}

static uint8_t inb(struct ata *a, unsigned reg) { return port_in8(&ata_cmd_bus_ops, a, reg); }
static void outb(struct ata *a, unsigned reg, uint8_t v) { port_out8(&ata_cmd_bus_ops, a, reg, v); }
static uint8_t alt(struct ata *a) { return port_in8(&ata_ctl_bus_ops, a, 0); }
static void devctl(struct ata *a, uint8_t v) { port_out8(&ata_ctl_bus_ops, a, 0, v); }

static uint16_t inw(struct ata *a)
{
	uint8_t b[2];

	ata_cmd_bus_ops.read(a, 0, b, 2);
	return (uint16_t)(b[0] | b[1] << 8);
}

static void outw(struct ata *a, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	ata_cmd_bus_ops.write(a, 0, b, 2);
}

static void read_sector(struct ata *a, uint8_t *buf)
{
	for (int i = 0; i < SECTOR / 2; i++) {
		uint16_t w = inw(a);

		buf[2 * i] = (uint8_t)w;
		buf[2 * i + 1] = (uint8_t)(w >> 8);
	}
}

static void write_sector(struct ata *a, const uint8_t *buf)
{
	for (int i = 0; i < SECTOR / 2; i++)
		outw(a, (uint16_t)(buf[2 * i] | buf[2 * i + 1] << 8));
}

static void lba28(struct ata *a, unsigned dev, uint32_t lba, uint8_t count, uint8_t cmd)
{
	outb(a, REG_DEVICE, (uint8_t)(ATA_DEV_LBA | (dev ? ATA_DEV_DEV : 0) | (lba >> 24 & 0xf)));
	outb(a, REG_COUNT, count);
	outb(a, REG_LBAL, (uint8_t)lba);
	outb(a, REG_LBAM, (uint8_t)(lba >> 8));
	outb(a, REG_LBAH, (uint8_t)(lba >> 16));
	outb(a, REG_STATUS, cmd);
}

static void lba48(struct ata *a, uint64_t lba, uint16_t count, uint8_t cmd)
{
	outb(a, REG_DEVICE, ATA_DEV_LBA);
	outb(a, REG_COUNT, (uint8_t)(count >> 8));
	outb(a, REG_LBAL, (uint8_t)(lba >> 24));
	outb(a, REG_LBAM, (uint8_t)(lba >> 32));
	outb(a, REG_LBAH, (uint8_t)(lba >> 40));
	outb(a, REG_COUNT, (uint8_t)count);
	outb(a, REG_LBAL, (uint8_t)lba);
	outb(a, REG_LBAM, (uint8_t)(lba >> 8));
	outb(a, REG_LBAH, (uint8_t)(lba >> 16));
	outb(a, REG_STATUS, cmd);
}

static bool sector_is_pattern(const uint8_t *buf, uint64_t lba)
{
	for (int i = 0; i < SECTOR; i++)
		if (buf[i] != pattern(lba * SECTOR + (uint64_t)i))
			return false;
	return true;
}

static void test_power_on_signature(void)
{
	struct ata *a = mk(tdisk(100, true, false));

	CHECK_EQ(inb(a, REG_STATUS), 0x50);
	CHECK_EQ(inb(a, REG_ERROR), 0x01);
	CHECK_EQ(inb(a, REG_COUNT), 1);
	CHECK_EQ(inb(a, REG_LBAL), 1);
	CHECK_EQ(inb(a, REG_LBAM), 0);
	CHECK_EQ(inb(a, REG_LBAH), 0);
	CHECK_EQ(fv.line_changes, 0);
	CHECK_STR(ata_device(a)->ops->kind, "ata");
	CHECK_STR(ata_device(a)->name, "ide0");
	ata_destroy(a);
	{
		struct ata_config none = { .vmm = &vops, .gsi = IRQ };
		struct tdisk *tiny = tdisk(1, false, false);

		CHECK_EQ(ata_create(&a, &none), -EINVAL);
		tiny->b.size_bytes = 511;
		none.drive[0] = &tiny->b;
		CHECK_EQ(ata_create(&a, &none), -EINVAL);	/* the caller keeps it on failure */
		td_close(&tiny->b);
	}
}

static void test_identify(void)
{
	struct ata *a = mk(tdisk(20000, false, false));
	uint8_t id[SECTOR], sum = 0;
	char model[41];
	uint16_t w[256];

	outb(a, REG_DEVICE, 0);
	outb(a, REG_STATUS, ATA_CMD_IDENTIFY_DEVICE);
	CHECK_EQ(alt(a), 0x58);				/* DRDY DSC DRQ */
	CHECK_EQ(fv.line[IRQ], 1);
	CHECK_EQ(alt(a), 0x58);				/* alternate status does not acknowledge */
	CHECK_EQ(fv.line[IRQ], 1);
	CHECK_EQ(inb(a, REG_STATUS), 0x58);
	CHECK_EQ(fv.line[IRQ], 0);
	read_sector(a, id);
	CHECK_EQ(inb(a, REG_STATUS), 0x50);
	CHECK_EQ(fv.line[IRQ], 0);			/* data-in ends without an interrupt */
	CHECK_EQ(inw(a), 0xffff);			/* nothing pending any more */
	for (int i = 0; i < 256; i++)
		w[i] = (uint16_t)(id[2 * i] | id[2 * i + 1] << 8);
	CHECK_EQ(w[0], 0x0040);
	CHECK_EQ(w[1], 20000 / (16 * 63));
	CHECK_EQ(w[3], 16);
	CHECK_EQ(w[6], 63);
	for (int i = 0; i < 20; i++)			/* first character in the high byte */
		model[2 * i] = (char)(w[27 + i] >> 8), model[2 * i + 1] = (char)w[27 + i];
	model[40] = 0;
	CHECK(!strncmp(model, "CKVM HARDDISK   ", 16));
	CHECK_EQ(w[10] >> 8, 'C');
	CHECK_EQ(w[47] & 0xff, 0);			/* no READ MULTIPLE */
	CHECK(w[49] & (1 << 9));			/* LBA */
	CHECK(!(w[49] & (1 << 8)));			/* no DMA */
	CHECK_EQ(w[60] | (uint32_t)w[61] << 16, 20000);
	CHECK(w[83] & (1 << 10));			/* LBA48 */
	CHECK(w[83] & (1 << 12));			/* FLUSH CACHE */
	CHECK_EQ(w[100] | (uint64_t)w[101] << 16 | (uint64_t)w[102] << 32 | (uint64_t)w[103] << 48, 20000);
	CHECK_EQ(w[93] & 0xdf61, 0x4001);		/* SeaBIOS goes on to probe device 1 */
	CHECK_EQ(id[510], 0xa5);
	for (int i = 0; i < SECTOR; i++)
		sum = (uint8_t)(sum + id[i]);
	CHECK_EQ(sum, 0);
	ata_destroy(a);

	/* Past 2^28 sectors: LBA28 capacity saturates, LBA48 holds the whole size. */
	a = mk(tdisk(1ULL << 33, false, false));
	outb(a, REG_STATUS, ATA_CMD_IDENTIFY_DEVICE);
	read_sector(a, id);
	for (int i = 0; i < 256; i++)
		w[i] = (uint16_t)(id[2 * i] | id[2 * i + 1] << 8);
	CHECK_EQ(w[60] | (uint32_t)w[61] << 16, 0x0fffffff);
	CHECK_EQ(w[100] | (uint64_t)w[101] << 16 | (uint64_t)w[102] << 32, 1ULL << 33);
	CHECK_EQ(w[1], 16383);
	ata_destroy(a);
}

static void test_lba28_round_trip(void)
{
	struct tdisk *t = tdisk(300, true, false);
	struct ata *a = mk(t);
	uint8_t out[2][SECTOR], in[SECTOR];

	for (int i = 0; i < SECTOR; i++)
		out[0][i] = (uint8_t)(i * 3), out[1][i] = (uint8_t)~i;
	lba28(a, 0, 5, 2, ATA_CMD_WRITE_SECTORS);
	CHECK_EQ(alt(a), 0x58);
	CHECK_EQ(fv.line[IRQ], 0);			/* data-out: the first block without an interrupt */
	write_sector(a, out[0]);
	CHECK_EQ(fv.line[IRQ], 1);			/* the next block is wanted */
	CHECK_EQ(inb(a, REG_STATUS), 0x58);
	CHECK_EQ(fv.line[IRQ], 0);
	write_sector(a, out[1]);
	CHECK_EQ(fv.line[IRQ], 1);			/* command complete */
	CHECK_EQ(inb(a, REG_STATUS), 0x50);
	CHECK_EQ(inb(a, REG_ERROR), 0);
	CHECK(!memcmp(t->mem + 5 * SECTOR, out, sizeof(out)));
	CHECK_EQ(t->writes, 2);
	outw(a, 0x1234);				/* a write with nothing pending is dropped */
	CHECK_EQ(t->writes, 2);

	lba28(a, 0, 4, 3, ATA_CMD_READ_SECTORS);
	CHECK_EQ(fv.line[IRQ], 1);
	CHECK_EQ(inb(a, REG_STATUS), 0x58);
	read_sector(a, in);
	CHECK(sector_is_pattern(in, 4));
	CHECK_EQ(fv.line[IRQ], 1);			/* next sector ready */
	CHECK_EQ(inb(a, REG_STATUS), 0x58);
	read_sector(a, in);
	CHECK(!memcmp(in, out[0], SECTOR));
	read_sector(a, in);
	CHECK(!memcmp(in, out[1], SECTOR));
	CHECK_EQ(inb(a, REG_STATUS), 0x50);
	CHECK_EQ(inw(a), 0xffff);

	/* The last sector is readable; one more is not. */
	lba28(a, 0, 299, 1, ATA_CMD_READ_SECTORS_NORETRY);
	CHECK_EQ(inb(a, REG_STATUS), 0x58);
	read_sector(a, in);
	CHECK(sector_is_pattern(in, 299));
	lba28(a, 0, 299, 2, ATA_CMD_READ_SECTORS);
	CHECK_EQ(inb(a, REG_STATUS), 0x51);
	CHECK_EQ(inb(a, REG_ERROR), ATA_ER_IDNF | ATA_ER_ABRT);
	CHECK_EQ(inw(a), 0xffff);

	/* 32-bit data accesses move two words. */
	lba28(a, 0, 7, 1, ATA_CMD_READ_SECTORS);
	for (int i = 0; i < SECTOR / 4; i++)
		ata_cmd_bus_ops.read(a, 0, in + 4 * i, 4);
	CHECK(sector_is_pattern(in, 7));
	/* An 8-bit data access moves nothing. */
	lba28(a, 0, 8, 1, ATA_CMD_READ_SECTORS);
	CHECK_EQ(inb(a, REG_DATA), 0xff);
	read_sector(a, in);
	CHECK(sector_is_pattern(in, 8));
	ata_destroy(a);
}

static void test_lba48_and_hob(void)
{
	struct tdisk *t = tdisk(1ULL << 40, false, false);
	struct ata *a = mk(t);
	uint64_t lba = 0x12345678abULL;
	uint8_t in[SECTOR], out[SECTOR];

	lba48(a, lba, 2, ATA_CMD_READ_SECTORS_EXT);
	CHECK_EQ(inb(a, REG_STATUS), 0x58);
	read_sector(a, in);
	CHECK(sector_is_pattern(in, lba));
	read_sector(a, in);
	CHECK(sector_is_pattern(in, lba + 1));
	CHECK_EQ(inb(a, REG_STATUS), 0x50);

	memset(out, 0x5a, sizeof(out));
	lba48(a, (1ULL << 40) - 1, 1, ATA_CMD_WRITE_SECTORS_EXT);
	CHECK_EQ(inb(a, REG_STATUS), 0x58);
	write_sector(a, out);
	CHECK_EQ(inb(a, REG_STATUS), 0x50);
	CHECK_EQ(t->last_write_off, ((1ULL << 40) - 1) * SECTOR);
	CHECK(!memcmp(t->last_write, out, SECTOR));
	/* Past the end, and the largest LBA48 address with the largest count. */
	lba48(a, 1ULL << 40, 1, ATA_CMD_READ_SECTORS_EXT);
	CHECK_EQ(inb(a, REG_STATUS), 0x51);
	lba48(a, 0xffffffffffffULL, 0xffff, ATA_CMD_WRITE_SECTORS_EXT);
	CHECK_EQ(inb(a, REG_STATUS), 0x51);
	CHECK_EQ(inb(a, REG_ERROR), ATA_ER_IDNF | ATA_ER_ABRT);

	/* HOB: the previous byte of each LBA48 register reads back while it is set. */
	outb(a, REG_COUNT, 0x12);
	outb(a, REG_COUNT, 0x34);
	outb(a, REG_LBAH, 0x56);
	outb(a, REG_LBAH, 0x78);
	CHECK_EQ(inb(a, REG_COUNT), 0x34);
	devctl(a, ATA_DC_HOB);
	CHECK_EQ(inb(a, REG_COUNT), 0x12);
	CHECK_EQ(inb(a, REG_LBAH), 0x56);
	outb(a, REG_ERROR, 0);				/* any command-block write clears HOB */
	CHECK_EQ(inb(a, REG_COUNT), 0x34);
	ata_destroy(a);
}

static void test_count_zero(void)
{
	struct tdisk *t = tdisk(65536, true, false);
	struct ata *a = mk(t);
	uint8_t in[SECTOR];
	int n = 0;

	/* LBA28 count 0 is 256 sectors. */
	lba28(a, 0, 10, 0, ATA_CMD_READ_SECTORS);
	while (inb(a, REG_STATUS) & ATA_SR_DRQ) {
		read_sector(a, in);
		n += sector_is_pattern(in, 10 + (uint64_t)n);
	}
	CHECK_EQ(n, 256);
	lba28(a, 0, 65536 - 255, 0, ATA_CMD_READ_SECTORS);	/* 256 do not fit */
	CHECK_EQ(inb(a, REG_STATUS), 0x51);
	/* LBA48 count 0 is 65536: the whole disk from 0 fits, from 1 it does not. */
	lba48(a, 0, 0, ATA_CMD_READ_SECTORS_EXT);
	CHECK_EQ(inb(a, REG_STATUS), 0x58);
	CHECK_EQ(a->st.sectors_left, 65536);
	lba48(a, 1, 0, ATA_CMD_READ_SECTORS_EXT);
	CHECK_EQ(inb(a, REG_STATUS), 0x51);
	ata_destroy(a);
}

static void test_chs(void)
{
	struct ata *a = mk(tdisk(20000, true, false));
	uint8_t in[SECTOR];

	outb(a, REG_COUNT, 0);				/* INITIALIZE DEVICE PARAMETERS needs a count */
	outb(a, REG_STATUS, ATA_CMD_INIT_DEVICE_PARAMS);
	CHECK_EQ(inb(a, REG_STATUS), 0x51);
	outb(a, REG_COUNT, 32);				/* 32 sectors/track, 4 heads */
	outb(a, REG_DEVICE, 3);
	outb(a, REG_STATUS, ATA_CMD_INIT_DEVICE_PARAMS);
	CHECK_EQ(inb(a, REG_STATUS), 0x50);
	/* C/H/S 2/1/5 -> LBA (2 * 4 + 1) * 32 + 4 = 292 */
	outb(a, REG_DEVICE, 1);
	outb(a, REG_COUNT, 1);
	outb(a, REG_LBAL, 5);
	outb(a, REG_LBAM, 2);
	outb(a, REG_LBAH, 0);
	outb(a, REG_STATUS, ATA_CMD_READ_SECTORS);
	CHECK_EQ(inb(a, REG_STATUS), 0x58);
	read_sector(a, in);
	CHECK(sector_is_pattern(in, 292));
	outb(a, REG_LBAL, 0);				/* sector 0 does not exist */
	outb(a, REG_STATUS, ATA_CMD_READ_SECTORS);
	CHECK_EQ(inb(a, REG_STATUS), 0x51);
	outb(a, REG_LBAL, 33);				/* past the track */
	outb(a, REG_STATUS, ATA_CMD_READ_SECTORS);
	CHECK_EQ(inb(a, REG_STATUS), 0x51);
	outb(a, REG_LBAL, 1);
	outb(a, REG_DEVICE, 4);				/* head 4 of 4 */
	outb(a, REG_STATUS, ATA_CMD_READ_SECTORS);
	CHECK_EQ(inb(a, REG_STATUS), 0x51);
	outb(a, REG_DEVICE, 0);
	outb(a, REG_LBAM, 0xff);			/* cylinder 0xffff: past the disk */
	outb(a, REG_LBAH, 0xff);
	outb(a, REG_STATUS, ATA_CMD_READ_SECTORS);
	CHECK_EQ(inb(a, REG_STATUS), 0x51);
	ata_destroy(a);
}

static void test_misc_commands(void)
{
	struct tdisk *t = tdisk(64, true, false);
	struct ata *a = mk(t);
	static const uint8_t refused[] = { 0xc8, 0xca, 0x25, 0x35, 0xa1, 0xa0, 0xc4, 0xc5, 0xc6, 0x00,
					   0x27, 0xf8, 0xff };
	uint8_t buf[SECTOR];

	for (size_t i = 0; i < sizeof(refused); i++) {
		outb(a, REG_STATUS, refused[i]);
		CHECK_EQ(inb(a, REG_STATUS), 0x51);
		CHECK_EQ(inb(a, REG_ERROR), ATA_ER_ABRT);
	}
	outb(a, REG_STATUS, ATA_CMD_FLUSH_CACHE);
	CHECK_EQ(fv.line[IRQ], 1);
	CHECK_EQ(inb(a, REG_STATUS), 0x50);
	CHECK_EQ(inb(a, REG_ERROR), 0);			/* a new command clears the error */
	outb(a, REG_STATUS, ATA_CMD_FLUSH_CACHE_EXT);
	CHECK_EQ(t->flushes, 2);
	outb(a, REG_STATUS, 0x10);			/* RECALIBRATE */
	CHECK_EQ(inb(a, REG_STATUS), 0x50);
	outb(a, REG_STATUS, ATA_CMD_CHECK_POWER_MODE);
	CHECK_EQ(inb(a, REG_COUNT), 0xff);
	outb(a, REG_STATUS, ATA_CMD_STANDBY_IMMEDIATE);
	CHECK_EQ(inb(a, REG_STATUS), 0x50);
	outb(a, REG_STATUS, ATA_CMD_EXEC_DEVICE_DIAGNOSTIC);
	CHECK_EQ(inb(a, REG_ERROR), 0x01);
	CHECK_EQ(inb(a, REG_LBAL), 1);
	/* SET FEATURES: PIO modes yes, DMA modes and unknown subcommands no. */
	outb(a, REG_ERROR, 0x03);
	outb(a, REG_COUNT, 0x0c);			/* PIO 4 */
	outb(a, REG_STATUS, ATA_CMD_SET_FEATURES);
	CHECK_EQ(inb(a, REG_STATUS), 0x50);
	outb(a, REG_COUNT, 0x45);			/* UDMA 5 */
	outb(a, REG_STATUS, ATA_CMD_SET_FEATURES);
	CHECK_EQ(inb(a, REG_STATUS), 0x51);
	outb(a, REG_ERROR, 0x99);
	outb(a, REG_STATUS, ATA_CMD_SET_FEATURES);
	CHECK_EQ(inb(a, REG_STATUS), 0x51);
	/* Write cache off: IDENTIFY says so and every written sector is flushed. */
	outb(a, REG_ERROR, 0x82);
	outb(a, REG_STATUS, ATA_CMD_SET_FEATURES);
	CHECK_EQ(inb(a, REG_STATUS), 0x50);
	outb(a, REG_STATUS, ATA_CMD_IDENTIFY_DEVICE);
	read_sector(a, buf);
	CHECK(!(buf[85 * 2] & (1 << 5)));
	lba28(a, 0, 1, 1, ATA_CMD_WRITE_SECTORS);
	write_sector(a, buf);
	CHECK_EQ(t->flushes, 3);
	ata_destroy(a);
}

static void test_errors_and_readonly(void)
{
	struct tdisk *t = tdisk(64, true, false), *ro = tdisk(64, true, true);
	struct ata *a = mk(t);
	uint8_t buf[SECTOR] = { 0 };

	t->fail_read = 1;
	lba28(a, 0, 1, 1, ATA_CMD_READ_SECTORS);
	CHECK_EQ(inb(a, REG_STATUS), 0x51);
	CHECK_EQ(inb(a, REG_ERROR), ATA_ER_UNC);
	CHECK_EQ(inw(a), 0xffff);
	t->fail_read = 0;
	t->fail_write = 1;
	lba28(a, 0, 1, 2, ATA_CMD_WRITE_SECTORS);
	write_sector(a, buf);
	CHECK_EQ(inb(a, REG_STATUS), 0x51);
	CHECK_EQ(inb(a, REG_ERROR), ATA_ER_ABRT);
	write_sector(a, buf);				/* the rest of the transfer is dropped */
	CHECK_EQ(t->writes, 0);
	ata_destroy(a);

	a = mk(ro);
	lba28(a, 0, 1, 1, ATA_CMD_WRITE_SECTORS);
	CHECK_EQ(inb(a, REG_STATUS), 0x51);
	CHECK_EQ(inb(a, REG_ERROR), ATA_ER_ABRT);
	write_sector(a, buf);
	CHECK_EQ(ro->writes, 0);
	lba28(a, 0, 1, 1, ATA_CMD_READ_SECTORS);	/* reading is fine */
	CHECK_EQ(inb(a, REG_STATUS), 0x58);
	ata_destroy(a);
}

static void test_device1(void)
{
	struct tdisk *t0 = tdisk(64, true, false), *t1 = tdisk(128, true, false);
	struct ata *a = mk(t0);
	uint8_t buf[SECTOR];

	/* Device 1 absent: its registers read zeros, the device register reads back, commands do
	 * nothing; device 0 still sees what was written (SeaBIOS's and Linux's presence probe). */
	outb(a, REG_DEVICE, ATA_DEV_DEV);
	CHECK_EQ(inb(a, REG_DEVICE), ATA_DEV_DEV);
	outb(a, REG_COUNT, 0x55);
	outb(a, REG_LBAL, 0xaa);
	CHECK_EQ(inb(a, REG_COUNT), 0);
	CHECK_EQ(inb(a, REG_LBAL), 0);
	CHECK_EQ(inb(a, REG_STATUS), 0);
	CHECK_EQ(alt(a), 0);
	outb(a, REG_STATUS, ATA_CMD_IDENTIFY_DEVICE);
	CHECK_EQ(fv.line_changes, 0);
	CHECK_EQ(inw(a), 0xffff);
	outb(a, REG_DEVICE, 0);
	CHECK_EQ(inb(a, REG_COUNT), 0x55);
	CHECK_EQ(inb(a, REG_LBAL), 0xaa);
	ata_destroy(a);

	/* Two drives: each answers for itself. */
	a = mk2(t0 = tdisk(64, true, false), t1);
	lba28(a, 1, 100, 1, ATA_CMD_READ_SECTORS);
	CHECK_EQ(inb(a, REG_STATUS), 0x58);
	read_sector(a, buf);
	CHECK(sector_is_pattern(buf, 100));
	lba28(a, 0, 100, 1, ATA_CMD_READ_SECTORS);	/* device 0 has 64 sectors */
	CHECK_EQ(inb(a, REG_STATUS), 0x51);
	outb(a, REG_DEVICE, ATA_DEV_DEV);
	CHECK_EQ(inb(a, REG_STATUS), 0x50);		/* device 1 is unaffected */
	outb(a, REG_STATUS, ATA_CMD_IDENTIFY_DEVICE);
	read_sector(a, buf);
	CHECK_EQ(buf[60 * 2], 128);
	CHECK_EQ(buf[93 * 2 + 1] & 1, 1);		/* word 93: device 1's half */
	ata_destroy(a);
}

static void test_nien_and_srst(void)
{
	struct tdisk *t = tdisk(64, true, false);
	struct ata *a = mk(t);
	uint8_t buf[SECTOR];
	int changes;

	/* nIEN holds the line low but not the pending state. */
	devctl(a, ATA_DC_NIEN);
	outb(a, REG_STATUS, ATA_CMD_FLUSH_CACHE);
	CHECK_EQ(fv.line[IRQ], 0);
	devctl(a, 0);
	CHECK_EQ(fv.line[IRQ], 1);
	CHECK_EQ(inb(a, REG_STATUS), 0x50);
	CHECK_EQ(fv.line[IRQ], 0);

	/* An interrupt the guest left unacknowledged: the next one is still an edge at the PIC. */
	outb(a, REG_STATUS, ATA_CMD_FLUSH_CACHE);
	CHECK_EQ(fv.line[IRQ], 1);
	changes = fv.line_changes;
	outb(a, REG_STATUS, ATA_CMD_FLUSH_CACHE);
	CHECK_EQ(fv.line_changes, changes + 2);		/* low, then high again */
	CHECK_EQ(fv.line[IRQ], 1);
	CHECK_EQ(inb(a, REG_STATUS), 0x50);
	CHECK_EQ(fv.line[IRQ], 0);

	/* SRST mid-write: busy while asserted, the transfer gone, signature after, nothing written. */
	memset(buf, 0x77, sizeof(buf));
	lba28(a, 0, 3, 2, ATA_CMD_WRITE_SECTORS);
	for (int i = 0; i < 100; i++)
		outw(a, 0x7777);
	devctl(a, ATA_DC_SRST | ATA_DC_NIEN);
	CHECK_EQ(inb(a, REG_STATUS), ATA_SR_BSY);
	CHECK_EQ(alt(a), ATA_SR_BSY);
	outb(a, REG_STATUS, ATA_CMD_IDENTIFY_DEVICE);	/* ignored during reset */
	write_sector(a, buf);
	CHECK_EQ(t->writes, 0);
	devctl(a, ATA_DC_NIEN);
	CHECK_EQ(inb(a, REG_STATUS), 0x50);
	CHECK_EQ(inb(a, REG_ERROR), 0x01);
	CHECK_EQ(inb(a, REG_COUNT), 1);
	CHECK_EQ(inb(a, REG_LBAL), 1);
	CHECK_EQ(inw(a), 0xffff);
	write_sector(a, buf);
	CHECK_EQ(t->writes, 0);
	devctl(a, 0);
	CHECK_EQ(fv.line[IRQ], 0);

	/* A command mid-read replaces the transfer. */
	lba28(a, 0, 2, 2, ATA_CMD_READ_SECTORS);
	for (int i = 0; i < 10; i++)
		inw(a);
	outb(a, REG_STATUS, ATA_CMD_IDENTIFY_DEVICE);
	CHECK_EQ(inw(a), 0x0040);
	ata_destroy(a);
}

static void test_random_accesses(void)
{
	struct tdisk *t0 = tdisk(256, true, false), *t1 = tdisk(64, true, true);
	struct ata *a = mk2(t0, t1);
	uint32_t seed = 12345;
	uint8_t data[4], buf[SECTOR];
	int broken = 0;

	/* The transfer state stays inside its buffer and its disk after every access. */
	for (int i = 0; i < 200000; i++) {
		if (i % 64 == 0)
			port_random_access(&ata_ctl_bus_ops, a, &seed, 2, data);
		else
			port_random_access(&ata_cmd_bus_ops, a, &seed, 9, data);
		broken += a->st.pos >= SECTOR || a->st.xfer > XFER_OUT;
		if (a->st.xfer != XFER_NONE && !a->st.xfer_ident)
			broken += a->st.lba + a->st.sectors_left > a->sectors[a->st.xfer_dev];
	}
	CHECK_EQ(broken, 0);
	CHECK_EQ(t1->writes, 0);
	/* A reset brings the channel back whatever the guest left. */
	devctl(a, ATA_DC_SRST);
	devctl(a, 0);
	lba28(a, 0, 9, 1, ATA_CMD_IDENTIFY_DEVICE);
	CHECK_EQ(inb(a, REG_STATUS), 0x58);
	read_sector(a, buf);
	CHECK_EQ(buf[0], 0x40);
	ata_destroy(a);
}

static void test_lifecycle(void)
{
	struct tdisk *t = tdisk(64, true, false);
	struct ata *a = mk(t);
	struct device *d = ata_device(a);
	struct ata_state st, bad;
	uint16_t want[4], got[4];
	int closed = 0;

	lba28(a, 0, 10, 2, ATA_CMD_READ_SECTORS);
	for (int i = 0; i < 200; i++)
		inw(a);
	CHECK_EQ(d->ops->save(d, &st, sizeof(st) - 1), -ENOSPC);
	CHECK_EQ(d->ops->save(d, &st, sizeof(st)), sizeof(st));
	for (int i = 0; i < 4; i++)
		want[i] = inw(a);
	/* Reset: power-on state, the transfer gone, the line low. */
	d->ops->reset(d);
	CHECK_EQ(inb(a, REG_STATUS), 0x50);
	CHECK_EQ(inw(a), 0xffff);
	CHECK_EQ(fv.line[IRQ], 0);
	/* Restore: the same words again, and the pending interrupt back on the line. */
	CHECK_EQ(d->ops->restore(d, &st, sizeof(st)), 0);
	CHECK_EQ(fv.line[IRQ], 1);
	for (int i = 0; i < 4; i++)
		got[i] = inw(a);
	CHECK(!memcmp(want, got, sizeof(want)));

	/* Hostile records are refused whole; the transfer continues where it was. */
#define BAD(field, value) do { bad = st; bad.field = value;                       \
		CHECK_EQ(d->ops->restore(d, &bad, sizeof(bad)), -EINVAL); } while (0)
	d->ops->restore(d, &st, sizeof(st));
	BAD(xfer, 3);
	BAD(xfer_dev, 1);				/* device 1 is absent */
	BAD(xfer_dev, 2);
	BAD(pos, SECTOR);
	BAD(pos, 7);
	BAD(lba, 63);					/* 2 sectors from 63 pass the end */
	BAD(lba, UINT64_MAX);
	BAD(sectors_left, 0);
	BAD(sectors_left, 65537);
	BAD(drv[0].heads, 0);
	BAD(drv[1].spt, 0);
	BAD(drv[0].heads, 17);
	BAD(irq_pending, 2);
	BAD(pad, 1);
	BAD(drv[0].pad[1], 1);
	BAD(xfer_ident, 2);
	CHECK_EQ(d->ops->restore(d, &st, sizeof(st) + 1), -EINVAL);
	for (int i = 0; i < 4; i++)
		got[i] = inw(a);
	CHECK(!memcmp(want, got, sizeof(want)));
	/* After a finished transfer the state saves and restores too; its position is back at 0. */
	for (int i = 0; i < SECTOR / 2 - 204 + SECTOR / 2; i++)
		inw(a);
	CHECK_EQ(inb(a, REG_STATUS), 0x50);
	CHECK_EQ(d->ops->save(d, &bad, sizeof(bad)), sizeof(bad));
	CHECK_EQ(bad.pos, 0);
	CHECK_EQ(d->ops->restore(d, &bad, sizeof(bad)), 0);
	bad.pos = SECTOR;
	CHECK_EQ(d->ops->restore(d, &bad, sizeof(bad)), -EINVAL);
	bad = st;
	bad.xfer = XFER_OUT;				/* a write transfer is fine on a writable disk */
	CHECK_EQ(d->ops->restore(d, &bad, sizeof(bad)), 0);
	closed_flag = &closed;
	d->ops->destroy(d);				/* closes the backend it owns */
	closed_flag = NULL;
	CHECK_EQ(closed, 1);
}

int main(void)
{
	RUN(test_power_on_signature);
	RUN(test_identify);
	RUN(test_lba28_round_trip);
	RUN(test_lba48_and_hob);
	RUN(test_count_zero);
	RUN(test_chs);
	RUN(test_misc_commands);
	RUN(test_errors_and_readonly);
	RUN(test_device1);
	RUN(test_nien_and_srst);
	RUN(test_random_accesses);
	RUN(test_lifecycle);
	return test_summary();
}
