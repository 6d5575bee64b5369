/* Host-side decompression (src/boot/decompress.c) and the bzImage host path (bzimage_host.c, kaslr.c)
 * on synthetic kernels: every format round-trips and loads byte for byte, relocations land, KASLR
 * placement obeys its window, and corrupt, truncated, unknown, oversized or bomb payloads each give
 * their error (or the documented fallback to the guest's decompressor). No /dev/kvm. */
#include "arch/x86/boot.h"
#include "arch/x86/kaslr.h"
#include "arch/x86/layout.h"
#include "boot/decompress.h"
#include "kimg_mock.h"
#include "log.h"
#include "test.h"

#include <asm/bootparam.h>
#include <errno.h>
#include <stdlib.h>

#define MIB		(1ULL << 20)
#define RAM_LEN		(64 * MIB)

static const enum decomp_format all_formats[] = {
	DECOMP_GZIP, DECOMP_BZIP2, DECOMP_LZMA, DECOMP_XZ, DECOMP_LZO, DECOMP_LZ4, DECOMP_ZSTD,
};
#define NR_FORMATS (sizeof(all_formats) / sizeof(all_formats[0]))

static struct guest_mem gm;
static uint8_t *ram;
static struct e820_table e820;
static uint8_t initrd[50000];

static void setup_ram(uint64_t len)
{
	memset(&gm, 0, sizeof(gm));
	free(ram);
	ram = calloc(1, len);
	gm_add_region(&gm, 0, len, ram);
	gm.ram_bytes = len;
	memset(&e820, 0, sizeof(e820));
	e820_add(&e820, 0, LAYOUT_EBDA_GPA, E820_RAM);
	e820_add(&e820, LAYOUT_EBDA_GPA, LAYOUT_LOWMEM_END - LAYOUT_EBDA_GPA, E820_RESERVED);
	e820_add(&e820, LAYOUT_BIOS_GPA, LAYOUT_BIOS_END - LAYOUT_BIOS_GPA, E820_RESERVED);
	e820_add(&e820, LAYOUT_KERNEL_GPA, len - LAYOUT_KERNEL_GPA, E820_RAM);
}

static struct boot_args host_args(const uint8_t *img, size_t len, const char *cmdline, uint64_t seed)
{
	return (struct boot_args){ .kernel = img, .kernel_len = len, .initrd = initrd,
				   .initrd_len = sizeof(initrd), .cmdline = cmdline, .e820 = &e820,
				   .rsdp_gpa = 0xe0000, .host_decompress = true, .kaslr_seed = seed };
}

static const struct boot_params *zp(void)
{
	return gm_ptr(&gm, LAYOUT_ZERO_PAGE_GPA, sizeof(struct boot_params));
}

/* Test data: compressible text, a long run, and an incompressible stretch. */
static uint8_t *sample(size_t len)
{
	uint8_t *d = malloc(len);
	uint32_t x = 12345;
	size_t i;

	for (i = 0; i < len; i++) {
		x = x * 1103515245 + 12345;
		d[i] = i < len / 3 ? (uint8_t)"kernel payload "[i % 15] : i < len / 2 ? 0 : (uint8_t)(x >> 16);
	}
	return d;
}

static void test_probe_names(void)
{
	static const uint8_t junk[] = { 1, 2, 3, 4, 5, 6 };
	size_t i;

	for (i = 0; i < NR_FORMATS; i++)
		CHECK(decomp_supported(all_formats[i]));	/* scripts/deps.sh installs every library */
	CHECK_EQ(decomp_probe(junk, sizeof(junk)), DECOMP_UNKNOWN);
	CHECK_EQ(decomp_probe(NULL, 0), DECOMP_UNKNOWN);
	CHECK_EQ(decomp_probe("\x1f\x8b", 1), DECOMP_UNKNOWN);	/* too short for the magic */
	CHECK_STR(decomp_name(DECOMP_ZSTD), "zstd");
	CHECK_STR(decomp_name((enum decomp_format)99), "unknown");
	CHECK(strstr(decomp_library(DECOMP_LZ4), "liblz4-dev") != NULL);
	CHECK(!decomp_supported(DECOMP_UNKNOWN));
}

