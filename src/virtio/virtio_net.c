/* virtio-net device (virtio 1.x spec §5.1): frames between a tap fd and the receive/transmit queues,
 * 12-byte virtio_net_hdr_v1 passed through, MAC + link status config. Receive runs on the I/O thread
 * (tap readable) or on a kick; transmit on a kick (I/O thread or vCPU). Each queue has its own lock. */
#include "virtio/virtio_net.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "log.h"

#define RXQ 0
#define TXQ 1
#define HDR_LEN sizeof(struct virtio_net_hdr_v1)
#define CFG_LEN (offsetof(struct virtio_net_config, status) + sizeof(uint16_t))

struct vnet {
	struct virtio_dev vdev;
	struct virtq vq[2];
	struct vq_chain chain[2];
	int tap_fd;
	struct evloop *ev;
	uint8_t mac[6];
	uint16_t link_status;		/* atomic: VIRTIO_NET_S_LINK_UP or 0 */
	bool tap_gone;			/* atomic */
	pthread_mutex_t rx_lock, tx_lock;
	bool rx_active, tx_active;	/* between activate and reset, under the queue's lock */
	bool rx_have_chain;		/* chain[RXQ] popped but not yet filled */
	uint8_t *scratch;		/* catches the tail of a frame bigger than the guest's buffer */
	struct vnet_stats stats;	/* rx_* under rx_lock, tx_* under tx_lock */
};

static struct vnet *to_vnet(struct virtio_dev *d)
{
	return virtio_container_of(d, struct vnet, vdev);
}

static uint64_t vnet_get_features(struct virtio_dev *d)
{
	(void)d;
	return 1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_STATUS | 1ULL << VIRTIO_RING_F_EVENT_IDX |
	       1ULL << VIRTIO_RING_F_INDIRECT_DESC;
}

static void vnet_cfg_read(struct virtio_dev *d, uint32_t off, void *data, uint32_t len)
{
	struct vnet *n = to_vnet(d);
	uint8_t cfg[CFG_LEN];
	uint16_t st = __atomic_load_n(&n->link_status, __ATOMIC_ACQUIRE);

	memcpy(cfg, n->mac, 6);
	cfg[6] = (uint8_t)st;
	cfg[7] = (uint8_t)(st >> 8);
	memcpy(data, cfg + off, len);
}

static void vnet_cfg_write(struct virtio_dev *d, uint32_t off, const void *data, uint32_t len)
{
	(void)data;
	log_guest("vnet", "%s: write to read-only config at %u len %u", d->name, off, len);
}

/* The tap is unusable: report link down once and stop touching it. Any queue thread. */
static void vnet_tap_gone(struct vnet *n, int err)
{
	if (__atomic_exchange_n(&n->tap_gone, true, __ATOMIC_ACQ_REL))
		return;
	log_errno(LOG_WARN, "vnet", err, "%s: tap gone, link down", n->vdev.name);
	__atomic_store_n(&n->link_status, 0, __ATOMIC_RELEASE);
	virtio_signal_config(&n->vdev);
}

static bool tap_fatal(int err)
{
	return err == -EBADFD || err == -EBADF || err == -ENODEV || err == -ENXIO || err == -EPIPE ||
	       err == -ECONNRESET;
}

/* The queue's lock held; a chain was rejected: put the device in NEEDS_RESET. */
static void vnet_broken(struct vnet *n, int q)
{
	if (q == RXQ)
		n->rx_active = false;
	else
		n->tx_active = false;
	virtio_needs_reset(&n->vdev);
}

static void iov_write_u16(struct iovec *iov, unsigned nr, size_t off, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	for (unsigned i = 0, k = 0; i < nr && k < 2; i++) {
		for (size_t j = 0; j < iov[i].iov_len && k < 2; j++) {
			if (off) {
				off--;
				continue;
			}
			((uint8_t *)iov[i].iov_base)[j] = b[k++];
		}
	}
}

