/* virtio-vsock packet paths (virtio 1.2 §5.10.6): guest packets from the tx queue are checked and
 * applied to the connection table; packets for the guest (control replies, then stream data read
 * straight from the host sockets into the rx buffers) go out through the rx queue. Credit
 * (§5.10.6.3): we never send more than the guest's buf_alloc - (tx_cnt - fwd_cnt); a guest that
 * sends more than ours gets its connection reset. Every header field is untrusted: a header that does
 * not add up (length, CIDs, type, op) is answered with RST; a malformed chain puts the device in
 * NEEDS_RESET. Lock held, I/O thread. */
#include "virtio/vsock_int.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"

enum { RXQ, TXQ, EVQ };

static void hdr_for(struct vsock *v, struct virtio_vsock_hdr *h, uint32_t src_port, uint32_t dst_port,
		    uint16_t op)
{
	memset(h, 0, sizeof(*h));
	h->src_cid = htole64(VSOCK_HOST_CID);
	h->dst_cid = htole64(v->cid);
	h->src_port = htole32(src_port);
	h->dst_port = htole32(dst_port);
	h->type = htole16(VIRTIO_VSOCK_TYPE_STREAM);
	h->op = htole16(op);
}

static void conn_hdr(struct vsock *v, struct vconn *c, struct virtio_vsock_hdr *h, uint16_t op)
{
	hdr_for(v, h, c->local_port, c->peer_port, op);
	h->buf_alloc = htole32(VSOCK_BUF);
	h->fwd_cnt = htole32(c->fwd_cnt);
	c->fwd_sent = c->fwd_cnt;
}

/* Queue an RST answering guest packet g that matches no connection (dropped when the queue is full:
 * the guest's connect then times out, nothing worse). Never answers an RST. */
static void queue_rst(struct vsock *v, const struct virtio_vsock_hdr *g)
{
	struct virtio_vsock_hdr *h;

	if (le16toh(g->op) == VIRTIO_VSOCK_OP_RST || v->nctrl == VSOCK_CTRL_MAX)
		return;
	h = &v->ctrl[(v->ctrl_head + v->nctrl++) % VSOCK_CTRL_MAX];
	hdr_for(v, h, le32toh(g->dst_port), le32toh(g->src_port), VIRTIO_VSOCK_OP_RST);
}

/* The connection is over: the guest is told (RST) before its slot is freed by the rx path. */
void vsock_conn_reset(struct vconn *c)
{
	c->pending = P_RST;
	c->state = VC_CLOSING;
}

static void vsock_broken(struct vsock *v, const char *what)
{
	log_guest("vsock", "%s: malformed %s chain", v->vdev.name, what);
	v->active = false;
	virtio_needs_reset(&v->vdev);
}

/* ---- guest -> host ---- */

static void rx_payload(struct vsock *v, struct vconn *c, struct vq_chain *ch, uint32_t len)
{
	if (c->state != VC_ESTABLISHED || c->guest_shut_send) {
		vsock_conn_reset(c);
		return;
	}
	if (c->buf_len + len > VSOCK_BUF) {	/* more than the credit we gave */
		log_guest("vsock", "%s: port %u sent past its credit: reset", v->vdev.name, c->peer_port);
		vsock_conn_reset(c);
		return;
	}
	if (c->buf_off + c->buf_len + len > VSOCK_BUF) {
		memmove(c->buf, c->buf + c->buf_off, c->buf_len);
		c->buf_off = 0;
	}
	vq_iov_copy(vq_chain_rd(ch), ch->nr_rd, c->buf + c->buf_off + c->buf_len, len, VSOCK_HDR_LEN, false);
	c->buf_len += len;
	v->stats.tx_bytes += len;
	if (vsock_flush(v, c))
		vsock_conn_reset(c);
}