/* Every format: probe, inflate exactly, cap one byte short = -EFBIG, truncations = -EBADMSG. */
static void test_round_trip(void)
{
	size_t len = 600000, zlen, i, cut;
	uint8_t *in = sample(len), *z;
	struct decomp_buf b;

	for (i = 0; i < NR_FORMATS; i++) {
		enum decomp_format f = all_formats[i];

		CHECK_EQ(kimg_compress(f, in, len, &z, &zlen), 0);
		CHECK_EQ(decomp_probe(z, zlen), f);
		CHECK_EQ(decomp_inflate(f, z, zlen, len, &b), 0);
		CHECK_EQ(b.len, len);
		CHECK(b.data && !memcmp(b.data, in, len));
		decomp_buf_free(&b);
		CHECK_EQ(decomp_inflate(f, z, zlen, len - 1, &b), -EFBIG);
		CHECK(b.data == NULL);
		/* Cut inside the stream (the last 4 bytes are only the size trailer for most). */
		for (cut = 1; cut < zlen - 8; cut = cut * 3 + 7) {
			int r = decomp_inflate(f, z, cut, len, &b);

			if (r == 0) {		/* lz4/lzo without an end marker: short output */
				CHECK(b.len < len);
				decomp_buf_free(&b);
			} else {
				CHECK_EQ(r, -EBADMSG);
			}
		}
		CHECK_EQ(decomp_inflate(f, z, 3, len, &b), -EBADMSG);
		free(z);
	}
	CHECK_EQ(decomp_inflate(DECOMP_UNKNOWN, in, len, len, &b), -ENOEXEC);
	free(in);
}

/* An lzop header whose file name runs past the end of the input. */
static void test_lzo_header(void)
{
	uint8_t h[40] = { 0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a, 0x10, 0x30, 0x20, 0xa0, 0x09, 0x40,
			  1, 5, 0, 0, 0, 1 };
	uint8_t *copy;
	struct decomp_buf b;

	h[33] = 200;		/* name length: 200 bytes, 6 left */
	copy = malloc(sizeof(h));	/* exact size, so ASan sees any read past it */
	memcpy(copy, h, sizeof(h));
	CHECK_EQ(decomp_inflate(DECOMP_LZO, copy, sizeof(h), 1 << 20, &b), -EBADMSG);
	free(copy);
}

/* Formats with checksums notice a flipped byte in the middle. */
static void test_corrupt(void)
{
	static const enum decomp_format checked[] = { DECOMP_GZIP, DECOMP_BZIP2, DECOMP_XZ, DECOMP_LZO, DECOMP_ZSTD };
	size_t len = 200000, zlen, i;
	uint8_t *in = sample(len), *z;
	struct decomp_buf b;

	for (i = 0; i < sizeof(checked) / sizeof(checked[0]); i++) {
		CHECK_EQ(kimg_compress(checked[i], in, len, &z, &zlen), 0);
		z[zlen / 2] ^= 0x40;
		CHECK_EQ(decomp_inflate(checked[i], z, zlen, len, &b), -EBADMSG);
		free(z);
	}
	free(in);
}

/* A decompression bomb: 256 MiB of zeros must stop at the cap, quickly and without the memory. */
static void test_bomb(void)
{
	size_t len = 256 * MIB, zlen, i;
	uint8_t *in = calloc(1, len), *z;
	struct decomp_buf b;

	for (i = 0; i < NR_FORMATS; i++) {
		if (all_formats[i] == DECOMP_BZIP2 || all_formats[i] == DECOMP_LZMA)
			continue;	/* slow to build 256 MiB here; covered by the cap test above */
		CHECK_EQ(kimg_compress(all_formats[i], in, len, &z, &zlen), 0);
		CHECK(zlen < len / 50);
		CHECK_EQ(decomp_inflate(all_formats[i], z, zlen, 4 * MIB, &b), -EFBIG);
		free(z);
	}
	free(in);
}

