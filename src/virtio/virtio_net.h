/* virtio-net device (virtio 1.x spec §5.1) over a tap-like fd: receiveq 0, transmitq 1, controlq 2
 * (announce ack only), MAC and link status in config space, no offloads offered. The virtio_net_hdr in
 * front of every frame is rebuilt by the device in both directions: the tap and the driver only ever
 * see negotiated offloads. */
#ifndef CKVM_VIRTIO_NET_H
#define CKVM_VIRTIO_NET_H

#include <stdint.h>

#include "core/device.h"
#include "core/evloop.h"
#include "core/guest_mem.h"
#include "virtio/virtio.h"

#define VNET_QUEUE_SIZE	256
#define VNET_TX_MAX	(65536 + 12)	/* largest frame + header accepted from the guest */

struct vnet;

struct vnet_config {
	int tap_fd;			/* non-blocking, frames prefixed by a 12-byte virtio_net_hdr_v1
					 * (tap_open(), or a SOCK_SEQPACKET socket in tests); vnet owns it */
	uint8_t mac[6];
	const struct guest_mem *gm;
	struct evloop *ev;		/* the tap fd is watched here (edge-triggered) */
	const char *name;		/* log name; NULL = "vnet" */
	uint16_t queue_size;		/* power of two; 0 = VNET_QUEUE_SIZE */
};

/* Dropped: too large or small, a header the other side may not see (logged, rate-limited, for
 * transmit), the tap full or gone. */
struct vnet_stats {
	uint64_t rx_frames, tx_frames, rx_dropped, tx_dropped;
};

/* 0 or -errno. On success the vnet owns cfg->tap_fd. */
int vnet_create(struct vnet **out, const struct vnet_config *cfg);
/* After the vCPUs and the event loop have stopped: unwatch and close the tap, free. */
void vnet_destroy(struct vnet *n);
struct virtio_dev *vnet_virtio(struct vnet *n);
void vnet_get_stats(struct vnet *n, struct vnet_stats *st);
/* Its lifecycle (kind "virtio-net"): pause stops moving frames both ways (tap frames stay queued
 * in the host kernel; an empty receive buffer held is handed back to the ring), resume serves every
 * queue once, stop is a device reset, destroy is vnet_destroy. Save/restore carry the MAC (a record
 * for another MAC is refused), the link status and the counters; the queues are the transport's.
 * The first resume after a restore asks the guest to announce itself (VIRTIO_NET_S_ANNOUNCE and a
 * config interrupt, when it negotiated VIRTIO_NET_F_GUEST_ANNOUNCE; it acks on the control queue). */
struct device *vnet_device(struct vnet *n);
/* A restore's network override: from now on frames go to and come from tap_fd (same contract as
 * vnet_config.tap_fd; the vnet owns it on success and closes the old one). The link is up again
 * (told at resume when it was down). Only while the device is paused or not started, on the thread
 * driving the lifecycle. 0 or -errno (the old tap stays, tap_fd is the caller's). */
int vnet_set_tap(struct vnet *n, int tap_fd);
/* Ask the guest to announce itself (gratuitous ARP): VIRTIO_NET_S_ANNOUNCE until it acks, and a
 * config interrupt. Nothing when the driver did not negotiate VIRTIO_NET_F_GUEST_ANNOUNCE. Any thread. */
void vnet_announce(struct vnet *n);
/* The vnet behind a registry entry, or NULL when d is not a virtio-net. */
struct vnet *vnet_of_device(struct device *d);

#endif
