/* bzImage loader and zero-page builder against synthetic images: header fields copied and set,
 * command line, e820, initrd placement rules, and every rejection path (no real kernel needed). */
#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "test.h"

#include <asm/bootparam.h>
#include <errno.h>
#include <stdlib.h>

#define MIB		(1ULL << 20)
#define RAM_LEN		(64 * MIB)
#define SETUP_SECTS	4
#define PAYLOAD_LEN	0x3000

static struct guest_mem gm;
static uint8_t *ram;
static struct e820_table e820;

static void setup_ram(uint64_t len)
{
	memset(&gm, 0, sizeof(gm));
	free(ram);
	ram = calloc(1, len);
	gm_add_region(&gm, 0, len, ram);
	memset(&e820, 0, sizeof(e820));
	e820_add(&e820, 0, LAYOUT_EBDA_GPA, E820_RAM);
	e820_add(&e820, LAYOUT_EBDA_GPA, LAYOUT_LOWMEM_END - LAYOUT_EBDA_GPA, E820_RESERVED);
	e820_add(&e820, LAYOUT_BIOS_GPA, LAYOUT_BIOS_END - LAYOUT_BIOS_GPA, E820_RESERVED);
	e820_add(&e820, LAYOUT_KERNEL_GPA, len - LAYOUT_KERNEL_GPA, E820_RAM);
}

/* A plausible 2.15 bzImage: 4 setup sectors, PAYLOAD_LEN bytes of protected-mode code (a pattern). */
static size_t make_bzimage(uint8_t *img, struct setup_header *h)
{
	size_t setup_len = (SETUP_SECTS + 1) * 512, i;

	memset(img, 0, setup_len + PAYLOAD_LEN);
	memset(h, 0, sizeof(*h));
	h->setup_sects = SETUP_SECTS;
	h->syssize = PAYLOAD_LEN / 16;
	h->boot_flag = 0xaa55;
	h->jump = (uint16_t)(0xeb | (0x1f1 + sizeof(*h) - 0x202) << 8);
	h->header = 0x53726448;
	h->version = 0x020f;
	h->loadflags = LOADED_HIGH;
	h->initrd_addr_max = 0x7fffffff;
	h->kernel_alignment = 0x200000;
	h->relocatable_kernel = 1;
	h->xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
	h->cmdline_size = 2047;
	h->pref_address = 0x1000000;
	h->init_size = 0x400000;
	for (i = 0; i < PAYLOAD_LEN; i++)
		img[setup_len + i] = (uint8_t)(i * 7 + 3);
	return setup_len + PAYLOAD_LEN;
}

static void put_hdr(uint8_t *img, const struct setup_header *h)
{
	memcpy(img + 0x1f1, h, sizeof(*h));
}

static uint8_t img[(SETUP_SECTS + 1) * 512 + PAYLOAD_LEN];
static uint8_t initrd[10000];

static struct boot_args args(size_t len, const char *cmdline)
{
	return (struct boot_args){ .kernel = img, .kernel_len = len, .initrd = initrd,
				   .initrd_len = sizeof(initrd), .cmdline = cmdline, .e820 = &e820,
				   .rsdp_gpa = 0xe0000 };
}

static const struct boot_params *zp(void)
{
	return gm_ptr(&gm, LAYOUT_ZERO_PAGE_GPA, sizeof(struct boot_params));
}

