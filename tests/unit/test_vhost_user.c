/* vhost-user front-end (src/virtio/vhost_user*.c) against an in-process fake back-end (vhu_fake.c):
 * encoding, negotiation, the memory table with its memfds, vring set-up with kick/call fds, stop, config
 * space, a refusing and a dead back-end. Malformed replies: test_vhost_user_bad.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "log.h"
#include "virtio/vhost_user.h"
#include "test.h"
#include "vhu_fake.h"

#define ACK (1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK)

static int log_fd;

static int log_lines(void)
{
	return fake_log_lines(log_fd);
}

static uint64_t bit(int b) { return 1ULL << b; }


/* Encoding: header words, payload sizes per request, limits. */
static void test_encode(void)
{
	uint8_t buf[VHOST_USER_HDR_SIZE + VHOST_USER_MAX_PAYLOAD];
	union vhu_payload p = { 0 };
	uint32_t h[3];

	CHECK_EQ(vhu_encode(buf, sizeof(buf), VHOST_USER_GET_FEATURES, 0, &p), 12);
	memcpy(h, buf, 12);
	CHECK_EQ(h[0], 1);
	CHECK_EQ(h[1], VHOST_USER_VERSION);
	CHECK_EQ(h[2], 0);
	p.u64 = 0x1122334455667788ULL;
	CHECK_EQ(vhu_encode(buf, sizeof(buf), VHOST_USER_SET_FEATURES, VHOST_USER_NEED_REPLY_MASK, &p), 20);
	memcpy(h, buf, 12);
	CHECK_EQ(h[1], VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK);
	CHECK(!memcmp(buf + 12, &p.u64, 8));
	CHECK_EQ(vhu_encode(buf, sizeof(buf), VHOST_USER_SET_VRING_ADDR, 0, &p), 12 + 40);
	CHECK_EQ(vhu_encode(buf, sizeof(buf), VHOST_USER_SET_VRING_NUM, 0, &p), 12 + 8);
	memset(&p, 0, sizeof(p));
	CHECK_EQ(vhu_encode(buf, sizeof(buf), VHOST_USER_SET_MEM_TABLE, 0, &p), -EINVAL);	/* 0 regions */
	p.mem.nregions = 2;
	CHECK_EQ(vhu_encode(buf, sizeof(buf), VHOST_USER_SET_MEM_TABLE, 0, &p), 12 + 8 + 64);
	p.mem.nregions = 9;
	CHECK_EQ(vhu_encode(buf, sizeof(buf), VHOST_USER_SET_MEM_TABLE, 0, &p), -EINVAL);
	memset(&p, 0xab, sizeof(p));
	p.config.offset = 0;
	p.config.size = 60;
	CHECK_EQ(vhu_encode(buf, sizeof(buf), VHOST_USER_GET_CONFIG, 0, &p), 12 + 12 + 60);
	CHECK_EQ(buf[12 + 12], 0);	/* the space to fill is sent zeroed */
	p.config.size = 257;
	CHECK_EQ(vhu_encode(buf, sizeof(buf), VHOST_USER_GET_CONFIG, 0, &p), -EINVAL);
	CHECK_EQ(vhu_encode(buf, sizeof(buf), 99, 0, &p), -EINVAL);
	CHECK_EQ(vhu_encode(buf, 12, VHOST_USER_SET_FEATURES, 0, &p), -EINVAL);	/* no room */
	CHECK_STR(vhu_request_name(VHOST_USER_GET_VRING_BASE), "GET_VRING_BASE");
	CHECK_STR(vhu_request_name(77), "request 77");
}

/* The full negotiation with a back-end that offers more than we want; acks start after
 * SET_PROTOCOL_FEATURES. */
