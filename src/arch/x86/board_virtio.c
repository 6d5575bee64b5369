/* The board's virtio devices: one virtio-blk per --disk, then one virtio-net per --net, on PCI bus 0
 * in command-line order (slots 1, 2, ...), each with MSI-X, ioeventfd doorbells and irqfd interrupts,
 * each registered on the board (b->devs) followed by its virtio-pci transport. Runs on the main thread
 * during setup; board_drive_swap on the API thread. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#include "arch/x86/board.h"
#include "arch/x86/board_devices.h"
#include "backend/blk_file.h"
#include "backend/tap.h"
#include "log.h"
#include "virtio/virtio.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_pci.h"
#include "virtio/vhost_user_blk.h"
#include "virtio/vhost_user_fs.h"
#include "virtio/vhost_user_net.h"
#include "virtio/virtio_vdevs.h"

#define SWAP_PAUSE_NS 1000000000LL	/* a disk's in-flight request gets 1 s to finish for a swap */

/* Register d; on failure (a name taken twice: a bug) it is destroyed here. */
static int dev_register(struct board *b, struct device *d)
{
	int ret = devreg_add(&b->devs, d);

	if (ret) {
		log_errno(LOG_ERR, NULL, ret, "device %s", d->name);
		d->ops->destroy(d);
	}
	return ret;
}

/* *slot (may be NULL) gets the function's PCI slot: the firmware's boot order names disks by it. */
static int vpci_add(struct board *b, struct virtio_dev *vdev, const char *what, int *slot)
{
	struct virtio_pci *vp;
	int ret = virtio_pci_create(&vp, b->pci, vdev, b->ev);

	if (ret) {
		log_errno(LOG_ERR, NULL, ret, "%s: virtio-pci", what);
		return ret;
	}
	if (slot)
		*slot = virtio_pci_dev(vp)->slot;
	return dev_register(b, virtio_pci_device(vp));
}

/* --disk vhost_user=on,socket=PATH: the queue is served by the back-end at PATH. */
static int vhost_user_disk_create(struct board *b, const struct disk_config *dc, const char *name,
				  int *slot)
{
	struct vublk_config vc = { .gm = &b->vm.gm, .socket = dc->path, .name = name, .ev = b->ev };
	struct vudev *vu;
	int ret;

	if ((ret = vublk_create(&vu, &vc)))	/* it said why in one line */
		return ret == -ENOMEM ? ret : board_bad_input(b, ret);
	if ((ret = dev_register(b, vudev_device(vu))))
		return ret;
	return vpci_add(b, vudev_virtio(vu), dc->path, slot);
}

static int disk_create(struct board *b, int i)
{
	const struct disk_config *dc = &b->cfg->disks[i];
	static char names[CONFIG_MAX_DISKS][16];
	struct blk_backend *be = NULL;
	struct vblk_config vc = { .gm = &b->vm.gm, .readonly = dc->readonly, .serial = dc->serial };
	struct vblk *blk;
	int ret;

	if (dc->vhost_user) {
		snprintf(names[i], sizeof(names[i]), "vblk%d", i);
		return vhost_user_disk_create(b, dc, names[i], &b->disk_pci_slot[i]);
	}
	if ((ret = blk_file_open(&be, dc->path, dc->readonly)))
		return ret == -ENOMEM ? ret : board_bad_input(b, ret);	/* it said why in one line */
	snprintf(names[i], sizeof(names[i]), "vblk%d", i);
	vc.backend = be;
	vc.name = names[i];
	if ((ret = vblk_create(&blk, &vc))) {
		blk_close(be);
		log_errno(LOG_ERR, NULL, ret, "disk %s", dc->path);
		return ret == -EINVAL ? board_bad_input(b, ret) : ret;	/* EINVAL: its serial */
	}
	if ((ret = dev_register(b, vblk_device(blk))))
		return ret;
	return vpci_add(b, vblk_virtio(blk), dc->path, &b->disk_pci_slot[i]);
}

/* --net vhost_user=on,socket=PATH: both queues are served by the back-end at PATH; the MAC is ckvm's. */
static int vhost_user_nic_create(struct board *b, const struct net_config *nc, const char *name)
{
	struct vunet_config vc = { .gm = &b->vm.gm, .socket = nc->socket, .name = name, .ev = b->ev };
	struct vudev *vu;
	char mac[18];
	int ret;

	if (nc->mac_set)
		memcpy(vc.mac, nc->mac, sizeof(vc.mac));
	else
		tap_mac_random(vc.mac);
	if ((ret = vunet_create(&vu, &vc)))	/* it said why in one line */
		return ret == -ENOMEM ? ret : board_bad_input(b, ret);
	if ((ret = dev_register(b, vudev_device(vu))))
		return ret;
	tap_mac_format(vc.mac, mac);
	log_debug(NULL, "%s: vhost-user %s, mac %s", name, nc->socket, mac);
	return vpci_add(b, vudev_virtio(vu), nc->socket, NULL);
}

