/* A virtio device whose queues a vhost-user back-end serves (QEMU docs/interop/vhost-user.rst): ckvm
 * keeps the PCI function, feature negotiation and config space; the guest's doorbell ioeventfds are the
 * back-end's kick fds and the queues' MSI-X irqfds its call fds, so no ckvm thread is in the data
 * path. One generic device; each kind (vhost_user_blk.c, vhost_user_net.c, vhost_user_fs.c) only says
 * which features pass through and what its config space holds.
 * Threads: created on the main thread; activate/reset on a vCPU thread under the transport's lock; the
 * back-end's hang-up is seen by the I/O thread and puts the device in NEEDS_RESET. */
#ifndef CKVM_VHOST_USER_DEV_H
#define CKVM_VHOST_USER_DEV_H

#include <stdint.h>

#include "core/device.h"
#include "core/evloop.h"
#include "core/guest_mem.h"
#include "virtio/vhost_user.h"
#include "virtio/virtq.h"
#include "virtio/virtio.h"

#define VUDEV_MAX_QUEUES 16
#define VUDEV_CONFIG_MAX 128	/* bytes of config space a kind may hold */

struct vudev_kind {
	const char *kind;	/* lifecycle kind and log subsystem: "vhost-user-blk" */
	const char *what;	/* for the hang-up line: "disk", "network card" */
	uint16_t device_id;	/* VIRTIO_ID_* */
	uint16_t queue_size;	/* largest queue the guest may ask for */
	uint64_t pass;		/* device features passed through when the back-end offers them */
	uint64_t own;		/* features ckvm serves itself (config fields): offered, never sent on */
	uint64_t protocol;	/* protocol features asked for (REPLY_ACK, CONFIG, MQ) */
	/* Orphan mode: once the back-end is dead, ckvm answers each new request on queue q itself:
	 * fill c's writable part with the kind's error and say how many bytes in *written; or return
	 * -1 to leave the queue alone (a NIC's receive queue). NULL: no orphan mode. */
	int (*fail)(uint16_t q, struct vq_chain *c, uint32_t *written);
};

struct vudev_config {
	const struct guest_mem *gm;	/* shared RAM (memfd regions), else activation fails */
	const char *socket;		/* the back-end's listening socket */
	const char *name;		/* log and device name, e.g. "vblk0" */
	struct evloop *ev;		/* watches the connection for the back-end's death */
	uint16_t num_queues;		/* queues the device has (at most VUDEV_MAX_QUEUES) */
	uint16_t queue_size;		/* largest queue offered (a power of two); 0: the kind's */
};

struct vudev;

/* Connect, negotiate (the back-end must offer VERSION_1). 0 or -errno with one log line; on an error
 * nothing is left behind. The kind then sets config space and calls vudev_start(). */
int vudev_create(struct vudev **out, const struct vudev_kind *k, const struct vudev_config *cfg);
/* The connection (a kind reads the back-end's config space through it before vudev_start). */
struct vhu_conn *vudev_conn(struct vudev *u);
/* Features the back-end offered and the guest will see (pass & offer | own). */
uint64_t vudev_offered(const struct vudev *u);
void vudev_offer_clear(struct vudev *u, uint64_t features);
/* Config space as the guest reads it (len <= VUDEV_CONFIG_MAX; writes are ignored). */
void vudev_set_config(struct vudev *u, const void *cfg, uint32_t len);
/* Watch the connection for a hang-up from now on. */
int vudev_start(struct vudev *u);
/* A device that never reached the board (a kind's create failing after vudev_create). */
void vudev_free(struct vudev *u);

struct virtio_dev *vudev_virtio(struct vudev *u);
struct device *vudev_device(struct vudev *u);

#endif
