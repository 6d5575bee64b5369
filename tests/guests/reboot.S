/* reboot: real mode, flat binary at 0x1000. Prints a line, then asks the i8042 for a CPU reset
 * (command 0xFE on port 0x64); ckvm treats that as a guest reboot and exits 0. */
#include "guest.h"

	.code16
	.text
	.globl	_start
_start:
	mov	$COM1, %dx
	.irp	c, 'r', 'e', 'b', 'o', 'o', 't', '\n'
	mov	$\c, %al
	out	%al, (%dx)
	.endr
	mov	$0xfe, %al
	out	%al, $PORT_I8042_CMD
	/* still here: the reset was ignored; say so and stop with a failure status */
	mov	$COM1, %dx
	.irp	c, 'F', 'A', 'I', 'L', '\n'
	mov	$\c, %al
	out	%al, (%dx)
	.endr
	mov	$FAIL_CODE, %al
	mov	$PORT_TEST_EXIT, %dx
	out	%al, (%dx)
1:	cli
	hlt
	jmp	1b
