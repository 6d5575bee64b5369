/* Unit tests for fw_cfg (src/dev/fw_cfg.c) and the table-loader builder (fw_cfg_loader.c): signature,
 * id, directory, legacy items, byte and DMA reads, hostile DMA descriptors and selectors, save/restore,
 * concurrent DMA from two threads, and a table-loader script run the way SeaBIOS runs it. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/device.h"
#include "core/guest_mem.h"
#include "dev/fw_cfg.h"
#include "dev/fw_cfg_loader.h"
#include "test.h"

#define RAM_GPA		0x100000ULL	/* guest RAM in the tests: [1 MiB, 1 MiB + 64 KiB) */
#define RAM_LEN		0x10000ULL
#define DESC_GPA	(RAM_GPA + 0x100)
#define BUF_GPA		(RAM_GPA + 0x1000)

static uint8_t *ram;
static struct guest_mem gm;

static void ram_setup(void)
{
	memset(&gm, 0, sizeof(gm));
	free(ram);
	ram = calloc(1, RAM_LEN);
	if (gm_add_region(&gm, RAM_GPA, RAM_LEN, ram))
		abort();
}

static struct fw_cfg *mk(bool dma)
{
	struct fw_cfg *f = NULL;
	struct fw_cfg_config cfg = { .dma = dma, .gm = &gm };

	CHECK_EQ(fw_cfg_create(&f, &cfg), 0);
	return f;
}

static void sel(struct fw_cfg *f, uint16_t key)
{
	uint8_t b[2] = { (uint8_t)key, (uint8_t)(key >> 8) };

	fw_cfg_bus_ops.write(f, 0, b, 2);
}

static uint8_t rd8(struct fw_cfg *f)
{
	uint8_t v = 0xee;

	fw_cfg_bus_ops.read(f, 1, &v, 1);
	return v;
}

