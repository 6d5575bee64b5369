/* virtio-rng, the entropy device (virtio 1.2 §5.4): one requestq whose writable buffers are filled
 * from the host's getrandom(), optionally limited to a number of bytes per second (a token bucket;
 * when it is empty a timerfd on the I/O loop resumes the queue). No config space, no features. */
#ifndef CKVM_VIRTIO_RNG_H
#define CKVM_VIRTIO_RNG_H

#include <stdint.h>

#include "core/device.h"
#include "core/evloop.h"
#include "core/guest_mem.h"
#include "virtio/virtio.h"

#define VRNG_QUEUE_SIZE	64
#define VRNG_RATE_MAX	(1ULL << 32)	/* bytes/s accepted by --rng bytes_per_sec */

struct vrng;

struct vrng_config {
	const struct guest_mem *gm;
	struct evloop *ev;		/* the rate limit's timer is watched here; NULL: no limit allowed */
	const char *name;		/* NULL = "vrng" */
	uint64_t bytes_per_sec;		/* 0 = unlimited */
	uint16_t queue_size;		/* power of two; 0 = VRNG_QUEUE_SIZE */
};

/* 0 or -errno (-EINVAL for a bad config). */
int vrng_create(struct vrng **out, const struct vrng_config *cfg);
/* After the vCPUs and the event loop have stopped. */
void vrng_destroy(struct vrng *r);
struct virtio_dev *vrng_virtio(struct vrng *r);
/* Its lifecycle (kind "virtio-rng"): pause holds the queue, resume serves it once, save/restore
 * carry the bytes delivered and the bucket's fill. */
struct device *vrng_device(struct vrng *r);
/* Bytes handed to the guest so far. */
uint64_t vrng_bytes(struct vrng *r);

#endif
