/* tick: an ELF64 guest (64-bit entry) that prints "READY", then a '.' after every busy-wait
 * forever: its serial output stops while the VM is paused and goes on after resume. */
#include "guest.h"

	.section .text.entry, "ax"
	.code64
	.globl	_start
_start:
	PUTS64	"READY\n"
1:	mov	$'.', %bl
	COM1_PUTC_BL
	mov	$2000, %r8d
2:	pause
	dec	%r8d
	jnz	2b
	jmp	1b
