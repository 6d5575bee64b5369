/* virtio-rng (virtio 1.2 §5.4): the driver posts write-only buffers, the device fills them with
 * random bytes. A chain with a readable part is a driver bug: NEEDS_RESET (§5.4.6.1 "MUST NOT place
 * driver-readable buffers"). With a rate limit a buffer may be filled only partly (the spec lets the
 * device write fewer bytes than offered); when the bucket is empty the queue waits for its timer.
 * Notify runs on the I/O thread (doorbell) or a vCPU (MMIO fallback); the timer on the I/O thread;
 * one lock serialises them. */
#include "virtio/virtio_rng.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <linux/virtio_ids.h>

#include "log.h"

#define NSEC 1000000000ULL
#define TIMER_MIN_NS 1000000ULL	/* never re-arm sooner than 1 ms: bounds the wake-ups per second */

/* What save writes (little-endian host only, like every ckvm record). */
struct vrng_state {
	uint64_t bytes;		/* delivered so far */
	uint64_t tokens;	/* the bucket's fill, <= bytes_per_sec */
};

struct vrng {
	struct device dev;
	struct virtio_dev vdev;
	struct virtq vq[1];
	struct vq_chain chain;
	struct evloop *ev;
	int timer_fd;			/* -1 without a rate limit */
	uint64_t rate;			/* bytes/s, 0 = unlimited */
	uint64_t last_ns;		/* CLOCK_MONOTONIC of the last refill */
	bool timer_armed;
	pthread_mutex_t lock;
	bool active, paused;
	struct vrng_state st;
};

