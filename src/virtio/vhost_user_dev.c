/* The generic vhost-user virtio device (vhost_user_dev.h): feature pass-through, queue hand-over at
 * DRIVER_OK, GET_VRING_BASE at reset, and NEEDS_RESET when the back-end hangs up. */
#include "virtio/vhost_user_dev.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <linux/virtio_config.h>

#include "log.h"

struct vudev {
	struct virtio_dev vdev;
	struct device dev;
	struct virtq vq[VUDEV_MAX_QUEUES];
	struct vhu_conn conn;
	struct evloop *ev;
	const struct vudev_kind *k;
	struct device_ops dev_ops;	/* vudev_dev_ops with the kind's name */
	uint16_t nq;
	uint8_t cfg[VUDEV_CONFIG_MAX];	/* config space (vdev.cfg_len bytes) */
	uint64_t offered;		/* device features offered to the guest */
	int kick_fd[VUDEV_MAX_QUEUES];	/* atomic: the doorbells while active, else -1 */
	int err_fd[VUDEV_MAX_QUEUES];	/* eventfds the back-end signals a queue's error on (SET_VRING_ERR) */
	int err_said;			/* atomic: its one log line is written */
	pthread_mutex_t lock;		/* active, the orphan state: vCPU thread vs I/O thread */
	bool active;			/* the back-end has the queues */
	bool dead;			/* it hung up: no more messages to it */
	/* After the back-end's death (vhost_user_dev.h "orphan"): doorbells ckvm reads itself. */
	bool orphaned;
	int orphan_fd[VUDEV_MAX_QUEUES];	/* in the I/O thread's loop, else -1 */
	struct vudev_q { struct vudev *u; uint16_t q; } qarg[VUDEV_MAX_QUEUES];	/* per-queue handlers' arg */
	struct vq_chain chain;
	int watched;			/* atomic: conn.fd is in the I/O thread's loop */
	bool watched_err;		/* the err_fds are in it (set before the I/O thread runs) */
	int stopped;			/* atomic: the VM is ending; a hang-up is no news */
};

static struct vudev *of_vdev(struct virtio_dev *d)
{
	return virtio_container_of(d, struct vudev, vdev);
}

static uint64_t vudev_get_features(struct virtio_dev *d)
{
	return of_vdev(d)->offered;
}

static void vudev_cfg_read(struct virtio_dev *d, uint32_t off, void *data, uint32_t len)
{
	memcpy(data, of_vdev(d)->cfg + off, len);	/* bounded to cfg_len by the transport */
}

static void vudev_cfg_write(struct virtio_dev *d, uint32_t off, const void *data, uint32_t len)
{
	(void)d; (void)off; (void)data; (void)len;	/* no kind has a writable field */
}

/* Hand queue q to the back-end: size, ring addresses, start index, interrupt and doorbell. */
static int queue_start(struct vudev *u, uint16_t q)
{
	struct virtq *vq = &u->vq[q];
	struct vhu_conn *c = &u->conn;
	int kick, call, ret;

	if (!vq->size)
		return 0;	/* the driver left it disabled */
	if ((ret = u->vdev.queue_fds(&u->vdev, q, &kick, &call))) {
		log_err(u->k->kind, "%s: queue %u: vhost-user needs the guest to use MSI-X", u->vdev.name, q);
		return ret;
	}
	if ((ret = vhu_set_vring_num(c, q, vq->size)) ||
	    (ret = vhu_set_vring_addr_host(c, q, vq->desc, vq->avail, vq->used)) ||
	    (ret = vhu_set_vring_base(c, q, vq->last_avail)) ||
	    (ret = vhu_set_vring_call(c, q, call)) ||
	    (ret = vhu_set_vring_kick(c, q, kick)))
		return ret;
	if ((c->features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES)) && (ret = vhu_set_vring_enable(c, q, 1)))
		return ret;
	__atomic_store_n(&u->kick_fd[q], kick, __ATOMIC_RELEASE);
	return 0;
}

