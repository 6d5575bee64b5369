/* serial64: an ELF64 without a PVH note, so ckvm enters it in 64-bit long mode at e_entry.
 * Checks it really is in long mode with paging (CR0.PG, CR4.PAE, EFER.LMA), prints "64-bit OK"
 * with LSR-polled output, exits through the test-exit port with 0x10 (status 33). */
#include "guest.h"

	.section .text.entry, "ax"
	.code64
	.globl	_start
_start:
	mov	%cr0, %rax
	bt	$31, %rax
	jnc	no_pg
	mov	%cr4, %rax
	bt	$5, %rax
	jnc	no_pae
	mov	$0xc0000080, %ecx
	rdmsr
	bt	$10, %eax
	jnc	no_lma
	PUTS64	"64-bit OK\n"
	TEST_EXIT 0x10

no_pg:	lea	msg_pg(%rip), %rsi
	jmp	fail64
no_pae:	lea	msg_pae(%rip), %rsi
	jmp	fail64
no_lma:	lea	msg_lma(%rip), %rsi
	jmp	fail64

	.section .rodata
msg_pg:	.asciz	"CR0.PG clear"
msg_pae: .asciz	"CR4.PAE clear"
msg_lma: .asciz	"EFER.LMA clear"
