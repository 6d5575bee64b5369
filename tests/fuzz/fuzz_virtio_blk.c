/* libFuzzer target for virtio-blk request handling (src/virtio/virtio_blk.c) on top of the virtqueue:
 * the input is the guest's ring memory (headers, data, status bytes); requests are served
 * synchronously with vblk_poll against a RAM disk. Must never crash, hang or trip a sanitizer. */
#include <stdlib.h>

#include "fuzz_ring.h"
#include "log.h"
#include "virtio/virtio_blk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_QMAX 64

static uint8_t ram[FUZZ_RAM_LEN] __attribute__((aligned(4096)));
static struct guest_mem gm;
static struct vblk *vblk;
static unsigned resets;

static void fuzz_needs_reset(struct virtio_dev *d)
{
	(void)d;
	resets++;
}

static void fuzz_setup(void)
{
	struct blk_backend *disk;
	struct vblk_config cfg = { .serial = "fuzz-serial", .queue_size = FUZZ_QMAX };
	struct virtio_dev *d;

	log_threshold = LOG_ERR;
	if (gm_add_region(&gm, FUZZ_RAM_GPA, FUZZ_RAM_LEN, ram) ||
	    blk_mem_create(&disk, 32 * 1024, false))
		abort();
	cfg.backend = disk;
	cfg.gm = &gm;
	if (vblk_create(&vblk, &cfg))
		abort();
	d = vblk_virtio(vblk);
	d->needs_reset = fuzz_needs_reset;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct virtio_dev *d;
	struct fuzz_hdr h;
	struct virtq *vq;
	unsigned before;
	int ret;

	if (!ready) {
		fuzz_setup();
		ready = 1;
	}
	if (fuzz_load(data, size, &h, ram))
		return 0;
	d = vblk_virtio(vblk);
	vq = &d->vq[0];
	vq_reset(vq);
	d->features = fuzz_features(h.features);
	if (vq_enable(vq, &gm, fuzz_qsize(h.size_log2), FUZZ_RAM_GPA + h.desc_off,
		      FUZZ_RAM_GPA + h.avail_off, FUZZ_RAM_GPA + h.used_off, d->features))
		return 0;
	vq->last_avail = vq->avail_idx = vq->used_idx = h.start_idx;
	before = resets;
	ret = vblk_poll(vblk);
	if ((ret < 0) != (resets != before))
		abort();	/* a malformed queue must be reported exactly then */
	return 0;
}
