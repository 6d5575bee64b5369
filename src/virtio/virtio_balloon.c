/* virtio-balloon (virtio 1.2 §5.5). Inflate and deflate buffers are arrays of le32 page frame numbers
 * (4 KiB pages, §5.5.6); every one is untrusted: it must be guest RAM (gm_ptr, the one check) or it
 * is skipped with a log line. Inflated pages are dropped from the host with MADV_DONTNEED (private
 * anonymous memory reads back as zeros, which is all a deflated page may hold, §5.5.6.1); deflate
 * needs nothing (the next guest touch faults a fresh page in). The stats queue (§5.5.6.3): the driver
 * keeps one buffer with it; the device reads it, holds it, and hands it back when it wants fresh
 * numbers (the polling timer). Queues are served on the kicking thread (vCPU or I/O), the timer on
 * the I/O thread, all under one lock. */
#include "virtio/virtio_balloon.h"

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <linux/virtio_balloon.h>
#include <linux/virtio_ids.h>

#include "log.h"

enum { INFLATEQ, DEFLATEQ, STATSQ };

#define PAGE_SHIFT_4K	12
#define CFG_LEN		8	/* num_pages, actual: the rest needs features we do not offer */
#define STAT_LEN	10	/* le16 tag + le64 value, packed */

struct vbal_state {		/* what save writes */
	uint32_t target_pages, actual_pages;
	uint64_t inflated, deflated;
};

struct vballoon {
	struct device dev;
	struct virtio_dev vdev;
	struct virtq vq[3];
	struct vq_chain chain;
	struct evloop *ev;
	int timer_fd;
	pthread_mutex_t lock;
	bool active, paused;
	bool have_stats_chain;
	struct vq_chain stats_chain;
	bool deflate_on_oom, stats;
	uint32_t stats_interval_s;
	uint32_t ram_pages;
	struct vbal_state st;
	bool stats_valid;
	bool stat_set[VBAL_NSTATS];
	uint64_t stat[VBAL_NSTATS];
};

static struct vballoon *to_vb(struct virtio_dev *d)
{
	return virtio_container_of(d, struct vballoon, vdev);
}

static uint64_t vb_get_features(struct virtio_dev *d)
{
	struct vballoon *b = to_vb(d);
	uint64_t f = 1ULL << VIRTIO_RING_F_EVENT_IDX | 1ULL << VIRTIO_RING_F_INDIRECT_DESC;

	if (b->stats)
		f |= 1ULL << VIRTIO_BALLOON_F_STATS_VQ;
	if (b->deflate_on_oom)
		f |= 1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
	return f;
}

static void vb_cfg_read(struct virtio_dev *d, uint32_t off, void *data, uint32_t len)
{
	struct vballoon *b = to_vb(d);
	uint32_t cfg[2];

	pthread_mutex_lock(&b->lock);
	cfg[0] = htole32(b->st.target_pages);
	cfg[1] = htole32(b->st.actual_pages);
	pthread_mutex_unlock(&b->lock);
	memcpy(data, (uint8_t *)cfg + off, len);
}

static void vb_cfg_write(struct virtio_dev *d, uint32_t off, const void *data, uint32_t len)
{
	struct vballoon *b = to_vb(d);
	uint32_t actual;

	/* only `actual` (offset 4) is the driver's; a partial write of it is a driver bug */
	if (off != 4 || len != 4) {
		log_guest("vballoon", "%s: config write at %u len %u ignored", d->name, off, len);
		return;
	}
	memcpy(&actual, data, 4);
	pthread_mutex_lock(&b->lock);
	b->st.actual_pages = le32toh(actual);
	pthread_mutex_unlock(&b->lock);
}

