/* vhost-user front-end connection (QEMU docs/interop/vhost-user.rst): requests out with their fds
 * (SCM_RIGHTS), replies in under a deadline, and the set-up and stop sequences a virtio device needs.
 * Runs on the thread that owns the connection (main thread at set-up, the device's thread later). */
#include "virtio/vhost_user.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "log.h"

#define SUB "vhost-user"

void vhu_init(struct vhu_conn *c, int fd, const char *name)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->timeout_ms = VHOST_USER_TIMEOUT_MS;
	snprintf(c->name, sizeof(c->name), "%s", name);
}

int vhu_connect(struct vhu_conn *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err(SUB, "%s: socket path too long (at most %zu bytes)", path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		log_errno(LOG_ERR, SUB, ret, "cannot connect to the back-end at %s", path);
		close(fd);
		return ret;
	}
	vhu_init(c, fd, path);
	return 0;
}

void vhu_close(struct vhu_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (!c->err)
		c->err = -ENOTCONN;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for ev on the socket until deadline: 0, -ETIMEDOUT, or -ECONNRESET on a hang-up with nothing
 * left to read. */
static int wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = ev };
		int64_t left = deadline - now_ms();
		int n = poll(&p, 1, left > 0 ? (int)left : 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		if (p.revents & ev)
			return 0;
		return p.revents & POLLNVAL ? -EBADF : -ECONNRESET;
	}
}

static int send_all(struct vhu_conn *c, const uint8_t *buf, size_t len, const int *fds, int nfds,
		    int64_t deadline)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_REGIONS)];
		struct cmsghdr align;
	} ctl;

	while (len) {
		struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;
		int ret;

		if (nfds) {	/* the fds ride on the first byte sent */
			struct cmsghdr *cm;

			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
			memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
		}
		if ((ret = wait_fd(c->fd, POLLOUT, deadline)))
			return ret;
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
		nfds = 0;
	}
	return 0;
}

/* Read exactly len bytes. A reply never carries fds: any that arrive are closed and the reply is
 * refused (a back-end could otherwise fill our fd table). */
static int recv_all(struct vhu_conn *c, uint8_t *buf, size_t len, int64_t deadline)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_REGIONS)];
		struct cmsghdr align;
	} ctl;
	int got_fds = 0;

	while (len) {
		struct iovec iov = { .iov_base = buf, .iov_len = len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
				     .msg_controllen = sizeof(ctl.buf) };
		struct cmsghdr *cm;
		ssize_t n;
		int ret;

		if ((ret = wait_fd(c->fd, POLLIN, deadline)))
			return ret;
		n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return -errno;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			size_t i, nfd;

			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (i = 0; i < nfd; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				close(fd);
			}
			got_fds = 1;
		}
		if (mh.msg_flags & MSG_CTRUNC)	/* the kernel dropped the fds that did not fit */
			got_fds = 1;
		if (n == 0)
			return -ECONNRESET;
		buf += n;
		len -= (size_t)n;
	}
	return got_fds ? -EPROTO : 0;
}

static int fail(struct vhu_conn *c, uint32_t request, int err, const char *what)
{
	if (!c->err) {
		log_errno(LOG_ERR, SUB, err, "%s: %s: %s; the back-end is treated as dead", c->name,
			  vhu_request_name(request), what);
		c->err = err;
	}
	return err;
}

/* One request: its reply (GET_*) or, with REPLY_ACK, the back-end's ack. Transport and protocol
 * errors are sticky; a back-end's "no" (a non-zero ack) is -EIO for this request only. */
static int call(struct vhu_conn *c, uint32_t request, const union vhu_payload *req, const int *fds,
		int nfds, union vhu_payload *reply)
{
	uint8_t buf[VHOST_USER_HDR_SIZE + VHOST_USER_MAX_PAYLOAD];
	int has_reply = vhu_request_has_reply(request), ack, len, ret;
	int64_t deadline;
	union vhu_payload scratch;

	if (c->err)
		return c->err;
	ack = !has_reply && (c->protocol_features & (1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK));
	len = vhu_encode(buf, sizeof(buf), request, ack ? VHOST_USER_NEED_REPLY_MASK : 0, req);
	if (len < 0)
		return len;	/* the caller's mistake, not the back-end's */
	deadline = now_ms() + c->timeout_ms;
	if ((ret = send_all(c, buf, (size_t)len, fds, nfds, deadline)))
		return fail(c, request, ret, "sending");
	if (!has_reply && !ack)
		return 0;
	if ((ret = recv_all(c, buf, VHOST_USER_HDR_SIZE, deadline)))
		return fail(c, request, ret, ret == -EPROTO ? "file descriptors in a reply" :
			    ret == -ETIMEDOUT ? "no reply in time" : "reading the reply");
	if ((len = vhu_reply_hdr_check(buf, request)) < 0)
		return fail(c, request, len, "bad reply header");
	if ((ret = recv_all(c, buf + VHOST_USER_HDR_SIZE, (size_t)len, deadline)))
		return fail(c, request, ret, ret == -EPROTO ? "file descriptors in a reply" :
			    ret == -ETIMEDOUT ? "no reply in time" : "reading the reply");
	if (!reply)
		reply = &scratch;
	/* libvhost-user answers a GET_CONFIG it cannot serve with an empty payload: a "no", like a nack.
	 * Devices probe for the size a back-end serves this way, so it is no error of its own. */
	if (request == VHOST_USER_GET_CONFIG && len == 0) {
		log_debug(SUB, "%s: GET_CONFIG of %u bytes at %u: the back-end refused", c->name,
			  req->config.size, req->config.offset);
		return -EIO;
	}
	if ((ret = vhu_reply_decode(request, req, ack, buf + VHOST_USER_HDR_SIZE, (size_t)len, reply)))
		return fail(c, request, ret, "bad reply payload");
	if (ack && reply->u64) {
		log_err(SUB, "%s: %s: the back-end refused (status %llu)", c->name,
			vhu_request_name(request), (unsigned long long)reply->u64);
		return -EIO;
	}
	return 0;
}

