/* virtio-blk's lifecycle (src/virtio/virtio_blk.c, struct device): a device pause holds requests
 * and interrupts and loses none, a pause that cannot finish a request in time fails and leaves the
 * disk running, and a back-end swap (PATCH /drives) changes the capacity in config space and raises
 * the config change interrupt: at once, or at the VM's resume when the VM is paused. Driven through
 * the disk's worker thread with the driver-side virtqueue mock; no /dev/kvm. */
#include <errno.h>
#include <semaphore.h>
#include <stdlib.h>
#include <time.h>
#include <linux/virtio_blk.h>

#include "core/device.h"
#include "log.h"
#include "test.h"
#include "vq_mock.h"
#include "virtio/virtio_blk.h"

#define QSZ 16

/* A RAM disk whose reads can be made to block until the test releases them (a slow back-end). */
struct slow_be {
	struct blk_backend b;
	struct blk_backend *inner;
	bool hang;
	sem_t entered, release;
};

static int slow_preadv(struct blk_backend *b, struct iovec *iov, int n, uint64_t off)
{
	struct slow_be *s = (struct slow_be *)b;

	if (__atomic_load_n(&s->hang, __ATOMIC_ACQUIRE)) {
		sem_post(&s->entered);
		while (sem_wait(&s->release) && errno == EINTR)
			;
	}
	return s->inner->ops->preadv(s->inner, iov, n, off);
}

static int slow_pwritev(struct blk_backend *b, struct iovec *iov, int n, uint64_t off)
{
	struct slow_be *s = (struct slow_be *)b;

	return s->inner->ops->pwritev(s->inner, iov, n, off);
}

static int slow_flush(struct blk_backend *b)
{
	(void)b;
	return 0;
}

static void slow_close(struct blk_backend *b)
{
	struct slow_be *s = (struct slow_be *)b;

	blk_close(s->inner);
	sem_destroy(&s->entered);
	sem_destroy(&s->release);
	free(s);
}

static const struct blk_backend_ops slow_ops = { slow_preadv, slow_pwritev, slow_flush, slow_close };

/* A disk of len bytes, every byte `fill`. */
static struct slow_be *slow_create(uint64_t len, uint8_t fill, bool readonly)
{
	struct slow_be *s = calloc(1, sizeof(*s));
	struct blk_backend *mem;

	CHECK_EQ(blk_mem_create(&mem, len, readonly), 0);
	memset(blk_mem_data(mem), fill, len);
	s->inner = mem;
	s->b = (struct blk_backend){ .ops = &slow_ops, .size_bytes = len, .readonly = readonly,
				     .name = "slow" };
	sem_init(&s->entered, 0, 0);
	sem_init(&s->release, 0, 0);
	return s;
}

struct fx {
	struct vq_mock m;
	struct vblk *b;
	struct virtio_dev *d;
	struct device *dev;
	struct slow_be *be;
	sem_t sem;
	int used_irqs, config_irqs;
};

static void fx_used(struct virtio_dev *d, uint16_t q)
{
	struct fx *f = d->transport;

	(void)q;
	__atomic_fetch_add(&f->used_irqs, 1, __ATOMIC_SEQ_CST);
	sem_post(&f->sem);
}

static void fx_config(struct virtio_dev *d)
{
	struct fx *f = d->transport;

	__atomic_fetch_add(&f->config_irqs, 1, __ATOMIC_SEQ_CST);
}

static void fx_init(struct fx *f)
{
	struct vblk_config cfg = { .name = "vblk-swap", .queue_size = QSZ };

	memset(f, 0, sizeof(*f));
	sem_init(&f->sem, 0, 0);
	CHECK_EQ(vqm_init(&f->m, QSZ, 1024 * 1024), 0);
	f->be = slow_create(64 * 1024, 0xa1, false);
	cfg.backend = &f->be->b;
	cfg.gm = &f->m.gm;
	CHECK_EQ(vblk_create(&f->b, &cfg), 0);
	f->d = vblk_virtio(f->b);
	f->dev = vblk_device(f->b);
	f->d->transport = f;
	f->d->signal_used = fx_used;
	f->d->signal_config = fx_config;
	CHECK_EQ(vqm_enable(&f->m, &f->d->vq[0], 0), 0);
	CHECK_EQ(f->d->ops->activate(f->d), 0);
}