static void rd(struct fw_cfg *f, uint16_t key, void *buf, size_t len)
{
	sel(f, key);
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = rd8(f);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static uint8_t *at(uint64_t gpa)
{
	return ram + (gpa - RAM_GPA);
}

/* Write a descriptor at desc_gpa (if it lies in RAM) and start it through the low half. */
static void dma(struct fw_cfg *f, uint64_t desc_gpa, uint32_t control, uint32_t len, uint64_t gpa)
{
	uint8_t lo[4];

	if (desc_gpa >= RAM_GPA && desc_gpa - RAM_GPA <= RAM_LEN - 16) {
		put_be32(at(desc_gpa), control);
		put_be32(at(desc_gpa) + 4, len);
		put_be32(at(desc_gpa) + 8, (uint32_t)(gpa >> 32));
		put_be32(at(desc_gpa) + 12, (uint32_t)gpa);
	}
	put_be32(lo, (uint32_t)desc_gpa);
	if (desc_gpa >> 32) {
		uint8_t hi[4];

		put_be32(hi, (uint32_t)(desc_gpa >> 32));
		fw_cfg_bus_ops.write(f, 4, hi, 4);
	}
	fw_cfg_bus_ops.write(f, 8, lo, 4);
}

static uint32_t dma_result(void)
{
	return be32(at(DESC_GPA));
}

static void test_signature_and_id(void)
{
	struct fw_cfg *f;
	uint8_t b[8];

	ram_setup();
	f = mk(true);
	rd(f, FW_CFG_SIGNATURE, b, 5);
	CHECK(!memcmp(b, "QEMU", 4));
	CHECK_EQ(b[4], 0);				/* past the end: zeros */
	rd(f, FW_CFG_ID, b, 4);
	CHECK_EQ(b[0], 3);				/* traditional + DMA */
	CHECK_EQ(b[1] | b[2] | b[3], 0);
	fw_cfg_bus_ops.read(f, 4, b, 8);
	CHECK(!memcmp(b, "QEMU CFG", 8));
	fw_cfg_bus_ops.read(f, 8, b, 4);
	CHECK(!memcmp(b, " CFG", 4));
	sel(f, FW_CFG_SIGNATURE);			/* a wide data read is a string */
	fw_cfg_bus_ops.read(f, 1, b, 4);
	CHECK(!memcmp(b, "QEMU", 4));
	fw_cfg_destroy(f);

	f = mk(false);
	rd(f, FW_CFG_ID, b, 4);
	CHECK_EQ(b[0], 1);
	fw_cfg_bus_ops.read(f, 4, b, 8);
	CHECK_EQ(b[0] | b[7], 0);			/* no DMA register */
	dma(f, DESC_GPA, FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 4, BUF_GPA);
	CHECK_EQ(dma_result(), FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ);	/* untouched */
	fw_cfg_destroy(f);
	{
		struct fw_cfg_config bad = { .dma = true, .gm = NULL };

		CHECK_EQ(fw_cfg_create(&f, &bad), -EINVAL);
	}
}

static void test_directory_and_files(void)
{
	struct fw_cfg *f;
	uint8_t dir[4 + 3 * 64], b[64];
	char name[80];
	uint16_t key = 0;

	ram_setup();
	f = mk(true);
	rd(f, FW_CFG_FILE_DIR, dir, 4);
	CHECK_EQ(be32(dir), 0);
	CHECK_EQ(fw_cfg_add_file(f, "etc/e820", "0123456789abcdefghij", 20, &key), 0);
	CHECK_EQ(key, 0x20);
	CHECK_EQ(fw_cfg_add_file(f, "bootorder", "/pci@i0cf8/*@1\n", 15, &key), 0);
	CHECK_EQ(key, 0x21);
	CHECK_EQ(fw_cfg_add_file(f, "etc/e820", "x", 1, NULL), -EEXIST);
	CHECK_EQ(fw_cfg_add_file(f, "", "x", 1, NULL), -EINVAL);
	memset(name, 'n', 56);
	name[56] = 0;
	CHECK_EQ(fw_cfg_add_file(f, name, "x", 1, NULL), -ENAMETOOLONG);
	name[55] = 0;					/* 55 characters + NUL fit */
	CHECK_EQ(fw_cfg_add_file(f, name, "xyz", 3, &key), 0);
	CHECK_EQ(key, 0x22);

	rd(f, FW_CFG_FILE_DIR, dir, sizeof(dir));
	CHECK_EQ(be32(dir), 3);
	CHECK_EQ(be32(dir + 4), 20);
	CHECK_EQ(dir[4 + 4] << 8 | dir[4 + 5], 0x20);
	CHECK_STR((char *)dir + 4 + 8, "etc/e820");
	CHECK_EQ(be32(dir + 68), 15);
	CHECK_EQ(dir[68 + 4] << 8 | dir[68 + 5], 0x21);
	CHECK_STR((char *)dir + 68 + 8, "bootorder");
	CHECK_EQ(dir[132 + 8 + 55], 0);			/* the long name is NUL-terminated */
	CHECK_EQ(strlen((char *)dir + 132 + 8), 55);

	/* A file by byte, as SeaBIOS does without DMA, then past its end. */
	rd(f, 0x21, b, 17);
	CHECK(!memcmp(b, "/pci@i0cf8/*@1\n", 15));
	CHECK_EQ(b[15] | b[16], 0);
	/* Reselecting rewinds. */
	rd(f, 0x20, b, 2);
	rd(f, 0x20, b + 2, 2);
	CHECK(!memcmp(b, "0101", 4));

	/* The table fills up at FW_CFG_MAX_FILES. */
	for (int i = 3; i < FW_CFG_MAX_FILES; i++) {
		snprintf(name, sizeof(name), "opt/f%d", i);
		CHECK_EQ(fw_cfg_add_file(f, name, name, strlen(name), NULL), 0);
	}
	CHECK_EQ(fw_cfg_add_file(f, "opt/one-too-many", "x", 1, NULL), -ENOSPC);
	rd(f, FW_CFG_FILE_DIR, dir, 4);
	CHECK_EQ(be32(dir), FW_CFG_MAX_FILES);
	rd(f, FW_CFG_FILE_FIRST + FW_CFG_MAX_FILES - 1, b, 7);
	CHECK(!memcmp(b, "opt/f63", 7));
	fw_cfg_destroy(f);
}

static void test_legacy_items(void)
{
	struct fw_cfg *f;
	uint8_t b[16];

	ram_setup();
	f = mk(false);
	CHECK_EQ(fw_cfg_add_u16(f, FW_CFG_NB_CPUS, 4), 0);
	CHECK_EQ(fw_cfg_add_u16(f, FW_CFG_MAX_CPUS, 0x0102), 0);
	CHECK_EQ(fw_cfg_add_u64(f, FW_CFG_RAM_SIZE, 0x123456789ULL), 0);
	CHECK_EQ(fw_cfg_add_u32(f, FW_CFG_E820_TABLE, 7), 0);
	rd(f, FW_CFG_NB_CPUS, b, 3);
	CHECK_EQ(b[0], 4);
	CHECK_EQ(b[1] | b[2], 0);
	rd(f, FW_CFG_MAX_CPUS, b, 2);
	CHECK_EQ(b[0] | b[1] << 8, 0x0102);
	rd(f, FW_CFG_RAM_SIZE, b, 8);
	CHECK_EQ(b[0], 0x89);
	CHECK_EQ(b[4], 0x01);
	rd(f, FW_CFG_E820_TABLE, b, 4);
	CHECK_EQ(b[0], 7);
	rd(f, FW_CFG_NB_CPUS | FW_CFG_ARCH_LOCAL, b, 1);	/* the same index, other space */
	CHECK_EQ(b[0], 0);
	/* The write-channel bit does not change which item is read. */
	rd(f, FW_CFG_NB_CPUS | FW_CFG_WRITE_CHANNEL, b, 1);
	CHECK_EQ(b[0], 4);
	/* Absent legacy items read as zeros (SeaBIOS reads NUMA, BOOT_MENU, ACPI_TABLES counts). */
	rd(f, FW_CFG_NUMA, b, 8);
	CHECK_EQ(b[0] | b[7], 0);
	rd(f, FW_CFG_ACPI_TABLES, b, 2);
	CHECK_EQ(b[0] | b[1], 0);
	/* Replacing an item; refusing the keys the device owns and file keys. */
	CHECK_EQ(fw_cfg_add_u16(f, FW_CFG_NB_CPUS, 2), 0);
	rd(f, FW_CFG_NB_CPUS, b, 1);
	CHECK_EQ(b[0], 2);
	CHECK_EQ(fw_cfg_add_u32(f, FW_CFG_SIGNATURE, 0), -EINVAL);
	CHECK_EQ(fw_cfg_add_u32(f, FW_CFG_ID, 0), -EINVAL);
	CHECK_EQ(fw_cfg_add_u32(f, FW_CFG_FILE_DIR, 0), -EINVAL);
	CHECK_EQ(fw_cfg_add_u32(f, FW_CFG_FILE_FIRST, 0), -EINVAL);
	CHECK_EQ(fw_cfg_add_u32(f, 0x4005, 0), -EINVAL);
	CHECK_EQ(fw_cfg_add_u32(f, 0x8020, 0), -EINVAL);
	fw_cfg_destroy(f);
}

static void test_hostile_ports(void)
{
	struct fw_cfg *f;
	uint8_t b[8];
	static const uint16_t keys[] = { 0x3fff, 0x7fff, 0xffff, FW_CFG_FILE_FIRST + FW_CFG_MAX_FILES,
					 FW_CFG_FILE_FIRST, 0x8019, 0xc000 };

	ram_setup();
	f = mk(true);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		rd(f, keys[i], b, 3);
		CHECK_EQ(b[0] | b[1] | b[2], 0);
	}
	/* Only a 16-bit write at 0 selects: byte and 32-bit writes are ignored. */
	sel(f, FW_CFG_SIGNATURE);
	b[0] = 1;
	fw_cfg_bus_ops.write(f, 0, b, 1);
	memset(b, 0, 4);
	fw_cfg_bus_ops.write(f, 0, b, 4);
	CHECK_EQ(rd8(f), 'Q');
	/* Data writes are ignored and do not move the offset. */
	b[0] = 'X';
	fw_cfg_bus_ops.write(f, 1, b, 1);
	CHECK_EQ(rd8(f), 'E');
	/* Reads of the selector and of the gap read zeros; odd-width DMA writes do nothing. */
	fw_cfg_bus_ops.read(f, 0, b, 1);
	CHECK_EQ(b[0], 0);
	fw_cfg_bus_ops.read(f, 2, b, 2);
	CHECK_EQ(b[0] | b[1], 0);
	put_be32(at(DESC_GPA), FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ);
	b[0] = (uint8_t)DESC_GPA;
	fw_cfg_bus_ops.write(f, 8, b, 1);
	fw_cfg_bus_ops.write(f, 9, b, 2);
	CHECK_EQ(dma_result(), FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ);
	CHECK_EQ(rd8(f), 'M');				/* nothing moved the offset */
	fw_cfg_destroy(f);
}

