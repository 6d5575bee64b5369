/* TAP version 13 and JUnit XML reports of one `ckvm test` result (TAP 13: testanything.org/tap-
 * version-13-specification; JUnit: the schema Jenkins, GitLab and GitHub read). Guest output is
 * untrusted: every byte goes through report_put, which decodes UTF-8 strictly and escapes per
 * format. Pure; any thread. */
#include "osdev/report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum esc {
	ESC_XML_TEXT,	/* element content: &<>"' as entities, newlines and tabs kept */
	ESC_XML_ATTR,	/* attribute value: also newline and tab as character references */
	ESC_YAML_BLOCK,	/* a YAML literal block scalar: each line indented by four spaces */
	ESC_YAML_DQ,	/* inside a YAML double-quoted scalar: one line */
	ESC_TAP_NAME,	/* a TAP test line's description: one line, '#' escaped (it starts a directive) */
	ESC_LINE,	/* one line for a terminal: only control characters replaced */
};

#define REPLACEMENT	0xfffd

const char *report_outcome_name(enum report_outcome o)
{
	static const char *const names[] = {
		[REPORT_PASS] = "pass", [REPORT_EXPECT_NOT_MET] = "expect-not-met",
		[REPORT_FAIL_ON] = "fail-on", [REPORT_CRASH] = "crash", [REPORT_TIMEOUT] = "timeout",
		[REPORT_TEST_EXIT] = "test-exit", [REPORT_INTERRUPTED] = "interrupted",
	};

	return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : NULL;
}

bool report_passed(const struct report_result *r)
{
	return r->outcome == REPORT_PASS || (r->outcome == REPORT_TEST_EXIT && r->exit_ok);
}

int report_parse_spec(const char *s, enum report_format *fmt, const char **path)
{
	if (!s)
		return -EINVAL;
	if (!strcmp(s, "tap")) {
		*fmt = REPORT_TAP;
		*path = NULL;
		return 0;
	}
	if (!strncmp(s, "tap:", 4) && s[4]) {
		*fmt = REPORT_TAP;
		*path = s + 4;
		return 0;
	}
	if (!strncmp(s, "junit:", 6) && s[6]) {
		*fmt = REPORT_JUNIT;
		*path = s + 6;
		return 0;
	}
	return -EINVAL;
}

/* One code point from s (n > 0 bytes): strict UTF-8 (no overlong forms, surrogates or values past
 * U+10FFFF). An invalid sequence yields REPLACEMENT for its first byte only. */
static size_t utf8_next(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint8_t b = s[0], lo = 0x80, hi = 0xbf;
	size_t need;
	uint32_t v;

	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	if (b >= 0xc2 && b <= 0xdf) {
		need = 1;
		v = b & 0x1f;
	} else if (b >= 0xe0 && b <= 0xef) {
		need = 2;
		v = b & 0x0f;
		lo = b == 0xe0 ? 0xa0 : 0x80;
		hi = b == 0xed ? 0x9f : 0xbf;
	} else if (b >= 0xf0 && b <= 0xf4) {
		need = 3;
		v = b & 0x07;
		lo = b == 0xf0 ? 0x90 : 0x80;
		hi = b == 0xf4 ? 0x8f : 0xbf;
	} else {
		*cp = REPLACEMENT;
		return 1;
	}
	if (n <= need || s[1] < lo || s[1] > hi) {
		*cp = REPLACEMENT;
		return 1;
	}
	for (size_t i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = REPLACEMENT;
			return 1;
		}
		v = v << 6 | (s[i] & 0x3f);
	}
	*cp = v;
	return need + 1;
}

static void put_cp(FILE *f, uint32_t cp)
{
	char o[4];
	size_t n;

	if (cp < 0x80) {
		o[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		o[0] = (char)(0xf0 | cp >> 18);
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	fwrite(o, 1, n, f);
}

/* Write n untrusted bytes escaped for mode. Control characters become their Unicode control
 * pictures (ESC -> U+241B) so a reader still sees them; CR is dropped (serial lines end in CR LF);
 * C1 controls, U+FFFE/U+FFFF and invalid UTF-8 become U+FFFD: neither XML 1.0 nor YAML allows them. */
static void report_put(FILE *f, const uint8_t *s, size_t n, enum esc mode)
{
	bool one_line = mode == ESC_YAML_DQ || mode == ESC_TAP_NAME || mode == ESC_LINE;
	bool xml = mode == ESC_XML_TEXT || mode == ESC_XML_ATTR;

	while (n) {
		uint32_t cp;
		size_t k = utf8_next(s, n, &cp);

		s += k;
		n -= k;
		if (cp == '\r')
			continue;
		if (cp == '\n' && !one_line) {
			fputs(mode == ESC_XML_ATTR ? "&#10;" : mode == ESC_YAML_BLOCK ? "\n    " : "\n", f);
			continue;
		}
		if (cp == '\t' && mode != ESC_XML_ATTR) {
			fputc('\t', f);
			continue;
		}
		if (cp == '\t' || cp == '\n') {
			fputs(cp == '\t' ? "&#9;" : " ", f);	/* ESC_XML_ATTR tab; one-line newline */
			continue;
		}
		if (cp < 0x20)
			cp += 0x2400;
		else if (cp == 0x7f)
			cp = 0x2421;
		else if ((cp >= 0x80 && cp <= 0x9f) || cp == 0xfffe || cp == 0xffff)
			cp = REPLACEMENT;
		if (xml && (cp == '&' || cp == '<' || cp == '>' || cp == '"' || cp == '\'')) {
			fputs(cp == '&' ? "&amp;" : cp == '<' ? "&lt;" : cp == '>' ? "&gt;" :
			      cp == '"' ? "&quot;" : "&apos;", f);
			continue;
		}
		if ((mode == ESC_YAML_DQ && (cp == '"' || cp == '\\')) ||
		    (mode == ESC_TAP_NAME && (cp == '#' || cp == '\\')))
			fputc('\\', f);
		put_cp(f, cp);
	}
}

static void report_puts(FILE *f, const char *s, enum esc mode)
{
	report_put(f, (const uint8_t *)s, strlen(s), mode);
}

/* The part of the tail a report keeps: its last REPORT_TAIL_MAX bytes, starting on a character. */
static const uint8_t *report_tail(const struct report_result *r, size_t *len)
{
	const uint8_t *t = r->tail;
	size_t n = t ? r->tail_len : 0;

	if (n > REPORT_TAIL_MAX) {
		t += n - REPORT_TAIL_MAX;
		n = REPORT_TAIL_MAX;
		for (int i = 0; i < 3 && n && (*t & 0xc0) == 0x80; i++, t++, n--)
			;
	}
	*len = n;
	return t;
}

/* "timed out", "a --fail-on pattern matched", ...: then ": detail" if there is one. */
static void report_message(FILE *f, const struct report_result *r, enum esc mode)
{
	switch (r->outcome) {
	case REPORT_PASS:		fputs("every --expect matched", f); break;
	case REPORT_EXPECT_NOT_MET:	fputs("the guest stopped before every --expect matched", f); break;
	case REPORT_FAIL_ON:		fputs("a --fail-on pattern matched", f); break;
	case REPORT_CRASH:		fputs("the guest crashed", f); break;
	case REPORT_TIMEOUT:		fputs("timed out", f); break;
	case REPORT_TEST_EXIT:		fprintf(f, "the guest wrote %" PRIu32 " to the test-exit port", r->exit_value); break;
	case REPORT_INTERRUPTED:	fputs("ckvm was stopped by a signal", f); break;
	}
	if (r->detail && *r->detail) {
		fputs(": ", f);
		report_puts(f, r->detail, mode);
	}
}

static const char *report_name(const struct report_result *r)
{
	return r->name && *r->name ? r->name : "ckvm test";
}

/* Seconds with three decimals, without floating point: "12.345". */
static void put_seconds(FILE *f, uint64_t ns)
{
	uint64_t ms = ns / 1000000;

	fprintf(f, "%" PRIu64 ".%03" PRIu64, ms / 1000, ms % 1000);
}

static int report_finish(FILE *f)
{
	if (fflush(f) || ferror(f))
		return -EIO;
	return 0;
}

int report_write_tap(FILE *f, const struct report_result *r)
{
	const uint8_t *tail;
	size_t tail_len;

	if (!report_outcome_name(r->outcome))
		return -EINVAL;
	tail = report_tail(r, &tail_len);
	fprintf(f, "TAP version 13\n1..1\n%s 1 - ", report_passed(r) ? "ok" : "not ok");
	report_puts(f, report_name(r), ESC_TAP_NAME);
	fprintf(f, "\n  ---\n  outcome: %s\n  message: \"", report_outcome_name(r->outcome));
	report_message(f, r, ESC_YAML_DQ);
	fputs("\"\n  duration_s: ", f);
	put_seconds(f, r->duration_ns);
	fputc('\n', f);
	if (r->outcome == REPORT_TEST_EXIT)
		fprintf(f, "  exit_value: %" PRIu32 "\n", r->exit_value);
	if (tail_len) {
		fputs("  serial_tail: |2\n    ", f);	/* explicit indent: the tail may start with spaces */
		report_put(f, tail, tail_len, ESC_YAML_BLOCK);
		fputc('\n', f);
	}
	fputs("  ...\n", f);
	return report_finish(f);
}

int report_write_junit(FILE *f, const struct report_result *r)
{
	bool pass = report_passed(r), error = r->outcome == REPORT_CRASH;
	const char *elem = error ? "error" : "failure";
	const uint8_t *tail;
	size_t tail_len;

	if (!report_outcome_name(r->outcome))
		return -EINVAL;
	tail = report_tail(r, &tail_len);
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites tests=\"1\" failures=\"%d\" errors=\"%d\" time=\"",
		!pass && !error, !pass && error);
	put_seconds(f, r->duration_ns);
	fprintf(f, "\">\n  <testsuite name=\"ckvm\" tests=\"1\" failures=\"%d\" errors=\"%d\" skipped=\"0\" time=\"",
		!pass && !error, !pass && error);
	put_seconds(f, r->duration_ns);
	fputs("\">\n    <testcase classname=\"ckvm\" name=\"", f);
	report_puts(f, report_name(r), ESC_XML_ATTR);
	fputs("\" time=\"", f);
	put_seconds(f, r->duration_ns);
	fputs("\">\n", f);
	if (!pass) {
		fprintf(f, "      <%s type=\"%s\" message=\"", elem, report_outcome_name(r->outcome));
		report_message(f, r, ESC_XML_ATTR);
		fputs("\">", f);
		report_message(f, r, ESC_XML_TEXT);
		fprintf(f, "</%s>\n", elem);
	}
	if (tail_len) {
		/* Escaped text rather than CDATA: a "]]>" in the output cannot end anything. */
		fputs("      <system-out>", f);
		report_put(f, tail, tail_len, ESC_XML_TEXT);
		fputs("</system-out>\n", f);
	}
	fputs("    </testcase>\n  </testsuite>\n</testsuites>\n", f);
	return report_finish(f);
}

int report_summary(char *buf, size_t len, const struct report_result *r)
{
	FILE *f;
	char *text = NULL;
	size_t text_len = 0;
	int ret = 0;

	if (!report_outcome_name(r->outcome) || !len)
		return -EINVAL;
	f = open_memstream(&text, &text_len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "ckvm test: %s ", report_passed(r) ? "PASS" : "FAIL");
	report_puts(f, report_name(r), ESC_LINE);
	fputs(" (", f);
	put_seconds(f, r->duration_ns);
	fputs(" s)", f);
	if (!report_passed(r) || r->outcome == REPORT_TEST_EXIT || (r->detail && *r->detail)) {
		fputs(": ", f);
		report_message(f, r, ESC_LINE);
	}
	if (fclose(f) || !text)
		ret = -ENOMEM;
	else
		snprintf(buf, len, "%s", text);
	free(text);
	return ret;
}
