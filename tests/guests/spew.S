/* spew: a 64-bit guest that prints one line to COM1 over and over and never stops by itself, with
 * LSR-polled output like Linux's console. The stop tests (tests/stop) run it against a reader that
 * stalls, then check that every way of stopping ckvm still ends it in time. */
#include "guest.h"

	.section .text.entry, "ax"
	.code64
	.globl	_start
_start:
1:	PUTS64	"spew: the quick brown fox jumps over the lazy dog 0123456789\n"
	jmp	1b
