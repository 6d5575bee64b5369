/* Serial output sink (see serial_out.h): a bounded ring between the UART's transmitter and the fd.
 * serial_out_put runs on vCPU threads under the UART lock; the writer thread owns the write(2)s;
 * create/destroy run on the main thread.
 * Why a thread with blocking writes rather than O_NONBLOCK writes from the I/O loop: O_NONBLOCK is a
 * flag of the open file description, which stdout shares with the user's shell (and with stdin and
 * stderr on a terminal); setting it would leak into other programs if ckvm died without putting it
 * back. A blocked writer thread harms nobody: the ring fills, bytes are dropped, and at exit the
 * thread is simply left behind. */
#include "backend/serial_out.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/sandbox.h"
#include "log.h"

#define REPORT_EVERY_S	10	/* at most one "bytes dropped" line this often while running */
#define EAGAIN_WAIT_MS	100	/* an fd that came to us non-blocking: poll this long per round */

struct serial_out {
	int fd;
	bool close_fd;		/* ours to close */
	bool direct;		/* regular file or block device: write on the caller's thread */
	bool writer_started;
	pthread_t writer;

	pthread_mutex_t lock;	/* everything below */
	pthread_cond_t more;	/* put/destroy -> writer: bytes queued, or closing */
	pthread_cond_t drained;	/* writer -> destroy: ring empty, or writer gone */
	bool writer_waiting;	/* the writer sleeps on `more` */
	bool closing;		/* destroy: write what is queued and exit, or give up */
	bool orphaned;		/* destroy gave up on a writer stuck in write(): it frees the sink */
	bool writer_done;
	bool failed;		/* a write error (EPIPE, EIO, ...): output is gone for good */
	bool error_logged;
	size_t head, len;	/* queued bytes: ring[head .. head + len) modulo the ring size */
	uint64_t dropped;	/* bytes lost: ring full, write error */
	uint64_t reported;	/* `dropped` at the last log line */
	time_t reported_at;
	uint8_t ring[SERIAL_OUT_RING_BYTES];
};

static time_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* With the lock held: a write failed for good. Logged once, outside the lock by the caller. */
static bool write_failed(struct serial_out *o)
{
	o->failed = true;
	if (o->error_logged)
		return false;
	o->error_logged = true;
	return true;
}

/* Direct mode, lock held: write it all now; on an error (ENOSPC, EFBIG with SIGXFSZ ignored, EIO)
 * the rest of this piece is lost, the next one tries again. Returns 0 or the -errno. */
