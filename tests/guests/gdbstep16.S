/* gdbstep16: a raw real-mode guest for the GDB stub (tests/guests/gdb.sh): three register moves to
 * single-step (AX = 0x1234 + 0x5678 = 0x68ac), a string at a known address to read, then "real OK"
 * on COM1 and `hlt` (status 0). Without a debugger it just runs. Entered at 0x1000 with CS = 0. */
#include "guest.h"

	.code16
	.text
	.globl	_start
_start:
	mov	$0x1234, %ax
	mov	$0x5678, %bx
	add	%bx, %ax
	mov	$COM1, %dx
	.irp	c, 'r', 'e', 'a', 'l', ' ', 'O', 'K', '\n'
	mov	$\c, %al
	out	%al, (%dx)
	.endr
	cli
	hlt
	jmp	_start

	.balign	16
	.globl	gdb16_string
gdb16_string:	/* gdb.sh finds it with nm in gdbstep16.rom.elf */
	.asciz	"real-mode string"