static void test_negotiate(void)
{
	struct fake f = { 0 };
	struct vhu_conn c;
	uint64_t offered = bit(VHOST_USER_PROTOCOL_F_MQ) | ACK | bit(VHOST_USER_PROTOCOL_F_CONFIG) | bit(5);

	fake_add(&f, VHOST_USER_GET_FEATURES, R_U64, bit(VHOST_USER_F_PROTOCOL_FEATURES) | bit(6) | bit(32));
	fake_add(&f, VHOST_USER_GET_PROTOCOL_FEATURES, R_U64, offered);
	fake_add(&f, VHOST_USER_SET_PROTOCOL_FEATURES, R_NONE, 0);
	fake_add(&f, VHOST_USER_GET_QUEUE_NUM, R_U64, 4);
	fake_add(&f, VHOST_USER_SET_OWNER, R_U64, 0);
	fake_add(&f, VHOST_USER_SET_FEATURES, R_U64, 0);
	CHECK_EQ(fake_start(&f, &c), 0);
	CHECK_EQ(vhu_negotiate(&c, bit(VHOST_USER_PROTOCOL_F_MQ) | ACK | bit(VHOST_USER_PROTOCOL_F_CONFIG)), 0);
	CHECK_EQ(c.features, bit(30) | bit(6) | bit(32));
	CHECK_EQ(c.protocol_features, offered & ~bit(5));
	CHECK_EQ(c.queue_num, 4);
	CHECK_EQ(vhu_set_features(&c, bit(6) | bit(32) | bit(30)), 0);
	fake_stop(&f, &c);
	CHECK_EQ(f.mismatch, 0);
	CHECK_EQ(f.ngot, 6);
	CHECK_EQ(f.got[0].size, 0);
	CHECK_EQ(f.got[0].flags, VHOST_USER_VERSION);
	CHECK_EQ(f.got[2].size, 8);
	CHECK(!memcmp(f.got[2].payload, &c.protocol_features, 8));
	CHECK_EQ(f.got[2].flags, VHOST_USER_VERSION);	/* REPLY_ACK not yet agreed */
	CHECK_EQ(f.got[3].flags, VHOST_USER_VERSION);	/* GET_*: the reply is the answer */
	CHECK_EQ(f.got[4].flags, VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK);
	CHECK_EQ(f.got[5].flags, VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK);
	CHECK(!memcmp(f.got[5].payload, &(uint64_t){ bit(6) | bit(32) | bit(30) }, 8));
	/* a back-end without protocol features: GET_FEATURES then SET_OWNER, no acks */
	memset(&f, 0, sizeof(f));
	fake_add(&f, VHOST_USER_GET_FEATURES, R_U64, bit(1));
	fake_add(&f, VHOST_USER_SET_OWNER, R_NONE, 0);
	CHECK_EQ(fake_start(&f, &c), 0);
	CHECK_EQ(vhu_negotiate(&c, ACK), 0);
	CHECK_EQ(c.protocol_features, 0);
	CHECK_EQ(vhu_get_config(&c, 0, &offered, 8), -EOPNOTSUPP);	/* no CONFIG: nothing sent */
	fake_stop(&f, &c);
	CHECK_EQ(f.ngot, 2);
	CHECK_EQ(f.mismatch, 0);
}

/* SET_MEM_TABLE: one entry and one memfd per region; the back-end's own mapping of each fd at
 * mmap_offset sees what the guest wrote at guest_phys_addr. */
static void test_mem_table(void)
{
	struct guest_mem gm = { 0 };
	struct fake f = { 0 };
	struct vhu_conn c;
	struct vhu_mem_table mt;
	int i;

	CHECK_EQ(gm_alloc_ram_flags(&gm, 64 << 20, 32 << 20, GM_SHARED), 0);
	CHECK_EQ(gm_write(&gm, 0x2000, "low", 3), 0);
	CHECK_EQ(gm_write(&gm, (1ULL << 32) + 0x3000, "high", 4), 0);
	fake_add(&f, VHOST_USER_SET_MEM_TABLE, R_U64, 0);
	CHECK_EQ(fake_start(&f, &c), 0);
	c.protocol_features = ACK;
	CHECK_EQ(vhu_set_mem_table(&c, &gm), 0);
	CHECK_EQ(f.ngot, 1);
	CHECK_EQ(f.got[0].size, 8 + 2 * 32);
	CHECK_EQ(f.got[0].nfds, 2);
	memcpy(&mt, f.got[0].payload, f.got[0].size);
	CHECK_EQ(mt.nregions, 2);
	for (i = 0; i < 2 && f.got[0].nfds == 2; i++) {
		struct vhu_mem_region *r = &mt.regions[i];
		uint8_t *p = mmap(NULL, r->memory_size, PROT_READ, MAP_SHARED, f.got[0].fds[i],
				  (off_t)r->mmap_offset);

		CHECK(p != MAP_FAILED);
		CHECK_EQ(r->userspace_addr, (uintptr_t)gm.r[i].hva);
		if (p == MAP_FAILED)
			continue;
		if (i == 0)
			CHECK(r->guest_phys_addr == 0 && r->memory_size == 32 << 20 && !memcmp(p + 0x2000, "low", 3));
		else
			CHECK(r->guest_phys_addr == 1ULL << 32 && r->mmap_offset == 32 << 20 &&
			      !memcmp(p + 0x3000, "high", 4));
		munmap(p, r->memory_size);
	}
	fake_stop(&f, &c);
	gm_free(&gm);
	/* private RAM: refused with one line, nothing sent */
	CHECK_EQ(gm_alloc_ram(&gm, 16 << 20, 1ULL << 32), 0);
	memset(&f, 0, sizeof(f));
	CHECK_EQ(fake_start(&f, &c), 0);
	i = log_lines();
	CHECK_EQ(vhu_set_mem_table(&c, &gm), -EINVAL);
	CHECK_EQ(log_lines(), i + 1);
	CHECK_EQ(c.err, 0);		/* our refusal, not the back-end's fault */
	fake_stop(&f, &c);
	CHECK_EQ(f.ngot, 0);
	gm_free(&gm);
}

