/* Logging: one line per message on stderr with a subsystem prefix.
 * log_warn/log_err append strerror(errno-style code); guest-caused warnings are rate-limited. */
#ifndef CKVM_LOG_H
#define CKVM_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_threshold;

void log_msg(enum log_level lvl, const char *sub, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* As log_msg but appends ": strerror(-err)" (err is a negative errno). */
void log_errno(enum log_level lvl, const char *sub, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The calling thread's latest error message (without "ckvm: error: "), "" if none: lets the API
 * answer with the line a failing call logged. */
const char *log_last_error(void);
/* For functions that hand their caller a one-line reason instead of logging it: writes the message
 * into err (errlen bytes, NUL-terminated, truncated to fit) and returns ret. */
int errf(char *err, size_t errlen, int ret, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Send log lines to fd (a copy is kept; the caller closes fd) instead of stderr. 0 or -errno. */
int log_set_output(int fd);
/* Keep a private O_NONBLOCK description of stderr (a pipe or terminal) for the threads whose
 * sandbox refuses the per-line reopen, so a stalled reader costs them a line, not the thread. main()
 * calls it before any thread. */
void log_output_init(void);
/* Write text where log lines go: bounded in time, dropped if the output has stalled. */
void log_raw(const char *buf, size_t len);
/* Rate-limited guest warning: at most a few per second per call site (*budget). */
bool log_ratelimit(unsigned long *last_sec, unsigned *count);

/* Start-up timeline (--verbose): "ckvm: timeline: debug: +12.345 ms WHAT", relative to ckvm's exec.
 * main() calls log_timeline_start() first (the origin: main()'s entry less the CPU time the process
 * had used, i.e. the dynamic loader's work); the first point printed is preceded by "exec" and
 * "main()". Each phase logs one point when it is done, e.g.
 *   log_timeline("kernel inflated: %s, %zu -> %zu bytes in %.1f ms", fmt, in_len, out_len, ms);
 * Costs one clock read and a compare when not verbose; not for per-exit paths. */
void log_timeline_start(void);
void log_timeline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Nanoseconds since ckvm's exec (the timeline's origin), at any log level. */
uint64_t log_since_exec_ns(void);

#define log_err(sub, ...)   log_msg(LOG_ERR, sub, __VA_ARGS__)
#define log_warnx(sub, ...) log_msg(LOG_WARN, sub, __VA_ARGS__)
#define log_info(sub, ...)  log_msg(LOG_INFO, sub, __VA_ARGS__)
#define log_debug(sub, ...) do { if (log_threshold >= LOG_DEBUG) log_msg(LOG_DEBUG, sub, __VA_ARGS__); } while (0)

/* Warn about something the guest did, at most 10 lines per second per call site. */
#define log_guest(sub, ...) do {                                          \
		static unsigned long lg_sec_; static unsigned lg_cnt_;    \
		if (log_ratelimit(&lg_sec_, &lg_cnt_))                    \
			log_msg(LOG_WARN, sub, __VA_ARGS__);              \
	} while (0)

#endif
