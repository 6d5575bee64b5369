/* virtio-vsock (virtio 1.2 §5.10) in Firecracker's "hybrid" mode: the guest's AF_VSOCK stream
 * connections end at host Unix sockets. A host client connects to PATH and writes "CONNECT <port>\n";
 * once the guest's listener on <port> accepts, ckvm answers "OK <host port>\n" and the socket carries
 * the stream. A guest connection to the host (CID 2) port P becomes a connection to the Unix socket
 * "PATH_P". Queues: rx 0, tx 1, event 2; stream type only (no features offered). All socket and queue
 * work runs on the I/O thread's event loop (a doorbell from a vCPU is handed over through an eventfd). */
#ifndef CKVM_VIRTIO_VSOCK_H
#define CKVM_VIRTIO_VSOCK_H

#include <stdint.h>

#include "core/device.h"
#include "core/evloop.h"
#include "core/guest_mem.h"
#include "virtio/virtio.h"

#define VSOCK_QUEUE_SIZE	256

struct vsock;

struct vsock_params {
	const struct guest_mem *gm;
	struct evloop *ev;		/* required: every socket and the kick eventfd are watched here */
	const char *name;		/* NULL = "vsock" */
	uint32_t guest_cid;		/* >= 3 */
	const char *path;		/* the host socket; PATH_<port> for guest-initiated connections */
	uint16_t queue_size;		/* power of two; 0 = VSOCK_QUEUE_SIZE */
};

struct vsock_stats {
	uint64_t rx_pkts, tx_pkts, rx_bytes, tx_bytes;	/* rx: to the guest, tx: from the guest */
	uint64_t bad_pkts, rsts_sent;
	unsigned conns;
};

/* Binds PATH (a stale socket file there is replaced; anything else: -EEXIST). 0 or -errno. */
int vsock_create(struct vsock **out, const struct vsock_params *cfg);
/* After the vCPUs and the event loop have stopped: closes every socket, unlinks PATH. */
void vsock_destroy(struct vsock *v);
struct virtio_dev *vsock_virtio(struct vsock *v);
/* Its lifecycle (kind "virtio-vsock"): pause stops all traffic (sockets keep their data), resume
 * serves everything once; save/restore carry the guest CID (restore refuses another CID); live
 * connections are not part of the state: a restored VM starts with none. */
struct device *vsock_device(struct vsock *v);
/* Serve everything now (queues, listener, every connection), as the event loop does on any event.
 * For tests and the fuzz target, which run without an event-loop thread. */
void vsock_service(struct vsock *v);
void vsock_get_stats(struct vsock *v, struct vsock_stats *st);

#endif