/* Queue set-up as a device does it: NUM, ADDR (user addresses of the ring parts), BASE, KICK/CALL
 * with the very eventfds (the back-end's copy signals ours), ERR without an fd, ENABLE. */
static void test_vring_setup(void)
{
	struct guest_mem gm = { 0 };
	struct fake f = { 0 };
	struct vhu_conn c;
	struct vhu_vring_state st;
	struct vhu_vring_addr a;
	int kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t v = 1, u64;

	CHECK_EQ(gm_alloc_ram_flags(&gm, 16 << 20, 1ULL << 32, GM_SHARED), 0);
	fake_add(&f, VHOST_USER_SET_VRING_NUM, R_U64, 0);
	fake_add(&f, VHOST_USER_SET_VRING_ADDR, R_U64, 0);
	fake_add(&f, VHOST_USER_SET_VRING_BASE, R_U64, 0);
	fake_add(&f, VHOST_USER_SET_VRING_KICK, R_U64, 0);
	fake_add(&f, VHOST_USER_SET_VRING_CALL, R_U64, 0);
	fake_add(&f, VHOST_USER_SET_VRING_ERR, R_U64, 0);
	fake_add(&f, VHOST_USER_SET_VRING_ENABLE, R_U64, 0);
	CHECK_EQ(fake_start(&f, &c), 0);
	c.protocol_features = ACK;	/* each call returns once the back-end has taken it */
	CHECK_EQ(vhu_set_vring_num(&c, 1, 256), 0);
	CHECK_EQ(vhu_set_vring_addr(&c, &gm, 1, 256, 0x10000, 0x11000, 0x12000), 0);
	CHECK_EQ(vhu_set_vring_base(&c, 1, 7), 0);
	CHECK_EQ(vhu_set_vring_kick(&c, 1, kick), 0);
	CHECK_EQ(vhu_set_vring_call(&c, 1, call), 0);
	CHECK_EQ(vhu_set_vring_err(&c, 1, -1), 0);
	CHECK_EQ(vhu_set_vring_enable(&c, 1, 1), 0);
	/* a ring outside RAM or a queue index past the wire's 8 bits: refused before sending */
	CHECK_EQ(vhu_set_vring_addr(&c, &gm, 1, 256, (16 << 20) - 16, 0x11000, 0x12000), -EFAULT);
	CHECK_EQ(vhu_set_vring_num(&c, 256, 8), -EINVAL);
	CHECK_EQ(vhu_set_vring_kick(&c, 300, kick), -EINVAL);
	CHECK_EQ(c.err, 0);
	/* the fds the back-end holds are the device's eventfds: a kick through its copy reaches ours */
	if (f.got[3].nfds == 1 && f.got[4].nfds == 1) {
		CHECK_EQ(write(f.got[3].fds[0], &v, 8), 8);
		CHECK_EQ(read(kick, &u64, 8), 8);
		CHECK_EQ(write(f.got[4].fds[0], &v, 8), 8);
		CHECK_EQ(read(call, &u64, 8), 8);
	}
	fake_stop(&f, &c);
	CHECK_EQ(f.mismatch, 0);
	CHECK_EQ(f.ngot, 7);
	memcpy(&st, f.got[0].payload, 8);
	CHECK(st.index == 1 && st.num == 256);
	memcpy(&a, f.got[1].payload, sizeof(a));
	CHECK_EQ(f.got[1].size, sizeof(a));
	CHECK_EQ(a.index, 1);
	CHECK_EQ(a.desc_user_addr, (uintptr_t)gm_ptr(&gm, 0x10000, 1));
	CHECK_EQ(a.avail_user_addr, (uintptr_t)gm_ptr(&gm, 0x11000, 1));
	CHECK_EQ(a.used_user_addr, (uintptr_t)gm_ptr(&gm, 0x12000, 1));
	memcpy(&st, f.got[2].payload, 8);
	CHECK(st.index == 1 && st.num == 7);
	memcpy(&u64, f.got[3].payload, 8);
	CHECK_EQ(u64, 1);
	CHECK_EQ(f.got[3].nfds, 1);
	CHECK_EQ(f.got[4].nfds, 1);
	memcpy(&u64, f.got[5].payload, 8);
	CHECK_EQ(u64, 1 | VHOST_USER_VRING_NOFD_MASK);
	CHECK_EQ(f.got[5].nfds, 0);
	memcpy(&st, f.got[6].payload, 8);
	CHECK(st.index == 1 && st.num == 1);
	/* fake_stop closed the back-end's copies already; ours stay open */
	CHECK(fcntl(kick, F_GETFD) >= 0);
	close(kick);
	close(call);
	gm_free(&gm);
}

