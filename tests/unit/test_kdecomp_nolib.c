/* A build without one decompression library (decompress.c compiled here without HAVE_ZSTD): the format
 * is still recognised, reported as unsupported, and a bzImage carrying it loads through the guest's
 * own decompressor (the fallback), never as an error. No /dev/kvm. */
#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "boot/decompress.h"
#include "kimg_mock.h"
#include "log.h"
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#define RAM_LEN (64ULL << 20)

static void test_zstd_missing(void)
{
	struct guest_mem gm = { 0 };
	struct e820_table e820 = { 0 };
	struct decomp_buf b;
	struct boot_info bi;
	struct boot_args a;
	uint8_t *ram = calloc(1, RAM_LEN), *img;
	size_t len;

	CHECK(!decomp_supported(DECOMP_ZSTD));
	CHECK(decomp_supported(DECOMP_GZIP));
	CHECK_EQ(kimg_build(DECOMP_ZSTD, 0x1000, true, &img, &len), 0);
	CHECK_EQ(decomp_probe(img + KIMG_SETUP_LEN + KIMG_PAYLOAD_OFF, 4), DECOMP_ZSTD);
	CHECK_EQ(decomp_inflate(DECOMP_ZSTD, img + KIMG_SETUP_LEN + KIMG_PAYLOAD_OFF, 100, 1 << 20, &b), -ENOTSUP);

	gm_add_region(&gm, 0, RAM_LEN, ram);
	gm.ram_bytes = RAM_LEN;
	e820_add(&e820, 0, LAYOUT_EBDA_GPA, E820_RAM);
	e820_add(&e820, LAYOUT_KERNEL_GPA, RAM_LEN - LAYOUT_KERNEL_GPA, E820_RAM);
	a = (struct boot_args){ .kernel = img, .kernel_len = len, .e820 = &e820, .host_decompress = true };
	CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);	/* one info line: built without libzstd */
	CHECK(bi.inflated == NULL);
	CHECK_EQ(bi.entry_gpa, LAYOUT_KERNEL_GPA + 0x200);
	free(img);
	free(ram);
}

int main(void)
{
	RUN(test_zstd_missing);
	return test_summary();
}
