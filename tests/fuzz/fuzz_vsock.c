/* libFuzzer target for virtio-vsock's packet path (src/virtio/vsock_pkt.c, vsock_host.c): the input
 * is a sequence of guest packets, each [u16 length][bytes] with the bytes (header and payload, so
 * every header field is the fuzzer's) split over one or two descriptors at a point it picks, plus a
 * byte of host actions per packet (write to, or close, the host ends of open connections; connect a
 * host client with a fuzzer-chosen handshake line). A host listener on PATH_1024 accepts the guest's
 * connections. The device must never write outside the rx buffers, never send a packet longer than
 * the buffer, and must survive anything. Single-threaded: vsock_service() stands in for the loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/virtio_vsock.h>

#include "core/evloop.h"
#include "log.h"
#include "vq_mock.h"
#include "virtio/virtio_vsock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define QSZ 16
#define RXBUF 512
#define MAX_HOST 8

static struct evloop *ev;
static char path[64], lpath[80];
static int lfd = -1;

static void nop_used(struct virtio_dev *d, uint16_t q) { (void)d; (void)q; }
static void nop_reset(struct virtio_dev *d) { (void)d; }

static void setup(void)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };

	log_threshold = LOG_ERR;
	if (evloop_create(&ev))
		abort();
	snprintf(path, sizeof(path), "/tmp/ckvm-fuzz-vsock-%d", (int)getpid());
	snprintf(lpath, sizeof(lpath), "%s_1024", path);
	unlink(lpath);
	memcpy(un.sun_path, lpath, strlen(lpath));
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&un, sizeof(un)) || listen(lfd, 64))
		abort();
}

static void rx_post(struct vq_mock *m)
{
	while ((uint16_t)(m->avail_idx - m->used_seen) < QSZ) {
		uint64_t g = vqm_alloc(m, RXBUF);

		if (!g) {
			m->heap_gpa -= 64 * RXBUF;	/* recycle: the buffers' contents do not matter */
			g = vqm_alloc(m, RXBUF);
		}
		vqm_add(m, (struct vqm_seg[]){ { g, RXBUF, true } }, 1);
	}
}

static void rx_drain(struct vq_mock *m)
{
	uint32_t id, len;

	while (vqm_get_used(m, &id, &len))
		if (len > RXBUF)
			abort();	/* the device wrote past a buffer */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vsock_params p = { .queue_size = QSZ, .guest_cid = 3 };
	int host[MAX_HOST], nhost = 0;
	struct vq_mock q[3];
	struct vsock *v;
	struct virtio_dev *d;
	size_t off = 0;

	if (!ev)
		setup();
	if (vqm_init(&q[0], QSZ, 1 << 20))
		abort();
	for (int i = 1; i < 3; i++) {
		q[i] = q[0];
		q[i].desc_gpa = vqm_alloc(&q[0], 4096);
		q[i].avail_gpa = vqm_alloc(&q[0], 4096);
		q[i].used_gpa = vqm_alloc(&q[0], 4096);
		q[i].heap_gpa = vqm_alloc(&q[0], 256 << 10);
		q[i].next_desc = q[i].avail_idx = q[i].used_seen = 0;
	}
	q[0].heap_gpa = vqm_alloc(&q[0], 0);
	p.gm = &q[0].gm;
	p.ev = ev;
	p.path = path;
	if (vsock_create(&v, &p))
		abort();
	d = vsock_virtio(v);
	d->signal_used = nop_used;
	d->needs_reset = nop_reset;
	d->features = 1ULL << VIRTIO_F_VERSION_1;
	for (int i = 0; i < 3; i++)
		if (vqm_enable(&q[i], &d->vq[i], d->features))
			abort();
	d->ops->activate(d);
	rx_post(&q[0]);
	while (off + 4 <= size) {
		uint16_t len = (uint16_t)(data[off] | data[off + 1] << 8) % 2048;
		uint8_t split = data[off + 2], act = data[off + 3];
		uint64_t g;
		int fd;

		off += 4;
		if (len > size - off)
			len = (uint16_t)(size - off);
		/* host actions first */
		while (nhost < MAX_HOST && (fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0)
			host[nhost++] = fd;
		if (nhost && (act & 3) == 1)
			(void)!send(host[act % nhost], data + off, len < 300 ? len : 300, MSG_NOSIGNAL);
		if (nhost && (act & 3) == 2) {
			close(host[--nhost]);
		}
		if ((act & 3) == 3 && nhost < MAX_HOST) {
			struct sockaddr_un un = { .sun_family = AF_UNIX };

			memcpy(un.sun_path, path, strlen(path));
			fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
			if (fd >= 0 && !connect(fd, (struct sockaddr *)&un, sizeof(un))) {
				(void)!send(fd, act & 4 ? "CONNECT 5000\n" : (const char *)data + off,
					    act & 4 ? 13 : (len < 40 ? len : 40), MSG_NOSIGNAL);
				host[nhost++] = fd;
			} else if (fd >= 0) {
				close(fd);
			}
		}
		/* the guest's packet, in one or two descriptors */
		g = vqm_alloc(&q[1], len + 1u);
		if (!g) {
			q[1].heap_gpa -= 128 << 10;
			g = vqm_alloc(&q[1], len + 1u);
		}
		memcpy(vqm_host(&q[1], g), data + off, len);
		off += len;
		if (split && split < len)
			vqm_add(&q[1], (struct vqm_seg[]){ { g, split, false }, { g + split, len - split, false } }, 2);
		else
			vqm_add(&q[1], (struct vqm_seg[]){ { g, len, false } }, 1);
		{
			uint32_t id, ulen;

			d->ops->notify(d, 1);
			vsock_service(v);
			while (vqm_get_used(&q[1], &id, &ulen))
				;
		}
		rx_drain(&q[0]);
		rx_post(&q[0]);
		d->ops->notify(d, 0);
		vsock_service(v);
		rx_drain(&q[0]);
	}
	d->ops->reset(d);
	vsock_service(v);
	vsock_destroy(v);
	while (nhost)
		close(host[--nhost]);
	vqm_free(&q[0]);
	return 0;
}
