/* virtio-net through vhost-user (virtio 1.x §5.1), e.g. dpdk-testpmd's net_vhost port: the back-end
 * moves the frames of both queues; ckvm serves the config space (MAC, link up) itself, since DPDK's
 * vhost library has none to give. The rest is the generic vhost-user device (vhost_user_dev.c).
 * Runs on the main thread (create). */
#include "virtio/vhost_user_net.h"

#include <stddef.h>
#include <string.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "virtio/vhost_user.h"

#define SUB "vhost-user-net"

/* Passed through when the back-end offers them: the checksum and segmentation offloads both ways
 * (the back-end reads and writes the virtio_net_hdr, ckvm never sees a frame), mergeable receive
 * buffers, and the ring layouts ckvm's transport knows. Not MQ (one queue pair), not CTRL_VQ and
 * what needs it (GUEST_ANNOUNCE, CTRL_RX...): that queue would be ckvm's to serve, and DPDK's vhost
 * does not implement it either; not MTU or SPEED_DUPLEX: config fields ckvm does not fill. DPDK
 * 22.11's net_vhost offers all of these but HOST_TSO4/6 (only with its vdev's tso=1). MAC and STATUS
 * are ckvm's own: the back-end never sees them in SET_FEATURES (DPDK refuses bits it did not offer). */
/* Orphan mode: frames sent are dropped (returned, so the guest frees them); receive buffers stay
 * posted, with nothing to fill them. */
static int vunet_fail(uint16_t q, struct vq_chain *c, uint32_t *written)
{
	(void)c;
	*written = 0;
	return q == 0 ? -1 : 0;
}

static const struct vudev_kind vunet_kind = {
	.kind = SUB, .what = "network card", .device_id = VIRTIO_ID_NET, .queue_size = 256,
	.pass = (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) |
		(1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6) |
		(1ULL << VIRTIO_NET_F_GUEST_ECN) | (1ULL << VIRTIO_NET_F_GUEST_UFO) |
		(1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) |
		(1ULL << VIRTIO_NET_F_HOST_ECN) | (1ULL << VIRTIO_NET_F_HOST_UFO) |
		(1ULL << VIRTIO_NET_F_MRG_RXBUF) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
		(1ULL << VIRTIO_RING_F_EVENT_IDX),
	.own = (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS),
	/* Not MQ: DPDK answers GET_QUEUE_NUM in queue pairs, and with one pair there is nothing to ask. */
	.protocol = 1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK,
	.fail = vunet_fail,
};

/* The fields up to max_virtqueue_pairs: a driver reads mtu, speed and the rest only with features
 * that are never offered here. */
#define VUNET_CFG_LEN offsetof(struct virtio_net_config, mtu)

_Static_assert(VUNET_CFG_LEN <= VUDEV_CONFIG_MAX, "net config fits");

int vunet_create(struct vudev **out, const struct vunet_config *cfg)
{
	struct vudev_config vc = { .gm = cfg->gm, .socket = cfg->socket, .name = cfg->name, .ev = cfg->ev,
		.num_queues = VUNET_NQ };
	struct virtio_net_config nc;
	struct vudev *u;
	int ret;

	if ((ret = vudev_create(&u, &vunet_kind, &vc)))
		return ret;
	/* the link is up for as long as the device lives: a dead back-end is NEEDS_RESET, not a link
	 * change (the guest's driver would keep queueing frames into a ring nobody drains) */
	memset(&nc, 0, sizeof(nc));
	memcpy(nc.mac, cfg->mac, sizeof(nc.mac));
	nc.status = VIRTIO_NET_S_LINK_UP;
	nc.max_virtqueue_pairs = 1;
	vudev_set_config(u, &nc, VUNET_CFG_LEN);
	if ((ret = vudev_start(u))) {
		vudev_free(u);
		return ret;
	}
	*out = u;
	return 0;
}
