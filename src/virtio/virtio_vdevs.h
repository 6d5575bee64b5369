/* The board's small virtio devices (--rng, --vsock, --balloon), created after the disks and NICs by
 * board_virtio_create through its two helpers: register a device on the board, then wrap a virtio
 * device in a virtio-pci function. Main thread, during setup. */
#ifndef CKVM_VIRTIO_VDEVS_H
#define CKVM_VIRTIO_VDEVS_H

#include "core/device.h"
#include "virtio/virtio.h"

struct board;

typedef int (*vdevs_register_fn)(struct board *b, struct device *d);
typedef int (*vdevs_vpci_fn)(struct board *b, struct virtio_dev *vdev, const char *what, int *slot);

int board_vdevs_create(struct board *b, vdevs_register_fn reg, vdevs_vpci_fn vpci);

struct vballoon_info;
/* The API's balloon calls (struct api_vmm): -1 leaves a value as it is. 0, -ENODEV (no balloon),
 * -EINVAL (a target not below the guest's RAM; stats not configured). API thread. */
int board_balloon_set(void *ctx, int64_t amount_mib, int64_t stats_interval_s);
int board_balloon_get(void *ctx, struct vballoon_info *out);

#endif