static int vudev_activate(struct virtio_dev *d)
{
	struct vudev *u = of_vdev(d);
	uint64_t proto = u->conn.features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES);
	int ret;

	pthread_mutex_lock(&u->lock);
	ret = u->dead ? -EPIPE : u->conn.err;
	pthread_mutex_unlock(&u->lock);
	if (ret)
		return ret;	/* dead: the transport sets NEEDS_RESET */
	/* the features ckvm serves itself are none of the back-end's business (DPDK refuses bits it
	 * did not offer) */
	if ((ret = vhu_set_features(&u->conn, (d->features & ~u->k->own) | proto)) ||
	    (ret = vhu_set_mem_table(&u->conn, d->gm)))
		return ret;
	pthread_mutex_lock(&u->lock);
	u->active = true;
	pthread_mutex_unlock(&u->lock);
	for (uint16_t q = 0; q < u->nq; q++)
		if ((ret = queue_start(u, q)))
			return ret;
	/* after every ring is running, so that each queue's set-up reads the same as without it */
	for (uint16_t q = 0; q < u->nq; q++)
		if (u->err_fd[q] >= 0 && vq_enabled(&u->vq[q]) &&
		    (ret = vhu_set_vring_err(&u->conn, q, u->err_fd[q])))
			return ret;
	return 0;
}

/* I/O thread: the back-end says a queue broke (its error eventfd). */
static void vudev_queue_error(void *arg, uint32_t events)
{
	struct vudev_q *eq = arg;
	struct vudev *u = eq->u;
	uint64_t n;

	(void)events;
	if (read(u->err_fd[eq->q], &n, sizeof(n)) < 0)
		return;
	if (!__atomic_exchange_n(&u->err_said, 1, __ATOMIC_ACQ_REL))
		log_err(u->k->kind, "%s: the back-end at %s reports an error on queue %u; the %s needs a reset",
			u->vdev.name, u->conn.name, eq->q, u->k->what);
	virtio_needs_reset(&u->vdev);
}

/* The queue's doorbells go back to nobody (a reset, the device's end). Caller holds u->lock. */
static void orphan_end(struct vudev *u)
{
	for (int q = 0; q < u->nq; q++)
		if (u->orphan_fd[q] >= 0) {
			evloop_del(u->ev, u->orphan_fd[q]);
			u->orphan_fd[q] = -1;
		}
	u->orphaned = false;
}

static void vudev_reset(struct virtio_dev *d)
{
	struct vudev *u = of_vdev(d);

	pthread_mutex_lock(&u->lock);
	for (int q = 0; q < u->nq; q++)
		__atomic_store_n(&u->kick_fd[q], -1, __ATOMIC_RELEASE);
	orphan_end(u);
	if (u->active) {
		u->active = false;
		/* GET_VRING_BASE stops each ring: after it the back-end touches none of them */
		if (!u->conn.err && !u->dead)
			vhu_stop_queues(&u->conn, u->nq, NULL);
	}
	pthread_mutex_unlock(&u->lock);
}

/* I/O thread, u->lock held: answer every request the guest has made available since the orphaning
 * with the kind's error. */
static void orphan_drain(struct vudev *u, uint16_t q)
{
	struct virtq *vq = &u->vq[q];
	bool pushed = false;
	int ret;

	while ((ret = vq_pop(vq, &u->chain)) > 0) {
		uint32_t written = 0;

		if (u->k->fail(q, &u->chain, &written) < 0) {	/* a queue the kind leaves alone */
			vq_unpop(vq);
			break;
		}
		vq_push(vq, u->chain.head, written);
		pushed = true;
	}
	if (ret < 0)
		log_guest(u->k->kind, "%s: queue %u: malformed request chain", u->vdev.name, q);
	if (pushed && vq_should_notify(vq))
		virtio_signal_used(&u->vdev, q);
}

static void orphan_kick(void *arg, uint32_t events)
{
	struct vudev_q *oq = arg;
	struct vudev *u = oq->u;
	uint64_t n;

	(void)events;
	pthread_mutex_lock(&u->lock);
	if (u->orphaned && u->orphan_fd[oq->q] >= 0) {
		if (read(u->orphan_fd[oq->q], &n, sizeof(n)) < 0)
			n = 0;	/* EAGAIN: a kick read already; the ring says what is new */
		orphan_drain(u, oq->q);
	}
	pthread_mutex_unlock(&u->lock);
}

