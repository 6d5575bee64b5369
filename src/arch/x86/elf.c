/* ELF vmlinux loader: PT_LOAD segments by physical address, then either the Xen PVH entry (the
 * XEN_ELFNOTE_PHYS32_ENTRY note, hvm_start_info in EBX; xen/include/public/arch-x86/hvm/start_info.h)
 * or Linux's 64-bit entry with a zero page. The file is hostile: every header field is bounds-checked.
 * Setup-time only, main thread. */
#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "log.h"

#include <asm/bootparam.h>
#include <errno.h>
#include <string.h>

#define XEN_ELFNOTE_PHYS32_ENTRY	18
#define HVM_START_MAGIC			0x336ec578
#define HVM_START_VERSION		1
#define GIB4				0x100000000ULL

/* PVH start-of-day structures (version 1), all little-endian, addresses physical. */
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;		/* version 1 */
	uint32_t memmap_entries;	/* version 1 */
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;			/* E820 values */
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info ABI");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry ABI");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry ABI");

/* Where the pieces go inside the PVH info page. */
#define PVH_MODLIST_OFF		0x40
#define PVH_MEMMAP_OFF		0x80
_Static_assert(PVH_MEMMAP_OFF + E820_TABLE_MAX * sizeof(struct hvm_memmap_table_entry) <= 0x1000,
	       "PVH info fits one page");

void elf_phdr(const struct elf_image *e, int i, Elf64_Phdr *p)
{
	memcpy(p, e->ph + (size_t)i * sizeof(*p), sizeof(*p));
}

int elf_parse(struct elf_image *e, const void *img, size_t len)
{
	uint64_t ph_len;

	e->img = img;
	e->len = len;
	if (!img || len < SELFMAG || memcmp(img, ELFMAG, SELFMAG))
		return -ENOEXEC;
	if (len < sizeof(e->eh))
		return -EBADMSG;
	memcpy(&e->eh, img, sizeof(e->eh));
	if (e->eh.e_ident[EI_CLASS] != ELFCLASS64 || e->eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    e->eh.e_machine != EM_X86_64 || e->eh.e_type != ET_EXEC)
		return -ENOEXEC;
	if (e->eh.e_phentsize != sizeof(Elf64_Phdr) || e->eh.e_phnum == 0 || e->eh.e_phnum == PN_XNUM)
		return -EBADMSG;
	ph_len = (uint64_t)e->eh.e_phnum * sizeof(Elf64_Phdr);
	if (e->eh.e_phoff > len || ph_len > len - e->eh.e_phoff)
		return -EBADMSG;
	e->ph = e->img + e->eh.e_phoff;
	return 0;
}

int elf_check_segments(const struct elf_image *e, const struct guest_mem *gm, uint64_t delta,
		       uint64_t *start_gpa, uint64_t *end_gpa)
{
	Elf64_Phdr p;
	uint64_t gpa;
	int i, nr = 0;

	*start_gpa = UINT64_MAX;
	*end_gpa = 0;
	for (i = 0; i < e->eh.e_phnum; i++) {
		elf_phdr(e, i, &p);
		if (p.p_type != PT_LOAD || !p.p_memsz)
			continue;
		if (p.p_filesz > p.p_memsz || p.p_offset > e->len || p.p_filesz > e->len - p.p_offset)
			return -EBADMSG;
		gpa = p.p_paddr + delta;
		if (gpa < p.p_paddr || gpa < LAYOUT_KERNEL_GPA || gpa + p.p_memsz < gpa ||
		    p.p_memsz > SIZE_MAX || !gm_ptr(gm, gpa, (size_t)p.p_memsz)) {
			log_debug("boot", "ELF segment 0x%llx+0x%llx outside RAM",
				  (unsigned long long)gpa, (unsigned long long)p.p_memsz);
			return -EFAULT;
		}
		if (gpa < *start_gpa)
			*start_gpa = gpa;
		if (gpa + p.p_memsz > *end_gpa)
			*end_gpa = gpa + p.p_memsz;
		nr++;
	}
	return nr ? 0 : -EBADMSG;
}

