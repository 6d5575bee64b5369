/* Unit tests for the `ckvm test` matcher (src/osdev/expect.c): ordered --expect, --fail-on, chunking,
 * line anchors, the retained window, bad patterns, and the --timeout parser. */
#include <errno.h>
#include <stdlib.h>

#include "osdev/expect.h"
#include "test.h"

static struct expect ex;	/* large (two windows): keep it off the stack */

static void setup(const char *const *ordered, const char *const *fail_on)
{
	char err[256];

	expect_init(&ex);
	for (; ordered && *ordered; ordered++)
		CHECK_EQ(expect_add(&ex, EXPECT_ORDERED, *ordered, err, sizeof(err)), 0);
	for (; fail_on && *fail_on; fail_on++)
		CHECK_EQ(expect_add(&ex, EXPECT_FAIL_ON, *fail_on, err, sizeof(err)), 0);
}

static enum expect_state feed_str(const char *s)
{
	return expect_feed(&ex, s, strlen(s));
}

static void test_in_order(void)
{
	const char *pats[] = { "Booting", "MBR OK", NULL };

	setup(pats, NULL);
	CHECK_EQ(expect_state(&ex), EXPECT_RUNNING);
	CHECK_EQ(feed_str("MBR OK\n"), EXPECT_RUNNING);	/* out of order: the first is still pending */
	CHECK_EQ(expect_pending_index(&ex), 0);
	CHECK_STR(expect_pending_pattern(&ex), "Booting");
	CHECK_EQ(feed_str("Booting from disk\n"), EXPECT_RUNNING);
	CHECK_EQ(expect_pending_index(&ex), 1);
	CHECK_STR(expect_pending_pattern(&ex), "MBR OK");
	CHECK_EQ(feed_str("MBR OK"), EXPECT_PASSED);	/* no newline needed: a boot sector may hlt */
	CHECK(expect_pending_pattern(&ex) == NULL);
	CHECK_EQ(expect_failed_index(&ex), -1);
	CHECK_EQ(feed_str("PANIC"), EXPECT_PASSED);	/* decided: later output is ignored */
	expect_free(&ex);
}

/* A match consumes up to its end: two --expect of the same text need two occurrences. */
static void test_consumes(void)
{
	const char *pats[] = { "tick", "tick", NULL };

	setup(pats, NULL);
	CHECK_EQ(feed_str("tick\n"), EXPECT_RUNNING);
	CHECK_EQ(expect_pending_index(&ex), 1);
	CHECK_EQ(feed_str("tock tick"), EXPECT_PASSED);
	expect_free(&ex);

	setup(pats, NULL);
	CHECK_EQ(feed_str("ticktick"), EXPECT_PASSED);	/* both in one chunk */
	expect_free(&ex);
}

static void test_byte_at_a_time(void)
{
	const char *pats[] = { "Hello, (KVM|world)!", "^done$", NULL };
	const char *out = "noise\r\nHello, KVM!\r\nnot done\r\ndone\r\n";

	setup(pats, NULL);
	for (size_t i = 0; out[i]; i++) {
		enum expect_state st = expect_feed(&ex, out + i, 1);

		CHECK_EQ(st, out[i + 1] ? EXPECT_RUNNING : EXPECT_PASSED);
	}
	expect_free(&ex);
}

/* A match spanning two lines, fed in two chunks split inside it. */
static void test_span_lines(void)
{
	const char *pats[] = { "first\nsecond", "a[[:space:]]+b", NULL };

	setup(pats, NULL);
	CHECK_EQ(feed_str("xx first\nsec"), EXPECT_RUNNING);
	CHECK_EQ(feed_str("ond yy a\n"), EXPECT_RUNNING);
	CHECK_EQ(feed_str("\n b"), EXPECT_PASSED);
	expect_free(&ex);

	/* `.` does not cross a newline (REG_NEWLINE) */
	const char *dot[] = { "A.*B", NULL };
	setup(dot, NULL);
	CHECK_EQ(feed_str("A\nB\n"), EXPECT_RUNNING);
	CHECK_EQ(feed_str("A B"), EXPECT_PASSED);
	expect_free(&ex);
}

