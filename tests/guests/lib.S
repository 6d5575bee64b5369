/* Serial output for the 32- and 64-bit test guests: a polled 16550 transmitter (THRE in LSR bit 5).
 * The wait (COM1_PUTC_BL in guest.h) is bounded so a broken LSR garbles the output, not hangs the guest. */
#include "guest.h"

	.text
	.code32
/* puts32: print the NUL-terminated string at %esi. Preserves all registers. */
	.globl	puts32
puts32:
	push	%eax
	push	%ebx
	push	%ecx
	push	%edx
	push	%esi
1:	movb	(%esi), %bl
	test	%bl, %bl
	jz	4f
	COM1_PUTC_BL
	inc	%esi
	jmp	1b
4:	pop	%esi
	pop	%edx
	pop	%ecx
	pop	%ebx
	pop	%eax
	ret

	.code64
/* puts64: print the NUL-terminated string at %rsi. Preserves all registers. */
	.globl	puts64
puts64:
	push	%rax
	push	%rbx
	push	%rcx
	push	%rdx
	push	%rsi
1:	movb	(%rsi), %bl
	test	%bl, %bl
	jz	4f
	COM1_PUTC_BL
	inc	%rsi
	jmp	1b
4:	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rbx
	pop	%rax
	ret

/* fail64: print "FAIL: " and the string at %rsi, then exit with FAIL_CODE. */
	.globl	fail64
fail64:
	push	%rsi
	PUTS64	"FAIL: "
	pop	%rsi
	call	puts64
	PUTS64	"\n"
	TEST_EXIT FAIL_CODE

	.code32
	.globl	fail32
fail32:
	push	%esi
	PUTS32	"FAIL: "
	pop	%esi
	call	puts32
	PUTS32	"\n"
	TEST_EXIT FAIL_CODE