static struct vrng *to_vrng(struct virtio_dev *d)
{
	return virtio_container_of(d, struct vrng, vdev);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

static uint64_t vrng_get_features(struct virtio_dev *d)
{
	(void)d;
	return 1ULL << VIRTIO_RING_F_EVENT_IDX | 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
}

static void vrng_cfg_read(struct virtio_dev *d, uint32_t off, void *data, uint32_t len)
{
	(void)d; (void)off; (void)data; (void)len;	/* cfg_len 0: the transport never calls it */
}

static void vrng_cfg_write(struct virtio_dev *d, uint32_t off, const void *data, uint32_t len)
{
	(void)d; (void)off; (void)data; (void)len;
}

/* Lock held. Add what the elapsed time earned, at most one second's worth (the burst). */
static void vrng_refill(struct vrng *r)
{
	uint64_t now = now_ns(), dt = now - r->last_ns, add;

	if (!r->rate)
		return;
	r->last_ns = now;
	/* dt * rate could overflow for long idle times: cap dt at one second first */
	add = dt >= NSEC ? r->rate : dt * r->rate / NSEC;
	r->st.tokens = r->st.tokens + add > r->rate ? r->rate : r->st.tokens + add;
}

/* Lock held, bucket empty: wake the queue when one buffer's worth (or a bit) is back. */
static void vrng_arm_timer(struct vrng *r)
{
	uint64_t ns = NSEC * 64 / r->rate;	/* time for 64 bytes: fewer, larger fills */
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	if (r->timer_armed)
		return;
	if (ns < TIMER_MIN_NS)
		ns = TIMER_MIN_NS;
	if (ns > NSEC)
		ns = NSEC;
	its.it_value.tv_sec = (time_t)(ns / NSEC);
	its.it_value.tv_nsec = (long)(ns % NSEC);
	if (timerfd_settime(r->timer_fd, 0, &its, NULL) == 0)
		r->timer_armed = true;
	else
		log_errno(LOG_WARN, "vrng", -errno, "%s: rate-limit timer", r->vdev.name);
}

/* Fill n bytes of the chain's writable segments from getrandom(). Returns the bytes written. */
static uint32_t vrng_fill(struct vq_chain *c, uint32_t n)
{
	struct iovec *iov = vq_chain_wr(c);
	uint32_t done = 0;

	for (unsigned i = 0; i < c->nr_wr && done < n; i++) {
		size_t want = iov[i].iov_len < n - done ? iov[i].iov_len : n - done, got = 0;

		while (got < want) {
			ssize_t k = getrandom((uint8_t *)iov[i].iov_base + got, want - got, 0);

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return done + (uint32_t)got;	/* cannot happen on a booted host; give what we have */
			got += (size_t)k;
		}
		done += (uint32_t)got;
	}
	return done;
}

static void vrng_process(struct vrng *r)
{
	struct virtq *vq = &r->vq[0];
	bool pushed = false;

	pthread_mutex_lock(&r->lock);
	vrng_refill(r);
	while (r->active && !r->paused) {
		uint32_t n, done;
		int ret;

		if (r->rate && !r->st.tokens) {
			vrng_arm_timer(r);
			break;
		}
		ret = vq_pop(vq, &r->chain);
		if (ret < 0 || (ret && r->chain.nr_rd)) {
			log_guest("vrng", "%s: malformed request chain", r->vdev.name);
			r->active = false;
			virtio_needs_reset(&r->vdev);
			break;
		}
		if (!ret)
			break;
		n = r->chain.wr_len;
		if (r->rate && n > r->st.tokens)
			n = (uint32_t)r->st.tokens;
		done = vrng_fill(&r->chain, n);
		if (r->rate)
			r->st.tokens -= done;
		r->st.bytes += done;
		vq_push(vq, r->chain.head, done);
		pushed = true;
	}
	if (pushed && vq_should_notify(vq))
		virtio_signal_used(&r->vdev, 0);
	pthread_mutex_unlock(&r->lock);
}

static void vrng_timer_event(void *arg, uint32_t events)
{
	struct vrng *r = arg;
	uint64_t ticks;

	(void)events;
	if (read(r->timer_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_errno(LOG_WARN, "vrng", -errno, "%s: timer read", r->vdev.name);
	pthread_mutex_lock(&r->lock);
	r->timer_armed = false;
	pthread_mutex_unlock(&r->lock);
	vrng_process(r);
}

static int vrng_activate(struct virtio_dev *d)
{
	struct vrng *r = to_vrng(d);

	pthread_mutex_lock(&r->lock);
	r->active = vq_enabled(&r->vq[0]);
	pthread_mutex_unlock(&r->lock);
	vrng_process(r);
	return 0;
}

static void vrng_reset(struct virtio_dev *d)
{
	struct vrng *r = to_vrng(d);

	pthread_mutex_lock(&r->lock);
	r->active = false;
	pthread_mutex_unlock(&r->lock);
}

static void vrng_notify(struct virtio_dev *d, uint16_t q)
{
	if (q == 0)
		vrng_process(to_vrng(d));
}

static const struct virtio_dev_ops vrng_ops = {
	.get_features = vrng_get_features,
	.cfg_read = vrng_cfg_read,
	.cfg_write = vrng_cfg_write,
	.activate = vrng_activate,
	.reset = vrng_reset,
	.notify = vrng_notify,
};

static int vrng_dev_pause(struct device *d, int64_t deadline_ns)
{
	struct vrng *r = device_of(d, struct vrng, dev);

	(void)deadline_ns;
	pthread_mutex_lock(&r->lock);	/* a fill in progress finishes before we get the lock */
	r->paused = true;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static void vrng_dev_resume(struct device *d)
{
	struct vrng *r = device_of(d, struct vrng, dev);

	pthread_mutex_lock(&r->lock);
	r->paused = false;
	pthread_mutex_unlock(&r->lock);
	vrng_process(r);	/* kicks that came while paused found nothing to do */
}

static unsigned vrng_dev_stop(struct device *d, int64_t deadline_ns)
{
	(void)deadline_ns;
	vrng_reset(&device_of(d, struct vrng, dev)->vdev);
	return 0;
}

static ssize_t vrng_dev_save(struct device *d, void *buf, size_t cap)
{
	struct vrng *r = device_of(d, struct vrng, dev);

	if (cap < sizeof(r->st))
		return -ENOSPC;
	pthread_mutex_lock(&r->lock);
	memcpy(buf, &r->st, sizeof(r->st));
	pthread_mutex_unlock(&r->lock);
	return (ssize_t)sizeof(r->st);
}

static int vrng_dev_restore(struct device *d, const void *buf, size_t len)
{
	struct vrng *r = device_of(d, struct vrng, dev);
	struct vrng_state st;

	if (len != sizeof(st))
		return -EINVAL;
	memcpy(&st, buf, sizeof(st));
	if (st.tokens > r->rate)	/* more than a full bucket: not a record this device wrote */
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	r->st = st;
	r->last_ns = now_ns();
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static void vrng_dev_destroy(struct device *d)
{
	vrng_destroy(device_of(d, struct vrng, dev));
}

static const struct device_ops vrng_dev_ops = {
	.kind = "virtio-rng",
	.state_version = 1,
	.pause = vrng_dev_pause,
	.resume = vrng_dev_resume,
	.stop = vrng_dev_stop,
	.save = vrng_dev_save,
	.restore = vrng_dev_restore,
	.destroy = vrng_dev_destroy,
};

int vrng_create(struct vrng **out, const struct vrng_config *cfg)
{
	uint16_t qs = cfg->queue_size ? cfg->queue_size : VRNG_QUEUE_SIZE;
	const char *name = cfg->name ? cfg->name : "vrng";
	struct vrng *r;
	int ret;

	if (!cfg->gm || (qs & (qs - 1)) || cfg->bytes_per_sec > VRNG_RATE_MAX ||
	    (cfg->bytes_per_sec && !cfg->ev))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->timer_fd = -1;
	if ((ret = vq_chain_init(&r->chain, qs))) {
		free(r);
		return ret;
	}
	r->rate = cfg->bytes_per_sec;
	r->st.tokens = r->rate;
	r->last_ns = now_ns();
	r->ev = cfg->ev;
	if (r->rate) {
		r->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (r->timer_fd < 0 || (ret = evloop_add(r->ev, r->timer_fd, EPOLLIN, vrng_timer_event, r))) {
			ret = r->timer_fd < 0 ? -errno : ret;
			if (r->timer_fd >= 0)
				close(r->timer_fd);
			vq_chain_free(&r->chain);
			free(r);
			return ret;
		}
	}
	pthread_mutex_init(&r->lock, NULL);
	device_init(&r->dev, &vrng_dev_ops, name);
	r->vdev = (struct virtio_dev){
		.ops = &vrng_ops, .name = name, .device_id = VIRTIO_ID_RNG, .num_queues = 1,
		.queue_size_max = qs, .cfg_len = 0, .vq = r->vq, .gm = cfg->gm,
	};
	*out = r;
	return 0;
}

void vrng_destroy(struct vrng *r)
{
	if (!r)
		return;
	if (r->timer_fd >= 0) {
		evloop_del(r->ev, r->timer_fd);
		close(r->timer_fd);
	}
	vq_chain_free(&r->chain);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

struct virtio_dev *vrng_virtio(struct vrng *r)
{
	return &r->vdev;
}

struct device *vrng_device(struct vrng *r)
{
	return &r->dev;
}

uint64_t vrng_bytes(struct vrng *r)
{
	uint64_t b;

	pthread_mutex_lock(&r->lock);
	b = r->st.bytes;
	pthread_mutex_unlock(&r->lock);
	return b;
}
