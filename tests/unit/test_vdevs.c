/* Unit tests for virtio-rng (src/virtio/virtio_rng.c) and virtio-vsock (src/virtio/virtio_vsock.c,
 * vsock_pkt.c, vsock_host.c) driven by the driver-side queue mock: random fills, the rate limit,
 * save/restore checks; vsock connections both ways over real Unix sockets, stream data both ways,
 * and hostile headers and chains (RST, NEEDS_RESET, no overflow). No event-loop thread: the test
 * calls vsock_service() where the I/O thread would. */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/virtio_vsock.h>

#include "config.h"
#include "core/evloop.h"
#include "log.h"
#include "test.h"
#include "vq_mock.h"
#include "virtio/virtio_balloon.h"
#include "virtio/virtio_rng.h"
#include "virtio/virtio_vsock.h"

#define QSZ 16
#define FEATS (1ULL << VIRTIO_F_VERSION_1)

static int resets, signals;
static uint32_t guest_fwd_cnt, guest_flags;	/* what the guest's packets say it consumed */

static void fx_signal_used(struct virtio_dev *d, uint16_t q)
{
	(void)d; (void)q;
	signals++;
}

static void fx_needs_reset(struct virtio_dev *d)
{
	(void)d;
	resets++;
}

static void wire(struct virtio_dev *d)
{
	d->signal_used = fx_signal_used;
	d->needs_reset = fx_needs_reset;
	d->features = FEATS;
	resets = signals = 0;
}

/* ---- the options ---- */

static int parse(const char *a, const char *b)
{
	static struct vm_config cfg;
	char *argv[] = { "ckvm", "run", "--kernel", "/proc/self/exe", (char *)a, (char *)b, NULL };
	enum config_action act;
	char err[256];
	int ret = config_parse(b ? 6 : 5, argv, &cfg, &act, err, sizeof(err));

	if (!ret && !strcmp(a, "--balloon"))
		ret = (int)cfg.balloon.size_mib;
	return ret;
}

