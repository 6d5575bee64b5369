/* Intel MultiProcessor Specification 1.4 tables for kernels booted with acpi=off (or without ACPI):
 * the floating pointer structure and the MP configuration table, with the same interrupt routing as
 * the ACPI tables (arch/x86/acpi.h). */
#ifndef CKVM_X86_MPTABLE_H
#define CKVM_X86_MPTABLE_H

#include <stdint.h>

#include "arch/x86/acpi.h"
#include "core/guest_mem.h"

/* The floating pointer always sits at LAYOUT_EBDA_GPA (first KiB of the EBDA, scanned by Linux).
 * The configuration table follows it in the same KiB when it fits (up to ~40 vCPUs with no PCI
 * slots); otherwise it goes to MPTABLE_HIGH_GPA, in the BIOS area above the ACPI tables
 * (0xf0000..0xfffff, which the board reserves in e820 together with 0xe0000..0xeffff). */
#define MPTABLE_HIGH_GPA	0x000f0000ULL
#define MPTABLE_HIGH_MAX	0x00010000ULL
#define MPTABLE_MAX_CPUS	254	/* 8-bit APIC ids, 0xff is broadcast, one id for the IOAPIC */

/* Bus ids in the table: PCI bus 0 must keep id 0 (Linux matches PCI interrupts by bus number). */
#define MPTABLE_BUS_PCI		0
#define MPTABLE_BUS_ISA		1

/* Uses cfg->ncpus (1..MPTABLE_MAX_CPUS), cfg->no_irq0_override and cfg->pci_slot_mask.
 * *mpf_gpa receives the floating pointer's address. 0, -EINVAL (ncpus), -EFAULT (not in RAM),
 * -ENOSPC (table too big), -ENOMEM. */
int mptable_build(const struct guest_mem *gm, const struct acpi_config *cfg, uint64_t *mpf_gpa);

#endif
