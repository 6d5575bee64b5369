/* virtio-blk through vhost-user (virtio 1.x §5.2; QEMU docs/interop/vhost-user.rst): the guest's
 * doorbell ioeventfd is the back-end's kick fd and the queue's MSI-X irqfd its call fd, so no ckvm
 * thread is in the data path. Set-up at create (main thread); activate/reset on a vCPU thread under the
 * transport's lock; the back-end's hang-up is seen by the I/O thread and puts the device in NEEDS_RESET. */
#include "virtio/vhost_user_blk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "log.h"
#include "virtio/vhost_user.h"

#define SUB "vhost-user-blk"
#define VUBLK_QUEUES 1		/* VIRTIO_BLK_F_MQ is not offered: one queue */
#define VUBLK_QUEUE_SIZE 256

/* Device features passed through from the back-end: the request types and limits it serves (not
 * MQ: one queue; not CONFIG_WCE: config writes would need SET_CONFIG), and the ring layouts ckvm's
 * transport knows (split ring, indirect, event index). VERSION_1 the transport adds. */
#define VUBLK_FEATURES ((1ULL << VIRTIO_BLK_F_SIZE_MAX) | (1ULL << VIRTIO_BLK_F_SEG_MAX) | \
			(1ULL << VIRTIO_BLK_F_GEOMETRY) | (1ULL << VIRTIO_BLK_F_RO) | \
			(1ULL << VIRTIO_BLK_F_BLK_SIZE) | (1ULL << VIRTIO_BLK_F_FLUSH) | \
			(1ULL << VIRTIO_BLK_F_TOPOLOGY) | (1ULL << VIRTIO_BLK_F_DISCARD) | \
			(1ULL << VIRTIO_BLK_F_WRITE_ZEROES) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | \
			(1ULL << VIRTIO_RING_F_EVENT_IDX))

struct vublk {
	struct virtio_dev vdev;
	struct device dev;
	struct virtq vq[VUBLK_QUEUES];
	struct vhu_conn conn;
	struct evloop *ev;
	struct virtio_blk_config cfg;	/* as the back-end gave it (vdev.cfg_len bytes) */
	uint64_t offered;		/* device features offered to the guest */
	int kick_fd[VUBLK_QUEUES];	/* atomic: the doorbells while active, else -1 */
	bool active;			/* the back-end has the queues (vCPU thread, transport lock) */
	int watched;			/* atomic: conn.fd is in the I/O thread's loop */
	int stopped;			/* atomic: the VM is ending; a hang-up is no news */
};

static struct vublk *of_vdev(struct virtio_dev *d)
{
	return virtio_container_of(d, struct vublk, vdev);
}

static uint64_t vublk_get_features(struct virtio_dev *d)
{
	return of_vdev(d)->offered;
}

static void vublk_cfg_read(struct virtio_dev *d, uint32_t off, void *data, uint32_t len)
{
	memcpy(data, (uint8_t *)&of_vdev(d)->cfg + off, len);	/* bounded to cfg_len by the transport */
}

static void vublk_cfg_write(struct virtio_dev *d, uint32_t off, const void *data, uint32_t len)
{
	(void)d; (void)off; (void)data; (void)len;	/* no writable field without CONFIG_WCE */
}

/* Hand queue q to the back-end: size, ring addresses, start index, interrupt and doorbell. */
static int queue_start(struct vublk *b, uint16_t q)
{
	struct virtq *vq = &b->vq[q];
	struct vhu_conn *c = &b->conn;
	int kick, call, ret;

	if (!vq->size)
		return 0;	/* the driver left it disabled */
	if ((ret = b->vdev.queue_fds(&b->vdev, q, &kick, &call))) {
		log_err(SUB, "%s: queue %u: vhost-user needs the guest to use MSI-X", b->vdev.name, q);
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
	__atomic_store_n(&b->kick_fd[q], kick, __ATOMIC_RELEASE);
	return 0;
}

static int vublk_activate(struct virtio_dev *d)
{
	struct vublk *b = of_vdev(d);
	uint64_t proto = b->conn.features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES);
	int ret;

	if (b->conn.err)
		return b->conn.err;	/* dead: the transport sets NEEDS_RESET */
	if ((ret = vhu_set_features(&b->conn, d->features | proto)) ||
	    (ret = vhu_set_mem_table(&b->conn, d->gm)))
		return ret;
	b->active = true;
	for (uint16_t q = 0; q < VUBLK_QUEUES; q++)
		if ((ret = queue_start(b, q)))
			return ret;
	return 0;
}

static void vublk_reset(struct virtio_dev *d)
{
	struct vublk *b = of_vdev(d);

	for (int q = 0; q < VUBLK_QUEUES; q++)
		__atomic_store_n(&b->kick_fd[q], -1, __ATOMIC_RELEASE);
	if (!b->active)
		return;
	b->active = false;
	/* GET_VRING_BASE stops each ring: after it the back-end touches none of them */
	if (!b->conn.err)
		vhu_stop_queues(&b->conn, VUBLK_QUEUES, NULL);
}

/* A doorbell that did not go through the ioeventfd (an MMIO write before it was bound). */
static void vublk_notify(struct virtio_dev *d, uint16_t q)
{
	int fd = __atomic_load_n(&of_vdev(d)->kick_fd[q], __ATOMIC_ACQUIRE);
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0)
		log_guest(SUB, "%s: kick: write failed", d->name);
}

static const struct virtio_dev_ops vublk_ops = {
	.get_features = vublk_get_features,
	.cfg_read = vublk_cfg_read,
	.cfg_write = vublk_cfg_write,
	.activate = vublk_activate,
	.reset = vublk_reset,
	.notify = vublk_notify,
};

