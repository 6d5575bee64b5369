/* Unit tests for the console backend: output modes, output to a FIFO nobody reads (the guest's
 * transmitter never waits, teardown is bounded), the Ctrl-A escape, stdin as a regular file,
 * /dev/null, a closed fd, a pipe with flow control through the UART (event loop on its own thread),
 * and raw mode on a pseudo-terminal restored by console_restore(). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "backend/console.h"
#include "core/evloop.h"
#include "dev/uart8250.h"
#include "fake_vmm.h"
#include "log.h"
#include "port_io.h"
#include "test.h"

static struct fake_vmm fk;
static struct vmm_ops fake_ops;
static sem_t irq_up, stopped;	/* posted on the rising edge of the UART's line, on a stop request */

static void fake_on_irq_line(struct fake_vmm *f, uint32_t gsi, int level)
{
	(void)f;
	(void)gsi;
	if (level)
		sem_post(&irq_up);
}

static void fake_on_stop(struct fake_vmm *f)
{
	(void)f;
	sem_post(&stopped);
}

static char tmpdir[] = "/tmp/ckvm-console-XXXXXX";

static uint8_t in8(struct uart *u, unsigned off)
{
	return port_in8(&uart_bus_ops, u, off);
}

static void out8(struct uart *u, unsigned off, uint8_t v)
{
	port_out8(&uart_bus_ops, u, off, v);
}

/* Console on in_fd wired to a UART whose FIFO and receive interrupt the "guest" has enabled. */
static void setup(struct evloop **ev, struct console **con, struct uart **u, int in_fd)
{
	struct console_config cc = { .mode = CONSOLE_STDIO, .vmm = &fake_ops, .in_fd = in_fd };
	struct uart_config uc = { .vmm = &fake_ops, .gsi = 4,
				  .rx_ready = console_rx_ready };

	CHECK_EQ(evloop_create(ev), 0);
	cc.ev = *ev;
	CHECK_EQ(console_create(con, &cc), 0);
	uc.rx_ready_arg = *con;
	CHECK_EQ(uart_create(u, &uc), 0);
	out8(*u, 2, 0x01);	/* FIFO on */
	out8(*u, 1, 0x01);	/* RDI */
	out8(*u, 4, 0x08);	/* OUT2 */
	CHECK_EQ(console_attach(*con, *u), 0);
}

static void teardown(struct evloop *ev, struct console *con, struct uart *u)
{
	uart_destroy(u);
	console_destroy(con);
	evloop_destroy(ev);
}

static size_t drain(struct uart *u, uint8_t *buf, size_t max)
{
	size_t n = 0;

	while (n < max && (in8(u, 5) & 0x01))
		buf[n++] = in8(u, 0);
	return n;
}

