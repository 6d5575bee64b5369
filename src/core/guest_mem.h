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
	/* Pages ckvm itself may have written (one bit a page, set by gm_ptr and never cleared; NULL
	 * until snapshots need it): KVM's dirty log does not see them. Owned by board_snapshot.c. */
	unsigned long *touched;
};

struct guest_mem {
	struct gm_region r[GM_MAX_REGIONS];
	int nr;
	uint64_t ram_bytes;	/* total RAM in all regions */
};

/* Add a region backed by caller memory (tests) — regions must not overlap: -EEXIST. */
int gm_add_region(struct guest_mem *gm, uint64_t gpa, uint64_t len, void *hva);
/* mmap anonymous RAM of ram_bytes: [0, min(ram, hole_gpa)) and the rest from 4 GiB up. */
int gm_alloc_ram(struct guest_mem *gm, uint64_t ram_bytes, uint64_t hole_gpa);
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