static void test_dma_reads(void)
{
	struct fw_cfg *f;
	uint8_t b[8];

	ram_setup();
	f = mk(true);
	CHECK_EQ(fw_cfg_add_file(f, "etc/x", "abcdefgh", 8, NULL), 0);

	/* SELECT + READ: the whole file. */
	dma(f, DESC_GPA, 0x20u << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 8, BUF_GPA);
	CHECK_EQ(dma_result(), 0);
	CHECK(!memcmp(at(BUF_GPA), "abcdefgh", 8));
	/* SELECT + SKIP 2, then READ 3 continues from there; a byte read continues after that. */
	memset(at(BUF_GPA), 0xaa, 16);
	dma(f, DESC_GPA, 0x20u << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP, 2, 0);
	CHECK_EQ(dma_result(), 0);
	dma(f, DESC_GPA, FW_CFG_DMA_CTL_READ, 3, BUF_GPA);
	CHECK(!memcmp(at(BUF_GPA), "cde", 3));
	CHECK_EQ(*at(BUF_GPA + 3), 0xaa);
	CHECK_EQ(rd8(f), 'f');
	/* Past the end: the rest of the request is zeroed, no error. */
	memset(at(BUF_GPA), 0xaa, 16);
	dma(f, DESC_GPA, FW_CFG_DMA_CTL_READ, 6, BUF_GPA);
	CHECK_EQ(dma_result(), 0);
	CHECK(!memcmp(at(BUF_GPA), "gh\0\0\0\0", 6));
	CHECK_EQ(*at(BUF_GPA + 6), 0xaa);
	/* Skip past the end stops at the end. */
	dma(f, DESC_GPA, 0x20u << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP, 100, 0);
	CHECK_EQ(rd8(f), 0);
	/* An absent item by DMA reads zeros (SeaBIOS reads absent legacy items so). */
	memset(at(BUF_GPA), 0xaa, 8);
	dma(f, DESC_GPA, 0x0du << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 8, BUF_GPA);
	CHECK_EQ(dma_result(), 0);
	CHECK_EQ(*at(BUF_GPA) | *at(BUF_GPA + 7), 0);
	/* No operation bit: only the select happens. */
	dma(f, DESC_GPA, FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT, 4, BUF_GPA);
	CHECK_EQ(dma_result(), 0);
	CHECK_EQ(rd8(f), 'Q');
	/* One 64-bit write at 4 holds the whole address. */
	put_be32(at(DESC_GPA), 0x20u << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ);
	put_be32(at(DESC_GPA) + 4, 2);
	put_be32(at(DESC_GPA) + 8, 0);
	put_be32(at(DESC_GPA) + 12, (uint32_t)BUF_GPA + 0x100);
	put_be32(b, 0);
	put_be32(b + 4, (uint32_t)DESC_GPA);
	fw_cfg_bus_ops.write(f, 4, b, 8);
	CHECK_EQ(dma_result(), 0);
	CHECK(!memcmp(at(BUF_GPA + 0x100), "ab", 2));
	fw_cfg_destroy(f);
}

