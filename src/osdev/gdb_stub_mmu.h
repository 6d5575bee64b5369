/* Guest linear -> guest physical address for the GDB stub: a walk of the guest's own page tables
 * (Intel SDM vol. 3 4.3 32-bit paging, 4.4 PAE, 4.5 4- and 5-level paging), every table entry read
 * through gm_read, so a hostile entry pointing outside RAM is a fault, never a host access. Pure:
 * unit-tested on fake memory. */
#ifndef CKVM_OSDEV_GDB_STUB_MMU_H
#define CKVM_OSDEV_GDB_STUB_MMU_H

#include <stdint.h>

struct guest_mem;

/* The control registers that choose the paging mode. */
struct gdb_mmu_mode {
	uint64_t cr0, cr3, cr4, efer;
};

/* lin -> *gpa; *left: bytes from lin to the end of its page (or 4 KiB chunk, paging off), so a
 * caller never crosses a mapping. 0, or -EFAULT: not present, not canonical, or a table outside
 * guest RAM. */
int gdb_mmu_translate(const struct guest_mem *gm, const struct gdb_mmu_mode *m, uint64_t lin,
		      uint64_t *gpa, uint64_t *left);

#endif