/* I/O thread: the back-end died holding the queues. Requests it had taken stay unanswered (nothing
 * says which it finished), but from the guest's avail index now on, ckvm answers each new request
 * itself with the kind's error (an I/O error status for a disk, EIO for a file system), so the
 * guest sees errors rather than requests that never end. */
static void orphan_start(struct vudev *u)
{
	pthread_mutex_lock(&u->lock);
	u->dead = true;
	if (u->active && !u->orphaned && u->k->fail && u->ev &&
	    (u->chain.iov || !vq_chain_init(&u->chain, u->vdev.queue_size_max))) {
		u->orphaned = true;
		for (uint16_t q = 0; q < u->nq; q++) {
			struct virtq *vq = &u->vq[q];
			int fd = __atomic_load_n(&u->kick_fd[q], __ATOMIC_ACQUIRE);

			if (!vq_enabled(vq) || fd < 0)
				continue;
			vq_set_indices(vq, __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE),
				       __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE));
			if (!evloop_add(u->ev, fd, EPOLLIN, orphan_kick, &u->qarg[q]))
				u->orphan_fd[q] = fd;
		}
	}
	pthread_mutex_unlock(&u->lock);
}

/* A doorbell that did not go through the ioeventfd (an MMIO write before it was bound). */
static void vudev_notify(struct virtio_dev *d, uint16_t q)
{
	int fd = __atomic_load_n(&of_vdev(d)->kick_fd[q], __ATOMIC_ACQUIRE);
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0)
		log_guest(of_vdev(d)->k->kind, "%s: kick: write failed", d->name);
}

static const struct virtio_dev_ops vudev_ops = {
	.get_features = vudev_get_features,
	.cfg_read = vudev_cfg_read,
	.cfg_write = vudev_cfg_write,
	.activate = vudev_activate,
	.reset = vudev_reset,
	.notify = vudev_notify,
};

/* I/O thread: the back-end hung up. The guest's next request would go nowhere: NEEDS_RESET now.
 * The fd leaves the loop at once (a hung-up socket stays readable and would wake it forever). */
static void vudev_hangup(void *arg, uint32_t events)
{
	struct vudev *u = arg;

	(void)events;
	if (!__atomic_exchange_n(&u->watched, 0, __ATOMIC_ACQ_REL))
		return;
	evloop_del(u->ev, u->conn.fd);
	if (__atomic_load_n(&u->stopped, __ATOMIC_ACQUIRE))
		return;
	log_err(u->k->kind, "%s: the back-end at %s closed the connection; the %s needs a reset",
		u->vdev.name, u->conn.name, u->k->what);
	orphan_start(u);
	virtio_needs_reset(&u->vdev);
}

/* After the I/O thread has stopped (or never ran): nothing else uses the loop or the socket. */
void vudev_free(struct vudev *u)
{
	if (!u)
		return;
	if (__atomic_exchange_n(&u->watched, 0, __ATOMIC_ACQ_REL))
		evloop_del(u->ev, u->conn.fd);
	orphan_end(u);
	for (int q = 0; q < u->nq; q++)
		if (u->err_fd[q] >= 0) {
			if (u->watched_err)
				evloop_del(u->ev, u->err_fd[q]);
			close(u->err_fd[q]);
		}
	vq_chain_free(&u->chain);
	pthread_mutex_destroy(&u->lock);
	vhu_close(&u->conn);
	free(u);
}

/* The VM is ending (vCPUs stopped, no new kicks). This runs on the main thread, whose sandbox allows
 * no socket I/O, and the I/O thread still runs: only say that a hang-up from now on is expected. The
 * connection closes at destroy, and the back-end then drops the rings. */
static unsigned vudev_stop(struct device *d, int64_t deadline_ns)
{
	struct vudev *u = device_of(d, struct vudev, dev);

	(void)deadline_ns;
	__atomic_store_n(&u->stopped, 1, __ATOMIC_RELEASE);
	return 0;
}

static void vudev_dev_destroy(struct device *d)
{
	vudev_free(device_of(d, struct vudev, dev));
}

/* A snapshot or a migration would need the back-end's own state and its rings' positions, which
 * vhost-user has no message to hand over while the back-end runs: refused, and the snapshot's
 * error names the device. */
static ssize_t vudev_save(struct device *d, void *buf, size_t cap)
{
	(void)d; (void)buf; (void)cap;
	return -EOPNOTSUPP;
}

