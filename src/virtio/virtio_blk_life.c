/* virtio-blk's lifecycle (device.h): pause/resume around the worker, stop, the saved state (config
 * space and a config interrupt owed) and the drive swap (PATCH /drives). Runs on the thread driving
 * the lifecycle (API or main thread) and waits for the disk's worker thread under the device lock. */
#include "virtio/virtio_blk.h"
#include "virtio/virtio_blk_int.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "log.h"

unsigned vblk_quiesce(struct vblk *b, int64_t deadline_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(deadline_ns / 1000000000LL),
			       .tv_nsec = (long)(deadline_ns % 1000000000LL) };
	unsigned n = 0;

	pthread_mutex_lock(&b->lock);
	__atomic_store_n(&b->running, false, __ATOMIC_RELEASE);
	b->kick = false;
	while (b->busy && pthread_cond_timedwait(&b->cond, &b->lock, &ts) != ETIMEDOUT)
		;
	if (b->busy) {
		b->abandoned = true;
		n = __atomic_load_n(&b->inflight, __ATOMIC_RELAXED);
		if (!n)
			n = 1;	/* busy between pop and push bookkeeping: still one request */
		pthread_cond_broadcast(&b->cond);	/* a vCPU waiting in vblk_reset gives up too */
	}
	pthread_mutex_unlock(&b->lock);
	return n;
}

/* Wait (b->lock held) until the worker is out of the queue or deadline_ns passes: true when idle. */
static bool vblk_wait_idle(struct vblk *b, int64_t deadline_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(deadline_ns / 1000000000LL),
			       .tv_nsec = (long)(deadline_ns % 1000000000LL) };

	while (b->busy && !b->abandoned && pthread_cond_timedwait(&b->cond, &b->lock, &ts) != ETIMEDOUT)
		;
	return !b->busy;
}

/* Device pause: the worker finishes the request in the back-end and then leaves the queue; doorbells
 * meanwhile only set kick. The worker pushes and signals each request it popped before it clears
 * busy, so a 0 here means nothing is in flight and every completion is in the used ring (what the
 * transport's save relies on: it refuses a queue whose used index lags). API thread. */
int vblk_dev_pause(struct device *d, int64_t deadline_ns)
{
	struct vblk *b = device_of(d, struct vblk, dev);
	int ret = 0;

	pthread_mutex_lock(&b->lock);
	__atomic_store_n(&b->paused, true, __ATOMIC_RELEASE);
	if (!vblk_wait_idle(b, deadline_ns)) {
		__atomic_store_n(&b->paused, false, __ATOMIC_RELEASE);
		b->kick = true;		/* what the worker skipped when it saw paused */
		pthread_cond_broadcast(&b->cond);
		ret = -ETIMEDOUT;
	}
	pthread_mutex_unlock(&b->lock);
	if (ret)
		log_warnx("vblk", "%s: a request on %s did not finish in time; not paused", b->name,
			  b->be->name ? b->be->name : "the disk");
	return ret;
}

/* Resume: look at the queue whether or not a doorbell rang meanwhile (one may have), and tell the
 * guest about a capacity change made while paused. */
void vblk_dev_resume(struct device *d)
{
	struct vblk *b = device_of(d, struct vblk, dev);
	bool cfg;

	pthread_mutex_lock(&b->lock);
	__atomic_store_n(&b->paused, false, __ATOMIC_RELEASE);
	b->kick = true;
	cfg = b->cfg_pending;
	b->cfg_pending = false;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	if (cfg)
		virtio_signal_config(&b->vdev);
}

static unsigned vblk_dev_stop(struct device *d, int64_t deadline_ns)
{
	struct vblk *b = device_of(d, struct vblk, dev);
	unsigned n = vblk_quiesce(b, deadline_ns);

	if (n)
		log_warnx(NULL, "abandoned %u in-flight disk request%s on %s", n, n == 1 ? "" : "s",
			  b->be->name ? b->be->name : b->name);
	return n;
}

/* The saved state: what the guest sees in config space, and a config interrupt still owed. The
 * queue itself is the transport's record. Host byte order, explicit padding. */
struct vblk_state {
	uint64_t capacity_sectors;
	uint32_t seg_max, blk_size;
	uint8_t readonly, cfg_pending, pad[6];
};

_Static_assert(sizeof(struct vblk_state) == 24, "vblk_state has no hidden padding");

static ssize_t vblk_dev_save(struct device *d, void *buf, size_t cap)
{
	struct vblk *b = device_of(d, struct vblk, dev);
	struct vblk_state st = { 0 };

	if (cap < sizeof(st))
		return -ENOSPC;
	pthread_mutex_lock(&b->lock);
	st.capacity_sectors = b->cfg.capacity;
	st.seg_max = b->cfg.seg_max;
	st.blk_size = b->cfg.blk_size;
	st.readonly = b->readonly;
	st.cfg_pending = b->cfg_pending;
	pthread_mutex_unlock(&b->lock);
	memcpy(buf, &st, sizeof(st));
	return sizeof(st);
}

/* The disk's shape must be this disk's: a guest that negotiated a writable disk is not handed a
 * read-only one, nor other segment limits. A different capacity (the image grew between save and
 * restore) is accepted and announced with a config interrupt at resume, as a drive swap would. */
static int vblk_dev_restore(struct device *d, const void *buf, size_t len)
{
	struct vblk *b = device_of(d, struct vblk, dev);
	struct vblk_state st;
	static const uint8_t zero[sizeof(st.pad)];

	if (len != sizeof(st))
		return -EINVAL;
	memcpy(&st, buf, sizeof(st));
	if (st.seg_max != b->cfg.seg_max || st.blk_size != b->cfg.blk_size || st.readonly != b->readonly ||
	    st.cfg_pending > 1 || memcmp(st.pad, zero, sizeof(zero)))
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	b->cfg_pending = st.cfg_pending || st.capacity_sectors != b->cfg.capacity;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

static void vblk_dev_destroy(struct device *d)
{
	vblk_destroy(device_of(d, struct vblk, dev));
}

const struct device_ops vblk_dev_ops = {
	.kind = "virtio-blk",
	.state_version = 1,
	.pause = vblk_dev_pause,
	.resume = vblk_dev_resume,
	.stop = vblk_dev_stop,
	.save = vblk_dev_save,
	.restore = vblk_dev_restore,
	.destroy = vblk_dev_destroy,
};

int vblk_swap_backend(struct vblk *b, struct blk_backend *be, int64_t deadline_ns,
		      struct blk_backend **old)
{
	bool was_paused = b->dev.paused;
	int ret;

	*old = NULL;
	if (!b->readonly && be->readonly)
		return -EROFS;
	if (!was_paused && (ret = vblk_dev_pause(&b->dev, deadline_ns)))
		return ret;
	pthread_mutex_lock(&b->lock);
	*old = b->be;
	b->be = be;
	b->capacity_sectors = be->size_bytes >> SECTOR_SHIFT;
	b->cfg.capacity = b->capacity_sectors;
	b->cfg_pending = true;
	pthread_mutex_unlock(&b->lock);
	if (!was_paused)
		vblk_dev_resume(&b->dev);	/* raises the config change interrupt */
	log_info("vblk", "%s: now backed by %s (%llu sectors)", b->name, be->name ? be->name : "?",
		 (unsigned long long)b->capacity_sectors);
	return 0;
}

struct device *vblk_device(struct vblk *b)
{
	return &b->dev;
}

struct vblk *vblk_of_device(struct device *d)
{
	return d && d->ops == &vblk_dev_ops ? device_of(d, struct vblk, dev) : NULL;
}