/* Load a synthetic kernel through bzimage_load() with host decompression and check memory. */
static void check_loaded(const struct boot_info *bi, uint64_t virt_offset, bool relocs)
{
	struct kimg k;
	const uint8_t *seg = ram + bi->kernel_gpa, *src;
	uint64_t v64;
	uint32_t v32;
	uint8_t *want;

	CHECK_EQ(kimg_make(&k, 0x3000, relocs), 0);
	src = k.data + 0x1000;		/* the mock's segments are laid out contiguously from 0x1000 */
	want = malloc(k.extent);
	memcpy(want, src, KIMG_DATA_OFF + KIMG_DATA_LEN);
	memset(want + KIMG_DATA_OFF + KIMG_DATA_LEN, 0, k.extent - KIMG_DATA_OFF - KIMG_DATA_LEN);
	if (virt_offset) {
		memcpy(&v64, want + KIMG_R64_A, 8); v64 += virt_offset; memcpy(want + KIMG_R64_A, &v64, 8);
		memcpy(&v64, want + KIMG_R64_B, 8); v64 += virt_offset; memcpy(want + KIMG_R64_B, &v64, 8);
		memcpy(&v32, want + KIMG_R32_A, 4); v32 += (uint32_t)virt_offset; memcpy(want + KIMG_R32_A, &v32, 4);
		memcpy(&v32, want + KIMG_R32_B, 4); v32 += (uint32_t)virt_offset; memcpy(want + KIMG_R32_B, &v32, 4);
		memcpy(&v32, want + KIMG_R32NEG, 4); v32 -= (uint32_t)virt_offset; memcpy(want + KIMG_R32NEG, &v32, 4);
	}
	CHECK(!memcmp(seg, want, k.extent));
	memcpy(&v64, seg + KIMG_R64_A, 8);
	CHECK_EQ(v64, KIMG_VA(0x40) + virt_offset);
	free(want);
	kimg_free(&k);
}

static void test_load_formats(void)
{
	size_t i, len;
	uint8_t *img;
	struct boot_info bi;
	struct boot_args a;
	const struct boot_params *bp;

	for (i = 0; i < NR_FORMATS; i++) {
		setup_ram(RAM_LEN);
		CHECK_EQ(kimg_build(all_formats[i], 0x3000, true, &img, &len), 0);
		a = host_args(img, len, "console=ttyS0", 0x1234 + i);
		CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);
		CHECK_STR(bi.inflated, decomp_name(all_formats[i]));
		CHECK_EQ(bi.mode, BOOT_ENTRY_LINUX64);
		CHECK_EQ(bi.kernel_gpa & (2 * MIB - 1), 0);
		CHECK(bi.kernel_gpa >= KIMG_LINK_GPA);
		CHECK_EQ(bi.entry_gpa, bi.kernel_gpa + KIMG_ENTRY_OFF);
		CHECK_EQ(bi.kernel_end_gpa, bi.kernel_gpa + 2 * MIB);
		CHECK(bi.initrd_gpa >= bi.kernel_end_gpa);
		CHECK(!memcmp(ram + bi.initrd_gpa, initrd, sizeof(initrd)));
		CHECK_EQ(bi.virt_offset & (2 * MIB - 1), 0);
		CHECK(KIMG_LINK_GPA + bi.virt_offset + 2 * MIB <= KASLR_KERNEL_IMAGE_SIZE);
		check_loaded(&bi, bi.virt_offset, true);
		bp = zp();
		CHECK_EQ(bp->hdr.version, 0x020f);	/* the bzImage's own header */
		CHECK_EQ(bp->hdr.payload_offset, KIMG_PAYLOAD_OFF);
		CHECK_EQ(bp->hdr.loadflags & KASLR_FLAG, KASLR_FLAG);
		CHECK_EQ(bp->hdr.ramdisk_image, bi.initrd_gpa);
		CHECK_STR((const char *)ram + bp->hdr.cmd_line_ptr, "console=ttyS0");
		free(img);
	}
}

