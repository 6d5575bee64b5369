/* The x86 machine's fixed guest-physical layout: where boot structures, firmware tables and device
 * windows live. Every address the board uses is here, so the memory map is read in one place. */
#ifndef CKVM_X86_LAYOUT_H
#define CKVM_X86_LAYOUT_H

#include <asm/kvm.h>	/* KVM_IOAPIC_NUM_PINS */

/* Low memory (below 1 MiB) */
#define LAYOUT_GDT_GPA		0x00000500ULL	/* boot GDT (4 entries) */
#define LAYOUT_BOOT_STACK_GPA	0x00008000ULL	/* initial stack top for 64-bit/PVH entry */
#define LAYOUT_PVH_INFO_GPA	0x00006000ULL	/* hvm_start_info + memmap (PVH) */
#define LAYOUT_ZERO_PAGE_GPA	0x00007000ULL	/* struct boot_params (Linux boot protocol) */
#define LAYOUT_PML4_GPA		0x00009000ULL	/* identity page tables: PML4, PDPT, 4 PDs */
#define LAYOUT_PDPT_GPA		0x0000a000ULL
#define LAYOUT_PD_GPA		0x0000b000ULL	/* 4 pages: 0xb000..0xefff, 2 MiB pages for 0..4 GiB */
#define LAYOUT_CMDLINE_GPA	0x00020000ULL
#define LAYOUT_CMDLINE_MAX	0x00010000ULL	/* 64 KiB */
#define LAYOUT_EBDA_GPA		0x0009fc00ULL	/* 1 KiB EBDA: MP floating pointer + MP config table */
#define LAYOUT_LOWMEM_END	0x000a0000ULL	/* start of VGA hole */
#define LAYOUT_BIOS_GPA		0x000e0000ULL	/* reserved: ACPI RSDP and tables at 0xe0000..0xfffff */
#define LAYOUT_ACPI_GPA		0x000e0000ULL	/* RSDP first (16-byte aligned), tables after it */
#define LAYOUT_ACPI_MAX		0x00010000ULL
#define LAYOUT_BIOS_END		0x00100000ULL
#define LAYOUT_KERNEL_GPA	0x00100000ULL	/* 1 MiB: protected-mode kernel / default load address */

/* Device windows */
#define LAYOUT_MEM_HOLE_GPA	0xc0000000ULL	/* RAM above this moves to 4 GiB */
#define LAYOUT_PCI_MMIO_GPA	0xc0000000ULL	/* 32-bit PCI BAR window */
#define LAYOUT_PCI_MMIO_SIZE	0x20000000ULL	/* 512 MiB */
/* --bios: SeaBIOS places BARs top-down from 0xfec00000 (its BUILD_PCIMEM_END, src/config.h) down to
 * the end of RAM, so the firmware machine's window reaches up to there (the boot timer's MMIO page
 * at 0xfe000000 then gives way to it; its port stays). */
#define LAYOUT_FW_PCI_MMIO_END	0xfec00000ULL
/* --bios: the 128 KiB firmware image, in RAM below 1 MiB (its own memory slot) and read-only at the
 * top of 4 GiB, where the reset vector F000:FFF0 (linear 0xfffffff0) reads it. */
#define LAYOUT_FW_LOW_GPA	0x000e0000ULL
#define LAYOUT_FW_HIGH_GPA	0xfffe0000ULL
#define LAYOUT_FW_SIZE		0x00020000ULL
#define LAYOUT_BOOT_TIMER_GPA	0xfe000000ULL	/* --boot-timer: 1 page, guest writes 123 at +0 */
#define LAYOUT_IOAPIC_GPA	0xfec00000ULL
#define LAYOUT_LAPIC_GPA	0xfee00000ULL
#define LAYOUT_TSS_GPA		0xfffbd000ULL	/* KVM_SET_TSS_ADDR: 3 pages */
#define LAYOUT_IDENT_MAP_GPA	0xfffbc000ULL	/* KVM_SET_IDENTITY_MAP_ADDR: 1 page */

/* Interrupt lines: KVM's in-kernel IOAPIC (its pin count is the kernel's KVM_IOAPIC_NUM_PINS) at
 * GSIs 0..X86_IOAPIC_PINS-1. ISA IRQ n is pin n; PCI INTx takes the pins from 16 up (pci_intx_gsi in
 * dev/pci.h is the swizzle; the board hands these numbers to pci_create, the ACPI and MP tables). */
#define X86_IOAPIC_PINS		KVM_IOAPIC_NUM_PINS
#define LAYOUT_PCI_INTX_GSI_BASE 16
#define LAYOUT_PCI_INTX_NR_LINES (X86_IOAPIC_PINS - LAYOUT_PCI_INTX_GSI_BASE)
/* The PCI bus of this machine, as a struct pci_config initializer (dev/pci.h). */
#define LAYOUT_PCI_CONFIG(vmm_ops) { .vmm = (vmm_ops), .mmio_gpa = LAYOUT_PCI_MMIO_GPA,	\
		.mmio_size = LAYOUT_PCI_MMIO_SIZE, .intx_gsi_base = LAYOUT_PCI_INTX_GSI_BASE,	\
		.intx_nr_lines = LAYOUT_PCI_INTX_NR_LINES }

/* Port I/O */
#define PORT_COM1		0x3f8
#define IRQ_COM1		4
#define PORT_I8042_DATA		0x60
#define PORT_SYS_CTRL_B		0x61
#define PORT_I8042_CMD		0x64
#define PORT_CMOS		0x70	/* index 0x70, data 0x71 */
#define PORT_POST		0x80	/* POST codes, logged with --verbose */
#define PORT_DEBUGCON		0xe9	/* --debug-console: Bochs/QEMU debug port ... */
#define PORT_DEBUGCON_SEABIOS	0x402	/* ... and SeaBIOS's */
#define PORT_TEST_EXIT		0x501	/* like QEMU's isa-debug-exit default */
#define PORT_BOOT_TIMER		0x504	/* --boot-timer: the port twin of LAYOUT_BOOT_TIMER_GPA */
#define PORT_ACPI_PM_BASE	0x600	/* PM1a event (4), PM1a control (2) at +4, PM timer at +8 */
#define PORT_SYS_CTRL_A		0x92	/* A20 and fast reset (dev/port92.h) */
#define PORT_FW_CFG		0x510	/* --bios: fw_cfg selector 0x510, data 0x511, DMA 0x514 */
#define PORT_ATA_CMD		0x1f0	/* if=ide: primary ATA channel command block ... */
#define PORT_ATA_CTL		0x3f6	/* ... and control block */
#define IRQ_ATA			14
#define PORT_PCI_CONFIG		0xcf8	/* 0xcf8 address, 0xcfc..0xcff data */

#endif
