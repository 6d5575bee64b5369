/* virtio-pci modern transport (virtio 1.x spec §4.1): exposes a struct virtio_dev as a PCI function
 * with common/notify/ISR/device capabilities in one memory BAR, MSI-X (irqfd) or INTx+ISR interrupts
 * and ioeventfd doorbells served on the event loop. */
#ifndef CKVM_VIRTIO_PCI_H
#define CKVM_VIRTIO_PCI_H

#include <stdint.h>

#include "core/device.h"
#include "core/evloop.h"
#include "dev/pci.h"
#include "virtio/virtio.h"

/* BAR 0 (32-bit memory, VPCI_BAR_SIZE) layout. */
#define VPCI_BAR		0
#define VPCI_BAR_SIZE		0x8000
#define VPCI_COMMON_OFF		0x0000
#define VPCI_ISR_OFF		0x1000
#define VPCI_DEVICE_OFF		0x2000
#define VPCI_DEVICE_MAX		0x1000
#define VPCI_NOTIFY_OFF		0x3000
#define VPCI_NOTIFY_MULT	4	/* queue q's doorbell is at VPCI_NOTIFY_OFF + 4 * q */
#define VPCI_MSIX_TABLE_OFF	0x4000
#define VPCI_MSIX_PBA_OFF	0x5000
#define VPCI_MAX_QUEUES		64	/* MSI-X vectors: one per queue + one for config */

struct virtio_pci;

/* Wrap vdev (ops, num_queues, queue_size_max, cfg_len, vq, gm filled in) as a PCI function, add it to
 * pci (next free slot, INTA), create one doorbell eventfd per queue and watch it on ev. The board
 * must have (or will) register pci_mmio_ops; ioeventfds follow the BAR wherever the guest puts it.
 * Main thread, before boot. 0 or -errno. */
int virtio_pci_create(struct virtio_pci **out, struct pci *pci, struct virtio_dev *vdev, struct evloop *ev);
/* After the vCPUs and the event loop have stopped. Does not destroy vdev. */
void virtio_pci_destroy(struct virtio_pci *vp);
struct pci_dev *virtio_pci_dev(struct virtio_pci *vp);
/* Its lifecycle (kind "virtio-pci"): destroy is virtio_pci_destroy; register it after its device
 * (so it resumes first). save/restore carry the transport registers, each queue's setup and
 * device-side indices, and the PCI function (virtio_pci_state.c); save is -EBUSY while a request is
 * in flight. Restore into a paused device: a running one is re-activated (as at DRIVER_OK) and
 * starts at its device's resume; the transport's resume then signals queues with unseen used
 * entries. */
struct device *virtio_pci_device(struct virtio_pci *vp);

#endif
