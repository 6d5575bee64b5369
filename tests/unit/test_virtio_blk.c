/* Unit tests for virtio-blk (src/virtio/virtio_blk.c) over the RAM-disk backend, driven through its
 * worker thread by the driver-side virtqueue mock, plus the raw-file backend (src/backend/blk_file.c),
 * and a stop that must not wait forever for a back-end that hangs. */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "log.h"
#include "test.h"
#include "vq_mock.h"
#include "virtio/virtio_blk.h"

#define QSZ 16
#define DISK_BYTES (64 * 1024)
#define DISK_SECTORS (DISK_BYTES / 512)

/* Backend wrapper that fails chosen operations with a chosen error, or (hang) blocks reads until
 * the test posts `release` (posting `entered` first), like a hung NFS server or disk. */
struct fail_be {
	struct blk_backend b;
	struct blk_backend *inner;
	int read_err, write_err, flush_err;
	bool hang;
	sem_t entered, release;
};

static int fail_preadv(struct blk_backend *b, struct iovec *iov, int n, uint64_t off)
{
	struct fail_be *f = (struct fail_be *)b;

	if (__atomic_load_n(&f->hang, __ATOMIC_ACQUIRE)) {
		sem_post(&f->entered);
		while (sem_wait(&f->release) && errno == EINTR)
			;
	}
	return f->read_err ? f->read_err : f->inner->ops->preadv(f->inner, iov, n, off);
}

static int fail_pwritev(struct blk_backend *b, struct iovec *iov, int n, uint64_t off)
{
	struct fail_be *f = (struct fail_be *)b;

	return f->write_err ? f->write_err : f->inner->ops->pwritev(f->inner, iov, n, off);
}

static int fail_flush(struct blk_backend *b)
{
	struct fail_be *f = (struct fail_be *)b;

	return f->flush_err ? f->flush_err : f->inner->ops->flush(f->inner);
}

static void fail_close(struct blk_backend *b)
{
	struct fail_be *f = (struct fail_be *)b;

	blk_close(f->inner);
	sem_destroy(&f->entered);
	sem_destroy(&f->release);
	free(f);
}

static const struct blk_backend_ops fail_ops = { fail_preadv, fail_pwritev, fail_flush, fail_close };

struct bfx {
	struct vq_mock m;
	struct vblk *b;
	struct virtio_dev *d;
	struct fail_be *be;
	uint8_t *disk;
	sem_t sem;
	int signals, resets;
};

static void fx_signal_used(struct virtio_dev *d, uint16_t q)
{
	struct bfx *f = d->transport;

	(void)q;
	__atomic_fetch_add(&f->signals, 1, __ATOMIC_SEQ_CST);
	sem_post(&f->sem);
}

static void fx_needs_reset(struct virtio_dev *d)
{
	struct bfx *f = d->transport;

	__atomic_fetch_add(&f->resets, 1, __ATOMIC_SEQ_CST);
	sem_post(&f->sem);
}

/* What a transport does at FEATURES_OK + queue enable + DRIVER_OK. */
static int fx_start(struct bfx *f, uint64_t features)
{
	int ret;

	f->d->features = features;
	ret = vqm_enable(&f->m, &f->d->vq[0], features);
	return ret ? ret : f->d->ops->activate(f->d);
}

static void fx_init(struct bfx *f, bool readonly, const char *serial, uint64_t features)
{
	struct blk_backend *mem;
	struct vblk_config cfg = { .readonly = readonly, .serial = serial, .name = "vblk-test",
				   .queue_size = QSZ };
	int i;

	memset(f, 0, sizeof(*f));
	sem_init(&f->sem, 0, 0);
	CHECK_EQ(vqm_init(&f->m, QSZ, 1024 * 1024), 0);
	CHECK_EQ(blk_mem_create(&mem, DISK_BYTES, false), 0);
	f->disk = blk_mem_data(mem);
	for (i = 0; i < DISK_BYTES; i++)
		f->disk[i] = (uint8_t)(i * 7 + i / 512);
	f->be = calloc(1, sizeof(*f->be));
	f->be->b = (struct blk_backend){ .ops = &fail_ops, .size_bytes = DISK_BYTES, .name = "fail" };
	f->be->inner = mem;
	sem_init(&f->be->entered, 0, 0);
	sem_init(&f->be->release, 0, 0);
	cfg.backend = &f->be->b;
	cfg.gm = &f->m.gm;
	CHECK_EQ(vblk_create(&f->b, &cfg), 0);
	f->d = vblk_virtio(f->b);
	f->d->transport = f;
	f->d->signal_used = fx_signal_used;
	f->d->needs_reset = fx_needs_reset;
	CHECK_EQ(fx_start(f, features), 0);
}

