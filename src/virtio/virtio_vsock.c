/* virtio-vsock device (virtio 1.2 §5.10): config (the guest CID), lifecycle, and the service pass
 * that every event runs: accept host clients, their handshakes, buffered writes, then the tx and rx
 * packet paths (vsock_pkt.c). Threads: notify, activate and reset only poke an eventfd (a vCPU may
 * not touch sockets); everything else runs under the lock on the I/O thread. */
#include "virtio/vsock_int.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/virtio_ids.h>

#include "log.h"

enum { RXQ, TXQ, EVQ };

static struct vsock *to_vsock(struct virtio_dev *d)
{
	return virtio_container_of(d, struct vsock, vdev);
}

static uint64_t vsock_get_features(struct virtio_dev *d)
{
	(void)d;	/* stream only: with no feature bit the driver assumes VIRTIO_VSOCK_F_STREAM */
	return 1ULL << VIRTIO_RING_F_EVENT_IDX | 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
}

static void vsock_cfg_read(struct virtio_dev *d, uint32_t off, void *data, uint32_t len)
{
	uint64_t cid = htole64(to_vsock(d)->cid);

	memcpy(data, (uint8_t *)&cid + off, len);
}

static void vsock_cfg_write(struct virtio_dev *d, uint32_t off, const void *data, uint32_t len)
{
	(void)data;
	log_guest("vsock", "%s: write to read-only config at %u len %u", d->name, off, len);
}

void vsock_service_locked(struct vsock *v)
{
	bool tx, rx;

	if (v->purge) {		/* a device reset: every connection ends (the guest forgot them) */
		for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
			vsock_conn_free(v, &v->conns[i]);
		v->nctrl = 0;
		v->purge = false;
	}
	if (v->paused)
		return;
	vsock_accept(v);
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vconn *c = &v->conns[i];

		if (c->state == VC_HANDSHAKE && vsock_handshake(v, c) < 0)
			vsock_conn_free(v, c);
		else if (c->buf_len && vsock_flush(v, c))
			vsock_conn_reset(c);
	}
	tx = vsock_tx_process(v);
	rx = vsock_rx_process(v);
	if (tx && vq_should_notify(&v->vq[TXQ]))
		virtio_signal_used(&v->vdev, TXQ);
	if (rx && vq_should_notify(&v->vq[RXQ]))
		virtio_signal_used(&v->vdev, RXQ);
}

void vsock_service(struct vsock *v)
{
	pthread_mutex_lock(&v->lock);
	vsock_service_locked(v);
	pthread_mutex_unlock(&v->lock);
}

static void listen_event(void *arg, uint32_t events)
{
	(void)events;
	vsock_service(arg);
}

