/* The board's virtio devices: one virtio-blk per --disk, then one virtio-net per --net, on PCI bus 0
 * in command-line order (slots 1, 2, ...), each with MSI-X, ioeventfd doorbells and irqfd interrupts.
 * Runs on the main thread during setup and teardown. */
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

static int vpci_add(struct board *b, struct virtio_dev *vdev, const char *what)
{
	int ret = virtio_pci_create(&b->vpci[b->nvpci], b->pci, vdev, b->ev);

	if (ret) {
		log_errno(LOG_ERR, NULL, ret, "%s: virtio-pci", what);
		return EXIT_HOST_ERROR;
	}
	b->nvpci++;
	return 0;
}

static int disk_create(struct board *b, int i)
{
	const struct disk_config *dc = &b->cfg->disks[i];
	static char names[CONFIG_MAX_DISKS][16];
	struct blk_backend *be = NULL;
	struct vblk_config vc = { .gm = &b->vm.gm, .readonly = dc->readonly, .serial = dc->serial };
	int ret;

	if (blk_file_open(&be, dc->path, dc->readonly))
		return EXIT_USAGE;	/* blk_file_open said why in one line */
	snprintf(names[i], sizeof(names[i]), "vblk%d", i);
	vc.backend = be;
	vc.name = names[i];
	if ((ret = vblk_create(&b->disks[i], &vc))) {
		blk_close(be);
		log_errno(LOG_ERR, NULL, ret, "disk %s", dc->path);
		return EXIT_USAGE;
	}
	return vpci_add(b, vblk_virtio(b->disks[i]), dc->path);
}

static int nic_create(struct board *b, int i)
{
	const struct net_config *nc = &b->cfg->nets[i];
	static char names[CONFIG_MAX_NETS][16];
	struct vnet_config vc = { .gm = &b->vm.gm, .ev = b->ev };
	char mac[18];
	int fd, ret;

	if ((fd = tap_open(nc->tap)) < 0)
		return EXIT_USAGE;	/* tap_open said why in one line */
	if (nc->mac_set)
		memcpy(vc.mac, nc->mac, sizeof(vc.mac));
	else
		tap_mac_random(vc.mac);
	snprintf(names[i], sizeof(names[i]), "vnet%d", i);
	vc.tap_fd = fd;
	vc.name = names[i];
	if ((ret = vnet_create(&b->nets[i], &vc))) {
		close(fd);
		log_errno(LOG_ERR, NULL, ret, "net %s", nc->tap);
		return EXIT_HOST_ERROR;
	}
	tap_mac_format(vc.mac, mac);
	log_debug(NULL, "%s: tap %s, mac %s", names[i], nc->tap, mac);
	return vpci_add(b, vnet_virtio(b->nets[i]), nc->tap);
}

int board_virtio_create(struct board *b)
{
	int i, ret;

	for (i = 0; i < b->cfg->ndisks; i++)
		if ((ret = disk_create(b, i)))
			return ret;
	for (i = 0; i < b->cfg->nnets; i++)
		if ((ret = nic_create(b, i)))
			return ret;
	return 0;
}

/* Slots 1..n hold the virtio functions (pci_add_device assigns them in call order). */
uint32_t board_pci_slot_mask(const struct board *b)
{
	int n = b->cfg->ndisks + b->cfg->nnets;

	return n ? ((1u << n) - 1) << 1 : 0;
}

static void vdev_reset(struct virtio_dev *vd)
{
	vd->ops->reset(vd);
}

/* Disks get until deadline_ns to finish what their back-ends are doing (a hung NFS server or disk
 * must not hold a stop forever); then their requests are abandoned. NICs never block. */
bool board_virtio_quiesce(struct board *b, int64_t deadline_ns)
{
	bool clean = true;
	int i;

	for (i = 0; i < CONFIG_MAX_DISKS; i++) {
		unsigned n;

		if (!b->disks[i])
			continue;
		n = vblk_quiesce(b->disks[i], deadline_ns);
		if (n) {
			log_warnx(NULL, "abandoned %u in-flight disk request%s on %s", n, n == 1 ? "" : "s",
				  b->cfg->disks[i].path);
			clean = false;
		}
	}
	for (i = 0; i < CONFIG_MAX_NETS; i++)
		if (b->nets[i])
			vdev_reset(vnet_virtio(b->nets[i]));
	return clean;
}

void board_virtio_destroy(struct board *b)
{
	int i;

	for (i = 0; i < b->nvpci; i++)
		virtio_pci_destroy(b->vpci[i]);
	b->nvpci = 0;
	for (i = 0; i < CONFIG_MAX_DISKS; i++) {
		if (b->disks[i])
			vblk_destroy(b->disks[i]);
		b->disks[i] = NULL;
	}
	for (i = 0; i < CONFIG_MAX_NETS; i++) {
		if (b->nets[i])
			vnet_destroy(b->nets[i]);
		b->nets[i] = NULL;
	}
}