static void test_dma_hostile(void)
{
	struct fw_cfg *f;
	const uint32_t rd_ctl = 0x20u << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ;
	uint8_t b[4];

	ram_setup();
	f = mk(true);
	CHECK_EQ(fw_cfg_add_file(f, "etc/x", "abcdefgh", 8, NULL), 0);
	/* Target outside RAM, straddling its end, wrapping the address space: the error bit. */
	dma(f, DESC_GPA, rd_ctl, 8, 0x1000);
	CHECK_EQ(dma_result(), FW_CFG_DMA_CTL_ERROR);
	dma(f, DESC_GPA, rd_ctl, 8, RAM_GPA + RAM_LEN - 4);
	CHECK_EQ(dma_result(), FW_CFG_DMA_CTL_ERROR);
	dma(f, DESC_GPA, rd_ctl, 8, UINT64_MAX - 3);
	CHECK_EQ(dma_result(), FW_CFG_DMA_CTL_ERROR);
	/* A huge length: the item fits, the zero fill runs off the end of RAM and stops there. */
	ram[RAM_LEN - 1] = 0x55;
	dma(f, DESC_GPA, rd_ctl, UINT32_MAX, BUF_GPA);
	CHECK_EQ(dma_result(), FW_CFG_DMA_CTL_ERROR);
	CHECK_EQ(ram[RAM_LEN - 1], 0);			/* zeroed up to the end, nothing beyond */
	/* A huge length on an absent item, from outside RAM. */
	dma(f, DESC_GPA, 0x7777u << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, UINT32_MAX, 0);
	CHECK_EQ(dma_result(), FW_CFG_DMA_CTL_ERROR);
	/* Writes are refused, before and after the item's end; READ wins over WRITE. */
	memcpy(at(BUF_GPA), "ZZZZ", 4);
	dma(f, DESC_GPA, 0x20u << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 4, BUF_GPA);
	CHECK_EQ(dma_result(), FW_CFG_DMA_CTL_ERROR);
	dma(f, DESC_GPA, rd_ctl | FW_CFG_DMA_CTL_WRITE, 4, BUF_GPA);
	CHECK_EQ(dma_result(), 0);
	CHECK(!memcmp(at(BUF_GPA), "abcd", 4));	/* the item itself was not written */
	/* Descriptors outside RAM or half in it: nothing to act on, nothing written. */
	dma(f, 0x1000, rd_ctl, 8, BUF_GPA);
	dma(f, RAM_GPA + RAM_LEN - 8, rd_ctl, 8, BUF_GPA);
	dma(f, UINT64_MAX - 7, rd_ctl, 8, BUF_GPA);
	dma(f, 0xffffffffULL << 32, rd_ctl, 8, BUF_GPA);
	/* The high half is consumed by the transfer it belongs to: the next 32-bit trigger is low. */
	put_be32(b, 0x12345678);
	fw_cfg_bus_ops.write(f, 4, b, 4);
	memset(at(BUF_GPA), 0, 8);
	dma(f, DESC_GPA, rd_ctl, 8, BUF_GPA);		/* descriptor at 0x1234567800100100: not RAM */
	CHECK_EQ(*at(BUF_GPA), 0);
	dma(f, DESC_GPA, rd_ctl, 8, BUF_GPA);		/* the high half is 0 again */
	CHECK_EQ(*at(BUF_GPA), 'a');
	CHECK_EQ(dma_result(), 0);
	/* A descriptor whose target overlaps the descriptor itself. */
	dma(f, DESC_GPA, rd_ctl, 8, DESC_GPA);
	CHECK_EQ(dma_result(), 0);
	CHECK(!memcmp(at(DESC_GPA) + 4, "efgh", 4));
	fw_cfg_destroy(f);
}

