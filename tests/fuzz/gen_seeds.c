/* Seed corpus generator for the virtqueue fuzz targets: builds well-formed rings with the driver-side
 * mock (tests/unit/vq_mock.c) and writes them in the fuzz_ring.h input format.
 * Usage: gen_seeds virtq|virtio_blk|kdecomp DIR (kdecomp: synthetic kernels from tests/unit/kimg_mock.c).
 * Runs at build/check time on the host. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_blk.h>

#include "fuzz_ring.h"
#include "kimg_mock.h"
#include "log.h"
#include "vq_mock.h"

_Static_assert(FUZZ_RAM_GPA == VQM_RAM_GPA, "fuzz RAM and mock RAM must coincide");

static const char *out_dir;
static int seeds;

static int seed_begin(struct vq_mock *m, unsigned size_log2)
{
	return vqm_init(m, (uint16_t)(1u << size_log2), FUZZ_RAM_LEN);
}

static int seed_write(struct vq_mock *m, unsigned size_log2, uint8_t features, uint16_t start)
{
	struct fuzz_hdr h = {
		.size_log2 = (uint8_t)size_log2, .features = features,
		.desc_off = (uint16_t)(m->desc_gpa - FUZZ_RAM_GPA),
		.avail_off = (uint16_t)(m->avail_gpa - FUZZ_RAM_GPA),
		.used_off = (uint16_t)(m->used_gpa - FUZZ_RAM_GPA), .start_idx = start,
	};
	size_t len = (size_t)(m->heap_gpa - FUZZ_RAM_GPA);
	char path[4096];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/seed-%02d", out_dir, seeds++);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		vqm_free(m);
		return -errno;
	}
	ok = fwrite(&h, sizeof(h), 1, f) == 1 && fwrite(m->ram, 1, len, f) == len;
	ok = !fclose(f) && ok;
	vqm_free(m);
	return ok ? 0 : -EIO;
}

static struct vqm_seg seg(struct vq_mock *m, uint32_t len, bool write)
{
	return (struct vqm_seg){ vqm_alloc(m, len), len, write };
}

static int gen_virtq(void)
{
	struct vq_mock m;
	int i, ret = 0;

	if (seed_begin(&m, 3))
		return -ENOMEM;
	vqm_add(&m, (struct vqm_seg[]){ seg(&m, 64, false) }, 1);
	vqm_add(&m, (struct vqm_seg[]){ seg(&m, 16, false), seg(&m, 100, false), seg(&m, 0, true),
					seg(&m, 33, true) }, 4);
	vqm_add(&m, (struct vqm_seg[]){ seg(&m, 512, true) }, 1);
	ret |= seed_write(&m, 3, 0, 0);

	if (seed_begin(&m, 3))
		return -ENOMEM;
	vqm_publish(&m, vqm_chain_indirect(&m, (struct vqm_seg[]){ seg(&m, 16, false),
			seg(&m, 200, true), seg(&m, 1, true) }, 3));
	vqm_add(&m, (struct vqm_seg[]){ seg(&m, 8, false), seg(&m, 8, true) }, 2);
	ret |= seed_write(&m, 3, FUZZ_F_INDIRECT | FUZZ_F_EVENT_IDX, 0);

	/* Indices about to wrap past 65535. */
	if (seed_begin(&m, 2))
		return -ENOMEM;
	m.avail_idx = 65534;
	for (i = 0; i < 3; i++)
		vqm_add(&m, (struct vqm_seg[]){ seg(&m, 24, i & 1) }, 1);
	ret |= seed_write(&m, 2, FUZZ_F_EVENT_IDX, 65534);

	if (seed_begin(&m, 6))
		return -ENOMEM;
	for (i = 0; i < 20; i++)
		vqm_add(&m, (struct vqm_seg[]){ seg(&m, 10, false), seg(&m, (uint32_t)i + 1, true) }, 2);
	ret |= seed_write(&m, 6, FUZZ_F_INDIRECT, 0);
	return ret;
}

/* One virtio-blk request: header, optional data, status. */
static void blk_req(struct vq_mock *m, uint32_t type, uint64_t sector, uint32_t len, bool indirect)
{
	struct virtio_blk_outhdr hdr = { .type = type, .sector = sector };
	struct vqm_seg s[3];
	int n = 0;

	s[n] = seg(m, sizeof(hdr), false);
	memcpy(vqm_host(m, s[n].gpa), &hdr, sizeof(hdr));
	n++;
	if (len)
		s[n++] = seg(m, len, type != VIRTIO_BLK_T_OUT);
	s[n++] = seg(m, 1, true);
	if (indirect)
		vqm_publish(m, vqm_chain_indirect(m, s, n));
	else
		vqm_add(m, s, n);
}

static int gen_virtio_blk(void)
{
	struct vq_mock m;
	int ret = 0;

	if (seed_begin(&m, 4))
		return -ENOMEM;
	blk_req(&m, VIRTIO_BLK_T_IN, 2, 1024, false);
	blk_req(&m, VIRTIO_BLK_T_OUT, 5, 512, false);
	blk_req(&m, VIRTIO_BLK_T_FLUSH, 0, 0, false);
	blk_req(&m, VIRTIO_BLK_T_GET_ID, 0, 20, false);
	ret |= seed_write(&m, 4, 0, 0);

	if (seed_begin(&m, 4))
		return -ENOMEM;
	blk_req(&m, VIRTIO_BLK_T_IN, 60, 2048, true);
	blk_req(&m, VIRTIO_BLK_T_OUT, 0, 4096, true);
	blk_req(&m, 99, 0, 0, false);
	blk_req(&m, VIRTIO_BLK_T_IN, 1ULL << 40, 512, false);
	ret |= seed_write(&m, 4, FUZZ_F_INDIRECT | FUZZ_F_EVENT_IDX, 0);
	return ret;
}

int main(int argc, char **argv)
{
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: %s virtq|virtio_blk|kdecomp DIR\n", argv[0]);
		return 2;
	}
	log_threshold = LOG_ERR;
	out_dir = argv[2];
	if (!strcmp(argv[1], "virtq"))
		ret = gen_virtq();
	else if (!strcmp(argv[1], "virtio_blk"))
		ret = gen_virtio_blk();
	else if (!strcmp(argv[1], "kdecomp"))
		ret = kimg_write_seeds(out_dir);
	else
		ret = -EINVAL;
	if (ret) {
		fprintf(stderr, "gen_seeds %s: failed\n", argv[1]);
		return 1;
	}
	return 0;
}
