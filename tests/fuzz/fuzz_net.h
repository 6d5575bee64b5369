/* Input format of the virtio-net fuzz target and its seeds: the transmit queue as in fuzz_ring.h, the
 * receive queue's rings, the offloads negotiated, up to FUZZ_NET_FRAMES frames (virtio_net_hdr + length)
 * the tap holds for the guest, then the guest RAM image holding both queues' rings and buffers. */
#ifndef CKVM_FUZZ_NET_H
#define CKVM_FUZZ_NET_H

#include <linux/virtio_net.h>

#include "fuzz_ring.h"

#define FUZZ_NET_FRAMES 4
#define FUZZ_NET_FRAME_MAX 1600	/* bytes behind the header of a frame the tap holds */

struct fuzz_net_frame {
	uint8_t hdr[12];		/* struct virtio_net_hdr_v1 as the tap hands it over */
	uint16_t len;			/* frame bytes behind it, % (FUZZ_NET_FRAME_MAX + 1) */
} __attribute__((packed));

struct fuzz_net_hdr {
	struct fuzz_hdr tx;		/* transmit queue (1); its ring features apply to both queues */
	uint16_t rx_desc_off, rx_avail_off, rx_used_off, rx_start_idx;
	uint8_t rx_size_log2;
	uint8_t nframes;		/* % (FUZZ_NET_FRAMES + 1) */
	uint16_t offloads;		/* bit i: fuzz_net_offload_bits[i] negotiated */
	struct fuzz_net_frame frames[FUZZ_NET_FRAMES];
} __attribute__((packed));

static const unsigned fuzz_net_offload_bits[] = {
	VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6,
	VIRTIO_NET_F_HOST_UFO, VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6,
	VIRTIO_NET_F_GUEST_UFO, VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_STATUS,
};

static inline uint64_t fuzz_net_offloads(uint16_t mask)
{
	uint64_t f = 0;

	for (unsigned i = 0; i < sizeof(fuzz_net_offload_bits) / sizeof(fuzz_net_offload_bits[0]); i++)
		if (mask & (1u << i))
			f |= 1ULL << fuzz_net_offload_bits[i];
	return f;
}

/* The ring targets' split (fuzz_ring.h) with the NIC's header. */
static inline int fuzz_net_load(const uint8_t *in, size_t len, struct fuzz_net_hdr *h, uint8_t *ram)
{
	return fuzz_split(in, len, h, sizeof(*h), ram);
}

#endif
