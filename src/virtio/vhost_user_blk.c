/* virtio-blk through vhost-user (virtio 1.x §5.2), e.g. qemu-storage-daemon's vhost-user-blk export:
 * the back-end serves the queue and its config space (capacity, limits); the rest is the generic
 * vhost-user device (vhost_user_dev.c). */
#include "virtio/vhost_user_blk.h"

#include <errno.h>
#include <stddef.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "log.h"
#include "virtio/vhost_user.h"

#define SUB "vhost-user-blk"

/* Device features passed through from the back-end: the request types and limits it serves (not
 * MQ: one queue; not CONFIG_WCE: config writes would need SET_CONFIG), and the ring layouts ckvm's
 * transport knows (split ring, indirect, event index). VERSION_1 the transport adds. */
/* Orphan mode: a request's last writable byte is its status. */
static int vublk_fail(uint16_t q, struct vq_chain *c, uint32_t *written)
{
	struct iovec *last;

	(void)q;
	if (c->nr_wr) {	/* no writable part: a malformed request, returned untouched */
		last = &vq_chain_wr(c)[c->nr_wr - 1];
		((uint8_t *)last->iov_base)[last->iov_len - 1] = VIRTIO_BLK_S_IOERR;
		*written = 1;
	}
	return 0;
}

static const struct vudev_kind vublk_kind = {
	.kind = SUB, .what = "disk", .device_id = VIRTIO_ID_BLOCK, .queue_size = 256,
	.pass = (1ULL << VIRTIO_BLK_F_SIZE_MAX) | (1ULL << VIRTIO_BLK_F_SEG_MAX) |
		(1ULL << VIRTIO_BLK_F_GEOMETRY) | (1ULL << VIRTIO_BLK_F_RO) |
		(1ULL << VIRTIO_BLK_F_BLK_SIZE) | (1ULL << VIRTIO_BLK_F_FLUSH) |
		(1ULL << VIRTIO_BLK_F_TOPOLOGY) | (1ULL << VIRTIO_BLK_F_DISCARD) |
		(1ULL << VIRTIO_BLK_F_WRITE_ZEROES) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
		(1ULL << VIRTIO_RING_F_EVENT_IDX),
	.protocol = (1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK) | (1ULL << VHOST_USER_PROTOCOL_F_CONFIG),
	.fail = vublk_fail,
};

_Static_assert(sizeof(struct virtio_blk_config) <= VUDEV_CONFIG_MAX, "blk config fits");

/* Config space: as much of struct virtio_blk_config as the back-end serves (QEMU 7.2 refuses reads
 * past its own, shorter struct); features whose fields lie beyond it are not offered. */
static int read_config(struct vudev *u, const char *name)
{
	static const uint32_t sizes[] = { sizeof(struct virtio_blk_config),
		offsetof(struct virtio_blk_config, max_secure_erase_sectors),
		offsetof(struct virtio_blk_config, max_discard_sectors),
		offsetof(struct virtio_blk_config, physical_block_exp) };
	struct vhu_conn *c = vudev_conn(u);
	struct virtio_blk_config cfg = { 0 };
	uint32_t len = 0;
	int ret = -EIO;

	if (!(c->protocol_features & (1ULL << VHOST_USER_PROTOCOL_F_CONFIG))) {
		log_err(SUB, "%s: the back-end at %s does not serve config space (no PROTOCOL_F_CONFIG)",
			name, c->name);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && ret == -EIO; i++)
		ret = vhu_get_config(c, 0, &cfg, len = sizes[i]);
	if (ret == -EIO)	/* refusals are quiet (vhost_user.c): say it once here */
		log_err(SUB, "%s: the back-end at %s refuses to give its config space", name, c->name);
	if (ret)
		return ret;
	if (len < offsetof(struct virtio_blk_config, max_secure_erase_sectors))
		vudev_offer_clear(u, (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
	if (len < offsetof(struct virtio_blk_config, max_discard_sectors))
		vudev_offer_clear(u, 1ULL << VIRTIO_BLK_F_TOPOLOGY);
	vudev_set_config(u, &cfg, len);
	log_debug(SUB, "%s: %llu sectors", name, (unsigned long long)cfg.capacity);
	return 0;
}

int vublk_create(struct vudev **out, const struct vublk_config *cfg)
{
	struct vudev_config vc = { .gm = cfg->gm, .socket = cfg->socket, .name = cfg->name, .ev = cfg->ev,
		.num_queues = 1 };	/* VIRTIO_BLK_F_MQ is not offered */
	struct vudev *u;
	int ret;

	if ((ret = vudev_create(&u, &vublk_kind, &vc)))
		return ret;
	if ((ret = read_config(u, cfg->name)) || (ret = vudev_start(u))) {
		vudev_free(u);
		return ret;
	}
	*out = u;
	return 0;
}
