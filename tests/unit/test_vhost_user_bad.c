/* vhost-user front-end against a hostile back-end (tests/unit/vhu_fake.c): every reply-carrying
 * message (GET_FEATURES, GET_PROTOCOL_FEATURES, GET_QUEUE_NUM, GET_VRING_BASE, GET_CONFIG, and the
 * REPLY_ACK of every SET_*) meets each kind of bad reply. Each must fail with -errno and exactly one
 * log line, leak no fd, and leave the connection dead: the next call fails at once, sending nothing. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "virtio/vhost_user.h"
#include "test.h"
#include "vhu_fake.h"

#define ACK (1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK)
#define RF (VHOST_USER_VERSION | VHOST_USER_REPLY_MASK)	/* a good reply's flags */

static int log_fd;
static struct guest_mem gm;

static int log_lines(void)
{
	return fake_log_lines(log_fd);
}

/* Each message the front-end sends that gets a reply, and how to make it send one. */
enum op { OP_GET_FEATURES, OP_GET_PROTOCOL_FEATURES, OP_GET_QUEUE_NUM, OP_GET_VRING_BASE,
	  OP_GET_CONFIG, OP_SET_FEATURES, OP_SET_PROTOCOL_FEATURES_ACKED, OP_SET_OWNER,
	  OP_SET_MEM_TABLE, OP_SET_VRING_NUM, OP_SET_VRING_ADDR, OP_SET_VRING_BASE, OP_SET_VRING_KICK,
	  OP_SET_VRING_CALL, OP_SET_VRING_ERR, OP_SET_VRING_ENABLE, OP_COUNT };

static const uint32_t op_req[OP_COUNT] = {
	VHOST_USER_GET_FEATURES, VHOST_USER_GET_PROTOCOL_FEATURES, VHOST_USER_GET_QUEUE_NUM,
	VHOST_USER_GET_VRING_BASE, VHOST_USER_GET_CONFIG, VHOST_USER_SET_FEATURES,
	VHOST_USER_SET_PROTOCOL_FEATURES, VHOST_USER_SET_OWNER, VHOST_USER_SET_MEM_TABLE,
	VHOST_USER_SET_VRING_NUM, VHOST_USER_SET_VRING_ADDR, VHOST_USER_SET_VRING_BASE,
	VHOST_USER_SET_VRING_KICK, VHOST_USER_SET_VRING_CALL, VHOST_USER_SET_VRING_ERR,
	VHOST_USER_SET_VRING_ENABLE,
};

static int do_op(struct vhu_conn *c, enum op op)
{
	uint64_t u64;
	uint32_t u32;
	uint8_t cfg[16];

	switch (op) {
	case OP_GET_FEATURES: return vhu_get_features(c, &u64);
	case OP_GET_PROTOCOL_FEATURES: return vhu_get_protocol_features(c, &u64);
	case OP_GET_QUEUE_NUM: return vhu_get_queue_num(c, &u32);
	case OP_GET_VRING_BASE: return vhu_get_vring_base(c, 2, &u32);
	case OP_GET_CONFIG: return vhu_get_config(c, 4, cfg, sizeof(cfg));
	case OP_SET_FEATURES: return vhu_set_features(c, 1);
	case OP_SET_PROTOCOL_FEATURES_ACKED: return vhu_set_protocol_features(c, ACK);
	case OP_SET_OWNER: return vhu_set_owner(c);
	case OP_SET_MEM_TABLE: return vhu_set_mem_table(c, &gm);
	case OP_SET_VRING_NUM: return vhu_set_vring_num(c, 2, 128);
	case OP_SET_VRING_ADDR: return vhu_set_vring_addr(c, &gm, 2, 128, 0x1000, 0x2000, 0x3000);
	case OP_SET_VRING_BASE: return vhu_set_vring_base(c, 2, 0);
	case OP_SET_VRING_KICK: return vhu_set_vring_kick(c, 2, STDERR_FILENO);
	case OP_SET_VRING_CALL: return vhu_set_vring_call(c, 2, STDERR_FILENO);
	case OP_SET_VRING_ERR: return vhu_set_vring_err(c, 2, -1);
	case OP_SET_VRING_ENABLE: return vhu_set_vring_enable(c, 2, 1);
	case OP_COUNT: break;
	}
	return 0;
}