static void test_lifecycle(void)
{
	struct fw_cfg *f;
	struct device *d;
	uint8_t rec[256], st[12], b[4];
	ssize_t n;
	size_t used;

	ram_setup();
	f = mk(true);
	d = fw_cfg_device(f);
	CHECK_STR(d->name, "fw_cfg");
	CHECK_STR(d->ops->kind, "fw_cfg");
	CHECK_EQ(fw_cfg_add_file(f, "etc/x", "abcdefgh", 8, NULL), 0);
	rd(f, 0x20, b, 3);
	b[0] = 0;
	b[1] = 0;
	b[2] = 0;
	b[3] = 1;
	fw_cfg_bus_ops.write(f, 4, b, 4);		/* a pending high half */
	n = device_save(d, rec, sizeof(rec));
	CHECK(n > 0);
	CHECK_EQ(d->ops->save(d, st, 4), -ENOSPC);
	CHECK_EQ(d->ops->save(d, st, sizeof(st)), sizeof(st));
	d->ops->reset(d);
	CHECK_EQ(rd8(f), 'Q');				/* selector back to 0 */
	CHECK_EQ(device_restore(d, rec, (size_t)n, &used), 0);
	CHECK_EQ(used, (size_t)n);
	CHECK_EQ(rd8(f), 'd');				/* where the saved guest was */

	/* Hostile records ({u32 offset, u32 dma_hi, u16 selector, u16 pad}): refused, state kept. */
	d->ops->reset(d);
	rd(f, 0x20, b, 1);
	memcpy(rec, st, sizeof(st));
	rec[0] = 9;					/* offset 9 > the item's 8 bytes */
	CHECK_EQ(d->ops->restore(d, rec, sizeof(st)), -EINVAL);
	memcpy(rec, st, sizeof(st));
	rec[10] = 1;					/* pad */
	CHECK_EQ(d->ops->restore(d, rec, sizeof(st)), -EINVAL);
	memcpy(rec, st, sizeof(st));
	rec[8] = 0x30;					/* absent item: offset must be 0 */
	CHECK_EQ(d->ops->restore(d, rec, sizeof(st)), -EINVAL);
	CHECK_EQ(d->ops->restore(d, st, sizeof(st) - 1), -EINVAL);
	CHECK_EQ(rd8(f), 'b');				/* unchanged */
	memcpy(rec, st, sizeof(st));
	rec[0] = 8;					/* at the very end is fine */
	CHECK_EQ(d->ops->restore(d, rec, sizeof(st)), 0);
	CHECK_EQ(rd8(f), 0);
	fw_cfg_destroy(f);

	f = mk(false);					/* no DMA: a saved high half cannot be restored */
	d = fw_cfg_device(f);
	memcpy(rec, st, sizeof(st));
	rec[0] = rec[8] = rec[9] = 0;			/* signature, offset 0, high half 1 */
	CHECK_EQ(d->ops->restore(d, rec, sizeof(st)), -EINVAL);
	memset(rec + 4, 0, 4);
	CHECK_EQ(d->ops->restore(d, rec, sizeof(st)), 0);
	d->ops->destroy(d);
}

