/* The transport-independent virtio device contract (virtio 1.x spec §2, §3): a device (blk, net...)
 * embeds struct virtio_dev; a transport (virtio-pci) owns the status/feature/queue registers and
 * calls the ops. Devices never see the transport; the transport never parses device requests. */
#ifndef CKVM_VIRTIO_H
#define CKVM_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "core/guest_mem.h"
#include "virtio/virtq.h"

struct virtio_dev;

/* Threads: get_features/cfg_read/cfg_write/activate/reset are called by the transport on a vCPU thread,
 * serialised by the transport (never concurrently with each other for one device). notify may come
 * from the I/O thread (ioeventfd handler) or a vCPU thread (MMIO fallback); it must not block. */
struct virtio_dev_ops {
	/* Device feature bits offered. Include VIRTIO_RING_F_EVENT_IDX / VIRTIO_RING_F_INDIRECT_DESC if the
	 * device is fine with them (virtq supports both); the transport adds VIRTIO_F_VERSION_1. */
	uint64_t (*get_features)(struct virtio_dev *d);
	/* Device-specific configuration space, off/len already bounded to [0, cfg_len) by the transport. */
	void (*cfg_read)(struct virtio_dev *d, uint32_t off, void *data, uint32_t len);
	void (*cfg_write)(struct virtio_dev *d, uint32_t off, const void *data, uint32_t len);
	/* DRIVER_OK: d->features is final and the enabled queues were vq_enable()d by the transport.
	 * Start processing. 0, or -errno => the transport sets DEVICE_NEEDS_RESET. */
	int (*activate)(struct virtio_dev *d);
	/* Device reset (status := 0): stop all queue processing; after return the device touches no ring
	 * and no guest memory until the next activate. The transport then vq_reset()s every queue. */
	void (*reset)(struct virtio_dev *d);
	/* Driver notification (doorbell) for queue q (q < num_queues, checked by the transport). */
	void (*notify)(struct virtio_dev *d, uint16_t q);
};

struct virtio_dev {
	/* Filled in by the device before registering with a transport: */
	const struct virtio_dev_ops *ops;
	const char *name;		/* for logs, e.g. "vblk0" */
	uint16_t device_id;		/* VIRTIO_ID_BLOCK, VIRTIO_ID_NET, ... (<linux/virtio_ids.h>) */
	uint16_t num_queues;
	uint16_t queue_size_max;	/* Queue Size the transport offers (power of two) */
	uint32_t cfg_len;		/* size of the device-specific config structure */
	struct virtq *vq;		/* num_queues entries, owned by the device */
	const struct guest_mem *gm;
	uint64_t features;		/* negotiated; written by the transport at FEATURES_OK */
	bool external_doorbells;	/* vhost-user: another process reads the doorbell eventfds */

	/* Filled in by the transport. These may be called from ANY thread (device workers included),
	 * also while the transport is inside ops->reset; so they must not take a lock the transport holds
	 * around ops calls (eventfd writes and atomics only). */
	void (*signal_used)(struct virtio_dev *d, uint16_t q);	/* queue interrupt (MSI-X irqfd / INTx+ISR) */
	void (*signal_config)(struct virtio_dev *d);		/* config change interrupt */
	void (*needs_reset)(struct virtio_dev *d);		/* DEVICE_NEEDS_RESET + config interrupt */
	/* Queue q's doorbell eventfd and the irqfd of its interrupt vector (MSI-X only: -ENODEV
	 * otherwise), for a back-end in another process. From activate; the fds stay the transport's. */
	int (*queue_fds)(struct virtio_dev *d, uint16_t q, int *kick_fd, int *call_fd);
	void *transport;
};

static inline void virtio_signal_used(struct virtio_dev *d, uint16_t q)
{
	if (d->signal_used)
		d->signal_used(d, q);
}

static inline void virtio_needs_reset(struct virtio_dev *d)
{
	if (d->needs_reset)
		d->needs_reset(d);
}

static inline void virtio_signal_config(struct virtio_dev *d)
{
	if (d->signal_config)
		d->signal_config(d);
}

static inline int virtio_has_feature(const struct virtio_dev *d, unsigned bit)
{
	return (d->features >> bit) & 1;
}

#define virtio_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* Transport checklist (virtio-pci):
 *  - device_features = ops->get_features(d) | 1ULL << VIRTIO_F_VERSION_1; refuse FEATURES_OK when the
 *    driver accepted bits outside that set or did not accept VERSION_1; store d->features.
 *  - Per queue: offer queue_size_max; when the driver writes queue_enable=1 (or at DRIVER_OK) call
 *    vq_enable(&d->vq[q], d->gm, size, desc, driver(avail), device(used), d->features); on -EINVAL
 *    set DEVICE_NEEDS_RESET.
 *  - DRIVER_OK -> ops->activate(d). Status 0 -> ops->reset(d), then vq_reset() on every queue.
 *  - Doorbell for q -> ops->notify(d, q). */

#endif
