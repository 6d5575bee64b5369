/* virtio-blk served by a vhost-user back-end (qemu-storage-daemon's vhost-user-blk export): ckvm keeps
 * the PCI function, feature negotiation and config space; the queue goes to the back-end. */
#ifndef CKVM_VHOST_USER_BLK_H
#define CKVM_VHOST_USER_BLK_H

#include "core/evloop.h"
#include "core/guest_mem.h"
#include "virtio/vhost_user_dev.h"

struct vublk_config {
	const struct guest_mem *gm;	/* shared RAM (memfd regions), else activation fails */
	const char *socket;		/* the back-end's listening socket */
	const char *name;		/* log and device name, e.g. "vblk0" */
	struct evloop *ev;		/* watches the connection for the back-end's death */
};

/* Connect, negotiate, read config space. 0 or -errno with one log line. Then vudev_virtio() and
 * vudev_device() give the device to the board. */
int vublk_create(struct vudev **out, const struct vublk_config *cfg);

#endif
