/* Split virtqueue, device side (virtio 1.x spec §2.7): validated once at enable, every chain bounded.
 * Depends on guest_mem only. Thread model: one thread at a time processes a given queue (pop/push/
 * should_notify); enable/reset happen while nobody processes it (the device quiesces first). */
#ifndef CKVM_VIRTQ_H
#define CKVM_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_ring.h>

#include "core/guest_mem.h"

#define VQ_SIZE_MAX 32768	/* spec maximum Queue Size */

struct virtq {
	/* Validated host views of the three rings (NULL while disabled). */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	const struct guest_mem *gm;
	uint16_t size;		/* Queue Size chosen by the driver; 0 = disabled */
	uint16_t last_avail;	/* next avail ring slot to consume */
	uint16_t avail_idx;	/* avail->idx as last read (once per pop cycle) */
	uint16_t used_idx;	/* our shadow of used->idx */
	uint16_t signalled_used;	/* used_idx when we last decided to notify (EVENT_IDX) */
	bool signalled_valid;
	bool event_idx;		/* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;		/* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool broken;		/* a malformed chain was seen: every later pop fails */
};

/* One popped descriptor chain as host iovecs: readable segments first (iov[0..nr_rd)), then the
 * writable ones (iov[nr_rd..nr_rd+nr_wr)). Zero-length descriptors are accepted and skipped (they
 * produce no iovec and their address is not checked). */
struct vq_chain {
	uint16_t head;		/* descriptor id to hand back to vq_push */
	uint16_t nr_rd, nr_wr;
	uint16_t max;		/* capacity of iov: a chain with more non-empty segments is malformed */
	uint32_t rd_len, wr_len;	/* byte totals; rd_len + wr_len <= UINT32_MAX */
	struct iovec *iov;
};

static inline struct iovec *vq_chain_rd(struct vq_chain *c) { return c->iov; }
static inline struct iovec *vq_chain_wr(struct vq_chain *c) { return c->iov + c->nr_rd; }

/* Copy up to len bytes between buf and the segments, starting skip bytes into them (to_iov: into the
 * segments); the bytes copied (less than len when the segments end first). */
size_t vq_iov_copy(const struct iovec *iov, unsigned nr, void *buf, size_t len, size_t skip, bool to_iov);

/* Allocate a chain able to hold max segments (use the queue's maximum size). 0 or -ENOMEM/-EINVAL. */
int vq_chain_init(struct vq_chain *c, uint16_t max);
void vq_chain_free(struct vq_chain *c);

/* Validate and enable a queue: size a power of two <= VQ_SIZE_MAX, desc 16-, avail 2-, used 4-byte
 * aligned, each ring wholly inside one RAM region. features = negotiated feature bits.
 * Indices start at 0. 0 or -EINVAL (the queue stays disabled). */
int vq_enable(struct virtq *vq, const struct guest_mem *gm, uint16_t size, uint64_t desc_gpa,
	      uint64_t avail_gpa, uint64_t used_gpa, uint64_t features);
/* After vq_enable, continue where a saved queue stopped (a restore): the device's next avail slot
 * and its used index; the driver's avail index is re-read at the next pop (and bounded there, since
 * guest RAM may be loaded after the device), and the next interrupt decision notifies. */
void vq_set_indices(struct virtq *vq, uint16_t last_avail, uint16_t used_idx);
/* Give back the chain the last vq_pop returned, unused: the next pop returns it again (a device
 * that holds an empty receive buffer while pausing, so that saved indices show nothing in flight). */
void vq_unpop(struct virtq *vq);
/* Has the driver not yet been told about some used entry? With EVENT_IDX: used_event lags used_idx
 * (a driver that caught up re-arms used_event at its last seen index); without: used entries exist
 * and interrupts are not suppressed. For a resume after a restore, where an interrupt raised just
 * before the save may have been lost. Reads guest memory. */
bool vq_has_unseen(struct virtq *vq);
/* Disable and forget everything (device reset). */
void vq_reset(struct virtq *vq);
static inline bool vq_enabled(const struct virtq *vq) { return vq->size != 0; }

/* Take the next available chain. 1 = a chain in *c, 0 = queue empty (with EVENT_IDX the avail_event
 * has been re-armed race-free), -EINVAL = malformed chain or ring (queue marked broken; the caller
 * puts the device in NEEDS_RESET). */
int vq_pop(struct virtq *vq, struct vq_chain *c);
/* Return chain head to the driver with `written` bytes written into its writable part. */
void vq_push(struct virtq *vq, uint16_t head, uint32_t written);
/* After one or more pushes: must the driver be interrupted? (EVENT_IDX used_event, else
 * VRING_AVAIL_F_NO_INTERRUPT). Call once per batch; it records what was signalled. */
bool vq_should_notify(struct virtq *vq);

#endif
