/* The PCI face of the ATA channel: an IDE controller function (class 0x0101) in compatibility mode,
 * so firmware and OS find the legacy ports 0x1f0/0x3f6 and IRQ 14 through PCI. SeaBIOS scans ISA ATA
 * ports only on a machine with no PCI devices at all; with any, it takes IDE from such a function
 * (src/hw/ata.c ata_scan), as Linux's ata_piix and ata_generic do. */
#ifndef CKVM_DEV_ATA_PCI_H
#define CKVM_DEV_ATA_PCI_H

#include "core/device.h"
#include "dev/pci.h"

/* PIIX3 IDE (Intel 82371SB function 1), the controller QEMU's i440FX machine has: every guest knows it. */
#define ATA_PCI_VENDOR		0x8086
#define ATA_PCI_DEVICE		0x7010
/* Mass storage / IDE; prog-if 0x80: both channels in compatibility mode (bits 0 and 2 clear, fixed:
 * bits 1 and 3 clear), bus-master capable as PIIX says, but BAR4 reads 0 so nobody uses DMA. */
#define ATA_PCI_CLASS		0x010180
/* PIIX IDE timing registers: bit 15 (IDE decode enable) of IDETIM, per channel; ata_piix reads the
 * enable bits before probing a channel. Primary on, secondary off: only 0x1f0 has drives. */
#define ATA_PCI_IDETIM_PRI	0x40
#define ATA_PCI_IDETIM_SEC	0x42
#define ATA_PCI_IDETIM_IDE	0x8000

struct ata_pci;

/* 0 or -ENOMEM. The function is on no bus yet: the board adds ata_pci_dev() with pci_add_device. */
int ata_pci_create(struct ata_pci **out);
void ata_pci_destroy(struct ata_pci *p);
struct pci_dev *ata_pci_dev(struct ata_pci *p);
/* Its lifecycle (device.h), kind "ata-pci", name "ide-pci"; no state besides config space (the bus
 * keeps it); destroy op ata_pci_destroy (after it the bus must not be used: destroy comes last first). */
struct device *ata_pci_device(struct ata_pci *p);

#endif