/* Move frames from the tap into receive buffers until either runs dry. */
static void vnet_rx(struct vnet *n)
{
	struct vq_chain *c = &n->chain[RXQ];
	struct virtq *vq = &n->vq[RXQ];
	bool pushed = false;

	pthread_mutex_lock(&n->rx_lock);
	while (n->rx_active && !__atomic_load_n(&n->tap_gone, __ATOMIC_ACQUIRE)) {
		ssize_t got;

		if (!n->rx_have_chain) {
			int r = vq_pop(vq, c);

			if (r < 0 || (r && (c->nr_rd || c->wr_len < HDR_LEN))) {
				log_guest("vnet", "%s: malformed receive chain", n->vdev.name);
				vnet_broken(n, RXQ);
				break;
			}
			if (!r)
				break;	/* ring empty: the guest's next kick resumes us */
			n->rx_have_chain = true;
		}
		/* one frame per read; the extra iovec tells us the frame did not fit */
		c->iov[c->nr_wr].iov_base = n->scratch;
		c->iov[c->nr_wr].iov_len = VNET_TX_MAX;
		got = readv(n->tap_fd, vq_chain_wr(c), c->nr_wr + 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (got <= 0) {
			vnet_tap_gone(n, got < 0 ? -errno : -EPIPE);
			break;
		}
		if ((size_t)got > c->wr_len || (size_t)got < HDR_LEN) {
			n->stats.rx_dropped++;	/* the buffer is reused for the next frame */
			continue;
		}
		/* tap leaves num_buffers alone; without MRG_RXBUF it must read 1 */
		iov_write_u16(vq_chain_wr(c), c->nr_wr, offsetof(struct virtio_net_hdr_v1, num_buffers), 1);
		vq_push(vq, c->head, (uint32_t)got);
		n->rx_have_chain = false;
		n->stats.rx_frames++;
		pushed = true;
	}
	if (pushed && vq_should_notify(vq))
		virtio_signal_used(&n->vdev, RXQ);
	pthread_mutex_unlock(&n->rx_lock);
}

static void vnet_tx(struct vnet *n)
{
	struct vq_chain *c = &n->chain[TXQ];
	struct virtq *vq = &n->vq[TXQ];
	bool pushed = false;

	pthread_mutex_lock(&n->tx_lock);
	while (n->tx_active) {
		int r = vq_pop(vq, c);

		if (r < 0 || (r && c->nr_wr)) {
			log_guest("vnet", "%s: malformed transmit chain", n->vdev.name);
			vnet_broken(n, TXQ);
			break;
		}
		if (!r)
			break;
		if (c->rd_len < HDR_LEN || c->rd_len > VNET_TX_MAX) {
			log_guest("vnet", "%s: transmit of %u bytes dropped", n->vdev.name, c->rd_len);
			n->stats.tx_dropped++;
		} else if (__atomic_load_n(&n->tap_gone, __ATOMIC_ACQUIRE)) {
			n->stats.tx_dropped++;
		} else {
			ssize_t put;

			do
				put = writev(n->tap_fd, vq_chain_rd(c), c->nr_rd);
			while (put < 0 && errno == EINTR);
			if (put < 0) {
				int err = -errno;

				n->stats.tx_dropped++;	/* full (EAGAIN) or interface down (EIO) */
				if (tap_fatal(err))
					vnet_tap_gone(n, err);
			} else {
				n->stats.tx_frames++;
			}
		}
		vq_push(vq, c->head, 0);
		pushed = true;
	}
	if (pushed && vq_should_notify(vq))
		virtio_signal_used(&n->vdev, TXQ);
	pthread_mutex_unlock(&n->tx_lock);
}

static void vnet_tap_event(void *arg, uint32_t events)
{
	(void)events;
	vnet_rx(arg);
}

static int vnet_activate(struct virtio_dev *d)
{
	struct vnet *n = to_vnet(d);

	pthread_mutex_lock(&n->rx_lock);
	n->rx_active = vq_enabled(&n->vq[RXQ]);
	n->rx_have_chain = false;
	pthread_mutex_unlock(&n->rx_lock);
	pthread_mutex_lock(&n->tx_lock);
	n->tx_active = vq_enabled(&n->vq[TXQ]);
	pthread_mutex_unlock(&n->tx_lock);
	if (!n->rx_active || !n->tx_active)
		log_guest("vnet", "%s: DRIVER_OK with a queue disabled", d->name);
	vnet_rx(n);	/* frames may be waiting and no edge will come for them */
	vnet_tx(n);
	return 0;
}

static void vnet_reset(struct virtio_dev *d)
{
	struct vnet *n = to_vnet(d);

	pthread_mutex_lock(&n->rx_lock);
	n->rx_active = false;
	n->rx_have_chain = false;
	pthread_mutex_unlock(&n->rx_lock);
	pthread_mutex_lock(&n->tx_lock);
	n->tx_active = false;
	pthread_mutex_unlock(&n->tx_lock);
}

static void vnet_notify(struct virtio_dev *d, uint16_t q)
{
	if (q == RXQ)
		vnet_rx(to_vnet(d));
	else if (q == TXQ)
		vnet_tx(to_vnet(d));
}

static const struct virtio_dev_ops vnet_ops = {
	.get_features = vnet_get_features,
	.cfg_read = vnet_cfg_read,
	.cfg_write = vnet_cfg_write,
	.activate = vnet_activate,
	.reset = vnet_reset,
	.notify = vnet_notify,
};

int vnet_create(struct vnet **out, const struct vnet_config *cfg)
{
	uint16_t qs = cfg->queue_size ? cfg->queue_size : VNET_QUEUE_SIZE;
	struct vnet *n;
	int err = -ENOMEM;

	if (cfg->tap_fd < 0 || !cfg->gm || (qs & (qs - 1)) || qs > VQ_SIZE_MAX || (cfg->mac[0] & 1))
		return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->scratch = malloc(VNET_TX_MAX);
	/* one spare iovec for the rx overflow catcher */
	if (!n->scratch || (err = vq_chain_init(&n->chain[RXQ], (uint16_t)(qs + 1))) ||
	    (err = vq_chain_init(&n->chain[TXQ], qs)))
		goto fail;
	n->chain[RXQ].max = (uint16_t)(n->chain[RXQ].max - 1);
	n->tap_fd = cfg->tap_fd;
	n->ev = cfg->ev;
	memcpy(n->mac, cfg->mac, 6);
	n->link_status = VIRTIO_NET_S_LINK_UP;
	pthread_mutex_init(&n->rx_lock, NULL);
	pthread_mutex_init(&n->tx_lock, NULL);
	n->vdev = (struct virtio_dev){
		.ops = &vnet_ops, .name = cfg->name ? cfg->name : "vnet", .device_id = VIRTIO_ID_NET,
		.num_queues = 2, .queue_size_max = qs, .cfg_len = CFG_LEN, .vq = n->vq, .gm = cfg->gm,
	};
	if (n->ev && (err = evloop_add(n->ev, n->tap_fd, EPOLLIN | EPOLLET, vnet_tap_event, n)) < 0)
		goto fail;
	*out = n;
	return 0;
fail:
	vq_chain_free(&n->chain[RXQ]);
	vq_chain_free(&n->chain[TXQ]);
	free(n->scratch);
	free(n);
	return err;
}

void vnet_destroy(struct vnet *n)
{
	if (!n)
		return;
	if (n->ev)
		evloop_del(n->ev, n->tap_fd);
	close(n->tap_fd);
	vq_chain_free(&n->chain[RXQ]);
	vq_chain_free(&n->chain[TXQ]);
	pthread_mutex_destroy(&n->rx_lock);
	pthread_mutex_destroy(&n->tx_lock);
	free(n->scratch);
	free(n);
}

struct virtio_dev *vnet_virtio(struct vnet *n)
{
	return &n->vdev;
}

void vnet_get_stats(struct vnet *n, struct vnet_stats *st)
{
	pthread_mutex_lock(&n->rx_lock);
	st->rx_frames = n->stats.rx_frames;
	st->rx_dropped = n->stats.rx_dropped;
	pthread_mutex_unlock(&n->rx_lock);
	pthread_mutex_lock(&n->tx_lock);
	st->tx_frames = n->stats.tx_frames;
	st->tx_dropped = n->stats.tx_dropped;
	pthread_mutex_unlock(&n->tx_lock);
}
