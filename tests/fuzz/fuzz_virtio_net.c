/* libFuzzer target for virtio-net (src/virtio/virtio_net.c) over the virtqueue, virtio 1.2 §5.1.6:
 * the input is the guest's ring memory for both queues, the negotiated offloads, and up to four frames
 * the tap holds for the receive queue. A SOCK_SEQPACKET socketpair stands in for the tap; every frame
 * the device hands the tap must carry a header the negotiated features allow. Single-threaded. */
#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/virtio_net.h>

#include "fuzz_net.h"
#include "log.h"
#include "virtio/virtio_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_QMAX 64
#define HDR_LEN sizeof(struct virtio_net_hdr_v1)

static uint8_t ram[FUZZ_RAM_LEN] __attribute__((aligned(4096)));
static uint8_t frame[HDR_LEN + FUZZ_NET_FRAME_MAX];
static uint8_t sent[VNET_TX_MAX + 64];
static struct guest_mem gm;
static struct vnet *vnet;
static int dev_fd, peer_fd;	/* the device's end of the "tap" and the host network's */
static unsigned resets;

static void fuzz_needs_reset(struct virtio_dev *d)
{
	(void)d;
	resets++;
}

static void fuzz_setup(void)
{
	struct vnet_config cfg = { .mac = { 0x52, 0x54, 0, 0xf, 0x22, 0x33 }, .queue_size = FUZZ_QMAX };
	int sv[2];

	log_threshold = LOG_ERR;
	if (gm_add_region(&gm, FUZZ_RAM_GPA, FUZZ_RAM_LEN, ram) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv))
		abort();
	/* room for a few maximal frames in each direction */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &(int){ 1 << 20 }, sizeof(int));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &(int){ 1 << 20 }, sizeof(int));
	dev_fd = sv[0];
	peer_fd = sv[1];
	cfg.tap_fd = dev_fd;
	cfg.gm = &gm;
	if (vnet_create(&vnet, &cfg))
		abort();
	vnet_virtio(vnet)->needs_reset = fuzz_needs_reset;
}

static bool has(uint64_t features, unsigned bit)
{
	return (features >> bit) & 1;
}

/* The header the device put in front of a frame of frame_len bytes must be one the negotiated
 * features allow, pointing inside the frame (the device's checks, restated independently). */
static void check_tx_hdr(const struct virtio_net_hdr_v1 *h, uint32_t frame_len, uint64_t features)
{
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	assert(frame_len >= 14);
	assert(h->num_buffers == 0);
	assert(!(h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM));
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		assert(has(features, VIRTIO_NET_F_CSUM));
		assert((uint32_t)le16toh(h->csum_start) + le16toh(h->csum_offset) + 2 <= frame_len);
	} else {
		assert(h->csum_start == 0 && h->csum_offset == 0);
	}
	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		assert(h->hdr_len == 0 && h->gso_size == 0);
		return;
	}
	assert(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert((gso == VIRTIO_NET_HDR_GSO_TCPV4 && has(features, VIRTIO_NET_F_HOST_TSO4)) ||
	       (gso == VIRTIO_NET_HDR_GSO_TCPV6 && has(features, VIRTIO_NET_F_HOST_TSO6)) ||
	       (gso == VIRTIO_NET_HDR_GSO_UDP && has(features, VIRTIO_NET_F_HOST_UFO)));
	assert(!(h->gso_type & VIRTIO_NET_HDR_GSO_ECN) || (has(features, VIRTIO_NET_F_HOST_ECN) &&
							   gso != VIRTIO_NET_HDR_GSO_UDP));
	assert(h->gso_size && le16toh(h->gso_size) < frame_len);
	assert(le16toh(h->hdr_len) <= frame_len);
}

/* Empty one end of the socketpair; with check, each message is a frame the device sent the tap. */
static void drain(int fd, uint64_t features, bool check)
{
	ssize_t n;

	while ((n = recv(fd, sent, sizeof(sent), MSG_TRUNC)) >= 0) {
		if (!check)
			continue;
		assert((size_t)n >= HDR_LEN && (size_t)n <= VNET_TX_MAX);
		check_tx_hdr((const struct virtio_net_hdr_v1 *)sent, (uint32_t)(n - HDR_LEN), features);
	}
	assert(errno == EAGAIN || errno == EWOULDBLOCK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct fuzz_net_hdr h;
	struct virtio_dev *d;
	struct vnet_stats before, after;
	unsigned resets_before;
	int nframes;

	if (!ready) {
		fuzz_setup();
		ready = 1;
	}
	if (fuzz_net_load(data, size, &h, ram))
		return 0;
	d = vnet_virtio(vnet);
	d->ops->reset(d);
	vq_reset(&d->vq[0]);
	vq_reset(&d->vq[1]);
	drain(peer_fd, 0, false);
	drain(dev_fd, 0, false);
	d->features = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_NET_F_MAC | fuzz_features(h.tx.features) |
		      fuzz_net_offloads(h.offloads);
	/* a queue that fails validation stays disabled, as the transport would leave it */
	if (!vq_enable(&d->vq[0], &gm, fuzz_qsize(h.rx_size_log2), FUZZ_RAM_GPA + h.rx_desc_off,
		       FUZZ_RAM_GPA + h.rx_avail_off, FUZZ_RAM_GPA + h.rx_used_off, d->features))
		d->vq[0].last_avail = d->vq[0].avail_idx = d->vq[0].used_idx = h.rx_start_idx;
	if (!vq_enable(&d->vq[1], &gm, fuzz_qsize(h.tx.size_log2), FUZZ_RAM_GPA + h.tx.desc_off,
		       FUZZ_RAM_GPA + h.tx.avail_off, FUZZ_RAM_GPA + h.tx.used_off, d->features))
		d->vq[1].last_avail = d->vq[1].avail_idx = d->vq[1].used_idx = h.tx.start_idx;
	nframes = h.nframes % (FUZZ_NET_FRAMES + 1);
	for (int i = 0; i < nframes; i++) {
		uint32_t len = le16toh(h.frames[i].len) % (FUZZ_NET_FRAME_MAX + 1);

		memcpy(frame, h.frames[i].hdr, HDR_LEN);
		for (uint32_t k = 0; k < len; k++)
			frame[HDR_LEN + k] = (uint8_t)(i + k);
		if (send(peer_fd, frame, HDR_LEN + len, 0) != (ssize_t)(HDR_LEN + len))
			abort();
	}
	vnet_get_stats(vnet, &before);
	resets_before = resets;
	if (d->ops->activate(d))
		abort();
	d->ops->notify(d, 1);
	d->ops->notify(d, 0);
	d->ops->notify(d, 2);	/* no such queue: ignored */
	vnet_get_stats(vnet, &after);
	assert(after.rx_frames + after.rx_dropped - before.rx_frames - before.rx_dropped <= (uint64_t)nframes);
	assert(resets - resets_before <= 2);	/* at most once per queue */
	drain(peer_fd, d->features, true);
	return 0;
}
