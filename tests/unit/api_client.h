/* A raw client for the API tests: connect to the test server's socket, send exact bytes, read what
 * comes back (until the server closes, or a number of whole responses). */
#ifndef CKVM_TEST_API_CLIENT_H
#define CKVM_TEST_API_CLIENT_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static char sock_path[108];

static int cli_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 3 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read until the server closes (or 3 s pass); NUL-terminated; returns the length. */
static size_t read_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < cap && (n = recv(fd, buf + len, cap - 1 - len, 0)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return len;
}

/* Read exactly one whole response (head + Content-Length body) from a kept-alive connection. */
static size_t read_one(int fd, char *buf, size_t cap)
{
	size_t len = 0, need = 0;
	char *end, *cl;
	ssize_t n;

	buf[0] = '\0';
	while (len + 1 < cap) {
		end = strstr(buf, "\r\n\r\n");
		if (end) {
			cl = strstr(buf, "Content-Length: ");
			need = (size_t)(end + 4 - buf) + (cl && cl < end ? strtoul(cl + 16, NULL, 10) : 0);
			if (len >= need)
				break;
		}
		if ((n = recv(fd, buf + len, cap - 1 - len, 0)) <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
	}
	return len;
}

static int status_of(const char *resp)
{
	return strncmp(resp, "HTTP/1.1 ", 9) ? -1 : atoi(resp + 9);
}

static const char *body_of(const char *resp)
{
	const char *p = strstr(resp, "\r\n\r\n");

	return p ? p + 4 : "";
}

/* One request with Connection: close; the status (-1: no response). resp gets the whole reply. */
static int call(const char *method, const char *path, const char *body, char *resp, size_t cap)
{
	char req[8192];
	int fd = cli_connect(), n;

	resp[0] = '\0';
	if (fd < 0)
		return -1;
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
		     "Content-Length: %zu\r\n\r\n%s", method, path, body ? strlen(body) : 0, body ? body : "");
	send_all(fd, req, (size_t)n);
	read_all(fd, resp, cap);
	close(fd);
	return status_of(resp);
}

/* Raw bytes in, whole reply (until close) out; the status or -1. */
static int raw(const char *bytes, size_t len, char *resp, size_t cap)
{
	int fd = cli_connect();

	resp[0] = '\0';
	if (fd < 0)
		return -1;
	send_all(fd, bytes, len);
	read_all(fd, resp, cap);
	close(fd);
	return status_of(resp);
}

#endif