static void test_nokaslr_and_norelocs(void)
{
	struct boot_info bi;
	struct boot_args a;
	uint8_t *img;
	size_t len;

	setup_ram(RAM_LEN);
	CHECK_EQ(kimg_build(DECOMP_GZIP, 0x3000, true, &img, &len), 0);
	a = host_args(img, len, "console=ttyS0 nokaslr quiet", 0x99);
	CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);
	CHECK_EQ(bi.kernel_gpa, KIMG_LINK_GPA);
	CHECK_EQ(bi.virt_offset, 0);
	CHECK_EQ(zp()->hdr.loadflags & KASLR_FLAG, 0);
	check_loaded(&bi, 0, true);
	free(img);

	/* "nokaslrx" is not the word */
	setup_ram(RAM_LEN);
	CHECK_EQ(kimg_build(DECOMP_ZSTD, 0x3000, true, &img, &len), 0);
	a = host_args(img, len, "nokaslrx", 0x42);
	CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);
	CHECK_EQ(zp()->hdr.loadflags & KASLR_FLAG, KASLR_FLAG);
	free(img);

	/* not relocatable (the header says so): where it was linked, whatever its alignment says */
	setup_ram(RAM_LEN);
	CHECK_EQ(kimg_build(DECOMP_GZIP, 0x3000, true, &img, &len), 0);
	((struct setup_header *)(img + 0x1f1))->relocatable_kernel = 0;
	((struct setup_header *)(img + 0x1f1))->kernel_alignment = 0x1000;
	a = host_args(img, len, NULL, 0x42);
	CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);
	CHECK_STR(bi.inflated, "gzip");
	CHECK_EQ(bi.kernel_gpa, KIMG_LINK_GPA);
	CHECK_EQ(bi.virt_offset, 0);
	CHECK_EQ(zp()->hdr.loadflags & KASLR_FLAG, 0);
	free(img);

	/* no relocation table: the kernel stays where it was linked */
	setup_ram(RAM_LEN);
	CHECK_EQ(kimg_build(DECOMP_XZ, 0x3000, false, &img, &len), 0);
	a = host_args(img, len, NULL, 0x42);
	CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);
	CHECK_EQ(bi.kernel_gpa, KIMG_LINK_GPA);
	CHECK_EQ(bi.virt_offset, 0);
	CHECK_EQ(zp()->hdr.loadflags & KASLR_FLAG, 0);
	check_loaded(&bi, 0, false);
	free(img);
}

/* Seeds pick different slots; fresh randomness (seed 0) varies between boots. */
static void test_kaslr_choose(void)
{
	struct kaslr_window w = { .link_gpa = 16 * MIB, .size = 12 * MIB, .align = 2 * MIB, .hi_gpa = 120 * MIB };
	uint64_t load, virt, first_load = 0, first_virt = 0;
	int i, differ = 0, ok = 1;

	for (i = 0; i < 64; i++) {
		CHECK_EQ(kaslr_choose(&w, true, i < 32 ? (uint64_t)i + 1 : 0, &load, &virt), 0);
		ok &= load >= w.link_gpa && load + w.size <= w.hi_gpa && !(load & (w.align - 1));
		ok &= !(virt & (w.align - 1)) && w.link_gpa + virt + w.size <= KASLR_KERNEL_IMAGE_SIZE;
		if (i == 0 || i == 32) {
			first_load = load;
			first_virt = virt;
		} else if (load != first_load || virt != first_virt) {
			differ++;
		}
	}
	CHECK(ok);
	CHECK(differ > 50);
	CHECK_EQ(kaslr_choose(&w, false, 5, &load, &virt), 0);
	CHECK_EQ(load, 16 * MIB);
	CHECK_EQ(virt, 0);
	w.hi_gpa = 29 * MIB;		/* 12 MiB from 16 MiB: one slot only */
	CHECK_EQ(kaslr_choose(&w, true, 7, &load, &virt), 0);
	CHECK_EQ(load, 16 * MIB);
	w.hi_gpa = 27 * MIB;
	CHECK_EQ(kaslr_choose(&w, true, 7, &load, &virt), -EFBIG);
	w.hi_gpa = 120 * MIB;
	w.align = 3 * MIB;
	CHECK_EQ(kaslr_choose(&w, true, 7, &load, &virt), -EINVAL);
	CHECK(kaslr_cmdline_off("a nokaslr"));
	CHECK(kaslr_cmdline_off("nokaslr"));
	CHECK(!kaslr_cmdline_off("kaslr"));
	CHECK(!kaslr_cmdline_off(NULL));
}

