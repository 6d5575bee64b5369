/* virtio-fs over vhost-user (src/virtio/vhost_user_fs.c) against the in-process fake back-end
 * (vhu_fake.c) behind a listening socket, no /dev/kvm: config space (tag of 1 and 36 bytes,
 * num_request_queues), the features offered, hiprio + N request queues handed over at activation,
 * a too small GET_QUEUE_NUM refused with one line, reset stopping every queue, and the back-end's
 * hang-up putting the device in NEEDS_RESET with one line. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <linux/fuse.h>
#include <linux/virtio_config.h>
#include <linux/virtio_fs.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "core/evloop.h"
#include "log.h"
#include "virtio/vhost_user_fs.h"
#include "test.h"
#include "vhu_fake.h"

#define ACK (1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK)
#define MQ  (1ULL << VHOST_USER_PROTOCOL_F_MQ)
/* what libvhost-user (virtiofsd) offers: the ring features, VERSION_1, NOTIFY_ON_EMPTY, LOG_ALL */
#define OFFER ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | \
	       (1ULL << VIRTIO_RING_F_EVENT_IDX) | (1ULL << VIRTIO_F_NOTIFY_ON_EMPTY) | (1ULL << 26) | \
	       (1ULL << VHOST_USER_F_PROTOCOL_FEATURES))

static int log_fd;
static char dir[] = "/tmp/ckvm-vufs.XXXXXX";
static char sock[64];

static int log_lines(void)
{
	return fake_log_lines(log_fd);
}

/* The negotiation vudev_create runs: features, protocol features (before REPLY_ACK is agreed: no
 * ack), the queue count with MQ, SET_OWNER (acked when REPLY_ACK was agreed). */
static void script_negotiate(struct fake *f, uint64_t protocol, uint64_t queue_num)
{
	fake_add(f, VHOST_USER_GET_FEATURES, R_U64, OFFER);
	fake_add(f, VHOST_USER_GET_PROTOCOL_FEATURES, R_U64, protocol);
	fake_add(f, VHOST_USER_SET_PROTOCOL_FEATURES, R_NONE, 0);
	if (protocol & MQ)
		fake_add(f, VHOST_USER_GET_QUEUE_NUM, R_U64, queue_num);
	fake_add(f, VHOST_USER_SET_OWNER, protocol & ACK ? R_U64 : R_NONE, 0);
}

static int create(struct fake *f, struct vudev **u, const char *tag, uint16_t nreq, struct guest_mem *gm,
		  struct evloop *ev)
{
	struct vufs_config vc = { .gm = gm, .socket = sock, .name = "vfs0", .tag = tag, .ev = ev,
		.request_queues = nreq };
	int ret;

	unlink(sock);
	if ((ret = fake_listen(f, sock)))
		return ret;
	return vufs_create(u, &vc);
}

static void stop(struct fake *f, struct vudev *u)
{
	if (u)
		vudev_device(u)->ops->destroy(vudev_device(u));
	fake_stop(f, NULL);
	unlink(sock);
}

/* Config space: the tag NUL-padded (none after a 36-byte one), num_request_queues after it; the
 * guest sees only the ring features of what the back-end offers. */