/* The well-formed reply payload for op (what the bad variants start from). */
static size_t good_payload(enum op op, uint8_t *p)
{
	if (op == OP_GET_VRING_BASE) {
		struct vhu_vring_state st = { .index = 2, .num = 5 };

		memcpy(p, &st, 8);
		return 8;
	}
	if (op == OP_GET_CONFIG) {
		struct vhu_config cf = { .offset = 4, .size = 16 };

		memcpy(p, &cf, 28);
		return 28;
	}
	memset(p, 0, 8);
	if (op == OP_GET_QUEUE_NUM)
		p[0] = 2;
	return 8;
}

enum bad { B_SHORT, B_LONG, B_HUGE, B_WRONG_REQ, B_NO_REPLY_BIT, B_VERSION2, B_EXTRA_FLAG, B_FD,
	   B_TRUNCATED, B_HANG, B_CLOSE, B_PAYLOAD, B_COUNT };
static const char *const bad_name[B_COUNT] = { "short", "long", "huge", "wrong-request",
	"no-reply-bit", "version-2", "extra-flag", "fd", "truncated", "hang", "close", "payload" };

/* Make step s the bad reply b to op; 0 when that kind does not apply to op. */
static int make_bad(struct step *s, enum op op, enum bad b)
{
	uint32_t req = op_req[op];
	uint8_t p[300];
	size_t n = good_payload(op, p);

	switch (b) {
	case B_SHORT: fake_raw(s, req, RF, (uint32_t)n - 4, p, n - 4); return 1;
	case B_LONG: memset(p + n, 0, 8); fake_raw(s, req, RF, (uint32_t)n + 8, p, n + 8); return 1;
	case B_HUGE: fake_raw(s, req, RF, 1u << 20, p, n); return 1;	/* 1 MiB announced */
	case B_WRONG_REQ: fake_raw(s, req == 1 ? 2 : 1, RF, (uint32_t)n, p, n); return 1;
	case B_NO_REPLY_BIT: fake_raw(s, req, VHOST_USER_VERSION, (uint32_t)n, p, n); return 1;
	case B_VERSION2: fake_raw(s, req, 2 | VHOST_USER_REPLY_MASK, (uint32_t)n, p, n); return 1;
	case B_EXTRA_FLAG: fake_raw(s, req, RF | 1u << 7, (uint32_t)n, p, n); return 1;
	case B_FD: fake_raw(s, req, RF, (uint32_t)n, p, n); s->send_fd = 1; return 1;
	case B_TRUNCATED: fake_raw(s, req, RF, (uint32_t)n, p, n - 2); return 1;	/* then silence */
	case B_HANG: s->kind = R_HANG; return 1;
	case B_CLOSE: s->kind = R_CLOSE; return 1;
	case B_PAYLOAD:	/* well-framed but wrong inside: another queue, another config range */
		if (op == OP_GET_VRING_BASE)
			p[0] = 3;
		else if (op == OP_GET_CONFIG)
			p[0] = 0;
		else if (op == OP_GET_QUEUE_NUM)
			p[0] = 0;	/* zero queues */
		else
			return 0;
		fake_raw(s, req, RF, (uint32_t)n, p, n);
		return 1;
	case B_COUNT: break;
	}
	return 0;
}

