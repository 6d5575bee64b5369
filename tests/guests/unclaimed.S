/* unclaimed: 64-bit guest poking at I/O ports and MMIO nobody claims. Reads must return all-ones
 * at every width (1, 2, 4, 8 bytes), writes must vanish, and the VMM must keep running. Includes a
 * 2-byte port access at 0xffff that runs off the end of the 64 KiB port space. */
#include "guest.h"

#define MMIO_HOLE 0xd0000000		/* inside the 32-bit PCI window, no BAR there */

/* read port \port with width \w (b/w/l) and compare with all-ones */
.macro CHECK_IN w, port
	mov	$\port, %dx
	mov	$0x5a5a5a5a, %eax
	.ifc \w, b
	inb	(%dx), %al
	cmp	$0xff, %al
	.endif
	.ifc \w, w
	inw	(%dx), %ax
	cmp	$0xffff, %ax
	.endif
	.ifc \w, l
	inl	(%dx), %eax
	cmp	$0xffffffff, %eax
	.endif
	lea	992f(%rip), %rsi
	jne	fail64
	.pushsection .rodata
992:	.asciz	"in\w \port did not read all-ones"
	.popsection
.endm

.macro CHECK_MMIO insn, reg, ones, off
	mov	$MMIO_HOLE + \off, %ebx
	\insn	(%rbx), \reg
	cmp	$\ones, \reg
	lea	993f(%rip), %rsi
	jne	fail64
	.pushsection .rodata
993:	.asciz	"MMIO read (\insn) at hole+\off did not return all-ones"
	.popsection
.endm

	.section .text.entry, "ax"
	.code64
	.globl	_start
_start:
	mov	$0x8000, %esp
	/* writes to nothing, every width */
	mov	$0xa5a5a5a5, %eax
	out	%al, $0x80
	mov	$0x1234, %dx
	outb	%al, (%dx)
	outw	%ax, (%dx)
	outl	%eax, (%dx)
	mov	$0xfff0, %dx
	outl	%eax, (%dx)
	mov	$0xffff, %dx
	outw	%ax, (%dx)
	/* reads from nothing */
	CHECK_IN b, 0x1234
	CHECK_IN w, 0x1234
	CHECK_IN l, 0x1234
	CHECK_IN b, 0xfff0
	CHECK_IN w, 0xfff0
	CHECK_IN l, 0xfff0
	CHECK_IN l, 0xfffc
	mov	$0xffff, %dx		/* runs off the port space: survive it, value unchecked */
	inw	(%dx), %ax
	mov	%ax, last_port_word(%rip)
	CHECK_IN b, 0x2f8		/* COM2: not on this board */
	PUTS64	"ports OK\n"

	/* MMIO: write, then read back at every width */
	mov	$MMIO_HOLE, %ebx
	movl	$0x12345678, (%rbx)
	movq	$0, 8(%rbx)
	CHECK_MMIO movb, %al, 0xff, 0
	CHECK_MMIO movw, %ax, 0xffff, 2
	CHECK_MMIO movl, %eax, 0xffffffff, 4
	mov	$-1, %rcx
	mov	$MMIO_HOLE + 8, %ebx
	cmp	(%rbx), %rcx
	lea	msg_q(%rip), %rsi
	jne	fail64
	PUTS64	"mmio OK\n"
	PUTS64	"UNCLAIMED OK\n"
	TEST_EXIT 0x12

	.bss
last_port_word: .word 0
	.section .rodata
msg_q:	.asciz	"8-byte MMIO read at hole+8 did not return all-ones"
