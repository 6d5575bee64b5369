/* virtio-vsock's host side (Firecracker's hybrid vsock): the listening Unix socket at PATH, the
 * "CONNECT <port>\n" handshake of host clients, connections to PATH_<port> for the guest's requests,
 * and the per-connection buffer of guest bytes the host socket has not taken yet. Every byte a host
 * client sends is untrusted like the guest's: the handshake line is bounded and parsed strictly.
 * Lock held, I/O thread (vsock_listen: main thread at creation). */
#include "virtio/vsock_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

/* Edge-triggered: every pass of vsock_service tries each socket until EAGAIN anyway, so a socket
 * we leave readable (no credit, no guest buffer) does not spin the loop. */
#define CONN_EVENTS (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)

static void conn_event(void *arg, uint32_t events)
{
	(void)events;
	vsock_service(arg);
}

static int addr_of(struct sockaddr_un *un, const char *path)
{
	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(un->sun_path))
		return -ENAMETOOLONG;
	strcpy(un->sun_path, path);
	return 0;
}

int vsock_listen(struct vsock *v, const char *path)
{
	struct sockaddr_un un;
	struct stat st;
	int fd, ret;

	if ((ret = addr_of(&un, path)))
		return ret;
	/* a socket file left by an earlier run is replaced; any other file is not ours to remove */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0 || listen(fd, 16) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	v->listen_fd = fd;
	return 0;
}

struct vconn *vsock_conn_find(struct vsock *v, uint32_t local_port, uint32_t peer_port)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vconn *c = &v->conns[i];

		if (c->state > VC_HANDSHAKE && c->local_port == local_port && c->peer_port == peer_port)
			return c;
	}
	return NULL;
}

struct vconn *vsock_conn_alloc(struct vsock *v, int fd)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vconn *c = &v->conns[i];
		uint8_t *buf = c->buf;

		if (c->state != VC_FREE)
			continue;
		if (!buf && !(buf = malloc(VSOCK_BUF)))
			return NULL;
		if (evloop_add(v->ev, fd, CONN_EVENTS, conn_event, v)) {
			c->buf = buf;
			return NULL;
		}
		memset(c, 0, sizeof(*c));
		c->buf = buf;
		c->fd = fd;
		v->stats.conns++;
		return c;
	}
	return NULL;
}

void vsock_conn_free(struct vsock *v, struct vconn *c)
{
	uint8_t *buf = c->buf;

	if (c->state == VC_FREE)
		return;
	evloop_del(v->ev, c->fd);
	close(c->fd);
	memset(c, 0, sizeof(*c));
	c->buf = buf;		/* kept for the next connection in this slot */
	c->fd = -1;
	v->stats.conns--;
}

void vsock_accept(struct vsock *v)
{
	for (;;) {
		int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct vconn *c;

		if (fd < 0)
			return;		/* EAGAIN, or an error the next client may not have */
		if (!(c = vsock_conn_alloc(v, fd))) {
			log_warnx("vsock", "%s: too many connections, host client refused", v->vdev.name);
			close(fd);
			continue;
		}
		c->state = VC_HANDSHAKE;
	}
}

/* A free host-side port for a host-initiated connection (wraps inside the ephemeral range). */
static uint32_t ephemeral_port(struct vsock *v, uint32_t peer_port)
{
	for (;;) {
		uint32_t p = v->next_port++;

		if (v->next_port < VSOCK_EPHEMERAL)
			v->next_port = VSOCK_EPHEMERAL;
		if (!vsock_conn_find(v, p, peer_port))
			return p;
	}
}

/* "CONNECT <port>" with 1-10 decimal digits, at most UINT32_MAX: 0 and *port, else -1. */
static int parse_connect(const char *line, uint32_t *port)
{
	uint64_t p = 0;
	const char *s;

	if (strncmp(line, "CONNECT ", 8))
		return -1;
	for (s = line + 8; *s >= '0' && *s <= '9' && s - line < 8 + 10; s++)
		p = p * 10 + (uint64_t)(*s - '0');
	if (s == line + 8 || *s || p > UINT32_MAX)
		return -1;
	*port = (uint32_t)p;
	return 0;
}

int vsock_handshake(struct vsock *v, struct vconn *c)
{
	/* one byte at a time: what follows the newline is stream data and must stay in the socket */
	while (c->line_len < VSOCK_LINE_MAX - 1) {
		char ch;
		ssize_t n = read(c->fd, &ch, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		if (ch == '\n') {
			uint32_t port;

			c->line[c->line_len] = '\0';
			if (parse_connect(c->line, &port)) {
				log_warnx("vsock", "%s: host client sent '%.31s', not CONNECT <port>: closed",
					 v->vdev.name, c->line);
				return -1;
			}
			c->peer_port = port;
			c->local_port = ephemeral_port(v, port);
			c->state = VC_CONNECTING;
			c->pending |= P_REQUEST;
			return 1;
		}
		c->line[c->line_len++] = ch;
	}
	log_warnx("vsock", "%s: host client's handshake line too long: closed", v->vdev.name);
	return -1;
}

struct vconn *vsock_connect_host(struct vsock *v, uint32_t port, uint32_t guest_port)
{
	char path[sizeof(v->path) + 12];
	struct sockaddr_un un;
	struct vconn *c;
	int fd;

	snprintf(path, sizeof(path), "%s_%u", v->path, port);
	if (addr_of(&un, path))
		return NULL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	/* a Unix stream connect completes at once or fails (EAGAIN: the listener's backlog is full) */
	if (connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
		log_debug("vsock", "%s: guest port %u -> %s: %s", v->vdev.name, guest_port, path,
			  strerror(errno));
		close(fd);
		return NULL;
	}
	if (!(c = vsock_conn_alloc(v, fd))) {
		close(fd);
		return NULL;
	}
	c->local_port = port;
	c->peer_port = guest_port;
	c->state = VC_ESTABLISHED;
	c->pending |= P_RESPONSE;
	return c;
}

int vsock_flush(struct vsock *v, struct vconn *c)
{
	while (c->buf_len) {
		/* MSG_NOSIGNAL: a host peer that went away is an error return, not a SIGPIPE */
		ssize_t n = send(c->fd, c->buf + c->buf_off, c->buf_len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return -1;
		c->buf_off += (uint32_t)n;
		c->buf_len -= (uint32_t)n;
		c->fwd_cnt += (uint32_t)n;
	}
	if (!c->buf_len)
		c->buf_off = 0;
	/* tell the guest about freed space before it can run out of credit */
	if (c->fwd_cnt - c->fwd_sent >= VSOCK_BUF / 4)
		c->pending |= P_CREDIT;
	if (!c->buf_len && c->guest_shut_send)
		shutdown(c->fd, SHUT_WR);
	if (!c->buf_len && c->rst_after_flush)
		c->pending |= P_RST;
	(void)v;
	return 0;
}