static void fx_free(struct bfx *f)
{
	f->d->ops->reset(f->d);
	vblk_destroy(f->b);
	vqm_free(&f->m);
	sem_destroy(&f->sem);
}

/* Wait (bounded) for the device's next used entry; 1 if one arrived. */
static int fx_wait_used(struct bfx *f, uint32_t *id, uint32_t *len)
{
	struct timespec ts;

	for (;;) {
		/* Like a driver re-enabling callbacks: interrupt me at the next used entry. */
		vqm_set_used_event(&f->m, f->m.used_seen);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (vqm_get_used(&f->m, id, len))
			return 1;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 5;
		if (sem_timedwait(&f->sem, &ts))
			return 0;
	}
}

struct req {
	uint64_t hdr_gpa, data_gpa, status_gpa;
	uint16_t head;
	uint32_t used_len;
};

/* Build header / data / status segments for one request, publish, kick, wait for completion.
 * Returns the status byte (or 0xee when the request never completed). */
static int fx_req(struct bfx *f, struct req *r, uint32_t type, uint64_t sector, uint32_t data_len,
		  bool data_write)
{
	struct virtio_blk_outhdr hdr = { .type = type, .sector = sector };
	struct vqm_seg s[3];
	uint32_t id;
	int n = 0;

	r->hdr_gpa = vqm_alloc(&f->m, sizeof(hdr));
	memcpy(vqm_host(&f->m, r->hdr_gpa), &hdr, sizeof(hdr));
	s[n++] = (struct vqm_seg){ r->hdr_gpa, sizeof(hdr), false };
	if (data_len) {
		if (!r->data_gpa)
			r->data_gpa = vqm_alloc(&f->m, data_len);
		s[n++] = (struct vqm_seg){ r->data_gpa, data_len, data_write };
	}
	r->status_gpa = vqm_alloc(&f->m, 1);
	*(uint8_t *)vqm_host(&f->m, r->status_gpa) = 0xee;
	s[n++] = (struct vqm_seg){ r->status_gpa, 1, true };
	r->head = vqm_add(&f->m, s, n);
	f->d->ops->notify(f->d, 0);
	if (!fx_wait_used(f, &id, &r->used_len) || id != r->head)
		return 0xee;
	return *(uint8_t *)vqm_host(&f->m, r->status_gpa);
}

static void test_config(void)
{
	struct bfx f;
	struct virtio_blk_config cfg;
	uint64_t feat;

	fx_init(&f, false, NULL, 0);
	CHECK_EQ(f.d->device_id, VIRTIO_ID_BLOCK);
	CHECK_EQ(f.d->num_queues, 1);
	CHECK_EQ(f.d->queue_size_max, QSZ);
	CHECK(f.d->cfg_len >= 24);
	f.d->ops->cfg_read(f.d, 0, &cfg, sizeof(cfg));
	CHECK_EQ(cfg.capacity, DISK_SECTORS);
	CHECK_EQ(cfg.seg_max, QSZ - 2);
	CHECK_EQ(cfg.blk_size, 512);
	feat = f.d->ops->get_features(f.d);
	CHECK(feat & (1ULL << VIRTIO_BLK_F_FLUSH));
	CHECK(feat & (1ULL << VIRTIO_BLK_F_SEG_MAX));
	CHECK(feat & (1ULL << VIRTIO_RING_F_EVENT_IDX));
	CHECK(!(feat & (1ULL << VIRTIO_BLK_F_RO)));
	f.d->ops->cfg_write(f.d, 0, &feat, 8);	/* ignored */
	f.d->ops->cfg_read(f.d, 0, &cfg, 8);
	CHECK_EQ(cfg.capacity, DISK_SECTORS);
	fx_free(&f);
}

