/* virtio-blk internals shared by the request path (virtio_blk.c) and the lifecycle
 * (virtio_blk_life.c). */
#ifndef CKVM_VIRTIO_BLK_INT_H
#define CKVM_VIRTIO_BLK_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_blk.h>

#include "virtio/virtio_blk.h"

#define SECTOR_SHIFT 9
#define SECTOR_SIZE (1u << SECTOR_SHIFT)
#define VBLK_HDR_LEN 16u	/* struct virtio_blk_outhdr: type, ioprio, sector */
#define VBLK_BATCH 32		/* completions between interrupt decisions */
#define VBLK_BUDGET 1024	/* requests per worker pass */

struct vblk {
	struct device dev;		/* the board's registry entry (device.h) */
	struct virtio_dev vdev;
	struct virtq vq;
	struct blk_backend *be;
	const char *name;
	bool readonly;
	char serial[VIRTIO_BLK_ID_BYTES];
	uint64_t capacity_sectors;	/* written only while paused (the worker reads it) */
	struct virtio_blk_config cfg;	/* guest-visible; capacity changes under lock */

	/* Worker state, under lock. running: activated and not failed; kick: a notify arrived;
	 * busy: the worker is inside the queue; stop: exit the thread; abandoned: vblk_quiesce gave up
	 * on a request the back-end never finished (nobody waits for `busy` any more). */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* CLOCK_MONOTONIC, for vblk_quiesce's deadline */
	bool running, kick, busy, stop, abandoned;
	bool paused;			/* device pause: the worker takes nothing new (atomic reads) */
	bool cfg_pending;		/* config changed while paused: interrupt at resume */
	unsigned inflight;		/* popped, not yet pushed (atomic: the worker counts) */

	/* Worker-only scratch. */
	struct vq_chain chain;
	struct iovec *data;
};

/* virtio_blk_life.c */
extern const struct device_ops vblk_dev_ops;
int vblk_dev_pause(struct device *d, int64_t deadline_ns);
void vblk_dev_resume(struct device *d);

#endif
