/* virtio-blk (virtio 1.x spec §5.2): IN/OUT/FLUSH/GET_ID on one split queue over a blk_backend.
 * Config space and status changes run on vCPU threads; notify on the I/O thread only wakes the disk's
 * worker thread, which pops requests, does the backend I/O, pushes used entries and signals. */
#include "virtio/virtio_blk.h"
#include "virtio/virtio_blk_int.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "core/sandbox.h"
#include "log.h"

/* Copy len bytes starting at byte skip of iov into dst. 0 or -1 if iov is too short. */
static int vblk_iov_copy(void *dst, const struct iovec *iov, int cnt, uint64_t skip, size_t len)
{
	uint8_t *d = dst;
	int i;

	for (i = 0; i < cnt && len; i++) {
		size_t n;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		n = iov[i].iov_len - (size_t)skip;
		if (n > len)
			n = len;
		memcpy(d, (uint8_t *)iov[i].iov_base + skip, n);
		d += n;
		len -= n;
		skip = 0;
	}
	return len ? -1 : 0;
}

/* Describe bytes [skip, skip + len) of src in dst (capacity: cnt entries). Returns the entry count. */
static int vblk_iov_slice(struct iovec *dst, const struct iovec *src, int cnt, uint64_t skip,
			  uint64_t len)
{
	int i, n = 0;

	for (i = 0; i < cnt && len; i++) {
		uint64_t take;

		if (skip >= src[i].iov_len) {
			skip -= src[i].iov_len;
			continue;
		}
		take = src[i].iov_len - skip;
		if (take > len)
			take = len;
		dst[n].iov_base = (uint8_t *)src[i].iov_base + skip;
		dst[n].iov_len = (size_t)take;
		n++;
		len -= take;
		skip = 0;
	}
	return n;
}

/* Sector range check, overflow-safe. */
static bool vblk_range_ok(const struct vblk *b, uint64_t sector, uint64_t len)
{
	if (len % SECTOR_SIZE)
		return false;
	return sector <= b->capacity_sectors && (len >> SECTOR_SHIFT) <= b->capacity_sectors - sector;
}

static uint8_t vblk_host_err(struct vblk *b, const char *op, int err, uint64_t sector)
{
	log_guest("vblk", "%s: %s at sector %llu failed: %s", b->name, op, (unsigned long long)sector,
		  strerror(-err));
	return VIRTIO_BLK_S_IOERR;
}