static void test_good_image(void)
{
	struct setup_header h;
	struct boot_info bi;
	size_t len = make_bzimage(img, &h), i;
	const struct boot_params *bp;
	struct boot_args a;
	int ok = 1;

	setup_ram(RAM_LEN);
	put_hdr(img, &h);
	for (i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i ^ 0x5a);
	a = args(len, "console=ttyS0 root=/dev/vda");
	CHECK_EQ(boot_probe(img, len), BOOT_FMT_BZIMAGE);
	CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);
	CHECK_EQ(bi.format, BOOT_FMT_BZIMAGE);
	CHECK_EQ(bi.mode, BOOT_ENTRY_LINUX64);
	CHECK_EQ(bi.entry_gpa, 0x100200);
	CHECK_EQ(bi.zero_page_gpa, LAYOUT_ZERO_PAGE_GPA);
	CHECK_EQ(bi.kernel_gpa, 0x100000);
	CHECK_EQ(bi.kernel_end_gpa, 0x1000000 + 0x400000);	/* pref_address + init_size */
	CHECK(!memcmp(ram + 0x100000, img + (SETUP_SECTS + 1) * 512, PAYLOAD_LEN));

	bp = zp();
	CHECK_EQ(bp->hdr.header, 0x53726448);
	CHECK_EQ(bp->hdr.version, 0x020f);
	CHECK_EQ(bp->hdr.setup_sects, SETUP_SECTS);
	CHECK_EQ(bp->hdr.type_of_loader, 0xff);
	CHECK_EQ(bp->hdr.loadflags & (LOADED_HIGH | CAN_USE_HEAP), LOADED_HIGH | CAN_USE_HEAP);
	CHECK(bp->hdr.heap_end_ptr != 0);
	CHECK_EQ(bp->hdr.cmd_line_ptr, LAYOUT_CMDLINE_GPA);
	CHECK_EQ(bp->ext_cmd_line_ptr, 0);
	CHECK_STR((const char *)ram + LAYOUT_CMDLINE_GPA, "console=ttyS0 root=/dev/vda");
	CHECK_EQ(bp->acpi_rsdp_addr, 0xe0000);
	CHECK_EQ(bp->sentinel, 0);

	CHECK_EQ(bp->e820_entries, e820.nr);
	for (i = 0; i < (size_t)e820.nr; i++)
		ok &= bp->e820_table[i].addr == e820.e[i].addr && bp->e820_table[i].size == e820.e[i].size &&
		      bp->e820_table[i].type == e820.e[i].type;
	CHECK(ok);

	/* initrd: page aligned, as high as possible in RAM, above the kernel's init_size footprint */
	CHECK_EQ(bi.initrd_len, sizeof(initrd));
	CHECK_EQ(bi.initrd_gpa & 0xfff, 0);
	CHECK_EQ(bi.initrd_gpa, (RAM_LEN - sizeof(initrd)) & ~0xfffULL);
	CHECK(bi.initrd_gpa >= bi.kernel_end_gpa);
	CHECK(bi.initrd_gpa + bi.initrd_len <= RAM_LEN);
	CHECK_EQ(bp->hdr.ramdisk_image, bi.initrd_gpa);
	CHECK_EQ(bp->hdr.ramdisk_size, sizeof(initrd));
	CHECK_EQ(bp->ext_ramdisk_image, 0);
	CHECK_EQ(bp->ext_ramdisk_size, 0);
	CHECK(!memcmp(ram + bi.initrd_gpa, initrd, sizeof(initrd)));
}

static void test_initrd_limits(void)
{
	struct setup_header h;
	struct boot_info bi;
	size_t len = make_bzimage(img, &h);
	struct boot_args a;

	/* initrd_addr_max is the last byte the initrd may use */
	setup_ram(RAM_LEN);
	h.initrd_addr_max = 32 * MIB - 1;
	put_hdr(img, &h);
	a = args(len, NULL);
	CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);
	CHECK_EQ(bi.initrd_gpa, (32 * MIB - sizeof(initrd)) & ~0xfffULL);
	CHECK_EQ(zp()->hdr.ramdisk_image, bi.initrd_gpa);
	CHECK_STR((const char *)ram + LAYOUT_CMDLINE_GPA, "");
	CHECK_EQ(zp()->hdr.cmd_line_ptr, LAYOUT_CMDLINE_GPA);

	/* a reserved range above the kernel: the initrd stays below it */
	make_bzimage(img, &h);
	put_hdr(img, &h);
	setup_ram(RAM_LEN);
	memset(&e820, 0, sizeof(e820));
	e820_add(&e820, 0, LAYOUT_EBDA_GPA, E820_RAM);
	e820_add(&e820, LAYOUT_KERNEL_GPA, 47 * MIB, E820_RAM);
	e820_add(&e820, 48 * MIB, MIB, E820_RESERVED);
	e820_add(&e820, 49 * MIB, 15 * MIB, E820_RAM);
	a = args(len, NULL);
	CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);
	CHECK_EQ(bi.initrd_gpa, (48 * MIB - sizeof(initrd)) & ~0xfffULL);

	/* no initrd: fields stay zero */
	setup_ram(RAM_LEN);
	a = args(len, NULL);
	a.initrd = NULL;
	a.initrd_len = 0;
	CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);
	CHECK_EQ(bi.initrd_gpa, 0);
	CHECK_EQ(zp()->hdr.ramdisk_image, 0);
	CHECK_EQ(zp()->hdr.ramdisk_size, 0);
}

static void test_initrd_too_big(void)
{
	struct setup_header h;
	struct boot_info bi;
	size_t len = make_bzimage(img, &h);
	struct boot_args a;
	uint8_t *big = calloc(1, 61 * MIB);

	setup_ram(RAM_LEN);
	put_hdr(img, &h);
	a = args(len, NULL);
	a.initrd = big;
	a.initrd_len = 61 * MIB;	/* would have to start below kernel_end (20 MiB) */
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -ENOSPC);
	a.initrd_len = SIZE_MAX;	/* hostile length: no wrap-around */
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -ENOSPC);
	free(big);
}

