/* virtio-fs served by a vhost-user back-end (virtiofsd): ckvm keeps the PCI function, feature
 * negotiation and config space (the tag, the request queue count); the hiprio queue and the request
 * queues go to the back-end. No DAX window (shared memory regions are not served). */
#ifndef CKVM_VHOST_USER_FS_H
#define CKVM_VHOST_USER_FS_H

#include <stdint.h>

#include "core/evloop.h"
#include "core/guest_mem.h"
#include "virtio/vhost_user_dev.h"

#define VUFS_TAG_MAX 36				/* virtio_fs_config.tag: not NUL-terminated when full */
#define VUFS_MAX_REQUEST_QUEUES (VUDEV_MAX_QUEUES - 1)	/* queue 0 is hiprio */
#define VUFS_QUEUE_SIZE_MAX 1024		/* libvhost-user's VIRTQUEUE_MAX_SIZE */
#define VUFS_QUEUE_SIZE_DEFAULT 128		/* what QEMU's vhost-user-fs-pci offers */

struct vufs_config {
	const struct guest_mem *gm;	/* shared RAM (memfd regions), else activation fails */
	const char *socket;		/* the back-end's listening socket */
	const char *name;		/* log and device name, e.g. "vfs0" */
	const char *tag;		/* what the guest mounts: 1..VUFS_TAG_MAX bytes */
	struct evloop *ev;		/* watches the connection for the back-end's death */
	uint16_t request_queues;	/* 1..VUFS_MAX_REQUEST_QUEUES */
	uint16_t queue_size;		/* a power of two up to VUFS_QUEUE_SIZE_MAX; 0: the default */
};

/* Connect, negotiate (GET_QUEUE_NUM must cover hiprio + the request queues), set config space.
 * 0 or -errno with one log line. Then vudev_virtio() and vudev_device() give it to the board. */
int vufs_create(struct vudev **out, const struct vufs_config *cfg);

#endif
