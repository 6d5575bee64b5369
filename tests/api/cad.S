/* cad: an ELF64 guest that prints "READY" and polls the i8042 (status 0x64, data 0x60) with
 * interrupts off until the scancodes of Ctrl+Alt+Del arrive in scan code set 1 (the controller
 * translates by default): then "CAD" and test-exit 0x21 (status 67). A wrong byte: FAIL_CODE. */
#include "guest.h"

#define PORT_I8042_DATA	0x60
#define STATUS_OBF	0x01

	.section .text.entry, "ax"
	.code64
	.globl	_start
_start:
	cli
	PUTS64	"READY\n"
	lea	expected(%rip), %rdi
	mov	$8, %r9d
1:	mov	$PORT_I8042_CMD, %dx
2:	in	(%dx), %al
	test	$STATUS_OBF, %al
	jz	2b
	mov	$PORT_I8042_DATA, %dx
	in	(%dx), %al
	cmp	(%rdi), %al
	jne	3f
	inc	%rdi
	dec	%r9d
	jnz	1b
	PUTS64	"CAD\n"
	TEST_EXIT 0x21
3:	TEST_EXIT FAIL_CODE

	.section .rodata
expected:
	.byte	0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d
