/* dirty: an ELF64 guest (64-bit entry) for the migration bench and tests: prints "READY", then
 * forever writes the pass number into every 4 KiB page of [32 MiB, 32 MiB + DIRTY_MIB) and prints
 * the pass number (1, 2, 3, ... one a line, as the count guest does), then busy-waits a little. It
 * keeps KVM's dirty log busy, so pre-copy needs rounds; a page left stale by a migration shows as
 * "STALE" (the pass before must be in every page when the next pass begins). */
#include "guest.h"

#define DIRTY_BASE	(32 << 20)
#define DIRTY_MIB	16

	.section .text.entry, "ax"
	.code64
	.globl	_start
_start:
	PUTS64	"READY\n"
	xor	%r12d, %r12d
1:	mov	$DIRTY_BASE, %rsi
	mov	$(DIRTY_BASE + (DIRTY_MIB << 20)), %r10
2:	cmp	(%rsi), %r12		/* every page holds the last pass */
	je	3f
	PUTS64	"STALE\n"
3:	lea	1(%r12), %rax
	mov	%rax, (%rsi)
	add	$4096, %rsi
	cmp	%r10, %rsi
	jb	2b
	inc	%r12
	mov	%r12, %rax
	call	put_dec
	mov	$20000, %r8d
4:	pause
	dec	%r8d
	jnz	4b
	jmp	1b

/* Print %rax in decimal and a newline. Clobbers %rax, %rbx, %rcx, %rdx, %rdi, %r9. */
put_dec:
	lea	digits_end(%rip), %rdi
	mov	$10, %r9
5:	xor	%edx, %edx
	div	%r9
	add	$'0', %dl
	dec	%rdi
	mov	%dl, (%rdi)
	test	%rax, %rax
	jnz	5b
	lea	digits_end(%rip), %r9
6:	movb	(%rdi), %bl
	COM1_PUTC_BL
	inc	%rdi
	cmp	%r9, %rdi
	jne	6b
	mov	$'\n', %bl
	COM1_PUTC_BL
	ret

	.data
digits:		.space	24
digits_end:
