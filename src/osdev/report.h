/* Test reports for `ckvm test --report tap|tap:PATH|junit:PATH`: one test result as TAP version 13
 * (with a YAML diagnostic block) or as JUnit XML, plus the one-line summary. Everything the guest
 * or the user wrote is escaped: control characters, invalid UTF-8 and "]]>" cannot break either
 * format. Pure: the caller opens the stream and closes it. */
#ifndef CKVM_OSDEV_REPORT_H
#define CKVM_OSDEV_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define REPORT_TAIL_MAX	(16 * 1024)	/* at most this much of the serial tail goes into a report */

enum report_outcome {
	REPORT_PASS,		/* every --expect matched in order */
	REPORT_EXPECT_NOT_MET,	/* the guest stopped with an --expect pending */
	REPORT_FAIL_ON,		/* a --fail-on pattern matched */
	REPORT_CRASH,		/* triple fault, emulation failure */
	REPORT_TIMEOUT,		/* --timeout ran out */
	REPORT_TEST_EXIT,	/* the guest wrote the test-exit port (exit_value, exit_ok) */
	REPORT_INTERRUPTED,	/* ckvm was stopped by a signal (SIGINT, SIGTERM...) */
};

struct report_result {
	const char *name;		/* the test's name (user-given; escaped) */
	enum report_outcome outcome;
	uint32_t exit_value;		/* REPORT_TEST_EXIT: the value written */
	bool exit_ok;			/* REPORT_TEST_EXIT: the runner counts that value as a pass */
	uint64_t duration_ns;
	const char *detail;		/* one line: which pattern, where it crashed; may be NULL */
	const uint8_t *tail;		/* the end of the serial output (untrusted bytes); may be NULL */
	size_t tail_len;
};

enum report_format { REPORT_TAP, REPORT_JUNIT };

/* "pass", "expect-not-met", "fail-on", "crash", "timeout", "test-exit", "interrupted". */
const char *report_outcome_name(enum report_outcome o);
bool report_passed(const struct report_result *r);
/* --report's value: "tap" (stdout: *path = NULL), "tap:PATH" or "junit:PATH" (*path points into s).
 * -EINVAL for anything else, an empty PATH included. */
int report_parse_spec(const char *s, enum report_format *fmt, const char **path);
/* Write the whole report to f. 0, -EINVAL (bad outcome) or -EIO (the stream failed). */
int report_write_tap(FILE *f, const struct report_result *r);
int report_write_junit(FILE *f, const struct report_result *r);
/* "ckvm test: PASS name (1.234 s): every --expect matched: detail" /
 * "ckvm test: FAIL name (30.000 s): timed out: detail"; a pass says what passed only with a detail. */
int report_summary(char *buf, size_t len, const struct report_result *r);

#endif