/* The table parser: entries outside the image and missing terminators are rejected. */
static void test_relocs_table(void)
{
	struct kimg k;
	struct kaslr_relocs r;
	uint8_t *img;
	uint32_t bad;

	CHECK_EQ(kimg_make(&k, 0x3000, true), 0);
	CHECK_EQ(kaslr_relocs_find(k.data, k.len, k.elf_len, KIMG_LINK_GPA, k.extent, &r), 0);
	CHECK_EQ(r.nr64, 2);
	CHECK_EQ(r.nr32neg, 1);
	CHECK_EQ(r.nr32, 2);
	CHECK_EQ(r.table_off, k.elf_len);
	CHECK_EQ(kaslr_relocs_find(k.data, k.elf_len, k.elf_len, KIMG_LINK_GPA, k.extent, &r), -ENOENT);
	/* the image itself as the kernel, relocated and back again */
	img = malloc(k.extent);
	memcpy(img, k.data + 0x1000, k.extent - 0x3000);
	kaslr_relocate(img, k.extent, KIMG_LINK_GPA, &r, 0x40000000ULL - 0x200000);
	kaslr_relocate(img, k.extent, KIMG_LINK_GPA, &r, (uint64_t)-(0x40000000LL - 0x200000));
	CHECK(!memcmp(img, k.data + 0x1000, k.extent - 0x3000));
	free(img);
	/* a 64-bit entry 4 bytes before the end of the image: does not fit */
	bad = (uint32_t)KIMG_VA(k.extent - 4);
	memcpy(k.data + k.elf_len + 4, &bad, 4);
	CHECK_EQ(kaslr_relocs_find(k.data, k.len, k.elf_len, KIMG_LINK_GPA, k.extent, &r), -EBADMSG);
	bad = (uint32_t)KIMG_VA(k.extent - 8);
	memcpy(k.data + k.elf_len + 4, &bad, 4);
	CHECK_EQ(kaslr_relocs_find(k.data, k.len, k.elf_len, KIMG_LINK_GPA, k.extent, &r), 0);
	bad = 0x7fffffff;	/* sign-extends to a low address: not in the kernel */
	memcpy(k.data + k.len - 4, &bad, 4);
	CHECK_EQ(kaslr_relocs_find(k.data, k.len, k.elf_len, KIMG_LINK_GPA, k.extent, &r), -EBADMSG);
	/* no terminators: the walk runs into the ELF */
	memset(k.data + k.elf_len, 0x11, k.len - k.elf_len);
	CHECK_EQ(kaslr_relocs_find(k.data, k.len, k.elf_len, KIMG_LINK_GPA, k.extent, &r), -EBADMSG);
	kimg_free(&k);
}

