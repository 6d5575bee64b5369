/* 64-bit entry for the C test guests: interrupts off, own stack, call guest_main(), then leave
 * through the test-exit port with the value it returns. */
#include "guest.h"

	.section .text.entry, "ax"
	.code64
	.globl	_start
_start:
	cli
	lea	stack_top(%rip), %rsp
	call	guest_main
	mov	$PORT_TEST_EXIT, %dx
	out	%al, (%dx)
1:	cli
	hlt
	jmp	1b

	.bss
	.balign	16
	.skip	16384
stack_top:
