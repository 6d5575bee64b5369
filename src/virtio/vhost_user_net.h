/* virtio-net served by a vhost-user back-end (DPDK's net_vhost, e.g. dpdk-testpmd): ckvm keeps the PCI
 * function, feature negotiation and config space (MAC, link status); the rx and tx queues go to the
 * back-end. */
#ifndef CKVM_VHOST_USER_NET_H
#define CKVM_VHOST_USER_NET_H

#include <stdint.h>

#include "core/evloop.h"
#include "core/guest_mem.h"
#include "virtio/vhost_user_dev.h"

#define VUNET_NQ 2	/* receiveq1, transmitq1: no MQ, no control queue */

struct vunet_config {
	const struct guest_mem *gm;	/* shared RAM (memfd regions), else activation fails */
	const char *socket;		/* the back-end's listening socket */
	const char *name;		/* log and device name, e.g. "vnet0" */
	struct evloop *ev;		/* watches the connection for the back-end's death */
	uint8_t mac[6];			/* the guest's address (the caller picks one when none is given) */
};

/* Connect, negotiate, set config space. 0 or -errno with one log line. Then vudev_virtio() and
 * vudev_device() give the device to the board. */
int vunet_create(struct vudev **out, const struct vunet_config *cfg);

#endif