/* Patterns that may match a newline search the whole window; the rest only the current line.
 * Each multi-line pattern here is fed byte by byte across its newline: classed as single-line it
 * would be missed. */
static void test_multiline_class(void)
{
	const char *multi[] = { "a[[:space:]]b", "a\\sb", "a[\x01-~]b", "a[[:cntrl:]]b", "a[]\n]b",
				"a[[=\n=]]b", "a\nb", "(a|a\n)b", "a\\\nb", NULL };
	const char *single[] = { "a[^x]", "x[^[:space:]]+y", "a[[:alpha:]]b", "a\\.b", "a[ -~]b", NULL };

	for (const char **m = multi; *m; m++) {
		const char *pats[] = { *m, NULL };

		setup(pats, NULL);
		CHECK(ex.ordered[0].multiline);
		CHECK_EQ(feed_str("x a"), EXPECT_RUNNING);
		CHECK_EQ(feed_str("\n"), EXPECT_RUNNING);
		CHECK_EQ(feed_str("b"), EXPECT_PASSED);
		expect_free(&ex);

		setup(NULL, pats);	/* the same as --fail-on */
		CHECK_EQ(feed_str("x a"), EXPECT_RUNNING);
		CHECK_EQ(feed_str("\n"), EXPECT_RUNNING);
		CHECK_EQ(feed_str("b"), EXPECT_FAILED);
		expect_free(&ex);
	}
	for (const char **m = single; *m; m++) {
		const char *pats[] = { *m, NULL };

		setup(pats, NULL);
		CHECK(!ex.ordered[0].multiline);
		expect_free(&ex);
	}
	/* single-line, byte by byte, over a line that began chunks ago */
	const char *pats[] = { "x[^[:space:]]+y", NULL };
	setup(pats, NULL);
	const char *out = "xx\nxabc";
	for (const char *o = out; *o; o++)
		CHECK_EQ(expect_feed(&ex, o, 1), EXPECT_RUNNING);
	CHECK_EQ(feed_str("dy"), EXPECT_PASSED);
	expect_free(&ex);
}

/* `$` needs the newline (or the end of the output); `^` a line start, also after a trim. */
static void test_anchors(void)
{
	const char *pats[] = { "^OK$", NULL };

	setup(pats, NULL);
	CHECK_EQ(feed_str("OK"), EXPECT_RUNNING);	/* "OK" may yet become "OKAY" */
	CHECK_EQ(feed_str("AY\nnot OK\n"), EXPECT_RUNNING);
	CHECK_EQ(feed_str("OK\r\n"), EXPECT_PASSED);	/* CR dropped */
	expect_free(&ex);

	setup(pats, NULL);
	CHECK_EQ(feed_str("x\nOK"), EXPECT_RUNNING);
	CHECK_EQ(expect_end(&ex), EXPECT_PASSED);	/* the output ended: $ matches at its end */
	expect_free(&ex);

	/* After "ab" is consumed mid-line, ^ must not match at "cd". */
	const char *mid[] = { "ab", "^cd", NULL };
	setup(mid, NULL);
	CHECK_EQ(feed_str("abcd\n"), EXPECT_RUNNING);
	CHECK_EQ(feed_str("cd\n"), EXPECT_PASSED);
	expect_free(&ex);
}

