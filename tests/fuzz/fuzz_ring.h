/* Shared input format of the virtqueue fuzz targets and their seed generator:
 * a small header (queue size, features, ring offsets, starting index) followed by the initial
 * contents of one guest RAM region that holds the rings, descriptor tables and buffers. */
#ifndef CKVM_FUZZ_RING_H
#define CKVM_FUZZ_RING_H

#include <stdint.h>
#include <string.h>
#include <linux/virtio_ring.h>

#define FUZZ_RAM_GPA 0x100000ULL	/* same as the unit-test mock (VQM_RAM_GPA) */
#define FUZZ_RAM_LEN 0x10000u
#define FUZZ_F_INDIRECT 1
#define FUZZ_F_EVENT_IDX 2

struct fuzz_hdr {
	uint8_t size_log2;	/* queue size = 1 << (size_log2 % 7) */
	uint8_t features;	/* FUZZ_F_* */
	uint16_t desc_off, avail_off, used_off;	/* ring offsets inside the RAM region */
	uint16_t start_idx;	/* device's starting avail/used index (exercise wraparound) */
} __attribute__((packed));

static inline uint64_t fuzz_features(uint8_t f)
{
	return (f & FUZZ_F_INDIRECT ? 1ULL << VIRTIO_RING_F_INDIRECT_DESC : 0) |
	       (f & FUZZ_F_EVENT_IDX ? 1ULL << VIRTIO_RING_F_EVENT_IDX : 0);
}

static inline uint16_t fuzz_qsize(uint8_t size_log2)
{
	return (uint16_t)(1u << (size_log2 % 7));
}

/* Split an input into a header of hdr_len bytes and the RAM image (zero-filled past the input).
 * 0, or -1 if too short. Every ring target's input has this shape, with its own header. */
static inline int fuzz_split(const uint8_t *in, size_t len, void *hdr, size_t hdr_len, uint8_t *ram)
{
	if (len < hdr_len)
		return -1;
	memcpy(hdr, in, hdr_len);
	in += hdr_len;
	len -= hdr_len;
	if (len > FUZZ_RAM_LEN)
		len = FUZZ_RAM_LEN;
	memcpy(ram, in, len);
	memset(ram + len, 0, FUZZ_RAM_LEN - len);
	return 0;
}

static inline int fuzz_load(const uint8_t *in, size_t len, struct fuzz_hdr *h, uint8_t *ram)
{
	return fuzz_split(in, len, h, sizeof(*h), ram);
}

#endif
