/* int3: 64-bit guest with its own IDT. Vector 3 (#BP, a trap) prints "BP handler", checks the
 * saved RIP is the instruction after int3, and returns with iretq; any other exception fails.
 * On software KVM hosts ckvm injects #BP itself; on real hardware the CPU delivers it. */
#include "guest.h"

#define NVEC 32

	.section .text.entry, "ax"
	.code64
	.globl	_start
_start:
	mov	$0x8000, %esp
	mov	%cs, %ecx		/* whatever selector the loader gave us */
	lea	idt(%rip), %rdi
	lea	unexpected(%rip), %rax
	mov	$NVEC, %ebx
1:	call	set_gate
	add	$16, %rdi
	dec	%ebx
	jnz	1b
	lea	idt + 3 * 16(%rip), %rdi
	lea	bp_handler(%rip), %rax
	call	set_gate
	lidt	idt_desc(%rip)

	int3
after_int3:
	cmpl	$1, bp_count(%rip)
	jne	bad_count
	PUTS64	"INT3 OK\n"
	TEST_EXIT 0x13

bad_count:
	lea	msg_count(%rip), %rsi
	jmp	fail64

/* set_gate: 64-bit interrupt gate at %rdi for handler %rax, code selector %cx. Preserves %rax. */
set_gate:
	push	%rax
	mov	%ax, (%rdi)
	mov	%cx, 2(%rdi)
	movw	$0x8e00, 4(%rdi)	/* present, DPL 0, type 0xE (64-bit interrupt gate), IST 0 */
	shr	$16, %rax
	mov	%ax, 6(%rdi)
	shr	$16, %rax
	mov	%eax, 8(%rdi)
	movl	$0, 12(%rdi)
	pop	%rax
	ret

bp_handler:
	push	%rax
	lea	after_int3(%rip), %rax
	cmp	%rax, 8(%rsp)		/* #BP is a trap without error code: saved RIP is next insn */
	pop	%rax
	jne	bad_rip
	incl	bp_count(%rip)
	PUTS64	"BP handler\n"
	iretq
bad_rip:
	lea	msg_rip(%rip), %rsi
	jmp	fail64

unexpected:
	lea	msg_unexp(%rip), %rsi
	jmp	fail64

	.section .rodata
msg_count: .asciz "#BP handler did not run exactly once"
msg_rip: .asciz	"#BP frame RIP is not the instruction after int3"
msg_unexp: .asciz "unexpected exception (not #BP)"
	.balign	8
idt_desc:
	.word	NVEC * 16 - 1
	.quad	idt

	.bss
	.balign	16
idt:	.skip	NVEC * 16
bp_count: .long	0