static int direct_write(struct serial_out *o, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(o->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			o->dropped += len;
			return n < 0 ? -errno : -EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void serial_out_write(struct serial_out *o, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	bool log_error = false;
	int err = 0;

	if (!o || !len)
		return;
	pthread_mutex_lock(&o->lock);
	if (o->failed || o->closing) {
		o->dropped += len;
	} else if (o->direct) {
		err = direct_write(o, p, len);
		log_error = err && !o->error_logged;
		o->error_logged |= log_error;
	} else {
		size_t room = SERIAL_OUT_RING_BYTES - o->len, n = len < room ? len : room;

		for (size_t i = 0; i < n; i++)
			o->ring[(o->head + o->len + i) % SERIAL_OUT_RING_BYTES] = p[i];
		o->len += n;
		o->dropped += len - n;
		if (n && o->writer_waiting)
			pthread_cond_signal(&o->more);
	}
	pthread_mutex_unlock(&o->lock);
	if (log_error)
		log_errno(LOG_WARN, "serial", err, "output lost");
}

void serial_out_put(struct serial_out *o, uint8_t c)
{
	serial_out_write(o, &c, 1);
}

uint64_t serial_out_dropped(struct serial_out *o)
{
	uint64_t n;

	pthread_mutex_lock(&o->lock);
	n = o->dropped;
	pthread_mutex_unlock(&o->lock);
	return n;
}

/* With the lock held, after bytes went out: say (rate-limited) how much was dropped meanwhile. */
static uint64_t drops_to_report(struct serial_out *o)
{
	uint64_t n;

	if (o->dropped == o->reported || now_s() - o->reported_at < REPORT_EVERY_S)
		return 0;
	n = o->dropped - o->reported;
	o->reported = o->dropped;
	o->reported_at = now_s();
	return n;
}

/* One round outside the lock: write what is contiguous at the ring's head. Returns with the lock. */
static void writer_round(struct serial_out *o)
{
	size_t chunk = o->len;
	const uint8_t *p = o->ring + o->head;
	uint64_t report;
	ssize_t n;
	int err;

	if (chunk > SERIAL_OUT_RING_BYTES - o->head)
		chunk = SERIAL_OUT_RING_BYTES - o->head;
	pthread_mutex_unlock(&o->lock);
	n = write(o->fd, p, chunk);	/* may block for as long as the reader stalls */
	err = n < 0 ? errno : 0;
	if (err == EAGAIN) {
		struct pollfd pfd = { .fd = o->fd, .events = POLLOUT };

		poll(&pfd, 1, EAGAIN_WAIT_MS);
	}
	pthread_mutex_lock(&o->lock);
	if (n > 0) {
		o->head = (o->head + (size_t)n) % SERIAL_OUT_RING_BYTES;
		o->len -= (size_t)n;
		if (!o->len)
			pthread_cond_broadcast(&o->drained);
		report = drops_to_report(o);
		if (report) {
			pthread_mutex_unlock(&o->lock);
			log_warnx("serial", "output too slow or stalled: %llu bytes dropped",
				  (unsigned long long)report);
			pthread_mutex_lock(&o->lock);
		}
	} else if (err != EINTR && err != EAGAIN && write_failed(o)) {
		pthread_mutex_unlock(&o->lock);
		log_errno(LOG_WARN, "serial", err ? -err : -EIO, "output lost");
		pthread_mutex_lock(&o->lock);
	}
}

static void *writer_main(void *arg)
{
	struct serial_out *o = arg;
	bool free_me;

	pthread_setname_np(pthread_self(), "serial-out");
	sandbox_enter(SANDBOX_SERIAL_OUT);
	pthread_mutex_lock(&o->lock);
	for (;;) {
		while (!o->len && !o->closing) {
			o->writer_waiting = true;
			pthread_cond_wait(&o->more, &o->lock);
			o->writer_waiting = false;
		}
		if (o->failed || o->orphaned) {
			o->dropped += o->len;
			o->len = 0;
		}
		if (!o->len)
			break;	/* closing, and nothing (more) to write */
		writer_round(o);
	}
	o->writer_done = true;
	free_me = o->orphaned;
	pthread_cond_broadcast(&o->drained);
	pthread_mutex_unlock(&o->lock);
	if (free_me) {
		if (o->close_fd)
			close(o->fd);
		pthread_cond_destroy(&o->more);
		pthread_cond_destroy(&o->drained);
		pthread_mutex_destroy(&o->lock);
		free(o);
	}
	return NULL;
}

static int writer_start(struct serial_out *o)
{
	sigset_t all, old;
	int ret;

	/* The writer takes no signals: stop requests belong to the I/O loop, kicks to vCPUs. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&o->writer, NULL, writer_main, o);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		return -ret;
	o->writer_started = true;
	return 0;
}

int serial_out_create(struct serial_out **out, int fd, bool close_fd)
{
	struct serial_out *o;
	pthread_condattr_t ca;
	struct stat st;
	int ret;

	*out = NULL;
	if (fd < 0 || fstat(fd, &st) < 0)
		return -EBADF;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->fd = fd;
	o->close_fd = close_fd;
	o->direct = S_ISREG(st.st_mode) || S_ISBLK(st.st_mode);
	o->reported_at = now_s() - REPORT_EVERY_S;
	pthread_mutex_init(&o->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&o->more, &ca);
	pthread_cond_init(&o->drained, &ca);
	pthread_condattr_destroy(&ca);
	ret = o->direct ? 0 : writer_start(o);
	if (ret) {
		pthread_cond_destroy(&o->more);
		pthread_cond_destroy(&o->drained);
		pthread_mutex_destroy(&o->lock);
		free(o);
		return ret;
	}
	*out = o;
	return 0;
}

void serial_out_destroy(struct serial_out *o, int flush_ms)
{
	struct timespec deadline;
	pthread_t writer;
	uint64_t lost;
	bool stuck = false;

	if (!o)
		return;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += flush_ms / 1000;
	deadline.tv_nsec += (long)(flush_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&o->lock);
	writer = o->writer;
	if (o->writer_started) {
		while (o->len && !o->writer_done && !o->failed &&
		       pthread_cond_timedwait(&o->drained, &o->lock, &deadline) != ETIMEDOUT)
			;
		o->closing = true;
		/* Bytes still queued mean the writer is inside a write() the reader does not take. */
		stuck = o->len && !o->writer_done && !o->failed;
		o->orphaned = stuck;
		pthread_cond_signal(&o->more);
	}
	lost = o->dropped + o->len;	/* whatever is still queued will not be written */
	pthread_mutex_unlock(&o->lock);
	if (lost)
		log_warnx("serial", "%llu bytes of serial output dropped (the reader was too slow, stalled "
			  "or gone)", (unsigned long long)lost);
	if (stuck) {
		pthread_detach(writer);
		return;		/* the writer frees o if its write() ever returns; exit ends it otherwise */
	}
	if (o->writer_started)
		pthread_join(writer, NULL);
	if (o->close_fd)
		close(o->fd);
	pthread_cond_destroy(&o->more);
	pthread_cond_destroy(&o->drained);
	pthread_mutex_destroy(&o->lock);
	free(o);
}