/* I/O thread: the back-end hung up. The guest's next request would go nowhere: NEEDS_RESET now.
 * The fd leaves the loop at once (a hung-up socket stays readable and would wake it forever). */
static void vublk_hangup(void *arg, uint32_t events)
{
	struct vublk *b = arg;

	(void)events;
	if (!__atomic_exchange_n(&b->watched, 0, __ATOMIC_ACQ_REL))
		return;
	evloop_del(b->ev, b->conn.fd);
	if (__atomic_load_n(&b->stopped, __ATOMIC_ACQUIRE))
		return;
	log_err(SUB, "%s: the back-end at %s closed the connection; the disk needs a reset", b->vdev.name,
		b->conn.name);
	virtio_needs_reset(&b->vdev);
}

/* After the I/O thread has stopped (or never ran): nothing else uses the loop or the socket. */
static void vublk_destroy(struct vublk *b)
{
	if (__atomic_exchange_n(&b->watched, 0, __ATOMIC_ACQ_REL))
		evloop_del(b->ev, b->conn.fd);
	vhu_close(&b->conn);
	free(b);
}

/* The VM is ending (vCPUs stopped, no new kicks). This runs on the main thread, whose sandbox allows
 * no socket I/O, and the I/O thread still runs: only say that a hang-up from now on is expected. The
 * connection closes at destroy, and the back-end then drops the rings. */
static unsigned vublk_stop(struct device *d, int64_t deadline_ns)
{
	struct vublk *b = device_of(d, struct vublk, dev);

	(void)deadline_ns;
	__atomic_store_n(&b->stopped, 1, __ATOMIC_RELEASE);
	return 0;
}

static void vublk_dev_destroy(struct device *d)
{
	vublk_destroy(device_of(d, struct vublk, dev));
}

static const struct device_ops vublk_dev_ops = {
	.kind = "vhost-user-blk",
	.state_version = 1,
	.stop = vublk_stop,
	.destroy = vublk_dev_destroy,
};

/* Config space: as much of struct virtio_blk_config as the back-end serves (QEMU 7.2 refuses reads
 * past its own, shorter struct); features whose fields lie beyond it are not offered. */
static int read_config(struct vublk *b)
{
	static const uint32_t sizes[] = { sizeof(struct virtio_blk_config),
		offsetof(struct virtio_blk_config, max_secure_erase_sectors),
		offsetof(struct virtio_blk_config, max_discard_sectors),
		offsetof(struct virtio_blk_config, physical_block_exp) };
	int ret = -EIO;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && ret == -EIO; i++) {
		ret = vhu_get_config(&b->conn, 0, &b->cfg, sizes[i]);
		b->vdev.cfg_len = sizes[i];
	}
	if (ret == -EIO)	/* refusals are quiet (vhost_user.c): say it once here */
		log_err(SUB, "%s: the back-end at %s refuses to give its config space", b->vdev.name,
			b->conn.name);
	if (ret)
		return ret;
	if (b->vdev.cfg_len < offsetof(struct virtio_blk_config, max_secure_erase_sectors))
		b->offered &= ~((1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
	if (b->vdev.cfg_len < offsetof(struct virtio_blk_config, max_discard_sectors))
		b->offered &= ~(1ULL << VIRTIO_BLK_F_TOPOLOGY);
	return 0;
}

int vublk_create(struct vublk **out, const struct vublk_config *cfg)
{
	struct vublk *b = calloc(1, sizeof(*b));
	int ret;

	if (!b)
		return -ENOMEM;
	b->conn.fd = -1;
	for (int q = 0; q < VUBLK_QUEUES; q++)
		b->kick_fd[q] = -1;
	b->ev = cfg->ev;
	b->vdev = (struct virtio_dev){ .ops = &vublk_ops, .name = cfg->name, .device_id = VIRTIO_ID_BLOCK,
		.num_queues = VUBLK_QUEUES, .queue_size_max = VUBLK_QUEUE_SIZE, .vq = b->vq, .gm = cfg->gm,
		.external_doorbells = true };
	device_init(&b->dev, &vublk_dev_ops, cfg->name);
	if ((ret = vhu_connect(&b->conn, cfg->socket)))
		goto fail;
	if ((ret = vhu_negotiate(&b->conn, (1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK) |
				 (1ULL << VHOST_USER_PROTOCOL_F_CONFIG))))
		goto fail;
	if (!(b->conn.protocol_features & (1ULL << VHOST_USER_PROTOCOL_F_CONFIG))) {
		log_err(SUB, "%s: the back-end at %s does not serve config space (no PROTOCOL_F_CONFIG)",
			cfg->name, cfg->socket);
		ret = -ENOTSUP;
		goto fail;
	}
	if (!(b->conn.features & (1ULL << VIRTIO_F_VERSION_1))) {
		log_err(SUB, "%s: the back-end at %s is not a virtio 1.x device", cfg->name, cfg->socket);
		ret = -ENOTSUP;
		goto fail;
	}
	b->offered = b->conn.features & VUBLK_FEATURES;
	if ((ret = read_config(b)))
		goto fail;
	if (b->ev) {
		if ((ret = evloop_add(b->ev, b->conn.fd, EPOLLRDHUP, vublk_hangup, b)))
			goto fail;
		b->watched = 1;
	}
	log_debug(SUB, "%s: %s: %llu sectors, features %#llx, config %u bytes", cfg->name, cfg->socket,
		  (unsigned long long)b->cfg.capacity, (unsigned long long)b->offered, b->vdev.cfg_len);
	*out = b;
	return 0;
fail:
	vhu_close(&b->conn);
	free(b);
	return ret;
}

struct virtio_dev *vublk_virtio(struct vublk *b)
{
	return &b->vdev;
}

struct device *vublk_device(struct vublk *b)
{
	return &b->dev;
}
