/* Input format of the PCI fuzz target and its seeds: a sequence of guest operations, each an opcode
 * byte (taken modulo FZ_PCI_NR_OPS) followed by its operands, little-endian:
 *   CFG_WRITE devfn reg width value32   type-1 address then an aligned data-port write (width 1/2/4)
 *   CFG_READ  devfn reg width           the same, reading
 *   PORT      sel value64               any access to 0xcf8 + (sel & 7), width 1 + (sel >> 4) % 8,
 *                                       a write when sel & 8
 *   BAR_WRITE off16 width value64       the virtio function's BAR 0 at off % VPCI_BAR_SIZE
 *   BAR_READ  off16 width
 *   WIN       off32 len8 rw8 value64    anywhere in the PCI MMIO window, width 1 + len % 8
 *   RAM       off16 n8 bytes[n % 33]    guest RAM (rings, buffers) at FUZZ_PCI_RAM_GPA + off
 *   SIGNAL    sel                       device-side used / config / needs-reset interrupt
 *   NOTIFY    q                         doorbell of queue q % 2 through the ioeventfd path
 * Widths are encoded as w: 1 << (w & 3). Bit 7 of the first byte selects MSI delivery without irqfd. */
#ifndef CKVM_FUZZ_PCI_H
#define CKVM_FUZZ_PCI_H

#define FUZZ_PCI_RAM_GPA 0x100000ULL
#define FUZZ_PCI_RAM_LEN 0x4000u
#define FUZZ_PCI_QMAX 16
#define FUZZ_PCI_MAX_OPS 4096

enum fz_pci_op {
	FZ_PCI_CFG_WRITE, FZ_PCI_CFG_READ, FZ_PCI_PORT, FZ_PCI_BAR_WRITE, FZ_PCI_BAR_READ, FZ_PCI_WIN,
	FZ_PCI_RAM, FZ_PCI_SIGNAL, FZ_PCI_NOTIFY, FZ_PCI_NR_OPS
};

#endif
