/* Logging to stderr. Thread-safe (one write per line); used by every thread.
 * Lines end in "\r\n" when stderr is a raw-mode terminal so the console stays readable.
 * A write never waits long for a stalled stderr (a terminal or pipe nobody reads): a line that
 * cannot go out within LOG_STALL_MS is dropped, and once stderr has stalled lines go out only if
 * they fit at once. Stop paths log, and a stop must end in bounded time. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_STALL_MS 100

enum log_level log_threshold = LOG_INFO;

static int log_fd = STDERR_FILENO;	/* log_set_output() moves it; never closed */
static __thread char last_err[256];	/* this thread's latest LOG_ERR message, for API replies */
static bool log_stalled;		/* atomic: the last write found the output stalled */

/* How a line goes out to fd: a pipe or terminal through a private open file description with
 * O_NONBLOCK (opened and closed around each write, so redirections of fd are followed and no extra
 * reference is held; O_NONBLOCK on fd itself would change the description the user's shell shares);
 * a socket with MSG_DONTWAIT (-2); a regular file plainly (-1); -3 when the reopen was refused (a
 * sandboxed thread may not open files: it then uses the description log_output_init kept). */
static int log_open_nonblocking(int fd)
{
	struct stat st;
	char path[32];
	int nb;

	if (fstat(fd, &st) < 0)
		return -1;
	if (S_ISSOCK(st.st_mode))
		return -2;
	if (!S_ISFIFO(st.st_mode) && !isatty(fd))
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nb = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	return nb >= 0 ? nb : -3;
}

/* A private O_NONBLOCK description of log_fd kept for the threads that may not open one (-1: none).
 * Set by log_output_init (main, before any thread) and log_set_output; a new one replaces the old
 * under the same number (dup3), so a line in flight on another thread never meets a closed fd. */
static int log_kept = -1;
static pthread_mutex_t log_kept_lock = PTHREAD_MUTEX_INITIALIZER;

static void log_keep(int out)	/* log_kept_lock held */
{
	int cur = __atomic_load_n(&log_kept, __ATOMIC_ACQUIRE), fresh = log_open_nonblocking(out);

	if (fresh < 0)
		return;		/* a file or socket: never needs it; the old one stays harmless */
	if (cur >= 0) {
		bool same_number = dup3(fresh, cur, O_CLOEXEC) >= 0;

		close(fresh);
		if (!same_number)
			return;
		fresh = cur;
	}
	__atomic_store_n(&log_kept, fresh, __ATOMIC_RELEASE);
}

void log_output_init(void)
{
	pthread_mutex_lock(&log_kept_lock);
	log_keep(__atomic_load_n(&log_fd, __ATOMIC_ACQUIRE));
	pthread_mutex_unlock(&log_kept_lock);
}

/* Write len bytes to out, waiting at most LOG_STALL_MS (none once out has stalled). */
static void log_write(int out, const char *buf, size_t len)
{
	int fd = log_open_nonblocking(out), kept;
	bool sock = fd == -2, owned = fd >= 0;

	if (fd == -3 && (kept = __atomic_load_n(&log_kept, __ATOMIC_ACQUIRE)) >= 0)
		fd = kept;
	else if (fd < 0)
		fd = out;
	while (len) {
		ssize_t n = sock ? send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) : write(fd, buf, len);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			__atomic_store_n(&log_stalled, false, __ATOMIC_RELAXED);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && !__atomic_load_n(&log_stalled, __ATOMIC_RELAXED)) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			if (poll(&p, 1, LOG_STALL_MS) > 0)
				continue;
			__atomic_store_n(&log_stalled, true, __ATOMIC_RELAXED);
		}
		break;		/* the rest of the line is dropped */
	}
	if (owned)
		close(fd);
}

void log_raw(const char *buf, size_t len)
{
	log_write(__atomic_load_n(&log_fd, __ATOMIC_ACQUIRE), buf, len);
}

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
	log_write(fd, line, (size_t)n);
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
	int ret = 0;

	pthread_mutex_lock(&log_kept_lock);
	if (cur == STDERR_FILENO) {
		copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (copy < 0)
			ret = -errno;
		else
			__atomic_store_n(&log_fd, cur = copy, __ATOMIC_RELEASE);
	} else if (dup3(fd, cur, O_CLOEXEC) < 0) {
		ret = -errno;
	}
	if (!ret)
		log_keep(cur);
	pthread_mutex_unlock(&log_kept_lock);
	return ret;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t exec_ns, main_ns;	/* CLOCK_MONOTONIC at exec and at main(); set once by main() */

void log_timeline_start(void)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC), cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID);

	/* Before main() the process only ran (the loader, no sleeps): its CPU time is the time since exec. */
	exec_ns = cpu < now ? now - cpu : now;
	main_ns = now;
}

uint64_t log_since_exec_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC) - exec_ns;
}

static void timeline_line(uint64_t ns, const char *what)
{
	log_msg(LOG_DEBUG, "timeline", "+%llu.%03llu ms %s", (unsigned long long)(ns / 1000000),
		(unsigned long long)(ns / 1000 % 1000), what);
}

void log_timeline(const char *fmt, ...)
{
	static bool origin_shown;	/* the first point comes from main(), before any other thread */
	uint64_t ns = log_since_exec_ns();
	char what[256];
	va_list ap;

	if (log_threshold < LOG_DEBUG)
		return;
	if (!origin_shown) {
		origin_shown = true;
		timeline_line(0, "exec");
		timeline_line(main_ns - exec_ns, "main()");
	}
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	timeline_line(ns, what);
}

int errf(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}
