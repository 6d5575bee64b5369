/* The live-migration stream (migrate_stream.h): the sender's buffered records, the hostile-input
 * receiver, and the two ends' sockets. */
#include "core/migrate_stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/guest_mem.h"
#include "core/snapshot_fmt.h"
#include "log.h"

_Static_assert(sizeof(struct mig_hello) == 32, "the hello is 32 bytes on the wire");
_Static_assert(sizeof(struct mig_rec) == 16, "a record header is 16 bytes on the wire");
_Static_assert(sizeof(struct mig_disk_hdr) == 16, "a disk block header is 16 bytes on the wire");

#define OUT_BUF (1u << 20)	/* records gathered before a write */


static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint32_t rec_crc(const struct mig_rec *r, const void *payload, size_t len)
{
	struct mig_rec c = *r;

	c.crc = 0;
	return snap_crc32(snap_crc32(0, &c, sizeof(c)), payload, len);
}

/* ---- sender ---- */

int mig_out_init(struct mig_out *o, int fd, uint64_t bw_bytes_per_s)
{
	memset(o, 0, sizeof(*o));
	o->fd = fd;
	o->bw_bytes_per_s = bw_bytes_per_s;
	o->t_start = now_ns();
	if (!(o->buf = malloc(OUT_BUF)))
		return o->err = -ENOMEM;
	o->cap = OUT_BUF;
	return 0;
}

void mig_out_free(struct mig_out *o)
{
	free(o->buf);
	o->buf = NULL;
}

/* With a bandwidth limit: sleep until the bytes sent since t_start fit it (a rate limiter, not a
 * synchronisation: nothing else waits on it). */
static void throttle(struct mig_out *o, size_t n)
{
	int64_t due;

	if (!o->bw_bytes_per_s)
		return;
	o->t_bytes += n;
	due = o->t_start + (int64_t)(o->t_bytes * 1000000000ULL / o->bw_bytes_per_s);
	for (int64_t t = now_ns(); t < due; t = now_ns()) {
		struct timespec ts = { (due - t) / 1000000000LL, (due - t) % 1000000000LL };

		nanosleep(&ts, NULL);
	}
}

