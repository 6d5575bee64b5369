/* libFuzzer target for the x86 kernel loaders (src/arch/x86/{bzimage,elf,raw,e820}.c; Linux boot
 * protocol, ELF + Xen PVH note, flat binaries): the input picks the loader and carries a command line,
 * an initrd and the kernel file (fuzz_loaders.h). Guest RAM is 32 MiB with the board's e820 holes.
 * A load that succeeds must describe a boot that fits in RAM. Single-threaded. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "fuzz_input.h"
#include "fuzz_loaders.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *ram;
static struct guest_mem gm;
static struct e820_table e820;
static char cmdline[FUZZ_LD_CMDLINE_MAX + 1];

static void fuzz_setup(void)
{
	log_threshold = LOG_ERR;
	ram = aligned_alloc(4096, FUZZ_LD_RAM_LEN);
	if (!ram || gm_add_region(&gm, 0, FUZZ_LD_RAM_LEN, ram) ||
	    e820_add(&e820, 0, LAYOUT_EBDA_GPA, E820_RAM) ||
	    e820_add(&e820, LAYOUT_EBDA_GPA, LAYOUT_LOWMEM_END - LAYOUT_EBDA_GPA, E820_RESERVED) ||
	    e820_add(&e820, LAYOUT_BIOS_GPA, LAYOUT_BIOS_END - LAYOUT_BIOS_GPA, E820_RESERVED) ||
	    e820_add(&e820, LAYOUT_KERNEL_GPA, FUZZ_LD_RAM_LEN - LAYOUT_KERNEL_GPA, E820_RAM))
		abort();
}

static bool in_ram(uint64_t gpa, uint64_t len)
{
	return len <= FUZZ_LD_RAM_LEN && gpa <= FUZZ_LD_RAM_LEN - len;
}

/* A successful load: everything it reports lies in RAM and nothing overlaps what it must not. */
static void check_info(enum boot_format fmt, const struct boot_args *a, const struct boot_info *bi)
{
	assert(bi->format == fmt);
	assert(bi->kernel_end_gpa >= bi->kernel_gpa);
	if (fmt == BOOT_FMT_RAW) {
		assert(bi->mode == BOOT_ENTRY_REAL16 && bi->kernel_end_gpa <= LAYOUT_BIOS_END);
		assert(bi->entry_gpa >= bi->kernel_gpa && bi->entry_gpa < bi->kernel_end_gpa);
		assert((uint64_t)bi->real_cs * 16 <= bi->entry_gpa && bi->entry_gpa - bi->real_cs * 16ULL < 0x10000);
		return;
	}
	assert(bi->kernel_gpa >= LAYOUT_KERNEL_GPA && in_ram(bi->kernel_gpa, bi->kernel_end_gpa - bi->kernel_gpa));
	assert(bi->cmdline_gpa == LAYOUT_CMDLINE_GPA);
	assert(strlen(cmdline) < LAYOUT_CMDLINE_MAX && !strcmp((const char *)ram + bi->cmdline_gpa, cmdline));
	if (bi->mode == BOOT_ENTRY_PVH32)
		assert(bi->start_info_gpa == LAYOUT_PVH_INFO_GPA && bi->entry_gpa < (1ULL << 32));
	else
		assert(bi->mode == BOOT_ENTRY_LINUX64 && bi->zero_page_gpa == LAYOUT_ZERO_PAGE_GPA);
	if (fmt == BOOT_FMT_BZIMAGE)
		assert(bi->entry_gpa == LAYOUT_KERNEL_GPA + 0x200);
	if (!a->initrd_len) {
		assert(!bi->initrd_gpa && !bi->initrd_len);
		return;
	}
	assert(bi->initrd_len == a->initrd_len && !(bi->initrd_gpa & 0xfff));
	assert(bi->initrd_gpa >= bi->kernel_end_gpa && in_ram(bi->initrd_gpa, bi->initrd_len));
	assert(!memcmp(ram + bi->initrd_gpa, a->initrd, a->initrd_len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	static const enum boot_format fmts[] = { BOOT_FMT_BZIMAGE, BOOT_FMT_ELF, BOOT_FMT_RAW, BOOT_FMT_UNKNOWN };
	struct fz f = { data, size };
	struct boot_args a = { .e820 = &e820 };
	struct boot_info bi;
	enum boot_format fmt;
	const uint8_t *p;
	size_t n, len;
	int ret;

	if (!ready) {
		fuzz_setup();
		ready = 1;
	}
	fmt = fmts[fz_u8(&f) % 4];
	a.load_gpa = fz_u32(&f) % (2 * LAYOUT_BIOS_END);
	a.entry_gpa = fz_u32(&f) % (2 * LAYOUT_BIOS_END);
	a.rsdp_gpa = fz_u8(&f) & 1 ? LAYOUT_ACPI_GPA : 0;
	len = fz_u16(&f) % (FUZZ_LD_CMDLINE_MAX + 1);
	p = fz_bytes(&f, len, &n);
	memcpy(cmdline, p, n);
	cmdline[n] = '\0';		/* an embedded NUL just shortens it */
	a.cmdline = cmdline;
	len = fz_u32(&f) % (FUZZ_LD_INITRD_MAX + 1);
	a.initrd = fz_bytes(&f, len, &a.initrd_len);
	a.kernel = fz_bytes(&f, f.left, &a.kernel_len);
	ret = boot_load(&gm, fmt, &a, &bi);
	if (ret) {
		assert(ret < 0 && strcmp(boot_strerror(ret), "success"));
		return 0;
	}
	if (fmt == BOOT_FMT_UNKNOWN)
		fmt = boot_probe(a.kernel, a.kernel_len);
	check_info(fmt, &a, &bi);
	return 0;
}