static void guest_packet(struct vsock *v, struct vq_chain *ch)
{
	struct virtio_vsock_hdr h;
	struct vconn *c;
	uint32_t len, flags;
	uint16_t op;

	if (ch->rd_len < VSOCK_HDR_LEN) {
		v->stats.bad_pkts++;	/* not even an address to answer */
		return;
	}
	vq_iov_copy(vq_chain_rd(ch), ch->nr_rd, &h, VSOCK_HDR_LEN, 0, false);
	len = le32toh(h.len);
	op = le16toh(h.op);
	if (len != ch->rd_len - VSOCK_HDR_LEN || len > VSOCK_PKT_MAX || le64toh(h.src_cid) != v->cid ||
	    le64toh(h.dst_cid) != VSOCK_HOST_CID || le16toh(h.type) != VIRTIO_VSOCK_TYPE_STREAM ||
	    (len && op != VIRTIO_VSOCK_OP_RW) || op == VIRTIO_VSOCK_OP_INVALID || op > VIRTIO_VSOCK_OP_CREDIT_REQUEST) {
		log_guest("vsock", "%s: bad packet (op %u len %u chain %u cid %llu->%llu type %u): RST",
			  v->vdev.name, op, len, ch->rd_len, (unsigned long long)le64toh(h.src_cid),
			  (unsigned long long)le64toh(h.dst_cid), le16toh(h.type));
		v->stats.bad_pkts++;
		c = vsock_conn_find(v, le32toh(h.dst_port), le32toh(h.src_port));
		if (c)
			vsock_conn_reset(c);
		else
			queue_rst(v, &h);
		return;
	}
	v->stats.tx_pkts++;
	c = vsock_conn_find(v, le32toh(h.dst_port), le32toh(h.src_port));
	if (!c) {
		if (op == VIRTIO_VSOCK_OP_REQUEST &&
		    (c = vsock_connect_host(v, le32toh(h.dst_port), le32toh(h.src_port)))) {
			c->peer_buf_alloc = le32toh(h.buf_alloc);
			c->peer_fwd_cnt = le32toh(h.fwd_cnt);
			return;
		}
		queue_rst(v, &h);
		return;
	}
	c->peer_buf_alloc = le32toh(h.buf_alloc);
	c->peer_fwd_cnt = le32toh(h.fwd_cnt);
	flags = le32toh(h.flags);
	switch (op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (c->state != VC_CONNECTING || (c->pending & P_REQUEST)) {
			vsock_conn_reset(c);
			break;
		}
		{
			char ok[24];
			int n = snprintf(ok, sizeof(ok), "OK %u\n", c->local_port);

			/* a fresh socket's buffer takes a dozen bytes; if not, the client is broken */
			if (send(c->fd, ok, (size_t)n, MSG_NOSIGNAL) != n)
				vsock_conn_reset(c);
			else
				c->state = VC_ESTABLISHED;
		}
		break;
	case VIRTIO_VSOCK_OP_RW:
		rx_payload(v, c, ch, len);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->pending |= P_CREDIT;
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break;		/* the credit fields were taken above; the rx path may now send more */
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		c->guest_shut_rcv |= !!(flags & VIRTIO_VSOCK_SHUTDOWN_RCV);
		c->guest_shut_send |= !!(flags & VIRTIO_VSOCK_SHUTDOWN_SEND);
		/* both ways shut (or we had already let go): end with RST once the data is out */
		if ((c->guest_shut_rcv && c->guest_shut_send) || c->state == VC_CLOSING)
			c->rst_after_flush = true;
		if (vsock_flush(v, c))
			vsock_conn_reset(c);
		break;
	case VIRTIO_VSOCK_OP_RST:
		vsock_conn_free(v, c);
		break;
	default:		/* REQUEST for a connection that exists */
		vsock_conn_reset(c);
		break;
	}
}

bool vsock_tx_process(struct vsock *v)
{
	struct vq_chain *ch = &v->chain[TXQ];
	bool pushed = false;

	while (v->active && !v->paused) {
		int r = vq_pop(&v->vq[TXQ], ch);

		if (r < 0 || (r && ch->nr_wr)) {
			vsock_broken(v, "transmit");
			break;
		}
		if (!r)
			break;
		guest_packet(v, ch);
		vq_push(&v->vq[TXQ], ch->head, 0);
		pushed = true;
	}
	return pushed;
}

/* ---- host -> guest ---- */

/* The next control packet owed to the guest into h; false when none. Frees connections whose RST
 * goes out. */
