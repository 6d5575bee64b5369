/* The API server's connections: accept (the oldest gives way when all slots are taken), read
 * into the per-connection buffer, frame with http.c, answer through api_routes.c one request at a
 * time, write without blocking, and end each at its deadline (408 for a request not whole in time).
 * API thread, a->lock held. */
#include "control/api_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define MS 1000000LL

static void conn_watch(struct api *a, int i, uint32_t events)
{
	struct api_conn *c = &a->conns[i];
	struct epoll_event ee = { .events = events, .data.u64 = (uint64_t)i };

	if (c->events != events && epoll_ctl(a->epfd, EPOLL_CTL_MOD, c->fd, &ee) == 0)
		c->events = events;
}

void api_conn_close(struct api *a, int i)
{
	struct api_conn *c = &a->conns[i];

	if (c->fd < 0)
		return;
	epoll_ctl(a->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	http_conn_free(&c->http);
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = c->out_cap = 0;
	if (a->start_conn == i)
		a->start_conn = -1;
}

static int out_append(struct api_conn *c, const char *buf, size_t n)
{
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_len + n + 256;
		char *p = realloc(c->out, cap);

		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, buf, n);
	c->out_len += n;
	return 0;
}

/* Queue a response; the connection closes after it unless the client keeps it alive. */
void api_conn_respond(struct api *a, int i, int status, const char *body, bool keep_alive)
{
	struct api_conn *c = &a->conns[i];
	size_t cap = (body ? strlen(body) : 0) + 256;
	char *buf = malloc(cap);
	int n;

	if (status >= 400)
		a->bad_requests++;
	if (!buf || (n = http_format(buf, cap, status, body, keep_alive)) < 0 ||
	    out_append(c, buf, (size_t)n)) {
		keep_alive = false;
		c->out_len = c->out_off = 0;
	}
	free(buf);
	if (!keep_alive)
		c->close_after = true;
	c->out_since_ns = api_now_ns();
	c->answered = true;
}

/* An error of the client's own making, then close: {"fault_message": msg}. */
void api_conn_fail(struct api *a, int i, int status, const char *msg)
{
	struct api_reply rep = { 0 };

	api_reply_fault(&rep, status, "%s", msg);
	api_conn_respond(a, i, rep.status, rep.body, false);
	free(rep.body);
}

/* Write what is queued; 0, or -1 when the connection was closed. */
static int conn_flush(struct api *a, int i)
{
	struct api_conn *c = &a->conns[i];

	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {	/* EPIPE/ECONNRESET: the client left mid-response */
			api_conn_close(a, i);
			return -1;
		}
		c->out_off += (size_t)n;
	}
	if (c->close_after) {
		api_conn_close(a, i);
		return -1;
	}
	return 0;
}

static void answer(struct api *a, int i)
{
	struct api_conn *c = &a->conns[i];
	struct api_reply rep = { 0 };

	a->requests++;
	api_route(a, &c->http.req, &rep);
	if (rep.defer) {
		c->deferred = true;
		a->start_conn = i;
		conn_watch(a, i, 0);	/* nothing more from it until main answers (hang-ups still come) */
		return;
	}
	api_conn_respond(a, i, rep.status, rep.body, c->http.req.keep_alive);
	free(rep.body);
}

/* When this connection must be done with what it is doing: writing a response, receiving a
 * request, or waiting idle for the next one. */
static int64_t conn_deadline(const struct api *a, const struct api_conn *c)
{
	if (c->deferred)
		return INT64_MAX;
	if (c->out_off < c->out_len)
		return c->out_since_ns + a->write_timeout_ns;
	if (c->req_start_ns)
		return c->req_start_ns + a->request_timeout_ns;
	return c->since_ns + a->idle_timeout_ns;
}

