/* virtio-net over a SOCK_SEQPACKET socketpair standing in for the tap: transmit, receive, oversized
 * frames, malformed chains, virtio_net_hdr checks in both directions (virtio 1.2 §5.1.6), tap loss,
 * the event-loop receive path, and MAC parsing. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_net.h>

#include "backend/tap.h"
#include "virtio/virtio_net.h"
#include "test.h"

#define RAM_GPA 0x100000ULL
#define RAM_LEN 0x100000ULL
#define QSIZE 16
#define HEAP_GPA (RAM_GPA + 0x40000)

struct env {
	struct guest_mem gm;
	uint8_t *ram;
	struct evloop *ev;
	struct vnet *n;
	struct virtio_dev *d;
	int peer;			/* the "host network" end */
	uint64_t heap_gpa;
	uint16_t next_desc[2], avail_idx[2], used_seen[2];
	int used_signals[2], config_signals, resets_needed;
	bool stop_on_rx;
};

static struct env *cur;

static void *host(struct env *e, uint64_t gpa)
{
	return e->ram + (gpa - RAM_GPA);
}

static uint64_t ring_gpa(uint16_t q, int part)
{
	return RAM_GPA + q * 0x10000ULL + (uint64_t)part * 0x1000;	/* 0 desc, 1 avail, 2 used */
}

static void t_signal_used(struct virtio_dev *d, uint16_t q)
{
	(void)d;
	cur->used_signals[q]++;
	if (q == 0 && cur->stop_on_rx)
		evloop_stop(cur->ev);
}

static void t_signal_config(struct virtio_dev *d)
{
	(void)d;
	cur->config_signals++;
}

static void t_needs_reset(struct virtio_dev *d)
{
	(void)d;
	cur->resets_needed++;
}

static uint64_t alloc(struct env *e, uint32_t len)
{
	uint64_t gpa = e->heap_gpa;

	e->heap_gpa += (len + 15) & ~15u;
	return gpa;
}

struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

static void add_chain(struct env *e, uint16_t q, const struct seg *s, int nr)
{
	struct vring_desc *desc = host(e, ring_gpa(q, 0));
	struct vring_avail *avail = host(e, ring_gpa(q, 1));
	uint16_t head = e->next_desc[q];

	for (int i = 0; i < nr; i++) {
		uint16_t id = (uint16_t)((head + i) % QSIZE);

		desc[id].addr = s[i].gpa;
		desc[id].len = s[i].len;
		desc[id].flags = (uint16_t)((s[i].write ? VRING_DESC_F_WRITE : 0) |
					    (i + 1 < nr ? VRING_DESC_F_NEXT : 0));
		desc[id].next = (uint16_t)((id + 1) % QSIZE);
	}
	e->next_desc[q] = (uint16_t)((head + nr) % QSIZE);
	avail->ring[e->avail_idx[q] % QSIZE] = head;
	__atomic_store_n(&avail->idx, ++e->avail_idx[q], __ATOMIC_RELEASE);
}

static int get_used(struct env *e, uint16_t q, uint32_t *id, uint32_t *len)
{
	struct vring_used *used = host(e, ring_gpa(q, 2));

	if (__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE) == e->used_seen[q])
		return 0;
	*id = used->ring[e->used_seen[q] % QSIZE].id;
	*len = used->ring[e->used_seen[q] % QSIZE].len;
	e->used_seen[q]++;
	return 1;
}

