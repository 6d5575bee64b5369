/* `ckvm test`'s output matcher: ordered --expect and any-time --fail-on POSIX EREs over a bounded
 * window of the serial output, fed in chunks of any size (see expect.h for what a match sees), and
 * the --timeout duration parser. Runs on the test runner's thread; no locks. */
#include "osdev/expect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void expect_init(struct expect *e)
{
	memset(e, 0, sizeof(*e));
	e->failed = -1;
	e->bol = true;
}

/* Can this ERE match a newline under REG_NEWLINE? Conservative: "yes" unless clearly not. With
 * REG_NEWLINE, `.` and `[^...]` never match one (POSIX), and in the C locale (ckvm never calls
 * setlocale) a matching list holds one only through a byte <= '\n' (itself or a range start), the
 * [:space:] / [:cntrl:] classes, or an equivalence class / collating symbol. Outside brackets glibc
 * gives meaning to a backslash before letters (\s is a space class); before punctuation it is a
 * literal. */
static bool regex_multiline(const char *re)
{
	for (const char *p = re; *p; p++) {
		if (*p == '\n')
			return true;
		if (*p == '\\') {
			if (!p[1])
				return false;
			p++;
			if (*p == '\n')
				return true;	/* an escaped newline is still one */
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))
				if (*p != 'w' && *p != 'b' && *p != 'B')
					return true;
			continue;
		}
		if (*p != '[')
			continue;
		/* a bracket expression: up to the first ']' after its first character */
		bool negated = p[1] == '^';
		const char *q = p + 1 + negated;

		if (*q == ']')
			q++;
		for (; *q && *q != ']'; q++) {
			if (*q == '[' && (q[1] == ':' || q[1] == '=' || q[1] == '.')) {
				const char *close = strchr(q + 2, q[1]);

				if (!negated && (q[1] != ':' || !strncmp(q, "[:space:]", 9) ||
						 !strncmp(q, "[:cntrl:]", 9)))
					return true;
				if (!close || close[1] != ']')
					return true;	/* malformed: regcomp refuses it anyway */
				q = close + 1;
			} else if (!negated && (unsigned char)*q <= '\n') {
				return true;
			}
		}
		if (!*q)
			return true;
		p = q;
	}
	return false;
}

/* The end of the bracket expression opening at re[0] == '[' (at its ']'), or NULL if unclosed. */
static const char *bracket_end(const char *re)
{
	const char *q = re + 1;

	q += *q == '^';
	if (*q == ']')
		q++;
	for (; *q && *q != ']'; q++) {
		if (*q == '[' && (q[1] == ':' || q[1] == '=' || q[1] == '.')) {
			const char *close = strchr(q + 2, q[1]);

			if (!close || close[1] != ']')
				return NULL;
			q = close + 1;
		}
	}
	return *q ? q : NULL;
}

/* Whether glibc's regcomp stays cheap on re. It copies a subexpression for each repetition ("a+" as
 * "aa*", "a{3,5}" as five copies) and computes epsilon closures over the copies, so repetitions
 * nested in repetitions grow geometrically or worse: "a++++++++++++++++++++++++" takes gigabytes,
 * "(((a*){1,8}){1,8})*" minutes. Refused: a quantifier right after a quantifier (undefined in POSIX
 * anyway), repetitions nested more than two deep, and an expanded size over REGEX_COST_MAX nodes, each
 * quantifier multiplying what it applies to by its bound + 1. "([0-9]+\.){3}" is fine. */
#define REGEX_COST_MAX	1024u
#define REGEX_NEST_MAX	2
#define REGEX_DEPTH_MAX	32

struct regex_frame {
	unsigned alts, cur, last;	/* size of the finished alternatives, this one, its last item */
	int nest, last_nest;		/* repetition depth inside the frame, of its last item */
};