static const struct device_ops vudev_dev_ops = {
	.state_version = 1,
	.save = vudev_save,
	.stop = vudev_stop,
	.destroy = vudev_dev_destroy,
};

int vudev_create(struct vudev **out, const struct vudev_kind *k, const struct vudev_config *cfg)
{
	struct vudev *u;
	int ret;

	if (!cfg->num_queues || cfg->num_queues > VUDEV_MAX_QUEUES ||
	    (cfg->queue_size & (cfg->queue_size - 1)))
		return -EINVAL;
	if (!(u = calloc(1, sizeof(*u))))
		return -ENOMEM;
	u->conn.fd = -1;
	for (int q = 0; q < VUDEV_MAX_QUEUES; q++) {
		u->kick_fd[q] = u->orphan_fd[q] = u->err_fd[q] = -1;
		u->qarg[q] = (struct vudev_q){ u, (uint16_t)q };
	}
	pthread_mutex_init(&u->lock, NULL);
	u->k = k;
	u->nq = cfg->num_queues;
	u->ev = cfg->ev;
	u->vdev = (struct virtio_dev){ .ops = &vudev_ops, .name = cfg->name, .device_id = k->device_id,
		.num_queues = u->nq, .queue_size_max = cfg->queue_size ? cfg->queue_size : k->queue_size,
		.vq = u->vq, .gm = cfg->gm, .external_doorbells = true };
	u->dev_ops = vudev_dev_ops;
	u->dev_ops.kind = k->kind;
	device_init(&u->dev, &u->dev_ops, cfg->name);
	if ((ret = vhu_connect(&u->conn, cfg->socket)) || (ret = vhu_negotiate(&u->conn, k->protocol)))
		goto fail;
	if (!(u->conn.features & (1ULL << VIRTIO_F_VERSION_1))) {
		log_err(k->kind, "%s: the back-end at %s is not a virtio 1.x device", cfg->name, cfg->socket);
		ret = -ENOTSUP;
		goto fail;
	}
	if (u->conn.queue_num && u->conn.queue_num < u->nq) {
		log_err(k->kind, "%s: the back-end at %s serves %u queues, the device needs %u", cfg->name,
			cfg->socket, u->conn.queue_num, u->nq);
		ret = -ENOTSUP;
		goto fail;
	}
	u->offered = (u->conn.features & k->pass) | k->own;
	*out = u;
	return 0;
fail:
	vhu_close(&u->conn);
	pthread_mutex_destroy(&u->lock);
	free(u);
	return ret;
}

struct vhu_conn *vudev_conn(struct vudev *u)
{
	return &u->conn;
}

uint64_t vudev_offered(const struct vudev *u)
{
	return u->offered;
}

void vudev_offer_clear(struct vudev *u, uint64_t features)
{
	u->offered &= ~features;
}

void vudev_set_config(struct vudev *u, const void *cfg, uint32_t len)
{
	if (len > VUDEV_CONFIG_MAX)
		len = VUDEV_CONFIG_MAX;
	memcpy(u->cfg, cfg, len);
	u->vdev.cfg_len = len;
}

int vudev_start(struct vudev *u)
{
	int ret;

	if (u->ev) {
		if ((ret = evloop_add(u->ev, u->conn.fd, EPOLLRDHUP, vudev_hangup, u)))
			return ret;
		u->watched = 1;
		for (int q = 0; q < u->nq; q++)
			if ((u->err_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
				return -errno;
		for (int q = 0; q < u->nq; q++)
			if ((ret = evloop_add(u->ev, u->err_fd[q], EPOLLIN, vudev_queue_error, &u->qarg[q]))) {
				while (q--)
					evloop_del(u->ev, u->err_fd[q]);
				return ret;
			}
		u->watched_err = true;
	}
	log_debug(u->k->kind, "%s: %s: features %#llx, %u queues, config %u bytes", u->vdev.name,
		  u->conn.name, (unsigned long long)u->offered, u->nq, u->vdev.cfg_len);
	return 0;
}

struct virtio_dev *vudev_virtio(struct vudev *u)
{
	return &u->vdev;
}

struct device *vudev_device(struct vudev *u)
{
	return &u->dev;
}
