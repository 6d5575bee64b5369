/* tm_vga: writes text to the VGA text buffer (0xb8000) as a boot sector would, code page 437
 * glyphs included (smiley, heart, box drawing, shade, sharp s, alpha), reports on COM1, then ends
 * with a dword write of 0x21 to port 0xf4 (status 67). The screen dump must equal tm_vga.screen.
 * Position-independent: also a boot sector (tm_vga.img, for --bios). */
#include "tm16.h"

/* One character with attribute 0x1f (white on blue; the dump ignores attributes) at ES:DI. */
.macro CELLS chars:vararg
	.irp	c, \chars
	mov	$(0x1f00 | (\c)), %ax
	stosw
	.endr
.endm

	.code16
	.text
	.globl	_start
_start:
	cli		/* under SeaBIOS: its timer tick flushes a held-back console byte into our line */
	cld
	mov	$0xb800, %ax
	mov	%ax, %es
	xor	%di, %di			/* row 0 */
	CELLS	0xc9, 0xcd, 0xcd, 0xbb, 0x20, 'c', 'k', 'v', 'm', 0x20, 0x01, 0x03
	mov	$(2 * 160 + 4), %di		/* row 2, column 2 */
	CELLS	'M', 'B', 'R', 0x20, 'O', 'K', 0x20, 0xb0, 0xb1, 0xb2, 0xdb, 0x20, 0xe1, 0xe0
	mov	$(24 * 160 + 79 * 2), %di	/* the last cell */
	CELLS	0x7f
	PUTS16	"vga written\n"
	mov	$0x21, %eax
	out	%eax, $0xf4
	SPIN16
