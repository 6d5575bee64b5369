/* Unit tests for the TAP 13 / JUnit XML writers (src/osdev/report.c): each outcome, escaping of
 * hostile guest output (control bytes, invalid UTF-8, "]]>", markup), the tail cap, the --report
 * spec and the summary line. */
#include <errno.h>
#include <stdlib.h>

#include "osdev/report.h"
#include "test.h"

static char *out;
static size_t out_len;

static int write_report(enum report_format fmt, const struct report_result *r)
{
	FILE *f;
	int ret;

	free(out);
	out = NULL;
	f = open_memstream(&out, &out_len);
	if (!f)
		return -ENOMEM;
	ret = fmt == REPORT_TAP ? report_write_tap(f, r) : report_write_junit(f, r);
	fclose(f);
	return ret;
}

/* Strict UTF-8 and only the characters XML 1.0 and YAML both allow: tab, newline, printable. */
static bool clean_text(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		unsigned c = p[i], need = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 :
					  c >= 0xf0 && c <= 0xf4 ? 3 : 9;
		uint32_t cp = need == 0 ? c : need == 1 ? c & 0x1f : need == 2 ? c & 0x0f : c & 0x07;

		if (need == 9 || i + need >= n + (need ? 0 : 1))
			return false;
		for (unsigned k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || cp == 0xfffe || cp == 0xffff)
			return false;
		if ((cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7f && cp <= 0x9f))
			return false;
		i += need + 1;
	}
	return true;
}

static const uint8_t hostile[] = "ok line\r\n</system-out><x a='1'>&amp; ]]> \x1b[31mred\x1b[0m \x01\x7f"
	"\xc3\x28 \xed\xa0\x80 \xef\xbf\xbe \xc2\x85 \xf0\x9f\x98\x80 \xc3\xa9\x00tail";

static void test_tap_pass(void)
{
	struct report_result r = { .name = "mbr boots", .outcome = REPORT_PASS, .duration_ns = 1234567890 };

	CHECK_EQ(write_report(REPORT_TAP, &r), 0);
	CHECK_STR(out, "TAP version 13\n1..1\nok 1 - mbr boots\n  ---\n  outcome: pass\n"
		  "  message: \"every --expect matched\"\n  duration_s: 1.234\n  ...\n");
}

static void test_tap_fail(void)
{
	struct report_result r = {
		.name = "a # b \\ c\nd", .outcome = REPORT_TIMEOUT, .duration_ns = 30000000000ULL,
		.detail = "--expect #2 \"MBR OK\" pending", .tail = hostile, .tail_len = sizeof(hostile) - 1,
	};

	CHECK_EQ(write_report(REPORT_TAP, &r), 0);
	CHECK(clean_text(out, out_len));
	/* '#' would start a directive (# SKIP/# TODO); the newline would end the test line. */
	CHECK(strstr(out, "\nnot ok 1 - a \\# b \\\\ c d\n") != NULL);
	CHECK(strstr(out, "  outcome: timeout\n") != NULL);
	CHECK(strstr(out, "  message: \"timed out: --expect #2 \\\"MBR OK\\\" pending\"\n") != NULL);
	CHECK(strstr(out, "  duration_s: 30.000\n") != NULL);
	/* The tail as a literal block: every line indented, CR gone, controls shown as pictures. */
	CHECK(strstr(out, "  serial_tail: |2\n    ok line\n    </system-out>") != NULL);
	CHECK(strstr(out, "\u241b[31mred") != NULL);
	CHECK(strstr(out, "\u2401\u2421") != NULL);
	CHECK(strstr(out, "\ufffd( \ufffd\ufffd\ufffd \ufffd \ufffd \U0001f600 \u00e9\u2400tail\n  ...\n") != NULL);
}

