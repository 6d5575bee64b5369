/* libFuzzer target for the virtio devices' saved-state records (device.h): virtio-blk, virtio-net
 * and their virtio-pci functions (transport registers, queues, PCI config space, MSI-X), as a
 * snapshot file or a migration stream would hand them to restore. The first input byte picks the
 * device (bits 0-1) and whether the rest is a whole record with its CKDV header (bit 2) or the
 * payload alone. A refused record leaves the device's saved state as it was; an accepted one must
 * save again and that save must be accepted: restore leaves only states the device can produce. Seeds: tests/fuzz/seeds/devstate/,
 * written by test_vdevstate and test_vdevstate_net (VDEVSTATE_SEEDS=DIR). Must never crash, hang
 * or trip a sanitizer. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "arch/x86/layout.h"
#include "backend/blk_file.h"
#include "core/device.h"
#include "fake_vmm.h"
#include "log.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_GPA	0x100000ULL	/* as the unit test's (tests/unit/vq_mock.h): its records are the seeds */
#define RAM_LEN	0x80000ULL
#define QSIZE	16

static uint8_t ram[RAM_LEN] __attribute__((aligned(4096)));
static struct guest_mem gm;
static struct fake_vmm fv;
static struct vmm_ops fops;
static struct pci *pci;
static struct devreg reg;
static struct device *dev[4];	/* blk, blk-pci, net, net-pci */
static uint8_t before[8192], out[8192], again[8192];

static void fuzz_setup(void)
{
	struct blk_backend *be;
	struct vblk *b;
	struct vnet *n;
	struct virtio_pci *vb, *vn;
	struct vnet_config nc = { .mac = { 2, 0, 0, 0, 0, 1 }, .gm = &gm, .name = "net0", .queue_size = QSIZE };
	int sv[2];

	log_threshold = LOG_ERR;
	fake_vmm_init(&fv, &fops);
	fv.no_irqfd = true;
	if (gm_add_region(&gm, RAM_GPA, RAM_LEN, ram) || blk_mem_create(&be, 64 * 1024, false) ||
	    pci_create(&pci, &(struct pci_config)LAYOUT_PCI_CONFIG(&fops)) ||
	    vblk_create(&b, &(struct vblk_config){ .backend = be, .gm = &gm, .name = "disk0",
						    .queue_size = QSIZE }) ||
	    virtio_pci_create(&vb, pci, vblk_virtio(b), NULL) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv))
		abort();
	nc.tap_fd = sv[0];	/* sv[1] stays open: the tap has no peer writing, reads find nothing */
	if (vnet_create(&n, &nc) || virtio_pci_create(&vn, pci, vnet_virtio(n), NULL))
		abort();
	dev[0] = vblk_device(b);
	dev[1] = virtio_pci_device(vb);
	dev[2] = vnet_device(n);
	dev[3] = virtio_pci_device(vn);
	for (int i = 0; i < 4; i++)
		if (devreg_add(&reg, dev[i]))
			abort();
	/* Restores happen on a paused machine; it stays paused (no queue is ever served). */
	if (devreg_pause(&reg, INT64_MAX))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct device *d;
	size_t used = 0;
	ssize_t n, m, b;
	int ret;

	if (!ready) {
		fuzz_setup();
		ready = 1;
	}
	if (size < 1)
		return 0;
	d = dev[data[0] & 3];
	b = device_save(d, before, sizeof(before));
	if (b < 0)
		abort();
	if (data[0] & 4)
		ret = device_restore(d, data + 1, size - 1, &used);
	else
		ret = d->ops->restore(d, data + 1, size - 1);
	if (ret) {
		/* refused: -EINVAL, and the device exactly as it was */
		if (ret != -EINVAL || device_save(d, out, sizeof(out)) != b || memcmp(before, out, (size_t)b))
			abort();
		return 0;
	}
	n = device_save(d, out, sizeof(out));
	if (n < 0)
		abort();
	if (device_restore(d, out, (size_t)n, &used) || used != (size_t)n)
		abort();
	m = device_save(d, again, sizeof(again));
	if (m != n || memcmp(out, again, (size_t)n))
		abort();	/* a second round trip is a fixed point */
	return 0;
}