static void test_fail_on(void)
{
	const char *pats[] = { "login:", NULL }, *fails[] = { "Kernel panic", "BUG: .*", NULL };

	setup(pats, fails);
	CHECK_EQ(feed_str("[ 0.1] Kernel pa"), EXPECT_RUNNING);
	CHECK_EQ(feed_str("nic - not syncing\n"), EXPECT_FAILED);
	CHECK_EQ(expect_failed_index(&ex), 0);
	CHECK_STR(expect_failed_pattern(&ex), "Kernel panic");
	CHECK_EQ(expect_pending_index(&ex), 0);
	CHECK_EQ(feed_str("login:"), EXPECT_FAILED);	/* decided */
	expect_free(&ex);

	/* --fail-on also sees output an --expect consumed; in one chunk, failure wins the tie. */
	setup(pats, fails);
	CHECK_EQ(feed_str("BUG: x\nlogin:"), EXPECT_FAILED);
	CHECK_EQ(expect_failed_index(&ex), 1);
	expect_free(&ex);

	/* Only --fail-on: running until the output ends, then passed. */
	setup(NULL, fails);
	CHECK_EQ(feed_str("all fine\n"), EXPECT_RUNNING);
	CHECK_EQ(expect_end(&ex), EXPECT_PASSED);
	expect_free(&ex);

	/* Nothing at all: passed once the output ends. */
	setup(NULL, NULL);
	CHECK_EQ(feed_str("x"), EXPECT_RUNNING);
	CHECK_EQ(expect_end(&ex), EXPECT_PASSED);
	expect_free(&ex);
}

/* NUL bytes are dropped before matching; they do not end the text regexec sees. */
static void test_nul_bytes(void)
{
	const char *pats[] = { "AB", NULL };
	static const char out[] = { 'x', 0, 'A', 0, 'B' };

	setup(pats, NULL);
	CHECK_EQ(expect_feed(&ex, out, sizeof(out)), EXPECT_PASSED);
	expect_free(&ex);
}

/* The window: a match of EXPECT_MATCH_MAX bytes fed in pieces is found; long output before a
 * match does not lose it; a huge single chunk is handled in passes. */
static void test_window(void)
{
	const char *pats[] = { "<a+>", "END", NULL };
	size_t big = 10 * EXPECT_MATCH_MAX;
	char *buf = malloc(big + 1);

	setup(pats, NULL);
	memset(buf, 'z', big);
	CHECK_EQ(expect_feed(&ex, buf, big), EXPECT_RUNNING);
	CHECK_EQ(feed_str("<"), EXPECT_RUNNING);
	memset(buf, 'a', 4094);
	for (size_t i = 0; i < 4094; i += 1000)
		CHECK_EQ(expect_feed(&ex, buf + i, 4094 - i < 1000 ? 4094 - i : 1000), EXPECT_RUNNING);
	CHECK_EQ(feed_str(">"), EXPECT_RUNNING);
	CHECK_EQ(expect_pending_index(&ex), 1);
	/* One chunk with the match in the middle of megabytes of noise. */
	memset(buf, 'y', big);
	memcpy(buf + big / 2 + 3, "END", 3);
	CHECK_EQ(expect_feed(&ex, buf, big), EXPECT_PASSED);
	CHECK(ex.len < sizeof(ex.win));
	expect_free(&ex);

	/* A trimmed window that starts mid-line is not a line start for `^`. */
	const char *bol[] = { "^y", NULL };
	setup(bol, NULL);
	memset(buf, 'y', big);
	buf[0] = 'z';
	CHECK_EQ(expect_feed(&ex, buf, big), EXPECT_RUNNING);
	CHECK_EQ(feed_str("y"), EXPECT_RUNNING);
	CHECK_EQ(feed_str("\ny"), EXPECT_PASSED);
	expect_free(&ex);
	free(buf);
}