static void test_config(void)
{
	static const char tag36[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	struct virtio_fs_config fc;
	struct fake f = { 0 };
	struct virtio_dev *d;
	struct vudev *u = NULL;
	uint64_t proto;

	script_negotiate(&f, ACK | MQ | (1ULL << VHOST_USER_PROTOCOL_F_CONFIG), 2);
	CHECK_EQ(create(&f, &u, "a", 1, NULL, NULL), 0);
	if (u) {
		d = vudev_virtio(u);
		CHECK_EQ(d->device_id, VIRTIO_ID_FS);
		CHECK_EQ(d->num_queues, 2);
		CHECK_EQ(d->queue_size_max, VUFS_QUEUE_SIZE_DEFAULT);
		CHECK_EQ(d->cfg_len, sizeof(fc));
		CHECK_EQ(d->ops->get_features(d),
			 (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << VIRTIO_RING_F_EVENT_IDX));
		memset(&fc, 0xee, sizeof(fc));
		d->ops->cfg_read(d, 0, &fc, sizeof(fc));
		CHECK_EQ(fc.tag[0], 'a');
		CHECK_EQ(fc.tag[1], 0);
		CHECK_EQ(fc.tag[35], 0);
		CHECK_EQ(fc.num_request_queues, 1);
	}
	stop(&f, u);
	CHECK_EQ(f.mismatch, 0);
	CHECK_EQ(f.ngot, 5);
	memcpy(&proto, f.got[2].payload, 8);
	CHECK_EQ(proto, ACK | MQ);	/* CONFIG not asked for: ckvm serves config space itself */

	memset(&f, 0, sizeof(f));
	u = NULL;
	script_negotiate(&f, ACK | MQ, 8);
	CHECK_EQ(create(&f, &u, tag36, 7, NULL, NULL), 0);
	if (u) {
		d = vudev_virtio(u);
		CHECK_EQ(d->num_queues, 8);
		d->ops->cfg_read(vudev_virtio(u), 0, &fc, sizeof(fc));
		CHECK(!memcmp(fc.tag, tag36, 36));
		CHECK_EQ(fc.num_request_queues, 7);
		d->ops->cfg_read(d, 36, &proto, 4);	/* a read of the field alone */
		CHECK_EQ((uint32_t)proto, 7);
	}
	stop(&f, u);
	CHECK_EQ(f.mismatch, 0);
	/* a tag of 0 or 37 bytes, no request queue, more than fit: the caller's bug, nothing sent */
	u = NULL;
	CHECK_EQ(vufs_create(&u, &(struct vufs_config){ .socket = sock, .name = "x", .tag = "",
		.request_queues = 1 }), -EINVAL);
	CHECK_EQ(vufs_create(&u, &(struct vufs_config){ .socket = sock, .name = "x",
		.tag = "abcdefghijklmnopqrstuvwxyz01234567890", .request_queues = 1 }), -EINVAL);
	CHECK_EQ(vufs_create(&u, &(struct vufs_config){ .socket = sock, .name = "x", .tag = "a" }), -EINVAL);
	CHECK_EQ(vufs_create(&u, &(struct vufs_config){ .socket = sock, .name = "x", .tag = "a",
		.request_queues = VUFS_MAX_REQUEST_QUEUES + 1 }), -EINVAL);
	CHECK_EQ(vufs_create(&u, &(struct vufs_config){ .socket = sock, .name = "x", .tag = "a",
		.request_queues = 1, .queue_size = 100 }), -EINVAL);
	CHECK(u == NULL);
}

/* The back-end serves fewer queues than hiprio + the request queues: refused with one line. */
static void test_queue_num(void)
{
	struct fake f = { 0 };
	struct vudev *u = NULL;
	int lines = log_lines();

	script_negotiate(&f, ACK | MQ, 2);	/* virtiofsd's count: hiprio + one request queue */
	CHECK_EQ(create(&f, &u, "share", 2, NULL, NULL), -ENOTSUP);
	CHECK(u == NULL);
	CHECK_EQ(log_lines(), lines + 1);
	stop(&f, NULL);
	CHECK_EQ(f.mismatch, 0);
	CHECK_EQ(f.ngot, 5);
}

static int queue_fds_kick[VUDEV_MAX_QUEUES], queue_fds_call[VUDEV_MAX_QUEUES];

static int test_queue_fds(struct virtio_dev *d, uint16_t q, int *kick, int *call)
{
	(void)d;
	*kick = queue_fds_kick[q];
	*call = queue_fds_call[q];
	return 0;
}

/* DRIVER_OK hands hiprio and both request queues over (each: NUM, ADDR, BASE, CALL with its irqfd,
 * KICK with its doorbell, ENABLE), after SET_FEATURES and SET_MEM_TABLE; reset disables and stops
 * each of them, and a doorbell after it goes nowhere. */
static void test_activate_reset(void)
{
	struct guest_mem gm = { 0 };
	struct fake f = { 0 };
	struct vudev *u = NULL;
	struct virtio_dev *d;
	struct vhu_vring_state st;
	uint64_t v, features = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX);
	int q, i;

	CHECK_EQ(gm_alloc_ram_flags(&gm, 16 << 20, 1ULL << 32, GM_SHARED), 0);
	script_negotiate(&f, ACK | MQ, 3);
	fake_add(&f, VHOST_USER_SET_FEATURES, R_U64, 0);
	fake_add(&f, VHOST_USER_SET_MEM_TABLE, R_U64, 0);
	for (q = 0; q < 3; q++) {
		fake_add(&f, VHOST_USER_SET_VRING_NUM, R_U64, 0);
		fake_add(&f, VHOST_USER_SET_VRING_ADDR, R_U64, 0);
		fake_add(&f, VHOST_USER_SET_VRING_BASE, R_U64, 0);
		fake_add(&f, VHOST_USER_SET_VRING_CALL, R_U64, 0);
		fake_add(&f, VHOST_USER_SET_VRING_KICK, R_U64, 0);
		fake_add(&f, VHOST_USER_SET_VRING_ENABLE, R_U64, 0);
	}
	for (q = 0; q < 3; q++) {
		struct step *s;

		fake_add(&f, VHOST_USER_SET_VRING_ENABLE, R_U64, 0);
		s = fake_add(&f, VHOST_USER_GET_VRING_BASE, R_RAW, 0);
		st = (struct vhu_vring_state){ .index = (uint32_t)q, .num = 0 };
		fake_raw(s, VHOST_USER_GET_VRING_BASE, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, 8, &st, 8);
	}
	CHECK_EQ(create(&f, &u, "share", 2, &gm, NULL), 0);
	if (!u) {
		stop(&f, NULL);
		gm_free(&gm);
		return;
	}
	d = vudev_virtio(u);
	d->queue_fds = test_queue_fds;
	d->features = features;
	for (q = 0; q < 3; q++) {
		queue_fds_kick[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		queue_fds_call[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		CHECK_EQ(vq_enable(&d->vq[q], &gm, 64, 0x10000 + 0x1000 * (uint64_t)q * 4,
				   0x11000 + 0x1000 * (uint64_t)q * 4, 0x12000 + 0x1000 * (uint64_t)q * 4,
				   features), 0);
	}
	CHECK_EQ(d->ops->activate(d), 0);
	d->ops->notify(d, 1);	/* a doorbell through MMIO goes to the back-end's kick fd */
	CHECK_EQ(read(queue_fds_kick[1], &v, 8), 8);
	d->ops->reset(d);
	d->ops->notify(d, 1);	/* reset: the back-end has no queue any more */
	CHECK_EQ(read(queue_fds_kick[1], &v, 8), -1);
	stop(&f, u);
	CHECK_EQ(f.mismatch, 0);
	CHECK_EQ(f.ngot, 5 + 2 + 18 + 6);
	memcpy(&v, f.got[5].payload, 8);
	CHECK_EQ(v, features | (1ULL << VHOST_USER_F_PROTOCOL_FEATURES));
	for (q = 0, i = 7; q < 3; q++, i += 6) {
		memcpy(&st, f.got[i].payload, 8);
		CHECK(st.index == (uint32_t)q && st.num == 64);	/* NUM */
		memcpy(&st, f.got[i + 1].payload, 4);
		CHECK_EQ(st.index, q);				/* ADDR */
		CHECK_EQ(f.got[i + 3].nfds, 1);			/* CALL: the irqfd */
		CHECK_EQ(f.got[i + 4].nfds, 1);			/* KICK: the doorbell */
		memcpy(&st, f.got[i + 5].payload, 8);
		CHECK(st.index == (uint32_t)q && st.num == 1);	/* ENABLE */
	}
	for (q = 0, i = 25; q < 3; q++, i += 2) {
		memcpy(&st, f.got[i].payload, 8);
		CHECK(st.index == (uint32_t)q && st.num == 0);	/* disabled ... */
		memcpy(&st, f.got[i + 1].payload, 4);
		CHECK_EQ(st.index, q);				/* ... and stopped */
	}
	for (q = 0; q < 3; q++) {
		close(queue_fds_kick[q]);
		close(queue_fds_call[q]);
	}
	gm_free(&gm);
}

static int reset_seen;

static void test_needs_reset(struct virtio_dev *d)
{
	(void)d;
	__atomic_store_n(&reset_seen, 1, __ATOMIC_RELEASE);
}

static void *loop_main(void *ev)
{
	evloop_run(ev);
	return NULL;
}

/* The back-end hangs up after SET_OWNER: the I/O thread's loop logs one line and the device asks
 * for a reset; the loop and the test go on. */
static void test_hangup(void)
{
	struct fake f = { 0 };
	struct evloop *ev = NULL;
	struct vudev *u = NULL;
	pthread_t t;
	int lines, i;

	CHECK_EQ(evloop_create(&ev), 0);
	script_negotiate(&f, MQ, 2);
	f.steps[f.nsteps - 1].kind = R_CLOSE;	/* SET_OWNER, unacked, then the socket is shut */
	lines = log_lines();
	CHECK_EQ(create(&f, &u, "share", 1, NULL, ev), 0);
	if (u) {
		vudev_virtio(u)->needs_reset = test_needs_reset;
		CHECK_EQ(pthread_create(&t, NULL, loop_main, ev), 0);
		for (i = 0; i < 500 && !__atomic_load_n(&reset_seen, __ATOMIC_ACQUIRE); i++)
			nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);	/* bounded poll */
		evloop_stop(ev);
		pthread_join(t, NULL);
		CHECK_EQ(__atomic_load_n(&reset_seen, __ATOMIC_ACQUIRE), 1);
		CHECK_EQ(log_lines(), lines + 1);
	}
	stop(&f, u);
	evloop_destroy(ev);
	CHECK_EQ(f.mismatch, 0);
}

static int used_signals;

static void test_signal_used(struct virtio_dev *d, uint16_t q)
{
	(void)d;
	if (q == 1)
		__atomic_add_fetch(&used_signals, 1, __ATOMIC_ACQ_REL);
}

/* Request queue 1's rings at 0x20000 (desc), 0x21000 (avail), 0x22000 (used); buffers from 0x30000.
 * put_req: a GETATTR with unique id in descriptors 2i (in_len readable header bytes at in_gpa, 0:
 * the usual place) and 2i+1 (out_len writable bytes at 0x30080 + 0x100 i), published as avail entry
 * number slot. put_request: a well-formed one. */
static void put_req(struct guest_mem *gm, uint16_t i, uint16_t slot, uint64_t unique, uint32_t in_len,
		    uint32_t out_len, uint64_t in_gpa)
{
	struct fuse_in_header in = { .len = sizeof(in), .opcode = FUSE_GETATTR, .unique = unique };
	struct vring_desc dd[2] = {
		{ .addr = in_gpa ? in_gpa : 0x30000 + 0x100 * (uint64_t)i, .len = in_len, .flags = VRING_DESC_F_NEXT,
		  .next = (uint16_t)(2 * i + 1) },
		{ .addr = 0x30080 + 0x100 * i, .len = out_len, .flags = VRING_DESC_F_WRITE },
	};
	struct vring_avail *av = gm_ptr(gm, 0x21000, 4 + 2 * 64);

	gm_write(gm, 0x30000 + 0x100 * i, &in, sizeof(in));
	gm_write(gm, 0x20000 + 16 * 2 * i, dd, sizeof(dd));
	av->ring[slot % 64] = (uint16_t)(2 * i);
	__atomic_store_n(&av->idx, (uint16_t)(slot + 1), __ATOMIC_RELEASE);
}

static void put_request(struct guest_mem *gm, uint16_t i, uint16_t slot, uint64_t unique)
{
	put_req(gm, i, slot, unique, sizeof(struct fuse_in_header), 64, 0);
}

/* Orphan mode: the back-end dies holding request A; a request B made after that is answered by
 * ckvm with EIO for B's unique id (and an interrupt), A stays unanswered. Hostile requests after
 * it: C with a 4-byte header and D with 8 writable bytes are returned untouched (length 0), E points
 * outside RAM (the queue breaks; nothing is returned for it). */
static void test_orphan(void)
{
	struct guest_mem gm = { 0 };
	struct fake f = { 0 };
	struct evloop *ev = NULL;
	struct vudev *u = NULL;
	struct virtio_dev *d;
	struct vring_used *used;
	struct fuse_out_header *out;
	uint64_t one = 1, features = 1ULL << VIRTIO_F_VERSION_1;
	pthread_t t;
	int q, i, lines;

	CHECK_EQ(gm_alloc_ram_flags(&gm, 16 << 20, 1ULL << 32, GM_SHARED), 0);
	CHECK_EQ(evloop_create(&ev), 0);
	script_negotiate(&f, ACK | MQ, 2);
	fake_add(&f, VHOST_USER_SET_FEATURES, R_U64, 0);
	fake_add(&f, VHOST_USER_SET_MEM_TABLE, R_U64, 0);
	for (q = 0; q < 2 * 6; q++)	/* NUM, ADDR, BASE, CALL, KICK, ENABLE for hiprio and queue 1 */
		fake_add(&f, (uint32_t[]){ VHOST_USER_SET_VRING_NUM, VHOST_USER_SET_VRING_ADDR,
			 VHOST_USER_SET_VRING_BASE, VHOST_USER_SET_VRING_CALL, VHOST_USER_SET_VRING_KICK,
			 VHOST_USER_SET_VRING_ENABLE }[q % 6], R_U64, 0);
	fake_add(&f, VHOST_USER_SET_VRING_ERR, R_U64, 0);	/* with an I/O loop: an error eventfd each */
	fake_add(&f, VHOST_USER_SET_VRING_ERR, R_U64, 0);
	reset_seen = 0;
	CHECK_EQ(create(&f, &u, "share", 1, &gm, ev), 0);
	if (!u) {
		stop(&f, NULL);
		evloop_destroy(ev);
		gm_free(&gm);
		return;
	}
	d = vudev_virtio(u);
	d->queue_fds = test_queue_fds;
	d->needs_reset = test_needs_reset;
	d->signal_used = test_signal_used;
	d->features = features;
	for (q = 0; q < 2; q++) {
		queue_fds_kick[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		queue_fds_call[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		CHECK_EQ(vq_enable(&d->vq[q], &gm, 64, 0x10000 * (q + 1), 0x10000 * (q + 1) + 0x1000,
				   0x10000 * (q + 1) + 0x2000, features), 0);
	}
	CHECK_EQ(d->ops->activate(d), 0);
	put_request(&gm, 0, 0, 11);	/* A: the back-end's, in flight when it dies */
	CHECK_EQ(pthread_create(&t, NULL, loop_main, ev), 0);
	/* the back-end signals queue 1's error eventfd: one line, NEEDS_RESET */
	lines = log_lines();
	for (i = 0; i < 500 && f.ngot < 21; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);	/* bounded poll */
	CHECK(f.ngot >= 21 && f.got[20].req == VHOST_USER_SET_VRING_ERR && f.got[20].nfds == 1);
	if (f.ngot >= 21 && f.got[20].nfds == 1)
		CHECK_EQ(write(f.got[20].fds[0], &one, 8), 8);
	for (i = 0; i < 500 && !__atomic_load_n(&reset_seen, __ATOMIC_ACQUIRE); i++)
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);	/* bounded poll */
	CHECK_EQ(__atomic_load_n(&reset_seen, __ATOMIC_ACQUIRE), 1);
	CHECK_EQ(log_lines(), lines + 1);
	__atomic_store_n(&reset_seen, 0, __ATOMIC_RELEASE);
	shutdown(f.fd, SHUT_RDWR);	/* the back-end dies */
	for (i = 0; i < 500 && !__atomic_load_n(&reset_seen, __ATOMIC_ACQUIRE); i++)
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);	/* bounded poll */
	CHECK_EQ(__atomic_load_n(&reset_seen, __ATOMIC_ACQUIRE), 1);
	put_request(&gm, 1, 1, 77);	/* B: after the death */
	put_req(&gm, 2, 2, 78, 4, 64, 0);	/* C: a short header */
	memset(gm_ptr(&gm, 0x30380, 8), 0xaa, 8);
	put_req(&gm, 3, 3, 79, sizeof(struct fuse_in_header), 8, 0);	/* D: no room for a reply */
	put_req(&gm, 4, 4, 80, sizeof(struct fuse_in_header), 64, 1ULL << 40);	/* E: not RAM */
	CHECK_EQ(write(queue_fds_kick[1], &one, 8), 8);
	used = gm_ptr(&gm, 0x22000, 4 + 8 * 64);
	for (i = 0; i < 500 && !__atomic_load_n(&used_signals, __ATOMIC_ACQUIRE); i++)
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);	/* bounded poll */
	evloop_stop(ev);
	pthread_join(t, NULL);
	CHECK_EQ(__atomic_load_n(&used_signals, __ATOMIC_ACQUIRE), 1);
	CHECK_EQ(used->idx, 3);		/* B, C, D; not A, not E */
	CHECK_EQ(used->ring[0].id, 2);
	CHECK_EQ(used->ring[0].len, sizeof(*out));
	CHECK(used->ring[1].id == 4 && used->ring[1].len == 0);
	CHECK(used->ring[2].id == 6 && used->ring[2].len == 0);
	CHECK_EQ(*(uint64_t *)gm_ptr(&gm, 0x30380, 8), 0xaaaaaaaaaaaaaaaaULL);
	out = gm_ptr(&gm, 0x30180, sizeof(*out));
	CHECK_EQ(out->len, sizeof(*out));
	CHECK_EQ(out->error, -EIO);
	CHECK_EQ(out->unique, 77);
	d->ops->reset(d);	/* the guest's reset: the doorbells leave the loop */
	stop(&f, u);
	evloop_destroy(ev);
	for (q = 0; q < 2; q++) {
		close(queue_fds_kick[q]);
		close(queue_fds_call[q]);
	}
	gm_free(&gm);
}

int main(void)
{
	char logname[] = "/tmp/ckvm-vufs-log.XXXXXX";
	int fds;

	log_fd = mkstemp(logname);
	unlink(logname);
	log_set_output(log_fd);
	if (!mkdtemp(dir))
		return 2;
	snprintf(sock, sizeof(sock), "%s/fs.sock", dir);
	fds = fake_count_fds();
	RUN(test_config);
	RUN(test_queue_num);
	RUN(test_activate_reset);
	RUN(test_hangup);
	RUN(test_orphan);
	t_name = "fd-leak";
	CHECK_EQ(fake_count_fds(), fds);
	rmdir(dir);
	return test_summary();
}
