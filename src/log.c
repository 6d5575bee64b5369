/* Logging to stderr. Thread-safe (one write per line); used by every thread.
 * Lines end in "\r\n" when stderr is a raw-mode terminal so the console stays readable. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum log_level log_threshold = LOG_INFO;

static const char *const level_name[] = {
	[LOG_ERR] = "error", [LOG_WARN] = "warning", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

static __attribute__((format(printf, 4, 0))) void log_emit(enum log_level lvl, const char *sub, int err,
							     const char *fmt, va_list ap)
{
	char line[1024];
	int n;

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
	n += snprintf(line + n, sizeof(line) - (size_t)n, isatty(STDERR_FILENO) ? "\r\n" : "\n");
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
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