static void test_read_write(void)
{
	struct bfx f;
	struct req r = { 0 };
	uint8_t *p;

	fx_init(&f, false, NULL, 0);
	CHECK_EQ(fx_req(&f, &r, VIRTIO_BLK_T_IN, 3, 1024, true), VIRTIO_BLK_S_OK);
	CHECK_EQ(r.used_len, 1025);
	CHECK(!memcmp(vqm_host(&f.m, r.data_gpa), f.disk + 3 * 512, 1024));
	CHECK(__atomic_load_n(&f.signals, __ATOMIC_SEQ_CST) > 0);

	memset(&r, 0, sizeof(r));
	r.data_gpa = vqm_alloc(&f.m, 512);
	p = vqm_host(&f.m, r.data_gpa);
	memset(p, 0x5a, 512);
	CHECK_EQ(fx_req(&f, &r, VIRTIO_BLK_T_OUT, DISK_SECTORS - 1, 512, false), VIRTIO_BLK_S_OK);
	CHECK_EQ(r.used_len, 1);
	CHECK_EQ(f.disk[DISK_BYTES - 512], 0x5a);
	CHECK_EQ(f.disk[DISK_BYTES - 1], 0x5a);
	CHECK(f.disk[DISK_BYTES - 513] != 0x5a || f.disk[DISK_BYTES - 514] != 0x5a);
	CHECK_EQ(__atomic_load_n(&f.resets, __ATOMIC_SEQ_CST), 0);
	fx_free(&f);
}