/* Lock held. One inflate/deflate chain: every 4-byte PFN in its readable part. */
static void vb_pages(struct vballoon *b, struct vq_chain *c, bool inflate)
{
	struct iovec *iov = vq_chain_rd(c);
	unsigned bad = 0;

	for (unsigned i = 0; i < c->nr_rd; i++) {
		const uint8_t *p = iov[i].iov_base;

		/* a PFN split across two descriptors is not something a driver does: its bytes are skipped */
		for (size_t k = 0; k + 4 <= iov[i].iov_len; k += 4) {
			uint32_t pfn;
			void *host;

			memcpy(&pfn, p + k, 4);
			pfn = le32toh(pfn);
			host = gm_ptr(b->vdev.gm, (uint64_t)pfn << PAGE_SHIFT_4K, 1u << PAGE_SHIFT_4K);
			if (!host) {
				bad++;
				continue;
			}
			if (inflate) {
				/* the page is the host's again until the guest deflates it */
				if (madvise(host, 1u << PAGE_SHIFT_4K, MADV_DONTNEED))
					bad++;
				b->st.inflated++;
			} else {
				b->st.deflated++;
			}
		}
	}
	if (bad)
		log_guest("vballoon", "%s: %u page numbers outside guest RAM skipped", b->vdev.name, bad);
}

/* Lock held: the stats buffer's tag/value pairs into our table (its first STATS_MAX bytes: Linux
 * sends VBAL_NSTATS records at most); unknown tags are ignored. */
#define STATS_MAX (2 * VBAL_NSTATS * STAT_LEN)

static void vb_read_stats(struct vballoon *b, struct vq_chain *c)
{
	uint8_t buf[STATS_MAX];
	size_t n = 0;

	for (unsigned i = 0; i < c->nr_rd && n < sizeof(buf); i++) {
		size_t k = c->iov[i].iov_len < sizeof(buf) - n ? c->iov[i].iov_len : sizeof(buf) - n;

		memcpy(buf + n, c->iov[i].iov_base, k);
		n += k;
	}
	for (size_t off = 0; off + STAT_LEN <= n; off += STAT_LEN) {
		uint16_t tag;
		uint64_t val;

		memcpy(&tag, buf + off, 2);
		memcpy(&val, buf + off + 2, 8);
		tag = le16toh(tag);
		if (tag < VBAL_NSTATS) {
			b->stat[tag] = le64toh(val);
			b->stat_set[tag] = true;
		}
	}
	b->stats_valid = true;
}

static void vb_process(struct vballoon *b, uint16_t q)
{
	struct virtq *vq = &b->vq[q];
	bool pushed = false;

	pthread_mutex_lock(&b->lock);
	while (b->active && !b->paused && vq_enabled(vq)) {
		struct vq_chain *c = q == STATSQ ? &b->stats_chain : &b->chain;
		int r;

		if (q == STATSQ && b->have_stats_chain)
			break;		/* the driver has one stats buffer; it is with us already */
		r = vq_pop(vq, c);
		if (r < 0 || (r && c->nr_wr)) {
			log_guest("vballoon", "%s: malformed chain on queue %u", b->vdev.name, q);
			b->active = false;
			virtio_needs_reset(&b->vdev);
			break;
		}
		if (!r)
			break;
		if (q == STATSQ) {
			vb_read_stats(b, c);
			b->have_stats_chain = true;	/* held until the timer asks for new numbers */
			break;
		}
		vb_pages(b, c, q == INFLATEQ);
		vq_push(vq, c->head, 0);
		pushed = true;
	}
	if (pushed && vq_should_notify(vq))
		virtio_signal_used(&b->vdev, q);
	pthread_mutex_unlock(&b->lock);
}

