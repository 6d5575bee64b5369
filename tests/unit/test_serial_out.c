/* Unit tests for the serial output sink (src/backend/serial_out.c): a reader that stalls never blocks
 * the producer (bytes are dropped and counted) nor serial_out_destroy (bounded flush); a reader that
 * keeps up gets every byte in order; a regular file is written directly, and a write error (EFBIG
 * past RLIMIT_FSIZE, EPIPE) loses output without killing anything. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "backend/serial_out.h"
#include "log.h"
#include "test.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)('a' + i % 26);
}

struct producer {
	struct serial_out *o;
	size_t len;
	double took_s;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	double t0 = now_s();

	for (size_t i = 0; i < p->len; i++)
		serial_out_put(p->o, pattern(i));
	p->took_s = now_s() - t0;
	return NULL;
}

/* Run the producer on its own thread and give up on it after 10 s (a blocked put would hang). */
static int produce_bounded(struct producer *p)
{
	struct timespec ts;
	pthread_t t;

	if (pthread_create(&t, NULL, produce, p))
		return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	return pthread_timedjoin_np(t, NULL, &ts) ? -1 : 0;
}

/* Nobody reads the pipe: puts never wait, the overflow is counted, destroy keeps to its bound. */
static void test_stalled_pipe(void)
{
	struct producer p = { .len = 3 * SERIAL_OUT_RING_BYTES };
	uint64_t dropped;
	double t0;
	int fds[2], avail = 0;

	CHECK_EQ(pipe(fds), 0);
	CHECK_EQ(fcntl(fds[1], F_SETPIPE_SZ, 4096), 4096);
	CHECK_EQ(serial_out_create(&p.o, fds[1], true), 0);	/* the writer left behind closes it */
	CHECK_EQ(produce_bounded(&p), 0);
	CHECK(p.took_s < 5);
	dropped = serial_out_dropped(p.o);
	/* the ring is full, the pipe too; the rest was dropped */
	CHECK(dropped >= p.len - SERIAL_OUT_RING_BYTES - 4096);
	CHECK(dropped <= p.len - SERIAL_OUT_RING_BYTES);
	t0 = now_s();
	serial_out_destroy(p.o, 300);
	CHECK(now_s() - t0 < 2);
	CHECK(now_s() - t0 >= 0.25);	/* it did wait for the reader, up to its bound */
	/* The writer was left inside write(); reading lets it return, see it was orphaned, and free
	 * the sink (ASan would report a leak or a use after free otherwise). */
	CHECK_EQ(ioctl(fds[0], FIONREAD, &avail), 0);
	CHECK(avail > 0);
	CHECK_EQ(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	for (int i = 0; i < 20; i++) {
		char buf[4096];

		if (read(fds[0], buf, sizeof(buf)) <= 0)
			usleep(10000);
	}
	close(fds[0]);
}

struct reader {
	int fd;
	size_t got, bad;
};

static void *read_all(void *arg)
{
	struct reader *r = arg;
	uint8_t buf[997];	/* odd size: reads straddle the ring's wrap */
	ssize_t n;

	while ((n = read(r->fd, buf, sizeof(buf))) > 0) {
		size_t got = __atomic_load_n(&r->got, __ATOMIC_RELAXED);

		for (ssize_t i = 0; i < n; i++)
			r->bad += buf[i] != pattern(got + (size_t)i);
		__atomic_store_n(&r->got, got + (size_t)n, __ATOMIC_RELAXED);
		if (got % 65536 < sizeof(buf))
			usleep(1000);	/* a slowish reader: the ring fills and drains */
	}
	return NULL;
}

/* A reader that keeps up gets every byte, in order, across many wraps of the ring. "Keeps up": the
 * producer stays less than a quarter ring ahead of what the reader got. Not half: the ring frees a
 * chunk only when its write() returns, and the reader may take nearly all of a chunk of up to that
 * lead before then, so the ring can hold the lead twice over (a half-ring lead filled it, rarely,
 * and dropped a byte: a bug of this test, not of the ring). */
static void test_reader_keeps_up(void)
{
	struct serial_out *o;
	struct reader r = { 0 };
	const size_t total = 3 * SERIAL_OUT_RING_BYTES + 12345;
	pthread_t t;
	int fds[2];

	CHECK_EQ(pipe(fds), 0);
	r.fd = fds[0];
	CHECK_EQ(serial_out_create(&o, fds[1], false), 0);
	CHECK_EQ(pthread_create(&t, NULL, read_all, &r), 0);
	for (size_t i = 0; i < total; i++) {
		while (i - __atomic_load_n(&r.got, __ATOMIC_RELAXED) >= SERIAL_OUT_RING_BYTES / 4)
			usleep(1000);
		serial_out_put(o, pattern(i));
	}
	serial_out_destroy(o, 5000);
	close(fds[1]);
	pthread_join(t, NULL);
	CHECK_EQ(r.got, total);
	CHECK_EQ(r.bad, 0);
	close(fds[0]);
}

/* The reader goes away: EPIPE (SIGPIPE is blocked in the writer), output dropped, nothing hangs. */
static void test_reader_gone(void)
{
	struct serial_out *o;
	int fds[2];

	CHECK_EQ(pipe(fds), 0);
	close(fds[0]);
	CHECK_EQ(serial_out_create(&o, fds[1], false), 0);
	for (int i = 0; i < 1000; i++)
		serial_out_put(o, 'x');
	usleep(50000);
	serial_out_put(o, 'y');
	CHECK(serial_out_dropped(o) >= 1);
	serial_out_destroy(o, 5000);
	close(fds[1]);
}

/* A regular file is written at once, in order; past RLIMIT_FSIZE writes fail with EFBIG (SIGXFSZ
 * ignored, as board_create does), bytes are counted as dropped, and nothing dies. */
static void test_regular_file(void)
{
	char path[] = "/tmp/ckvm-serial-XXXXXX";
	struct rlimit old, lim;
	struct serial_out *o;
	char buf[64] = { 0 };
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK_EQ(serial_out_create(&o, fd, false), 0);
	for (const char *s = "boot log\n"; *s; s++)
		serial_out_put(o, (uint8_t)*s);
	CHECK_EQ(pread(fd, buf, sizeof(buf) - 1, 0), 9);	/* already there: no thread, no flush */
	CHECK_STR(buf, "boot log\n");
	CHECK_EQ(serial_out_dropped(o), 0);

	signal(SIGXFSZ, SIG_IGN);
	CHECK_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 16;
	CHECK_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (int i = 0; i < 20; i++)
		serial_out_put(o, '!');
	CHECK_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
	CHECK_EQ(serial_out_dropped(o), 13);	/* 9 + 7 fit in 16 bytes */
	serial_out_destroy(o, 1000);
	close(fd);
	unlink(path);
}

int main(void)
{
	log_threshold = LOG_ERR;
	signal(SIGPIPE, SIG_IGN);
	RUN(test_stalled_pipe);
	RUN(test_reader_keeps_up);
	RUN(test_reader_gone);
	RUN(test_regular_file);
	return test_summary();
}
