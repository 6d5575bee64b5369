/* tm_f4: the hobby-OS way to end a test under QEMU (-device isa-debug-exit,iobase=0xf4,iosize=4):
 * a word write of 0x10 to port 0xf4, so ckvm must end with (0x10 << 1) | 1 = 33. Spins if the port
 * is missing (the test then times out instead). */
#include "tm16.h"

	.code16
	.text
	.globl	_start
_start:
	PUTS16	"exiting through 0xf4\n"
	mov	$0x10, %ax
	out	%ax, $0xf4
	SPIN16