/* Stop/reset: each queue disabled, then GET_VRING_BASE; the bases come back per queue. */
static void test_stop_queues(void)
{
	struct fake f = { 0 };
	struct vhu_conn c;
	struct vhu_vring_state st = { .index = 0, .num = 41 };
	uint32_t bases[2] = { 9, 9 };
	struct step *s;

	fake_add(&f, VHOST_USER_SET_VRING_ENABLE, R_U64, 0);
	s = fake_add(&f, VHOST_USER_GET_VRING_BASE, R_RAW, 0);
	fake_raw(s, VHOST_USER_GET_VRING_BASE, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, 8, &st, 8);
	fake_add(&f, VHOST_USER_SET_VRING_ENABLE, R_U64, 0);
	st = (struct vhu_vring_state){ .index = 1, .num = 65535 };
	s = fake_add(&f, VHOST_USER_GET_VRING_BASE, R_RAW, 0);
	fake_raw(s, VHOST_USER_GET_VRING_BASE, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, 8, &st, 8);
	CHECK_EQ(fake_start(&f, &c), 0);
	c.features = bit(VHOST_USER_F_PROTOCOL_FEATURES);
	c.protocol_features = ACK;
	CHECK_EQ(vhu_stop_queues(&c, 2, bases), 0);
	CHECK_EQ(bases[0], 41);
	CHECK_EQ(bases[1], 65535);
	fake_stop(&f, &c);
	CHECK_EQ(f.mismatch, 0);
	CHECK_EQ(f.ngot, 4);
	memcpy(&st, f.got[0].payload, 8);
	CHECK(st.index == 0 && st.num == 0);
	CHECK_EQ(f.got[1].flags, VHOST_USER_VERSION);	/* GET_VRING_BASE has its own reply */
}

