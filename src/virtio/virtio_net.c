/* virtio-net device (virtio 1.2 §5.1): frames between a tap fd and the queues behind a virtio_net_hdr
 * rebuilt both ways (§5.1.6.2, §5.1.6.4: only negotiated offloads pass); MAC, link status. Receive:
 * I/O thread (tap readable) or a kick; transmit: a kick (I/O or vCPU thread). A lock per queue. */
#include "virtio/virtio_net.h"
#include "virtio/virtio_net_int.h"

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "log.h"

static uint64_t vnet_get_features(struct virtio_dev *d)
{
	(void)d;
	return 1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_STATUS | 1ULL << VIRTIO_RING_F_EVENT_IDX |
	       1ULL << VIRTIO_RING_F_INDIRECT_DESC | 1ULL << VIRTIO_NET_F_CTRL_VQ |
	       1ULL << VIRTIO_NET_F_GUEST_ANNOUNCE;
}

static void vnet_cfg_read(struct virtio_dev *d, uint32_t off, void *data, uint32_t len)
{
	struct vnet *n = to_vnet(d);
	uint8_t cfg[CFG_LEN];
	uint16_t st = __atomic_load_n(&n->link_status, __ATOMIC_ACQUIRE);

	if (__atomic_load_n(&n->announce, __ATOMIC_ACQUIRE))
		st |= VIRTIO_NET_S_ANNOUNCE;

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

/* Which feature bits allow what in a header, per direction: the driver's transmit headers are governed
 * by the HOST_* features (§5.1.6.2), the device's receive headers by the GUEST_* ones (§5.1.6.4). */
struct hdr_rules {
	unsigned csum, tso4, tso6, ufo, ecn;	/* VIRTIO_NET_F_* bit numbers */
	uint8_t keep_flags;			/* flag bits passed on besides NEEDS_CSUM */
};

static const struct hdr_rules tx_rules = {
	VIRTIO_NET_F_CSUM, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_HOST_UFO,
	VIRTIO_NET_F_HOST_ECN, 0,	/* DATA_VALID/RSC_INFO mean nothing on transmit: ignored */
};
static const struct hdr_rules rx_rules = {
	VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_UFO,
	VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_HDR_F_DATA_VALID,	/* only with GUEST_CSUM, see below */
};

/* Build *out from the header *in of a frame_len-byte frame under the negotiated features: flags and GSO
 * fields survive only if negotiated and inside the frame; every other field is zero (num_buffers is the
 * caller's). 0, or -EINVAL: the frame cannot be passed on and is dropped. Unknown flag bits are ignored
 * (§5.1.6.2.2 "MUST ignore flag bits that it does not recognise"); hdr_len is only a hint ("MUST NOT
 * rely on hdr_len"), so it is clamped rather than trusted. */
static int vnet_hdr_check(const struct hdr_rules *r, uint64_t features, const struct virtio_net_hdr_v1 *in,
			  uint32_t frame_len, struct virtio_net_hdr_v1 *out)
{
	uint32_t csum_end = 0, hdr_len, gso_size;
	uint8_t gso = in->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	int need;

	memset(out, 0, sizeof(*out));
	if (frame_len < ETH_HLEN)
		return -EINVAL;
	if (in->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		/* a partial checksum nobody agreed to complete: the frame would leave corrupt */
		if (!((features >> r->csum) & 1))
			return -EINVAL;
		csum_end = (uint32_t)le16toh(in->csum_start) + le16toh(in->csum_offset) + CSUM_FIELD_LEN;
		if (csum_end > frame_len)
			return -EINVAL;
		out->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		out->csum_start = in->csum_start;
		out->csum_offset = in->csum_offset;
	}
	if ((features >> r->csum) & 1)
		out->flags |= in->flags & r->keep_flags;
	if (in->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return 0;
	/* A GSO super-frame is only valid where it was negotiated, is checksummed by the segmenter, and
	 * says how large its segments are. */
	need = gso == VIRTIO_NET_HDR_GSO_TCPV4 ? (int)r->tso4 : gso == VIRTIO_NET_HDR_GSO_TCPV6 ? (int)r->tso6 :
	       gso == VIRTIO_NET_HDR_GSO_UDP ? (int)r->ufo : -1;
	if (need < 0 || !((features >> need) & 1) || !(out->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return -EINVAL;
	if ((in->gso_type & VIRTIO_NET_HDR_GSO_ECN) &&
	    (gso == VIRTIO_NET_HDR_GSO_UDP || !((features >> r->ecn) & 1)))
		return -EINVAL;
	gso_size = le16toh(in->gso_size);
	if (!gso_size || gso_size >= frame_len)
		return -EINVAL;
	hdr_len = le16toh(in->hdr_len);
	if (hdr_len < csum_end)
		hdr_len = csum_end;
	if (hdr_len > frame_len)
		hdr_len = frame_len;
	out->gso_type = in->gso_type;
	out->gso_size = in->gso_size;
	out->hdr_len = htole16((uint16_t)hdr_len);
	return 0;
}

/* dst := the nr segments of src without their first skip bytes. Returns the count in dst (<= nr). */
static unsigned iov_skip(struct iovec *dst, const struct iovec *src, unsigned nr, size_t skip)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nr; i++) {
		if (skip >= src[i].iov_len) {
			skip -= src[i].iov_len;
			continue;
		}
		dst[n].iov_base = (uint8_t *)src[i].iov_base + skip;
		dst[n++].iov_len = src[i].iov_len - skip;
		skip = 0;
	}
	return n;
}

/* Read one frame from the tap: its header into n->rx_hdr, the frame behind the header space of the
 * chain, any excess into the scratch buffer. Returns what readv returns. */
static ssize_t vnet_rx_read(struct vnet *n, struct vq_chain *c)
{
	unsigned nr;

	n->rx_iov[0] = (struct iovec){ &n->rx_hdr, HDR_LEN };
	nr = 1 + iov_skip(n->rx_iov + 1, vq_chain_wr(c), c->nr_wr, HDR_LEN);
	n->rx_iov[nr++] = (struct iovec){ n->scratch, VNET_TX_MAX };
	return readv(n->tap_fd, n->rx_iov, (int)nr);
}

/* Move frames from the tap into receive buffers until either runs dry. */
void vnet_rx(struct vnet *n)
{
	struct vq_chain *c = &n->chain[RXQ];
	struct virtq *vq = &n->vq[RXQ];
	bool pushed = false;

	pthread_mutex_lock(&n->rx_lock);
	while (n->rx_active && !n->rx_paused && !__atomic_load_n(&n->tap_gone, __ATOMIC_ACQUIRE)) {
		struct virtio_net_hdr_v1 h;
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
		/* one frame per read; the scratch iovec tells us the frame did not fit */
		got = vnet_rx_read(n, c);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (got <= 0) {
			vnet_tap_gone(n, got < 0 ? -errno : -EPIPE);
			break;
		}
		/* too big, a runt, or a header this driver may not see: the buffer takes the next frame */
		if ((size_t)got > c->wr_len || (size_t)got < HDR_LEN ||
		    vnet_hdr_check(&rx_rules, n->vdev.features, &n->rx_hdr, (uint32_t)(got - HDR_LEN), &h)) {
			n->stats.rx_dropped++;
			continue;
		}
		h.num_buffers = htole16(1);	/* one buffer per frame: MRG_RXBUF is not offered */
		vq_iov_copy(vq_chain_wr(c), c->nr_wr, &h, HDR_LEN, 0, true);
		vq_push(vq, c->head, (uint32_t)got);
		n->rx_have_chain = false;
		n->stats.rx_frames++;
		pushed = true;
	}
	if (pushed && vq_should_notify(vq))
		virtio_signal_used(&n->vdev, RXQ);
	pthread_mutex_unlock(&n->rx_lock);
}

/* One transmit chain (readable only, rd_len checked): its header copied out of guest memory once,
 * checked, and sent as rebuilt by us in front of the rest of the chain. */
static void vnet_tx_frame(struct vnet *n, struct vq_chain *c)
{
	struct virtio_net_hdr_v1 guest_hdr;
	unsigned nr;
	ssize_t put;
	int err;

	vq_iov_copy(vq_chain_rd(c), c->nr_rd, &guest_hdr, HDR_LEN, 0, false);
	if (vnet_hdr_check(&tx_rules, n->vdev.features, &guest_hdr, c->rd_len - (uint32_t)HDR_LEN, &n->tx_hdr)) {
		log_guest("vnet", "%s: transmit header flags %#x gso_type %#x for a %u-byte frame not allowed by "
			  "the negotiated features %#llx: dropped", n->vdev.name, guest_hdr.flags, guest_hdr.gso_type,
			  c->rd_len - (uint32_t)HDR_LEN, (unsigned long long)n->vdev.features);
		n->stats.tx_dropped++;
		return;
	}
	n->tx_iov[0] = (struct iovec){ &n->tx_hdr, HDR_LEN };
	nr = 1 + iov_skip(n->tx_iov + 1, vq_chain_rd(c), c->nr_rd, HDR_LEN);
	do
		put = writev(n->tap_fd, n->tx_iov, (int)nr);
	while (put < 0 && errno == EINTR);
	if (put >= 0) {
		n->stats.tx_frames++;
		return;
	}
	err = -errno;
	n->stats.tx_dropped++;	/* full (EAGAIN) or interface down (EIO) */
	if (tap_fatal(err))
		vnet_tap_gone(n, err);
}

void vnet_tx(struct vnet *n)
{
	struct vq_chain *c = &n->chain[TXQ];
	struct virtq *vq = &n->vq[TXQ];
	bool pushed = false;

	pthread_mutex_lock(&n->tx_lock);
	while (n->tx_active && !n->tx_paused) {
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
			vnet_tx_frame(n, c);
		}
		vq_push(vq, c->head, 0);
		pushed = true;
	}
	if (pushed && vq_should_notify(vq))
		virtio_signal_used(&n->vdev, TXQ);
	pthread_mutex_unlock(&n->tx_lock);
}

void vnet_tap_event(void *arg, uint32_t events)
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
	/* optional: only a driver that negotiated CTRL_VQ sets it up */
	n->ctrl_active = virtio_has_feature(d, VIRTIO_NET_F_CTRL_VQ) && vq_enabled(&n->vq[CTRLQ]);
	pthread_mutex_unlock(&n->tx_lock);
	if (!n->rx_active || !n->tx_active)
		log_guest("vnet", "%s: DRIVER_OK with a queue disabled", d->name);
	vnet_rx(n);	/* frames may be waiting and no edge will come for them */
	vnet_tx(n);
	vnet_ctrl(n);
	return 0;
}