static int get_u64(struct vhu_conn *c, uint32_t request, uint64_t *out)
{
	union vhu_payload req = { 0 }, rep;
	int ret = call(c, request, &req, NULL, 0, &rep);

	if (!ret)
		*out = rep.u64;
	return ret;
}

static int set_u64(struct vhu_conn *c, uint32_t request, uint64_t v)
{
	union vhu_payload req = { .u64 = v };

	return call(c, request, &req, NULL, 0, NULL);
}

static int set_state(struct vhu_conn *c, uint32_t request, uint32_t idx, uint32_t num)
{
	union vhu_payload req = { .state = { .index = idx, .num = num } };

	if (idx > VHOST_USER_VRING_IDX_MASK)
		return -EINVAL;
	return call(c, request, &req, NULL, 0, NULL);
}

int vhu_get_features(struct vhu_conn *c, uint64_t *f) { return get_u64(c, VHOST_USER_GET_FEATURES, f); }
int vhu_set_features(struct vhu_conn *c, uint64_t f) { return set_u64(c, VHOST_USER_SET_FEATURES, f); }
int vhu_set_owner(struct vhu_conn *c) { return set_u64(c, VHOST_USER_SET_OWNER, 0); }

int vhu_get_protocol_features(struct vhu_conn *c, uint64_t *f)
{
	return get_u64(c, VHOST_USER_GET_PROTOCOL_FEATURES, f);
}

int vhu_set_protocol_features(struct vhu_conn *c, uint64_t f)
{
	int ret = set_u64(c, VHOST_USER_SET_PROTOCOL_FEATURES, f);

	/* acks start with the next request: this one went out before REPLY_ACK was agreed */
	if (!ret)
		c->protocol_features = f;
	return ret;
}

int vhu_get_queue_num(struct vhu_conn *c, uint32_t *num)
{
	uint64_t v = 0;
	int ret = get_u64(c, VHOST_USER_GET_QUEUE_NUM, &v);

	if (ret)
		return ret;
	if (!v || v > VHOST_USER_VRING_IDX_MASK + 1)
		return fail(c, VHOST_USER_GET_QUEUE_NUM, -EPROTO, "queue count out of range");
	*num = (uint32_t)v;
	return 0;
}

int vhu_negotiate(struct vhu_conn *c, uint64_t want_protocol)
{
	uint64_t offered = 0;
	int ret;

	if ((ret = vhu_get_features(c, &c->features)))
		return ret;
	if (c->features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES)) {
		if ((ret = vhu_get_protocol_features(c, &offered)) ||
		    (ret = vhu_set_protocol_features(c, offered & want_protocol)))
			return ret;
		if ((c->protocol_features & (1ULL << VHOST_USER_PROTOCOL_F_MQ)) &&
		    (ret = vhu_get_queue_num(c, &c->queue_num)))
			return ret;
	}
	return vhu_set_owner(c);
}

int vhu_set_mem_table(struct vhu_conn *c, const struct guest_mem *gm)
{
	union vhu_payload req = { 0 };
	int fds[VHOST_USER_MAX_REGIONS], i;

	if (gm->nr <= 0 || gm->nr > VHOST_USER_MAX_REGIONS)
		return -EINVAL;
	for (i = 0; i < gm->nr; i++) {
		const struct gm_region *r = &gm->r[i];

		if (r->fd < 0) {
			log_err(SUB, "%s: guest RAM is not shareable: vhost-user needs --memory ...,shared=on",
				c->name);
			return -EINVAL;
		}
		req.mem.regions[i] = (struct vhu_mem_region){ .guest_phys_addr = r->gpa,
			.memory_size = r->len, .userspace_addr = (uint64_t)(uintptr_t)r->hva,
			.mmap_offset = r->fd_offset };
		fds[i] = r->fd;
	}
	req.mem.nregions = (uint32_t)gm->nr;
	return call(c, VHOST_USER_SET_MEM_TABLE, &req, fds, gm->nr, NULL);
}

