/* Macros for the `ckvm test` guests (tests/cli/tm_*.S): flat 16-bit real-mode binaries entered at
 * linear 0x1000 with any CS:IP reaching it, so strings are found through the return address of a
 * call (no absolute data references). */
#include "guest.h"

/* Print a string literal on COM1 (no LSR wait: ckvm's UART takes every byte). Clobbers AL, DX, SI. */
.macro PUTS16 str
	call	9f
	.asciz	"\str"
9:	pop	%si
	mov	$COM1, %dx
8:	mov	%cs:(%si), %al
	test	%al, %al
	jz	7f
	out	%al, (%dx)
	inc	%si
	jmp	8b
7:
.endm

/* Spin forever: only ckvm (a match, the timeout) ends the VM. */
.macro SPIN16
6:	jmp	6b
.endm
