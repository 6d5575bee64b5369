/* triplefault: PVH entry (32-bit). Loads an IDT with limit 0, then executes ud2: #UD cannot be
 * delivered (#GP), nor can #GP (#DF), nor #DF -> triple fault -> shutdown. ckvm must report a guest
 * crash (status 3, one line on stderr) and not hang or die on a signal. */
#include "guest.h"

	PVH_ENTRY32
	mov	$0x8000, %esp
	PUTS32	"triple fault next\n"
	lidt	null_idt
	ud2
	/* not reached */
	mov	$msg, %esi
	jmp	fail32

	.section .rodata
	.balign	8
null_idt:
	.word	0
	.long	0
msg:	.asciz	"ud2 with a zero-limit IDT did not shut the machine down"
