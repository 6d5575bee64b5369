/* Guest physical memory model: bounds-checked translation of guest addresses.
 * Read-only after setup, so every thread (vCPUs, I/O, device workers) uses it without locks. */
#include "core/guest_mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define GIB (1ULL << 30)

int gm_add_region(struct guest_mem *gm, uint64_t gpa, uint64_t len, void *hva)
{
	int i;

	if (!len || gpa + len < gpa || !hva)
		return -EINVAL;
	if (gm->nr >= GM_MAX_REGIONS)
		return -ENOSPC;
	for (i = 0; i < gm->nr; i++) {
		const struct gm_region *o = &gm->r[i];

		if (gpa < o->gpa + o->len && o->gpa < gpa + len)
			return -EEXIST;
	}
	gm->r[gm->nr] = (struct gm_region){ .gpa = gpa, .len = len, .hva = hva };
	gm->nr++;
	gm->ram_bytes += len;
	return 0;
}

static int gm_map(struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	int ret;

	if (p == MAP_FAILED)
		return -errno;
	madvise(p, len, MADV_MERGEABLE);
	ret = gm_add_region(gm, gpa, len, p);
	if (ret) {
		munmap(p, len);
		return ret;
	}
	gm->r[gm->nr - 1].owned = 1;
	return 0;
}

int gm_alloc_ram(struct guest_mem *gm, uint64_t ram_bytes, uint64_t hole_gpa)
{
	uint64_t low = ram_bytes < hole_gpa ? ram_bytes : hole_gpa;
	int ret;

	if (!ram_bytes)
		return -EINVAL;
	ret = gm_map(gm, 0, low);
	if (!ret && ram_bytes > low)
		ret = gm_map(gm, 4 * GIB, ram_bytes - low);
	if (ret)
		gm_free(gm);
	return ret;
}

void gm_free(struct guest_mem *gm)
{
	int i;

	for (i = 0; i < gm->nr; i++) {
		if (gm->r[i].owned)
			munmap(gm->r[i].hva, gm->r[i].len);
		free(gm->r[i].touched);
	}
	memset(gm, 0, sizeof(*gm));
}

static const struct gm_region *gm_find(const struct guest_mem *gm, uint64_t gpa)
{
	int i;

	for (i = 0; i < gm->nr; i++)
		if (gpa >= gm->r[i].gpa && gpa - gm->r[i].gpa < gm->r[i].len)
			return &gm->r[i];
	return NULL;
}

/* A device gets a host pointer: count its pages as written (a ring's pointer is kept and written
 * long after, so the mark is for good). Any thread: atomic, and a no-op once set. */
static void gm_mark_touched(const struct gm_region *r, uint64_t off, size_t len)
{
	const unsigned bits = 8 * sizeof(unsigned long);

	for (uint64_t pg = off >> 12; pg <= (off + len - 1) >> 12; pg++) {
		unsigned long bit = 1UL << (pg % bits);

		if (!(__atomic_load_n(&r->touched[pg / bits], __ATOMIC_RELAXED) & bit))
			__atomic_fetch_or(&r->touched[pg / bits], bit, __ATOMIC_RELAXED);
	}
}

void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, size_t len)
{
	const struct gm_region *r = gm_find(gm, gpa);
	uint64_t off;

	if (!r)
		return NULL;
	off = gpa - r->gpa;
	if (len == 0)
		len = 1;
	if (len > r->len - off)
		return NULL;
	if (r->touched)
		gm_mark_touched(r, off, len);
	return r->hva + off;
}

uint64_t gm_span(const struct guest_mem *gm, uint64_t gpa)
{
	const struct gm_region *r = gm_find(gm, gpa);

	return r ? r->len - (gpa - r->gpa) : 0;
}

uint64_t gm_low_end(const struct guest_mem *gm)
{
	uint64_t end = 0;
	int i;

	for (i = 0; i < gm->nr; i++)
		if (gm->r[i].gpa < 4 * GIB && gm->r[i].gpa + gm->r[i].len > end)
			end = gm->r[i].gpa + gm->r[i].len;
	return end;
}

/* Copy between host memory and [gpa, gpa+len), region by region. */
static int gm_copy(const struct guest_mem *gm, uint64_t gpa, uint8_t *host, size_t len, int to_guest)
{
	if (gpa + len < gpa)
		return -EFAULT;
	while (len) {
		uint64_t span = gm_span(gm, gpa);
		size_t n = span < len ? (size_t)span : len;
		uint8_t *g;

		if (!n)
			return -EFAULT;
		g = gm_ptr(gm, gpa, n);
		if (to_guest)
			memcpy(g, host, n);
		else
			memcpy(host, g, n);
		host += n;
		gpa += n;
		len -= n;
	}
	return 0;
}

int gm_read(const struct guest_mem *gm, void *dst, uint64_t gpa, size_t len)
{
	return gm_copy(gm, gpa, dst, len, 0);
}

int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, size_t len)
{
	return gm_copy(gm, gpa, (uint8_t *)(uintptr_t)src, len, 1);
}