static void kick_event(void *arg, uint32_t events)
{
	struct vsock *v = arg;
	uint64_t n;

	(void)events;
	if (read(v->kick_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_errno(LOG_WARN, "vsock", -errno, "%s: kick eventfd", v->vdev.name);
	vsock_service(v);
}

static void kick(struct vsock *v)
{
	uint64_t one = 1;

	if (write(v->kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_errno(LOG_WARN, "vsock", -errno, "%s: kick eventfd", v->vdev.name);
}

static int vsock_activate(struct virtio_dev *d)
{
	struct vsock *v = to_vsock(d);

	pthread_mutex_lock(&v->lock);
	v->active = vq_enabled(&v->vq[RXQ]) && vq_enabled(&v->vq[TXQ]);
	v->rx_have_chain = false;
	pthread_mutex_unlock(&v->lock);
	if (!v->active)
		log_guest("vsock", "%s: DRIVER_OK with a queue disabled", d->name);
	kick(v);
	return 0;
}

/* Sockets are closed by the I/O thread (purge): the thread that resets may not close files. */
static void vsock_reset(struct virtio_dev *d)
{
	struct vsock *v = to_vsock(d);

	pthread_mutex_lock(&v->lock);
	v->active = false;
	v->rx_have_chain = false;
	v->purge = true;
	pthread_mutex_unlock(&v->lock);
	kick(v);
}

static void vsock_notify(struct virtio_dev *d, uint16_t q)
{
	if (q != EVQ)		/* event buffers are only kept for a transport reset we never send */
		kick(to_vsock(d));
}

static const struct virtio_dev_ops vsock_ops = {
	.get_features = vsock_get_features,
	.cfg_read = vsock_cfg_read,
	.cfg_write = vsock_cfg_write,
	.activate = vsock_activate,
	.reset = vsock_reset,
	.notify = vsock_notify,
};

static int vsock_dev_pause(struct device *d, int64_t deadline_ns)
{
	struct vsock *v = device_of(d, struct vsock, dev);

	(void)deadline_ns;
	pthread_mutex_lock(&v->lock);
	v->paused = true;
	pthread_mutex_unlock(&v->lock);
	return 0;
}

static void vsock_dev_resume(struct device *d)
{
	struct vsock *v = device_of(d, struct vsock, dev);

	pthread_mutex_lock(&v->lock);
	v->paused = false;
	pthread_mutex_unlock(&v->lock);
	kick(v);
}

static unsigned vsock_dev_stop(struct device *d, int64_t deadline_ns)
{
	struct vsock *v = device_of(d, struct vsock, dev);

	(void)deadline_ns;
	pthread_mutex_lock(&v->lock);
	v->active = false;
	v->paused = true;
	pthread_mutex_unlock(&v->lock);
	return 0;
}

static ssize_t vsock_dev_save(struct device *d, void *buf, size_t cap)
{
	uint64_t cid = device_of(d, struct vsock, dev)->cid;

	if (cap < sizeof(cid))
		return -ENOSPC;
	memcpy(buf, &cid, sizeof(cid));
	return (ssize_t)sizeof(cid);
}

static int vsock_dev_restore(struct device *d, const void *buf, size_t len)
{
	struct vsock *v = device_of(d, struct vsock, dev);
	uint64_t cid;

	if (len != sizeof(cid))
		return -EINVAL;
	memcpy(&cid, buf, sizeof(cid));
	if (cid != v->cid)	/* the guest would keep addressing itself by the old one */
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	v->purge = true;	/* connections do not survive a restore */
	pthread_mutex_unlock(&v->lock);
	return 0;
}

static void vsock_dev_destroy(struct device *d)
{
	vsock_destroy(device_of(d, struct vsock, dev));
}

static const struct device_ops vsock_dev_ops = {
	.kind = "virtio-vsock",
	.state_version = 1,
	.pause = vsock_dev_pause,
	.resume = vsock_dev_resume,
	.stop = vsock_dev_stop,
	.save = vsock_dev_save,
	.restore = vsock_dev_restore,
	.destroy = vsock_dev_destroy,
};

int vsock_create(struct vsock **out, const struct vsock_params *cfg)
{
	uint16_t qs = cfg->queue_size ? cfg->queue_size : VSOCK_QUEUE_SIZE;
	const char *name = cfg->name ? cfg->name : "vsock";
	struct vsock *v;
	int ret = -ENOMEM;

	if (!cfg->gm || !cfg->ev || !cfg->path || cfg->guest_cid < 3 || cfg->guest_cid == UINT32_MAX ||
	    (qs & (qs - 1)) || strlen(cfg->path) + 12 > sizeof(v->path))
		return -EINVAL;
	if (!(v = calloc(1, sizeof(*v))))
		return -ENOMEM;
	v->kick_fd = v->listen_fd = -1;
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		v->conns[i].fd = -1;
	strcpy(v->path, cfg->path);
	v->cid = cfg->guest_cid;
	v->ev = cfg->ev;
	v->next_port = VSOCK_EPHEMERAL;
	v->vdev.name = name;
	if (!(v->iov = calloc(qs, sizeof(*v->iov))) || (ret = vq_chain_init(&v->chain[RXQ], qs)) ||
	    (ret = vq_chain_init(&v->chain[TXQ], qs)))
		goto fail;
	if ((v->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		ret = -errno;
		goto fail;
	}
	if ((ret = vsock_listen(v, cfg->path)))
		goto fail;
	if ((ret = evloop_add(v->ev, v->kick_fd, EPOLLIN, kick_event, v)))
		goto fail;
	if ((ret = evloop_add(v->ev, v->listen_fd, EPOLLIN, listen_event, v))) {
		evloop_del(v->ev, v->kick_fd);
		goto fail;
	}
	pthread_mutex_init(&v->lock, NULL);
	device_init(&v->dev, &vsock_dev_ops, name);
	v->vdev = (struct virtio_dev){
		.ops = &vsock_ops, .name = name, .device_id = VIRTIO_ID_VSOCK, .num_queues = 3,
		.queue_size_max = qs, .cfg_len = sizeof(uint64_t), .vq = v->vq, .gm = cfg->gm,
	};
	*out = v;
	return 0;
fail:
	if (v->listen_fd >= 0) {
		close(v->listen_fd);
		unlink(v->path);
	}
	if (v->kick_fd >= 0)
		close(v->kick_fd);
	vq_chain_free(&v->chain[RXQ]);
	vq_chain_free(&v->chain[TXQ]);
	free(v->iov);
	free(v);
	return ret;
}

void vsock_destroy(struct vsock *v)
{
	if (!v)
		return;
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		vsock_conn_free(v, &v->conns[i]);
		free(v->conns[i].buf);
	}
	evloop_del(v->ev, v->kick_fd);
	evloop_del(v->ev, v->listen_fd);
	close(v->kick_fd);
	close(v->listen_fd);
	unlink(v->path);
	vq_chain_free(&v->chain[RXQ]);
	vq_chain_free(&v->chain[TXQ]);
	pthread_mutex_destroy(&v->lock);
	free(v->iov);
	free(v);
}

struct virtio_dev *vsock_virtio(struct vsock *v)
{
	return &v->vdev;
}

struct device *vsock_device(struct vsock *v)
{
	return &v->dev;
}

void vsock_get_stats(struct vsock *v, struct vsock_stats *st)
{
	pthread_mutex_lock(&v->lock);
	*st = v->stats;
	pthread_mutex_unlock(&v->lock);
}