static int write_all(struct mig_out *o, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = send(o->fd, b, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return o->err = w < 0 ? (errno == EAGAIN ? -ETIMEDOUT : -errno) : -EPIPE;
		throttle(o, (size_t)w);
		o->bytes += (uint64_t)w;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int mig_out_flush(struct mig_out *o)
{
	if (o->err)
		return o->err;
	if (o->len && write_all(o, o->buf, o->len))
		return o->err;
	o->len = 0;
	return 0;
}

static int put(struct mig_out *o, const void *p, size_t n)
{
	if (o->err)
		return o->err;
	if (o->len + n > o->cap && mig_out_flush(o))
		return o->err;
	if (n > o->cap)
		return write_all(o, p, n);
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return 0;
}

int mig_out_hello(struct mig_out *o, uint64_t ram_bytes, uint32_t ncpus)
{
	struct mig_hello h = { .version = MIG_VERSION, .page_size = MIG_PAGE, .ram_bytes = ram_bytes,
			       .ncpus = ncpus };

	memcpy(h.magic, MIG_MAGIC, sizeof(h.magic));
	h.crc = snap_crc32(0, &h, offsetof(struct mig_hello, crc));
	return put(o, &h, sizeof(h));
}

static bool all_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;
	uint64_t acc = 0;

	for (size_t i = 0; i < MIG_PAGE / 8; i++)
		acc |= q[i];
	return acc == 0;
}

int mig_out_page(struct mig_out *o, uint64_t gpa, const void *data)
{
	struct mig_rec r = { .type = MIG_REC_PAGE, .arg = gpa };
	uint8_t copy[MIG_PAGE];

	/* The guest may write the page meanwhile: checksum and send one copy (a later round sends
	 * the newer contents; KVM logged the write). */
	memcpy(copy, data, MIG_PAGE);
	if (all_zero(copy)) {
		r.type = MIG_REC_ZERO;
		r.crc = rec_crc(&r, NULL, 0);
		return put(o, &r, sizeof(r));
	}
	r.crc = rec_crc(&r, copy, MIG_PAGE);
	if (put(o, &r, sizeof(r)))
		return o->err;
	return put(o, copy, MIG_PAGE);
}

int mig_out_state(struct mig_out *o, const void *state, size_t len)
{
	struct mig_rec r = { .type = MIG_REC_STATE, .arg = len };

	r.crc = rec_crc(&r, state, len);
	if (put(o, &r, sizeof(r)))
		return o->err;
	return put(o, state, len);
}

int mig_out_disk(struct mig_out *o, uint32_t disk, uint64_t off, const void *data, uint32_t len)
{
	struct mig_disk_hdr d = { .disk = disk, .len = len, .off = off };
	struct mig_rec r = { .type = MIG_REC_DISK, .arg = sizeof(d) + (uint64_t)len };

	if (!len || len > MIG_DISK_MAX_BLOCK)
		return -EINVAL;
	r.crc = snap_crc32(rec_crc(&r, &d, sizeof(d)), data, len);
	if (put(o, &r, sizeof(r)) || put(o, &d, sizeof(d)))
		return o->err;
	return put(o, data, len);
}

/* ---- receiver ---- */

ssize_t mig_read_fd(void *ctx, void *buf, size_t len)
{
	ssize_t n;

	do
		n = recv(*(int *)ctx, buf, len, 0);
	while (n < 0 && errno == EINTR);
	return n < 0 ? (errno == EAGAIN ? -ETIMEDOUT : -errno) : n;
}

/* Exactly len bytes: 0, -EPIPE at a premature end, or the read's -errno. */
static int read_exact(mig_read_fn rd, void *ctx, void *buf, size_t len, struct mig_in_stats *st)
{
	uint8_t *b = buf;

	while (len) {
		ssize_t n = rd(ctx, b, len);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EPIPE;
		b += n;
		len -= (size_t)n;
		st->bytes += (uint64_t)n;
	}
	return 0;
}

static int hello_check(const struct mig_hello *h, const struct guest_mem *gm, uint32_t ncpus,
		       char *err, size_t errlen)
{
	if (memcmp(h->magic, MIG_MAGIC, sizeof(h->magic)))
		return errf(err, errlen, -EINVAL, "not a ckvm migration stream (bad magic)");
	if (h->crc != snap_crc32(0, h, offsetof(struct mig_hello, crc)))
		return errf(err, errlen, -EBADMSG, "damaged stream: the hello's checksum does not match");
	if (h->version != MIG_VERSION || h->page_size != MIG_PAGE)
		return errf(err, errlen, -EPROTO, "stream version %u (pages of %u bytes); this ckvm "
			    "reads version %u only", h->version, h->page_size, MIG_VERSION);
	if (h->ram_bytes != gm->ram_bytes || h->ncpus != ncpus)
		return errf(err, errlen, -EINVAL, "the source VM has %u vCPUs and %llu MiB of RAM; give "
			    "the same --cpus and --memory (now %u and %llu MiB)", h->ncpus,
			    (unsigned long long)(h->ram_bytes >> 20), ncpus,
			    (unsigned long long)(gm->ram_bytes >> 20));
	return 0;
}

/* A DISK record (its header r read): the block header checked against the destination's images
 * before any data is read, the data against the CRC before it is written. */
static int receive_disk(mig_read_fn rd, void *ctx, const struct mig_rec *r,
			const struct mig_disks *disks, struct mig_in_stats *st, char *err, size_t errlen)
{
	struct mig_disk_hdr d;
	uint8_t *buf;
	int ret;

	if (!disks || !disks->n)
		return errf(err, errlen, -EINVAL, "the source sends its disks (--migrate-disks) but "
			    "this VM has no writable --disk");
	if (r->arg <= sizeof(d) || r->arg > sizeof(d) + MIG_DISK_MAX_BLOCK)
		return errf(err, errlen, -EBADMSG, "damaged stream: a disk record of %llu bytes",
			    (unsigned long long)r->arg);
	if ((ret = read_exact(rd, ctx, &d, sizeof(d), st)))
		return errf(err, errlen, ret, "stream cut inside a disk record (%s): no VM started "
			    "from a partial stream", strerror(-ret));
	if (d.len != r->arg - sizeof(d))
		return errf(err, errlen, -EBADMSG, "damaged stream: a disk block of %u bytes in a "
			    "record of %llu", d.len, (unsigned long long)r->arg);
	if (d.disk >= disks->n)
		return errf(err, errlen, -EINVAL, "the source sends disk %u; this VM has %u writable "
			    "--disk images: give the same disks", d.disk, disks->n);
	if (d.off > disks->sizes[d.disk] || d.len > disks->sizes[d.disk] - d.off)
		return errf(err, errlen, -EINVAL, "the source's disk %u is larger than this one "
			    "(%llu bytes at %llu; it has %llu): give an image of the same size",
			    d.disk, (unsigned long long)d.len, (unsigned long long)d.off,
			    (unsigned long long)disks->sizes[d.disk]);
	if (!(buf = malloc(d.len)))
		return errf(err, errlen, -ENOMEM, "out of memory for a disk block");
	if ((ret = read_exact(rd, ctx, buf, d.len, st))) {
		free(buf);
		return errf(err, errlen, ret, "stream cut inside a disk block (%s): no VM started "
			    "from a partial stream", strerror(-ret));
	}
	if (r->crc != snap_crc32(rec_crc(r, &d, sizeof(d)), buf, d.len)) {
		free(buf);
		return errf(err, errlen, -EBADMSG, "damaged stream: disk %u's block at %llu fails its "
			    "checksum", d.disk, (unsigned long long)d.off);
	}
	ret = disks->write(disks->ctx, d.disk, d.off, buf, d.len);
	free(buf);
	if (ret)
		return errf(err, errlen, ret, "writing disk %u at %llu: %s", d.disk,
			    (unsigned long long)d.off, strerror(-ret));
	st->disk_blocks++;
	st->disk_bytes += d.len;
	return 0;
}

int mig_receive(mig_read_fn rd, void *ctx, const struct guest_mem *gm, uint32_t ncpus,
		const struct mig_disks *disks, uint8_t **state, size_t *state_len,
		struct mig_in_stats *st, char *err, size_t errlen)
{
	static const uint8_t zero[MIG_PAGE];
	uint8_t page[MIG_PAGE];
	struct mig_hello h;
	struct mig_rec r;
	uint8_t *buf;
	int ret;

	memset(st, 0, sizeof(*st));
	*state = NULL;
	*state_len = 0;
	if ((ret = read_exact(rd, ctx, &h, sizeof(h), st)))
		return errf(err, errlen, ret, "stream ended before its hello: %s", strerror(-ret));
	if ((ret = hello_check(&h, gm, ncpus, err, errlen)))
		return ret;
	for (;;) {
		if ((ret = read_exact(rd, ctx, &r, sizeof(r), st)))
			return errf(err, errlen, ret, "stream cut after %llu pages (%s): no VM started "
				    "from a partial stream", (unsigned long long)(st->pages + st->zero_pages),
				    strerror(-ret));
		if (r.type == MIG_REC_STATE)
			break;
		if (r.type == MIG_REC_DISK) {
			if ((ret = receive_disk(rd, ctx, &r, disks, st, err, errlen)))
				return ret;
			continue;
		}
		if (r.type != MIG_REC_PAGE && r.type != MIG_REC_ZERO)
			return errf(err, errlen, -EBADMSG, "damaged stream: record type %u after %llu "
				    "bytes", r.type, (unsigned long long)st->bytes);
		/* the address is checked before its page is read: a bad one never gets a buffer */
		if (r.arg % MIG_PAGE || gm_span(gm, r.arg) < MIG_PAGE)
			return errf(err, errlen, -EBADMSG, "damaged stream: page address 0x%llx is not a "
				    "page of guest RAM", (unsigned long long)r.arg);
		if (r.type == MIG_REC_PAGE &&
		    (ret = read_exact(rd, ctx, page, MIG_PAGE, st)))
			return errf(err, errlen, ret, "stream cut inside a page (%s): no VM started from "
				    "a partial stream", strerror(-ret));
		if (r.crc != rec_crc(&r, r.type == MIG_REC_PAGE ? page : NULL,
				     r.type == MIG_REC_PAGE ? MIG_PAGE : 0))
			return errf(err, errlen, -EBADMSG, "damaged stream: the page at 0x%llx fails its "
				    "checksum", (unsigned long long)r.arg);
		if ((ret = gm_write(gm, r.arg, r.type == MIG_REC_PAGE ? page : zero, MIG_PAGE)))
			return errf(err, errlen, ret, "page 0x%llx: %s", (unsigned long long)r.arg,
				    strerror(-ret));
		if (r.type == MIG_REC_PAGE)
			st->pages++;
		else
			st->zero_pages++;
	}
	if (r.arg == 0 || r.arg > SNAP_MAX_FILE)
		return errf(err, errlen, -EBADMSG, "damaged stream: a device state of %llu bytes",
			    (unsigned long long)r.arg);
	if (!(buf = malloc((size_t)r.arg)))
		return errf(err, errlen, -ENOMEM, "out of memory for the device state");
	if ((ret = read_exact(rd, ctx, buf, (size_t)r.arg, st))) {
		free(buf);
		return errf(err, errlen, ret, "stream cut inside the device state (%s): no VM started "
			    "from a partial stream", strerror(-ret));
	}
	if (r.crc != rec_crc(&r, buf, (size_t)r.arg)) {
		free(buf);
		return errf(err, errlen, -EBADMSG, "damaged stream: the device state fails its checksum");
	}
	*state = buf;
	*state_len = (size_t)r.arg;
	return 0;
}

/* ---- sockets ---- */

static int parse_url(const char *url, struct sockaddr_storage *ss, socklen_t *sl, char *err,
		     size_t errlen)
{
	memset(ss, 0, sizeof(*ss));
	if (!strncmp(url, "unix:", 5)) {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;

		if (!url[5] || strlen(url + 5) >= sizeof(un->sun_path))
			return errf(err, errlen, -EINVAL, "%s: a unix socket path of 1 to %zu bytes", url,
				    sizeof(un->sun_path) - 1);
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, url + 5);
		*sl = sizeof(*un);
		return 0;
	}
	if (!strncmp(url, "tcp:", 4)) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		const char *colon = strrchr(url + 4, ':');
		char host[64], *end;
		unsigned long port;

		if (!colon || (size_t)(colon - (url + 4)) >= sizeof(host))
			return errf(err, errlen, -EINVAL, "%s: expected tcp:HOST:PORT", url);
		memcpy(host, url + 4, (size_t)(colon - (url + 4)));
		host[colon - (url + 4)] = '\0';
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (!colon[1] || *end || errno || port == 0 || port > 65535)
			return errf(err, errlen, -EINVAL, "%s: the port must be 1-65535", url);
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		if (!host[0] || !strcmp(host, "localhost"))
			strcpy(host, host[0] ? "127.0.0.1" : "0.0.0.0");
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return errf(err, errlen, -EINVAL, "%s: the host must be an IPv4 address or "
				    "localhost", url);
		*sl = sizeof(*in);
		return 0;
	}
	return errf(err, errlen, -EINVAL, "%s: expected tcp:HOST:PORT or unix:PATH", url);
}

