/* Unit tests for the split virtqueue (src/virtio/virtq.c): normal traffic through the driver-side
 * mock, notification suppression, and every hostile ring/chain shape (each must give -EINVAL). */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "test.h"
#include "vq_mock.h"
#include "virtio/virtq.h"

#define QSZ 8
#define RAM_LEN (256 * 1024)
#define F_INDIRECT (1ULL << VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT_IDX (1ULL << VIRTIO_RING_F_EVENT_IDX)
#define RAM_END (VQM_RAM_GPA + RAM_LEN)

struct fx {
	struct vq_mock m;
	struct virtq vq;
	struct vq_chain c;
};

static void fx_init(struct fx *f, uint16_t size, uint64_t features)
{
	memset(f, 0, sizeof(*f));
	CHECK_EQ(vqm_init(&f->m, size, RAM_LEN), 0);
	CHECK_EQ(vqm_enable(&f->m, &f->vq, features), 0);
	CHECK_EQ(vq_chain_init(&f->c, size), 0);
}

static void fx_free(struct fx *f)
{
	vq_chain_free(&f->c);
	vqm_free(&f->m);
}

/* A hostile chain must fail now and keep failing (queue marked broken). */
static void expect_bad(struct fx *f)
{
	CHECK_EQ(vq_pop(&f->vq, &f->c), -EINVAL);
	CHECK_EQ(vq_pop(&f->vq, &f->c), -EINVAL);
	CHECK(f->vq.broken);
}

static void test_empty_and_single(void)
{
	struct fx f;
	uint64_t buf;
	uint32_t id, len;

	fx_init(&f, QSZ, 0);
	CHECK_EQ(vq_pop(&f.vq, &f.c), 0);
	buf = vqm_alloc(&f.m, 100);
	vqm_add(&f.m, &(struct vqm_seg){ buf, 100, false }, 1);
	CHECK_EQ(vq_pop(&f.vq, &f.c), 1);
	CHECK_EQ(f.c.head, 0);
	CHECK_EQ(f.c.nr_rd, 1);
	CHECK_EQ(f.c.nr_wr, 0);
	CHECK_EQ(f.c.rd_len, 100);
	CHECK(vq_chain_rd(&f.c)[0].iov_base == vqm_host(&f.m, buf));
	CHECK_EQ(vq_pop(&f.vq, &f.c), 0);
	vq_push(&f.vq, f.c.head, 7);
	CHECK_EQ(vqm_get_used(&f.m, &id, &len), 1);
	CHECK_EQ(id, 0);
	CHECK_EQ(len, 7);
	CHECK_EQ(vqm_get_used(&f.m, &id, &len), 0);
	fx_free(&f);
}

static void test_multi_segment(void)
{
	struct fx f;
	struct vqm_seg s[5];
	int i;

	fx_init(&f, QSZ, 0);
	for (i = 0; i < 5; i++)
		s[i] = (struct vqm_seg){ vqm_alloc(&f.m, 64), 10u + (uint32_t)i, i >= 2 };
	s[2].len = 0;	/* zero-length segments are skipped */
	vqm_add(&f.m, s, 5);
	CHECK_EQ(vq_pop(&f.vq, &f.c), 1);
	CHECK_EQ(f.c.nr_rd, 2);
	CHECK_EQ(f.c.nr_wr, 2);
	CHECK_EQ(f.c.rd_len, 10 + 11);
	CHECK_EQ(f.c.wr_len, 13 + 14);
	CHECK(vq_chain_wr(&f.c)[0].iov_base == vqm_host(&f.m, s[3].gpa));
	CHECK_EQ(vq_chain_wr(&f.c)[1].iov_len, 14);
	fx_free(&f);
}

