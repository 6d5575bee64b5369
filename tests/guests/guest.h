/* Shared constants and assembler macros for the tiny test guests (GNU as, included from .S files).
 * Port numbers follow src/arch/x86/layout.h; the guests are plain asm so they carry their own copy. */
#ifndef GUEST_H
#define GUEST_H

#define COM1		0x3f8
#define COM1_LSR	(COM1 + 5)
#define LSR_THRE	0x20
#define PORT_TEST_EXIT	0x501		/* value V ends the VM with status (V << 1) | 1 */
#define PORT_I8042_CMD	0x64
#define FAIL_CODE	0x70		/* every guest's "check failed" value: status 225 */
#define HVM_START_MAGIC	0x336ec578
#define XEN_ELFNOTE_PHYS32_ENTRY 18

#ifdef __ASSEMBLER__
/* End the VM through the test-exit port (1-byte write); halt if the port is not there. */
.macro TEST_EXIT val
	mov	$\val, %al
	mov	$PORT_TEST_EXIT, %dx
	out	%al, (%dx)
990:	cli
	hlt
	jmp	990b
.endm

/* Xen PVH entry note: a 32-bit protected-mode entry point (PVH boot ABI). */
.macro PVH_NOTE entry
	.pushsection .note.Xen, "a", @note
	.balign	4
	.long	4			/* namesz: "Xen\0" */
	.long	4			/* descsz */
	.long	XEN_ELFNOTE_PHYS32_ENTRY
	.asciz	"Xen"
	.balign	4
	.long	\entry
	.balign	4
	.popsection
.endm

/* Entry of a PVH guest: the Xen note and _start (alias pvh_start), entered in 32-bit protected mode
 * with paging off and EBX = hvm_start_info. Opens the .text.entry section. */
.macro PVH_ENTRY32
	PVH_NOTE pvh_start

	.section .text.entry, "ax"
	.code32
	.globl	_start
_start:
pvh_start:
.endm

/* Send the byte in %bl to COM1 once the transmit holding register is empty; the wait is bounded, so a broken
 * LSR garbles the output instead of hanging the guest. Clobbers %al, %ecx, %dx; works in 32/64-bit. */
.macro COM1_PUTC_BL
	mov	$COM1_LSR, %dx
	mov	$100000, %ecx
993:	in	(%dx), %al
	test	$LSR_THRE, %al
	jnz	994f
	dec	%ecx
	jnz	993b
994:	mov	$COM1, %dx
	mov	%bl, %al
	out	%al, (%dx)
.endm

/* Print a string literal (puts32/puts64 from lib.S). */
.macro PUTS64 str
	.pushsection .rodata
991:	.asciz	"\str"
	.popsection
	lea	991b(%rip), %rsi
	call	puts64
.endm
.macro PUTS32 str
	.pushsection .rodata
992:	.asciz	"\str"
	.popsection
	mov	$992b, %esi
	call	puts32
.endm
#endif

#endif
