/* bootmark: tells ckvm's --boot-timer device that the guest reached userspace, by writing the
 * magic byte 123 to its port twin 0x504 (the MMIO page at 0xfe000000 needs /dev/mem, which the
 * default guest kernel does not have). A harmless unclaimed port write without --boot-timer.
 * Built static into the initramfs; guest/init's boot mode runs it first. Usage: bootmark */
#include <stdio.h>
#include <sys/io.h>

#define BOOT_TIMER_PORT		0x504
#define BOOT_TIMER_MAGIC	123

int main(void)
{
	if (ioperm(BOOT_TIMER_PORT, 1, 1) < 0) {
		perror("bootmark: ioperm");
		return 1;
	}
	outb(BOOT_TIMER_MAGIC, BOOT_TIMER_PORT);
	return 0;
}
