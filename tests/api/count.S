/* count: an ELF64 guest (64-bit entry) that prints "READY", then 1, 2, 3, ... one number a line
 * after a busy-wait, forever. The count lives in a register (%r12) and in memory (count_mem) and
 * every line checks that both agree, so a snapshot restored in a new process must continue at the
 * next number with its registers and RAM intact: a missing or repeated number shows the fault, and
 * a disagreement prints "MISMATCH". Each line goes out one byte at a time through COM1 (IN of the
 * LSR, then OUT): snapshots land between an IN and the instruction that uses its value. */
#include "guest.h"

	.section .text.entry, "ax"
	.code64
	.globl	_start
_start:
	PUTS64	"READY\n"
	xor	%r12d, %r12d
	movq	$0, count_mem(%rip)
1:	inc	%r12
	incq	count_mem(%rip)
	cmp	count_mem(%rip), %r12
	je	3f
	PUTS64	"MISMATCH\n"
3:	mov	%r12, %rax
	call	put_dec
	mov	$20000, %r8d
2:	pause
	dec	%r8d
	jnz	2b
	jmp	1b

/* Print %rax in decimal and a newline. Clobbers %rax, %rbx, %rcx, %rdx, %rdi, %r9. */
put_dec:
	lea	digits_end(%rip), %rdi
	mov	$10, %r9
4:	xor	%edx, %edx
	div	%r9
	add	$'0', %dl
	dec	%rdi
	mov	%dl, (%rdi)
	test	%rax, %rax
	jnz	4b
	lea	digits_end(%rip), %r9
5:	movb	(%rdi), %bl
	COM1_PUTC_BL
	inc	%rdi
	cmp	%r9, %rdi
	jne	5b
	mov	$'\n', %bl
	COM1_PUTC_BL
	ret

	.data
count_mem:	.quad	0
digits:		.space	24
digits_end:
