/* `ckvm test` (see test_mode.h): the serial capture, the runner thread that feeds the matcher and
 * enforces --timeout, and the end of a test (outcome, screen dump, report, summary line).
 * The runner thread (sandbox role serial-out: read, write, poll) consumes the pipe the console's
 * serial_out writer fills, so matching never runs on a vCPU thread; the rest runs on main. */
#include "osdev/test_mode.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/outfile.h"
#include "core/sandbox.h"
#include "core/vm.h"
#include "log.h"
#include "osdev/expect.h"
#include "osdev/screen.h"

_Static_assert(CONFIG_TEST_PATTERNS_MAX <= EXPECT_PATTERNS_MAX, "config holds what expect takes");

#define RUNNER_CHUNK	4096
#define RUNNER_JOIN_MS	2000	/* what the runner gets to drain the pipe once the console is gone */
#define PIPE_BYTES	(1 << 20)	/* room for output while the runner is busy matching */
#define COPY_STALL_MS	1000	/* after the stop, what a stalled stdout gets before copying ends */

struct test_mode {
	const struct test_config *tc;
	struct expect ex;		/* the runner's until it is joined */
	uint64_t timeout_ns;
	const char *name;
	bool exit_pass_set;
	uint32_t exit_pass;
	enum report_format report_fmt;
	FILE *report_f, *screen_f;	/* opened by prepare (no open(2) under the main role later) */
	int copy_fd;			/* where the guest's output is copied: stdout, the file, or -1 */
	bool copy_owned;		/* copy_fd is the --serial file */
	bool copy_broken;		/* a write to copy_fd failed: copying stopped */
	int pipe_rd;
	pthread_t thread;
	bool started;
	int64_t start_ns, end_ns, deadline_ns;

	pthread_mutex_t lock;		/* vmm and timed_out: the runner against main */
	const struct vmm_ops *vmm;	/* NULL once the VM stopped: the runner must not touch it */
	bool timed_out, stop_sent;

	enum vm_stop_reason why;
	int code;
	char msg[256];
	bool have_screen;
	uint8_t screen[SCREEN_BYTES];
	size_t tail_len;
	uint8_t tail[2 * REPORT_TAIL_MAX];
};

/* An output stream for --screen-dump/--report: "-" (or NULL: tap on stdout) is a copy of the real
 * stdout, anything else a file opened like every output (never an input of this VM). */