static void setup_features(struct env *e, uint64_t offloads)
{
	int sv[2];
	struct vnet_config cfg = { .mac = { 0x52, 0x54, 0, 1, 2, 3 }, .name = "vnet-test", .queue_size = QSIZE };

	memset(e, 0, sizeof(*e));
	cur = e;
	e->ram = calloc(1, RAM_LEN);
	e->heap_gpa = HEAP_GPA;
	CHECK_EQ(gm_add_region(&e->gm, RAM_GPA, RAM_LEN, e->ram), 0);
	CHECK_EQ(evloop_create(&e->ev), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	e->peer = sv[1];
	cfg.tap_fd = sv[0];
	cfg.gm = &e->gm;
	cfg.ev = e->ev;
	CHECK_EQ(vnet_create(&e->n, &cfg), 0);
	e->d = vnet_virtio(e->n);
	e->d->signal_used = t_signal_used;
	e->d->signal_config = t_signal_config;
	e->d->needs_reset = t_needs_reset;
	/* what the transport does at FEATURES_OK / queue enable / DRIVER_OK */
	e->d->features = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_STATUS |
			 offloads;
	for (uint16_t q = 0; q < 2; q++)
		CHECK_EQ(vq_enable(&e->d->vq[q], &e->gm, QSIZE, ring_gpa(q, 0), ring_gpa(q, 1), ring_gpa(q, 2),
				   e->d->features), 0);
	CHECK_EQ(e->d->ops->activate(e->d), 0);
}

static void setup(struct env *e)
{
	setup_features(e, 0);
}

static void teardown(struct env *e)
{
	e->d->ops->reset(e->d);
	vnet_destroy(e->n);
	if (e->peer >= 0)
		close(e->peer);
	evloop_destroy(e->ev);
	free(e->ram);
}

static void test_config(void)
{
	struct env e;
	uint64_t f;
	uint8_t cfg[8];

	setup(&e);
	f = e.d->ops->get_features(e.d);
	CHECK(f & (1ULL << VIRTIO_NET_F_MAC));
	CHECK(f & (1ULL << VIRTIO_NET_F_STATUS));
	CHECK(!(f & (1ULL << VIRTIO_NET_F_CSUM)));
	CHECK(!(f & (1ULL << VIRTIO_NET_F_GUEST_TSO4)));
	CHECK_EQ(e.d->num_queues, 3);
	CHECK_EQ(e.d->cfg_len, 8);
	e.d->ops->cfg_read(e.d, 0, cfg, 8);
	CHECK(!memcmp(cfg, "\x52\x54\x00\x01\x02\x03", 6));
	CHECK_EQ(cfg[6] | cfg[7] << 8, VIRTIO_NET_S_LINK_UP);
	e.d->ops->cfg_write(e.d, 0, "\xff", 1);		/* read-only */
	e.d->ops->cfg_read(e.d, 0, cfg, 1);
	CHECK_EQ(cfg[0], 0x52);
	teardown(&e);
}

static void test_tx(void)
{
	struct env e;
	uint8_t buf[256];
	uint64_t hdr, pay, big;
	uint32_t id, len;
	struct vnet_stats st;

	setup(&e);
	hdr = alloc(&e, 12);
	pay = alloc(&e, 60);
	memset(host(&e, hdr), 0, 12);
	for (int i = 0; i < 60; i++)
		((uint8_t *)host(&e, pay))[i] = (uint8_t)i;
	add_chain(&e, 1, (struct seg[]){ { hdr, 12, false }, { pay, 60, false } }, 2);
	e.d->ops->notify(e.d, 1);
	CHECK_EQ(recv(e.peer, buf, sizeof(buf), 0), 72);
	CHECK(!memcmp(buf + 12, host(&e, pay), 60));
	CHECK_EQ(get_used(&e, 1, &id, &len), 1);
	CHECK_EQ(id, 0);
	CHECK_EQ(len, 0);
	CHECK_EQ(e.used_signals[1], 1);
	/* too short (no header) and too long: dropped, buffers still returned */
	add_chain(&e, 1, (struct seg[]){ { hdr, 8, false } }, 1);
	big = alloc(&e, VNET_TX_MAX + 1);
	add_chain(&e, 1, (struct seg[]){ { big, VNET_TX_MAX + 1, false } }, 1);
	e.d->ops->notify(e.d, 1);
	CHECK_EQ(get_used(&e, 1, &id, &len), 1);
	CHECK_EQ(get_used(&e, 1, &id, &len), 1);
	CHECK_EQ(recv(e.peer, buf, sizeof(buf), 0), -1);
	vnet_get_stats(e.n, &st);
	CHECK_EQ(st.tx_frames, 1);
	CHECK_EQ(st.tx_dropped, 2);
	/* a writable descriptor in a transmit chain is malformed */
	add_chain(&e, 1, (struct seg[]){ { hdr, 12, false }, { pay, 60, true } }, 2);
	e.d->ops->notify(e.d, 1);
	CHECK_EQ(e.resets_needed, 1);
	CHECK_EQ(recv(e.peer, buf, sizeof(buf), 0), -1);
	/* reset then kicks: nothing is touched */
	e.d->ops->reset(e.d);
	add_chain(&e, 1, (struct seg[]){ { hdr, 12, false } }, 1);
	e.d->ops->notify(e.d, 1);
	CHECK_EQ(recv(e.peer, buf, sizeof(buf), 0), -1);
	teardown(&e);
}

static void send_frame(struct env *e, uint32_t len, uint8_t fill)
{
	uint8_t buf[2048];

	memset(buf, 0, 12);
	memset(buf + 12, fill, len - 12);
	CHECK_EQ(send(e->peer, buf, len, 0), (ssize_t)len);
}

static void test_rx(void)
{
	struct env e;
	uint64_t b1, b2, small;
	uint8_t *p;
	uint32_t id, len;
	struct vnet_stats st;

	setup(&e);
	/* a frame with no buffer waits in the tap */
	send_frame(&e, 76, 0xab);
	e.d->ops->notify(e.d, 0);
	CHECK_EQ(get_used(&e, 0, &id, &len), 0);
	/* the header spans two descriptors; num_buffers must come out as 1 */
	b1 = alloc(&e, 10);
	b2 = alloc(&e, 1600);
	memset(host(&e, b1), 0xee, 10);
	memset(host(&e, b2), 0xee, 1600);
	add_chain(&e, 0, (struct seg[]){ { b1, 10, true }, { b2, 1600, true } }, 2);
	e.d->ops->notify(e.d, 0);
	CHECK_EQ(get_used(&e, 0, &id, &len), 1);
	CHECK_EQ(len, 76);
	p = host(&e, b2);
	CHECK_EQ(p[0] | p[1] << 8, 1);
	CHECK_EQ(p[2], 0xab);
	CHECK_EQ(p[65], 0xab);
	CHECK_EQ(p[66], 0xee);
	CHECK_EQ(e.used_signals[0], 1);
	/* oversized: dropped, the same buffer takes the next frame, nothing written past it */
	small = alloc(&e, 48);
	memset(host(&e, small + 40), 0x5a, 8);
	add_chain(&e, 0, (struct seg[]){ { small, 40, true } }, 1);
	send_frame(&e, 100, 0x11);
	send_frame(&e, 30, 0x22);
	e.d->ops->notify(e.d, 0);
	CHECK_EQ(get_used(&e, 0, &id, &len), 1);
	CHECK_EQ(len, 30);
	CHECK_EQ(((uint8_t *)host(&e, small))[12], 0x22);
	CHECK_EQ(((uint8_t *)host(&e, small))[40], 0x5a);
	vnet_get_stats(e.n, &st);
	CHECK_EQ(st.rx_frames, 2);
	CHECK_EQ(st.rx_dropped, 1);
	/* runts (shorter than the header, or than an Ethernet header behind it) are dropped too */
	add_chain(&e, 0, (struct seg[]){ { b2, 1600, true } }, 1);
	CHECK_EQ(send(e.peer, "xyz", 3, 0), 3);
	send_frame(&e, 25, 0x33);
	send_frame(&e, 26, 0x33);
	e.d->ops->notify(e.d, 0);
	CHECK_EQ(get_used(&e, 0, &id, &len), 1);
	CHECK_EQ(len, 26);
	/* a readable descriptor in a receive chain is malformed */
	add_chain(&e, 0, (struct seg[]){ { b2, 1600, false } }, 1);
	send_frame(&e, 60, 0x44);
	e.d->ops->notify(e.d, 0);
	CHECK_EQ(e.resets_needed, 1);
	CHECK_EQ(get_used(&e, 0, &id, &len), 0);
	teardown(&e);
}

#define F(bit) (1ULL << VIRTIO_NET_F_##bit)

static struct virtio_net_hdr_v1 hdr_of(uint8_t flags, uint8_t gso_type, uint16_t hdr_len, uint16_t gso_size,
				       uint16_t csum_start, uint16_t csum_offset, uint16_t num_buffers)
{
	return (struct virtio_net_hdr_v1){ .flags = flags, .gso_type = gso_type, .hdr_len = hdr_len,
		.gso_size = gso_size, .csum_start = csum_start, .csum_offset = csum_offset,
		.num_buffers = num_buffers };
}

/* Transmit one frame of frame_len bytes behind header h, the header split over two descriptors
 * after `split` bytes (0: one descriptor). The chain must come back; returns what the tap got. */
static ssize_t tx_one(struct env *e, struct virtio_net_hdr_v1 h, uint32_t frame_len, uint32_t split,
		      uint8_t *out, size_t out_len)
{
	uint64_t hdr = alloc(e, 12), pay = alloc(e, frame_len + 1);
	uint32_t id, len;

	memcpy(host(e, hdr), &h, 12);
	for (uint32_t i = 0; i < frame_len; i++)
		((uint8_t *)host(e, pay))[i] = (uint8_t)(i * 7 + 1);
	if (split)
		add_chain(e, 1, (struct seg[]){ { hdr, split, false }, { hdr + split, 12 - split, false },
						{ pay, frame_len, false } }, 3);
	else
		add_chain(e, 1, (struct seg[]){ { hdr, 12, false }, { pay, frame_len, false } }, 2);
	e->d->ops->notify(e->d, 1);
	CHECK_EQ(get_used(e, 1, &id, &len), 1);
	return recv(e->peer, out, out_len, 0);
}

/* What the tap got starts with header want, then the frame tx_one built. */
static void check_sent(const uint8_t *buf, struct virtio_net_hdr_v1 want, uint32_t frame_len)
{
	int same = 1;

	CHECK(!memcmp(buf, &want, 12));
	for (uint32_t i = 0; i < frame_len; i++)
		same &= buf[12 + i] == (uint8_t)(i * 7 + 1);
	CHECK(same);
}

/* No offload negotiated (§5.1.6.2): the host must see flags 0 and GSO_NONE whatever the driver wrote. */
static void test_tx_hdr_no_offload(void)
{
	struct virtio_net_hdr_v1 zero = { 0 };
	static const uint8_t bad_gso[] = { VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_UDP,
					   VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_GSO_ECN, 5, 0xff };
	struct vnet_stats st;
	struct env e;
	uint8_t buf[4096];

	setup(&e);
	/* fields that mean nothing without offloads, and unknown flag bits: ignored, header zeroed */
	CHECK_EQ(tx_one(&e, hdr_of(VIRTIO_NET_HDR_F_DATA_VALID | VIRTIO_NET_HDR_F_RSC_INFO | 0xf0, 0, 0xffff,
				   0x1234, 0xfff0, 0xff, 7), 60, 5, buf, sizeof(buf)), 72);
	check_sent(buf, zero, 60);
	/* a partial checksum the host would have to complete: dropped */
	CHECK_EQ(tx_one(&e, hdr_of(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 16, 0), 60, 0, buf, sizeof(buf)), -1);
	/* any GSO type, known or not, with or without a checksum request: dropped */
	for (unsigned i = 0; i < sizeof(bad_gso); i++) {
		CHECK_EQ(tx_one(&e, hdr_of(VIRTIO_NET_HDR_F_NEEDS_CSUM, bad_gso[i], 54, 1448, 34, 16, 0), 3000, 0,
				buf, sizeof(buf)), -1);
		CHECK_EQ(tx_one(&e, hdr_of(0, bad_gso[i], 54, 1448, 0, 0, 0), 3000, 11, buf, sizeof(buf)), -1);
	}
	/* shorter than an Ethernet header: dropped; exactly one: sent */
	CHECK_EQ(tx_one(&e, zero, 13, 0, buf, sizeof(buf)), -1);
	CHECK_EQ(tx_one(&e, zero, 14, 0, buf, sizeof(buf)), 26);
	check_sent(buf, zero, 14);
	vnet_get_stats(e.n, &st);
	CHECK_EQ(st.tx_frames, 2);
	CHECK_EQ(st.tx_dropped, 2 + 2 * sizeof(bad_gso));
	CHECK_EQ(e.resets_needed, 0);
	teardown(&e);
}

/* With checksum/TSO4/ECN offloads negotiated (ckvm offers none yet; the rules must hold when it does):
 * what was negotiated passes when it points inside the frame, the rest is dropped. */
static void test_tx_hdr_offloads(void)
{
	const uint8_t nc = VIRTIO_NET_HDR_F_NEEDS_CSUM, tso4 = VIRTIO_NET_HDR_GSO_TCPV4;
	struct vnet_stats st;
	struct env e;
	uint8_t buf[4096];

	setup_features(&e, F(CSUM) | F(HOST_TSO4) | F(HOST_ECN));
	/* checksum request inside the frame: kept; DATA_VALID, unknown bits and GSO fields cleared */
	CHECK_EQ(tx_one(&e, hdr_of(nc | VIRTIO_NET_HDR_F_DATA_VALID | 0x80, 0, 0x3333, 0x4444, 34, 16, 3), 60, 0,
			buf, sizeof(buf)), 72);
	check_sent(buf, hdr_of(nc, 0, 0, 0, 34, 16, 0), 60);
	/* the checksum field must end inside the frame: 34 + 24 + 2 = 60 fits, 34 + 25 + 2 does not */
	CHECK_EQ(tx_one(&e, hdr_of(nc, 0, 0, 0, 34, 24, 0), 60, 0, buf, sizeof(buf)), 72);
	CHECK_EQ(tx_one(&e, hdr_of(nc, 0, 0, 0, 34, 25, 0), 60, 0, buf, sizeof(buf)), -1);
	CHECK_EQ(tx_one(&e, hdr_of(nc, 0, 0, 0, 0xffff, 0xffff, 0), 60, 0, buf, sizeof(buf)), -1);
	/* TSO4 (+ECN): passed on; hdr_len is only a hint, brought inside [checksum end, frame] */
	CHECK_EQ(tx_one(&e, hdr_of(nc, tso4 | VIRTIO_NET_HDR_GSO_ECN, 54, 1448, 34, 16, 0), 3000, 7, buf,
			sizeof(buf)), 3012);
	check_sent(buf, hdr_of(nc, tso4 | VIRTIO_NET_HDR_GSO_ECN, 54, 1448, 34, 16, 0), 3000);
	CHECK_EQ(tx_one(&e, hdr_of(nc, tso4, 0xffff, 1448, 34, 16, 0), 3000, 0, buf, sizeof(buf)), 3012);
	check_sent(buf, hdr_of(nc, tso4, 3000, 1448, 34, 16, 0), 3000);
	CHECK_EQ(tx_one(&e, hdr_of(nc, tso4, 10, 1448, 34, 16, 0), 3000, 0, buf, sizeof(buf)), 3012);
	check_sent(buf, hdr_of(nc, tso4, 52, 1448, 34, 16, 0), 3000);
	/* TSO without a checksum request, without a segment size, or of a kind not negotiated: dropped */
	CHECK_EQ(tx_one(&e, hdr_of(0, tso4, 54, 1448, 34, 16, 0), 3000, 0, buf, sizeof(buf)), -1);
	CHECK_EQ(tx_one(&e, hdr_of(nc, tso4, 54, 0, 34, 16, 0), 3000, 0, buf, sizeof(buf)), -1);
	CHECK_EQ(tx_one(&e, hdr_of(nc, tso4, 54, 3000, 34, 16, 0), 3000, 0, buf, sizeof(buf)), -1);
	CHECK_EQ(tx_one(&e, hdr_of(nc, VIRTIO_NET_HDR_GSO_TCPV6, 74, 1428, 54, 16, 0), 3000, 0, buf,
			sizeof(buf)), -1);
	CHECK_EQ(tx_one(&e, hdr_of(nc, VIRTIO_NET_HDR_GSO_UDP | VIRTIO_NET_HDR_GSO_ECN, 42, 1400, 34, 6, 0), 3000,
			0, buf, sizeof(buf)), -1);
	vnet_get_stats(e.n, &st);
	CHECK_EQ(st.tx_frames, 5);
	CHECK_EQ(st.tx_dropped, 7);
	teardown(&e);
	/* ECN needs HOST_ECN */
	setup_features(&e, F(CSUM) | F(HOST_TSO4));
	CHECK_EQ(tx_one(&e, hdr_of(nc, tso4 | VIRTIO_NET_HDR_GSO_ECN, 54, 1448, 34, 16, 0), 3000, 0, buf,
			sizeof(buf)), -1);
	CHECK_EQ(tx_one(&e, hdr_of(nc, tso4, 54, 1448, 34, 16, 0), 3000, 0, buf, sizeof(buf)), 3012);
	teardown(&e);
}

/* The tap hands us header h and frame_len bytes of fill. */
static void send_hdr_frame(struct env *e, struct virtio_net_hdr_v1 h, uint32_t frame_len, uint8_t fill)
{
	uint8_t buf[2048];

	memcpy(buf, &h, 12);
	memset(buf + 12, fill, frame_len);
	CHECK_EQ(send(e->peer, buf, frame_len + 12, 0), (ssize_t)frame_len + 12);
}

/* Receive one frame into a fresh 1600-byte buffer whose first descriptor holds `split` header bytes
 * (0: one descriptor). Returns the used length (0 if nothing came) and the header the driver sees. */
static uint32_t rx_one(struct env *e, uint32_t split, struct virtio_net_hdr_v1 *seen, uint8_t *first)
{
	uint64_t b = alloc(e, 1600);
	uint8_t raw[12];
	uint32_t id, len;

	memset(host(e, b), 0xee, 1600);
	if (split)
		add_chain(e, 0, (struct seg[]){ { b, split, true }, { b + 16, 1600 - 16, true } }, 2);
	else
		add_chain(e, 0, (struct seg[]){ { b, 1600, true } }, 1);
	e->d->ops->notify(e->d, 0);
	if (!get_used(e, 0, &id, &len))
		return 0;
	memcpy(raw, host(e, b), split ? split : 12);
	if (split)
		memcpy(raw + split, host(e, b + 16), 12 - split);
	memcpy(seen, raw, 12);
	*first = split ? ((uint8_t *)host(e, b + 16))[12 - split] : ((uint8_t *)host(e, b))[12];
	return len;
}

/* Receive (§5.1.6.4): without GUEST_* offloads the driver sees flags 0, GSO_NONE, num_buffers 1; a
 * frame the tap marks partial-checksum or GSO cannot be given to such a driver and is dropped. */
static void test_rx_hdr(void)
{
	struct virtio_net_hdr_v1 seen;
	struct vnet_stats st;
	struct env e;
	uint8_t first;

	setup(&e);
	send_hdr_frame(&e, hdr_of(VIRTIO_NET_HDR_F_DATA_VALID | 0x40, 0, 0x4321, 0x22, 5, 6, 0x77), 60, 0x31);
	CHECK_EQ(rx_one(&e, 5, &seen, &first), 72);
	CHECK(!memcmp(&seen, &(struct virtio_net_hdr_v1){ .num_buffers = 1 }, 12));
	CHECK_EQ(first, 0x31);
	send_hdr_frame(&e, hdr_of(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 16, 0), 60, 0x32);
	send_hdr_frame(&e, hdr_of(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16, 0), 1500,
		       0x33);
	send_hdr_frame(&e, hdr_of(0, VIRTIO_NET_HDR_GSO_ECN, 0, 0, 0, 0, 0), 60, 0x34);
	send_hdr_frame(&e, hdr_of(0, 0, 0, 0, 0, 0, 0), 61, 0x35);
	CHECK_EQ(rx_one(&e, 0, &seen, &first), 73);
	CHECK(!memcmp(&seen, &(struct virtio_net_hdr_v1){ .num_buffers = 1 }, 12));
	CHECK_EQ(first, 0x35);
	vnet_get_stats(e.n, &st);
	CHECK_EQ(st.rx_frames, 2);
	CHECK_EQ(st.rx_dropped, 3);
	CHECK_EQ(e.resets_needed, 0);
	teardown(&e);

	/* GUEST_CSUM + GUEST_TSO4: DATA_VALID, checksum requests inside the frame and TSO4 pass */
	setup_features(&e, F(GUEST_CSUM) | F(GUEST_TSO4));
	send_hdr_frame(&e, hdr_of(VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0, 0, 9), 60, 0x41);
	CHECK_EQ(rx_one(&e, 0, &seen, &first), 72);
	CHECK(!memcmp(&seen, &(struct virtio_net_hdr_v1){ .flags = VIRTIO_NET_HDR_F_DATA_VALID,
							    .num_buffers = 1 }, 12));
	send_hdr_frame(&e, hdr_of(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16, 0), 1500,
		       0x42);
	CHECK_EQ(rx_one(&e, 3, &seen, &first), 1512);
	CHECK(!memcmp(&seen, &(struct virtio_net_hdr_v1){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .hdr_len = 54, .gso_size = 1448, .csum_start = 34,
		.csum_offset = 16, .num_buffers = 1 }, 12));
	send_hdr_frame(&e, hdr_of(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 50, 9, 0), 60, 0x43);	/* ends past 60 */
	send_hdr_frame(&e, hdr_of(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 74, 1428, 54, 16, 0), 1500,
		       0x44);
	send_hdr_frame(&e, hdr_of(0, 0, 0, 0, 0, 0, 0), 62, 0x45);
	CHECK_EQ(rx_one(&e, 0, &seen, &first), 74);
	CHECK_EQ(first, 0x45);
	teardown(&e);
}

static void test_tap_gone(void)
{
	struct env e;
	uint64_t b, hdr;
	uint32_t id, len;
	uint8_t cfg[8];

	setup(&e);
	b = alloc(&e, 1600);
	add_chain(&e, 0, (struct seg[]){ { b, 1600, true } }, 1);
	close(e.peer);
	e.peer = -1;
	e.d->ops->notify(e.d, 0);
	CHECK_EQ(get_used(&e, 0, &id, &len), 0);
	CHECK_EQ(e.config_signals, 1);
	e.d->ops->cfg_read(e.d, 6, cfg, 2);
	CHECK_EQ(cfg[0] | cfg[1] << 8, 0);
	/* transmit after that: dropped but completed; no second config interrupt */
	hdr = alloc(&e, 64);
	add_chain(&e, 1, (struct seg[]){ { hdr, 64, false } }, 1);
	e.d->ops->notify(e.d, 1);
	CHECK_EQ(get_used(&e, 1, &id, &len), 1);
	e.d->ops->notify(e.d, 0);
	CHECK_EQ(e.config_signals, 1);
	CHECK_EQ(e.resets_needed, 0);
	teardown(&e);
}

static void *loop_thread(void *arg)
{
	evloop_run(arg);
	return NULL;
}

static void test_rx_event_loop(void)
{
	struct env e;
	pthread_t th;
	struct timespec ts;
	uint64_t b;
	uint32_t id, len;

	setup(&e);
	b = alloc(&e, 1600);
	add_chain(&e, 0, (struct seg[]){ { b, 1600, true } }, 1);
	e.stop_on_rx = true;
	CHECK_EQ(pthread_create(&th, NULL, loop_thread, e.ev), 0);
	send_frame(&e, 64, 0x77);	/* tap readable -> loop thread fills the buffer, signals, stops */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	if (pthread_timedjoin_np(th, NULL, &ts) != 0) {
		CHECK(!"frame not received through the event loop");
		evloop_stop(e.ev);
		pthread_join(th, NULL);
	}
	CHECK_EQ(get_used(&e, 0, &id, &len), 1);
	CHECK_EQ(len, 64);
	teardown(&e);
}

static void test_mac(void)
{
	uint8_t m[6] = { 0 };
	char s[18];

	CHECK_EQ(tap_mac_parse("52:54:00:ab:CD:0f", m), 0);
	CHECK(!memcmp(m, "\x52\x54\x00\xab\xcd\x0f", 6));
	tap_mac_format(m, s);
	CHECK_STR(s, "52:54:00:ab:cd:0f");
	CHECK_EQ(tap_mac_parse("52:54:00:ab:cd", m), -EINVAL);
	CHECK_EQ(tap_mac_parse("52:54:00:ab:cd:0f:", m), -EINVAL);
	CHECK_EQ(tap_mac_parse("52:54:00:ab:cd:0g", m), -EINVAL);
	CHECK_EQ(tap_mac_parse("52-54-00-ab-cd-0f", m), -EINVAL);
	CHECK_EQ(tap_mac_parse("5:54:00:ab:cd:0f", m), -EINVAL);
	CHECK_EQ(tap_mac_parse("01:00:5e:00:00:01", m), -EADDRNOTAVAIL);	/* multicast */
	CHECK_EQ(tap_mac_parse("", m), -EINVAL);
	CHECK_EQ(tap_mac_parse(NULL, m), -EINVAL);
	tap_mac_random(m);
	CHECK(!memcmp(m, "\x52\x54\x00", 3));
	CHECK_EQ(tap_open(""), -EINVAL);
	CHECK_EQ(tap_open("a-name-much-too-long-for-ifnamsiz"), -EINVAL);
}

/* Device pause: no frame moves either way and no interrupt while paused (the tap frame stays in the
 * socket, the guest's transmit in its ring); resume delivers both, nothing lost. */
static void test_pause(void)
{
	struct env e;
	struct device *dev;
	uint64_t rxb, txb;
	uint32_t id, len;
	uint8_t buf[256];

	setup(&e);
	dev = vnet_device(e.n);
	CHECK_STR(dev->ops->kind, "virtio-net");
	CHECK(vnet_of_device(dev) == e.n);
	CHECK_EQ(dev->ops->pause(dev, 0), 0);
	rxb = alloc(&e, 1600);
	add_chain(&e, 0, (struct seg[]){ { rxb, 1600, true } }, 1);
	send_frame(&e, 80, 0x61);
	e.d->ops->notify(e.d, 0);	/* what the tap's edge and the guest's kick would do */
	txb = alloc(&e, 72);
	memset(host(&e, txb), 0, 12);
	memset((uint8_t *)host(&e, txb) + 12, 0x62, 60);
	add_chain(&e, 1, (struct seg[]){ { txb, 72, false } }, 1);
	e.d->ops->notify(e.d, 1);
	CHECK_EQ(get_used(&e, 0, &id, &len), 0);
	CHECK_EQ(get_used(&e, 1, &id, &len), 0);
	CHECK_EQ(recv(e.peer, buf, sizeof(buf), MSG_DONTWAIT), -1);
	CHECK_EQ(e.used_signals[0] + e.used_signals[1], 0);
	dev->ops->resume(dev);
	CHECK_EQ(get_used(&e, 0, &id, &len), 1);
	CHECK_EQ(len, 80);
	CHECK_EQ(((uint8_t *)host(&e, rxb))[12], 0x61);
	CHECK_EQ(get_used(&e, 1, &id, &len), 1);
	CHECK_EQ(recv(e.peer, buf, sizeof(buf), MSG_DONTWAIT), 72);
	CHECK_EQ(buf[12], 0x62);
	CHECK_EQ(e.used_signals[0], 1);
	CHECK_EQ(e.used_signals[1], 1);
	teardown(&e);
}

int main(void)
{
	RUN(test_config);
	RUN(test_tx);
	RUN(test_rx);
	RUN(test_tx_hdr_no_offload);
	RUN(test_tx_hdr_offloads);
	RUN(test_rx_hdr);
	RUN(test_tap_gone);
	RUN(test_rx_event_loop);
	RUN(test_mac);
	RUN(test_pause);
	return test_summary();
}
