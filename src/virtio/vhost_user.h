/* vhost-user front-end (QEMU docs/interop/vhost-user.rst, protocol version 1): ckvm hands a virtio
 * device's queues to a back-end process over a Unix socket. The back-end is untrusted: every reply is
 * checked (vhost_user_msg.c), every wait is bounded, and a broken connection is an -errno and one log
 * line, never a crash. A connection is used by one thread at a time (set-up on the main thread, stop
 * and reset on the device's thread). */
#ifndef CKVM_VHOST_USER_H
#define CKVM_VHOST_USER_H

#include <stddef.h>
#include <stdint.h>

#include "core/guest_mem.h"

/* Header flags: bits 0-1 the version, bit 2 a reply, bit 3 the front-end wants an ack. */
#define VHOST_USER_VERSION		0x1u
#define VHOST_USER_VERSION_MASK		0x3u
#define VHOST_USER_REPLY_MASK		(1u << 2)
#define VHOST_USER_NEED_REPLY_MASK	(1u << 3)

/* Virtio feature bit 30: the back-end speaks GET/SET_PROTOCOL_FEATURES. */
#define VHOST_USER_F_PROTOCOL_FEATURES	30
#define VHOST_USER_PROTOCOL_F_MQ	0
#define VHOST_USER_PROTOCOL_F_REPLY_ACK	3
#define VHOST_USER_PROTOCOL_F_CONFIG	9

#define VHOST_USER_MAX_REGIONS		8	/* memory table entries (and fds) in one message */
#define VHOST_USER_MAX_CONFIG_SIZE	256
#define VHOST_USER_VRING_IDX_MASK	0xffu	/* KICK/CALL/ERR payload: queue index ... */
#define VHOST_USER_VRING_NOFD_MASK	(1u << 8)	/* ... and "no fd attached: poll" */
#define VHOST_USER_HDR_SIZE		12u
#define VHOST_USER_TIMEOUT_MS		5000	/* a back-end that does not answer by then is dead */

enum vhost_user_request {
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_GET_CONFIG = 24,
};

/* Payloads, in the spec's little-endian wire layout (x86 host order). */
struct vhu_vring_state {
	uint32_t index, num;
};

struct vhu_vring_addr {
	uint32_t index, flags;
	uint64_t desc_user_addr, used_user_addr, avail_user_addr, log_guest_addr;
};

struct vhu_mem_region {
	uint64_t guest_phys_addr, memory_size, userspace_addr, mmap_offset;
};

struct vhu_mem_table {
	uint32_t nregions, padding;
	struct vhu_mem_region regions[VHOST_USER_MAX_REGIONS];
};

struct vhu_config {
	uint32_t offset, size, flags;
	uint8_t payload[VHOST_USER_MAX_CONFIG_SIZE];
};

union vhu_payload {
	uint64_t u64;
	struct vhu_vring_state state;
	struct vhu_vring_addr addr;
	struct vhu_mem_table mem;
	struct vhu_config config;
};

#define VHOST_USER_MAX_PAYLOAD sizeof(union vhu_payload)

/* ---- vhost_user_msg.c: encoding and reply checks, no I/O (fuzzed: tests/fuzz/fuzz_vhost_user.c) ---- */

/* Name of a request for log lines ("GET_FEATURES"), "request N" for others (a static buffer). */
const char *vhu_request_name(uint32_t request);
/* Bytes of the payload a request carries: 0, 8, a vring state/addr, 8 + 32 per region, 12 + config
 * size. -EINVAL for a request the front-end never sends or a payload over its limits. */
int vhu_request_size(uint32_t request, const union vhu_payload *p);
/* Does the back-end answer this request with a payload of its own (GET_*)? */
int vhu_request_has_reply(uint32_t request);
/* Header + payload into buf (at least VHOST_USER_HDR_SIZE + VHOST_USER_MAX_PAYLOAD bytes): the
 * message length, or -EINVAL. */
int vhu_encode(uint8_t *buf, size_t buf_len, uint32_t request, uint32_t flags, const union vhu_payload *p);
/* A reply header to request: the payload size it announces, or -EPROTO (wrong version or flags,
 * another request, more than any reply carries). */
int vhu_reply_hdr_check(const uint8_t hdr[VHOST_USER_HDR_SIZE], uint32_t request);
/* A reply payload of size bytes to request (req: what was sent; ack: the reply is a REPLY_ACK u64):
 * into out (zeroed first). 0 or -EPROTO (wrong size, a GET_VRING_BASE for another queue, a config
 * for another range). */