/* Header split over two descriptors, data and status sharing one writable segment, indirect. */
static void test_odd_layouts(void)
{
	struct bfx f;
	struct virtio_blk_outhdr hdr = { .type = VIRTIO_BLK_T_IN, .sector = 7 };
	uint64_t h = 0, buf = 0;
	uint32_t id = 0, len = 0;
	uint16_t head;
	uint8_t *p;

	fx_init(&f, false, NULL, 1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	h = vqm_alloc(&f.m, 16);
	memcpy(vqm_host(&f.m, h), &hdr, 16);
	buf = vqm_alloc(&f.m, 513);
	vqm_add(&f.m, (struct vqm_seg[]){ { h, 8, false }, { h + 8, 8, false }, { buf, 513, true } }, 3);
	f.d->ops->notify(f.d, 0);
	CHECK(fx_wait_used(&f, &id, &len));
	p = vqm_host(&f.m, buf);
	CHECK_EQ(len, 513);
	CHECK(!memcmp(p, f.disk + 7 * 512, 512));
	CHECK_EQ(p[512], VIRTIO_BLK_S_OK);

	memset(p, 0, 513);
	head = vqm_chain_indirect(&f.m, (struct vqm_seg[]){ { h, 16, false }, { buf, 256, true },
							     { buf + 256, 257, true } }, 3);
	vqm_publish(&f.m, head);
	f.d->ops->notify(f.d, 0);
	CHECK(fx_wait_used(&f, &id, &len));
	CHECK_EQ(id, head);
	CHECK(!memcmp(p, f.disk + 7 * 512, 512));
	CHECK_EQ(p[512], VIRTIO_BLK_S_OK);
	fx_free(&f);
}

static void test_flush_get_id(void)
{
	struct bfx f;
	struct req r = { 0 };
	uint8_t *id;

	fx_init(&f, false, "ckvm-disk-01", 0);
	CHECK_EQ(fx_req(&f, &r, VIRTIO_BLK_T_FLUSH, 0, 0, false), VIRTIO_BLK_S_OK);
	memset(&r, 0, sizeof(r));
	r.data_gpa = vqm_alloc(&f.m, 20);
	memset(vqm_host(&f.m, r.data_gpa), 0xff, 20);
	CHECK_EQ(fx_req(&f, &r, VIRTIO_BLK_T_GET_ID, 0, 20, true), VIRTIO_BLK_S_OK);
	id = vqm_host(&f.m, r.data_gpa);
	CHECK(!memcmp(id, "ckvm-disk-01", 12));
	CHECK_EQ(id[12], 0);
	CHECK_EQ(id[19], 0);
	CHECK_EQ(r.used_len, 21);
	fx_free(&f);

	/* A 20-byte serial fills the field without a terminator; a longer one is refused. */
	{
		struct blk_backend *mem;
		struct vblk *b;
		struct vblk_config cfg = { .serial = "123456789012345678901", .queue_size = QSZ };
		struct guest_mem gm = { 0 };

		CHECK_EQ(blk_mem_create(&mem, 4096, false), 0);
		cfg.backend = mem;
		cfg.gm = &gm;
		CHECK_EQ(vblk_create(&b, &cfg), -EINVAL);
		cfg.queue_size = 12;
		cfg.serial = NULL;
		CHECK_EQ(vblk_create(&b, &cfg), -EINVAL);
		blk_close(mem);
	}
}

static void test_bad_requests(void)
{
	struct bfx f;
	struct req r = { 0 };

	fx_init(&f, false, NULL, 1ULL << VIRTIO_RING_F_EVENT_IDX);
	CHECK_EQ(fx_req(&f, &r, VIRTIO_BLK_T_IN, DISK_SECTORS, 512, true), VIRTIO_BLK_S_IOERR);
	memset(&r, 0, sizeof(r));
	CHECK_EQ(fx_req(&f, &r, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, 1024, true), VIRTIO_BLK_S_IOERR);
	memset(&r, 0, sizeof(r));
	CHECK_EQ(fx_req(&f, &r, VIRTIO_BLK_T_OUT, UINT64_MAX, 512, false), VIRTIO_BLK_S_IOERR);
	memset(&r, 0, sizeof(r));
	CHECK_EQ(fx_req(&f, &r, VIRTIO_BLK_T_IN, (UINT64_MAX >> 9) + 1, 512, true), VIRTIO_BLK_S_IOERR);
	memset(&r, 0, sizeof(r));
	CHECK_EQ(fx_req(&f, &r, VIRTIO_BLK_T_IN, 0, 100, true), VIRTIO_BLK_S_IOERR);	/* not 512n */
	memset(&r, 0, sizeof(r));
	CHECK_EQ(fx_req(&f, &r, 99, 0, 0, false), VIRTIO_BLK_S_UNSUPP);
	memset(&r, 0, sizeof(r));
	CHECK_EQ(fx_req(&f, &r, VIRTIO_BLK_T_DISCARD, 0, 16, false), VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ(__atomic_load_n(&f.resets, __ATOMIC_SEQ_CST), 0);

	/* Short header: 8 readable bytes, then a status byte. */
	{
		uint64_t h = vqm_alloc(&f.m, 16), st = vqm_alloc(&f.m, 1);
		uint32_t id, len;

		*(uint8_t *)vqm_host(&f.m, st) = 0xee;
		vqm_add(&f.m, (struct vqm_seg[]){ { h, 8, false }, { st, 1, true } }, 2);
		f.d->ops->notify(f.d, 0);
		CHECK(fx_wait_used(&f, &id, &len));
		CHECK_EQ(*(uint8_t *)vqm_host(&f.m, st), VIRTIO_BLK_S_IOERR);
		CHECK_EQ(len, 1);

		/* No writable byte at all: returned with length 0, device keeps going. */
		vqm_add(&f.m, &(struct vqm_seg){ h, 16, false }, 1);
		f.d->ops->notify(f.d, 0);
		CHECK(fx_wait_used(&f, &id, &len));
		CHECK_EQ(len, 0);
	}
	memset(&r, 0, sizeof(r));
	CHECK_EQ(fx_req(&f, &r, VIRTIO_BLK_T_IN, 0, 512, true), VIRTIO_BLK_S_OK);
	CHECK_EQ(__atomic_load_n(&f.resets, __ATOMIC_SEQ_CST), 0);
	fx_free(&f);
}

static void test_readonly(void)
{
	struct bfx f;
	struct req r = { 0 };
	uint8_t before = 0;

	fx_init(&f, true, NULL, 0);
	CHECK(f.d->ops->get_features(f.d) & (1ULL << VIRTIO_BLK_F_RO));
	before = f.disk[0];
	r.data_gpa = vqm_alloc(&f.m, 512);
	memset(vqm_host(&f.m, r.data_gpa), (uint8_t)~before, 512);
	CHECK_EQ(fx_req(&f, &r, VIRTIO_BLK_T_OUT, 0, 512, false), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(f.disk[0], before);
	memset(&r, 0, sizeof(r));
	CHECK_EQ(fx_req(&f, &r, VIRTIO_BLK_T_IN, 0, 512, true), VIRTIO_BLK_S_OK);
	fx_free(&f);
}

static void test_host_errors(void)
{
	struct bfx f;
	struct req r = { 0 };

	fx_init(&f, false, NULL, 0);
	f.be->read_err = -EIO;
	CHECK_EQ(fx_req(&f, &r, VIRTIO_BLK_T_IN, 0, 512, true), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(r.used_len, 1);
	memset(&r, 0, sizeof(r));
	f.be->write_err = -ENOSPC;
	CHECK_EQ(fx_req(&f, &r, VIRTIO_BLK_T_OUT, 0, 512, false), VIRTIO_BLK_S_IOERR);
	memset(&r, 0, sizeof(r));
	f.be->write_err = -EIO;
	CHECK_EQ(fx_req(&f, &r, VIRTIO_BLK_T_OUT, 0, 512, false), VIRTIO_BLK_S_IOERR);
	memset(&r, 0, sizeof(r));
	f.be->flush_err = -EIO;
	CHECK_EQ(fx_req(&f, &r, VIRTIO_BLK_T_FLUSH, 0, 0, false), VIRTIO_BLK_S_IOERR);
	f.be->read_err = f.be->write_err = f.be->flush_err = 0;
	memset(&r, 0, sizeof(r));
	CHECK_EQ(fx_req(&f, &r, VIRTIO_BLK_T_FLUSH, 0, 0, false), VIRTIO_BLK_S_OK);
	CHECK_EQ(__atomic_load_n(&f.resets, __ATOMIC_SEQ_CST), 0);
	fx_free(&f);
}

/* A malformed chain: needs_reset, nothing more processed; reset + re-enable recovers. */
static void test_malformed_resets(void)
{
	struct bfx f;
	struct req r = { 0 };
	struct timespec ts;

	fx_init(&f, false, NULL, 0);
	vqm_publish(&f.m, QSZ + 5);	/* head out of range */
	f.d->ops->notify(f.d, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	CHECK_EQ(sem_timedwait(&f.sem, &ts), 0);
	CHECK_EQ(__atomic_load_n(&f.resets, __ATOMIC_SEQ_CST), 1);

	/* Driver resets the device, zeroes its rings and starts again. */
	f.d->ops->reset(f.d);
	vq_reset(&f.d->vq[0]);
	memset(vqm_avail(&f.m), 0, 6 + 2 * QSZ);
	memset(vqm_used(&f.m), 0, 6 + 8 * QSZ);
	f.m.avail_idx = f.m.used_seen = 0;
	CHECK_EQ(fx_start(&f, 0), 0);
	CHECK_EQ(fx_req(&f, &r, VIRTIO_BLK_T_IN, 1, 512, true), VIRTIO_BLK_S_OK);
	CHECK_EQ(__atomic_load_n(&f.resets, __ATOMIC_SEQ_CST), 1);
	fx_free(&f);
}

/* Many requests with EVENT_IDX on both sides, kicks and interrupts suppressed as a driver would:
 * a lost wakeup in either direction shows up as a timeout. */
static void test_event_idx_stream(void)
{
	struct bfx f;
	uint64_t buf[QSZ];
	unsigned submitted = 0, done = 0, bad = 0, i;
	const unsigned total = 3000;

	fx_init(&f, false, NULL, 1ULL << VIRTIO_RING_F_EVENT_IDX);
	for (i = 0; i < QSZ; i++)
		buf[i] = vqm_alloc(&f.m, 512 + 16 + 1);
	while (done < total && !bad) {
		uint32_t id, len;

		while (submitted - done < QSZ / 2 && submitted < total) {	/* 2 descriptors each */
			uint64_t b = buf[submitted % (QSZ / 2)];
			struct virtio_blk_outhdr hdr = { .type = VIRTIO_BLK_T_IN,
							 .sector = submitted % DISK_SECTORS };
			uint16_t old = f.m.avail_idx;

			memcpy(vqm_host(&f.m, b), &hdr, 16);
			vqm_add(&f.m, (struct vqm_seg[]){ { b, 16, false }, { b + 16, 513, true } }, 2);
			submitted++;
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			if (vring_need_event(vqm_avail_event(&f.m), f.m.avail_idx, old))
				f.d->ops->notify(f.d, 0);
		}
		if (!fx_wait_used(&f, &id, &len)) {
			bad++;
			break;
		}
		if (len != 513 || *(uint8_t *)vqm_host(&f.m, buf[done % (QSZ / 2)] + 16 + 512) != 0)
			bad++;
		done++;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(done, total);
	CHECK(__atomic_load_n(&f.signals, __ATOMIC_SEQ_CST) < (int)total);	/* suppression did something */
	fx_free(&f);
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A stop with a request stuck in the back-end: vblk_quiesce waits until its deadline, not longer,
 * reports the request abandoned, and a reset no longer waits for it. Once the back-end answers
 * the worker finishes normally and the device can be destroyed. */
static void test_hung_backend(void)
{
	struct bfx f;
	struct virtio_blk_outhdr hdr = { .type = VIRTIO_BLK_T_IN, .sector = 1 };
	uint64_t h, data, st;
	struct timespec ts;
	uint32_t id = 0, len = 0;
	int64_t t0;

	fx_init(&f, false, NULL, 0);
	/* Idle device: nothing in flight, quiesce returns at once. */
	t0 = mono_ns();
	CHECK_EQ(vblk_quiesce(f.b, mono_ns() + 2000000000LL), 0);
	CHECK(mono_ns() - t0 < 1000000000LL);
	CHECK_EQ(fx_start(&f, 0), 0);

	__atomic_store_n(&f.be->hang, true, __ATOMIC_RELEASE);
	h = vqm_alloc(&f.m, 16);
	data = vqm_alloc(&f.m, 512);
	st = vqm_alloc(&f.m, 1);
	memcpy(vqm_host(&f.m, h), &hdr, 16);
	vqm_add(&f.m, (struct vqm_seg[]){ { h, 16, false }, { data, 512, true }, { st, 1, true } }, 3);
	f.d->ops->notify(f.d, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	CHECK_EQ(sem_timedwait(&f.be->entered, &ts), 0);	/* the worker is inside the back-end */

	t0 = mono_ns();
	CHECK_EQ(vblk_quiesce(f.b, t0 + 300000000LL), 1);
	CHECK(mono_ns() - t0 >= 290000000LL);		/* it gave the request its grace... */
	CHECK(mono_ns() - t0 < 2000000000LL);		/* ...and no more */
	t0 = mono_ns();
	f.d->ops->reset(f.d);				/* a vCPU resetting the device is not held */
	CHECK(mono_ns() - t0 < 1000000000LL);

	sem_post(&f.be->release);			/* the back-end answers after all */
	CHECK(fx_wait_used(&f, &id, &len));
	CHECK_EQ(len, 513);
	CHECK_EQ(vblk_quiesce(f.b, mono_ns() + 5000000000LL), 0);	/* worker idle again */
	vblk_destroy(f.b);
	vqm_free(&f.m);
	sem_destroy(&f.sem);
}

static void test_blk_file(void)
{
	char path[] = "/tmp/ckvm-blk-XXXXXX";
	struct blk_backend *a, *b;
	uint8_t w[1024], r[1024];
	struct iovec iov;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_EQ(ftruncate(fd, 4096 + 100), 0);	/* not a multiple of 512: rounded down */
	CHECK_EQ(blk_file_open(&a, path, false), 0);
	CHECK_EQ(a->size_bytes, 4096);
	CHECK(!a->readonly);
	/* A second writer, or a reader next to a writer, is refused. */
	CHECK_EQ(blk_file_open(&b, path, false), -EAGAIN);
	CHECK_EQ(blk_file_open(&b, path, true), -EAGAIN);

	memset(w, 0xa5, sizeof(w));
	iov = (struct iovec){ w, sizeof(w) };
	CHECK_EQ(a->ops->pwritev(a, &iov, 1, 1024), 0);
	CHECK_EQ(a->ops->flush(a), 0);
	iov = (struct iovec){ r, sizeof(r) };
	CHECK_EQ(a->ops->preadv(a, &iov, 1, 1024), 0);
	CHECK(!memcmp(w, r, sizeof(r)));
	/* The image shrank under us: a read past its end is an I/O error, not a short success. */
	CHECK_EQ(ftruncate(fd, 1536), 0);
	iov = (struct iovec){ r, sizeof(r) };
	CHECK_EQ(a->ops->preadv(a, &iov, 1, 1024), -EIO);
	blk_close(a);

	/* Readers share. */
	CHECK_EQ(blk_file_open(&a, path, true), 0);
	CHECK_EQ(blk_file_open(&b, path, true), 0);
	CHECK(a->readonly);
	iov = (struct iovec){ w, 512 };
	CHECK(a->ops->pwritev(a, &iov, 1, 0) < 0);
	blk_close(b);
	blk_close(a);

	CHECK_EQ(blk_file_open(&a, "/dev/null", true), -EINVAL);
	CHECK_EQ(blk_file_open(&a, "/nonexistent/disk.img", true), -ENOENT);
	close(fd);
	unlink(path);
}

int main(void)
{
	log_threshold = LOG_ERR;
	RUN(test_config);
	RUN(test_read_write);
	RUN(test_odd_layouts);
	RUN(test_flush_get_id);
	RUN(test_bad_requests);
	RUN(test_readonly);
	RUN(test_host_errors);
	RUN(test_malformed_resets);
	RUN(test_event_idx_stream);
	RUN(test_hung_backend);
	RUN(test_blk_file);
	return test_summary();
}
