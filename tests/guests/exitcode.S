/* exitcode: PVH entry (32-bit protected mode); writes 0x2a to the test-exit port, so the VM must end
 * with status (0x2a << 1) | 1 = 85. Prints nothing: the exit status is the whole result. */
#include "guest.h"

	PVH_ENTRY32
	TEST_EXIT 0x2a
