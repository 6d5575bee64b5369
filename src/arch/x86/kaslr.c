/* KASLR for kernels inflated on the host: the placement rules of the guest's own decompressor
 * (arch/x86/boot/compressed/kaslr.c: find_random_phys_addr/find_random_virt_addr) and its relocation
 * pass over the table appended to the payload (misc.c handle_relocations(), arch/x86/tools/relocs.c
 * emit_relocs()). Setup-time only, main thread. */
#include "arch/x86/kaslr.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

bool kaslr_cmdline_off(const char *cmdline)
{
	const char *p = cmdline;
	size_t n;

	if (!p)
		return false;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		n = strcspn(p, " \t\n");
		if (n == 7 && !memcmp(p, "nokaslr", 7))
			return true;
		p += n;
	}
	return false;
}

/* splitmix64: spreads a seed (tests) or the host's random bits over two independent draws. */
static uint64_t mix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int kaslr_choose(const struct kaslr_window *w, bool randomize, uint64_t seed, uint64_t *load_gpa,
		 uint64_t *virt_offset)
{
	uint64_t state = seed, lo, phys_slots, virt_slots;
	ssize_t got;

	if (!w->size || !w->align || (w->align & (w->align - 1)) || w->link_gpa & (w->align - 1))
		return -EINVAL;
	if (w->link_gpa + w->size < w->link_gpa || w->link_gpa + w->size > w->hi_gpa)
		return -EFBIG;
	*load_gpa = w->link_gpa;
	*virt_offset = 0;
	if (!randomize)
		return 0;
	if (!seed) {
		got = getrandom(&state, sizeof(state), 0);
		if (got != (ssize_t)sizeof(state))
			return got < 0 ? -errno : -EIO;
	}
	/* Physical: the lowest slot is where an unrandomized kernel goes (kaslr.c takes the smaller of
	 * the load address and 512 MiB); slots run up to the RAM window's end. */
	lo = w->link_gpa;
	phys_slots = (w->hi_gpa - lo - w->size) / w->align + 1;
	*load_gpa = lo + (mix64(&state) % phys_slots) * w->align;
	/* Virtual: slots from LOAD_PHYSICAL_ADDR up to KERNEL_IMAGE_SIZE inside the kernel mapping. */
	if (w->link_gpa + w->size <= KASLR_KERNEL_IMAGE_SIZE) {
		virt_slots = (KASLR_KERNEL_IMAGE_SIZE - w->link_gpa - w->size) / w->align + 1;
		*virt_offset = (mix64(&state) % virt_slots) * w->align;
	}
	return 0;
}

/* Offset in the image of the place a table entry names (a kernel virtual address sign-extended from
 * 32 bits); -1 unless width bytes there lie inside the image. */
static int64_t reloc_target(uint32_t entry, uint64_t link_gpa, uint64_t image_len, unsigned width)
{
	uint64_t va = (uint64_t)(int64_t)(int32_t)entry;
	uint64_t off = va - KASLR_START_KERNEL_MAP - link_gpa;

	if (image_len < width || off > image_len - width)
		return -1;
	return (int64_t)off;
}

/* Walk back from *pos over entries until the zero word that ends a list; check each entry. */
static int reloc_list(const uint8_t *buf, size_t min_off, size_t *pos, unsigned width, uint64_t link_gpa,
		      uint64_t image_len, const uint8_t **first, size_t *nr)
{
	size_t n = 0;
	uint32_t v;

	for (;;) {
		if (*pos < min_off + 4)
			return -EBADMSG;	/* ran into the ELF without finding the list's end */
		*pos -= 4;
		v = get_le32(buf + *pos);
		if (!v)
			break;
		if (reloc_target(v, link_gpa, image_len, width) < 0)
			return -EBADMSG;
		n++;
	}
	*first = buf + *pos + 4;
	*nr = n;
	return 0;
}

int kaslr_relocs_find(const uint8_t *buf, size_t len, size_t min_off, uint64_t link_gpa,
		      uint64_t image_len, struct kaslr_relocs *r)
{
	size_t pos = len;
	int ret;

	memset(r, 0, sizeof(*r));
	if (min_off >= len)
		return -ENOENT;
	/* From the end: 32-bit entries, a zero, inverse 32-bit entries, a zero, 64-bit entries, a zero. */
	if ((ret = reloc_list(buf, min_off, &pos, 4, link_gpa, image_len, &r->r32, &r->nr32)) ||
	    (ret = reloc_list(buf, min_off, &pos, 4, link_gpa, image_len, &r->r32neg, &r->nr32neg)) ||
	    (ret = reloc_list(buf, min_off, &pos, 8, link_gpa, image_len, &r->r64, &r->nr64)))
		return ret;
	r->table_off = pos;
	return 0;
}

/* One list: add (sign +1) or subtract (-1) the offset at each place, width 4 or 8 bytes. */
static void reloc_apply(uint8_t *image, uint64_t image_len, uint64_t link_gpa, const uint8_t *list,
			size_t nr, unsigned width, int sign, uint64_t delta)
{
	uint64_t v64;
	uint32_t v32;
	int64_t off;
	size_t i;

	for (i = 0; i < nr; i++) {
		off = reloc_target(get_le32(list + 4 * i), link_gpa, image_len, width);
		if (off < 0)
			continue;	/* cannot happen for a table kaslr_relocs_find() accepted */
		if (width == 8) {
			memcpy(&v64, image + off, 8);
			v64 = sign > 0 ? v64 + delta : v64 - delta;
			memcpy(image + off, &v64, 8);
		} else {
			memcpy(&v32, image + off, 4);
			v32 = sign > 0 ? v32 + (uint32_t)delta : v32 - (uint32_t)delta;
			memcpy(image + off, &v32, 4);
		}
	}
}

void kaslr_relocate(uint8_t *image, uint64_t image_len, uint64_t link_gpa, const struct kaslr_relocs *r,
		    uint64_t virt_offset)
{
	if (!virt_offset)
		return;
	reloc_apply(image, image_len, link_gpa, r->r32, r->nr32, 4, 1, virt_offset);
	reloc_apply(image, image_len, link_gpa, r->r32neg, r->nr32neg, 4, -1, virt_offset);
	reloc_apply(image, image_len, link_gpa, r->r64, r->nr64, 8, 1, virt_offset);
}