void elf_copy_segments(const struct elf_image *e, const struct guest_mem *gm, uint64_t delta)
{
	Elf64_Phdr p;
	uint8_t *dst;
	int i;

	for (i = 0; i < e->eh.e_phnum; i++) {
		elf_phdr(e, i, &p);
		if (p.p_type != PT_LOAD || !p.p_memsz)
			continue;
		dst = gm_ptr(gm, p.p_paddr + delta, (size_t)p.p_memsz);	/* checked by elf_check_segments */
		memcpy(dst, e->img + p.p_offset, (size_t)p.p_filesz);
		memset(dst + p.p_filesz, 0, (size_t)(p.p_memsz - p.p_filesz));
	}
}

/* Walk the PT_NOTE segments for Xen's PHYS32_ENTRY. 1 = found (*entry set), 0 = absent, <0 = corrupt. */
static int elf_find_pvh_entry(const struct elf_image *e, uint64_t *entry)
{
	Elf64_Phdr p;
	Elf64_Nhdr nh;
	uint64_t off, end, name_len, desc_len;
	int i;

	for (i = 0; i < e->eh.e_phnum; i++) {
		elf_phdr(e, i, &p);
		if (p.p_type != PT_NOTE)
			continue;
		if (p.p_offset > e->len || p.p_filesz > e->len - p.p_offset)
			return -EBADMSG;
		off = p.p_offset;
		end = p.p_offset + p.p_filesz;
		while (end - off >= sizeof(nh)) {
			memcpy(&nh, e->img + off, sizeof(nh));
			off += sizeof(nh);
			name_len = ((uint64_t)nh.n_namesz + 3) & ~3ULL;
			desc_len = ((uint64_t)nh.n_descsz + 3) & ~3ULL;
			if (name_len > end - off || desc_len > end - off - name_len)
				return -EBADMSG;
			if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
			    !memcmp(e->img + off, "Xen", 4)) {
				const uint8_t *d = e->img + off + name_len;
				uint64_t v = 0;
				unsigned b;

				if (nh.n_descsz != 4 && nh.n_descsz != 8)
					return -EBADMSG;
				for (b = 0; b < nh.n_descsz; b++)
					v |= (uint64_t)d[b] << (8 * b);
				if (v >= GIB4)
					return -EBADMSG;
				*entry = v;
				return 1;
			}
			off += name_len + desc_len;
		}
	}
	return 0;
}

/* e_entry may be virtual (0xffffffff8...) or physical; map it through the PT_LOAD that contains it. */
static int elf_entry_phys(const struct elf_image *e, uint64_t *entry_gpa)
{
	uint64_t v = e->eh.e_entry;
	Elf64_Phdr p;
	int i;

	for (i = 0; i < e->eh.e_phnum; i++) {
		elf_phdr(e, i, &p);
		if (p.p_type == PT_LOAD && v >= p.p_vaddr && v - p.p_vaddr < p.p_memsz) {
			*entry_gpa = p.p_paddr + (v - p.p_vaddr);
			return 0;
		}
	}
	for (i = 0; i < e->eh.e_phnum; i++) {
		elf_phdr(e, i, &p);
		if (p.p_type == PT_LOAD && v >= p.p_paddr && v - p.p_paddr < p.p_memsz) {
			*entry_gpa = v;
			return 0;
		}
	}
	return -EBADMSG;
}

