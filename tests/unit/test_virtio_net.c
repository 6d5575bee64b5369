/* virtio-net over a SOCK_SEQPACKET socketpair standing in for the tap: transmit, receive, oversized
 * frames, malformed chains, tap loss, the event-loop receive path, and MAC parsing. */
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

static void setup(struct env *e)
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
	e->d->features = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_STATUS;
	for (uint16_t q = 0; q < 2; q++)
		CHECK_EQ(vq_enable(&e->d->vq[q], &e->gm, QSIZE, ring_gpa(q, 0), ring_gpa(q, 1), ring_gpa(q, 2),
				   e->d->features), 0);
	CHECK_EQ(e->d->ops->activate(e->d), 0);
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
	CHECK_EQ(e.d->num_queues, 2);
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
	/* a runt (shorter than the header) is dropped too */
	add_chain(&e, 0, (struct seg[]){ { b2, 1600, true } }, 1);
	CHECK_EQ(send(e.peer, "xyz", 3, 0), 3);
	send_frame(&e, 20, 0x33);
	e.d->ops->notify(e.d, 0);
	CHECK_EQ(get_used(&e, 0, &id, &len), 1);
	CHECK_EQ(len, 20);
	/* a readable descriptor in a receive chain is malformed */
	add_chain(&e, 0, (struct seg[]){ { b2, 1600, false } }, 1);
	send_frame(&e, 60, 0x44);
	e.d->ops->notify(e.d, 0);
	CHECK_EQ(e.resets_needed, 1);
	CHECK_EQ(get_used(&e, 0, &id, &len), 0);
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

int main(void)
{
	RUN(test_config);
	RUN(test_tx);
	RUN(test_rx);
	RUN(test_tap_gone);
	RUN(test_rx_event_loop);
	RUN(test_mac);
	return test_summary();
}
