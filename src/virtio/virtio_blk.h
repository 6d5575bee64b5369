/* virtio-blk device (virtio 1.x spec §5.2): one request queue served by a per-disk worker thread. */
#ifndef CKVM_VIRTIO_BLK_H
#define CKVM_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/blk_file.h"
#include "core/device.h"
#include "core/guest_mem.h"
#include "virtio/virtio.h"

#define VBLK_QUEUE_SIZE 256	/* default Queue Size offered; seg_max = queue size - 2 */

struct vblk;

struct vblk_config {
	struct blk_backend *backend;	/* on success the vblk owns it (closed by vblk_destroy) */
	const struct guest_mem *gm;
	bool readonly;			/* forced on when backend->readonly */
	const char *serial;		/* GET_ID string, at most 20 bytes; NULL = empty */
	const char *name;		/* log name, e.g. "vblk0"; NULL = "vblk" */
	uint16_t queue_size;		/* power of two 4..32768; 0 = VBLK_QUEUE_SIZE */
};

/* Build the device and start its (idle) worker thread. 0 or -errno (-EINVAL: bad serial/queue size). */
int vblk_create(struct vblk **out, const struct vblk_config *cfg);
/* Stop taking requests (like a reset) and wait until deadline_ns (CLOCK_MONOTONIC) for the request
 * the back-end is working on. Returns 0 when the worker is idle, else the number of in-flight
 * requests it abandoned: the worker stays inside the back-end, vblk_reset no longer waits for it,
 * and vblk_destroy leaves it (and the device) alone. For a stop: call after the vCPUs stopped. */
unsigned vblk_quiesce(struct vblk *b, int64_t deadline_ns);
/* Stop and join the worker, close the backend, free. With a request abandoned by vblk_quiesce and
 * still in the back-end, it only detaches the worker (which keeps using the device). */
void vblk_destroy(struct vblk *b);
/* The device's virtio contract, to hand to a transport (virtio-pci). */
struct virtio_dev *vblk_virtio(struct vblk *b);

/* Its lifecycle (kind "virtio-blk"): pause finishes the request in the back-end and holds the
 * rest (doorbells are remembered), resume serves what arrived meanwhile, stop is vblk_quiesce,
 * destroy is vblk_destroy. Save/restore carry config space (capacity, segment limit, block size,
 * read-only) and a config interrupt owed; the queue is the transport's record. */
struct device *vblk_device(struct vblk *b);
/* The vblk behind a registry entry, or NULL when d is not a virtio-blk. */
struct vblk *vblk_of_device(struct device *d);
/* A drive's new backing file (PATCH /drives): pause the disk unless the VM has (-ETIMEDOUT when
 * its request does not finish by deadline_ns, nothing changed), swap, update the capacity in
 * config space, resume and raise the config change interrupt (at the VM's resume when paused).
 * -EROFS for a read-only back-end under a writable drive. *old gets the previous back-end, which
 * the caller closes. API thread. */
int vblk_swap_backend(struct vblk *b, struct blk_backend *be, int64_t deadline_ns,
		      struct blk_backend **old);

/* Serve available requests on the calling thread: 0 when the queue is empty, 1 when a budget of
 * requests was served and more may wait, -EINVAL on a malformed chain (needs_reset has then been
 * called). For tests and fuzzing only: the device must not be activated (its worker is idle). */
int vblk_poll(struct vblk *b);

#endif