int vhu_reply_decode(uint32_t request, const union vhu_payload *req, int ack, const uint8_t *payload,
		     size_t size, union vhu_payload *out);
/* A whole reply in buf: both checks above, len exactly header + payload. */
int vhu_reply_parse(uint32_t request, const union vhu_payload *req, int ack, const uint8_t *buf,
		    size_t len, union vhu_payload *out);

/* ---- vhost_user.c: one connection to a back-end ---- */

struct vhu_conn {
	int fd;			/* the socket, -1 when closed */
	int timeout_ms;		/* bound on each send and each reply (VHOST_USER_TIMEOUT_MS) */
	int err;		/* the first transport/protocol error: every later call returns it */
	uint64_t features;	/* virtio features the back-end offers (GET_FEATURES) */
	uint64_t protocol_features;	/* negotiated: offered & wanted, 0 without bit 30 */
	uint32_t queue_num;	/* GET_QUEUE_NUM with MQ, else 0 (not said) */
	char name[64];		/* for log lines: the socket path or a test's name */
};

/* Take over a connected socket (tests: one end of a socketpair). */
void vhu_init(struct vhu_conn *c, int fd, const char *name);
/* Connect to the back-end's listening socket at path. 0 or -errno with one log line. */
int vhu_connect(struct vhu_conn *c, const char *path);
void vhu_close(struct vhu_conn *c);

/* GET_FEATURES; then, when bit 30 is offered, GET/SET_PROTOCOL_FEATURES (offered & want_protocol),
 * GET_QUEUE_NUM with MQ; then SET_OWNER. c->features holds the offer afterwards. */
int vhu_negotiate(struct vhu_conn *c, uint64_t want_protocol);
int vhu_get_features(struct vhu_conn *c, uint64_t *features);
int vhu_set_features(struct vhu_conn *c, uint64_t features);
int vhu_get_protocol_features(struct vhu_conn *c, uint64_t *features);
int vhu_set_protocol_features(struct vhu_conn *c, uint64_t features);
int vhu_get_queue_num(struct vhu_conn *c, uint32_t *num);
int vhu_set_owner(struct vhu_conn *c);
/* Every RAM region of gm with its memfd: -EINVAL (one line) when the RAM is not shareable. */
int vhu_set_mem_table(struct vhu_conn *c, const struct guest_mem *gm);
int vhu_set_vring_num(struct vhu_conn *c, uint32_t idx, uint32_t num);
/* The ring's guest addresses for a queue of size entries, as the front-end's user addresses
 * (the back-end translates them through the memory table); -EFAULT when a part is not RAM. */
int vhu_set_vring_addr(struct vhu_conn *c, const struct guest_mem *gm, uint32_t idx, uint32_t size,
		       uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa);
/* The same from host views already checked (a device's enabled virtq). */
int vhu_set_vring_addr_host(struct vhu_conn *c, uint32_t idx, const void *desc, const void *avail,
			    const void *used);
int vhu_set_vring_base(struct vhu_conn *c, uint32_t idx, uint32_t base);
/* Stops the ring in the back-end and returns its next avail index. */
int vhu_get_vring_base(struct vhu_conn *c, uint32_t idx, uint32_t *base);
/* fd < 0: none attached (the NOFD bit). The fd stays the caller's. */
int vhu_set_vring_kick(struct vhu_conn *c, uint32_t idx, int fd);
int vhu_set_vring_call(struct vhu_conn *c, uint32_t idx, int fd);
int vhu_set_vring_err(struct vhu_conn *c, uint32_t idx, int fd);
int vhu_set_vring_enable(struct vhu_conn *c, uint32_t idx, int enable);
/* Device config space [offset, offset + len) (len <= 256) into buf. Needs PROTOCOL_F_CONFIG. */
int vhu_get_config(struct vhu_conn *c, uint32_t offset, void *buf, uint32_t len);
/* Device stop or reset: for each of the first nqueues queues, disable it (with protocol features)
 * and GET_VRING_BASE, so the back-end stops touching guest memory; bases[] (may be NULL) gets the
 * indexes. Goes on past a failing queue; returns the first error. */
int vhu_stop_queues(struct vhu_conn *c, uint32_t nqueues, uint32_t *bases);

#endif