static void test_options(void)
{
	CHECK_EQ(parse("--rng", NULL), 0);
	CHECK_EQ(parse("--rng=bytes_per_sec=100", NULL), 0);
	CHECK_EQ(parse("--rng=bytes_per_sec=0", NULL), -EINVAL);
	CHECK_EQ(parse("--rng=rate=5", NULL), -EINVAL);
	CHECK_EQ(parse("--vsock", "cid=3,socket=/tmp/x"), 0);
	CHECK_EQ(parse("--vsock", "cid=2,socket=/tmp/x"), -EINVAL);		/* the host's CID */
	CHECK_EQ(parse("--vsock", "cid=3"), -EINVAL);
	CHECK_EQ(parse("--vsock", "cid=3,cid=4,socket=/x"), -EINVAL);
	CHECK_EQ(parse("--vsock", "cid=3,socket=/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), -EINVAL);
	CHECK_EQ(parse("--balloon", "size=64"), 64);
	CHECK_EQ(parse("--balloon", "size=256M,deflate_on_oom=on,stats=on"), 256);
	CHECK_EQ(parse("--balloon", "size=512"), -EINVAL);	/* not below the default 512M */
	CHECK_EQ(parse("--balloon", "size=1K"), -EINVAL);
	CHECK_EQ(parse("--balloon", "size=4,stats=maybe"), -EINVAL);
	CHECK_EQ(parse("--balloon", "size=4,,stats=on"), -EINVAL);
}

/* ---- rng ---- */

static void test_rng_fill(void)
{
	struct vrng_config cfg = { .queue_size = QSZ };
	struct vq_mock m;
	struct vrng *r;
	struct virtio_dev *d;
	uint64_t a, b;
	uint32_t id, len;
	uint8_t *pa, *pb;
	int nz = 0;

	CHECK_EQ(vqm_init(&m, QSZ, 1 << 20), 0);
	cfg.gm = &m.gm;
	CHECK_EQ(vrng_create(&r, &cfg), 0);
	d = vrng_virtio(r);
	wire(d);
	CHECK_EQ(vqm_enable(&m, &d->vq[0], FEATS), 0);
	CHECK_EQ(d->ops->activate(d), 0);
	a = vqm_alloc(&m, 256);
	b = vqm_alloc(&m, 256);
	vqm_add(&m, (struct vqm_seg[]){ { a, 100, true }, { b, 200, true } }, 2);
	d->ops->notify(d, 0);
	CHECK_EQ(vqm_get_used(&m, &id, &len), 1);
	CHECK_EQ(len, 300);
	pa = vqm_host(&m, a);
	pb = vqm_host(&m, b);
	for (int i = 0; i < 100; i++)
		nz += pa[i] != 0;
	CHECK(nz > 80);
	CHECK(memcmp(pa, pb, 100) != 0);
	CHECK_EQ(pb[200], 0);		/* nothing past the buffer */
	CHECK_EQ(vrng_bytes(r), 300);
	/* a readable segment: the driver broke §5.4.6.1 */
	vqm_add(&m, (struct vqm_seg[]){ { a, 16, false }, { b, 16, true } }, 2);
	d->ops->notify(d, 0);
	CHECK_EQ(resets, 1);
	CHECK_EQ(vqm_get_used(&m, &id, &len), 0);
	d->ops->reset(d);
	vrng_destroy(r);
	vqm_free(&m);
}

static void test_rng_rate_and_state(void)
{
	struct vrng_config cfg = { .queue_size = QSZ, .bytes_per_sec = 1000 };
	struct evloop *ev;
	struct vq_mock m;
	struct vrng *r;
	struct virtio_dev *d;
	struct device *dev;
	uint8_t rec[64];
	uint32_t id, len;
	uint64_t a;
	ssize_t n;

	CHECK_EQ(evloop_create(&ev), 0);
	CHECK_EQ(vqm_init(&m, QSZ, 1 << 20), 0);
	cfg.gm = &m.gm;
	cfg.ev = ev;
	CHECK_EQ(vrng_create(&r, &cfg), 0);
	d = vrng_virtio(r);
	dev = vrng_device(r);
	wire(d);
	CHECK_EQ(vqm_enable(&m, &d->vq[0], FEATS), 0);
	CHECK_EQ(d->ops->activate(d), 0);
	a = vqm_alloc(&m, 4096);
	vqm_add(&m, (struct vqm_seg[]){ { a, 4096, true } }, 1);
	vqm_add(&m, (struct vqm_seg[]){ { a, 4096, true } }, 1);
	d->ops->notify(d, 0);
	/* one second's bucket: 1000 bytes in the first buffer, the second waits for the timer */
	CHECK_EQ(vqm_get_used(&m, &id, &len), 1);
	CHECK(len >= 1000 && len <= 1010);
	CHECK_EQ(vqm_get_used(&m, &id, &len), 0);
	/* save, then hostile records */
	CHECK_EQ(dev->ops->pause(dev, 0), 0);
	n = dev->ops->save(dev, rec, sizeof(rec));
	CHECK_EQ(n, 16);
	CHECK_EQ(dev->ops->restore(dev, rec, (size_t)n), 0);
	CHECK_EQ(dev->ops->restore(dev, rec, (size_t)n - 1), -EINVAL);
	memset(rec + 8, 0xff, 8);	/* a bucket fuller than the rate allows */
	CHECK_EQ(dev->ops->restore(dev, rec, (size_t)n), -EINVAL);
	CHECK_EQ(dev->ops->save(dev, rec, 8), -ENOSPC);
	dev->ops->resume(dev);
	cfg.bytes_per_sec = VRNG_RATE_MAX + 1;
	CHECK_EQ(vrng_create(&r, &cfg) == -EINVAL, 1);
	d->ops->reset(d);
	dev->ops->destroy(dev);
	vqm_free(&m);
	evloop_destroy(ev);
}

/* ---- vsock ---- */

struct vfx {
	struct vq_mock q[3];		/* rx, tx, event: rings in q[0]'s RAM */
	struct evloop *ev;
	struct vsock *v;
	struct virtio_dev *d;
	char dir[64], path[128];
	uint64_t rxbuf[QSZ];		/* gpa of each rx head's buffer */
};

#define RXBUF 4096

static void vfx_rx_post(struct vfx *f, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t g = vqm_alloc(&f->q[0], RXBUF);
		uint16_t h = vqm_add(&f->q[0], (struct vqm_seg[]){ { g, RXBUF, true } }, 1);

		f->rxbuf[h] = g;
	}
}

static void vfx_init(struct vfx *f)
{
	struct vsock_params p = { .queue_size = QSZ, .guest_cid = 3 };

	memset(f, 0, sizeof(*f));
	strcpy(f->dir, "/tmp/ckvm-vsock-XXXXXX");
	CHECK(mkdtemp(f->dir) != NULL);
	snprintf(f->path, sizeof(f->path), "%s/v.sock", f->dir);
	CHECK_EQ(evloop_create(&f->ev), 0);
	CHECK_EQ(vqm_init(&f->q[0], QSZ, 4 << 20), 0);
	for (int i = 1; i < 3; i++) {
		/* the other queues share queue 0's RAM: their rings and buffers come from its heap */
		f->q[i] = f->q[0];
		f->q[i].desc_gpa = vqm_alloc(&f->q[0], 4096);
		f->q[i].avail_gpa = vqm_alloc(&f->q[0], 4096);
		f->q[i].used_gpa = vqm_alloc(&f->q[0], 4096);
		f->q[i].heap_gpa = vqm_alloc(&f->q[0], 1 << 20);
		f->q[i].next_desc = f->q[i].avail_idx = f->q[i].used_seen = 0;
	}
	p.gm = &f->q[0].gm;
	p.ev = f->ev;
	p.path = f->path;
	CHECK_EQ(vsock_create(&f->v, &p), 0);
	f->d = vsock_virtio(f->v);
	wire(f->d);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(vqm_enable(&f->q[i], &f->d->vq[i], FEATS), 0);
	CHECK_EQ(f->d->ops->activate(f->d), 0);
	vfx_rx_post(f, 8);
	vsock_service(f->v);
}

static void vfx_free(struct vfx *f)
{
	char p[160];

	f->d->ops->reset(f->d);
	vsock_service(f->v);
	vsock_destroy(f->v);
	snprintf(p, sizeof(p), "%s_6000", f->path);
	unlink(p);
	rmdir(f->dir);
	vqm_free(&f->q[0]);
	evloop_destroy(f->ev);
}

/* Guest sends a packet: header + optional payload in a second descriptor. */
static void vfx_send(struct vfx *f, uint16_t op, uint32_t sport, uint32_t dport, const void *data,
		     uint32_t len, uint32_t hdr_len_field)
{
	struct vq_mock *t = &f->q[1];
	uint64_t hg = vqm_alloc(t, sizeof(struct virtio_vsock_hdr)), pg = len ? vqm_alloc(t, len) : 0;
	struct virtio_vsock_hdr *h = vqm_host(t, hg);

	memset(h, 0, sizeof(*h));
	h->src_cid = 3;
	h->dst_cid = 2;
	h->src_port = sport;
	h->dst_port = dport;
	h->len = hdr_len_field;
	h->type = VIRTIO_VSOCK_TYPE_STREAM;
	h->op = op;
	h->buf_alloc = 65536;
	h->fwd_cnt = guest_fwd_cnt;
	h->flags = guest_flags;
	if (len)
		memcpy(vqm_host(t, pg), data, len);
	if (len)
		vqm_add(t, (struct vqm_seg[]){ { hg, sizeof(*h), false }, { pg, len, false } }, 2);
	else
		vqm_add(t, (struct vqm_seg[]){ { hg, sizeof(*h), false } }, 1);
	f->d->ops->notify(f->d, 1);
	vsock_service(f->v);
}

/* The next packet for the guest: its header (and payload into data); 0 when none. */
static int vfx_recv(struct vfx *f, struct virtio_vsock_hdr *h, void *data, size_t cap)
{
	uint32_t id, len;

	if (!vqm_get_used(&f->q[0], &id, &len))
		return 0;
	memcpy(h, vqm_host(&f->q[0], f->rxbuf[id]), sizeof(*h));
	if (data && h->len <= cap)
		memcpy(data, (uint8_t *)vqm_host(&f->q[0], f->rxbuf[id]) + sizeof(*h), h->len);
	vfx_rx_post(f, 1);
	return len == sizeof(*h) + h->len ? 1 : -1;
}

static int unix_listen(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (strlen(path) >= sizeof(un.sun_path))
		return -1;
	memcpy(un.sun_path, path, strlen(path));
	unlink(path);
	if (bind(fd, (struct sockaddr *)&un, sizeof(un)) || listen(fd, 4))
		return -1;
	return fd;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (strlen(path) >= sizeof(un.sun_path))
		return -1;
	memcpy(un.sun_path, path, strlen(path));
	return connect(fd, (struct sockaddr *)&un, sizeof(un)) ? -1 : fd;
}

static void test_vsock_guest_to_host(void)
{
	struct virtio_vsock_hdr h;
	char p[160], buf[64];
	struct vfx f;
	int lfd, hfd;

	vfx_init(&f);
	snprintf(p, sizeof(p), "%s_6000", f.path);
	lfd = unix_listen(p);
	CHECK(lfd >= 0);
	vfx_send(&f, VIRTIO_VSOCK_OP_REQUEST, 1234, 6000, NULL, 0, 0);
	CHECK_EQ(vfx_recv(&f, &h, NULL, 0), 1);
	CHECK_EQ(h.op, VIRTIO_VSOCK_OP_RESPONSE);
	CHECK_EQ(h.dst_port, 1234);
	CHECK_EQ(h.src_port, 6000);
	CHECK_EQ(h.dst_cid, 3);
	CHECK_EQ(h.buf_alloc, 256 * 1024);
	hfd = accept(lfd, NULL, NULL);
	CHECK(hfd >= 0);
	vfx_send(&f, VIRTIO_VSOCK_OP_RW, 1234, 6000, "hello", 5, 5);
	CHECK_EQ(read(hfd, buf, sizeof(buf)), 5);
	CHECK(!memcmp(buf, "hello", 5));
	CHECK_EQ(write(hfd, "world!", 6), 6);
	vsock_service(f.v);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(vfx_recv(&f, &h, buf, sizeof(buf)), 1);
	CHECK_EQ(h.op, VIRTIO_VSOCK_OP_RW);
	CHECK_EQ(h.len, 6);
	CHECK_STR(buf, "world!");
	/* credit: the guest said buf_alloc 65536; with fwd_cnt 0 we may send no more than that */
	{
		static char big[100000];
		size_t got = 0;
		int r;

		CHECK_EQ(write(hfd, big, sizeof(big)), (ssize_t)sizeof(big));
		vsock_service(f.v);
		while ((r = vfx_recv(&f, &h, NULL, 0)) == 1) {
			got += h.len;
			vsock_service(f.v);
		}
		CHECK_EQ(got, 65536 - 6);
	}
	/* the host closes: SHUTDOWN after the data; the guest's RST frees the connection */
	/* the guest consumed everything: the rest flows, then the host's close shows */
	guest_fwd_cnt = 65536;
	vfx_send(&f, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1234, 6000, NULL, 0, 0);
	guest_fwd_cnt = 0;
	close(hfd);
	vsock_service(f.v);
	{
		int n = 0, shut = 0;

		while (vfx_recv(&f, &h, NULL, 0) == 1 && n++ < 100) {
			shut |= h.op == VIRTIO_VSOCK_OP_SHUTDOWN;
			vsock_service(f.v);
		}
		CHECK(shut);
	}
	vfx_send(&f, VIRTIO_VSOCK_OP_RST, 1234, 6000, NULL, 0, 0);
	{
		struct vsock_stats st;

		vsock_get_stats(f.v, &st);
		CHECK_EQ(st.conns, 0);
	}
	/* nobody listens on 7000: RST */
	vfx_send(&f, VIRTIO_VSOCK_OP_REQUEST, 1235, 7000, NULL, 0, 0);
	CHECK_EQ(vfx_recv(&f, &h, NULL, 0), 1);
	CHECK_EQ(h.op, VIRTIO_VSOCK_OP_RST);
	CHECK_EQ(h.dst_port, 1235);
	/* the guest half-closes, the host closes: one service pass must tell the guest (no later
	 * event would come for that socket) */
	vfx_send(&f, VIRTIO_VSOCK_OP_REQUEST, 1236, 6000, NULL, 0, 0);
	CHECK_EQ(vfx_recv(&f, &h, NULL, 0), 1);
	CHECK_EQ(h.op, VIRTIO_VSOCK_OP_RESPONSE);
	hfd = accept(lfd, NULL, NULL);
	guest_flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
	vfx_send(&f, VIRTIO_VSOCK_OP_SHUTDOWN, 1236, 6000, NULL, 0, 0);
	guest_flags = 0;
	{
		char c;

		CHECK_EQ(read(hfd, &c, 1), 0);	/* the half-close reached the host */
	}
	close(hfd);
	vsock_service(f.v);
	CHECK_EQ(vfx_recv(&f, &h, NULL, 0), 1);
	CHECK_EQ(h.op, VIRTIO_VSOCK_OP_SHUTDOWN);
	close(lfd);
	unlink(p);
	CHECK_EQ(resets, 0);
	vfx_free(&f);
}

static void test_vsock_host_to_guest(void)
{
	struct virtio_vsock_hdr h;
	char buf[64];
	struct vfx f;
	int cfd, bad;
	uint32_t port;

	vfx_init(&f);
	cfd = unix_connect(f.path);
	CHECK(cfd >= 0);
	CHECK_EQ(write(cfd, "CONNECT 5000\nabc", 16), 16);
	vsock_service(f.v);
	CHECK_EQ(vfx_recv(&f, &h, NULL, 0), 1);
	CHECK_EQ(h.op, VIRTIO_VSOCK_OP_REQUEST);
	CHECK_EQ(h.dst_port, 5000);
	CHECK(h.src_port >= 1u << 30);
	port = h.src_port;
	vfx_send(&f, VIRTIO_VSOCK_OP_RESPONSE, 5000, port, NULL, 0, 0);
	memset(buf, 0, sizeof(buf));
	CHECK(read(cfd, buf, sizeof(buf)) > 0);
	snprintf(buf + 32, 32, "OK %u\n", port);
	CHECK_STR(buf, buf + 32);
	/* the bytes after the handshake line are stream data */
	vsock_service(f.v);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(vfx_recv(&f, &h, buf, sizeof(buf)), 1);
	CHECK_EQ(h.op, VIRTIO_VSOCK_OP_RW);
	CHECK_STR(buf, "abc");
	/* bad handshakes are closed */
	bad = unix_connect(f.path);
	CHECK_EQ(write(bad, "CONNECT 99999999999\n", 20), 20);
	vsock_service(f.v);
	CHECK_EQ(read(bad, buf, sizeof(buf)), 0);
	close(bad);
	bad = unix_connect(f.path);
	CHECK_EQ(write(bad, "GET / HTTP/1.1 and a very long line\n", 36), 36);
	vsock_service(f.v);
	CHECK(read(bad, buf, sizeof(buf)) <= 0);	/* closed with bytes unread: EOF or ECONNRESET */
	close(bad);
	/* hostile headers: a length that is not the chain's, then a payload bigger than allowed */
	vfx_send(&f, VIRTIO_VSOCK_OP_RW, 5000, port, "xy", 2, 9);
	CHECK_EQ(vfx_recv(&f, &h, NULL, 0), 1);
	CHECK_EQ(h.op, VIRTIO_VSOCK_OP_RST);
	CHECK_EQ(read(cfd, buf, sizeof(buf)), 0);	/* the host client sees the end */
	close(cfd);
	vfx_send(&f, VIRTIO_VSOCK_OP_RW, 1, 2, NULL, 0, 0xffffffffu);
	CHECK_EQ(vfx_recv(&f, &h, NULL, 0), 1);
	CHECK_EQ(h.op, VIRTIO_VSOCK_OP_RST);
	vfx_send(&f, 99, 1, 2, NULL, 0, 0);	/* unknown op */
	CHECK_EQ(vfx_recv(&f, &h, NULL, 0), 1);
	CHECK_EQ(h.op, VIRTIO_VSOCK_OP_RST);
	vfx_send(&f, VIRTIO_VSOCK_OP_RST, 1, 2, NULL, 0, 0);	/* an RST is never answered */
	CHECK_EQ(vfx_recv(&f, &h, NULL, 0), 0);
	CHECK_EQ(resets, 0);
	/* a writable descriptor in a transmit chain: NEEDS_RESET */
	{
		uint64_t g = vqm_alloc(&f.q[1], 64);

		vqm_add(&f.q[1], (struct vqm_seg[]){ { g, 44, false }, { g, 16, true } }, 2);
		f.d->ops->notify(f.d, 1);
		vsock_service(f.v);
		CHECK_EQ(resets, 1);
	}
	vfx_free(&f);
}

/* ---- balloon ---- */

static int config_signals;

static void fx_signal_config(struct virtio_dev *d)
{
	(void)d;
	config_signals++;
}

static void test_balloon(void)
{
	struct vballoon_params p = { .queue_size = QSZ, .target_mib = 1, .stats = true };
	struct vq_mock q[3];
	struct vballoon *b;
	struct virtio_dev *d;
	struct vballoon_info in;
	struct device *dev;
	uint32_t id, len, cfg[2], actual = 256;
	uint64_t page, pfns_gpa, st_gpa;
	uint32_t *pfns;
	uint8_t rec[64];

	CHECK_EQ(vqm_init(&q[0], QSZ, 8 << 20), 0);
	for (int i = 1; i < 3; i++) {
		q[i] = q[0];
		q[i].desc_gpa = vqm_alloc(&q[0], 4096);
		q[i].avail_gpa = vqm_alloc(&q[0], 4096);
		q[i].used_gpa = vqm_alloc(&q[0], 4096);
		q[i].heap_gpa = vqm_alloc(&q[0], 64 << 10);
		q[i].next_desc = q[i].avail_idx = q[i].used_seen = 0;
	}
	p.gm = &q[0].gm;
	/* a target as large as the RAM is refused */
	p.target_mib = 8;
	CHECK_EQ(vballoon_create(&b, &p), -EINVAL);
	p.target_mib = 1;
	CHECK_EQ(vballoon_create(&b, &p), 0);
	d = vballoon_virtio(b);
	dev = vballoon_device(b);
	wire(d);
	d->signal_config = fx_signal_config;
	CHECK(d->ops->get_features(d) & 1ULL << 1);	/* STATS_VQ */
	d->ops->cfg_read(d, 0, cfg, 8);
	CHECK_EQ(cfg[0], 256);		/* 1 MiB in 4 KiB pages */
	d->ops->cfg_write(d, 4, &actual, 4);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(vqm_enable(&q[i], &d->vq[i], FEATS), 0);
	CHECK_EQ(d->ops->activate(d), 0);
	/* inflate one page full of data: its host memory is dropped and reads back as zeros */
	page = vqm_alloc(&q[0], 8192);
	page = (page + 4095) & ~4095ULL;
	memset(vqm_host(&q[0], page), 0xab, 4096);
	pfns_gpa = vqm_alloc(&q[0], 64);
	pfns = vqm_host(&q[0], pfns_gpa);
	pfns[0] = (uint32_t)(page >> 12);
	pfns[1] = 0xfffff;		/* not guest RAM: skipped */
	pfns[2] = 0;			/* gpa 0 is not RAM in the mock either */
	vqm_add(&q[0], (struct vqm_seg[]){ { pfns_gpa, 12, false } }, 1);
	d->ops->notify(d, 0);
	CHECK_EQ(vqm_get_used(&q[0], &id, &len), 1);
	CHECK_EQ(((uint8_t *)vqm_host(&q[0], page))[100], 0);
	vballoon_get_info(b, &in);
	CHECK_EQ(in.inflated_pages, 1);
	CHECK_EQ(in.actual_pages, 256);
	/* deflate */
	vqm_add(&q[1], (struct vqm_seg[]){ { pfns_gpa, 4, false } }, 1);
	d->ops->notify(d, 1);
	CHECK_EQ(vqm_get_used(&q[1], &id, &len), 1);
	vballoon_get_info(b, &in);
	CHECK_EQ(in.deflated_pages, 1);
	/* stats: two records, one with an unknown tag; the buffer is held (not used) */
	st_gpa = vqm_alloc(&q[2], 32);
	{
		uint8_t *r = vqm_host(&q[2], st_gpa);
		uint16_t t1 = 4, t2 = 77;
		uint64_t v1 = 123456, v2 = 1;

		memcpy(r, &t1, 2);
		memcpy(r + 2, &v1, 8);
		memcpy(r + 10, &t2, 2);
		memcpy(r + 12, &v2, 8);
	}
	vqm_add(&q[2], (struct vqm_seg[]){ { st_gpa, 20, false } }, 1);
	d->ops->notify(d, 2);
	CHECK_EQ(vqm_get_used(&q[2], &id, &len), 0);
	vballoon_get_info(b, &in);
	CHECK(in.stats_valid);
	CHECK(in.stat_set[4]);
	CHECK_EQ(in.stat[4], 123456);
	/* a new target: config interrupt; one not below the RAM: refused */
	CHECK_EQ(vballoon_set_target(b, 4), 0);
	CHECK_EQ(config_signals, 1);
	CHECK_EQ(vballoon_set_target(b, 8), -EINVAL);
	d->ops->cfg_read(d, 0, cfg, 4);
	CHECK_EQ(cfg[0], 1024);
	/* save/restore and a hostile record */
	CHECK_EQ(dev->ops->pause(dev, 0), 0);
	{
		ssize_t n = dev->ops->save(dev, rec, sizeof(rec));

		CHECK_EQ(n, 24);
		CHECK_EQ(dev->ops->restore(dev, rec, (size_t)n), 0);
		memset(rec, 0xff, 4);		/* target_pages beyond the RAM */
		CHECK_EQ(dev->ops->restore(dev, rec, (size_t)n), -EINVAL);
		CHECK_EQ(dev->ops->restore(dev, rec, 3), -EINVAL);
	}
	dev->ops->resume(dev);
	/* a writable descriptor on the inflate queue: NEEDS_RESET */
	vqm_add(&q[0], (struct vqm_seg[]){ { pfns_gpa, 4, true } }, 1);
	d->ops->notify(d, 0);
	CHECK_EQ(resets, 1);
	d->ops->reset(d);
	dev->ops->destroy(dev);
	vqm_free(&q[0]);
}

int main(void)
{
	log_threshold = LOG_ERR;
	RUN(test_options);
	RUN(test_rng_fill);
	RUN(test_rng_rate_and_state);
	RUN(test_vsock_guest_to_host);
	RUN(test_vsock_host_to_guest);
	RUN(test_balloon);
	return test_summary();
}