static void test_bad_patterns(void)
{
	char err[256] = "";

	expect_init(&ex);
	CHECK_EQ(expect_add(&ex, EXPECT_ORDERED, "(unclosed", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "--expect '(unclosed'") != NULL);
	err[0] = '\0';
	CHECK_EQ(expect_add(&ex, EXPECT_FAIL_ON, "a{2,1}", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "--fail-on") != NULL);
	/* valid EREs that would cost gigabytes in glibc, and glibc's back-references */
	const char *costly[] = { "a++++++++++++++++++++++++", "(a{999}){999}", "((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+",
				 "x{32767}", "a{,5000}", "(a|b{70}){70}", "a**", "((a*){1,8}){1,8}", "(((a+)+)+)", "(a*){1,500}", "(.)\\1", "((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))", NULL };
	for (const char **c = costly; *c; c++) {
		err[0] = '\0';
		CHECK_EQ(expect_add(&ex, EXPECT_ORDERED, *c, err, sizeof(err)), -EINVAL);
		CHECK(err[0] != '\0');
	}
	const char *fine[] = { "ckvm-init: [a-z]+ done$", "([0-9]+\\.){3}[0-9]+", "(ab|cd)+(e{1,10}f)*", "[{+*]+", "\\{\\+\\+",
			       "a\\\\1", NULL };
	for (const char **c = fine; *c; c++)
		CHECK_EQ(expect_add(&ex, EXPECT_FAIL_ON, *c, err, sizeof(err)), 0);
	CHECK_EQ(ex.n_fail_on, 6);
	CHECK_EQ(expect_add(&ex, EXPECT_ORDERED, "(a", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "not a POSIX extended regular expression") != NULL);	/* regcomp's word */
	CHECK_EQ(expect_add(&ex, EXPECT_ORDERED, "", err, sizeof(err)), -EINVAL);
	CHECK_EQ(expect_add(&ex, EXPECT_ORDERED, NULL, err, sizeof(err)), -EINVAL);
	for (int i = 0; i < EXPECT_PATTERNS_MAX; i++)
		CHECK_EQ(expect_add(&ex, EXPECT_ORDERED, "x", err, sizeof(err)), 0);
	CHECK_EQ(expect_add(&ex, EXPECT_ORDERED, "x", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "at most") != NULL);
	CHECK_EQ(ex.n_ordered, EXPECT_PATTERNS_MAX);
	CHECK_EQ(ex.n_fail_on, 6);
	expect_free(&ex);
}

static void test_duration(void)
{
	uint64_t ns = 0;

	CHECK_EQ(expect_parse_duration("30s", &ns), 0);
	CHECK_EQ(ns, 30000000000ULL);
	CHECK_EQ(expect_parse_duration("500ms", &ns), 0);
	CHECK_EQ(ns, 500000000ULL);
	CHECK_EQ(expect_parse_duration("2m", &ns), 0);
	CHECK_EQ(ns, 120000000000ULL);
	CHECK_EQ(expect_parse_duration("1h", &ns), 0);
	CHECK_EQ(ns, 3600000000000ULL);
	CHECK_EQ(expect_parse_duration("45", &ns), 0);
	CHECK_EQ(ns, 45000000000ULL);
	CHECK_EQ(expect_parse_duration("18446744073709ms", &ns), 0);
	CHECK_EQ(ns, 18446744073709000000ULL);
	ns = 7;
	CHECK_EQ(expect_parse_duration("18446744073710ms", &ns), -ERANGE);
	CHECK_EQ(expect_parse_duration("99999999999999999999999999s", &ns), -ERANGE);
	CHECK_EQ(expect_parse_duration("5124096h", &ns), -ERANGE);
	CHECK_EQ(ns, 7);
	const char *junk[] = { "", "s", "0", "0ms", "-1s", "+1s", " 1s", "1 s", "1s ", "1.5s", "1sec",
			       "1S", "1d", "1mss", "0x10", "ms", "1e3", NULL };
	for (const char **j = junk; *j; j++)
		CHECK_EQ(expect_parse_duration(*j, &ns), -EINVAL);
	CHECK_EQ(expect_parse_duration(NULL, &ns), -EINVAL);
	CHECK_EQ(ns, 7);
}

int main(void)
{
	RUN(test_in_order);
	RUN(test_consumes);
	RUN(test_byte_at_a_time);
	RUN(test_span_lines);
	RUN(test_multiline_class);
	RUN(test_anchors);
	RUN(test_fail_on);
	RUN(test_nul_bytes);
	RUN(test_window);
	RUN(test_bad_patterns);
	RUN(test_duration);
	return test_summary();
}
