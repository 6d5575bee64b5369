/* The board's small virtio devices (--rng, --vsock, --balloon), created after the disks and NICs by
 * board_virtio_create through its two helpers: register a device on the board, then wrap a virtio
 * device in a virtio-pci function. Main thread, during setup. */
#ifndef CKVM_VIRTIO_VDEVS_H
#define CKVM_VIRTIO_VDEVS_H

#include "core/device.h"
#include "virtio/virtio.h"

struct board;

typedef int (*vdevs_register_fn)(struct board *b, struct device *d);
typedef int (*vdevs_vpci_fn)(struct board *b, struct virtio_dev *vdev, const char *what);

int board_vdevs_create(struct board *b, vdevs_register_fn reg, vdevs_vpci_fn vpci);

#endif
