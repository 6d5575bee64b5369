/* Driver-side split virtqueue mock for unit tests: guest RAM in a malloc'ed region, rings laid out
 * like a driver would, chains added directly or through an indirect table, used entries read back.
 * Raw setters let tests write hostile descriptors and indices. */
#ifndef CKVM_VQ_MOCK_H
#define CKVM_VQ_MOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_ring.h>

#include "core/guest_mem.h"
#include "virtio/virtq.h"

#define VQM_RAM_GPA 0x100000ULL	/* guest RAM starts here (so gpa 0 is not RAM) */

struct vqm_seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

struct vq_mock {
	struct guest_mem gm;
	uint8_t *ram;
	uint64_t ram_len;
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint64_t heap_gpa;	/* next free byte for buffers/indirect tables */
	uint16_t next_desc;	/* descriptors are handed out round-robin */
	uint16_t avail_idx;	/* driver's shadow of avail->idx */
	uint16_t used_seen;	/* used entries consumed so far */
};

/* RAM of ram_len bytes at VQM_RAM_GPA with rings for a queue of `size` at its start. 0 or -errno. */
int vqm_init(struct vq_mock *m, uint16_t size, uint64_t ram_len);
void vqm_free(struct vq_mock *m);
/* vq_enable() the device side on the mock's rings. */
int vqm_enable(struct vq_mock *m, struct virtq *vq, uint64_t features);

/* Host pointer for a gpa inside the mock RAM (asserts it is). */
void *vqm_host(struct vq_mock *m, uint64_t gpa);
/* Allocate len bytes of guest memory (16-byte aligned) and return the gpa; 0 when out of space. */
uint64_t vqm_alloc(struct vq_mock *m, uint64_t len);

/* Build a chain of n segments in the ring (NEXT-linked), return its head (not yet published). */
uint16_t vqm_chain(struct vq_mock *m, const struct vqm_seg *segs, int n);
/* Build an indirect table for the segments and one ring descriptor pointing at it; return head. */
uint16_t vqm_chain_indirect(struct vq_mock *m, const struct vqm_seg *segs, int n);
/* Put head into the avail ring and bump avail->idx (release). */
void vqm_publish(struct vq_mock *m, uint16_t head);
/* Convenience: build a direct chain and publish it. */
uint16_t vqm_add(struct vq_mock *m, const struct vqm_seg *segs, int n);

/* Raw access for hostile tests. */
struct vring_desc *vqm_desc(struct vq_mock *m, uint16_t idx);
void vqm_set_desc(struct vq_mock *m, uint16_t idx, uint64_t addr, uint32_t len, uint16_t flags,
		  uint16_t next);
struct vring_avail *vqm_avail(struct vq_mock *m);
struct vring_used *vqm_used(struct vq_mock *m);
void vqm_set_used_event(struct vq_mock *m, uint16_t v);
uint16_t vqm_avail_event(struct vq_mock *m);

/* Next used entry: 1 and its id and len, 0 when none is new. */
int vqm_get_used(struct vq_mock *m, uint32_t *id, uint32_t *len);

#endif
