/* bzImage with host-side decompression: the payload (boot.rst "payload_offset"/"payload_length",
 * protocol 2.08+) is inflated here, the ELF inside it loaded at its physical addresses (moved and
 * relocated for KASLR) and entered at its 64-bit entry with the zero page built from the bzImage's own
 * setup header: what arch/x86/boot/compressed/misc.c extract_kernel() hands over. Setup-time only,
 * main thread. */
#include "arch/x86/boot.h"
#include "arch/x86/kaslr.h"
#include "arch/x86/layout.h"
#include "boot/decompress.h"
#include "log.h"

#include <asm/bootparam.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PAGE_MASK_4K	0xfffULL

/* What the ELF inside the payload needs. */
struct kernel_elf {
	struct elf_image e;
	uint64_t link_gpa;	/* LOAD_PHYSICAL_ADDR (the header's pref_address) */
	uint64_t extent;	/* bytes from link_gpa to the end of the last PT_LOAD (bss, brk included) */
	uint64_t entry_off;	/* e_entry - link_gpa: startup_64 */
	uint64_t file_end;	/* end of the ELF file inside the payload; the relocation table follows */
};

/* Log why the host cannot load this image; the caller then loads it for the guest's decompressor. */
static int fallback(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fallback(const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_info("boot", "host decompression: %s; the guest's decompressor runs instead", why);
	return -EAGAIN;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* End of everything the ELF file holds: headers, segments, sections. -EBADMSG if any lies past len. */
static int elf_file_end(const struct elf_image *e, uint64_t *end)
{
	const Elf64_Ehdr *eh = &e->eh;
	Elf64_Shdr sh;
	Elf64_Phdr p;
	uint64_t v = eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
	int i;

	for (i = 0; i < eh->e_phnum; i++) {
		elf_phdr(e, i, &p);
		if (p.p_offset > e->len || p.p_filesz > e->len - p.p_offset)
			return -EBADMSG;
		v = max_u64(v, p.p_offset + p.p_filesz);
	}
	if (eh->e_shoff && eh->e_shnum) {
		if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > e->len ||
		    (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > e->len - eh->e_shoff)
			return -EBADMSG;
		v = max_u64(v, eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr));
		for (i = 0; i < eh->e_shnum; i++) {
			memcpy(&sh, e->img + eh->e_shoff + (size_t)i * sizeof(sh), sizeof(sh));
			if (sh.sh_type == SHT_NOBITS || sh.sh_type == SHT_NULL)
				continue;
			if (sh.sh_offset > e->len || sh.sh_size > e->len - sh.sh_offset)
				return -EBADMSG;
			v = max_u64(v, sh.sh_offset + sh.sh_size);
		}
	}
	*end = v;
	return 0;
}

/* Parse the inflated payload as vmlinux.bin the way misc.c parse_elf() uses it: PT_LOADs at or above
 * LOAD_PHYSICAL_ADDR, 2 MiB aligned, entry inside them. */
static int kernel_elf_parse(struct kernel_elf *k, const struct decomp_buf *buf, uint64_t link_gpa)
{
	Elf64_Phdr p;
	uint64_t end = 0;
	int i, ret, nr = 0;

	ret = elf_parse(&k->e, buf->data, buf->len);
	if (ret)
		return ret;
	k->link_gpa = link_gpa;
	for (i = 0; i < k->e.eh.e_phnum; i++) {
		elf_phdr(&k->e, i, &p);
		if (p.p_type != PT_LOAD || !p.p_memsz)
			continue;
		if (p.p_paddr < link_gpa || p.p_paddr + p.p_memsz < p.p_paddr || p.p_align % KASLR_MIN_ALIGN ||
		    p.p_memsz > KASLR_KERNEL_IMAGE_SIZE || p.p_filesz > p.p_memsz) {
			log_debug("boot", "inflated ELF: segment at 0x%llx+0x%llx (align 0x%llx) unusable",
				  (unsigned long long)p.p_paddr, (unsigned long long)p.p_memsz,
				  (unsigned long long)p.p_align);
			return -EBADMSG;
		}
		end = max_u64(end, p.p_paddr + p.p_memsz);
		nr++;
	}
	if (!nr || end - link_gpa > KASLR_KERNEL_IMAGE_SIZE)
		return -EBADMSG;
	k->extent = end - link_gpa;
	k->entry_off = k->e.eh.e_entry - link_gpa;
	if (k->e.eh.e_entry < link_gpa || k->entry_off >= k->extent)
		return -EBADMSG;
	return elf_file_end(&k->e, &k->file_end);
}

/* The RAM window for the kernel: from link_gpa up to the RAM entry's end, or up to where the initrd
 * will go (boot_initrd_place() puts it at the top of that entry). -EFBIG / -ENOSPC when nothing fits. */
static int kernel_window(const struct guest_mem *gm, const struct boot_args *a,
			 const struct setup_header *hdr, uint64_t size, struct kaslr_window *w)
{
	uint64_t ram_end = boot_initrd_top(gm, a->e820, w->link_gpa, UINT64_MAX), top;

	if (!ram_end || ram_end - w->link_gpa < size)
		return -EFBIG;
	w->hi_gpa = ram_end;
	if (a->initrd && a->initrd_len) {
		top = boot_initrd_top(gm, a->e820, w->link_gpa, linux_initrd_limit(hdr));
		if (top < a->initrd_len || ((top - a->initrd_len) & ~PAGE_MASK_4K) < w->link_gpa + size)
			return -ENOSPC;
		w->hi_gpa = (top - a->initrd_len) & ~PAGE_MASK_4K;
	}
	return 0;
}

/* Place, copy and relocate the kernel; then the zero page. */
static int kernel_load(const struct guest_mem *gm, const struct boot_args *a, const struct setup_header *hdr,
		       const struct decomp_buf *buf, struct kernel_elf *k, struct boot_info *out)
{
	struct setup_header h = *hdr;
	struct kaslr_relocs r;
	struct kaslr_window w = { .link_gpa = k->link_gpa };
	uint64_t load_gpa, virt_offset, start_gpa, end_gpa;
	bool randomize;
	int ret;

	ret = kaslr_relocs_find(buf->data, buf->len, k->file_end, k->link_gpa, k->extent, &r);
	if (ret && ret != -ENOENT) {
		log_debug("boot", "inflated kernel: bad relocation table after the ELF (0x%llx of 0x%zx bytes)",
			  (unsigned long long)k->file_end, buf->len);
		return ret;
	}
	/* Without relocations (no CONFIG_RANDOMIZE_BASE) the kernel runs where it was linked. */
	randomize = !ret && hdr->relocatable_kernel && !kaslr_cmdline_off(a->cmdline);
	/* A kernel that is not relocatable runs where it was linked; its alignment does not matter. */
	w.align = hdr->relocatable_kernel ? hdr->kernel_alignment : KASLR_MIN_ALIGN;
	if (w.align < KASLR_MIN_ALIGN || (w.align & (w.align - 1)) || (w.link_gpa & (w.align - 1)))
		return fallback("kernel_alignment 0x%x / load address 0x%llx not usable", hdr->kernel_alignment,
				(unsigned long long)w.link_gpa);
	w.size = (k->extent + KASLR_MIN_ALIGN - 1) & ~(KASLR_MIN_ALIGN - 1);
	if ((ret = kernel_window(gm, a, hdr, w.size, &w)))
		return ret;
	if ((ret = kaslr_choose(&w, randomize, a->kaslr_seed, &load_gpa, &virt_offset)))
		return ret == -EINVAL ? -EBADMSG : ret;
	if ((ret = elf_check_segments(&k->e, gm, load_gpa - k->link_gpa, &start_gpa, &end_gpa)))
		return ret == -EFAULT ? -EFBIG : ret;
	elf_copy_segments(&k->e, gm, load_gpa - k->link_gpa);
	if (virt_offset)
		kaslr_relocate(gm_ptr(gm, load_gpa, k->extent), k->extent, k->link_gpa, &r, virt_offset);

	out->format = BOOT_FMT_BZIMAGE;
	out->mode = BOOT_ENTRY_LINUX64;
	out->entry_gpa = load_gpa + k->entry_off;
	out->kernel_gpa = load_gpa;
	out->kernel_end_gpa = load_gpa + w.size;
	out->virt_offset = virt_offset;
	/* As extract_kernel(): KASLR_FLAG tells the kernel its base was randomized (memory KASLR too). */
	h.loadflags &= (uint8_t)~KASLR_FLAG;
	if (randomize)
		h.loadflags |= KASLR_FLAG;
	ret = linux_zero_page_build(gm, &h, a, out);
	if (ret)
		return ret;
	log_debug("boot", "kernel at 0x%llx-0x%llx, entry 0x%llx, virtual offset 0x%llx (%s, %zu relocations)",
		  (unsigned long long)load_gpa, (unsigned long long)out->kernel_end_gpa,
		  (unsigned long long)out->entry_gpa, (unsigned long long)virt_offset,
		  randomize ? "KASLR" : "no KASLR", r.nr64 + r.nr32 + r.nr32neg);
	return 0;
}

int bzimage_host_load(const struct guest_mem *gm, const struct boot_args *a,
		      const struct setup_header *hdr, size_t setup_len, struct boot_info *out)
{
	const uint8_t *payload;
	struct decomp_buf buf;
	struct kernel_elf k;
	enum decomp_format fmt;
	uint64_t want, cap;
	size_t len;
	int ret;

	if (hdr->version < 0x0208 || !hdr->payload_length) {
		/* Nothing compressed to take over (a hand-made image): it simply runs as it is. */
		log_debug("boot", "bzImage without a payload (protocol 2.08+ payload_length): loaded as it is");
		return -EAGAIN;
	}
	if (a->kernel_len < setup_len || hdr->payload_offset > a->kernel_len - setup_len ||
	    hdr->payload_length > a->kernel_len - setup_len - hdr->payload_offset || hdr->payload_length < 8)
		return -EILSEQ;
	payload = (const uint8_t *)a->kernel + setup_len + hdr->payload_offset;
	len = hdr->payload_length;
	fmt = decomp_probe(payload, len);
	if (fmt == DECOMP_UNKNOWN)
		return fallback("unknown payload compression (magic %02x %02x %02x %02x)", payload[0], payload[1],
				payload[2], payload[3]);
	if (!decomp_supported(fmt))
		return fallback("%s payload, but this ckvm was built without %s", decomp_name(fmt),
				decomp_library(fmt));
	/* mkpiggy's output_len: the payload's last word is the inflated size, for every format. */
	want = (uint64_t)payload[len - 4] | (uint64_t)payload[len - 3] << 8 | (uint64_t)payload[len - 2] << 16 |
	       (uint64_t)payload[len - 1] << 24;
	cap = gm->ram_bytes < DECOMP_MAX_OUT ? gm->ram_bytes : DECOMP_MAX_OUT;
	if (want > cap) {
		log_debug("boot", "%s payload inflates to %llu bytes, more than %llu", decomp_name(fmt),
			  (unsigned long long)want, (unsigned long long)cap);
		return -EFBIG;
	}
	ret = decomp_inflate(fmt, payload, len, want, &buf);
	if (ret == -ENOMEM)
		return ret;
	if (ret || buf.len != want) {
		log_debug("boot", "%s payload: inflate %s (%zu of %llu bytes)", decomp_name(fmt),
			  ret ? strerror(-ret) : "short", buf.len, (unsigned long long)want);
		decomp_buf_free(&buf);
		return -EILSEQ;
	}
	ret = kernel_elf_parse(&k, &buf, hdr->pref_address);
	if (ret == -ENOEXEC)
		ret = fallback("the inflated %s payload is not an x86-64 ELF kernel", decomp_name(fmt));
	if (!ret)
		ret = kernel_load(gm, a, hdr, &buf, &k, out);
	if (!ret)
		out->inflated = decomp_name(fmt);
	decomp_buf_free(&buf);
	return ret;
}
