/* Fake vhost-user back-end for the unit tests (see vhu_fake.h); runs on its own thread. */
#include "vhu_fake.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>

static int recv_exact(int fd, void *buf, size_t len, struct got *g)
{
	char ctl[CMSG_SPACE(sizeof(int) * 8)];
	uint8_t *p = buf;

	while (len) {
		struct iovec iov = { .iov_base = p, .iov_len = len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
				     .msg_controllen = sizeof(ctl) };
		ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
		struct cmsghdr *cm;

		if (n <= 0)
			return -1;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			int k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));

			memcpy(g->fds + g->nfds, CMSG_DATA(cm), sizeof(int) * (size_t)k);
			g->nfds += k;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void send_reply(int fd, const void *buf, size_t len, int with_fd)
{
	char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int efd = -1;

	if (with_fd) {
		struct cmsghdr *cm;

		efd = eventfd(0, EFD_CLOEXEC);
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof(ctl);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &efd, sizeof(int));
	}
	(void)sendmsg(fd, &mh, MSG_NOSIGNAL);
	if (efd >= 0)
		close(efd);	/* the front-end's copy, if it kept one, would show as a leak */
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	uint8_t drain[64];
	int i;

	for (i = 0; i < f->nsteps; i++) {
		struct step *s = &f->steps[i];
		struct got *g = &f->got[f->ngot];
		uint32_t hdr[3];

		if (recv_exact(f->fd, hdr, sizeof(hdr), g) ||
		    hdr[2] > sizeof(g->payload) || recv_exact(f->fd, g->payload, hdr[2], g))
			return NULL;
		g->req = hdr[0];
		g->flags = hdr[1];
		g->size = hdr[2];
		f->ngot++;
		if (g->req != s->req)
			f->mismatch++;
		if (s->kind == R_U64) {
			uint8_t m[20];
			uint32_t h[3] = { g->req, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, 8 };

			memcpy(m, h, 12);
			memcpy(m + 12, &s->u64, 8);
			send_reply(f->fd, m, sizeof(m), s->send_fd);
		} else if (s->kind == R_RAW) {
			send_reply(f->fd, s->raw, s->raw_len, s->send_fd);
		} else if (s->kind == R_HANG) {
			break;
		} else if (s->kind == R_CLOSE) {
			shutdown(f->fd, SHUT_RDWR);
			return NULL;
		}
	}
	while (read(f->fd, drain, sizeof(drain)) > 0)	/* until the front-end closes */
		;
	return NULL;
}

int fake_start(struct fake *f, struct vhu_conn *c)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	f->fd = sv[1];
	f->listen_fd = -1;
	vhu_init(c, sv[0], "fake");
	c->timeout_ms = 200;
	return -pthread_create(&f->thread, NULL, fake_main, f);
}

static void *fake_accept_main(void *arg)
{
	struct fake *f = arg;

	f->fd = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (f->fd < 0)
		return NULL;
	return fake_main(f);
}

int fake_listen(struct fake *f, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	f->fd = -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->listen_fd < 0)
		return -errno;
	if (bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(f->listen_fd, 1)) {
		close(f->listen_fd);
		return -errno;
	}
	return -pthread_create(&f->thread, NULL, fake_accept_main, f);
}

void fake_stop(struct fake *f, struct vhu_conn *c)
{
	int i, k;

	if (c)
		vhu_close(c);
	if (f->listen_fd >= 0) {
		/* wake an accept that never got its connection */
		shutdown(f->listen_fd, SHUT_RDWR);
	}
	pthread_join(f->thread, NULL);
	if (f->listen_fd >= 0)
		close(f->listen_fd);
	if (f->fd >= 0)
		close(f->fd);
	for (i = 0; i < f->ngot; i++)
		for (k = 0; k < f->got[i].nfds; k++)
			close(f->got[i].fds[k]);
}

struct step *fake_add(struct fake *f, uint32_t req, enum reply_kind kind, uint64_t u64)
{
	struct step *s = &f->steps[f->nsteps++];

	s->req = req;
	s->kind = kind;
	s->u64 = u64;
	return s;
}

void fake_raw(struct step *s, uint32_t req, uint32_t flags, uint32_t size, const void *payload,
		size_t payload_len)
{
	uint32_t h[3] = { req, flags, size };

	memcpy(s->raw, h, 12);
	if (payload_len)
		memcpy(s->raw + 12, payload, payload_len);
	s->kind = R_RAW;
	s->raw_len = 12 + payload_len;
}

int fake_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)))
		n++;
	closedir(d);
	return n;
}

int fake_log_lines(int fd)
{
	char buf[4096];
	off_t off = 0;
	ssize_t n;
	int lines = 0;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
		off += n;
	}
	return lines;
}