static void test_junit(void)
{
	struct report_result r = {
		.name = "n<&>\"'", .outcome = REPORT_FAIL_ON, .duration_ns = 5000000,
		.detail = "Kernel panic <x>", .tail = hostile, .tail_len = sizeof(hostile) - 1,
	};

	CHECK_EQ(write_report(REPORT_JUNIT, &r), 0);
	CHECK(clean_text(out, out_len));
	CHECK(!strncmp(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"1\" failures=\"1\" errors=\"0\" time=\"0.005\">", 91));
	CHECK(strstr(out, "<testcase classname=\"ckvm\" name=\"n&lt;&amp;&gt;&quot;&apos;\" time=\"0.005\">") != NULL);
	CHECK(strstr(out, "<failure type=\"fail-on\" message=\"a --fail-on pattern matched: Kernel panic &lt;x&gt;\">") != NULL);
	/* Guest markup is text: exactly the writer's own elements exist. */
	CHECK(strstr(out, "&lt;/system-out&gt;&lt;x a=&apos;1&apos;&gt;&amp;amp; ]]&gt;") != NULL);
	CHECK(strstr(out, "]]>") == NULL);
	int opens = 0;
	for (const char *p = out; (p = strchr(p, '<')); p++)
		opens++;
	CHECK_EQ(opens, 11);	/* <?xml, 5 elements opened and closed: testsuites, testsuite, testcase,
				 * failure, system-out */
	CHECK(strstr(out, "</system-out>\n    </testcase>\n  </testsuite>\n</testsuites>\n") != NULL);

	/* A crash is an error, not a failure; a pass has neither and no tail means no system-out. */
	r.outcome = REPORT_CRASH;
	r.tail = NULL;
	r.detail = "triple fault at rip 0x7c1e";
	CHECK_EQ(write_report(REPORT_JUNIT, &r), 0);
	CHECK(strstr(out, "failures=\"0\" errors=\"1\"") != NULL);
	CHECK(strstr(out, "<error type=\"crash\" message=\"the guest crashed: triple fault at rip 0x7c1e\">") != NULL);
	CHECK(strstr(out, "system-out") == NULL);
	r.outcome = REPORT_PASS;
	CHECK_EQ(write_report(REPORT_JUNIT, &r), 0);
	CHECK(strstr(out, "failures=\"0\" errors=\"0\"") != NULL);
	CHECK(strstr(out, "<failure") == NULL && strstr(out, "<error") == NULL);
}

static void test_exit_value(void)
{
	struct report_result r = { .name = "t", .outcome = REPORT_TEST_EXIT, .exit_value = 0x10, .exit_ok = true };
	char line[256];

	CHECK(report_passed(&r));
	CHECK_EQ(write_report(REPORT_TAP, &r), 0);
	CHECK(strstr(out, "\nok 1 - t\n") != NULL);
	CHECK(strstr(out, "  exit_value: 16\n") != NULL);
	CHECK_EQ(report_summary(line, sizeof(line), &r), 0);
	CHECK_STR(line, "ckvm test: PASS t (0.000 s): the guest wrote 16 to the test-exit port");
	r.exit_ok = false;
	CHECK(!report_passed(&r));
	CHECK_EQ(write_report(REPORT_JUNIT, &r), 0);
	CHECK(strstr(out, "<failure type=\"test-exit\" message=\"the guest wrote 16 to the test-exit port\">") != NULL);
}

/* The tail keeps its last REPORT_TAIL_MAX bytes and starts on a whole character. */
static void test_tail_cap(void)
{
	size_t n = REPORT_TAIL_MAX + 101;	/* the cut lands on the second byte of an "é" */
	uint8_t *t = malloc(n);
	struct report_result r = { .name = "t", .outcome = REPORT_EXPECT_NOT_MET, .tail = t, .tail_len = n };

	for (size_t i = 0; i + 1 < n; i += 2) {
		t[i] = 0xc3;
		t[i + 1] = 0xa9;
	}
	memcpy(t + n - 3, "xEZ", 3);
	CHECK_EQ(write_report(REPORT_JUNIT, &r), 0);
	CHECK(clean_text(out, out_len));
	const char *so = strstr(out, "<system-out>");
	CHECK(so != NULL);
	if (so) {
		so += strlen("<system-out>");
		CHECK(!strncmp(so, "\u00e9", 2));	/* not U+FFFD from a cut character */
		CHECK(strstr(so, "\u00e9xEZ</system-out>") != NULL);
		CHECK_EQ((size_t)(strstr(so, "</system-out>") - so), REPORT_TAIL_MAX - 1);
	}
	free(t);
}