static int pvh_start_info_build(const struct guest_mem *gm, const struct boot_args *a, struct boot_info *out)
{
	struct hvm_start_info si = { .magic = HVM_START_MAGIC, .version = HVM_START_VERSION };
	struct hvm_modlist_entry mod = { 0 };
	struct hvm_memmap_table_entry mm[E820_TABLE_MAX];
	uint64_t initrd_gpa;
	int i, ret;

	ret = e820_check(a->e820);
	if (ret)
		return ret;
	ret = boot_cmdline_write(gm, a, LAYOUT_CMDLINE_MAX - 1, out);
	if (ret)
		return ret;
	ret = boot_initrd_place(gm, a, out->kernel_end_gpa, GIB4, &initrd_gpa);
	if (ret)
		return ret;

	memset(mm, 0, sizeof(mm));
	for (i = 0; i < a->e820->nr; i++) {
		mm[i].addr = a->e820->e[i].addr;
		mm[i].size = a->e820->e[i].size;
		mm[i].type = a->e820->e[i].type;
	}
	si.cmdline_paddr = out->cmdline_gpa;
	si.rsdp_paddr = a->rsdp_gpa;
	si.memmap_paddr = LAYOUT_PVH_INFO_GPA + PVH_MEMMAP_OFF;
	si.memmap_entries = (uint32_t)a->e820->nr;
	if (initrd_gpa) {
		mod.paddr = initrd_gpa;
		mod.size = a->initrd_len;
		si.nr_modules = 1;
		si.modlist_paddr = LAYOUT_PVH_INFO_GPA + PVH_MODLIST_OFF;
	}
	if (gm_write(gm, LAYOUT_PVH_INFO_GPA, &si, sizeof(si)) ||
	    gm_write(gm, LAYOUT_PVH_INFO_GPA + PVH_MODLIST_OFF, &mod, sizeof(mod)) ||
	    gm_write(gm, LAYOUT_PVH_INFO_GPA + PVH_MEMMAP_OFF, mm, (size_t)a->e820->nr * sizeof(mm[0])))
		return -EFBIG;
	out->start_info_gpa = LAYOUT_PVH_INFO_GPA;
	out->initrd_gpa = initrd_gpa;
	out->initrd_len = initrd_gpa ? a->initrd_len : 0;
	return 0;
}

/* A vmlinux has no setup header; describe the protocol level this loader fills in (2.14: cmdline_size,
 * initrd_addr_max, acpi_rsdp_addr) the way a bzImage's header would. */
static void elf_setup_header(struct setup_header *hdr)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->boot_flag = 0xaa55;
	hdr->header = 0x53726448;	/* "HdrS" */
	hdr->version = 0x020e;
	hdr->initrd_addr_max = 0x7fffffff;
	hdr->cmdline_size = LAYOUT_CMDLINE_MAX - 1;
	hdr->xloadflags = XLF_KERNEL_64;
}

int elf_load(const struct guest_mem *gm, const struct boot_args *a, struct boot_info *out)
{
	struct elf_image e;
	struct setup_header hdr;
	uint64_t start_gpa, end_gpa, pvh_entry = 0;
	int ret, pvh;

	memset(out, 0, sizeof(*out));
	ret = elf_parse(&e, a->kernel, a->kernel_len);
	if (ret)
		return ret;
	ret = e820_check(a->e820);
	if (ret)
		return ret;
	ret = elf_check_segments(&e, gm, 0, &start_gpa, &end_gpa);
	if (ret)
		return ret;
	pvh = elf_find_pvh_entry(&e, &pvh_entry);
	if (pvh < 0)
		return pvh;
	out->format = BOOT_FMT_ELF;
	out->kernel_gpa = start_gpa;
	out->kernel_end_gpa = end_gpa;
	if (pvh) {
		out->mode = BOOT_ENTRY_PVH32;
		out->entry_gpa = pvh_entry;
	} else {
		out->mode = BOOT_ENTRY_LINUX64;
		ret = elf_entry_phys(&e, &out->entry_gpa);
		if (ret)
			return ret;
	}
	elf_copy_segments(&e, gm, 0);
	if (pvh) {
		ret = pvh_start_info_build(gm, a, out);
	} else {
		elf_setup_header(&hdr);
		ret = linux_zero_page_build(gm, &hdr, a, out);
	}
	if (ret)
		return ret;
	log_debug("boot", "ELF %s entry 0x%llx, kernel 0x%llx-0x%llx", pvh ? "PVH" : "64-bit",
		  (unsigned long long)out->entry_gpa, (unsigned long long)start_gpa,
		  (unsigned long long)end_gpa);
	return 0;
}