static bool regex_cheap(const char *re)
{
	struct regex_frame st[REGEX_DEPTH_MAX + 1] = { { 0, 0, 0, 0, 0 } }, *f = st;
	bool prev_quant = false;

	for (const char *p = re; *p; p++) {
		unsigned long mult = 0;

		if (*p == '(') {
			if (f == st + REGEX_DEPTH_MAX)
				return false;
			*++f = (struct regex_frame){ 0, 0, 0, 0, 0 };
		} else if (*p == ')' && f > st) {
			unsigned inner = f->alts + f->cur + 1;
			int nest = f->nest;

			f--;
			f->last = inner;
			f->cur += inner;
			f->last_nest = nest;
		} else if (*p == '|') {
			f->alts += f->cur;
			f->cur = f->last = 0;
			f->last_nest = 0;
		} else if (*p == '*' || *p == '+' || *p == '?') {
			mult = 2;
		} else if (*p == '{' && ((p[1] >= '0' && p[1] <= '9') || p[1] == ',')) {	/* glibc takes {,n} */
			for (p++; (*p >= '0' && *p <= '9') || *p == ','; p++)
				if (*p != ',')
					mult = mult > REGEX_COST_MAX ? mult : mult * 10 + (unsigned)(*p - '0');
			if (*p != '}')
				return false;	/* regcomp refuses it anyway */
			mult++;
		} else {
			if (*p == '[' && !(p = bracket_end(p)))
				return false;
			if (*p == '\\' && p[1])
				p++;
			f->last = 1;
			f->cur++;
			f->last_nest = 0;
		}
		if (mult) {
			unsigned long grown = (unsigned long)f->last * (mult > REGEX_COST_MAX ? REGEX_COST_MAX + 1 : mult);

			if (prev_quant || ++f->last_nest > REGEX_NEST_MAX || grown > REGEX_COST_MAX)
				return false;
			f->cur = f->cur - f->last + (unsigned)grown;
			f->last = (unsigned)grown;
		}
		prev_quant = mult != 0;
		if (f->last_nest > f->nest)
			f->nest = f->last_nest;
		if (f->cur > REGEX_COST_MAX || f->alts > REGEX_COST_MAX)
			return false;
	}
	return f->alts + f->cur <= REGEX_COST_MAX;	/* an unclosed '(' is regcomp's to report */
}

