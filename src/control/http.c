/* HTTP/1.1 request framing (RFC 9112) with libhttp-parser 2.9: callbacks copy the URL and the body
 * into the connection, the parser pauses after each whole request, and every limit (request size,
 * URL length) turns into a status for the caller. API thread only. */
#include "control/http.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct http_conn *conn_of(http_parser *p)
{
	return p->data;
}

static int fail(struct http_conn *c, int status, const char *msg)
{
	if (!c->err_status) {
		c->err_status = status;
		c->err_msg = msg;
	}
	return 1;	/* stops the parser */
}

static int on_message_begin(http_parser *p)
{
	struct http_conn *c = conn_of(p);
	struct http_req *r = &c->req;

	r->url_len = 0;
	r->url[0] = '\0';
	r->body_len = 0;
	if (r->body)
		r->body[0] = '\0';
	r->expect_continue = false;
	c->continue_sent = false;
	c->hdr_name_len = c->hdr_value_len = 0;
	c->hdr_name_done = false;
	c->in_message = true;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct http_conn *c = conn_of(p);
	struct http_req *r = &c->req;

	if (len > HTTP_URL_MAX - r->url_len)
		return fail(c, 414, "request URL too long");
	memcpy(r->url + r->url_len, at, len);
	r->url_len += len;
	r->url[r->url_len] = '\0';
	return 0;
}

/* A header is whole when the next name starts or the head ends. Only Expect matters here: the
 * parser itself reads Content-Length, Transfer-Encoding and Connection. */
static void header_done(struct http_conn *c)
{
	if (!c->hdr_name_done)
		return;
	if (c->hdr_name_len == 6 && !strncasecmp(c->hdr_name, "expect", 6) &&
	    c->hdr_value_len == 12 && !strncasecmp(c->hdr_value, "100-continue", 12))
		c->req.expect_continue = true;
	c->hdr_name_len = c->hdr_value_len = 0;
	c->hdr_name_done = false;
}

static void append_trunc(char *dst, size_t *len, size_t cap, const char *at, size_t n)
{
	size_t room = cap - 1 - *len;

	if (n > room)
		n = room;
	memcpy(dst + *len, at, n);
	*len += n;
	dst[*len] = '\0';
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct http_conn *c = conn_of(p);

	header_done(c);
	append_trunc(c->hdr_name, &c->hdr_name_len, sizeof(c->hdr_name), at, len);
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct http_conn *c = conn_of(p);

	c->hdr_name_done = true;
	append_trunc(c->hdr_value, &c->hdr_value_len, sizeof(c->hdr_value), at, len);
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct http_conn *c = conn_of(p);

	header_done(c);
	if (p->http_major != 1)
		return fail(c, 505, "only HTTP/1.x is served");
	/* A body that cannot fit is refused before it is sent (also before "100 Continue"). */
	if (!(p->flags & F_CHUNKED) && p->content_length != ULLONG_MAX &&
	    p->content_length > HTTP_REQ_MAX)
		return fail(c, 413, "request larger than 51200 bytes");
	c->req.method = (enum http_method)p->method;
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct http_conn *c = conn_of(p);
	struct http_req *r = &c->req;

	if (len > HTTP_REQ_MAX - r->body_len)
		return fail(c, 413, "request larger than 51200 bytes");
	if (r->body_len + len + 1 > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap : 1024;
		char *nb;

		while (cap < r->body_len + len + 1)
			cap *= 2;
		if (cap > HTTP_REQ_MAX + 1)
			cap = HTTP_REQ_MAX + 1;
		nb = realloc(r->body, cap);
		if (!nb)
			return fail(c, 503, "out of memory");
		r->body = nb;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, at, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct http_conn *c = conn_of(p);

	c->req.keep_alive = http_should_keep_alive(p);
	c->complete = true;
	c->in_message = false;
	http_parser_pause(p, 1);	/* one request at a time; the rest of the bytes wait */
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

void http_conn_init(struct http_conn *c)
{
	memset(c, 0, sizeof(*c));
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
}

void http_conn_free(struct http_conn *c)
{
	free(c->req.body);
	c->req.body = NULL;
	c->req.body_cap = 0;
}

size_t http_conn_room(const struct http_conn *c)
{
	return c->complete || c->err_status ? 0 : sizeof(c->in) - c->in_len;
}

static enum conn_state run(struct http_conn *c)
{
	enum http_errno err;
	size_t n;

	if (c->err_status)
		return CONN_BAD;
	if (c->complete)
		return CONN_REQUEST;
	if (!c->in_len)
		return CONN_NEED_MORE;
	n = http_parser_execute(&c->parser, &settings, c->in, c->in_len);
	err = HTTP_PARSER_ERRNO(&c->parser);
	c->req_bytes += n;
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
	if (c->err_status)
		return CONN_BAD;
	if (c->req_bytes > HTTP_REQ_MAX) {
		fail(c, 413, "request larger than 51200 bytes");
		return CONN_BAD;
	}
	if (err == HPE_PAUSED && c->complete)
		return CONN_REQUEST;
	if (err != HPE_OK) {
		fail(c, 400, http_errno_description(err));
		return CONN_BAD;
	}
	return CONN_NEED_MORE;
}

enum conn_state http_conn_parse(struct http_conn *c, size_t n)
{
	c->in_len += n;
	return run(c);
}

enum conn_state http_conn_next(struct http_conn *c)
{
	c->complete = false;
	c->req_bytes = 0;
	http_parser_pause(&c->parser, 0);
	return run(c);
}

enum conn_state http_conn_eof(struct http_conn *c)
{
	if (c->in_message || c->in_len) {
		fail(c, 400, "request cut short");
		return CONN_BAD;
	}
	return CONN_NEED_MORE;
}

bool http_conn_want_continue(struct http_conn *c)
{
	if (!c->in_message || !c->req.expect_continue || c->continue_sent || c->err_status)
		return false;
	/* Only while the head is parsed and no body byte has come yet. */
	if (c->req.body_len)
		return false;
	c->continue_sent = true;
	return true;
}

const char *http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

int http_format(char *buf, size_t cap, int status, const char *body, bool keep_alive)
{
	size_t blen = body ? strlen(body) : 0;
	int n;

	if (status == 204)
		n = snprintf(buf, cap, "HTTP/1.1 204 No Content\r\nServer: ckvm\r\nConnection: %s\r\n\r\n",
			     keep_alive ? "keep-alive" : "close");
	else
		n = snprintf(buf, cap, "HTTP/1.1 %d %s\r\nServer: ckvm\r\nConnection: %s\r\n"
			     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", status,
			     http_reason(status), keep_alive ? "keep-alive" : "close", blen, body ? body : "");
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}
