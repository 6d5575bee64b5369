/* bzImage loader and the shared Linux zero-page builder: parse the real-mode setup header, copy the
 * protected-mode kernel to 1 MiB and enter it through the 64-bit entry point (Documentation/x86/boot.rst,
 * "The Real-Mode Kernel Header", "64-bit Boot Protocol"). Setup-time only, main thread. */
#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "log.h"

#include <asm/bootparam.h>
#include <errno.h>
#include <string.h>

#define BZ_HDR_OFF		0x1f1		/* struct setup_header inside the image and the zero page */
#define BZ_BOOT_FLAG_OFF	0x1fe
#define BZ_MAGIC_OFF		0x202
#define BZ_JUMP_OFF		0x200		/* "jmp short": the header ends at 0x202 + displacement */
#define BZ_BOOT_FLAG		0xaa55
#define BZ_MAGIC		0x53726448	/* "HdrS" */
#define BZ_MIN_VERSION		0x020c		/* 2.12: xloadflags, XLF_KERNEL_64 */
#define BZ_ENTRY64_OFF		0x200		/* 64-bit entry: load address + 0x200 */
#define BZ_LOADER_UNDEFINED	0xff		/* type_of_loader for loaders without an assigned id */
#define BZ_HEAP_END		0xe000		/* boot.rst's example layout: heap ends at setup + 0xe000 */
#define BZ_OLD_INITRD_MAX	0x37ffffff	/* initrd_addr_max before protocol 2.03 */
#define GIB4			0x100000000ULL
#define PAGE_MASK_4K		0xfffULL

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

int boot_cmdline_write(const struct guest_mem *gm, const struct boot_args *a, uint64_t max_len,
		       struct boot_info *out)
{
	const char *s = a->cmdline ? a->cmdline : "";
	size_t n = strlen(s);

	if (max_len > LAYOUT_CMDLINE_MAX - 1)
		max_len = LAYOUT_CMDLINE_MAX - 1;
	out->cmdline_max = max_len;
	if (n > max_len)
		return -E2BIG;
	if (gm_write(gm, LAYOUT_CMDLINE_GPA, s, n + 1))
		return -EFBIG;	/* the board gave us no RAM for the command line */
	out->cmdline_gpa = LAYOUT_CMDLINE_GPA;
	return 0;
}

uint64_t boot_initrd_top(const struct guest_mem *gm, const struct e820_table *e820, uint64_t gpa,
			 uint64_t limit_gpa)
{
	/* The RAM entry the kernel ends in: stop below the first hole or reserved range after it. */
	uint64_t top = e820_ram_end(e820, gpa);

	if (top > gpa + gm_span(gm, gpa))
		top = gpa + gm_span(gm, gpa);
	if (top > limit_gpa)
		top = limit_gpa;
	return top;
}

uint64_t linux_initrd_limit(const struct setup_header *hdr)
{
	uint64_t limit_gpa = hdr->version >= 0x0203 ? (uint64_t)hdr->initrd_addr_max + 1 : BZ_OLD_INITRD_MAX + 1;

	return limit_gpa > GIB4 ? GIB4 : limit_gpa;
}

int boot_initrd_place(const struct guest_mem *gm, const struct boot_args *a, uint64_t kernel_end_gpa,
		      uint64_t limit_gpa, uint64_t *initrd_gpa)
{
	uint64_t top, gpa;

	*initrd_gpa = 0;
	if (!a->initrd || !a->initrd_len)
		return 0;
	if (!kernel_end_gpa)
		return -EINVAL;
	if (!e820_ram_end(a->e820, kernel_end_gpa - 1))
		return -EFBIG;
	top = boot_initrd_top(gm, a->e820, kernel_end_gpa - 1, limit_gpa);
	if (top < a->initrd_len)
		return -ENOSPC;
	gpa = (top - a->initrd_len) & ~PAGE_MASK_4K;
	if (gpa < kernel_end_gpa || !gm_ptr(gm, gpa, a->initrd_len))
		return -ENOSPC;
	if (gm_write(gm, gpa, a->initrd, a->initrd_len))
		return -ENOSPC;
	*initrd_gpa = gpa;
	return 0;
}

