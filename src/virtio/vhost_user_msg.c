/* vhost-user messages (QEMU docs/interop/vhost-user.rst, "Message Specification"): encoding of the
 * front-end's requests and the checks every back-end reply passes before ckvm believes a byte of it.
 * Pure functions (no I/O), called by whichever thread owns the connection. */
#include "virtio/vhost_user.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const names[] = {
	[VHOST_USER_GET_FEATURES] = "GET_FEATURES",
	[VHOST_USER_SET_FEATURES] = "SET_FEATURES",
	[VHOST_USER_SET_OWNER] = "SET_OWNER",
	[VHOST_USER_RESET_OWNER] = "RESET_OWNER",
	[VHOST_USER_SET_MEM_TABLE] = "SET_MEM_TABLE",
	[VHOST_USER_SET_VRING_NUM] = "SET_VRING_NUM",
	[VHOST_USER_SET_VRING_ADDR] = "SET_VRING_ADDR",
	[VHOST_USER_SET_VRING_BASE] = "SET_VRING_BASE",
	[VHOST_USER_GET_VRING_BASE] = "GET_VRING_BASE",
	[VHOST_USER_SET_VRING_KICK] = "SET_VRING_KICK",
	[VHOST_USER_SET_VRING_CALL] = "SET_VRING_CALL",
	[VHOST_USER_SET_VRING_ERR] = "SET_VRING_ERR",
	[VHOST_USER_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	[VHOST_USER_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
	[VHOST_USER_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
	[VHOST_USER_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	[VHOST_USER_GET_CONFIG] = "GET_CONFIG",
};

const char *vhu_request_name(uint32_t request)
{
	static __thread char buf[24];

	if (request < sizeof(names) / sizeof(names[0]) && names[request])
		return names[request];
	snprintf(buf, sizeof(buf), "request %u", request);
	return buf;
}

int vhu_request_size(uint32_t request, const union vhu_payload *p)
{
	switch (request) {
	case VHOST_USER_GET_FEATURES:
	case VHOST_USER_SET_OWNER:
	case VHOST_USER_RESET_OWNER:
	case VHOST_USER_GET_PROTOCOL_FEATURES:
	case VHOST_USER_GET_QUEUE_NUM:
		return 0;
	case VHOST_USER_SET_FEATURES:
	case VHOST_USER_SET_PROTOCOL_FEATURES:
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		return sizeof(uint64_t);
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_SET_VRING_ENABLE:
		return sizeof(struct vhu_vring_state);
	case VHOST_USER_SET_VRING_ADDR:
		return sizeof(struct vhu_vring_addr);
	case VHOST_USER_SET_MEM_TABLE:
		if (!p->mem.nregions || p->mem.nregions > VHOST_USER_MAX_REGIONS)
			return -EINVAL;
		return (int)(offsetof(struct vhu_mem_table, regions) +
			     p->mem.nregions * sizeof(struct vhu_mem_region));
	case VHOST_USER_GET_CONFIG:
		if (!p->config.size || p->config.size > VHOST_USER_MAX_CONFIG_SIZE)
			return -EINVAL;
		return (int)(offsetof(struct vhu_config, payload) + p->config.size);
	}
	return -EINVAL;
}

int vhu_request_has_reply(uint32_t request)
{
	return request == VHOST_USER_GET_FEATURES || request == VHOST_USER_GET_PROTOCOL_FEATURES ||
	       request == VHOST_USER_GET_QUEUE_NUM || request == VHOST_USER_GET_VRING_BASE ||
	       request == VHOST_USER_GET_CONFIG;
}

int vhu_encode(uint8_t *buf, size_t buf_len, uint32_t request, uint32_t flags, const union vhu_payload *p)
{
	int size = vhu_request_size(request, p);
	uint32_t hdr[3];

	if (size < 0 || buf_len < VHOST_USER_HDR_SIZE + (size_t)size)
		return -EINVAL;
	hdr[0] = request;
	hdr[1] = VHOST_USER_VERSION | flags;
	hdr[2] = (uint32_t)size;
	memcpy(buf, hdr, VHOST_USER_HDR_SIZE);
	if (size)
		memcpy(buf + VHOST_USER_HDR_SIZE, p, (size_t)size);
	/* GET_CONFIG's payload is the space the back-end fills in: send it zeroed, not our stack */
	if (request == VHOST_USER_GET_CONFIG)
		memset(buf + VHOST_USER_HDR_SIZE + offsetof(struct vhu_config, payload), 0, p->config.size);
	return (int)VHOST_USER_HDR_SIZE + size;
}

int vhu_reply_hdr_check(const uint8_t hdr[VHOST_USER_HDR_SIZE], uint32_t request)
{
	uint32_t h[3];

	memcpy(h, hdr, sizeof(h));
	/* exactly version 1 with the reply bit: anything else is not an answer we can trust */
	if (h[1] != (VHOST_USER_VERSION | VHOST_USER_REPLY_MASK))
		return -EPROTO;
	if (h[0] != request)
		return -EPROTO;
	if (h[2] > VHOST_USER_MAX_PAYLOAD)
		return -EPROTO;
	return (int)h[2];
}

int vhu_reply_decode(uint32_t request, const union vhu_payload *req, int ack, const uint8_t *payload,
		     size_t size, union vhu_payload *out)
{
	memset(out, 0, sizeof(*out));
	if (ack || request == VHOST_USER_GET_FEATURES || request == VHOST_USER_GET_PROTOCOL_FEATURES ||
	    request == VHOST_USER_GET_QUEUE_NUM) {
		if (size != sizeof(uint64_t))
			return -EPROTO;
		memcpy(&out->u64, payload, size);
		return 0;
	}
	switch (request) {
	case VHOST_USER_GET_VRING_BASE:
		if (size != sizeof(struct vhu_vring_state))
			return -EPROTO;
		memcpy(&out->state, payload, size);
		/* the base of another queue would restart this one at a wrong index */
		return out->state.index == req->state.index ? 0 : -EPROTO;
	case VHOST_USER_GET_CONFIG:
		if (size != offsetof(struct vhu_config, payload) + req->config.size)
			return -EPROTO;
		memcpy(&out->config, payload, size);
		if (out->config.offset != req->config.offset || out->config.size != req->config.size)
			return -EPROTO;
		return 0;
	}
	return -EPROTO;		/* a request that has no reply got one */
}

int vhu_reply_parse(uint32_t request, const union vhu_payload *req, int ack, const uint8_t *buf,
		    size_t len, union vhu_payload *out)
{
	int size;

	memset(out, 0, sizeof(*out));
	if (len < VHOST_USER_HDR_SIZE)
		return -EPROTO;
	size = vhu_reply_hdr_check(buf, request);
	if (size < 0)
		return size;
	if (len != VHOST_USER_HDR_SIZE + (size_t)size)
		return -EPROTO;
	return vhu_reply_decode(request, req, ack, buf + VHOST_USER_HDR_SIZE, (size_t)size, out);
}