static void fx_free(struct fx *f)
{
	f->d->ops->reset(f->d);
	f->dev->ops->destroy(f->dev);
	vqm_free(&f->m);
	sem_destroy(&f->sem);
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Queue a one-sector read of `sector` and ring the doorbell; the data and status gpas come back. */
static uint16_t read_req(struct fx *f, uint64_t sector, uint64_t *data_gpa, uint64_t *status_gpa)
{
	struct virtio_blk_outhdr hdr = { .type = VIRTIO_BLK_T_IN, .sector = sector };
	uint64_t h = vqm_alloc(&f->m, sizeof(hdr));
	uint16_t head;

	*data_gpa = vqm_alloc(&f->m, 512);
	*status_gpa = vqm_alloc(&f->m, 1);
	memcpy(vqm_host(&f->m, h), &hdr, sizeof(hdr));
	*(uint8_t *)vqm_host(&f->m, *status_gpa) = 0xee;
	head = vqm_add(&f->m, (struct vqm_seg[]){ { h, sizeof(hdr), false }, { *data_gpa, 512, true },
						  { *status_gpa, 1, true } }, 3);
	f->d->ops->notify(f->d, 0);
	return head;
}

/* Wait up to ms for an interrupt; 1 if one came. */
static int wait_irq(struct fx *f, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	while (sem_timedwait(&f->sem, &ts))
		if (errno != EINTR)
			return 0;
	return 1;
}

/* Read the status of a request that should have completed: 1 used entry with head's id. */
static uint8_t completed(struct fx *f, uint16_t head, uint64_t status_gpa)
{
	uint32_t id = 0xffff, len = 0;

	CHECK_EQ(vqm_get_used(&f->m, &id, &len), 1);
	CHECK_EQ(id, head);
	return *(uint8_t *)vqm_host(&f->m, status_gpa);
}

/* A request and its doorbell while paused: not served, no interrupt; served after resume. */
static void test_pause_holds(void)
{
	struct fx f;
	uint64_t data, st;
	uint32_t id, len;
	uint16_t head;

	fx_init(&f);
	CHECK_STR(f.dev->ops->kind, "virtio-blk");
	CHECK(vblk_of_device(f.dev) == f.b);
	CHECK_EQ(f.dev->ops->pause(f.dev, mono_ns() + 1000000000LL), 0);
	head = read_req(&f, 3, &data, &st);
	CHECK_EQ(wait_irq(&f, 100), 0);		/* a bounded look for what must not happen */
	CHECK_EQ(vqm_get_used(&f.m, &id, &len), 0);
	CHECK_EQ(*(uint8_t *)vqm_host(&f.m, st), 0xee);
	f.dev->ops->resume(f.dev);
	CHECK_EQ(wait_irq(&f, 5000), 1);
	CHECK_EQ(completed(&f, head, st), VIRTIO_BLK_S_OK);
	CHECK_EQ(((uint8_t *)vqm_host(&f.m, data))[0], 0xa1);
	fx_free(&f);
}

/* A request stuck in the back-end: the pause gives up at its deadline (-ETIMEDOUT) and the disk
 * keeps running; once the back-end answers, the request completes and a pause succeeds. */
static void test_pause_timeout(void)
{
	struct fx f;
	uint64_t data, st;
	struct timespec ts;
	uint16_t head;
	int64_t t0;

	fx_init(&f);
	__atomic_store_n(&f.be->hang, true, __ATOMIC_RELEASE);
	head = read_req(&f, 0, &data, &st);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	CHECK_EQ(sem_timedwait(&f.be->entered, &ts), 0);
	t0 = mono_ns();
	CHECK_EQ(f.dev->ops->pause(f.dev, t0 + 200000000LL), -ETIMEDOUT);
	CHECK(mono_ns() - t0 >= 190000000LL);
	CHECK(mono_ns() - t0 < 2000000000LL);
	__atomic_store_n(&f.be->hang, false, __ATOMIC_RELEASE);
	sem_post(&f.be->release);
	CHECK_EQ(wait_irq(&f, 5000), 1);
	CHECK_EQ(completed(&f, head, st), VIRTIO_BLK_S_OK);
	/* not paused: the next request is served without a resume */
	head = read_req(&f, 1, &data, &st);
	CHECK_EQ(wait_irq(&f, 5000), 1);
	CHECK_EQ(completed(&f, head, st), VIRTIO_BLK_S_OK);
	CHECK_EQ(f.dev->ops->pause(f.dev, mono_ns() + 1000000000LL), 0);
	f.dev->ops->resume(f.dev);
	fx_free(&f);
}

static uint64_t cfg_capacity(struct fx *f)
{
	uint64_t cap = 0;

	f->d->ops->cfg_read(f->d, offsetof(struct virtio_blk_config, capacity), &cap, sizeof(cap));
	return cap;
}

/* A running disk gets a bigger file: new capacity, one config interrupt, reads see the new file
 * (past the old end too); the old back-end is handed back. A read-only file under a writable
 * drive is refused with nothing changed. */
static void test_swap(void)
{
	struct fx f;
	struct slow_be *big = slow_create(128 * 1024, 0xb2, false), *ro = slow_create(4096, 0, true);
	struct blk_backend *old = NULL;
	uint64_t data, st;
	uint16_t head;

	fx_init(&f);
	CHECK_EQ(cfg_capacity(&f), 128);
	CHECK_EQ(vblk_swap_backend(f.b, &ro->b, mono_ns() + 1000000000LL, &old), -EROFS);
	CHECK(old == NULL);
	CHECK_EQ(cfg_capacity(&f), 128);
	CHECK_EQ(f.config_irqs, 0);
	blk_close(&ro->b);

	CHECK_EQ(vblk_swap_backend(f.b, &big->b, mono_ns() + 1000000000LL, &old), 0);
	CHECK(old == &f.be->b);
	blk_close(old);
	CHECK_EQ(cfg_capacity(&f), 256);
	CHECK_EQ(__atomic_load_n(&f.config_irqs, __ATOMIC_SEQ_CST), 1);
	head = read_req(&f, 200, &data, &st);	/* beyond the old file's end */
	CHECK_EQ(wait_irq(&f, 5000), 1);
	CHECK_EQ(completed(&f, head, st), VIRTIO_BLK_S_OK);
	CHECK_EQ(((uint8_t *)vqm_host(&f.m, data))[511], 0xb2);
	fx_free(&f);
}

/* The whole VM is paused (the registry paused the disk): the swap happens at once, but the config
 * interrupt waits for the resume, like every other interrupt of a paused device. */
static void test_swap_while_paused(void)
{
	struct fx f;
	struct devreg r = { 0 };
	struct slow_be *small = slow_create(8192, 0xc3, false);
	struct blk_backend *old = NULL;
	uint64_t data, st;
	uint16_t head;

	fx_init(&f);
	CHECK_EQ(devreg_add(&r, f.dev), 0);
	CHECK_EQ(devreg_pause(&r, mono_ns() + 1000000000LL), 0);
	CHECK_EQ(vblk_swap_backend(f.b, &small->b, mono_ns() + 1000000000LL, &old), 0);
	blk_close(old);
	CHECK_EQ(cfg_capacity(&f), 16);
	CHECK_EQ(f.config_irqs, 0);
	head = read_req(&f, 20, &data, &st);	/* past the new end: an I/O error, after resume */
	CHECK_EQ(wait_irq(&f, 100), 0);
	devreg_resume(&r);
	CHECK_EQ(__atomic_load_n(&f.config_irqs, __ATOMIC_SEQ_CST), 1);
	CHECK_EQ(wait_irq(&f, 5000), 1);
	CHECK_EQ(completed(&f, head, st), VIRTIO_BLK_S_IOERR);
	/* the VM ends: stop abandons nothing on an idle disk, and destroy (through the registry) frees */
	f.d->ops->reset(f.d);
	CHECK_EQ(devreg_stop(&r, mono_ns() + 1000000000LL), 0);
	devreg_destroy(&r);
	CHECK_EQ(r.n, 0);
	vqm_free(&f.m);
	sem_destroy(&f.sem);
}

int main(void)
{
	log_threshold = LOG_ERR;
	RUN(test_pause_holds);
	RUN(test_pause_timeout);
	RUN(test_swap);
	RUN(test_swap_while_paused);
	return test_summary();
}