void vnet_reset(struct virtio_dev *d)
{
	struct vnet *n = to_vnet(d);

	pthread_mutex_lock(&n->rx_lock);
	n->rx_active = false;
	n->rx_have_chain = false;
	pthread_mutex_unlock(&n->rx_lock);
	pthread_mutex_lock(&n->tx_lock);
	n->tx_active = false;
	n->ctrl_active = false;
	pthread_mutex_unlock(&n->tx_lock);
	__atomic_store_n(&n->announce, false, __ATOMIC_RELEASE);
}

static void vnet_notify(struct virtio_dev *d, uint16_t q)
{
	if (q == RXQ)
		vnet_rx(to_vnet(d));
	else if (q == TXQ)
		vnet_tx(to_vnet(d));
	else if (q == CTRLQ)
		vnet_ctrl(to_vnet(d));
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

	/* a chain has at most qs segments; with our header and the rx scratch they go to one readv */
	if (cfg->tap_fd < 0 || !cfg->gm || (qs & (qs - 1)) || qs + 2 > UIO_MAXIOV || (cfg->mac[0] & 1))
		return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->scratch = malloc(VNET_TX_MAX);
	n->rx_iov = calloc(qs + 2u, sizeof(*n->rx_iov));
	n->tx_iov = calloc(qs + 1u, sizeof(*n->tx_iov));
	if (!n->scratch || !n->rx_iov || !n->tx_iov || (err = vq_chain_init(&n->chain[RXQ], qs)) ||
	    (err = vq_chain_init(&n->chain[TXQ], qs)) || (err = vq_chain_init(&n->chain[CTRLQ], qs)))
		goto fail;
	n->tap_fd = cfg->tap_fd;
	n->ev = cfg->ev;
	memcpy(n->mac, cfg->mac, 6);
	n->link_status = VIRTIO_NET_S_LINK_UP;
	pthread_mutex_init(&n->rx_lock, NULL);
	pthread_mutex_init(&n->tx_lock, NULL);
	device_init(&n->dev, &vnet_dev_ops, cfg->name ? cfg->name : "vnet");
	n->vdev = (struct virtio_dev){
		.ops = &vnet_ops, .name = cfg->name ? cfg->name : "vnet", .device_id = VIRTIO_ID_NET,
		.num_queues = VNET_NQ, .queue_size_max = qs, .cfg_len = CFG_LEN, .vq = n->vq, .gm = cfg->gm,
	};
	if (n->ev && (err = evloop_add(n->ev, n->tap_fd, EPOLLIN | EPOLLET, vnet_tap_event, n)) < 0)
		goto fail;
	*out = n;
	return 0;
fail:
	for (unsigned q = 0; q < VNET_NQ; q++)
		vq_chain_free(&n->chain[q]);
	free(n->rx_iov);
	free(n->tx_iov);
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
	for (unsigned q = 0; q < VNET_NQ; q++)
		vq_chain_free(&n->chain[q]);
	pthread_mutex_destroy(&n->rx_lock);
	pthread_mutex_destroy(&n->tx_lock);
	free(n->rx_iov);
	free(n->tx_iov);
	free(n->scratch);
	free(n);
}

struct virtio_dev *vnet_virtio(struct vnet *n)
{
	return &n->vdev;
}