/* 70000 requests through a 4-entry ring: avail/used indices wrap past 65535. */
static void test_wraparound(void)
{
	struct fx f;
	uint64_t buf;
	uint32_t id, len, n, bad = 0;

	fx_init(&f, 4, 0);
	buf = vqm_alloc(&f.m, 16);
	for (n = 0; n < 70000; n++) {
		uint16_t head = vqm_add(&f.m, &(struct vqm_seg){ buf, 16, true }, 1);

		if (vq_pop(&f.vq, &f.c) != 1 || f.c.head != head)
			bad++;
		vq_push(&f.vq, f.c.head, n & 0xff);
		if (vqm_get_used(&f.m, &id, &len) != 1 || id != head || len != (n & 0xff))
			bad++;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(f.vq.last_avail, (uint16_t)70000);
	CHECK_EQ(vqm_used(&f.m)->idx, (uint16_t)70000);
	fx_free(&f);
}

static void test_indirect(void)
{
	struct fx f;
	struct vqm_seg s[3];
	uint16_t head;
	int i;

	fx_init(&f, QSZ, F_INDIRECT);
	for (i = 0; i < 3; i++)
		s[i] = (struct vqm_seg){ vqm_alloc(&f.m, 32), 32, i == 2 };
	head = vqm_chain_indirect(&f.m, s, 3);
	vqm_publish(&f.m, head);
	CHECK_EQ(vq_pop(&f.vq, &f.c), 1);
	CHECK_EQ(f.c.head, head);
	CHECK_EQ(f.c.nr_rd, 2);
	CHECK_EQ(f.c.nr_wr, 1);
	CHECK(vq_chain_wr(&f.c)[0].iov_base == vqm_host(&f.m, s[2].gpa));
	fx_free(&f);

	/* Not negotiated: an indirect descriptor is malformed. */
	fx_init(&f, QSZ, 0);
	vqm_publish(&f.m, vqm_chain_indirect(&f.m, s, 1));
	expect_bad(&f);
	fx_free(&f);
}

static void test_notify_no_event_idx(void)
{
	struct fx f;

	fx_init(&f, QSZ, 0);
	vq_push(&f.vq, 0, 0);
	CHECK(vq_should_notify(&f.vq));
	vqm_avail(&f.m)->flags = VRING_AVAIL_F_NO_INTERRUPT;
	vq_push(&f.vq, 1, 0);
	CHECK(!vq_should_notify(&f.vq));
	fx_free(&f);
}

static void test_event_idx(void)
{
	struct fx f;
	uint64_t buf;

	fx_init(&f, QSZ, F_EVENT_IDX);
	/* Finding the ring empty arms avail_event at the next entry. */
	CHECK_EQ(vq_pop(&f.vq, &f.c), 0);
	CHECK_EQ(vqm_avail_event(&f.m), 0);
	buf = vqm_alloc(&f.m, 8);
	vqm_add(&f.m, &(struct vqm_seg){ buf, 8, true }, 1);
	vqm_add(&f.m, &(struct vqm_seg){ buf, 8, true }, 1);
	CHECK_EQ(vq_pop(&f.vq, &f.c), 1);
	CHECK_EQ(vq_pop(&f.vq, &f.c), 1);
	CHECK_EQ(vq_pop(&f.vq, &f.c), 0);
	CHECK_EQ(vqm_avail_event(&f.m), 2);

	/* used_event = 0: interrupt when used idx moves past 0, not again until it changes. */
	vqm_set_used_event(&f.m, 0);
	vq_push(&f.vq, 0, 0);
	CHECK(vq_should_notify(&f.vq));
	vq_push(&f.vq, 1, 0);
	CHECK(!vq_should_notify(&f.vq));
	CHECK(!vq_should_notify(&f.vq));	/* nothing new */
	vqm_set_used_event(&f.m, 2);
	vq_push(&f.vq, 0, 0);
	CHECK(vq_should_notify(&f.vq));
	/* The driver asks for the event far ahead: no interrupt for this push. */
	vqm_set_used_event(&f.m, 10);
	vq_push(&f.vq, 1, 0);
	CHECK(!vq_should_notify(&f.vq));
	fx_free(&f);
}

static void test_enable_rejects(void)
{
	struct vq_mock m;
	struct virtq vq;
	uint64_t d = VQM_RAM_GPA, a = VQM_RAM_GPA + 0x1000, u = VQM_RAM_GPA + 0x2000;

	CHECK_EQ(vqm_init(&m, QSZ, RAM_LEN), 0);
	CHECK_EQ(vq_enable(&vq, &m.gm, QSZ, d, a, u, 0), 0);
	CHECK(vq_enabled(&vq));
	CHECK_EQ(vq_enable(&vq, &m.gm, 0, d, a, u, 0), -EINVAL);
	CHECK(!vq_enabled(&vq));
	CHECK_EQ(vq_enable(&vq, &m.gm, 6, d, a, u, 0), -EINVAL);
	CHECK_EQ(vq_enable(&vq, &m.gm, 65535, d, a, u, 0), -EINVAL);
	CHECK_EQ(vq_enable(&vq, &m.gm, QSZ, d + 8, a, u, 0), -EINVAL);	/* desc misaligned */
	CHECK_EQ(vq_enable(&vq, &m.gm, QSZ, d, a + 1, u, 0), -EINVAL);	/* avail misaligned */
	CHECK_EQ(vq_enable(&vq, &m.gm, QSZ, d, a, u + 2, 0), -EINVAL);	/* used misaligned */
	CHECK_EQ(vq_enable(&vq, &m.gm, QSZ, 0, a, u, 0), -EINVAL);	/* not RAM */
	CHECK_EQ(vq_enable(&vq, &m.gm, QSZ, d, RAM_END - 8, u, 0), -EINVAL);	/* straddles end */
	CHECK_EQ(vq_enable(&vq, &m.gm, QSZ, d, a, RAM_END - 16, 0), -EINVAL);
	CHECK_EQ(vq_enable(&vq, &m.gm, 32768, d, a, u, 0), -EINVAL);	/* desc ring > RAM */
	CHECK_EQ(vq_enable(&vq, &m.gm, QSZ, UINT64_MAX - 15, a, u, 0), -EINVAL);
	CHECK(!vq_enabled(&vq));
	CHECK_EQ(vq_pop(&vq, &(struct vq_chain){ 0 }), 0);	/* disabled queue: nothing */
	vqm_free(&m);
}

static void test_bad_indices(void)
{
	struct fx f;
	uint64_t buf;

	/* head >= size */
	fx_init(&f, QSZ, 0);
	vqm_publish(&f.m, QSZ);
	expect_bad(&f);
	fx_free(&f);

	/* next >= size */
	fx_init(&f, QSZ, 0);
	buf = vqm_alloc(&f.m, 8);
	vqm_set_desc(&f.m, 0, buf, 8, VRING_DESC_F_NEXT, QSZ + 3);
	vqm_publish(&f.m, 0);
	expect_bad(&f);
	fx_free(&f);

	/* avail idx runs more than a ring ahead */
	fx_init(&f, QSZ, 0);
	vqm_avail(&f.m)->idx = QSZ + 1;
	expect_bad(&f);
	fx_free(&f);

	/* ... also after the driver went backwards (seen as a huge jump) */
	fx_init(&f, QSZ, F_EVENT_IDX);
	vqm_avail(&f.m)->idx = 0xffff;
	expect_bad(&f);
	fx_free(&f);
}

static void test_loops(void)
{
	struct fx f;
	uint64_t buf;
	uint16_t i;

	/* self loop */
	fx_init(&f, QSZ, 0);
	buf = vqm_alloc(&f.m, 8);
	vqm_set_desc(&f.m, 3, buf, 8, VRING_DESC_F_NEXT, 3);
	vqm_publish(&f.m, 3);
	expect_bad(&f);
	fx_free(&f);

	/* a -> b -> a */
	fx_init(&f, QSZ, 0);
	buf = vqm_alloc(&f.m, 8);
	vqm_set_desc(&f.m, 1, buf, 8, VRING_DESC_F_NEXT, 5);
	vqm_set_desc(&f.m, 5, buf, 8, VRING_DESC_F_NEXT, 1);
	vqm_publish(&f.m, 1);
	expect_bad(&f);
	fx_free(&f);

	/* every descriptor in one cycle: longer than the queue */
	fx_init(&f, QSZ, 0);
	buf = vqm_alloc(&f.m, 8);
	for (i = 0; i < QSZ; i++)
		vqm_set_desc(&f.m, i, buf, 8, VRING_DESC_F_NEXT, (uint16_t)((i + 1) % QSZ));
	vqm_publish(&f.m, 0);
	expect_bad(&f);
	fx_free(&f);

	/* zero-length descriptors in a loop still terminate */
	fx_init(&f, QSZ, 0);
	vqm_set_desc(&f.m, 2, 0, 0, VRING_DESC_F_NEXT, 2);
	vqm_publish(&f.m, 2);
	expect_bad(&f);
	fx_free(&f);

	/* loop inside an indirect table */
	fx_init(&f, QSZ, F_INDIRECT);
	{
		uint64_t t = vqm_alloc(&f.m, 4 * 16);
		struct vring_desc *d = vqm_host(&f.m, t);

		buf = vqm_alloc(&f.m, 8);
		for (i = 0; i < 4; i++)
			d[i] = (struct vring_desc){ buf, 8, VRING_DESC_F_NEXT, (uint16_t)((i + 1) % 4) };
		vqm_set_desc(&f.m, 0, t, 4 * 16, VRING_DESC_F_INDIRECT, 0);
		vqm_publish(&f.m, 0);
		expect_bad(&f);
	}
	fx_free(&f);
}

/* Hostile indirect descriptor: table at t (already filled by the caller) with the given len/flags. */
static void bad_indirect(uint64_t addr, uint32_t len, uint16_t flags, bool nested)
{
	struct fx f;
	uint64_t t, buf;

	fx_init(&f, QSZ, F_INDIRECT);
	t = vqm_alloc(&f.m, 64 * 1024);
	buf = vqm_alloc(&f.m, 8);
	*(struct vring_desc *)vqm_host(&f.m, t) = (struct vring_desc){
		nested ? t : buf, nested ? 16 : 8, nested ? VRING_DESC_F_INDIRECT : 0, 0 };
	vqm_set_desc(&f.m, 0, addr ? addr : t, len, flags, 1);
	vqm_set_desc(&f.m, 1, buf, 8, 0, 0);
	vqm_publish(&f.m, 0);
	expect_bad(&f);
	fx_free(&f);
}

static void test_bad_indirect(void)
{
	bad_indirect(0, 16, VRING_DESC_F_INDIRECT, true);		/* nested table */
	bad_indirect(0, 24, VRING_DESC_F_INDIRECT, false);		/* len % 16 */
	bad_indirect(0, 0, VRING_DESC_F_INDIRECT, false);		/* empty */
	bad_indirect(0, 16 * (QSZ + 1), VRING_DESC_F_INDIRECT, false);	/* more than the chain holds */
	bad_indirect(0, 0xfffffff0u, VRING_DESC_F_INDIRECT, false);	/* huge */
	bad_indirect(RAM_END - 16, 32, VRING_DESC_F_INDIRECT, false);	/* straddles end of RAM */
	bad_indirect(0x1000, 16, VRING_DESC_F_INDIRECT, false);	/* not RAM */
	bad_indirect(0, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, false);
}

static void bad_segment(uint64_t addr, uint32_t len)
{
	struct fx f;

	fx_init(&f, QSZ, 0);
	vqm_set_desc(&f.m, 0, addr, len, 0, 0);
	vqm_publish(&f.m, 0);
	expect_bad(&f);
	fx_free(&f);
}

static void test_bad_segments(void)
{
	struct fx f;
	uint64_t buf;

	bad_segment(0x1000, 8);			/* below RAM */
	bad_segment(RAM_END, 1);		/* just past RAM */
	bad_segment(RAM_END - 4, 8);		/* straddles the end */
	bad_segment(UINT64_MAX - 10, 100);	/* addr + len overflows */
	bad_segment(UINT64_MAX, 0xffffffffu);

	/* writable before readable */
	fx_init(&f, QSZ, 0);
	buf = vqm_alloc(&f.m, 8);
	vqm_add(&f.m, (struct vqm_seg[]){ { buf, 8, true }, { buf, 8, false } }, 2);
	expect_bad(&f);
	fx_free(&f);

	/* more segments than the chain can hold */
	fx_init(&f, QSZ, 0);
	vq_chain_free(&f.c);
	CHECK_EQ(vq_chain_init(&f.c, 2), 0);
	buf = vqm_alloc(&f.m, 8);
	vqm_add(&f.m, (struct vqm_seg[]){ { buf, 8, false }, { buf, 8, false }, { buf, 8, true } }, 3);
	expect_bad(&f);
	fx_free(&f);
}

/* Two 3 GiB segments: each is RAM, together they exceed what a used length can express. */
static void test_total_over_4g(void)
{
	const uint64_t big = 3ULL << 30, big_gpa = 1ULL << 32;
	struct fx f;
	void *p;

	p = mmap(NULL, big, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(p != MAP_FAILED);
	if (p == MAP_FAILED)
		return;
	fx_init(&f, QSZ, 0);
	CHECK_EQ(gm_add_region(&f.m.gm, big_gpa, big, p), 0);
	vqm_add(&f.m, (struct vqm_seg[]){ { big_gpa, (uint32_t)big, false },
					  { big_gpa, (uint32_t)big, true } }, 2);
	expect_bad(&f);
	fx_free(&f);

	/* one 3 GiB segment is fine (never touched: the test only inspects the iovec) */
	fx_init(&f, QSZ, 0);
	CHECK_EQ(gm_add_region(&f.m.gm, big_gpa, big, p), 0);
	vqm_add(&f.m, &(struct vqm_seg){ big_gpa, (uint32_t)big, true }, 1);
	CHECK_EQ(vq_pop(&f.vq, &f.c), 1);
	CHECK_EQ(f.c.wr_len, (uint32_t)big);
	fx_free(&f);
	munmap(p, big);
}

static void test_reset_reenable(void)
{
	struct fx f;
	uint64_t buf;

	fx_init(&f, QSZ, 0);
	vqm_publish(&f.m, QSZ + 1);
	expect_bad(&f);
	vq_reset(&f.vq);
	CHECK(!vq_enabled(&f.vq));
	/* A fresh driver session: zeroed rings, re-enabled queue works again. */
	memset(vqm_avail(&f.m), 0, 6 + 2 * QSZ);
	f.m.avail_idx = 0;
	CHECK_EQ(vqm_enable(&f.m, &f.vq, 0), 0);
	buf = vqm_alloc(&f.m, 8);
	vqm_add(&f.m, &(struct vqm_seg){ buf, 8, false }, 1);
	CHECK_EQ(vq_pop(&f.vq, &f.c), 1);
	fx_free(&f);
}

int main(void)
{
	RUN(test_empty_and_single);
	RUN(test_multi_segment);
	RUN(test_wraparound);
	RUN(test_indirect);
	RUN(test_notify_no_event_idx);
	RUN(test_event_idx);
	RUN(test_enable_rejects);
	RUN(test_bad_indices);
	RUN(test_loops);
	RUN(test_bad_indirect);
	RUN(test_bad_segments);
	RUN(test_total_over_4g);
	RUN(test_reset_reenable);
	return test_summary();
}