int linux_zero_page_build(const struct guest_mem *gm, const struct setup_header *hdr,
			  const struct boot_args *a, struct boot_info *out)
{
	struct boot_params bp;
	uint64_t limit_gpa, cmdline_max, initrd_gpa = 0;
	int i, ret;

	ret = e820_check(a->e820);
	if (ret)
		return ret;
	memset(&bp, 0, sizeof(bp));
	bp.hdr = *hdr;
	bp.hdr.type_of_loader = BZ_LOADER_UNDEFINED;
	bp.hdr.loadflags |= LOADED_HIGH | CAN_USE_HEAP;
	bp.hdr.heap_end_ptr = BZ_HEAP_END - 0x200;
	bp.hdr.vid_mode = 0xffff;	/* "normal" */

	cmdline_max = hdr->version >= 0x0206 ? hdr->cmdline_size : 255;
	ret = boot_cmdline_write(gm, a, cmdline_max, out);
	if (ret)
		return ret;
	bp.hdr.cmd_line_ptr = (uint32_t)out->cmdline_gpa;
	bp.ext_cmd_line_ptr = (uint32_t)(out->cmdline_gpa >> 32);

	limit_gpa = linux_initrd_limit(hdr);
	ret = boot_initrd_place(gm, a, out->kernel_end_gpa, limit_gpa, &initrd_gpa);
	if (ret)
		return ret;
	if (initrd_gpa) {
		bp.hdr.ramdisk_image = (uint32_t)initrd_gpa;
		bp.ext_ramdisk_image = (uint32_t)(initrd_gpa >> 32);
		bp.hdr.ramdisk_size = (uint32_t)a->initrd_len;
		bp.ext_ramdisk_size = (uint32_t)((uint64_t)a->initrd_len >> 32);
	}

	for (i = 0; i < a->e820->nr; i++) {
		bp.e820_table[i].addr = a->e820->e[i].addr;
		bp.e820_table[i].size = a->e820->e[i].size;
		bp.e820_table[i].type = a->e820->e[i].type;
	}
	bp.e820_entries = (uint8_t)a->e820->nr;
	if (a->rsdp_gpa && hdr->version >= 0x020e)
		bp.acpi_rsdp_addr = a->rsdp_gpa;

	if (gm_write(gm, LAYOUT_ZERO_PAGE_GPA, &bp, sizeof(bp)))
		return -EFBIG;
	out->zero_page_gpa = LAYOUT_ZERO_PAGE_GPA;
	out->initrd_gpa = initrd_gpa;
	out->initrd_len = initrd_gpa ? a->initrd_len : 0;
	return 0;
}

/* Validate the image's header and copy the part the kernel defines (up to the jump target). */
static int bz_header_parse(const uint8_t *img, size_t len, struct setup_header *hdr, size_t *setup_len)
{
	size_t hdr_end, sects;

	if (len < BZ_MAGIC_OFF + 4 || get16(img + BZ_BOOT_FLAG_OFF) != BZ_BOOT_FLAG ||
	    get32(img + BZ_MAGIC_OFF) != BZ_MAGIC)
		return -ENOEXEC;
	hdr_end = BZ_MAGIC_OFF + img[BZ_JUMP_OFF + 1];
	if (hdr_end > BZ_HDR_OFF + sizeof(*hdr))
		hdr_end = BZ_HDR_OFF + sizeof(*hdr);
	if (hdr_end > len)
		return -EBADMSG;
	memset(hdr, 0, sizeof(*hdr));
	memcpy(hdr, img + BZ_HDR_OFF, hdr_end - BZ_HDR_OFF);
	if (hdr->version < BZ_MIN_VERSION) {
		log_debug("boot", "bzImage boot protocol %u.%02u < 2.12", hdr->version >> 8, hdr->version & 0xff);
		return -EPROTONOSUPPORT;
	}
	if (!(hdr->xloadflags & XLF_KERNEL_64))
		return -EOPNOTSUPP;
	sects = hdr->setup_sects ? hdr->setup_sects : 4;
	*setup_len = (sects + 1) * 512;
	/* The protected-mode part must be there, and as large as syssize (16-byte units) says. */
	if (*setup_len >= len || (uint64_t)hdr->syssize * 16 > len - *setup_len) {
		log_debug("boot", "bzImage truncated: setup %zu + syssize*16 %llu > file %zu", *setup_len,
			  (unsigned long long)hdr->syssize * 16, len);
		return -EBADMSG;
	}
	return 0;
}

