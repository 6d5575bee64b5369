/* libFuzzer target for the vhost-user reply checks (src/virtio/vhost_user_msg.c) and the receive path
 * that uses them (src/virtio/vhost_user.c): input byte 0 picks the request a reply answers (and
 * whether it is a REPLY_ACK), byte 1 the queue index / config size asked for, the rest is what the
 * back-end sends. First the parser on the bytes as one buffer, then the same bytes arriving on a
 * socket for a real call (timeout 0: whatever is not there yet counts as a hang). Whatever is
 * accepted must answer what was asked. Single-threaded. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "log.h"
#include "virtio/vhost_user.h"

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size);

static const uint32_t requests[] = {
	VHOST_USER_GET_FEATURES, VHOST_USER_GET_PROTOCOL_FEATURES, VHOST_USER_GET_QUEUE_NUM,
	VHOST_USER_GET_VRING_BASE, VHOST_USER_GET_CONFIG, VHOST_USER_SET_VRING_NUM,
	VHOST_USER_SET_MEM_TABLE, VHOST_USER_SET_FEATURES,
};
#define NREQ (sizeof(requests) / sizeof(requests[0]))

static void check_parse(uint32_t request, const union vhu_payload *req, int ack, const uint8_t *buf,
			size_t len)
{
	union vhu_payload out;
	int ret = vhu_reply_parse(request, req, ack, buf, len, &out);

	assert(ret == 0 || ret == -EPROTO);
	if (ret)
		return;
	assert(len >= VHOST_USER_HDR_SIZE && len <= VHOST_USER_HDR_SIZE + VHOST_USER_MAX_PAYLOAD);
	if (request == VHOST_USER_GET_VRING_BASE && !ack)
		assert(out.state.index == req->state.index);
	if (request == VHOST_USER_GET_CONFIG && !ack)
		assert(out.config.offset == req->config.offset && out.config.size == req->config.size);
	assert(vhu_request_has_reply(request) || ack);
}

/* The same reply through the socket path of one real call. */
static void check_call(uint32_t request, int ack, uint8_t arg, const uint8_t *buf, size_t len)
{
	struct vhu_conn c;
	uint64_t u64;
	uint32_t u32;
	uint8_t cfg[VHOST_USER_MAX_CONFIG_SIZE];
	int sv[2], ret = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return;
	if (len && write(sv[1], buf, len) != (ssize_t)len) {
		close(sv[0]);
		close(sv[1]);
		return;
	}
	vhu_init(&c, sv[0], "fuzz");
	c.timeout_ms = 0;
	c.protocol_features = (ack ? 1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK : 0) |
			      1ULL << VHOST_USER_PROTOCOL_F_CONFIG;
	switch (request) {
	case VHOST_USER_GET_FEATURES: ret = vhu_get_features(&c, &u64); break;
	case VHOST_USER_GET_PROTOCOL_FEATURES: ret = vhu_get_protocol_features(&c, &u64); break;
	case VHOST_USER_GET_QUEUE_NUM:
		ret = vhu_get_queue_num(&c, &u32);
		assert(ret || (u32 >= 1 && u32 <= 256));
		break;
	case VHOST_USER_GET_VRING_BASE: ret = vhu_get_vring_base(&c, arg, &u32); break;
	case VHOST_USER_GET_CONFIG:
		ret = vhu_get_config(&c, 0, cfg, arg % VHOST_USER_MAX_CONFIG_SIZE + 1);
		break;
	case VHOST_USER_SET_VRING_NUM: ret = vhu_set_vring_num(&c, arg, 256); break;
	default: ret = vhu_set_features(&c, u64 = arg); break;
	}
	/* success, or an error that leaves the connection dead (a refused ack is only -EIO) */
	assert(ret == 0 || ret == -EIO || (ret < 0 && c.err == ret));
	vhu_close(&c);
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	static int quiet;
	union vhu_payload req = { 0 };
	uint32_t request;
	int ack;

	if (!quiet) {	/* every rejected reply logs a line: keep them out of the fuzzer's output */
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (fd >= 0 && !log_set_output(fd))
			close(fd);
		quiet = 1;
	}
	if (size < 2)
		return 0;
	request = requests[in[0] % NREQ];
	ack = !vhu_request_has_reply(request) || (in[0] & 0x80);
	if (request == VHOST_USER_GET_CONFIG)
		req.config.size = in[1] % VHOST_USER_MAX_CONFIG_SIZE + 1;
	else
		req.state.index = in[1];
	check_parse(request, &req, ack, in + 2, size - 2);
	if (!vhu_request_has_reply(request) || !(in[0] & 0x80))
		check_call(request, ack, in[1], in + 2, size - 2 > 65536 ? 65536 : size - 2);
	return 0;
}
