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
	uint64_t pci_mmio_end;		/* DSDT PCI0 _CRS: end (exclusive) of the 32-bit BAR window from
					 * LAYOUT_PCI_MMIO_GPA; 0 = LAYOUT_PCI_MMIO_SIZE after it */
};

/* Direct boot: build all tables at LAYOUT_ACPI_GPA (at most LAYOUT_ACPI_MAX bytes) and return the RSDP's address
 * (which is LAYOUT_ACPI_GPA, 16-byte aligned, inside the BIOS area the kernel scans).
 * 0; -EINVAL (bad ncpus); -ENOSPC (tables exceed LAYOUT_ACPI_MAX); -EFAULT (area not in guest RAM);
 * -ENOMEM. */
int acpi_build(const struct guest_mem *gm, const struct acpi_config *cfg, uint64_t *rsdp_gpa);

/* Firmware boot: the same tables as fw_cfg files "etc/acpi/rsdp" and "etc/acpi/tables" with an
 * "etc/table-loader" script that allocates the RSDP in the F segment and the tables in high memory,
 * patches every pointer and recomputes every checksum (acpi_fwcfg.c). Setup time, main thread.
 * 0, -EINVAL (bad ncpus), -ENOSPC, -ENOMEM, or fw_cfg_add_file's errors (-EEXIST, -ENOSPC). */
struct fw_cfg;
int acpi_add_fw_cfg(struct fw_cfg *f, const struct acpi_config *cfg);

/* --- The one builder behind both (acpi.c) ---
 * The tables laid out in a host buffer: the RSDP at offset 0, the other tables from tables_off (a
 * multiple of the requested alignment) to len. Every pointer field holds the buffer offset it points
 * to; ptr[] lists those fields and sum[] the checksum bytes, in the order they must be recomputed
 * (each table's before the RSDP's, the RSDP's 20-byte one before its extended one). */
#define ACPI_BLOB_MAX_PTRS	16
#define ACPI_BLOB_MAX_SUMS	16

struct acpi_blob {
	uint8_t *p;
	size_t len, cap, tables_off;
	struct acpi_blob_ptr {
		uint32_t off;		/* the field's offset in p */
		uint8_t size;		/* 4 or 8 bytes, little-endian */
	} ptr[ACPI_BLOB_MAX_PTRS];
	unsigned nptr;
	struct acpi_blob_sum {
		uint32_t off, start, len;	/* byte p[off] makes p[start .. start + len) sum to 0 */
	} sum[ACPI_BLOB_MAX_SUMS];
	unsigned nsum;
};

/* 0 (b->p allocated, checksums valid for the offsets as they stand), -EINVAL, -ENOSPC, -ENOMEM. */
int acpi_blob_build(struct acpi_blob *b, const struct acpi_config *cfg, size_t tables_align);
/* Add delta to every pointer field (modulo the field's width); the checksums then need a reseal. */
void acpi_blob_relocate(struct acpi_blob *b, uint64_t delta);
void acpi_blob_seal(struct acpi_blob *b);
void acpi_blob_free(struct acpi_blob *b);

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

static inline uint32_t acpi_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t acpi_get64(const uint8_t *p)
{
	return acpi_get32(p) | (uint64_t)acpi_get32(p + 4) << 32;
}

/* Standard description header (ACPI 5.2.6), also used by the tests. */
#define ACPI_HDR_LEN		36
#define ACPI_FADT_LEN		276
#define ACPI_FACS_LEN		64
#define ACPI_RSDP_LEN		36

#endif