int vhu_set_vring_num(struct vhu_conn *c, uint32_t idx, uint32_t num)
{
	return set_state(c, VHOST_USER_SET_VRING_NUM, idx, num);
}

int vhu_set_vring_addr(struct vhu_conn *c, const struct guest_mem *gm, uint32_t idx, uint32_t size,
		       uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa)
{
	/* split ring parts (virtio 1.x §2.7): 16-byte descriptors, avail and used with event words */
	void *desc = gm_ptr(gm, desc_gpa, (size_t)size * 16);
	void *avail = gm_ptr(gm, avail_gpa, 6 + (size_t)size * 2);
	void *used = gm_ptr(gm, used_gpa, 6 + (size_t)size * 8);

	if (!size)
		return -EINVAL;
	if (!desc || !avail || !used)
		return -EFAULT;
	return vhu_set_vring_addr_host(c, idx, desc, avail, used);
}

int vhu_set_vring_addr_host(struct vhu_conn *c, uint32_t idx, const void *desc, const void *avail,
			    const void *used)
{
	union vhu_payload req = { 0 };

	if (idx > VHOST_USER_VRING_IDX_MASK || !desc || !avail || !used)
		return -EINVAL;
	req.addr = (struct vhu_vring_addr){ .index = idx, .desc_user_addr = (uint64_t)(uintptr_t)desc,
		.used_user_addr = (uint64_t)(uintptr_t)used, .avail_user_addr = (uint64_t)(uintptr_t)avail };
	return call(c, VHOST_USER_SET_VRING_ADDR, &req, NULL, 0, NULL);
}

int vhu_set_vring_base(struct vhu_conn *c, uint32_t idx, uint32_t base)
{
	return set_state(c, VHOST_USER_SET_VRING_BASE, idx, base);
}

int vhu_get_vring_base(struct vhu_conn *c, uint32_t idx, uint32_t *base)
{
	union vhu_payload req = { .state = { .index = idx } }, rep;
	int ret;

	if (idx > VHOST_USER_VRING_IDX_MASK)
		return -EINVAL;
	ret = call(c, VHOST_USER_GET_VRING_BASE, &req, NULL, 0, &rep);
	if (!ret)
		*base = rep.state.num;
	return ret;
}

static int set_vring_fd(struct vhu_conn *c, uint32_t request, uint32_t idx, int fd)
{
	union vhu_payload req = { .u64 = idx };

	if (idx > VHOST_USER_VRING_IDX_MASK)
		return -EINVAL;
	if (fd < 0)
		req.u64 |= VHOST_USER_VRING_NOFD_MASK;
	return call(c, request, &req, fd < 0 ? NULL : &fd, fd < 0 ? 0 : 1, NULL);
}

int vhu_set_vring_kick(struct vhu_conn *c, uint32_t idx, int fd)
{
	return set_vring_fd(c, VHOST_USER_SET_VRING_KICK, idx, fd);
}

int vhu_set_vring_call(struct vhu_conn *c, uint32_t idx, int fd)
{
	return set_vring_fd(c, VHOST_USER_SET_VRING_CALL, idx, fd);
}

int vhu_set_vring_err(struct vhu_conn *c, uint32_t idx, int fd)
{
	return set_vring_fd(c, VHOST_USER_SET_VRING_ERR, idx, fd);
}

int vhu_set_vring_enable(struct vhu_conn *c, uint32_t idx, int enable)
{
	return set_state(c, VHOST_USER_SET_VRING_ENABLE, idx, enable ? 1 : 0);
}

int vhu_get_config(struct vhu_conn *c, uint32_t offset, void *buf, uint32_t len)
{
	union vhu_payload req = { .config = { .offset = offset, .size = len } }, rep;
	int ret;

	if (!len || len > VHOST_USER_MAX_CONFIG_SIZE)
		return -EINVAL;
	if (!(c->protocol_features & (1ULL << VHOST_USER_PROTOCOL_F_CONFIG)))
		return -EOPNOTSUPP;
	ret = call(c, VHOST_USER_GET_CONFIG, &req, NULL, 0, &rep);
	if (!ret)
		memcpy(buf, rep.config.payload, len);
	return ret;
}

int vhu_stop_queues(struct vhu_conn *c, uint32_t nqueues, uint32_t *bases)
{
	int first = 0, ret;
	uint32_t i, base;

	for (i = 0; i < nqueues; i++) {
		ret = 0;
		/* without protocol features a ring is enabled by its kick fd; GET_VRING_BASE stops it */
		if (c->features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES))
			ret = vhu_set_vring_enable(c, i, 0);
		if (!ret)
			ret = vhu_get_vring_base(c, i, &base);
		if (bases)
			bases[i] = ret ? 0 : base;
		if (ret && !first)
			first = ret;
	}
	return first;
}