static void test_malformed(void)
{
	int fds = fake_count_fds(), cases = 0;

	for (int op = 0; op < OP_COUNT; op++) {
		for (int b = 0; b < B_COUNT; b++) {
			struct fake f = { 0 };
			struct vhu_conn c;
			struct step *s = fake_add(&f, op_req[op], R_NONE, 0);
			int lines, ret, again;

			if (!make_bad(s, (enum op)op, (enum bad)b))
				continue;
			cases++;
			CHECK_EQ(fake_start(&f, &c), 0);
			c.timeout_ms = 100;
			c.features = 1ULL << VHOST_USER_F_PROTOCOL_FEATURES;
			c.protocol_features = ACK | (1ULL << VHOST_USER_PROTOCOL_F_CONFIG);
			lines = log_lines();
			ret = do_op(&c, (enum op)op);
			again = vhu_set_owner(&c);
			if (ret >= 0 || c.err != ret || again != ret || log_lines() != lines + 1)
				printf("FAIL %s/%s: returned %d, err %d, then %d, %d log lines\n",
				       vhu_request_name(op_req[op]), bad_name[b], ret, c.err, again,
				       log_lines() - lines);
			CHECK(ret < 0);
			CHECK_EQ(c.err, ret);
			CHECK_EQ(again, ret);
			CHECK_EQ(log_lines(), lines + 1);
			fake_stop(&f, &c);
			CHECK_EQ(f.ngot, 1);		/* the follow-up call sent nothing */
			CHECK_EQ(f.mismatch, 0);
		}
	}
	CHECK(cases >= OP_COUNT * 11);
	CHECK_EQ(fake_count_fds(), fds);
}

/* The reply parser alone (what the fuzz target drives): exact framing, each check. */
static void test_parse(void)
{
	union vhu_payload req = { .state = { .index = 2 } }, out;
	uint8_t m[40];
	uint32_t h[3] = { VHOST_USER_GET_VRING_BASE, RF, 8 };
	struct vhu_vring_state st = { 2, 77 };

	memcpy(m, h, 12);
	memcpy(m + 12, &st, 8);
	CHECK_EQ(vhu_reply_parse(VHOST_USER_GET_VRING_BASE, &req, 0, m, 20, &out), 0);
	CHECK_EQ(out.state.num, 77);
	CHECK_EQ(vhu_reply_parse(VHOST_USER_GET_VRING_BASE, &req, 0, m, 19, &out), -EPROTO);
	CHECK_EQ(vhu_reply_parse(VHOST_USER_GET_VRING_BASE, &req, 0, m, 21, &out), -EPROTO);
	CHECK_EQ(vhu_reply_parse(VHOST_USER_GET_VRING_BASE, &req, 0, m, 11, &out), -EPROTO);
	CHECK_EQ(vhu_reply_parse(VHOST_USER_GET_FEATURES, &req, 0, m, 20, &out), -EPROTO);
	req.state.index = 1;
	CHECK_EQ(vhu_reply_parse(VHOST_USER_GET_VRING_BASE, &req, 0, m, 20, &out), -EPROTO);
	/* a SET_* reply only as an ack */
	h[0] = VHOST_USER_SET_VRING_NUM;
	memcpy(m, h, 12);
	CHECK_EQ(vhu_reply_parse(VHOST_USER_SET_VRING_NUM, &req, 0, m, 20, &out), -EPROTO);
	CHECK_EQ(vhu_reply_parse(VHOST_USER_SET_VRING_NUM, &req, 1, m, 20, &out), 0);
	h[2] = 1u << 31;
	memcpy(m, h, 12);
	CHECK_EQ(vhu_reply_hdr_check(m, VHOST_USER_SET_VRING_NUM), -EPROTO);
}

int main(void)
{
	char logname[] = "/tmp/ckvm-vhu-log.XXXXXX";

	log_fd = mkstemp(logname);
	unlink(logname);
	log_set_output(log_fd);
	if (gm_alloc_ram_flags(&gm, 16 << 20, 1ULL << 32, GM_SHARED)) {
		printf("cannot allocate shared guest memory\n");
		return 1;
	}
	RUN(test_parse);
	RUN(test_malformed);
	gm_free(&gm);
	return test_summary();
}
