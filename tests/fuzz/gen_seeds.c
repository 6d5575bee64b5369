/* Seed corpus generator for the fuzz targets: well-formed rings built with the driver-side mock
 * (tests/unit/vq_mock.c) in the fuzz_ring.h / fuzz_net.h formats (virtq, virtio_blk, virtio_net), and
 * through gen_seeds_ops.c operation sequences and kernel images (pci, loaders); synthetic compressed
 * kernels from tests/unit/kimg_mock.c (kdecomp).
 * Usage: gen_seeds TARGET DIR. Runs at build/check time on the host. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_blk.h>

#include "fuzz_net.h"
#include "gen_seeds.h"
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

int seed_emit(const void *head, size_t head_len, const void *body, size_t body_len)
{
	char path[4096];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/seed-%02d", out_dir, seeds++);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		return -errno;
	}
	ok = (!head_len || fwrite(head, head_len, 1, f) == 1) && (!body_len || fwrite(body, body_len, 1, f) == 1);
	ok = !fclose(f) && ok;
	return ok ? 0 : -EIO;
}

static struct fuzz_hdr ring_hdr(struct vq_mock *m, unsigned size_log2, uint8_t features, uint16_t start)
{
	return (struct fuzz_hdr){
		.size_log2 = (uint8_t)size_log2, .features = features,
		.desc_off = (uint16_t)(m->desc_gpa - FUZZ_RAM_GPA),
		.avail_off = (uint16_t)(m->avail_gpa - FUZZ_RAM_GPA),
		.used_off = (uint16_t)(m->used_gpa - FUZZ_RAM_GPA), .start_idx = start,
	};
}

/* Write header + the used part of the mock's RAM, free the mock. */
static int seed_write(struct vq_mock *m, unsigned size_log2, uint8_t features, uint16_t start)
{
	struct fuzz_hdr h = ring_hdr(m, size_log2, features, start);
	int ret = seed_emit(&h, sizeof(h), m->ram, (size_t)(m->heap_gpa - FUZZ_RAM_GPA));

	vqm_free(m);
	return ret;
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

/* The receive queue's rings and buffers, in the same RAM after the transmit queue's. */
struct rx_ring {
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t size, next_desc, idx;
};

static void rx_ring_init(struct vq_mock *m, struct rx_ring *r, uint16_t size)
{
	r->desc_gpa = vqm_alloc(m, 16u * size);
	r->avail_gpa = vqm_alloc(m, 6u + 2u * size);
	r->used_gpa = vqm_alloc(m, 6u + 8u * size);
	r->size = size;
	r->next_desc = r->idx = 0;
}

/* One receive buffer of len bytes, in two descriptors when split (the header straddling them). */
static void rx_ring_add(struct vq_mock *m, struct rx_ring *r, uint32_t len, uint32_t split)
{
	struct vring_desc *d = vqm_host(m, r->desc_gpa);
	struct vring_avail *a = vqm_host(m, r->avail_gpa);
	uint64_t buf = vqm_alloc(m, len);
	uint16_t id = r->next_desc;

	if (split) {
		d[id] = (struct vring_desc){ buf, split, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, (uint16_t)(id + 1) };
		d[id + 1] = (struct vring_desc){ buf + split, len - split, VRING_DESC_F_WRITE, 0 };
		r->next_desc = (uint16_t)(id + 2);
	} else {
		d[id] = (struct vring_desc){ buf, len, VRING_DESC_F_WRITE, 0 };
		r->next_desc = (uint16_t)(id + 1);
	}
	a->ring[r->idx % r->size] = id;
	a->idx = ++r->idx;
}

/* One transmit frame: header h, then len bytes, as one, two (header apart) or indirect segments. */
static void net_tx(struct vq_mock *m, struct virtio_net_hdr_v1 h, uint32_t len, int layout)
{
	uint64_t gpa = vqm_alloc(m, 12 + len);
	uint8_t *p = vqm_host(m, gpa);

	memcpy(p, &h, 12);
	for (uint32_t i = 0; i < len; i++)
		p[12 + i] = (uint8_t)(i < 12 ? 0x52 : i);
	if (layout == 0)
		vqm_add(m, (struct vqm_seg[]){ { gpa, 12 + len, false } }, 1);
	else if (layout == 1)
		vqm_add(m, (struct vqm_seg[]){ { gpa, 12, false }, { gpa + 12, len, false } }, 2);
	else
		vqm_publish(m, vqm_chain_indirect(m, (struct vqm_seg[]){ { gpa, 5, false }, { gpa + 5, 7 + len, false } },
						  2));
}

static struct fuzz_net_frame net_frame(struct virtio_net_hdr_v1 h, uint16_t len)
{
	struct fuzz_net_frame f = { .len = len };

	memcpy(f.hdr, &h, 12);
	return f;
}

static int net_seed(struct vq_mock *m, struct rx_ring *r, uint8_t features, uint16_t offloads,
		    const struct fuzz_net_frame *frames, int nframes)
{
	struct fuzz_net_hdr h = {
		.tx = ring_hdr(m, 3, features, 0),
		.rx_desc_off = (uint16_t)(r->desc_gpa - FUZZ_RAM_GPA),
		.rx_avail_off = (uint16_t)(r->avail_gpa - FUZZ_RAM_GPA),
		.rx_used_off = (uint16_t)(r->used_gpa - FUZZ_RAM_GPA),
		.rx_size_log2 = 3, .nframes = (uint8_t)nframes, .offloads = offloads,
	};
	int ret;

	memcpy(h.frames, frames, (size_t)nframes * sizeof(*frames));
	ret = seed_emit(&h, sizeof(h), m->ram, (size_t)(m->heap_gpa - FUZZ_RAM_GPA));
	vqm_free(m);
	return ret;
}

#define NET_HDR(fl, gso, hl, gs, cs, co) \
	((struct virtio_net_hdr_v1){ .flags = (fl), .gso_type = (gso), .hdr_len = (hl), .gso_size = (gs), \
				     .csum_start = (cs), .csum_offset = (co) })

static int gen_virtio_net(void)
{
	const uint8_t nc = VIRTIO_NET_HDR_F_NEEDS_CSUM, dv = VIRTIO_NET_HDR_F_DATA_VALID;
	struct virtio_net_hdr_v1 zero = { 0 };
	struct vq_mock m;
	struct rx_ring r;
	int ret = 0;

	/* no offloads: plain frames out, frames in (one the driver may not see) */
	if (seed_begin(&m, 3))
		return -ENOMEM;
	net_tx(&m, zero, 60, 0);
	net_tx(&m, zero, 1514, 1);
	net_tx(&m, NET_HDR(dv, 0, 0, 0, 0, 0), 100, 2);
	rx_ring_init(&m, &r, 8);
	rx_ring_add(&m, &r, 1600, 0);
	rx_ring_add(&m, &r, 1600, 5);
	rx_ring_add(&m, &r, 200, 0);
	ret |= net_seed(&m, &r, FUZZ_F_INDIRECT, 0, (struct fuzz_net_frame[]){ net_frame(zero, 60),
			net_frame(NET_HDR(dv, 0, 0, 0, 0, 0), 1500),
			net_frame(NET_HDR(nc, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16), 1500) }, 3);

	/* checksum and TSO4 offloads both ways (bits: CSUM, GUEST_CSUM, HOST_TSO4, HOST_ECN, GUEST_TSO4) */
	if (seed_begin(&m, 3))
		return -ENOMEM;
	net_tx(&m, NET_HDR(nc, 0, 0, 0, 34, 16), 60, 1);
	net_tx(&m, NET_HDR(nc, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 54, 1448, 34, 16), 4000, 0);
	net_tx(&m, NET_HDR(nc, VIRTIO_NET_HDR_GSO_TCPV6, 74, 1428, 54, 16), 3000, 2);
	rx_ring_init(&m, &r, 8);
	rx_ring_add(&m, &r, 1600, 0);
	rx_ring_add(&m, &r, 1600, 3);
	ret |= net_seed(&m, &r, FUZZ_F_EVENT_IDX | FUZZ_F_INDIRECT, 0x1 | 0x2 | 0x4 | 0x20 | 0x40,
			(struct fuzz_net_frame[]){ net_frame(NET_HDR(nc, 0, 0, 0, 34, 16), 60),
			net_frame(NET_HDR(nc | dv, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16), 1600),
			net_frame(NET_HDR(nc, 0, 0, 0, 50, 9), 60), net_frame(zero, 14) }, 4);
	return ret;
}

int main(int argc, char **argv)
{
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: %s virtq|virtio_blk|virtio_net|pci|loaders|kdecomp DIR\n", argv[0]);
		return 2;
	}
	log_threshold = LOG_ERR;
	out_dir = argv[2];
	if (!strcmp(argv[1], "virtq"))
		ret = gen_virtq();
	else if (!strcmp(argv[1], "virtio_blk"))
		ret = gen_virtio_blk();
	else if (!strcmp(argv[1], "virtio_net"))
		ret = gen_virtio_net();
	else if (!strcmp(argv[1], "pci"))
		ret = gen_pci();
	else if (!strcmp(argv[1], "loaders"))
		ret = gen_loaders();
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
