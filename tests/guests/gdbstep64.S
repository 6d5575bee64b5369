/* gdbstep64: a 64-bit ELF guest for the GDB stub (tests/guests/gdb.sh): register moves to
 * single-step (RAX = 0x11 + 0x22), a short loop before gdb_hw_target (a hardware breakpoint) and
 * gdb_sw_target (a software one), a string to read, a byte the
 * debugger sets to make it spin (for Ctrl-C), then "gdbstep64 OK" and test-exit 0x12 (status
 * 37). Without a debugger it just runs. */
#include "guest.h"

	.section .text.entry, "ax"
	.code64
	.globl	_start
_start:
	mov	$0x11, %eax
	mov	$0x22, %ebx
	add	%ebx, %eax
	mov	$3, %ecx
1:	dec	%ecx
	jnz	1b
	.globl	gdb_hw_target
gdb_hw_target:
	mov	$0x44, %ecx
	nop
	.globl	gdb_sw_target
gdb_sw_target:
	mov	$0x55, %edx
	/* gdb_hold is 0: no wait. gdb_hostile.py sets it, interrupts the spin with Ctrl-C, clears it. */
gdb_spin:
	cmpb	$0, gdb_hold(%rip)
	jne	gdb_spin
	PUTS64	"gdbstep64 OK\n"
	TEST_EXIT 0x12

	.section .data
	.globl	gdb_hold
gdb_hold:
	.byte	0

	.section .rodata
	.globl	gdb_string
gdb_string:
	.asciz	"ckvm gdb memory test"
