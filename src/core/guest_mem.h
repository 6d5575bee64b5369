/* Guest physical memory: a small set of RAM regions backed by host memory.
 * gm_ptr() is the ONLY place a guest physical address becomes a host pointer. */
#ifndef CKVM_GUEST_MEM_H
#define CKVM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GM_MAX_REGIONS 8

struct gm_region {
	uint64_t gpa;
	uint64_t len;
	uint8_t *hva;
	int owned;		/* 1: mmap'ed by gm_alloc_ram, unmapped by gm_free */
	int fd;			/* shareable backing (memfd) or -1: what vhost-user's SET_MEM_TABLE passes */
	uint64_t fd_offset;	/* where this region starts in fd */
	/* Pages ckvm itself may have written (one bit a page, set by gm_ptr and never cleared; NULL
	 * until snapshots need it): KVM's dirty log does not see them. Owned by board_snapshot.c. */
	unsigned long *touched;
};

struct guest_mem {
	struct gm_region r[GM_MAX_REGIONS];
	int nr;
	uint64_t ram_bytes;	/* total RAM in all regions */
};

/* gm_alloc_ram_flags(): RAM in one memfd mapped MAP_SHARED, so another process (a vhost-user
 * back-end) can map the same pages; with GM_HUGEPAGES the memfd is hugetlbfs-backed (MFD_HUGETLB). */
#define GM_SHARED	(1u << 0)
#define GM_HUGEPAGES	(1u << 1)	/* implies GM_SHARED */
#define GM_HUGEPAGE_BYTES (2ULL << 20)	/* the x86 default huge page: sizes must be a multiple */

/* Add a region backed by caller memory (tests) — regions must not overlap: -EEXIST. */
int gm_add_region(struct guest_mem *gm, uint64_t gpa, uint64_t len, void *hva);
/* mmap anonymous RAM of ram_bytes: [0, min(ram, hole_gpa)) and the rest from 4 GiB up. */
int gm_alloc_ram(struct guest_mem *gm, uint64_t ram_bytes, uint64_t hole_gpa);
/* The same with GM_* flags (0: private anonymous memory, like gm_alloc_ram). Shared RAM is
 * populated on first touch like anonymous RAM; hugepages fail with -ENOMEM when the host has too few
 * free (see gm_hugepages_free). */
int gm_alloc_ram_flags(struct guest_mem *gm, uint64_t ram_bytes, uint64_t hole_gpa, unsigned flags);
/* Free default-size huge pages on this host in bytes (/proc/meminfo), 0 when none or unknown. */
uint64_t gm_hugepages_free(void);
void gm_free(struct guest_mem *gm);

/* Host pointer for [gpa, gpa+len) if the whole range lies inside ONE region, else NULL.
 * Overflow-safe; len 0 is treated as 1. */
void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, size_t len);
/* Copy to/from guest memory; the range may span adjacent regions. 0 or -EFAULT. */
int gm_read(const struct guest_mem *gm, void *dst, uint64_t gpa, size_t len);
int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, size_t len);
/* Length of RAM contiguous in one region from gpa (0 when gpa is not RAM). */
uint64_t gm_span(const struct guest_mem *gm, uint64_t gpa);
/* Highest RAM address + 1 below 4 GiB, i.e. end of low RAM. */
uint64_t gm_low_end(const struct guest_mem *gm);

#endif