/* Parse, answer and write for as long as there is something to do. */
void api_conn_progress(struct api *a, int i, enum conn_state st)
{
	struct api_conn *c = &a->conns[i];

	for (;;) {
		if (c->fd < 0 || c->deferred)
			return;
		if (c->out_off < c->out_len && (conn_flush(a, i) || c->out_off < c->out_len))
			break;	/* closed, or the rest when the socket takes it */
		if (c->answered) {
			/* The response is out: the next request (pipelined bytes) has its own time. */
			c->answered = false;
			c->since_ns = api_now_ns();
			st = http_conn_next(&c->http);
			c->req_start_ns = c->http.in_message || c->http.in_len ? c->since_ns : 0;
			continue;
		}
		if (st == CONN_BAD) {
			api_conn_fail(a, i, c->http.err_status, c->http.err_msg);
			continue;
		}
		if (st != CONN_REQUEST)
			break;
		answer(a, i);
	}
	if (c->fd < 0)
		return;
	if (st == CONN_NEED_MORE && !c->answered && http_conn_want_continue(&c->http) &&
	    !out_append(c, "HTTP/1.1 100 Continue\r\n\r\n", 25)) {
		c->out_since_ns = api_now_ns();
		if (conn_flush(a, i))
			return;
	}
	conn_watch(a, i, c->out_off < c->out_len ? EPOLLOUT : http_conn_room(&c->http) ? EPOLLIN : 0);
}

void api_conn_readable(struct api *a, int i)
{
	struct api_conn *c = &a->conns[i];
	enum conn_state st = CONN_NEED_MORE;
	size_t room = http_conn_room(&c->http);
	ssize_t n;

	if (!room || c->deferred || c->out_off < c->out_len)
		return;
	n = recv(c->fd, c->http.in + c->http.in_len, room, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		st = n == 0 ? http_conn_eof(&c->http) : CONN_NEED_MORE;
		if (st == CONN_BAD)
			api_conn_progress(a, i, st);	/* 400, best effort */
		api_conn_close(a, i);
		return;
	}
	if (!c->req_start_ns)	/* a new request starts: it has request_timeout to arrive whole */
		c->req_start_ns = api_now_ns();
	st = http_conn_parse(&c->http, (size_t)n);
	api_conn_progress(a, i, st);
}

/* All slots taken: the connection that has waited longest gives way (a flood of idle or stalled
 * clients cannot lock the next one out), except one waiting for InstanceStart. */
static int slot_take(struct api *a)
{
	int i, oldest = -1;

	for (i = 0; i < a->max_conns; i++) {
		if (a->conns[i].fd < 0)
			return i;
		if (!a->conns[i].deferred &&
		    (oldest < 0 || a->conns[i].since_ns < a->conns[oldest].since_ns))
			oldest = i;
	}
	if (oldest >= 0) {
		log_debug("api", "too many connections: closing the oldest");
		api_conn_close(a, oldest);
	}
	return oldest;
}

void api_conn_accept(struct api *a)
{
	for (int k = 0; k < 16; k++) {
		int fd = accept4(a->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), i;
		struct epoll_event ee = { .events = EPOLLIN };
		struct api_conn *c;

		if (fd < 0)
			return;
		if ((i = slot_take(a)) < 0) {
			close(fd);
			continue;
		}
		c = &a->conns[i];
		memset(c, 0, sizeof(*c));
		http_conn_init(&c->http);
		c->fd = fd;
		c->events = EPOLLIN;
		c->since_ns = api_now_ns();
		ee.data.u64 = (uint64_t)i;
		if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ee) < 0) {
			close(fd);
			c->fd = -1;
		}
	}
}

/* ---- the thread ---- */

void api_conn_deadlines(struct api *a, int64_t now)
{
	for (int i = 0; i < a->max_conns; i++) {
		struct api_conn *c = &a->conns[i];

		if (c->fd < 0 || conn_deadline(a, c) > now)
			continue;
		if (c->req_start_ns && c->out_off == c->out_len && !c->deferred) {
			api_conn_fail(a, i, 408, "request not received in time");	/* a stalled client */
			send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		}
		api_conn_close(a, i);
	}
}

int api_conn_timeout_ms(struct api *a, int64_t now)
{
	int64_t next = a->metrics_fd >= 0 ? a->metrics_next_ns : INT64_MAX;

	for (int i = 0; i < a->max_conns; i++)
		if (a->conns[i].fd >= 0 && conn_deadline(a, &a->conns[i]) < next)
			next = conn_deadline(a, &a->conns[i]);
	if (next == INT64_MAX)
		return -1;
	return next <= now ? 0 : (int)((next - now + MS - 1) / MS);
}