int expect_add(struct expect *e, enum expect_kind kind, const char *regex, char *err, size_t err_len)
{
	const char *opt = kind == EXPECT_ORDERED ? "--expect" : "--fail-on";
	struct expect_pat *pat;
	unsigned *n;
	int flags = REG_EXTENDED | REG_NEWLINE, rc;

	if (kind == EXPECT_ORDERED) {
		pat = e->ordered;
		n = &e->n_ordered;
	} else {
		pat = e->fail_on;
		n = &e->n_fail_on;
		flags |= REG_NOSUB;	/* only "did it match" matters: regexec can skip the offsets */
	}
	if (!regex || !*regex) {
		snprintf(err, err_len, "%s: an empty pattern matches anything; give a regular expression", opt);
		return -EINVAL;
	}
	if (*n >= EXPECT_PATTERNS_MAX) {
		snprintf(err, err_len, "%s: at most %d patterns", opt, EXPECT_PATTERNS_MAX);
		return -EINVAL;
	}
	for (const char *b = strchr(regex, '\\'); b && b[1]; b = strchr(b + 2, '\\')) {
		if (b[1] >= '1' && b[1] <= '9') {
			/* glibc's back-references can take exponential time; POSIX EREs have none */
			snprintf(err, err_len, "%s '%s': back-references (\\%c) are not supported", opt, regex, b[1]);
			return -EINVAL;
		}
	}
	if (!regex_cheap(regex)) {
		snprintf(err, err_len, "%s '%s': repetitions too deeply nested, stacked or large for the regex "
			 "library (at most %d levels, %u expanded items)", opt, regex, REGEX_NEST_MAX, REGEX_COST_MAX);
		return -EINVAL;
	}
	pat += *n;
	rc = regcomp(&pat->re, regex, flags);
	if (rc) {
		char why[128];

		regerror(rc, &pat->re, why, sizeof(why));
		snprintf(err, err_len, "%s '%s': not a POSIX extended regular expression: %s", opt, regex, why);
		return rc == REG_ESPACE ? -ENOMEM : -EINVAL;
	}
	pat->multiline = regex_multiline(regex);
	pat->src = strdup(regex);
	if (!pat->src) {
		regfree(&pat->re);
		snprintf(err, err_len, "%s: out of memory", opt);
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

enum expect_state expect_state(const struct expect *e)
{
	if (e->failed >= 0)
		return EXPECT_FAILED;
	/* With no --expect at all there is nothing to wait for; the output's end (or the runner's
	 * other outcomes) decides, so the list counts as met only once the output is complete. */
	if (e->next == e->n_ordered && (e->n_ordered || e->ended))
		return EXPECT_PASSED;
	return EXPECT_RUNNING;
}

static bool at_line_start(const struct expect *e, size_t pos)
{
	return pos ? e->win[pos - 1] == '\n' : e->bol;
}

/* Search the window after new text arrived in the line starting at win[line]. The --fail-on patterns have seen all the
 * older text without a match, so a match now involves the new text: one that cannot cross a newline
 * lies in that line or after it. The pending --expect likewise searches from the end
 * of the previous match or that line, whichever is later; once it matches, the next one has seen
 * nothing and searches from the end of that match. */
static void expect_scan(struct expect *e, size_t line)
{
	int eol = e->ended ? 0 : REG_NOTEOL;
	bool seen = true;
	size_t from;
	regmatch_t m;

	for (unsigned i = 0; i < e->n_fail_on; i++) {
		from = e->fail_on[i].multiline ? 0 : line;
		if (!regexec(&e->fail_on[i].re, e->win + from, 0, NULL,
			     eol | (at_line_start(e, from) ? 0 : REG_NOTBOL))) {
			e->failed = (int)i;
			return;
		}
	}
	while (e->next < e->n_ordered) {
		const struct expect_pat *pat = &e->ordered[e->next];

		from = e->cons;
		if (seen && !pat->multiline && line > from)
			from = line;
		if (regexec(&pat->re, e->win + from, 1, &m, eol | (at_line_start(e, from) ? 0 : REG_NOTBOL)))
			break;
		e->cons = from + (size_t)m.rm_eo;
		e->next++;
		seen = false;
	}
}

/* Keep the last EXPECT_MATCH_MAX - 1 bytes: enough for a match of EXPECT_MATCH_MAX bytes that ends
 * in the next chunk. Older text, and the consumed part before it, cannot be part of one. */
static void expect_trim(struct expect *e)
{
	size_t keep = EXPECT_MATCH_MAX - 1, drop;

	if (e->len <= keep)
		return;
	drop = e->len - keep;
	e->bol = at_line_start(e, drop);
	memmove(e->win, e->win + drop, keep);
	e->len = keep;
	e->win[keep] = '\0';
	e->cons = e->cons > drop ? e->cons - drop : 0;
	e->line = e->line > drop ? e->line - drop : 0;
}

enum expect_state expect_feed(struct expect *e, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len && expect_state(e) == EXPECT_RUNNING) {
		/* At most EXPECT_MATCH_MAX new bytes per pass: with the kept tail it fits in win. */
		size_t n = len < EXPECT_MATCH_MAX ? len : EXPECT_MATCH_MAX, before = e->len;
		size_t line = e->line;

		for (size_t i = 0; i < n; i++) {
			/* regexec stops at a NUL, and serial lines end in CR LF: drop both (expect.h). */
			if (p[i] && p[i] != '\r')
				e->win[e->len++] = (char)p[i];
			if (p[i] == '\n')
				e->line = e->len;
		}
		e->win[e->len] = '\0';
		e->fed += n;
		p += n;
		len -= n;
		if (e->len != before)
			expect_scan(e, line);
		expect_trim(e);
	}
	return expect_state(e);
}

enum expect_state expect_end(struct expect *e)
{
	if (!e->ended && expect_state(e) == EXPECT_RUNNING) {
		e->ended = true;
		expect_scan(e, e->line);	/* `$` may now match at the very end */
	}
	e->ended = true;
	return expect_state(e);
}

unsigned expect_pending_index(const struct expect *e)
{
	return e->next;
}

const char *expect_pending_pattern(const struct expect *e)
{
	return e->next < e->n_ordered ? e->ordered[e->next].src : NULL;
}

int expect_failed_index(const struct expect *e)
{
	return e->failed;
}

const char *expect_failed_pattern(const struct expect *e)
{
	return e->failed >= 0 ? e->fail_on[e->failed].src : NULL;
}

void expect_free(struct expect *e)
{
	for (unsigned i = 0; i < e->n_ordered; i++) {
		regfree(&e->ordered[i].re);
		free(e->ordered[i].src);
	}
	for (unsigned i = 0; i < e->n_fail_on; i++) {
		regfree(&e->fail_on[i].re);
		free(e->fail_on[i].src);
	}
	e->n_ordered = e->n_fail_on = 0;
}

int expect_parse_duration(const char *s, uint64_t *ns)
{
	static const struct { const char *suffix; uint64_t ns; } units[] = {
		{ "", 1000000000ULL }, { "s", 1000000000ULL }, { "ms", 1000000ULL },
		{ "m", 60000000000ULL }, { "h", 3600000000000ULL },
	};
	uint64_t v = 0;
	bool too_big = false;
	const char *p = s;

	if (!s || *p < '0' || *p > '9')
		return -EINVAL;	/* also rejects a sign or leading white space, which strtoull would take */
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			too_big = true;
		else
			v = v * 10 + d;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].suffix))
			continue;
		if (too_big || v > UINT64_MAX / units[i].ns)
			return -ERANGE;
		if (!v)
			return -EINVAL;
		*ns = v * units[i].ns;
		return 0;
	}
	return -EINVAL;
}
