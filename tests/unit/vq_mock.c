/* Driver-side split virtqueue mock (what a guest driver does, §2.7.13) for the unit tests and fuzz
 * seeds: ring layout, chain building (direct and indirect), publishing, reading used entries.
 * Single-threaded on the test thread, except that the device side may run on a worker thread. */
#include "vq_mock.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t vqm_align(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int vqm_init(struct vq_mock *m, uint16_t size, uint64_t ram_len)
{
	int ret;

	memset(m, 0, sizeof(*m));
	m->ram = aligned_alloc(4096, (size_t)ram_len);
	if (!m->ram)
		return -ENOMEM;
	memset(m->ram, 0, (size_t)ram_len);
	m->ram_len = ram_len;
	ret = gm_add_region(&m->gm, VQM_RAM_GPA, ram_len, m->ram);
	if (ret) {
		free(m->ram);
		return ret;
	}
	m->size = size;
	m->desc_gpa = VQM_RAM_GPA;
	m->avail_gpa = m->desc_gpa + 16ULL * size;
	m->used_gpa = vqm_align(m->avail_gpa + 6 + 2ULL * size, 4);
	m->heap_gpa = vqm_align(m->used_gpa + 6 + 8ULL * size, 4096);
	assert(m->heap_gpa < VQM_RAM_GPA + ram_len);
	return 0;
}

void vqm_free(struct vq_mock *m)
{
	free(m->ram);
	memset(m, 0, sizeof(*m));
}

int vqm_enable(struct vq_mock *m, struct virtq *vq, uint64_t features)
{
	return vq_enable(vq, &m->gm, m->size, m->desc_gpa, m->avail_gpa, m->used_gpa, features);
}

void *vqm_host(struct vq_mock *m, uint64_t gpa)
{
	assert(gpa >= VQM_RAM_GPA && gpa - VQM_RAM_GPA < m->ram_len);
	return m->ram + (gpa - VQM_RAM_GPA);
}

uint64_t vqm_alloc(struct vq_mock *m, uint64_t len)
{
	uint64_t gpa = m->heap_gpa;

	if (len > VQM_RAM_GPA + m->ram_len - gpa)
		return 0;
	m->heap_gpa = vqm_align(gpa + len, 16);
	return gpa;
}

struct vring_desc *vqm_desc(struct vq_mock *m, uint16_t idx)
{
	return (struct vring_desc *)vqm_host(m, m->desc_gpa) + idx;
}

struct vring_avail *vqm_avail(struct vq_mock *m)
{
	return vqm_host(m, m->avail_gpa);
}

struct vring_used *vqm_used(struct vq_mock *m)
{
	return vqm_host(m, m->used_gpa);
}

void vqm_set_desc(struct vq_mock *m, uint16_t idx, uint64_t addr, uint32_t len, uint16_t flags,
		  uint16_t next)
{
	struct vring_desc *d = vqm_desc(m, idx);

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

static void vqm_fill(struct vring_desc *table, const struct vqm_seg *segs, int n, uint16_t first,
		     uint16_t (*next_of)(uint16_t, uint16_t), uint16_t size)
{
	uint16_t idx = first;
	int i;

	for (i = 0; i < n; i++) {
		uint16_t nx = next_of(idx, size);

		table[idx].addr = segs[i].gpa;
		table[idx].len = segs[i].len;
		table[idx].flags = (uint16_t)((segs[i].write ? VRING_DESC_F_WRITE : 0) |
					      (i + 1 < n ? VRING_DESC_F_NEXT : 0));
		table[idx].next = i + 1 < n ? nx : 0;
		idx = nx;
	}
}

static uint16_t vqm_ring_next(uint16_t idx, uint16_t size)
{
	return (uint16_t)((idx + 1) & (size - 1));
}

static uint16_t vqm_table_next(uint16_t idx, uint16_t size)
{
	(void)size;
	return (uint16_t)(idx + 1);
}

uint16_t vqm_chain(struct vq_mock *m, const struct vqm_seg *segs, int n)
{
	uint16_t head = m->next_desc;

	assert(n > 0 && n <= m->size);
	vqm_fill(vqm_desc(m, 0), segs, n, head, vqm_ring_next, m->size);
	m->next_desc = (uint16_t)((head + n) & (m->size - 1));
	return head;
}

uint16_t vqm_chain_indirect(struct vq_mock *m, const struct vqm_seg *segs, int n)
{
	uint64_t table_gpa = vqm_alloc(m, 16ULL * (uint64_t)n);
	uint16_t head = m->next_desc;

	assert(n > 0 && table_gpa);
	vqm_fill(vqm_host(m, table_gpa), segs, n, 0, vqm_table_next, 0);
	vqm_set_desc(m, head, table_gpa, 16u * (uint32_t)n, VRING_DESC_F_INDIRECT, 0);
	m->next_desc = (uint16_t)((head + 1) & (m->size - 1));
	return head;
}

void vqm_publish(struct vq_mock *m, uint16_t head)
{
	struct vring_avail *a = vqm_avail(m);

	a->ring[m->avail_idx & (m->size - 1)] = head;
	m->avail_idx++;
	__atomic_store_n(&a->idx, m->avail_idx, __ATOMIC_RELEASE);
}

uint16_t vqm_add(struct vq_mock *m, const struct vqm_seg *segs, int n)
{
	uint16_t head = vqm_chain(m, segs, n);

	vqm_publish(m, head);
	return head;
}

void vqm_set_used_event(struct vq_mock *m, uint16_t v)
{
	__atomic_store_n(&vqm_avail(m)->ring[m->size], v, __ATOMIC_RELAXED);
}

uint16_t vqm_avail_event(struct vq_mock *m)
{
	void *p = &vqm_used(m)->ring[m->size];

	return __atomic_load_n((uint16_t *)p, __ATOMIC_RELAXED);
}

int vqm_get_used(struct vq_mock *m, uint32_t *id, uint32_t *len)
{
	struct vring_used *u = vqm_used(m);
	struct vring_used_elem *e;

	if (__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == m->used_seen)
		return 0;
	e = &u->ring[m->used_seen & (m->size - 1)];
	*id = e->id;
	*len = e->len;
	m->used_seen++;
	return 1;
}
