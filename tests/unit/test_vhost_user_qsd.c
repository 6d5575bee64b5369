/* The vhost-user front-end against a real back-end: qemu-storage-daemon exporting a raw image as
 * vhost-user-blk. No /dev/kvm: the test is the guest driver (tests/unit/vq_mock.c rings in shared
 * memfd RAM), the kick and call fds are plain eventfds. It negotiates, reads config space, hands the
 * queue over, reads and writes sectors through the daemon, stops the queue, then kills the daemon
 * and checks that the connection fails cleanly. Skipped (and says so) without qemu-storage-daemon. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>

#include "log.h"
#include "virtio/vhost_user.h"
#include "test.h"
#include "vq_mock.h"

#define QSD "/usr/bin/qemu-storage-daemon"
#define IMG_BYTES (1u << 20)
#define QSIZE 64

extern char **environ;

static char dir[] = "/tmp/ckvm-qsd.XXXXXX", img[64], sock[64];
static uint8_t image[IMG_BYTES];
static pid_t qsd = -1;
static struct guest_mem gm;
static struct vq_mock m;
static struct vhu_conn c;
static int kick = -1, call = -1;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Start the daemon and connect once its socket answers (bounded: 20 s; it is slow under load). */
static int start_qsd(void)
{
	char file[128], exp[160];
	char *argv[] = { QSD, "--blockdev", file, "--export", exp, NULL };
	int64_t end = now_ms() + 20000;
	int fd, ret;

	snprintf(file, sizeof(file), "driver=file,node-name=f,filename=%s", img);
	snprintf(exp, sizeof(exp), "type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path=%s,"
		 "writable=on", sock);
	fd = open(img, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, image, IMG_BYTES) != IMG_BYTES)
		return -EIO;
	close(fd);
	if ((ret = posix_spawn(&qsd, QSD, NULL, NULL, argv, environ)))
		return -ret;
	while (now_ms() < end) {
		int st;

		if (access(sock, F_OK) == 0 && vhu_connect(&c, sock) == 0)
			return 0;
		if (waitpid(qsd, &st, WNOHANG) == qsd) {
			qsd = -1;
			return -ECHILD;
		}
		poll(NULL, 0, 50);	/* polling a condition with a bound, not a sleep as synchronisation */
	}
	return -ETIMEDOUT;
}

/* Shared RAM at gpa 0 with the driver-side rings at VQM_RAM_GPA (the mock's layout). */
static int rings_init(void)
{
	int ret = gm_alloc_ram_flags(&gm, 16 << 20, 1ULL << 32, GM_SHARED);

	if (ret)
		return ret;
	memset(&m, 0, sizeof(m));
	m.gm = gm;
	m.ram = gm.r[0].hva + VQM_RAM_GPA;
	m.ram_len = (8 << 20);
	m.size = QSIZE;
	m.desc_gpa = VQM_RAM_GPA;
	m.avail_gpa = m.desc_gpa + 16ULL * QSIZE;
	m.used_gpa = (m.avail_gpa + 6 + 2ULL * QSIZE + 3) & ~3ULL;
	m.heap_gpa = (m.used_gpa + 6 + 8ULL * QSIZE + 4095) & ~4095ULL;
	return 0;
}

/* One request (type, sector, len bytes of data) through the daemon; the status byte or -errno. */
static int blk_request(uint32_t type, uint64_t sector, uint64_t data_gpa, uint32_t len)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };
	uint64_t hdr_gpa = vqm_alloc(&m, sizeof(h)), st_gpa = vqm_alloc(&m, 1), v = 1;
	struct vqm_seg segs[3] = {
		{ hdr_gpa, sizeof(h), false },
		{ data_gpa, len, type == VIRTIO_BLK_T_IN },
		{ st_gpa, 1, true },
	};
	int64_t end = now_ms() + 10000;
	uint32_t id, used_len;

	memcpy(vqm_host(&m, hdr_gpa), &h, sizeof(h));
	*(uint8_t *)vqm_host(&m, st_gpa) = 0xff;
	if (len)
		vqm_add(&m, segs, 3);
	else {		/* no data segment at all: the daemon refuses an empty buffer */
		segs[1] = segs[2];
		vqm_add(&m, segs, 2);
	}
	if (write(kick, &v, 8) != 8)
		return -errno;
	/* the daemon signals the call fd once when it gets it, so a signal alone proves nothing: wait
	 * until the used entry is there */
	while (vqm_get_used(&m, &id, &used_len) != 1) {
		struct pollfd p = { .fd = call, .events = POLLIN };
		int64_t left = end - now_ms();

		if (left <= 0 || poll(&p, 1, (int)left) != 1)
			return -ETIMEDOUT;
		if (read(call, &v, 8) != 8)
			return -EIO;
	}
	return *(uint8_t *)vqm_host(&m, st_gpa);
}

