/* pcilist: a 64-bit guest that lists the functions on PCI bus 0 through type-1 configuration cycles
 * (PCI Local Bus 3.0 §3.2.2.3.2), one "PCI <device> <vendor>:<device id>" line each, then
 * "PCI-END", and halts (no --test-exit: the VM runs until it is stopped). The API tier boots it
 * from a --config-file with "balloon", "vsock" and "entropy" objects to see those devices appear
 * as the guest would find them. */
#include <stdint.h>

#include "cguest.h"

int guest_main(void);

int guest_main(void)
{
	for (uint32_t dev = 0; dev < 32; dev++) {
		uint32_t id = cfg_read32(PCI_BDF(dev), 0);

		if ((id & 0xffff) == 0xffff)	/* no function: the read floats to all-ones */
			continue;
		puts_serial("PCI ");
		puthex8((uint8_t)dev);
		putc_serial(' ');
		puthex8((uint8_t)(id >> 8));
		puthex8((uint8_t)id);
		putc_serial(':');
		puthex8((uint8_t)(id >> 24));
		puthex8((uint8_t)(id >> 16));
		putc_serial('\n');
	}
	puts_serial("PCI-END\n");
	return 0;
}
