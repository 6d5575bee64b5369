/* Logging: one line per message on stderr with a subsystem prefix.
 * log_warn/log_err append strerror(errno-style code); guest-caused warnings are rate-limited. */
#ifndef CKVM_LOG_H
#define CKVM_LOG_H

#include <stdbool.h>

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
/* Send log lines to fd (a copy is kept; the caller closes fd) instead of stderr. 0 or -errno. */
int log_set_output(int fd);
/* Rate-limited guest warning: at most a few per second per call site (*budget). */
bool log_ratelimit(unsigned long *last_sec, unsigned *count);

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