static int out_stream(struct vm_config *cfg, const char *opt, const char *path, int stdout_fd,
		      FILE **out)
{
	int fd;

	if (!path || !strcmp(path, "-"))
		fd = stdout_fd < 0 ? -EBADF : fcntl(stdout_fd, F_DUPFD_CLOEXEC, 3);
	else
		fd = outfile_open(&cfg->inputs, opt, path);	/* logs its own line */
	if (fd < 0)
		return fd == -1 ? -errno : fd;
	if (!(*out = fdopen(fd, "w"))) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

static int check_options(struct test_mode *t, struct vm_config *cfg, char *err, size_t errlen)
{
	const struct test_config *tc = &cfg->test;
	char why[256];
	uint64_t v;
	const char *path;
	int ret;

	for (unsigned i = 0; i < tc->n_expect + tc->n_fail_on; i++) {
		bool ordered = i < tc->n_expect;
		const char *re = ordered ? tc->expect[i] : tc->fail_on[i - tc->n_expect];

		if (expect_add(&t->ex, ordered ? EXPECT_ORDERED : EXPECT_FAIL_ON, re, why, sizeof(why)))
			return config_fail(err, errlen, "test: --%s '%s': %s", ordered ? "expect" : "fail-on",
					   re, why);
	}
	t->timeout_ns = TEST_TIMEOUT_DEFAULT_NS;
	if (tc->timeout && expect_parse_duration(tc->timeout, &t->timeout_ns))
		return config_fail(err, errlen, "test: --timeout %s: expected a positive duration such as "
				   "30s, 500ms, 2m or 1h", tc->timeout);
	if (tc->exit_pass) {
		if (config_parse_addr(tc->exit_pass, &v) || v > UINT32_MAX)
			return config_fail(err, errlen, "test: --exit-pass %s: expected a value up to "
					   "0xffffffff (decimal or 0x hex)", tc->exit_pass);
		t->exit_pass_set = true;
		t->exit_pass = (uint32_t)v;
	}
	if (tc->report && (ret = report_parse_spec(tc->report, &t->report_fmt, &path)))
		return config_fail(err, errlen, "test: --report %s: expected tap, tap:PATH or junit:PATH",
				   tc->report);
	return 0;
}

/* Headless: stdin is /dev/null (the console finds nothing to read and no terminal to make raw),
 * stdout a pipe the runner reads. *stdout_fd gets a copy of the real stdout (-1 if it was closed). */
static int capture(struct test_mode *t, int *stdout_fd)
{
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC), p[2];

	if (null_fd < 0)
		return -errno;
	if ((null_fd != STDIN_FILENO && dup2(null_fd, STDIN_FILENO) < 0) ||
	    (fcntl(STDOUT_FILENO, F_GETFD) < 0 && dup2(null_fd, STDOUT_FILENO) < 0)) {
		close(null_fd);
		return -errno;
	}
	if (null_fd > STDOUT_FILENO)
		close(null_fd);
	*stdout_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (*stdout_fd < 0 || pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fcntl(p[0], F_SETPIPE_SZ, PIPE_BYTES);	/* best effort: the default 64 KiB works too */
	if (dup2(p[1], STDOUT_FILENO) < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	close(p[1]);
	t->pipe_rd = p[0];
	return 0;
}

int test_mode_prepare(struct test_mode **out, struct vm_config *cfg, char *err, size_t errlen)
{
	const struct test_config *tc = &cfg->test;
	struct test_mode *t = calloc(1, sizeof(*t));
	const char *path = NULL, *slash;
	int stdout_fd = -1, ret;

	err[0] = '\0';
	if (!t)
		return -ENOMEM;
	t->tc = tc;
	t->pipe_rd = t->copy_fd = -1;
	expect_init(&t->ex);
	pthread_mutex_init(&t->lock, NULL);
	/* default name: the kernel's file name, or the floppy's or first disk's (--bios) */
	path = cfg->kernel ? cfg->kernel : cfg->floppy ? cfg->floppy : cfg->ndisks ? cfg->disks[0].path : NULL;
	slash = path ? strrchr(path, '/') : NULL;
	t->name = tc->name ? tc->name : slash ? slash + 1 : path ? path : "ckvm test";
	path = NULL;
	if ((ret = check_options(t, cfg, err, errlen)))
		goto fail;
	if ((ret = capture(t, &stdout_fd))) {
		log_errno(LOG_ERR, "test", ret, "capturing the serial output");
		ret = -EIO;	/* the host's fault, whatever the call said (main: status 2) */
		goto fail;
	}
	if (tc->report)
		report_parse_spec(tc->report, &t->report_fmt, &path);
	if ((tc->screen_dump && (ret = out_stream(cfg, "--screen-dump ", tc->screen_dump, stdout_fd,
						  &t->screen_f))) ||
	    (tc->report && (ret = out_stream(cfg, "--report ", path, stdout_fd, &t->report_f))))
		goto fail;
	/* The console writes to fd 1 (the pipe); where the user wanted the output, the runner copies it. */
	if (cfg->serial == SERIAL_FILE) {
		if ((t->copy_fd = outfile_open(&cfg->inputs, "--serial file=", cfg->serial_path)) < 0) {
			ret = t->copy_fd;
			goto fail;
		}
		t->copy_owned = true;
		close(stdout_fd);
	} else if (cfg->serial == SERIAL_STDIO) {
		t->copy_fd = stdout_fd;
	} else {
		close(stdout_fd);
	}
	cfg->serial = SERIAL_STDIO;
	cfg->serial_path = NULL;
	*out = t;
	return 0;
fail:
	if (stdout_fd >= 0)
		close(stdout_fd);
	if (t->pipe_rd >= 0)
		close(t->pipe_rd);
	if (t->report_f)
		fclose(t->report_f);
	if (t->screen_f)
		fclose(t->screen_f);
	expect_free(&t->ex);
	free(t);
	return ret;
}

/* Stop the VM if it still runs (the first stop request wins; the guest's own may be first). */
static void runner_stop_vm(struct test_mode *t, bool timeout)
{
	pthread_mutex_lock(&t->lock);
	if (timeout)
		t->timed_out = true;
	if (t->vmm && !t->stop_sent) {
		t->stop_sent = true;
		vmm_request_stop(t->vmm, VM_STOP_USER, 0);
	}
	pthread_mutex_unlock(&t->lock);
}

static bool runner_armed(struct test_mode *t)
{
	bool armed;

	pthread_mutex_lock(&t->lock);
	armed = t->vmm && !t->stop_sent;
	pthread_mutex_unlock(&t->lock);
	return armed;
}

/* Milliseconds to the deadline, rounded up; 0 once it has passed. */
static int runner_left_ms(const struct test_mode *t)
{
	int64_t left = t->deadline_ns - vm_clock_ns();

	if (left <= 0)
		return 0;
	left = (left + 999999) / 1000000;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* Copy to stdout or the --serial file. A reader that stalls must not stall the test: the wait for
 * room is bounded by the deadline (then the VM is stopped as timed out), and after the stop by
 * COPY_STALL_MS, after which the rest of the output is matched but no longer copied. A closed
 * stdout ends the copy too. Writes of at most a page go through at once once poll says so. */
static void runner_copy(struct test_mode *t, const uint8_t *buf, size_t len)
{
	for (size_t off = 0; t->copy_fd >= 0 && !t->copy_broken && off < len;) {
		struct pollfd pfd = { .fd = t->copy_fd, .events = POLLOUT };
		bool armed = runner_armed(t);
		int r = poll(&pfd, 1, armed ? runner_left_ms(t) : COPY_STALL_MS);
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 && armed) {
			runner_stop_vm(t, true);
			continue;
		}
		if (r == 0) {
			log_warnx("test", "the output's reader stalled: no longer copying the guest's output");
			t->copy_broken = true;
			break;
		}
		n = r < 0 ? -1 : write(t->copy_fd, buf + off, len - off < 4096 ? len - off : 4096);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			t->copy_broken = true;
			break;
		}
		off += (size_t)n;
	}
}

/* Match first, so that a decision stops the VM before a slow copy; then copy and keep the tail. */
static void runner_consume(struct test_mode *t, const uint8_t *buf, size_t len)
{
	enum expect_state st = expect_state(&t->ex);

	if (st == EXPECT_RUNNING && expect_feed(&t->ex, buf, len) != EXPECT_RUNNING)
		runner_stop_vm(t, false);	/* fail-on, or every --expect met (never at once with none) */
	runner_copy(t, buf, len);
	if (t->tail_len + len > sizeof(t->tail)) {	/* keep the last REPORT_TAIL_MAX bytes at least */
		size_t keep = len >= REPORT_TAIL_MAX ? 0 : REPORT_TAIL_MAX - len;

		keep = keep < t->tail_len ? keep : t->tail_len;
		memmove(t->tail, t->tail + t->tail_len - keep, keep);
		t->tail_len = keep;
		if (len > REPORT_TAIL_MAX) {
			buf += len - REPORT_TAIL_MAX;
			len = REPORT_TAIL_MAX;
		}
	}
	memcpy(t->tail + t->tail_len, buf, len);
	t->tail_len += len;
}

/* Until the pipe's write end is closed (test_mode_finish): copy, match, and stop the VM at the
 * first decision or at the deadline. */
static void *runner(void *arg)
{
	struct test_mode *t = arg;
	uint8_t buf[RUNNER_CHUNK];

	pthread_setname_np(pthread_self(), "test");
	sandbox_enter(SANDBOX_SERIAL_OUT);
	for (;;) {
		struct pollfd pfd = { .fd = t->pipe_rd, .events = POLLIN };
		int timeout_ms = runner_armed(t) ? runner_left_ms(t) : -1;
		ssize_t n;

		if (timeout_ms == 0) {
			runner_stop_vm(t, true);
			continue;
		}
		n = poll(&pfd, 1, timeout_ms);
		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0)
			continue;
		n = read(t->pipe_rd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			break;
		if (n > 0)
			runner_consume(t, buf, (size_t)n);
	}
	return NULL;
}

int test_mode_start(struct test_mode *t, const struct vmm_ops *vmm)
{
	int ret;

	t->vmm = vmm;
	t->start_ns = vm_clock_ns();
	t->deadline_ns = t->start_ns + (int64_t)(t->timeout_ns > INT64_MAX / 4 ? INT64_MAX / 4 :
						 t->timeout_ns);
	if ((ret = -pthread_create(&t->thread, NULL, runner, t))) {
		t->vmm = NULL;
		return ret;
	}
	t->started = true;
	return 0;
}

void test_mode_vm_stopped(struct test_mode *t, enum vm_stop_reason why, int code, const char *msg,
			  const struct guest_mem *gm)
{
	pthread_mutex_lock(&t->lock);
	t->vmm = NULL;
	pthread_mutex_unlock(&t->lock);
	t->end_ns = vm_clock_ns();
	t->why = why;
	t->code = code;
	snprintf(t->msg, sizeof(t->msg), "%s", msg ? msg : "");
	/* The guest's own memory (gm_read checks the range): read once the vCPUs are gone. */
	if (t->screen_f)
		t->have_screen = gm_read(gm, t->screen, SCREEN_VGA_TEXT_GPA, SCREEN_BYTES) == 0;
}

/* The outcome, in the order things happened in the guest: output comes before the stop it caused,
 * so a matcher decision over the whole output wins over the way the VM stopped. */
static void decide(struct test_mode *t, struct test_result *res, char *detail, size_t len)
{
	const struct test_config *tc = t->tc;
	enum expect_state st = expect_state(&t->ex);
	const char *pending;

	if (st == EXPECT_RUNNING && (t->why == VM_STOP_POWEROFF || t->why == VM_STOP_REBOOT ||
				     t->why == VM_STOP_TEST_EXIT || t->why == VM_STOP_CRASH))
		st = expect_end(&t->ex);	/* the output is complete: `$` matches at its end */
	pending = expect_pending_pattern(&t->ex);
	detail[0] = '\0';
	if (st == EXPECT_FAILED) {
		res->outcome = REPORT_FAIL_ON;
		snprintf(detail, len, "'%s'", expect_failed_pattern(&t->ex));
	} else if (st == EXPECT_PASSED && tc->n_expect) {
		res->outcome = REPORT_PASS;
		snprintf(detail, len, "%u/%u in order", tc->n_expect, tc->n_expect);
	} else if (t->why == VM_STOP_TEST_EXIT) {
		res->outcome = REPORT_TEST_EXIT;
		res->exit_value = (uint32_t)t->code;
	} else if (t->why == VM_STOP_CRASH) {
		res->outcome = REPORT_CRASH;
		snprintf(detail, len, "%s", t->msg[0] ? t->msg : "no reason given");
	} else if (t->why == VM_STOP_POWEROFF || t->why == VM_STOP_REBOOT) {
		res->outcome = tc->n_expect ? REPORT_EXPECT_NOT_MET : REPORT_PASS;
		snprintf(detail, len, "the guest %s", t->why == VM_STOP_POWEROFF ? "powered off or halted" :
			 "rebooted");
	} else if (t->why == VM_STOP_USER && t->timed_out) {
		res->outcome = REPORT_TIMEOUT;
		snprintf(detail, len, "after %s", tc->timeout ? tc->timeout : "60s");
	} else if (t->why == VM_STOP_USER) {
		res->outcome = REPORT_INTERRUPTED;
		snprintf(detail, len, "%s", t->msg);
	} else {
		res->outcome = REPORT_CRASH;	/* reported as such; the status says host error */
		res->host_error = true;
		snprintf(detail, len, "host error: %s", t->msg[0] ? t->msg : "the VM stopped");
	}
	if (pending && res->outcome != REPORT_PASS && res->outcome != REPORT_FAIL_ON) {
		size_t n = strlen(detail);

		snprintf(detail + n, len - n, "%s--expect #%u '%s' not matched", n ? "; " : "",
			 expect_pending_index(&t->ex) + 1, pending);
	}
}

static void write_screen(struct test_mode *t)
{
	static char text[SCREEN_TEXT_MAX];
	size_t len = 0;

	if (!t->have_screen) {
		log_warnx("test", "--screen-dump: no guest RAM at 0x%llx", SCREEN_VGA_TEXT_GPA);
	} else if (screen_to_utf8(t->screen, sizeof(t->screen), text, sizeof(text), &len) ||
		   fwrite(text, 1, len, t->screen_f) != len || fflush(t->screen_f)) {
		log_warnx("test", "--screen-dump: cannot write the screen");
	}
	fclose(t->screen_f);
}

void test_mode_finish(struct test_mode *t, struct test_result *res)
{
	struct report_result r = { .name = t->name };
	char detail[512], line[1024];
	int ret;

	memset(res, 0, sizeof(*res));
	/* The console's writer has flushed into the pipe (or was abandoned): closing its only write
	 * end lets the runner read to the end. */
	close(STDOUT_FILENO);
	if (t->started && vm_join_until(t->thread, vm_clock_ns() + RUNNER_JOIN_MS * 1000000LL)) {
		log_warnx("test", "the output reader would not finish; no result");
		res->host_error = true;
		return;	/* it still uses t: leave it to process exit */
	}
	if (!t->started)
		t->end_ns = t->start_ns = vm_clock_ns();
	decide(t, res, detail, sizeof(detail));
	if (t->screen_f)
		write_screen(t);
	r.outcome = res->outcome;
	r.exit_value = res->exit_value;
	r.exit_ok = res->outcome == REPORT_TEST_EXIT && t->exit_pass_set && res->exit_value == t->exit_pass;
	r.duration_ns = (uint64_t)(t->end_ns - t->start_ns);
	r.detail = detail;
	r.tail = t->tail;
	r.tail_len = t->tail_len;
	if (t->report_f) {
		ret = t->report_fmt == REPORT_JUNIT ? report_write_junit(t->report_f, &r) :
			report_write_tap(t->report_f, &r);
		if (fclose(t->report_f) || ret)
			log_warnx("test", "--report: cannot write the report");
	}
	if (report_summary(line, sizeof(line), &r) == 0)
		fprintf(stderr, "%s\n", line);
	if (t->copy_owned)
		close(t->copy_fd);
	close(t->pipe_rd);
	expect_free(&t->ex);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
