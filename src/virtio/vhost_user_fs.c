/* virtio-fs through vhost-user (virtio 1.2 §5.11, device id 26), e.g. virtiofsd: queue 0 is the
 * hiprio queue (FORGET, INTERRUPT), queues 1..N the request queues; the back-end serves all of them
 * and ckvm serves config space (tag, num_request_queues). Runs on the main thread at set-up; the rest
 * is the generic vhost-user device (vhost_user_dev.c). */
#include "virtio/vhost_user_fs.h"

#include <errno.h>
#include <string.h>
#include <linux/fuse.h>
#include <linux/virtio_fs.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "log.h"
#include "virtio/vhost_user.h"

#define SUB "vhost-user-fs"

/* Device features passed through: only the ring layouts ckvm's transport knows. virtio-fs has one
 * feature of its own, NOTIFICATION (a notification queue and notify_buf_size), which neither
 * virtiofsd nor Linux 6.1 implement; VERSION_1 the transport adds. Config space needs no feature
 * bit, so ckvm owns none. MQ asks GET_QUEUE_NUM how many queues the back-end can take. */
/* Orphan mode: each request gets a FUSE reply header with EIO for its unique id; one without room
 * for a reply (FORGET) is just returned. */
static int vufs_fail(uint16_t q, struct vq_chain *c, uint32_t *written)
{
	struct fuse_in_header in;
	struct fuse_out_header out = { .len = sizeof(out), .error = -EIO };

	(void)q;
	if (vq_iov_copy(vq_chain_rd(c), c->nr_rd, &in, sizeof(in), 0, false) < sizeof(in) ||
	    c->wr_len < sizeof(out))
		return 0;
	out.unique = in.unique;
	*written = (uint32_t)vq_iov_copy(vq_chain_wr(c), c->nr_wr, &out, sizeof(out), 0, true);
	return 0;
}

static const struct vudev_kind vufs_kind = {
	.kind = SUB, .what = "file system", .device_id = VIRTIO_ID_FS,
	.queue_size = VUFS_QUEUE_SIZE_DEFAULT,
	.pass = (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << VIRTIO_RING_F_EVENT_IDX),
	.protocol = (1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK) | (1ULL << VHOST_USER_PROTOCOL_F_MQ),
	.fail = vufs_fail,
};

_Static_assert(sizeof(struct virtio_fs_config) == VUFS_TAG_MAX + 4, "tag[36] + num_request_queues");
_Static_assert(sizeof(struct virtio_fs_config) <= VUDEV_CONFIG_MAX, "fs config fits");

int vufs_create(struct vudev **out, const struct vufs_config *cfg)
{
	struct vudev_config vc = { .gm = cfg->gm, .socket = cfg->socket, .name = cfg->name, .ev = cfg->ev,
		.num_queues = (uint16_t)(cfg->request_queues + 1), .queue_size = cfg->queue_size };
	struct virtio_fs_config fc = { 0 };
	size_t tag_len = cfg->tag ? strlen(cfg->tag) : 0;
	struct vudev *u;
	int ret;

	/* config_check.c refuses these with a line naming the option; here they are a caller's bug */
	if (!tag_len || tag_len > VUFS_TAG_MAX || !cfg->request_queues ||
	    cfg->request_queues > VUFS_MAX_REQUEST_QUEUES || cfg->queue_size > VUFS_QUEUE_SIZE_MAX)
		return -EINVAL;
	if ((ret = vudev_create(&u, &vufs_kind, &vc)))
		return ret;
	/* A back-end without MQ says nothing of its queue count (queue_num 0): virtiofsd offers MQ, and
	 * one that does not gets the queues anyway and may refuse them at DRIVER_OK. */
	memcpy(fc.tag, cfg->tag, tag_len);	/* NUL padding; none after a 36-byte tag */
	fc.num_request_queues = cfg->request_queues;	/* little-endian host */
	vudev_set_config(u, &fc, sizeof(fc));
	if ((ret = vudev_start(u))) {
		vudev_free(u);
		return ret;
	}
	log_debug(SUB, "%s: tag \"%.*s\", %u request queues", cfg->name, (int)tag_len, cfg->tag,
		  cfg->request_queues);
	*out = u;
	return 0;
}
