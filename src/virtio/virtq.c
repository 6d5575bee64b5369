/* Split virtqueue, device side (virtio 1.x spec §2.7): ring validation at enable, chain walking with
 * every index, length and address bounded, used ring updates and interrupt suppression (EVENT_IDX).
 * Runs on whichever single thread processes the queue (a device worker or the I/O thread). */
#include "virtio/virtq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Ring sizes from §2.7: the avail/used rings include their trailing event field. */
#define VQ_DESC_BYTES(n)  (16u * (uint32_t)(n))
#define VQ_AVAIL_BYTES(n) (6u + 2u * (uint32_t)(n))
#define VQ_USED_BYTES(n)  (6u + 8u * (uint32_t)(n))

int vq_chain_init(struct vq_chain *c, uint16_t max)
{
	memset(c, 0, sizeof(*c));
	if (!max)
		return -EINVAL;
	c->iov = calloc(max, sizeof(*c->iov));
	if (!c->iov)
		return -ENOMEM;
	c->max = max;
	return 0;
}

void vq_chain_free(struct vq_chain *c)
{
	free(c->iov);
	memset(c, 0, sizeof(*c));
}

void vq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

static bool vq_aligned(const void *p, uint64_t gpa, unsigned align)
{
	return !(gpa & (align - 1)) && !((uintptr_t)p & (align - 1));
}

int vq_enable(struct virtq *vq, const struct guest_mem *gm, uint16_t size, uint64_t desc_gpa,
	      uint64_t avail_gpa, uint64_t used_gpa, uint64_t features)
{
	void *desc, *avail, *used;

	vq_reset(vq);
	if (!size || size > VQ_SIZE_MAX || (size & (size - 1))) {
		log_guest("virtq", "queue size %u is not a power of two <= %u", size, VQ_SIZE_MAX);
		return -EINVAL;
	}
	desc = gm_ptr(gm, desc_gpa, VQ_DESC_BYTES(size));
	avail = gm_ptr(gm, avail_gpa, VQ_AVAIL_BYTES(size));
	used = gm_ptr(gm, used_gpa, VQ_USED_BYTES(size));
	if (!desc || !avail || !used) {
		log_guest("virtq", "ring outside RAM (desc %#llx avail %#llx used %#llx size %u)",
			  (unsigned long long)desc_gpa, (unsigned long long)avail_gpa,
			  (unsigned long long)used_gpa, size);
		return -EINVAL;
	}
	if (!vq_aligned(desc, desc_gpa, VRING_DESC_ALIGN_SIZE) ||
	    !vq_aligned(avail, avail_gpa, VRING_AVAIL_ALIGN_SIZE) ||
	    !vq_aligned(used, used_gpa, VRING_USED_ALIGN_SIZE)) {
		log_guest("virtq", "misaligned ring (desc %#llx avail %#llx used %#llx)",
			  (unsigned long long)desc_gpa, (unsigned long long)avail_gpa,
			  (unsigned long long)used_gpa);
		return -EINVAL;
	}
	vq->gm = gm;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->event_idx = (features >> VIRTIO_RING_F_EVENT_IDX) & 1;
	vq->indirect = (features >> VIRTIO_RING_F_INDIRECT_DESC) & 1;
	vq->size = size;
	return 0;
}

void vq_set_indices(struct virtq *vq, uint16_t last_avail, uint16_t used_idx)
{
	vq->last_avail = last_avail;
	vq->avail_idx = last_avail;
	vq->used_idx = used_idx;
	vq->signalled_valid = false;
}

void vq_unpop(struct virtq *vq)
{
	if (vq->size)
		vq->last_avail--;
}

static uint16_t *vq_used_event(struct virtq *vq);

bool vq_has_unseen(struct virtq *vq)
{
	if (!vq->size || !vq->used_idx)
		return false;
	if (vq->event_idx)
		return __atomic_load_n(vq_used_event(vq), __ATOMIC_RELAXED) != vq->used_idx;
	return !(__atomic_load_n(&vq->avail->flags, __ATOMIC_RELAXED) & VRING_AVAIL_F_NO_INTERRUPT);
}

/* Snapshot one descriptor: the guest may rewrite it concurrently, so validate only the copy.
 * The signal fence keeps the compiler from re-reading guest memory instead of the copy. */
