/* boottime: the boot markers. POST codes 0x42, 0x42, 0x43 on port 0x80; the debug console must read
 * back 0xe9 at ports 0xe9 and 0x402 and takes one line on each; the boot timer gets its magic 123 by
 * MMIO at 0xfe000000, then non-magic writes it must ignore, then the magic on port 0x504, so ckvm logs
 * "signal 2" for the port. Exits with 0x15 (status 43). Run with --boot-timer --debug-console. */
#include "guest.h"

#define PORT_POST		0x80
#define PORT_DEBUGCON		0xe9
#define PORT_DEBUGCON_SEABIOS	0x402
#define PORT_BOOT_TIMER		0x504
#define BOOT_TIMER_GPA		0xfe000000
#define BOOT_TIMER_MAGIC	123

/* Check that port \port reads back 0xe9, as QEMU's isa-debugcon does. */
.macro CHECK_READBACK port
	mov	$\port, %dx
	inb	(%dx), %al
	cmp	$0xe9, %al
	lea	995f(%rip), %rsi
	jne	fail64
	.pushsection .rodata
995:	.asciz	"port \port did not read back 0xe9"
	.popsection
.endm

	.section .text.entry, "ax"
	.code64
	.globl	_start
_start:
	mov	$0x8000, %esp
	mov	$0x42, %al
	out	%al, $PORT_POST
	out	%al, $PORT_POST
	mov	$0x43, %al
	out	%al, $PORT_POST

	CHECK_READBACK PORT_DEBUGCON
	CHECK_READBACK PORT_DEBUGCON_SEABIOS
	mov	$PORT_DEBUGCON, %dx
	lea	msg_e9(%rip), %rsi
	call	dputs
	mov	$PORT_DEBUGCON_SEABIOS, %dx
	lea	msg_402(%rip), %rsi
	call	dputs

	mov	$BOOT_TIMER_GPA, %ebx
	movb	$BOOT_TIMER_MAGIC, (%rbx)	/* signal 1 */
	movb	$BOOT_TIMER_MAGIC, 1(%rbx)	/* wrong offset */
	movw	$BOOT_TIMER_MAGIC, (%rbx)	/* wrong width */
	movb	$0x7a, (%rbx)			/* wrong value */
	mov	$PORT_BOOT_TIMER, %dx
	mov	$BOOT_TIMER_MAGIC, %al
	out	%al, (%dx)			/* signal 2 */
	PUTS64	"BOOTTIME OK\n"
	TEST_EXIT 0x15

/* dputs: write the NUL-terminated string at %rsi to port %dx, a byte at a time. */
dputs:
	movb	(%rsi), %al
	test	%al, %al
	jz	1f
	out	%al, (%dx)
	inc	%rsi
	jmp	dputs
1:	ret

	.section .rodata
msg_e9:	.asciz	"debugcon 0xe9 OK\n"
msg_402: .asciz	"debugcon 0x402 OK\n"
