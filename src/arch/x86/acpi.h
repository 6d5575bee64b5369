/* ACPI tables for the x86 board (ACPI 6.x chapter 5): RSDP v2, RSDT, XSDT, FADT rev 6, FACS, MADT and a
 * DSDT generated with aml.c, built into guest memory at LAYOUT_ACPI_GPA. Also the machine's fixed
 * interrupt routing, shared with the MP table and the PCI host bridge. */
#ifndef CKVM_X86_ACPI_H
#define CKVM_X86_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/layout.h"
#include "core/guest_mem.h"
#include "dev/pci.h"

/* --- Interrupt routing of the machine (DSDT _PRT, MADT, MP table and the PCI model must agree) ---
 * ISA IRQ n -> IOAPIC pin n (GSI n), except IRQ0 (PIT) -> GSI 2 (Interrupt Source Override) unless
 * acpi_config.no_irq0_override. The SCI is ISA IRQ 9 / GSI 9, level-triggered, active-high.
 * PCI bus 0: the swizzle of dev/pci.h over the lines of arch/x86/layout.h (IOAPIC pins 16..23). */
#define X86_SCI_IRQ		9

/* The GSI of slot's pin (0 = INTA .. 3 = INTD, the tables' numbering) on this machine. */
static inline uint32_t x86_pci_intx_gsi(unsigned slot, unsigned pin)
{
	return pci_intx_gsi(LAYOUT_PCI_INTX_GSI_BASE, LAYOUT_PCI_INTX_NR_LINES, slot, pin + 1);
}

/* IOAPIC id: the first id after the CPUs' APIC ids 0..ncpus-1 (8-bit, 0xfe at most). */
static inline uint8_t x86_ioapic_id(int ncpus)
{
	return (uint8_t)(ncpus < 0xfe ? ncpus : 0xfe);
}

#define ACPI_MAX_CPUS		4096	/* APIC ids >= 255 use x2APIC MADT entries */

struct acpi_config {
	int ncpus;			/* 1..ACPI_MAX_CPUS; APIC id of vCPU n is n */
	bool i8042;			/* FADT IAPC_BOOT_ARCH 8042 flag; RESET_REG = 0xfe to port 0x64 */
	bool pm_timer;			/* FADT PM_TMR_BLK (32-bit, TMR_VAL_EXT) at PORT_ACPI_PM_BASE + 8 */
	bool no_irq0_override;		/* omit the IRQ0 -> GSI 2 override (when the PIT is routed to pin 0) */
	uint32_t pci_slot_mask;		/* MP table only: bus-0 slots that get INTx entries (bit n = slot n) */
};

/* Build all tables at LAYOUT_ACPI_GPA (at most LAYOUT_ACPI_MAX bytes) and return the RSDP's address
 * (which is LAYOUT_ACPI_GPA, 16-byte aligned, inside the BIOS area the kernel scans).
 * 0; -EINVAL (bad ncpus); -ENOSPC (tables exceed LAYOUT_ACPI_MAX); -EFAULT (area not in guest RAM);
 * -ENOMEM. */
int acpi_build(const struct guest_mem *gm, const struct acpi_config *cfg, uint64_t *rsdp_gpa);

/* Byte sum helper: the value that makes sum(p[0..len)) + value == 0 (mod 256). */
uint8_t acpi_checksum(const void *p, size_t len);

/* Little-endian stores into a table being built (ACPI and MP tables are little-endian, at any alignment). */
static inline void acpi_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void acpi_put32(uint8_t *p, uint32_t v)
{
	acpi_put16(p, (uint16_t)v);
	acpi_put16(p + 2, (uint16_t)(v >> 16));
}

static inline void acpi_put64(uint8_t *p, uint64_t v)
{
	acpi_put32(p, (uint32_t)v);
	acpi_put32(p + 4, (uint32_t)(v >> 32));
}

/* Standard description header (ACPI 5.2.6), also used by the tests. */
#define ACPI_HDR_LEN		36
#define ACPI_FADT_LEN		276
#define ACPI_FACS_LEN		64
#define ACPI_RSDP_LEN		36

#endif