static int wait_sem(sem_t *s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	while (sem_timedwait(s, &ts) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static void test_output_modes(void)
{
	struct console_config cc = { .mode = CONSOLE_FILE };
	struct console *con = NULL;
	char path[128], buf[16] = { 0 };
	int fd;

	snprintf(path, sizeof(path), "%s/serial.log", tmpdir);
	cc.path = path;
	CHECK_EQ(console_create(&con, &cc), 0);
	CHECK(console_out_fd(con) > 2);
	CHECK_EQ(write(console_out_fd(con), "old stuff", 9), 9);
	console_destroy(con);
	CHECK_EQ(console_create(&con, &cc), 0);		/* truncates */
	CHECK_EQ(write(console_out_fd(con), "boot", 4), 4);
	CHECK_EQ(console_attach(con, NULL), 0);		/* no input in file mode */
	console_destroy(con);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	CHECK_EQ(read(fd, buf, sizeof(buf)), 4);
	CHECK_STR(buf, "boot");
	close(fd);
	unlink(path);

	snprintf(path, sizeof(path), "%s/no/such/dir", tmpdir);
	CHECK_EQ(console_create(&con, &cc), -ENOENT);
	cc.path = NULL;
	CHECK_EQ(console_create(&con, &cc), -EINVAL);

	cc.mode = CONSOLE_NONE;
	CHECK_EQ(console_create(&con, &cc), 0);
	CHECK_EQ(console_out_fd(con), -1);
	console_destroy(con);
	cc.mode = CONSOLE_STDIO;
	CHECK_EQ(console_create(&con, &cc), 0);
	CHECK_EQ(console_out_fd(con), 1);
	console_destroy(con);
	console_destroy(NULL);
	CHECK_EQ(console_out_fd(NULL), -1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --serial file= on a FIFO whose reader never reads: a guest printing 1 MiB through the UART is
 * never held up (THRE stays set), the overflow is dropped, console_destroy keeps to its bound. */
static void test_output_stalled(void)
{
	struct console_config cc = { .mode = CONSOLE_FILE };
	struct uart_config uc = { .vmm = &fake_ops, .gsi = 4, .tx = console_tx };
	struct console *con = NULL;
	struct uart *u = NULL;
	char path[128], buf[64];
	double t0;
	int rd, lsr_bad = 0;

	snprintf(path, sizeof(path), "%s/serial.fifo", tmpdir);
	CHECK_EQ(mkfifo(path, 0600), 0);
	rd = open(path, O_RDONLY | O_NONBLOCK);
	CHECK(rd >= 0);
	CHECK_EQ(fcntl(rd, F_SETPIPE_SZ, 4096), 4096);
	cc.path = path;
	CHECK_EQ(console_create(&con, &cc), 0);
	uc.tx_arg = con;
	CHECK_EQ(uart_create(&u, &uc), 0);
	CHECK_EQ(console_attach(con, u), 0);
	t0 = now_s();
	for (int i = 0; i < 1024 * 1024; i++) {
		out8(u, 0, (uint8_t)('a' + i % 26));
		lsr_bad += (in8(u, 5) & 0x60) != 0x60;
	}
	CHECK(now_s() - t0 < 20);	/* would hang forever if a write blocked the transmitter */
	CHECK_EQ(lsr_bad, 0);
	t0 = now_s();
	uart_destroy(u);
	console_destroy(con);
	CHECK(now_s() - t0 < 1.0 + 1.0);	/* SERIAL_OUT_FLUSH_MS, plus slack */
	CHECK(read(rd, buf, sizeof(buf)) > 0);	/* the start of it did go out, in order */
	CHECK_EQ(buf[0], 'a');
	CHECK_EQ(buf[25], 'z');
	close(rd);
	usleep(100000);		/* the writer left in write() gets EPIPE, frees the sink, exits */
	unlink(path);
}

/* stdin redirected from a file: read synchronously, escapes applied, Ctrl-A x stops the VM. */
static void test_escapes_from_file(void)
{
	static const char input[] = "ab\x01\x01" "c\x01zd\x01Xq\x01xAFTER";
	struct evloop *ev;
	struct console *con;
	struct uart *u;
	uint8_t got[32];
	char path[128];
	int fd;
	size_t n;

	snprintf(path, sizeof(path), "%s/stdin", tmpdir);
	fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, input, sizeof(input) - 1), (ssize_t)sizeof(input) - 1);
	lseek(fd, 0, SEEK_SET);
	fk.stops = 0;
	setup(&ev, &con, &u, fd);
	/* "Ctrl-A X" (upper case) stopped it already; a second stop request would also be fine */
	CHECK_EQ(fk.stops, 1);
	CHECK_EQ(fk.why, VM_STOP_USER);
	n = drain(u, got, sizeof(got));
	CHECK_EQ(n, 5);
	CHECK(!memcmp(got, "ab\x01" "cd", 5));
	teardown(ev, con, u);
	close(fd);

	/* and the lower-case form, with help in between */
	fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
	CHECK_EQ(write(fd, "1\x01h2\x01x3", 7), 7);
	lseek(fd, 0, SEEK_SET);
	fk.stops = 0;
	setup(&ev, &con, &u, fd);
	CHECK_EQ(fk.stops, 1);
	n = drain(u, got, sizeof(got));
	CHECK_EQ(n, 2);
	CHECK(!memcmp(got, "12", 2));
	teardown(ev, con, u);
	close(fd);
	unlink(path);
	while (sem_trywait(&stopped) == 0)
		;
}

static void test_no_input(void)
{
	struct evloop *ev;
	struct console *con;
	struct uart *u;
	int fd = open("/dev/null", O_RDONLY);

	fk.stops = 0;
	setup(&ev, &con, &u, fd);			/* EOF at once, VM untouched */
	CHECK_EQ(fk.stops, 0);
	CHECK_EQ(in8(u, 5) & 0x01, 0);
	teardown(ev, con, u);
	close(fd);

	setup(&ev, &con, &u, 987);			/* closed stdin */
	CHECK_EQ(fk.stops, 0);
	teardown(ev, con, u);
}

struct writer {
	int fd;
	size_t len;
};

static uint8_t pattern(size_t i)
{
	return (uint8_t)('A' + i % 53);		/* never Ctrl-A */
}

static void *writer_thread(void *arg)
{
	struct writer *w = arg;
	uint8_t buf[4096];
	size_t done = 0;

	while (done < w->len) {
		size_t n = w->len - done < sizeof(buf) ? w->len - done : sizeof(buf);
		ssize_t r;

		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(done + i);
		r = write(w->fd, buf, n);
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	return NULL;
}

/* The guest's side of a pipe test: read len bytes through the UART, waiting for the receive
 * interrupt whenever the FIFO is empty; *bad counts bytes that differ from the writer's pattern.
 * Returns how many bytes arrived (less than len if the interrupt stopped coming). */
static size_t read_pattern(struct uart *u, size_t len, size_t *bad)
{
	uint8_t buf[64];
	size_t got = 0;

	*bad = 0;
	while (got < len) {
		size_t n = drain(u, buf, sizeof(buf));

		for (size_t i = 0; i < n; i++)
			*bad += buf[i] != pattern(got + i);
		got += n;
		if (!n && wait_sem(&irq_up) < 0)
			break;
	}
	return got;
}

static void *loop_thread(void *ev)
{
	evloop_run(ev);
	return NULL;
}

/* A pipe carrying far more than the FIFO and the console's buffer: nothing lost or reordered. */
static void test_pipe_flow(void)
{
	struct evloop *ev;
	struct console *con;
	struct uart *u;
	pthread_t lt, wt;
	int p[2];
	struct writer w = { .len = 200000 };
	size_t got, bad;

	CHECK_EQ(pipe(p), 0);
	w.fd = p[1];
	fk.stops = 0;
	setup(&ev, &con, &u, p[0]);
	CHECK_EQ(pthread_create(&lt, NULL, loop_thread, ev), 0);
	CHECK_EQ(pthread_create(&wt, NULL, writer_thread, &w), 0);
	got = read_pattern(u, w.len, &bad);
	CHECK_EQ(got, w.len);
	CHECK_EQ(bad, 0);
	pthread_join(wt, NULL);
	CHECK_EQ(write(p[1], "\x01x", 2), 2);
	CHECK_EQ(wait_sem(&stopped), 0);
	CHECK_EQ(fk.stops, 1);
	CHECK_EQ(fk.why, VM_STOP_USER);
	close(p[1]);					/* EOF: the loop must keep running idle */
	evloop_stop(ev);
	pthread_join(lt, NULL);
	teardown(ev, con, u);
	close(p[0]);
}

/* The guest reads nothing while the host writes more than FIFO + console buffer + pipe hold:
 * the console must stop taking input (the writer blocks) and lose nothing once the guest reads. */
static void test_pipe_backpressure(void)
{
	struct evloop *ev;
	struct console *con;
	struct uart *u;
	pthread_t lt, wt;
	int p[2];
	struct writer w = { .len = 69000 };	/* > 16 + 64 KiB buffer + 4 KiB pipe - 1 KiB read */
	size_t got, bad;
	uint8_t buf[64];
	struct timespec ts;

	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 4096), 4096);
	w.fd = p[1];
	setup(&ev, &con, &u, p[0]);
	CHECK_EQ(pthread_create(&lt, NULL, loop_thread, ev), 0);
	CHECK_EQ(pthread_create(&wt, NULL, writer_thread, &w), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	CHECK_EQ(pthread_timedjoin_np(wt, NULL, &ts), 0);	/* all absorbed, nothing read yet */
	got = read_pattern(u, w.len, &bad);
	CHECK_EQ(got, w.len);
	CHECK_EQ(bad, 0);
	CHECK_EQ(drain(u, buf, sizeof(buf)), 0);
	close(p[1]);
	evloop_stop(ev);
	pthread_join(lt, NULL);
	teardown(ev, con, u);
	close(p[0]);
}

static void test_pty_raw_mode(void)
{
	struct evloop *ev;
	struct console *con;
	struct uart *u;
	struct termios t;
	int master = posix_openpt(O_RDWR | O_NOCTTY), slave;

	CHECK(master >= 0);
	if (master < 0)
		return;
	CHECK_EQ(grantpt(master), 0);
	CHECK_EQ(unlockpt(master), 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	CHECK(slave >= 0);
	CHECK_EQ(tcgetattr(slave, &t), 0);
	CHECK(t.c_lflag & ICANON);
	setup(&ev, &con, &u, slave);
	CHECK_EQ(tcgetattr(slave, &t), 0);
	CHECK_EQ(t.c_lflag & (ICANON | ECHO | ISIG), 0);
	console_restore();
	console_restore();				/* idempotent */
	CHECK_EQ(tcgetattr(slave, &t), 0);
	CHECK(t.c_lflag & ICANON);
	CHECK(t.c_lflag & ECHO);
	teardown(ev, con, u);
	CHECK_EQ(tcgetattr(slave, &t), 0);
	CHECK(t.c_lflag & ISIG);

	/* destroy alone restores as well */
	setup(&ev, &con, &u, slave);
	CHECK_EQ(tcgetattr(slave, &t), 0);
	CHECK_EQ(t.c_lflag & ICANON, 0);
	teardown(ev, con, u);
	CHECK_EQ(tcgetattr(slave, &t), 0);
	CHECK(t.c_lflag & ICANON);
	close(slave);
	close(master);
}

int main(void)
{
	log_threshold = LOG_ERR;
	fake_vmm_init(&fk, &fake_ops);
	fk.on_irq_line = fake_on_irq_line;
	fk.on_stop = fake_on_stop;
	sem_init(&irq_up, 0, 0);
	sem_init(&stopped, 0, 0);
	if (!mkdtemp(tmpdir))
		return 1;
	RUN(test_output_modes);
	RUN(test_output_stalled);
	RUN(test_escapes_from_file);
	RUN(test_no_input);
	RUN(test_pipe_flow);
	RUN(test_pipe_backpressure);
	RUN(test_pty_raw_mode);
	rmdir(tmpdir);
	return test_summary();
}
