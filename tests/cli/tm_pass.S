/* tm_pass: prints two lines a `ckvm test --expect` pair matches, then spins: the pass must come
 * from the matcher stopping the VM. With an --expect it never prints, it is the timeout guest. */
#include "tm16.h"

	.code16
	.text
	.globl	_start
_start:
	PUTS16	"boot: ok\r\n"
	PUTS16	"selftest: 3 of 3 passed\r\n"
	SPIN16
