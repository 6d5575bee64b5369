/* vhost-user virtio-net (src/virtio/vhost_user_net.c) and the generic device under it
 * (vhost_user_dev.c) against the fake back-end (vhu_fake.c) listening on a Unix socket: negotiation
 * as DPDK's vhost offers it, the config space ckvm serves (MAC, link up), the features sent on, both
 * queues handed over at DRIVER_OK, GET_VRING_BASE at reset, a back-end that hangs up, and the ways
 * vudev_create refuses a back-end. No /dev/kvm: the test plays the transport (queue_fds, needs_reset). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "log.h"
#include "virtio/vhost_user_dev.h"
#include "virtio/vhost_user_net.h"
#include "test.h"
#include "vhu_fake.h"

#define ACK (1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK)
#define PF (1ULL << VHOST_USER_F_PROTOCOL_FEATURES)

static int log_fd;
static char dir[] = "/tmp/ckvm-vunet.XXXXXX", sock[64];
static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
static int resets;	/* needs_reset calls (the transport's DEVICE_NEEDS_RESET) */
static int kick_fd[VUNET_NQ], call_fd[VUNET_NQ];

static uint64_t bit(int b) { return 1ULL << b; }

static int log_lines(void)
{
	return fake_log_lines(log_fd);
}

/* What DPDK 22.11's vhost library offers a net front-end (lib/vhost/vhost.h VHOST_FEATURES and the
 * offloads), plus GUEST_ANNOUNCE/CTRL_VQ/MQ/MTU that must not reach the guest. */
static const uint64_t dpdk_features = (1ULL << VIRTIO_F_VERSION_1) | PF |
	(1ULL << VIRTIO_NET_F_MRG_RXBUF) | (1ULL << VIRTIO_NET_F_CTRL_VQ) | (1ULL << VIRTIO_NET_F_MQ) |
	(1ULL << VIRTIO_NET_F_GUEST_ANNOUNCE) | (1ULL << VIRTIO_NET_F_MTU) |
	(1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << VIRTIO_RING_F_EVENT_IDX) |
	(1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) | (1ULL << VIRTIO_F_RING_PACKED);

/* The script of a negotiation: features, protocol features (DPDK's set), SET_OWNER acked. */
static void script_negotiate(struct fake *f, uint64_t features)
{
	fake_add(f, VHOST_USER_GET_FEATURES, R_U64, features);
	if (!(features & PF)) {
		fake_add(f, VHOST_USER_SET_OWNER, R_NONE, 0);
		return;
	}
	fake_add(f, VHOST_USER_GET_PROTOCOL_FEATURES, R_U64, ACK | bit(VHOST_USER_PROTOCOL_F_MQ) |
		 bit(VHOST_USER_PROTOCOL_F_CONFIG) | bit(1) | bit(2));
	fake_add(f, VHOST_USER_SET_PROTOCOL_FEATURES, R_NONE, 0);
	fake_add(f, VHOST_USER_SET_OWNER, R_U64, 0);
}

static int create(struct vudev **u, struct fake *f, struct evloop *ev)
{
	struct vunet_config vc = { .socket = sock, .name = "vnet0", .ev = ev };
	static struct guest_mem gm;
	int ret;

	memcpy(vc.mac, mac, sizeof(mac));
	if (!gm.nr && gm_alloc_ram_flags(&gm, 16 << 20, 1ULL << 32, GM_SHARED))
		return -ENOMEM;
	vc.gm = &gm;
	unlink(sock);
	if ((ret = fake_listen(f, sock)))
		return ret;
	ret = vunet_create(u, &vc);
	if (!ret)
		vudev_conn(*u)->timeout_ms = 500;	/* a hang costs the test half a second, not five */
	return ret;
}

/* The transport's side: the doorbell and the irqfd of each queue. */
static int queue_fds(struct virtio_dev *d, uint16_t q, int *kick, int *call)
{
	(void)d;
	if (q >= VUNET_NQ)
		return -ENODEV;
	*kick = kick_fd[q];
	*call = call_fd[q];
	return 0;
}

