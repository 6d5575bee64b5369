/* virtio-net internals shared by the data path (virtio_net.c) and the control queue, lifecycle and
 * saved state (virtio_net_life.c). */
#ifndef CKVM_VIRTIO_NET_INT_H
#define CKVM_VIRTIO_NET_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_net.h>

#include "virtio/virtio_net.h"

#define RXQ 0
#define TXQ 1
#define CTRLQ 2		/* VIRTIO_NET_F_CTRL_VQ: the queue after the only rx/tx pair (§5.1.2) */
#define VNET_NQ 3
#define HDR_LEN sizeof(struct virtio_net_hdr_v1)
#define CSUM_FIELD_LEN 2	/* the 16-bit ones' complement checksum csum_offset points at */
#define CFG_LEN (offsetof(struct virtio_net_config, status) + sizeof(uint16_t))

struct vnet {
	struct device dev;		/* the board's registry entry (device.h) */
	struct virtio_dev vdev;
	struct virtq vq[VNET_NQ];
	struct vq_chain chain[VNET_NQ];
	struct iovec *rx_iov, *tx_iov;	/* host header + the chain's segments past it (+ rx scratch) */
	struct virtio_net_hdr_v1 rx_hdr, tx_hdr;	/* host copies, the only headers ever parsed */
	int tap_fd;
	struct evloop *ev;
	uint8_t mac[6];
	uint16_t link_status;		/* atomic: VIRTIO_NET_S_LINK_UP or 0 */
	bool tap_gone;			/* atomic */
	bool announce;			/* atomic: VIRTIO_NET_S_ANNOUNCE shown until the driver acks */
	bool cfg_pending;		/* config changed while paused: interrupt at resume (tx_lock) */
	bool restored;			/* restore ran: announce at resume (tx_lock) */
	pthread_mutex_t rx_lock, tx_lock;	/* tx_lock also serialises the control queue */
	bool rx_active, tx_active, ctrl_active;	/* between activate and reset, under the queue's lock */
	bool rx_paused, tx_paused;	/* device pause, under the queue's lock (tx_paused: ctrl too) */
	bool rx_have_chain;		/* chain[RXQ] popped but not yet filled */
	uint8_t *scratch;		/* catches the tail of a frame bigger than the guest's buffer */
	struct vnet_stats stats;	/* rx_* under rx_lock, tx_* under tx_lock */
};

static inline struct vnet *to_vnet(struct virtio_dev *d)
{
	return virtio_container_of(d, struct vnet, vdev);
}

/* virtio_net.c */
void vnet_rx(struct vnet *n);
void vnet_tx(struct vnet *n);
void vnet_reset(struct virtio_dev *d);
void vnet_tap_event(void *arg, uint32_t events);
/* virtio_net_life.c */
extern const struct device_ops vnet_dev_ops;
void vnet_ctrl(struct vnet *n);

#endif
