/* virtio-net's control queue (virtio 1.2 §5.1.6.5: only VIRTIO_NET_CTRL_ANNOUNCE_ACK is served),
 * guest announcement after a restore (§5.1.6.5.4, VIRTIO_NET_F_GUEST_ANNOUNCE), the device lifecycle
 * (device.h: pause, resume, stop, save, restore) and the tap swap for a restore's network override.
 * The control queue runs where its kick lands (I/O or vCPU thread) under tx_lock; the lifecycle on
 * the thread that pauses, restores and resumes the VM. */
#include "virtio/virtio_net_int.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "log.h"

#define VNET_STATE_VERSION 1

/* Copy the first len bytes of the segments into buf; false when they hold fewer. */
static bool iov_head(const struct iovec *iov, unsigned nr, void *buf, size_t len)
{
	uint8_t *p = buf;

	for (unsigned i = 0; i < nr && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(p, iov[i].iov_base, n);
		p += n;
		len -= n;
	}
	return len == 0;
}

/* One command: class and command readable, then the one-byte ack the device writes. The only
 * command this device knows is the announce ack; the rest are answered VIRTIO_NET_ERR (a driver
 * only sends them for features it negotiated, and none is offered). */
static uint8_t vnet_ctrl_cmd(struct vnet *n, struct vq_chain *c)
{
	struct virtio_net_ctrl_hdr h;

	if (!iov_head(vq_chain_rd(c), c->nr_rd, &h, sizeof(h))) {
		log_guest("vnet", "%s: control command shorter than its header", n->vdev.name);
		return VIRTIO_NET_ERR;
	}
	if (h.class == VIRTIO_NET_CTRL_ANNOUNCE && h.cmd == VIRTIO_NET_CTRL_ANNOUNCE_ACK &&
	    virtio_has_feature(&n->vdev, VIRTIO_NET_F_GUEST_ANNOUNCE)) {
		__atomic_store_n(&n->announce, false, __ATOMIC_RELEASE);
		return VIRTIO_NET_OK;
	}
	log_guest("vnet", "%s: control command class %u cmd %u not supported", n->vdev.name, h.class,
		  h.cmd);
	return VIRTIO_NET_ERR;
}

void vnet_ctrl(struct vnet *n)
{
	struct vq_chain *c = &n->chain[CTRLQ];
	struct virtq *vq = &n->vq[CTRLQ];
	bool pushed = false;

	pthread_mutex_lock(&n->tx_lock);
	while (n->ctrl_active && !n->tx_paused) {
		int r = vq_pop(vq, c);
		uint8_t ack;

		if (r < 0) {
			log_guest("vnet", "%s: malformed control chain", n->vdev.name);
			n->ctrl_active = false;
			virtio_needs_reset(&n->vdev);
			break;
		}
		if (!r)
			break;
		ack = vnet_ctrl_cmd(n, c);
		if (c->nr_wr) {
			*(uint8_t *)vq_chain_wr(c)[0].iov_base = ack;
			vq_push(vq, c->head, 1);
		} else {
			log_guest("vnet", "%s: control command without an ack byte", n->vdev.name);
			vq_push(vq, c->head, 0);
		}
		pushed = true;
	}
	if (pushed && vq_should_notify(vq))
		virtio_signal_used(&n->vdev, CTRLQ);
	pthread_mutex_unlock(&n->tx_lock);
}

void vnet_announce(struct vnet *n)
{
	if (!virtio_has_feature(&n->vdev, VIRTIO_NET_F_GUEST_ANNOUNCE))
		return;		/* the driver could not ack it: it would never go away */
	__atomic_store_n(&n->announce, true, __ATOMIC_RELEASE);
	virtio_signal_config(&n->vdev);
}

/* Pause: once each queue's lock has been taken with its paused flag set, no frame moves and no
 * interrupt is raised; tap frames wait in the host kernel's queue, guest kicks are simply seen
 * again at resume. A receive buffer popped while waiting for a frame is handed back to the ring
 * (popped again at resume), so a paused device holds no chain and its indices can be saved. Never
 * blocks for long (the tap is non-blocking). API thread. */
static int vnet_dev_pause(struct device *d, int64_t deadline_ns)
{
	struct vnet *n = device_of(d, struct vnet, dev);

	(void)deadline_ns;
	pthread_mutex_lock(&n->rx_lock);
	n->rx_paused = true;
	if (n->rx_have_chain) {
		vq_unpop(&n->vq[RXQ]);
		n->rx_have_chain = false;
	}
	pthread_mutex_unlock(&n->rx_lock);
	pthread_mutex_lock(&n->tx_lock);
	n->tx_paused = true;
	pthread_mutex_unlock(&n->tx_lock);
	return 0;
}

/* Resume: every queue is served once, since the tap's edge and the guest's kicks that came
 * meanwhile found the device paused and did nothing. After a restore the guest is asked to
 * announce itself (its peers' tables point at the old host), with one config interrupt. */
