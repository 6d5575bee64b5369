/* The matcher behind `ckvm test`: --expect patterns matched in order over the guest's serial output,
 * --fail-on patterns matched anywhere, fed incrementally in chunks of any size; and the --timeout
 * duration parser. POSIX extended regular expressions (regcomp), line-aware (REG_NEWLINE).
 *
 * What a match sees (documented limits):
 *  - NUL and CR bytes are dropped before matching, so "OK\r\n" ends a line "OK" ($ matches before it).
 *  - `.` and `[^...]` do not match a newline; `^`/`$` match at line starts/ends. A pattern can still
 *    span lines with a newline in it or a class that holds one ([[:space:]]).
 *  - `$` needs the newline itself: the end of the output received so far is not an end of line,
 *    until expect_end() says the output is complete.
 *  - A match is taken as soon as the output received so far holds one, so a pattern ending in a
 *    repetition ("count: [0-9]+") may match fewer characters than the finished line holds.
 *  - Only the last EXPECT_MATCH_MAX bytes are kept: a match longer than that may be missed.
 *  - Cost: a pattern that cannot match a newline is searched from the start of the current line
 *    only, so feeding byte by byte is cheap. One that may (a newline, `[[:space:]]`, `\s`, ...)
 *    searches the whole retained window on every feed: feed what a read returned, not single bytes.
 *  - An --expect match consumes the output up to its end: the next --expect starts there. --fail-on
 *    sees all the output. When one fed chunk completes the --expect list and also matches a
 *    --fail-on pattern, the failure wins.
 * One thread at a time (the test runner's). */
#ifndef CKVM_OSDEV_EXPECT_H
#define CKVM_OSDEV_EXPECT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXPECT_MATCH_MAX	4096	/* longest match guaranteed to be found, in bytes */
#define EXPECT_PATTERNS_MAX	64	/* per kind (--expect, --fail-on) */

enum expect_kind { EXPECT_ORDERED, EXPECT_FAIL_ON };

enum expect_state {
	EXPECT_RUNNING,		/* some --expect still pending, no --fail-on matched */
	EXPECT_PASSED,		/* every --expect matched in order (an empty list: once expect_end() was called) */
	EXPECT_FAILED,		/* a --fail-on pattern matched (expect_failed_index says which) */
};

struct expect_pat {
	regex_t re;
	char *src;		/* the pattern as the user wrote it, for messages */
	bool multiline;		/* it may match a newline (decided conservatively from src) */
};

struct expect {
	struct expect_pat ordered[EXPECT_PATTERNS_MAX], fail_on[EXPECT_PATTERNS_MAX];
	unsigned n_ordered, n_fail_on;
	unsigned next;		/* index of the pending --expect */
	int failed;		/* index of the --fail-on that matched, -1 if none */
	bool ended;		/* expect_end() was called */
	/* The retained output: win[0, len), NUL-terminated for regexec. cons: where the pending
	 * --expect's search starts (the end of the previous match). bol: win[0] starts a line. */
	char win[2 * EXPECT_MATCH_MAX + 1];
	size_t len, cons;
	size_t line;		/* where the last (unfinished) line in win starts */
	bool bol;
	uint64_t fed;		/* bytes fed in total */
};

void expect_init(struct expect *e);
/* Compile one pattern. -EINVAL with a message in err (for the user) for a bad regex, an empty one,
 * one pattern too many, a back-reference (\1: a glibc extension with exponential matching time),
 * or repetitions glibc's regcomp would take gigabytes or minutes on: stacked ("a++"), nested over
 * two deep ("((a+)+)+"), or expanding past 1024 items ("(a*){1,500}"); -ENOMEM.
 * Add every pattern before the first expect_feed. */
int expect_add(struct expect *e, enum expect_kind kind, const char *regex, char *err, size_t err_len);
/* Feed output; returns the state after it. Once passed or failed, further output is ignored. */
enum expect_state expect_feed(struct expect *e, const void *buf, size_t len);
/* The output is complete (the guest stopped): `$` also matches at its end. Returns the state. */
enum expect_state expect_end(struct expect *e);
enum expect_state expect_state(const struct expect *e);
/* The pending --expect's index (== number matched so far) and its source, NULL if none pending. */
unsigned expect_pending_index(const struct expect *e);
const char *expect_pending_pattern(const struct expect *e);
/* The --fail-on that matched: its index (-1 if none) and source (NULL if none). */
int expect_failed_index(const struct expect *e);
const char *expect_failed_pattern(const struct expect *e);
void expect_free(struct expect *e);

/* A --timeout value: digits and a unit (ms, s, m, h; bare digits are seconds), > 0.
 * -EINVAL for junk, a sign, white space, zero or no digits; -ERANGE past UINT64_MAX ns. */
int expect_parse_duration(const char *s, uint64_t *ns);

#endif
