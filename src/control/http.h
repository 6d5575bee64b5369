/* HTTP/1.1 request framing for the API server, over libhttp-parser (the parser only: ckvm keeps
 * the sockets, caps and time-outs). One struct http_conn per client connection; bytes go in, whole
 * requests come out one at a time (pipelined bytes wait), responses are formatted with a
 * Content-Length. No sockets here, so tests feed raw bytes. */
#ifndef CKVM_CONTROL_HTTP_H
#define CKVM_CONTROL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <http_parser.h>

#define HTTP_REQ_MAX	51200	/* a whole request, head and body: Firecracker's limit */
#define HTTP_URL_MAX	2048	/* longer: 414 */

struct http_req {
	enum http_method method;
	char url[HTTP_URL_MAX + 1];
	size_t url_len;
	char *body;		/* NUL-terminated, body_len bytes; NULL when there is none */
	size_t body_len, body_cap;
	bool keep_alive;
	bool expect_continue;	/* "Expect: 100-continue" */
};

enum conn_state {
	CONN_NEED_MORE,		/* no whole request yet */
	CONN_REQUEST,		/* c->req is a whole request: answer it, then http_conn_next() */
	CONN_BAD,		/* c->err_status/err_msg: answer that, then close */
};

struct http_conn {
	http_parser parser;
	struct http_req req;
	size_t req_bytes;	/* bytes of the current request so far */
	bool in_message, complete, continue_sent;
	char hdr_name[32];	/* the header field being read (truncated) */
	size_t hdr_name_len;
	bool hdr_name_done;
	char hdr_value[32];
	size_t hdr_value_len;
	int err_status;
	const char *err_msg;
	char in[8192];		/* bytes received, not parsed yet (the parser pauses after a request) */
	size_t in_len;
};

void http_conn_init(struct http_conn *c);
void http_conn_free(struct http_conn *c);
/* Free room in c->in for the next read(); 0 while a request waits to be answered. */
size_t http_conn_room(const struct http_conn *c);
/* The caller appended n bytes at c->in + c->in_len; parse what is there. */
enum conn_state http_conn_parse(struct http_conn *c, size_t n);
/* The request is answered: forget it and parse on (pipelined bytes). */
enum conn_state http_conn_next(struct http_conn *c);
/* The client ended its side: a request cut short is CONN_BAD, else NEED_MORE (nothing pending). */
enum conn_state http_conn_eof(struct http_conn *c);
/* true once per request whose head asked for "100 Continue" before its body. */
bool http_conn_want_continue(struct http_conn *c);

/* Format a response into buf (cap bytes): status line, Server, Connection, then for a body
 * Content-Type: application/json and Content-Length. 204 carries neither. Returns the length, or
 * -ENOSPC. */
int http_format(char *buf, size_t cap, int status, const char *body, bool keep_alive);
const char *http_reason(int status);

#endif
