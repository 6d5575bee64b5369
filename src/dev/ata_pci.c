/* An IDE controller function on PCI bus 0 fronting the legacy ATA channel (ata.c): config space only.
 * In compatibility mode the ports and IRQ are the ISA ones, so the function has no BARs and raises no
 * INTx (IRQ 14 is an ISA line); it exists so that PCI-scanning firmware and drivers find the channel.
 * Config accesses run on vCPU threads inside pci.c; nothing here runs after setup. */
#include "dev/ata_pci.h"

#include <errno.h>
#include <linux/pci_regs.h>
#include <stdlib.h>

struct ata_pci {
	struct device dev;
	struct pci_dev pdev;
};

static void ata_pci_dev_destroy(struct device *d)
{
	ata_pci_destroy(device_of(d, struct ata_pci, dev));
}

static const struct device_ops ata_pci_ops = {
	.kind = "ata-pci",
	.state_version = 1,
	.destroy = ata_pci_dev_destroy,
};

int ata_pci_create(struct ata_pci **out)
{
	struct ata_pci *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	device_init(&p->dev, &ata_pci_ops, "ide-pci");
	pci_dev_init(&p->pdev, "ide", ATA_PCI_VENDOR, ATA_PCI_DEVICE, ATA_PCI_CLASS, 0);
	p->pdev.priv = p;
	/* Read-only: timings a driver writes change nothing in a PIO model, and the enable bits must
	 * keep saying which channel has the drives. */
	pci_cfg_set16(p->pdev.cfg, ATA_PCI_IDETIM_PRI, ATA_PCI_IDETIM_IDE);
	pci_cfg_set16(p->pdev.cfg, ATA_PCI_IDETIM_SEC, 0);
	/* I/O decoding on (the legacy ports answer whatever the command register says). */
	p->pdev.cfg[PCI_COMMAND] |= PCI_COMMAND_IO;
	*out = p;
	return 0;
}

void ata_pci_destroy(struct ata_pci *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->pdev.lock);
	free(p);
}

struct pci_dev *ata_pci_dev(struct ata_pci *p)
{
	return &p->pdev;
}

struct device *ata_pci_device(struct ata_pci *p)
{
	return &p->dev;
}