static bool next_ctrl(struct vsock *v, struct virtio_vsock_hdr *h)
{
	if (v->nctrl) {
		*h = v->ctrl[v->ctrl_head];
		v->ctrl_head = (v->ctrl_head + 1) % VSOCK_CTRL_MAX;
		v->nctrl--;
		v->stats.rsts_sent++;
		return true;
	}
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vconn *c = &v->conns[i];

		if (c->state <= VC_HANDSHAKE || !c->pending)
			continue;
		if (c->pending & P_RST) {
			conn_hdr(v, c, h, VIRTIO_VSOCK_OP_RST);
			v->stats.rsts_sent++;
			vsock_conn_free(v, c);
			return true;
		}
		if (c->pending & P_REQUEST) {
			c->pending &= ~(unsigned)P_REQUEST;
			conn_hdr(v, c, h, VIRTIO_VSOCK_OP_REQUEST);
		} else if (c->pending & P_RESPONSE) {
			c->pending &= ~(unsigned)P_RESPONSE;
			conn_hdr(v, c, h, VIRTIO_VSOCK_OP_RESPONSE);
		} else if (c->pending & P_SHUTDOWN) {
			c->pending &= ~(unsigned)(P_SHUTDOWN | P_CREDIT);
			conn_hdr(v, c, h, VIRTIO_VSOCK_OP_SHUTDOWN);
			h->flags = htole32(VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND);
		} else {
			c->pending &= ~(unsigned)P_CREDIT;
			conn_hdr(v, c, h, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
		}
		return true;
	}
	return false;
}

/* Read stream data from some connection into the chain behind the header space: the payload
 * length, 0 when no connection has data and credit. */
static uint32_t next_data(struct vsock *v, struct vq_chain *ch, struct virtio_vsock_hdr *h)
{
	uint32_t room = ch->wr_len - (uint32_t)VSOCK_HDR_LEN;

	for (unsigned k = 0; k < VSOCK_MAX_CONNS; k++) {
		struct vconn *c = &v->conns[(v->rr + k) % VSOCK_MAX_CONNS];
		uint32_t credit = c->peer_buf_alloc - (c->tx_cnt - c->peer_fwd_cnt), want;
		struct iovec *iov = v->iov;
		unsigned nr = 0;
		size_t skip = VSOCK_HDR_LEN, left;
		ssize_t n;

		if (c->state != VC_ESTABLISHED || c->guest_shut_rcv || c->drained || !room)
			continue;
		/* a guest fwd_cnt ahead of what we sent makes credit wrap: trust no more than buf_alloc */
		if (credit > c->peer_buf_alloc)
			credit = c->peer_buf_alloc;
		if (!credit)
			continue;
		want = credit < room ? credit : room;
		left = want;
		for (unsigned i = 0; i < ch->nr_wr && left; i++) {
			struct iovec *s = &vq_chain_wr(ch)[i];

			if (skip >= s->iov_len) {
				skip -= s->iov_len;
				continue;
			}
			iov[nr].iov_base = (uint8_t *)s->iov_base + skip;
			iov[nr].iov_len = s->iov_len - skip < left ? s->iov_len - skip : left;
			left -= iov[nr++].iov_len;
			skip = 0;
		}
		do
			n = readv(c->fd, iov, (int)nr);
		while (n < 0 && errno == EINTR);
		if (n > 0) {
			conn_hdr(v, c, h, VIRTIO_VSOCK_OP_RW);
			h->len = htole32((uint32_t)n);
			c->tx_cnt += (uint32_t)n;
			v->stats.rx_bytes += (uint64_t)n;
			v->rr = (v->rr + k + 1) % VSOCK_MAX_CONNS;	/* fairness between connections */
			return (uint32_t)n;
		}
		c->drained = true;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		/* the host side closed (or failed): the guest reads what it has, then sees EOF */
		c->state = VC_CLOSING;
		c->pending |= P_SHUTDOWN;
	}
	return 0;
}

bool vsock_rx_process(struct vsock *v)
{
	struct vq_chain *ch = &v->chain[RXQ];
	bool pushed = false;

	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		v->conns[i].drained = false;
	while (v->active && !v->paused) {
		struct virtio_vsock_hdr h;
		uint32_t len = 0;

		if (!v->rx_have_chain) {
			int r = vq_pop(&v->vq[RXQ], ch);

			if (r < 0 || (r && (ch->nr_rd || ch->wr_len < VSOCK_HDR_LEN))) {
				vsock_broken(v, "receive");
				break;
			}
			if (!r)
				break;
			v->rx_have_chain = true;
		}
		/* a host socket found at EOF by next_data owes the guest a SHUTDOWN now: no later
		 * edge would come for it, so control packets get a second look */
		if (!next_ctrl(v, &h) && !(len = next_data(v, ch, &h)) && !next_ctrl(v, &h))
			break;		/* nothing to send: the chain waits for the next packet */
		vq_iov_copy(vq_chain_wr(ch), ch->nr_wr, &h, VSOCK_HDR_LEN, 0, true);
		vq_push(&v->vq[RXQ], ch->head, (uint32_t)VSOCK_HDR_LEN + len);
		v->rx_have_chain = false;
		v->stats.rx_pkts++;
		pushed = true;
	}
	return pushed;
}