static void vnet_dev_resume(struct device *d)
{
	struct vnet *n = device_of(d, struct vnet, dev);
	bool cfg, announce;

	pthread_mutex_lock(&n->rx_lock);
	n->rx_paused = false;
	pthread_mutex_unlock(&n->rx_lock);
	pthread_mutex_lock(&n->tx_lock);
	n->tx_paused = false;
	cfg = n->cfg_pending;
	announce = n->restored && virtio_has_feature(&n->vdev, VIRTIO_NET_F_GUEST_ANNOUNCE);
	n->cfg_pending = n->restored = false;
	pthread_mutex_unlock(&n->tx_lock);
	if (announce)
		__atomic_store_n(&n->announce, true, __ATOMIC_RELEASE);
	if (cfg || announce)
		virtio_signal_config(&n->vdev);
	vnet_tx(n);
	vnet_ctrl(n);
	vnet_rx(n);
}

/* The VM is ending: like a device reset, the queues stop for good (a late resume finds them off). */
static unsigned vnet_dev_stop(struct device *d, int64_t deadline_ns)
{
	struct vnet *n = device_of(d, struct vnet, dev);

	(void)deadline_ns;
	vnet_reset(&n->vdev);
	return 0;
}

/* The saved state: config space (MAC, link) and the counters the metrics report. The queues are
 * the transport's record. Host byte order, no padding. */
struct vnet_state {
	uint64_t rx_frames, tx_frames, rx_dropped, tx_dropped;
	uint8_t mac[6];
	uint16_t link_status;
};

_Static_assert(sizeof(struct vnet_state) == 40, "vnet_state has no hidden padding");

static ssize_t vnet_dev_save(struct device *d, void *buf, size_t cap)
{
	struct vnet *n = device_of(d, struct vnet, dev);
	struct vnet_state st;

	if (cap < sizeof(st))
		return -ENOSPC;
	memset(&st, 0, sizeof(st));
	pthread_mutex_lock(&n->rx_lock);
	st.rx_frames = n->stats.rx_frames;
	st.rx_dropped = n->stats.rx_dropped;
	pthread_mutex_unlock(&n->rx_lock);
	pthread_mutex_lock(&n->tx_lock);
	st.tx_frames = n->stats.tx_frames;
	st.tx_dropped = n->stats.tx_dropped;
	pthread_mutex_unlock(&n->tx_lock);
	memcpy(st.mac, n->mac, sizeof(st.mac));
	st.link_status = __atomic_load_n(&n->link_status, __ATOMIC_ACQUIRE);
	memcpy(buf, &st, sizeof(st));
	return sizeof(st);
}

/* The MAC is the machine's (the guest's driver read it at probe): a record for another MAC is
 * another machine. The link is this host's tap's: if it differs from the saved one, the guest
 * hears of it at resume. */
static int vnet_dev_restore(struct device *d, const void *buf, size_t len)
{
	struct vnet *n = device_of(d, struct vnet, dev);
	struct vnet_state st;

	if (len != sizeof(st))
		return -EINVAL;
	memcpy(&st, buf, sizeof(st));
	if (memcmp(st.mac, n->mac, sizeof(st.mac)) || (st.link_status & ~VIRTIO_NET_S_LINK_UP))
		return -EINVAL;
	pthread_mutex_lock(&n->rx_lock);
	n->stats.rx_frames = st.rx_frames;
	n->stats.rx_dropped = st.rx_dropped;
	pthread_mutex_unlock(&n->rx_lock);
	pthread_mutex_lock(&n->tx_lock);
	n->stats.tx_frames = st.tx_frames;
	n->stats.tx_dropped = st.tx_dropped;
	n->cfg_pending = st.link_status != __atomic_load_n(&n->link_status, __ATOMIC_ACQUIRE);
	n->restored = true;
	pthread_mutex_unlock(&n->tx_lock);
	return 0;
}

int vnet_set_tap(struct vnet *n, int tap_fd)
{
	int err = 0;

	if (tap_fd < 0)
		return -EINVAL;
	pthread_mutex_lock(&n->rx_lock);
	pthread_mutex_lock(&n->tx_lock);
	if (n->ev && (err = evloop_add(n->ev, tap_fd, EPOLLIN | EPOLLET, vnet_tap_event, n)) == 0)
		evloop_del(n->ev, n->tap_fd);
	if (!err) {
		close(n->tap_fd);
		n->tap_fd = tap_fd;
		__atomic_store_n(&n->tap_gone, false, __ATOMIC_RELEASE);
		if (__atomic_exchange_n(&n->link_status, VIRTIO_NET_S_LINK_UP, __ATOMIC_ACQ_REL) !=
		    VIRTIO_NET_S_LINK_UP)
			n->cfg_pending = true;	/* link up again: told at resume */
	}
	pthread_mutex_unlock(&n->tx_lock);
	pthread_mutex_unlock(&n->rx_lock);
	return err;
}

static void vnet_dev_destroy(struct device *d)
{
	vnet_destroy(device_of(d, struct vnet, dev));
}

const struct device_ops vnet_dev_ops = {
	.kind = "virtio-net",
	.state_version = VNET_STATE_VERSION,
	.pause = vnet_dev_pause,
	.resume = vnet_dev_resume,
	.stop = vnet_dev_stop,
	.save = vnet_dev_save,
	.restore = vnet_dev_restore,
	.destroy = vnet_dev_destroy,
};

struct device *vnet_device(struct vnet *n)
{
	return &n->dev;
}

struct vnet *vnet_of_device(struct device *d)
{
	return d && d->ops == &vnet_dev_ops ? device_of(d, struct vnet, dev) : NULL;
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
