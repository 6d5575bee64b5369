/* tm_failon: boots, reports a panic, then spins: `--fail-on PANIC` must end it at once. */
#include "tm16.h"

	.code16
	.text
	.globl	_start
_start:
	PUTS16	"boot: ok\n"
	PUTS16	"PANIC: page fault at 0xdeadbeef\n"
	PUTS16	"selftest: 3 of 3 passed\n"
	SPIN16
