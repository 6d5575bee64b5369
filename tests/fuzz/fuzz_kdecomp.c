/* libFuzzer target for the bzImage decompress-and-load path (bzimage_load() with host decompression:
 * src/boot/decompress.c, src/arch/x86/bzimage_host.c, kaslr.c, elf.c) into a 32 MiB fake guest.
 * Input: one mode byte, then either a whole bzImage (mode 0) or an inflated payload, i.e. an ELF with
 * its relocation table (mode 1), which the harness lz4-compresses and wraps so the fuzzer reaches the
 * ELF and relocation parsers past the checksums. Must never crash, hang or trip a sanitizer; a load
 * that succeeds must describe memory inside guest RAM. Single-threaded. */
#include <assert.h>
#include <stdlib.h>

#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "kimg_mock.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_LEN (32u << 20)

static uint8_t *ram;
static struct guest_mem gm;
static struct e820_table e820;
static uint8_t initrd[8192];

static void fuzz_setup(void)
{
	log_threshold = LOG_ERR;
	ram = calloc(1, RAM_LEN);
	if (!ram || gm_add_region(&gm, 0, RAM_LEN, ram))
		abort();
	gm.ram_bytes = RAM_LEN;
	if (e820_add(&e820, 0, LAYOUT_EBDA_GPA, E820_RAM) ||
	    e820_add(&e820, LAYOUT_KERNEL_GPA, RAM_LEN - LAYOUT_KERNEL_GPA, E820_RAM))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	const uint8_t *img = data + 1;
	uint8_t *wrapped = NULL, *z = NULL;
	size_t len = size - 1, zlen;
	struct boot_info bi;
	struct boot_args a;
	int ret;

	if (!ready) {
		fuzz_setup();
		ready = 1;
	}
	if (size < 2)
		return 0;
	if (data[0] & 1) {
		if (kimg_compress(DECOMP_LZ4, img, len, &z, &zlen) || kimg_bzimage(z, zlen, &wrapped, &len)) {
			free(z);
			return 0;
		}
		img = wrapped;
	}
	a = (struct boot_args){ .kernel = img, .kernel_len = len, .initrd = initrd,
				.initrd_len = data[0] & 2 ? sizeof(initrd) : 0,
				.cmdline = data[0] & 4 ? "console=ttyS0 nokaslr" : "console=ttyS0",
				.e820 = &e820, .host_decompress = true, .kaslr_seed = 1 + size };
	ret = bzimage_load(&gm, &a, &bi);
	assert(ret <= 0);
	if (!ret) {
		assert(bi.kernel_end_gpa > bi.kernel_gpa && bi.kernel_end_gpa <= RAM_LEN);
		assert(!bi.initrd_gpa || bi.initrd_gpa >= bi.kernel_end_gpa);
	}
	if (!ret && bi.inflated) {	/* the fallback's entry is the bzImage's startup_64, unchecked */
		assert(bi.entry_gpa >= bi.kernel_gpa && bi.entry_gpa < bi.kernel_end_gpa);
		assert(!(bi.kernel_gpa & 0x1fffff));
	}
	free(wrapped);
	free(z);
	return 0;
}
