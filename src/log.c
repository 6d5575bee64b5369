/* Logging to stderr. Thread-safe (one write per line); used by every thread.
 * Lines end in "\r\n" when stderr is a raw-mode terminal so the console stays readable. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum log_level log_threshold = LOG_INFO;

static int log_fd = STDERR_FILENO;	/* log_set_output() moves it; never closed */
static __thread char last_err[256];	/* this thread's latest LOG_ERR message, for API replies */

static const char *const level_name[] = {
	[LOG_ERR] = "error", [LOG_WARN] = "warning", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

static __attribute__((format(printf, 4, 0))) void log_emit(enum log_level lvl, const char *sub, int err,
							     const char *fmt, va_list ap)
{
	char line[1024];
	int n, fd;

	if (lvl > log_threshold)
		return;
	n = snprintf(line, sizeof(line), "ckvm: %s%s%s: ", sub ? sub : "", sub ? ": " : "",
		     level_name[lvl]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if ((size_t)n >= sizeof(line) - 64)
		n = (int)sizeof(line) - 64;
	if (err)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ": %s", strerror(-err));
	if (lvl == LOG_ERR)
		snprintf(last_err, sizeof(last_err), "%s", strstr(line, "error: ") + 7);
	fd = __atomic_load_n(&log_fd, __ATOMIC_ACQUIRE);
	n += snprintf(line + n, sizeof(line) - (size_t)n, isatty(fd) ? "\r\n" : "\n");
	if (write(fd, line, (size_t)n) < 0)
		return;
}

void log_msg(enum log_level lvl, const char *sub, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(lvl, sub, 0, fmt, ap);
	va_end(ap);
}

void log_errno(enum log_level lvl, const char *sub, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(lvl, sub, err, fmt, ap);
	va_end(ap);
}

bool log_ratelimit(unsigned long *last_sec, unsigned *count)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	if ((unsigned long)ts.tv_sec != __atomic_load_n(last_sec, __ATOMIC_RELAXED)) {
		__atomic_store_n(last_sec, (unsigned long)ts.tv_sec, __ATOMIC_RELAXED);
		__atomic_store_n(count, 0, __ATOMIC_RELAXED);
	}
	return __atomic_fetch_add(count, 1, __ATOMIC_RELAXED) < 10;
}

const char *log_last_error(void)
{
	return last_err;
}

int log_set_output(int fd)
{
	int cur = __atomic_load_n(&log_fd, __ATOMIC_ACQUIRE), copy;

	/* Lines in flight on other threads must never reach a closed or reused fd number: the first
	 * switch takes a number of its own, later ones replace what that number refers to. */
	if (cur == STDERR_FILENO) {
		copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (copy < 0)
			return -errno;
		__atomic_store_n(&log_fd, copy, __ATOMIC_RELEASE);
		return 0;
	}
	return dup3(fd, cur, O_CLOEXEC) < 0 ? -errno : 0;
}