/* Highest address the kernel touches while booting: the file itself at 1 MiB, and init_size bytes
 * from where the decompressor will run (aligned load address, at least pref_address). */
static uint64_t bz_kernel_end(const struct setup_header *hdr, uint64_t load_gpa, uint64_t payload_len)
{
	uint64_t base = load_gpa, end = load_gpa + payload_len;
	uint64_t align = hdr->kernel_alignment;

	if (hdr->relocatable_kernel && align && !(align & (align - 1)))
		base = (base + align - 1) & ~(align - 1);
	if (hdr->pref_address > base && hdr->pref_address < GIB4)
		base = hdr->pref_address;
	if (base + hdr->init_size > end)
		end = base + hdr->init_size;
	return end;
}

int bzimage_load(const struct guest_mem *gm, const struct boot_args *a, struct boot_info *out)
{
	const uint8_t *img = a->kernel;
	struct setup_header hdr;
	size_t setup_len, payload_len;
	uint64_t kernel_end_gpa;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!img)
		return -ENOEXEC;
	ret = bz_header_parse(img, a->kernel_len, &hdr, &setup_len);
	if (ret)
		return ret;
	ret = e820_check(a->e820);
	if (ret)
		return ret;
	if (a->host_decompress) {
		ret = bzimage_host_load(gm, a, &hdr, setup_len, out);
		if (ret != -EAGAIN)
			return ret;
		memset(out, 0, sizeof(*out));	/* fall back: the guest's decompressor inflates it */
	}
	payload_len = a->kernel_len - setup_len;
	kernel_end_gpa = bz_kernel_end(&hdr, LAYOUT_KERNEL_GPA, payload_len);
	if (!gm_ptr(gm, LAYOUT_KERNEL_GPA, kernel_end_gpa - LAYOUT_KERNEL_GPA) ||
	    !e820_ram_end(a->e820, kernel_end_gpa - 1) ||
	    e820_ram_end(a->e820, kernel_end_gpa - 1) != e820_ram_end(a->e820, LAYOUT_KERNEL_GPA)) {
		log_debug("boot", "bzImage needs RAM up to 0x%llx", (unsigned long long)kernel_end_gpa);
		return -EFBIG;
	}
	ret = gm_write(gm, LAYOUT_KERNEL_GPA, img + setup_len, payload_len);
	if (ret)
		return -EFBIG;

	out->format = BOOT_FMT_BZIMAGE;
	out->mode = BOOT_ENTRY_LINUX64;
	out->entry_gpa = LAYOUT_KERNEL_GPA + BZ_ENTRY64_OFF;
	out->kernel_gpa = LAYOUT_KERNEL_GPA;
	out->kernel_end_gpa = kernel_end_gpa;
	ret = linux_zero_page_build(gm, &hdr, a, out);
	if (ret)
		return ret;
	log_debug("boot", "bzImage protocol %u.%02u: kernel 0x%llx-0x%llx, initrd 0x%llx+0x%llx",
		  hdr.version >> 8, hdr.version & 0xff, (unsigned long long)out->kernel_gpa,
		  (unsigned long long)out->kernel_end_gpa, (unsigned long long)out->initrd_gpa,
		  (unsigned long long)out->initrd_len);
	return 0;
}