/* Two vCPU threads reading different files by DMA with SELECT: each transfer is atomic. */
struct reader {
	struct fw_cfg *f;
	uint16_t key;
	uint64_t desc_gpa, buf_gpa;
	const char *want;
	int bad;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;

	for (int i = 0; i < 2000; i++) {
		uint8_t *desc = at(r->desc_gpa), lo[4];

		put_be32(desc, (uint32_t)r->key << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ);
		put_be32(desc + 4, 8);
		put_be32(desc + 8, 0);
		put_be32(desc + 12, (uint32_t)r->buf_gpa);
		put_be32(lo, (uint32_t)r->desc_gpa);
		fw_cfg_bus_ops.write(r->f, 8, lo, 4);
		r->bad += be32(desc) != 0 || memcmp(at(r->buf_gpa), r->want, 8) != 0;
	}
	return NULL;
}

static void test_threads(void)
{
	struct fw_cfg *f;
	pthread_t t[2];
	struct reader r[2];

	ram_setup();
	f = mk(true);
	CHECK_EQ(fw_cfg_add_file(f, "a", "AAAAAAAA", 8, NULL), 0);
	CHECK_EQ(fw_cfg_add_file(f, "b", "bbbbbbbb", 8, NULL), 0);
	r[0] = (struct reader){ f, 0x20, RAM_GPA + 0x2000, RAM_GPA + 0x2100, "AAAAAAAA", 0 };
	r[1] = (struct reader){ f, 0x21, RAM_GPA + 0x3000, RAM_GPA + 0x3100, "bbbbbbbb", 0 };
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, reader_main, &r[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ(r[0].bad + r[1].bad, 0);
	fw_cfg_destroy(f);
}

/* SeaBIOS's romfile_loader, reduced to what checks the script's layout: files are "allocated" at
 * fake addresses, pointers added, checksums fixed. Returns 0, or -1 at a command it must refuse. */
struct lfile {
	const char *name;
	uint8_t *data;
	uint32_t size;
	uint64_t addr;
};

static struct lfile *lfind(struct lfile *fs, int n, const uint8_t *name)
{
	for (int i = 0; i < n; i++)
		if (!strncmp(fs[i].name, (const char *)name, 56))
			return &fs[i];
	return NULL;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static int run_loader(const uint8_t *s, size_t len, struct lfile *fs, int n)
{
	for (size_t off = 0; off < len; off += FW_LOADER_ENTRY_LEN) {
		const uint8_t *e = s + off;
		struct lfile *a, *b;
		uint64_t v = 0;
		uint32_t o, start, l;
		uint8_t sum = 0;

		switch (le32(e)) {
		case 1:
			a = lfind(fs, n, e + 4);
			if (!a || e[59] || (le32(e + 60) & (le32(e + 60) - 1)) || (e[64] != 1 && e[64] != 2))
				return -1;
			a->addr = e[64] == 2 ? 0xf0000 + 0x100 * (uint64_t)(a - fs) : 0x7fe00000 + 0x1000 * (uint64_t)(a - fs);
			break;
		case 2:
			a = lfind(fs, n, e + 4);
			b = lfind(fs, n, e + 60);
			o = le32(e + 116);
			if (!a || !b || !a->addr || !b->addr || e[120] > 8 || o + e[120] > a->size)
				return -1;
			memcpy(&v, a->data + o, e[120]);
			v += b->addr;
			memcpy(a->data + o, &v, e[120]);
			break;
		case 3:
			a = lfind(fs, n, e + 4);
			o = le32(e + 60);
			start = le32(e + 64);
			l = le32(e + 68);
			if (!a || !a->addr || o >= a->size || start + l > a->size)
				return -1;
			for (uint32_t i = start; i < start + l; i++)
				sum = (uint8_t)(sum + a->data[i]);
			a->data[o] = (uint8_t)(a->data[o] - sum);
			break;
		default:
			return -1;
		}
	}
	return 0;
}

static void test_table_loader(void)
{
	struct fw_loader l = { 0 };
	uint8_t rsdp[20] = "RSD PTR ", tables[64] = { 0 }, sum = 0;
	struct lfile fs[2] = { { "etc/acpi/rsdp", rsdp, sizeof(rsdp), 0 },
			       { "etc/acpi/tables", tables, sizeof(tables), 0 } };
	struct fw_cfg *f;
	uint8_t dir[4 + 64];
	char longname[60];
	uint32_t ptr;

	rsdp[16] = 0x24;				/* RSDT at offset 0x24 of the tables blob */
	rsdp[8] = 0x77;					/* stale checksum: ADD_CHECKSUM fixes any value */
	CHECK_EQ(fw_loader_add_pointer(&l, "etc/acpi/rsdp", "etc/acpi/tables", 16, 4), -ENOENT);
	CHECK_EQ(fw_loader_allocate(&l, "etc/acpi/rsdp", 16, FW_LOADER_ZONE_FSEG), 0);
	CHECK_EQ(fw_loader_allocate(&l, "etc/acpi/tables", 64, FW_LOADER_ZONE_HIGH), 0);
	CHECK_EQ(fw_loader_allocate(&l, "etc/acpi/tables", 64, FW_LOADER_ZONE_HIGH), -EEXIST);
	CHECK_EQ(fw_loader_allocate(&l, "etc/x", 3, FW_LOADER_ZONE_HIGH), -EINVAL);
	CHECK_EQ(fw_loader_allocate(&l, "etc/x", 0, FW_LOADER_ZONE_HIGH), -EINVAL);
	CHECK_EQ(fw_loader_allocate(&l, "etc/x", 4, 3), -EINVAL);
	memset(longname, 'a', 56);
	longname[56] = 0;
	CHECK_EQ(fw_loader_allocate(&l, longname, 4, FW_LOADER_ZONE_HIGH), -EINVAL);
	CHECK_EQ(fw_loader_add_pointer(&l, "etc/acpi/rsdp", "etc/acpi/tables", 16, 3), -EINVAL);
	CHECK_EQ(fw_loader_add_pointer(&l, "etc/acpi/rsdp", "etc/acpi/tables", UINT32_MAX - 1, 4),
		 -EINVAL);
	CHECK_EQ(fw_loader_add_pointer(&l, "etc/acpi/rsdp", "etc/nope", 16, 4), -ENOENT);
	CHECK_EQ(fw_loader_add_pointer(&l, "etc/acpi/rsdp", "etc/acpi/tables", 16, 4), 0);
	CHECK_EQ(fw_loader_add_checksum(&l, "etc/acpi/rsdp", 8, 0, 20), 0);
	CHECK_EQ(fw_loader_add_checksum(&l, "etc/nope", 8, 0, 20), -ENOENT);
	CHECK_EQ(fw_loader_add_checksum(&l, "etc/acpi/rsdp", 8, 4, UINT32_MAX), -EINVAL);
	CHECK_EQ(l.len, 4 * FW_LOADER_ENTRY_LEN);

	CHECK_EQ(run_loader(l.buf, l.len, fs, 2), 0);
	memcpy(&ptr, rsdp + 16, 4);
	CHECK_EQ(ptr, fs[1].addr + 0x24);
	for (int i = 0; i < 20; i++)
		sum = (uint8_t)(sum + rsdp[i]);
	CHECK_EQ(sum, 0);
	CHECK(fs[0].addr >= 0xe0000 && fs[0].addr < 0x100000);	/* FSEG */

	/* The script goes into fw_cfg as a file like any other. */
	ram_setup();
	f = mk(true);
	CHECK_EQ(fw_cfg_add_file(f, "etc/table-loader", l.buf, l.len, NULL), 0);
	rd(f, FW_CFG_FILE_DIR, dir, sizeof(dir));
	CHECK_EQ(be32(dir + 4), 4 * FW_LOADER_ENTRY_LEN);
	dma(f, DESC_GPA, 0x20u << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, (uint32_t)l.len, BUF_GPA);
	CHECK_EQ(dma_result(), 0);
	CHECK(!memcmp(at(BUF_GPA), l.buf, l.len));
	fw_cfg_destroy(f);
	fw_loader_free(&l);
	CHECK(l.buf == NULL && l.len == 0);
}

int main(void)
{
	RUN(test_signature_and_id);
	RUN(test_directory_and_files);
	RUN(test_legacy_items);
	RUN(test_hostile_ports);
	RUN(test_dma_reads);
	RUN(test_dma_hostile);
	RUN(test_lifecycle);
	RUN(test_threads);
	RUN(test_table_loader);
	free(ram);
	return test_summary();
}
