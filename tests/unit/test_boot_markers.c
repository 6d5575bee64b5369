/* Boot markers without /dev/kvm: the boot timer (magic byte at offset 0 only, MMIO and port, many
 * vCPU threads), the debug console (line buffering, readback, timestamps, CR/LF, long lines, a dead
 * reader), POST codes (only changes logged, rate-limited), the timeline and the two options. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "dev/boot_timer.h"
#include "dev/debugcon.h"
#include "log.h"
#include "port_io.h"
#include "test.h"

static uint64_t fake_ns;

static uint64_t fake_now(void)
{
	return fake_ns;
}

static uint64_t fake_cpu(void)
{
	return 42000;	/* 0.042 ms */
}

/* stderr capture: log lines go to a pipe between cap_begin() and cap_end(). */
static int cap_rd = -1, cap_saved = -1;

static void cap_begin(void)
{
	int p[2];

	CHECK_EQ(pipe(p), 0);
	cap_rd = p[0];
	cap_saved = dup(STDERR_FILENO);
	dup2(p[1], STDERR_FILENO);
	close(p[1]);
}

static char cap_buf[65536];

static const char *cap_end(void)
{
	ssize_t n;
	size_t len = 0;

	dup2(cap_saved, STDERR_FILENO);
	close(cap_saved);
	while ((n = read(cap_rd, cap_buf + len, sizeof(cap_buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(cap_rd);
	cap_buf[len] = '\0';
	return cap_buf;
}

static int count_lines(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_boot_timer_magic(void)
{
	struct boot_timer_config cfg = { .now_ns = fake_now, .cpu_ns = fake_cpu };
	struct boot_timer *bt = NULL;
	uint8_t magic = BOOT_TIMER_MAGIC, v4[4] = { BOOT_TIMER_MAGIC, 0, 0, 0 }, rd[4] = { 1, 2, 3, 4 };
	const char *out;

	CHECK_EQ(boot_timer_create(&bt, &cfg), 0);
	CHECK_EQ(boot_timer_signals(bt), 0);
	CHECK_EQ(boot_timer_first_ns(bt), 0);
	/* not the signal: wrong offset, width or value */
	boot_timer_mmio_ops.write(bt, 1, &magic, 1);
	boot_timer_mmio_ops.write(bt, 0, v4, 4);
	boot_timer_mmio_ops.write(bt, 0, v4, 2);
	port_out8(&boot_timer_pio_ops, bt, 0, 122);
	CHECK_EQ(boot_timer_signals(bt), 0);
	boot_timer_mmio_ops.read(bt, 0, rd, 4);
	CHECK_EQ(rd[0] | rd[1] | rd[2] | rd[3], 0);

	fake_ns = 61234567890ULL;
	cap_begin();
	boot_timer_mmio_ops.write(bt, 0, &magic, 1);
	fake_ns += 1000000;
	port_out8(&boot_timer_pio_ops, bt, 0, BOOT_TIMER_MAGIC);
	out = cap_end();
	CHECK_EQ(boot_timer_signals(bt), 2);
	CHECK_EQ(boot_timer_first_ns(bt), 61234567890ULL);	/* the first signal's time is kept */
	CHECK(strstr(out, "ckvm: boot-timer: info: guest boot time 61234.567 ms since exec "
		      "(ckvm CPU 0.042 ms; MMIO, signal 1)") != NULL);
	CHECK(strstr(out, "guest boot time 61235.567 ms since exec (ckvm CPU 0.042 ms; port, signal 2)") != NULL);
	boot_timer_destroy(bt);
}

static void *signal_many(void *arg)
{
	uint8_t magic = BOOT_TIMER_MAGIC;

	for (int i = 0; i < 1000; i++)
		boot_timer_pio_ops.write(arg, 0, &magic, 1);
	return NULL;
}

/* vCPU threads signalling at once: every signal counted; the log stays rate-limited. */
static void test_boot_timer_threads(void)
{
	struct boot_timer_config cfg = { .now_ns = fake_now, .cpu_ns = fake_cpu };
	struct boot_timer *bt = NULL;
	pthread_t t[4];
	const char *out;

	fake_ns = 5;
	CHECK_EQ(boot_timer_create(&bt, &cfg), 0);
	cap_begin();
	for (int i = 0; i < 4; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, signal_many, bt), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	out = cap_end();
	CHECK_EQ(boot_timer_signals(bt), 4000);
	CHECK_EQ(boot_timer_first_ns(bt), 5);
	CHECK(count_lines(out, "guest boot time") >= 1);
	CHECK(count_lines(out, "guest boot time") <= 20);	/* 10 per second, at most two seconds */
	boot_timer_destroy(bt);
}

static struct debugcon *mk_debugcon(int fds[2], bool ts, bool crlf)
{
	struct debugcon_config cfg = { .timestamps = ts, .crlf = crlf, .now_ns = fake_now };
	struct debugcon *d = NULL;

	CHECK_EQ(pipe(fds), 0);
	CHECK_EQ(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	cfg.out_fd = fds[1];
	CHECK_EQ(debugcon_create(&d, &cfg), 0);
	return d;
}

static void dputs(struct debugcon *d, uint64_t port_off, const char *s)
{
	for (; *s; s++)
		port_out8(&debugcon_bus_ops, d, port_off, (uint8_t)*s);
}

/* What the pipe holds now ("" when empty). */
static const char *drain(int fd)
{
	static char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_debugcon_lines(void)
{
	int fds[2];
	struct debugcon *d = mk_debugcon(fds, false, false);
	uint8_t rd[4] = { 0 };

	CHECK_EQ(port_in8(&debugcon_bus_ops, d, 0), DEBUGCON_READBACK);
	debugcon_bus_ops.read(d, 0, rd, 4);
	CHECK(rd[0] == 0xe9 && rd[1] == 0xe9 && rd[2] == 0xe9 && rd[3] == 0xe9);
	dputs(d, 0, "hello");
	CHECK_STR(drain(fds[0]), "");		/* nothing before the end of the line */
	dputs(d, 0, " world\n");
	CHECK_STR(drain(fds[0]), "hello world\n");
	dputs(d, 0, "bios ");
	dputs(d, 0, "says\nhi");
	CHECK_STR(drain(fds[0]), "bios says\n");
	debugcon_destroy(d);			/* the partial line goes out */
	CHECK_STR(drain(fds[0]), "hi");
	close(fds[0]);
	close(fds[1]);				/* not owned: still open after destroy */
}

static void test_debugcon_timestamps_crlf(void)
{
	int fds[2];
	struct debugcon *d = mk_debugcon(fds, true, true);

	fake_ns = 12345678;
	port_out8(&debugcon_bus_ops, d, 0, 'a');
	fake_ns = 99999999;			/* the line is stamped with its first byte's time */
	dputs(d, 0, "b\n");
	CHECK_STR(drain(fds[0]), "[+12.345 ms] ab\r\n");
	fake_ns = 1000;
	dputs(d, 0, "\n");
	CHECK_STR(drain(fds[0]), "[+0.001 ms] \r\n");
	debugcon_destroy(d);
	CHECK_STR(drain(fds[0]), "");
	close(fds[0]);
	close(fds[1]);
}

/* A line longer than the buffer comes out in pieces, nothing lost; a dead reader stops nothing. */
static void test_debugcon_long_and_dead(void)
{
	struct debugcon_config cfg = { 0 };
	struct debugcon *d;
	int fds[2];
	char want[DEBUGCON_LINE_MAX + 51];
	const char *got;

	d = mk_debugcon(fds, false, false);
	memset(want, 'x', sizeof(want) - 1);
	want[sizeof(want) - 2] = '\n';
	want[sizeof(want) - 1] = '\0';
	dputs(d, 0, want);
	got = drain(fds[0]);
	CHECK_EQ(strlen(got), strlen(want));
	CHECK_STR(got, want);
	close(fds[0]);				/* reader gone: writes fail with EPIPE */
	signal(SIGPIPE, SIG_IGN);
	dputs(d, 0, "into the void\n");
	debugcon_destroy(d);
	close(fds[1]);

	/* an owned fd is closed by destroy */
	CHECK_EQ(pipe(fds), 0);
	cfg.out_fd = fds[1];
	cfg.own_fd = true;
	CHECK_EQ(debugcon_create(&d, &cfg), 0);
	debugcon_destroy(d);
	CHECK_EQ(fcntl(fds[1], F_GETFD), -1);
	close(fds[0]);
}

static void test_post_codes(void)
{
	struct post *p = NULL;
	const char *out;
	enum log_level saved = log_threshold;

	CHECK_EQ(post_create(&p, fake_now), 0);
	CHECK_EQ(post_last_code(p), -1);
	CHECK_EQ(port_in8(&post_bus_ops, p, 0), 0xff);
	log_threshold = LOG_DEBUG;
	fake_ns = 2500000;
	cap_begin();
	port_out8(&post_bus_ops, p, 0, 0x42);
	port_out8(&post_bus_ops, p, 0, 0x42);	/* no change: not logged */
	port_out8(&post_bus_ops, p, 0, 0x43);
	out = cap_end();
	CHECK_EQ(post_last_code(p), 0x43);
	CHECK_EQ(port_in8(&post_bus_ops, p, 0), 0x43);
	CHECK(strstr(out, "ckvm: post: debug: +2.500 ms POST code 0x42\n") != NULL);
	CHECK_EQ(count_lines(out, "POST code 0x42"), 1);
	CHECK_EQ(count_lines(out, "POST code 0x43"), 1);
	/* Linux's I/O-delay writes: a storm of changes is rate-limited */
	cap_begin();
	for (int i = 0; i < 1000; i++)
		port_out8(&post_bus_ops, p, 0, (uint8_t)i);
	out = cap_end();
	CHECK(count_lines(out, "POST code") <= 20);
	/* not verbose: nothing at all */
	log_threshold = LOG_INFO;
	cap_begin();
	port_out8(&post_bus_ops, p, 0, 0x99);
	out = cap_end();
	CHECK_STR(out, "");
	log_threshold = saved;
	post_destroy(p);
}

static void test_timeline(void)
{
	enum log_level saved = log_threshold;
	const char *out;

	log_timeline_start();
	CHECK(log_since_exec_ns() > 0);
	log_threshold = LOG_INFO;
	cap_begin();
	log_timeline("quiet %d", 1);
	out = cap_end();
	CHECK_STR(out, "");
	log_threshold = LOG_DEBUG;
	cap_begin();
	log_timeline("kernel inflated: %s", "lz4");
	log_timeline("second");
	out = cap_end();
	log_threshold = saved;
	CHECK(strstr(out, "ckvm: timeline: debug: +0.000 ms exec\n") != NULL);
	CHECK(strstr(out, " ms main()\n") != NULL);
	CHECK(strstr(out, " ms kernel inflated: lz4\n") != NULL);
	CHECK_EQ(count_lines(out, " exec\n"), 1);	/* the origin is shown once */
	CHECK(strstr(out, "exec") < strstr(out, "main()") && strstr(out, "main()") < strstr(out, "second"));
}

static struct vm_config cfg;
static enum config_action act;
static char err[512];

#define ARGV(...) ((char *[]){ "ckvm", __VA_ARGS__, NULL })
#define NARGS(...) ((int)(sizeof((char *[]){ "ckvm", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(...) config_parse(NARGS(__VA_ARGS__), ARGV(__VA_ARGS__), &cfg, &act, err, sizeof(err))

static void test_options(void)
{
	CHECK_EQ(PARSE("run", "--kernel", "/bin/sh"), 0);
	CHECK(!cfg.boot_timer);
	CHECK_EQ(cfg.debugcon, DEBUGCON_OFF);
	CHECK_EQ(PARSE("run", "--kernel", "/bin/sh", "--boot-timer", "--debug-console", "stdio"), 0);
	CHECK(cfg.boot_timer);
	CHECK_EQ(cfg.debugcon, DEBUGCON_STDIO);
	CHECK(!cfg.debugcon_timestamps);
	CHECK_EQ(PARSE("run", "--kernel", "/bin/sh", "--debug-console", "file=/tmp/d,timestamps=on"), 0);
	CHECK_EQ(cfg.debugcon, DEBUGCON_FILE);
	CHECK_STR(cfg.debugcon_path, "/tmp/d");
	CHECK(cfg.debugcon_timestamps);
	/* a path may hold commas: only a ,timestamps= suffix is taken off */
	CHECK_EQ(PARSE("run", "--kernel", "/bin/sh", "--debug-console", "file=/tmp/a,b,timestamps=off"), 0);
	CHECK_STR(cfg.debugcon_path, "/tmp/a,b");
	CHECK(!cfg.debugcon_timestamps);
	CHECK_EQ(PARSE("run", "--kernel", "/bin/sh", "--debug-console", "file=/tmp/x,stdio"), 0);
	CHECK_STR(cfg.debugcon_path, "/tmp/x,stdio");
	/* given twice: an error, like every option that is not repeatable */
	CHECK_EQ(PARSE("run", "--kernel", "/bin/sh", "--debug-console", "stdio,timestamps=on",
		       "--debug-console", "file=/tmp/e"), -EINVAL);
	CHECK(strstr(err, "--debug-console given twice") != NULL);
	CHECK_EQ(PARSE("run", "--kernel", "/bin/sh", "--boot-timer", "--boot-timer"), -EINVAL);
	static const char *const bad[] = { "", "file=", "tty", "stdio,timestamps=maybe", "timestamps=on",
					   ",timestamps=on", "stdio,file=/tmp/x", "stdio,bogus=1", "file" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(PARSE("run", "--kernel", "/bin/sh", "--debug-console", (char *)bad[i]), -EINVAL);
		CHECK(strstr(err, "--debug-console") != NULL);
	}
	CHECK_EQ(PARSE("run", "--kernel", "/bin/sh", "--boot-timer=1"), -EINVAL);

	/* --print-config shows both */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK_EQ(PARSE("run", "--kernel", "/bin/sh", "--boot-timer", "--debug-console", "file=/tmp/d,timestamps=on"), 0);
	config_print(&cfg, f);
	CHECK_EQ(PARSE("run", "--kernel", "/bin/sh"), 0);
	config_print(&cfg, f);
	fclose(f);
	CHECK(strstr(text, "boot-timer=on\ndebug-console=file=/tmp/d,timestamps=on\n") != NULL);
	CHECK(strstr(text, "boot-timer=off\n") != NULL);
	CHECK_EQ(count_lines(text, "debug-console="), 1);
	free(text);
}

int main(void)
{
	RUN(test_boot_timer_magic);
	RUN(test_boot_timer_threads);
	RUN(test_debugcon_lines);
	RUN(test_debugcon_timestamps_crlf);
	RUN(test_debugcon_long_and_dead);
	RUN(test_post_codes);
	RUN(test_timeline);
	RUN(test_options);
	return test_summary();
}