/* Through the loader: what a user sees for each bad input. */
static void test_load_errors(void)
{
	struct boot_info bi;
	struct boot_args a;
	struct setup_header *h;
	struct kimg k;
	uint8_t *img, *z;
	size_t len, zlen, end;

	/* truncated file: the payload runs past it */
	setup_ram(RAM_LEN);
	CHECK_EQ(kimg_build(DECOMP_ZSTD, 0x3000, true, &img, &len), 0);
	h = (struct setup_header *)(img + 0x1f1);
	a = host_args(img, len, NULL, 1);
	h->payload_length += 16;
	h->syssize = 0;
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -EILSEQ);
	h->payload_length -= 16;
	/* a flipped byte inside the compressed stream */
	img[KIMG_SETUP_LEN + KIMG_PAYLOAD_OFF + h->payload_length / 2] ^= 0x10;
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -EILSEQ);
	img[KIMG_SETUP_LEN + KIMG_PAYLOAD_OFF + h->payload_length / 2] ^= 0x10;
	/* the size trailer disagrees with the stream */
	end = KIMG_SETUP_LEN + KIMG_PAYLOAD_OFF + h->payload_length;
	img[end - 4] ^= 1;
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -EILSEQ);
	img[end - 4] ^= 1;
	CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);
	/* the size trailer claims more than guest RAM */
	img[end - 1] = 0x7f;
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -EFBIG);
	free(img);

	/* the ELF's bss does not fit in guest RAM (the inflated payload itself is small) */
	setup_ram(RAM_LEN);
	CHECK_EQ(kimg_build(DECOMP_LZ4, 200 * MIB, true, &img, &len), 0);
	a = host_args(img, len, NULL, 1);
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -EFBIG);
	free(img);

	/* kernel fits, but not together with the initrd */
	setup_ram(RAM_LEN);
	CHECK_EQ(kimg_build(DECOMP_LZ4, 40 * MIB, true, &img, &len), 0);
	a = host_args(img, len, NULL, 1);
	{
		uint8_t *big = calloc(1, 10 * MIB);

		a.initrd = big;
		a.initrd_len = 10 * MIB;
		CHECK_EQ(bzimage_load(&gm, &a, &bi), -ENOSPC);
		a.initrd_len = 6 * MIB;		/* 16 + 42 + 6 <= 64: one slot left */
		CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);
		CHECK_EQ(bi.kernel_gpa, KIMG_LINK_GPA);
		CHECK(bi.initrd_gpa >= bi.kernel_end_gpa);
		free(big);
	}
	free(img);

	/* a broken relocation table */
	CHECK_EQ(kimg_make(&k, 0x3000, true), 0);
	memset(k.data + k.elf_len, 0x22, k.len - k.elf_len);
	CHECK_EQ(kimg_compress(DECOMP_GZIP, k.data, k.len, &z, &zlen), 0);
	CHECK_EQ(kimg_bzimage(z, zlen, &img, &len), 0);
	setup_ram(RAM_LEN);
	a = host_args(img, len, NULL, 1);
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -EBADMSG);
	free(img);
	free(z);

	/* a segment not 2 MiB aligned (misc.c parse_elf() refuses it too) */
	((Elf64_Phdr *)(k.data + sizeof(Elf64_Ehdr)))[1].p_align = 0x1000;
	CHECK_EQ(kimg_compress(DECOMP_GZIP, k.data, k.len, &z, &zlen), 0);
	CHECK_EQ(kimg_bzimage(z, zlen, &img, &len), 0);
	a = host_args(img, len, NULL, 1);
	CHECK_EQ(bzimage_load(&gm, &a, &bi), -EBADMSG);
	free(img);
	free(z);
	kimg_free(&k);
}

/* What the host cannot handle goes to the guest's decompressor: the old bzImage load. */
static void test_fallbacks(void)
{
	struct boot_info bi;
	struct boot_args a;
	struct setup_header *h;
	uint8_t *img, *z;
	size_t len, zlen;
	uint8_t junk[4096];

	/* unknown compression magic */
	memset(junk, 0x5a, sizeof(junk));
	CHECK_EQ(kimg_bzimage(junk, sizeof(junk), &img, &len), 0);
	setup_ram(RAM_LEN);
	a = host_args(img, len, NULL, 1);
	CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);
	CHECK(bi.inflated == NULL);
	CHECK_EQ(bi.entry_gpa, LAYOUT_KERNEL_GPA + 0x200);
	CHECK_EQ(ram[LAYOUT_KERNEL_GPA], 0x90);
	/* no payload fields */
	h = (struct setup_header *)(img + 0x1f1);
	h->payload_length = 0;
	CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);
	CHECK(bi.inflated == NULL);
	free(img);

	/* a payload that inflates to something that is not an ELF kernel */
	CHECK_EQ(kimg_compress(DECOMP_XZ, junk, sizeof(junk), &z, &zlen), 0);
	CHECK_EQ(kimg_bzimage(z, zlen, &img, &len), 0);
	a = host_args(img, len, NULL, 1);
	CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);
	CHECK(bi.inflated == NULL);
	/* guest decompression asked for: no host path at all */
	a.host_decompress = false;
	CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);
	CHECK(bi.inflated == NULL);
	free(img);
	free(z);
}

int main(void)
{
	log_threshold = getenv("V") ? LOG_DEBUG : LOG_ERR;
	RUN(test_probe_names);
	RUN(test_round_trip);
	RUN(test_lzo_header);
	RUN(test_corrupt);
	RUN(test_bomb);
	RUN(test_load_formats);
	RUN(test_nokaslr_and_norelocs);
	RUN(test_kaslr_choose);
	RUN(test_relocs_table);
	RUN(test_load_errors);
	RUN(test_fallbacks);
	free(ram);
	return test_summary();
}
