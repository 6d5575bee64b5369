/* libFuzzer target for `ckvm test`'s matcher (src/osdev/expect.c): the input is up to three --expect
 * and two --fail-on patterns (NUL-terminated), a chunk size, then the serial output, fed in chunks
 * of that size and ended with expect_end. Checks the matcher's invariants: the window stays inside
 * its buffer, the pending index only moves forward, a decided state stays decided; and a second
 * matcher whose patterns are all marked multi-line (so it rescans the whole window every time)
 * agrees on every step, which checks the single-line shortcut and its conservative classification.
 * expect_add refuses back-references and patterns whose compiled size would explode, so glibc's
 * regcomp/regexec stay within libFuzzer's memory and time limits on any pattern.
 * Also runs the --timeout parser on the first pattern. Single-threaded. */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "osdev/expect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAT_MAX 48

static struct expect ex, ref;

static void check(const struct expect *e)
{
	assert(e->len < sizeof(e->win) && e->win[e->len] == '\0');
	assert(e->cons <= e->len);
	assert(e->next <= e->n_ordered);
	assert(e->failed < (int)e->n_fail_on);
	assert(!memchr(e->win, '\r', e->len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char pats[5][PAT_MAX + 1], err[256];
	unsigned n_pat = 0, n_ord, prev_next = 0;
	enum expect_state st, prev = EXPECT_RUNNING;
	size_t chunk;
	uint64_t ns;

	if (size < 2)
		return 0;
	n_ord = data[0] % 4;	/* 0-3 --expect, then up to 2 --fail-on */
	unsigned n_fail = (data[0] >> 2) % 3;
	chunk = 1 + data[1];
	data += 2;
	size -= 2;
	while (n_pat < n_ord + n_fail) {
		const uint8_t *nul = memchr(data, 0, size < PAT_MAX ? size : PAT_MAX);
		size_t n;

		if (!nul)
			return 0;
		n = (size_t)(nul - data);
		memcpy(pats[n_pat], data, n + 1);
		n_pat++;
		data += n + 1;
		size -= n + 1;
	}

	if (n_pat) {
		int r = expect_parse_duration(pats[0], &ns);

		assert(r == 0 || r == -EINVAL || r == -ERANGE);
		assert(r || ns);
	}

	expect_init(&ex);
	expect_init(&ref);
	for (unsigned i = 0; i < n_pat; i++) {
		enum expect_kind kind = i < n_ord ? EXPECT_ORDERED : EXPECT_FAIL_ON;
		int r = expect_add(&ex, kind, pats[i], err, sizeof(err));

		if (r) {
			assert(r == -EINVAL || r == -ENOMEM);
			assert(err[0]);
		} else {
			assert(!expect_add(&ref, kind, pats[i], err, sizeof(err)));
		}
	}
	for (unsigned i = 0; i < ref.n_ordered; i++)
		ref.ordered[i].multiline = true;
	for (unsigned i = 0; i < ref.n_fail_on; i++)
		ref.fail_on[i].multiline = true;
	while (size) {
		size_t n = size < chunk ? size : chunk;

		st = expect_feed(&ex, data, n);
		check(&ex);
		assert(expect_feed(&ref, data, n) == st);
		assert(ref.next == ex.next && ref.failed == ex.failed && ref.cons == ex.cons);
		assert(expect_pending_index(&ex) >= prev_next);
		assert(prev == EXPECT_RUNNING || st == prev);
		assert((st == EXPECT_FAILED) == (expect_failed_index(&ex) >= 0));
		assert((st == EXPECT_FAILED) == (expect_failed_pattern(&ex) != NULL));
		assert(st != EXPECT_PASSED || !expect_pending_pattern(&ex));
		prev_next = expect_pending_index(&ex);
		prev = st;
		data += n;
		size -= n;
	}
	st = expect_end(&ex);
	check(&ex);
	assert(expect_end(&ref) == st && ref.next == ex.next && ref.failed == ex.failed);
	assert(prev == EXPECT_RUNNING || st == prev);
	assert(st != EXPECT_RUNNING || expect_pending_pattern(&ex));
	expect_free(&ex);
	expect_free(&ref);
	return 0;
}