static void test_rejects(void)
{
	struct setup_header h;
	struct boot_info bi;
	size_t len = make_bzimage(img, &h);
	struct boot_args a = args(len, NULL);
	char cmd[4096];

	setup_ram(RAM_LEN);
	h.version = 0x020b;
	put_hdr(img, &h);
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -EPROTONOSUPPORT);

	make_bzimage(img, &h);
	h.xloadflags = 0;
	put_hdr(img, &h);
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -EOPNOTSUPP);

	make_bzimage(img, &h);
	h.header = 0x53726449;
	put_hdr(img, &h);
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -ENOEXEC);
	CHECK_EQ(boot_probe(img, len), BOOT_FMT_UNKNOWN);

	/* truncated: header cut off, setup cut off, payload shorter than syssize */
	make_bzimage(img, &h);
	put_hdr(img, &h);
	a.kernel_len = 0x100;
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -ENOEXEC);
	a.kernel_len = 0x210;
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -EBADMSG);
	a.kernel_len = 0x600;
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -EBADMSG);
	a.kernel_len = len - 1;
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -EBADMSG);
	a.kernel_len = len;
	CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);

	/* setup_sects pointing past the end of the file */
	h.setup_sects = 255;
	put_hdr(img, &h);
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -EBADMSG);
	h.setup_sects = SETUP_SECTS;
	h.syssize = 0xffffffff;
	put_hdr(img, &h);
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -EBADMSG);

	/* command line: exactly cmdline_size is fine, one more is not */
	make_bzimage(img, &h);
	h.cmdline_size = 100;
	put_hdr(img, &h);
	memset(cmd, 'x', 100);
	cmd[100] = 0;
	a.cmdline = cmd;
	CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);
	CHECK_EQ(strlen((const char *)ram + LAYOUT_CMDLINE_GPA), 100);
	cmd[100] = 'y';
	cmd[101] = 0;
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -E2BIG);
	CHECK_EQ(bi.cmdline_max, 100);		/* the board names the limit in its message */
	a.cmdline = NULL;

	/* no memory map from the board */
	a.e820 = NULL;
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -EINVAL);
	a.e820 = &e820;

	/* kernel (pref_address + init_size = 20 MiB) larger than a 16 MiB guest */
	setup_ram(16 * MIB);
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -EFBIG);
	setup_ram(RAM_LEN);

	/* protocol 2.13: no acpi_rsdp_addr */
	make_bzimage(img, &h);
	h.version = 0x020d;
	put_hdr(img, &h);
	CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);
	CHECK_EQ(zp()->acpi_rsdp_addr, 0);
}

static void test_setup_sects_zero(void)
{
	struct setup_header h;
	struct boot_info bi;
	size_t len = make_bzimage(img, &h);
	struct boot_args a = args(len, NULL);

	setup_ram(RAM_LEN);
	h.setup_sects = 0;	/* means 4 */
	put_hdr(img, &h);
	CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);
	CHECK(!memcmp(ram + 0x100000, img + 5 * 512, PAYLOAD_LEN));
}

/* Random corruption of a valid image must give a result, never a crash or an out-of-range write. */
static void test_mutations(void)
{
	static uint8_t pristine[sizeof(img)];
	struct setup_header h;
	struct boot_info bi;
	size_t len = make_bzimage(img, &h);
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	struct boot_args a;
	int i, j, ret, ok = 1;

	setup_ram(RAM_LEN);
	put_hdr(img, &h);
	memcpy(pristine, img, len);
	for (i = 0; i < 3000; i++) {
		memcpy(img, pristine, len);
		for (j = 0; j < 4; j++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			img[0x1f1 + x % 0x80] = (uint8_t)(x >> 32);
		}
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		a = args(x % 3 ? len : (size_t)(x >> 40) % len, "quiet");
		ret = bzimage_load(&gm, &a, &bi);
		if (ret == 0)
			ok &= bi.initrd_gpa >= bi.kernel_end_gpa && bi.initrd_gpa + bi.initrd_len <= RAM_LEN;
		else
			ok &= boot_strerror(ret) != NULL;
	}
	CHECK(ok);
}

int main(void)
{
	RUN(test_good_image);
	RUN(test_initrd_limits);
	RUN(test_initrd_too_big);
	RUN(test_rejects);
	RUN(test_setup_sects_zero);
	RUN(test_mutations);
	free(ram);
	return test_summary();
}
