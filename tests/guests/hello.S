/* hello: the classic first KVM guest. 16-bit real mode, entered at linear 0x1000 from a flat binary;
 * a handful of `out`s print "Hello KVM!" on COM1, then `cli; hlt` ends the VM (status 0).
 * Position-independent: no data references, so any CS:IP that reaches 0x1000 works. */
#include "guest.h"

	.code16
	.text
	.globl	_start
_start:
	mov	$COM1, %dx
	.irp	c, 'H', 'e', 'l', 'l', 'o', ' ', 'K', 'V', 'M', '!', '\n'
	mov	$\c, %al
	out	%al, (%dx)
	.endr
	cli
	hlt
	jmp	_start