static int nic_create(struct board *b, int i)
{
	const struct net_config *nc = &b->cfg->nets[i];
	static char names[CONFIG_MAX_NETS][16];
	struct vnet_config vc = { .gm = &b->vm.gm, .ev = b->ev };
	struct vnet *net;
	char mac[18];
	int fd, ret;

	if (nc->vhost_user) {
		snprintf(names[i], sizeof(names[i]), "vnet%d", i);
		return vhost_user_nic_create(b, nc, names[i]);
	}
	if ((fd = tap_open(nc->tap)) < 0)
		return fd == -ENOMEM ? fd : board_bad_input(b, fd);	/* tap_open said why in one line */
	if (nc->mac_set)
		memcpy(vc.mac, nc->mac, sizeof(vc.mac));
	else
		tap_mac_random(vc.mac);
	snprintf(names[i], sizeof(names[i]), "vnet%d", i);
	vc.tap_fd = fd;
	vc.name = names[i];
	if ((ret = vnet_create(&net, &vc))) {
		close(fd);
		log_errno(LOG_ERR, NULL, ret, "net %s", nc->tap);
		return ret;
	}
	if ((ret = dev_register(b, vnet_device(net))))
		return ret;
	tap_mac_format(vc.mac, mac);
	log_debug(NULL, "%s: tap %s, mac %s", names[i], nc->tap, mac);
	return vpci_add(b, vnet_virtio(net), nc->tap, NULL);
}

/* --fs tag=NAME,socket=PATH: virtio-fs whose queues the back-end at PATH (virtiofsd) serves. */
static int fs_create(struct board *b, int i)
{
	const struct fs_config *fc = &b->cfg->fs[i];
	static char names[CONFIG_MAX_FS][16];
	struct vufs_config vc = { .gm = &b->vm.gm, .socket = fc->socket, .tag = fc->tag, .ev = b->ev,
		.request_queues = fc->queues, .queue_size = fc->queue_size };
	struct vudev *vu;
	int ret;

	snprintf(names[i], sizeof(names[i]), "vfs%d", i);
	vc.name = names[i];
	if ((ret = vufs_create(&vu, &vc)))	/* it said why in one line */
		return ret == -ENOMEM ? ret : board_bad_input(b, ret);
	if ((ret = dev_register(b, vudev_device(vu))))
		return ret;
	return vpci_add(b, vudev_virtio(vu), fc->socket, NULL);
}

int board_virtio_create(struct board *b)
{
	int i, ret;

	for (i = 0; i < b->cfg->ndisks; i++)
		if (!b->cfg->disks[i].ide && (ret = disk_create(b, i)))	/* if=ide: board_fw.c */
			return ret;
	for (i = 0; i < b->cfg->nnets; i++)
		if ((ret = nic_create(b, i)))
			return ret;
	for (i = 0; i < b->cfg->nfs; i++)
		if ((ret = fs_create(b, i)))
			return ret;
	return board_vdevs_create(b, dev_register, vpci_add);	/* --rng, --vsock, --balloon */
}

int board_drive_swap(struct board *b, int idx, const char *path, char *err, size_t errlen)
{
	struct vblk *blk = NULL;
	struct blk_backend *be = NULL, *old = NULL;
	bool readonly;
	int ret, i, nth = 0;

	/* The virtio-blk devices are the disks without if=ide, in the same order; IDE ones never swap. */
	for (i = 0; idx >= 0 && i < idx && i < b->cfg->ndisks; i++)
		nth += !b->cfg->disks[i].ide;
	if (idx >= 0 && idx < b->cfg->ndisks && !b->cfg->disks[idx].ide)
		blk = vblk_of_device(devreg_nth(&b->devs, "virtio-blk", (unsigned)nth));
	if (idx < 0 || idx >= b->cfg->ndisks || !blk) {
		snprintf(err, errlen, "no such drive on the running VM");
		return -ENODEV;
	}
	readonly = b->cfg->disks[idx].readonly;
	/* The same checks and locks as --disk: a file another ckvm (or this one) writes is refused. */
	if ((ret = blk_file_open(&be, path, readonly))) {
		snprintf(err, errlen, "%s", *log_last_error() ? log_last_error() : strerror(-ret));
		return ret;
	}
	ret = vblk_swap_backend(blk, be, vm_clock_ns() + SWAP_PAUSE_NS, &old);
	if (ret) {
		blk_close(be);
		snprintf(err, errlen, "%s", ret == -EROFS ? "the file is read-only but the drive is not" :
			 ret == -ETIMEDOUT ? "the disk's in-flight request did not finish within 1 s" :
			 strerror(-ret));
		log_err(NULL, "drive %d: %s not swapped in: %s", idx, path, err);
		return ret;
	}
	blk_close(old);		/* no request uses it any more: the swap paused the disk */
	return 0;
}