/* GET_CONFIG: the back-end's bytes for the range asked. */
static void test_get_config(void)
{
	struct fake f = { 0 };
	struct vhu_conn c;
	struct vhu_config cfg = { .offset = 0, .size = 24 };
	uint8_t out[24];
	struct step *s;

	for (int i = 0; i < 24; i++)
		cfg.payload[i] = (uint8_t)(i + 1);
	s = fake_add(&f, VHOST_USER_GET_CONFIG, R_RAW, 0);
	fake_raw(s, VHOST_USER_GET_CONFIG, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, 0, NULL, 0);
	s = fake_add(&f, VHOST_USER_GET_CONFIG, R_RAW, 0);
	fake_raw(s, VHOST_USER_GET_CONFIG, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, 36, &cfg, 36);
	CHECK_EQ(fake_start(&f, &c), 0);
	c.protocol_features = bit(VHOST_USER_PROTOCOL_F_CONFIG) | ACK;
	/* an empty reply is libvhost-user's "no": this request fails, the connection lives */
	CHECK_EQ(vhu_get_config(&c, 0, out, 24), -EIO);
	CHECK_EQ(c.err, 0);
	CHECK_EQ(vhu_get_config(&c, 0, out, 24), 0);
	CHECK(!memcmp(out, cfg.payload, 24));
	CHECK_EQ(vhu_get_config(&c, 0, out, 0), -EINVAL);
	fake_stop(&f, &c);
	CHECK_EQ(f.got[0].size, 36);
	CHECK_EQ(f.got[0].flags, VHOST_USER_VERSION);
}

/* A back-end's "no" (non-zero ack) fails that request only; the connection stays usable. */
static void test_nack(void)
{
	struct fake f = { 0 };
	struct vhu_conn c;
	int lines = log_lines();

	fake_add(&f, VHOST_USER_SET_FEATURES, R_U64, 1);
	fake_add(&f, VHOST_USER_SET_OWNER, R_U64, 0);
	CHECK_EQ(fake_start(&f, &c), 0);
	c.protocol_features = ACK;
	CHECK_EQ(vhu_set_features(&c, 1), -EIO);
	CHECK_EQ(c.err, 0);
	CHECK_EQ(log_lines(), lines + 1);
	CHECK_EQ(vhu_set_owner(&c), 0);
	fake_stop(&f, &c);
	CHECK_EQ(f.mismatch, 0);
}

/* A back-end that is gone before we write: EPIPE (no SIGPIPE), one line, sticky. */
static void test_dead_before_send(void)
{
	struct fake f = { 0 };
	struct vhu_conn c;
	uint64_t v;
	int lines;

	fake_add(&f, VHOST_USER_GET_FEATURES, R_CLOSE, 0);
	CHECK_EQ(fake_start(&f, &c), 0);
	lines = log_lines();
	CHECK_EQ(vhu_get_features(&c, &v), -ECONNRESET);	/* closed while we waited */
	CHECK_EQ(vhu_set_owner(&c), -ECONNRESET);		/* sticky, no second line */
	CHECK_EQ(log_lines(), lines + 1);
	fake_stop(&f, &c);
	/* writing into a closed socket */
	memset(&f, 0, sizeof(f));
	CHECK_EQ(fake_start(&f, &c), 0);
	shutdown(f.fd, SHUT_RDWR);
	CHECK_EQ(vhu_set_owner(&c), -EPIPE);
	fake_stop(&f, &c);
}

/* vhu_connect: a listening socket in a temporary directory; a missing one is -ENOENT. */
static void test_connect(void)
{
	char dir[] = "/tmp/ckvm-vhu.XXXXXX", path[64], longp[200];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vhu_conn c;
	int l;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/sock", dir);
	CHECK_EQ(vhu_connect(&c, path), -ENOENT);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	CHECK_EQ(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(listen(l, 1), 0);
	CHECK_EQ(vhu_connect(&c, path), 0);
	CHECK_STR(c.name, path);
	CHECK_EQ(c.timeout_ms, VHOST_USER_TIMEOUT_MS);
	vhu_close(&c);
	CHECK_EQ(c.fd, -1);
	CHECK_EQ(vhu_set_owner(&c), -ENOTCONN);
	close(l);
	unlink(path);
	rmdir(dir);
	memset(longp, 'x', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	CHECK_EQ(vhu_connect(&c, longp), -ENAMETOOLONG);
}

int main(void)
{
	char logname[] = "/tmp/ckvm-vhu-log.XXXXXX";
	int fds;

	log_fd = mkstemp(logname);
	unlink(logname);
	log_set_output(log_fd);
	fds = fake_count_fds();
	RUN(test_encode);
	RUN(test_negotiate);
	RUN(test_mem_table);
	RUN(test_vring_setup);
	RUN(test_stop_queues);
	RUN(test_get_config);
	RUN(test_nack);
	RUN(test_dead_before_send);
	RUN(test_connect);
	t_name = "fd-leak";
	CHECK_EQ(fake_count_fds(), fds);
	return test_summary();
}
