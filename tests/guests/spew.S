/* spew: a 64-bit guest that prints one line over and over and never stops by itself: to COM1 with
 * LSR-polled output like Linux's console, then to the debug console port 0xe9 (an unclaimed port
 * unless --debug-console). The stop tests (tests/stop) run it against a reader that stalls, then
 * check that every way of stopping ckvm still ends it in time. */
#include "guest.h"

#define PORT_DEBUGCON	0xe9

	.section .text.entry, "ax"
	.code64
	.globl	_start
_start:
1:	lea	line(%rip), %rsi
	call	puts64
	lea	line(%rip), %rsi
	mov	$PORT_DEBUGCON, %dx
2:	lodsb
	test	%al, %al
	jz	1b
	out	%al, (%dx)
	jmp	2b

	.section .rodata
line:	.asciz	"spew: the quick brown fox jumps over the lazy dog 0123456789\n"
