/* Raw flat-binary loader (copied to --load-addr, entered in real mode at --entry) and the loaders'
 * front door: format probing, dispatch and error text. Real-mode addressing per the Intel SDM Vol. 3
 * "Real-Address Mode Operation" (linear = CS * 16 + IP). Setup-time only, main thread. */
#include "arch/x86/boot.h"
#include "arch/x86/layout.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#define REAL_MODE_LIMIT		LAYOUT_BIOS_END		/* 1 MiB: what CS:IP can reach without A20 games */
#define BZ_BOOT_FLAG_OFF	0x1fe
#define BZ_MAGIC_OFF		0x202

int raw_load(const struct guest_mem *gm, const struct boot_args *a, struct boot_info *out)
{
	uint64_t load_gpa = a->load_gpa, entry_gpa = a->entry_gpa;

	memset(out, 0, sizeof(*out));
	if (!a->kernel || !a->kernel_len)
		return -EBADMSG;
	if (load_gpa >= REAL_MODE_LIMIT || a->kernel_len > REAL_MODE_LIMIT - load_gpa)
		return -EINVAL;
	if (entry_gpa < load_gpa || entry_gpa - load_gpa >= a->kernel_len)
		return -EINVAL;
	if (!gm_ptr(gm, load_gpa, a->kernel_len))
		return -EFBIG;
	if (gm_write(gm, load_gpa, a->kernel, a->kernel_len))
		return -EFBIG;
	out->format = BOOT_FMT_RAW;
	out->mode = BOOT_ENTRY_REAL16;
	out->entry_gpa = entry_gpa;
	out->real_cs = (uint16_t)((entry_gpa >> 4) & 0xf000);
	out->kernel_gpa = load_gpa;
	out->kernel_end_gpa = load_gpa + a->kernel_len;
	return 0;
}

enum boot_format boot_probe(const void *img, size_t len)
{
	const uint8_t *p = img;

	if (!p)
		return BOOT_FMT_UNKNOWN;
	if (len >= BZ_MAGIC_OFF + 4 && p[BZ_BOOT_FLAG_OFF] == 0x55 && p[BZ_BOOT_FLAG_OFF + 1] == 0xaa &&
	    !memcmp(p + BZ_MAGIC_OFF, "HdrS", 4))
		return BOOT_FMT_BZIMAGE;
	if (len >= SELFMAG && !memcmp(p, ELFMAG, SELFMAG))
		return BOOT_FMT_ELF;
	return BOOT_FMT_UNKNOWN;
}

int boot_load(const struct guest_mem *gm, enum boot_format fmt, const struct boot_args *a,
	      struct boot_info *out)
{
	memset(out, 0, sizeof(*out));
	if (fmt == BOOT_FMT_UNKNOWN)
		fmt = boot_probe(a->kernel, a->kernel_len);
	switch (fmt) {
	case BOOT_FMT_BZIMAGE:
		return bzimage_load(gm, a, out);
	case BOOT_FMT_ELF:
		return elf_load(gm, a, out);
	case BOOT_FMT_RAW:
		return raw_load(gm, a, out);
	case BOOT_FMT_UNKNOWN:
		break;
	}
	return -ENOEXEC;
}

const char *boot_strerror(int err)
{
	switch (err) {
	case -ENOEXEC:
		return "not a bzImage or ELF kernel";
	case -EBADMSG:
		return "kernel image truncated or corrupt";
	case -EPROTONOSUPPORT:
		return "bzImage boot protocol too old (need 2.12 or newer)";
	case -EOPNOTSUPP:
		return "kernel has no 64-bit entry point (need an x86_64 kernel)";
	case -EFBIG:
		return "kernel does not fit in guest RAM";
	case -EFAULT:
		return "kernel segment outside guest RAM or below 1 MiB";
	case -ENOSPC:
		return "no room for the initrd in guest RAM";
	case -E2BIG:
		return "kernel command line too long";
	case -EINVAL:
		return "invalid load/entry address or memory map";
	case -EILSEQ:
		return "compressed kernel payload corrupt or truncated";
	case 0:
		return "success";
	}
	return strerror(err < 0 ? -err : err);
}
