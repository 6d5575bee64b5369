/* Internals shared by virtio_vsock.c (queues, packets) and vsock_host.c (the host's Unix sockets).
 * Everything here is used with vsock.lock held, on the I/O thread (or a test's thread). */
#ifndef CKVM_VSOCK_INT_H
#define CKVM_VSOCK_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <linux/virtio_vsock.h>

#include "virtio/virtio_vsock.h"

#define VSOCK_HOST_CID		2
#define VSOCK_HDR_LEN		sizeof(struct virtio_vsock_hdr)	/* 44 */
#define VSOCK_BUF		(256 * 1024)	/* per connection, guest->host; our advertised buf_alloc */
#define VSOCK_PKT_MAX		(64 * 1024)	/* largest payload accepted in one guest packet */
#define VSOCK_MAX_CONNS		64
#define VSOCK_CTRL_MAX		32		/* RSTs queued for packets that match no connection */
#define VSOCK_LINE_MAX		32		/* "CONNECT 4294967295\n" fits */
#define VSOCK_EPHEMERAL		(1u << 30)	/* host-side ports of host-initiated connections */

enum vconn_state {
	VC_FREE,
	VC_HANDSHAKE,		/* host client accepted, reading its "CONNECT <port>\n" */
	VC_CONNECTING,		/* REQUEST to the guest pending or sent, awaiting RESPONSE */
	VC_ESTABLISHED,
	VC_CLOSING,		/* told the guest SHUTDOWN (host side gone), awaiting its RST */
};

/* Control packets a connection owes the guest (sent in this order by the rx path). */
enum { P_REQUEST = 1, P_RESPONSE = 2, P_CREDIT = 4, P_SHUTDOWN = 8, P_RST = 16 };

struct vconn {
	enum vconn_state state;
	int fd;
	uint32_t local_port;		/* host side */
	uint32_t peer_port;		/* guest side */
	uint32_t peer_buf_alloc, peer_fwd_cnt;	/* the guest's receive credit, from its last header */
	uint32_t tx_cnt;		/* payload bytes sent to the guest */
	uint32_t fwd_cnt, fwd_sent;	/* bytes passed on to the host socket; the count last told */
	uint8_t *buf;			/* guest->host bytes the host socket has not taken yet */
	uint32_t buf_off, buf_len;
	char line[VSOCK_LINE_MAX];
	unsigned line_len;
	unsigned pending;		/* P_* */
	bool guest_shut_send, guest_shut_rcv, rst_after_flush, drained;
};

struct vsock {
	struct device dev;
	struct virtio_dev vdev;
	struct virtq vq[3];
	struct vq_chain chain[2];	/* rx, tx */
	bool rx_have_chain;
	struct iovec *iov;		/* scratch for payload segments */
	struct evloop *ev;
	int kick_fd, listen_fd;
	char path[108];
	uint64_t cid;
	pthread_mutex_t lock;
	bool active, paused, purge;
	struct vconn conns[VSOCK_MAX_CONNS];
	struct virtio_vsock_hdr ctrl[VSOCK_CTRL_MAX];
	unsigned ctrl_head, nctrl;
	uint32_t next_port;
	unsigned rr;			/* round-robin start of the rx scan */
	struct vsock_stats stats;
};

/* vsock_host.c */
int vsock_listen(struct vsock *v, const char *path);
void vsock_accept(struct vsock *v);
/* A host client's handshake bytes: 0 still reading, 1 done (REQUEST pending), -1 close it. */
int vsock_handshake(struct vsock *v, struct vconn *c);
/* Connect to PATH_port for a guest REQUEST: the new connection, or NULL (the caller RSTs). */
struct vconn *vsock_connect_host(struct vsock *v, uint32_t port, uint32_t guest_port);
/* Write buffered guest bytes to the host socket: 0, or -1 when the host side is gone. */
int vsock_flush(struct vsock *v, struct vconn *c);
struct vconn *vsock_conn_find(struct vsock *v, uint32_t local_port, uint32_t peer_port);
struct vconn *vsock_conn_alloc(struct vsock *v, int fd);
void vsock_conn_free(struct vsock *v, struct vconn *c);
void vsock_service_locked(struct vsock *v);
/* vsock_pkt.c: true when a used entry was pushed (the caller decides on the interrupt). */
bool vsock_tx_process(struct vsock *v);
bool vsock_rx_process(struct vsock *v);
/* End a connection: RST to the guest, then its slot is freed by the rx path. */
void vsock_conn_reset(struct vconn *c);

#endif
