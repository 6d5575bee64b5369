/* wait: an ELF64 guest (64-bit entry) that prints "READY" and then halts with interrupts off, so the
 * VM keeps running (and holding its disk locks) at no CPU cost until ckvm is stopped by a signal.
 * tests/cli/run.sh starts it as the "other ckvm" of the lock tests. */
#include "guest.h"

	.section .text.entry, "ax"
	.code64
	.globl	_start
_start:
	PUTS64	"READY\n"
1:	cli
	hlt
	jmp	1b
