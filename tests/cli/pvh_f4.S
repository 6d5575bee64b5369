/* pvh_f4: a PVH guest (32-bit entry) that both ckvm and QEMU boot with -kernel, for
 * bench/testmode.sh: prints two lines, then writes 0x10 to port 0xf4 (QEMU's
 * isa-debug-exit,iobase=0xf4 and ckvm's test-exit port alike), status (0x10 << 1) | 1 = 33. */
#include "guest.h"

	PVH_ENTRY32
	mov	$0x8000, %esp
	PUTS32	"boot: ok\n"
	PUTS32	"selftest: 3 of 3 passed\n"
	mov	$0x10, %al
	out	%al, $0xf4
	cli
	hlt