static void test_spec_and_summary(void)
{
	enum report_format fmt = REPORT_JUNIT;
	const char *path = "x";
	char line[128];

	CHECK_EQ(report_parse_spec("tap", &fmt, &path), 0);
	CHECK(fmt == REPORT_TAP && path == NULL);
	CHECK_EQ(report_parse_spec("tap:out.tap", &fmt, &path), 0);
	CHECK(fmt == REPORT_TAP);
	CHECK_STR(path, "out.tap");
	CHECK_EQ(report_parse_spec("junit:r/j.xml", &fmt, &path), 0);
	CHECK(fmt == REPORT_JUNIT);
	CHECK_STR(path, "r/j.xml");
	const char *bad[] = { "", "junit", "junit:", "tap:", "TAP", "xml:x", "tapx", NULL };
	for (const char **b = bad; *b; b++)
		CHECK_EQ(report_parse_spec(*b, &fmt, &path), -EINVAL);
	CHECK_EQ(report_parse_spec(NULL, &fmt, &path), -EINVAL);

	struct report_result r = { .name = "boot\x1b]0;pwned\x07", .outcome = REPORT_TIMEOUT,
				   .duration_ns = 30000000000ULL, .detail = "line1\nline2" };
	CHECK_EQ(report_summary(line, sizeof(line), &r), 0);
	CHECK_STR(line, "ckvm test: FAIL boot\u241b]0;pwned\u2407 (30.000 s): timed out: line1 line2");
	CHECK_EQ(report_summary(line, 0, &r), -EINVAL);
	r.outcome = (enum report_outcome)99;
	CHECK_EQ(report_summary(line, sizeof(line), &r), -EINVAL);
	CHECK_EQ(write_report(REPORT_TAP, &r), -EINVAL);
	CHECK_STR(report_outcome_name(REPORT_EXPECT_NOT_MET), "expect-not-met");
	CHECK_STR(report_outcome_name(REPORT_INTERRUPTED), "interrupted");
	CHECK(report_outcome_name((enum report_outcome)7) == NULL);
	/* a pass says what passed when there is a detail, and stays short without one */
	r = (struct report_result){ .name = "t", .outcome = REPORT_PASS, .detail = "2/2 --expect" };
	CHECK_EQ(report_summary(line, sizeof(line), &r), 0);
	CHECK_STR(line, "ckvm test: PASS t (0.000 s): every --expect matched: 2/2 --expect");
	r.detail = NULL;
	CHECK_EQ(report_summary(line, sizeof(line), &r), 0);
	CHECK_STR(line, "ckvm test: PASS t (0.000 s)");
}

/* A stream that fails (a full disk) is -EIO, not success. */
static void test_io_error(void)
{
	struct report_result r = { .name = "t", .outcome = REPORT_PASS };
	FILE *f = fopen("/dev/full", "w");

	if (!f) {
		CHECK(f != NULL);
		return;
	}
	CHECK_EQ(report_write_tap(f, &r), -EIO);
	fclose(f);
}

int main(void)
{
	RUN(test_tap_pass);
	RUN(test_tap_fail);
	RUN(test_junit);
	RUN(test_exit_value);
	RUN(test_tail_cap);
	RUN(test_spec_and_summary);
	RUN(test_io_error);
	free(out);
	return test_summary();
}