/* Stats timer: give the held buffer back, the driver refills it and kicks. I/O thread. */
static void vb_timer_event(void *arg, uint32_t events)
{
	struct vballoon *b = arg;
	uint64_t ticks;

	(void)events;
	if (read(b->timer_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&b->lock);
	if (b->active && !b->paused && b->have_stats_chain) {
		b->have_stats_chain = false;
		vq_push(&b->vq[STATSQ], b->stats_chain.head, 0);
		if (vq_should_notify(&b->vq[STATSQ]))
			virtio_signal_used(&b->vdev, STATSQ);
	}
	pthread_mutex_unlock(&b->lock);
}

static int vb_arm(struct vballoon *b)
{
	struct itimerspec its = { { b->stats_interval_s, 0 }, { b->stats_interval_s, 0 } };

	if (b->timer_fd < 0)
		return 0;
	return timerfd_settime(b->timer_fd, 0, &its, NULL) ? -errno : 0;
}

static int vb_activate(struct virtio_dev *d)
{
	struct vballoon *b = to_vb(d);

	pthread_mutex_lock(&b->lock);
	b->active = true;
	b->have_stats_chain = false;
	pthread_mutex_unlock(&b->lock);
	for (uint16_t q = 0; q < d->num_queues; q++)
		vb_process(b, q);
	return 0;
}

static void vb_reset(struct virtio_dev *d)
{
	struct vballoon *b = to_vb(d);

	pthread_mutex_lock(&b->lock);
	b->active = false;
	b->have_stats_chain = false;
	b->st.actual_pages = 0;		/* a reset driver holds no pages */
	pthread_mutex_unlock(&b->lock);
}

static void vb_notify(struct virtio_dev *d, uint16_t q)
{
	vb_process(to_vb(d), q);
}

static const struct virtio_dev_ops vb_ops = {
	.get_features = vb_get_features,
	.cfg_read = vb_cfg_read,
	.cfg_write = vb_cfg_write,
	.activate = vb_activate,
	.reset = vb_reset,
	.notify = vb_notify,
};

static int vb_dev_pause(struct device *d, int64_t deadline_ns)
{
	struct vballoon *b = device_of(d, struct vballoon, dev);

	(void)deadline_ns;
	pthread_mutex_lock(&b->lock);
	b->paused = true;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

static void vb_dev_resume(struct device *d)
{
	struct vballoon *b = device_of(d, struct vballoon, dev);

	pthread_mutex_lock(&b->lock);
	b->paused = false;
	pthread_mutex_unlock(&b->lock);
	vb_process(b, INFLATEQ);
	vb_process(b, DEFLATEQ);
	vb_process(b, STATSQ);
}

static unsigned vb_dev_stop(struct device *d, int64_t deadline_ns)
{
	struct vballoon *b = device_of(d, struct vballoon, dev);

	(void)deadline_ns;
	pthread_mutex_lock(&b->lock);
	b->active = false;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

static ssize_t vb_dev_save(struct device *d, void *buf, size_t cap)
{
	struct vballoon *b = device_of(d, struct vballoon, dev);

	if (cap < sizeof(b->st))
		return -ENOSPC;
	pthread_mutex_lock(&b->lock);
	memcpy(buf, &b->st, sizeof(b->st));
	pthread_mutex_unlock(&b->lock);
	return (ssize_t)sizeof(b->st);
}

static int vb_dev_restore(struct device *d, const void *buf, size_t len)
{
	struct vballoon *b = device_of(d, struct vballoon, dev);
	struct vbal_state st;

	if (len != sizeof(st))
		return -EINVAL;
	memcpy(&st, buf, sizeof(st));
	/* a balloon as large as the guest's RAM is not one this device could have had */
	if (st.target_pages >= b->ram_pages || st.actual_pages >= b->ram_pages)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	b->st = st;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

static void vb_dev_destroy(struct device *d)
{
	vballoon_destroy(device_of(d, struct vballoon, dev));
}

static const struct device_ops vb_dev_ops = {
	.kind = "virtio-balloon",
	.state_version = 1,
	.pause = vb_dev_pause,
	.resume = vb_dev_resume,
	.stop = vb_dev_stop,
	.save = vb_dev_save,
	.restore = vb_dev_restore,
	.destroy = vb_dev_destroy,
};

int vballoon_create(struct vballoon **out, const struct vballoon_params *p)
{
	uint16_t qs = p->queue_size ? p->queue_size : VBAL_QUEUE_SIZE;
	const char *name = p->name ? p->name : "balloon";
	struct vballoon *b;
	int ret;

	if (!p->gm || (qs & (qs - 1)) || (p->stats && p->stats_interval_s && !p->ev))
		return -EINVAL;
	if (!(b = calloc(1, sizeof(*b))))
		return -ENOMEM;
	b->timer_fd = -1;
	b->ram_pages = (uint32_t)(p->gm->ram_bytes >> PAGE_SHIFT_4K);
	b->vdev.gm = p->gm;
	b->st.target_pages = p->target_mib << (20 - PAGE_SHIFT_4K);
	if (b->st.target_pages >= b->ram_pages || p->target_mib >= 1u << 20) {
		free(b);
		return -EINVAL;
	}
	b->deflate_on_oom = p->deflate_on_oom;
	b->stats = p->stats;
	b->stats_interval_s = p->stats ? p->stats_interval_s : 0;
	b->ev = p->ev;
	if ((ret = vq_chain_init(&b->chain, qs)) || (ret = vq_chain_init(&b->stats_chain, qs)))
		goto fail;
	if (b->stats && b->ev) {
		b->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (b->timer_fd < 0) {
			ret = -errno;
			goto fail;
		}
		if ((ret = evloop_add(b->ev, b->timer_fd, EPOLLIN, vb_timer_event, b)) || (ret = vb_arm(b))) {
			close(b->timer_fd);
			goto fail;
		}
	}
	pthread_mutex_init(&b->lock, NULL);
	device_init(&b->dev, &vb_dev_ops, name);
	b->vdev = (struct virtio_dev){
		.ops = &vb_ops, .name = name, .device_id = VIRTIO_ID_BALLOON,
		.num_queues = b->stats ? 3 : 2, .queue_size_max = qs, .cfg_len = CFG_LEN, .vq = b->vq,
		.gm = p->gm,
	};
	*out = b;
	return 0;
fail:
	vq_chain_free(&b->chain);
	vq_chain_free(&b->stats_chain);
	free(b);
	return ret;
}

void vballoon_destroy(struct vballoon *b)
{
	if (!b)
		return;
	if (b->timer_fd >= 0) {
		evloop_del(b->ev, b->timer_fd);
		close(b->timer_fd);
	}
	vq_chain_free(&b->chain);
	vq_chain_free(&b->stats_chain);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

struct virtio_dev *vballoon_virtio(struct vballoon *b)
{
	return &b->vdev;
}

struct device *vballoon_device(struct vballoon *b)
{
	return &b->dev;
}

struct vballoon *vballoon_of_device(struct device *d)
{
	return d && d->ops == &vb_dev_ops ? device_of(d, struct vballoon, dev) : NULL;
}

int vballoon_set_target(struct vballoon *b, uint32_t mib)
{
	if (mib >= 1u << 20 || (mib << (20 - PAGE_SHIFT_4K)) >= b->ram_pages)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	b->st.target_pages = mib << (20 - PAGE_SHIFT_4K);
	pthread_mutex_unlock(&b->lock);
	virtio_signal_config(&b->vdev);
	return 0;
}

int vballoon_set_stats_interval(struct vballoon *b, uint32_t seconds)
{
	int ret;

	if (!b->stats || b->timer_fd < 0)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	b->stats_interval_s = seconds;
	ret = vb_arm(b);
	pthread_mutex_unlock(&b->lock);
	return ret;
}

void vballoon_get_info(struct vballoon *b, struct vballoon_info *o)
{
	memset(o, 0, sizeof(*o));
	pthread_mutex_lock(&b->lock);
	o->target_pages = b->st.target_pages;
	o->actual_pages = b->st.actual_pages;
	o->target_mib = b->st.target_pages >> (20 - PAGE_SHIFT_4K);
	o->actual_mib = b->st.actual_pages >> (20 - PAGE_SHIFT_4K);
	o->deflate_on_oom = b->deflate_on_oom;
	o->stats_interval_s = b->stats_interval_s;
	o->stats_valid = b->stats_valid;
	memcpy(o->stat_set, b->stat_set, sizeof(o->stat_set));
	memcpy(o->stat, b->stat, sizeof(o->stat));
	o->inflated_pages = b->st.inflated;
	o->deflated_pages = b->st.deflated;
	pthread_mutex_unlock(&b->lock);
}
