/* The guest page-table walk behind the GDB stub's memory access (Intel SDM vol. 3 chapter 4:
 * 4.3 32-bit paging with 4 MiB pages, 4.4 PAE, 4.5 4-/5-level with 2 MiB and 1 GiB pages). Runs on
 * the stub's thread with every vCPU halted; table entries are read with gm_read. */
#include "osdev/gdb_stub_mmu.h"

#include <errno.h>

#include "core/guest_mem.h"

#define CR0_PG		(1ull << 31)
#define CR4_PSE		(1ull << 4)
#define CR4_PAE		(1ull << 5)
#define CR4_LA57	(1ull << 12)
#define EFER_LMA	(1ull << 10)
#define PTE_P		1ull
#define PTE_PS		(1ull << 7)
#define PTE_ADDR	0x000ffffffffff000ull	/* bits 51:12 */

static int read_entry(const struct guest_mem *gm, uint64_t gpa, unsigned size, uint64_t *e)
{
	uint32_t e32;

	if (size == 4) {
		if (gm_read(gm, &e32, gpa, 4))
			return -EFAULT;
		*e = e32;
	} else if (gm_read(gm, e, gpa, 8)) {
		return -EFAULT;
	}
	return (*e & PTE_P) ? 0 : -EFAULT;
}

/* A mapping of 2^shift bytes at base: the result and the bytes left in it. */
static int mapped(uint64_t base, unsigned shift, uint64_t lin, uint64_t *gpa, uint64_t *left)
{
	uint64_t mask = (1ull << shift) - 1;

	*gpa = (base & ~mask) | (lin & mask);
	*left = (mask + 1) - (lin & mask);
	return 0;
}

static int walk32(const struct guest_mem *gm, const struct gdb_mmu_mode *m, uint64_t lin,
		  uint64_t *gpa, uint64_t *left)
{
	uint64_t pde, pte;

	lin &= 0xffffffffull;
	if (read_entry(gm, (m->cr3 & 0xfffff000ull) + (lin >> 22) * 4, 4, &pde))
		return -EFAULT;
	if ((pde & PTE_PS) && (m->cr4 & CR4_PSE))
		/* 4 MiB page: bits 31:22 of the address, 39:32 from PDE bits 20:13 (PSE-36) */
		return mapped((pde & 0xffc00000ull) | ((pde >> 13 & 0xff) << 32), 22, lin, gpa, left);
	if (read_entry(gm, (pde & 0xfffff000ull) + (lin >> 12 & 0x3ff) * 4, 4, &pte))
		return -EFAULT;
	return mapped(pte & 0xfffff000ull, 12, lin, gpa, left);
}

/* From a table at table_gpa down to 4 KiB, level by level; shift: the address bit the table
 * indexes from (39 for a PML4). Large pages allowed at the 1 GiB and 2 MiB levels. */
static int walk_levels(const struct guest_mem *gm, uint64_t table_gpa, unsigned shift, uint64_t lin,
		       uint64_t *gpa, uint64_t *left)
{
	uint64_t e;

	for (;;) {
		if (read_entry(gm, table_gpa + (lin >> shift & 0x1ff) * 8, 8, &e))
			return -EFAULT;
		if (shift == 12)
			return mapped(e & PTE_ADDR, 12, lin, gpa, left);
		if ((e & PTE_PS) && (shift == 30 || shift == 21))
			return mapped(e & PTE_ADDR, shift, lin, gpa, left);
		if (e & PTE_PS)
			return -EFAULT;	/* PS is reserved at the PML4/PML5 level: the CPU faults */
		table_gpa = e & PTE_ADDR;
		shift -= 9;
	}
}

int gdb_mmu_translate(const struct guest_mem *gm, const struct gdb_mmu_mode *m, uint64_t lin,
		      uint64_t *gpa, uint64_t *left)
{
	uint64_t pdpte;
	unsigned top;

	if (!(m->cr0 & CR0_PG)) {
		/* Paging off: linear is physical (a 4 KiB chunk at a time, as for pages). */
		return mapped(lin, 12, lin, gpa, left);
	}
	if (!(m->cr4 & CR4_PAE))
		return walk32(gm, m, lin, gpa, left);
	if (!(m->efer & EFER_LMA)) {
		lin &= 0xffffffffull;
		/* PAE: four PDPTEs at CR3 bits 31:5 */
		if (read_entry(gm, (m->cr3 & 0xffffffe0ull) + (lin >> 30) * 8, 8, &pdpte))
			return -EFAULT;
		return walk_levels(gm, pdpte & PTE_ADDR, 21, lin, gpa, left);
	}
	top = (m->cr4 & CR4_LA57) ? 48 : 39;
	/* Canonical: bits 63 down to the top bit + 9 all equal it. */
	{
		int64_t s = (int64_t)(lin << (63 - (top + 8))) >> (63 - (top + 8));

		if ((uint64_t)s != lin)
			return -EFAULT;
	}
	return walk_levels(gm, m->cr3 & PTE_ADDR, top, lin, gpa, left);
}