/* Serve one request. Returns the status; *written gets the bytes written into the data part. */
static uint8_t vblk_request(struct vblk *b, struct vq_chain *c, uint32_t *written)
{
	struct virtio_blk_outhdr hdr;
	struct iovec *wr = vq_chain_wr(c);
	uint64_t len;
	int n, ret;

	*written = 0;
	if (vblk_iov_copy(&hdr, vq_chain_rd(c), c->nr_rd, 0, sizeof(hdr))) {
		log_guest("vblk", "%s: request header shorter than %u bytes", b->name, VBLK_HDR_LEN);
		return VIRTIO_BLK_S_IOERR;
	}
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		len = c->wr_len - 1u;
		if (!vblk_range_ok(b, hdr.sector, len)) {
			log_guest("vblk", "%s: read of %llu bytes at sector %llu outside the disk", b->name,
				  (unsigned long long)len, (unsigned long long)hdr.sector);
			return VIRTIO_BLK_S_IOERR;
		}
		n = vblk_iov_slice(b->data, wr, c->nr_wr, 0, len);
		ret = b->be->ops->preadv(b->be, b->data, n, hdr.sector << SECTOR_SHIFT);
		if (ret)
			return vblk_host_err(b, "read", ret, hdr.sector);
		*written = (uint32_t)len;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_OUT:
		len = c->rd_len - VBLK_HDR_LEN;
		if (b->readonly) {
			log_guest("vblk", "%s: write to a read-only disk", b->name);
			return VIRTIO_BLK_S_IOERR;
		}
		if (!vblk_range_ok(b, hdr.sector, len)) {
			log_guest("vblk", "%s: write of %llu bytes at sector %llu outside the disk", b->name,
				  (unsigned long long)len, (unsigned long long)hdr.sector);
			return VIRTIO_BLK_S_IOERR;
		}
		n = vblk_iov_slice(b->data, vq_chain_rd(c), c->nr_rd, VBLK_HDR_LEN, len);
		ret = b->be->ops->pwritev(b->be, b->data, n, hdr.sector << SECTOR_SHIFT);
		if (ret)
			return vblk_host_err(b, "write", ret, hdr.sector);
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH:
		ret = b->be->ops->flush(b->be);
		if (ret)
			return vblk_host_err(b, "flush", ret, 0);
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		len = c->wr_len - 1u;
		if (len > VIRTIO_BLK_ID_BYTES)
			len = VIRTIO_BLK_ID_BYTES;
		n = vblk_iov_slice(b->data, wr, c->nr_wr, 0, len);
		for (int i = 0, off = 0; i < n; off += (int)b->data[i].iov_len, i++)
			memcpy(b->data[i].iov_base, b->serial + off, b->data[i].iov_len);
		*written = (uint32_t)len;
		return VIRTIO_BLK_S_OK;
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* Pop and serve until the queue is empty (0), the device is stopped (0), a chain is malformed
 * (-EINVAL), or VBLK_BUDGET requests were served (1: call again; keeps reset responsive and bounds
 * a guest whose buffers overlap its own avail ring). */
static int vblk_drain(struct vblk *b, bool worker)
{
	struct vq_chain *c = &b->chain;
	unsigned pending = 0, served = 0;
	int ret;

	for (;;) {
		if (worker && (!__atomic_load_n(&b->running, __ATOMIC_ACQUIRE) ||
			       __atomic_load_n(&b->paused, __ATOMIC_ACQUIRE))) {
			ret = 0;	/* reset or pause in progress: leave the rest alone */
			break;
		}
		if (served++ >= VBLK_BUDGET) {
			ret = 1;
			break;
		}
		ret = vq_pop(&b->vq, c);
		if (ret <= 0)
			break;
		__atomic_add_fetch(&b->inflight, 1, __ATOMIC_RELAXED);
		if (!c->wr_len) {
			/* No status byte to report through: hand the buffer back empty. */
			log_guest("vblk", "%s: request without a writable status byte", b->name);
			vq_push(&b->vq, c->head, 0);
		} else {
			struct iovec *last = &vq_chain_wr(c)[c->nr_wr - 1];
			uint32_t written;
			uint8_t status = vblk_request(b, c, &written);

			((uint8_t *)last->iov_base)[last->iov_len - 1] = status;
			vq_push(&b->vq, c->head, written + 1);
		}
		__atomic_sub_fetch(&b->inflight, 1, __ATOMIC_RELAXED);
		if (++pending >= VBLK_BATCH) {
			if (vq_should_notify(&b->vq))
				virtio_signal_used(&b->vdev, 0);
			pending = 0;
		}
	}
	if (pending && vq_should_notify(&b->vq))
		virtio_signal_used(&b->vdev, 0);
	if (ret < 0) {
		log_guest("vblk", "%s: malformed virtqueue, device needs reset", b->name);
		virtio_needs_reset(&b->vdev);
	}
	return ret;
}

int vblk_poll(struct vblk *b)
{
	return vblk_drain(b, false);
}

static void *vblk_worker(void *arg)
{
	struct vblk *b = arg;
	int ret;

	sandbox_enter(SANDBOX_VBLK);
	pthread_mutex_lock(&b->lock);
	for (;;) {
		while (!b->stop && !(b->running && b->kick && !b->paused))
			pthread_cond_wait(&b->cond, &b->lock);
		if (b->stop)
			break;
		b->kick = false;
		b->busy = true;
		pthread_mutex_unlock(&b->lock);

		ret = vblk_drain(b, true);

		pthread_mutex_lock(&b->lock);
		if (ret > 0)	/* budget used up: go round again */
			b->kick = true;
		if (ret < 0)	/* stay quiet until the driver resets us */
			__atomic_store_n(&b->running, false, __ATOMIC_RELEASE);
		b->busy = false;
		pthread_cond_broadcast(&b->cond);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

static struct vblk *vblk_of(struct virtio_dev *d)
{
	return virtio_container_of(d, struct vblk, vdev);
}

static uint64_t vblk_get_features(struct virtio_dev *d)
{
	struct vblk *b = vblk_of(d);
	uint64_t f = 1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_BLK_SIZE |
		     1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_RING_F_EVENT_IDX |
		     1ULL << VIRTIO_RING_F_INDIRECT_DESC;

	if (b->readonly)
		f |= 1ULL << VIRTIO_BLK_F_RO;
	return f;
}

static void vblk_cfg_read(struct virtio_dev *d, uint32_t off, void *data, uint32_t len)
{
	struct vblk *b = vblk_of(d);

	if (off > sizeof(b->cfg) || len > sizeof(b->cfg) - off) {
		memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&b->lock);	/* a drive swap may be changing the capacity */
	memcpy(data, (uint8_t *)&b->cfg + off, len);
	pthread_mutex_unlock(&b->lock);
}

static void vblk_cfg_write(struct virtio_dev *d, uint32_t off, const void *data, uint32_t len)
{
	(void)data;
	log_guest("vblk", "%s: write to read-only config at %u len %u ignored", vblk_of(d)->name, off,
		  len);
}

static int vblk_activate(struct virtio_dev *d)
{
	struct vblk *b = vblk_of(d);

	if (!vq_enabled(&b->vq)) {
		log_guest("vblk", "%s: DRIVER_OK without an enabled request queue", b->name);
		return -EINVAL;
	}
	pthread_mutex_lock(&b->lock);
	__atomic_store_n(&b->running, true, __ATOMIC_RELEASE);
	b->kick = true;		/* requests may already be waiting */
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

static void vblk_reset(struct virtio_dev *d)
{
	struct vblk *b = vblk_of(d);

	pthread_mutex_lock(&b->lock);
	__atomic_store_n(&b->running, false, __ATOMIC_RELEASE);
	b->kick = false;
	while (b->busy && !b->abandoned)
		pthread_cond_wait(&b->cond, &b->lock);
	pthread_mutex_unlock(&b->lock);
}

static void vblk_notify(struct virtio_dev *d, uint16_t q)
{
	struct vblk *b = vblk_of(d);

	if (q != 0)
		return;
	pthread_mutex_lock(&b->lock);
	b->kick = true;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static const struct virtio_dev_ops vblk_ops = {
	.get_features = vblk_get_features,
	.cfg_read = vblk_cfg_read,
	.cfg_write = vblk_cfg_write,
	.activate = vblk_activate,
	.reset = vblk_reset,
	.notify = vblk_notify,
};

static int vblk_start_worker(struct vblk *b)
{
	sigset_t all, old;
	int ret;

	/* The worker takes no signals: they belong to the main and vCPU threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&b->thread, NULL, vblk_worker, b);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!ret)
		pthread_setname_np(b->thread, "vblk");
	return ret;
}

int vblk_create(struct vblk **out, const struct vblk_config *cfg)
{
	uint16_t qsize = cfg->queue_size ? cfg->queue_size : VBLK_QUEUE_SIZE;
	size_t serial_len = cfg->serial ? strlen(cfg->serial) : 0;
	pthread_condattr_t ca;
	struct vblk *b;
	int ret;

	*out = NULL;
	if (!cfg->backend || !cfg->gm)
		return -EINVAL;
	if (serial_len > VIRTIO_BLK_ID_BYTES) {
		log_err("vblk", "serial '%s' is longer than %u bytes", cfg->serial, VIRTIO_BLK_ID_BYTES);
		return -EINVAL;
	}
	if (qsize < 4 || qsize > VQ_SIZE_MAX || (qsize & (qsize - 1)))
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->be = cfg->backend;
	b->name = cfg->name ? cfg->name : "vblk";
	b->readonly = cfg->readonly || cfg->backend->readonly;
	memcpy(b->serial, cfg->serial ? cfg->serial : "", serial_len);
	b->capacity_sectors = b->be->size_bytes >> SECTOR_SHIFT;
	b->cfg.capacity = b->capacity_sectors;
	b->cfg.seg_max = qsize - 2u;	/* header and status take one segment each */
	b->cfg.blk_size = SECTOR_SIZE;
	device_init(&b->dev, &vblk_dev_ops, b->name);
	b->vdev = (struct virtio_dev){
		.ops = &vblk_ops, .name = b->name, .device_id = VIRTIO_ID_BLOCK, .num_queues = 1,
		.queue_size_max = qsize, .cfg_len = sizeof(b->cfg), .vq = &b->vq, .gm = cfg->gm,
	};
	b->data = calloc(qsize, sizeof(*b->data));
	ret = b->data ? vq_chain_init(&b->chain, qsize) : -ENOMEM;
	if (ret)
		goto fail_mem;
	pthread_mutex_init(&b->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cond, &ca);
	pthread_condattr_destroy(&ca);
	ret = vblk_start_worker(b);
	if (ret)
		goto fail_sync;
	*out = b;
	return 0;
fail_sync:
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
fail_mem:
	vq_chain_free(&b->chain);
	free(b->data);
	free(b);
	return ret;
}

void vblk_destroy(struct vblk *b)
{
	bool stuck;

	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	b->stop = true;
	__atomic_store_n(&b->running, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&b->cond);
	stuck = b->busy && b->abandoned;
	pthread_mutex_unlock(&b->lock);
	if (stuck) {
		/* Still inside the back-end: the worker owns b (and guest memory) for good. */
		pthread_detach(b->thread);
		return;
	}
	pthread_join(b->thread, NULL);
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
	vq_chain_free(&b->chain);
	free(b->data);
	blk_close(b->be);
	free(b);
}

struct virtio_dev *vblk_virtio(struct vblk *b)
{
	return &b->vdev;
}