static void vq_desc_read(struct vring_desc *dst, const struct vring_desc *src)
{
	memcpy(dst, src, sizeof(*dst));
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static uint16_t *vq_avail_event(struct virtq *vq)
{
	return (uint16_t *)&vq->used->ring[vq->size];
}

static uint16_t *vq_used_event(struct virtq *vq)
{
	return &vq->avail->ring[vq->size];
}

static int vq_bad(struct virtq *vq, const char *why, uint16_t idx)
{
	log_guest("virtq", "malformed ring: %s (index %u)", why, idx);
	vq->broken = true;
	return -EINVAL;
}

/* Walk the chain starting at head into c. Descriptor tables: the ring's own (hops bounded by
 * the queue size, which catches every loop) and at most one indirect table (hops bounded by its
 * entry count, which is itself bounded by the chain capacity). */
static int vq_walk(struct virtq *vq, uint16_t head, struct vq_chain *c)
{
	const struct vring_desc *table = vq->desc;
	uint32_t table_n = vq->size, idx = head, hops = 0;
	bool in_indirect = false;
	uint64_t total = 0;

	c->head = head;
	c->nr_rd = c->nr_wr = 0;
	c->rd_len = c->wr_len = 0;
	if (head >= vq->size)
		return vq_bad(vq, "head index out of range", head);
	for (;;) {
		struct vring_desc d;
		struct iovec *iov;
		void *p;

		if (idx >= table_n)
			return vq_bad(vq, "next index out of range", (uint16_t)idx);
		if (++hops > table_n)
			return vq_bad(vq, "descriptor loop or chain longer than its table", head);
		vq_desc_read(&d, &table[idx]);

		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!vq->indirect)
				return vq_bad(vq, "indirect descriptor without INDIRECT_DESC", head);
			if (in_indirect)
				return vq_bad(vq, "nested indirect table", head);
			if (d.flags & VRING_DESC_F_NEXT)
				return vq_bad(vq, "indirect descriptor with NEXT", head);
			if (!d.len || d.len % sizeof(struct vring_desc) ||
			    d.len / sizeof(struct vring_desc) > c->max)
				return vq_bad(vq, "bad indirect table length", head);
			p = gm_ptr(vq->gm, d.addr, d.len);
			if (!p)
				return vq_bad(vq, "indirect table outside RAM", head);
			table = p;
			table_n = d.len / sizeof(struct vring_desc);
			in_indirect = true;
			idx = 0;
			hops = 0;
			continue;
		}

		if (!(d.flags & VRING_DESC_F_WRITE) && c->nr_wr)
			return vq_bad(vq, "readable descriptor after a writable one", head);
		if (d.len) {
			p = gm_ptr(vq->gm, d.addr, d.len);
			if (!p)
				return vq_bad(vq, "buffer outside RAM", head);
			total += d.len;
			if (total > UINT32_MAX)
				return vq_bad(vq, "chain longer than 4 GiB", head);
			if (c->nr_rd + c->nr_wr >= c->max)
				return vq_bad(vq, "too many segments", head);
			iov = &c->iov[c->nr_rd + c->nr_wr];
			iov->iov_base = p;
			iov->iov_len = d.len;
			if (d.flags & VRING_DESC_F_WRITE) {
				c->nr_wr++;
				c->wr_len += d.len;
			} else {
				c->nr_rd++;
				c->rd_len += d.len;
			}
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		idx = d.next;
	}
}

/* Re-read avail->idx; -EINVAL if the driver claims more new entries than the ring holds. */
static int vq_fetch_avail(struct virtq *vq)
{
	vq->avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	if ((uint16_t)(vq->avail_idx - vq->last_avail) > vq->size)
		return vq_bad(vq, "avail index ran ahead of the ring", vq->avail_idx);
	return 0;
}

int vq_pop(struct virtq *vq, struct vq_chain *c)
{
	uint16_t head;
	int ret;

	if (vq->broken)
		return -EINVAL;
	if (!vq->size)
		return 0;
	if (vq->last_avail == vq->avail_idx) {
		ret = vq_fetch_avail(vq);
		if (ret)
			return ret;
		if (vq->last_avail == vq->avail_idx) {
			if (!vq->event_idx)
				return 0;
			/* Ask for a kick at the next entry, then look again: a driver that
			 * published before seeing avail_event would otherwise not kick. */
			__atomic_store_n(vq_avail_event(vq), vq->last_avail, __ATOMIC_RELAXED);
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			ret = vq_fetch_avail(vq);
			if (ret)
				return ret;
			if (vq->last_avail == vq->avail_idx)
				return 0;
		}
	}
	head = __atomic_load_n(&vq->avail->ring[vq->last_avail & (vq->size - 1)], __ATOMIC_RELAXED);
	ret = vq_walk(vq, head, c);
	if (ret)
		return ret;
	vq->last_avail++;
	return 1;
}

void vq_push(struct virtq *vq, uint16_t head, uint32_t written)
{
	struct vring_used_elem *e;

	if (!vq->size)
		return;
	e = &vq->used->ring[vq->used_idx & (vq->size - 1)];
	__atomic_store_n(&e->id, (uint32_t)head, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, written, __ATOMIC_RELAXED);
	vq->used_idx++;
	__atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
}

bool vq_should_notify(struct virtq *vq)
{
	uint16_t old, event;
	bool valid;

	if (!vq->size)
		return false;
	/* Order our used->idx store before reading the driver's suppression fields. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(__atomic_load_n(&vq->avail->flags, __ATOMIC_RELAXED) &
			 VRING_AVAIL_F_NO_INTERRUPT);
	old = vq->signalled_used;
	valid = vq->signalled_valid;
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	event = __atomic_load_n(vq_used_event(vq), __ATOMIC_RELAXED);
	return !valid || vring_need_event(event, vq->used_idx, old);
}

size_t vq_iov_copy(const struct iovec *iov, unsigned nr, void *buf, size_t len, size_t skip, bool to_iov)
{
	uint8_t *p = buf;
	size_t done = 0;

	for (unsigned i = 0; i < nr && done < len; i++) {
		size_t n;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		n = iov[i].iov_len - skip < len - done ? iov[i].iov_len - skip : len - done;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + skip, p + done, n);
		else
			memcpy(p + done, (uint8_t *)iov[i].iov_base + skip, n);
		done += n;
		skip = 0;
	}
	return done;
}
