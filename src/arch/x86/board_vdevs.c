/* --rng, --vsock and --balloon on the board: each device registered, then its virtio-pci function
 * (board_virtio.c's order: disks, NICs, then these). Main thread, during setup. */
#include <errno.h>

#include "arch/x86/board.h"
#include "log.h"
#include "virtio/virtio_balloon.h"
#include "virtio/virtio_rng.h"
#include "virtio/virtio_vdevs.h"
#include "virtio/virtio_vsock.h"

static int rng_create(struct board *b, vdevs_register_fn reg, vdevs_vpci_fn vpci)
{
	struct vrng_config vc = { .gm = &b->vm.gm, .ev = b->ev, .name = "vrng0",
				  .bytes_per_sec = b->cfg->rng.bytes_per_sec };
	struct vrng *r;
	int ret;

	if ((ret = vrng_create(&r, &vc))) {
		log_errno(LOG_ERR, NULL, ret, "--rng");
		return ret;
	}
	if ((ret = reg(b, vrng_device(r))))
		return ret;
	return vpci(b, vrng_virtio(r), "--rng", NULL);
}

static int vsock_add(struct board *b, vdevs_register_fn reg, vdevs_vpci_fn vpci)
{
	struct vsock_params vc = { .gm = &b->vm.gm, .ev = b->ev, .name = "vsock0",
				   .guest_cid = b->cfg->vsock.cid, .path = b->cfg->vsock.socket };
	struct vsock *v;
	int ret;

	if ((ret = vsock_create(&v, &vc))) {
		log_errno(LOG_ERR, NULL, ret, "--vsock socket=%s", vc.path);
		return ret == -ENOMEM ? ret : board_bad_input(b, ret);
	}
	if ((ret = reg(b, vsock_device(v))))
		return ret;
	return vpci(b, vsock_virtio(v), "--vsock", NULL);
}

static int balloon_add(struct board *b, vdevs_register_fn reg, vdevs_vpci_fn vpci)
{
	const struct balloon_config *bc = &b->cfg->balloon;
	struct vballoon_params p = { .gm = &b->vm.gm, .ev = b->ev, .name = "balloon0",
				     .target_mib = (uint32_t)bc->size_mib, .deflate_on_oom = bc->deflate_on_oom,
				     .stats = bc->stats, .stats_interval_s = bc->stats_interval_s };
	struct vballoon *vb;
	int ret;

	if ((ret = vballoon_create(&vb, &p))) {
		log_errno(LOG_ERR, NULL, ret, "--balloon");
		return ret == -ENOMEM ? ret : board_bad_input(b, ret);
	}
	if ((ret = reg(b, vballoon_device(vb))))
		return ret;
	return vpci(b, vballoon_virtio(vb), "--balloon", NULL);
}

int board_vdevs_create(struct board *b, vdevs_register_fn reg, vdevs_vpci_fn vpci)
{
	int ret;

	if (b->cfg->rng.on && (ret = rng_create(b, reg, vpci)))
		return ret;
	if (b->cfg->vsock.on && (ret = vsock_add(b, reg, vpci)))
		return ret;
	if (b->cfg->balloon.on && (ret = balloon_add(b, reg, vpci)))
		return ret;
	return 0;
}

static struct vballoon *board_balloon(struct board *b)
{
	return vballoon_of_device(devreg_nth(&b->devs, "virtio-balloon", 0));
}

int board_balloon_set(void *ctx, int64_t amount_mib, int64_t stats_interval_s)
{
	struct vballoon *vb = board_balloon(ctx);
	int ret = 0;

	if (!vb)
		return -ENODEV;
	if (amount_mib >= 0 && (amount_mib > UINT32_MAX || (ret = vballoon_set_target(vb, (uint32_t)amount_mib))))
		return ret ? ret : -EINVAL;
	if (stats_interval_s >= 0)
		ret = vballoon_set_stats_interval(vb, (uint32_t)stats_interval_s);
	return ret;
}

int board_balloon_get(void *ctx, struct vballoon_info *out)
{
	struct vballoon *vb = board_balloon(ctx);

	if (!vb)
		return -ENODEV;
	vballoon_get_info(vb, out);
	return 0;
}
