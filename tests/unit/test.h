/* Minimal unit-test harness: CHECK() counts, each test binary ends with "N passed, N failed"
 * and exits non-zero on any failure. Every assertion is counted, so a test that checks nothing shows 0. */
#ifndef CKVM_TEST_H
#define CKVM_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int t_pass, t_fail;
static const char *t_name;

#define CHECK(cond) do {                                                        \
		if (cond) { t_pass++; }                                         \
		else { t_fail++; printf("FAIL %s: %s:%d: %s\n", t_name, __FILE__, __LINE__, #cond); } \
	} while (0)

#define CHECK_EQ(a, b) do {                                                     \
		unsigned long long ca_ = (unsigned long long)(a), cb_ = (unsigned long long)(b); \
		if (ca_ == cb_) { t_pass++; }                                   \
		else { t_fail++; printf("FAIL %s: %s:%d: %s == %s (0x%llx != 0x%llx)\n", t_name, \
					__FILE__, __LINE__, #a, #b, ca_, cb_); }        \
	} while (0)

#define CHECK_STR(a, b) do {                                                    \
		const char *sa_ = (a), *sb_ = (b);                              \
		if (sa_ && sb_ && !strcmp(sa_, sb_)) { t_pass++; }              \
		else { t_fail++; printf("FAIL %s: %s:%d: \"%s\" != \"%s\"\n", t_name, __FILE__, \
					__LINE__, sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)"); } \
	} while (0)

#define RUN(fn) do { int f_ = t_fail; t_name = #fn; fn();                       \
		printf("%s %s\n", t_fail == f_ ? "ok  " : "FAIL", #fn); } while (0)

static inline int test_summary(void)
{
	printf("%d passed, %d failed\n", t_pass, t_fail);
	return t_fail || !t_pass ? 1 : 0;
}

#endif