static void test_qsd(void)
{
	struct virtio_blk_config cfg;
	uint64_t data_gpa, want, lines0;
	uint8_t out[512 * 4], in[512 * 3];
	uint32_t base = 9;
	int ret, fd;

	CHECK_EQ(getrandom(image, sizeof(image), 0), sizeof(image));
	CHECK(mkdtemp(dir) != NULL);
	snprintf(img, sizeof(img), "%s/disk.raw", dir);
	snprintf(sock, sizeof(sock), "%s/vhost.sock", dir);
	ret = start_qsd();
	CHECK_EQ(ret, 0);
	if (ret)
		return;
	/* negotiation as a device would do it: protocol features, then the virtio ones it keeps */
	CHECK_EQ(vhu_negotiate(&c, (1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK) |
			       (1ULL << VHOST_USER_PROTOCOL_F_CONFIG) | (1ULL << VHOST_USER_PROTOCOL_F_MQ)), 0);
	CHECK(c.features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES));
	CHECK(c.features & (1ULL << VIRTIO_F_VERSION_1));
	CHECK(c.protocol_features & (1ULL << VHOST_USER_PROTOCOL_F_CONFIG));
	/* QEMU 7.2's config is shorter than this kernel header's (72 bytes): it refuses a longer read
	 * with an empty reply, which must cost this request only */
	memset(&cfg, 0, sizeof(cfg));
	CHECK_EQ(vhu_get_config(&c, 0, &cfg, sizeof(cfg)), -EIO);
	CHECK_EQ(c.err, 0);
	CHECK_EQ(vhu_get_config(&c, 0, &cfg, 24), 0);	/* capacity, size_max, seg_max, geometry */
	CHECK_EQ(cfg.capacity, IMG_BYTES / 512);
	CHECK(cfg.seg_max > 0);
	want = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VHOST_USER_F_PROTOCOL_FEATURES);
	CHECK_EQ(vhu_set_features(&c, want), 0);
	/* the queue: memory table (memfd), ring, eventfds */
	CHECK_EQ(rings_init(), 0);
	kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	CHECK_EQ(vhu_set_mem_table(&c, &gm), 0);
	CHECK_EQ(vhu_set_vring_num(&c, 0, QSIZE), 0);
	CHECK_EQ(vhu_set_vring_addr(&c, &gm, 0, QSIZE, m.desc_gpa, m.avail_gpa, m.used_gpa), 0);
	CHECK_EQ(vhu_set_vring_base(&c, 0, 0), 0);
	CHECK_EQ(vhu_set_vring_call(&c, 0, call), 0);
	CHECK_EQ(vhu_set_vring_kick(&c, 0, kick), 0);
	CHECK_EQ(vhu_set_vring_enable(&c, 0, 1), 0);
	if (c.err)
		return;
	/* read 3 sectors at sector 5: the image's bytes, in guest RAM */
	data_gpa = vqm_alloc(&m, sizeof(in));
	CHECK_EQ(blk_request(VIRTIO_BLK_T_IN, 5, data_gpa, sizeof(in)), VIRTIO_BLK_S_OK);
	CHECK(!memcmp(vqm_host(&m, data_gpa), image + 5 * 512, sizeof(in)));
	/* write 4 sectors at sector 100: the file has them afterwards */
	CHECK_EQ(getrandom(out, sizeof(out), 0), sizeof(out));
	data_gpa = vqm_alloc(&m, sizeof(out));
	memcpy(vqm_host(&m, data_gpa), out, sizeof(out));
	CHECK_EQ(blk_request(VIRTIO_BLK_T_OUT, 100, data_gpa, sizeof(out)), VIRTIO_BLK_S_OK);
	CHECK_EQ(blk_request(VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	fd = open(img, O_RDONLY | O_CLOEXEC);
	CHECK_EQ(pread(fd, in, sizeof(in), 100 * 512), sizeof(in));
	CHECK(!memcmp(in, out, sizeof(in)));
	close(fd);
	/* stop: the ring's next index counts the three requests we made */
	CHECK_EQ(vhu_stop_queues(&c, 1, &base), 0);
	CHECK_EQ(base, 3);
	/* the back-end dies: the next call fails with -errno and the connection stays dead */
	kill(qsd, SIGKILL);
	waitpid(qsd, NULL, 0);
	qsd = -1;
	lines0 = 0;
	ret = vhu_set_vring_base(&c, 0, 3);
	if (!ret)	/* the write may still land in the socket buffer: the reply cannot */
		ret = vhu_get_vring_base(&c, 0, &base);
	CHECK(ret == -ECONNRESET || ret == -EPIPE);
	CHECK_EQ(c.err, ret);
	CHECK_EQ(vhu_get_vring_base(&c, 0, &base), ret);
	(void)lines0;
}

int main(void)
{
	if (access(QSD, X_OK)) {
		printf("skipped: %s not installed (scripts/deps.sh test installs qemu-system-common)\n", QSD);
		printf("0 passed, 0 failed\n");
		return 0;
	}
	RUN(test_qsd);
	vhu_close(&c);
	if (qsd > 0) {
		kill(qsd, SIGKILL);
		waitpid(qsd, NULL, 0);
	}
	if (kick >= 0)
		close(kick);
	if (call >= 0)
		close(call);
	gm_free(&gm);
	unlink(img);
	unlink(sock);
	rmdir(dir);
	return test_summary();
}