static void timeouts(int fd)
{
	struct timeval tv = { MIG_IO_TIMEOUT_S, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int mig_listen_accept(const char *url, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct stat st;
	socklen_t sl;
	int fd, c, ret, one = 1;

	if ((ret = parse_url(url, &ss, &sl, err, errlen)))
		return ret;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return errf(err, errlen, -errno, "%s: socket: %s", url, strerror(errno));
	if (ss.ss_family == AF_INET)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	else if (!lstat(((struct sockaddr_un *)&ss)->sun_path, &st) && S_ISSOCK(st.st_mode))
		unlink(((struct sockaddr_un *)&ss)->sun_path);	/* a stale socket, never a file */
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 1) < 0) {
		ret = errf(err, errlen, -errno, "%s: cannot listen: %s", url, strerror(errno));
		close(fd);
		return ret;
	}
	do
		c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	while (c < 0 && errno == EINTR);
	ret = -errno;
	close(fd);
	if (ss.ss_family == AF_UNIX)
		unlink(((struct sockaddr_un *)&ss)->sun_path);
	if (c < 0)
		return errf(err, errlen, ret, "%s: accept: %s", url, strerror(-ret));
	timeouts(c);
	return c;
}

int mig_connect(const char *url, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, ret;

	if ((ret = parse_url(url, &ss, &sl, err, errlen)))
		return ret;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return errf(err, errlen, -errno, "%s: socket: %s", url, strerror(errno));
	timeouts(fd);
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		ret = errf(err, errlen, -errno, "%s: cannot connect: %s", url, strerror(errno));
		close(fd);
		return ret;
	}
	return fd;
}