static void needs_reset(struct virtio_dev *d)
{
	(void)d;
	__atomic_add_fetch(&resets, 1, __ATOMIC_SEQ_CST);
}

/* The driver enabled both queues in the shared RAM (what vq_enable does for the transport). */
static void enable_queues(struct virtio_dev *vd)
{
	for (int q = 0; q < VUNET_NQ; q++) {
		uint64_t base = 0x10000 + 0x4000ULL * (uint64_t)q;

		vd->vq[q].size = 256;
		vd->vq[q].desc = gm_ptr(vd->gm, base, 16 * 256);
		vd->vq[q].avail = gm_ptr(vd->gm, base + 0x1000, 6 + 2 * 256);
		vd->vq[q].used = gm_ptr(vd->gm, base + 0x2000, 6 + 8 * 256);
		vd->vq[q].last_avail = (uint16_t)(5 + q);
	}
}

/* Negotiation and config space: the guest sees MAC, STATUS and the pass-through subset of what the
 * back-end offered; the config reads as the MAC asked for, link up, one queue pair. */
static void test_config(void)
{
	struct fake f = { 0 };
	struct vudev *u = NULL;
	struct virtio_dev *vd;
	struct virtio_net_config nc;
	uint64_t want, proto;

	script_negotiate(&f, dpdk_features);
	CHECK_EQ(create(&u, &f, NULL), 0);
	if (!u) {
		fake_stop(&f, NULL);
		return;
	}
	vd = vudev_virtio(u);
	CHECK_EQ(vd->device_id, VIRTIO_ID_NET);
	CHECK_EQ(vd->num_queues, 2);
	CHECK_STR(vudev_device(u)->ops->kind, "vhost-user-net");
	want = (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS) | (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
	       (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << VIRTIO_RING_F_EVENT_IDX) |
	       (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM);
	CHECK_EQ(vd->ops->get_features(vd), want);
	CHECK_EQ(vudev_offered(u), want);
	CHECK_EQ(vd->cfg_len, offsetof(struct virtio_net_config, mtu));
	memset(&nc, 0xff, sizeof(nc));
	vd->ops->cfg_read(vd, 0, &nc, vd->cfg_len);
	CHECK(!memcmp(nc.mac, mac, 6));
	CHECK_EQ(nc.status, VIRTIO_NET_S_LINK_UP);
	CHECK_EQ(nc.max_virtqueue_pairs, 1);
	vd->ops->cfg_read(vd, 6, &nc.status, 2);	/* a field on its own */
	CHECK_EQ(nc.status, VIRTIO_NET_S_LINK_UP);
	nc.mac[0] = 0x02;	/* config writes change nothing */
	vd->ops->cfg_write(vd, 0, nc.mac, 6);
	vd->ops->cfg_read(vd, 0, nc.mac, 6);
	CHECK(!memcmp(nc.mac, mac, 6));
	/* a snapshot of it is refused (no state to hand over), with a reason the caller logs */
	CHECK_EQ(device_save(vudev_device(u), &nc, sizeof(nc)) < 0, 1);
	vudev_free(u);
	fake_stop(&f, NULL);
	CHECK_EQ(f.mismatch, 0);
	CHECK_EQ(f.ngot, 4);	/* no GET_QUEUE_NUM: MQ is not asked for */
	memcpy(&proto, f.got[2].payload, 8);
	CHECK_EQ(proto, ACK);
}

/* DRIVER_OK: SET_FEATURES without MAC/STATUS or bits the back-end did not offer, the memory table,
 * then each queue NUM, ADDR, BASE, CALL, KICK, ENABLE with the transport's fds. Reset: each queue
 * disabled and its GET_VRING_BASE taken. */
static void test_activate_reset(void)
{
	static const uint32_t per_queue[] = { VHOST_USER_SET_VRING_NUM, VHOST_USER_SET_VRING_ADDR,
		VHOST_USER_SET_VRING_BASE, VHOST_USER_SET_VRING_CALL, VHOST_USER_SET_VRING_KICK,
		VHOST_USER_SET_VRING_ENABLE };
	struct vhu_vring_state st;
	struct fake f = { 0 };
	struct vudev *u = NULL;
	struct virtio_dev *vd;
	uint64_t feat, want, v = 1;
	struct step *s;
	int i, q, n;

	script_negotiate(&f, dpdk_features);
	fake_add(&f, VHOST_USER_SET_FEATURES, R_U64, 0);
	fake_add(&f, VHOST_USER_SET_MEM_TABLE, R_U64, 0);
	for (q = 0; q < VUNET_NQ; q++)
		for (i = 0; i < 6; i++)
			fake_add(&f, per_queue[i], R_U64, 0);
	for (q = 0; q < VUNET_NQ; q++) {
		fake_add(&f, VHOST_USER_SET_VRING_ENABLE, R_U64, 0);
		st = (struct vhu_vring_state){ .index = (uint32_t)q, .num = 40u + (uint32_t)q };
		s = fake_add(&f, VHOST_USER_GET_VRING_BASE, R_RAW, 0);
		fake_raw(s, VHOST_USER_GET_VRING_BASE, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, 8, &st, 8);
	}
	CHECK_EQ(create(&u, &f, NULL), 0);
	if (!u) {
		fake_stop(&f, NULL);
		return;
	}
	vd = vudev_virtio(u);
	vd->queue_fds = queue_fds;
	enable_queues(vd);
	/* the guest takes everything offered, plus VERSION_1 (the transport's) */
	vd->features = vudev_offered(u) | (1ULL << VIRTIO_F_VERSION_1);
	CHECK_EQ(vd->ops->activate(vd), 0);
	/* a doorbell that came through MMIO goes to the back-end's kick fd */
	vd->ops->notify(vd, 1);
	CHECK_EQ(read(kick_fd[1], &v, 8), 8);
	vd->ops->reset(vd);
	vd->ops->notify(vd, 1);		/* after reset: dropped, no write */
	CHECK_EQ(read(kick_fd[1], &v, 8), -1);
	vd->ops->reset(vd);		/* a second reset sends nothing */
	want = (vudev_offered(u) & ~((1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS))) |
	       (1ULL << VIRTIO_F_VERSION_1) | PF;
	vudev_free(u);
	fake_stop(&f, NULL);
	CHECK_EQ(f.mismatch, 0);
	CHECK_EQ(f.ngot, 4 + 2 + 12 + 4);
	memcpy(&feat, f.got[4].payload, 8);
	CHECK_EQ(feat & (1ULL << VIRTIO_NET_F_MAC), 0);
	CHECK_EQ(feat & (1ULL << VIRTIO_NET_F_STATUS), 0);
	CHECK_EQ(feat & ~dpdk_features, 0);	/* nothing the back-end did not offer */
	CHECK_EQ(feat, want);
	CHECK_EQ(f.got[5].nfds, 1);	/* one memfd region */
	for (q = 0, n = 6; q < VUNET_NQ; q++) {
		for (i = 0; i < 6; i++, n++) {
			CHECK_EQ(f.got[n].req, per_queue[i]);
			memcpy(&st, f.got[n].payload, 8);
			CHECK_EQ(st.index, q);	/* ADDR's first word too */
		}
		memcpy(&st, f.got[n - 4].payload, 8);	/* BASE: where the driver's ring stood */
		CHECK_EQ(st.num, 5 + q);
		CHECK_EQ(f.got[n - 3].nfds, 1);		/* CALL */
		CHECK_EQ(f.got[n - 2].nfds, 1);		/* KICK */
		memcpy(&st, f.got[n - 1].payload, 8);
		CHECK_EQ(st.num, 1);			/* enabled */
	}
	for (q = 0; q < VUNET_NQ; q++, n += 2) {
		CHECK_EQ(f.got[n].req, VHOST_USER_SET_VRING_ENABLE);
		memcpy(&st, f.got[n].payload, 8);
		CHECK(st.index == (uint32_t)q && st.num == 0);
		CHECK_EQ(f.got[n + 1].req, VHOST_USER_GET_VRING_BASE);
		memcpy(&st, f.got[n + 1].payload, 8);
		CHECK_EQ(st.index, q);
	}
}

static void *loop_main(void *arg)
{
	evloop_run(arg);
	return NULL;
}

/* The back-end hangs up after activation: the I/O thread sees it, one line, NEEDS_RESET once; the
 * device's later calls fail without I/O and the reset sends nothing. */
static void test_hangup(void)
{
	struct evloop *ev = NULL;
	struct fake f = { 0 };
	struct vudev *u = NULL;
	struct virtio_dev *vd = NULL;
	pthread_t t;
	int i, lines;

	script_negotiate(&f, dpdk_features);
	fake_add(&f, VHOST_USER_SET_FEATURES, R_U64, 0);
	fake_add(&f, VHOST_USER_SET_MEM_TABLE, R_CLOSE, 0);
	CHECK_EQ(evloop_create(&ev), 0);
	if (!ev)
		return;
	resets = 0;
	CHECK_EQ(create(&u, &f, ev), 0);
	if (u) {
		vd = vudev_virtio(u);
		vd->queue_fds = queue_fds;
		vd->needs_reset = needs_reset;
		enable_queues(vd);
		vd->features = vudev_offered(u) | (1ULL << VIRTIO_F_VERSION_1);
	}
	/* the I/O thread starts once the transport's callbacks are set, as on the board */
	CHECK_EQ(pthread_create(&t, NULL, loop_main, ev), 0);
	if (vd) {
		lines = log_lines();
		CHECK(vd->ops->activate(vd) < 0);	/* the transport sets NEEDS_RESET for this one */
		/* bounded wait for the I/O thread's hang-up (the condition, not a sleep) */
		for (i = 0; i < 400 && !__atomic_load_n(&resets, __ATOMIC_SEQ_CST); i++)
			usleep(5000);
		CHECK_EQ(__atomic_load_n(&resets, __ATOMIC_SEQ_CST), 1);
		/* one line from the failed call, one from the hang-up */
		CHECK_EQ(log_lines(), lines + 2);
		CHECK(vd->ops->activate(vd) < 0);	/* dead: no I/O, no new line */
		vd->ops->reset(vd);
		CHECK_EQ(log_lines(), lines + 2);
		CHECK_EQ(resets, 1);
	}
	evloop_stop(ev);
	pthread_join(t, NULL);
	vudev_free(u);
	fake_stop(&f, NULL);
	evloop_destroy(ev);
	CHECK_EQ(f.ngot, 6);
}

/* vudev_create refuses, with one line and nothing left behind: no VERSION_1; a back-end that says
 * (GET_QUEUE_NUM) it serves fewer queues than the device has; a reply too short; a queue count the
 * device cannot have; no socket at all. */
static const struct vudev_kind two_q = {
	.kind = "vhost-user-test", .what = "test device", .device_id = VIRTIO_ID_NET, .queue_size = 64,
	.protocol = ACK | (1ULL << VHOST_USER_PROTOCOL_F_MQ),
};

static void test_create_errors(void)
{
	struct vudev_config vc = { .socket = sock, .name = "t0", .num_queues = 2 };
	struct vudev *u = NULL;
	struct fake f = { 0 };
	struct step *s;
	uint32_t h[3] = { VHOST_USER_GET_QUEUE_NUM, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, 4 };
	int lines;

	/* a virtio 0.9 back-end: the net kind refuses it */
	script_negotiate(&f, bit(VIRTIO_NET_F_MAC) | PF);
	lines = log_lines();
	CHECK_EQ(create(&u, &f, NULL), -ENOTSUP);
	CHECK_EQ(log_lines(), lines + 1);
	fake_stop(&f, NULL);
	/* MQ: GET_QUEUE_NUM says 1, the device needs 2 */
	memset(&f, 0, sizeof(f));
	fake_add(&f, VHOST_USER_GET_FEATURES, R_U64, (1ULL << VIRTIO_F_VERSION_1) | PF);
	fake_add(&f, VHOST_USER_GET_PROTOCOL_FEATURES, R_U64, ACK | bit(VHOST_USER_PROTOCOL_F_MQ));
	fake_add(&f, VHOST_USER_SET_PROTOCOL_FEATURES, R_NONE, 0);
	fake_add(&f, VHOST_USER_GET_QUEUE_NUM, R_U64, 1);
	fake_add(&f, VHOST_USER_SET_OWNER, R_U64, 0);
	unlink(sock);
	CHECK_EQ(fake_listen(&f, sock), 0);
	lines = log_lines();
	CHECK_EQ(vudev_create(&u, &two_q, &vc), -ENOTSUP);
	CHECK_EQ(log_lines(), lines + 1);
	fake_stop(&f, NULL);
	CHECK_EQ(f.ngot, 5);
	/* a GET_QUEUE_NUM reply of 4 bytes: a protocol error, the device is not created */
	memset(&f, 0, sizeof(f));
	fake_add(&f, VHOST_USER_GET_FEATURES, R_U64, (1ULL << VIRTIO_F_VERSION_1) | PF);
	fake_add(&f, VHOST_USER_GET_PROTOCOL_FEATURES, R_U64, ACK | bit(VHOST_USER_PROTOCOL_F_MQ));
	fake_add(&f, VHOST_USER_SET_PROTOCOL_FEATURES, R_NONE, 0);
	s = fake_add(&f, VHOST_USER_GET_QUEUE_NUM, R_RAW, 0);
	memcpy(s->raw, h, 12);
	memcpy(s->raw + 12, "\x02\0\0\0", 4);
	s->raw_len = 16;
	unlink(sock);
	CHECK_EQ(fake_listen(&f, sock), 0);
	lines = log_lines();
	CHECK_EQ(vudev_create(&u, &two_q, &vc), -EPROTO);
	CHECK_EQ(log_lines(), lines + 1);
	fake_stop(&f, NULL);
	/* a queue count the device cannot have: refused before connecting */
	vc.num_queues = 0;
	CHECK_EQ(vudev_create(&u, &two_q, &vc), -EINVAL);
	vc.num_queues = VUDEV_MAX_QUEUES + 1;
	CHECK_EQ(vudev_create(&u, &two_q, &vc), -EINVAL);
	/* nobody listening */
	unlink(sock);
	vc.num_queues = 2;
	lines = log_lines();
	CHECK_EQ(vudev_create(&u, &two_q, &vc), -ENOENT);
	CHECK_EQ(log_lines(), lines + 1);
	CHECK(u == NULL);
}

int main(void)
{
	char logname[] = "/tmp/ckvm-vunet-log.XXXXXX";
	int fds, q;

	log_fd = mkstemp(logname);
	unlink(logname);
	log_set_output(log_fd);
	if (!mkdtemp(dir)) {
		printf("mkdtemp failed\n0 passed, 1 failed\n");
		return 1;
	}
	snprintf(sock, sizeof(sock), "%s/vhost.sock", dir);
	for (q = 0; q < VUNET_NQ; q++) {
		kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		call_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	}
	fds = fake_count_fds();
	RUN(test_config);
	RUN(test_activate_reset);
	RUN(test_hangup);
	RUN(test_create_errors);
	t_name = "fd-leak";
	CHECK_EQ(fake_count_fds(), fds + 1);	/* + the shared RAM's memfd, kept for every test */
	unlink(sock);
	rmdir(dir);
	return test_summary();
}
